/* index_storage.c - crash-safe file storage of the built-in index; see index_storage.h. */
#include "index/index_storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "index/index_filename.h"
#include "org/org_names.h"
#include "util/ga_buf.h"
#include "util/ga_log.h"
#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

#define TEMP_PREFIX ".upload-"
#define META_SUFFIX ".meta.json"
#define META_MAX (64 * 1024)
#define COPY_CHUNK (64 * 1024)

struct index_storage {
	char *path;
	int root_fd;		/* O_DIRECTORY, kept open: every access is *at() */
};

struct index_storage_writer {
	struct index_storage *storage;
	int fd;
	char temp_name[sizeof(TEMP_PREFIX) + 16];	/* in the root directory */
	bool moved;		/* the temporary name no longer exists */
	EVP_MD_CTX *hash;
	long long size;
	long long max_size;
	unsigned char head[8];
	size_t head_len;
};

/* ----------------------------------------------------------------------
 * Small system helpers
 */

static bool
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t len = strlen(s);
	size_t suffix_len = strlen(suffix);

	return len >= suffix_len && strcmp(s + len - suffix_len, suffix) == 0;
}

static int
lock_dir(int fd, int operation)
{
	int rc;

	do {
		rc = flock(fd, operation);
	} while (rc != 0 && errno == EINTR);
	return rc;
}

static enum ga_rc
write_all(int fd, const void *data, size_t len)
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

/* A random name with the temporary prefix (never listed, removed at start). */
static void
random_temp_name(char *out, size_t size, const char *suffix)
{
	uint8_t bytes[8];
	char hex[17];

	ga_random_bytes(bytes, sizeof(bytes));
	ga_hex(bytes, sizeof(bytes), hex);
	snprintf(out, size, "%s%s%s", TEMP_PREFIX, hex, suffix);
}

/* A project directory name must be a normalised PEP 503 key: that rules out
 * every path trick before any *at() call sees it. */
static bool
is_project_key(const char *project)
{
	char key[ORG_PACKAGE_NAME_MAX];
	size_t len = strlen(project);

	return org_is_valid_project_name(project, len) &&
	       org_normalize_package(project, len, key, sizeof(key)) && strcmp(key, project) == 0;
}

/* A name that may be a stored distribution (and not a record or temp). */
static bool
is_distribution_name(const char *name)
{
	char reason[INDEX_REASON_MAX];
	enum index_dist_type type;

	return index_filename_is_safe(name, reason) && index_filename_type(name, &type);
}

/*
 * Open the directory of project; with create, make it first (and fsync the
 * root so that the new directory survives a crash).  GA_ENOTFOUND when it
 * does not exist and create is false.
 */
static enum ga_rc
open_project(struct index_storage *storage, const char *project, bool create, int *fd,
	     struct ga_err *err)
{
	if (!is_project_key(project))
		return ga_err_set(err, GA_ENOTFOUND, "not a normalised project name");
	if (create) {
		if (mkdirat(storage->root_fd, project, 0755) == 0) {
			if (fsync(storage->root_fd) != 0)
				return ga_err_set(err, GA_EIO, "%s: cannot sync: %s",
						  storage->path, strerror(errno));
		} else if (errno != EEXIST) {
			return ga_err_set(err, GA_EIO, "%s/%s: cannot create: %s", storage->path,
					  project, strerror(errno));
		}
	}
	*fd = openat(storage->root_fd, project, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
			return ga_err_set(err, GA_ENOTFOUND, "no such project");
		return ga_err_set(err, GA_EIO, "%s/%s: %s", storage->path, project,
				  strerror(errno));
	}
	return GA_OK;
}

/*
 * A directory stream of dir_fd with its own open file description: a dup()
 * would share the read position with dir_fd and with every other stream
 * of it, and listings run concurrently.  NULL on failure.
 */
static DIR *
open_stream(int dir_fd)
{
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir;

	if (fd < 0)
		return NULL;
	dir = fdopendir(fd);
	if (dir == NULL)
		close(fd);
	return dir;
}

static bool
exists_at(int dir_fd, const char *name)
{
	struct stat st;

	return fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* ----------------------------------------------------------------------
 * Metadata records
 */

static void
file_clear(struct index_file *file)
{
	ga_free(file->filename);
	ga_free(file->requires_python);
	ga_free(file->uploader);
	ga_free(file->yanked_reason);
	memset(file, 0, sizeof(*file));
}

static bool
is_sha256_hex(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static char *
optional_string(json_t *value)
{
	return json_is_string(value) ? ga_strdup(json_string_value(value)) : NULL;
}

static int
append_to_buf(const char *data, size_t size, void *buf)
{
	return ga_buf_append(buf, data, size) ? 0 : -1;
}

static json_t *
record_to_json(const struct index_file *file)
{
	json_t *object = json_object();

	json_object_set_new(object, "filename", json_string(file->filename));
	json_object_set_new(object, "sha256", json_string(file->sha256));
	json_object_set_new(object, "size", json_integer(file->size));
	json_object_set_new(object, "requires_python",
			    file->requires_python ? json_string(file->requires_python)
						  : json_null());
	json_object_set_new(object, "uploader", json_string(file->uploader ? file->uploader : ""));
	json_object_set_new(object, "uploaded_at", json_integer(file->uploaded_at));
	json_object_set_new(object, "yanked", json_boolean(file->yanked));
	json_object_set_new(object, "yanked_reason",
			    file->yanked_reason ? json_string(file->yanked_reason) : json_null());
	return object;
}

/*
 * Write filename's record in dir_fd durably: temporary file, fsync,
 * rename, directory fsync.  The caller holds the directory's exclusive lock.
 */
static enum ga_rc
write_record(int dir_fd, const struct index_file *file, struct ga_err *err)
{
	char temp[sizeof(TEMP_PREFIX) + 32];
	char meta_name[INDEX_FILENAME_MAX + sizeof(META_SUFFIX)];
	struct ga_buf text;
	json_t *object = record_to_json(file);
	enum ga_rc rc = GA_OK;
	int fd;

	ga_buf_init(&text, META_MAX);
	if (json_dump_callback(object, append_to_buf, &text, JSON_INDENT(1) | JSON_SORT_KEYS) != 0 ||
	    !ga_buf_append_char(&text, '\n')) {
		json_decref(object);
		ga_buf_free(&text);
		return ga_err_set(err, GA_ELIMIT, "metadata record too large");
	}
	json_decref(object);
	snprintf(meta_name, sizeof(meta_name), "%s%s", file->filename, META_SUFFIX);
	random_temp_name(temp, sizeof(temp), ".meta");
	fd = openat(dir_fd, temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		rc = ga_err_set(err, GA_EIO, "cannot create metadata record: %s", strerror(errno));
		goto done;
	}
	if (write_all(fd, text.data, text.len) != GA_OK || fsync(fd) != 0) {
		rc = ga_err_set(err, GA_EIO, "cannot write metadata record: %s", strerror(errno));
		close(fd);
		unlinkat(dir_fd, temp, 0);
		goto done;
	}
	close(fd);
	if (renameat(dir_fd, temp, dir_fd, meta_name) != 0 || fsync(dir_fd) != 0) {
		rc = ga_err_set(err, GA_EIO, "cannot store metadata record: %s", strerror(errno));
		unlinkat(dir_fd, temp, 0);
	}
done:
	ga_buf_free(&text);
	return rc;
}

static bool
record_from_json(json_t *object, const char *filename, struct index_file *file)
{
	json_t *sha256 = json_object_get(object, "sha256");
	json_t *size = json_object_get(object, "size");
	json_t *uploader = json_object_get(object, "uploader");
	json_t *uploaded_at = json_object_get(object, "uploaded_at");
	json_t *yanked = json_object_get(object, "yanked");

	if (!json_is_string(sha256) || !is_sha256_hex(json_string_value(sha256)) ||
	    !json_is_integer(size) || json_integer_value(size) < 0)
		return false;
	memset(file, 0, sizeof(*file));
	file->filename = ga_strdup(filename);
	memcpy(file->sha256, json_string_value(sha256), 65);
	file->size = json_integer_value(size);
	file->requires_python = optional_string(json_object_get(object, "requires_python"));
	file->uploader = ga_strdup(json_is_string(uploader) ? json_string_value(uploader) : "");
	file->uploaded_at = json_is_integer(uploaded_at) ? json_integer_value(uploaded_at) : 0;
	file->yanked = json_is_true(yanked);
	file->yanked_reason =
		file->yanked ? optional_string(json_object_get(object, "yanked_reason")) : NULL;
	return true;
}

/* Read the record of filename in dir_fd.  GA_ENOTFOUND when there is none
 * (or it is unreadable: such a file is treated as absent, and logged). */
static enum ga_rc
read_record(int dir_fd, const char *filename, struct index_file *file)
{
	char meta_name[INDEX_FILENAME_MAX + sizeof(META_SUFFIX)];
	char chunk[4096];
	struct ga_buf text;
	json_t *object;
	ssize_t got;
	bool ok;
	int fd;

	snprintf(meta_name, sizeof(meta_name), "%s%s", filename, META_SUFFIX);
	fd = openat(dir_fd, meta_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return GA_ENOTFOUND;
	ga_buf_init(&text, META_MAX);
	while ((got = read(fd, chunk, sizeof(chunk))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 || !ga_buf_append(&text, chunk, (size_t)got))
			break;
	}
	close(fd);
	object = got == 0 ? json_loadb(text.data ? text.data : "", text.len, 0, NULL) : NULL;
	ok = object != NULL && record_from_json(object, filename, file);
	json_decref(object);
	ga_buf_free(&text);
	if (!ok) {
		ga_log(GA_LOG_WARN, "index: unreadable metadata record, file ignored", "file",
		       filename, (char *)NULL);
		return GA_ENOTFOUND;
	}
	return GA_OK;
}

/* Hash fd from the start: the record of a file an operator copied in. */
static bool
hash_file(int fd, char sha256[65], long long *size)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	EVP_MD_CTX *hash = EVP_MD_CTX_new();
	char *chunk = ga_malloc(COPY_CHUNK);
	ssize_t got;
	bool ok;

	*size = 0;
	ok = hash != NULL && EVP_DigestInit_ex(hash, EVP_sha256(), NULL) == 1;
	while (ok && (got = read(fd, chunk, COPY_CHUNK)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		ok = got > 0 && EVP_DigestUpdate(hash, chunk, (size_t)got) == 1;
		*size += got > 0 ? got : 0;
	}
	ok = ok && EVP_DigestFinal_ex(hash, digest, &digest_len) == 1 && digest_len == 32;
	if (ok)
		ga_hex(digest, 32, sha256);
	EVP_MD_CTX_free(hash);
	ga_free(chunk);
	return ok;
}

static bool
import_file(int dir_fd, const char *filename)
{
	struct index_file file = { 0 };
	struct stat st;
	struct ga_err err;
	bool ok;
	int fd = openat(dir_fd, filename, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return false;
	ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && hash_file(fd, file.sha256, &file.size);
	close(fd);
	if (!ok)
		return false;
	file.filename = ga_strdup(filename);
	file.uploader = ga_strdup("");
	file.uploaded_at = (long long)st.st_mtime;
	ok = write_record(dir_fd, &file, &err) == GA_OK;
	if (!ok)
		ga_log(GA_LOG_ERROR, "index: cannot import file", "file", filename, "error",
		       err.message, (char *)NULL);
	file_clear(&file);
	return ok;
}

/* ----------------------------------------------------------------------
 * Opening and cleaning
 */

struct clean_counts {
	unsigned removed;
	unsigned imported;
};

/* Clean one project directory (see index_storage_open). */
static void
clean_project(int dir_fd, struct clean_counts *counts)
{
	DIR *dir = open_stream(dir_fd);
	struct dirent *entry;

	if (dir == NULL)
		return;
	while ((entry = readdir(dir)) != NULL) {
		const char *name = entry->d_name;

		if (starts_with(name, TEMP_PREFIX)) {
			counts->removed += unlinkat(dir_fd, name, 0) == 0;
		} else if (ends_with(name, META_SUFFIX)) {
			char data_name[NAME_MAX + 1];
			size_t data_len = strlen(name) - strlen(META_SUFFIX);

			memcpy(data_name, name, data_len);
			data_name[data_len] = '\0';
			/* A record whose rename of the distribution never happened. */
			if (!exists_at(dir_fd, data_name))
				counts->removed += unlinkat(dir_fd, name, 0) == 0;
		} else if (is_distribution_name(name)) {
			char meta_name[NAME_MAX + sizeof(META_SUFFIX)];

			snprintf(meta_name, sizeof(meta_name), "%s%s", name, META_SUFFIX);
			if (!exists_at(dir_fd, meta_name))
				counts->imported += import_file(dir_fd, name);
		}
	}
	closedir(dir);
	if (counts->removed > 0)
		fsync(dir_fd);
}

static void
clean_storage(struct index_storage *storage)
{
	struct clean_counts counts = { 0, 0 };
	struct dirent *entry;
	DIR *dir = open_stream(storage->root_fd);

	if (dir == NULL)
		return;
	while ((entry = readdir(dir)) != NULL) {
		int project_fd;

		if (starts_with(entry->d_name, TEMP_PREFIX)) {
			counts.removed += unlinkat(storage->root_fd, entry->d_name, 0) == 0;
			continue;
		}
		if (open_project(storage, entry->d_name, false, &project_fd, NULL) != GA_OK)
			continue;
		lock_dir(project_fd, LOCK_EX);
		clean_project(project_fd, &counts);
		close(project_fd);	/* releases the lock */
	}
	closedir(dir);
	if (counts.removed > 0 || counts.imported > 0) {
		char removed[16];
		char imported[16];

		snprintf(removed, sizeof(removed), "%u", counts.removed);
		snprintf(imported, sizeof(imported), "%u", counts.imported);
		ga_log(GA_LOG_INFO, "index storage cleaned", "dir", storage->path, "removed",
		       removed, "imported", imported, (char *)NULL);
	}
}

enum ga_rc
index_storage_open(const char *path, struct index_storage **out, struct ga_err *err)
{
	struct index_storage *storage;
	int fd;

	*out = NULL;
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return ga_err_set(err, GA_EIO, "%s: cannot create: %s", path, strerror(errno));
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ga_err_set(err, GA_EIO, "%s: cannot open: %s", path, strerror(errno));
	storage = ga_calloc(1, sizeof(*storage));
	storage->path = ga_strdup(path);
	storage->root_fd = fd;
	clean_storage(storage);
	*out = storage;
	return GA_OK;
}

void
index_storage_close(struct index_storage *storage)
{
	if (storage == NULL)
		return;
	close(storage->root_fd);
	ga_free(storage->path);
	ga_free(storage);
}

const char *
index_storage_path(const struct index_storage *storage)
{
	return storage->path;
}

/* ----------------------------------------------------------------------
 * Listing and reading
 */

static int
compare_files(const void *a, const void *b)
{
	return strcmp(((const struct index_file *)a)->filename,
		      ((const struct index_file *)b)->filename);
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every distribution with a record in dir_fd (the caller holds a lock). */
static void
collect_files(int dir_fd, struct index_file_list *list)
{
	size_t capacity = 0;
	struct dirent *entry;
	DIR *dir = open_stream(dir_fd);

	if (dir == NULL)
		return;
	while ((entry = readdir(dir)) != NULL) {
		struct index_file file;

		if (!is_distribution_name(entry->d_name) ||
		    read_record(dir_fd, entry->d_name, &file) != GA_OK)
			continue;
		if (list->count == capacity) {
			capacity = capacity ? 2 * capacity : 16;
			list->files = ga_reallocarray(list->files, capacity, sizeof(*list->files));
		}
		list->files[list->count++] = file;
	}
	closedir(dir);
	if (list->count > 1)
		qsort(list->files, list->count, sizeof(*list->files), compare_files);
}

enum ga_rc
index_storage_list_files(struct index_storage *storage, const char *project,
			 struct index_file_list *list, struct ga_err *err)
{
	enum ga_rc rc;
	int dir_fd;

	list->files = NULL;
	list->count = 0;
	rc = open_project(storage, project, false, &dir_fd, err);
	if (rc != GA_OK)
		return rc;
	lock_dir(dir_fd, LOCK_SH);
	collect_files(dir_fd, list);
	close(dir_fd);
	if (list->count == 0)
		return ga_err_set(err, GA_ENOTFOUND, "no such project");
	return GA_OK;
}

void
index_file_list_free(struct index_file_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		file_clear(&list->files[i]);
	ga_free(list->files);
	list->files = NULL;
	list->count = 0;
}

bool
index_storage_has_project(struct index_storage *storage, const char *project)
{
	struct dirent *entry;
	bool found = false;
	DIR *dir;
	int dir_fd;

	if (open_project(storage, project, false, &dir_fd, NULL) != GA_OK)
		return false;
	lock_dir(dir_fd, LOCK_SH);
	dir = open_stream(dir_fd);
	if (dir != NULL) {
		while (!found && (entry = readdir(dir)) != NULL) {
			char meta_name[NAME_MAX + sizeof(META_SUFFIX)];

			if (!is_distribution_name(entry->d_name))
				continue;
			snprintf(meta_name, sizeof(meta_name), "%s%s", entry->d_name, META_SUFFIX);
			found = exists_at(dir_fd, meta_name);
		}
		closedir(dir);
	}
	close(dir_fd);
	return found;
}

enum ga_rc
index_storage_list_projects(struct index_storage *storage, struct index_name_list *list,
			    struct ga_err *err)
{
	size_t capacity = 0;
	struct dirent *entry;
	DIR *dir = open_stream(storage->root_fd);

	list->names = NULL;
	list->count = 0;
	if (dir == NULL)
		return ga_err_set(err, GA_EIO, "%s: cannot list: %s", storage->path,
				  strerror(errno));
	while ((entry = readdir(dir)) != NULL) {
		if (!is_project_key(entry->d_name) ||
		    !index_storage_has_project(storage, entry->d_name))
			continue;
		if (list->count == capacity) {
			capacity = capacity ? 2 * capacity : 16;
			list->names = ga_reallocarray(list->names, capacity, sizeof(*list->names));
		}
		list->names[list->count++] = ga_strdup(entry->d_name);
	}
	closedir(dir);
	if (list->count > 1)
		qsort(list->names, list->count, sizeof(*list->names), compare_names);
	return GA_OK;
}

void
index_name_list_free(struct index_name_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		ga_free(list->names[i]);
	ga_free(list->names);
	list->names = NULL;
	list->count = 0;
}

enum ga_rc
index_storage_open_file(struct index_storage *storage, const char *project,
			const char *filename, struct index_download *out, struct ga_err *err)
{
	struct index_file file;
	struct stat st;
	enum ga_rc rc;
	int dir_fd;
	int fd;

	out->fd = -1;
	if (!is_distribution_name(filename))
		return ga_err_set(err, GA_ENOTFOUND, "no such file");
	rc = open_project(storage, project, false, &dir_fd, err);
	if (rc != GA_OK)
		return rc;
	lock_dir(dir_fd, LOCK_SH);
	fd = openat(dir_fd, filename, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		rc = errno == ENOENT || errno == ELOOP
			     ? ga_err_set(err, GA_ENOTFOUND, "no such file")
			     : ga_err_set(err, GA_EIO, "%s/%s/%s: %s", storage->path, project,
					  filename, strerror(errno));
		close(dir_fd);
		return rc;
	}
	rc = read_record(dir_fd, filename, &file);
	close(dir_fd);
	if (rc != GA_OK) {
		close(fd);
		return ga_err_set(err, GA_ENOTFOUND, "no such file");
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != file.size) {
		/* Changed behind our back: refuse rather than serve bytes whose
		 * hash the index would then misstate. */
		ga_log(GA_LOG_ERROR, "index: file does not match its metadata record", "project",
		       project, "file", filename, (char *)NULL);
		close(fd);
		file_clear(&file);
		return ga_err_set(err, GA_EIO, "file does not match its metadata record");
	}
	out->fd = fd;
	out->size = (long long)st.st_size;
	out->mtime = (long long)st.st_mtime;
	memcpy(out->sha256, file.sha256, sizeof(out->sha256));
	file_clear(&file);
	return GA_OK;
}

enum ga_rc
index_storage_set_yanked(struct index_storage *storage, const char *project,
			 const char *filename, bool yanked, const char *reason,
			 struct ga_err *err)
{
	struct index_file file;
	enum ga_rc rc;
	int dir_fd;

	if (!is_distribution_name(filename))
		return ga_err_set(err, GA_ENOTFOUND, "no such file");
	rc = open_project(storage, project, false, &dir_fd, err);
	if (rc != GA_OK)
		return rc;
	lock_dir(dir_fd, LOCK_EX);
	if (!exists_at(dir_fd, filename) || read_record(dir_fd, filename, &file) != GA_OK) {
		close(dir_fd);
		return ga_err_set(err, GA_ENOTFOUND, "no such file");
	}
	file.yanked = yanked;
	ga_free(file.yanked_reason);
	file.yanked_reason = yanked ? ga_strdup(reason ? reason : "") : NULL;
	rc = write_record(dir_fd, &file, err);
	close(dir_fd);
	file_clear(&file);
	return rc;
}

/* ----------------------------------------------------------------------
 * Uploads
 */

enum ga_rc
index_storage_writer_begin(struct index_storage *storage, long long max_size,
			   struct index_storage_writer **out, struct ga_err *err)
{
	struct index_storage_writer *writer = ga_calloc(1, sizeof(*writer));

	*out = NULL;
	writer->storage = storage;
	writer->max_size = max_size;
	writer->fd = -1;
	for (int attempt = 0; attempt < 4 && writer->fd < 0; attempt++) {
		random_temp_name(writer->temp_name, sizeof(writer->temp_name), "");
		writer->fd = openat(storage->root_fd, writer->temp_name,
				    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (writer->fd < 0 && errno != EEXIST)
			break;
	}
	if (writer->fd < 0) {
		enum ga_rc rc = ga_err_set(err, GA_EIO, "%s: cannot create temporary file: %s",
					   storage->path, strerror(errno));

		ga_free(writer);
		return rc;
	}
	writer->hash = EVP_MD_CTX_new();
	if (writer->hash == NULL || EVP_DigestInit_ex(writer->hash, EVP_sha256(), NULL) != 1) {
		index_storage_writer_free(writer);
		return ga_err_set(err, GA_EIO, "cannot initialise SHA-256");
	}
	*out = writer;
	return GA_OK;
}

enum ga_rc
index_storage_writer_write(struct index_storage_writer *writer, const void *data, size_t len,
			   struct ga_err *err)
{
	if (writer->fd < 0)
		return ga_err_set(err, GA_EIO, "upload already finished");
	if ((unsigned long long)len > (unsigned long long)(writer->max_size - writer->size))
		return ga_err_set(err, GA_ELIMIT, "file larger than %lld bytes", writer->max_size);
	if (write_all(writer->fd, data, len) != GA_OK)
		return ga_err_set(err, GA_EIO, "cannot write upload: %s", strerror(errno));
	if (EVP_DigestUpdate(writer->hash, data, len) != 1)
		return ga_err_set(err, GA_EIO, "SHA-256 failed");
	if (writer->head_len < sizeof(writer->head)) {
		size_t take = sizeof(writer->head) - writer->head_len;

		if (take > len)
			take = len;
		memcpy(writer->head + writer->head_len, data, take);
		writer->head_len += take;
	}
	writer->size += (long long)len;
	return GA_OK;
}

long long
index_storage_writer_size(const struct index_storage_writer *writer)
{
	return writer->size;
}

size_t
index_storage_writer_head(const struct index_storage_writer *writer, unsigned char head[8])
{
	memcpy(head, writer->head, writer->head_len);
	return writer->head_len;
}

void
index_storage_writer_sha256(const struct index_storage_writer *writer, char out[65])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	EVP_MD_CTX *copy = EVP_MD_CTX_new();

	out[0] = '\0';
	if (copy != NULL && EVP_MD_CTX_copy_ex(copy, writer->hash) == 1 &&
	    EVP_DigestFinal_ex(copy, digest, &digest_len) == 1 && digest_len == 32)
		ga_hex(digest, 32, out);
	EVP_MD_CTX_free(copy);
}

/*
 * Move the finished temporary file to project_fd/filename.  Without
 * overwrite the move must fail if the name exists even outside our lock:
 * renameat2(RENAME_NOREPLACE), or link()+unlink() where the file system
 * lacks it.
 */
static int
move_into_place(struct index_storage_writer *writer, int project_fd, const char *filename,
		bool overwrite)
{
	int root_fd = writer->storage->root_fd;

	if (overwrite)
		return renameat(root_fd, writer->temp_name, project_fd, filename);
	if (renameat2(root_fd, writer->temp_name, project_fd, filename, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (linkat(root_fd, writer->temp_name, project_fd, filename, 0) != 0)
		return -1;
	unlinkat(root_fd, writer->temp_name, 0);
	return 0;
}

enum ga_rc
index_storage_writer_commit(struct index_storage_writer *writer, const char *project,
			    const char *filename, const struct index_file *record,
			    bool overwrite, bool *exists, struct ga_err *err)
{
	struct index_file stored = *record;
	enum ga_rc rc;
	int project_fd;

	*exists = false;
	if (writer->fd < 0)
		return ga_err_set(err, GA_EIO, "upload already finished");
	if (!is_distribution_name(filename))
		return ga_err_set(err, GA_EINVAL, "not a distribution filename");
	if (fsync(writer->fd) != 0) {
		rc = ga_err_set(err, GA_EIO, "cannot sync upload: %s", strerror(errno));
		goto finished;
	}
	rc = open_project(writer->storage, project, true, &project_fd, err);
	if (rc != GA_OK)
		goto finished;
	lock_dir(project_fd, LOCK_EX);
	if (!overwrite && exists_at(project_fd, filename)) {
		*exists = true;
		rc = ga_err_set(err, GA_EINVAL, "%s already exists", filename);
		goto unlock;
	}
	stored.filename = (char *)filename;
	stored.size = writer->size;
	index_storage_writer_sha256(writer, stored.sha256);
	rc = write_record(project_fd, &stored, err);
	if (rc != GA_OK)
		goto unlock;
	if (move_into_place(writer, project_fd, filename, overwrite) != 0) {
		*exists = errno == EEXIST;
		rc = ga_err_set(err, *exists ? GA_EINVAL : GA_EIO, "%s: cannot store: %s",
				filename, strerror(errno));
		goto unlock;
	}
	writer->moved = true;
	if (fsync(project_fd) != 0)
		rc = ga_err_set(err, GA_EIO, "cannot sync project directory: %s", strerror(errno));
unlock:
	close(project_fd);	/* releases the lock */
finished:
	close(writer->fd);
	writer->fd = -1;
	return rc;
}

void
index_storage_writer_free(struct index_storage_writer *writer)
{
	if (writer == NULL)
		return;
	if (writer->fd >= 0)
		close(writer->fd);
	if (!writer->moved)
		unlinkat(writer->storage->root_fd, writer->temp_name, 0);
	EVP_MD_CTX_free(writer->hash);
	ga_free(writer);
}
