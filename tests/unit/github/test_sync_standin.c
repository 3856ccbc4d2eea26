/* test_sync_standin.c - the real GitHub client against the GitHub stand-in. */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "../support/scenario.h"
#include "../support/standin.h"
#include "github/github.h"
#include "org/org_snapshot.h"
#include "util/ga_buf.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

/* The worked example plus a repository with forbidden collaborators. */
#define ACME_SCENARIO "tests/data/github/standin-acme.json"
#define ACME_TOKEN "ghp_acmeServerToken0000000000000000000000"
#define BOB_TOKEN "ghp_bob000000000000000000000000000000000"
#define CAROL_TOKEN "ghp_carol00000000000000000000000000000000"
#define GENERATED_SPEC "repos=1000,teams=200,members=2000"
#define GENERATED_TOKEN "ghp_generated_server_token"
/* docs/internals/github-client.md: about 35 points plus follow-ups; the budget we promise. */
#define GENERATED_MAX_POINTS 60

static struct standin *acme_server;
static json_t *acme;

/* ---- helpers ---------------------------------------------------------- */

static json_t *
acme_scenario(void)
{
	if (acme == NULL)
		acme = scenario_load(ACME_SCENARIO);
	return acme;
}

/* The shared stand-in, serving the acme scenario, no fault, zeroed stats. */
static struct standin *
acme_standin(void)
{
	if (acme_server == NULL) {
		const char *args[] = {"--scenario", ACME_SCENARIO, NULL};

		acme_server = standin_start(args);
	}
	standin_fault(acme_server, "{\"mode\": \"none\"}");
	standin_set_scenario(acme_server, acme_scenario());
	standin_reset_stats(acme_server);
	return acme_server;
}

static struct config *
acme_config(const struct standin *standin)
{
	return standin_config(standin, acme_scenario(), "acme", ACME_TOKEN);
}

/* Short waits, no jitter: tests are fast and deterministic. */
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

static enum ga_rc
sync_once(const struct config *config, const struct gh_client_options *options,
	  struct org_input **input, struct gh_sync_stats *stats, struct ga_err *err)
{
	struct gh_client *client = gh_client_create(config, options);
	enum ga_rc rc = gh_sync(client, input, stats, err);

	gh_client_destroy(client);
	return rc;
}

static long long
elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - since->tv_sec) * 1000 +
	       (now.tv_nsec - since->tv_nsec) / 1000000;
}

static const struct org_input_repository *
find_repository(const struct org_input *input, const char *name)
{
	for (size_t i = 0; i < input->repository_count; i++)
		if (strcmp(input->repositories[i].name, name) == 0)
			return &input->repositories[i];
	fail_msg("repository %s missing from the sync", name);
	return NULL;
}

static const struct org_input_team *
find_team(const struct org_input *input, const char *slug)
{
	for (size_t i = 0; i < input->team_count; i++)
		if (strcmp(input->teams[i].slug, slug) == 0)
			return &input->teams[i];
	fail_msg("team %s missing from the sync", slug);
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

/* Sync, build the snapshot and assert the scenario's expectations. */
static void
assert_sync_matches(const struct config *config, const json_t *scenario,
		    const struct gh_client_options *options)
{
	struct org_input *input = NULL;
	struct org_snapshot *snapshot = NULL;
	struct gh_sync_stats stats;
	struct ga_err err;
	enum ga_rc rc = sync_once(config, options, &input, &stats, &err);

	if (rc != GA_OK)
		fail_msg("sync failed: %s", err.message);
	assert_int_equal(stats.rest_requests, 1);
	assert_true(stats.pages >= 3);
	assert_true(stats.graphql_points >= 3);
	assert_int_equal(org_snapshot_build(input, config, &snapshot, &err), GA_OK);
	scenario_assert_snapshot(scenario, snapshot);
	org_snapshot_release(snapshot);
	gh_sync_stats_free(&stats);
}

/* ---- every shared scenario through the real client ---------------------- */

/* expect.logins: GitHub's answer plus membership, as the front ends decide. */
static void
assert_logins(struct gh_client *client, const json_t *scenario,
	      const struct org_snapshot *snapshot)
{
	json_t *logins = json_object_get(json_object_get(scenario, "expect"), "logins");
	json_t *login;
	size_t i;

	json_array_foreach(logins, i, login) {
		const char *username = json_string_value(json_object_get(login, "username"));
		const char *password = json_string_value(json_object_get(login, "password"));
		bool ok = json_is_true(json_object_get(login, "ok"));
		long long id = 0;
		struct ga_err err;
		enum gh_token_result result = gh_check_token(client, username, password, &id, &err);
		long member = org_snapshot_find_member(snapshot, username);
		bool allowed = result == GH_TOKEN_VALID && member >= 0;

		assert_int_not_equal(result, GH_TOKEN_UNKNOWN);
		if (allowed != ok)
			fail_msg("login %s: expected %s, GitHub said %s", username,
				 ok ? "ok" : "refused", gh_token_result_name(result));
		if (allowed)
			assert_int_equal(id, org_snapshot_member_id(snapshot, member));
	}
}

static void
check_shared_scenario(const struct standin *standin, const char *path)
{
	json_t *scenario = scenario_load(path);
	json_t *organization = json_object_get(scenario, "organization");
	struct config *config = standin_config(
		standin, scenario, json_string_value(json_object_get(organization, "login")),
		json_string_value(json_object_get(scenario, "server_token")));
	struct gh_client_options options = fast_options();
	struct gh_client *client = gh_client_create(config, &options);
	struct org_input *input = NULL;
	struct org_snapshot *snapshot = NULL;
	struct gh_sync_stats stats;
	struct ga_err err;

	print_message("scenario %s\n", path);
	standin_set_scenario(standin, scenario);
	if (gh_sync(client, &input, &stats, &err) != GA_OK)
		fail_msg("%s: sync failed: %s", path, err.message);
	assert_int_equal(org_snapshot_build(input, config, &snapshot, &err), GA_OK);
	scenario_assert_snapshot(scenario, snapshot);
	assert_logins(client, scenario, snapshot);
	org_snapshot_release(snapshot);
	gh_sync_stats_free(&stats);
	gh_client_destroy(client);
	config_free(config);
	json_decref(scenario);
}

static void
test_shared_scenarios(void **state)
{
	struct standin *standin = acme_standin();
	char **paths = scenario_paths();

	(void)state;
	assert_non_null(paths[0]);
	for (size_t i = 0; paths[i] != NULL; i++)
		check_shared_scenario(standin, paths[i]);
	scenario_paths_free(paths);
}

static void
test_acme_with_forbidden_repository(void **state)
{
	struct standin *standin = acme_standin();
	struct config *config = acme_config(standin);
	struct gh_client_options options = fast_options();
	struct gh_client *client = gh_client_create(config, &options);
	struct org_input *input = NULL;
	struct gh_sync_stats stats;
	struct ga_err err;
	const struct org_input_repository *repository;

	(void)state;
	assert_int_equal(gh_sync(client, &input, &stats, &err), GA_OK);
	assert_true(input->base_permission_known);
	assert_int_equal(input->base_permission, ORG_LEVEL_READ);
	repository = find_repository(input, "secret-lib");
	assert_false(repository->collaborators_known);
	assert_int_equal(repository->collaborator_count, 0);
	assert_true(find_repository(input, "tools")->collaborators_known);
	assert_int_equal(find_repository(input, "tools")->collaborator_count, 2);
	assert_int_equal(find_repository(input, "docs")->pyproject_state, ORG_PYPROJECT_MISSING);
	assert_true(has_warning(&stats, "secret-lib"));
	/* The client counts what the stand-in counts. */
	assert_int_equal(stats.graphql_points, standin_stat(standin, "graphql_points"));
	assert_int_equal(stats.graphql_requests, standin_stat(standin, "graphql_requests"));
	assert_int_equal(stats.rest_requests, standin_stat(standin, "rest_requests"));
	org_input_free(input);
	gh_sync_stats_free(&stats);
	gh_client_destroy(client);
	assert_sync_matches(config, acme_scenario(), &options);
	config_free(config);
}

/* ---- token checks ------------------------------------------------------- */

static enum gh_token_result
check(struct gh_client *client, const char *username, const char *token, long long *id)
{
	struct ga_err err;

	return gh_check_token(client, username, token, id, &err);
}

static void
test_token_checks(void **state)
{
	struct standin *standin = acme_standin();
	struct config *config = acme_config(standin);
	struct gh_client *client = gh_client_create(config, NULL);
	long long id = 0;

	(void)state;
	assert_int_equal(check(client, "bob", BOB_TOKEN, &id), GH_TOKEN_VALID);
	assert_int_equal(id, 102);
	assert_int_equal(check(client, "bob",
			       "github_pat_11BOB0000000000000000000_abcdefghijklmnopqrstuvwxyz"
			       "0123456789ABCDEFGHIJKLMNOPQRS", &id),
			 GH_TOKEN_VALID);
	/* another user's token, the login in another case, a revoked token */
	assert_int_equal(check(client, "bob", CAROL_TOKEN, &id), GH_TOKEN_INVALID);
	assert_int_equal(check(client, "Bob", BOB_TOKEN, &id), GH_TOKEN_INVALID);
	assert_int_equal(id, 0);
	assert_int_equal(check(client, "bob", "ghp_revoked000000000000000000000000000000", &id),
			 GH_TOKEN_INVALID);
	assert_int_equal(standin_stat(standin, "user_requests"), 5);
	/* never sent: empty, a header injection, too long */
	assert_int_equal(check(client, "bob", "", &id), GH_TOKEN_INVALID);
	assert_int_equal(check(client, "bob", "ghp_x\r\nX-Evil: 1", &id), GH_TOKEN_INVALID);
	assert_int_equal(check(client, "bob", "ghp_has space", &id), GH_TOKEN_INVALID);
	assert_int_equal(standin_stat(standin, "user_requests"), 5);
	gh_client_destroy(client);
	config_free(config);
}

static void
assert_unknown_fast(struct gh_client *client, const struct standin *standin,
		    const char *fault, long long max_ms)
{
	struct timespec started;
	struct ga_err err;

	standin_fault(standin, fault);
	clock_gettime(CLOCK_MONOTONIC, &started);
	assert_int_equal(gh_check_token(client, "bob", BOB_TOKEN, NULL, &err), GH_TOKEN_UNKNOWN);
	if (elapsed_ms(&started) > max_ms)
		fail_msg("%s: token check took %lld ms", fault, elapsed_ms(&started));
	print_message("fault %s: unknown in %lld ms (%s)\n", fault, elapsed_ms(&started),
		      err.message);
}

static void
test_token_check_when_github_fails(void **state)
{
	struct standin *standin = acme_standin();
	struct config *config = acme_config(standin);
	struct gh_client *client;

	(void)state;
	config->http_timeout = 1;
	client = gh_client_create(config, NULL);
	assert_unknown_fast(client, standin, "{\"mode\": \"down\", \"target\": \"user\"}", 1500);
	assert_unknown_fast(client, standin, "{\"mode\": \"error5xx\", \"target\": \"user\"}", 1500);
	assert_unknown_fast(client, standin, "{\"mode\": \"error5xx\", \"status\": 503}", 1500);
	/* a rate limit is never waited for during a login */
	assert_unknown_fast(client, standin,
			    "{\"mode\": \"ratelimit\", \"retry_after\": 600, \"target\": \"user\"}",
			    1000);
	assert_unknown_fast(client, standin, "{\"mode\": \"garbage\", \"target\": \"user\"}", 1000);
	/* a GitHub slower than the timeout: bounded by http_timeout (1 s) */
	assert_unknown_fast(client, standin,
			    "{\"mode\": \"slow\", \"delay_ms\": 3000, \"target\": \"user\"}", 2500);
	standin_fault(standin, "{\"mode\": \"none\"}");
	assert_int_equal(check(client, "bob", BOB_TOKEN, NULL), GH_TOKEN_VALID);
	gh_client_destroy(client);
	config_free(config);
}

struct checker {
	struct gh_client *client;
	int valid;
};

static void *
check_many(void *context)
{
	struct checker *checker = context;

	for (int i = 0; i < 25; i++) {
		const char *token = i % 5 == 4 ? CAROL_TOKEN : BOB_TOKEN;
		enum gh_token_result expected = i % 5 == 4 ? GH_TOKEN_INVALID : GH_TOKEN_VALID;

		if (check(checker->client, "bob", token, NULL) == expected)
			checker->valid++;
	}
	return NULL;
}

static void
test_token_checks_from_many_threads(void **state)
{
	struct standin *standin = acme_standin();
	struct config *config = acme_config(standin);
	struct gh_client *client = gh_client_create(config, NULL);
	pthread_t threads[8];
	struct checker checkers[8];

	(void)state;
	for (int i = 0; i < 8; i++) {
		checkers[i] = (struct checker){.client = client, .valid = 0};
		assert_int_equal(pthread_create(&threads[i], NULL, check_many, &checkers[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(threads[i], NULL);
		assert_int_equal(checkers[i].valid, 25);
	}
	assert_int_equal(standin_stat(standin, "user_requests"), 8 * 25);
	gh_client_destroy(client);
	config_free(config);
}

/* ---- faults during a sync ----------------------------------------------- */

static void
test_error5xx_for_a_second_is_retried(void **state)
{
	struct standin *standin = acme_standin();
	struct config *config = acme_config(standin);
	struct gh_client_options options;
	struct org_input *input = NULL;
	struct gh_sync_stats stats;
	struct ga_err err;

	(void)state;
	/* Real waits of 400, 800, 1600 ms outlast a one-second outage. */
	gh_client_options_default(&options);
	options.time_scale = 1.0;
	options.backoff_base_ms = 400;
	options.backoff_without_jitter = true;
	options.max_attempts = 5;
	standin_fault(standin, "{\"mode\": \"error5xx\", \"seconds\": 1, \"target\": \"graphql\"}");
	if (sync_once(config, &options, &input, &stats, &err) != GA_OK)
		fail_msg("sync failed: %s", err.message);
	assert_true(stats.retries >= 1);
	assert_true(has_warning(&stats, "page size reduced to 50"));
	assert_int_equal(input->repository_count, 5);
	print_message("error5xx for 1 s: %u retries, %lld ms\n", stats.retries, stats.duration_ms);
	org_input_free(input);
	gh_sync_stats_free(&stats);
	config_free(config);
}

static void
test_lasting_error5xx_fails_cleanly(void **state)
{
	struct standin *standin = acme_standin();
	struct config *config = acme_config(standin);
	struct gh_client_options options = fast_options();
	struct org_input *input = NULL;
	struct gh_sync_stats stats;
	struct ga_err err;

	(void)state;
	options.max_attempts = 3;
	standin_fault(standin, "{\"mode\": \"error5xx\", \"status\": 504, \"target\": \"graphql\"}");
	assert_int_equal(sync_once(config, &options, &input, &stats, &err), GA_EUPSTREAM);
	assert_null(input);
	assert_non_null(strstr(err.message, "HTTP 504"));
	/* exactly max_attempts tries, no more */
	assert_int_equal(stats.graphql_requests, 3);
	assert_int_equal(standin_stat(standin, "faulted_requests"), 3);
	gh_sync_stats_free(&stats);
	config_free(config);
}

static void
test_rate_limit_is_waited_out(void **state)
{
	struct standin *standin = acme_standin();
	struct config *config = acme_config(standin);
	struct gh_client_options options = fast_options();
	struct org_input *input = NULL;
	struct gh_sync_stats stats;
	struct ga_err err;

	(void)state;
	/* retry-after 30 s, scaled by 0.01: two waits of 0.3 s */
	standin_fault(standin, "{\"mode\": \"ratelimit\", \"count\": 2, \"retry_after\": 30, "
			       "\"target\": \"graphql\"}");
	if (sync_once(config, &options, &input, &stats, &err) != GA_OK)
		fail_msg("sync failed: %s", err.message);
	assert_int_equal(stats.rate_limit_waits, 2);
	assert_int_equal(stats.retries, 0);
	org_input_free(input);
	gh_sync_stats_free(&stats);
	/* the REST call waits the same way */
	standin_fault(standin, "{\"mode\": \"ratelimit\", \"count\": 1, \"retry_after\": 10, "
			       "\"target\": \"rest\"}");
	if (sync_once(config, &options, &input, &stats, &err) != GA_OK)
		fail_msg("sync failed: %s", err.message);
	assert_int_equal(stats.rate_limit_waits, 1);
	assert_int_equal(stats.rest_requests, 2);
	org_input_free(input);
	gh_sync_stats_free(&stats);
	config_free(config);
}

static void
test_long_rate_limit_fails_without_waiting(void **state)
{
	struct standin *standin = acme_standin();
	struct config *config = acme_config(standin);
	struct gh_client_options options;
	struct org_input *input = NULL;
	struct gh_sync_stats stats;
	struct ga_err err;
	struct timespec started;

	(void)state;
	gh_client_options_default(&options);	/* real time, 15-minute cap */
	standin_fault(standin, "{\"mode\": \"ratelimit\", \"retry_after\": 3600, "
			       "\"target\": \"graphql\"}");
	clock_gettime(CLOCK_MONOTONIC, &started);
	assert_int_equal(sync_once(config, &options, &input, &stats, &err), GA_ELIMIT);
	assert_true(elapsed_ms(&started) < 2000);
	assert_int_equal(stats.graphql_requests, 1);
	print_message("%s\n", err.message);
	gh_sync_stats_free(&stats);
	config_free(config);
}

/* The stand-in charges points; with a budget of 3 the teams page (2 points)
 * spends it, and the client must not send the next query. */
static void
test_spent_budget_is_not_hammered(void **state)
{
	const char *args[] = {"--scenario", ACME_SCENARIO, "--ratelimit-limit", "3", NULL};
	struct standin *standin = standin_start(args);
	struct config *config = acme_config(standin);
	struct gh_client_options options;
	struct org_input *input = NULL;
	struct gh_sync_stats stats;
	struct ga_err err;

	(void)state;
	gh_client_options_default(&options);
	assert_int_equal(sync_once(config, &options, &input, &stats, &err), GA_ELIMIT);
	print_message("%s\n", err.message);
	assert_int_equal(standin_stat(standin, "graphql_requests"), 2);
	assert_int_equal(stats.rate_limit_remaining, 0);
	gh_sync_stats_free(&stats);
	config_free(config);
	standin_stop(standin);
}

static void
test_garbage_is_an_upstream_error(void **state)
{
	struct standin *standin = acme_standin();
	struct config *config = acme_config(standin);
	struct gh_client_options options = fast_options();
	struct org_input *input = NULL;
	struct gh_sync_stats stats;
	struct ga_err err;

	(void)state;
	standin_fault(standin, "{\"mode\": \"garbage\", \"target\": \"graphql\"}");
	assert_int_equal(sync_once(config, &options, &input, &stats, &err), GA_EUPSTREAM);
	assert_non_null(strstr(err.message, "malformed JSON"));
	gh_sync_stats_free(&stats);
	standin_fault(standin, "{\"mode\": \"garbage\", \"target\": \"rest\"}");
	assert_int_equal(sync_once(config, &options, &input, &stats, &err), GA_EUPSTREAM);
	assert_null(input);
	gh_sync_stats_free(&stats);
	config_free(config);
}

static void
test_github_down(void **state)
{
	struct standin *standin = acme_standin();
	struct config *config = acme_config(standin);
	struct gh_client_options options = fast_options();
	struct org_input *input = NULL;
	struct gh_sync_stats stats;
	struct ga_err err;

	(void)state;
	standin_fault(standin, "{\"mode\": \"down\"}");
	assert_int_equal(sync_once(config, &options, &input, &stats, &err), GA_EUPSTREAM);
	assert_null(input);
	assert_int_equal(stats.rest_requests, 4);
	print_message("%s\n", err.message);
	gh_sync_stats_free(&stats);
	config_free(config);
}

static void
test_partial_keeps_the_rest(void **state)
{
	struct standin *standin = acme_standin();
	struct config *config = acme_config(standin);
	struct gh_client_options options = fast_options();
	struct org_input *complete = NULL;
	struct org_input *partial = NULL;
	struct gh_sync_stats stats;
	struct ga_err err;

	(void)state;
	assert_int_equal(sync_once(config, &options, &complete, &stats, &err), GA_OK);
	gh_sync_stats_free(&stats);
	standin_fault(standin, "{\"mode\": \"partial\"}");
	if (sync_once(config, &options, &partial, &stats, &err) != GA_OK)
		fail_msg("sync failed: %s", err.message);
	assert_int_equal(partial->member_count, complete->member_count);
	assert_int_equal(partial->team_count, complete->team_count);
	assert_int_equal(partial->repository_count, complete->repository_count);
	for (size_t i = 0; i < partial->repository_count; i++) {
		const struct org_input_repository *repository = &partial->repositories[i];

		assert_false(repository->collaborators_known);
		assert_int_equal(repository->collaborator_count, 0);
		assert_int_equal(repository->pyproject_state,
				 complete->repositories[i].pyproject_state);
		assert_true(has_warning(&stats, repository->name));
	}
	for (size_t i = 0; i < partial->team_count; i++)
		assert_int_equal(partial->teams[i].repository_count,
				 complete->teams[i].repository_count);
	org_input_free(complete);
	org_input_free(partial);
	gh_sync_stats_free(&stats);
	config_free(config);
}

/* ---- base permission, GHES ---------------------------------------------- */

static void
test_hidden_base_permission(void **state)
{
	struct standin *standin = acme_standin();
	json_t *scenario = json_deep_copy(acme_scenario());
	struct config *config = acme_config(standin);
	struct gh_client_options options = fast_options();
	struct org_input *input = NULL;
	struct gh_sync_stats stats;
	struct ga_err err;

	(void)state;
	json_object_set_new(scenario, "server_token_scopes", json_pack("[s, s]", "repo", "read:org"));
	standin_set_scenario(standin, scenario);
	assert_int_equal(sync_once(config, &options, &input, &stats, &err), GA_OK);
	assert_false(input->base_permission_known);
	assert_int_equal(input->base_permission, ORG_LEVEL_NONE);
	assert_true(has_warning(&stats, "base permission hidden"));
	org_input_free(input);
	gh_sync_stats_free(&stats);
	/* a configured base permission fills in (config_permission != org_level) */
	config->base_permission = CONFIG_PERMISSION_WRITE;
	assert_int_equal(sync_once(config, &options, &input, &stats, &err), GA_OK);
	assert_false(input->base_permission_known);
	assert_int_equal(input->base_permission, ORG_LEVEL_WRITE);
	org_input_free(input);
	gh_sync_stats_free(&stats);
	json_decref(scenario);
	config_free(config);
}

static void
test_github_enterprise_prefix(void **state)
{
	const char *args[] = {"--scenario", ACME_SCENARIO, "--prefix", "/api", NULL};
	struct standin *standin = standin_start(args);
	struct config *config = acme_config(standin);
	struct gh_client_options options = fast_options();
	struct gh_client *client;

	(void)state;
	assert_non_null(strstr(config->api_url, "/api/v3"));
	assert_sync_matches(config, acme_scenario(), &options);
	client = gh_client_create(config, &options);
	assert_int_equal(check(client, "bob", BOB_TOKEN, NULL), GH_TOKEN_VALID);
	gh_client_destroy(client);
	config_free(config);
	standin_stop(standin);
}

/* ---- scale: nested pagination and cost ---------------------------------- */

static void
assert_same_shape(const json_t *scenario, const struct org_input *input)
{
	json_t *item;
	size_t i;
	size_t members = 0;

	json_array_foreach(json_object_get(scenario, "users"), i, item)
		members += json_is_string(json_object_get(item, "org_role"));
	assert_int_equal(input->member_count, members);
	assert_int_equal(input->team_count, json_array_size(json_object_get(scenario, "teams")));
	json_array_foreach(json_object_get(scenario, "teams"), i, item) {
		const struct org_input_team *team =
			find_team(input, json_string_value(json_object_get(item, "slug")));

		assert_int_equal(team->member_count,
				 json_array_size(json_object_get(item, "members")));
		assert_int_equal(team->repository_count,
				 json_array_size(json_object_get(item, "repositories")));
	}
	assert_int_equal(input->repository_count,
			 json_array_size(json_object_get(scenario, "repositories")));
	json_array_foreach(json_object_get(scenario, "repositories"), i, item) {
		const struct org_input_repository *repository = &input->repositories[i];

		/* OrgRepos pages by name; the generated names sort as created */
		assert_string_equal(repository->name,
				    json_string_value(json_object_get(item, "name")));
		assert_true(repository->collaborators_known);
		assert_int_equal(repository->collaborator_count,
				 json_array_size(json_object_get(item, "collaborators")));
	}
}

static void
test_generated_org_nested_pages_and_cost(void **state)
{
	const char *args[] = {"--generate", GENERATED_SPEC, NULL};
	struct standin *standin = standin_start(args);
	json_t *scenario = standin_generated_scenario(GENERATED_SPEC);
	struct config *config = standin_config(standin, NULL, "genorg", GENERATED_TOKEN);
	struct gh_client_options options = fast_options();
	struct org_input *input = NULL;
	struct gh_sync_stats stats;
	struct ga_err err;
	long long points;

	(void)state;
	if (sync_once(config, &options, &input, &stats, &err) != GA_OK)
		fail_msg("sync failed: %s", err.message);
	points = standin_stat(standin, "graphql_points");
	print_message("generated org %s: %lld points (stand-in count), %u GraphQL requests, "
		      "%u pages of which %u follow-ups, %lld ms\n",
		      GENERATED_SPEC, points, stats.graphql_requests, stats.pages,
		      stats.followup_pages, stats.duration_ms);
	assert_int_equal(points, stats.graphql_points);
	assert_true(points <= GENERATED_MAX_POINTS);
	/* the nested lists longer than a page came back whole */
	assert_int_equal(find_team(input, "team-1")->member_count, 150);
	assert_int_equal(find_team(input, "team-2")->member_count, 250);
	assert_int_equal(find_team(input, "team-3")->repository_count, 130);
	assert_int_equal(find_repository(input, "repo-00001")->collaborator_count, 130);
	assert_int_equal(find_repository(input, "repo-00002")->collaborator_count, 130);
	assert_same_shape(scenario, input);
	org_input_free(input);
	gh_sync_stats_free(&stats);
	json_decref(scenario);
	config_free(config);
	standin_stop(standin);
}

/* ---- targeted reads ------------------------------------------------------- */

/* One read against the generated organization: its data and points. */
static struct org_input *
read_targeted(struct gh_client *client, struct standin *standin, enum gh_targeted_kind kind,
	      const char *name, long long *points)
{
	struct org_input *data = NULL;
	struct gh_sync_stats stats;
	struct ga_err err;

	standin_reset_stats(standin);
	if (gh_sync_targeted(client, kind, name, &data, &stats, &err) != GA_OK)
		fail_msg("targeted read of %s failed: %s", name, err.message);
	*points = standin_stat(standin, "graphql_points");
	assert_int_equal(*points, stats.graphql_points);
	assert_true(data->synced_at_ms > 0);
	gh_sync_stats_free(&stats);
	return data;
}

/*
 * gh_sync_targeted reads one team list or one repository with the queries
 * of a sync, following nested pages: the lists come back whole (team-1 has
 * 150 members, team-3 130 grants, repo-00001 130 collaborators), for one
 * point per page of 100, and nothing else of the organization is read.
 */
static void
test_targeted_reads(void **state)
{
	const char *args[] = {"--generate", GENERATED_SPEC, NULL};
	struct standin *standin = standin_start(args);
	struct config *config = standin_config(standin, NULL, "genorg", GENERATED_TOKEN);
	struct gh_client_options options = fast_options();
	struct gh_client *client = gh_client_create(config, &options);
	struct org_input *data;
	struct ga_err err;
	long long points;

	(void)state;
	data = read_targeted(client, standin, GH_TARGETED_TEAM_MEMBERS, "team-1", &points);
	assert_int_equal(data->team_count, 1);
	assert_int_equal(data->teams[0].member_count, 150);
	assert_int_equal(data->teams[0].repository_count, 0);
	assert_int_equal(data->member_count + data->repository_count, 0);
	assert_true(points >= 1 && points <= 3);
	org_input_free(data);
	data = read_targeted(client, standin, GH_TARGETED_TEAM_REPOSITORIES, "team-3", &points);
	assert_int_equal(data->teams[0].repository_count, 130);
	assert_int_equal(data->teams[0].member_count, 0);
	assert_true(points >= 1 && points <= 3);
	org_input_free(data);
	data = read_targeted(client, standin, GH_TARGETED_REPOSITORY, "repo-00001", &points);
	assert_int_equal(data->repository_count, 1);
	assert_string_equal(data->repositories[0].name, "repo-00001");
	assert_true(data->repositories[0].collaborators_known);
	assert_int_equal(data->repositories[0].collaborator_count, 130);
	assert_int_equal(data->repositories[0].pyproject_state, ORG_PYPROJECT_TEXT);
	assert_true(points >= 1 && points <= 3);
	org_input_free(data);
	print_message("targeted reads: at most 3 points each, last %lld\n", points);
	/* A member (REST, no GraphQL points): user-1 is an owner; an outside
	 * collaborator is no member at all. */
	data = read_targeted(client, standin, GH_TARGETED_MEMBER, "user-1", &points);
	assert_int_equal(data->member_count, 1);
	assert_string_equal(data->members[0].login, "user-1");
	assert_int_equal(data->members[0].id, 100001);
	assert_true(data->members[0].is_owner);
	assert_int_equal(points, 0);
	org_input_free(data);
	data = read_targeted(client, standin, GH_TARGETED_MEMBER, "outside-1", &points);
	assert_int_equal(data->member_count, 0);
	org_input_free(data);
	/* What GitHub does not show is an error: the caller falls back to a sync. */
	data = NULL;
	assert_int_equal(gh_sync_targeted(client, GH_TARGETED_TEAM_MEMBERS, "no-such-team", &data,
					  NULL, &err),
			 GA_EUPSTREAM);
	assert_null(data);
	assert_int_equal(gh_sync_targeted(client, GH_TARGETED_REPOSITORY, "no-such-repo", &data,
					  NULL, &err),
			 GA_EUPSTREAM);
	assert_null(data);
	gh_client_destroy(client);
	config_free(config);
	standin_stop(standin);
}

/* ---- cancellation and secrets ------------------------------------------- */

struct background_sync {
	struct gh_client *client;
	enum ga_rc rc;
	struct ga_err err;
};

static void *
run_background_sync(void *context)
{
	struct background_sync *job = context;
	struct org_input *input = NULL;

	job->rc = gh_sync(job->client, &input, NULL, &job->err);
	org_input_free(input);
	return NULL;
}

static void
test_cancel_interrupts_a_wait(void **state)
{
	struct standin *standin = acme_standin();
	struct config *config = acme_config(standin);
	struct background_sync job;
	struct timespec started;
	pthread_t thread;

	(void)state;
	job.client = gh_client_create(config, NULL);	/* real time: a 10-minute wait */
	standin_fault(standin, "{\"mode\": \"ratelimit\", \"retry_after\": 600}");
	clock_gettime(CLOCK_MONOTONIC, &started);
	assert_int_equal(pthread_create(&thread, NULL, run_background_sync, &job), 0);
	usleep(300 * 1000);
	gh_client_cancel(job.client);
	pthread_join(thread, NULL);
	assert_true(elapsed_ms(&started) < 3000);
	assert_int_equal(job.rc, GA_EUPSTREAM);
	assert_non_null(strstr(job.err.message, "cancelled"));
	gh_client_destroy(job.client);
	config_free(config);
}

static void
test_logs_never_hold_a_token(void **state)
{
	struct standin *standin = acme_standin();
	struct config *config = acme_config(standin);
	struct gh_client_options options = fast_options();
	struct gh_client *client = gh_client_create(config, &options);
	char path[] = "/tmp/ghaccess-log-XXXXXX";
	int fd = mkstemp(path);
	struct org_input *input = NULL;
	struct ga_err err;
	struct ga_buf log;
	char chunk[4096];
	ssize_t got;

	(void)state;
	assert_true(fd >= 0);
	ga_log_setup(GA_LOG_DEBUG, GA_LOG_LOGFMT);
	ga_log_set_fd(fd);
	/* warnings, retries, a login in the wrong case, a failing token check */
	standin_fault(standin, "{\"mode\": \"error5xx\", \"count\": 1, \"target\": \"graphql\"}");
	assert_int_equal(gh_sync(client, &input, NULL, &err), GA_OK);
	org_input_free(input);
	assert_int_equal(check(client, "Bob", BOB_TOKEN, NULL), GH_TOKEN_INVALID);
	standin_fault(standin, "{\"mode\": \"ratelimit\", \"target\": \"user\"}");
	assert_int_equal(check(client, "bob", BOB_TOKEN, NULL), GH_TOKEN_UNKNOWN);
	ga_log_set_fd(2);
	ga_log_setup(GA_LOG_INFO, GA_LOG_LOGFMT);
	lseek(fd, 0, SEEK_SET);
	ga_buf_init(&log, 0);
	while ((got = read(fd, chunk, sizeof(chunk))) > 0)
		ga_buf_append(&log, chunk, (size_t)got);
	close(fd);
	unlink(path);
	assert_non_null(strstr(ga_buf_cstr(&log), "differs only in case"));
	assert_null(strstr(ga_buf_cstr(&log), ACME_TOKEN));
	assert_null(strstr(ga_buf_cstr(&log), BOB_TOKEN));
	assert_null(strcasestr(ga_buf_cstr(&log), "authorization"));
	assert_null(strcasestr(ga_buf_cstr(&log), "bearer"));
	ga_buf_free(&log);
	gh_client_destroy(client);
	config_free(config);
}

static int
teardown_group(void **state)
{
	(void)state;
	standin_stop(acme_server);
	acme_server = NULL;
	json_decref(acme);
	acme = NULL;
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_scenarios),
		cmocka_unit_test(test_acme_with_forbidden_repository),
		cmocka_unit_test(test_token_checks),
		cmocka_unit_test(test_token_check_when_github_fails),
		cmocka_unit_test(test_token_checks_from_many_threads),
		cmocka_unit_test(test_error5xx_for_a_second_is_retried),
		cmocka_unit_test(test_lasting_error5xx_fails_cleanly),
		cmocka_unit_test(test_rate_limit_is_waited_out),
		cmocka_unit_test(test_long_rate_limit_fails_without_waiting),
		cmocka_unit_test(test_spent_budget_is_not_hammered),
		cmocka_unit_test(test_garbage_is_an_upstream_error),
		cmocka_unit_test(test_github_down),
		cmocka_unit_test(test_partial_keeps_the_rest),
		cmocka_unit_test(test_hidden_base_permission),
		cmocka_unit_test(test_github_enterprise_prefix),
		cmocka_unit_test(test_generated_org_nested_pages_and_cost),
		cmocka_unit_test(test_targeted_reads),
		cmocka_unit_test(test_cancel_interrupts_a_wait),
		cmocka_unit_test(test_logs_never_hold_a_token),
	};

	return cmocka_run_group_tests(tests, NULL, teardown_group);
}
