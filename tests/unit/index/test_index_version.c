/*
 * test_index_version.c - PEP 440 validation and normal forms, table-driven
 * (cases checked against packaging.version.Version).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "index/index_version.h"

struct normal_case {
	const char *version;
	const char *normal;		/* str(Version(version)); NULL: invalid */
};

static const struct normal_case normal_cases[] = {
	{ "1.0", "1.0" },
	{ "1.0.0", "1.0.0" },
	{ "v1.0", "1.0" },
	{ "V1.0", "1.0" },
	{ "01.002.0003", "1.2.3" },
	{ "0!1.0", "1.0" },
	{ "2!1.0", "2!1.0" },
	{ "1.0a1", "1.0a1" },
	{ "1.0-alpha.1", "1.0a1" },
	{ "1.0.BETA2", "1.0b2" },
	{ "1.0c3", "1.0rc3" },
	{ "1.0pre4", "1.0rc4" },
	{ "1.0preview", "1.0rc0" },
	{ "1.0RC", "1.0rc0" },
	{ "1.0-1", "1.0.post1" },
	{ "1.0.post", "1.0.post0" },
	{ "1.0-r5", "1.0.post5" },
	{ "1.0rev_6", "1.0.post6" },
	{ "1.0.dev", "1.0.dev0" },
	{ "1.0-dev-7", "1.0.dev7" },
	{ "1.0a1.post2.dev3", "1.0a1.post2.dev3" },
	{ "1.0+Ubuntu_1", "1.0+ubuntu.1" },
	{ "1.0+abc-007.x", "1.0+abc.7.x" },
	{ "1.0.0-RC1", "1.0.0rc1" },
	{ "", NULL },
	{ "1.", NULL },
	{ ".1", NULL },
	{ "1.0 ", NULL },
	{ " 1.0", NULL },
	{ "1.0\n", NULL },
	{ "1..0", NULL },
	{ "1.0+", NULL },
	{ "1.0+a..b", NULL },
	{ "1.0-", NULL },
	{ "abc", NULL },
	{ "1.0foo", NULL },
	{ "1.0/../x", NULL },
	{ "1.0-1-1", NULL },
};

static void
test_normal_forms(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(normal_cases) / sizeof(normal_cases[0]); i++) {
		const struct normal_case *c = &normal_cases[i];
		char out[INDEX_VERSION_NORMAL_MAX];
		bool ok = index_version_normalize(c->version, strlen(c->version), false, out);

		if (c->normal == NULL) {
			if (ok)
				fail_msg("'%s' should be invalid, got '%s'", c->version, out);
			assert_false(index_version_is_valid(c->version, strlen(c->version)));
			assert_string_equal(out, "");
		} else {
			if (!ok)
				fail_msg("'%s' should be valid", c->version);
			assert_string_equal(out, c->normal);
			assert_true(index_version_is_valid(c->version, strlen(c->version)));
		}
	}
}

static void
test_equality(void **state)
{
	(void)state;
	assert_true(index_version_equal("1.0", 3, "1.0.0", 5));
	assert_true(index_version_equal("1", 1, "1.0.0.0", 7));
	assert_true(index_version_equal("1.0.0-RC1", 9, "1rc1", 4));
	assert_true(index_version_equal("0!2.0", 5, "2", 1));
	assert_false(index_version_equal("1.0", 3, "1.0.1", 5));
	assert_false(index_version_equal("1.0", 3, "1.0+local", 9));
	assert_false(index_version_equal("1.0", 3, "1.0.post0", 9));
	assert_false(index_version_equal("10", 2, "1.0", 3));
	assert_false(index_version_equal("x", 1, "x", 1));
	/* Trailing zeros go only from the release part. */
	assert_true(index_version_equal("1.0.0a0", 7, "1a0", 3));
}

/* Each version is older than the next (packaging's own test ordering). */
static void
test_ordering(void **state)
{
	static const char *const ordered[] = {
		"1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456",
		"1.0b2", "1.0b2.post345.dev456", "1.0b2.post345", "1.0b2-346", "1.0c1.dev456",
		"1.0c1", "1.0rc2", "1.0c3", "1.0", "1.0+abc.5", "1.0+abc.7", "1.0+5", "1.0.post456.dev34",
		"1.0.post456", "1.0.15", "1.1.dev1", "1.2", "1.2+123abc", "1.2+1234.abc", "1.2+123456",
		"1.2.r32+123456", "1.2.rev33+123456", "1!1.0", "1!1.0.post1",
	};
	size_t count = sizeof(ordered) / sizeof(ordered[0]);

	(void)state;
	for (size_t i = 0; i < count; i++) {
		assert_int_equal(index_version_compare(ordered[i], ordered[i]), 0);
		for (size_t j = i + 1; j < count; j++) {
			if (index_version_compare(ordered[i], ordered[j]) >= 0)
				fail_msg("%s must sort before %s", ordered[i], ordered[j]);
			if (index_version_compare(ordered[j], ordered[i]) <= 0)
				fail_msg("%s must sort after %s", ordered[j], ordered[i]);
		}
	}
	assert_int_equal(index_version_compare("1.0", "1.0.0"), 0);
	assert_int_equal(index_version_compare("1.0RC1", "1.0rc1"), 0);
	assert_int_equal(index_version_compare("10", "9"), 1);
	assert_int_equal(index_version_compare("1.99999999999999999999999", "1.100000000000000000000000"),
			 -1);
	assert_true(index_version_compare("not a version", "0") < 0);
	assert_true(index_version_is_prerelease("1.0rc1"));
	assert_true(index_version_is_prerelease("1.0.dev1"));
	assert_false(index_version_is_prerelease("1.0.post1"));
}

static void
test_limits(void **state)
{
	char long_version[INDEX_VERSION_MAX + 2];
	char out[INDEX_VERSION_NORMAL_MAX];

	(void)state;
	memset(long_version, '1', sizeof(long_version));
	assert_true(index_version_normalize(long_version, INDEX_VERSION_MAX, false, out));
	assert_false(index_version_is_valid(long_version, INDEX_VERSION_MAX + 1));
	/* An embedded NUL is never part of a version. */
	assert_false(index_version_is_valid("1.0\0", 4));
	/* Huge numbers stay text: no overflow. */
	assert_true(index_version_normalize("99999999999999999999999.0", 25, true, out));
	assert_string_equal(out, "99999999999999999999999");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal_forms),
		cmocka_unit_test(test_equality),
		cmocka_unit_test(test_ordering),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
