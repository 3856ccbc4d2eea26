/* index_upload.c - the legacy upload form, streamed to storage; see index_upload.h. */
#include "index/index_upload.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "index/index_hash.h"
#include "index/index_metadata.h"
#include "index/index_version.h"
#include "index/index_wheel.h"
#include "org/org_names.h"
#include "util/ga_buf.h"
#include "util/ga_err.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

/* The fields the upload reads; the rest are FIELD_OTHER. */
enum field_id {
	FIELD_ACTION = 0,
	FIELD_PROTOCOL_VERSION,
	FIELD_NAME,
	FIELD_VERSION,
	FIELD_FILETYPE,
	FIELD_SHA256,
	FIELD_MD5,
	FIELD_BLAKE2_256,
	FIELD_REQUIRES_PYTHON,
	FIELD_COUNT,
	FIELD_OTHER = FIELD_COUNT,
	FIELD_CONTENT,
	FIELD_NONE,		/* before the first part */
};

static const char *const field_names[FIELD_COUNT] = {
	":action", "protocol_version", "name", "version", "filetype", "sha256_digest",
	"md5_digest", "blake2_256_digest", "requires_python",
};

struct field {
	bool present;
	struct ga_buf value;
};

struct index_upload {
	struct index_upload_settings settings;
	enum index_upload_status status;
	char reason[INDEX_REASON_MAX];
	bool finished;

	struct field fields[FIELD_COUNT];
	long long other_bytes;

	/* The part being received. */
	enum field_id current;
	char current_key[64];		/* to check that chunks continue it */
	uint64_t current_received;

	/* The file part. */
	bool has_content;
	char filename[INDEX_FILENAME_MAX + 1];
	struct index_storage_writer *writer;

	bool permission_checked;
	char project[ORG_PACKAGE_NAME_MAX];	/* PEP 503 key, once validated */

	/* A wheel's METADATA, read from the stored bytes before the commit. */
	struct ga_buf metadata;
	bool has_metadata;
};

static bool
refuse(struct index_upload *upload, enum index_upload_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static bool check_form(struct index_upload *upload);

/* Record the first refusal; later ones do not replace it. */
static bool
refuse(struct index_upload *upload, enum index_upload_status status, const char *fmt, ...)
{
	va_list ap;

	if (upload->status != INDEX_UPLOAD_OK)
		return false;
	upload->status = status;
	va_start(ap, fmt);
	vsnprintf(upload->reason, sizeof(upload->reason), fmt, ap);
	va_end(ap);
	/* One line, printable: it becomes an HTTP reason phrase. */
	for (char *c = upload->reason; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	return false;
}

/* true when a client's value may be quoted in a reason: short, printable. */
static bool
quotable(const char *value)
{
	size_t len = strlen(value);

	if (len == 0 || len > 40)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)value[i] < 0x20 || (unsigned char)value[i] >= 0x7f ||
		    value[i] == '"')
			return false;
	return true;
}

static const char *
field_text(const struct index_upload *upload, enum field_id id)
{
	return upload->fields[id].present ? ga_buf_cstr(&upload->fields[id].value) : NULL;
}

struct index_upload *
index_upload_new(const struct index_upload_settings *settings)
{
	struct index_upload *upload = ga_calloc(1, sizeof(*upload));

	upload->settings = *settings;
	upload->current = FIELD_NONE;
	for (int i = 0; i < FIELD_COUNT; i++)
		ga_buf_init(&upload->fields[i].value, INDEX_UPLOAD_FIELD_MAX);
	ga_buf_init(&upload->metadata, INDEX_METADATA_MAX);
	return upload;
}

/* ----------------------------------------------------------------------
 * Project name and permission: as early as possible
 */

static bool
check_project(struct index_upload *upload)
{
	const char *name = field_text(upload, FIELD_NAME);
	char reason[INDEX_REASON_MAX];

	if (upload->permission_checked)
		return upload->status == INDEX_UPLOAD_OK;
	upload->permission_checked = true;
	if (name == NULL)
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST, "missing field: name");
	if (!org_is_valid_project_name(name, strlen(name)) ||
	    !org_normalize_package(name, strlen(name), upload->project, sizeof(upload->project)))
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST, "invalid project name%s%s%s",
			      quotable(name) ? " \"" : "", quotable(name) ? name : "",
			      quotable(name) ? "\"" : "");
	snprintf(reason, sizeof(reason), "no write permission on %s", upload->project);
	if (upload->settings.may_write != NULL &&
	    !upload->settings.may_write(upload->settings.context, upload->project, reason)) {
		reason[INDEX_REASON_MAX - 1] = '\0';
		return refuse(upload, INDEX_UPLOAD_FORBIDDEN, "%s", reason);
	}
	return true;
}

/* ----------------------------------------------------------------------
 * Feeding parts
 */

static enum field_id
identify(const char *key, const char *filename)
{
	if (strcmp(key, "content") == 0)
		return FIELD_CONTENT;
	if (filename != NULL)
		return FIELD_OTHER;	/* e.g. gpg_signature: not used */
	for (int i = 0; i < FIELD_COUNT; i++)
		if (strcmp(key, field_names[i]) == 0)
			return (enum field_id)i;
	return FIELD_OTHER;
}

static bool
begin_content(struct index_upload *upload, const char *filename)
{
	char reason[INDEX_REASON_MAX];
	struct ga_err err;

	if (upload->has_content)
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST, "more than one file part");
	if (filename == NULL)
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST,
			      "content must be a file part with a filename");
	if (!index_filename_is_safe(filename, reason))
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST, "%s", reason);
	upload->has_content = true;
	snprintf(upload->filename, sizeof(upload->filename), "%s", filename);
	/* Decide before storing a byte: the fields that say what is uploaded
	 * must have come (twine, poetry and uv send them first). */
	if (!upload->fields[FIELD_ACTION].present || !upload->fields[FIELD_NAME].present ||
	    !upload->fields[FIELD_VERSION].present)
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST,
			      "form fields out of order: :action, name and version must come before "
			      "the file (content), as twine, poetry and uv send them");
	if (!check_form(upload) || !check_project(upload))
		return false;
	if (index_storage_writer_begin(upload->settings.storage, upload->settings.max_size,
				       &upload->writer, &err) != GA_OK) {
		ga_log(GA_LOG_ERROR, "index upload: cannot store", "error", err.message, (char *)NULL);
		return refuse(upload, INDEX_UPLOAD_ERROR, "cannot store the upload");
	}
	return true;
}

/* Start a new part: the previous one is complete. */
static bool
begin_part(struct index_upload *upload, const char *key, const char *filename)
{
	enum field_id id = identify(key, filename);

	upload->current = id;
	snprintf(upload->current_key, sizeof(upload->current_key), "%s", key);
	upload->current_received = 0;
	if (id == FIELD_CONTENT)
		return begin_content(upload, filename);
	if (id < FIELD_COUNT) {
		if (upload->fields[id].present)
			return refuse(upload, INDEX_UPLOAD_BAD_REQUEST,
				      "field %s given more than once", field_names[id]);
		upload->fields[id].present = true;
	}
	return true;
}

static bool
take_chunk(struct index_upload *upload, const char *data, size_t size)
{
	struct ga_err err;
	enum ga_rc rc;

	switch (upload->current) {
	case FIELD_CONTENT:
		rc = index_storage_writer_write(upload->writer, data, size, &err);
		if (rc == GA_ELIMIT)
			return refuse(upload, INDEX_UPLOAD_TOO_LARGE,
				      "file larger than the index accepts (max_upload_size = "
				      "%lld bytes)",
				      upload->settings.max_size);
		if (rc != GA_OK) {
			ga_log(GA_LOG_ERROR, "index upload: cannot store", "error", err.message,
			       (char *)NULL);
			return refuse(upload, INDEX_UPLOAD_ERROR, "cannot store the upload");
		}
		return true;
	case FIELD_OTHER:
		upload->other_bytes += (long long)size;
		if (upload->other_bytes > INDEX_UPLOAD_OTHER_MAX)
			return refuse(upload, INDEX_UPLOAD_TOO_LARGE,
				      "form fields larger than %d bytes", INDEX_UPLOAD_OTHER_MAX);
		return true;
	case FIELD_NONE:
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST, "malformed form");
	default:
		if (!ga_buf_append(&upload->fields[upload->current].value, data, size))
			return refuse(upload, INDEX_UPLOAD_BAD_REQUEST, "field %s is too long",
				      field_names[upload->current]);
		return true;
	}
}

/*
 * A chunk continues the current part when it has the same key and starts
 * where the last chunk ended.  Offset 0 with the same key and nothing
 * received yet also continues it: the post processor may announce a part
 * with an empty chunk before its data.
 */
static bool
continues_current(const struct index_upload *upload, const char *key, uint64_t offset)
{
	return upload->current != FIELD_NONE && strcmp(key, upload->current_key) == 0 &&
	       offset == upload->current_received && (offset > 0 || upload->current_received == 0);
}

bool
index_upload_feed(struct index_upload *upload, const char *key, const char *filename,
		  const char *data, uint64_t offset, size_t size)
{
	if (upload->status != INDEX_UPLOAD_OK || upload->finished)
		return false;
	if (key == NULL || (size > 0 && data == NULL))
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST, "malformed form");
	if (!continues_current(upload, key, offset)) {
		if (offset != 0)
			return refuse(upload, INDEX_UPLOAD_BAD_REQUEST, "malformed form");
		if (!begin_part(upload, key, filename))
			return false;
	}
	if (size == 0)
		return true;
	if (!take_chunk(upload, data, size))
		return false;
	upload->current_received += size;
	return true;
}

/* ----------------------------------------------------------------------
 * Final checks
 */

static bool
check_form(struct index_upload *upload)
{
	const char *action = field_text(upload, FIELD_ACTION);
	const char *protocol = field_text(upload, FIELD_PROTOCOL_VERSION);

	if (action == NULL)
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST,
			      "missing field: :action (expected file_upload)");
	if (strcmp(action, "file_upload") != 0)
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST,
			      "unsupported :action (only file_upload)");
	if (protocol != NULL && strcmp(protocol, "1") != 0)
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST,
			      "unsupported protocol_version (expected 1)");
	return true;
}

static bool
check_version_and_type(struct index_upload *upload, enum index_dist_type *type)
{
	const char *version = field_text(upload, FIELD_VERSION);
	const char *filetype = field_text(upload, FIELD_FILETYPE);
	char reason[INDEX_REASON_MAX];

	if (version == NULL)
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST, "missing field: version");
	if (!index_version_is_valid(version, strlen(version)))
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST, "invalid version%s%s%s (see PEP 440)",
			      quotable(version) ? " \"" : "", quotable(version) ? version : "",
			      quotable(version) ? "\"" : "");
	if (filetype == NULL)
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST, "missing field: filetype");
	if (strcmp(filetype, "bdist_wheel") != 0 && strcmp(filetype, "sdist") != 0)
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST,
			      "unsupported filetype (only bdist_wheel and sdist)");
	if (!upload->has_content)
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST, "missing file part: content");
	if (!index_filename_check(upload->filename, upload->project, version,
				  upload->settings.allow_legacy_sdist, type, reason))
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST, "%s", reason);
	if ((*type == INDEX_DIST_WHEEL) != (strcmp(filetype, "bdist_wheel") == 0))
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST, "filetype %s does not match %s",
			      filetype, upload->filename);
	return true;
}

/*
 * A digest field, when given, must be hex of the right length and equal
 * the digest of the bytes received (twine and poetry send all three; the
 * MD5 and BLAKE2b-256 may be all a client sends).
 */
static bool
check_digest(struct index_upload *upload, enum field_id id, size_t hex_len, const char *computed)
{
	const char *given = field_text(upload, id);

	if (given == NULL)
		return true;
	if (!index_hash_is_hex(given, hex_len))
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST, "%s is not %zu hexadecimal digits",
			      field_names[id], hex_len);
	if (strcasecmp(given, computed) != 0)
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST,
			      "%s does not match the uploaded file (file %s %s): the upload was "
			      "damaged, send it again",
			      field_names[id], id == FIELD_MD5 ? "md5" :
			      id == FIELD_BLAKE2_256 ? "blake2_256" : "sha256", computed);
	return true;
}

/* The file itself: not empty, the digest it was sent with, the archive
 * format its name promises (zip: "PK\3\4"; tar.gz: gzip's 1f 8b). */
static bool
check_file(struct index_upload *upload, enum index_dist_type type)
{
	struct index_digests digests;
	unsigned char head[8];
	size_t head_len = index_storage_writer_head(upload->writer, head);
	size_t name_len = strlen(upload->filename);
	bool gzip = name_len > 7 && strcmp(upload->filename + name_len - 7, ".tar.gz") == 0;

	if (index_storage_writer_size(upload->writer) == 0)
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST, "empty file");
	index_storage_writer_digests(upload->writer, &digests);
	if (!check_digest(upload, FIELD_SHA256, 64, digests.sha256) ||
	    !check_digest(upload, FIELD_MD5, 32, digests.md5) ||
	    !check_digest(upload, FIELD_BLAKE2_256, 64, digests.blake2b_256))
		return false;
	if (gzip && (head_len < 2 || head[0] != 0x1f || head[1] != 0x8b))
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST, "%s is not a gzip file",
			      upload->filename);
	if (!gzip && (head_len < 4 || memcmp(head, "PK\3\4", 4) != 0))
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST, "%s is not a zip archive%s",
			      upload->filename, type == INDEX_DIST_WHEEL ? " (a wheel is one)" : "");
	return true;
}

/* requires_python: printable UTF-8 text (it ends up in HTML and JSON). */
static bool
check_requires_python(struct index_upload *upload)
{
	const struct ga_buf *value = &upload->fields[FIELD_REQUIRES_PYTHON].value;

	for (size_t i = 0; i < value->len; i++) {
		unsigned char c = (unsigned char)value->data[i];

		if (c < 0x20 || c == 0x7f || c >= 0x80)
			return refuse(upload, INDEX_UPLOAD_BAD_REQUEST,
				      "invalid requires_python (printable ASCII only)");
	}
	return true;
}

/*
 * A wheel's METADATA, read from the bytes received (index_wheel.h): the
 * form's name and version are the filename's (checked before), so a
 * METADATA that names another project or version is refused here.  With
 * no requires_python in the form, the METADATA's Requires-Python is used.
 */
static bool
check_metadata(struct index_upload *upload, enum index_dist_type type)
{
	char reason[INDEX_REASON_MAX];
	enum index_wheel_result result;
	int fd;

	if (type != INDEX_DIST_WHEEL)
		return true;
	fd = index_storage_writer_reopen(upload->writer);
	if (fd < 0) {
		ga_log(GA_LOG_ERROR, "index upload: cannot read the upload back", (char *)NULL);
		return refuse(upload, INDEX_UPLOAD_ERROR, "cannot store the upload");
	}
	result = index_wheel_metadata(fd, upload->filename, &upload->metadata, reason);
	close(fd);
	if (result == INDEX_WHEEL_ERROR) {
		ga_log(GA_LOG_ERROR, "index upload: cannot read the wheel", "error", reason,
		       (char *)NULL);
		return refuse(upload, INDEX_UPLOAD_ERROR, "cannot store the upload");
	}
	if (result != INDEX_WHEEL_OK)
		return refuse(upload, INDEX_UPLOAD_BAD_REQUEST, "invalid wheel %s: %s",
			      upload->filename, reason);
	upload->has_metadata = true;
	return true;
}

/* Requires-Python of the METADATA, when the form gave none: copied into
 * the form's field so that the record stores it. */
static void
requires_python_from_metadata(struct index_upload *upload)
{
	struct field *field = &upload->fields[FIELD_REQUIRES_PYTHON];
	const struct index_metadata_field *value;
	struct index_metadata metadata;
	char reason[INDEX_REASON_MAX];

	if (!upload->has_metadata || (field->present && field->value.len > 0) ||
	    !index_metadata_parse(upload->metadata.data, upload->metadata.len, &metadata, reason))
		return;
	value = index_metadata_get(&metadata, "Requires-Python");
	if (value != NULL && value->value_len > 0 && value->value_len <= INDEX_UPLOAD_FIELD_MAX) {
		bool printable = true;

		for (size_t i = 0; i < value->value_len; i++)
			printable &= value->value[i] >= 0x20 && value->value[i] < 0x7f;
		if (printable) {
			ga_buf_reset(&field->value);
			ga_buf_append(&field->value, value->value, value->value_len);
			field->present = true;
		}
	}
	index_metadata_free(&metadata);
}

/* The decision again, against the organization as it is now: the upload
 * may have streamed for minutes. */
static bool
recheck(struct index_upload *upload)
{
	char reason[INDEX_REASON_MAX];
	enum index_upload_status status;

	if (upload->settings.recheck == NULL)
		return true;
	snprintf(reason, sizeof(reason), "no write permission on %s any more", upload->project);
	status = upload->settings.recheck(upload->settings.context, upload->project, reason);
	if (status == INDEX_UPLOAD_OK)
		return true;
	reason[INDEX_REASON_MAX - 1] = '\0';
	return refuse(upload,
		      status == INDEX_UPLOAD_UNAVAILABLE ? INDEX_UPLOAD_UNAVAILABLE
							 : INDEX_UPLOAD_FORBIDDEN,
		      "%s", reason);
}

static enum index_upload_status
commit(struct index_upload *upload)
{
	const char *requires_python = field_text(upload, FIELD_REQUIRES_PYTHON);
	struct index_file record = { 0 };
	struct index_commit commit = { .record = &record };
	enum index_commit_conflict conflict;
	struct ga_err err;
	enum ga_rc rc;

	record.requires_python =
		requires_python != NULL && requires_python[0] != '\0' ? (char *)requires_python : NULL;
	record.uploader = (char *)(upload->settings.uploader ? upload->settings.uploader : "");
	record.uploaded_at = (long long)time(NULL);
	commit.metadata = upload->has_metadata ? ga_buf_cstr(&upload->metadata) : NULL;
	commit.metadata_len = upload->has_metadata ? upload->metadata.len : 0;
	commit.overwrite = upload->settings.allow_overwrite;
	rc = index_storage_writer_commit(upload->writer, upload->project, upload->filename, &commit,
					 &conflict, &err);
	if (rc == GA_OK)
		return INDEX_UPLOAD_OK;
	if (conflict == INDEX_COMMIT_DELETED) {
		/* PyPI's words (400): a deleted filename is never reused, and
		 * twine --skip-existing must not take it for an existing file. */
		refuse(upload, INDEX_UPLOAD_BAD_REQUEST,
		       "This filename has already been used: %s was deleted and its name can "
		       "never be reused; upload a new version",
		       upload->filename);
		return upload->status;
	}
	if (conflict == INDEX_COMMIT_EXISTS) {
		refuse(upload, INDEX_UPLOAD_CONFLICT,
		       "file already exists: %s (a stored file is never replaced; upload a new "
		       "version)",
		       upload->filename);
		return upload->status;
	}
	ga_log(GA_LOG_ERROR, "index upload: cannot store", "project", upload->project, "file",
	       upload->filename, "error", err.message, (char *)NULL);
	refuse(upload, INDEX_UPLOAD_ERROR, "cannot store the upload");
	return upload->status;
}

enum index_upload_status
index_upload_finish(struct index_upload *upload)
{
	enum index_dist_type type;

	if (upload->finished)
		return upload->status;
	upload->finished = true;
	if (upload->status != INDEX_UPLOAD_OK)
		return upload->status;
	if (!check_form(upload) || !check_project(upload) ||
	    !check_version_and_type(upload, &type) || !check_file(upload, type) ||
	    !check_requires_python(upload) || !check_metadata(upload, type))
		return upload->status;
	requires_python_from_metadata(upload);
	if (!recheck(upload))
		return upload->status;
	return commit(upload);
}

enum index_upload_status
index_upload_status(const struct index_upload *upload)
{
	return upload->status;
}

const char *
index_upload_reason(const struct index_upload *upload)
{
	return upload->reason;
}

unsigned int
index_upload_http_status(enum index_upload_status status)
{
	switch (status) {
	case INDEX_UPLOAD_OK:
		return 200;
	case INDEX_UPLOAD_BAD_REQUEST:
		return 400;
	case INDEX_UPLOAD_FORBIDDEN:
		return 403;
	case INDEX_UPLOAD_CONFLICT:
		return 409;
	case INDEX_UPLOAD_TOO_LARGE:
		return 413;
	case INDEX_UPLOAD_UNAVAILABLE:
		return 503;
	case INDEX_UPLOAD_ERROR:
		break;
	}
	return 500;
}

const char *
index_upload_project(const struct index_upload *upload)
{
	return upload->project;
}

const char *
index_upload_filename(const struct index_upload *upload)
{
	return upload->filename;
}

void
index_upload_free(struct index_upload *upload)
{
	if (upload == NULL)
		return;
	index_storage_writer_free(upload->writer);
	for (int i = 0; i < FIELD_COUNT; i++)
		ga_buf_free(&upload->fields[i].value);
	ga_buf_free(&upload->metadata);
	ga_free(upload);
}
