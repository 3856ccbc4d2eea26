/*
 * fuzz_github_reply.c - GitHub's replies are outside data: a compromised
 * proxy, a GitHub Enterprise bug or a stand-in in the wrong place may send
 * anything.  This feeds a sequence of replies to the parsers of a sync, in
 * the order gh_sync uses them, into one collecting state, so that
 * duplicates across pages, follow-ups of earlier pages and partial errors
 * meet.  When every page parsed, the collected organization goes where a
 * real sync sends it: the snapshot file format (which must read back: the
 * server restarts from it) and the snapshot builder, then decisions.
 *
 * Input: pages separated by a line "%%".  Each page is a first line naming
 * the parser, optionally with a number that picks the team or repository
 * of a follow-up, then the reply body:
 *
 *   members | teams | repositories          GraphQL top-level pages
 *   team-members N | team-repositories N    follow-ups of team N
 *   collaborators N                         follow-up of repository N
 *   repository                              one repository (a targeted read)
 *   membership                              REST GET /orgs/{org}/memberships/{user}
 *   org | user                              REST GET /orgs/{org}, GET /user
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "github/gh_internal.h"
#include "org/org_policy.h"
#include "org/org_snapshot.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEPARATOR "\n%%\n"
#define MAX_PAGES 16

enum page_kind {
	PAGE_MEMBERS,
	PAGE_TEAMS,
	PAGE_REPOSITORIES,
	PAGE_TEAM_MEMBERS,
	PAGE_TEAM_REPOSITORIES,
	PAGE_COLLABORATORS,
	PAGE_REPOSITORY,
	PAGE_ORG,
	PAGE_USER,
	PAGE_MEMBERSHIP,
	PAGE_UNKNOWN,
};

static const char *const kind_names[] = {
	[PAGE_MEMBERS] = "members",
	[PAGE_TEAMS] = "teams",
	[PAGE_REPOSITORIES] = "repositories",
	[PAGE_TEAM_MEMBERS] = "team-members",
	[PAGE_TEAM_REPOSITORIES] = "team-repositories",
	[PAGE_COLLABORATORS] = "collaborators",
	[PAGE_REPOSITORY] = "repository",
	[PAGE_ORG] = "org",
	[PAGE_USER] = "user",
	[PAGE_MEMBERSHIP] = "membership",
};

/* The header line: a kind name, then an optional index. */
static enum page_kind
parse_header(const char *line, size_t len, size_t *index)
{
	char text[64];
	char *space;

	*index = 0;
	if (len >= sizeof(text))
		return PAGE_UNKNOWN;
	memcpy(text, line, len);
	text[len] = '\0';
	space = strchr(text, ' ');
	if (space != NULL) {
		*space = '\0';
		*index = (size_t)strtoul(space + 1, NULL, 10);
	}
	for (size_t i = 0; i < PAGE_UNKNOWN; i++)
		if (strcmp(text, kind_names[i]) == 0)
			return (enum page_kind)i;
	return PAGE_UNKNOWN;
}

/* A REST body: parse, check the contract of the results, free. */
static enum ga_rc
feed_rest(enum page_kind kind, const char *body, size_t len, struct org_input *input)
{
	struct ga_err err;
	enum ga_rc rc;

	if (kind == PAGE_ORG) {
		bool known;
		enum org_level level;

		rc = gh_parse_org_rest(body, len, &known, &level, &err);
		if (rc == GA_OK && known) {
			input->base_permission_known = true;
			input->base_permission = level;
		}
		if (!known && level != ORG_LEVEL_NONE)
			abort();	/* an unknown base permission must grant nothing */
	} else if (kind == PAGE_MEMBERSHIP) {
		bool active;
		bool is_owner;
		long long id;

		/* Another user's or organization's membership is none: only an
		 * active one for "octocat" of "acme" may count. */
		rc = gh_parse_org_membership_rest(body, len, "acme", "octocat", &active, &is_owner,
						  &id, &err);
		if (is_owner && !active)
			abort();
		if (rc == GA_OK && active)
			org_input_add_member(input, "octocat", id, is_owner);
	} else {
		char *login;
		long long id;

		rc = gh_parse_user_rest(body, len, &login, &id, &err);
		if ((rc == GA_OK) != (login != NULL))
			abort();
		ga_free(login);
	}
	return rc;
}

/* A GraphQL page: the envelope, then the page parser of kind. */
static enum ga_rc
feed_graphql(enum page_kind kind, size_t index, const char *body, size_t len,
	     struct gh_collect *collect, struct gh_page *page)
{
	struct org_input *input = collect->input;
	struct gh_graphql_reply reply;
	struct ga_err err;
	char description[256];
	enum ga_rc rc = gh_graphql_parse_reply(body, len, &reply, "fuzz", &err);

	if (rc != GA_OK) {
		gh_graphql_reply_free(&reply);
		return rc;
	}
	(void)gh_graphql_reply_rate_limited(&reply);
	for (size_t i = 0; i < reply.error_count; i++)
		(void)gh_graphql_describe_error(&reply.errors[i], description, sizeof(description));
	switch (kind) {
	case PAGE_MEMBERS:
		rc = gh_parse_members_page(collect, &reply, page, &err);
		break;
	case PAGE_TEAMS:
		rc = gh_parse_teams_page(collect, &reply, page, &err);
		break;
	case PAGE_REPOSITORIES:
		rc = gh_parse_repositories_page(collect, &reply, page, &err);
		break;
	/* A follow-up only ever names a team or repository collected before. */
	case PAGE_TEAM_MEMBERS:
	case PAGE_TEAM_REPOSITORIES:
		if (input->team_count == 0)
			break;
		index %= input->team_count;
		rc = kind == PAGE_TEAM_MEMBERS
			     ? gh_parse_team_members_page(collect, index, &reply, page, &err)
			     : gh_parse_team_repositories_page(collect, index, &reply, page, &err);
		break;
	case PAGE_COLLABORATORS:
		if (input->repository_count == 0)
			break;
		rc = gh_parse_collaborators_page(collect, index % input->repository_count, &reply,
						 page, &err);
		break;
	case PAGE_REPOSITORY:
		gh_page_clear(page);
		rc = gh_parse_repository(collect, &reply, &err);
		break;
	default:
		break;
	}
	/* gh_sync relies on this: a next page always comes with its cursor. */
	if (rc == GA_OK && page->has_next && page->end_cursor == NULL)
		abort();
	gh_graphql_reply_free(&reply);
	return rc;
}

/* What the server does with a sync's result: write it, read it back,
 * build the snapshot, decide. */
static void
use_input(struct org_input *input, const struct config *config)
{
	char *json = org_input_to_json(input);
	struct org_input *copy = NULL;
	struct org_snapshot *snapshot;
	struct ga_err err;

	/* A snapshot file that cannot be read back loses the last good
	 * organization at the next restart. */
	if (org_input_from_json(json, strlen(json), &copy, &err) != GA_OK) {
		fprintf(stderr, "snapshot does not read back: %s\n", err.message);
		abort();
	}
	org_input_free(copy);
	ga_free(json);
	if (org_snapshot_build(input, config, &snapshot, &err) != GA_OK)
		return;
	for (size_t m = 0; m < org_snapshot_member_count(snapshot) && m < 32; m++)
		for (size_t p = 0; p < org_snapshot_package_count(snapshot) && p < 32; p++)
			(void)org_decide(snapshot, (long)m, (long)p);
	org_snapshot_release(snapshot);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config *config;
	const char *text = (const char *)data;
	const char *end = text + size;
	struct org_input *input;
	struct gh_sync_stats stats;
	struct gh_collect collect;
	struct gh_page page = {.has_next = false, .end_cursor = NULL};
	enum ga_rc rc = GA_OK;
	int pages = 0;

	if (config == NULL) {
		config = config_new_defaults();
		ga_log_setup(GA_LOG_SILENT, GA_LOG_LOGFMT);
	}
	memset(&stats, 0, sizeof(stats));
	stats.rate_limit_remaining = -1;
	input = org_input_new();
	input->organization = ga_strdup("acme");
	input->synced_at = 1700000000;
	gh_collect_init(&collect, input, &stats);
	/* As gh_sync asks them: with permissionSources. */
	collect.sources_asked = true;
	while (rc == GA_OK && text < end && pages++ < MAX_PAGES) {
		const char *newline = memchr(text, '\n', (size_t)(end - text));
		const char *next = newline ? memmem(newline, (size_t)(end - newline), SEPARATOR,
						    strlen(SEPARATOR))
					   : NULL;
		const char *body_end = next ? next : end;
		const char *body;
		enum page_kind kind;
		size_t index;

		if (newline == NULL)
			break;
		kind = parse_header(text, (size_t)(newline - text), &index);
		body = newline + 1;
		if (kind == PAGE_ORG || kind == PAGE_USER || kind == PAGE_MEMBERSHIP)
			rc = feed_rest(kind, body, (size_t)(body_end - body), input);
		else if (kind != PAGE_UNKNOWN)
			rc = feed_graphql(kind, index, body, (size_t)(body_end - body), &collect,
					  &page);
		/* the separator's newline ends the body; the next header follows */
		text = next ? next + strlen(SEPARATOR) : end;
	}
	gh_page_clear(&page);
	/* Like gh_sync: direct grants GitHub did not name, once all is read. */
	if (rc == GA_OK)
		gh_infer_direct_grants(&collect);
	gh_collect_free(&collect);
	gh_sync_stats_free(&stats);
	/* Like gh_sync: a failed page discards the whole organization. */
	if (rc == GA_OK)
		use_input(input, config);	/* takes input */
	else
		org_input_free(input);
	return 0;
}
