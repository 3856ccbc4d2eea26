/*
 * index_storage.h - the built-in index's files on the local file system.
 *
 * Layout under storage_dir:
 *
 *   <project>/<filename>            the distribution, as uploaded
 *   <project>/<filename>.meta.json  its metadata record (sha256, size,
 *                                   requires_python, uploader, time, yanked)
 *   .upload-<random>                an upload in progress (root directory)
 *   <project>/.upload-<random>.meta a metadata record being written
 *
 * <project> is the PEP 503 normalised name.  Names starting with '.' are
 * never listed.
 *
 * Crash safety.  An upload streams into .upload-<random> in the root
 * (created O_EXCL, random name), which is fsync'd when complete.  The
 * commit then takes an exclusive flock(2) on the project directory, checks
 * that the filename is free (unless overwriting is allowed), writes the
 * metadata record (temporary file, fsync, rename, directory fsync), and only
 * then renames the distribution into place (renameat2 RENAME_NOREPLACE, or
 * link+unlink on file systems without it; a plain rename when overwriting)
 * and fsyncs the directory.  So a distribution file is visible only once
 * complete and once its metadata is durable; a kill -9 at any point leaves
 * at worst a temporary file or a metadata record without a distribution,
 * both invisible and removed by index_storage_open().  Two concurrent
 * uploads of one filename serialise on the lock: exactly one wins.
 * Readers take a shared lock while they pair a file with its metadata, so
 * an overwrite is never seen half done.
 *
 * A distribution without metadata cannot come from an upload; it is a file
 * an operator copied in.  index_storage_open() computes its record (sha256,
 * size, uploader ""), so copying files in and restarting imports them;
 * while running, such a file is treated as absent.
 *
 * One server process (any number of threads) per storage directory, or
 * several processes on one local file system (the locks are flock(2)).
 *
 * Thread-safety: a struct index_storage may be shared by any number of
 * threads after index_storage_open() returns; a writer belongs to one
 * thread at a time.
 */
#ifndef INDEX_STORAGE_H
#define INDEX_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/ga_err.h"

struct index_storage;
struct index_storage_writer;

/* Longest requires_python accepted and stored. */
#define INDEX_REQUIRES_PYTHON_MAX 1024

/* The metadata record of one stored file. */
struct index_file {
	char *filename;		/* owned */
	char sha256[65];	/* lower-case hex */
	long long size;		/* bytes */
	char *requires_python;	/* owned; NULL when none was given */
	char *uploader;		/* owned; GitHub login, "" when imported */
	long long uploaded_at;	/* Unix time */
	bool yanked;		/* PEP 592 */
	char *yanked_reason;	/* owned; NULL or the reason ("" allowed) */
};

struct index_file_list {
	struct index_file *files;	/* sorted by filename */
	size_t count;
};

struct index_name_list {
	char **names;			/* sorted; owned */
	size_t count;
};

/* What a download needs: the open file and its validators. */
struct index_download {
	int fd;			/* owned by the caller: close it (or give it to MHD) */
	long long size;
	long long mtime;	/* Unix time of the last modification */
	char sha256[65];	/* the ETag */
};

/*
 * Open (creating the last path component if missing, mode 0755) the
 * storage directory and clean it: remove temporary files and metadata
 * records without a distribution, and compute records for distributions
 * without one.  Logs what it removed or imported.  GA_EIO with a message
 * when the directory cannot be created or opened.
 */
enum ga_rc index_storage_open(const char *path, struct index_storage **out, struct ga_err *err);

/* Close the directory.  No writer may be alive.  NULL is fine. */
void index_storage_close(struct index_storage *storage);

/* The directory given to index_storage_open (borrowed). */
const char *index_storage_path(const struct index_storage *storage);

/*
 * Files of project (a PEP 503 key) with their metadata, sorted by filename
 * (free with index_file_list_free).  GA_ENOTFOUND (empty list) when the
 * project holds no file, GA_EIO on a file system error.
 */
enum ga_rc index_storage_list_files(struct index_storage *storage, const char *project,
				    struct index_file_list *list, struct ga_err *err);
void index_file_list_free(struct index_file_list *list);

/* Every project holding at least one file, sorted (free with
 * index_name_list_free).  GA_EIO on a file system error. */
enum ga_rc index_storage_list_projects(struct index_storage *storage,
				       struct index_name_list *list, struct ga_err *err);
void index_name_list_free(struct index_name_list *list);

/* true when project (a PEP 503 key) holds at least one file. */
bool index_storage_has_project(struct index_storage *storage, const char *project);

/*
 * Open filename of project for reading.  GA_ENOTFOUND when it does not
 * exist (or has no metadata), GA_EIO otherwise.  On GA_OK the caller owns
 * out->fd.
 */
enum ga_rc index_storage_open_file(struct index_storage *storage, const char *project,
				   const char *filename, struct index_download *out,
				   struct ga_err *err);

/*
 * Mark a stored file yanked (PEP 592) with a reason (may be ""), or not
 * yanked (reason ignored).  GA_ENOTFOUND when the file does not exist.
 */
enum ga_rc index_storage_set_yanked(struct index_storage *storage, const char *project,
				    const char *filename, bool yanked, const char *reason,
				    struct ga_err *err);

/*
 * Start an upload: a new temporary file that accepts at most max_size
 * bytes.  The writer borrows storage.  GA_EIO when the file cannot be
 * created.
 */
enum ga_rc index_storage_writer_begin(struct index_storage *storage, long long max_size,
				      struct index_storage_writer **out, struct ga_err *err);

/* Append len bytes (hashed on the way).  GA_ELIMIT past max_size (nothing
 * written), GA_EIO on a write error. */
enum ga_rc index_storage_writer_write(struct index_storage_writer *writer, const void *data,
				      size_t len, struct ga_err *err);

/* Bytes written so far. */
long long index_storage_writer_size(const struct index_storage_writer *writer);

/* The first bytes written (up to 8), to check a file's magic number. */
size_t index_storage_writer_head(const struct index_storage_writer *writer,
				 unsigned char head[8]);

/* Lower-case hex SHA-256 of everything written so far (the hash state is
 * copied, so more writes may follow). */
void index_storage_writer_sha256(const struct index_storage_writer *writer, char out[65]);

/*
 * Make the upload visible as project/filename with record (whose filename,
 * sha256 and size are ignored: the writer's are stored).  Follows the
 * protocol at the top of this file.  When the filename exists and overwrite
 * is false: GA_EINVAL and *exists = true, nothing changes.  GA_EIO on a file
 * system error.  Whatever the result, the writer is finished: free it.
 */
enum ga_rc index_storage_writer_commit(struct index_storage_writer *writer, const char *project,
				       const char *filename, const struct index_file *record,
				       bool overwrite, bool *exists, struct ga_err *err);

/* Remove the temporary file (unless committed) and free the writer.  NULL
 * is fine. */
void index_storage_writer_free(struct index_storage_writer *writer);

#endif
