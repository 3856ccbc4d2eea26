/* index_storage.c - the storage directory: open, clean, list, read; see index_storage.h. */
#include "index/index_storage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index/index_filename.h"
#include "index/index_storage_internal.h"
#include "org/org_names.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

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

int
index_lock_dir(int fd, int operation)
{
	int rc;

	do {
		rc = flock(fd, operation);
	} while (rc != 0 && errno == EINTR);
	return rc;
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

bool
index_is_distribution_name(const char *name)
{
	char reason[INDEX_REASON_MAX];
	enum index_dist_type type;

	return index_filename_is_safe(name, reason) && index_filename_type(name, &type);
}

enum ga_rc
index_open_project(struct index_storage *storage, const char *project, bool create, int *fd,
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
 * A directory stream with its own open file description: a dup() would
 * share the read position with dir_fd and with every other stream of it,
 * and listings run concurrently.
 */
DIR *
index_open_stream(int dir_fd)
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

bool
index_exists_at(int dir_fd, const char *name)
{
	struct stat st;

	return fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* ----------------------------------------------------------------------
 * Opening and cleaning
 */

struct clean_counts {
	unsigned removed;
	unsigned imported;
	unsigned deleted;
};

/* The distribution name a record or METADATA file belongs to. */
static bool
owner_of(const char *name, const char *suffix, char out[NAME_MAX + 1])
{
	size_t len = strlen(name) - strlen(suffix);

	if (len > NAME_MAX)
		return false;
	memcpy(out, name, len);
	out[len] = '\0';
	return true;
}

/* Clean one project directory (see index_storage_open). */
static void
clean_project(int dir_fd, struct clean_counts *counts)
{
	DIR *dir = index_open_stream(dir_fd);
	struct dirent *entry;
	char owner[NAME_MAX + 1];

	if (dir == NULL)
		return;
	while ((entry = readdir(dir)) != NULL) {
		const char *name = entry->d_name;

		if (starts_with(name, INDEX_TEMP_PREFIX)) {
			counts->removed += unlinkat(dir_fd, name, 0) == 0;
		} else if (ends_with(name, INDEX_DELETED_SUFFIX)) {
			/* A deletion that a crash interrupted: finish it. */
			if (owner_of(name, INDEX_DELETED_SUFFIX, owner) &&
			    index_is_distribution_name(owner) && index_exists_at(dir_fd, owner)) {
				index_remove_stored(dir_fd, owner);
				counts->deleted++;
			}
		} else if (ends_with(name, INDEX_RECORD_SUFFIX) ||
			   ends_with(name, INDEX_METADATA_SUFFIX)) {
			/* A record or METADATA whose distribution never arrived. */
			if (owner_of(name,
				     ends_with(name, INDEX_RECORD_SUFFIX) ? INDEX_RECORD_SUFFIX
									  : INDEX_METADATA_SUFFIX,
				     owner) &&
			    !index_exists_at(dir_fd, owner))
				counts->removed += unlinkat(dir_fd, name, 0) == 0;
		} else if (index_is_distribution_name(name)) {
			char record[INDEX_NAME_ROOM];

			index_suffixed(record, name, INDEX_RECORD_SUFFIX);
			if (index_is_deleted(dir_fd, name))
				continue;	/* finished above or below */
			if (!index_exists_at(dir_fd, record))
				counts->imported += index_import_file(dir_fd, name);
		}
	}
	closedir(dir);
	if (counts->removed > 0)
		fsync(dir_fd);
}

static void
clean_storage(struct index_storage *storage)
{
	struct clean_counts counts = { 0, 0, 0 };
	struct dirent *entry;
	DIR *dir = index_open_stream(storage->root_fd);

	if (dir == NULL)
		return;
	while ((entry = readdir(dir)) != NULL) {
		int project_fd;

		if (starts_with(entry->d_name, INDEX_TEMP_PREFIX)) {
			counts.removed += unlinkat(storage->root_fd, entry->d_name, 0) == 0;
			continue;
		}
		if (index_open_project(storage, entry->d_name, false, &project_fd, NULL) != GA_OK)
			continue;
		index_lock_dir(project_fd, LOCK_EX);
		clean_project(project_fd, &counts);
		close(project_fd);	/* releases the lock */
	}
	closedir(dir);
	if (counts.removed > 0 || counts.imported > 0 || counts.deleted > 0) {
		char removed[16];
		char imported[16];
		char deleted[16];

		snprintf(removed, sizeof(removed), "%u", counts.removed);
		snprintf(imported, sizeof(imported), "%u", counts.imported);
		snprintf(deleted, sizeof(deleted), "%u", counts.deleted);
		ga_log(GA_LOG_INFO, "index storage cleaned", "dir", storage->path, "removed",
		       removed, "imported", imported, "deletions_finished", deleted, (char *)NULL);
	}
}

enum ga_rc
index_storage_open(const char *path, enum index_storage_mode mode, struct index_storage **out,
		   struct ga_err *err)
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
	if (mode == INDEX_STORAGE_OWNER)
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
	DIR *dir = index_open_stream(dir_fd);

	if (dir == NULL)
		return;
	while ((entry = readdir(dir)) != NULL) {
		struct index_file file;

		if (!index_is_distribution_name(entry->d_name) ||
		    index_is_deleted(dir_fd, entry->d_name) ||
		    index_record_read(dir_fd, entry->d_name, &file) != GA_OK)
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
	rc = index_open_project(storage, project, false, &dir_fd, err);
	if (rc != GA_OK)
		return rc;
	index_lock_dir(dir_fd, LOCK_SH);
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
		index_file_clear(&list->files[i]);
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

	if (index_open_project(storage, project, false, &dir_fd, NULL) != GA_OK)
		return false;
	index_lock_dir(dir_fd, LOCK_SH);
	dir = index_open_stream(dir_fd);
	if (dir != NULL) {
		while (!found && (entry = readdir(dir)) != NULL) {
			char record[INDEX_NAME_ROOM];

			if (!index_is_distribution_name(entry->d_name))
				continue;
			index_suffixed(record, entry->d_name, INDEX_RECORD_SUFFIX);
			found = index_exists_at(dir_fd, record) &&
				!index_is_deleted(dir_fd, entry->d_name);
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
	DIR *dir = index_open_stream(storage->root_fd);

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

/*
 * Open name of dir_fd and check it is the regular file of size bytes its
 * record says; the caller holds the lock.  GA_ENOTFOUND when absent.
 */
static enum ga_rc
open_checked(int dir_fd, const char *project, const char *name, long long size,
	     struct index_download *out, struct ga_err *err)
{
	struct stat st;
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return errno == ENOENT || errno == ELOOP
			       ? ga_err_set(err, GA_ENOTFOUND, "no such file")
			       : ga_err_set(err, GA_EIO, "%s/%s: %s", project, name,
					    strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != size) {
		/* Changed behind our back: refuse rather than serve bytes whose
		 * hash the index would then misstate. */
		ga_log(GA_LOG_ERROR, "index: file does not match its metadata record", "project",
		       project, "file", name, (char *)NULL);
		close(fd);
		return ga_err_set(err, GA_EIO, "file does not match its metadata record");
	}
	out->fd = fd;
	out->size = (long long)st.st_size;
	out->mtime = (long long)st.st_mtime;
	return GA_OK;
}

/* Open filename (metadata: its METADATA) of project with its record. */
static enum ga_rc
open_stored(struct index_storage *storage, const char *project, const char *filename,
	    bool metadata, struct index_download *out, struct ga_err *err)
{
	char name[INDEX_NAME_ROOM];
	struct index_file file;
	enum ga_rc rc;
	int dir_fd;

	out->fd = -1;
	if (!index_is_distribution_name(filename))
		return ga_err_set(err, GA_ENOTFOUND, "no such file");
	rc = index_open_project(storage, project, false, &dir_fd, err);
	if (rc != GA_OK)
		return rc;
	index_lock_dir(dir_fd, LOCK_SH);
	if (index_is_deleted(dir_fd, filename) ||
	    index_record_read(dir_fd, filename, &file) != GA_OK) {
		close(dir_fd);
		return ga_err_set(err, GA_ENOTFOUND, "no such file");
	}
	if (metadata && file.metadata_sha256[0] == '\0') {
		rc = ga_err_set(err, GA_ENOTFOUND, "no metadata");
	} else if (metadata) {
		index_suffixed(name, filename, INDEX_METADATA_SUFFIX);
		rc = open_checked(dir_fd, project, name, file.metadata_size, out, err);
		memcpy(out->sha256, file.metadata_sha256, sizeof(out->sha256));
	} else {
		rc = open_checked(dir_fd, project, filename, file.size, out, err);
		memcpy(out->sha256, file.sha256, sizeof(out->sha256));
	}
	/* A METADATA stored without its distribution is nobody's. */
	if (rc == GA_OK && metadata && !index_exists_at(dir_fd, filename)) {
		close(out->fd);
		out->fd = -1;
		rc = ga_err_set(err, GA_ENOTFOUND, "no such file");
	}
	close(dir_fd);
	index_file_clear(&file);
	return rc;
}

enum ga_rc
index_storage_open_file(struct index_storage *storage, const char *project,
			const char *filename, struct index_download *out, struct ga_err *err)
{
	return open_stored(storage, project, filename, false, out, err);
}

enum ga_rc
index_storage_open_metadata(struct index_storage *storage, const char *project,
			    const char *filename, struct index_download *out, struct ga_err *err)
{
	return open_stored(storage, project, filename, true, out, err);
}
