/*
 * index_storage_internal.h - how the storage files talk to each other
 * (index_storage.c: opening, cleaning, listing, reading;
 * index_storage_record.c: records, tombstones and durable small files;
 * index_storage_writer.c: uploads; index_manage.c: yank and delete;
 * index_backfill.c: completing old records).  Not for other modules.
 *
 * Every function taking a dir_fd works in a project directory whose lock
 * the caller holds (shared to read, exclusive to change), and never
 * follows a symbolic link.
 */
#ifndef INDEX_STORAGE_INTERNAL_H
#define INDEX_STORAGE_INTERNAL_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>

#include "index/index_filename.h"
#include "index/index_storage.h"

#define INDEX_TEMP_PREFIX ".upload-"
#define INDEX_RECORD_SUFFIX ".meta.json"
#define INDEX_METADATA_SUFFIX ".metadata"
#define INDEX_DELETED_SUFFIX ".deleted"
/* Room for a stored name with any suffix above. */
#define INDEX_NAME_ROOM (INDEX_FILENAME_MAX + sizeof(INDEX_RECORD_SUFFIX))

struct index_storage {
	char *path;
	int root_fd;		/* O_DIRECTORY, kept open: every access is *at() */
};

/* flock(2), retried on EINTR. */
int index_lock_dir(int fd, int operation);

/*
 * Open the directory of project (a PEP 503 key, checked here: no path
 * trick reaches an *at() call); with create, make it first (and fsync the
 * root).  GA_ENOTFOUND when it does not exist and create is false.
 */
enum ga_rc index_open_project(struct index_storage *storage, const char *project, bool create,
			      int *fd, struct ga_err *err);

/* A directory stream of dir_fd with its own read position, or NULL. */
DIR *index_open_stream(int dir_fd);

bool index_exists_at(int dir_fd, const char *name);

/* name + suffix into out (INDEX_NAME_ROOM bytes). */
void index_suffixed(char out[INDEX_NAME_ROOM], const char *name, const char *suffix);

/* A name that may be a stored distribution (not a record, temp, ...). */
bool index_is_distribution_name(const char *name);

/* true when filename has a .deleted file in dir_fd. */
bool index_is_deleted(int dir_fd, const char *filename);

/* A random temporary name with INDEX_TEMP_PREFIX and suffix. */
void index_temp_name(char *out, size_t size, const char *suffix);

/* write(2) all of data, retried on EINTR. */
enum ga_rc index_write_all(int fd, const void *data, size_t len);

/*
 * Write data as dir_fd/name durably: a temporary file, fsync, rename over
 * name, fsync of the directory.
 */
enum ga_rc index_write_durably(int dir_fd, const char *name, const void *data, size_t len,
			       struct ga_err *err);

/* Free what a record owns and zero it. */
void index_file_clear(struct index_file *file);

/* Read filename's record.  GA_ENOTFOUND when there is none, or it is
 * unreadable (logged: such a file is treated as absent). */
enum ga_rc index_record_read(int dir_fd, const char *filename, struct index_file *file);

/* Write file's record (index_write_durably). */
enum ga_rc index_record_write(int dir_fd, const struct index_file *file, struct ga_err *err);

/* Write filename's .deleted file: who, when, why, and the digest of what
 * was deleted (index_write_durably). */
enum ga_rc index_tombstone_write(int dir_fd, const struct index_file *file, const char *by,
				 const char *reason, struct ga_err *err);

/* Remove filename, its record and its METADATA (whichever exist), then
 * fsync the directory. */
void index_remove_stored(int dir_fd, const char *filename);

/*
 * Compute the record of filename, a distribution without one (copied in by
 * an operator): digests, size, uploader "", its modification time.  Not
 * for a deleted name.  false (logged) when it cannot.
 */
bool index_import_file(int dir_fd, const char *filename);

#endif
