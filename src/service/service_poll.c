/*
 * service_poll.c - the poll source: every [github] poll_interval seconds,
 * ETag polls (github/gh_poll.h) for what no webhook reports (owners, the
 * base permission); a change asks the refresh for a full snapshot.  A
 * thread of its own, so that a hung poll delays nothing else; see
 * service_pipeline.h.
 */
#include "service/service_pipeline.h"

#include <string.h>
#include <time.h>

#include "github/gh_poll.h"
#include "service/service_metrics.h"
#include "util/ga_clock.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

struct service_poll {
	struct service_source source;
	struct gh_poll *state;		/* ETags and fingerprints; the thread's */
	bool failing;			/* log the first failure of a streak only */

	pthread_t thread;
	bool started;
	pthread_mutex_t lock;		/* stopping */
	pthread_cond_t wake;		/* CLOCK_MONOTONIC */
	bool stopping;
};

struct service_poll *
service_poll_create(const struct service_source *source)
{
	struct service_poll *poll = ga_calloc(1, sizeof(*poll));
	pthread_condattr_t attributes;

	poll->source = *source;
	poll->state = gh_poll_create();
	pthread_mutex_init(&poll->lock, NULL);
	pthread_condattr_init(&attributes);
	pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
	pthread_cond_init(&poll->wake, &attributes);
	pthread_condattr_destroy(&attributes);
	return poll;
}

void
service_poll_destroy(struct service_poll *poll)
{
	if (poll == NULL)
		return;
	service_poll_stop(poll);
	gh_poll_destroy(poll->state);
	pthread_cond_destroy(&poll->wake);
	pthread_mutex_destroy(&poll->lock);
	ga_free(poll);
}

/* Lock not held. */
static void
poll_once(struct service_poll *poll)
{
	const struct service_source *source = &poll->source;
	struct gh_poll_stats stats = {0};
	struct ga_err err = {0};
	bool changed = false;
	enum ga_rc rc = gh_poll_check(service_settings_github(source->settings), poll->state,
				      &changed, &stats, &err);

	service_metrics_note_poll(source->metrics, &stats, rc == GA_OK && changed);
	if (rc != GA_OK) {
		if (!poll->failing)
			ga_log(GA_LOG_WARN, "poll for role and base permission changes failed",
			       "error", err.message, (char *)NULL);
		poll->failing = true;
		return;
	}
	poll->failing = false;
	if (changed) {
		ga_log(GA_LOG_INFO, "poll: owners or base permission changed; refreshing",
		       (char *)NULL);
		service_refresh_request(source->refresh);
	}
}

static bool
have_snapshot(struct service_poll *poll)
{
	const struct service_view *view = service_publisher_acquire(poll->source.publisher);

	service_release_view(view);
	return view != NULL;
}

static void
wait_until(struct service_poll *poll, long long due_ms)
{
	struct timespec deadline = {
		.tv_sec = (time_t)(due_ms / 1000),
		.tv_nsec = (long)(due_ms % 1000) * 1000000,
	};

	pthread_cond_timedwait(&poll->wake, &poll->lock, &deadline);
}

/* Every poll_interval seconds once there is a snapshot (the first poll only
 * records: the sync that made the snapshot read the same data). */
static void *
poll_main(void *arg)
{
	struct service_poll *poll = arg;

	pthread_mutex_lock(&poll->lock);
	while (!poll->stopping) {
		int poll_interval = service_settings_config(poll->source.settings)->poll_interval;
		long long wait_ms = 1000;

		if (poll_interval > 0 && have_snapshot(poll)) {
			pthread_mutex_unlock(&poll->lock);
			poll_once(poll);
			pthread_mutex_lock(&poll->lock);
			wait_ms = poll_interval * 1000LL;
		} else if (poll_interval <= 0) {
			/* Off; a reload may turn it on. */
			wait_ms = 60 * 1000;
		}
		if (!poll->stopping)
			wait_until(poll, ga_monotonic_ms() + wait_ms);
	}
	pthread_mutex_unlock(&poll->lock);
	return NULL;
}

enum ga_rc
service_poll_start(struct service_poll *poll, struct ga_err *err)
{
	int error = pthread_create(&poll->thread, NULL, poll_main, poll);

	if (error != 0)
		return ga_err_set(err, GA_EIO, "cannot start the poll thread: %s",
				  strerror(error));
	poll->started = true;
	return GA_OK;
}

/* A poll in progress ends with its request: service_stop cancels the
 * client first, which ends the request at once. */
void
service_poll_stop(struct service_poll *poll)
{
	if (!poll->started)
		return;
	pthread_mutex_lock(&poll->lock);
	poll->stopping = true;
	pthread_cond_signal(&poll->wake);
	pthread_mutex_unlock(&poll->lock);
	pthread_join(poll->thread, NULL);
	poll->started = false;
}
