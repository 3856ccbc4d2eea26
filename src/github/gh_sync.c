/* gh_sync.c - the sync plan: one organization read through GitHub's API. */
#include "github/gh_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/ga_clock.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

#define DEFAULT_API_URL "https://api.github.com"

/* One paginated connection: a top-level list or a follow-up of a nested one. */
struct pager {
	const char *name;		/* operation name, for messages */
	const char *phase;		/* for progress reports */
	const char *query;
	json_t *variables;		/* owned; "after" is updated page by page */
	size_t index;			/* team or repository of a follow-up */
	enum ga_rc (*parse)(struct gh_collect *collect, size_t index,
			    const struct gh_graphql_reply *reply, struct gh_page *page,
			    struct ga_err *err);
	bool followup;
	/* The query without permissionSources, to fall back to when GitHub
	 * refuses them to the token; NULL when query does not ask for them. */
	const char *plain_query;
};

/* A query with its CollaboratorEdge fragment appended, in both spellings. */
struct sources_query {
	char *full;			/* with permissionSources */
	char *plain;			/* without */
};

struct sync_run {
	struct gh_client *client;
	struct gh_session session;
	struct gh_collect collect;
	struct gh_sync_stats *stats;
	const char *organization;
	struct sources_query repositories;
	struct sources_query collaborators;
};

void
gh_sync_stats_free(struct gh_sync_stats *stats)
{
	if (stats == NULL)
		return;
	for (size_t i = 0; i < stats->warning_count; i++)
		ga_free(stats->warnings[i]);
	ga_free(stats->warnings);
	memset(stats, 0, sizeof(*stats));
	stats->rate_limit_remaining = -1;
	stats->rate_limit_limit = -1;
	stats->rate_limit_reset_at = -1;
}

/* ---- the base permission (REST) ------------------------------------- */

static enum ga_rc
rest_get(struct sync_run *run, const char *url, const char *what,
	 struct gh_response *response, struct ga_err *err)
{
	struct gh_request request = {.method = "GET", .url = url, .what = what,
				     .retry = GH_RETRY_SYNC};
	enum ga_rc rc = gh_http_request(run->client, run->session.handle, &request, response,
					run->stats, err);

	if (rc != GA_OK && response->final && response->transport == CURLE_OK &&
	    response->status == 404)
		return ga_err_set(err, GA_EUPSTREAM,
				  "%s: organization %s not found or not visible to the token",
				  what, run->organization);
	return rc;
}

/* config_permission skips triage and maintain: map it by name, not by value. */
static enum org_level
configured_level(int permission)
{
	switch (permission) {
	case CONFIG_PERMISSION_READ:
		return ORG_LEVEL_READ;
	case CONFIG_PERMISSION_WRITE:
		return ORG_LEVEL_WRITE;
	case CONFIG_PERMISSION_ADMIN:
		return ORG_LEVEL_ADMIN;
	default:
		return ORG_LEVEL_NONE;
	}
}

static void
apply_hidden_base_permission(struct sync_run *run, struct org_input *input)
{
	int configured = run->client->config->base_permission;
	bool is_configured = configured != CONFIG_PERMISSION_UNSET;
	const char *fallback = org_level_name(configured_level(configured));

	input->base_permission_known = false;
	input->base_permission = configured_level(configured);
	/* Once per client: once per start and per configuration reload. */
	if (!atomic_exchange(&run->client->base_permission_warned, true))
		ga_log(GA_LOG_WARN,
		       is_configured
			       ? "GitHub does not show the base permission to this token (it needs "
				 "admin:org): the configured base_permission is in force and "
				 "unverified, so an owner lowering it goes unnoticed"
			       : "GitHub does not show the base permission to this token (it needs "
				 "admin:org) and none is configured: assuming none",
		       "organization", run->organization, "base_permission", fallback, (char *)NULL);
	gh_stats_warn(run->stats,
		      "base permission hidden from the token (needs admin:org); using %s%s", fallback,
		      is_configured ? " (configured, unverified: an owner lowering it goes "
				      "unnoticed)" : "");
}

static enum ga_rc
fetch_base_permission(struct sync_run *run, struct org_input *input, struct ga_err *err)
{
	const struct config *config = run->client->config;
	const char *api_url = config->api_url ? config->api_url : DEFAULT_API_URL;
	char *escaped = gh_url_escape(run->organization);
	char *url = ga_asprintf("%s/orgs/%s", api_url, escaped);
	struct gh_response response;
	enum org_level level;
	bool known;
	enum ga_rc rc;

	ga_free(escaped);
	gh_response_init(&response, run->client->options.max_reply_bytes);
	rc = rest_get(run, url, "GET /orgs/{org}", &response, err);
	if (rc == GA_OK)
		rc = gh_parse_org_rest(response.body.data, response.body.len, &known, &level, err);
	if (rc == GA_OK && known) {
		input->base_permission_known = true;
		input->base_permission = level;
	} else if (rc == GA_OK) {
		apply_hidden_base_permission(run, input);
	}
	/* Trusted publishing compares it with repository_owner_id. */
	if (rc == GA_OK)
		rc = gh_parse_org_id(response.body.data, response.body.len,
				     &input->organization_id, err);
	gh_response_free(&response);
	ga_free(url);
	return rc;
}

/* ---- permissionSources ---------------------------------------------- */

static void
sources_query_init(struct sources_query *query, const char *text)
{
	query->full = ga_asprintf("%s%s", text, gh_query_collaborator_edge);
	query->plain = ga_asprintf("%s%s", text, gh_query_collaborator_edge_plain);
}

static void
sources_query_free(struct sources_query *query)
{
	ga_free(query->full);
	ga_free(query->plain);
}

/* GitHub refuses a query that names a field the token lacks the scope
 * for: no data, one INSUFFICIENT_SCOPES error naming the field. */
static bool
sources_refused(const struct gh_graphql_reply *reply)
{
	for (size_t i = 0; i < reply->error_count; i++)
		if (strcmp(reply->errors[i].type, "INSUFFICIENT_SCOPES") == 0 &&
		    strstr(reply->errors[i].message, "permissionSources") != NULL)
			return reply->data == NULL;
	return false;
}

/* From now on this client asks without permissionSources. */
static void
refuse_sources(struct sync_run *run, struct pager *pager)
{
	if (!atomic_exchange(&run->client->sources_refused, true))
		ga_log(GA_LOG_WARN,
		       "GitHub refuses permissionSources to this token (it needs admin:org): "
		       "direct grants are inferred from the highest permission, never above what "
		       "the teams and the base permission leave unexplained", "organization",
		       run->organization, (char *)NULL);
	run->collect.sources_asked = false;
	pager->query = pager->plain_query;
	pager->plain_query = NULL;
}

/* The query a pager of collaborator edges sends, and its fallback. */
static void
use_sources_query(struct sync_run *run, struct pager *pager, const struct sources_query *query)
{
	bool sources = run->collect.sources_asked;

	pager->query = sources ? query->full : query->plain;
	pager->plain_query = sources ? query->plain : NULL;
}

/* ---- pagination ----------------------------------------------------- */

static void
report_progress(struct sync_run *run, const char *phase)
{
	const struct gh_client_options *options = &run->client->options;
	struct gh_sync_progress progress = {
		.pages = run->stats->pages,
		.points = run->stats->graphql_points,
		.phase = phase,
	};

	if (options->progress != NULL)
		options->progress(options->progress_context, &progress);
}

/* A cursor that does not move would page forever. */
static enum ga_rc
advance(struct pager *pager, const struct gh_page *page, struct ga_err *err)
{
	const char *previous = json_string_value(json_object_get(pager->variables, "after"));

	if (!page->has_next)
		return GA_OK;
	if (previous != NULL && strcmp(previous, page->end_cursor) == 0)
		return ga_err_set(err, GA_EUPSTREAM, "GraphQL %s: the page cursor did not advance",
				  pager->name);
	json_object_set_new(pager->variables, "after", json_string(page->end_cursor));
	return GA_OK;
}

static enum ga_rc
fetch_page(struct sync_run *run, struct pager *pager, int *page_size, struct gh_page *page,
	   struct ga_err *err)
{
	struct gh_graphql_reply reply;
	enum ga_rc rc;

	if (gh_client_is_cancelled(run->client))
		return ga_err_set(err, GA_EUPSTREAM, "GraphQL %s: cancelled", pager->name);
	rc = gh_graphql_query(&run->session, pager->name, pager->query, pager->variables,
			      page_size, &reply, err);
	if (rc == GA_OK && pager->plain_query != NULL && sources_refused(&reply)) {
		gh_graphql_reply_free(&reply);
		refuse_sources(run, pager);
		rc = gh_graphql_query(&run->session, pager->name, pager->query, pager->variables,
				      page_size, &reply, err);
	}
	if (rc != GA_OK)
		return rc;
	rc = pager->parse(&run->collect, pager->index, &reply, page, err);
	gh_graphql_reply_free(&reply);
	if (rc != GA_OK)
		return rc;
	run->stats->pages++;
	if (pager->followup)
		run->stats->followup_pages++;
	report_progress(run, pager->phase);
	return GA_OK;
}

/* Fetch every page of the pager's connection; takes pager->variables. */
static enum ga_rc
paginate(struct sync_run *run, struct pager *pager, struct ga_err *err)
{
	struct gh_page page = {.has_next = false, .end_cursor = NULL};
	int page_size = GH_PAGE_SIZE;
	enum ga_rc rc;

	do {
		rc = fetch_page(run, pager, &page_size, &page, err);
		if (rc == GA_OK)
			rc = advance(pager, &page, err);
	} while (rc == GA_OK && page.has_next);
	gh_page_clear(&page);
	json_decref(pager->variables);
	pager->variables = NULL;
	return rc;
}

static enum ga_rc
parse_members(struct gh_collect *collect, size_t index, const struct gh_graphql_reply *reply,
	      struct gh_page *page, struct ga_err *err)
{
	(void)index;
	return gh_parse_members_page(collect, reply, page, err);
}

static enum ga_rc
parse_teams(struct gh_collect *collect, size_t index, const struct gh_graphql_reply *reply,
	    struct gh_page *page, struct ga_err *err)
{
	(void)index;
	return gh_parse_teams_page(collect, reply, page, err);
}

static enum ga_rc
parse_repositories(struct gh_collect *collect, size_t index,
		   const struct gh_graphql_reply *reply, struct gh_page *page,
		   struct ga_err *err)
{
	(void)index;
	return gh_parse_repositories_page(collect, reply, page, err);
}

static enum ga_rc
sync_top_level(struct sync_run *run, struct ga_err *err)
{
	static const struct pager lists[] = {
		{.name = "OrgMembers", .phase = "members", .query = gh_query_org_members,
		 .parse = parse_members},
		{.name = "OrgTeams", .phase = "teams", .query = gh_query_org_teams,
		 .parse = parse_teams},
		{.name = "OrgRepos", .phase = "repositories", .query = gh_query_org_repositories,
		 .parse = parse_repositories},
	};
	enum ga_rc rc = GA_OK;

	for (size_t i = 0; rc == GA_OK && i < sizeof(lists) / sizeof(lists[0]); i++) {
		struct pager pager = lists[i];

		if (pager.query == gh_query_org_repositories)
			use_sources_query(run, &pager, &run->repositories);
		pager.variables = json_pack("{s:s}", "org", run->organization);
		rc = paginate(run, &pager, err);
	}
	return rc;
}

/* A follow-up starts after the cursor of the nested list's first page. */
static void
followup_pager(struct sync_run *run, const struct gh_followup *followup, struct pager *pager)
{
	const struct org_input *input = run->collect.input;

	memset(pager, 0, sizeof(*pager));
	pager->phase = "follow-up";
	pager->index = followup->index;
	pager->followup = true;
	switch (followup->kind) {
	case GH_FOLLOW_TEAM_MEMBERS:
		pager->name = "TeamMembers";
		pager->query = gh_query_team_members;
		pager->parse = gh_parse_team_members_page;
		pager->variables = json_pack("{s:s, s:s}", "org", run->organization, "slug",
					     input->teams[followup->index].slug);
		break;
	case GH_FOLLOW_TEAM_REPOSITORIES:
		pager->name = "TeamRepositories";
		pager->query = gh_query_team_repositories;
		pager->parse = gh_parse_team_repositories_page;
		pager->variables = json_pack("{s:s, s:s}", "org", run->organization, "slug",
					     input->teams[followup->index].slug);
		break;
	case GH_FOLLOW_COLLABORATORS:
		pager->name = "RepositoryCollaborators";
		use_sources_query(run, pager, &run->collaborators);
		pager->parse = gh_parse_collaborators_page;
		pager->variables = json_pack("{s:s, s:s}", "org", run->organization, "name",
					     input->repositories[followup->index].name);
		break;
	}
	if (followup->cursor != NULL)
		json_object_set_new(pager->variables, "after", json_string(followup->cursor));
}

static enum ga_rc
sync_followups(struct sync_run *run, struct ga_err *err)
{
	enum ga_rc rc = GA_OK;

	for (size_t i = 0; rc == GA_OK && i < run->collect.followup_count; i++) {
		struct pager pager;

		followup_pager(run, &run->collect.followups[i], &pager);
		rc = paginate(run, &pager, err);
	}
	return rc;
}

/* ---- the whole sync ------------------------------------------------- */

static void
log_summary(const struct gh_sync_stats *stats)
{
	char members[24], teams[24], repositories[24], points[24], requests[24], duration[24];

	snprintf(members, sizeof(members), "%zu", stats->members);
	snprintf(teams, sizeof(teams), "%zu", stats->teams);
	snprintf(repositories, sizeof(repositories), "%zu", stats->repositories);
	snprintf(points, sizeof(points), "%lld", stats->graphql_points);
	snprintf(requests, sizeof(requests), "%u", stats->graphql_requests);
	snprintf(duration, sizeof(duration), "%lld", stats->duration_ms);
	ga_log(GA_LOG_INFO, "GitHub sync done", "members", members, "teams", teams,
	       "repositories", repositories, "graphql_requests", requests, "points", points,
	       "duration_ms", duration, (char *)NULL);
}

/* Direct grants GitHub did not name: inferred once everything is read. */
static void
infer_direct_grants(struct sync_run *run)
{
	size_t count = run->collect.inferred_count;

	gh_infer_direct_grants(&run->collect);
	run->stats->direct_grants_inferred = count;
	if (count > 0 && atomic_load(&run->client->sources_refused))
		gh_stats_warn(run->stats,
			      "%zu direct grant%s inferred: the token may not read "
			      "permissionSources (it needs admin:org); a direct grant no higher "
			      "than what teams and the base permission give counts as READ",
			      count, count == 1 ? "" : "s");
}

static enum ga_rc
run_plan(struct sync_run *run, struct org_input *input, struct ga_err *err)
{
	enum ga_rc rc = fetch_base_permission(run, input, err);

	if (rc == GA_OK)
		rc = sync_top_level(run, err);
	if (rc == GA_OK)
		rc = sync_followups(run, err);
	if (rc == GA_OK)
		infer_direct_grants(run);
	return rc;
}

/* Start a run of client into a new input stamped now. */
static struct org_input *
run_begin(struct sync_run *run, struct gh_client *client, const char *organization)
{
	struct org_input *input = org_input_new();

	run->organization = organization;
	input->organization = ga_strdup(organization);
	/* In milliseconds too: webhook changes are compared with it. */
	input->synced_at_ms = ga_wall_ms();
	input->synced_at = input->synced_at_ms / 1000;
	gh_session_init(&run->session, client, run->stats);
	gh_collect_init(&run->collect, input, run->stats);
	run->collect.sources_asked = !atomic_load(&client->sources_refused);
	sources_query_init(&run->repositories, gh_query_org_repositories);
	sources_query_init(&run->collaborators, gh_query_repository_collaborators);
	return input;
}

static void
run_end(struct sync_run *run)
{
	sources_query_free(&run->repositories);
	sources_query_free(&run->collaborators);
	gh_collect_free(&run->collect);
	gh_session_free(&run->session);
}

/* What a run reads: the whole organization, or (name set) one targeted read. */
struct plan {
	enum gh_targeted_kind kind;
	const char *name;		/* NULL: the whole organization */
};

static enum ga_rc run_targeted(struct sync_run *run, enum gh_targeted_kind kind,
			       const char *name, struct ga_err *err);

static enum ga_rc
run_sync(struct gh_client *client, const struct plan *plan, struct org_input **out,
	 struct gh_sync_stats *stats, struct ga_err *err)
{
	struct gh_sync_stats scratch = {.warnings = NULL};
	struct sync_run run = {.client = client, .stats = stats ? stats : &scratch};
	const char *organization = client->config->organization;
	long long started = ga_monotonic_ms();
	struct org_input *input;
	enum ga_rc rc;

	*out = NULL;
	memset(run.stats, 0, sizeof(*run.stats));
	run.stats->rate_limit_remaining = -1;
	run.stats->rate_limit_limit = -1;
	run.stats->rate_limit_reset_at = -1;
	if (organization == NULL || *organization == '\0')
		return ga_err_set(err, GA_EINVAL, "no organization in the configuration");
	input = run_begin(&run, client, organization);
	rc = plan->name != NULL ? run_targeted(&run, plan->kind, plan->name, err)
				: run_plan(&run, input, err);
	run_end(&run);
	run.stats->members = input->member_count;
	run.stats->teams = input->team_count;
	run.stats->repositories = input->repository_count;
	run.stats->duration_ms = ga_monotonic_ms() - started;
	if (rc == GA_OK) {
		if (plan->name == NULL)
			log_summary(run.stats);
		*out = input;
	} else {
		org_input_free(input);
	}
	if (stats == NULL)
		gh_sync_stats_free(&scratch);
	return rc;
}

enum ga_rc
gh_sync(struct gh_client *client, struct org_input **out, struct gh_sync_stats *stats,
	struct ga_err *err)
{
	const struct plan whole = {.name = NULL};

	return run_sync(client, &whole, out, stats, err);
}

/* ---- targeted reads ------------------------------------------------- */

static enum ga_rc
parse_repository(struct gh_collect *collect, size_t index, const struct gh_graphql_reply *reply,
		 struct gh_page *page, struct ga_err *err)
{
	(void)index;
	gh_page_clear(page);
	return gh_parse_repository(collect, reply, err);
}

/*
 * Direct grants a targeted read could not name: the sync infers them from
 * the whole organization, which one repository does not have; READ, the
 * least direct grant, is never above the truth.
 */
static void
targeted_inferred_as_read(struct sync_run *run)
{
	struct org_input *input = run->collect.input;

	for (size_t i = 0; i < run->collect.inferred_count; i++) {
		const struct gh_inferred *inferred = &run->collect.inferred[i];

		input->repositories[inferred->repository].collaborators[inferred->collaborator]
			.level = ORG_LEVEL_READ;
	}
	run->stats->direct_grants_inferred = run->collect.inferred_count;
}

/* One user's membership (REST): 404 is "not a member", like a pending one. */
static enum ga_rc
read_member(struct sync_run *run, const char *login, struct ga_err *err)
{
	const struct config *config = run->client->config;
	const char *api_url = config->api_url ? config->api_url : DEFAULT_API_URL;
	char *org = gh_url_escape(run->organization);
	char *user = gh_url_escape(login);
	char *url = ga_asprintf("%s/orgs/%s/memberships/%s", api_url, org, user);
	struct gh_request request = {.method = "GET", .url = url,
				     .what = "GET /orgs/{org}/memberships/{username}",
				     .retry = GH_RETRY_SYNC};
	struct gh_response response;
	bool active = false;
	bool is_owner = false;
	long long id = 0;
	enum ga_rc rc;

	gh_response_init(&response, run->client->options.max_reply_bytes);
	rc = gh_http_request(run->client, run->session.handle, &request, &response, run->stats,
			     err);
	if (rc != GA_OK && response.final && response.transport == CURLE_OK &&
	    response.status == 404)
		rc = GA_OK;	/* not a member (or GitHub does not show it) */
	else if (rc == GA_OK)
		rc = gh_parse_org_membership_rest(response.body.data, response.body.len,
						  run->organization, login, &active, &is_owner,
						  &id, err);
	if (rc == GA_OK && active)
		org_input_add_member(run->collect.input, login, id, is_owner);
	gh_response_free(&response);
	ga_free(url);
	ga_free(user);
	ga_free(org);
	return rc;
}

static enum ga_rc
run_targeted(struct sync_run *run, enum gh_targeted_kind kind, const char *name,
	     struct ga_err *err)
{
	struct pager pager;
	struct sources_query repository = {.full = NULL};
	enum ga_rc rc;

	if (kind == GH_TARGETED_MEMBER)
		return read_member(run, name, err);
	if (kind == GH_TARGETED_REPOSITORY) {
		sources_query_init(&repository, gh_query_repository);
		memset(&pager, 0, sizeof(pager));
		pager.name = "Repository";
		pager.phase = "repository";
		pager.parse = parse_repository;
		use_sources_query(run, &pager, &repository);
		pager.variables = json_pack("{s:s, s:s}", "org", run->organization, "name", name);
	} else {
		struct gh_followup followup = {
			.kind = kind == GH_TARGETED_TEAM_MEMBERS ? GH_FOLLOW_TEAM_MEMBERS
								 : GH_FOLLOW_TEAM_REPOSITORIES,
			.index = 0,
		};

		org_input_add_team(run->collect.input, 0, name, NULL, NULL);
		followup_pager(run, &followup, &pager);
		pager.phase = "team";
	}
	rc = paginate(run, &pager, err);
	sources_query_free(&repository);
	if (rc == GA_OK && kind == GH_TARGETED_REPOSITORY && run->collect.input->repository_count != 1)
		rc = ga_err_set(err, GA_EUPSTREAM, "Repository %s: GitHub did not return it", name);
	if (rc == GA_OK)
		rc = sync_followups(run, err);
	if (rc == GA_OK)
		targeted_inferred_as_read(run);
	return rc;
}

enum ga_rc
gh_sync_targeted(struct gh_client *client, enum gh_targeted_kind kind, const char *name,
		 struct org_input **out, struct gh_sync_stats *stats, struct ga_err *err)
{
	const struct plan one = {.kind = kind, .name = name};

	*out = NULL;
	if (name == NULL || *name == '\0')
		return ga_err_set(err, GA_EINVAL, "targeted read without a name");
	return run_sync(client, &one, out, stats, err);
}
