/*
 * index_upload.h - the legacy upload API ("POST /legacy/", the form that
 * twine, poetry, flit and uv send), independent of the HTTP library.
 *
 * The HTTP layer feeds the multipart/form-data parts as libmicrohttpd's
 * post processor delivers them: for each part a key, the part's filename
 * (NULL for a plain field), and the value in chunks at increasing offsets.
 * The file part ("content") streams into a storage writer: never the whole
 * file in memory.  Permission is decided before a byte of it is stored:
 * ":action", "name" and "version" must come before the file part (twine,
 * poetry, uv and flit send every metadata field first), and the write
 * permission is checked when the file part begins.  A form whose file part
 * comes earlier is refused (400) without storing anything, so that a
 * member without write access cannot fill the disk.  Other fields may come
 * in any order.  Right before the file becomes visible the permission is
 * decided once more (recheck), against the organization as it is then: an
 * upload that took long cannot outlive a revocation.
 *
 * Fields used (others, such as description or classifiers, are counted
 * against a size cap and dropped):
 *   :action            must be "file_upload"
 *   protocol_version   "1" when present
 *   name, version      a PEP 508 name and a PEP 440 version
 *   filetype           "bdist_wheel" or "sdist", matching the filename
 *   sha256_digest, md5_digest, blake2_256_digest
 *                      hex; each one present must match the file (twine
 *                      4.x and poetry send all three); all three are
 *                      computed and stored, given or not
 *   requires_python    stored for data-requires-python ("" means none:
 *                      then a wheel's METADATA Requires-Python is used)
 *   content            the file part, with its filename: a wheel (PEP 427,
 *                      well-formed tags) or a PEP 625 sdist (legacy sdist
 *                      names with allow_legacy_sdist)
 *
 * A wheel's METADATA is read from the bytes received (index_wheel.h) and
 * must name the form's project and version; it is stored beside the file
 * (PEP 658).  A filename that was deleted is refused (400, PyPI's rule).
 *
 * Each refusal has a status (mapped to an HTTP code) and a one-line reason
 * without control characters that is safe to put in an HTTP reason phrase
 * and body (twine prints the reason phrase; poetry prints both).
 *
 * An upload is used by one thread at a time.
 */
#ifndef INDEX_UPLOAD_H
#define INDEX_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "index/index_filename.h"
#include "index/index_storage.h"

/* Longest value of a field the upload reads (the file part excepted). */
#define INDEX_UPLOAD_FIELD_MAX 1024
/* Most bytes of all ignored fields together (a long description fits). */
#define INDEX_UPLOAD_OTHER_MAX (16 * 1024 * 1024)

enum index_upload_status {
	INDEX_UPLOAD_OK = 0,
	INDEX_UPLOAD_BAD_REQUEST,	/* 400: malformed form, filename, version, hash,
					 * wheel; a deleted filename */
	INDEX_UPLOAD_FORBIDDEN,		/* 403: no write permission */
	INDEX_UPLOAD_CONFLICT,		/* 409: the filename exists */
	INDEX_UPLOAD_TOO_LARGE,		/* 413: over max_upload_size */
	INDEX_UPLOAD_ERROR,		/* 500: storage failure (logged) */
	INDEX_UPLOAD_UNAVAILABLE,	/* 503: the permission cannot be decided now */
};

/*
 * The write decision: may the uploader write project (a PEP 503 key)?
 * On false, write a one-line reason for the refusal.  Called at most once
 * per upload, from the thread that feeds it.
 */
typedef bool (*index_upload_may_write)(void *context, const char *project,
				       char reason[INDEX_REASON_MAX]);

/*
 * The decision again, right before the file is committed: INDEX_UPLOAD_OK,
 * INDEX_UPLOAD_FORBIDDEN or INDEX_UPLOAD_UNAVAILABLE (with a reason).
 */
typedef enum index_upload_status (*index_upload_recheck)(void *context, const char *project,
							 char reason[INDEX_REASON_MAX]);

struct index_upload_settings {
	struct index_storage *storage;	/* borrowed */
	long long max_size;		/* bytes of the file part */
	bool allow_overwrite;
	bool allow_legacy_sdist;	/* .zip and non-PEP 625 .tar.gz names */
	const char *uploader;		/* login stored in the record (borrowed) */
	index_upload_may_write may_write;
	index_upload_recheck recheck;	/* NULL: no second decision */
	void *context;			/* passed to may_write and recheck */
};

struct index_upload;

/* A new upload; settings and what it points to are borrowed until
 * index_upload_free(). */
struct index_upload *index_upload_new(const struct index_upload_settings *settings);

/*
 * One chunk of a part: key (the part's name), filename (the part's filename
 * or NULL), data[0 .. size-1] at offset within the part's value.  Returns
 * false once the upload is refused (later calls do nothing): the caller may
 * stop reading the body and answer with index_upload_status/reason.
 */
bool index_upload_feed(struct index_upload *upload, const char *key, const char *filename,
		       const char *data, uint64_t offset, size_t size);

/* The body ended: check everything and store the file.  Returns the final
 * status (also index_upload_status()).  Call once. */
enum index_upload_status index_upload_finish(struct index_upload *upload);

enum index_upload_status index_upload_status(const struct index_upload *upload);

/* The one-line reason of a refusal ("" when OK). */
const char *index_upload_reason(const struct index_upload *upload);

/* The HTTP status of a status (200, 400, 403, 409, 413, 500, 503). */
unsigned int index_upload_http_status(enum index_upload_status status);

/* The project key and filename once known (else ""), for the logs. */
const char *index_upload_project(const struct index_upload *upload);
const char *index_upload_filename(const struct index_upload *upload);

/* Remove whatever was not committed and free.  NULL is fine. */
void index_upload_free(struct index_upload *upload);

#endif
