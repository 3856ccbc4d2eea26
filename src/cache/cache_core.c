/* cache_core.c - the public cache API of cache.h over memory and memcached. */
#include "cache/cache.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "cache/cache_internal.h"
#include "util/ga_xalloc.h"

#define SECRET_MIN_BYTES 16
#define DEFAULT_ENTRIES 100000
#define DEFAULT_HTTP_TIMEOUT 30
#define DEFAULT_CHECKS 16
#define DEFAULT_CHECKS_PER_LOGIN 2

/* Labels of the sub-keys derived from [cache] secret_file. */
#define TOKEN_KEY_LABEL "ghaccess:v1:token-key"
#define VALUE_MAC_LABEL "ghaccess:v1:value-mac"

struct cache {
	struct cache_keyer *keyer;	/* (username, token) -> cache key */
	struct cache_tokens *tokens;
	struct cache_shared *shared;	/* NULL with backend = memory */
	struct cache_checks *checks;	/* cache_verify_token_start's pool */
	struct cache_claims *claims;	/* cache_claim_once (cache_claims.c) */
	int expiration;
	int negative_ttl;
	atomic_ullong shared_hits;
	atomic_ullong verifier_calls;
	atomic_llong forgotten_at_ms;	/* wall clock of the last cache_forget_tokens */
};

static long long
wall_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static long long
waiter_timeout_ms(const struct config *config)
{
	int http_timeout = config->http_timeout > 0 ? config->http_timeout : DEFAULT_HTTP_TIMEOUT;

	return ((long long)http_timeout + 1) * 1000;
}

/* The two keys: for the memory backend a random token key (nothing to
 * share); for memcache both derived from the shared secret. */
static enum ga_rc
derive_keys(const struct config *config, uint8_t token_key[GA_HMAC_SIZE],
	    uint8_t mac_key[GA_HMAC_SIZE], struct ga_err *err)
{
	if (config->cache_backend != CONFIG_CACHE_MEMCACHE) {
		ga_random_bytes(token_key, GA_HMAC_SIZE);
		memset(mac_key, 0, GA_HMAC_SIZE);
		return GA_OK;
	}
	if (config->secret == NULL || strlen(config->secret) < SECRET_MIN_BYTES)
		return ga_err_set(err, GA_EINVAL,
				  "[cache] backend = memcache needs secret_file with a secret "
				  "of at least %d bytes", SECRET_MIN_BYTES);
	cache_derive_key(config->secret, TOKEN_KEY_LABEL, token_key);
	cache_derive_key(config->secret, VALUE_MAC_LABEL, mac_key);
	return GA_OK;
}

enum ga_rc
cache_create(const struct config *config, struct cache **out, struct ga_err *err)
{
	uint8_t token_key[GA_HMAC_SIZE];
	uint8_t mac_key[GA_HMAC_SIZE];
	struct cache *cache;
	size_t entries;
	enum ga_rc rc;

	*out = NULL;
	rc = derive_keys(config, token_key, mac_key, err);
	if (rc != GA_OK)
		return rc;
	cache = ga_calloc(1, sizeof(*cache));
	if (config->cache_backend == CONFIG_CACHE_MEMCACHE) {
		rc = cache_shared_create(config, mac_key, &cache->shared, err);
		if (rc != GA_OK)
			goto done;
	}
	cache->keyer = cache_keyer_create(token_key, GA_HMAC_SIZE);
	entries = config->token_cache_entries ? config->token_cache_entries : DEFAULT_ENTRIES;
	cache->tokens = cache_tokens_create(entries, waiter_timeout_ms(config));
	cache->expiration = config->expiration;
	cache->negative_ttl = config->negative_ttl;
	cache->checks = cache_checks_create(
		cache, config->max_token_checks > 0 ? (unsigned)config->max_token_checks : DEFAULT_CHECKS,
		config->max_token_checks_per_login > 0 ? (unsigned)config->max_token_checks_per_login
						       : DEFAULT_CHECKS_PER_LOGIN);
	cache->claims = cache_claims_create(config, CACHE_CLAIMS_MAX);
	atomic_init(&cache->shared_hits, 0);
	atomic_init(&cache->verifier_calls, 0);
	atomic_init(&cache->forgotten_at_ms, 0);
done:
	OPENSSL_cleanse(token_key, sizeof(token_key));
	OPENSSL_cleanse(mac_key, sizeof(mac_key));
	if (rc != GA_OK) {
		ga_free(cache);
		return rc;
	}
	*out = cache;
	return GA_OK;
}

void
cache_destroy(struct cache *cache)
{
	if (cache == NULL)
		return;
	/* Checks still running use the store and the shared state. */
	cache_checks_destroy(cache->checks);
	cache_tokens_destroy(cache->tokens);
	cache_keyer_destroy(cache->keyer);
	cache_claims_destroy(cache->claims);
	cache_shared_destroy(cache->shared);
	ga_free(cache);
}

void
cache_set_clock_for_tests(struct cache *cache, long long (*now_ms)(void))
{
	cache_tokens_set_clock(cache->tokens, now_ms);
}

/* How long an answer is kept: UNKNOWN and SSO_REQUIRED never, the others
 * per config. */
static long long
ttl_seconds_for(const struct cache *cache, enum cache_verdict verdict)
{
	switch (verdict) {
	case CACHE_TOKEN_VALID:
		return cache->expiration > 0 ? cache->expiration : 0;
	case CACHE_TOKEN_INVALID:
	case CACHE_TOKEN_NO_ORG_ACCESS:
		return cache->negative_ttl > 0 ? cache->negative_ttl : 0;
	case CACHE_TOKEN_UNKNOWN:
	case CACHE_TOKEN_SSO_REQUIRED:
		break;
	}
	return 0;
}

/* Shared with the other instances: the verdicts every version reads. */
static bool
shareable(enum cache_verdict verdict)
{
	return verdict == CACHE_TOKEN_VALID || verdict == CACHE_TOKEN_INVALID;
}

static void
token_cache_key(struct cache *cache, const char *username, const char *token,
		uint8_t key[GA_HMAC_SIZE])
{
	const char *fields[2] = {username, token};
	size_t lengths[2] = {strlen(username), strlen(token)};

	cache_keyer_fields(cache->keyer, fields, lengths, 2, key);
}

/*
 * The answer another instance stored in memcached, if it is one this
 * instance would have kept too; *ttl_ms is what remains of it, never more
 * than this instance's own TTL for that verdict.
 */
static bool
shared_lookup(struct cache *cache, const uint8_t key[GA_HMAC_SIZE],
	      struct cache_token_answer *answer, long long *ttl_ms)
{
	struct cache_shared_token found;
	long long remaining_ms;
	long long limit_ms;

	memset(&found, 0, sizeof(found));
	if (!cache_shared_token_get(cache->shared, key, &found))
		return false;
	if (found.stored_at_ms < atomic_load(&cache->forgotten_at_ms))
		return false;
	limit_ms = ttl_seconds_for(cache, found.answer.verdict) * 1000;
	remaining_ms = found.expires_at * 1000 - wall_ms();
	if (limit_ms <= 0 || remaining_ms <= 0)
		return false;
	*ttl_ms = remaining_ms < limit_ms ? remaining_ms : limit_ms;
	*answer = found.answer;
	return true;
}

/* The verifier's answer, with anything out of range made UNKNOWN and the
 * detail made one printable line. */
static void
call_verifier(struct cache *cache, const char *username, const char *token,
	      cache_verify_fn verify, void *context, struct cache_token_answer *answer)
{
	enum cache_verdict verdict = CACHE_TOKEN_UNKNOWN;

	atomic_fetch_add(&cache->verifier_calls, 1);
	answer->user_id = 0;
	answer->detail[0] = '\0';
	if (verify != NULL)
		verdict = verify(context, username, token, &answer->user_id, answer->detail,
				 sizeof(answer->detail));
	answer->detail[sizeof(answer->detail) - 1] = '\0';
	for (char *c = answer->detail; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	switch (verdict) {
	case CACHE_TOKEN_VALID:
	case CACHE_TOKEN_INVALID:
	case CACHE_TOKEN_NO_ORG_ACCESS:
	case CACHE_TOKEN_SSO_REQUIRED:
		answer->verdict = verdict;
		break;
	case CACHE_TOKEN_UNKNOWN:
	default:
		answer->verdict = CACHE_TOKEN_UNKNOWN;
		break;
	}
	if (answer->verdict != CACHE_TOKEN_VALID)
		answer->user_id = 0;
}

void
cache_lead_flight(struct cache *cache, const uint8_t key[GA_HMAC_SIZE], const char *username,
		  const char *token, cache_verify_fn verify, void *context,
		  struct cache_flight *flight, struct cache_token_answer *answer)
{
	long long ttl_ms;
	long long ttl_seconds;

	answer->detail[0] = '\0';
	if (cache->shared != NULL && shared_lookup(cache, key, answer, &ttl_ms)) {
		atomic_fetch_add(&cache->shared_hits, 1);
		cache_tokens_finish(cache->tokens, flight, answer, ttl_ms);
		return;
	}
	call_verifier(cache, username, token, verify, context, answer);
	ttl_seconds = ttl_seconds_for(cache, answer->verdict);
	/* Waiters first: writing to memcached can wait. */
	cache_tokens_finish(cache->tokens, flight, answer, ttl_seconds * 1000);
	if (cache->shared != NULL && ttl_seconds > 0 && shareable(answer->verdict))
		cache_shared_token_put(cache->shared, key, answer, (int)ttl_seconds);
}

enum cache_verdict
cache_verify_token(struct cache *cache, const char *username, const char *token,
		   cache_verify_fn verify, void *context, long long *user_id)
{
	uint8_t key[GA_HMAC_SIZE];
	struct cache_token_answer answer = {CACHE_TOKEN_UNKNOWN, 0, ""};
	struct cache_flight *flight;

	token_cache_key(cache, username, token, key);
	if (cache_tokens_claim(cache->tokens, key, &answer, &flight) == CACHE_CLAIM_LEADER)
		cache_lead_flight(cache, key, username, token, verify, context, flight, &answer);
	if (user_id != NULL)
		*user_id = answer.verdict == CACHE_TOKEN_VALID ? answer.user_id : 0;
	return answer.verdict;
}

void
cache_abandon_flight(struct cache *cache, struct cache_flight *flight)
{
	struct cache_token_answer unknown = {CACHE_TOKEN_UNKNOWN, 0, ""};

	cache_tokens_finish(cache->tokens, flight, &unknown, 0);
}

static bool
admit_check(void *arg)
{
	void **pair = arg;

	return cache_checks_admit(pair[0], pair[1]);
}

enum cache_start
cache_verify_token_start(struct cache *cache, const char *username, const char *token,
			 cache_verify_fn verify, void *context, cache_done_fn done, void *arg,
			 struct cache_token_answer *answer)
{
	uint8_t key[GA_HMAC_SIZE];
	struct cache_flight *flight;
	void *admit_arg[2] = {cache->checks, (void *)username};

	token_cache_key(cache, username, token, key);
	switch (cache_tokens_claim_async(cache->tokens, key, answer, &flight, done, arg,
					 admit_check, admit_arg)) {
	case CACHE_CLAIM_HIT:
		return CACHE_START_ANSWERED;
	case CACHE_CLAIM_LEADER:
		cache_checks_submit(cache->checks, key, username, token, verify, context, flight);
		return CACHE_START_PENDING;
	case CACHE_CLAIM_WAITED:
		return CACHE_START_PENDING;
	case CACHE_CLAIM_REFUSED:
	default:
		break;
	}
	answer->verdict = CACHE_TOKEN_UNKNOWN;
	answer->user_id = 0;
	answer->detail[0] = '\0';
	return CACHE_START_BUSY;
}

void
cache_stop_checks(struct cache *cache)
{
	cache_checks_stop(cache->checks);
}

void
cache_forget_tokens(struct cache *cache)
{
	atomic_store(&cache->forgotten_at_ms, wall_ms());
	cache_tokens_forget(cache->tokens);
}

void
cache_get_stats(struct cache *cache, struct cache_stats *stats)
{
	/* Read shared_hits first: each shared hit was counted as a memory
	 * miss before, so misses - shared_hits cannot go negative. */
	unsigned long long shared_hits = atomic_load(&cache->shared_hits);
	struct cache_tokens_stats memory;

	cache_tokens_get_stats(cache->tokens, &memory);
	memset(stats, 0, sizeof(*stats));
	stats->hits = memory.hits + shared_hits;
	stats->misses = memory.misses - shared_hits;
	stats->shared_hits = shared_hits;
	stats->verifier_calls = atomic_load(&cache->verifier_calls);
	stats->evictions = memory.evictions;
	stats->entries = memory.entries;
	stats->bytes = memory.bytes;
	stats->checks_in_flight = cache_checks_in_flight(cache->checks);
	stats->checks_refused = cache_checks_refused(cache->checks);
	if (cache->shared != NULL) {
		stats->rejected_values = cache_shared_rejected(cache->shared);
		stats->shared_available = cache_shared_available(cache->shared);
	}
}

const char *
cache_status(struct cache *cache)
{
	if (cache->shared == NULL)
		return "memory";
	if (cache_shared_available(cache->shared))
		return "memcache";
	return "memcache (unreachable: using memory)";
}

bool
cache_sync_lock_take(struct cache *cache, int ttl_seconds)
{
	if (cache->shared == NULL)
		return true;
	return cache_shared_lock_take(cache->shared, ttl_seconds);
}

void
cache_sync_lock_release(struct cache *cache)
{
	if (cache->shared != NULL)
		cache_shared_lock_release(cache->shared);
}

bool
cache_sync_lock_renew(struct cache *cache, int ttl_seconds)
{
	return cache->shared != NULL && cache_shared_lock_renew(cache->shared, ttl_seconds);
}

void
cache_sync_mark(struct cache *cache, int ttl_seconds)
{
	if (cache->shared != NULL)
		cache_shared_sync_mark(cache->shared, ttl_seconds);
}

bool
cache_sync_marked(struct cache *cache)
{
	return cache->shared != NULL && cache_shared_sync_marked(cache->shared);
}

bool
cache_is_shared(struct cache *cache)
{
	return cache->shared != NULL;
}

enum ga_rc
cache_changes_append(struct cache *cache, const char *data, size_t len, struct ga_err *err)
{
	if (cache->shared == NULL)
		return ga_err_set(err, GA_ENOTFOUND, "no change log with backend = memory");
	return cache_changelog_append(cache->shared, data, len, err);
}

enum ga_rc
cache_changes_reset(struct cache *cache, struct ga_err *err)
{
	if (cache->shared == NULL)
		return ga_err_set(err, GA_ENOTFOUND, "no change log with backend = memory");
	return cache_changelog_reset(cache->shared, err);
}

enum cache_changes
cache_changes_next(struct cache *cache, struct cache_changes_cursor *cursor, char **data,
		   size_t *len, const char **why)
{
	*data = NULL;
	*len = 0;
	*why = "";
	if (cache->shared == NULL)
		return CACHE_CHANGES_NONE;
	return cache_changelog_next(cache->shared, cursor, data, len, why);
}

enum cache_once
cache_claim_once(struct cache *cache, const char *scope, const char *id, size_t id_len,
		 long long until, long long now)
{
	return cache_claims_claim(cache->claims, cache->shared, scope, id, id_len, until, now);
}

enum ga_rc
cache_snapshot_publish(struct cache *cache, const char *text, size_t len, long long synced_at,
		       struct ga_err *err)
{
	if (cache->shared == NULL)
		return ga_err_set(err, GA_ENOTFOUND, "no shared snapshot with backend = memory");
	return cache_shared_snapshot_publish(cache->shared, text, len, synced_at, err);
}

enum ga_rc
cache_snapshot_fetch(struct cache *cache, char **text, size_t *len, long long *synced_at,
		     struct ga_err *err)
{
	*text = NULL;
	*len = 0;
	if (cache->shared == NULL)
		return ga_err_set(err, GA_ENOTFOUND, "no shared snapshot with backend = memory");
	return cache_shared_snapshot_fetch(cache->shared, text, len, synced_at, err);
}
