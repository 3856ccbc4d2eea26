/*
 * http_deadline.h - a deadline for a request's headers ([server]
 * header_timeout).
 *
 * libmicrohttpd only times out a connection that sends nothing for a while
 * ([server] connection timeout, 15 s): a client that sends one header line
 * every few seconds keeps its connection, and enough of them take every
 * connection the server has (the descriptor limit), so that /health and
 * everybody else wait.  Here every connection that is waiting for the
 * headers of a request (a new connection, or a kept-alive one between two
 * requests) has until header_timeout seconds after it started waiting to
 * complete them; a thread looks every 250 ms and shuts the late ones down
 * (shutdown(2): libmicrohttpd then sees the end of the stream and closes
 * the connection itself, through its usual path).  A late client first
 * gets "408 Request Timeout".
 *
 * The per-IP connection limit ([server] max_connections_per_ip) is
 * libmicrohttpd's own option; see http_server.c.
 *
 * Internal to src/http/.  The notify function is libmicrohttpd's
 * MHD_OPTION_NOTIFY_CONNECTION callback (cls: the struct http_deadlines);
 * http_deadline_headers_done and _request_done are called from the
 * request callbacks.  Thread-safe.
 */
#ifndef HTTP_DEADLINE_H
#define HTTP_DEADLINE_H

#include <microhttpd.h>

struct http_deadlines;

/* Start the watching thread; NULL when it cannot start (logged). */
struct http_deadlines *http_deadlines_create(int header_timeout_seconds);

/* Stop the thread and free; call after the daemon stopped.  NULL is fine. */
void http_deadlines_destroy(struct http_deadlines *deadlines);

/* MHD_OPTION_NOTIFY_CONNECTION: a connection starts or closes. */
void http_deadline_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
			  enum MHD_ConnectionNotificationCode code);

/* The headers of the connection's current request are complete. */
void http_deadline_headers_done(struct MHD_Connection *connection);

/* The request is done: the connection waits for the next one's headers. */
void http_deadline_request_done(struct MHD_Connection *connection);

/* Connections shut down for being late, since start (for the metrics). */
unsigned long long http_deadlines_expired(struct http_deadlines *deadlines);

#endif
