/*
 * service.h - the running service that every front end answers from.
 *
 * A struct service owns the configuration, the token cache, the GitHub
 * client and the current organization snapshot, and keeps that snapshot
 * fresh with a background thread:
 *
 *   start     load --snapshot FILE when given, else sync (memcache backend:
 *             take the sync lock or adopt the snapshot another instance
 *             published);
 *   refresh   every [cache] expiration seconds: sync -> build -> publish
 *             (memcache: the instance that wins the lock syncs and
 *             publishes to memcached, the others look for it there every
 *             5 seconds);
 *   failure   a failed refresh keeps the last good snapshot and retries
 *             with exponential backoff (1 s doubling, at most expiration);
 *   staleness when the snapshot's data is older than [cache] max_stale
 *             seconds, service_acquire_view() returns NULL: every decision
 *             of every front end becomes "no" and /health says why.  That
 *             function is the single place that enforces max_stale.
 *
 * Views.  A front end reads a struct service_view: the snapshot plus the
 * data that front ends derived from it when it was published (registered
 * as struct service_derivation, e.g. the pypicloud answers of every
 * package, so that the hot endpoints send bytes computed once per
 * snapshot).  A new view is published atomically; a request holds its view
 * from acquire to release, never takes a lock and never sees a half-built
 * state.  (service_publisher.c implements the swap: a two-epoch scheme, so
 * readers never lock and a publisher waits only for readers in the middle
 * of an acquire.)
 *
 * Inside, data flows one way: sources (the refresh, webhook deliveries,
 * polls) send snapshots and changes to one publisher, which makes the
 * views (service_pipeline.h; docs/internals/service.md has the threads and
 * the locks).
 *
 * Thread-safety: every function may be called from any thread, except
 * service_create/start/stop/destroy and service_reload, which belong to the
 * thread that runs the service (cli_serve's main thread).
 */
#ifndef SERVICE_H
#define SERVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "cache/cache.h"
#include "config/config.h"
#include "org/org_snapshot.h"
#include "util/ga_err.h"

struct service;
struct service_view;
struct gh_client;

/*
 * Data a front end computes once per snapshot.  build() runs on the
 * refresh thread when a snapshot is published, with the snapshot and the
 * configuration of that moment (both borrowed; the snapshot outlives the
 * result).  It returns an owned pointer (NULL is allowed and means "none")
 * that destroy() frees when the last request using the view is done.
 * Each derivation is identified by its address: front ends declare one
 * `static const struct service_derivation` and look their data up with it.
 */
struct service_derivation {
	const char *name;
	void *(*build)(const struct org_snapshot *snapshot, const struct config *config);
	void (*destroy)(void *data);
};

struct service_options {
	/* --snapshot FILE: a snapshot file (org_input_to_json format) to
	 * serve at start instead of asking GitHub; NULL: sync at start. */
	const char *snapshot_path;
	/* NULL-terminated list of derivations (borrowed, must outlive the
	 * service); NULL for none. */
	const struct service_derivation *const *derivations;
};

/*
 * Create a service from config, which it takes (even on failure), with
 * the token cache and the GitHub client.  Loads options->snapshot_path
 * when given (GA_EIO / GA_EPARSE / GA_EINVAL with err on a bad file).  No
 * thread runs yet.  Free with service_destroy().
 */
enum ga_rc service_create(struct config *config, const struct service_options *options,
			  struct service **out, struct ga_err *err);

/* Start the refresh thread (which syncs at once unless a snapshot file was
 * loaded).  GA_EIO when the thread cannot start. */
enum ga_rc service_start(struct service *service, struct ga_err *err);

/* Stop the refresh thread, interrupting a sync in progress, and wait for
 * it.  Requests may still acquire views.  Idempotent. */
void service_stop(struct service *service);

/* Stop if needed and free everything.  No request may be running.  NULL is fine. */
void service_destroy(struct service *service);

/*
 * Ask for a refresh now (SIGHUP, webhooks): the refresh thread wakes up
 * and syncs from GitHub even when another instance holds the memcached
 * sync lock.  Returns at once; several requests before the thread wakes
 * make one refresh.
 */
void service_request_refresh(struct service *service);

/*
 * SIGHUP: read the configuration file again.  On success the new
 * configuration replaces the old one, the current snapshot is rebuilt
 * from its raw records under the new filters, cached tokens are
 * forgotten, and a refresh is requested.  On failure (err set) the old
 * configuration stays and nothing changes.  Settings that only apply at
 * start ([server] listen and threads, the cache backend and secret) are
 * logged as needing a restart when they change.
 */
enum ga_rc service_reload(struct service *service, struct ga_err *err);

/*
 * The configuration in force.  Borrowed: it stays valid until
 * service_destroy() (a reload keeps the previous configurations alive), so
 * a request may keep using the pointer it got.
 */
const struct config *service_config(struct service *service);

/* The token cache (borrowed; lives as long as the service). */
struct cache *service_cache(struct service *service);

/* The GitHub client of the configuration in force (borrowed; a reload
 * keeps the previous one alive until service_destroy, like configs), for
 * the front ends' own GitHub calls (the web sign-in's code exchange). */
struct gh_client *service_github(struct service *service);

/*
 * The current view, or NULL when there is none yet or its data is older
 * than max_stale (fail closed).  Every front end decides through this (or
 * service_acquire_snapshot).  Wait-free; release with
 * service_release_view().
 */
const struct service_view *service_acquire_view(struct service *service);
void service_release_view(const struct service_view *view);

/* The view's snapshot (borrowed from the view). */
const struct org_snapshot *service_view_snapshot(const struct service_view *view);

/* What derivation built for this view's snapshot; NULL when derivation was
 * not registered or built nothing. */
void *service_view_derived(const struct service_view *view,
			   const struct service_derivation *derivation);

/* Same staleness rule as service_acquire_view, for front ends that only
 * need the snapshot: a new reference (org_snapshot_release) or NULL. */
struct org_snapshot *service_acquire_snapshot(struct service *service);

/* Outcome of service_verify_login(). */
enum service_login {
	SERVICE_LOGIN_OK = 0,
	SERVICE_LOGIN_MALFORMED,	/* not a GitHub login or not a possible token */
	SERVICE_LOGIN_NO_SNAPSHOT,	/* no usable snapshot (none yet, or stale) */
	SERVICE_LOGIN_BAD_TOKEN,	/* GitHub: not this user's token */
	SERVICE_LOGIN_UNVERIFIED,	/* GitHub could not tell (never cached) */
	SERVICE_LOGIN_NOT_MEMBER,	/* a valid token, but not an organization member */
	SERVICE_LOGIN_ACCOUNT_CHANGED,	/* the login now names another GitHub account */
	SERVICE_LOGIN_NO_ORG_ACCESS,	/* [github] verify_token_org_access: GitHub does not
					 * let the token reach the organization as an
					 * active member (scope, policy, invitation) */
	SERVICE_LOGIN_SSO_REQUIRED,	/* ... the token is not authorized for the
					 * organization's SAML SSO */
	SERVICE_LOGIN_BUSY,		/* a token check was needed but [github]
					 * max_token_checks (or _per_login) run already:
					 * refused without asking GitHub */
	SERVICE_LOGIN_PENDING,		/* service_login_start: the answer comes later */
};

/*
 * The login rule of docs/access-model.md section 3, for every front end:
 * syntax checks (nothing is asked of GitHub for an impossible login or
 * token), then the token, through the token cache with single flight
 * (GitHub's GET /user at most once per (username, token) per expiration),
 * then membership in snapshot on every call, so that a removed member is
 * refused as soon as the snapshot knows, whatever the cache says.  The
 * token is checked before membership so that the time of an answer does
 * not tell whether a login is a member.
 *
 * snapshot is the one the request decides with (NULL: NO_SNAPSHOT without
 * asking anything).  On SERVICE_LOGIN_OK *member (may be NULL) is the
 * member index in snapshot.  password is a secret: never logged.
 */
enum service_login service_verify_login(struct service *service,
					const struct org_snapshot *snapshot,
					const char *username, const char *password,
					long *member);

/* A login's outcome with what the person should be told. */
struct service_login_result {
	enum service_login login;
	long member;			/* member index in the snapshot on OK, else -1 */
	char detail[CACHE_DETAIL_MAX];	/* printable, for the user: why it was refused and
					 * what to do (e.g. the SSO URL); "" if nothing */
};

/*
 * service_verify_login for a server thread, which must not wait for GitHub:
 * the same rule, with the token check started through
 * cache_verify_token_start.  Returns the outcome (also in out), or
 * SERVICE_LOGIN_PENDING: done(arg, answer) is called exactly once, from
 * another thread and possibly before this returns; the caller then gets
 * the outcome from service_login_finish(answer) with the same snapshot and
 * username.  SERVICE_LOGIN_BUSY when the bounds on checks are full.
 * password is a secret: never logged or kept (the pool wipes its copy).
 */
enum service_login service_login_start(struct service *service,
				       const struct org_snapshot *snapshot, const char *username,
				       const char *password, cache_done_fn done, void *arg,
				       struct service_login_result *out);

/* The outcome of a login whose token check answered (see above). */
enum service_login service_login_finish(struct service *service,
					const struct org_snapshot *snapshot,
					const char *username,
					const struct cache_token_answer *answer,
					struct service_login_result *out);

/* A short reason for logs and explain: "ok", "not a member", ... */
const char *service_login_reason(enum service_login login);

/* Counters since start (monotonic; for /health and metrics). */
struct service_counters {
	unsigned long long logins_ok;
	unsigned long long logins_refused;
	unsigned long long logins_unverified;	/* GitHub could not tell */
	unsigned long long logins_busy;		/* refused: too many token checks at once */
	unsigned long long syncs_ok;
	unsigned long long syncs_failed;
	unsigned long long snapshots_adopted;	/* fetched from memcached */
	unsigned long long snapshots_published;	/* views made current */
	/* The change log shared through memcached (service_shared.c). */
	unsigned long long shared_changes_appended;	/* ours, taken by memcached */
	unsigned long long shared_changes_applied;	/* read from it and applied */
	unsigned long long shared_changes_refused;	/* forged, malformed, unknown kind */
	unsigned long long shared_change_log_gaps;	/* lost entries: a refresh each */
	unsigned long long shared_changes_pending;	/* ours, waiting for memcached */
};

#define SERVICE_STATUS_MAX 96

struct service_health {
	bool ready;			/* a snapshot within max_stale: decisions are made */
	const char *reason;		/* when !ready: why (static string) */
	bool has_snapshot;		/* any snapshot, stale or not */
	long long snapshot_age;		/* seconds since its data was read; -1 without */
	long long synced_at;		/* unix time its data was read; 0 without */
	int max_stale;
	size_t members, teams, packages;
	char organization[64];
	char cache[SERVICE_STATUS_MAX];	/* cache_status() */
	bool last_refresh_failed;
	char last_error[GA_ERR_MESSAGE_MAX];	/* of the last failed refresh, "" if none */
	long long last_success_at;	/* unix time of the last good refresh; 0: none */
	/* The full sync's planned period ([github] budget_share): -1 and NULL
	 * before the first plan. */
	long long sync_period;		/* seconds */
	const char *sync_period_reason;	/* "expiration", "budget" or "reset" (static) */
	long long github_points_limit;	/* the hourly limit planned with */
	bool github_points_limit_assumed;	/* GitHub did not say: 5000 assumed */
	long long github_points_per_sync;	/* the last good full sync's cost; -1 unknown */
	struct service_counters counters;
	/* The base permission in force (with a snapshot): read from GitHub
	 * (verified), or the configured [github] base_permission because the
	 * token cannot read it (configured, unverified), or none assumed. */
	enum org_level base_permission;
	bool base_permission_verified;
	bool base_permission_configured;
};

/* Fill out with the state of the service right now. */
void service_get_health(struct service *service, struct service_health *out);

/* ---- metrics and webhooks (service_metrics.c, service_deliveries.c) ------- */

/*
 * The service's Prometheus registry (util/ga_metrics.h).  The service
 * registers its own series (syncs, GitHub points and requests, snapshot
 * age, logins, the token cache, webhook deliveries); front ends add theirs
 * at start.  Borrowed; lives as long as the service.
 */
struct ga_metrics *service_metrics(struct service *service);

/* What became of a POST /webhook delivery (the metric's result label). */
enum service_delivery {
	SERVICE_DELIVERY_ACCEPTED = 0,	/* 202: queued; the work happens after the answer */
	SERVICE_DELIVERY_DUPLICATE,	/* 409: this X-GitHub-Delivery was accepted before */
	SERVICE_DELIVERY_INVALID,	/* 400: no usable delivery id or event name */
	SERVICE_DELIVERY_BUSY,		/* 503: the memory budget or the queue is full */
	SERVICE_DELIVERY_UNSIGNED,	/* 401: no X-Hub-Signature-256 */
	SERVICE_DELIVERY_BAD_SIGNATURE,	/* 401: a signature that is malformed or does not verify */
	SERVICE_DELIVERY_TOO_LARGE,	/* 413: over [webhook] max_body */
	SERVICE_DELIVERY_MALFORMED,	/* accepted, then found not to be a JSON object */
	SERVICE_DELIVERY_REPLAY,	/* 409: this signed body was accepted before (another id) */
	SERVICE_DELIVERY_TOO_SLOW,	/* connection closed: the body took longer than GitHub waits */
	SERVICE_DELIVERY_RESULT_COUNT,
};

/* "accepted", "duplicate", ...: the metric's label value. */
const char *service_delivery_name(enum service_delivery result);

/* Count a delivery the HTTP layer refused itself (signature, size). */
void service_count_delivery(struct service *service, enum service_delivery result);

struct service_webhook_budget;
struct service_webhook_body;

/*
 * The memory budget of every webhook body in flight, from its headers
 * until the webhook thread is done with it (service_webhook_body_begin
 * takes from it; [webhook] max_memory is its limit).  Borrowed; lives as
 * long as the service.
 */
struct service_webhook_budget *service_webhook_budget(struct service *service);

/*
 * A delivery whose body the caller read and verified
 * (service_webhook_body_finish returned OK; any other body is refused as
 * BAD_SIGNATURE): refuse a replay (the same delivery id, or the same
 * signed body under another id) or an unnamed one, else queue it for the
 * service's webhook thread and return at once.  The thread classifies the
 * event, applies a removal to the organization data at once (see
 * service/service_webhook.h) and asks for a debounced refresh.  body is
 * taken in every case, with the budget it holds.  event and delivery are
 * copied.  Thread-safe.
 */
enum service_delivery service_deliver_webhook(struct service *service, const char *event,
					      const char *delivery,
					      struct service_webhook_body *body);

/* The GitHub budget and the webhook deliveries, for the owners' web page
 * (the numbers /metrics exports). */
struct service_events_summary {
	long long github_points_remaining;	/* as GitHub last said; -1 unknown */
	unsigned long long github_points_used;	/* by syncs since start */
	unsigned long long deliveries[SERVICE_DELIVERY_RESULT_COUNT];	/* by result */
	unsigned long long removals_applied;	/* removals applied at once */
	unsigned long long refreshes_skipped;	/* webhook refreshes dropped (budget) */
};

/* Fill out with the numbers right now.  Thread-safe. */
void service_get_events_summary(struct service *service, struct service_events_summary *out);

#endif
