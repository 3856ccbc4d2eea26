/*
 * test_index_filename.c - wheel and sdist filenames: safety, matching an
 * upload's project and version, and the candidate projects of a filename.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "index/index_filename.h"

static void
test_safe_names(void **state)
{
	static const char *const safe[] = {
		"acme_core-1.0-py3-none-any.whl", "Acme.Core-1.0.tar.gz", "a", "x-1!2+local.zip",
	};
	static const char *const unsafe[] = {
		"", ".", "..", ".hidden.whl", "../x.whl", "a/b.whl", "a\\b.whl", "a b.whl",
		"a\tb.whl", "a\nb.whl", "caf\xc3\xa9-1.0.tar.gz", "-x.whl", "_x.whl", "x;rm.whl",
		"x%2f.whl", "x?.whl",
	};
	char reason[INDEX_REASON_MAX];
	char too_long[INDEX_FILENAME_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(safe) / sizeof(safe[0]); i++)
		assert_true(index_filename_is_safe(safe[i], reason));
	for (size_t i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++) {
		if (index_filename_is_safe(unsafe[i], reason))
			fail_msg("'%s' should be unsafe", unsafe[i]);
		/* The reason never echoes the name. */
		assert_null(strchr(reason, '\n'));
	}
	memset(too_long, 'a', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';
	assert_false(index_filename_is_safe(too_long, reason));
	too_long[INDEX_FILENAME_MAX] = '\0';
	assert_true(index_filename_is_safe(too_long, reason));
}

struct check_case {
	const char *filename;
	const char *project;
	const char *version;
	bool ok;
	const char *reason_part;	/* expected in the reason when !ok */
};

static const struct check_case check_cases[] = {
	/* Wheels (PEP 427). */
	{ "acme_core-1.0.0-py3-none-any.whl", "Acme_Core", "1.0.0", true, NULL },
	{ "Acme_Core-1.0.0-py3-none-any.whl", "acme.core", "1.0", true, NULL },
	{ "acme.core-1.0-py3-none-any.whl", "acme-core", "1.0", true, NULL },
	{ "acme_core-1.0-1-py3-none-any.whl", "acme-core", "1.0", true, NULL },
	{ "acme_core-1.0_1-py3-none-any.whl", "acme-core", "1.0.post1", true, NULL },
	{ "acme_core-1.0+local.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
	  "acme-core", "1.0+local.1", true, NULL },
	{ "acme_core-1.0-py3-none-any.whl", "acme-tools", "1.0", false, "not a file of project" },
	{ "acme_core-1.0-py3-none-any.whl", "acme-core", "1.1", false, "not a file of version" },
	{ "acme-core-1.0-py3-none-any.whl", "acme-core", "1.0", false, "invalid wheel" },
	{ "acme_core-1.0-py3-any.whl", "acme-core", "1.0", false, "invalid wheel" },
	{ "acme_core-1.0-x1-py3-none-any.whl", "acme-core", "1.0", false, "bad part" },
	{ "acme_core-1.0--none-any.whl", "acme-core", "1.0", false, "bad part" },
	{ "acme_core-one-py3-none-any.whl", "acme-core", "1.0", false, "PEP 440" },
	{ "acme_core-1.0-py3-none-any.WHL", "acme-core", "1.0", false, "neither" },
	/* sdists: PEP 625 and legacy. */
	{ "acme_core-1.0.tar.gz", "Acme_Core", "1.0", true, NULL },
	{ "acme-core-1.0.tar.gz", "acme-core", "1.0", true, NULL },
	{ "Acme.Core-1.0.zip", "acme_core", "1.0.0", true, NULL },
	{ "foo-1-2.tar.gz", "foo", "1.post2", true, NULL },
	{ "foo-1-2.tar.gz", "foo-1", "2", true, NULL },
	{ "acme-core-1.0.tar.gz", "acme", "1.0", false, "not an sdist of project" },
	{ "acme-core-1.0.tar.gz", "acme-core", "2.0", false, "not a file of version" },
	{ "acme-core.tar.gz", "acme-core", "1.0", false, "not an sdist" },
	{ "acme-core-1.0.tar.bz2", "acme-core", "1.0", false, "neither" },
	{ "acme-core-1.0.exe", "acme-core", "1.0", false, "neither" },
	{ "acme-core-1.0.tar.gz", "acme core", "1.0", false, "invalid project" },
	{ "acme-core-1.0.tar.gz", "acme-core", "one", false, "invalid version" },
	{ "../acme-core-1.0.tar.gz", "acme-core", "1.0", false, "must start" },
};

/* Run cases; check the type of accepted ones when asked. */
static void
run_cases(const struct check_case *cases, size_t count, bool legacy, bool check_type)
{
	for (size_t i = 0; i < count; i++) {
		const struct check_case *c = &cases[i];
		char reason[INDEX_REASON_MAX] = "";
		enum index_dist_type type;
		bool ok = index_filename_check(c->filename, c->project, c->version, legacy, &type,
					       reason);

		if (ok != c->ok)
			fail_msg("%s %s %s: expected %s, got %s (%s)", c->filename, c->project,
				 c->version, c->ok ? "ok" : "refusal", ok ? "ok" : "refusal",
				 reason);
		if (!ok && strstr(reason, c->reason_part) == NULL)
			fail_msg("%s: reason '%s' lacks '%s'", c->filename, reason,
				 c->reason_part);
		if (ok && check_type)
			assert_int_equal(type, strstr(c->filename, ".whl") ? INDEX_DIST_WHEEL
									  : INDEX_DIST_SDIST);
	}
}

static void
test_check(void **state)
{
	(void)state;
	/* Every form, legacy sdists included (allow_legacy_sdist). */
	run_cases(check_cases, sizeof(check_cases) / sizeof(check_cases[0]), true, true);
}

/* Without allow_legacy_sdist: PEP 625 sdists only; wheels as before. */
static const struct check_case strict_cases[] = {
	{ "acme_core-1.0.tar.gz", "Acme_Core", "1.0", true, NULL },
	{ "acme_core-1.0rc1.tar.gz", "acme-core", "1.0-RC1", true, NULL },
	{ "acme_core_x-2.tar.gz", "acme.core-x", "2", true, NULL },
	{ "acme_core-1.0-py3-none-any.whl", "acme-core", "1.0", true, NULL },
	/* The same release, other spellings: refused with the name to use. */
	{ "acme-core-1.0.tar.gz", "acme-core", "1.0", false, "accepts acme_core-1.0.tar.gz" },
	{ "Acme_Core-1.0.tar.gz", "acme-core", "1.0", false, "accepts acme_core-1.0.tar.gz" },
	{ "acme_core-1.0-RC1.tar.gz", "acme-core", "1.0rc1", false,
	  "accepts acme_core-1.0rc1.tar.gz" },
	{ "acme_core-01.0.tar.gz", "acme-core", "1.0", false, "accepts acme_core-1.0.tar.gz" },
	{ "Acme.Core-1.0.zip", "acme_core", "1.0", false, ".tar.gz only" },
	{ "acme_core-1.0.zip", "acme_core", "1.0", false, ".tar.gz only" },
	/* Still another project's or version's file. */
	{ "acme_tools-1.0.tar.gz", "acme-core", "1.0", false, "not an sdist of project" },
	{ "acme_core-2.0.tar.gz", "acme-core", "1.0", false, "not a file of version" },
};

static void
test_check_pep625(void **state)
{
	(void)state;
	run_cases(strict_cases, sizeof(strict_cases) / sizeof(strict_cases[0]), false, false);
}

/* PEP 425 tag sets: non-empty tags of [A-Za-z0-9_] separated by '.'; a
 * Python tag starts with a letter. */
static void
test_wheel_tags(void **state)
{
	static const char *const good[] = {
		"acme_core-1.0-py3-none-any.whl",
		"acme_core-1.0-py2.py3-none-any.whl",
		"acme_core-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
		"acme_core-1.0-1-cp39-abi3-win_amd64.whl",
		"acme_core-1.0-pp310-pypy310_pp73-macosx_10_9_x86_64.whl",
	};
	static const char *const bad[] = {
		"acme_core-1.0-py3..py2-none-any.whl",
		"acme_core-1.0-.py3-none-any.whl",
		"acme_core-1.0-py3.-none-any.whl",
		"acme_core-1.0-py3-none-.whl",
		"acme_core-1.0-py3-none..any-x.whl",
		"acme_core-1.0-3py-none-any.whl",
		"acme_core-1.0-py3-no+ne-any.whl",
		"acme_core-1.0-py3-none-any!.whl",
	};
	char reason[INDEX_REASON_MAX];
	enum index_dist_type type;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!index_filename_check(good[i], "acme-core", "1.0", false, &type, reason))
			fail_msg("%s refused: %s", good[i], reason);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct index_filename_projects projects;

		if (index_filename_check(bad[i], "acme-core", "1.0", true, &type, reason))
			fail_msg("%s accepted", bad[i]);
		/* Not a wheel anywhere: forward-auth reads no project from it. */
		assert_false(index_filename_projects(bad[i], &projects));
	}
}

static void
expect_projects(const char *filename, size_t count, const char *const *names)
{
	struct index_filename_projects projects;
	bool ok = index_filename_projects(filename, &projects);

	if (count == 0) {
		assert_false(ok);
		assert_int_equal(projects.count, 0);
		return;
	}
	if (!ok)
		fail_msg("%s: no candidates", filename);
	assert_int_equal(projects.count, count);
	for (size_t i = 0; i < count; i++)
		assert_string_equal(projects.names[i], names[i]);
}

static void
test_version(void **state)
{
	char version[INDEX_VERSION_MAX + 1];

	(void)state;
	assert_true(index_filename_version("acme_core-1.0.0-py3-none-any.whl", "acme-core", version));
	assert_string_equal(version, "1.0.0");
	assert_true(index_filename_version("Acme.Core-1.0_rc1-1-py3-none-any.whl", "acme-core",
					   version));
	assert_string_equal(version, "1.0-rc1");
	assert_true(index_filename_version("acme_core-2.0.tar.gz", "acme-core", version));
	assert_string_equal(version, "2.0");
	assert_true(index_filename_version("acme-core-1-2.tar.gz", "acme-core", version));
	assert_string_equal(version, "1-2");
	assert_true(index_filename_version("acme-core-3.zip", "acme-core", version));
	assert_string_equal(version, "3");
	assert_false(index_filename_version("other-1.0.tar.gz", "acme-core", version));
	assert_string_equal(version, "");
	assert_false(index_filename_version("acme_core-1.0-py3-none-any.whl", "acme", version));
	assert_false(index_filename_version("../acme_core-1.0.tar.gz", "acme-core", version));
	assert_false(index_filename_version("acme_core-1.0.exe", "acme-core", version));
}

static void
test_projects(void **state)
{
	static const char *const acme_core[] = { "acme-core" };
	static const char *const foo_and_foo1[] = { "foo", "foo-1" };
	static const char *const a_b[] = { "a-b" };
	static const char *const three[] = { "x", "x-1", "x-1-1-dev" };

	(void)state;
	expect_projects("Acme_Core-1.0-py3-none-any.whl", 1, acme_core);
	expect_projects("acme_core-1.0.tar.gz", 1, acme_core);
	expect_projects("Acme.Core-1.0.zip", 1, acme_core);
	expect_projects("acme-core-1.0.tar.gz", 1, acme_core);
	/* Ambiguous: both readings are candidates. */
	expect_projects("foo-1-2.tar.gz", 2, foo_and_foo1);
	/* "a_b-1.0" and "a-b-1.0": the same project once normalised. */
	expect_projects("a_b-1.0.tar.gz", 1, a_b);
	expect_projects("acme-core.tar.gz", 0, NULL);
	expect_projects("acme-core-1.0-py3-none-any.whl", 0, NULL);
	expect_projects("README.txt", 0, NULL);
	expect_projects("../acme-core-1.0.tar.gz", 0, NULL);
	/* Three readings: 1-1-dev-1 (1.post1.dev1), 1-dev-1 and 1 are versions.
	 * A version holds few '-', so INDEX_CANDIDATES_MAX is never reached by
	 * a valid name; reaching it would refuse rather than truncate. */
	expect_projects("x-1-1-dev-1.tar.gz", 3, three);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_safe_names),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_check_pep625),
		cmocka_unit_test(test_wheel_tags),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_projects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
