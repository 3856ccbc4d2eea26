/*
 * test_index_backfill.c - records of files stored before this version
 * (no MD5, no BLAKE2b-256, a wheel without METADATA) are completed once:
 * digests, METADATA stored and announced; a wheel whose METADATA cannot
 * be read keeps being served, with the reason, and is not tried again; a
 * deleted file is left alone; a pass can be stopped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../support/storage.h"
#include "../support/wheel.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index/index_backfill.h"
#include "index/index_hash.h"
#include "index/index_storage.h"

static void
write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/acme-core/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* A distribution with a record as an older version wrote it. */
static void
old_file(const char *dir, const char *name, const char *data, size_t len)
{
	struct index_hash *hash = index_hash_new();
	struct index_digests digests;
	char record[512];

	index_hash_update(hash, data, len);
	index_hash_digests(hash, &digests);
	index_hash_free(hash);
	write_file(dir, name, data, len);
	snprintf(record, sizeof(record),
		 "{\"filename\": \"%s\", \"sha256\": \"%s\", \"size\": %zu, "
		 "\"uploader\": \"olivia\", \"uploaded_at\": 1700000000, \"yanked\": false}\n",
		 name, digests.sha256, len);
	{
		char record_name[256];

		snprintf(record_name, sizeof(record_name), "%s.meta.json", name);
		write_file(dir, record_name, record, strlen(record));
	}
}

static int
setup(void **state)
{
	struct storage_fixture *f = storage_fixture_new("backfill");
	char path[128];
	size_t len;
	char *wheel = test_wheel("acme-core", "1.0", NULL, &len);

	snprintf(path, sizeof(path), "%s/acme-core", f->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	old_file(f->dir, "acme_core-1.0-py3-none-any.whl", wheel, len);
	old_file(f->dir, "acme_core-1.0.tar.gz", "\x1f\x8b sdist", 8);
	/* A wheel without METADATA, stored before uploads were checked. */
	old_file(f->dir, "acme_core-0.9-py3-none-any.whl", "PK\3\4 not really", 16);
	free(wheel);
	storage_fixture_open(f);
	*state = f;
	return 0;
}

static const struct index_file *
file_named(const struct index_file_list *list, const char *name)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->files[i].filename, name) == 0)
			return &list->files[i];
	fail_msg("%s not listed", name);
	return NULL;
}

static void
test_completes_once(void **state)
{
	struct storage_fixture *f = *state;
	struct index_backfill_counts counts;
	struct index_download download;
	struct index_file_list list;
	const struct index_file *file;
	struct ga_err err;

	/* Before: listed, nothing announced. */
	assert_int_equal(index_storage_list_files(f->storage, "acme-core", &list, &err), GA_OK);
	assert_int_equal(list.count, 3);
	assert_string_equal(file_named(&list, "acme_core-1.0-py3-none-any.whl")->metadata_sha256, "");
	assert_string_equal(file_named(&list, "acme_core-1.0.tar.gz")->md5, "");
	index_file_list_free(&list);

	index_backfill_run(f->storage, NULL, NULL, &counts);
	assert_int_equal(counts.metadata, 1);
	assert_int_equal(counts.failed, 1);
	assert_int_equal(counts.digests, 3);
	assert_int_equal(index_storage_list_files(f->storage, "acme-core", &list, &err), GA_OK);
	file = file_named(&list, "acme_core-1.0-py3-none-any.whl");
	assert_int_equal(strlen(file->metadata_sha256), 64);
	assert_int_equal(strlen(file->md5), 32);
	assert_string_equal(file->uploader, "olivia");
	file = file_named(&list, "acme_core-1.0.tar.gz");
	assert_int_equal(strlen(file->blake2b_256), 64);
	assert_string_equal(file->metadata_sha256, "");
	assert_null(file->metadata_error);
	file = file_named(&list, "acme_core-0.9-py3-none-any.whl");
	assert_string_equal(file->metadata_sha256, "");
	assert_non_null(strstr(file->metadata_error, "not a valid zip archive"));
	index_file_list_free(&list);
	assert_int_equal(index_storage_open_metadata(f->storage, "acme-core",
						     "acme_core-1.0-py3-none-any.whl", &download,
						     &err),
			 GA_OK);
	close(download.fd);
	/* The broken wheel is still served. */
	assert_int_equal(index_storage_open_file(f->storage, "acme-core",
						 "acme_core-0.9-py3-none-any.whl", &download, &err),
			 GA_OK);
	close(download.fd);

	/* Once: a second pass finds nothing to do. */
	index_backfill_run(f->storage, NULL, NULL, &counts);
	assert_int_equal(counts.metadata + counts.failed + counts.digests, 0);
}

static bool
stop_at_once(void *context)
{
	(void)context;
	return true;
}

static void
test_stop_and_deleted(void **state)
{
	struct storage_fixture *f = *state;
	struct index_backfill_counts counts;
	struct index_backfill *thread;
	struct index_file_list list;
	struct ga_err err;

	index_backfill_run(f->storage, stop_at_once, NULL, &counts);
	assert_int_equal(counts.metadata + counts.failed + counts.digests, 0);
	/* A deleted name is not touched (and not listed). */
	write_file(f->dir, "acme_core-1.0.tar.gz.deleted", "{}", 2);
	thread = index_backfill_start(f->storage);
	assert_non_null(thread);
	index_backfill_stop(thread);
	index_backfill_run(f->storage, NULL, NULL, &counts);
	assert_int_equal(index_storage_list_files(f->storage, "acme-core", &list, &err), GA_OK);
	assert_int_equal(list.count, 2);
	index_file_list_free(&list);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_completes_once, setup,
						storage_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_stop_and_deleted, setup,
						storage_fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
