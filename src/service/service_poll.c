/*
 * service_poll.c - the poll source: every [github] poll_interval seconds,
 * ETag polls (github/gh_poll.h) for what no webhook reports (owners, the
 * base permission); a change asks the refresh for a full snapshot.  A
 * thread of its own, so that a hung poll delays nothing else; see
 * service_pipeline.h.
 */
#include "service/service_pipeline.h"

#include <string.h>

#include "github/gh_poll.h"
#include "service/service_metrics.h"
#include "util/ga_clock.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

struct service_poll {
	struct service_source source;
	struct gh_poll *state;		/* ETags and fingerprints; the thread's */
	bool failing;			/* log the first failure of a streak only */

	struct service_thread thread;
};

struct service_poll *
service_poll_create(const struct service_source *source)
{
	struct service_poll *poll = ga_calloc(1, sizeof(*poll));

	poll->source = *source;
	poll->state = gh_poll_create();
	service_thread_init(&poll->thread);
	return poll;
}

void
service_poll_destroy(struct service_poll *poll)
{
	if (poll == NULL)
		return;
	service_thread_destroy(&poll->thread);
	gh_poll_destroy(poll->state);
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

/* Every poll_interval seconds once there is a snapshot (the first poll only
 * records: the sync that made the snapshot read the same data). */
static void *
poll_main(void *arg)
{
	struct service_poll *poll = arg;
	struct service_thread *thread = &poll->thread;

	pthread_mutex_lock(&thread->lock);
	while (!thread->stopping) {
		int poll_interval = service_settings_config(poll->source.settings)->poll_interval;
		long long wait_ms = 1000;

		if (poll_interval > 0 && have_snapshot(poll)) {
			pthread_mutex_unlock(&thread->lock);
			poll_once(poll);
			pthread_mutex_lock(&thread->lock);
			wait_ms = poll_interval * 1000LL;
		} else if (poll_interval <= 0) {
			/* Off; a reload may turn it on. */
			wait_ms = 60 * 1000;
		}
		if (!thread->stopping)
			service_thread_wait_until(thread, ga_monotonic_ms() + wait_ms);
	}
	pthread_mutex_unlock(&thread->lock);
	return NULL;
}

enum ga_rc
service_poll_start(struct service_poll *poll, struct ga_err *err)
{
	return service_thread_start(&poll->thread, "poll", poll_main, poll, err);
}

/* A poll in progress ends with its request: service_stop cancels the
 * client first, which ends the request at once. */
void
service_poll_stop(struct service_poll *poll)
{
	service_thread_stop(&poll->thread);
}
