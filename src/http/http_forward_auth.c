/*
 * http_forward_auth.c - GET /auth: forward authentication for a proxy in
 * front of any package index (nginx auth_request, Traefik ForwardAuth,
 * Caddy forward_auth).
 *
 * The proxy asks before serving each request, passing the original target
 * and method in X-Original-URI / X-Original-Method (nginx, set in its
 * configuration) or X-Forwarded-Uri / X-Forwarded-Method (Traefik, Caddy),
 * and the client's Authorization header.  The answer: 200 (with
 * X-Ghaccess-User for the backend's logs), 401 with a challenge, or 403;
 * 503 when no decision can be made now; 400 for a request the proxy did
 * not describe properly (which the proxy turns into an error, never into
 * access).
 *
 * The rules, the same engine as the built-in index (index_access.h):
 *   GET/HEAD .../simple/<name>/     read on <name>
 *   GET/HEAD .../<wheel or sdist>   read on every project the filename can
 *                                   name (index_filename_projects)
 *   anything else                   organization owners only: the project
 *                                   list (/simple/) of a static index names
 *                                   every package and cannot be filtered,
 *                                   other pages are unknown, and an upload
 *                                   (POST) carries its package name in the
 *                                   body, which a proxy does not show us;
 *                                   never with an Origin header (a
 *                                   cross-site request from a browser).
 *
 * Exactly one target header and one method header, of the same family,
 * must be present: a client can add headers of the family the proxy does
 * not set, and the proxy passes them through, so two families mean "no".
 */
#include "http/http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/http_audit.h"
#include "http/http_login.h"
#include "http/http_reason.h"
#include "index/index_access.h"
#include "index/index_path.h"
#include "util/ga_log.h"

#define ANY_METHOD (HTTP_GET | HTTP_HEAD | HTTP_POST | HTTP_PUT | HTTP_DELETE)

/* The original request as the proxy described it. */
struct original_request {
	unsigned original_uri, original_method, forwarded_uri, forwarded_method;
	const char *target;
	const char *method;
};

static enum MHD_Result
count_headers(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct original_request *original = cls;

	(void)kind;
	(void)value;
	if (strcasecmp(key, "X-Original-URI") == 0)
		original->original_uri++;
	else if (strcasecmp(key, "X-Original-Method") == 0)
		original->original_method++;
	else if (strcasecmp(key, "X-Forwarded-Uri") == 0)
		original->forwarded_uri++;
	else if (strcasecmp(key, "X-Forwarded-Method") == 0)
		original->forwarded_method++;
	return MHD_YES;
}

/* true when exactly one family describes the original request. */
static bool
read_original(struct http_request *request, struct original_request *original)
{
	memset(original, 0, sizeof(*original));
	MHD_get_connection_values(request->connection, MHD_HEADER_KIND, count_headers, original);
	if (original->original_uri == 1 && original->original_method == 1 &&
	    original->forwarded_uri == 0 && original->forwarded_method == 0) {
		original->target = http_request_header(request, "X-Original-URI");
		original->method = http_request_header(request, "X-Original-Method");
	} else if (original->forwarded_uri == 1 && original->forwarded_method == 1 &&
		   original->original_uri == 0 && original->original_method == 0) {
		original->target = http_request_header(request, "X-Forwarded-Uri");
		original->method = http_request_header(request, "X-Forwarded-Method");
	}
	return original->target != NULL && original->method != NULL;
}

static void
answer(struct http_request *request, unsigned status, const char *text, const char *user)
{
	static const char ok[] = "ok\n";
	static const char forbidden[] = "forbidden\n";
	static const char bad[] = "bad forward-auth request\n";
	const char *body = status == MHD_HTTP_OK ? ok
			   : status == MHD_HTTP_FORBIDDEN ? forbidden : bad;
	struct MHD_Response *response =
		MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);

	if (response == NULL) {
		http_respond_error(request, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; charset=utf-8");
	MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (user != NULL)
		MHD_add_response_header(response, "X-Ghaccess-User", user);
	if (text != NULL)
		http_reason_set(status, text);
	http_respond_shared(request, status, response);
	MHD_destroy_response(response);
}

static bool
is_read_method(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

/* May the logged-in user make this request of the index behind the proxy? */
static bool
allowed(struct http_request *request, const struct http_login *login, const char *method,
	const struct index_path *path)
{
	enum config_unclaimed unclaimed = service_config(request->service)->index_unclaimed;
	bool owner = org_snapshot_member_is_owner(login->snapshot, login->member);

	/* A write from a web page (a browser names it in Origin; upload
	 * clients never send one) could be a cross-site request riding the
	 * credentials the browser cached: refused, owner or not. */
	if (!is_read_method(method))
		return owner && http_request_header(request, "Origin") == NULL;
	switch (path->kind) {
	case INDEX_PATH_PROJECT:
		return index_access_decide(login->snapshot, login->member, path->project, true,
					   unclaimed)
			.read;
	case INDEX_PATH_FILE:
		for (size_t i = 0; i < path->projects.count; i++)
			if (!index_access_decide(login->snapshot, login->member,
						 path->projects.names[i], true, unclaimed)
				     .read)
				return false;
		return path->projects.count > 0;
	case INDEX_PATH_ROOT:
	case INDEX_PATH_OTHER:
		return owner;
	case INDEX_PATH_INVALID:
		break;
	}
	return false;
}

static void
handle_auth(struct http_request *request)
{
	struct original_request original;
	struct http_login login;
	struct index_path path;
	char logged_path[128];

	if (!read_original(request, &original)) {
		ga_log(GA_LOG_WARN,
		       "forward-auth: expected one X-Original-URI and X-Original-Method (or "
		       "X-Forwarded-Uri and X-Forwarded-Method) header",
		       (char *)NULL);
		answer(request, MHD_HTTP_BAD_REQUEST, "Bad Request: original URI or method missing",
		       NULL);
		return;
	}
	http_login_check(request, &login);
	if (login.status != HTTP_LOGIN_OK) {
		http_login_refuse(request, &login);
		return;
	}
	index_path_classify(original.target, &path);
	if (allowed(request, &login, original.method, &path)) {
		http_request_note_decision(request, true);
		answer(request, MHD_HTTP_OK, NULL, login.user);
		return;
	}
	/* The path without its query (which may hold anything). */
	snprintf(logged_path, sizeof(logged_path), "%.*s",
		 (int)strcspn(original.target, "?#"), original.target);
	http_audit(request, is_read_method(original.method) ? "read" : "write", login.user,
		   logged_path, NULL, false,
		   is_read_method(original.method) ? "no read access (forward-auth)"
						   : "owners only through a proxy (forward-auth)");
	answer(request, MHD_HTTP_FORBIDDEN, "Forbidden", NULL);
}

static const struct http_route forward_auth_routes[] = {
	{ .path = "/auth", .methods = ANY_METHOD, .handle = handle_auth },
	{ .path = NULL },
};

const struct http_frontend http_forward_auth_frontend = {
	.name = "forward-auth",
	.routes = forward_auth_routes,
	.backend_auth = false,
	.max_body = 0,
	.derivation = NULL,
	.enabled = NULL,
};
