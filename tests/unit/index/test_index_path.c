/*
 * test_index_path.c - classification of request paths for forward-auth,
 * table-driven; every tricky spelling must end as INVALID or name the
 * project the backend will serve.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "index/index_path.h"

struct path_case {
	const char *target;
	enum index_path_kind kind;
	const char *name;	/* PROJECT: the key; FILE: the first candidate */
};

static const struct path_case path_cases[] = {
	{ "/simple/", INDEX_PATH_ROOT, NULL },
	{ "/pypi/simple/", INDEX_PATH_ROOT, NULL },
	{ "/simple/index.html", INDEX_PATH_ROOT, NULL },
	{ "/simple/?x=1", INDEX_PATH_ROOT, NULL },
	{ "/simple/acme-core/", INDEX_PATH_PROJECT, "acme-core" },
	{ "/simple/Acme_Core/", INDEX_PATH_PROJECT, "acme-core" },
	{ "/simple/acme.core", INDEX_PATH_PROJECT, "acme-core" },
	{ "/simple/acme-core/index.html", INDEX_PATH_PROJECT, "acme-core" },
	{ "/pypi/simple/acme%2Dcore/", INDEX_PATH_PROJECT, "acme-core" },
	{ "/simple/acme-core/?q#f", INDEX_PATH_PROJECT, "acme-core" },
	{ "/packages/acme-core/acme_core-1.0-py3-none-any.whl", INDEX_PATH_FILE, "acme-core" },
	{ "/simple/acme-core/acme_core-1.0.tar.gz#sha256=00", INDEX_PATH_FILE, "acme-core" },
	{ "/files/acme_tools-1.0-py3-none-any.whl.metadata", INDEX_PATH_FILE, "acme-tools" },
	{ "/files/Acme.Tools-1.0.zip.asc", INDEX_PATH_FILE, "acme-tools" },
	{ "/x/acme_core-1.0%2Blocal-py3-none-any.whl", INDEX_PATH_FILE, "acme-core" },
	/* The filename decides, not the directory. */
	{ "/simple/acme-tools/acme_core-1.0.tar.gz", INDEX_PATH_FILE, "acme-core" },
	{ "/", INDEX_PATH_OTHER, NULL },
	{ "/simple", INDEX_PATH_OTHER, NULL },
	{ "/packages/", INDEX_PATH_OTHER, NULL },
	{ "/packages/acme-core/", INDEX_PATH_OTHER, NULL },
	{ "/packages/acme-core/README.txt", INDEX_PATH_OTHER, NULL },
	{ "/simple/a%20b/", INDEX_PATH_INVALID, NULL },
	{ "/simple/not valid/", INDEX_PATH_INVALID, NULL },
	{ "/simple/-x-/", INDEX_PATH_OTHER, NULL },
	{ "", INDEX_PATH_INVALID, NULL },
	{ "simple/acme-core/", INDEX_PATH_INVALID, NULL },
	{ "http://host/simple/acme-core/", INDEX_PATH_INVALID, NULL },
	{ "/simple/../acme-core/", INDEX_PATH_INVALID, NULL },
	{ "/simple/%2e%2e/acme-core/", INDEX_PATH_INVALID, NULL },
	{ "/simple/./acme-core/", INDEX_PATH_INVALID, NULL },
	{ "/simple/acme-core/..", INDEX_PATH_INVALID, NULL },
	{ "/simple//acme-core/", INDEX_PATH_INVALID, NULL },
	{ "/simple/acme-core%2Fx/", INDEX_PATH_INVALID, NULL },
	{ "/simple/acme-core%2fx/", INDEX_PATH_INVALID, NULL },
	{ "/simple/acme%00core/", INDEX_PATH_INVALID, NULL },
	{ "/simple/acme%zzcore/", INDEX_PATH_INVALID, NULL },
	{ "/simple/acme-core%", INDEX_PATH_INVALID, NULL },
	{ "/simple/acme-core%4", INDEX_PATH_INVALID, NULL },
	{ "/simple/acme\\core/", INDEX_PATH_INVALID, NULL },
	{ "/simple/acme%5Ccore/", INDEX_PATH_INVALID, NULL },
	{ "/simple/caf%C3%A9/", INDEX_PATH_INVALID, NULL },
};

static void
test_classify(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		const struct path_case *c = &path_cases[i];
		struct index_path path;
		enum index_path_kind kind = index_path_classify(c->target, &path);

		if (kind != c->kind)
			fail_msg("%s: kind %d, expected %d", c->target, kind, c->kind);
		if (kind == INDEX_PATH_PROJECT)
			assert_string_equal(path.project, c->name);
		if (kind == INDEX_PATH_FILE) {
			assert_true(path.projects.count >= 1);
			assert_string_equal(path.projects.names[0], c->name);
		}
	}
}

static void
test_ambiguous_file_has_every_reading(void **state)
{
	struct index_path path;

	(void)state;
	assert_int_equal(index_path_classify("/packages/foo-1-2.tar.gz", &path), INDEX_PATH_FILE);
	assert_int_equal(path.projects.count, 2);
	assert_string_equal(path.projects.names[0], "foo");
	assert_string_equal(path.projects.names[1], "foo-1");
}

static void
test_long_target(void **state)
{
	char target[INDEX_PATH_MAX + 16];
	struct index_path path;

	(void)state;
	memset(target, 'a', sizeof(target) - 1);
	target[0] = '/';
	target[sizeof(target) - 1] = '\0';
	assert_int_equal(index_path_classify(target, &path), INDEX_PATH_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_ambiguous_file_has_every_reading),
		cmocka_unit_test(test_long_target),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
