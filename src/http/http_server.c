/* http_server.c - libmicrohttpd glue: listening, limits, routing, bodies, the access log. */
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/http_basic.h"
#include "http/http_deadline.h"
#include "http/http_stats.h"
#include "http/http_ticket.h"
#include "util/ga_buf.h"
#include "util/ga_log.h"
#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

/* Request line and headers must fit in this much connection memory: a
 * huge header gets MHD's 431/413 instead of our memory.  libmicrohttpd
 * zeroes the whole pool after every request, so a larger pool costs
 * throughput (32 KiB was 10% of the CPU time at 64 connections); pypicloud's
 * requests take well under 1 KiB. */
#define CONNECTION_MEMORY_LIMIT (16 * 1024)
/* Idle keep-alive connections and slow clients are dropped after this. */
#define CONNECTION_TIMEOUT_SECONDS 15
#define LISTEN_BACKLOG 1024
#define CONNECTION_LIMIT_MAX 10000
/* Requests in flight get this long to finish at shutdown. */
#define DRAIN_TIMEOUT_MS 5000
/* ... and the requests whose token check was abandoned this long to answer. */
#define ABANDON_DRAIN_MS 1000
/* The access log shows at most this much of a path. */
#define LOG_PATH_MAX 256
#define FRONTENDS_MAX 16

struct http_server {
	struct MHD_Daemon *daemon;
	struct service *service;
	bool access_log;
	unsigned short port;
	struct MHD_Response *constants[HTTP_CONSTANT_COUNT];
	const struct http_frontend *frontends[FRONTENDS_MAX];
	void *frontend_states[FRONTENDS_MAX];	/* what each start() set up */
	size_t frontend_started;		/* how many start()s succeeded */
	size_t frontend_count;
	struct http_stats *stats;		/* per-endpoint metrics */
	struct http_tickets *tickets;		/* requests waiting for a token check */
	struct http_deadlines *deadlines;	/* [server] header_timeout */
};

/* One per request: allocated when the request line arrives, freed when the
 * request is done (on_completed). */
struct http_request_private {
	struct http_request request;
	struct http_server *server;
	const struct http_frontend *frontend;
	const struct http_route *route;
	bool routed;
	bool in_stream_begin;		/* the stream's first call is (re)running */
	bool responded;
	unsigned status;
	unsigned deferred_status;	/* answered during a body: send at its end */
	bool view_acquired;
	int decision;			/* HTTP_DECISION_*, for the metrics */
	const struct service_view *view;
	struct http_ticket *ticket;	/* a token check started by this request */
	bool waiting;			/* ... not answered yet: suspend after the handler */
	struct ga_buf body;
	long long started_ns;
	char method[16];
	char user[48];
	char log_path[LOG_PATH_MAX + 1];
	char query[];
};

static const char *const constant_bodies[HTTP_CONSTANT_COUNT] = {
	[HTTP_JSON_TRUE] = "true",
	[HTTP_JSON_FALSE] = "false",
	[HTTP_JSON_EMPTY_OBJECT] = "{}",
	[HTTP_JSON_EMPTY_ARRAY] = "[]",
	[HTTP_JSON_NULL] = "null",
};

static long long
monotonic_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

/* ---- responses ----------------------------------------------------- */

struct MHD_Response *
http_json_response_create(const char *body, size_t len, bool persistent)
{
	struct MHD_Response *response = MHD_create_response_from_buffer(
		len, (void *)body, persistent ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_COPY);

	if (response == NULL) {
		ga_log(GA_LOG_ERROR, "out of memory for a response", (char *)NULL);
		return NULL;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return response;
}

static void
queue(struct http_request *request, unsigned status, struct MHD_Response *response)
{
	struct http_request_private *glue = request->glue;

	if (glue->responded) {
		ga_log(GA_LOG_ERROR, "a handler answered twice", "path", glue->log_path,
		       (char *)NULL);
		return;
	}
	glue->responded = true;
	glue->status = status;
	if (response != NULL &&
	    MHD_queue_response(request->connection, status, response) == MHD_YES)
		return;
	glue->status = 0;
	/* libmicrohttpd takes no answer while a body is arriving: keep the
	 * status and answer it when the request is complete (on_request). */
	if (response != NULL)
		glue->deferred_status = status;
}

/* Answer a status that could not be queued in the middle of a body. */
static void
respond_deferred(struct http_request_private *glue)
{
	unsigned status = glue->deferred_status;
	struct MHD_Response *response;
	static const char body[] = "{\"error\": \"request refused\"}";

	glue->deferred_status = 0;
	response = http_json_response_create(body, sizeof(body) - 1, true);
	if (response != NULL &&
	    MHD_queue_response(glue->request.connection, status, response) == MHD_YES)
		glue->status = status;
	if (response != NULL)
		MHD_destroy_response(response);
}

void
http_respond_shared(struct http_request *request, unsigned status, struct MHD_Response *response)
{
	queue(request, status, response);
}

void
http_respond_constant(struct http_request *request, enum http_constant constant)
{
	queue(request, MHD_HTTP_OK, request->glue->server->constants[constant]);
}

void
http_respond(struct http_request *request, unsigned status, const char *content_type,
	     const void *body, size_t len, enum http_body lifetime)
{
	struct MHD_Response *response;

	switch (lifetime) {
	case HTTP_BODY_TAKE:
		response = MHD_create_response_from_buffer_with_free_callback(len, (void *)body,
									      ga_free);
		break;
	case HTTP_BODY_COPY:
		response = MHD_create_response_from_buffer(len, (void *)body,
							   MHD_RESPMEM_MUST_COPY);
		break;
	case HTTP_BODY_STATIC:
	case HTTP_BODY_VIEW:	/* the view is held until on_completed */
	default:
		response = MHD_create_response_from_buffer(len, (void *)body,
							   MHD_RESPMEM_PERSISTENT);
		break;
	}
	if (response == NULL) {
		if (lifetime == HTTP_BODY_TAKE)
			ga_free((void *)body);
		queue(request, status, NULL);
		return;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
				content_type ? content_type : "application/json");
	queue(request, status, response);
	MHD_destroy_response(response);
}

void
http_respond_error(struct http_request *request, unsigned status, const char *message)
{
	char *body = ga_asprintf("{\"error\": \"%s\"}", message);

	http_respond(request, status, NULL, body, strlen(body), HTTP_BODY_TAKE);
}

/* ---- request accessors --------------------------------------------- */

const struct service_view *
http_request_view(struct http_request *request)
{
	struct http_request_private *glue = request->glue;

	if (!glue->view_acquired) {
		glue->view = service_acquire_view(request->service);
		glue->view_acquired = true;
	}
	return glue->view;
}

void
http_request_set_user(struct http_request *request, const char *username)
{
	snprintf(request->glue->user, sizeof(request->glue->user), "%s", username);
}

void
http_request_note_decision(struct http_request *request, bool allowed)
{
	request->glue->decision = allowed ? HTTP_DECISION_ALLOW : HTTP_DECISION_DENY;
}

const char *
http_request_header(struct http_request *request, const char *name)
{
	return MHD_lookup_connection_value(request->connection, MHD_HEADER_KIND, name);
}

/* ---- logins without blocking a thread ------------------------------ */

enum service_login
http_request_login(struct http_request *request, const struct org_snapshot *snapshot,
		   const char *username, const char *password, struct service_login_result *out)
{
	struct http_request_private *glue = request->glue;
	struct http_tickets *tickets = glue->server->tickets;
	struct cache_token_answer answer;
	enum service_login login;

	if (glue->ticket != NULL) {
		/* The handler runs again: its check has answered (the connection
		 * is resumed only then), or the server stopped. */
		if (!http_ticket_answer(glue->ticket, &answer)) {
			memset(&answer, 0, sizeof(answer));
			answer.verdict = CACHE_TOKEN_UNKNOWN;
		}
		http_ticket_release(tickets, glue->ticket);
		glue->ticket = NULL;
		return service_login_finish(request->service, snapshot, username, &answer, out);
	}
	glue->ticket = http_ticket_new(tickets, request->connection);
	login = service_login_start(request->service, snapshot, username, password,
				    http_ticket_done, glue->ticket, out);
	if (login == SERVICE_LOGIN_PENDING) {
		glue->waiting = true;
		return login;
	}
	http_ticket_no_callback(glue->ticket);
	http_ticket_release(tickets, glue->ticket);
	glue->ticket = NULL;
	return login;
}

/* After a handler returned: suspend the connection when it waits for a
 * token check.  true when suspended (the handler runs again later). */
static bool
suspend_if_waiting(struct http_request_private *glue)
{
	if (!glue->waiting)
		return false;
	glue->waiting = false;
	if (glue->responded) {
		/* Answered anyway: the check's answer will not be used. */
		return false;
	}
	http_ticket_suspend(glue->ticket);
	return true;
}

/* ---- routing and checks -------------------------------------------- */

static unsigned
method_bit(const char *method)
{
	static const struct { const char *name; unsigned bit; } methods[] = {
		{ "GET", HTTP_GET }, { "HEAD", HTTP_HEAD }, { "POST", HTTP_POST },
		{ "PUT", HTTP_PUT }, { "DELETE", HTTP_DELETE },
	};

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(method, methods[i].name) == 0)
			return methods[i].bit;
	return 0;
}

static bool
route_matches(const struct http_route *route, const char *path)
{
	if (route->match == HTTP_MATCH_PREFIX)
		return strncmp(path, route->path, strlen(route->path)) == 0;
	return strcmp(path, route->path) == 0;
}

/* The first route of the path that takes the method, else the first of
 * the path (answered 405): one path may belong to two front ends by method
 * (POST / uploads to the index, GET / is the web pages). */
static bool
find_route(const struct http_server *server, const char *path, unsigned method,
	   const struct http_frontend **frontend, const struct http_route **route)
{
	bool found = false;

	for (size_t i = 0; i < server->frontend_count; i++)
		for (const struct http_route *r = server->frontends[i]->routes; r->path; r++) {
			if (!route_matches(r, path) || (found && (r->methods & method) == 0))
				continue;
			*frontend = server->frontends[i];
			*route = r;
			if ((r->methods & method) != 0)
				return true;
			found = true;
		}
	return found;
}

static enum MHD_Result
count_authorization(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	unsigned *count = cls;

	(void)kind;
	(void)value;
	if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0)
		(*count)++;
	return MHD_YES;
}

/* The caller's Basic credentials against [server] backend_user and
 * backend_password, in constant time; false when none are configured
 * (admit_request answers 404 before asking, this is the second lock). */
static bool
backend_credentials_ok(const struct config *config, struct MHD_Connection *connection)
{
	struct http_basic_credentials credentials;
	const char *password = config->backend_password ? config->backend_password : "";
	unsigned headers = 0;
	bool user_ok, password_ok;

	if (!config_backend_credentials_set(config))
		return false;
	/* Two Authorization headers: which one would a proxy have checked? */
	MHD_get_connection_values(connection, MHD_HEADER_KIND, count_authorization, &headers);
	if (headers != 1)
		return false;
	if (!http_basic_parse(MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
							   MHD_HTTP_HEADER_AUTHORIZATION),
			      &credentials))
		return false;
	user_ok = ga_secret_equal(credentials.user, credentials.user_len, config->backend_user,
				  strlen(config->backend_user));
	password_ok = ga_secret_equal(credentials.password, credentials.password_len, password,
				      strlen(password));
	explicit_bzero(&credentials, sizeof(credentials));
	return user_ok & password_ok;
}

static void
respond_unauthorized(struct http_request *request, const struct config *config)
{
	static const char body[] = "{\"error\": \"backend credentials required\"}";
	struct MHD_Response *response = http_json_response_create(body, sizeof(body) - 1, true);
	char *challenge;

	if (response == NULL) {
		queue(request, MHD_HTTP_UNAUTHORIZED, NULL);
		return;
	}
	challenge = ga_asprintf("Basic realm=\"%s\", charset=\"UTF-8\"",
				config->realm ? config->realm : "ghaccess");
	MHD_add_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE, challenge);
	ga_free(challenge);
	queue(request, MHD_HTTP_UNAUTHORIZED, response);
	MHD_destroy_response(response);
}

static bool
body_too_large(struct http_request_private *glue, struct MHD_Connection *connection)
{
	const char *length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long declared;
	char *end;

	if (length == NULL)
		return false;
	errno = 0;
	declared = strtoull(length, &end, 10);
	return errno != 0 || *end != '\0' || declared > glue->frontend->max_body;
}

/* The first call for a request: route it and run the checks that need no
 * body.  A refusal is queued at once. */
static void
admit_request(struct http_request_private *glue)
{
	struct http_request *request = &glue->request;
	const struct config *config = service_config(request->service);

	if (!find_route(glue->server, request->path, method_bit(request->method), &glue->frontend,
			&glue->route))
		http_respond_error(request, MHD_HTTP_NOT_FOUND, "not found");
	else if (glue->frontend->backend_auth && !config_backend_credentials_set(config))
		/* The pypicloud protocol tells who is who and tests tokens: it is
		 * off (as if absent) until backend credentials are configured.
		 * Checked per request, so that a reload turns it on or off. */
		http_respond_error(request, MHD_HTTP_NOT_FOUND, "not found");
	else if ((glue->route->methods & method_bit(request->method)) == 0)
		http_respond_error(request, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
	else if (glue->frontend->backend_auth &&
		 !backend_credentials_ok(config, request->connection))
		respond_unauthorized(request, config);
	else if (glue->frontend->stream == NULL && body_too_large(glue, request->connection))
		http_respond_error(request, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
	else
		ga_buf_init(&glue->body, glue->frontend->max_body);
	for (size_t i = 0; glue->frontend != NULL && i < glue->server->frontend_count; i++)
		if (glue->server->frontends[i] == glue->frontend)
			request->frontend_state = glue->server->frontend_states[i];
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
	   const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	struct http_request_private *glue = *req_cls;
	struct http_request *request;

	(void)cls;
	(void)version;
	if (glue == NULL)	/* only without the URI callback, which we always set */
		return MHD_NO;
	request = &glue->request;
	request->connection = connection;
	request->path = url;
	if (!glue->routed) {
		/* The first call has the headers only.  A refusal may be queued
		 * now (libmicrohttpd then closes the connection, which is what a
		 * refused client deserves); an answer must wait for the next
		 * call, or the connection would not be kept alive. */
		glue->routed = true;
		http_deadline_headers_done(connection);
		snprintf(glue->method, sizeof(glue->method), "%s", method);
		admit_request(glue);
		if (glue->responded || glue->frontend->stream == NULL)
			return MHD_YES;
		glue->in_stream_begin = true;
	}
	if (glue->in_stream_begin) {
		/* A streamed body: the stream's limits apply from here on.
		 * libmicrohttpd repeats this first call after a suspension
		 * (a login waiting for GitHub), so it runs again then. */
		bool go_on = glue->frontend->stream(request, NULL, 0);

		if (suspend_if_waiting(glue))
			return MHD_YES;
		glue->in_stream_begin = false;
		return go_on ? MHD_YES : MHD_NO;
	}
	if (glue->responded) {
		/* An answer was given: drop the rest of the body, and send the
		 * answer now if it had to wait for the end of the body. */
		if (*upload_data_size == 0 && glue->deferred_status != 0)
			respond_deferred(glue);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0 && glue->frontend->stream != NULL) {
		/* A streamed body (uploads): the front end takes each chunk. */
		bool go_on = glue->frontend->stream(request, upload_data, *upload_data_size);

		*upload_data_size = 0;
		return go_on ? MHD_YES : MHD_NO;
	}
	if (*upload_data_size > 0) {
		/* Only a chunked body gets here over the limit (a Content-Length
		 * over it was refused with 413 before any byte).  No answer can
		 * be queued in the middle of a body: close the connection.
		 * max_body 0 means no body at all, not a buffer without limit. */
		if (glue->frontend->max_body == 0 ||
		    !ga_buf_append(&glue->body, upload_data, *upload_data_size))
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (glue->body.len > 0) {
		request->body = glue->body.data;
		request->body_len = glue->body.len;
	}
	glue->route->handle(request);
	if (suspend_if_waiting(glue))
		return MHD_YES;
	if (!glue->responded)
		http_respond_error(request, MHD_HTTP_INTERNAL_SERVER_ERROR, "no answer");
	return MHD_YES;
}

/* Called when the request line arrives, with the raw URI: the only place
 * the query string is still exactly what the client sent, so keep it. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *connection)
{
	struct http_server *server = cls;
	const char *mark = strchr(uri, '?');
	size_t path_len = mark ? (size_t)(mark - uri) : strlen(uri);
	size_t query_len = mark ? strlen(mark + 1) : 0;
	struct http_request_private *glue = ga_malloc(sizeof(*glue) + query_len + 1);

	memset(glue, 0, sizeof(*glue));
	glue->server = server;
	glue->started_ns = monotonic_ns();
	glue->decision = HTTP_DECISION_NONE;
	if (path_len > LOG_PATH_MAX)
		path_len = LOG_PATH_MAX;
	memcpy(glue->log_path, uri, path_len);
	glue->log_path[path_len] = '\0';
	if (query_len > 0)
		memcpy(glue->query, mark + 1, query_len);
	glue->query[query_len] = '\0';
	glue->request.service = server->service;
	glue->request.connection = connection;
	glue->request.method = glue->method;
	glue->request.path = "";
	glue->request.query = glue->query;
	glue->request.query_len = query_len;
	glue->request.glue = glue;
	return glue;
}

static const char *
termination_name(enum MHD_RequestTerminationCode code)
{
	switch (code) {
	case MHD_REQUEST_TERMINATED_COMPLETED_OK:
		return NULL;
	case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
		return "timeout";
	case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
		return "shutdown";
	case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
		return "client closed";
	default:
		return "error";
	}
}

static void
format_remote(struct MHD_Connection *connection, char *out, size_t size)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *address = info ? info->client_addr : NULL;

	snprintf(out, size, "-");
	if (address == NULL)
		return;
	if (address->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)address)->sin_addr,
			  out, (socklen_t)size);
	else if (address->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)(const void *)address)->sin6_addr, out,
			  (socklen_t)size);
}

/* Method, path without the query, status, duration, remote address, and
 * the user only when a login succeeded.  Never the query or a header. */
static void
log_request(struct http_request_private *glue, struct MHD_Connection *connection,
	    enum MHD_RequestTerminationCode code)
{
	char status[16], duration[24], remote[INET6_ADDRSTRLEN];
	const char *problem = termination_name(code);

	if (glue->status != 0)
		snprintf(status, sizeof(status), "%u", glue->status);
	else
		snprintf(status, sizeof(status), "-");
	snprintf(duration, sizeof(duration), "%lld", (monotonic_ns() - glue->started_ns) / 1000);
	format_remote(connection, remote, sizeof(remote));
	/* A NULL key ends the list early: "user" only when there is one. */
	if (problem != NULL)
		ga_log(GA_LOG_INFO, "request", "method", glue->method[0] ? glue->method : "-",
		       "path", glue->log_path, "status", status, "duration_us", duration,
		       "remote", remote, "problem", problem, glue->user[0] ? "user" : NULL,
		       glue->user, (char *)NULL);
	else
		ga_log(GA_LOG_INFO, "request", "method", glue->method, "path", glue->log_path,
		       "status", status, "duration_us", duration, "remote", remote,
		       glue->user[0] ? "user" : NULL, glue->user, (char *)NULL);
}

static void
on_completed(void *cls, struct MHD_Connection *connection, void **req_cls,
	     enum MHD_RequestTerminationCode code)
{
	struct http_server *server = cls;
	struct http_request_private *glue = *req_cls;

	if (glue == NULL)
		return;
	/* A kept-alive connection now waits for its next request's headers. */
	http_deadline_request_done(connection);
	if (server->access_log)
		log_request(glue, connection, code);
	http_stats_record(server->stats, glue->route, glue->status, glue->decision,
			  monotonic_ns() - glue->started_ns);
	service_release_view(glue->view);
	if (glue->ticket != NULL)
		http_ticket_release(server->tickets, glue->ticket);
	if (glue->request.free_state != NULL)
		glue->request.free_state(glue->request.state);
	ga_buf_free(&glue->body);
	/* The query of /verify holds a token. */
	explicit_bzero(glue->query, glue->request.query_len);
	ga_free(glue);
	*req_cls = NULL;
}

/* MHD's own diagnostics: the format only, never its arguments, which may
 * hold a URI with its query string. */
static void
on_mhd_error(void *cls, const char *format, va_list args)
{
	char message[256];
	size_t len;

	(void)cls;
	(void)args;
	snprintf(message, sizeof(message), "%s", format);
	len = strlen(message);
	while (len > 0 && (message[len - 1] == '\n' || message[len - 1] == ' '))
		message[--len] = '\0';
	ga_log(GA_LOG_DEBUG, "libmicrohttpd", "detail", message, (char *)NULL);
}

/* ---- the server ---------------------------------------------------- */

size_t
http_collect_derivations(const struct service_derivation **out, size_t max)
{
	size_t count = 0;

	for (size_t i = 0; http_frontends[i] != NULL && count + 1 < max; i++)
		if (http_frontends[i]->derivation != NULL)
			out[count++] = http_frontends[i]->derivation;
	out[count] = NULL;
	return count;
}

static unsigned
thread_count(const struct config *config)
{
	long cores;

	if (config->threads > 0)
		return (unsigned)config->threads;
	cores = sysconf(_SC_NPROCESSORS_ONLN);
	return cores > 0 ? (unsigned)cores : 1;
}

/* Leave room under the descriptor limit for memcached, GitHub and files. */
static unsigned
connection_limit(void)
{
	struct rlimit limit;

	if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY ||
	    limit.rlim_cur > CONNECTION_LIMIT_MAX + 64)
		return CONNECTION_LIMIT_MAX;
	return limit.rlim_cur > 128 ? (unsigned)(limit.rlim_cur - 64) : 64;
}

/* [server] listen "HOST:PORT" or "[IPV6]:PORT" into a socket address. */
static enum ga_rc
resolve_listen(const char *listen, struct sockaddr_storage *address, socklen_t *length,
	       struct ga_err *err)
{
	const char *colon = strrchr(listen, ':');
	char host[256];
	struct addrinfo hints, *found = NULL;
	size_t host_len;
	int rc;

	if (colon == NULL)
		return ga_err_set(err, GA_EINVAL, "listen: expected HOST:PORT, got \"%s\"", listen);
	host_len = (size_t)(colon - listen);
	if (host_len >= 2 && listen[0] == '[' && listen[host_len - 1] == ']') {
		listen++;
		host_len -= 2;
	}
	if (host_len == 0 || host_len >= sizeof(host))
		return ga_err_set(err, GA_EINVAL, "listen: bad host in \"%s\"", listen);
	memcpy(host, listen, host_len);
	host[host_len] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, colon + 1, &hints, &found);
	if (rc != 0)
		return ga_err_set(err, GA_EINVAL, "listen: %s: %s", host, gai_strerror(rc));
	memcpy(address, found->ai_addr, found->ai_addrlen);
	*length = found->ai_addrlen;
	freeaddrinfo(found);
	return GA_OK;
}

static void
select_frontends(struct http_server *server, const struct config *config)
{
	for (size_t i = 0; http_frontends[i] != NULL; i++) {
		const struct http_frontend *frontend = http_frontends[i];

		if (server->frontend_count == FRONTENDS_MAX) {
			ga_log(GA_LOG_ERROR, "too many front ends; raise FRONTENDS_MAX",
			       (char *)NULL);
			break;
		}
		if (frontend->enabled == NULL || frontend->enabled(config))
			server->frontends[server->frontend_count++] = frontend;
	}
}

/* Run every selected front end's start(); on failure stop those started. */
static enum ga_rc
start_frontends(struct http_server *server, const struct config *config, struct ga_err *err)
{
	for (size_t i = 0; i < server->frontend_count; i++) {
		const struct http_frontend *frontend = server->frontends[i];

		if (frontend->start != NULL &&
		    frontend->start(config, &server->frontend_states[i], err) != GA_OK)
			return err != NULL ? err->code : GA_EIO;
		server->frontend_started = i + 1;
	}
	return GA_OK;
}

static void
free_server(struct http_server *server)
{
	for (size_t i = 0; i < server->frontend_started; i++)
		if (server->frontends[i]->stop != NULL)
			server->frontends[i]->stop(server->frontend_states[i]);
	for (int i = 0; i < HTTP_CONSTANT_COUNT; i++)
		if (server->constants[i] != NULL)
			MHD_destroy_response(server->constants[i]);
	http_stats_destroy(server->stats);
	http_tickets_destroy(server->tickets);
	http_deadlines_destroy(server->deadlines);
	ga_free(server);
}

enum ga_rc
http_server_start(struct service *service, const struct http_server_options *options,
		  struct http_server **out, struct ga_err *err)
{
	const struct config *config = service_config(service);
	struct http_server *server = ga_calloc(1, sizeof(*server));
	struct sockaddr_storage address;
	socklen_t address_length = 0;
	unsigned threads = thread_count(config);
	/* One epoll loop per pool thread.  MHD_USE_TURBO (opportunistic
	 * reads, writes and accepts) made no measurable difference here
	 * (bench/http.sh), so the default, better tested path is kept. */
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME;
	const union MHD_DaemonInfo *info;
	enum ga_rc rc;

	*out = NULL;
	server->service = service;
	server->tickets = http_tickets_create();
	server->access_log = options == NULL || options->access_log;
	rc = resolve_listen(config->listen, &address, &address_length, err);
	if (rc != GA_OK) {
		free_server(server);
		return rc;
	}
	if (address.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	for (int i = 0; i < HTTP_CONSTANT_COUNT; i++)
		server->constants[i] = http_json_response_create(
			constant_bodies[i], strlen(constant_bodies[i]), true);
	select_frontends(server, config);
	server->stats = http_stats_create(service_metrics(service), server->frontends,
					  server->frontend_count);
	rc = start_frontends(server, config, err);
	if (rc != GA_OK) {
		free_server(server);
		return rc;
	}
	server->deadlines = http_deadlines_create(config->header_timeout);
	if (server->deadlines == NULL) {
		free_server(server);
		return ga_err_set(err, GA_EIO, "cannot start the header deadline thread");
	}
	server->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, server,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&address,
		MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0,
		MHD_OPTION_CONNECTION_LIMIT, connection_limit(),
		/* One address cannot take every connection (0: no limit).
		 * Behind a proxy every client has the proxy's address. */
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)config->max_connections_per_ip,
		MHD_OPTION_NOTIFY_CONNECTION, http_deadline_notify, server->deadlines,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_SECONDS,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY_LIMIT,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)LISTEN_BACKLOG,
		MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
		MHD_OPTION_STRICT_FOR_CLIENT, 1,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, server,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, server,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
		MHD_OPTION_END);
	if (server->daemon == NULL) {
		rc = ga_err_set(err, GA_EIO, "cannot listen on %s: %s", config->listen,
				errno ? strerror(errno) : "libmicrohttpd refused the options");
		free_server(server);
		return rc;
	}
	info = MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
	server->port = info ? info->port : 0;
	*out = server;
	return GA_OK;
}

unsigned short
http_server_port(const struct http_server *server)
{
	return server->port;
}

/* Wait until no connection is left or deadline (monotonic ns) passes. */
static void
drain(struct http_server *server, long long deadline)
{
	while (monotonic_ns() < deadline) {
		const union MHD_DaemonInfo *info =
			MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

		if (info == NULL || info->num_connections == 0)
			break;
		usleep(20 * 1000);
	}
}

void
http_server_stop(struct http_server *server)
{
	long long deadline;

	if (server == NULL)
		return;
	/* Stop accepting, then give the requests in flight a moment. */
	MHD_quiesce_daemon(server->daemon);
	deadline = monotonic_ns() + DRAIN_TIMEOUT_MS * 1000000LL;
	drain(server, deadline);
	/* Requests still waiting for GitHub get "try again" (a check may take
	 * [github] timeout), and libmicrohttpd must not stop with suspended
	 * connections. */
	http_tickets_abandon_all(server->tickets);
	drain(server, monotonic_ns() + ABANDON_DRAIN_MS * 1000000LL);
	MHD_stop_daemon(server->daemon);
	free_server(server);
}
