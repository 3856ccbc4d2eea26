/* service_refresh.c - the refresh thread: sync, memcached sharing, backoff, snapshot files. */
#include "service/service_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "org/org_input.h"
#include "util/ga_clock.h"
#include "util/ga_file.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

/* A snapshot file larger than this is refused rather than read. */
#define SNAPSHOT_FILE_MAX ((size_t)1024 * 1024 * 1024)
/* Backoff after a failed refresh: 1 s, doubling, at most expiration and at
 * most this. */
#define BACKOFF_FIRST_MS 1000LL
#define BACKOFF_CAP_MS (300LL * 1000)
/* A follower (another instance holds the memcached sync lock) looks for a
 * newer shared snapshot this often (at most every expiration), and every
 * second while it has none at all.  One memcached get each time. */
#define FOLLOWER_POLL_MS 5000LL
#define FOLLOWER_STARTUP_POLL_MS 1000LL

enum refresh_outcome {
	REFRESH_SYNCED,		/* read GitHub and published */
	REFRESH_ADOPTED,	/* published what another instance shared */
	REFRESH_NOTHING_NEW,	/* another instance syncs; nothing newer yet */
	REFRESH_REJECTED,	/* the shared snapshot failed its checks */
	REFRESH_FAILED,
};

long long
service_now(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME_COARSE, &now);
	return (long long)now.tv_sec;
}

long long
service_now_ms(void)
{
	return ga_wall_ms();
}

long long
service_monotonic_ms(void)
{
	return ga_monotonic_ms();
}

static void
log_snapshot(const char *msg, const struct org_snapshot *snapshot, const char *source)
{
	char members[24], teams[24], packages[24], synced_at[24];

	snprintf(members, sizeof(members), "%zu", org_snapshot_member_count(snapshot));
	snprintf(teams, sizeof(teams), "%zu", org_snapshot_team_count(snapshot));
	snprintf(packages, sizeof(packages), "%zu", org_snapshot_package_count(snapshot));
	snprintf(synced_at, sizeof(synced_at), "%lld", org_snapshot_synced_at(snapshot));
	ga_log(GA_LOG_INFO, msg, "source", source, "organization",
	       org_snapshot_organization(snapshot), "members", members, "teams", teams,
	       "packages", packages, "synced_at", synced_at, (char *)NULL);
}

/* Parse snapshot text (org_input_to_json format), build it under config
 * and publish it.  The text is borrowed. */
static enum ga_rc
publish_text(struct service *service, const char *text, size_t len, const struct config *config,
	     const char *source, struct ga_err *err)
{
	struct org_input *input = NULL;
	struct org_snapshot *snapshot = NULL;
	enum ga_rc rc;

	rc = org_input_from_json(text, len, &input, err);
	if (rc != GA_OK)
		return rc;
	rc = org_snapshot_build(input, config, &snapshot, err);
	if (rc != GA_OK)
		return rc;
	log_snapshot("snapshot loaded", snapshot, source);
	service_publish(service, snapshot, config);
	return GA_OK;
}

enum ga_rc
service_load_snapshot_file(struct service *service, const char *path, struct ga_err *err)
{
	const struct config *config = atomic_load(&service->config);
	const struct service_view *usable;
	struct ga_buf text;
	enum ga_rc rc;
	struct ga_err inner = {0};

	rc = ga_file_read(path, SNAPSHOT_FILE_MAX, &text, err);
	if (rc != GA_OK)
		return rc;
	rc = publish_text(service, text.data ? text.data : "", text.len, config, "file", &inner);
	ga_buf_free(&text);
	if (rc != GA_OK)
		return ga_err_set(err, rc, "%s: %s", path, inner.message);
	usable = service_acquire_view(service);
	if (usable == NULL)
		ga_log(GA_LOG_WARN, "the snapshot file is older than max_stale: nobody is "
		       "let in until a sync succeeds", "file", path, (char *)NULL);
	service_release_view(usable);
	return GA_OK;
}

static void
log_sync_stats(const struct gh_sync_stats *stats, enum ga_rc rc, const struct ga_err *err)
{
	char requests[24], points[24], duration[24], pages[24];

	snprintf(requests, sizeof(requests), "%u", stats->graphql_requests);
	snprintf(points, sizeof(points), "%lld", stats->graphql_points);
	snprintf(duration, sizeof(duration), "%lld", stats->duration_ms);
	snprintf(pages, sizeof(pages), "%u", stats->pages);
	for (size_t i = 0; i < stats->warning_count; i++)
		ga_log(GA_LOG_WARN, "sync warning", "warning", stats->warnings[i], (char *)NULL);
	/* The client logs a good sync itself; a failure is ours to explain. */
	if (rc != GA_OK)
		ga_log(GA_LOG_ERROR, "sync failed", "error", err->message, "graphql_requests",
		       requests, "pages", pages, "points", points, "duration_ms", duration,
		       (char *)NULL);
}

/* Read GitHub, build, publish here and (share) to memcached. */
static enum refresh_outcome
sync_from_github(struct service *service, const struct config *config, bool share)
{
	struct gh_client *client = atomic_load(&service->client);
	struct gh_sync_stats stats;
	struct org_input *input = NULL;
	struct org_snapshot *snapshot = NULL;
	struct ga_err err = {0};
	enum ga_rc rc;

	memset(&stats, 0, sizeof(stats));
	rc = gh_sync(client, &input, &stats, &err);
	log_sync_stats(&stats, rc, &err);
	service_events_note_sync(service, &stats, rc);
	gh_sync_stats_free(&stats);
	if (rc == GA_OK) {
		if (input->synced_at == 0)
			input->synced_at = service_now();
		rc = org_snapshot_build(input, config, &snapshot, &err);
	}
	if (rc != GA_OK) {
		atomic_fetch_add(&service->counters.syncs_failed, 1);
		service_note_refresh(service, false, &err);
		return REFRESH_FAILED;
	}
	if (share) {
		char *text = org_input_to_json(org_snapshot_input(snapshot));

		if (cache_snapshot_publish(service->cache, text, strlen(text),
					   org_snapshot_synced_at(snapshot), &err) != GA_OK)
			ga_log(GA_LOG_WARN, "could not share the snapshot in memcached",
			       "error", err.message, (char *)NULL);
		ga_free(text);
	}
	log_snapshot("snapshot published", snapshot, "github");
	service_publish(service, snapshot, config);
	atomic_fetch_add(&service->counters.syncs_ok, 1);
	service_note_refresh(service, true, NULL);
	return REFRESH_SYNCED;
}

/* Follower: take the snapshot another instance shared, when it is newer. */
static enum refresh_outcome
adopt_shared(struct service *service, const struct config *config)
{
	const struct service_view *current;
	char *text = NULL;
	size_t len = 0;
	long long synced_at = 0;
	struct ga_err err = {0};
	enum ga_rc rc;
	bool newer;

	rc = cache_snapshot_fetch(service->cache, &text, &len, &synced_at, &err);
	if (rc == GA_ENOTFOUND)
		return REFRESH_NOTHING_NEW;
	if (rc == GA_EPARSE) {
		ga_log(GA_LOG_ERROR, "the snapshot in memcached was rejected (forged, "
		       "corrupted or dated in the future): syncing ourselves",
		       "error", err.message, (char *)NULL);
		return REFRESH_REJECTED;
	}
	if (rc != GA_OK) {
		ga_log(GA_LOG_WARN, "could not read the shared snapshot", "error", err.message,
		       (char *)NULL);
		return REFRESH_NOTHING_NEW;
	}
	/* The cache hands over only a publication newer than any it has seen
	 * (a higher generation), so equal dates mean a second sync in the
	 * same second: take it.  Data read earlier than ours is not taken. */
	current = service_acquire_view_any_age(service);
	newer = current == NULL || synced_at >= current->synced_at;
	service_release_view(current);
	if (newer)
		rc = publish_text(service, text, len, config, "memcached", &err);
	ga_free(text);
	if (!newer)
		return REFRESH_NOTHING_NEW;
	if (rc != GA_OK) {
		/* Authentic but unusable (another version?): do not trust it. */
		ga_log(GA_LOG_ERROR, "the snapshot in memcached is unusable: ignored",
		       "error", err.message, (char *)NULL);
		return REFRESH_REJECTED;
	}
	atomic_fetch_add(&service->counters.snapshots_adopted, 1);
	service_note_refresh(service, true, NULL);
	return REFRESH_ADOPTED;
}

static enum refresh_outcome
refresh_once(struct service *service, bool forced)
{
	const struct config *config = atomic_load(&service->config);
	enum refresh_outcome outcome;
	bool locked;

	if (config->cache_backend != CONFIG_CACHE_MEMCACHE)
		return sync_from_github(service, config, false);
	/* The lock lives for one refresh period and is not released after a
	 * good sync: that is what makes N instances sync once per period.
	 * After a failed sync it is released, so that another instance may
	 * try at once. */
	locked = cache_sync_lock_take(service->cache, config->expiration);
	if (locked || forced)
		outcome = sync_from_github(service, config, true);
	else if ((outcome = adopt_shared(service, config)) == REFRESH_REJECTED)
		/* A forged or broken shared snapshot must not stall us:
		 * sync ourselves, and overwrite it. */
		outcome = sync_from_github(service, config, true);
	if (outcome == REFRESH_FAILED && locked)
		cache_sync_lock_release(service->cache);
	return outcome;
}

/* SIGHUP: apply the new configuration's filters to the records we have,
 * without waiting for GitHub.  The new snapshot shares the current one's
 * records (no copy, no serialisation): a reload costs only the indexes. */
static void
rebuild_current(struct service *service)
{
	const struct config *config = atomic_load(&service->config);
	const struct service_view *view = service_acquire_view_any_age(service);
	struct org_snapshot *snapshot = NULL;
	struct ga_err err = {0};
	enum ga_rc rc;

	if (view == NULL)
		return;
	rc = org_snapshot_rebuild(view->snapshot, config, &snapshot, &err);
	service_release_view(view);
	if (rc != GA_OK) {
		ga_log(GA_LOG_ERROR, "could not rebuild the snapshot with the new configuration",
		       "error", err.message, (char *)NULL);
		return;
	}
	log_snapshot("snapshot loaded", snapshot, "reload");
	service_publish(service, snapshot, config);
}

static long long
next_delay_ms(struct service *service, enum refresh_outcome outcome, long long *backoff_ms)
{
	const struct config *config = atomic_load(&service->config);
	long long period_ms = (long long)config->expiration * 1000;
	long long cap_ms = period_ms < BACKOFF_CAP_MS ? period_ms : BACKOFF_CAP_MS;
	const struct service_view *view;
	bool have_view;

	if (outcome != REFRESH_FAILED)
		*backoff_ms = 0;
	switch (outcome) {
	case REFRESH_SYNCED:
	case REFRESH_ADOPTED:
		return period_ms;
	case REFRESH_NOTHING_NEW:
	case REFRESH_REJECTED:
		view = service_acquire_view_any_age(service);
		have_view = view != NULL;
		service_release_view(view);
		if (!have_view)
			return FOLLOWER_STARTUP_POLL_MS;
		return FOLLOWER_POLL_MS < period_ms ? FOLLOWER_POLL_MS : period_ms;
	case REFRESH_FAILED:
		break;
	}
	*backoff_ms = *backoff_ms == 0 ? BACKOFF_FIRST_MS : *backoff_ms * 2;
	if (*backoff_ms > cap_ms)
		*backoff_ms = cap_ms < BACKOFF_FIRST_MS ? BACKOFF_FIRST_MS : cap_ms;
	return *backoff_ms;
}

/* Sleep on the condition variable until due_ms (monotonic) or a signal. */
static void
wait_until(struct service *service, long long due_ms)
{
	struct timespec deadline = {
		.tv_sec = (time_t)(due_ms / 1000),
		.tv_nsec = (long)(due_ms % 1000) * 1000000,
	};

	pthread_cond_timedwait(&service->wake, &service->lock, &deadline);
}

void *
service_refresh_main(void *arg)
{
	struct service *service = arg;
	long long backoff_ms = 0;
	long long due_ms = service_monotonic_ms();

	/* A snapshot file serves until the first refresh period ends, unless
	 * it is already too old to be used. */
	if (service->loaded_from_file) {
		const struct service_view *usable = service_acquire_view(service);

		if (usable != NULL)
			due_ms += (long long)atomic_load(&service->config)->expiration * 1000;
		service_release_view(usable);
	}
	pthread_mutex_lock(&service->lock);
	for (;;) {
		bool forced, rebuild;
		enum refresh_outcome outcome;

		while (!service->stopping && !service->refresh_requested &&
		       !service->rebuild_requested && service_monotonic_ms() < due_ms)
			wait_until(service, due_ms);
		if (service->stopping)
			break;
		forced = service->refresh_requested;
		rebuild = service->rebuild_requested;
		service->refresh_requested = false;
		service->rebuild_requested = false;
		pthread_mutex_unlock(&service->lock);

		if (rebuild)
			rebuild_current(service);
		outcome = refresh_once(service, forced);
		due_ms = service_monotonic_ms() + next_delay_ms(service, outcome, &backoff_ms);
		if (outcome == REFRESH_FAILED) {
			char delay[24];

			snprintf(delay, sizeof(delay), "%lld", backoff_ms);
			ga_log(GA_LOG_WARN, "keeping the last good snapshot; retrying",
			       "retry_in_ms", delay, (char *)NULL);
		}
		pthread_mutex_lock(&service->lock);
	}
	pthread_mutex_unlock(&service->lock);
	return NULL;
}
