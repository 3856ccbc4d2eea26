/* http_deadline.c - the header deadline of every connection; see http_deadline.h. */
#include "http/http_deadline.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "util/ga_log.h"
#include "util/ga_xalloc.h"

#define SWEEP_INTERVAL_MS 250

/* One per open connection: its socket_context. */
struct deadline_entry {
	struct deadline_entry *prev, *next;	/* under deadlines->lock */
	struct http_deadlines *owner;
	MHD_socket fd;
	/* Monotonic ms since which the connection waits for headers; 0 while
	 * a request is being handled. */
	atomic_llong waiting_since_ms;
	bool shut;				/* under deadlines->lock */
};

struct http_deadlines {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct deadline_entry *head;
	long long timeout_ms;
	bool stopping;
	pthread_t thread;
	atomic_ullong expired;
};

static long long
now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/*
 * Shut the late connections down.  The socket stays open (only libmicrohttpd
 * closes it, after the CLOSED notification, which takes the same lock), so
 * the descriptor cannot have been reused for another connection here.
 */
static void
sweep(struct http_deadlines *deadlines)
{
	long long now = now_ms();

	for (struct deadline_entry *entry = deadlines->head; entry != NULL; entry = entry->next) {
		long long since = atomic_load(&entry->waiting_since_ms);

		if (since == 0 || entry->shut || now - since <= deadlines->timeout_ms)
			continue;
		entry->shut = true;
		if (shutdown(entry->fd, SHUT_RDWR) == 0)
			atomic_fetch_add(&deadlines->expired, 1);
	}
}

static void *
sweeper_main(void *arg)
{
	struct http_deadlines *deadlines = arg;
	struct timespec until;

	pthread_mutex_lock(&deadlines->lock);
	while (!deadlines->stopping) {
		sweep(deadlines);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += SWEEP_INTERVAL_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&deadlines->wake, &deadlines->lock, &until);
	}
	pthread_mutex_unlock(&deadlines->lock);
	return NULL;
}

struct http_deadlines *
http_deadlines_create(int header_timeout_seconds)
{
	struct http_deadlines *deadlines = ga_calloc(1, sizeof(*deadlines));
	pthread_condattr_t attributes;
	int error;

	pthread_mutex_init(&deadlines->lock, NULL);
	pthread_condattr_init(&attributes);
	pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
	pthread_cond_init(&deadlines->wake, &attributes);
	pthread_condattr_destroy(&attributes);
	deadlines->timeout_ms = (long long)(header_timeout_seconds > 0 ? header_timeout_seconds : 10)
				* 1000;
	atomic_init(&deadlines->expired, 0);
	error = pthread_create(&deadlines->thread, NULL, sweeper_main, deadlines);
	if (error != 0) {
		ga_log(GA_LOG_ERROR, "cannot start the header deadline thread", "error",
		       strerror(error), (char *)NULL);
		pthread_cond_destroy(&deadlines->wake);
		pthread_mutex_destroy(&deadlines->lock);
		ga_free(deadlines);
		return NULL;
	}
	return deadlines;
}

void
http_deadlines_destroy(struct http_deadlines *deadlines)
{
	if (deadlines == NULL)
		return;
	pthread_mutex_lock(&deadlines->lock);
	deadlines->stopping = true;
	pthread_cond_signal(&deadlines->wake);
	pthread_mutex_unlock(&deadlines->lock);
	pthread_join(deadlines->thread, NULL);
	/* The daemon is stopped: every connection was notified closed. */
	pthread_cond_destroy(&deadlines->wake);
	pthread_mutex_destroy(&deadlines->lock);
	ga_free(deadlines);
}

void
http_deadline_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
		     enum MHD_ConnectionNotificationCode code)
{
	struct http_deadlines *deadlines = cls;
	struct deadline_entry *entry = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info =
			MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);

		if (info == NULL)
			return;
		entry = ga_calloc(1, sizeof(*entry));
		entry->owner = deadlines;
		entry->fd = info->connect_fd;
		atomic_init(&entry->waiting_since_ms, now_ms());
		pthread_mutex_lock(&deadlines->lock);
		entry->next = deadlines->head;
		if (deadlines->head != NULL)
			deadlines->head->prev = entry;
		deadlines->head = entry;
		pthread_mutex_unlock(&deadlines->lock);
		*socket_context = entry;
		return;
	}
	if (entry == NULL)
		return;
	pthread_mutex_lock(&deadlines->lock);
	if (entry->prev != NULL)
		entry->prev->next = entry->next;
	else
		deadlines->head = entry->next;
	if (entry->next != NULL)
		entry->next->prev = entry->prev;
	pthread_mutex_unlock(&deadlines->lock);
	ga_free(entry);
	*socket_context = NULL;
}

static struct deadline_entry *
entry_of(struct MHD_Connection *connection)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info != NULL ? info->socket_context : NULL;
}

void
http_deadline_headers_done(struct MHD_Connection *connection)
{
	struct deadline_entry *entry = entry_of(connection);

	if (entry != NULL)
		atomic_store(&entry->waiting_since_ms, 0);
}

void
http_deadline_request_done(struct MHD_Connection *connection)
{
	struct deadline_entry *entry = entry_of(connection);

	if (entry != NULL)
		atomic_store(&entry->waiting_since_ms, now_ms());
}

unsigned long long
http_deadlines_expired(struct http_deadlines *deadlines)
{
	return deadlines != NULL ? atomic_load(&deadlines->expired) : 0;
}
