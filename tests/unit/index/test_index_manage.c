/*
 * test_index_manage.c - yank, un-yank and delete (index_manage.h): a
 * release is every file of its version (PEP 440 equal), a file is one; a
 * deletion leaves a .deleted file that keeps the name from being uploaded
 * or imported again; a deletion a crash interrupted is finished at the next
 * start; targets and reasons are checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../support/storage.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index/index_manage.h"
#include "index/index_storage.h"

static int
setup(void **state)
{
	struct storage_fixture *f = storage_fixture_new("manage");

	storage_fixture_open(f);
	*state = f;
	return 0;
}

static enum ga_rc
store(struct storage_fixture *f, const char *filename, const char *content, bool *deleted)
{
	struct index_file record = { .uploader = "bob", .uploaded_at = 1700000000 };
	struct index_commit commit = { .record = &record };
	struct index_storage_writer *writer;
	enum index_commit_conflict conflict;
	struct ga_err err;
	enum ga_rc rc;

	assert_int_equal(index_storage_writer_begin(f->storage, 1 << 20, &writer, &err), GA_OK);
	assert_int_equal(index_storage_writer_write(writer, content, strlen(content), &err), GA_OK);
	rc = index_storage_writer_commit(writer, "acme-core", filename, &commit, &conflict, &err);
	index_storage_writer_free(writer);
	if (deleted != NULL)
		*deleted = conflict == INDEX_COMMIT_DELETED;
	return rc;
}

static enum ga_rc
apply(struct storage_fixture *f, enum index_manage_action action, const char *target,
      const char *reason, struct index_manage_result *result)
{
	struct index_manage_request request = {
		.action = action, .project = "acme-core", .target = target, .reason = reason,
		.actor = "bob",
	};
	struct ga_err err;

	return index_manage_apply(f->storage, &request, result, &err);
}

static bool
yanked(struct storage_fixture *f, const char *filename, const char **reason)
{
	static char copy[INDEX_MANAGE_REASON_MAX + 1];
	struct index_file_list list;
	struct ga_err err;
	bool found = false;

	assert_int_equal(index_storage_list_files(f->storage, "acme-core", &list, &err), GA_OK);
	for (size_t i = 0; i < list.count; i++) {
		if (strcmp(list.files[i].filename, filename) != 0)
			continue;
		found = list.files[i].yanked;
		snprintf(copy, sizeof(copy), "%s",
			 list.files[i].yanked_reason ? list.files[i].yanked_reason : "");
	}
	index_file_list_free(&list);
	if (reason != NULL)
		*reason = copy;
	return found;
}

static void
seed(struct storage_fixture *f)
{
	assert_int_equal(store(f, "acme_core-1.0-py3-none-any.whl", "w10", NULL), GA_OK);
	assert_int_equal(store(f, "acme_core-1.0.tar.gz", "s10", NULL), GA_OK);
	assert_int_equal(store(f, "acme_core-1.0.0-py2-none-any.whl", "w100", NULL), GA_OK);
	assert_int_equal(store(f, "acme_core-2.0.tar.gz", "s20", NULL), GA_OK);
}

/* A release is every file of the version, PEP 440 equal ("1.0" is "1.0.0"). */
static void
test_yank_release_and_file(void **state)
{
	struct storage_fixture *f = *state;
	struct index_manage_result result;
	const char *reason;

	seed(f);
	assert_int_equal(apply(f, INDEX_MANAGE_YANK, "1.0", "broken build", &result), GA_OK);
	assert_int_equal(result.count, 3);
	assert_int_equal(result.changed, 3);
	assert_string_equal(result.files[0], "acme_core-1.0-py3-none-any.whl");
	index_manage_result_free(&result);
	assert_true(yanked(f, "acme_core-1.0.tar.gz", &reason));
	assert_string_equal(reason, "broken build");
	assert_true(yanked(f, "acme_core-1.0.0-py2-none-any.whl", NULL));
	assert_false(yanked(f, "acme_core-2.0.tar.gz", NULL));
	/* The same yank again changes nothing; another reason replaces it. */
	assert_int_equal(apply(f, INDEX_MANAGE_YANK, "1.0.0", "broken build", &result), GA_OK);
	assert_int_equal(result.changed, 0);
	index_manage_result_free(&result);
	assert_int_equal(apply(f, INDEX_MANAGE_YANK, "acme_core-1.0.tar.gz", "worse", &result),
			 GA_OK);
	assert_int_equal(result.count, 1);
	index_manage_result_free(&result);
	assert_true(yanked(f, "acme_core-1.0.tar.gz", &reason));
	assert_string_equal(reason, "worse");
	/* Un-yank one file, then the release. */
	assert_int_equal(apply(f, INDEX_MANAGE_UNYANK, "acme_core-1.0.tar.gz", NULL, &result), GA_OK);
	index_manage_result_free(&result);
	assert_false(yanked(f, "acme_core-1.0.tar.gz", NULL));
	assert_true(yanked(f, "acme_core-1.0-py3-none-any.whl", NULL));
	assert_int_equal(apply(f, INDEX_MANAGE_UNYANK, "1.0", NULL, &result), GA_OK);
	assert_int_equal(result.changed, 2);
	index_manage_result_free(&result);
	assert_false(yanked(f, "acme_core-1.0-py3-none-any.whl", NULL));
}

static void
test_targets_and_reasons(void **state)
{
	static const char *const invalid[] = {
		"one", "", "../acme_core-1.0.tar.gz", "acme_tools-1.0.tar.gz",
		"acme_core-1.0.tar.gz/x", "1.0/../2.0",
	};
	struct storage_fixture *f = *state;
	struct index_manage_result result;
	char why[INDEX_REASON_MAX];
	char long_reason[INDEX_MANAGE_REASON_MAX + 2];

	seed(f);
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		if (apply(f, INDEX_MANAGE_YANK, invalid[i], "x", &result) != GA_EINVAL)
			fail_msg("target '%s' accepted", invalid[i]);
		index_manage_result_free(&result);
	}
	assert_int_equal(apply(f, INDEX_MANAGE_YANK, "3.0", "x", &result), GA_ENOTFOUND);
	index_manage_result_free(&result);
	assert_int_equal(apply(f, INDEX_MANAGE_DELETE, "acme_core-9.0.tar.gz", "x", &result),
			 GA_ENOTFOUND);
	index_manage_result_free(&result);
	/* Reasons: UTF-8, no control characters, at most 512 bytes. */
	assert_true(index_manage_reason_valid("use 2.0 instead — CVE-2026-1", why));
	assert_false(index_manage_reason_valid("a\nb", why));
	assert_false(index_manage_reason_valid("\xff", why));
	memset(long_reason, 'a', sizeof(long_reason) - 1);
	long_reason[sizeof(long_reason) - 1] = '\0';
	assert_false(index_manage_reason_valid(long_reason, why));
	assert_int_equal(apply(f, INDEX_MANAGE_YANK, "1.0", "a\r\nX-Injected: 1", &result), GA_EINVAL);
	index_manage_result_free(&result);
	assert_false(yanked(f, "acme_core-1.0.tar.gz", NULL));
}

static bool
exists(struct storage_fixture *f, const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/acme-core/%s", f->dir, name);
	return stat(path, &st) == 0;
}

/* Deleted names never come back: not by upload, not by an import. */
static void
test_delete_for_good(void **state)
{
	struct storage_fixture *f = *state;
	struct index_manage_result result;
	struct index_file_list list;
	struct index_download download;
	struct ga_err err;
	bool deleted;
	char path[256];
	int fd;

	seed(f);
	assert_int_equal(apply(f, INDEX_MANAGE_DELETE, "1.0", "leaked a key", &result), GA_OK);
	assert_int_equal(result.count, 3);
	index_manage_result_free(&result);
	assert_true(exists(f, "acme_core-1.0.tar.gz.deleted"));
	assert_false(exists(f, "acme_core-1.0.tar.gz"));
	assert_false(exists(f, "acme_core-1.0.tar.gz.meta.json"));
	assert_int_equal(index_storage_list_files(f->storage, "acme-core", &list, &err), GA_OK);
	assert_int_equal(list.count, 1);
	assert_string_equal(list.files[0].filename, "acme_core-2.0.tar.gz");
	index_file_list_free(&list);
	assert_int_equal(store(f, "acme_core-1.0.tar.gz", "other bytes", &deleted), GA_EINVAL);
	assert_true(deleted);
	/* An operator copies the file back in and restarts: not imported. */
	snprintf(path, sizeof(path), "%s/acme-core/acme_core-1.0.tar.gz", f->dir);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "copied", 6), 6);
	close(fd);
	storage_fixture_open(f);
	assert_false(exists(f, "acme_core-1.0.tar.gz"));
	assert_int_equal(index_storage_open_file(f->storage, "acme-core", "acme_core-1.0.tar.gz",
						 &download, &err),
			 GA_ENOTFOUND);
	/* Deleting the last file: the project is gone from the list. */
	assert_int_equal(apply(f, INDEX_MANAGE_DELETE, "acme_core-2.0.tar.gz", NULL, &result), GA_OK);
	index_manage_result_free(&result);
	assert_false(index_storage_has_project(f->storage, "acme-core"));
}

/* kill -9 between the .deleted file and the removals: the file is already
 * invisible, and the next start finishes the deletion. */
static void
test_interrupted_delete(void **state)
{
	struct storage_fixture *f = *state;
	struct index_file_list list;
	struct ga_err err;
	char path[256];
	int fd;

	seed(f);
	snprintf(path, sizeof(path), "%s/acme-core/acme_core-2.0.tar.gz.deleted", f->dir);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(index_storage_list_files(f->storage, "acme-core", &list, &err), GA_OK);
	for (size_t i = 0; i < list.count; i++)
		assert_string_not_equal(list.files[i].filename, "acme_core-2.0.tar.gz");
	index_file_list_free(&list);
	/* A second user (the CLI) never cleans. */
	{
		struct index_storage *shared;

		assert_int_equal(index_storage_open(f->dir, INDEX_STORAGE_SHARED, &shared, &err),
				 GA_OK);
		assert_true(exists(f, "acme_core-2.0.tar.gz"));
		index_storage_close(shared);
	}
	storage_fixture_open(f);
	assert_false(exists(f, "acme_core-2.0.tar.gz"));
	assert_false(exists(f, "acme_core-2.0.tar.gz.meta.json"));
	assert_true(exists(f, "acme_core-2.0.tar.gz.deleted"));
}

int
main(void)
{
#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, storage_fixture_teardown)
	const struct CMUnitTest tests[] = {
		TEST(test_yank_release_and_file),
		TEST(test_targets_and_reasons),
		TEST(test_delete_for_good),
		TEST(test_interrupted_delete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
