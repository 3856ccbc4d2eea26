/*
 * http_index.c - the built-in package index: the simple API (PEP 503 HTML,
 * PEP 691 JSON), downloads at /packages/, and the legacy upload API.
 *
 * Every request needs a GitHub login and token (Basic).  Decisions come
 * from index_access_decide() over the request's snapshot.  A package the
 * caller may not read answers 404, as if it did not exist.  Routes:
 *
 *   GET /simple/                 the packages the caller may read
 *   GET /simple/<name>/          one package's files (non-normalised
 *                                names redirect to the normalised URL;
 *                                an unclaimed name the index does not hold
 *                                redirects to [index] fallback_url)
 *   GET /packages/<name>/<file>  the file, zero-copy, with ETag and Range
 *   GET /packages/<name>/<file>.metadata   its core metadata (PEP 658)
 *   GET /pypi/<name>/json, /pypi/<name>/<version>/json   http_index_json.c
 *   POST /legacy/ (and /)        upload (twine, poetry, flit, uv)
 *
 * The front end owns the storage: it cleans it at start and completes the
 * records of files stored before (index_backfill.h) on a thread of its own.
 */
#include "http/http.h"
#include "http/http_index.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "http/http_audit.h"
#include "http/http_login.h"
#include "http/http_publisher.h"
#include "http/http_reason.h"
#include "index/index_access.h"
#include "index/index_backfill.h"
#include "index/index_simple.h"
#include "index/index_storage.h"
#include "index/index_upload.h"
#include "org/org_names.h"
#include "util/ga_buf.h"
#include "util/ga_limit.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

#define GET_OR_HEAD (HTTP_GET | HTTP_HEAD)
/* Multipart framing and the ignored form fields on top of the file. */
#define UPLOAD_OVERHEAD ((long long)INDEX_UPLOAD_OTHER_MAX + 1024 * 1024)
/* libmicrohttpd's post processor buffer: one form field header must fit. */
#define POST_BUFFER_SIZE (64 * 1024)

/* ---- answers ------------------------------------------------------- */

/* A plain-text answer whose reason phrase is the text (see http_reason.h). */
static void
respond_text(struct http_request *request, unsigned status, const char *text,
	     const char *location)
{
	http_respond_text(request, status, text, MHD_HTTP_HEADER_LOCATION, location);
}

static void
respond_not_found(struct http_request *request)
{
	respond_text(request, MHD_HTTP_NOT_FOUND, "Not Found", NULL);
}

static void
redirect(struct http_request *request, unsigned status, const char *location)
{
	respond_text(request, status, "redirect", location);
}

/* ---- state --------------------------------------------------------- */

static bool
index_enabled(const struct config *config)
{
	return config->index_storage_dir != NULL && config->index_storage_dir[0] != '\0';
}

/* What the index keeps while the server runs. */
struct index_state {
	struct index_storage *storage;
	/* Uploads in progress: [index] max_concurrent_uploads in all,
	 * max_concurrent_uploads_per_user, and the disk they may take
	 * (max_upload_disk, each reserving what its Content-Length allows). */
	struct ga_limit *uploads;
	struct index_backfill *backfill;	/* completing old records */
};

static enum ga_rc
index_start(const struct config *config, void **state, struct ga_err *err)
{
	struct index_state *index = ga_calloc(1, sizeof(*index));
	enum ga_rc rc = index_storage_open(config->index_storage_dir, INDEX_STORAGE_OWNER,
					   &index->storage, err);

	if (rc != GA_OK) {
		ga_free(index);
		*state = NULL;
		return rc;
	}
	/* Read at start, like the listening address: a reload does not
	 * resize the bounds while uploads hold them. */
	index->uploads = ga_limit_create((unsigned)config->index_max_concurrent_uploads,
					 (unsigned)config->index_max_concurrent_uploads_per_user,
					 config->index_max_upload_disk);
	index->backfill = index_backfill_start(index->storage);
	*state = index;
	return GA_OK;
}

static void
index_stop(void *state)
{
	struct index_state *index = state;

	if (index == NULL)
		return;
	index_backfill_stop(index->backfill);
	index_storage_close(index->storage);
	ga_limit_destroy(index->uploads);
	ga_free(index);
}

struct index_storage *
http_index_storage(struct http_request *request)
{
	return ((struct index_state *)request->frontend_state)->storage;
}

static struct index_storage *
storage_of(struct http_request *request)
{
	return http_index_storage(request);
}

struct index_access
http_index_access(struct http_request *request, const struct http_login *login,
		  const char *project, bool stored)
{
	if (login->publisher_set)	/* trusted publishing: the repository's scope */
		return http_publisher_access(request, login, project, stored);
	return index_access_decide(login->snapshot, login->member, project, stored,
				   service_config(request->service)->index_unclaimed);
}

static struct index_access
access_of(struct http_request *request, const struct http_login *login, const char *project,
	  bool stored)
{
	return http_index_access(request, login, project, stored);
}

bool
http_index_logged_in(struct http_request *request, struct http_login *login)
{
	http_login_check(request, login);
	if (login->status == HTTP_LOGIN_OK)
		return true;
	http_login_refuse(request, login);
	return false;
}

static bool
logged_in(struct http_request *request, struct http_login *login)
{
	return http_index_logged_in(request, login);
}

/* A body (taken) with status, its type and the index's cache rule. */
static void
respond_body(struct http_request *request, unsigned status, const char *content_type,
	     const char *vary, struct ga_buf *body)
{
	size_t len = body->len;
	char *data = ga_buf_steal(body);
	struct MHD_Response *response =
		MHD_create_response_from_buffer_with_free_callback(len, data, ga_free);

	if (response == NULL) {
		ga_free(data);
		http_respond_error(request, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	if (vary != NULL)
		MHD_add_response_header(response, MHD_HTTP_HEADER_VARY, vary);
	/* Private: a shared cache must never hand one user's view to another. */
	MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "private, max-age=0");
	http_respond_shared(request, status, response);
	MHD_destroy_response(response);
}

void
http_index_respond_json(struct http_request *request, unsigned status, struct ga_buf *body)
{
	respond_body(request, status, "application/json", NULL, body);
}

/* ---- the simple API ------------------------------------------------ */

static void
respond_page(struct http_request *request, enum index_format format, struct ga_buf *page)
{
	/* The User-Agent too: old pips get HTML (index_simple_negotiate_client). */
	respond_body(request, MHD_HTTP_OK, index_simple_content_type(format), "Accept, User-Agent",
		     page);
}

static enum index_format
negotiate(struct http_request *request)
{
	enum index_format format = index_simple_negotiate_client(
		http_request_header(request, MHD_HTTP_HEADER_ACCEPT),
		http_request_header(request, MHD_HTTP_HEADER_USER_AGENT));

	if (format == INDEX_FORMAT_NONE)
		respond_text(request, MHD_HTTP_NOT_ACCEPTABLE,
			     "Not Acceptable: this index serves text/html, "
			     "application/vnd.pypi.simple.v1+html and "
			     "application/vnd.pypi.simple.v1+json",
			     NULL);
	return format;
}

static void
serve_root(struct http_request *request, const struct http_login *login)
{
	enum index_format format = negotiate(request);
	struct index_name_list projects;
	const char **readable;
	size_t count = 0;
	struct ga_buf page;
	struct ga_err err;

	if (format == INDEX_FORMAT_NONE)
		return;
	if (index_storage_list_projects(storage_of(request), &projects, &err) != GA_OK) {
		ga_log(GA_LOG_ERROR, "index: cannot list projects", "error", err.message,
		       (char *)NULL);
		http_respond_error(request, MHD_HTTP_INTERNAL_SERVER_ERROR, "storage error");
		return;
	}
	readable = ga_calloc(projects.count + 1, sizeof(*readable));
	for (size_t i = 0; i < projects.count; i++)
		if (access_of(request, login, projects.names[i], true).read)
			readable[count++] = projects.names[i];
	ga_buf_init(&page, 0);
	if (index_simple_render_root(format, readable, count, &page))
		respond_page(request, format, &page);
	else
		http_respond_error(request, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render");
	ga_buf_free(&page);
	ga_free(readable);
	index_name_list_free(&projects);
}

/* fallback_url joined with /<key>/, one '/' between them. */
static char *
fallback_location(const char *fallback_url, const char *project)
{
	size_t len = strlen(fallback_url);

	while (len > 0 && fallback_url[len - 1] == '/')
		len--;
	return ga_asprintf("%.*s/%s/", (int)len, fallback_url, project);
}

static void
serve_project(struct http_request *request, const struct http_login *login, const char *project)
{
	const struct config *config = service_config(request->service);
	struct index_file_list files;
	struct index_access access;
	enum index_format format;
	struct ga_buf page;
	struct ga_err err;
	enum ga_rc rc;

	rc = index_storage_list_files(storage_of(request), project, &files, &err);
	if (rc != GA_OK && rc != GA_ENOTFOUND) {
		ga_log(GA_LOG_ERROR, "index: cannot list files", "project", project, "error",
		       err.message, (char *)NULL);
		http_respond_error(request, MHD_HTTP_INTERNAL_SERVER_ERROR, "storage error");
		return;
	}
	access = access_of(request, login, project, rc == GA_OK);
	/* A refusal, not a name that is simply elsewhere (fallback). */
	if (!access.read && !access.fallback)
		http_audit(request, "read", login->user, project, NULL, false, "no read access");
	if (rc != GA_OK || !access.read) {
		/* Only a name that no organization repository claims, and that
		 * this index does not hold, may go to the public index. */
		if (access.fallback && config->index_fallback_url != NULL &&
		    config->index_fallback_url[0] != '\0') {
			char *location = fallback_location(config->index_fallback_url, project);

			redirect(request, MHD_HTTP_FOUND, location);
			ga_free(location);
		} else {
			respond_not_found(request);
		}
		index_file_list_free(&files);
		return;
	}
	format = negotiate(request);
	if (format != INDEX_FORMAT_NONE) {
		ga_buf_init(&page, 0);
		if (index_simple_render_project(format, project, &files, &page))
			respond_page(request, format, &page);
		else
			http_respond_error(request, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render");
		ga_buf_free(&page);
	}
	index_file_list_free(&files);
}

/*
 * /simple/<rest>: "" is the list; "<name>/" a project.  A name in another
 * spelling, or without its trailing '/', is redirected (relative Location,
 * so that a proxy's path prefix is kept) before any login: the
 * normalisation is public, and pip then sends credentials once.
 */
static void
handle_simple(struct http_request *request)
{
	const char *rest = request->path + strlen("/simple/");
	const char *slash = strchr(rest, '/');
	size_t name_len = slash ? (size_t)(slash - rest) : strlen(rest);
	char project[ORG_PACKAGE_NAME_MAX];
	struct http_login login;

	if (*rest != '\0') {
		if ((slash != NULL && slash[1] != '\0') ||
		    !org_is_valid_project_name(rest, name_len) ||
		    !org_normalize_package(rest, name_len, project, sizeof(project))) {
			respond_not_found(request);
			return;
		}
		if (slash == NULL || strncmp(rest, project, name_len) != 0 ||
		    project[name_len] != '\0') {
			char *location = ga_asprintf("%s%s/", slash ? "../" : "", project);

			redirect(request, MHD_HTTP_MOVED_PERMANENTLY, location);
			ga_free(location);
			return;
		}
	}
	if (!logged_in(request, &login))
		return;
	if (*rest == '\0')
		serve_root(request, &login);
	else
		serve_project(request, &login, project);
}

static void
handle_simple_without_slash(struct http_request *request)
{
	redirect(request, MHD_HTTP_MOVED_PERMANENTLY, "simple/");
}

/* ---- downloads ----------------------------------------------------- */

enum range_result {
	RANGE_NONE = 0,		/* no usable Range: send everything */
	RANGE_PARTIAL,		/* one satisfiable range */
	RANGE_UNSATISFIABLE,	/* 416 */
};

static bool
parse_number(const char *start, const char *end, long long *value)
{
	char *stop;

	if (start == end || *start < '0' || *start > '9' || end - start > 18)
		return false;
	errno = 0;
	*value = strtoll(start, &stop, 10);
	return errno == 0 && stop == end;
}

/*
 * A single byte range "bytes=a-b", "bytes=a-" or "bytes=-n" (RFC 9110
 * section 14.1.2) against a file of size bytes.  Several ranges or a
 * malformed header are ignored (the whole file is sent, as the RFC
 * allows); a well-formed range that starts past the end is unsatisfiable.
 */
static enum range_result
parse_range(const char *header, long long size, long long *first, long long *last)
{
	const char *spec;
	const char *dash;
	const char *end;
	long long a = 0;
	long long b = 0;

	if (header == NULL || strncasecmp(header, "bytes=", 6) != 0)
		return RANGE_NONE;
	spec = header + 6;
	end = spec + strlen(spec);
	while (end > spec && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	dash = memchr(spec, '-', (size_t)(end - spec));
	if (dash == NULL || memchr(spec, ',', (size_t)(end - spec)) != NULL)
		return RANGE_NONE;
	if (dash == spec) {
		/* Suffix: the last n bytes. */
		if (!parse_number(dash + 1, end, &b))
			return RANGE_NONE;
		if (b == 0 || size == 0)
			return RANGE_UNSATISFIABLE;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return RANGE_PARTIAL;
	}
	if (!parse_number(spec, dash, &a) ||
	    (dash + 1 != end && (!parse_number(dash + 1, end, &b) || b < a)))
		return RANGE_NONE;
	if (a >= size)
		return RANGE_UNSATISFIABLE;
	*first = a;
	*last = dash + 1 == end || b >= size ? size - 1 : b;
	return RANGE_PARTIAL;
}

/* If-None-Match holds our entity tag (weak or strong) or "*". */
static bool
etag_matches(const char *header, const char *etag)
{
	return header != NULL && (strcmp(header, "*") == 0 || strstr(header, etag) != NULL);
}

static void
add_file_headers(struct MHD_Response *response, const char *etag, long long mtime)
{
	char date[64];
	struct tm tm;
	time_t when = (time_t)mtime;

	MHD_add_response_header(response, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(response, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "private");
	if (gmtime_r(&when, &tm) != NULL &&
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0)
		MHD_add_response_header(response, MHD_HTTP_HEADER_LAST_MODIFIED, date);
}

/* Send file (whose descriptor the response takes) with validators and Range. */
static void
send_file(struct http_request *request, struct index_download *file, const char *content_type)
{
	const char *range_header = http_request_header(request, MHD_HTTP_HEADER_RANGE);
	const char *if_range = http_request_header(request, MHD_HTTP_HEADER_IF_RANGE);
	char etag[70];
	char content_range[96];
	long long first = 0;
	long long last = file->size - 1;
	enum range_result range;
	struct MHD_Response *response;
	unsigned status = MHD_HTTP_OK;

	snprintf(etag, sizeof(etag), "\"%s\"", file->sha256);
	if (etag_matches(http_request_header(request, MHD_HTTP_HEADER_IF_NONE_MATCH), etag)) {
		close(file->fd);
		response = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		if (response != NULL)
			add_file_headers(response, etag, file->mtime);
		http_respond_shared(request, MHD_HTTP_NOT_MODIFIED, response);
		if (response != NULL)
			MHD_destroy_response(response);
		return;
	}
	/* If-Range with another validator: the file changed, send it all. */
	range = if_range != NULL && strcmp(if_range, etag) != 0
			? RANGE_NONE
			: parse_range(range_header, file->size, &first, &last);
	if (range == RANGE_UNSATISFIABLE) {
		close(file->fd);
		response = MHD_create_response_from_buffer(
			strlen("Range Not Satisfiable\n"), (void *)"Range Not Satisfiable\n",
			MHD_RESPMEM_PERSISTENT);
		snprintf(content_range, sizeof(content_range), "bytes */%lld", file->size);
		if (response != NULL)
			MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_RANGE,
						content_range);
		http_respond_shared(request, MHD_HTTP_RANGE_NOT_SATISFIABLE, response);
		if (response != NULL)
			MHD_destroy_response(response);
		return;
	}
	if (range == RANGE_PARTIAL) {
		status = MHD_HTTP_PARTIAL_CONTENT;
		snprintf(content_range, sizeof(content_range), "bytes %lld-%lld/%lld", first, last,
			 file->size);
	}
	/* Zero-copy: libmicrohttpd sends from the descriptor (sendfile) and
	 * closes it when the response is done. */
	response = MHD_create_response_from_fd_at_offset64(
		(uint64_t)(range == RANGE_PARTIAL ? last - first + 1 : file->size), file->fd,
		(uint64_t)first);
	if (response == NULL) {
		close(file->fd);
		http_respond_error(request, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	/* Never rendered as anything but what it is. */
	MHD_add_response_header(response, MHD_HTTP_HEADER_X_CONTENT_TYPE_OPTIONS, "nosniff");
	add_file_headers(response, etag, file->mtime);
	if (range == RANGE_PARTIAL)
		MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
	http_respond_shared(request, status, response);
	MHD_destroy_response(response);
}

/* A request for <filename>.metadata: filename into out. */
static bool
metadata_request(const char *name, char out[INDEX_FILENAME_MAX + 1])
{
	size_t len = strlen(name);
	size_t suffix = strlen(".metadata");

	if (len <= suffix || len - suffix > INDEX_FILENAME_MAX ||
	    strcmp(name + len - suffix, ".metadata") != 0)
		return false;
	memcpy(out, name, len - suffix);
	out[len - suffix] = '\0';
	return true;
}

/* /packages/<key>/<filename>[.metadata]; anything else is 404. */
static void
handle_download(struct http_request *request)
{
	const char *rest = request->path + strlen("/packages/");
	const char *slash = strchr(rest, '/');
	char project[ORG_PACKAGE_NAME_MAX];
	char filename[INDEX_FILENAME_MAX + 1];
	struct index_download file;
	struct http_login login;
	struct ga_err err;
	size_t name_len;
	bool metadata;
	enum ga_rc rc;

	if (slash == NULL || strchr(slash + 1, '/') != NULL ||
	    (name_len = (size_t)(slash - rest)) >= sizeof(project)) {
		respond_not_found(request);
		return;
	}
	memcpy(project, rest, name_len);
	project[name_len] = '\0';
	if (!logged_in(request, &login))
		return;
	if (!access_of(request, &login, project, true).read) {
		http_audit(request, "read", login.user, project, slash + 1, false,
			   "no read access");
		respond_not_found(request);
		return;
	}
	metadata = metadata_request(slash + 1, filename);
	rc = metadata ? index_storage_open_metadata(storage_of(request), project, filename, &file,
						    &err)
		      : index_storage_open_file(storage_of(request), project, slash + 1, &file,
						&err);
	if (rc == GA_ENOTFOUND) {
		respond_not_found(request);
		return;
	}
	if (rc != GA_OK) {
		ga_log(GA_LOG_ERROR, "index: cannot open file", "project", project, "error",
		       err.message, (char *)NULL);
		http_respond_error(request, MHD_HTTP_INTERNAL_SERVER_ERROR, "storage error");
		return;
	}
	send_file(request, &file, metadata ? "text/plain; charset=utf-8" : "application/octet-stream");
}

/* ---- uploads ------------------------------------------------------- */

/* One upload request, from its headers to its answer. */
struct upload_request {
	struct http_request *request;
	struct ga_limit *limit;			/* the index's upload bounds */
	struct http_login login;
	struct index_upload *upload;		/* NULL until logged in and admitted */
	struct MHD_PostProcessor *post;		/* NULL: not multipart */
	bool post_failed;			/* the body is not a valid form */
	bool admitted;				/* holds a slot of limit */
	long long reserved;			/* bytes of disk the slot reserves */
	long long received;
	long long limit_bytes;			/* body bytes at most */
};

static void
free_upload_request(void *state)
{
	struct upload_request *upload = state;

	if (upload == NULL)
		return;
	if (upload->post != NULL)
		MHD_destroy_post_processor(upload->post);
	index_upload_free(upload->upload);
	if (upload->admitted)
		ga_limit_give(upload->limit, upload->login.user, upload->reserved);
	ga_free(upload);
}

/* index_upload's write decision, with a reason twine can show. */
static bool
may_write(void *context, const char *project, char reason[INDEX_REASON_MAX])
{
	struct upload_request *upload = context;
	struct http_request *request = upload->request;
	/* Whether the index stores the name changes only the fallback. */
	struct index_access access = access_of(request, &upload->login, project, true);
	long package;

	if (access.write)
		return true;
	if (upload->login.publisher_set) {
		snprintf(reason, INDEX_REASON_MAX,
			 "an upload token of repository %s may upload only its package %s, not %s",
			 upload->login.repository.record->name, upload->login.repository.package_key,
			 project);
		return false;
	}
	package = org_snapshot_find_package(upload->login.snapshot, project);
	if (org_snapshot_find_reserved(upload->login.snapshot, project) >= 0)
		/* Which repository owns it is not the uploader's business. */
		snprintf(reason, INDEX_REASON_MAX,
			 "%s may not upload %s: an older repository of the organization "
			 "declares this name, so only organization owners may upload it",
			 upload->login.user, project);
	else if (access.basis != INDEX_ACCESS_PACKAGE)
		snprintf(reason, INDEX_REASON_MAX,
			 "%s may not upload %s: no organization repository provides it, and only "
			 "organization owners may upload such a package",
			 upload->login.user, project);
	else if (access.read && org_snapshot_package_archived(upload->login.snapshot, package))
		snprintf(reason, INDEX_REASON_MAX,
			 "%s may not upload %s: its repository is archived (read-only)",
			 upload->login.user, project);
	else if (access.read)
		snprintf(reason, INDEX_REASON_MAX,
			 "%s may not upload %s: read-only access (write access to its GitHub "
			 "repository is needed)",
			 upload->login.user, project);
	else
		snprintf(reason, INDEX_REASON_MAX,
			 "%s may not upload %s (write access to its GitHub repository is needed)",
			 upload->login.user, project);
	return false;
}

static enum MHD_Result
post_iterator(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
	      const char *content_type, const char *transfer_encoding, const char *data,
	      uint64_t offset, size_t size)
{
	struct upload_request *upload = cls;

	(void)kind;
	(void)content_type;
	(void)transfer_encoding;
	return index_upload_feed(upload->upload, key, filename, data, offset, size) ? MHD_YES
										    : MHD_NO;
}

/*
 * The decision once more, against the snapshot in use now, right before
 * the file is committed: an upload may stream for minutes, and a removal
 * from a team (webhook) or a sync may have taken the permission away.
 */
static enum index_upload_status
recheck(void *context, const char *project, char reason[INDEX_REASON_MAX])
{
	struct upload_request *upload = context;
	struct http_request *request = upload->request;
	const struct service_view *view = service_acquire_view(request->service);
	const struct org_snapshot *now = view != NULL ? service_view_snapshot(view) : NULL;
	const struct org_snapshot *then = upload->login.snapshot;
	enum index_upload_status status = INDEX_UPLOAD_OK;
	long member;

	if (now == NULL) {
		snprintf(reason, INDEX_REASON_MAX,
			 "cannot check permissions right now (no current organization data), "
			 "try again");
		return INDEX_UPLOAD_UNAVAILABLE;
	}
	if (upload->login.publisher_set) {
		if (!http_publisher_may_still_write(request, &upload->login, now, project, reason,
						    INDEX_REASON_MAX))
			status = INDEX_UPLOAD_FORBIDDEN;
		service_release_view(view);
		return status;
	}
	member = org_snapshot_find_member(now, upload->login.user);
	/* The same GitHub account as at login (a renamed login may have been
	 * taken by someone else since). */
	if (member < 0 || org_snapshot_member_id(now, member) !=
				  org_snapshot_member_id(then, upload->login.member)) {
		snprintf(reason, INDEX_REASON_MAX, "%s is no longer a member of the organization",
			 upload->login.user);
		status = INDEX_UPLOAD_FORBIDDEN;
	} else if (!index_access_decide(now, member, project, true,
					service_config(request->service)->index_unclaimed)
			    .write) {
		snprintf(reason, INDEX_REASON_MAX,
			 "%s may no longer upload %s: write access was removed during the upload",
			 upload->login.user, project);
		status = INDEX_UPLOAD_FORBIDDEN;
	}
	service_release_view(view);
	return status;
}

/* The disk an upload may fill: what its Content-Length allows, at most
 * max_upload_size (a chunked body: max_upload_size). */
static long long
upload_reservation(const struct config *config, const char *length)
{
	unsigned long long declared;
	char *end;

	if (length == NULL)
		return config->index_max_upload_size;
	declared = strtoull(length, &end, 10);
	if (*end != '\0' || declared > (unsigned long long)config->index_max_upload_size)
		return config->index_max_upload_size;
	return (long long)declared;
}

/* Take an upload slot, or answer 503 at once (before any body byte). */
static bool
admit_upload(struct http_request *request, struct upload_request *upload)
{
	const struct config *config = service_config(request->service);
	long long reserved = upload_reservation(
		config, http_request_header(request, MHD_HTTP_HEADER_CONTENT_LENGTH));
	const char *text;

	switch (ga_limit_take(upload->limit, upload->login.user, reserved)) {
	case GA_LIMIT_OK:
		upload->admitted = true;
		upload->reserved = reserved;
		return true;
	case GA_LIMIT_KEY:
		text = "too many uploads of yours in progress (max_concurrent_uploads_per_user), "
		       "try again when they are done";
		break;
	case GA_LIMIT_WEIGHT:
		text = "the index is receiving too much upload data right now (max_upload_disk), "
		       "try again later";
		break;
	case GA_LIMIT_TOTAL:
	default:
		text = "too many uploads in progress (max_concurrent_uploads), try again later";
		break;
	}
	http_audit(request, "upload", upload->login.user, "", NULL, false, text);
	http_respond_text(request, MHD_HTTP_SERVICE_UNAVAILABLE, text,
			  MHD_HTTP_HEADER_RETRY_AFTER, "10");
	return false;
}

/*
 * The headers are in: log in, check the size, take an upload slot, prepare
 * the form parser.  Runs again after a login that waited for GitHub (the
 * request's state is then kept).
 */
static bool
begin_upload(struct http_request *request)
{
	const struct config *config = service_config(request->service);
	const char *length = http_request_header(request, MHD_HTTP_HEADER_CONTENT_LENGTH);
	struct upload_request *upload = request->state;
	struct index_upload_settings settings;

	if (upload == NULL) {
		upload = ga_calloc(1, sizeof(*upload));
		request->state = upload;
		request->free_state = free_upload_request;
		upload->request = request;
		upload->limit = ((struct index_state *)request->frontend_state)->uploads;
		upload->limit_bytes = config->index_max_upload_size + UPLOAD_OVERHEAD;
		if (length != NULL &&
		    strtoull(length, NULL, 10) > (unsigned long long)upload->limit_bytes) {
			/* Hopeless: say so before the client sends it all. */
			respond_text(request, MHD_HTTP_CONTENT_TOO_LARGE,
				     "file larger than the index accepts (max_upload_size)", NULL);
			return true;
		}
		/* A browser that cached Basic credentials for the index would
		 * send them with a page's cross-site multipart POST (a "simple"
		 * request: no preflight).  Browsers always name the page in
		 * Origin; twine, poetry, uv and flit never send it. */
		if (http_request_header(request, "Origin") != NULL) {
			respond_text(request, MHD_HTTP_FORBIDDEN,
				     "uploads from web pages are refused (the request has an Origin "
				     "header); upload with twine, poetry or uv", NULL);
			return true;
		}
	}
	http_login_check(request, &upload->login);
	if (upload->login.status == HTTP_LOGIN_PENDING)
		return true;	/* suspended: this runs again with GitHub's answer */
	if (upload->login.status == HTTP_LOGIN_BUSY) {
		http_login_refuse(request, &upload->login);	/* at once: read nothing */
		return true;
	}
	if (upload->login.status != HTTP_LOGIN_OK)
		return true;	/* answered when the body is in: clients read it then */
	if (!admit_upload(request, upload))
		return true;
	settings = (struct index_upload_settings){
		.storage = storage_of(request),
		/* Never more than the slot reserved on the disk. */
		.max_size = upload->reserved,
		.allow_overwrite = config->index_allow_overwrite,
		.allow_legacy_sdist = config->index_allow_legacy_sdist,
		.uploader = upload->login.user,
		.may_write = may_write,
		.recheck = recheck,
		.context = upload,
	};
	upload->upload = index_upload_new(&settings);
	/* NULL unless multipart/form-data or urlencoded: refused at the end. */
	upload->post = MHD_create_post_processor(request->connection, POST_BUFFER_SIZE,
						 post_iterator, upload);
	return true;
}

static bool
index_stream(struct http_request *request, const char *data, size_t size)
{
	struct upload_request *upload = request->state;

	if (strcmp(request->method, "POST") != 0)
		return true;	/* GET and HEAD have no body */
	if (data == NULL)
		return begin_upload(request);
	upload->received += (long long)size;
	if (upload->received > upload->limit_bytes)
		return false;	/* past every limit (chunked): drop the connection */
	/* After a refusal the rest is read and dropped, so that the client
	 * reads the answer instead of a reset connection. */
	if (upload->upload == NULL || upload->post == NULL || upload->post_failed ||
	    index_upload_status(upload->upload) != INDEX_UPLOAD_OK)
		return true;
	if (MHD_post_process(upload->post, data, size) != MHD_YES &&
	    index_upload_status(upload->upload) == INDEX_UPLOAD_OK)
		upload->post_failed = true;
	return true;
}

static void
log_upload(struct http_request *request, const struct upload_request *upload, unsigned status,
	   const char *reason)
{
	http_login_audit(request, &upload->login, "upload", index_upload_project(upload->upload),
			 index_upload_filename(upload->upload), status == MHD_HTTP_OK,
			 reason != NULL && reason[0] != '\0' ? reason : "ok");
}

static void
handle_upload(struct http_request *request)
{
	struct upload_request *upload = request->state;
	enum index_upload_status status;
	unsigned code;

	if (upload->login.status != HTTP_LOGIN_OK) {
		http_login_refuse(request, &upload->login);
		return;
	}
	if (upload->post == NULL) {
		respond_text(request, MHD_HTTP_BAD_REQUEST,
			     "expected a multipart/form-data upload (the legacy upload API)", NULL);
		return;
	}
	/* Destroying the parser delivers the last field; it fails when the
	 * body ended in the middle of the form. */
	if (MHD_destroy_post_processor(upload->post) != MHD_YES &&
	    index_upload_status(upload->upload) == INDEX_UPLOAD_OK)
		upload->post_failed = true;
	upload->post = NULL;
	if (upload->post_failed) {
		respond_text(request, MHD_HTTP_BAD_REQUEST, "malformed multipart/form-data body",
			     NULL);
		return;
	}
	status = index_upload_finish(upload->upload);
	code = index_upload_http_status(status);
	log_upload(request, upload, code, index_upload_reason(upload->upload));
	if (status == INDEX_UPLOAD_OK)
		respond_text(request, MHD_HTTP_OK, "OK", NULL);
	else
		respond_text(request, code, index_upload_reason(upload->upload), NULL);
}

/* ---- the front end ------------------------------------------------- */

static const struct http_route index_routes[] = {
	{ .path = "/simple/", .match = HTTP_MATCH_PREFIX, .methods = GET_OR_HEAD,
	  .handle = handle_simple },
	{ .path = "/simple", .methods = GET_OR_HEAD, .handle = handle_simple_without_slash },
	{ .path = "/packages/", .match = HTTP_MATCH_PREFIX, .methods = GET_OR_HEAD,
	  .handle = handle_download },
	{ .path = "/pypi/", .match = HTTP_MATCH_PREFIX, .methods = GET_OR_HEAD,
	  .handle = http_index_handle_json },
	{ .path = "/legacy/", .methods = HTTP_POST, .handle = handle_upload },
	{ .path = "/legacy", .methods = HTTP_POST, .handle = handle_upload },
	{ .path = "/", .methods = HTTP_POST, .handle = handle_upload },
	{ .path = NULL },
};

const struct http_frontend http_index_frontend = {
	.name = "index",
	.routes = index_routes,
	.backend_auth = false,
	.max_body = 0,
	.derivation = NULL,
	.enabled = index_enabled,
	.start = index_start,
	.stop = index_stop,
	.stream = index_stream,
};
