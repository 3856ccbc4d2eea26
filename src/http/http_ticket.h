/*
 * http_ticket.h - a request that waits for a token check without holding a
 * server thread: its connection is suspended (libmicrohttpd's
 * MHD_suspend_connection) until the check calls back, then resumed, and
 * the handler runs again and takes the answer.
 *
 * A ticket has two owners: the request (until it takes the answer or ends)
 * and the check's callback (which may run on any thread, at any time after
 * the check started, even before the connection is suspended).  Whoever
 * comes second resumes the connection, so a resume never precedes its
 * suspend.  At shutdown, http_tickets_abandon_all() answers every waiting
 * ticket with "could not tell" and resumes its connection: libmicrohttpd
 * must not be stopped with suspended connections, and a check may take up
 * to [github] timeout.
 *
 * Internal to src/http/ (http_server.c); thread-safe as described.
 */
#ifndef HTTP_TICKET_H
#define HTTP_TICKET_H

#include <stdbool.h>

#include <microhttpd.h>

#include "cache/cache.h"

struct http_tickets;
struct http_ticket;

struct http_tickets *http_tickets_create(void);
/* Free the set; every ticket must be released by then. */
void http_tickets_destroy(struct http_tickets *tickets);

/* A new ticket for connection, listed in tickets (for abandon_all). */
struct http_ticket *http_ticket_new(struct http_tickets *tickets,
				    struct MHD_Connection *connection);

/* The check's callback (cache_done_fn): arg is the ticket.  Once per ticket
 * that was handed to a check. */
void http_ticket_done(void *arg, const struct cache_token_answer *answer);

/* The check will never call back (it answered at once or was refused):
 * drop the callback's share. */
void http_ticket_no_callback(struct http_ticket *ticket);

/*
 * Suspend the ticket's connection until the answer is in (from the
 * request's handler, on its libmicrohttpd thread, after it returned
 * without answering).  When the answer came already, the connection is
 * resumed at once: the handler runs again on the next turn of the loop.
 */
void http_ticket_suspend(struct http_ticket *ticket);

/* true and *answer filled when the answer is in. */
bool http_ticket_answer(struct http_ticket *ticket, struct cache_token_answer *answer);

/* The request is done with the ticket (took the answer, or ended). */
void http_ticket_release(struct http_tickets *tickets, struct http_ticket *ticket);

/* Answer every waiting ticket with CACHE_TOKEN_UNKNOWN and resume its
 * connection (shutdown).  Later callbacks change nothing. */
void http_tickets_abandon_all(struct http_tickets *tickets);

/* Tickets not yet released (for the drain at shutdown). */
unsigned http_tickets_count(struct http_tickets *tickets);

#endif
