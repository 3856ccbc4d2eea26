/*
 * test_index_storage.c - the index's file storage: uploads become visible
 * only whole, no overwrite unless asked, concurrent writers, and the
 * clean-up of what a crash leaves behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../support/tempdir.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index/index_manage.h"
#include "index/index_storage.h"
#include "util/ga_log.h"
#include "util/ga_secret.h"

struct fixture {
	char dir[64];
	char storage_dir[96];
	struct index_storage *storage;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ga_err err;

	ga_log_setup(GA_LOG_SILENT, GA_LOG_LOGFMT);
	strcpy(f->dir, "/tmp/ghaccess-storage-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->storage_dir, sizeof(f->storage_dir), "%s/packages", f->dir);
	assert_int_equal(index_storage_open(f->storage_dir, INDEX_STORAGE_OWNER, &f->storage, &err),
			 GA_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	index_storage_close(f->storage);
	tempdir_remove(f->dir);
	free(f);
	return 0;
}

static void
reopen(struct fixture *f)
{
	struct ga_err err;

	index_storage_close(f->storage);
	assert_int_equal(index_storage_open(f->storage_dir, INDEX_STORAGE_OWNER, &f->storage, &err),
			 GA_OK);
}

/* Commit writer with record and metadata (NULL: none); *exists tells an
 * existing (or deleted) name. */
static enum ga_rc
store_writer(struct index_storage_writer *writer, const char *project, const char *filename,
	     const struct index_file *record, const char *metadata, bool overwrite, bool *exists)
{
	struct index_commit commit = {
		.record = record,
		.metadata = metadata,
		.metadata_len = metadata ? strlen(metadata) : 0,
		.overwrite = overwrite,
	};
	enum index_commit_conflict conflict;
	struct ga_err err;
	enum ga_rc rc = index_storage_writer_commit(writer, project, filename, &commit, &conflict,
						    &err);

	*exists = conflict != INDEX_COMMIT_NO_CONFLICT;
	return rc;
}

/* Store content as project/filename; returns the commit's result. */
static enum ga_rc
store(struct index_storage *storage, const char *project, const char *filename,
      const char *content, bool overwrite, bool *exists)
{
	struct index_storage_writer *writer;
	struct index_file record = { .uploader = "bob", .uploaded_at = 1700000000,
				     .requires_python = ">=3.8" };
	struct ga_err err;
	bool ignored;
	enum ga_rc rc;

	assert_int_equal(index_storage_writer_begin(storage, 1 << 20, &writer, &err), GA_OK);
	/* In two pieces, as a stream arrives. */
	assert_int_equal(index_storage_writer_write(writer, content, strlen(content) / 2, &err),
			 GA_OK);
	assert_int_equal(index_storage_writer_write(writer, content + strlen(content) / 2,
						    strlen(content) - strlen(content) / 2, &err),
			 GA_OK);
	rc = store_writer(writer, project, filename, &record, NULL, overwrite,
			  exists ? exists : &ignored);
	index_storage_writer_free(writer);
	return rc;
}

static void
sha256_hex(const char *content, char out[65])
{
	uint8_t digest[32];

	ga_sha256(content, strlen(content), digest);
	ga_hex(digest, 32, out);
}

static size_t
count_entries(const char *dir)
{
	char command[256];
	FILE *pipe;
	size_t count = 0;
	char line[512];

	snprintf(command, sizeof(command), "ls -A '%s'", dir);
	pipe = popen(command, "r");
	while (fgets(line, sizeof(line), pipe) != NULL)
		count++;
	pclose(pipe);
	return count;
}

static void
test_store_list_open(void **state)
{
	struct fixture *f = *state;
	struct index_file_list list;
	struct index_name_list names;
	struct index_download download;
	struct ga_err err;
	char expected[65];
	char read_back[64] = "";

	assert_int_equal(store(f->storage, "acme-core", "acme_core-1.0.tar.gz", "\x1f\x8bsdist", false,
			       NULL),
			 GA_OK);
	assert_int_equal(store(f->storage, "acme-core", "acme_core-1.0-py3-none-any.whl", "PK\3\4wheel",
			       false, NULL),
			 GA_OK);
	assert_int_equal(index_storage_list_files(f->storage, "acme-core", &list, &err), GA_OK);
	assert_int_equal(list.count, 2);
	/* Sorted by filename. */
	assert_string_equal(list.files[0].filename, "acme_core-1.0-py3-none-any.whl");
	assert_string_equal(list.files[1].filename, "acme_core-1.0.tar.gz");
	sha256_hex("\x1f\x8bsdist", expected);
	assert_string_equal(list.files[1].sha256, expected);
	assert_int_equal(list.files[1].size, 7);
	assert_string_equal(list.files[1].requires_python, ">=3.8");
	assert_string_equal(list.files[1].uploader, "bob");
	assert_int_equal(list.files[1].uploaded_at, 1700000000);
	assert_false(list.files[1].yanked);
	index_file_list_free(&list);

	assert_true(index_storage_has_project(f->storage, "acme-core"));
	assert_false(index_storage_has_project(f->storage, "acme-tools"));
	assert_int_equal(store(f->storage, "acme-tools", "acme_tools-2.0.tar.gz", "\x1f\x8b", false,
			       NULL),
			 GA_OK);
	assert_int_equal(index_storage_list_projects(f->storage, &names, &err), GA_OK);
	assert_int_equal(names.count, 2);
	assert_string_equal(names.names[0], "acme-core");
	assert_string_equal(names.names[1], "acme-tools");
	index_name_list_free(&names);

	assert_int_equal(index_storage_open_file(f->storage, "acme-core", "acme_core-1.0.tar.gz",
						 &download, &err),
			 GA_OK);
	assert_int_equal(download.size, 7);
	assert_string_equal(download.sha256, expected);
	assert_int_equal(read(download.fd, read_back, sizeof(read_back)), 7);
	assert_memory_equal(read_back, "\x1f\x8bsdist", 7);
	close(download.fd);

	assert_int_equal(index_storage_open_file(f->storage, "acme-core", "acme_core-9.tar.gz",
						 &download, &err),
			 GA_ENOTFOUND);
	assert_int_equal(download.fd, -1);
	assert_int_equal(index_storage_list_files(f->storage, "nothing", &list, &err),
			 GA_ENOTFOUND);
	/* Only temporary files were ever in the root: none is left. */
	assert_int_equal(count_entries(f->storage_dir), 2);
}

static void
test_paths_are_confined(void **state)
{
	struct fixture *f = *state;
	struct index_file_list list;
	struct index_download download;
	struct ga_err err;
	bool exists;

	assert_int_equal(index_storage_list_files(f->storage, "..", &list, &err), GA_ENOTFOUND);
	assert_int_equal(index_storage_list_files(f->storage, "Acme_Core", &list, &err),
			 GA_ENOTFOUND);
	assert_int_equal(index_storage_open_file(f->storage, "acme-core", "../x.whl", &download,
						 &err),
			 GA_ENOTFOUND);
	assert_int_equal(index_storage_open_file(f->storage, "acme-core", "x.whl.meta.json",
						 &download, &err),
			 GA_ENOTFOUND);
	assert_int_not_equal(store(f->storage, "../evil", "evil-1.0.tar.gz", "x", false, &exists),
			     GA_OK);
	assert_int_not_equal(store(f->storage, "evil", "../evil-1.0.tar.gz", "x", false, &exists),
			     GA_OK);
	assert_int_not_equal(store(f->storage, "evil", "evil-1.0.tar.gz.meta.json", "x", false,
				   &exists),
			     GA_OK);
	/* Nothing escaped, nothing was left behind. */
	assert_int_equal(count_entries(f->dir), 1);
	assert_int_equal(count_entries(f->storage_dir), 0);
}

static void
test_no_overwrite_unless_allowed(void **state)
{
	struct fixture *f = *state;
	struct index_file_list list;
	struct ga_err err;
	char expected[65];
	bool exists = false;

	assert_int_equal(store(f->storage, "acme-core", "acme_core-1.0.tar.gz", "first", false,
			       &exists),
			 GA_OK);
	assert_false(exists);
	assert_int_equal(store(f->storage, "acme-core", "acme_core-1.0.tar.gz", "second", false,
			       &exists),
			 GA_EINVAL);
	assert_true(exists);
	assert_int_equal(index_storage_list_files(f->storage, "acme-core", &list, &err), GA_OK);
	sha256_hex("first", expected);
	assert_string_equal(list.files[0].sha256, expected);
	index_file_list_free(&list);

	assert_int_equal(store(f->storage, "acme-core", "acme_core-1.0.tar.gz", "third", true,
			       &exists),
			 GA_OK);
	assert_false(exists);
	assert_int_equal(index_storage_list_files(f->storage, "acme-core", &list, &err), GA_OK);
	assert_int_equal(list.count, 1);
	sha256_hex("third", expected);
	assert_string_equal(list.files[0].sha256, expected);
	assert_int_equal(list.files[0].size, 5);
	index_file_list_free(&list);
	assert_int_equal(count_entries(f->storage_dir), 1);
}

static void
test_size_limit(void **state)
{
	struct fixture *f = *state;
	struct index_storage_writer *writer;
	struct index_digests digests;
	struct ga_err err;
	char expected[65];

	assert_int_equal(index_storage_writer_begin(f->storage, 10, &writer, &err), GA_OK);
	assert_int_equal(index_storage_writer_write(writer, "0123456789", 10, &err), GA_OK);
	assert_int_equal(index_storage_writer_write(writer, "x", 1, &err), GA_ELIMIT);
	assert_int_equal(index_storage_writer_size(writer), 10);
	index_storage_writer_digests(writer, &digests);
	sha256_hex("0123456789", expected);
	assert_string_equal(digests.sha256, expected);
	/* MD5 and BLAKE2b-256 of "0123456789", as Python's hashlib computes them. */
	assert_string_equal(digests.md5, "781e5e245d69b566979b86e28d23f2c7");
	assert_string_equal(digests.blake2b_256,
			    "7b6cb8d374484e221785288b035dc53fc9ddf000607f473fc2a3258d89a70398");
	assert_int_equal(count_entries(f->storage_dir), 1);
	index_storage_writer_free(writer);
	/* An abandoned upload leaves nothing. */
	assert_int_equal(count_entries(f->storage_dir), 0);
}

static void
write_file(const char *path, const char *content)
{
	FILE *file = fopen(path, "w");

	assert_non_null(file);
	fputs(content, file);
	fclose(file);
}

static void
test_crash_leftovers_are_cleaned(void **state)
{
	struct fixture *f = *state;
	struct index_file_list list;
	struct index_download download;
	struct ga_err err;
	char path[256];
	char expected[65];

	assert_int_equal(store(f->storage, "acme-core", "acme_core-1.0.tar.gz", "kept", false,
			       NULL),
			 GA_OK);
	/* What a kill -9 can leave: a partial upload in the root, a record
	 * being written, a record whose distribution was never renamed. */
	snprintf(path, sizeof(path), "%s/.upload-0123456789abcdef", f->storage_dir);
	write_file(path, "partial");
	snprintf(path, sizeof(path), "%s/acme-core/.upload-0123456789abcdef.meta", f->storage_dir);
	write_file(path, "{");
	snprintf(path, sizeof(path), "%s/acme-core/acme_core-2.0.tar.gz.meta.json", f->storage_dir);
	write_file(path, "{\"sha256\": \"00\"}");
	/* And a distribution an operator copied in, without a record. */
	snprintf(path, sizeof(path), "%s/acme-core/acme_core-0.5.zip", f->storage_dir);
	write_file(path, "copied in");

	/* While running, the copied file is absent. */
	assert_int_equal(index_storage_list_files(f->storage, "acme-core", &list, &err), GA_OK);
	assert_int_equal(list.count, 1);
	index_file_list_free(&list);
	assert_int_equal(index_storage_open_file(f->storage, "acme-core", "acme_core-0.5.zip",
						 &download, &err),
			 GA_ENOTFOUND);

	reopen(f);
	assert_int_equal(count_entries(f->storage_dir), 1);
	snprintf(path, sizeof(path), "%s/acme-core", f->storage_dir);
	/* kept + record, imported + record. */
	assert_int_equal(count_entries(path), 4);
	assert_int_equal(index_storage_list_files(f->storage, "acme-core", &list, &err), GA_OK);
	assert_int_equal(list.count, 2);
	assert_string_equal(list.files[0].filename, "acme_core-0.5.zip");
	sha256_hex("copied in", expected);
	assert_string_equal(list.files[0].sha256, expected);
	assert_string_equal(list.files[0].uploader, "");
	assert_null(list.files[0].requires_python);
	index_file_list_free(&list);
}

static void
test_tampered_file_is_not_served(void **state)
{
	struct fixture *f = *state;
	struct index_download download;
	struct ga_err err;
	char path[256];

	assert_int_equal(store(f->storage, "acme-core", "acme_core-1.0.tar.gz", "original", false,
			       NULL),
			 GA_OK);
	snprintf(path, sizeof(path), "%s/acme-core/acme_core-1.0.tar.gz", f->storage_dir);
	write_file(path, "changed behind our back");
	assert_int_equal(index_storage_open_file(f->storage, "acme-core", "acme_core-1.0.tar.gz",
						 &download, &err),
			 GA_EIO);
	assert_int_equal(download.fd, -1);
	/* A corrupt record hides its file. */
	snprintf(path, sizeof(path), "%s/acme-core/acme_core-1.0.tar.gz.meta.json",
		 f->storage_dir);
	write_file(path, "not json");
	assert_false(index_storage_has_project(f->storage, "acme-core") &&
		     index_storage_open_file(f->storage, "acme-core", "acme_core-1.0.tar.gz",
					     &download, &err) == GA_OK);
}

static void
test_yank(void **state)
{
	struct fixture *f = *state;
	struct index_manage_request yank = {
		.action = INDEX_MANAGE_YANK, .project = "acme-core",
		.target = "acme_core-1.0.tar.gz", .reason = "broken", .actor = "bob",
	};
	struct index_manage_result result;
	struct index_file_list list;
	struct ga_err err;

	assert_int_equal(store(f->storage, "acme-core", "acme_core-1.0.tar.gz", "x", false, NULL),
			 GA_OK);
	assert_int_equal(index_manage_apply(f->storage, &yank, &result, &err), GA_OK);
	index_manage_result_free(&result);
	assert_int_equal(index_storage_list_files(f->storage, "acme-core", &list, &err), GA_OK);
	assert_true(list.files[0].yanked);
	assert_string_equal(list.files[0].yanked_reason, "broken");
	assert_string_equal(list.files[0].yanked_by, "bob");
	assert_true(list.files[0].yanked_at > 0);
	assert_string_equal(list.files[0].uploader, "bob");
	index_file_list_free(&list);
	yank.action = INDEX_MANAGE_UNYANK;
	assert_int_equal(index_manage_apply(f->storage, &yank, &result, &err), GA_OK);
	index_manage_result_free(&result);
	assert_int_equal(index_storage_list_files(f->storage, "acme-core", &list, &err), GA_OK);
	assert_false(list.files[0].yanked);
	assert_null(list.files[0].yanked_reason);
	assert_null(list.files[0].yanked_by);
	index_file_list_free(&list);
	yank.target = "acme_core-2.0.tar.gz";
	assert_int_equal(index_manage_apply(f->storage, &yank, &result, &err), GA_ENOTFOUND);
	index_manage_result_free(&result);
}

#define RACERS 16

struct racer {
	struct index_storage *storage;
	pthread_barrier_t *barrier;
	char filename[64];
	char content[64];
	enum ga_rc rc;
	bool exists;
};

static void *
race(void *arg)
{
	struct racer *racer = arg;
	struct index_storage_writer *writer;
	struct index_file record = { .uploader = "bob" };
	struct ga_err err;

	if (index_storage_writer_begin(racer->storage, 1 << 20, &writer, &err) != GA_OK) {
		racer->rc = GA_EIO;
		return NULL;
	}
	index_storage_writer_write(writer, racer->content, strlen(racer->content), &err);
	pthread_barrier_wait(racer->barrier);
	racer->rc = store_writer(writer, "acme-core", racer->filename, &record, NULL, false,
				 &racer->exists);
	index_storage_writer_free(writer);
	return NULL;
}

static void
run_race(struct fixture *f, bool same_name, struct racer racers[RACERS])
{
	pthread_t threads[RACERS];
	pthread_barrier_t barrier;

	pthread_barrier_init(&barrier, NULL, RACERS);
	for (int i = 0; i < RACERS; i++) {
		racers[i] = (struct racer){ .storage = f->storage, .barrier = &barrier };
		snprintf(racers[i].filename, sizeof(racers[i].filename), "acme_core-1.%d.tar.gz",
			 same_name ? 0 : i);
		snprintf(racers[i].content, sizeof(racers[i].content), "content of racer %d", i);
		pthread_create(&threads[i], NULL, race, &racers[i]);
	}
	for (int i = 0; i < RACERS; i++)
		pthread_join(threads[i], NULL);
	pthread_barrier_destroy(&barrier);
}

static void
test_concurrent_same_filename_one_wins(void **state)
{
	struct fixture *f = *state;
	struct racer racers[RACERS];
	struct index_file_list list;
	struct ga_err err;
	int winners = 0;
	int winner = -1;
	char expected[65];

	run_race(f, true, racers);
	for (int i = 0; i < RACERS; i++) {
		if (racers[i].rc == GA_OK) {
			winners++;
			winner = i;
		} else {
			assert_true(racers[i].exists);
		}
	}
	assert_int_equal(winners, 1);
	/* The stored record describes the winner's bytes. */
	assert_int_equal(index_storage_list_files(f->storage, "acme-core", &list, &err), GA_OK);
	assert_int_equal(list.count, 1);
	sha256_hex(racers[winner].content, expected);
	assert_string_equal(list.files[0].sha256, expected);
	index_file_list_free(&list);
	assert_int_equal(count_entries(f->storage_dir), 1);
}

static void
test_concurrent_different_filenames_all_land(void **state)
{
	struct fixture *f = *state;
	struct racer racers[RACERS];
	struct index_file_list list;
	struct ga_err err;

	run_race(f, false, racers);
	for (int i = 0; i < RACERS; i++)
		assert_int_equal(racers[i].rc, GA_OK);
	assert_int_equal(index_storage_list_files(f->storage, "acme-core", &list, &err), GA_OK);
	assert_int_equal(list.count, RACERS);
	index_file_list_free(&list);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_list_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paths_are_confined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_overwrite_unless_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_leftovers_are_cleaned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_file_is_not_served, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yank, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_same_filename_one_wins, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_different_filenames_all_land,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
