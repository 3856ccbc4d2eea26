/*
 * test_index_wheel.c - a wheel's METADATA through libzip (index_wheel.h):
 * a good wheel; the memory bound on the zip directory (an archive whose
 * central directory is 18 MiB of extra fields); archives two readers would
 * read differently (a local header that disagrees with the central
 * directory, bytes after the end record); METADATA whose size lies.
 * The upload tests (test_index_upload.c) cover the other refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../support/wheel.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "index/index_metadata.h"
#include "index/index_wheel.h"

static const char wheel_name[] = "acme_core-1.0.0-py3-none-any.whl";

/* bytes in a file, open for reading (the file is already unlinked). */
static int
as_fd(const char *bytes, size_t len)
{
	char path[] = "/tmp/ghaccess-wheel-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	return fd;
}

static enum index_wheel_result
read_wheel(const char *bytes, size_t len, struct ga_buf *metadata, char reason[INDEX_REASON_MAX])
{
	int fd = as_fd(bytes, len);
	enum index_wheel_result result = index_wheel_metadata(fd, wheel_name, metadata, reason);

	close(fd);
	return result;
}

static void
test_good_wheel(void **state)
{
	size_t len;
	char *bytes = test_wheel("Acme.Core", "1.0.0", NULL, &len);
	char *expected = test_wheel_metadata("Acme.Core", "1.0.0");
	char reason[INDEX_REASON_MAX];
	struct ga_buf metadata;

	(void)state;
	ga_buf_init(&metadata, 0);
	assert_int_equal(read_wheel(bytes, len, &metadata, reason), INDEX_WHEEL_OK);
	assert_int_equal(metadata.len, strlen(expected));
	assert_memory_equal(metadata.data, expected, metadata.len);
	ga_buf_free(&metadata);
	free(bytes);
	free(expected);
}

/* 300 members with 60,000 bytes of extra fields each in the central
 * directory: libzip would keep ~8 bytes per byte of it. */
static void
test_directory_bound(void **state)
{
	char path[] = "/tmp/ghaccess-big-XXXXXX";
	static char extra[60000];
	char *metadata = test_wheel_metadata("acme-core", "1.0.0");
	char reason[INDEX_REASON_MAX];
	struct ga_buf out;
	zip_t *archive;
	int error, fd;

	(void)state;
	close(mkstemp(path));
	archive = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &error);
	assert_non_null(archive);
	zip_file_add(archive, "acme_core-1.0.0.dist-info/METADATA",
		     zip_source_buffer(archive, metadata, strlen(metadata), 0), 0);
	for (int i = 0; i < 300; i++) {
		char name[32];
		zip_int64_t index;

		snprintf(name, sizeof(name), "acme_core/f%d", i);
		index = zip_file_add(archive, name, zip_source_buffer(archive, "", 0, 0), 0);
		assert_true(index >= 0);
		assert_int_equal(zip_file_extra_field_set(archive, (zip_uint64_t)index, 0xcafe,
							  ZIP_EXTRA_FIELD_NEW,
							  (const zip_uint8_t *)extra,
							  sizeof(extra), ZIP_FL_CENTRAL),
				 0);
	}
	assert_int_equal(zip_close(archive), 0);
	fd = open(path, O_RDONLY);
	unlink(path);
	ga_buf_init(&out, 0);
	assert_int_equal(index_wheel_metadata(fd, wheel_name, &out, reason), INDEX_WHEEL_INVALID);
	close(fd);
	assert_non_null(strstr(reason, "zip directory is larger than the index reads"));
	assert_int_equal(out.len, 0);
	ga_buf_free(&out);
	free(metadata);
}

/* The byte offset of the first occurrence of needle (after from). */
static size_t
find(const char *bytes, size_t len, const char *needle, size_t from)
{
	size_t needle_len = strlen(needle);

	for (size_t i = from; i + needle_len <= len; i++)
		if (memcmp(bytes + i, needle, needle_len) == 0)
			return i;
	fail_msg("%s not found", needle);
	return 0;
}

/* Two readers must see the same files: a local header that names another
 * file than the central directory, or bytes after the end record, make
 * the archive inconsistent (ZIP_CHECKCONS). */
static void
test_inconsistent_archives(void **state)
{
	size_t len;
	char *bytes = test_wheel("acme-core", "1.0.0", NULL, &len);
	char *longer = malloc(len + 16);
	char reason[INDEX_REASON_MAX];
	struct ga_buf out;
	size_t at;

	(void)state;
	ga_buf_init(&out, 0);
	memcpy(longer, bytes, len);
	memcpy(longer + len, "trailing garbage", 16);
	assert_int_equal(read_wheel(longer, len + 16, &out, reason), INDEX_WHEEL_INVALID);
	assert_non_null(strstr(reason, "not a valid zip archive"));
	/* The METADATA's name in its local header (the first occurrence). */
	at = find(bytes, len, "dist-info/METADATA", 0);
	bytes[at + strlen("dist-info/")] = 'X';
	assert_int_equal(read_wheel(bytes, len, &out, reason), INDEX_WHEEL_INVALID);
	assert_non_null(strstr(reason, "not a valid zip archive"));
	ga_buf_free(&out);
	free(longer);
	free(bytes);
}

/* A METADATA whose headers say it is small, and that inflates to 8 MiB:
 * never more than the limit is inflated. */
static void
test_lying_sizes(void **state)
{
	size_t size = 8 * 1024 * 1024;
	char *text = malloc(size + 1);
	int head = snprintf(text, size, "Name: acme-core\nVersion: 1.0.0\n\n");
	char reason[INDEX_REASON_MAX];
	struct ga_buf out;
	size_t len, at;
	char *bytes;

	(void)state;
	memset(text + head, 'A', size - (size_t)head);
	text[size] = '\0';
	bytes = test_wheel("acme-core", "1.0.0", text, &len);
	/* Both headers: uncompressed size (local +22, central +24) := 100. */
	at = find(bytes, len, "PK\3\4", 0);
	while (memcmp(bytes + at + 30, "acme_core-1.0.0.dist-info/METADATA", 34) != 0)
		at = find(bytes, len, "PK\3\4", at + 4);
	memcpy(bytes + at + 22, "\x64\0\0\0", 4);
	at = find(bytes, len, "PK\1\2", 0);
	while (memcmp(bytes + at + 46, "acme_core-1.0.0.dist-info/METADATA", 34) != 0)
		at = find(bytes, len, "PK\1\2", at + 4);
	memcpy(bytes + at + 24, "\x64\0\0\0", 4);
	ga_buf_init(&out, 0);
	assert_int_equal(read_wheel(bytes, len, &out, reason), INDEX_WHEEL_INVALID);
	assert_int_equal(out.len, 0);
	assert_true(strstr(reason, "METADATA") != NULL);
	ga_buf_free(&out);
	free(bytes);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_wheel),
		cmocka_unit_test(test_directory_bound),
		cmocka_unit_test(test_inconsistent_archives),
		cmocka_unit_test(test_lying_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
