/*
 * service_webhook.h - GitHub organization webhooks: trust, meaning, effect.
 *
 * The pieces POST /webhook is made of, kept apart from HTTP so that each
 * can be tested (and fuzzed) alone:
 *
 *   signature     X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256(secret,
 *                 raw body), compared in constant time, before the body is
 *                 parsed at all;
 *   replay        a bounded set of the X-GitHub-Delivery ids already
 *                 accepted (the last 10,000, at most 24 hours);
 *   classify      what an event means for ghaccess: nothing, or a refresh,
 *                 and for the events that take access away, the removal to
 *                 apply at once;
 *   revocations   removals applied to the organization data until GitHub's
 *                 own data (the next sync) catches up;
 *   pacing        when the refresh that deliveries ask for may start.
 *
 * The policy, and why.  A relevant event triggers a full resync rather
 * than a partial one: ghaccess's decisions hang on the whole graph (nested
 * teams, base permission, pyproject names), a full sync of an organization
 * of 1,000 repositories costs about 35 of the 5,000 GraphQL points of an
 * hour, and partial updates would be a second code path to get wrong.
 * Deliveries are debounced (webhook_debounce_ms, default 500 ms) so that a
 * burst (a team deleted with 30 members, a reorganisation script) makes one
 * sync; webhook-triggered syncs start at most once per 5 seconds, and are
 * skipped while the last known budget minus one sync's cost is under 500
 * points, which stay for the periodic refresh (at worst 720 syncs an hour,
 * so the budget check is what actually bounds the spend).  Pushes only count
 * when they go to the default branch and may change the root
 * pyproject.toml: pushes are the most frequent event by far.
 *
 * What cannot wait for a sync is a removal: a person removed from the
 * organization must lose access within seconds.  classify() names the
 * removal (organization member_removed, team membership removed, a
 * collaborator removed, a team deleted or taken off a repository, a
 * repository deleted or transferred away); the revocation list records it
 * with the time, and apply() rewrites an organization's raw records
 * without it.  Front ends then decide from a snapshot built from those
 * records, so every front end sees the removal at once, and a removal
 * stays applied to every snapshot whose data was read before it (a sync
 * that was already running when the delivery came).  Only removals are
 * applied early: anything that grants access waits for GitHub's data.
 */
#ifndef SERVICE_WEBHOOK_H
#define SERVICE_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>

#include "org/org_input.h"
#include "util/ga_err.h"

/* ---- signature --------------------------------------------------------- */

enum service_webhook_signature {
	SERVICE_WEBHOOK_SIGNATURE_OK = 0,
	SERVICE_WEBHOOK_SIGNATURE_MISSING,	/* no X-Hub-Signature-256 header */
	SERVICE_WEBHOOK_SIGNATURE_MALFORMED,	/* not "sha256=" and 64 hex digits */
	SERVICE_WEBHOOK_SIGNATURE_MISMATCH,	/* another secret, or another body */
};

/*
 * Check header (NULL when absent) against HMAC-SHA256(secret, body).  The
 * comparison takes the same time wherever the digests differ.  Hex digits
 * may be upper or lower case.  Thread-safe, no allocation.
 */
enum service_webhook_signature service_webhook_verify_signature(const char *secret,
								size_t secret_len,
								const void *body, size_t len,
								const char *header);

/* "ok", "missing signature", "malformed signature", "signature mismatch". */
const char *service_webhook_signature_reason(enum service_webhook_signature result);

/* ---- replay ------------------------------------------------------------ */

#define SERVICE_WEBHOOK_REPLAY_CAPACITY 10000
#define SERVICE_WEBHOOK_REPLAY_MAX_AGE (24 * 3600)
/* GitHub's delivery ids are UUIDs (36 characters). */
#define SERVICE_WEBHOOK_DELIVERY_MAX 64

struct service_webhook_replay;

enum service_webhook_delivery {
	SERVICE_WEBHOOK_DELIVERY_NEW = 0,	/* recorded now */
	SERVICE_WEBHOOK_DELIVERY_DUPLICATE,	/* seen before: a replay (or a manual redelivery) */
	SERVICE_WEBHOOK_DELIVERY_INVALID,	/* absent, empty, too long, or not printable ASCII */
};

/*
 * A set of at most capacity delivery ids, each forgotten max_age seconds
 * after it was recorded or when capacity newer ones push it out.  Free
 * with service_webhook_replay_destroy().
 */
struct service_webhook_replay *service_webhook_replay_create(size_t capacity, long long max_age);
void service_webhook_replay_destroy(struct service_webhook_replay *replay);

/*
 * Record delivery at Unix time now unless it is already there.  Only a
 * delivery whose signature was verified may be recorded, so that nobody
 * can fill the set with made-up ids.  Thread-safe; O(1).
 */
enum service_webhook_delivery service_webhook_replay_check(struct service_webhook_replay *replay,
							   const char *delivery, long long now);

/* Ids held now (tests). */
size_t service_webhook_replay_count(struct service_webhook_replay *replay);

/* ---- classification ----------------------------------------------------- */

enum service_webhook_removal_kind {
	SERVICE_WEBHOOK_REMOVE_NONE = 0,
	SERVICE_WEBHOOK_REMOVE_MEMBER,		/* login left the organization */
	SERVICE_WEBHOOK_REMOVE_TEAM_MEMBER,	/* login left team */
	SERVICE_WEBHOOK_REMOVE_TEAM,		/* team deleted */
	SERVICE_WEBHOOK_REMOVE_TEAM_GRANT,	/* team lost its grant on repository */
	SERVICE_WEBHOOK_REMOVE_COLLABORATOR,	/* login's direct grant on repository */
	SERVICE_WEBHOOK_REMOVE_REPOSITORY,	/* repository deleted or transferred away */
};

/* Longest team slug or repository name kept (GitHub: 100 characters). */
#define SERVICE_WEBHOOK_NAME_MAX 128

struct service_webhook_removal {
	enum service_webhook_removal_kind kind;
	char login[40];				/* MEMBER, TEAM_MEMBER, COLLABORATOR */
	char team[SERVICE_WEBHOOK_NAME_MAX];	/* TEAM_MEMBER, TEAM, TEAM_GRANT: the slug */
	char repository[SERVICE_WEBHOOK_NAME_MAX];	/* TEAM_GRANT, COLLABORATOR, REPOSITORY */
};

struct service_webhook_event {
	bool refresh;			/* ask for a resync */
	const char *reason;		/* why (refresh or not), a constant for logs */
	char event[32];			/* X-GitHub-Event, sanitised for logs */
	char action[48];		/* payload "action", "" when none */
	struct service_webhook_removal removal;	/* kind NONE unless something was taken away */
	char added_login[40];		/* organization member_added: the login, else "" */
};

/*
 * What the delivery of event (X-GitHub-Event) with the JSON body means for
 * organization (the configured login; events of another organization are
 * ignored).  The body is parsed defensively: any shape is accepted, fields
 * of the wrong type count as absent, logins must be valid GitHub logins.
 * GA_EPARSE (err set) only when the body is not a JSON object; a payload
 * that lacks what a removal needs still asks for a refresh.
 * Thread-safe; out is fully written on every return.
 */
enum ga_rc service_webhook_classify(const char *event, const char *body, size_t len,
				    const char *organization, struct service_webhook_event *out,
				    struct ga_err *err);

/* "member" for REMOVE_MEMBER, ...: for logs. */
const char *service_webhook_removal_name(enum service_webhook_removal_kind kind);

/* ---- revocations ---------------------------------------------------------- */

#define SERVICE_WEBHOOK_REVOCATIONS_MAX 100000

struct service_webhook_revocations;

struct service_webhook_revocations *service_webhook_revocations_create(void);
void service_webhook_revocations_destroy(struct service_webhook_revocations *revocations);

/*
 * Record removal (kind != NONE) at Unix time now.  Past
 * SERVICE_WEBHOOK_REVOCATIONS_MAX entries the oldest is dropped (and
 * logged): by then many syncs have failed and max_stale governs anyway.
 * Thread-safe.
 */
void service_webhook_revocations_add(struct service_webhook_revocations *revocations,
				     const struct service_webhook_removal *removal, long long now);

/*
 * login was added to the organization again: forget its MEMBER removals,
 * so that an add after a remove is not held back once a sync sees it.
 * Thread-safe.
 */
void service_webhook_revocations_forget_member(struct service_webhook_revocations *revocations,
					       const char *login);

/*
 * A snapshot whose data was read at synced_at was published: removals
 * recorded before that second are in GitHub's data now and are dropped.
 * Returns how many remain.  Thread-safe.
 */
size_t service_webhook_revocations_expire(struct service_webhook_revocations *revocations,
					  long long synced_at);

/* Entries held (tests, /health). */
size_t service_webhook_revocations_count(struct service_webhook_revocations *revocations);

/*
 * A copy of input without what the removals recorded at or after
 * input->synced_at took away (data read before a removal may still hold
 * it; same second counts as before).  Logins, slugs and names compare
 * without regard to case, as on GitHub.  Returns NULL when no removal
 * applies to input (use input as it is); else a new org_input (free with
 * org_input_free) with the same synced_at.  Thread-safe.
 */
struct org_input *service_webhook_revocations_apply(struct service_webhook_revocations *revocations,
						    const struct org_input *input);

/* ---- pacing of webhook-triggered refreshes ------------------------------ */

/* Webhook-triggered syncs start at most this often. */
#define SERVICE_WEBHOOK_MIN_INTERVAL_MS 5000
/* Points kept for the periodic refresh: webhook syncs stop below this. */
#define SERVICE_WEBHOOK_POINTS_RESERVE 500

/*
 * When a refresh asked for by deliveries may start.  Not thread-safe: the
 * caller (the service's refresh thread) keeps it under its own lock.
 * Times are a monotonic clock in milliseconds.
 */
struct service_webhook_pacing {
	long long debounce_ms;		/* quiet time after the last delivery */
	long long pending_since_ms;	/* first delivery not yet served; -1 none */
	long long last_delivery_ms;
	long long last_start_ms;	/* last webhook-triggered sync; -1 never */
	long long points_remaining;	/* last known GraphQL budget; -1 unknown */
	long long points_per_sync;	/* cost of the last sync; -1 unknown */
};

void service_webhook_pacing_init(struct service_webhook_pacing *pacing, long long debounce_ms);

/* A delivery that asks for a refresh arrived at now_ms. */
void service_webhook_pacing_note(struct service_webhook_pacing *pacing, long long now_ms);

/* A sync finished (any trigger): remember its cost and what is left. */
void service_webhook_pacing_budget(struct service_webhook_pacing *pacing, long long cost,
				   long long remaining);

/*
 * Milliseconds until the refresh may start (0: now), or -1 when none is
 * pending.  Debounced: debounce_ms after the last delivery, but never
 * later than 4 * debounce_ms (at least 2 s) after the first one, so a
 * steady trickle cannot postpone it for ever; and not before
 * SERVICE_WEBHOOK_MIN_INTERVAL_MS after the previous one.  When the budget
 * is too low the refresh is dropped (returns -1 and forgets the request;
 * the periodic refresh will bring the changes) and *budget_low, when not
 * NULL, is set.
 */
long long service_webhook_pacing_due(struct service_webhook_pacing *pacing, long long now_ms,
				     bool *budget_low);

/* The webhook-triggered refresh starts now: what was pending is served. */
void service_webhook_pacing_started(struct service_webhook_pacing *pacing, long long now_ms);

#endif
