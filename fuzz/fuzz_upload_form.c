/*
 * fuzz_upload_form.c - the legacy upload form (index_upload) fed any
 * sequence of parts and chunks, as a hostile client could make
 * libmicrohttpd's post processor deliver them.  Contracts:
 *   - a refusal has a one-line, printable reason and an HTTP status of
 *     400, 403, 409, 413 or 500; success has no reason;
 *   - after index_upload_free() no temporary file is left in the storage;
 *   - a successful upload is listed with the SHA-256 of the bytes fed as
 *     the file part, under the normalised name of the name field, and a
 *     wheel with its METADATA;
 *   - nothing reaches the storage (no temporary file) unless ":action",
 *     "name" and "version" parts began before the first file part and the
 *     name is one the uploader may write: a member without write access
 *     cannot fill the disk, whatever the order of the parts.
 * Input: records [selector][length: 2 bytes little-endian][data].  The
 * selector's low 4 bits pick the key, bit 4 gives the part a filename (the
 * data up to the first ';'), bit 5 skips one byte of offset (a malformed
 * delivery), bit 6 continues the previous part instead of starting one.
 */
#include <dirent.h>
#include <ftw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "index/index_upload.h"
#include "org/org_names.h"
#include "util/ga_log.h"
#include "util/ga_secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[16] = {
	":action", "protocol_version", "name", "version", "filetype", "sha256_digest",
	"md5_digest", "requires_python", "content", "content", "content", "description",
	"classifiers", "comment", "blake2_256_digest", "gpg_signature",
};

static char storage_dir[64];
static struct index_storage *storage;

static bool
may_write(void *context, const char *project, char reason[INDEX_REASON_MAX])
{
	(void)context;
	snprintf(reason, INDEX_REASON_MAX, "no write on %s", project);
	return strcmp(project, "acme-core") == 0 || strcmp(project, "a") == 0;
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	return ftw->level > 0 ? remove(path) : 0;
}

static void
set_up(void)
{
	struct ga_err err;

	ga_log_setup(GA_LOG_SILENT, GA_LOG_LOGFMT);
	snprintf(storage_dir, sizeof(storage_dir), "/tmp/ghaccess-fuzz-upload-XXXXXX");
	if (mkdtemp(storage_dir) == NULL || index_storage_open(storage_dir, INDEX_STORAGE_OWNER, &storage, &err) != GA_OK)
		abort();
}

static bool
temporary_files_left(void)
{
	DIR *dir = opendir(storage_dir);
	struct dirent *entry;
	bool found = false;

	while (dir != NULL && (entry = readdir(dir)) != NULL)
		found = found || strncmp(entry->d_name, ".upload-", 8) == 0;
	if (dir != NULL)
		closedir(dir);
	return found;
}

static void
check_result(struct index_upload *upload, const char *sha256)
{
	enum index_upload_status status = index_upload_finish(upload);
	unsigned code = index_upload_http_status(status);
	const char *reason = index_upload_reason(upload);
	struct index_file_list list;
	struct ga_err err;
	bool listed = false;

	if (status == INDEX_UPLOAD_OK) {
		if (reason[0] != '\0' ||
		    index_storage_list_files(storage, index_upload_project(upload), &list,
					     &err) != GA_OK)
			abort();
		/* A wheel is stored with its METADATA (PEP 658). */
		for (size_t i = 0; i < list.count; i++)
			listed = listed ||
				 (strcmp(list.files[i].filename, index_upload_filename(upload)) == 0 &&
				  strcmp(list.files[i].sha256, sha256) == 0 &&
				  (strstr(list.files[i].filename, ".whl") == NULL ||
				   list.files[i].metadata_sha256[0] != '\0'));
		index_file_list_free(&list);
		if (!listed)
			abort();
		return;
	}
	if (code != 400 && code != 403 && code != 409 && code != 413 && code != 500)
		abort();
	if (reason[0] == '\0')
		abort();
	for (const char *c = reason; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct index_upload_settings settings = {
		.max_size = 4096, .allow_overwrite = true, .uploader = "fuzz",
		.may_write = may_write,
	};
	struct index_upload *upload;
	uint8_t digest[32];
	char sha256[65];
	/* The bytes of the file part, to compare with what is stored. */
	static uint8_t content[8192];
	size_t content_len = 0;
	const char *key = NULL;
	char filename[300] = "";
	const char *part_filename = NULL;
	uint64_t offset = 0;
	size_t at = 0;
	/* Parts begun before the first file part. */
	bool seen_action = false, seen_name = false, seen_version = false;
	bool content_begun = false, ordered = false;

	if (storage == NULL)
		set_up();
	settings.storage = storage;
	upload = index_upload_new(&settings);
	while (at + 3 <= size) {
		uint8_t selector = data[at];
		size_t len = (size_t)data[at + 1] | (size_t)data[at + 2] << 8;
		const char *chunk = (const char *)data + at + 3;

		if (len > size - at - 3)
			len = size - at - 3;
		at += 3 + len;
		if ((selector & 0x40) == 0 || key == NULL) {
			key = keys[selector & 0x0f];
			offset = 0;
			part_filename = NULL;
			if (!content_begun) {
				seen_action = seen_action || strcmp(key, ":action") == 0;
				seen_name = seen_name || strcmp(key, "name") == 0;
				seen_version = seen_version || strcmp(key, "version") == 0;
				if (strcmp(key, "content") == 0) {
					content_begun = true;
					ordered = seen_action && seen_name && seen_version;
				}
			}
			if (selector & 0x10) {
				const char *semicolon = memchr(chunk, ';', len);
				size_t name_len = semicolon ? (size_t)(semicolon - chunk) : len;
				size_t skip = semicolon ? name_len + 1 : name_len;

				if (name_len >= sizeof(filename))
					name_len = sizeof(filename) - 1;
				/* An embedded NUL ends the name, as in a C string. */
				memcpy(filename, chunk, name_len);
				filename[name_len] = '\0';
				part_filename = filename;
				chunk += skip;
				len -= skip;
			}
		}
		if (selector & 0x20)
			offset++;
		if (strcmp(key, "content") == 0 && content_len + len <= sizeof(content)) {
			memcpy(content + content_len, chunk, len);
			content_len += len;
		}
		if (!index_upload_feed(upload, key, part_filename, chunk, offset, len))
			break;
		offset += len;
		if (temporary_files_left() &&
		    (!ordered || (strcmp(index_upload_project(upload), "acme-core") != 0 &&
				  strcmp(index_upload_project(upload), "a") != 0)))
			abort();
	}
	ga_sha256(content, content_len, digest);
	ga_hex(digest, 32, sha256);
	check_result(upload, sha256);
	index_upload_free(upload);
	if (temporary_files_left())
		abort();
	/* Keep the storage small: stored files do not matter to the next run. */
	nftw(storage_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}
