/*
 * test_index_json.c - PyPI's JSON API documents (index_json.h): the
 * release chosen as "latest" (not yanked, final, newest, as warehouse),
 * a release by version, info from the METADATA, the files' fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "index/index_json.h"

#define NFILES 5

static struct index_file files[NFILES];
static struct index_file_list list = { files, NFILES };

static void
reset(void)
{
	static const char *const names[NFILES] = {
		"acme_core-1.0-py3-none-any.whl", "acme_core-1.0.tar.gz",
		"acme_core-2.0-cp312-cp312-linux_x86_64.whl", "acme_core-3.0b1.tar.gz",
		"acme_core-1.0.0.tar.gz",
	};

	memset(files, 0, sizeof(files));
	for (int i = 0; i < NFILES; i++) {
		files[i].filename = (char *)names[i];
		memset(files[i].sha256, 'a' + i, 64);
		files[i].size = 100 + i;
		files[i].uploaded_at = 1767225600 + i;
	}
	memset(files[0].md5, '1', 32);
	memset(files[0].blake2b_256, '2', 64);
	memset(files[0].metadata_sha256, 'f', 64);
	files[0].requires_python = ">=3.9";
}

static void
pick(const char *version, const char *expected, long expected_file)
{
	char key[INDEX_VERSION_NORMAL_MAX];
	long file;
	bool found = index_json_pick_release("acme-core", &list, version, key, &file);

	if (expected == NULL) {
		assert_false(found);
		return;
	}
	assert_true(found);
	assert_string_equal(key, expected);
	assert_int_equal(file, expected_file);
}

static void
test_pick_release(void **state)
{
	(void)state;
	reset();
	/* Finals before pre-releases: 2.0, not 3.0b1. */
	pick(NULL, "2.0", -1);
	files[2].yanked = true;
	/* A yanked release comes after every other: 1.0.0, then 1.0. */
	pick(NULL, "1.0.0", -1);
	files[4].yanked = true;
	pick(NULL, "1.0", 0);
	files[0].yanked = files[1].yanked = true;
	/* Only pre-releases are not yanked. */
	pick(NULL, "3.0b1", -1);
	files[3].yanked = true;
	/* All yanked: the newest final. */
	pick(NULL, "2.0", -1);
	reset();
	pick("1.0", "1.0", 0);
	pick("1.0.0", "1.0.0", -1);
	pick("1.00", "1.0", 0);		/* the normal form first */
	pick("3.0.0b1", "3.0b1", -1);	/* else PEP 440 equality */
	pick("4.0", NULL, -1);
	pick("not a version", NULL, -1);
}

static json_t *
render(const char *release, bool all, const char *metadata)
{
	struct index_json_page page = {
		.project = "acme-core", .files = &list, .release = release, .all_releases = all,
		.metadata = metadata, .metadata_len = metadata ? strlen(metadata) : 0,
		.project_url = "https://ghaccess.example/project/acme-core/",
		.organization = "acme",
	};
	struct ga_buf out;
	json_t *document;

	ga_buf_init(&out, 0);
	assert_true(index_json_render(&page, &out));
	document = json_loads(ga_buf_cstr(&out), 0, NULL);
	assert_non_null(document);
	ga_buf_free(&out);
	return document;
}

static const char *
text(json_t *object, const char *key)
{
	json_t *value = json_object_get(object, key);

	return json_is_string(value) ? json_string_value(value) : NULL;
}

static void
test_document(void **state)
{
	static const char metadata[] =
		"Metadata-Version: 2.1\nName: Acme.Core\nVersion: 1.0\nSummary: The core\n"
		"Home-page: https://home.example\nProject-URL: Source, https://src.example\n"
		"Project-URL: no comma\nClassifier: A :: B\nClassifier: C :: D\n"
		"Requires-Dist: acme-tools>=1\nRequires-Dist: extra ; extra == \"x\"\n"
		"Provides-Extra: x\nAuthor: Bob\nLicense: MIT\n\nLong *description*.\n";
	json_t *document, *info, *urls, *file, *releases;

	(void)state;
	reset();
	document = render("1.0", true, metadata);
	info = json_object_get(document, "info");
	assert_string_equal(text(info, "name"), "Acme.Core");
	assert_string_equal(text(info, "version"), "1.0");
	assert_string_equal(text(info, "summary"), "The core");
	assert_string_equal(text(info, "description"), "Long *description*.\n");
	assert_string_equal(text(info, "author"), "Bob");
	assert_string_equal(text(info, "license"), "MIT");
	assert_string_equal(text(info, "requires_python"), ">=3.9");
	assert_int_equal(json_array_size(json_object_get(info, "requires_dist")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(info, "requires_dist"),
							     1)),
			    "extra ; extra == \"x\"");
	assert_int_equal(json_array_size(json_object_get(info, "classifiers")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(info, "provides_extra"),
							     0)),
			    "x");
	urls = json_object_get(info, "project_urls");
	assert_string_equal(text(urls, "Homepage"), "https://home.example");
	assert_string_equal(text(urls, "Source"), "https://src.example");
	assert_int_equal(json_object_size(urls), 2);
	assert_true(json_is_null(json_object_get(info, "maintainer")));
	assert_true(json_is_false(json_object_get(info, "yanked")));
	assert_string_equal(text(info, "project_url"), "https://ghaccess.example/project/acme-core/");
	/* Every release, newest first; files under their normal form. */
	releases = json_object_get(document, "releases");
	assert_int_equal(json_object_size(releases), 4);
	assert_string_equal(json_object_iter_key(json_object_iter(releases)), "3.0b1");
	assert_int_equal(json_array_size(json_object_get(releases, "1.0")), 2);
	urls = json_object_get(document, "urls");
	assert_int_equal(json_array_size(urls), 2);
	file = json_array_get(urls, 0);
	assert_string_equal(text(file, "filename"), "acme_core-1.0-py3-none-any.whl");
	assert_string_equal(text(file, "packagetype"), "bdist_wheel");
	assert_string_equal(text(file, "python_version"), "py3");
	assert_string_equal(text(json_object_get(file, "digests"), "md5"),
			    "11111111111111111111111111111111");
	assert_int_equal(strlen(text(json_object_get(file, "digests"), "blake2b_256")), 64);
	assert_int_equal(strlen(text(json_object_get(file, "core-metadata"), "sha256")), 64);
	assert_int_equal(json_integer_value(json_object_get(file, "size")), 100);
	assert_string_equal(text(file, "upload_time"), "2026-01-01T00:00:00");
	assert_string_equal(text(file, "upload_time_iso_8601"), "2026-01-01T00:00:00Z");
	assert_string_equal(text(file, "url"), "../../packages/acme-core/acme_core-1.0-py3-none-any.whl");
	file = json_array_get(urls, 1);
	assert_string_equal(text(file, "packagetype"), "sdist");
	assert_string_equal(text(file, "python_version"), "source");
	assert_true(json_is_null(json_object_get(json_object_get(file, "digests"), "md5")));
	assert_true(json_is_false(json_object_get(file, "core-metadata")));
	assert_string_equal(text(json_object_get(document, "ownership"), "organization"), "acme");
	json_decref(document);

	/* One release: no "releases"; URLs one level deeper; a yanked
	 * release without METADATA. */
	files[2].yanked = true;
	files[2].yanked_reason = "broken";
	document = render("2.0", false, NULL);
	assert_null(json_object_get(document, "releases"));
	info = json_object_get(document, "info");
	assert_string_equal(text(info, "name"), "acme-core");
	assert_true(json_is_null(json_object_get(info, "summary")));
	assert_true(json_is_true(json_object_get(info, "yanked")));
	assert_string_equal(text(info, "yanked_reason"), "broken");
	file = json_array_get(json_object_get(document, "urls"), 0);
	assert_string_equal(text(file, "python_version"), "cp312");
	assert_string_equal(text(file, "url"),
			    "../../../packages/acme-core/acme_core-2.0-cp312-cp312-linux_x86_64.whl");
	assert_string_equal(text(file, "yanked_reason"), "broken");
	json_decref(document);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick_release),
		cmocka_unit_test(test_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
