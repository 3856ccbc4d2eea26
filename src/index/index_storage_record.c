/* index_storage_record.c - records, tombstones, durable files; see index_storage_internal.h. */
#include "index/index_storage_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "index/index_hash.h"
#include "util/ga_buf.h"
#include "util/ga_log.h"
#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

/* A record or a tombstone is small; anything larger is not ours. */
#define RECORD_MAX (64 * 1024)

void
index_suffixed(char out[INDEX_NAME_ROOM], const char *name, const char *suffix)
{
	snprintf(out, INDEX_NAME_ROOM, "%s%s", name, suffix);
}

bool
index_is_deleted(int dir_fd, const char *filename)
{
	char name[INDEX_NAME_ROOM];

	index_suffixed(name, filename, INDEX_DELETED_SUFFIX);
	return index_exists_at(dir_fd, name);
}

void
index_temp_name(char *out, size_t size, const char *suffix)
{
	uint8_t bytes[8];
	char hex[17];

	ga_random_bytes(bytes, sizeof(bytes));
	ga_hex(bytes, sizeof(bytes), hex);
	snprintf(out, size, "%s%s%s", INDEX_TEMP_PREFIX, hex, suffix);
}

enum ga_rc
index_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t written = write(fd, p, len);

		if (written < 0 && errno == EINTR)
			continue;
		if (written < 0)
			return GA_EIO;
		p += written;
		len -= (size_t)written;
	}
	return GA_OK;
}

enum ga_rc
index_write_durably(int dir_fd, const char *name, const void *data, size_t len,
		    struct ga_err *err)
{
	char temp[sizeof(INDEX_TEMP_PREFIX) + 32];
	int fd;

	index_temp_name(temp, sizeof(temp), ".part");
	fd = openat(dir_fd, temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return ga_err_set(err, GA_EIO, "cannot create %s: %s", name, strerror(errno));
	if (index_write_all(fd, data, len) != GA_OK || fsync(fd) != 0) {
		enum ga_rc rc = ga_err_set(err, GA_EIO, "cannot write %s: %s", name,
					   strerror(errno));

		close(fd);
		unlinkat(dir_fd, temp, 0);
		return rc;
	}
	close(fd);
	if (renameat(dir_fd, temp, dir_fd, name) != 0 || fsync(dir_fd) != 0) {
		enum ga_rc rc = ga_err_set(err, GA_EIO, "cannot store %s: %s", name,
					   strerror(errno));

		unlinkat(dir_fd, temp, 0);
		return rc;
	}
	return GA_OK;
}

/* ----------------------------------------------------------------------
 * Records
 */

void
index_file_clear(struct index_file *file)
{
	ga_free(file->filename);
	ga_free(file->requires_python);
	ga_free(file->uploader);
	ga_free(file->yanked_reason);
	ga_free(file->yanked_by);
	ga_free(file->metadata_error);
	memset(file, 0, sizeof(*file));
}

static int
append_to_buf(const char *data, size_t size, void *buf)
{
	return ga_buf_append(buf, data, size) ? 0 : -1;
}

static json_t *
string_or_null(const char *value)
{
	return value != NULL ? json_string(value) : json_null();
}

static json_t *
record_to_json(const struct index_file *file)
{
	json_t *object = json_object();

	json_object_set_new(object, "filename", json_string(file->filename));
	json_object_set_new(object, "sha256", json_string(file->sha256));
	if (file->md5[0] != '\0')
		json_object_set_new(object, "md5", json_string(file->md5));
	if (file->blake2b_256[0] != '\0')
		json_object_set_new(object, "blake2b_256", json_string(file->blake2b_256));
	json_object_set_new(object, "size", json_integer(file->size));
	json_object_set_new(object, "requires_python", string_or_null(file->requires_python));
	json_object_set_new(object, "uploader", json_string(file->uploader ? file->uploader : ""));
	json_object_set_new(object, "uploaded_at", json_integer(file->uploaded_at));
	json_object_set_new(object, "yanked", json_boolean(file->yanked));
	json_object_set_new(object, "yanked_reason", string_or_null(file->yanked_reason));
	if (file->yanked_by != NULL)
		json_object_set_new(object, "yanked_by", json_string(file->yanked_by));
	if (file->yanked_at != 0)
		json_object_set_new(object, "yanked_at", json_integer(file->yanked_at));
	if (file->metadata_sha256[0] != '\0') {
		json_object_set_new(object, "metadata_sha256", json_string(file->metadata_sha256));
		json_object_set_new(object, "metadata_size", json_integer(file->metadata_size));
	}
	if (file->metadata_error != NULL)
		json_object_set_new(object, "metadata_error", json_string(file->metadata_error));
	return object;
}

/* Dump object (whose reference this takes) as indented JSON text. */
static bool
dump(json_t *object, struct ga_buf *text)
{
	bool ok = object != NULL &&
		  json_dump_callback(object, append_to_buf, text, JSON_INDENT(1) | JSON_SORT_KEYS) ==
			  0 &&
		  ga_buf_append_char(text, '\n');

	json_decref(object);
	return ok;
}

enum ga_rc
index_record_write(int dir_fd, const struct index_file *file, struct ga_err *err)
{
	char name[INDEX_NAME_ROOM];
	struct ga_buf text;
	enum ga_rc rc;

	ga_buf_init(&text, RECORD_MAX);
	if (!dump(record_to_json(file), &text)) {
		ga_buf_free(&text);
		return ga_err_set(err, GA_ELIMIT, "metadata record too large");
	}
	index_suffixed(name, file->filename, INDEX_RECORD_SUFFIX);
	rc = index_write_durably(dir_fd, name, text.data, text.len, err);
	ga_buf_free(&text);
	return rc;
}

static bool
is_lower_hex(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* An optional hex digest of len digits into out ("" when absent or bad). */
static void
optional_hex(json_t *value, size_t len, char *out)
{
	out[0] = '\0';
	if (json_is_string(value) && is_lower_hex(json_string_value(value), len))
		memcpy(out, json_string_value(value), len + 1);
}

static char *
optional_string(json_t *value)
{
	return json_is_string(value) ? ga_strdup(json_string_value(value)) : NULL;
}

static long long
optional_integer(json_t *value)
{
	return json_is_integer(value) ? json_integer_value(value) : 0;
}

static bool
record_from_json(json_t *object, const char *filename, struct index_file *file)
{
	json_t *sha256 = json_object_get(object, "sha256");
	json_t *size = json_object_get(object, "size");
	json_t *uploader = json_object_get(object, "uploader");
	json_t *metadata_size = json_object_get(object, "metadata_size");

	if (!json_is_string(sha256) || !is_lower_hex(json_string_value(sha256), 64) ||
	    !json_is_integer(size) || json_integer_value(size) < 0)
		return false;
	memset(file, 0, sizeof(*file));
	file->filename = ga_strdup(filename);
	memcpy(file->sha256, json_string_value(sha256), 65);
	optional_hex(json_object_get(object, "md5"), 32, file->md5);
	optional_hex(json_object_get(object, "blake2b_256"), 64, file->blake2b_256);
	file->size = json_integer_value(size);
	file->requires_python = optional_string(json_object_get(object, "requires_python"));
	file->uploader = ga_strdup(json_is_string(uploader) ? json_string_value(uploader) : "");
	file->uploaded_at = optional_integer(json_object_get(object, "uploaded_at"));
	file->yanked = json_is_true(json_object_get(object, "yanked"));
	if (file->yanked) {
		file->yanked_reason = optional_string(json_object_get(object, "yanked_reason"));
		file->yanked_by = optional_string(json_object_get(object, "yanked_by"));
		file->yanked_at = optional_integer(json_object_get(object, "yanked_at"));
	}
	/* METADATA is announced only with both its digest and its size. */
	optional_hex(json_object_get(object, "metadata_sha256"), 64, file->metadata_sha256);
	if (file->metadata_sha256[0] != '\0' && json_is_integer(metadata_size) &&
	    json_integer_value(metadata_size) >= 0)
		file->metadata_size = json_integer_value(metadata_size);
	else
		file->metadata_sha256[0] = '\0';
	file->metadata_error = optional_string(json_object_get(object, "metadata_error"));
	return true;
}

/* Read a small JSON file of dir_fd; NULL when absent or unreadable. */
static json_t *
read_json(int dir_fd, const char *name)
{
	char chunk[4096];
	struct ga_buf text;
	json_t *object;
	ssize_t got;
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return NULL;
	ga_buf_init(&text, RECORD_MAX);
	while ((got = read(fd, chunk, sizeof(chunk))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 || !ga_buf_append(&text, chunk, (size_t)got))
			break;
	}
	close(fd);
	object = got == 0 ? json_loadb(text.data ? text.data : "", text.len, 0, NULL) : NULL;
	ga_buf_free(&text);
	return object;
}

enum ga_rc
index_record_read(int dir_fd, const char *filename, struct index_file *file)
{
	char name[INDEX_NAME_ROOM];
	json_t *object;
	bool ok;

	index_suffixed(name, filename, INDEX_RECORD_SUFFIX);
	if (!index_exists_at(dir_fd, name))
		return GA_ENOTFOUND;
	object = read_json(dir_fd, name);
	ok = object != NULL && record_from_json(object, filename, file);
	json_decref(object);
	if (!ok) {
		ga_log(GA_LOG_WARN, "index: unreadable metadata record, file ignored", "file",
		       filename, (char *)NULL);
		return GA_ENOTFOUND;
	}
	return GA_OK;
}

/* ----------------------------------------------------------------------
 * Tombstones and removal
 */

enum ga_rc
index_tombstone_write(int dir_fd, const struct index_file *file, const char *by,
		      const char *reason, struct ga_err *err)
{
	char name[INDEX_NAME_ROOM];
	struct ga_buf text;
	enum ga_rc rc;

	ga_buf_init(&text, RECORD_MAX);
	if (!dump(json_pack("{s:s,s:s,s:I,s:s,s:I,s:s}", "filename", file->filename, "sha256",
			    file->sha256, "size", (json_int_t)file->size, "deleted_by", by,
			    "deleted_at", (json_int_t)time(NULL), "reason", reason ? reason : ""),
		  &text)) {
		ga_buf_free(&text);
		return ga_err_set(err, GA_ELIMIT, "deletion record too large");
	}
	index_suffixed(name, file->filename, INDEX_DELETED_SUFFIX);
	rc = index_write_durably(dir_fd, name, text.data, text.len, err);
	ga_buf_free(&text);
	return rc;
}

void
index_remove_stored(int dir_fd, const char *filename)
{
	char name[INDEX_NAME_ROOM];

	/* The distribution first: without it the rest is invisible. */
	unlinkat(dir_fd, filename, 0);
	index_suffixed(name, filename, INDEX_RECORD_SUFFIX);
	unlinkat(dir_fd, name, 0);
	index_suffixed(name, filename, INDEX_METADATA_SUFFIX);
	unlinkat(dir_fd, name, 0);
	fsync(dir_fd);
}

/* ----------------------------------------------------------------------
 * Importing a file copied in
 */

bool
index_import_file(int dir_fd, const char *filename)
{
	struct index_file file = { 0 };
	struct index_digests digests;
	struct stat st;
	struct ga_err err;
	bool ok;
	int fd = openat(dir_fd, filename, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return false;
	ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	     index_hash_fd(fd, &digests, &file.size, NULL, NULL);
	close(fd);
	if (!ok)
		return false;
	file.filename = ga_strdup(filename);
	memcpy(file.sha256, digests.sha256, sizeof(file.sha256));
	memcpy(file.md5, digests.md5, sizeof(file.md5));
	memcpy(file.blake2b_256, digests.blake2b_256, sizeof(file.blake2b_256));
	file.uploader = ga_strdup("");
	file.uploaded_at = (long long)st.st_mtime;
	/* Its METADATA, if a wheel, comes from the backfill. */
	ok = index_record_write(dir_fd, &file, &err) == GA_OK;
	if (!ok)
		ga_log(GA_LOG_ERROR, "index: cannot import file", "file", filename, "error",
		       err.message, (char *)NULL);
	index_file_clear(&file);
	return ok;
}
