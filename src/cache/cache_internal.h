/*
 * cache_internal.h - the parts of src/cache/ that talk to each other.
 *
 * cache_core.c (the public API of cache.h) is built from four pieces:
 *
 *   cache_key.c       HMAC-SHA256 with a fixed key, fast and thread-safe
 *                     (the cache key of a (username, token) pair)
 *   cache_tokens.c    the bounded in-memory store with single flight
 *   cache_checks.c    the bounded pool that runs checks for
 *                     cache_verify_token_start
 *   cache_seal.c      the authenticated value format of memcached values
 *   cache_memcache.c  memcached: token entries, sync lock, snapshot chunks,
 *                     claims
 *   cache_changelog.c the shared change log (a ring of sealed entries)
 *   cache_claims.c    claim once (cache_claim_once): the bounded local set,
 *                     then memcached's add
 *
 * None of them is meant for use outside src/cache/.  docs/internals/cache.md
 * describes the formats.
 */
#ifndef CACHE_INTERNAL_H
#define CACHE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/cache.h"
#include "util/ga_secret.h"

/* ---- cache_key.c --------------------------------------------------- */

/*
 * An HMAC-SHA256 keyed once.  cache_keyer_fields computes exactly what
 * ga_hmac_fields computes with the same key (each field preceded by its
 * length as 8 big-endian bytes), but without fetching the algorithm and
 * re-keying on every call: /verify computes one per request.
 * Thread-safe; the key is copied.
 */
struct cache_keyer;

struct cache_keyer *cache_keyer_create(const void *key, size_t key_len);
void cache_keyer_destroy(struct cache_keyer *keyer);
void cache_keyer_fields(struct cache_keyer *keyer, const char *const *fields,
			const size_t *lengths, size_t count, uint8_t out[GA_HMAC_SIZE]);

/* Derive a 32-byte sub-key HMAC-SHA256(secret, label), so that one secret
 * file serves several purposes without reusing a key across them. */
void cache_derive_key(const char *secret, const char *label, uint8_t out[GA_HMAC_SIZE]);

/* ---- cache_tokens.c ------------------------------------------------ */

/* Outcome of cache_tokens_claim. */
enum cache_claim {
	CACHE_CLAIM_HIT,	/* fresh entry: *answer filled */
	CACHE_CLAIM_WAITED,	/* another caller verified (or the wait timed out:
				 * UNKNOWN); *answer filled */
	CACHE_CLAIM_LEADER,	/* nothing known, nobody asking: the caller must
				 * find the answer and call cache_tokens_finish */
	CACHE_CLAIM_REFUSED,	/* (async) a flight was needed but not admitted */
};

struct cache_tokens;
struct cache_flight;

/*
 * A store of at most max_entries answers (at least 1), in stripes of their
 * own lock chosen by the key's first bytes.  wait_timeout_ms bounds how long
 * a caller waits for another caller's verification.
 */
struct cache_tokens *cache_tokens_create(size_t max_entries, long long wait_timeout_ms);
void cache_tokens_destroy(struct cache_tokens *tokens);

/* Replace the monotonic millisecond clock (tests); NULL restores it. */
void cache_tokens_set_clock(struct cache_tokens *tokens, long long (*now_ms)(void));

/*
 * Look key up.  On CACHE_CLAIM_LEADER *flight is set and the caller owns
 * the obligation to call cache_tokens_finish exactly once, without which
 * the other callers of the same key wait until their timeout.
 */
enum cache_claim cache_tokens_claim(struct cache_tokens *tokens, const uint8_t key[GA_HMAC_SIZE],
				    struct cache_token_answer *answer,
				    struct cache_flight **flight);

/*
 * cache_tokens_claim for a caller that must not block.  A running flight of
 * key gets a waiter (done, arg): CACHE_CLAIM_WAITED is then returned
 * *before* the answer exists, and done(arg, answer) is called by
 * cache_tokens_finish.  When nothing is known and nobody asks,
 * admit(admit_arg) is called with the stripe locked: true starts a flight
 * with the waiter on it (CACHE_CLAIM_LEADER: the caller must have it
 * finished), false returns CACHE_CLAIM_REFUSED.  done is never called for
 * CACHE_CLAIM_HIT or CACHE_CLAIM_REFUSED.
 */
struct cache_waiter {
	struct cache_waiter *next;
	cache_done_fn done;
	void *arg;
};

enum cache_claim cache_tokens_claim_async(struct cache_tokens *tokens,
					  const uint8_t key[GA_HMAC_SIZE],
					  struct cache_token_answer *answer,
					  struct cache_flight **flight, cache_done_fn done, void *arg,
					  bool (*admit)(void *admit_arg), void *admit_arg);

/*
 * Hand the answer to the waiters of flight and, when ttl_ms > 0 and the
 * verdict is not UNKNOWN, store it for ttl_ms.  An answer whose flight
 * began before cache_tokens_forget is handed over but not stored.  The
 * asynchronous waiters are called after the stripe's lock is released, on
 * this thread.
 */
void cache_tokens_finish(struct cache_tokens *tokens, struct cache_flight *flight,
			 const struct cache_token_answer *answer, long long ttl_ms);

void cache_tokens_forget(struct cache_tokens *tokens);

struct cache_tokens_stats {
	unsigned long long hits;
	unsigned long long misses;
	unsigned long long evictions;
	size_t entries;
	size_t bytes;
};

void cache_tokens_get_stats(struct cache_tokens *tokens, struct cache_tokens_stats *stats);

/* The smallest power of two >= n (n <= 2^31): hash table sizes. */
uint32_t cache_next_power_of_two(uint32_t n);

/* Memory one stored entry accounts for (the byte bound is this times the
 * entry limit, plus the fixed bucket arrays). */
size_t cache_tokens_entry_size(void);

/* ---- cache_core.c, for cache_checks.c -------------------------------- */

/*
 * Find the answer of a flight this caller leads (memcached, then the
 * verifier), store it and hand it to the flight's waiters.
 */
void cache_lead_flight(struct cache *cache, const uint8_t key[GA_HMAC_SIZE],
		       const char *username, const char *token, cache_verify_fn verify,
		       void *context, struct cache_flight *flight,
		       struct cache_token_answer *answer);

/* Finish a flight with "could not tell" (nothing stored). */
void cache_abandon_flight(struct cache *cache, struct cache_flight *flight);

/* ---- cache_checks.c ------------------------------------------------ */

/*
 * The checks of cache_verify_token_start: admission (ga_limit: in all and
 * per login, lower-cased) and a pool of at most max_total threads, created
 * as needed, that lead the admitted flights.
 */
struct cache_checks;

struct cache_checks *cache_checks_create(struct cache *cache, unsigned max_total,
					 unsigned max_per_login);
void cache_checks_destroy(struct cache_checks *checks);	/* stops first */

/* Take a slot for username (called with a stripe locked: no other lock
 * than the limit's is taken).  false when full or stopped. */
bool cache_checks_admit(struct cache_checks *checks, const char *username);

/*
 * Run the admitted flight on a pool thread: cache_lead_flight with copies
 * of username and token, then the slot is given back.  When the pool was
 * stopped meanwhile, the flight is finished here with UNKNOWN instead.
 */
void cache_checks_submit(struct cache_checks *checks, const uint8_t key[GA_HMAC_SIZE],
			 const char *username, const char *token, cache_verify_fn verify,
			 void *context, struct cache_flight *flight);

void cache_checks_stop(struct cache_checks *checks);
unsigned cache_checks_in_flight(struct cache_checks *checks);
unsigned long long cache_checks_refused(struct cache_checks *checks);

/* ---- cache_claims.c ------------------------------------------------ */

/*
 * The local set of cache_claim_once: at most max_entries keys (HMACs), each
 * remembered while now <= its until; one mutex.  The HMAC key is derived
 * from config->secret with backend = memcache (every instance computes the
 * same memcached keys), random otherwise.
 */
struct cache_claims;
struct cache_shared;

enum cache_claims_add {
	CACHE_CLAIMS_ADDED = 0,		/* absent (or expired): now remembered */
	CACHE_CLAIMS_PRESENT,		/* remembered and not expired */
	CACHE_CLAIMS_FULL,		/* absent, and max_entries unexpired keys held */
};

struct cache_claims *cache_claims_create(const struct config *config, size_t max_entries);
void cache_claims_destroy(struct cache_claims *claims);

/* HMAC-SHA256(key, len(scope) ‖ scope ‖ len(id) ‖ id) (ga_hmac_fields). */
void cache_claims_key(const struct cache_claims *claims, const char *scope, const char *id,
		      size_t id_len, uint8_t out[GA_HMAC_SIZE]);
enum cache_claims_add cache_claims_add(struct cache_claims *claims,
				       const uint8_t key[GA_HMAC_SIZE], long long until,
				       long long now);
size_t cache_claims_count(struct cache_claims *claims);

/* cache_claim_once over the local set and (shared: NULL with backend =
 * memory) memcached. */
enum cache_once cache_claims_claim(struct cache_claims *claims, struct cache_shared *shared,
				   const char *scope, const char *id, size_t id_len,
				   long long until, long long now);

/* ---- cache_seal.c -------------------------------------------------- */

#define CACHE_SEAL_VERSION 1
/* version (1) + expires_at (8) before the payload, the MAC (32) after it. */
#define CACHE_SEAL_HEADER 9
#define CACHE_SEAL_OVERHEAD (CACHE_SEAL_HEADER + GA_HMAC_SIZE)

enum cache_open_result {
	CACHE_OPEN_OK = 0,
	CACHE_OPEN_MALFORMED,	/* too short or an unknown version */
	CACHE_OPEN_BAD_MAC,	/* forged, corrupted, or moved from another key */
	CACHE_OPEN_EXPIRED,	/* genuine but past its expiry */
};

/*
 * Write version | expires_at | payload | MAC into out, which must hold
 * payload_len + CACHE_SEAL_OVERHEAD bytes.  The MAC is HMAC-SHA256 under
 * mac_key over the length-prefixed fields (key, version | expires_at,
 * payload): a value is only valid under the memcached key it was written to.
 */
void cache_seal(const uint8_t mac_key[GA_HMAC_SIZE], const char *key, long long expires_at,
		const void *payload, size_t payload_len, uint8_t *out);

/*
 * Check a value read from key at unix time now.  On CACHE_OPEN_OK, and on
 * CACHE_OPEN_EXPIRED, *payload points into value and *expires_at is set.
 */
enum cache_open_result cache_open(const uint8_t mac_key[GA_HMAC_SIZE], const char *key,
				  const uint8_t *value, size_t value_len, long long now,
				  const uint8_t **payload, size_t *payload_len,
				  long long *expires_at);

/* Big-endian 64-bit integers in values. */
void cache_put_u64(uint8_t *out, uint64_t value);
uint64_t cache_get_u64(const uint8_t *in);

/* ---- cache_memcache.c ---------------------------------------------- */

struct cache_shared;

/* A token entry found in memcached. */
struct cache_shared_token {
	struct cache_token_answer answer;
	long long expires_at;		/* unix seconds */
	long long stored_at_ms;		/* unix milliseconds */
};

/*
 * Connect lazily to config->memcache_url with the sub-keys derived from
 * config->secret.  GA_EINVAL on a bad URL.  A server that is down is fine.
 */
enum ga_rc cache_shared_create(const struct config *config, const uint8_t mac_key[GA_HMAC_SIZE],
			       struct cache_shared **out, struct ga_err *err);
void cache_shared_destroy(struct cache_shared *shared);

bool cache_shared_available(struct cache_shared *shared);
unsigned long long cache_shared_rejected(struct cache_shared *shared);

/* true and *token filled when a genuine, unexpired entry exists. */
bool cache_shared_token_get(struct cache_shared *shared, const uint8_t key[GA_HMAC_SIZE],
			    struct cache_shared_token *token);
void cache_shared_token_put(struct cache_shared *shared, const uint8_t key[GA_HMAC_SIZE],
			    const struct cache_token_answer *answer, int ttl_seconds);

/*
 * Claim key in memcached for ttl_seconds (at most 30 days): an `add` of
 * ghaccess:v1:claim:<hex of key> (a sealed value holding this instance's
 * id).  CLAIMED when this call added it, TAKEN when a value is there
 * already (whoever wrote it: the key is an HMAC under the secret), NOT_MADE
 * when memcached is unreachable, marked so, or did not store it.
 */
enum cache_shared_claim {
	CACHE_SHARED_CLAIMED = 0,
	CACHE_SHARED_TAKEN,
	CACHE_SHARED_NOT_MADE,
};

enum cache_shared_claim cache_shared_claim(struct cache_shared *shared,
					   const uint8_t key[GA_HMAC_SIZE], long long ttl_seconds);

bool cache_shared_lock_take(struct cache_shared *shared, int ttl_seconds);
void cache_shared_lock_release(struct cache_shared *shared);
/* Take the lock again for ttl_seconds when this instance holds it (between
 * a take and a release): false when it does not, or lost it. */
bool cache_shared_lock_renew(struct cache_shared *shared, int ttl_seconds);
/* The "a full sync happened this period" marker: a sealed value that lives
 * ttl_seconds.  marked: a genuine one is there. */
void cache_shared_sync_mark(struct cache_shared *shared, int ttl_seconds);
bool cache_shared_sync_marked(struct cache_shared *shared);
enum ga_rc cache_shared_snapshot_publish(struct cache_shared *shared, const char *text, size_t len,
					 long long synced_at, struct ga_err *err);
enum ga_rc cache_shared_snapshot_fetch(struct cache_shared *shared, char **text, size_t *len,
				       long long *synced_at, struct ga_err *err);

/*
 * The primitives cache_changelog.c builds on (all bounded like the others;
 * none when memcached is marked unreachable).
 *
 *   cache_shared_org      the organization as it appears in keys
 *   cache_shared_get      GA_OK with *value (ga_free), GA_ENOTFOUND, or
 *                         GA_EUPSTREAM when memcached was not reached
 *   cache_shared_open     open a sealed value read from name: OPENED
 *                         (*payload points into value), GONE (genuine but
 *                         expired), REFUSED (malformed or a bad MAC:
 *                         counted in rejected_values and logged once)
 *   cache_shared_put      seal payload under name and set (or add) it
 *   cache_shared_add_number  add a plain "0" under name (an incr counter,
 *                         which memcached cannot keep sealed)
 *   cache_shared_incr     incr name by 1: GA_OK with the new *value,
 *                         GA_ENOTFOUND, GA_EPARSE (not a number),
 *                         GA_EUPSTREAM
 */
enum cache_shared_open {
	CACHE_SHARED_OPENED = 0,
	CACHE_SHARED_GONE,
	CACHE_SHARED_REFUSED,
};

enum cache_shared_put {
	CACHE_SHARED_STORED = 0,
	CACHE_SHARED_NOT_STORED,	/* add: a value is there already */
	CACHE_SHARED_FAILED,		/* unreachable or refused */
};

const char *cache_shared_org(const struct cache_shared *shared);
enum ga_rc cache_shared_get(struct cache_shared *shared, const char *name, uint8_t **value,
			    size_t *len);
enum cache_shared_open cache_shared_open(struct cache_shared *shared, const char *name,
					 const uint8_t *value, size_t len,
					 const uint8_t **payload, size_t *payload_len);
/* Count and log (once per key) a value refused for reason. */
void cache_shared_note_rejected(struct cache_shared *shared, const char *name,
				const char *reason);
enum cache_shared_put cache_shared_put(struct cache_shared *shared, const char *name,
				       const void *payload, size_t payload_len,
				       long long ttl_seconds, bool only_if_absent);
enum cache_shared_put cache_shared_add_number(struct cache_shared *shared, const char *name,
					      long long ttl_seconds);
enum ga_rc cache_shared_incr(struct cache_shared *shared, const char *name, uint64_t *value);

/* ---- cache_changelog.c --------------------------------------------- */

/* The shared change log of cache.h over these primitives. */
enum ga_rc cache_changelog_append(struct cache_shared *shared, const char *data, size_t len,
				  struct ga_err *err);
enum ga_rc cache_changelog_reset(struct cache_shared *shared, struct ga_err *err);
enum cache_changes cache_changelog_next(struct cache_shared *shared,
					struct cache_changes_cursor *cursor, char **data,
					size_t *len, const char **why);

/* The largest payload of one snapshot chunk, so that a sealed chunk stays
 * under 1,000,000 bytes (memcached's default item limit is 1 MiB). */
#define CACHE_CHUNK_PAYLOAD_MAX (1000000 - 1 - CACHE_SEAL_OVERHEAD)

#endif
