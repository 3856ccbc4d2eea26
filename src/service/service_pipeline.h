/*
 * service_pipeline.h - the stages of src/service/ and the handles between
 * them.  Nothing here is meant for use outside src/service/ (and its tests).
 *
 * Data flows one way:
 *
 *   sources ──snapshots, changes──▶ publisher ──views──▶ front ends
 *
 *   sources     each learns about the organization and sends what it
 *               learned to the publisher, through the narrow handle below
 *               (struct service_source), never through struct service:
 *                 service_refresh.c     full snapshots: GitHub syncs,
 *                                       memcached, the snapshot file, the
 *                                       rebuild after a reload
 *                 service_deliveries.c  webhook deliveries: changes (what
 *                                       a delivery took away) and requests
 *                                       for a full refresh
 *                 service_poll.c        ETag polls: requests for a full refresh
 *                 service_shared.c      other instances' changes, read from
 *                                       the change log in memcached (and
 *                                       this instance's, appended to it)
 *               Issue 14's targeted updates and other instances' changes
 *               are more sources of the same two kinds.
 *   publisher   service_publisher.c: the only writer of the current view.
 *               It keeps the changes until a snapshot whose data was read
 *               after them arrives, applies them to every snapshot it
 *               publishes, derives the front ends' data and swaps the view.
 *   front ends  read views (service.h) and never write anything back here.
 *
 * Beside the flow: service_metrics.c registers every metric of the service
 * (sources and the publisher count through it), service_budget.c holds the
 * GitHub points that syncs reported (read by whatever paces GitHub calls),
 * service_login.c is the login rule the front ends call, and service.c
 * creates the stages, wires their handles and owns their lifetime.
 * docs/internals/service.md has the threads, the locks and their order.
 */
#ifndef SERVICE_PIPELINE_H
#define SERVICE_PIPELINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "github/github.h"
#include "service/service.h"
#include "service/service_period.h"
#include "service/service_webhook.h"

struct service_publisher;
struct service_refresh;
struct service_targeted;
struct service_metrics;
struct service_shared;

/* ---- settings: what every stage reads ------------------------------------ */

/*
 * The configuration and GitHub client in force.  service_reload() (the
 * main thread) replaces both; every other thread only loads them, and what
 * it loaded stays valid until service_destroy() (service.c keeps the
 * replaced ones).
 */
struct service_settings {
	_Atomic(struct config *) config;
	_Atomic(struct gh_client *) client;
};

const struct config *service_settings_config(struct service_settings *settings);
struct gh_client *service_settings_github(struct service_settings *settings);

/* ---- the GitHub budget ---------------------------------------------------------- */

/*
 * GraphQL points as the last sync saw them (what one sync cost, the hourly
 * limit, what is left and when it resets) and the full sync's period
 * planned from them (service_period.h).  Written by whatever spends points
 * (the refresh), read by whatever paces GitHub calls (the refresh's period
 * and sync lock, webhook refreshes), and by /health and /metrics.  A leaf
 * lock; the plan's log line is written after it is released.
 */
struct service_budget {
	pthread_mutex_t lock;
	struct service_period_budget seen;	/* -1: unknown */
	long long last_sync_ms;			/* ga_monotonic_ms() at the end of the
						 * last sync, good or failed; -1 none */
	struct service_period_plan plan;	/* the last one planned */
	bool planned;
	struct service_period_bucket bucket;	/* what the full syncs may still spend */
};

void service_budget_init(struct service_budget *budget);
void service_budget_destroy(struct service_budget *budget);
/* A sync ended under config (ok: it succeeded, so its cost is a full
 * sync's): what it spent, taken from the bucket, and what GitHub says of
 * the budget.  An unknown value keeps the last known one. */
void service_budget_note(struct service_budget *budget, const struct gh_sync_stats *stats,
			 bool ok, const struct config *config);
/* Another read than a full sync (a targeted read) ended: only what GitHub
 * says of the budget; its points are not a full sync's and do not come
 * out of the bucket. */
void service_budget_note_rate_limit(struct service_budget *budget,
				    const struct gh_sync_stats *stats);
void service_budget_read(struct service_budget *budget, long long *points_per_sync,
			 long long *points_remaining);
/* Plan the full sync's period under config now (*out may be NULL); logs one
 * line when the period or its reason changes.  Returns the time to the next
 * scheduled full sync in ms: the period, or longer while the bucket lacks
 * the points of one (webhook-asked syncs spent them). */
long long service_budget_period_ms(struct service_budget *budget, const struct config *config,
				   struct service_period_plan *out);
/* The last plan, for /health and /metrics; false before the first one. */
bool service_budget_last_plan(struct service_budget *budget, struct service_period_plan *out);
/* Milliseconds until another full sync may start within the budget (a
 * webhook-asked one): the bucket holds a sync's points and no reset is
 * awaited.  0 when it may now. */
long long service_budget_sync_wait_ms(struct service_budget *budget, const struct config *config,
				      long long now_ms);

/* ---- what a source may use ------------------------------------------------------ */

/*
 * A source's handle, filled by service.c: where its snapshots and changes
 * go, what it may read, and how it asks the refresh for a full snapshot.
 * A source uses nothing else of the service.
 */
struct service_source {
	struct service_publisher *publisher;	/* snapshots and changes go here */
	struct service_settings *settings;	/* configuration and GitHub client in force */
	struct service_metrics *metrics;	/* what the source counts */
	struct service_budget *budget;		/* GitHub points (refresh writes, others read) */
	struct cache *cache;			/* memcached sharing: the refresh and the
						   shared change log only; NULL for others */
	struct service_refresh *refresh;	/* service_refresh_request(); NULL for the refresh */
	struct service_shared *shared;		/* service_shared_append(): the deliveries
						   and the targeted reads; NULL for others
						   and without memcached */
	struct service_targeted *targeted;	/* service_targeted_request(); the deliveries only */
};

/* ---- changes ---------------------------------------------------------------------- */

/*
 * Something a source learned about the organization before GitHub's data
 * (the next full snapshot) has it.  It applies to every snapshot whose
 * data was read before at_ms, and ends with the first snapshot read after.
 * Two kinds: what a webhook delivery takes away (removal, only ever lowers
 * access), and what a targeted read found (targeted, kind != NONE: GitHub's
 * data for one team list or one repository, read at at_ms, which grants as
 * well).  Exactly one of the two is set; service_webhook_revocations.c
 * applies them in time order.
 */
struct service_change {
	long long at_ms;			/* Unix ms when the source learned it;
						 * for a targeted read, when it started */
	struct service_webhook_removal removal;
	struct service_targeted_result targeted;	/* data borrowed: the log keeps a copy */
};

/*
 * service_change_codec.c: a change as JSON text (the change log's entries),
 * and back.  encode: NUL-terminated text (ga_free), NULL for a kind it
 * cannot share (none, or at_ms <= 0).  decode: GA_EPARSE (err says why,
 * *out zeroed) for anything but a change of a known kind with exactly its
 * fields, well formed; the caller refuses it.
 */
char *service_change_encode(const struct service_change *change);
enum ga_rc service_change_decode(const char *text, size_t len, struct service_change *out,
				 struct ga_err *err);

/* ---- the publisher (service_publisher.c) ---------------------------------------- */

/* A publisher of views with the derivations (NULL-terminated, borrowed;
 * NULL for none); it counts through metrics (borrowed). */
struct service_publisher *service_publisher_create(
	const struct service_derivation *const *derivations, struct service_metrics *metrics);
/* Drop the current view and the changes.  No source may run.  NULL is fine. */
void service_publisher_destroy(struct service_publisher *publisher);

/*
 * A source read a whole organization: apply the changes learned after its
 * data was read, derive every derivation under config and make it the
 * current view, unless the current view's data is newer (a rebuild after a
 * reload must never replace a fresher sync).  Takes snapshot.  Returns
 * true when published; then the changes older than its data are dropped.
 */
bool service_publisher_snapshot(struct service_publisher *publisher,
				struct org_snapshot *snapshot, const struct config *config);

/*
 * A source learned a change: keep it, and publish the current snapshot
 * again with it applied, at once (a sync publishing meanwhile applies it
 * too).  Nothing before the first snapshot.
 */
void service_publisher_change(struct service_publisher *publisher,
			      const struct service_change *change, const struct config *config);

/* The current view whatever its age (sources, health, metrics); NULL
 * before the first.  Wait-free.  Release with service_release_view(). */
const struct service_view *service_publisher_acquire(struct service_publisher *publisher);

/* Changes kept until a sync has them (the metric). */
size_t service_publisher_pending_changes(struct service_publisher *publisher);

/* When the view's data was read from GitHub (Unix seconds). */
long long service_view_synced_at(const struct service_view *view);

/*
 * The configured [github] base_permission is in force because GitHub does
 * not show the real one to the token: nothing can notice an owner
 * lowering it.  true in that case (for /health and /metrics).
 */
bool service_base_permission_unverified(const struct org_snapshot *snapshot,
					const struct config *config);

/* ---- a source's thread (service_thread.c) -------------------------------------- */

/*
 * What every source's thread has: a lock (its stop flag and whatever the
 * source keeps under it), a condition variable on the monotonic clock that
 * wakes it, and the stop protocol.
 */
struct service_thread {
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake;		/* CLOCK_MONOTONIC (ga_monotonic_ms) */
	bool stopping;			/* under lock */
};

void service_thread_init(struct service_thread *thread);
/* Stops the thread if needed. */
void service_thread_destroy(struct service_thread *thread);
/* GA_EIO "cannot start the <name> thread: ..." when it cannot start. */
enum ga_rc service_thread_start(struct service_thread *thread, const char *name,
				void *(*main)(void *), void *arg, struct ga_err *err);
/* Set stopping under the lock, wake the thread, wait for it.  Idempotent. */
void service_thread_stop(struct service_thread *thread);
/* Under the lock: sleep until due_ms (ga_monotonic_ms) or a wake-up. */
void service_thread_wait_until(struct service_thread *thread, long long due_ms);

/* ---- the sources ---------------------------------------------------------------- */

/*
 * Each source: create (nothing runs), start its thread (GA_EIO when it
 * cannot), stop (asks its thread to end and waits for it; idempotent;
 * cancel the GitHub clients first so that no wait holds it), destroy.
 * Only service.c calls these.
 */

/* service_refresh.c: full snapshots. */
struct service_refresh_status {
	bool last_refresh_failed;
	char last_error[GA_ERR_MESSAGE_MAX];	/* "" if none */
	long long last_success_at;		/* Unix time; 0: none */
};

struct service_refresh *service_refresh_create(const struct service_source *source);
void service_refresh_destroy(struct service_refresh *refresh);
/* Read a snapshot file and publish it; the first refresh then waits for
 * one period (unless the file is already too old).  Errors name the file. */
enum ga_rc service_refresh_load_file(struct service_refresh *refresh, const char *path,
				     struct ga_err *err);
enum ga_rc service_refresh_start(struct service_refresh *refresh, struct ga_err *err);
void service_refresh_stop(struct service_refresh *refresh);
/* A full refresh soon (any thread): several before the thread wakes make one. */
void service_refresh_request(struct service_refresh *refresh);
/* After a reload: rebuild the current snapshot under the new configuration,
 * then refresh. */
void service_refresh_rebuild(struct service_refresh *refresh);
void service_refresh_get_status(struct service_refresh *refresh,
				struct service_refresh_status *out);

/* service_deliveries.c: webhook deliveries. */
struct service_deliveries;

struct service_deliveries *service_deliveries_create(const struct service_source *source);
void service_deliveries_destroy(struct service_deliveries *deliveries);
enum ga_rc service_deliveries_start(struct service_deliveries *deliveries, struct ga_err *err);
void service_deliveries_stop(struct service_deliveries *deliveries);
/* service_deliver_webhook() (service.h), for this source. */
enum service_delivery service_deliveries_take(struct service_deliveries *deliveries,
					      const char *event, const char *delivery,
					      struct service_webhook_body *body);
struct service_webhook_budget *service_deliveries_budget(struct service_deliveries *deliveries);

/*
 * service_targeted.c: targeted reads.  A delivery names what changed (a
 * team's members or repositories, one repository); the targeted thread
 * reads only that (gh_sync_targeted: a few points), and gives the
 * publisher a change with what GitHub answered.  Identical pending reads
 * make one; at most SERVICE_TARGETED_QUEUE_MAX wait.  A read that cannot
 * be queued or fails, or names a team the data does not have yet, asks
 * for a full refresh instead.
 */
#define SERVICE_TARGETED_QUEUE_MAX 256

struct service_targeted *service_targeted_create(const struct service_source *source);
void service_targeted_destroy(struct service_targeted *targeted);
enum ga_rc service_targeted_start(struct service_targeted *targeted, struct ga_err *err);
void service_targeted_stop(struct service_targeted *targeted);
/* Queue a read of target (any thread): true when queued or already
 * pending; false when the queue is full or stopping (ask for a refresh). */
bool service_targeted_request(struct service_targeted *targeted,
			      const struct service_webhook_target *target);

/* service_poll.c: ETag polls. */
struct service_poll;

struct service_poll *service_poll_create(const struct service_source *source);
void service_poll_destroy(struct service_poll *poll);
enum ga_rc service_poll_start(struct service_poll *poll, struct ga_err *err);
void service_poll_stop(struct service_poll *poll);

/*
 * service_shared.c: the changes other instances learned, through the
 * shared change log in memcached (only with [cache] backend = memcache).
 * Its thread appends this instance's changes (the deliveries' and the
 * targeted reads'; kept encoded, at most SERVICE_SHARED_PENDING_MAX of
 * them and SERVICE_SHARED_PENDING_BYTES, while memcached cannot take
 * them; one too large for an entry resets the log instead), reads
 * every instance's every change_poll_interval_ms and hands them to the
 * publisher with their own timestamps, asks the refresh for a snapshot
 * when it finds a gap, and renews the sync lock while this instance's
 * sync runs (cache_sync_lock_renew).  source->cache and ->refresh are
 * needed.
 */
#define SERVICE_SHARED_PENDING_MAX 4096
#define SERVICE_SHARED_PENDING_BYTES ((size_t)16 * 1024 * 1024)

struct service_shared *service_shared_create(const struct service_source *source);
void service_shared_destroy(struct service_shared *shared);
enum ga_rc service_shared_start(struct service_shared *shared, struct ga_err *err);
void service_shared_stop(struct service_shared *shared);
/* A change this instance learned (the deliveries or the targeted thread,
 * after giving it to its own publisher): encoded and queued for the log
 * (a targeted result's data stays the caller's); the thread is woken.  Any
 * thread; takes the shared lock briefly. */
void service_shared_append(struct service_shared *shared, const struct service_change *change);

/* ---- the parts of a service, for service_login.c and the tests ------------------- */

struct service_settings *service_settings_of(struct service *service);
struct service_metrics *service_metrics_of(struct service *service);
/* Tests publish snapshots as a source would. */
struct service_publisher *service_publisher_of(struct service *service);
/* Tests queue changes for the shared log; NULL without memcached. */
struct service_shared *service_shared_of(struct service *service);

#endif
