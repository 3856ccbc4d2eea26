/*
 * http_index_manage.c - yank, un-yank and delete on the built-in index, for
 * people with write on the package (and the decision the web pages' forms
 * share, http_index_change).  The front end "index-api":
 *
 *   POST   /api/package/<name>/<version or filename>/yank    {"reason": "..."}
 *   POST   /api/package/<name>/<version or filename>/unyank  {}
 *   DELETE /api/package/<name>/<version or filename>         ([index] allow_delete)
 *
 * DELETE /api/package/<name>/<filename> is pypicloud's API for deleting a
 * file; PyPI has no API for these (its web pages only).  A version names
 * the release: every file of that version.  Credentials are the index's
 * (Basic: GitHub login and token).
 *
 * Cross-site requests: a browser that once logged in to the index with
 * Basic credentials sends them again by itself, so a page elsewhere could
 * make it POST here.  A POST must therefore be application/json, which no
 * HTML form can send and no script may send cross-site without a CORS
 * pre-flight, which this server never grants; DELETE cannot come from a
 * form either.
 *
 * The answers are JSON: {"action", "project", "target", "files",
 * "changed"}, or {"error"} with the same text as the reason phrase.
 */
#include "http/http_index.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/http_audit.h"
#include "http/http_reason.h"
#include "index/index_version.h"
#include "org/org_names.h"
#include "org/org_snapshot.h"
#include "util/ga_buf.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

/* {"reason": ...} and a little room. */
#define MANAGE_MAX_BODY (4 * 1024)

struct manage_state {
	struct index_storage *storage;
};

/* ---- the decision, shared with the web pages -------------------------- */

static void
set_message(struct http_index_change_result *out, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_message(struct http_index_change_result *out, unsigned status, const char *fmt, ...)
{
	va_list ap;

	out->status = status;
	va_start(ap, fmt);
	vsnprintf(out->message, sizeof(out->message), fmt, ap);
	va_end(ap);
}

/* Why user may not change project (access.read is true). */
static void
refusal(const struct org_snapshot *snapshot, const char *user, const char *verb,
	const char *project, const struct index_access *access,
	struct http_index_change_result *out)
{
	long package = org_snapshot_find_package(snapshot, project);

	if (access->basis != INDEX_ACCESS_PACKAGE)
		set_message(out, MHD_HTTP_FORBIDDEN,
			    "%s may not %s %s: only organization owners may change it", user, verb,
			    project);
	else if (org_snapshot_package_archived(snapshot, package))
		set_message(out, MHD_HTTP_FORBIDDEN,
			    "%s may not %s %s: its repository is archived (read-only)", user, verb,
			    project);
	else
		set_message(out, MHD_HTTP_FORBIDDEN,
			    "%s may not %s %s: read-only access (write access to its GitHub "
			    "repository is needed)",
			    user, verb, project);
}

void
http_index_change(struct http_request *request, struct index_storage *storage,
		  const struct org_snapshot *snapshot, long member, const char *user,
		  const struct http_index_change *change, struct http_index_change_result *out)
{
	const struct config *config = service_config(request->service);
	const char *verb = index_manage_action_name(change->action);
	struct index_manage_request manage = {
		.action = change->action,
		.project = change->project,
		.target = change->target,
		.reason = change->reason,
		.actor = user,
	};
	struct index_access access = index_access_decide(
		snapshot, member, change->project, index_storage_has_project(storage, change->project),
		config->index_unclaimed);
	struct ga_err err;
	enum ga_rc rc;

	memset(out, 0, sizeof(*out));
	if (!access.read) {
		/* The same answer as for a package that does not exist. */
		set_message(out, MHD_HTTP_NOT_FOUND, "no such package, release or file");
		http_audit(request, verb, user, change->project, change->target, false,
			   "no read access");
		return;
	}
	if (!access.write) {
		refusal(snapshot, user, verb, change->project, &access, out);
		http_audit(request, verb, user, change->project, change->target, false,
			   "no write access");
		return;
	}
	if (change->action == INDEX_MANAGE_DELETE && !config->index_allow_delete) {
		set_message(out, MHD_HTTP_FORBIDDEN,
			    "deleting files is turned off on this index ([index] allow_delete); "
			    "yank the release instead");
		http_audit(request, verb, user, change->project, change->target, false,
			   "allow_delete is off");
		return;
	}
	rc = index_manage_apply(storage, &manage, &out->files, &err);
	switch (rc) {
	case GA_OK:
		set_message(out, MHD_HTTP_OK, "%s: %zu file%s", verb, out->files.count,
			    out->files.count == 1 ? "" : "s");
		break;
	case GA_ENOTFOUND:
		set_message(out, MHD_HTTP_NOT_FOUND, "no such package, release or file");
		break;
	case GA_EINVAL:
		set_message(out, MHD_HTTP_BAD_REQUEST, "%s", err.message);
		break;
	default:
		ga_log(GA_LOG_ERROR, "index: cannot change files", "project", change->project,
		       "error", err.message, (char *)NULL);
		set_message(out, MHD_HTTP_INTERNAL_SERVER_ERROR, "storage error");
		break;
	}
	/* One line per file changed, and one for the request. */
	for (size_t i = 0; i < out->files.count; i++)
		http_audit(request, verb, user, change->project, out->files.files[i], true,
			   change->reason && change->reason[0] ? change->reason : "ok");
	if (rc != GA_OK)
		http_audit(request, verb, user, change->project, change->target, false,
			   out->message);
}

/* ---- the API ------------------------------------------------------------ */

static int
append_to_buf(const char *data, size_t size, void *buf)
{
	return ga_buf_append(buf, data, size) ? 0 : -1;
}

/* Answer status with value (whose reference this takes) as the body. */
static void
respond_value(struct http_request *request, unsigned status, json_t *value)
{
	struct ga_buf body;

	ga_buf_init(&body, 0);
	if (value == NULL || json_dump_callback(value, append_to_buf, &body, JSON_COMPACT) != 0)
		ga_buf_reset(&body);
	ga_buf_append_char(&body, '\n');
	json_decref(value);
	http_index_respond_json(request, status, &body);
	ga_buf_free(&body);
}

static void
respond_error(struct http_request *request, unsigned status, const char *message)
{
	http_reason_set(status, message);
	respond_value(request, status, json_pack("{s:s}", "error", message));
}

static void
respond_result(struct http_request *request, const struct http_index_change *change,
	       const struct http_index_change_result *result)
{
	json_t *files = json_array();

	if (result->status != MHD_HTTP_OK) {
		json_decref(files);
		respond_error(request, result->status, result->message);
		return;
	}
	for (size_t i = 0; i < result->files.count; i++)
		json_array_append_new(files, json_string(result->files.files[i]));
	respond_value(request, MHD_HTTP_OK,
		      json_pack("{s:s,s:s,s:s,s:o,s:I}", "action",
				index_manage_action_name(change->action), "project",
				change->project, "target", change->target, "files", files,
				"changed", (json_int_t)result->files.changed));
}

static bool
is_json(struct http_request *request)
{
	const char *type = http_request_header(request, MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t len = strlen("application/json");

	return type != NULL && strncasecmp(type, "application/json", len) == 0 &&
	       (type[len] == '\0' || type[len] == ';' || type[len] == ' ');
}

/* The body's "reason" (a JSON object, may be empty) into reason; false
 * with a message when the body is not what the API takes. */
static bool
body_reason(struct http_request *request, char *reason, size_t size, const char **problem)
{
	json_error_t error;
	json_t *body, *value;

	reason[0] = '\0';
	*problem = NULL;
	if (request->body_len == 0)
		return true;
	body = json_loadb(request->body, request->body_len, JSON_REJECT_DUPLICATES, &error);
	if (!json_is_object(body)) {
		json_decref(body);
		*problem = "the body must be a JSON object";
		return false;
	}
	value = json_object_get(body, "reason");
	if (value != NULL && !json_is_string(value) && !json_is_null(value)) {
		*problem = "reason must be a string";
	} else if (json_is_string(value) && json_string_length(value) >= size) {
		*problem = "reason too long";
	} else if (json_is_string(value) && memchr(json_string_value(value), '\0',
						   json_string_length(value)) != NULL) {
		*problem = "reason holds a NUL";
	} else if (json_is_string(value)) {
		snprintf(reason, size, "%s", json_string_value(value));
	}
	json_decref(body);
	return *problem == NULL;
}

/*
 * /api/package/<name>/<target>[/yank|/unyank]: the project key and the
 * target (decoded by the server glue) and the action; false after 404.
 */
static bool
parse_target(struct http_request *request, char project[ORG_PACKAGE_NAME_MAX],
	     char target[INDEX_FILENAME_MAX + 1], enum index_manage_action *action)
{
	const char *rest = request->path + strlen("/api/package/");
	const char *slash = strchr(rest, '/');
	const char *end = slash ? strchr(slash + 1, '/') : NULL;
	bool post = strcmp(request->method, "POST") == 0;
	size_t target_len;

	if (slash == NULL || !org_is_valid_project_name(rest, (size_t)(slash - rest)) ||
	    !org_normalize_package(rest, (size_t)(slash - rest), project, ORG_PACKAGE_NAME_MAX))
		return false;
	target_len = end ? (size_t)(end - slash - 1) : strlen(slash + 1);
	if (target_len == 0 || target_len > INDEX_FILENAME_MAX)
		return false;
	memcpy(target, slash + 1, target_len);
	target[target_len] = '\0';
	if (!post) {
		*action = INDEX_MANAGE_DELETE;
		return end == NULL || end[1] == '\0';
	}
	if (end != NULL && strcmp(end, "/yank") == 0)
		*action = INDEX_MANAGE_YANK;
	else if (end != NULL && strcmp(end, "/unyank") == 0)
		*action = INDEX_MANAGE_UNYANK;
	else
		return false;
	return true;
}

static void
handle_change(struct http_request *request)
{
	struct manage_state *state = request->frontend_state;
	char project[ORG_PACKAGE_NAME_MAX];
	char target[INDEX_FILENAME_MAX + 1];
	char reason[INDEX_MANAGE_REASON_MAX * 4 + 1];
	struct http_index_change change;
	struct http_index_change_result result;
	enum index_manage_action action;
	struct http_login login;
	const char *problem;

	if (!parse_target(request, project, target, &action)) {
		respond_error(request, MHD_HTTP_NOT_FOUND, "not found");
		return;
	}
	if (!http_index_logged_in(request, &login))
		return;
	/* After the login: an anonymous client learns nothing here. */
	if (action != INDEX_MANAGE_DELETE && !is_json(request)) {
		respond_error(request, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
			      "send the request as application/json");
		return;
	}
	if (!body_reason(request, reason, sizeof(reason), &problem)) {
		respond_error(request, MHD_HTTP_BAD_REQUEST, problem);
		return;
	}
	change = (struct http_index_change){
		.action = action,
		.project = project,
		.target = target,
		.reason = action == INDEX_MANAGE_UNYANK ? NULL : reason,
	};
	http_index_change(request, state->storage, login.snapshot, login.member, login.user,
			  &change, &result);
	respond_result(request, &change, &result);
	index_manage_result_free(&result.files);
}

/* ---- the front end ------------------------------------------------------ */

static bool
manage_enabled(const struct config *config)
{
	return config->index_storage_dir != NULL && config->index_storage_dir[0] != '\0';
}

static enum ga_rc
manage_start(const struct config *config, void **state, struct ga_err *err)
{
	struct manage_state *manage = ga_calloc(1, sizeof(*manage));
	/* The index front end owns (and cleaned) the storage. */
	enum ga_rc rc = index_storage_open(config->index_storage_dir, INDEX_STORAGE_SHARED,
					   &manage->storage, err);

	*state = manage;
	return rc;
}

static void
manage_stop(void *state)
{
	struct manage_state *manage = state;

	if (manage == NULL)
		return;
	index_storage_close(manage->storage);
	ga_free(manage);
}

static const struct http_route manage_routes[] = {
	{ .path = "/api/package/", .match = HTTP_MATCH_PREFIX, .methods = HTTP_POST | HTTP_DELETE,
	  .handle = handle_change },
	{ .path = NULL },
};

const struct http_frontend http_index_manage_frontend = {
	.name = "index-api",
	.routes = manage_routes,
	.backend_auth = false,
	.max_body = MANAGE_MAX_BODY,
	.derivation = NULL,
	.enabled = manage_enabled,
	.start = manage_start,
	.stop = manage_stop,
};
