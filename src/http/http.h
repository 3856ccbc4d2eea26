/*
 * http.h - the HTTP server (libmicrohttpd) and the interface of its front ends.
 *
 * The server is shared glue: listening, threads, limits, timeouts, the
 * backend credentials, routing, request bodies, the access log.  What a
 * path answers lives in front ends, one file each (http_pypicloud.c,
 * http_health.c, ...), each exporting one const struct http_frontend.
 *
 * Adding a front end:
 *   1. write src/http/http_<name>.c defining
 *        const struct http_frontend http_<name>_frontend = { ... };
 *      with its routes and handlers (and, when it precomputes answers per
 *      snapshot, a struct service_derivation);
 *   2. declare it below and add it to the table in http_frontends.c.
 *
 * A handler runs on one of the server's threads, once per request, after
 * the glue checked the method, the backend credentials (when the front end
 * asks for them) and read the body (when the front end accepts one).  It
 * must answer exactly once with one of the http_respond* functions (else
 * the client gets a 500), and must not block: a login that needs GitHub
 * (http_request_login says SERVICE_LOGIN_PENDING) returns without an answer
 * and the handler runs again, from the start, once GitHub answered.  So a
 * handler does nothing before its login that must not happen twice.  Never
 * log the query string, a header value, or a body.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <microhttpd.h>

#include "service/service.h"
#include "util/ga_err.h"

struct http_server;
struct http_request;

/* ---- front ends ---------------------------------------------------- */

enum http_method {
	HTTP_GET = 1 << 0,
	HTTP_HEAD = 1 << 1,
	HTTP_POST = 1 << 2,
	HTTP_PUT = 1 << 3,
	HTTP_DELETE = 1 << 4,
};

enum http_match {
	HTTP_MATCH_EXACT = 0,	/* the path equals route->path */
	HTTP_MATCH_PREFIX,	/* the path starts with route->path */
};

typedef void (*http_handler_fn)(struct http_request *request);

/*
 * A streamed request body (uploads): called once with data NULL when the
 * request is admitted, before any body byte (the only moment an answer may
 * be given before the body was read: e.g. a Content-Length over the
 * limit), then with each chunk as it arrives.  When that first call starts
 * a login that waits for GitHub (HTTP_LOGIN_PENDING), it returns true
 * without answering and is called again, with data NULL, once GitHub
 * answered: keep per-request state in request->state across the two.  Once it answered, the rest
 * of the body is dropped.  Returning false closes the connection at once
 * (a client that keeps sending after a refusal).  handle runs at the end of
 * the body unless the stream answered.  Per-request state goes in
 * request->state.  A front end with a stream gets every request's body
 * that way (its routes without a body get the NULL call only).
 */
typedef bool (*http_stream_fn)(struct http_request *request, const char *data, size_t size);

struct http_route {
	const char *path;	/* NULL ends a route list */
	enum http_match match;
	unsigned methods;	/* enum http_method bits; others get 405 */
	http_handler_fn handle;
};

struct http_frontend {
	const char *name;
	const struct http_route *routes;
	/* Demand the backend credentials ([server] backend_user and its
	 * password: the pypicloud protocol).  401 without them; while none
	 * are configured every route of the front end answers 404 (off). */
	bool backend_auth;
	/* Largest request body read into memory for the handler; 0: a
	 * request with a body is refused (413). */
	size_t max_body;
	/* Data derived per snapshot (service.h), or NULL. */
	const struct service_derivation *derivation;
	/* Whether the front end serves under this configuration (NULL:
	 * always).  Checked at start. */
	bool (*enabled)(const struct config *config);
	/* Optional: set up what the front end keeps while the server runs
	 * (e.g. the index storage) into *state, at server start; an error
	 * stops the start.  stop frees it after the last request. */
	enum ga_rc (*start)(const struct config *config, void **state, struct ga_err *err);
	void (*stop)(void *state);
	/* Optional: take request bodies as a stream instead of reading up to
	 * max_body into memory (max_body does not apply then). */
	http_stream_fn stream;
};

/* Every front end, in the order their routes are matched (http_frontends.c). */
extern const struct http_frontend *const http_frontends[];

extern const struct http_frontend http_pypicloud_frontend;
extern const struct http_frontend http_health_frontend;
extern const struct http_frontend http_index_frontend;		/* http_index.c */
extern const struct http_frontend http_index_manage_frontend;	/* http_index_manage.c */
extern const struct http_frontend http_forward_auth_frontend;	/* http_forward_auth.c */
extern const struct http_frontend http_metrics_frontend;	/* http_metrics.c */
extern const struct http_frontend http_webhook_frontend;	/* http_webhook.c */
extern const struct http_frontend http_web_frontend;		/* http_web.c */
extern const struct http_frontend http_oidc_frontend;		/* http_oidc.c */

/* Copy the derivations of every front end into out (at most max), for
 * service_options; returns how many, and NULL-terminates out. */
size_t http_collect_derivations(const struct service_derivation **out, size_t max);

/* ---- requests ------------------------------------------------------ */

struct http_request {
	struct service *service;
	struct MHD_Connection *connection;
	const char *method;	/* "GET" ... */
	const char *path;	/* decoded path, without the query */
	const char *query;	/* raw query string after '?', not decoded; "" if none */
	size_t query_len;
	const char *body;	/* request body (max_body), NULL if none */
	size_t body_len;
	void *frontend_state;	/* what the front end's start() set up, or NULL */
	void *state;		/* the handler's per-request state (streams), freed */
	void (*free_state)(void *state);	/* with this when the request ends */
	struct http_request_private *glue;	/* the server's bookkeeping */
};

/*
 * The view this request decides with, acquired on first use and held
 * until the response has been sent: every call in one request sees the
 * same snapshot.  NULL when there is no usable snapshot (none yet, or
 * stale): the handler must then answer its safe "no".
 */
const struct service_view *http_request_view(struct http_request *request);

/* Name the verified user in the access log (copied; only after a login
 * succeeded: a username that was merely asked about is not logged). */
void http_request_set_user(struct http_request *request, const char *username);

/*
 * The access decision this request made (for the per-endpoint metrics,
 * http_stats.h): allowed or denied.  Front ends call it where a decision
 * is not visible in the status (pypicloud answers "no" with 200 false, the
 * index hides a package with 404); the last call wins.
 */
void http_request_note_decision(struct http_request *request, bool allowed);

/* A request header (case-insensitive name), NULL when absent. */
const char *http_request_header(struct http_request *request, const char *name);

/*
 * The login rule (service_login_start) for this request, without blocking
 * its thread.  Returns the outcome, or SERVICE_LOGIN_PENDING: the token
 * must be checked with GitHub, and the request waits for it with its
 * connection suspended.  The caller must then return at once without
 * answering; the handler (or the stream's first call) runs again from the
 * start when the check has answered, and this call then returns the
 * outcome for the same credentials.  SERVICE_LOGIN_BUSY when the bounds on
 * token checks are full (refuse with "try again").  At most one login per
 * request.  out->detail says why a refusal, for the person.
 */
enum service_login http_request_login(struct http_request *request,
				      const struct org_snapshot *snapshot, const char *username,
				      const char *password, struct service_login_result *out);

/* ---- responses ----------------------------------------------------- */

/* How long a response body lives, so that it is copied only when needed. */
enum http_body {
	HTTP_BODY_STATIC = 0,	/* a constant: lives forever */
	HTTP_BODY_VIEW,		/* lives as long as the request's view */
	HTTP_BODY_COPY,		/* copy it now */
	HTTP_BODY_TAKE,		/* ga_malloc'd: the server frees it */
};

/* The bodies of a safe "no" and of other constant JSON answers. */
enum http_constant {
	HTTP_JSON_TRUE = 0,
	HTTP_JSON_FALSE,
	HTTP_JSON_EMPTY_OBJECT,
	HTTP_JSON_EMPTY_ARRAY,
	HTTP_JSON_NULL,
	HTTP_CONSTANT_COUNT,
};

/* Answer with a body of content_type (NULL: application/json). */
void http_respond(struct http_request *request, unsigned status, const char *content_type,
		  const void *body, size_t len, enum http_body lifetime);

/* 200 with a constant JSON answer (prebuilt: no allocation). */
void http_respond_constant(struct http_request *request, enum http_constant constant);

/* Answer with a prebuilt response (see http_json_response_create); the
 * caller keeps its reference. */
void http_respond_shared(struct http_request *request, unsigned status,
			 struct MHD_Response *response);

/* {"error": message} with status (message is a constant, not escaped). */
void http_respond_error(struct http_request *request, unsigned status, const char *message);

/*
 * A reusable application/json response for body (len bytes), which must
 * outlive the response when persistent (else it is copied).  Any number
 * of requests on any threads may send it at once.  Free with
 * MHD_destroy_response once no longer handed out (the requests in flight
 * keep their own references).
 */
struct MHD_Response *http_json_response_create(const char *body, size_t len, bool persistent);

/* ---- the server ---------------------------------------------------- */

struct http_server_options {
	/* One log line per request (default true).  At tens of thousands of
	 * requests per second it costs a few percent of throughput. */
	bool access_log;
};

/*
 * Listen on [server] listen of the service's configuration with
 * [server] threads threads (0: one per core) and serve every enabled
 * front end.  service is borrowed and must outlive the server.
 * GA_EIO/GA_EINVAL with err when it cannot listen.
 */
enum ga_rc http_server_start(struct service *service, const struct http_server_options *options,
			     struct http_server **out, struct ga_err *err);

/* The TCP port the server listens on. */
unsigned short http_server_port(const struct http_server *server);

/*
 * Stop accepting connections, let the requests in flight finish (at most
 * a few seconds), stop the threads and free the server.  NULL is fine.
 */
void http_server_stop(struct http_server *server);

#endif
