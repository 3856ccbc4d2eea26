/*
 * test_gh_org_access.c - does a user's token reach the organization?
 * The X-GitHub-SSO and membership parsers on their own, then
 * gh_check_org_access against the stand-in with SAML SSO enforced.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../support/standin.h"
#include "github/gh_internal.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

#define SCENARIO "tests/scenarios/worked-example.json"
#define BOB_TOKEN "ghp_bob000000000000000000000000000000000"
#define BOB_NO_SSO "ghp_bob_not_authorized_for_sso_0000000000"
#define ERIN_TOKEN "ghp_erin0000000000000000000000000000000000"

static void
test_sso_header(void **state)
{
	char url[GH_SSO_URL_MAX];

	(void)state;
	assert_true(gh_parse_sso_header(
		"required; url=https://github.com/orgs/acme/sso?authorization_request=AZSC_x-1",
		url, sizeof(url)));
	assert_string_equal(url, "https://github.com/orgs/acme/sso?authorization_request=AZSC_x-1");
	assert_true(gh_parse_sso_header("Required ;url=http://ghe.example/orgs/a/sso ;x=y", url,
					sizeof(url)));
	assert_string_equal(url, "http://ghe.example/orgs/a/sso");
	/* Not a URL to show anybody. */
	assert_false(gh_parse_sso_header("partial-results; organizations=21955855,20582480", url,
					 sizeof(url)));
	assert_string_equal(url, "");
	assert_false(gh_parse_sso_header("required", url, sizeof(url)));
	assert_false(gh_parse_sso_header("required; url=javascript:alert(1)", url, sizeof(url)));
	assert_false(gh_parse_sso_header("required; url=https://a b", url, sizeof(url)));
	assert_false(gh_parse_sso_header("required; url=https://a\x01", url, sizeof(url)));
	assert_false(gh_parse_sso_header("requiredx; url=https://a", url, sizeof(url)));
	assert_false(gh_parse_sso_header("", url, sizeof(url)));
	/* Too long for the buffer: refused, never cut. */
	assert_false(gh_parse_sso_header("required; url=https://github.com/0123456789", url, 20));
}

static void
test_membership_body(void **state)
{
	static const char active[] =
		"{\"state\":\"active\",\"role\":\"member\",\"organization\":{\"login\":\"ACME\"}}";
	static const char pending[] =
		"{\"state\":\"pending\",\"role\":\"member\",\"organization\":{\"login\":\"acme\"}}";
	static const char other[] =
		"{\"state\":\"active\",\"role\":\"admin\",\"organization\":{\"login\":\"other\"}}";
	static const char *const malformed[] = {
		"[]", "{\"state\":1,\"organization\":{\"login\":\"acme\"}}",
		"{\"state\":\"active\"}", "{\"state\":\"active\",\"organization\":null}",
		"{\"state\":\"active\",\"organization\":{\"login\":[]}}", "{\"state\":\"act",
	};
	struct ga_err err;
	bool ok = true;

	(void)state;
	assert_int_equal(gh_parse_membership_rest(active, strlen(active), "acme", &ok, &err), GA_OK);
	assert_true(ok);
	assert_int_equal(gh_parse_membership_rest(pending, strlen(pending), "acme", &ok, &err),
			 GA_OK);
	assert_false(ok);
	assert_int_equal(gh_parse_membership_rest(other, strlen(other), "acme", &ok, &err), GA_OK);
	assert_false(ok);
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		ok = true;
		assert_int_equal(gh_parse_membership_rest(malformed[i], strlen(malformed[i]), "acme",
							  &ok, &err),
				 GA_EUPSTREAM);
		assert_false(ok);
	}
}

static struct standin *
sso_standin(void)
{
	const char *args[] = {"--scenario", SCENARIO, NULL};
	struct standin *standin = standin_start(args);
	json_t *scenario = json_load_file(SCENARIO, 0, NULL);
	json_t *users = json_object_get(scenario, "users");
	json_t *pending = json_pack("{s:s, s:i, s:[s], s:n, s:s}", "login", "frank", "id", 106,
				    "tokens", "ghp_frank_invited", "org_role", "membership_state",
				    "pending");

	assert_non_null(scenario);
	json_object_set_new(json_object_get(scenario, "organization"), "saml_sso", json_true());
	for (size_t i = 0; i < json_array_size(users); i++) {
		json_t *user = json_array_get(users, i);

		if (strcmp(json_string_value(json_object_get(user, "login")), "bob") == 0)
			json_object_set_new(user, "tokens_without_sso", json_pack("[s]", BOB_NO_SSO));
	}
	json_array_append_new(users, pending);
	standin_set_scenario(standin, scenario);
	json_decref(scenario);
	return standin;
}

static void
test_against_the_standin(void **state)
{
	struct standin *standin = sso_standin();
	struct config *config = standin_config(standin, NULL, "acme", "ghp_acmeServerToken0000000000000000000000");
	struct gh_client *client = gh_client_create(config, NULL);
	char url[GH_SSO_URL_MAX];
	char expected[400];
	struct ga_err err;

	(void)state;
	assert_int_equal(gh_check_org_access(client, BOB_TOKEN, url, &err), GH_ORG_ACCESS_OK);
	assert_string_equal(url, "");
	assert_int_equal(gh_check_org_access(client, BOB_NO_SSO, url, &err),
			 GH_ORG_ACCESS_SSO_REQUIRED);
	snprintf(expected, sizeof(expected), "%s/orgs/acme/sso?authorization_request=",
		 standin->url);
	assert_memory_equal(url, expected, strlen(expected));
	/* An outside collaborator (404), an invitation (pending), a token
	 * GitHub does not know (401). */
	assert_int_equal(gh_check_org_access(client, ERIN_TOKEN, url, &err), GH_ORG_ACCESS_DENIED);
	assert_non_null(strstr(err.message, "404"));
	assert_int_equal(gh_check_org_access(client, "ghp_frank_invited", url, &err),
			 GH_ORG_ACCESS_DENIED);
	assert_non_null(strstr(err.message, "not active"));
	assert_int_equal(gh_check_org_access(client, "ghp_nobody_knows_this_one", url, &err),
			 GH_ORG_ACCESS_DENIED);
	/* GitHub in trouble: could not tell, never a yes or a no. */
	standin_fault(standin, "{\"mode\": \"error5xx\", \"status\": 502, \"target\": \"rest\"}");
	assert_int_equal(gh_check_org_access(client, BOB_TOKEN, url, &err),
			 GH_ORG_ACCESS_UNKNOWN);
	standin_fault(standin, "{\"mode\": \"ratelimit\", \"target\": \"rest\", \"retry_after\": 60}");
	assert_int_equal(gh_check_org_access(client, BOB_TOKEN, url, &err),
			 GH_ORG_ACCESS_UNKNOWN);
	standin_fault(standin, "{\"mode\": \"garbage\", \"target\": \"rest\"}");
	assert_int_equal(gh_check_org_access(client, BOB_TOKEN, url, &err),
			 GH_ORG_ACCESS_UNKNOWN);
	standin_fault(standin, "{\"mode\": \"none\"}");
	/* Never sent. */
	assert_int_equal(gh_check_org_access(client, "ghp_x\r\nX-Evil: 1", url, &err),
			 GH_ORG_ACCESS_DENIED);
	gh_client_destroy(client);
	config_free(config);
	standin_stop(standin);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sso_header),
		cmocka_unit_test(test_membership_body),
		cmocka_unit_test(test_against_the_standin),
	};

	ga_log_setup(GA_LOG_ERROR, GA_LOG_LOGFMT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
