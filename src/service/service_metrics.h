/*
 * service_metrics.h - every metric of the service, registered in one place.
 *
 * service_metrics.c registers the whole series list, in the order /metrics
 * shows it, and hands the stages note functions: a source or the
 * publisher says what happened ("a sync finished with these numbers", "a
 * delivery was refused"), this module knows which series that moves.
 * Numbers another module keeps (the snapshot in use, the token cache, the
 * webhook memory) are read by callbacks when /metrics is written.
 *
 * Thread-safety: the note functions are lock-free and may be called from
 * any thread; registration happens once, in service_create().  Internal
 * to src/service/.
 */
#ifndef SERVICE_METRICS_H
#define SERVICE_METRICS_H

#include "github/gh_poll.h"
#include "service/service_pipeline.h"

/* An empty registry; nothing is registered until service_metrics_register. */
struct service_metrics *service_metrics_create(void);
/* NULL is fine.  The HTTP server (the last reader) must have stopped. */
void service_metrics_destroy(struct service_metrics *metrics);

/* What the callbacks read (borrowed; each must outlive the registry). */
struct service_metrics_readings {
	struct service_publisher *publisher;		/* the snapshot in use, pending changes */
	struct service_settings *settings;		/* the configuration in force */
	struct cache *cache;				/* the token cache */
	struct service_webhook_budget *webhook_memory;	/* bodies in flight */
	struct service_budget *budget;			/* GitHub points, the planned period */
};

/* Register every series of the service.  Once, before anything is counted. */
void service_metrics_register(struct service_metrics *metrics,
			      const struct service_metrics_readings *readings);

/* The registry (front ends add their own series at start). */
struct ga_metrics *service_metrics_registry(struct service_metrics *metrics);

/* ---- notes --------------------------------------------------------------------- */

/* The refresh: a finished gh_sync (metrics of GitHub's requests and points). */
void service_metrics_note_sync(struct service_metrics *metrics, const struct gh_sync_stats *stats,
			       enum ga_rc rc);
/* The refresh: a refresh's outcome. */
void service_metrics_note_sync_result(struct service_metrics *metrics, bool ok);
void service_metrics_note_adopted(struct service_metrics *metrics);
/* The publisher: a view made current. */
void service_metrics_note_published(struct service_metrics *metrics);
/* The login rule. */
void service_metrics_note_login(struct service_metrics *metrics, enum service_login login);
/* Deliveries: what became of one; a change applied; a webhook refresh
 * started (skipped: dropped for the points reserve). */
void service_metrics_note_delivery(struct service_metrics *metrics, enum service_delivery result);
void service_metrics_note_removal(struct service_metrics *metrics);
void service_metrics_note_webhook_refresh(struct service_metrics *metrics, bool skipped);
/* The shared change log (service_shared.c). */
enum service_shared_note {
	SERVICE_SHARED_APPENDED = 0,	/* a change of ours taken by memcached */
	SERVICE_SHARED_APPLIED,		/* a change read from the log, given to the publisher */
	SERVICE_SHARED_REFUSED,		/* an entry forged, malformed or of an unknown kind */
	SERVICE_SHARED_GAP,		/* entries lost: a refresh was asked for */
};
void service_metrics_note_shared(struct service_metrics *metrics, enum service_shared_note note);
void service_metrics_note_shared_pending(struct service_metrics *metrics, size_t pending);
/* Targeted reads: one finished (stats: its requests and points) or was
 * dropped before it ran (stats NULL). */
enum service_targeted_outcome {
	SERVICE_TARGETED_OK = 0,
	SERVICE_TARGETED_FAILED,
	SERVICE_TARGETED_DROPPED,
};
void service_metrics_note_targeted(struct service_metrics *metrics,
				   const struct gh_sync_stats *stats,
				   enum service_targeted_outcome outcome);
/* Polls: one check (its requests) and whether it found a change. */
void service_metrics_note_poll(struct service_metrics *metrics, const struct gh_poll_stats *stats,
			       bool changed);

/* ---- reading back (/health, the owners' page) ------------------------------------ */

void service_metrics_counters(struct service_metrics *metrics, struct service_counters *out);
void service_metrics_events_summary(struct service_metrics *metrics,
				    struct service_events_summary *out);

#endif
