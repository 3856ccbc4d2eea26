/* test_gh_parse.c - GitHub reply parsers on canned replies (tests/data/github). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "github/gh_internal.h"
#include "util/ga_xalloc.h"

#define DATA_DIRECTORY "tests/data/github"

enum page_kind {
	PAGE_MEMBERS,
	PAGE_TEAMS,
	PAGE_REPOSITORIES,
	PAGE_TEAM_MEMBERS,
	PAGE_TEAM_REPOSITORIES,
	PAGE_COLLABORATORS,
};

/* An org_input with the collecting state of a sync, as gh_sync has it. */
struct harness {
	struct org_input *input;
	struct gh_sync_stats stats;
	struct gh_collect collect;
	struct gh_page page;
};

static char *
read_data(const char *name, size_t *len)
{
	char *path = ga_asprintf("%s/%s", DATA_DIRECTORY, name);
	FILE *file = fopen(path, "rb");
	struct ga_buf text;
	char chunk[4096];
	size_t got;

	if (file == NULL)
		fail_msg("cannot open %s (run the tests from the repository root)", path);
	ga_buf_init(&text, 0);
	while ((got = fread(chunk, 1, sizeof(chunk), file)) > 0)
		ga_buf_append(&text, chunk, got);
	fclose(file);
	ga_free(path);
	*len = text.len;
	return ga_buf_steal(&text);
}

static void
harness_init(struct harness *harness)
{
	memset(harness, 0, sizeof(*harness));
	harness->input = org_input_new();
	harness->stats.rate_limit_remaining = -1;
	gh_collect_init(&harness->collect, harness->input, &harness->stats);
}

static void
harness_free(struct harness *harness)
{
	gh_page_clear(&harness->page);
	gh_collect_free(&harness->collect);
	gh_sync_stats_free(&harness->stats);
	org_input_free(harness->input);
}

static enum ga_rc
parse_page(struct harness *harness, enum page_kind kind, size_t index,
	   const struct gh_graphql_reply *reply, struct ga_err *err)
{
	struct gh_collect *collect = &harness->collect;
	struct gh_page *page = &harness->page;

	switch (kind) {
	case PAGE_MEMBERS:
		return gh_parse_members_page(collect, reply, page, err);
	case PAGE_TEAMS:
		return gh_parse_teams_page(collect, reply, page, err);
	case PAGE_REPOSITORIES:
		return gh_parse_repositories_page(collect, reply, page, err);
	case PAGE_TEAM_MEMBERS:
		return gh_parse_team_members_page(collect, index, reply, page, err);
	case PAGE_TEAM_REPOSITORIES:
		return gh_parse_team_repositories_page(collect, index, reply, page, err);
	case PAGE_COLLABORATORS:
		return gh_parse_collaborators_page(collect, index, reply, page, err);
	}
	return GA_EINVAL;
}

/* Parse the envelope, then the page; the envelope's error if it fails. */
static enum ga_rc
feed(struct harness *harness, const char *name, enum page_kind kind, size_t index,
     struct ga_err *err)
{
	size_t len;
	char *text = read_data(name, &len);
	struct gh_graphql_reply reply;
	enum ga_rc rc = gh_graphql_parse_reply(text, len, &reply, name, err);

	if (rc == GA_OK)
		rc = parse_page(harness, kind, index, &reply, err);
	gh_graphql_reply_free(&reply);
	ga_free(text);
	return rc;
}

static void
feed_ok(struct harness *harness, const char *name, enum page_kind kind, size_t index)
{
	struct ga_err err;

	if (feed(harness, name, kind, index, &err) != GA_OK)
		fail_msg("%s: %s", name, err.message);
}

static bool
has_warning(const struct gh_sync_stats *stats, const char *needle)
{
	for (size_t i = 0; i < stats->warning_count; i++)
		if (strstr(stats->warnings[i], needle) != NULL)
			return true;
	return false;
}

/* ---- good pages --------------------------------------------------------- */

static void
test_members_pages(void **state)
{
	struct harness harness;
	struct org_input *input;

	(void)state;
	harness_init(&harness);
	input = harness.input;
	feed_ok(&harness, "members-page.json", PAGE_MEMBERS, 0);
	assert_true(harness.page.has_next);
	assert_string_equal(harness.page.end_cursor, "Y3Vyc29yOnYyOjI=");
	/* bob twice on the page (a list moving under pagination): kept once */
	assert_int_equal(input->member_count, 3);
	assert_string_equal(input->members[0].login, "olivia");
	assert_true(input->members[0].is_owner);
	assert_int_equal(input->members[0].id, 101);
	assert_false(input->members[1].is_owner);
	feed_ok(&harness, "members-last-page.json", PAGE_MEMBERS, 0);
	assert_false(harness.page.has_next);
	assert_null(harness.page.end_cursor);
	assert_int_equal(input->member_count, 4);
	/* an unknown role is not an owner, and says so */
	assert_string_equal(input->members[3].login, "dave");
	assert_false(input->members[3].is_owner);
	assert_int_equal(input->members[3].id, 104);
	assert_true(has_warning(&harness.stats, "BILLING_MANAGER"));
	/* without GitHub's id a login taken over after a rename could pass:
	 * that member is left out */
	assert_true(has_warning(&harness.stats, "member ghost-id is left out"));
	assert_int_equal(harness.stats.nulls, 1);
	harness_free(&harness);
}

/* Nullable fields of a members page cost only their item. */
static void
test_null_members(void **state)
{
	struct harness harness;
	struct org_input *input;

	(void)state;
	harness_init(&harness);
	input = harness.input;
	feed_ok(&harness, "members-nulls.json", PAGE_MEMBERS, 0);
	/* role null: a member, not an owner; node null and a null edge: left out */
	assert_int_equal(input->member_count, 2);
	assert_string_equal(input->members[0].login, "olivia");
	assert_false(input->members[0].is_owner);
	assert_string_equal(input->members[1].login, "owen");
	assert_true(input->members[1].is_owner);
	assert_int_equal(harness.stats.nulls, 3);
	assert_true(has_warning(&harness.stats,
				"member olivia counts as a member, not an owner (GitHub answered null "
				"for OrganizationMemberEdge.role)"));
	assert_true(has_warning(&harness.stats, "OrganizationMemberEdge.node"));
	assert_true(has_warning(&harness.stats, "OrganizationMemberConnection.edges[]"));
	/* a null list loses that page only; the next page is still followed */
	feed_ok(&harness, "members-null-list.json", PAGE_MEMBERS, 0);
	assert_true(harness.page.has_next);
	assert_int_equal(input->member_count, 2);
	assert_int_equal(harness.stats.nulls, 4);
	harness_free(&harness);
}

/* Nullable fields of a repositories page, permission sources, forks. */
static void
test_null_repositories_and_sources(void **state)
{
	struct harness harness;
	const struct org_input_repository *repositories;
	const struct org_input_repository *sources;

	(void)state;
	harness_init(&harness);
	harness.collect.sources_asked = true;
	feed_ok(&harness, "repositories-nulls.json", PAGE_REPOSITORIES, 0);
	repositories = harness.input->repositories;
	assert_int_equal(harness.input->repository_count, 7);
	/* isBinary null, or no text for a text blob: GitHub could not read it */
	assert_int_equal(repositories[0].pyproject_state, ORG_PYPROJECT_UNDETERMINED);
	assert_int_equal(repositories[1].pyproject_state, ORG_PYPROJECT_UNDETERMINED);
	assert_true(has_warning(&harness.stats, "repository undetermined yields no package: "
				"GitHub could not read pyproject.toml (GitHub answered null for "
				"Blob.isBinary)"));
	/* a null node: its name is unknown, so nothing may fall back */
	assert_int_equal(harness.input->unnamed_repositories, 1);
	/* databaseId null: kept with id 0, which the snapshot treats as contested */
	assert_string_equal(repositories[2].name, "no-id");
	assert_int_equal(repositories[2].id, 0);
	assert_int_equal(repositories[2].pyproject_state, ORG_PYPROJECT_TEXT);
	/* a null list of collaborators: unknown, like FORBIDDEN */
	assert_false(repositories[3].collaborators_known);
	sources = &repositories[4];
	assert_int_equal(sources->collaborator_count, 5);
	/* frank: edge WRITE, direct READ (the repository's own source) */
	assert_string_equal(sources->collaborators[0].name, "frank");
	assert_int_equal(sources->collaborators[0].level, ORG_LEVEL_READ);
	/* roleName null: the source's permission */
	assert_int_equal(sources->collaborators[1].level, ORG_LEVEL_WRITE);
	/* a custom role: its base role, from permission */
	assert_int_equal(sources->collaborators[2].level, ORG_LEVEL_WRITE);
	/* sources null, or none for this repository: the highest, to be inferred */
	assert_int_equal(sources->collaborators[3].level, ORG_LEVEL_ADMIN);
	assert_int_equal(sources->collaborators[4].level, ORG_LEVEL_WRITE);
	assert_int_equal(harness.collect.inferred_count, 2);
	assert_int_equal(harness.collect.inferred[0].collaborator, 3);
	assert_true(has_warning(&harness.stats, "ivo as a direct collaborator without a direct "
				"grant"));
	/* forks and templates */
	assert_true(repositories[5].is_fork);
	assert_string_equal(repositories[5].fork_parent, "psf/requests");
	assert_false(repositories[5].is_template);
	assert_true(repositories[6].is_template);
	assert_false(repositories[6].is_fork);
	assert_null(repositories[6].fork_parent);
	/* isBinary, isBinary, node, databaseId, edges, permissionSources, edge */
	assert_int_equal(harness.stats.nulls, 7);
	harness_free(&harness);
}

static void
test_teams_page_with_nested_next_pages(void **state)
{
	struct harness harness;
	struct org_input *input;
	const struct gh_followup *followups;

	(void)state;
	harness_init(&harness);
	input = harness.input;
	feed_ok(&harness, "teams-page-nested-next.json", PAGE_TEAMS, 0);
	assert_false(harness.page.has_next);
	assert_int_equal(input->team_count, 2);
	assert_string_equal(input->teams[0].slug, "platform");
	assert_null(input->teams[0].parent_slug);
	assert_int_equal(input->teams[0].member_count, 2);
	assert_int_equal(input->teams[0].repository_count, 1);
	assert_int_equal(input->teams[0].repositories[0].level, ORG_LEVEL_WRITE);
	assert_string_equal(input->teams[1].parent_slug, "platform");
	assert_int_equal(input->teams[1].id, 202);
	assert_int_equal(input->teams[1].repositories[0].level, ORG_LEVEL_MAINTAIN);
	assert_int_equal(input->teams[1].repositories[1].level, ORG_LEVEL_TRIAGE);
	/* both nested lists of platform continue */
	assert_int_equal(harness.collect.followup_count, 2);
	followups = harness.collect.followups;
	assert_int_equal(followups[0].kind, GH_FOLLOW_TEAM_MEMBERS);
	assert_int_equal(followups[0].index, 0);
	assert_string_equal(followups[0].cursor, "bWVtYmVyczox");
	assert_int_equal(followups[1].kind, GH_FOLLOW_TEAM_REPOSITORIES);
	assert_string_equal(followups[1].cursor, "cmVwb3M6MQ==");
	/* follow-up pages append to the team they belong to */
	feed_ok(&harness, "team-members-followup.json", PAGE_TEAM_MEMBERS, 0);
	assert_false(harness.page.has_next);
	assert_int_equal(input->teams[0].member_count, 3);
	assert_string_equal(input->teams[0].member_logins[2], "dave");
	feed_ok(&harness, "team-repositories-followup.json", PAGE_TEAM_REPOSITORIES, 0);
	assert_true(harness.page.has_next);
	assert_string_equal(harness.page.end_cursor, "cmVwb3M6Mg==");
	assert_int_equal(input->teams[0].repository_count, 2);
	assert_int_equal(input->teams[0].repositories[1].level, ORG_LEVEL_READ);
	assert_int_equal(input->teams[1].member_count, 0);
	harness_free(&harness);
}

static void
test_repositories_page_with_forbidden_parts(void **state)
{
	static const char nul_text[] = "[project]\nname = \"nul\0inside\"\n";
	struct harness harness;
	struct org_input *input;
	const struct org_input_repository *repositories;

	(void)state;
	harness_init(&harness);
	input = harness.input;
	feed_ok(&harness, "repositories-forbidden.json", PAGE_REPOSITORIES, 0);
	assert_int_equal(input->repository_count, 7);
	repositories = input->repositories;
	assert_string_equal(repositories[0].name, "core-lib");
	assert_int_equal(repositories[0].pyproject_state, ORG_PYPROJECT_TEXT);
	assert_string_equal(repositories[0].pyproject_text, "[project]\nname = \"Acme_Core\"\n");
	assert_true(repositories[0].collaborators_known);
	assert_int_equal(repositories[0].collaborator_count, 1);
	assert_int_equal(repositories[0].collaborators[0].level, ORG_LEVEL_ADMIN);
	/* FORBIDDEN on one repository's collaborators loses only those */
	assert_true(repositories[1].archived);
	assert_false(repositories[1].collaborators_known);
	assert_int_equal(repositories[1].collaborator_count, 0);
	assert_true(has_warning(&harness.stats, "secret-lib"));
	/* a NUL inside the file text is kept, with the length */
	assert_int_equal(repositories[1].pyproject_state, ORG_PYPROJECT_TEXT);
	assert_int_equal(repositories[1].pyproject_length, sizeof(nul_text) - 1);
	assert_memory_equal(repositories[1].pyproject_text, nul_text, sizeof(nul_text) - 1);
	assert_int_equal(repositories[2].pyproject_state, ORG_PYPROJECT_BINARY);
	assert_true(repositories[2].disabled);
	assert_int_equal(repositories[3].pyproject_state, ORG_PYPROJECT_TRUNCATED);
	assert_null(repositories[3].pyproject_text);
	assert_int_equal(repositories[4].pyproject_state, ORG_PYPROJECT_MISSING);
	assert_int_equal(repositories[5].pyproject_state, ORG_PYPROJECT_MISSING);
	assert_int_equal(repositories[6].pyproject_state, ORG_PYPROJECT_UNREADABLE);
	assert_true(repositories[6].collaborators_known);
	assert_true(has_warning(&harness.stats, "unreadable"));
	assert_int_equal(harness.collect.followup_count, 1);
	assert_int_equal(harness.collect.followups[0].kind, GH_FOLLOW_COLLABORATORS);
	assert_int_equal(harness.collect.followups[0].index, 0);
	/* the follow-up page of core-lib's collaborators */
	feed_ok(&harness, "collaborators-followup.json", PAGE_COLLABORATORS, 0);
	assert_int_equal(repositories[0].collaborator_count, 2);
	assert_string_equal(repositories[0].collaborators[1].name, "erin");
	assert_int_equal(repositories[0].collaborators[1].level, ORG_LEVEL_TRIAGE);
	/* a later page that is forbidden makes the whole list unknown */
	feed_ok(&harness, "collaborators-followup-forbidden.json", PAGE_COLLABORATORS, 0);
	assert_false(harness.page.has_next);
	assert_false(repositories[0].collaborators_known);
	assert_int_equal(repositories[0].collaborator_count, 0);
	harness_free(&harness);
}

static void
test_reply_envelope(void **state)
{
	size_t len;
	char *text = read_data("members-page.json", &len);
	struct gh_graphql_reply reply;
	struct ga_err err;
	char description[256];

	(void)state;
	assert_int_equal(gh_graphql_parse_reply(text, len, &reply, "test", &err), GA_OK);
	assert_int_equal(reply.cost, 1);
	assert_int_equal(reply.remaining, 4990);
	assert_int_equal(reply.reset_at, 1893456000LL);
	assert_int_equal(reply.error_count, 0);
	assert_false(gh_graphql_reply_rate_limited(&reply));
	gh_graphql_reply_free(&reply);
	ga_free(text);

	text = read_data("rate-limited.json", &len);
	assert_int_equal(gh_graphql_parse_reply(text, len, &reply, "test", &err), GA_OK);
	assert_null(reply.data);
	assert_true(gh_graphql_reply_rate_limited(&reply));
	gh_graphql_reply_free(&reply);
	ga_free(text);

	text = read_data("repositories-forbidden.json", &len);
	assert_int_equal(gh_graphql_parse_reply(text, len, &reply, "test", &err), GA_OK);
	assert_int_equal(reply.error_count, 2);
	assert_string_equal(reply.errors[0].path,
			    "organization.repositories.nodes[1].collaborators");
	assert_string_equal(gh_graphql_describe_error(&reply.errors[0], description,
						      sizeof(description)),
			    "FORBIDDEN at organization.repositories.nodes[1].collaborators: "
			    "Must have push access to view repository collaborators.");
	gh_graphql_reply_free(&reply);
	ga_free(text);
}

/* ---- bad pages: every one is GA_EUPSTREAM with a useful message ------- */

static const struct {
	const char *file;
	enum page_kind kind;
	const char *message;
} bad_pages[] = {
	{"truncated.json", PAGE_MEMBERS, "malformed JSON"},
	{"not-an-object.json", PAGE_MEMBERS, "not a JSON object"},
	{"no-data.json", PAGE_MEMBERS, "neither data nor errors"},
	{"wrong-type-data.json", PAGE_MEMBERS, "data is not an object"},
	{"wrong-type-id.json", PAGE_MEMBERS, "databaseId is a string, expected an integer"},
	{"wrong-type-edges.json", PAGE_MEMBERS, "edges is an object, expected an array"},
	{"next-page-without-cursor.json", PAGE_MEMBERS, "next page but no cursor"},
	{"login-with-nul.json", PAGE_MEMBERS, "NUL byte"},
	{"duplicate-key.json", PAGE_MEMBERS, "duplicate"},
	{"organization-not-found.json", PAGE_MEMBERS, "Could not resolve to an Organization"},
	{"validation-error.json", PAGE_MEMBERS, "doesn't exist on type 'User'"},
	{"rate-limited.json", PAGE_MEMBERS, "RATE_LIMITED"},
	{"members-page.json", PAGE_REPOSITORIES, "organization.repositories is missing"},
	{"repositories-forbidden.json", PAGE_MEMBERS, "FORBIDDEN"},
	{"repositories-other-error.json", PAGE_REPOSITORIES, "SERVICE_UNAVAILABLE"},
	{"repositories-forbidden-out-of-range.json", PAGE_REPOSITORIES, "nodes[7]"},
	{"unknown-permission.json", PAGE_TEAMS, "unknown value OVERLORD"},
	{"team-gone.json", PAGE_TEAM_MEMBERS, "disappeared"},
	{"collaborators-followup.json", PAGE_TEAM_REPOSITORIES, "organization is missing"},
};

static void
test_bad_pages(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_pages) / sizeof(bad_pages[0]); i++) {
		struct harness harness;
		struct ga_err err;
		enum ga_rc rc;

		harness_init(&harness);
		/* follow-up parsers need a team and a repository to append to */
		org_input_add_team(harness.input, 1, "t", "T", NULL);
		org_input_add_repository(harness.input, 1, "r", false, false);
		rc = feed(&harness, bad_pages[i].file, bad_pages[i].kind, 0, &err);
		if (rc != GA_EUPSTREAM)
			fail_msg("%s: expected GA_EUPSTREAM, got %s", bad_pages[i].file,
				 ga_rc_name(rc));
		if (strstr(err.message, bad_pages[i].message) == NULL)
			fail_msg("%s: message \"%s\" lacks \"%s\"", bad_pages[i].file, err.message,
				 bad_pages[i].message);
		harness_free(&harness);
	}
}

/* ---- REST bodies -------------------------------------------------------- */

static enum ga_rc
parse_org(const char *name, bool *known, enum org_level *level)
{
	size_t len;
	char *text = read_data(name, &len);
	struct ga_err err;
	enum ga_rc rc = gh_parse_org_rest(text, len, known, level, &err);

	ga_free(text);
	return rc;
}

static void
test_rest_bodies(void **state)
{
	bool known;
	enum org_level level;
	size_t len;
	char *text;
	char *login;
	long long id;
	struct ga_err err;

	(void)state;
	assert_int_equal(parse_org("org-rest.json", &known, &level), GA_OK);
	assert_true(known);
	assert_int_equal(level, ORG_LEVEL_WRITE);
	assert_int_equal(parse_org("org-rest-hidden.json", &known, &level), GA_OK);
	assert_false(known);
	assert_int_equal(level, ORG_LEVEL_NONE);
	assert_int_equal(parse_org("org-rest-bad-permission.json", &known, &level), GA_EUPSTREAM);
	assert_int_equal(parse_org("org-rest-wrong-type.json", &known, &level), GA_EUPSTREAM);
	assert_int_equal(parse_org("truncated.json", &known, &level), GA_EUPSTREAM);

	text = read_data("user.json", &len);
	assert_int_equal(gh_parse_user_rest(text, len, &login, &id, &err), GA_OK);
	assert_string_equal(login, "bob");
	assert_int_equal(id, 102);
	ga_free(login);
	ga_free(text);
	text = read_data("user-wrong-type.json", &len);
	assert_int_equal(gh_parse_user_rest(text, len, &login, &id, &err), GA_EUPSTREAM);
	assert_null(login);
	ga_free(text);
}

/* ---- retry arithmetic and small helpers --------------------------------- */

static void
test_backoff_windows(void **state)
{
	struct gh_client_options options;
	static const long long expected[] = {500, 1000, 2000, 4000, 8000, 16000, 30000, 30000};
	bool varied = false;
	long long first;

	(void)state;
	gh_client_options_default(&options);
	options.backoff_without_jitter = true;
	for (int attempt = 1; attempt <= 8; attempt++)
		assert_int_equal(gh_backoff_ms(&options, attempt), expected[attempt - 1]);
	assert_int_equal(gh_backoff_ms(&options, 1000), 30000);
	/* full jitter: anywhere in [0, window] */
	options.backoff_without_jitter = false;
	first = gh_backoff_ms(&options, 3);
	for (int i = 0; i < 1000; i++) {
		long long wait = gh_backoff_ms(&options, 3);

		assert_in_range(wait, 0, 2000);
		varied = varied || wait != first;
	}
	assert_true(varied);
}

static void
test_rate_limit_waits(void **state)
{
	struct gh_response response;

	(void)state;
	gh_response_init(&response, 1024);
	assert_int_equal(gh_rate_limit_wait_ms(&response, 1000, 60000), 60000);
	response.retry_after_s = 7;
	assert_int_equal(gh_rate_limit_wait_ms(&response, 1000, 60000), 7000);
	response.retry_after_s = 0;	/* "now" still waits a second: never hammer */
	assert_int_equal(gh_rate_limit_wait_ms(&response, 1000, 60000), 1000);
	response.retry_after_s = -1;
	response.ratelimit_remaining = 0;
	response.ratelimit_reset = 1030;
	assert_int_equal(gh_rate_limit_wait_ms(&response, 1000, 60000), 31000);
	response.ratelimit_reset = 900;	/* already past */
	assert_int_equal(gh_rate_limit_wait_ms(&response, 1000, 60000), 1000);
	response.ratelimit_remaining = 12;
	assert_int_equal(gh_rate_limit_wait_ms(&response, 1000, 60000), 60000);
	gh_response_free(&response);
}

static enum gh_outcome
classify(long status, CURLcode transport, long long remaining, const char *body)
{
	struct gh_response response;
	enum gh_outcome outcome;

	gh_response_init(&response, 1024);
	response.status = status;
	response.transport = transport;
	response.ratelimit_remaining = remaining;
	ga_buf_append_str(&response.body, body);
	outcome = gh_http_classify(&response);
	gh_response_free(&response);
	return outcome;
}

static void
test_classification(void **state)
{
	(void)state;
	assert_int_equal(classify(200, CURLE_OK, -1, "{}"), GH_OUTCOME_OK);
	assert_int_equal(classify(0, CURLE_COULDNT_CONNECT, -1, ""), GH_OUTCOME_TRANSIENT);
	assert_int_equal(classify(200, CURLE_OPERATION_TIMEDOUT, -1, ""), GH_OUTCOME_TRANSIENT);
	assert_int_equal(classify(502, CURLE_OK, -1, "<html>"), GH_OUTCOME_TRANSIENT);
	assert_int_equal(classify(503, CURLE_OK, -1, "{}"), GH_OUTCOME_TRANSIENT);
	assert_int_equal(classify(401, CURLE_OK, -1, "{}"), GH_OUTCOME_FAILED);
	assert_int_equal(classify(404, CURLE_OK, -1, "{}"), GH_OUTCOME_FAILED);
	assert_int_equal(classify(403, CURLE_OK, -1, "{\"message\":\"Forbidden\"}"),
			 GH_OUTCOME_FAILED);
	assert_int_equal(classify(403, CURLE_OK, 0, "{}"), GH_OUTCOME_RATE_LIMITED);
	assert_int_equal(classify(403, CURLE_OK, 100,
				  "{\"message\":\"You have exceeded a secondary rate limit.\"}"),
			 GH_OUTCOME_RATE_LIMITED);
	assert_int_equal(classify(429, CURLE_OK, -1, ""), GH_OUTCOME_RATE_LIMITED);
}

static void
test_small_helpers(void **state)
{
	char long_token[300];

	(void)state;
	assert_true(gh_token_is_sendable("ghp_abc"));
	assert_false(gh_token_is_sendable(""));
	assert_false(gh_token_is_sendable(NULL));
	assert_false(gh_token_is_sendable("a b"));
	assert_false(gh_token_is_sendable("abc\r\nX: y"));
	assert_false(gh_token_is_sendable("caf\xc3\xa9"));
	memset(long_token, 'a', sizeof(long_token));
	long_token[GH_TOKEN_MAX] = '\0';
	assert_true(gh_token_is_sendable(long_token));
	long_token[GH_TOKEN_MAX] = 'a';
	long_token[GH_TOKEN_MAX + 1] = '\0';
	assert_false(gh_token_is_sendable(long_token));
	assert_string_equal(gh_token_result_name(GH_TOKEN_VALID), "valid");
	assert_string_equal(gh_token_result_name(GH_TOKEN_UNKNOWN), "unknown");
}

/* Every query is embedded and asks for its cost. */
static void
test_embedded_queries(void **state)
{
	const char *queries[] = {gh_query_org_members, gh_query_org_teams,
				 gh_query_org_repositories, gh_query_team_members,
				 gh_query_team_repositories, gh_query_repository_collaborators,
				 gh_query_repository};

	(void)state;
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		assert_non_null(strstr(queries[i], "rateLimit { cost remaining resetAt }"));
		assert_non_null(strstr(queries[i], "first: $first"));
		assert_non_null(strstr(queries[i], "pageInfo { hasNextPage endCursor }"));
	}
}

/* GET /orgs/{org}/memberships/{username}, a targeted read of one member:
 * only an active membership of this organization, of this user, counts. */
static void
test_org_membership_rest(void **state)
{
	static const struct {
		const char *body;
		enum ga_rc rc;
		bool active;
		bool is_owner;
	} cases[] = {
		{"{\"state\":\"active\",\"role\":\"admin\",\"organization\":{\"login\":\"ACME\"},"
		 "\"user\":{\"login\":\"Bob\",\"id\":102}}", GA_OK, true, true},
		{"{\"state\":\"active\",\"role\":\"member\",\"organization\":{\"login\":\"acme\"},"
		 "\"user\":{\"login\":\"bob\",\"id\":102}}", GA_OK, true, false},
		{"{\"state\":\"active\",\"role\":\"billing_manager\",\"organization\":"
		 "{\"login\":\"acme\"},\"user\":{\"login\":\"bob\",\"id\":102}}", GA_OK, true, false},
		/* an invitation not yet accepted grants nothing */
		{"{\"state\":\"pending\",\"role\":\"admin\",\"organization\":{\"login\":\"acme\"},"
		 "\"user\":{\"login\":\"bob\",\"id\":102}}", GA_OK, false, false},
		/* another organization's membership is none of this one's */
		{"{\"state\":\"active\",\"role\":\"admin\",\"organization\":{\"login\":\"evil\"},"
		 "\"user\":{\"login\":\"bob\",\"id\":102}}", GA_OK, false, false},
		/* another user's membership is an error, never bob's */
		{"{\"state\":\"active\",\"role\":\"admin\",\"organization\":{\"login\":\"acme\"},"
		 "\"user\":{\"login\":\"mallory\",\"id\":666}}", GA_EUPSTREAM, false, false},
		{"{\"state\":\"active\",\"role\":\"admin\",\"organization\":{\"login\":\"acme\"},"
		 "\"user\":{\"login\":\"bob\"}}", GA_EUPSTREAM, false, false},
		{"{\"state\":\"active\",\"organization\":{\"login\":\"acme\"},"
		 "\"user\":{\"login\":\"bob\",\"id\":102}}", GA_EUPSTREAM, false, false},
		{"[\"active\"]", GA_EUPSTREAM, false, false},
		{"{\"state\":", GA_EUPSTREAM, false, false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool active = true;
		bool is_owner = true;
		long long id = -1;
		struct ga_err err = {0};
		enum ga_rc rc = gh_parse_org_membership_rest(cases[i].body, strlen(cases[i].body),
							     "acme", "bob", &active, &is_owner, &id,
							     &err);

		if (rc != cases[i].rc || active != cases[i].active ||
		    is_owner != cases[i].is_owner)
			fail_msg("case %zu: rc %d active %d owner %d (%s)", i, rc, active, is_owner,
				 err.message);
		if (rc == GA_OK)
			assert_int_equal(id, 102);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_members_pages),
		cmocka_unit_test(test_null_members),
		cmocka_unit_test(test_null_repositories_and_sources),
		cmocka_unit_test(test_teams_page_with_nested_next_pages),
		cmocka_unit_test(test_repositories_page_with_forbidden_parts),
		cmocka_unit_test(test_reply_envelope),
		cmocka_unit_test(test_bad_pages),
		cmocka_unit_test(test_rest_bodies),
		cmocka_unit_test(test_backoff_windows),
		cmocka_unit_test(test_rate_limit_waits),
		cmocka_unit_test(test_classification),
		cmocka_unit_test(test_small_helpers),
		cmocka_unit_test(test_embedded_queries),
		cmocka_unit_test(test_org_membership_rest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
