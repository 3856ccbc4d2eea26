/* test_org_names.c - PEP 503 keys, PEP 508 names, logins and tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "org/org_names.h"

static const struct {
	const char *name;
	const char *key;
} normalize_cases[] = {
	{"Acme_Core", "acme-core"},
	{"acme.core", "acme-core"},
	{"ACME__core", "acme-core"},
	{"a-_.-b", "a-b"},
	{"already-normal", "already-normal"},
	{"X", "x"},
	{"", ""},
};

static void
test_normalize(void **state)
{
	char out[ORG_PACKAGE_NAME_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(normalize_cases) / sizeof(*normalize_cases); i++) {
		const char *name = normalize_cases[i].name;

		assert_true(org_normalize_package(name, strlen(name), out, sizeof(out)));
		assert_string_equal(out, normalize_cases[i].key);
	}
}

static void
test_normalize_too_long(void **state)
{
	char out[4];

	(void)state;
	assert_false(org_normalize_package("abcd", 4, out, sizeof(out)));
	assert_string_equal(out, "");
	assert_true(org_normalize_package("abc", 3, out, sizeof(out)));
}

static const struct {
	const char *name;
	bool valid;
} project_cases[] = {
	{"acme-core", true}, {"A", true}, {"a.b_c-d", true}, {"9lives", true},
	{"-bad-", false}, {"bad-", false}, {"_bad", false}, {"", false},
	{"has space", false}, {"caf\xc3\xa9", false}, {"a/b", false},
};

static void
test_project_names(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(project_cases) / sizeof(*project_cases); i++) {
		const char *name = project_cases[i].name;

		if (org_is_valid_project_name(name, strlen(name)) != project_cases[i].valid)
			fail_msg("project name '%s'", name);
	}
}

static const struct {
	const char *login;
	bool valid;
} login_cases[] = {
	{"bob", true}, {"octo-owner", true}, {"a1-b2-c3", true}, {"A", true},
	{"-bob", false}, {"bob-", false}, {"bo--b", false}, {"", false},
	{"bob smith", false}, {"bob_smith", false}, {"b\xc3\xb6" "b", false},
	{"abcdefghijklmnopqrstuvwxyz0123456789abc", true},	/* 39 */
	{"abcdefghijklmnopqrstuvwxyz0123456789abcd", false},	/* 40 */
};

static void
test_logins(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(login_cases) / sizeof(*login_cases); i++) {
		const char *login = login_cases[i].login;

		if (org_is_valid_login(login, strlen(login)) != login_cases[i].valid)
			fail_msg("login '%s'", login);
	}
}

static void
test_tokens(void **state)
{
	char long_token[257];

	(void)state;
	assert_true(org_is_valid_token("ghp_abc", 7));
	assert_true(org_is_valid_token("github_pat_11ABC_xyz", 20));
	assert_false(org_is_valid_token("", 0));
	assert_false(org_is_valid_token("has space", 9));
	assert_false(org_is_valid_token("tab\there", 8));
	assert_false(org_is_valid_token("caf\xc3\xa9", 5));
	memset(long_token, 'a', sizeof(long_token));
	assert_true(org_is_valid_token(long_token, 255));
	assert_false(org_is_valid_token(long_token, 256));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_normalize_too_long),
		cmocka_unit_test(test_project_names),
		cmocka_unit_test(test_logins),
		cmocka_unit_test(test_tokens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
