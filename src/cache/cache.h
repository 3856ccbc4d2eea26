/*
 * cache.h - the token verification cache and the shared (memcached) state.
 *
 * Token cache.  /verify must not ask GitHub for every pip request, and
 * must never store a token.  Entries are keyed by HMAC-SHA256 over the
 * length-prefixed (username, token) pair (ga_hmac_fields) under a key that
 * is random per process (memory backend) or read from [cache] secret_file
 * (memcache backend, so that every instance computes the same keys).
 * A positive answer is kept for [cache] expiration seconds, a definite "no"
 * for negative_ttl seconds, and "could not tell" is never kept.  The memory
 * store is bounded in entries (token_cache_entries) and bytes, evicting the
 * least recently used, so a flood of random tokens cannot exhaust memory.
 * Concurrent first requests for one (username, token) make exactly one call
 * to the verifier (single flight): the others wait for its answer.
 *
 * Shared state.  With backend = memcache, verified-token entries and the
 * published snapshot live in memcached, so that N instances sync GitHub
 * once.  Every value is authenticated with HMAC-SHA256 under the shared
 * secret and carries its key and expiry inside the MAC; a forged, stale or
 * corrupted value is ignored and logged.  When memcached is unreachable
 * each instance falls back to its own memory and cache_status() says so.
 *
 * Thread-safety: every function may be called from any thread.
 */
#ifndef CACHE_H
#define CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "util/ga_err.h"

struct cache;

enum cache_verdict {
	CACHE_TOKEN_VALID = 0,		/* GitHub said: this token is this user's */
	CACHE_TOKEN_INVALID,		/* definite no: 401 or another login */
	CACHE_TOKEN_UNKNOWN,		/* could not tell: timeout, 5xx, rate limit */
	CACHE_TOKEN_NO_ORG_ACCESS,	/* the user's token, but it may not reach the
					 * organization (not an active member for
					 * GitHub, or refused): a definite no, kept
					 * negative_ttl seconds in this process */
	CACHE_TOKEN_SSO_REQUIRED,	/* the user's token, not authorized for the
					 * organization's SAML SSO: a definite no that
					 * is never kept, so that each refusal carries
					 * GitHub's current URL (detail) and an
					 * authorization counts at the next request */
};

/* A user-facing explanation of a refusal, e.g. the SSO authorization URL. */
#define CACHE_DETAIL_MAX 256

/* What a check found. */
struct cache_token_answer {
	enum cache_verdict verdict;
	long long user_id;			/* GitHub's id, on CACHE_TOKEN_VALID */
	char detail[CACHE_DETAIL_MAX];		/* "" or a printable explanation */
};

/*
 * Ask GitHub whether token belongs to username.  Called without any cache
 * lock held; sets *user_id on CACHE_TOKEN_VALID, and may write a printable
 * explanation of a refusal into detail (detail_size bytes, "" on entry).
 * Must return one of the verdicts (anything else is taken as
 * CACHE_TOKEN_UNKNOWN).
 */
typedef enum cache_verdict (*cache_verify_fn)(void *context, const char *username,
					     const char *token, long long *user_id,
					     char *detail, size_t detail_size);

/*
 * Counters since cache_create.  Every cache_verify_token call is either a
 * hit (answered from memory or, with memcache, from memcached) or a miss
 * (it called the verifier or waited for the caller that did).
 */
struct cache_stats {
	unsigned long long hits;
	unsigned long long misses;
	unsigned long long shared_hits;		/* the hits that came from memcached */
	unsigned long long verifier_calls;
	unsigned long long evictions;
	unsigned long long rejected_values;	/* forged or corrupted shared values */
	size_t entries;				/* in this process's memory */
	size_t bytes;				/* entries x entry size */
	bool shared_available;			/* memcached reachable right now */
	unsigned checks_in_flight;		/* cache_verify_token_start checks running */
	unsigned long long checks_refused;	/* ... refused at once: bounds full */
};

/* Create from config (borrowed during the call).  GA_EINVAL/GA_EIO on a bad
 * secret; a memcached that is down is not an error (fallback).
 * backend = memcache needs config->secret of at least 16 bytes and a valid
 * memcache_url ("host:port", several separated by commas, "[v6]:port" or a
 * "/unix/socket" path); GA_EINVAL otherwise.  The memory store holds at
 * most token_cache_entries entries (0: 100000).  A caller waits for another
 * caller's verification of the same (username, token) at most http_timeout
 * + 1 seconds, then gets CACHE_TOKEN_UNKNOWN.  Free with cache_destroy
 * once no other thread uses the cache.  The checks started with
 * cache_verify_token_start are bounded by config->max_token_checks (in all,
 * 0: 16) and max_token_checks_per_login (0: 2). */
enum ga_rc cache_create(const struct config *config, struct cache **out, struct ga_err *err);
void cache_destroy(struct cache *cache);

/*
 * The verdict for (username, token): from the cache when present and fresh,
 * else from verify (single flight), then stored as described above.
 * username and token are borrowed NUL-terminated strings; the caller checks
 * their syntax first (permissions.md section 3).  *user_id (user_id may be
 * NULL) is the GitHub id on CACHE_TOKEN_VALID, 0 otherwise.  Neither string
 * is stored or logged: only their HMAC is kept.  The caller's thread runs
 * the verifier (or waits for the caller that does) and no bound applies:
 * for tools and tests; a server uses cache_verify_token_start.
 */
enum cache_verdict cache_verify_token(struct cache *cache, const char *username,
				      const char *token, cache_verify_fn verify,
				      void *context, long long *user_id);

/*
 * The same, without blocking the caller: for a server thread that must not
 * wait for GitHub.
 *
 *   CACHE_START_ANSWERED  the cache knew: *answer is filled, done is not called;
 *   CACHE_START_PENDING   done(arg, answer) is called exactly once, on another
 *                         thread (possibly before this call returns): a
 *                         check of the same (username, token) was running and
 *                         this caller joined it (single flight), or a new
 *                         check was started on the cache's bounded pool of
 *                         threads;
 *   CACHE_START_BUSY      a new check is needed but max_token_checks checks
 *                         run already, or max_token_checks_per_login for this
 *                         login (compared in lower case), or the checks were
 *                         stopped: refuse now.  GitHub was not asked.
 *
 * Joining a running check costs no slot: 100 requests for one new token
 * make one check.  The verifier runs on a pool thread with its own copy of
 * the token (wiped after).  verify and context must stay valid until
 * cache_stop_checks().
 */
enum cache_start {
	CACHE_START_ANSWERED = 0,
	CACHE_START_PENDING,
	CACHE_START_BUSY,
};

typedef void (*cache_done_fn)(void *arg, const struct cache_token_answer *answer);

enum cache_start cache_verify_token_start(struct cache *cache, const char *username,
					  const char *token, cache_verify_fn verify,
					  void *context, cache_done_fn done, void *arg,
					  struct cache_token_answer *answer);

/*
 * Refuse new checks (CACHE_START_BUSY) and wait until the running ones have
 * ended and called back: after this the verifiers' context may go away.
 * Each waits at most for its verifier (bounded by [github] timeout).
 * Idempotent; cache_destroy calls it.
 */
void cache_stop_checks(struct cache *cache);

/* Drop every token entry of this process (webhook revocation, SIGHUP).
 * With memcache, this process also ignores from now on the memcached token
 * entries written before the call; other instances keep theirs until they
 * expire (at most [cache] expiration seconds). */
void cache_forget_tokens(struct cache *cache);

void cache_get_stats(struct cache *cache, struct cache_stats *stats);

/* "memory", "memcache", or "memcache (unreachable: using memory)". */
const char *cache_status(struct cache *cache);

/*
 * Shared snapshot (memcache backend only; with memory, publish and fetch
 * return GA_ENOTFOUND).
 *
 * cache_sync_lock_take: true when this instance won the right to sync for
 * the next ttl seconds (memcached `add` of a lock key), false when another
 * instance holds it.  The holder taking it again gets true and a fresh ttl.
 * A lock value that fails authentication is no lock (it is replaced).
 * Always true with the memory backend or when memcached is down (each
 * instance then syncs for itself).  cache_sync_lock_release deletes the
 * lock if this instance still holds it.
 *
 * cache_snapshot_publish stores the serialised snapshot (org_input_to_json
 * text, any size up to 512 MiB) in chunks under 1 MB, each authenticated,
 * then points the "current" key at them with a generation higher than any
 * this instance has seen (monotonic across instances: the current pointer
 * is read first); GA_EUPSTREAM when memcached is unreachable, GA_ELIMIT
 * when too large.
 *
 * cache_snapshot_fetch returns the published text (caller frees with
 * ga_free; NUL-terminated, *len excludes the NUL) and the time its data
 * was read, when it is newer than what this instance has: GA_ENOTFOUND
 * when none, when it is the one this instance published or fetched last,
 * or when its generation is lower than one already seen (a replayed value:
 * counted in rejected_values, logged, never returned).  GA_EPARSE when a
 * value failed authentication, a chunk is missing, the whole text fails its
 * SHA-256, or its data was read more than 5 s in the future of our clock
 * (logged, ignored: the caller keeps its own snapshot), GA_EUPSTREAM when
 * unreachable.
 */
bool cache_sync_lock_take(struct cache *cache, int ttl_seconds);
void cache_sync_lock_release(struct cache *cache);

/*
 * The sync lock lives a short ttl (CACHE_SYNC_LOCK_TTL) and its holder
 * renews it while its sync runs: an instance killed in the middle of a
 * sync holds the others up for at most that long.  cache_sync_lock_renew
 * takes the lock again for ttl seconds when this instance holds it (a take
 * not yet released); false otherwise.  Any thread; serialised with the
 * release.  A period's "a full sync happened" is a separate marker:
 * cache_sync_mark after a good sync (a sealed value living ttl seconds:
 * the refresh period), cache_sync_marked true while a genuine one is there
 * (false with the memory backend, when memcached is down, or the value is
 * forged: the caller then syncs).
 */
#define CACHE_SYNC_LOCK_TTL 15
#define CACHE_SYNC_LOCK_RENEW_MS 5000
bool cache_sync_lock_renew(struct cache *cache, int ttl_seconds);
void cache_sync_mark(struct cache *cache, int ttl_seconds);
bool cache_sync_marked(struct cache *cache);

/*
 * The shared change log (memcache backend; docs/internals/cache.md):
 * instances append what webhooks taught them, and every instance reads it
 * in order.  Entries are opaque bytes (at most CACHE_CHANGES_DATA_MAX),
 * sealed under their key with their sequence number inside, kept in a ring
 * of CACHE_CHANGES_RING slots for CACHE_CHANGES_TTL seconds, in a log
 * named by a random id so that a memcached restart (or a reset) starts a
 * new log that readers notice instead of confusing its positions with the
 * old ones.
 *
 * cache_changes_append: GA_OK appended; GA_EUPSTREAM memcached not reached
 * (the caller keeps it and tries again); GA_ELIMIT too large; GA_ENOTFOUND
 * with the memory backend.  cache_changes_reset starts a new log (a reader
 * then sees a gap): for a writer that lost entries it could not append.
 *
 * cache_changes_next reads the entry after cursor (zeroed at start):
 *   CACHE_CHANGES_ENTRY        *data (ga_free, NUL-terminated) and *len;
 *   CACHE_CHANGES_NONE         nothing new (or an entry is being written:
 *                              it is waited for CACHE_CHANGES_GRACE_MS);
 *   CACHE_CHANGES_GAP          entries were lost (*why says how: the log
 *                              was replaced or reset, an entry stayed
 *                              missing, the reader fell behind the ring):
 *                              the caller must get a fresh snapshot; the
 *                              cursor moved past them;
 *   CACHE_CHANGES_REFUSED      an entry (or the log's head) failed its seal
 *                              or carries another position: never returned,
 *                              counted in rejected_values; a gap as well;
 *   CACHE_CHANGES_UNREACHABLE  memcached not reached.
 * The cursor is the caller's (one reader per cursor).
 */
#define CACHE_CHANGES_RING 1024
#define CACHE_CHANGES_TTL 600
#define CACHE_CHANGES_GRACE_MS 1000
#define CACHE_CHANGES_DATA_MAX 65536

enum cache_changes {
	CACHE_CHANGES_ENTRY = 0,
	CACHE_CHANGES_NONE,
	CACHE_CHANGES_GAP,
	CACHE_CHANGES_REFUSED,
	CACHE_CHANGES_UNREACHABLE,
};

struct cache_changes_cursor {
	char log_id[33];		/* hex; "" before the first read */
	unsigned long long next;	/* sequence number to read next */
	long long missing_since_ms;	/* monotonic; 0: none missing */
};

enum ga_rc cache_changes_append(struct cache *cache, const char *data, size_t len,
				struct ga_err *err);
enum ga_rc cache_changes_reset(struct cache *cache, struct ga_err *err);
enum cache_changes cache_changes_next(struct cache *cache, struct cache_changes_cursor *cursor,
				      char **data, size_t *len, const char **why);
/* memcached backend in use (whether or not it answers right now). */
bool cache_is_shared(struct cache *cache);
enum ga_rc cache_snapshot_publish(struct cache *cache, const char *text, size_t len,
				  long long synced_at, struct ga_err *err);
enum ga_rc cache_snapshot_fetch(struct cache *cache, char **text, size_t *len,
				long long *synced_at, struct ga_err *err);

/*
 * Claim once.  cache_claim_once remembers that id (in the namespace scope)
 * has been used, until the Unix time until: trusted publishing claims each
 * GitHub Actions ID token's jti (scope: the issuer) so that a token is
 * exchanged once.  Neither scope nor id is stored: only HMAC-SHA256 over
 * both (ga_hmac_fields) under a key that is random per process (memory
 * backend) or derived from [cache] secret_file (memcache), as token keys.
 *
 *   CACHE_ONCE_FIRST       claimed now: nobody claimed it before, in this
 *                          process nor (memcache) through memcached;
 *   CACHE_ONCE_FIRST_LOCAL claimed now in this process's memory, but
 *                          memcached could not be asked (unreachable, or
 *                          it did not store the claim): another instance
 *                          may still accept the same id.  The caller
 *                          decides (trusted publishing allows, logs and
 *                          counts it: docs/internals/oidc.md);
 *   CACHE_ONCE_USED        claimed before, by this process or by an
 *                          instance that shares memcached (any value under
 *                          the claim's key counts: only the secret's holders
 *                          can compute that key);
 *   CACHE_ONCE_FULL        this process remembers CACHE_CLAIMS_MAX claims
 *                          that have not expired: nothing was claimed, and
 *                          no unexpired claim is ever forgotten to make
 *                          room (the caller refuses and asks to try later).
 *
 * A claim is remembered while now <= until; now is the caller's Unix time
 * (the clock its expiry checks use).  Claims outlive cache_forget_tokens
 * and are lost when the process ends (memcached keeps its copy until
 * until).  At most one memcached call, bounded like the others (200 ms);
 * none when memcached is marked unreachable.  Thread-safe: of concurrent
 * claims of one id exactly one gets FIRST or FIRST_LOCAL.
 */
#define CACHE_CLAIMS_MAX 65536

enum cache_once {
	CACHE_ONCE_FIRST = 0,
	CACHE_ONCE_FIRST_LOCAL,
	CACHE_ONCE_USED,
	CACHE_ONCE_FULL,
};

enum cache_once cache_claim_once(struct cache *cache, const char *scope, const char *id,
				 size_t id_len, long long until, long long now);

/*
 * For tests only: replace the monotonic clock (milliseconds) that decides
 * when memory entries expire; NULL restores the real one.  Call before any
 * other thread uses the cache.  Values in memcached keep using real time.
 */
void cache_set_clock_for_tests(struct cache *cache, long long (*now_ms)(void));

#endif
