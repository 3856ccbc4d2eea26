/* index_storage_writer.c - an upload to a temporary file, then committed; see index_storage.h. */
#include "index/index_storage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "index/index_hash.h"
#include "index/index_storage_internal.h"
#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

struct index_storage_writer {
	struct index_storage *storage;
	int fd;
	char temp_name[sizeof(INDEX_TEMP_PREFIX) + 16];	/* in the root directory */
	bool moved;		/* the temporary name no longer exists */
	struct index_hash *hash;
	long long size;
	long long max_size;
	unsigned char head[8];
	size_t head_len;
};

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
		index_temp_name(writer->temp_name, sizeof(writer->temp_name), "");
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
	writer->hash = index_hash_new();
	if (writer->hash == NULL) {
		index_storage_writer_free(writer);
		return ga_err_set(err, GA_EIO, "cannot initialise the digests");
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
	if (index_write_all(writer->fd, data, len) != GA_OK)
		return ga_err_set(err, GA_EIO, "cannot write upload: %s", strerror(errno));
	index_hash_update(writer->hash, data, len);
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
index_storage_writer_digests(const struct index_storage_writer *writer,
			     struct index_digests *out)
{
	index_hash_digests(writer->hash, out);
}

int
index_storage_writer_reopen(const struct index_storage_writer *writer)
{
	if (writer->moved)
		return -1;
	return openat(writer->storage->root_fd, writer->temp_name,
		      O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
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

/* The record to store: the caller's fields, the writer's digests and size,
 * the METADATA's digest. */
static void
fill_record(const struct index_storage_writer *writer, const char *filename,
	    const struct index_commit *commit, struct index_file *stored)
{
	struct index_digests digests;

	*stored = (struct index_file){
		.filename = (char *)filename,
		.requires_python = commit->record->requires_python,
		.uploader = commit->record->uploader,
		.uploaded_at = commit->record->uploaded_at,
		.size = writer->size,
	};
	index_storage_writer_digests(writer, &digests);
	memcpy(stored->sha256, digests.sha256, sizeof(stored->sha256));
	memcpy(stored->md5, digests.md5, sizeof(stored->md5));
	memcpy(stored->blake2b_256, digests.blake2b_256, sizeof(stored->blake2b_256));
	if (commit->metadata != NULL) {
		uint8_t digest[32];

		ga_sha256(commit->metadata, commit->metadata_len, digest);
		ga_hex(digest, sizeof(digest), stored->metadata_sha256);
		stored->metadata_size = (long long)commit->metadata_len;
	}
}

/* Under the project's exclusive lock: refuse a deleted or taken name, then
 * METADATA, record, distribution, in that order. */
static enum ga_rc
commit_locked(struct index_storage_writer *writer, int project_fd, const char *filename,
	      const struct index_commit *commit, enum index_commit_conflict *conflict,
	      struct ga_err *err)
{
	char name[INDEX_NAME_ROOM];
	struct index_file stored;
	enum ga_rc rc;

	if (index_is_deleted(project_fd, filename)) {
		*conflict = INDEX_COMMIT_DELETED;
		return ga_err_set(err, GA_EINVAL, "%s was deleted", filename);
	}
	if (!commit->overwrite && index_exists_at(project_fd, filename)) {
		*conflict = INDEX_COMMIT_EXISTS;
		return ga_err_set(err, GA_EINVAL, "%s already exists", filename);
	}
	fill_record(writer, filename, commit, &stored);
	index_suffixed(name, filename, INDEX_METADATA_SUFFIX);
	if (commit->metadata != NULL) {
		rc = index_write_durably(project_fd, name, commit->metadata, commit->metadata_len,
					 err);
		if (rc != GA_OK)
			return rc;
	} else {
		/* An overwrite must not keep the METADATA of the old bytes. */
		unlinkat(project_fd, name, 0);
	}
	rc = index_record_write(project_fd, &stored, err);
	if (rc != GA_OK)
		return rc;
	if (move_into_place(writer, project_fd, filename, commit->overwrite) != 0) {
		bool exists = errno == EEXIST;

		*conflict = exists ? INDEX_COMMIT_EXISTS : INDEX_COMMIT_NO_CONFLICT;
		return ga_err_set(err, exists ? GA_EINVAL : GA_EIO, "%s: cannot store: %s",
				  filename, strerror(errno));
	}
	writer->moved = true;
	if (fsync(project_fd) != 0)
		return ga_err_set(err, GA_EIO, "cannot sync project directory: %s",
				  strerror(errno));
	return GA_OK;
}

enum ga_rc
index_storage_writer_commit(struct index_storage_writer *writer, const char *project,
			    const char *filename, const struct index_commit *commit,
			    enum index_commit_conflict *conflict, struct ga_err *err)
{
	enum ga_rc rc;
	int project_fd;

	*conflict = INDEX_COMMIT_NO_CONFLICT;
	if (writer->fd < 0)
		return ga_err_set(err, GA_EIO, "upload already finished");
	if (!index_is_distribution_name(filename)) {
		rc = ga_err_set(err, GA_EINVAL, "not a distribution filename");
		goto finished;
	}
	if (fsync(writer->fd) != 0) {
		rc = ga_err_set(err, GA_EIO, "cannot sync upload: %s", strerror(errno));
		goto finished;
	}
	rc = index_open_project(writer->storage, project, true, &project_fd, err);
	if (rc != GA_OK)
		goto finished;
	index_lock_dir(project_fd, LOCK_EX);
	rc = commit_locked(writer, project_fd, filename, commit, conflict, err);
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
	index_hash_free(writer->hash);
	ga_free(writer);
}
