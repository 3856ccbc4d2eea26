/*
 * service_internal.h - the parts of src/service/ that talk to each other.
 *
 *   service.c          lifetime, configuration (and reload), health
 *   service_view.c     views: building the derived data, atomic publication
 *   service_refresh.c  the refresh thread: sync, memcached lock and sharing,
 *                      backoff, the snapshot file
 *   service_login.c    the login rule
 *   service_events.c   webhooks (queue, removals applied at once, debounced
 *                      refreshes), ETag polling, the service's metrics
 *
 * Nothing here is meant for use outside src/service/.
 */
#ifndef SERVICE_INTERNAL_H
#define SERVICE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "github/github.h"
#include "service/service.h"

struct service_view {
	atomic_ulong references;
	struct org_snapshot *snapshot;		/* one reference, owned */
	long long synced_at;
	size_t derived_count;
	struct service_view_slot {
		const struct service_derivation *derivation;
		void *data;
	} derived[];
};

/* Configurations and GitHub clients replaced by a reload stay alive until
 * service_destroy(): requests may still hold them, and reloads are rare. */
struct service_retired {
	struct config **configs;
	size_t config_count;
	struct gh_client **clients;
	size_t client_count;
};

struct service_atomic_counters {
	atomic_ullong logins_ok;
	atomic_ullong logins_refused;
	atomic_ullong logins_unverified;
	atomic_ullong logins_busy;
	atomic_ullong syncs_ok;
	atomic_ullong syncs_failed;
	atomic_ullong snapshots_adopted;
	atomic_ullong snapshots_published;
};

struct service {
	_Atomic(struct config *) config;
	_Atomic(struct gh_client *) client;
	struct service_retired retired;		/* main thread only */
	struct cache *cache;
	const struct service_derivation *const *derivations;
	size_t derivation_count;
	bool loaded_from_file;			/* --snapshot: first refresh waits */

	/* The current view (see service_view.c). */
	_Atomic(struct service_view *) view;
	atomic_ulong epoch;
	atomic_ulong active[2];
	pthread_mutex_t publish_lock;

	/* The refresh thread; the flags are under lock. */
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t wake;			/* CLOCK_MONOTONIC */
	bool stopping;
	bool refresh_requested;
	bool rebuild_requested;			/* reload: re-apply the filters */

	/* Status of the last refresh, under status_lock. */
	pthread_mutex_t status_lock;
	bool last_refresh_failed;
	char last_error[GA_ERR_MESSAGE_MAX];
	long long last_success_at;

	struct service_atomic_counters counters;

	struct ga_metrics *metrics;
	struct service_events *events;		/* service_events.c */
	/* The configuration whose unverified base permission was warned about
	 * (once per start and per reload). */
	_Atomic(const struct config *) base_permission_warned_for;
};

/* ---- service_view.c ------------------------------------------------ */

/*
 * Derive every registered derivation from snapshot (taken) under config
 * and make the result the current view, unless the current view's data
 * is newer (a reload's rebuild must never replace a fresher sync).
 * Returns true when published.
 */
bool service_publish(struct service *service, struct org_snapshot *snapshot,
		     const struct config *config);

/* The current view whatever its age (health, rebuilds); NULL before the
 * first.  Release with service_release_view(). */
const struct service_view *service_acquire_view_any_age(struct service *service);

/* Drop the current view (service_destroy). */
void service_clear_view(struct service *service);

/* ---- service_refresh.c --------------------------------------------- */

void *service_refresh_main(void *arg);

/* Read a snapshot file, build and publish it.  Errors name the file. */
enum ga_rc service_load_snapshot_file(struct service *service, const char *path,
				      struct ga_err *err);

/* Unix time now (seconds, and milliseconds), and a monotonic clock in milliseconds. */
long long service_now(void);
long long service_now_ms(void);
long long service_monotonic_ms(void);

/* ---- service_events.c ---------------------------------------------- */

struct service_events;

/* The webhook and polling state and the service's metrics (never fails). */
struct service_events *service_events_create(struct service *service);
void service_events_destroy(struct service_events *events);

/* Start and stop the webhook/poll thread.  stop is idempotent. */
enum ga_rc service_events_start(struct service_events *events, struct ga_err *err);
void service_events_stop(struct service_events *events);

/*
 * service_publish's first step: the removals that webhooks reported after
 * snapshot's data was read, applied (see service_webhook.h).  Takes
 * snapshot; returns the snapshot to publish (the same one when nothing
 * applies, else a new build).
 */
struct org_snapshot *service_events_patch(struct service *service, struct org_snapshot *snapshot,
					  const struct config *config);

/* A snapshot of data read at read_at_ms (org_input_read_at_ms) was
 * published: removals older than that are in GitHub's data now. */
void service_events_published(struct service *service, long long read_at_ms);

/* The numbers of a finished gh_sync (refresh thread): metrics, and the
 * points budget that paces webhook-triggered syncs. */
void service_events_note_sync(struct service *service, const struct gh_sync_stats *stats,
			      enum ga_rc rc);

/* ---- service.c ----------------------------------------------------- */

/* Record the outcome of a refresh for /health. */
void service_note_refresh(struct service *service, bool ok, const struct ga_err *err);

/*
 * The configured [github] base_permission is in force because GitHub does
 * not show the real one to the token: nothing can notice an owner
 * lowering it.  true in that case (for /health and /metrics).
 */
bool service_base_permission_unverified(const struct org_snapshot *snapshot,
					const struct config *config);

/* A snapshot was published under config: warn (once per start and per
 * reload) when its base permission is the configured, unverified one. */
void service_note_base_permission(struct service *service, const struct org_snapshot *snapshot,
				  const struct config *config);

#endif
