/*
 * index_storage.h - the built-in index's files on the local file system.
 *
 * Layout under storage_dir:
 *
 *   <project>/<filename>            the distribution, as uploaded
 *   <project>/<filename>.meta.json  its record (digests, size,
 *                                   requires_python, uploader, time, yanked,
 *                                   the state of its core metadata)
 *   <project>/<filename>.metadata   a wheel's METADATA (PEP 658)
 *   <project>/<filename>.deleted    the name was deleted: never again
 *   .upload-<random>                an upload in progress (root directory)
 *   <project>/.upload-<random>.*    a record or metadata being written
 *
 * <project> is the PEP 503 normalised name.  Names starting with '.' are
 * never listed.
 *
 * Crash safety.  An upload streams into .upload-<random> in the root
 * (created O_EXCL, random name), which is fsync'd when complete.  The
 * commit then takes an exclusive flock(2) on the project directory, checks
 * that the filename was never deleted and is free (unless overwriting is
 * allowed), writes the METADATA and then the record (each: temporary file,
 * fsync, rename, directory fsync), and only then renames the distribution
 * into place (renameat2 RENAME_NOREPLACE, or link+unlink on file systems
 * without it; a plain rename when overwriting) and fsyncs the directory.
 * So a distribution file is visible only once complete and once its
 * record is durable; a kill -9 at any point leaves at worst a temporary
 * file, or a record or METADATA without a distribution, all invisible and
 * removed by index_storage_open().  Two concurrent uploads of one filename
 * serialise on the lock: exactly one wins.  Readers take a shared lock
 * while they pair a file with its record, so an overwrite is never seen
 * half done.
 *
 * A deletion (index_manage.h) writes <filename>.deleted first, then
 * removes the distribution, its record and METADATA: a name with a
 * .deleted file is absent whatever else is left, index_storage_open()
 * finishes an interrupted deletion, and no upload or import may use the
 * name again.
 *
 * A distribution without a record cannot come from an upload; it is a file
 * an operator copied in.  index_storage_open() computes its record (digests,
 * size, uploader ""), so copying files in and restarting imports them;
 * while running, such a file is treated as absent.  A record of an older
 * version (no MD5 or BLAKE2b-256, a wheel whose METADATA was never
 * extracted) is completed by index_backfill.h while the server runs.
 *
 * Several processes may use one storage directory on a local file system
 * (the locks are flock(2)): the server, and `ghaccess index` changing it
 * under the server; only the server cleans it (INDEX_STORAGE_OWNER).
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

#include "index/index_hash.h"
#include "util/ga_err.h"

struct index_storage;
struct index_storage_writer;

/* Longest requires_python accepted and stored. */
#define INDEX_REQUIRES_PYTHON_MAX 1024

/* The metadata record of one stored file. */
struct index_file {
	char *filename;		/* owned */
	char sha256[65];	/* lower-case hex */
	char md5[33];		/* lower-case hex; "" in records of older versions */
	char blake2b_256[65];	/* lower-case hex; "" in records of older versions */
	long long size;		/* bytes */
	char *requires_python;	/* owned; NULL when none was given */
	char *uploader;		/* owned; GitHub login, "" when imported */
	long long uploaded_at;	/* Unix time */
	bool yanked;		/* PEP 592 */
	char *yanked_reason;	/* owned; NULL or the reason ("" allowed) */
	char *yanked_by;	/* owned; who yanked it, or NULL */
	long long yanked_at;	/* Unix time, 0 when unknown */
	/* The core metadata (PEP 658): its SHA-256 when <filename>.metadata
	 * is stored; else "" and, once extraction was tried and failed (a
	 * wheel stored before this was checked), why. */
	char metadata_sha256[65];
	long long metadata_size;
	char *metadata_error;	/* owned; NULL unless extraction failed */
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

enum index_storage_mode {
	INDEX_STORAGE_OWNER = 0,	/* the server's index: clean at open */
	INDEX_STORAGE_SHARED,		/* another user of a storage in use */
};

/*
 * Open (creating the last path component if missing, mode 0755) the
 * storage directory.  The owner also cleans it: removes temporary files,
 * and records and METADATA without a distribution, finishes interrupted
 * deletions, and computes records for distributions without one (logging
 * what it removed or imported).  A shared opener must never clean: the
 * temporary files may be uploads in progress.  GA_EIO with a message when
 * the directory cannot be created or opened.
 */
enum ga_rc index_storage_open(const char *path, enum index_storage_mode mode,
			      struct index_storage **out, struct ga_err *err);

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
 * Open the METADATA of filename (PEP 658) for reading, with its SHA-256 as
 * out->sha256.  GA_ENOTFOUND when the file does not exist or its record
 * announces no METADATA; GA_EIO when the METADATA is not the size its
 * record says.  On GA_OK the caller owns out->fd.
 */
enum ga_rc index_storage_open_metadata(struct index_storage *storage, const char *project,
				       const char *filename, struct index_download *out,
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

/* The digests of everything written so far (the hash state is copied, so
 * more writes may follow). */
void index_storage_writer_digests(const struct index_storage_writer *writer,
				  struct index_digests *out);

/* A new read-only descriptor of what was written (the caller closes it),
 * or -1. */
int index_storage_writer_reopen(const struct index_storage_writer *writer);

/* What a commit stores besides the writer's bytes. */
struct index_commit {
	/* requires_python, uploader, uploaded_at (the filename, digests and
	 * size are the writer's; yanked and the metadata fields are reset). */
	const struct index_file *record;
	const char *metadata;		/* a wheel's METADATA, or NULL */
	size_t metadata_len;
	bool overwrite;			/* [index] allow_overwrite */
};

enum index_commit_conflict {
	INDEX_COMMIT_NO_CONFLICT = 0,
	INDEX_COMMIT_EXISTS,		/* the filename is stored (no overwrite) */
	INDEX_COMMIT_DELETED,		/* the filename was deleted: never again */
};

/*
 * Make the upload visible as project/filename, following the protocol at
 * the top of this file.  When the filename was deleted, or exists and
 * overwrite is false: GA_EINVAL with *conflict saying which, nothing
 * changes.  GA_EIO on a file system error.  Whatever the result, the
 * writer is finished: free it.
 */
enum ga_rc index_storage_writer_commit(struct index_storage_writer *writer, const char *project,
				       const char *filename, const struct index_commit *commit,
				       enum index_commit_conflict *conflict, struct ga_err *err);

/* Remove the temporary file (unless committed) and free the writer.  NULL
 * is fine. */
void index_storage_writer_free(struct index_storage_writer *writer);

#endif
