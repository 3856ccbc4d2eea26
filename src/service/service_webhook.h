/*
 * service_webhook.h - GitHub organization webhooks: trust, meaning, effect.
 *
 * The pieces POST /webhook is made of, kept apart from HTTP so that each
 * can be tested (and fuzzed) alone, one file each:
 *
 *   body          (service_webhook_body.c) the memory a delivery may hold,
 *                 within a budget shared by every delivery in flight, and
 *                 X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256(secret,
 *                 raw body) computed as the body arrives and compared in
 *                 constant time before the body is parsed at all;
 *   replay        (service_webhook.c) bounded sets of the X-GitHub-Delivery
 *                 ids and of the bodies already accepted (the last 10,000,
 *                 at most 24 hours);
 *   classify      (service_webhook_classify.c) what an event means for
 *                 ghaccess: nothing, or a refresh, and for the events that
 *                 take access away, the removal to apply at once;
 *   revocations   (service_webhook_revocations.c) the change log: removals
 *                 and targeted results applied to the organization data,
 *                 in time order, until GitHub's own data (the next sync)
 *                 catches up;
 *   pacing        (service_webhook.c) when the refresh that deliveries ask
 *                 for may start.
 *
 * The policy, and why.  An event that names what changed (a team's members
 * or repository grants, one repository: membership, team grants, member,
 * repository, a push that may change pyproject.toml) leads to a targeted
 * read of only that (service_targeted.c, a point or two), whose result is
 * GitHub's own data and so may grant; any other relevant event triggers a
 * full resync, debounced (webhook_debounce_ms, default 500 ms) so that a
 * burst (a team deleted with 30 members, a reorganisation script) makes
 * one sync; webhook-triggered syncs start at most once per 5 seconds, and
 * are skipped while the last known budget minus one sync's cost is under
 * 500 points, which stay for the periodic refresh.  Pushes only count when
 * they go to the default branch and may change the root pyproject.toml:
 * pushes are the most frequent event by far.
 *
 * What cannot wait for a sync, which may be skipped for the budget, is
 * whatever takes access away: a person removed from the organization must
 * lose access within seconds.  classify() names the removal (organization
 * member_removed, team membership removed, a collaborator removed or his
 * role lowered, a team deleted, taken off a repository, its permission on
 * one lowered or its parent changed, a repository deleted or archived);
 * the revocation list records it with the time, and apply() rewrites an
 * organization's raw records without what it took away.  Front ends then
 * decide from a snapshot built from those records, so every front end sees
 * the removal at once, and a removal stays applied to every snapshot whose
 * data was read before it (a sync that was already running when the
 * delivery came).  A payload is applied only to take away, and only ever
 * to lower: anything that grants access comes from GitHub's data (a
 * targeted read's result, in the same log, or a sync).
 */
#ifndef SERVICE_WEBHOOK_H
#define SERVICE_WEBHOOK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "org/org_input.h"
#include "util/ga_err.h"
#include "util/ga_secret.h"

/* ---- signature --------------------------------------------------------- */

enum service_webhook_signature {
	SERVICE_WEBHOOK_SIGNATURE_OK = 0,
	SERVICE_WEBHOOK_SIGNATURE_MISSING,	/* no X-Hub-Signature-256 header */
	SERVICE_WEBHOOK_SIGNATURE_MALFORMED,	/* not "sha256=" and 64 hex digits */
	SERVICE_WEBHOOK_SIGNATURE_MISMATCH,	/* another secret, or another body */
};

/*
 * Decode header (NULL when absent) into the digest it presents: OK,
 * MISSING or MALFORMED.  The header is the sender's own data, so decoding
 * it needs no constant time; the comparison with our digest does.
 */
enum service_webhook_signature service_webhook_parse_signature(const char *header,
							       uint8_t presented[GA_HMAC_SIZE]);

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

/* ---- bodies: the memory they hold, the signature as they arrive ---------- */

/*
 * The bytes that the bodies of every delivery in flight hold together,
 * from the moment their headers arrive until the webhook thread is done
 * with them.  Zero-initialised; thread-safe (one atomic).
 */
struct service_webhook_budget {
	atomic_size_t held;
};

/* Take bytes when held + bytes stays within limit; false (nothing taken) otherwise. */
bool service_webhook_budget_take(struct service_webhook_budget *budget, size_t bytes,
				 size_t limit);
void service_webhook_budget_give(struct service_webhook_budget *budget, size_t bytes);
size_t service_webhook_budget_held(struct service_webhook_budget *budget);

enum service_webhook_body_status {
	SERVICE_WEBHOOK_BODY_OK = 0,
	SERVICE_WEBHOOK_BODY_UNSIGNED,		/* no X-Hub-Signature-256 header */
	SERVICE_WEBHOOK_BODY_MALFORMED,		/* not "sha256=" and 64 hex digits */
	SERVICE_WEBHOOK_BODY_TOO_LARGE,		/* declared or grown over max_body */
	SERVICE_WEBHOOK_BODY_BUSY,		/* the budget cannot hold it now */
	SERVICE_WEBHOOK_BODY_MISMATCH,		/* another secret, or another body */
};

struct service_webhook_body_limits {
	size_t max_body;	/* one delivery ([webhook] max_body) */
	size_t max_memory;	/* every delivery in flight ([webhook] max_memory) */
};

/* A delivery's body: its bytes, the budget they hold, its HMAC so far. */
struct service_webhook_body;

/*
 * A delivery's headers have arrived: decide what can be decided before
 * any byte of the body is read, in this order: the signature header
 * (UNSIGNED, MALFORMED), the declared length (declared < 0: unknown, a
 * chunked body) against max_body (TOO_LARGE), then the budget, which must
 * hold the declared length now (BUSY).  On OK *out is a body to feed with
 * append() and close with finish(); on anything else *out is NULL and
 * nothing is held.  secret is copied into the HMAC state.  Thread-safe.
 */
enum service_webhook_body_status service_webhook_body_begin(
	struct service_webhook_budget *budget, const struct service_webhook_body_limits *limits,
	const char *secret, size_t secret_len, const char *signature, long long declared,
	struct service_webhook_body **out);

/*
 * The next len bytes.  A body without a declared length (or longer than
 * declared) grows within max_body (TOO_LARGE past it) and takes from the
 * budget as it grows (BUSY when the budget cannot hold more).  After a
 * failure the body holds nothing more, every later call returns the same
 * failure, and it must only be freed; bytes after finish() are TOO_LARGE.
 */
enum service_webhook_body_status service_webhook_body_append(struct service_webhook_body *body,
							     const void *data, size_t len);

/* The end of the body: OK when the signature matches (constant-time), else MISMATCH. */
enum service_webhook_body_status service_webhook_body_finish(struct service_webhook_body *body);

/* True once finish() returned OK: the only bodies a delivery may carry. */
bool service_webhook_body_verified(const struct service_webhook_body *body);

/* The bytes (borrowed, len bytes, not NUL-terminated; "" when empty). */
const char *service_webhook_body_data(const struct service_webhook_body *body, size_t *len);

/* HMAC-SHA256 of the whole body (after finish): what identifies it for replays. */
const uint8_t *service_webhook_body_digest(const struct service_webhook_body *body);

/* Bytes of the budget the body holds (tests, metrics). */
size_t service_webhook_body_held(const struct service_webhook_body *body);

/* Free the bytes and give their budget back.  NULL is fine. */
void service_webhook_body_free(struct service_webhook_body *body);

/* ---- replay ------------------------------------------------------------ */

/*
 * Two sets are kept: the X-GitHub-Delivery ids (GitHub's Redeliver reuses
 * the id), and the bodies, by their HMAC (hex): the id is not signed, so a
 * captured delivery sent again under a new id is only recognised by its
 * body.  Within the window an identical signed body is a replay.
 */
#define SERVICE_WEBHOOK_REPLAY_CAPACITY 10000
#define SERVICE_WEBHOOK_REPLAY_MAX_AGE (24 * 3600)
/* GitHub's delivery ids are UUIDs (36 characters); a body's key is 64 hex digits. */
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
	SERVICE_WEBHOOK_REMOVE_REPOSITORY,	/* repository deleted */
	SERVICE_WEBHOOK_LOWER_TEAM_GRANT,	/* team's grant on repository now level */
	SERVICE_WEBHOOK_LOWER_COLLABORATOR,	/* login's direct grant on repository now level */
	SERVICE_WEBHOOK_ARCHIVE,		/* repository archived: read-only */
	SERVICE_WEBHOOK_DETACH_TEAM,		/* team's parent is now parent: it leaves any other */
};

/* Longest team slug or repository name kept (GitHub: 100 characters). */
#define SERVICE_WEBHOOK_NAME_MAX 128

/* A team slug, repository name or login of GitHub's characters (letters,
 * digits, '-', '_', '.'), not empty, shorter than size.  Thread-safe. */
bool service_webhook_name_is_valid(const char *name, size_t size);

/*
 * What a delivery takes away.  The LOWER kinds carry the level GitHub's
 * payload states (NONE when it states none that can be read: fail closed
 * until the sync) and only ever lower a grant; DETACH_TEAM carries the
 * parent the payload states and only ever takes a team from under another.
 */
struct service_webhook_removal {
	enum service_webhook_removal_kind kind;
	char login[40];				/* MEMBER, TEAM_MEMBER, COLLABORATOR, LOWER_COLLABORATOR */
	char team[SERVICE_WEBHOOK_NAME_MAX];	/* TEAM_MEMBER, TEAM, TEAM_GRANT, LOWER_TEAM_GRANT,
						   DETACH_TEAM: the slug */
	char repository[SERVICE_WEBHOOK_NAME_MAX];	/* TEAM_GRANT, COLLABORATOR, REPOSITORY,
							   LOWER_*, ARCHIVE */
	char parent[SERVICE_WEBHOOK_NAME_MAX];	/* DETACH_TEAM: the parent's slug, "" for none */
	enum org_level level;			/* LOWER_*: the grant GitHub now states */
};

/*
 * What a delivery asks to read again from GitHub at once: one team's
 * members or repository grants, or one repository (a targeted read,
 * gh_sync_targeted, run by service_targeted.c).  Its result grants as
 * well as takes away, because it is GitHub's own data.
 */
enum service_targeted_kind {
	SERVICE_TARGETED_NONE = 0,
	SERVICE_TARGETED_TEAM_MEMBERS,		/* name: a team's slug */
	SERVICE_TARGETED_TEAM_REPOSITORIES,	/* name: a team's slug */
	SERVICE_TARGETED_REPOSITORY,		/* name: a repository's name */
	SERVICE_TARGETED_MEMBER,		/* name: a user's login */
};

struct service_webhook_target {
	enum service_targeted_kind kind;
	char name[SERVICE_WEBHOOK_NAME_MAX];	/* GitHub's characters only (copy_name) */
};

/* "team members", "team repositories", "repository", "member", "none": for logs. */
const char *service_targeted_kind_name(enum service_targeted_kind kind);

/*
 * What a targeted read found: target's data is data, as GitHub answered
 * when the read started (the change's at_ms).  Plain data with one owner,
 * whoever holds the struct (free data with org_input_free); serialisable
 * as {kind, name, org_input_to_json(data)}.  data holds only the target:
 * TEAM_*: one team (slug = name) with the list that was read;
 * REPOSITORY: one repository; MEMBER: one member (an active membership;
 * a user found not to be a member is sent as a REMOVE_MEMBER removal
 * instead, stamped the same way).
 */
struct service_targeted_result {
	struct service_webhook_target target;
	struct org_input *data;
};

/*
 * Replace in input (a copy the caller owns) the record result read: a
 * team's immediate members or repository grants (a team input does not
 * have is not invented: its parent and other list are unknown; the source
 * asks for a full sync instead), a repository (found by id, else by name,
 * else added; found by id under another name it was renamed, and the
 * teams' grants follow it; another repository holding the name yields
 * nothing until the sync), or a member (added, or his id and owner role
 * updated).  Never fails.  Thread-safe for distinct inputs.
 */
void service_targeted_apply(struct org_input *input, const struct service_targeted_result *result);

/*
 * A targeted result read at at_ms as JSON (service_targeted_json.c), for a
 * change log shared between instances: a new string (ga_free), NULL when
 * result has no kind or no data.  Reading refuses (GA_EPARSE, err set;
 * *out has kind NONE and no data) anything but a known kind, a name of
 * GitHub's characters, a positive time, and data that is exactly the one
 * record the kind names (org_input_from_json validates it).  On GA_OK
 * *out owns its data.  Thread-safe.
 */
char *service_targeted_to_json(const struct service_targeted_result *result, long long at_ms);
enum ga_rc service_targeted_from_json(const char *text, size_t len,
				      struct service_targeted_result *out, long long *at_ms,
				      struct ga_err *err);

struct service_webhook_event {
	bool refresh;			/* ask for a resync */
	bool in_scope;			/* of the configured organization (else ignored,
					   logged at debug level only) */
	const char *reason;		/* why (refresh or not), a constant for logs */
	char event[32];			/* X-GitHub-Event, sanitised for logs */
	char action[48];		/* payload "action", "" when none */
	struct service_webhook_removal removal;	/* kind NONE unless something was taken away */
	/* kind NONE unless a targeted read covers the event (then refresh
	 * is false: the read replaces the full sync; when the read cannot
	 * be queued or fails, the full sync is asked for instead). */
	struct service_webhook_target target;
};

/*
 * What the delivery of event (X-GitHub-Event) with the JSON body means for
 * organization (the configured login).  A payload whose organization.login
 * (installation.account.login for installation events) is absent or names
 * another organization is out of scope: nothing, whatever it says.  The
 * body is parsed defensively: any shape is accepted, fields of the wrong
 * type count as absent, logins must be valid GitHub logins.  GA_EPARSE
 * (err set) only when the body is not a JSON object; a payload that lacks
 * what a removal needs still asks for a refresh.
 * Thread-safe; out is fully written on every return.
 */
enum ga_rc service_webhook_classify(const char *event, const char *body, size_t len,
				    const char *organization, struct service_webhook_event *out,
				    struct ga_err *err);

/* "member" for REMOVE_MEMBER, ...: for logs. */
const char *service_webhook_removal_name(enum service_webhook_removal_kind kind);

/* ---- revocations ---------------------------------------------------------- */

/*
 * Times here are Unix time in milliseconds: a removal is compared with the
 * moment a sync started reading GitHub (org_input_read_at_ms), so that a
 * sync that started after a delivery, even within the same second, ends
 * what the delivery applied.
 */
#define SERVICE_WEBHOOK_REVOCATIONS_MAX 100000

struct service_webhook_revocations;

struct service_webhook_revocations *service_webhook_revocations_create(void);
void service_webhook_revocations_destroy(struct service_webhook_revocations *revocations);

/*
 * Record removal (kind != NONE) at now_ms.  Past
 * SERVICE_WEBHOOK_REVOCATIONS_MAX entries the oldest is dropped (and
 * logged): by then many syncs have failed and max_stale governs anyway.
 * Thread-safe.
 */
void service_webhook_revocations_add(struct service_webhook_revocations *revocations,
				     const struct service_webhook_removal *removal, long long now_ms);

/*
 * A snapshot whose data a sync started reading at read_at_ms was
 * published: removals recorded before that, or in the same millisecond,
 * are in GitHub's data now and are dropped (the event behind a delivery
 * happened before the delivery was recorded, so a read that starts in
 * that millisecond or later sees it).  Returns how many remain.
 * Thread-safe.
 */
size_t service_webhook_revocations_expire(struct service_webhook_revocations *revocations,
					  long long read_at_ms);

/*
 * Record what a targeted read found (result->target.kind != NONE; data
 * copied, the caller keeps result) as read at read_at_ms, the start of the
 * read.  An older result for the same target is dropped (the newer read
 * has GitHub's later data); a result older than one kept is ignored.
 * Counted and bounded with the removals.  Thread-safe.
 */
void service_webhook_revocations_add_targeted(struct service_webhook_revocations *revocations,
					      const struct service_targeted_result *result,
					      long long read_at_ms);

/* Entries held (tests, /health). */
size_t service_webhook_revocations_count(struct service_webhook_revocations *revocations);

/*
 * A copy of input with the changes recorded after the moment its data
 * was read (org_input_read_at_ms) applied, in the order GitHub made
 * them: first each targeted result replaces its team's list or its
 * repository (oldest first; a repository found by id under another name
 * was renamed, and the teams' grants follow it), then the removals take
 * away, except a removal that a targeted read of the same team list or
 * repository started after, or in the same millisecond, has superseded
 * (GitHub's later data already says what it took away, or that it came
 * back).  A removal recorded in a later millisecond than a targeted
 * result always applies: the later event wins.  Data read
 * before a change may still lack it.  Logins, slugs and names compare
 * without regard to case, as on GitHub.  Returns NULL when no removal
 * applies to input (use input as it is); else a new org_input (free with
 * org_input_free) read at the same time.  Thread-safe.
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
