/*
 * service_refresh.c - the source of full snapshots: its thread syncs from
 * GitHub every period (or adopts what another instance shared in
 * memcached), backs off after a failure, rebuilds the current snapshot
 * after a reload; the snapshot file at start.  Everything it reads goes to
 * the publisher; see service_pipeline.h.
 */
#include "service/service_pipeline.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "org/org_input.h"
#include "service/service_metrics.h"
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
/* A follower (another instance holds the memcached sync lock or its
 * marker) looks for a newer shared snapshot this often (at most every
 * period), also after adopting one, and every second while it has none at
 * all.  One memcached get each time. */
#define FOLLOWER_POLL_MS 5000LL
#define FOLLOWER_STARTUP_POLL_MS 1000LL

enum refresh_outcome {
	REFRESH_SYNCED,		/* read GitHub and published */
	REFRESH_ADOPTED,	/* published what another instance shared */
	REFRESH_NOTHING_NEW,	/* another instance syncs; nothing newer yet */
	REFRESH_REJECTED,	/* the shared snapshot failed its checks */
	REFRESH_FAILED,
};

struct service_refresh {
	struct service_source source;
	bool loaded_from_file;			/* --snapshot: the first refresh waits */

	struct service_thread thread;		/* its lock guards the flags below */
	bool refresh_requested;
	bool rebuild_requested;			/* reload: re-apply the filters */

	/* Status of the last refresh, for /health. */
	pthread_mutex_t status_lock;
	struct service_refresh_status status;
};

struct service_refresh *
service_refresh_create(const struct service_source *source)
{
	struct service_refresh *refresh = ga_calloc(1, sizeof(*refresh));

	refresh->source = *source;
	service_thread_init(&refresh->thread);
	pthread_mutex_init(&refresh->status_lock, NULL);
	return refresh;
}

void
service_refresh_destroy(struct service_refresh *refresh)
{
	if (refresh == NULL)
		return;
	service_thread_destroy(&refresh->thread);
	pthread_mutex_destroy(&refresh->status_lock);
	ga_free(refresh);
}

/* Record the outcome of a refresh for /health. */
static void
note_refresh(struct service_refresh *refresh, bool ok, const struct ga_err *err)
{
	struct service_refresh_status *status = &refresh->status;

	pthread_mutex_lock(&refresh->status_lock);
	status->last_refresh_failed = !ok;
	if (ok) {
		status->last_error[0] = '\0';
		status->last_success_at = ga_wall_s();
	} else {
		snprintf(status->last_error, sizeof(status->last_error), "%s",
			 err != NULL && err->message[0] != '\0' ? err->message : "unknown error");
	}
	pthread_mutex_unlock(&refresh->status_lock);
}

void
service_refresh_get_status(struct service_refresh *refresh, struct service_refresh_status *out)
{
	pthread_mutex_lock(&refresh->status_lock);
	*out = refresh->status;
	pthread_mutex_unlock(&refresh->status_lock);
}

/* When the data of the current view was read: NO_VIEW without one. */
#define NO_VIEW LLONG_MIN
static long long
current_synced_at(struct service_refresh *refresh)
{
	const struct service_view *view = service_publisher_acquire(refresh->source.publisher);
	long long synced_at = view != NULL ? service_view_synced_at(view) : NO_VIEW;

	service_release_view(view);
	return synced_at;
}

/* A view within max_stale (the rule of service_acquire_view). */
static bool
have_usable_view(struct service_refresh *refresh)
{
	const struct config *config = service_settings_config(refresh->source.settings);
	long long synced_at = current_synced_at(refresh);

	return synced_at != NO_VIEW && ga_wall_s() - synced_at <= config->max_stale;
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
publish_text(struct service_refresh *refresh, const char *text, size_t len,
	     const struct config *config, const char *source, struct ga_err *err)
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
	service_publisher_snapshot(refresh->source.publisher, snapshot, config);
	return GA_OK;
}

enum ga_rc
service_refresh_load_file(struct service_refresh *refresh, const char *path, struct ga_err *err)
{
	const struct config *config = service_settings_config(refresh->source.settings);
	struct ga_buf text;
	enum ga_rc rc;
	struct ga_err inner = {0};

	rc = ga_file_read(path, SNAPSHOT_FILE_MAX, &text, err);
	if (rc != GA_OK)
		return rc;
	rc = publish_text(refresh, text.data ? text.data : "", text.len, config, "file", &inner);
	ga_buf_free(&text);
	if (rc != GA_OK)
		return ga_err_set(err, rc, "%s: %s", path, inner.message);
	if (!have_usable_view(refresh))
		ga_log(GA_LOG_WARN, "the snapshot file is older than max_stale: nobody is "
		       "let in until a sync succeeds", "file", path, (char *)NULL);
	refresh->loaded_from_file = true;
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
sync_from_github(struct service_refresh *refresh, const struct config *config, bool share)
{
	const struct service_source *source = &refresh->source;
	struct gh_client *client = service_settings_github(source->settings);
	struct gh_sync_stats stats;
	struct org_input *input = NULL;
	struct org_snapshot *snapshot = NULL;
	struct ga_err err = {0};
	enum ga_rc rc;

	memset(&stats, 0, sizeof(stats));
	rc = gh_sync(client, &input, &stats, &err);
	log_sync_stats(&stats, rc, &err);
	service_metrics_note_sync(source->metrics, &stats, rc);
	/* What the points look like now, for whatever paces GitHub calls. */
	service_budget_note(source->budget, &stats, rc == GA_OK, config);
	gh_sync_stats_free(&stats);
	if (rc == GA_OK) {
		if (input->synced_at == 0)
			input->synced_at = ga_wall_s();
		rc = org_snapshot_build(input, config, &snapshot, &err);
	}
	if (rc != GA_OK) {
		service_metrics_note_sync_result(source->metrics, false);
		note_refresh(refresh, false, &err);
		return REFRESH_FAILED;
	}
	if (share) {
		char *text = org_input_to_json(org_snapshot_input(snapshot));

		if (cache_snapshot_publish(source->cache, text, strlen(text),
					   org_snapshot_synced_at(snapshot), &err) != GA_OK)
			ga_log(GA_LOG_WARN, "could not share the snapshot in memcached",
			       "error", err.message, (char *)NULL);
		ga_free(text);
	}
	log_snapshot("snapshot published", snapshot, "github");
	service_publisher_snapshot(source->publisher, snapshot, config);
	service_metrics_note_sync_result(source->metrics, true);
	note_refresh(refresh, true, NULL);
	return REFRESH_SYNCED;
}

/* Follower: take the snapshot another instance shared, when it is newer. */
static enum refresh_outcome
adopt_shared(struct service_refresh *refresh, const struct config *config)
{
	char *text = NULL;
	size_t len = 0;
	long long synced_at = 0;
	struct ga_err err = {0};
	enum ga_rc rc;
	bool newer;

	rc = cache_snapshot_fetch(refresh->source.cache, &text, &len, &synced_at, &err);
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
	newer = synced_at >= current_synced_at(refresh);
	if (newer)
		rc = publish_text(refresh, text, len, config, "memcached", &err);
	ga_free(text);
	if (!newer)
		return REFRESH_NOTHING_NEW;
	if (rc != GA_OK) {
		/* Authentic but unusable (another version?): do not trust it. */
		ga_log(GA_LOG_ERROR, "the snapshot in memcached is unusable: ignored",
		       "error", err.message, (char *)NULL);
		return REFRESH_REJECTED;
	}
	service_metrics_note_adopted(refresh->source.metrics);
	note_refresh(refresh, true, NULL);
	return REFRESH_ADOPTED;
}

static enum refresh_outcome
refresh_once(struct service_refresh *refresh, bool forced)
{
	const struct config *config = service_settings_config(refresh->source.settings);
	struct cache *cache = refresh->source.cache;
	enum refresh_outcome outcome;
	bool locked;

	if (config->cache_backend != CONFIG_CACHE_MEMCACHE)
		return sync_from_github(refresh, config, false);
	/* N instances sync once per period: the instance whose sync succeeds
	 * leaves a marker that lives one planned period, and the others adopt its
	 * snapshot while it is there. */
	if (!forced && cache_sync_marked(cache)) {
		outcome = adopt_shared(refresh, config);
		if (outcome != REFRESH_REJECTED)
			return outcome;
		/* A forged or broken shared snapshot must not stall us. */
		forced = true;
	}
	/* One sync at a time: the lock lives CACHE_SYNC_LOCK_TTL seconds and
	 * is renewed by the shared change log's thread while gh_sync runs
	 * (service_shared.c), so a syncer killed mid-sync holds the others up
	 * for that long at most.  Released when the sync ends, good or bad. */
	locked = cache_sync_lock_take(cache, CACHE_SYNC_LOCK_TTL);
	if (locked || forced)
		outcome = sync_from_github(refresh, config, true);
	else if ((outcome = adopt_shared(refresh, config)) == REFRESH_REJECTED)
		/* A forged or broken shared snapshot must not stall us:
		 * sync ourselves, and overwrite it. */
		outcome = sync_from_github(refresh, config, true);
	if (outcome == REFRESH_SYNCED)
		/* The marker lives one planned period (the budget's, not
		 * expiration): the cluster syncs once per planned period. */
		cache_sync_mark(cache, (int)(service_budget_period_ms(refresh->source.budget,
									config, NULL) / 1000));
	if (locked)
		cache_sync_lock_release(cache);
	return outcome;
}

/* SIGHUP: apply the new configuration's filters to the records we have,
 * without waiting for GitHub.  The new snapshot shares the current one's
 * records (no copy, no serialisation): a reload costs only the indexes. */
static void
rebuild_current(struct service_refresh *refresh)
{
	const struct config *config = service_settings_config(refresh->source.settings);
	const struct service_view *view = service_publisher_acquire(refresh->source.publisher);
	struct org_snapshot *snapshot = NULL;
	struct ga_err err = {0};
	enum ga_rc rc;

	if (view == NULL)
		return;
	rc = org_snapshot_rebuild(service_view_snapshot(view), config, &snapshot, &err);
	service_release_view(view);
	if (rc != GA_OK) {
		ga_log(GA_LOG_ERROR, "could not rebuild the snapshot with the new configuration",
		       "error", err.message, (char *)NULL);
		return;
	}
	log_snapshot("snapshot loaded", snapshot, "reload");
	service_publisher_snapshot(refresh->source.publisher, snapshot, config);
}

static long long
next_delay_ms(struct service_refresh *refresh, enum refresh_outcome outcome,
	      long long *backoff_ms)
{
	const struct config *config = service_settings_config(refresh->source.settings);
	long long period_ms = service_budget_period_ms(refresh->source.budget, config, NULL);
	long long cap_ms = period_ms < BACKOFF_CAP_MS ? period_ms : BACKOFF_CAP_MS;

	if (outcome != REFRESH_FAILED)
		*backoff_ms = 0;
	switch (outcome) {
	case REFRESH_SYNCED:
		return period_ms;
	case REFRESH_ADOPTED:
		/* A follower keeps looking: the instance that syncs may publish
		 * again before the period ends (a sync a webhook or a poll asked
		 * for), and what it read must not wait a whole period here.  A
		 * look at a publication already held costs one small get. */
	case REFRESH_NOTHING_NEW:
	case REFRESH_REJECTED:
		if (current_synced_at(refresh) == NO_VIEW)
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

static void *
refresh_main(void *arg)
{
	struct service_refresh *refresh = arg;
	long long backoff_ms = 0;
	long long due_ms = ga_monotonic_ms();

	/* A snapshot file serves until the first refresh period ends, unless
	 * it is already too old to be used. */
	if (refresh->loaded_from_file && have_usable_view(refresh))
		due_ms += (long long)service_settings_config(refresh->source.settings)->expiration *
			  1000;
	pthread_mutex_lock(&refresh->thread.lock);
	for (;;) {
		bool forced, rebuild;
		enum refresh_outcome outcome;

		while (!refresh->thread.stopping && !refresh->refresh_requested &&
		       !refresh->rebuild_requested && ga_monotonic_ms() < due_ms)
			service_thread_wait_until(&refresh->thread, due_ms);
		if (refresh->thread.stopping)
			break;
		forced = refresh->refresh_requested;
		rebuild = refresh->rebuild_requested;
		refresh->refresh_requested = false;
		refresh->rebuild_requested = false;
		pthread_mutex_unlock(&refresh->thread.lock);

		if (rebuild)
			rebuild_current(refresh);
		outcome = refresh_once(refresh, forced);
		due_ms = ga_monotonic_ms() + next_delay_ms(refresh, outcome, &backoff_ms);
		if (outcome == REFRESH_FAILED) {
			char delay[24];

			snprintf(delay, sizeof(delay), "%lld", backoff_ms);
			ga_log(GA_LOG_WARN, "keeping the last good snapshot; retrying",
			       "retry_in_ms", delay, (char *)NULL);
		}
		pthread_mutex_lock(&refresh->thread.lock);
	}
	pthread_mutex_unlock(&refresh->thread.lock);
	return NULL;
}

/* ---- lifetime and requests ---------------------------------------------------- */

enum ga_rc
service_refresh_start(struct service_refresh *refresh, struct ga_err *err)
{
	return service_thread_start(&refresh->thread, "refresh", refresh_main, refresh, err);
}

void
service_refresh_stop(struct service_refresh *refresh)
{
	service_thread_stop(&refresh->thread);
}

/* Set the flags under the lock and wake the thread. */
static void
ask(struct service_refresh *refresh, bool rebuild)
{
	pthread_mutex_lock(&refresh->thread.lock);
	refresh->refresh_requested = true;
	if (rebuild)
		refresh->rebuild_requested = true;
	pthread_cond_signal(&refresh->thread.wake);
	pthread_mutex_unlock(&refresh->thread.lock);
}

void
service_refresh_request(struct service_refresh *refresh)
{
	ask(refresh, false);
}

void
service_refresh_rebuild(struct service_refresh *refresh)
{
	ask(refresh, true);
}
