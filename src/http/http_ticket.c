/* http_ticket.c - requests that wait for a token check, suspended; see http_ticket.h. */
#include "http/http_ticket.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "util/ga_xalloc.h"

struct http_ticket {
	pthread_mutex_t lock;
	atomic_uint references;		/* the request's and the callback's */
	bool done;			/* the answer is in (or abandoned) */
	bool suspended;			/* suspended and not yet resumed */
	struct MHD_Connection *connection;
	struct cache_token_answer answer;
	struct http_ticket *prev, *next;	/* in tickets->head, under tickets->lock */
};

struct http_tickets {
	pthread_mutex_t lock;
	struct http_ticket *head;
	unsigned count;
};

struct http_tickets *
http_tickets_create(void)
{
	struct http_tickets *tickets = ga_calloc(1, sizeof(*tickets));

	pthread_mutex_init(&tickets->lock, NULL);
	return tickets;
}

void
http_tickets_destroy(struct http_tickets *tickets)
{
	if (tickets == NULL)
		return;
	pthread_mutex_destroy(&tickets->lock);
	ga_free(tickets);
}

struct http_ticket *
http_ticket_new(struct http_tickets *tickets, struct MHD_Connection *connection)
{
	struct http_ticket *ticket = ga_calloc(1, sizeof(*ticket));

	pthread_mutex_init(&ticket->lock, NULL);
	atomic_init(&ticket->references, 2);
	ticket->connection = connection;
	ticket->answer.verdict = CACHE_TOKEN_UNKNOWN;
	pthread_mutex_lock(&tickets->lock);
	ticket->next = tickets->head;
	if (tickets->head != NULL)
		tickets->head->prev = ticket;
	tickets->head = ticket;
	tickets->count++;
	pthread_mutex_unlock(&tickets->lock);
	return ticket;
}

static void
unreference(struct http_ticket *ticket)
{
	if (atomic_fetch_sub(&ticket->references, 1) != 1)
		return;
	pthread_mutex_destroy(&ticket->lock);
	ga_free(ticket);
}

/*
 * Resume (lock held) when suspended.  Resuming under the ticket's lock
 * means that once abandon_all has visited a ticket, nobody resumes its
 * connection any more: the daemon can then stop safely.
 */
static void
resume_locked(struct http_ticket *ticket)
{
	if (!ticket->suspended)
		return;
	ticket->suspended = false;
	MHD_resume_connection(ticket->connection);
}

void
http_ticket_done(void *arg, const struct cache_token_answer *answer)
{
	struct http_ticket *ticket = arg;

	pthread_mutex_lock(&ticket->lock);
	if (!ticket->done) {
		ticket->answer = *answer;
		ticket->done = true;
		resume_locked(ticket);
	}
	pthread_mutex_unlock(&ticket->lock);
	unreference(ticket);
}

void
http_ticket_no_callback(struct http_ticket *ticket)
{
	unreference(ticket);
}

void
http_ticket_suspend(struct http_ticket *ticket)
{
	MHD_suspend_connection(ticket->connection);
	pthread_mutex_lock(&ticket->lock);
	ticket->suspended = true;
	/* The answer came before the suspension: go on at once. */
	if (ticket->done)
		resume_locked(ticket);
	pthread_mutex_unlock(&ticket->lock);
}

bool
http_ticket_answer(struct http_ticket *ticket, struct cache_token_answer *answer)
{
	bool done;

	pthread_mutex_lock(&ticket->lock);
	done = ticket->done;
	if (done)
		*answer = ticket->answer;
	pthread_mutex_unlock(&ticket->lock);
	return done;
}

void
http_ticket_release(struct http_tickets *tickets, struct http_ticket *ticket)
{
	pthread_mutex_lock(&tickets->lock);
	if (ticket->prev != NULL)
		ticket->prev->next = ticket->next;
	else
		tickets->head = ticket->next;
	if (ticket->next != NULL)
		ticket->next->prev = ticket->prev;
	tickets->count--;
	pthread_mutex_unlock(&tickets->lock);
	/* The answer may hold a user-facing detail: nothing secret, but
	 * nothing to keep either. */
	unreference(ticket);
}

void
http_tickets_abandon_all(struct http_tickets *tickets)
{
	pthread_mutex_lock(&tickets->lock);
	for (struct http_ticket *ticket = tickets->head; ticket != NULL; ticket = ticket->next) {
		pthread_mutex_lock(&ticket->lock);
		if (!ticket->done) {
			memset(&ticket->answer, 0, sizeof(ticket->answer));
			ticket->answer.verdict = CACHE_TOKEN_UNKNOWN;
			ticket->done = true;
		}
		resume_locked(ticket);
		pthread_mutex_unlock(&ticket->lock);
	}
	pthread_mutex_unlock(&tickets->lock);
}

unsigned
http_tickets_count(struct http_tickets *tickets)
{
	unsigned count;

	pthread_mutex_lock(&tickets->lock);
	count = tickets->count;
	pthread_mutex_unlock(&tickets->lock);
	return count;
}
