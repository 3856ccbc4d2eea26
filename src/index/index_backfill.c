/* index_backfill.c - digests and METADATA for files stored before; see index_backfill.h. */
#include "index/index_backfill.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index/index_hash.h"
#include "index/index_storage_internal.h"
#include "index/index_wheel.h"
#include "util/ga_buf.h"
#include "util/ga_log.h"
#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

/* What one file needs, and what reading it found. */
struct work {
	bool digests;		/* MD5 and BLAKE2b-256 missing */
	bool metadata;		/* a wheel never tried */
	struct index_digests found;
	struct ga_buf text;	/* the METADATA, when extracted */
	bool extracted;
	char error[INDEX_REASON_MAX];	/* why not, when the wheel is at fault */
};

static bool
is_wheel(const char *filename)
{
	enum index_dist_type type;

	return index_filename_type(filename, &type) && type == INDEX_DIST_WHEEL;
}

/* Under the shared lock: the record and an open descriptor of the file. */
static int
open_for_work(int dir_fd, const char *filename, struct index_file *file, struct work *work)
{
	struct stat st;
	int fd;

	if (index_is_deleted(dir_fd, filename) || index_record_read(dir_fd, filename, file) != GA_OK)
		return -1;
	work->digests = file->md5[0] == '\0' || file->blake2b_256[0] == '\0';
	work->metadata = is_wheel(filename) && file->metadata_sha256[0] == '\0' &&
			 file->metadata_error == NULL;
	if (!work->digests && !work->metadata)
		return -1;
	fd = openat(dir_fd, filename, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != file->size)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Without a lock: hash and read the wheel.  false to leave it for later. */
static bool
read_file(int fd, const char *filename, const struct index_file *file, struct work *work,
	  bool (*stop)(void *context), void *context)
{
	long long size;

	if (work->digests) {
		if (!index_hash_fd(fd, &work->found, &size, stop, context))
			return false;
		if (strcmp(work->found.sha256, file->sha256) != 0) {
			ga_log(GA_LOG_ERROR, "index: file does not match its metadata record",
			       "file", filename, (char *)NULL);
			return false;
		}
	}
	if (work->metadata) {
		enum index_wheel_result result =
			index_wheel_metadata(fd, filename, &work->text, work->error);

		if (result == INDEX_WHEEL_ERROR)
			return false;
		work->extracted = result == INDEX_WHEEL_OK;
	}
	return true;
}

/* Under the exclusive lock: store what was found, if the record still
 * describes the bytes that were read. */
static bool
store(int dir_fd, const char *filename, const struct index_file *read, struct work *work,
      struct index_backfill_counts *counts)
{
	char name[INDEX_NAME_ROOM];
	struct index_file file;
	struct ga_err err;
	bool ok = false;

	if (index_is_deleted(dir_fd, filename) || !index_exists_at(dir_fd, filename) ||
	    index_record_read(dir_fd, filename, &file) != GA_OK)
		return false;
	if (strcmp(file.sha256, read->sha256) != 0 || file.size != read->size)
		goto done;	/* overwritten meanwhile: next time */
	if (work->digests) {
		memcpy(file.md5, work->found.md5, sizeof(file.md5));
		memcpy(file.blake2b_256, work->found.blake2b_256, sizeof(file.blake2b_256));
	}
	if (work->metadata && work->extracted) {
		uint8_t digest[32];

		index_suffixed(name, filename, INDEX_METADATA_SUFFIX);
		if (index_write_durably(dir_fd, name, work->text.data, work->text.len, &err) !=
		    GA_OK)
			goto failed;
		ga_sha256(work->text.data, work->text.len, digest);
		ga_hex(digest, sizeof(digest), file.metadata_sha256);
		file.metadata_size = (long long)work->text.len;
	} else if (work->metadata) {
		file.metadata_error = ga_strdup(work->error);
	}
	if (index_record_write(dir_fd, &file, &err) != GA_OK)
		goto failed;
	ok = true;
	counts->digests += work->digests;
	counts->metadata += work->metadata && work->extracted;
	counts->failed += work->metadata && !work->extracted;
	if (work->metadata && !work->extracted)
		ga_log(GA_LOG_WARN, "index: no core metadata for a stored wheel", "file",
		       filename, "reason", work->error, (char *)NULL);
	goto done;
failed:
	ga_log(GA_LOG_ERROR, "index: cannot complete a record", "file", filename, "error",
	       err.message, (char *)NULL);
done:
	index_file_clear(&file);
	return ok;
}

static void
backfill_file(struct index_storage *storage, const char *project, const char *filename,
	      bool (*stop)(void *context), void *context, struct index_backfill_counts *counts)
{
	struct work work = { 0 };
	struct index_file file = { 0 };
	int dir_fd, fd;

	if (index_open_project(storage, project, false, &dir_fd, NULL) != GA_OK)
		return;
	index_lock_dir(dir_fd, LOCK_SH);
	fd = open_for_work(dir_fd, filename, &file, &work);
	index_lock_dir(dir_fd, LOCK_UN);
	ga_buf_init(&work.text, 0);
	if (fd >= 0 && read_file(fd, filename, &file, &work, stop, context)) {
		index_lock_dir(dir_fd, LOCK_EX);
		store(dir_fd, filename, &file, &work, counts);
		index_lock_dir(dir_fd, LOCK_UN);
	}
	if (fd >= 0)
		close(fd);
	close(dir_fd);
	ga_buf_free(&work.text);
	index_file_clear(&file);
}

void
index_backfill_run(struct index_storage *storage, bool (*stop)(void *context), void *context,
		   struct index_backfill_counts *counts)
{
	struct index_name_list projects;
	struct ga_err err;

	memset(counts, 0, sizeof(*counts));
	if (index_storage_list_projects(storage, &projects, &err) != GA_OK)
		return;
	for (size_t p = 0; p < projects.count && !(stop && stop(context)); p++) {
		struct index_file_list files;

		if (index_storage_list_files(storage, projects.names[p], &files, &err) != GA_OK)
			continue;
		for (size_t f = 0; f < files.count && !(stop && stop(context)); f++) {
			const struct index_file *file = &files.files[f];
			bool wanted = file->md5[0] == '\0' || file->blake2b_256[0] == '\0' ||
				      (is_wheel(file->filename) && file->metadata_sha256[0] == '\0' &&
				       file->metadata_error == NULL);

			if (wanted)
				backfill_file(storage, projects.names[p], file->filename, stop,
					      context, counts);
		}
		index_file_list_free(&files);
	}
	index_name_list_free(&projects);
}

/* ----------------------------------------------------------------------
 * The thread
 */

struct index_backfill {
	struct index_storage *storage;
	pthread_t thread;
	atomic_bool stopping;
};

static bool
stopping(void *context)
{
	return atomic_load(&((struct index_backfill *)context)->stopping);
}

static void *
backfill_thread(void *arg)
{
	struct index_backfill *backfill = arg;
	struct index_backfill_counts counts;

	index_backfill_run(backfill->storage, stopping, backfill, &counts);
	if (counts.metadata > 0 || counts.failed > 0 || counts.digests > 0) {
		char metadata[16], failed[16], digests[16];

		snprintf(metadata, sizeof(metadata), "%u", counts.metadata);
		snprintf(failed, sizeof(failed), "%u", counts.failed);
		snprintf(digests, sizeof(digests), "%u", counts.digests);
		ga_log(GA_LOG_INFO, "index: stored files completed", "metadata", metadata,
		       "metadata_failed", failed, "digests", digests, (char *)NULL);
	}
	ga_log(GA_LOG_DEBUG, "index: backfill pass done", (char *)NULL);
	return NULL;
}

struct index_backfill *
index_backfill_start(struct index_storage *storage)
{
	struct index_backfill *backfill = ga_calloc(1, sizeof(*backfill));

	backfill->storage = storage;
	atomic_init(&backfill->stopping, false);
	if (pthread_create(&backfill->thread, NULL, backfill_thread, backfill) != 0) {
		ga_log(GA_LOG_ERROR, "index: cannot start the backfill thread", (char *)NULL);
		ga_free(backfill);
		return NULL;
	}
	return backfill;
}

void
index_backfill_stop(struct index_backfill *backfill)
{
	if (backfill == NULL)
		return;
	atomic_store(&backfill->stopping, true);
	pthread_join(backfill->thread, NULL);
	ga_free(backfill);
}
