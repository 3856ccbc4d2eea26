/*
 * test_sync_model.c - the GitHub client against the stand-in where GitHub
 * differs from a first reading of its documentation (issue 11): direct
 * grants among permission sources.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../support/scenario.h"
#include "../support/standin.h"
#include "github/github.h"
#include "org/org_policy.h"
#include "org/org_snapshot.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

/* The repository's own scenario (GHACCESS_SCENARIOS may name another directory). */
#define SOURCES_SCENARIO "tests/scenarios/permission-sources.json"
#define SOURCES_ORG "acme-sources"

static struct standin *server;
static json_t *sources;

/* ---- helpers ---------------------------------------------------------- */

static json_t *
scenario(void)
{
	if (sources == NULL)
		sources = scenario_load(SOURCES_SCENARIO);
	return sources;
}

static const char *
server_token(void)
{
	return json_string_value(json_object_get(scenario(), "server_token"));
}

/* The shared stand-in serving changed (or the scenario), zeroed stats. */
static struct standin *
standin_with(const json_t *changed)
{
	if (server == NULL) {
		const char *args[] = {"--scenario", SOURCES_SCENARIO, NULL};

		server = standin_start(args);
	}
	standin_fault(server, "{\"mode\": \"none\"}");
	standin_set_scenario(server, changed != NULL ? changed : scenario());
	standin_reset_stats(server);
	return server;
}

static struct gh_client_options
fast_options(void)
{
	struct gh_client_options options;

	gh_client_options_default(&options);
	options.time_scale = 0.01;
	options.backoff_base_ms = 100;
	options.backoff_without_jitter = true;
	return options;
}

static struct org_input *
sync_with(struct gh_client *client, struct gh_sync_stats *stats)
{
	struct org_input *input = NULL;
	struct ga_err err;

	ga_err_clear(&err);
	if (gh_sync(client, &input, stats, &err) != GA_OK)
		fail_msg("sync failed: %s", err.message);
	return input;
}

static struct org_input *
sync_scenario(const json_t *changed, struct gh_sync_stats *stats, const char *base_permission)
{
	struct standin *standin = standin_with(changed);
	struct config *config = standin_config(standin, scenario(), SOURCES_ORG, server_token());
	struct gh_client_options options = fast_options();
	struct gh_client *client;
	struct org_input *input;

	if (base_permission != NULL)
		config->base_permission = strcmp(base_permission, "read") == 0
						  ? CONFIG_PERMISSION_READ
						  : CONFIG_PERMISSION_NONE;
	client = gh_client_create(config, &options);
	input = sync_with(client, stats);
	gh_client_destroy(client);
	config_free(config);
	return input;
}

static const struct org_input_repository *
repository_of(const struct org_input *input, const char *name)
{
	for (size_t i = 0; i < input->repository_count; i++)
		if (strcmp(input->repositories[i].name, name) == 0)
			return &input->repositories[i];
	fail_msg("repository %s missing", name);
	return NULL;
}

/* The direct grant stored for login on repository, NONE when absent. */
static enum org_level
direct_level(const struct org_input *input, const char *repository, const char *login)
{
	const struct org_input_repository *record = repository_of(input, repository);

	for (size_t i = 0; i < record->collaborator_count; i++)
		if (strcmp(record->collaborators[i].name, login) == 0)
			return record->collaborators[i].level;
	return ORG_LEVEL_NONE;
}

static json_t *
copy_scenario(void)
{
	json_t *copy = json_deep_copy(scenario());

	json_object_del(copy, "expect");
	return copy;
}

static json_t *
find_by(json_t *array, const char *key, const char *value)
{
	json_t *item;
	size_t i;

	json_array_foreach(array, i, item)
		if (strcmp(json_string_value(json_object_get(item, key)), value) == 0)
			return item;
	fail_msg("no %s %s in the scenario", key, value);
	return NULL;
}

static bool
has_warning(const struct gh_sync_stats *stats, const char *needle)
{
	for (size_t i = 0; i < stats->warning_count; i++)
		if (strstr(stats->warnings[i], needle) != NULL)
			return true;
	return false;
}

static long long
stat_number(const char *key)
{
	json_t *stats = standin_stats(server);
	long long value = json_integer_value(json_object_get(stats, key));

	json_decref(stats);
	return value;
}

/* ---- item 1: the direct grant is the repository's permission source ---- */

static void
test_direct_grant_from_permission_sources(void **state)
{
	struct gh_sync_stats stats;
	struct org_input *input;

	(void)state;
	input = sync_scenario(NULL, &stats, NULL);
	/* frank: GitHub's edge says WRITE (the team's), the direct grant is READ. */
	assert_int_equal(direct_level(input, "core-lib", "frank"), ORG_LEVEL_READ);
	/* maintain is WRITE among the sources; roleName keeps it exact. */
	assert_int_equal(direct_level(input, "core-lib", "hank"), ORG_LEVEL_MAINTAIN);
	assert_int_equal(direct_level(input, "tools", "gina"), ORG_LEVEL_WRITE);
	assert_int_equal(direct_level(input, "tools", "ivy"), ORG_LEVEL_WRITE);
	assert_int_equal(stats.direct_grants_inferred, 0);
	assert_int_equal(stats.nulls, 0);
	assert_int_equal(stats.warning_count, 0);
	gh_sync_stats_free(&stats);
	org_input_free(input);
}

/* Decisions and explanations from the synced data. */
static void
test_explain_names_the_direct_source(void **state)
{
	struct gh_sync_stats stats;
	struct org_input *input = sync_scenario(NULL, &stats, NULL);
	struct config *config = scenario_config(scenario());
	struct org_snapshot *snapshot = NULL;
	struct ga_err err;
	char *text;

	(void)state;
	assert_int_equal(org_snapshot_build(input, config, &snapshot, &err), GA_OK);
	text = org_explain(snapshot, "frank", "sources-core");
	assert_string_equal(text, "read, write: via team platform (of which frank is a member), "
				  "which has WRITE on core-lib");
	ga_free(text);
	text = org_explain(snapshot, "hank", "sources-core");
	assert_string_equal(text, "read, write: hank is a direct collaborator with MAINTAIN on "
				  "core-lib");
	ga_free(text);
	scenario_assert_snapshot(scenario(), snapshot);
	org_snapshot_release(snapshot);
	config_free(config);
	gh_sync_stats_free(&stats);
}

/*
 * A token without admin:org: GitHub refuses permissionSources (the whole
 * query), the client asks again without them, once per client, and infers
 * direct grants that never exceed what the organization leaves unexplained.
 */
static void
test_without_admin_org_direct_grants_are_inferred(void **state)
{
	json_t *changed = copy_scenario();
	struct standin *standin;
	struct config *config;
	struct gh_client_options options = fast_options();
	struct gh_client *client;
	struct gh_sync_stats stats;
	struct org_input *input;
	long long requests;

	(void)state;
	json_object_set_new(changed, "server_token_scopes", json_pack("[s, s]", "repo", "read:org"));
	standin = standin_with(changed);
	config = standin_config(standin, scenario(), SOURCES_ORG, server_token());
	config->base_permission = CONFIG_PERMISSION_READ;
	client = gh_client_create(config, &options);
	input = sync_with(client, &stats);
	/* frank: highest WRITE, which team platform explains: READ at least. */
	assert_int_equal(direct_level(input, "core-lib", "frank"), ORG_LEVEL_READ);
	/* hank: MAINTAIN, more than base READ and no team: direct. */
	assert_int_equal(direct_level(input, "core-lib", "hank"), ORG_LEVEL_MAINTAIN);
	/* gina: WRITE, more than triagers' TRIAGE: direct. */
	assert_int_equal(direct_level(input, "tools", "gina"), ORG_LEVEL_WRITE);
	assert_int_equal(stats.direct_grants_inferred, 4);
	assert_true(has_warning(&stats, "4 direct grants inferred"));
	/* 3 pages (members, teams, repositories) + the refused first try. */
	requests = stat_number("graphql_requests");
	assert_int_equal(requests, 4);
	gh_sync_stats_free(&stats);
	org_input_free(input);

	/* The same client does not ask for permissionSources again. */
	standin_reset_stats(standin);
	input = sync_with(client, &stats);
	assert_int_equal(stat_number("graphql_requests"), 3);
	assert_int_equal(direct_level(input, "core-lib", "frank"), ORG_LEVEL_READ);
	gh_sync_stats_free(&stats);
	org_input_free(input);
	gh_client_destroy(client);
	config_free(config);
	json_decref(changed);
}

/* An owner's direct grant is never more than READ when inferred: ADMIN
 * comes with the role.  A parent team's grant explains a child's member. */
static void
test_inference_counts_owners_and_parent_teams(void **state)
{
	json_t *changed = copy_scenario();
	json_t *teams = json_object_get(changed, "teams");
	json_t *core = find_by(json_object_get(changed, "repositories"), "name", "core-lib");
	struct gh_sync_stats stats;
	struct org_input *input;

	(void)state;
	json_object_set_new(changed, "server_token_scopes", json_pack("[s, s]", "repo", "read:org"));
	/* platform-child under platform, with hank in it; olivia direct ADMIN. */
	json_array_append_new(teams, json_pack("{s:s, s:s, s:i, s:s, s:[{s:s, s:s}], s:[]}",
					       "slug", "platform-child", "name", "Child", "id", 219,
					       "parent", "platform", "members", "login", "hank",
					       "role", "MEMBER", "repositories"));
	json_object_set_new(find_by(json_object_get(core, "collaborators"), "login", "hank"),
			    "permission", json_string("WRITE"));
	json_array_append_new(json_object_get(core, "collaborators"),
			      json_pack("{s:s, s:s}", "login", "olivia", "permission", "ADMIN"));
	input = sync_scenario(changed, &stats, "read");
	/* hank: WRITE, explained by platform through platform-child. */
	assert_int_equal(direct_level(input, "core-lib", "hank"), ORG_LEVEL_READ);
	assert_int_equal(direct_level(input, "core-lib", "olivia"), ORG_LEVEL_READ);
	gh_sync_stats_free(&stats);
	org_input_free(input);
	json_decref(changed);
}

static int
teardown(void **state)
{
	(void)state;
	standin_stop(server);
	server = NULL;
	json_decref(sources);
	sources = NULL;
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_direct_grant_from_permission_sources),
		cmocka_unit_test(test_explain_names_the_direct_source),
		cmocka_unit_test(test_without_admin_org_direct_grants_are_inferred),
		cmocka_unit_test(test_inference_counts_owners_and_parent_teams),
	};

	ga_log_setup(GA_LOG_ERROR, GA_LOG_LOGFMT);
	return cmocka_run_group_tests(tests, NULL, teardown);
}
