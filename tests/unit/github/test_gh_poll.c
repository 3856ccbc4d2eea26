/* test_gh_poll.c - ETag polls of the base permission against the stand-in: 304s, changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "github/gh_poll.h"
#include "github/github.h"
#include "util/ga_xalloc.h"

#include "../support/scenario.h"
#include "../support/standin.h"

static json_t *
worked_example(char *path, size_t size)
{
	snprintf(path, size, "%s/worked-example.json", scenario_directory());
	return scenario_load(path);
}

static void
check(struct gh_client *client, struct gh_poll *poll, bool expect_changed,
      struct gh_poll_stats *stats)
{
	struct ga_err err = {0};
	bool changed = !expect_changed;

	if (gh_poll_check(client, poll, &changed, stats, &err) != GA_OK)
		fail_msg("gh_poll_check: %s", err.message);
	assert_int_equal(changed, expect_changed);
}

static void
test_poll_base_permission(void **state)
{
	char path[512];
	json_t *scenario = worked_example(path, sizeof(path));
	const char *args[] = { "--scenario", path, NULL };
	struct standin *standin = standin_start(args);
	const char *token = json_string_value(json_object_get(scenario, "server_token"));
	struct config *config = standin_config(standin, NULL, "acme", token);
	struct gh_client *client = gh_client_create(config, NULL);
	struct gh_poll *poll = gh_poll_create();
	struct gh_poll_stats stats;

	(void)state;
	/* First: records.  The stand-in lists no members by role: that poll
	 * is dropped after its 404, the base permission stays. */
	check(client, poll, false, &stats);
	assert_int_equal(stats.requests, 2);
	/* Unchanged: one 304, which GitHub does not charge. */
	standin_reset_stats(standin);
	check(client, poll, false, &stats);
	assert_int_equal(stats.requests, 1);
	assert_int_equal(stats.not_modified, 1);
	assert_int_equal(standin_stat(standin, "not_modified"), 1);
	/* A change GitHub reports through /orgs/{org} that does not matter
	 * (a new member: another seat count): a 200, but no change. */
	json_array_append_new(json_object_get(scenario, "users"),
			      json_pack("{s:s,s:i,s:[],s:s}", "login", "newbie", "id", 150,
					"tokens", "org_role", "MEMBER"));
	standin_set_scenario(standin, scenario);
	check(client, poll, false, &stats);
	assert_int_equal(stats.not_modified, 0);
	/* The base permission changes: reported once. */
	json_object_set_new(json_object_get(scenario, "organization"),
			    "default_repository_permission", json_string("write"));
	standin_set_scenario(standin, scenario);
	check(client, poll, true, &stats);
	check(client, poll, false, &stats);
	assert_int_equal(stats.not_modified, 1);
	gh_poll_destroy(poll);
	gh_client_destroy(client);
	config_free(config);
	json_decref(scenario);
	standin_stop(standin);
}

/* A refused credential is an error, and the next good check does not
 * report a change that did not happen. */
static void
test_poll_errors(void **state)
{
	char path[512];
	json_t *scenario = worked_example(path, sizeof(path));
	const char *args[] = { "--scenario", path, NULL };
	struct standin *standin = standin_start(args);
	const char *token = json_string_value(json_object_get(scenario, "server_token"));
	struct config *good = standin_config(standin, NULL, "acme", token);
	struct config *bad = standin_config(standin, NULL, "acme", "ghp_notAToken");
	struct gh_client *good_client = gh_client_create(good, NULL);
	struct gh_client *bad_client = gh_client_create(bad, NULL);
	struct gh_poll *poll = gh_poll_create();
	struct ga_err err = {0};
	bool changed = true;

	(void)state;
	check(good_client, poll, false, NULL);
	assert_int_equal(gh_poll_check(bad_client, poll, &changed, NULL, &err), GA_EDENIED);
	assert_false(changed);
	assert_non_null(strstr(err.message, "401"));
	standin_fault(standin, "{\"mode\":\"error5xx\",\"status\":503,\"target\":\"rest\",\"count\":1}");
	assert_int_equal(gh_poll_check(good_client, poll, &changed, NULL, &err), GA_EUPSTREAM);
	check(good_client, poll, false, NULL);
	gh_poll_destroy(poll);
	gh_client_destroy(good_client);
	gh_client_destroy(bad_client);
	config_free(good);
	config_free(bad);
	json_decref(scenario);
	standin_stop(standin);
}

/* GitHub Enterprise Server paths (--prefix /api): the same polls. */
static void
test_poll_enterprise_prefix(void **state)
{
	char path[512];
	json_t *scenario = worked_example(path, sizeof(path));
	const char *args[] = { "--scenario", path, "--prefix", "/api", NULL };
	struct standin *standin = standin_start(args);
	const char *token = json_string_value(json_object_get(scenario, "server_token"));
	struct config *config = standin_config(standin, NULL, "acme", token);
	struct gh_client *client = gh_client_create(config, NULL);
	struct gh_poll *poll = gh_poll_create();
	struct gh_poll_stats stats;

	(void)state;
	assert_non_null(strstr(config->api_url, "/api/v3"));
	check(client, poll, false, &stats);
	check(client, poll, false, &stats);
	assert_int_equal(stats.not_modified, 1);
	gh_poll_destroy(poll);
	gh_client_destroy(client);
	config_free(config);
	json_decref(scenario);
	standin_stop(standin);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_poll_base_permission),
		cmocka_unit_test(test_poll_errors),
		cmocka_unit_test(test_poll_enterprise_prefix),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
