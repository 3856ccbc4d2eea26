/* test_cache_claims.c - claim once in memory: expiry, the bound, concurrency,
 * and the keys (memcached's side is in test_cache_memcache.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "cache/cache.h"
#include "cache/cache_internal.h"
#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

#define NOW 1800000000LL
#define ISSUER "https://token.actions.githubusercontent.com"

static struct config *
memory_config(void)
{
	static struct config config;

	memset(&config, 0, sizeof(config));
	config.cache_backend = CONFIG_CACHE_MEMORY;
	config.expiration = 300;
	config.token_cache_entries = 100;
	config.http_timeout = 30;
	return &config;
}

static void
key_of(struct cache_claims *claims, unsigned n, uint8_t key[GA_HMAC_SIZE])
{
	char id[32];

	snprintf(id, sizeof(id), "jti-%u", n);
	cache_claims_key(claims, ISSUER, id, strlen(id), key);
}

/* An id is remembered while now <= until, then may be claimed again. */
static void
test_expiry(void **state)
{
	struct cache_claims *claims = cache_claims_create(memory_config(), 8);
	uint8_t a[GA_HMAC_SIZE];
	uint8_t b[GA_HMAC_SIZE];

	(void)state;
	key_of(claims, 1, a);
	key_of(claims, 2, b);
	assert_int_equal(cache_claims_add(claims, a, NOW + 360, NOW), CACHE_CLAIMS_ADDED);
	assert_int_equal(cache_claims_add(claims, a, NOW + 360, NOW), CACHE_CLAIMS_PRESENT);
	assert_int_equal(cache_claims_add(claims, a, NOW + 360, NOW + 360), CACHE_CLAIMS_PRESENT);
	assert_int_equal(cache_claims_add(claims, b, NOW + 10, NOW), CACHE_CLAIMS_ADDED);
	assert_int_equal(cache_claims_count(claims), 2);
	/* Past until: gone (dropped when met), and claimable again. */
	assert_int_equal(cache_claims_add(claims, a, NOW + 720, NOW + 361), CACHE_CLAIMS_ADDED);
	assert_int_equal(cache_claims_add(claims, a, NOW + 720, NOW + 362), CACHE_CLAIMS_PRESENT);
	assert_int_equal(cache_claims_add(claims, b, NOW + 400, NOW + 11), CACHE_CLAIMS_ADDED);
	assert_int_equal(cache_claims_count(claims), 2);
	cache_claims_destroy(claims);
}

/* Full of unexpired ids: refuse new ones, never forget one to make room;
 * room comes back as entries expire, whatever order they came in. */
static void
test_bound(void **state)
{
	struct cache_claims *claims = cache_claims_create(memory_config(), 4);
	uint8_t key[GA_HMAC_SIZE];

	(void)state;
	for (unsigned i = 0; i < 4; i++) {
		key_of(claims, i, key);
		assert_int_equal(cache_claims_add(claims, key, NOW + 100 * (i + 1), NOW),
				 CACHE_CLAIMS_ADDED);
	}
	key_of(claims, 10, key);
	assert_int_equal(cache_claims_add(claims, key, NOW + 500, NOW), CACHE_CLAIMS_FULL);
	assert_int_equal(cache_claims_add(claims, key, NOW + 500, NOW + 100), CACHE_CLAIMS_FULL);
	/* Every id held is still refused while full. */
	for (unsigned i = 0; i < 4; i++) {
		key_of(claims, i, key);
		assert_int_equal(cache_claims_add(claims, key, NOW + 500, NOW + 100),
				 CACHE_CLAIMS_PRESENT);
	}
	assert_int_equal(cache_claims_count(claims), 4);
	/* jti-0 expired at NOW + 101: one place. */
	key_of(claims, 10, key);
	assert_int_equal(cache_claims_add(claims, key, NOW + 150, NOW + 101), CACHE_CLAIMS_ADDED);
	key_of(claims, 11, key);
	assert_int_equal(cache_claims_add(claims, key, NOW + 500, NOW + 101), CACHE_CLAIMS_FULL);
	/* jti-10 (added last, expiring first) makes room at NOW + 151, before
	 * jti-1 (NOW + 200): the earliest expiry is kept up to date. */
	assert_int_equal(cache_claims_add(claims, key, NOW + 500, NOW + 151), CACHE_CLAIMS_ADDED);
	assert_int_equal(cache_claims_count(claims), 4);
	key_of(claims, 1, key);
	assert_int_equal(cache_claims_add(claims, key, NOW + 500, NOW + 151), CACHE_CLAIMS_PRESENT);
	/* Much later everything has expired. */
	for (unsigned i = 20; i < 24; i++) {
		key_of(claims, i, key);
		assert_int_equal(cache_claims_add(claims, key, NOW + 2000, NOW + 1000),
				 CACHE_CLAIMS_ADDED);
	}
	assert_int_equal(cache_claims_count(claims), 4);
	cache_claims_destroy(claims);
}

/* Through the public API: CACHE_CLAIMS_MAX unexpired claims, then FULL. */
static void
test_public_bound(void **state)
{
	struct cache *cache = NULL;
	struct ga_err err;
	char id[32];

	(void)state;
	assert_int_equal(cache_create(memory_config(), &cache, &err), GA_OK);
	for (unsigned i = 0; i < CACHE_CLAIMS_MAX; i++) {
		snprintf(id, sizeof(id), "%u", i);
		assert_int_equal(cache_claim_once(cache, ISSUER, id, strlen(id), NOW + 360, NOW),
				 CACHE_ONCE_FIRST);
	}
	assert_int_equal(cache_claim_once(cache, ISSUER, "one more", 8, NOW + 360, NOW + 1),
			 CACHE_ONCE_FULL);
	assert_int_equal(cache_claim_once(cache, ISSUER, "0", 1, NOW + 360, NOW + 1),
			 CACHE_ONCE_USED);
	assert_int_equal(cache_claim_once(cache, ISSUER, "one more", 8, NOW + 720, NOW + 361),
			 CACHE_ONCE_FIRST);
	/* Forgetting tokens (a webhook, SIGHUP) forgets no claim. */
	cache_forget_tokens(cache);
	assert_int_equal(cache_claim_once(cache, ISSUER, "one more", 8, NOW + 720, NOW + 362),
			 CACHE_ONCE_USED);
	cache_destroy(cache);
}

/* Scopes are namespaces, fields cannot slide into each other, and two
 * memory caches (two processes) share nothing. */
static void
test_scopes_and_keys(void **state)
{
	struct cache *cache = NULL;
	struct cache *other = NULL;
	struct ga_err err;

	(void)state;
	assert_int_equal(cache_create(memory_config(), &cache, &err), GA_OK);
	assert_int_equal(cache_create(memory_config(), &other, &err), GA_OK);
	assert_int_equal(cache_claim_once(cache, "ab", "c", 1, NOW + 60, NOW), CACHE_ONCE_FIRST);
	assert_int_equal(cache_claim_once(cache, "a", "bc", 2, NOW + 60, NOW), CACHE_ONCE_FIRST);
	assert_int_equal(cache_claim_once(cache, "ab", "c", 1, NOW + 60, NOW), CACHE_ONCE_USED);
	assert_int_equal(cache_claim_once(cache, ISSUER, "c", 1, NOW + 60, NOW), CACHE_ONCE_FIRST);
	/* The id's length counts, not a NUL. */
	assert_int_equal(cache_claim_once(cache, ISSUER, "c\0d", 3, NOW + 60, NOW),
			 CACHE_ONCE_FIRST);
	assert_int_equal(cache_claim_once(other, "ab", "c", 1, NOW + 60, NOW), CACHE_ONCE_FIRST);
	cache_destroy(cache);
	cache_destroy(other);
}

/* Threads claiming the same ids at once: each id is first exactly once. */
#define RACE_THREADS 8
#define RACE_IDS 2000

struct race {
	struct cache *cache;
	atomic_int firsts[RACE_IDS];
	atomic_int used;
	atomic_int start;
};

static void *
race_thread(void *arg)
{
	struct race *race = arg;
	char id[32];

	while (!atomic_load(&race->start))
		;
	for (unsigned i = 0; i < RACE_IDS; i++) {
		snprintf(id, sizeof(id), "race-%u", i);
		switch (cache_claim_once(race->cache, ISSUER, id, strlen(id), NOW + 360, NOW)) {
		case CACHE_ONCE_FIRST:
			atomic_fetch_add(&race->firsts[i], 1);
			break;
		case CACHE_ONCE_USED:
			atomic_fetch_add(&race->used, 1);
			break;
		default:
			fail_msg("unexpected answer for %s", id);
		}
	}
	return NULL;
}

static void
test_concurrent_claims(void **state)
{
	struct race *race = ga_calloc(1, sizeof(*race));
	pthread_t threads[RACE_THREADS];
	struct ga_err err;

	(void)state;
	assert_int_equal(cache_create(memory_config(), &race->cache, &err), GA_OK);
	for (int i = 0; i < RACE_THREADS; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, race_thread, race), 0);
	atomic_store(&race->start, 1);
	for (int i = 0; i < RACE_THREADS; i++)
		pthread_join(threads[i], NULL);
	for (unsigned i = 0; i < RACE_IDS; i++)
		assert_int_equal(atomic_load(&race->firsts[i]), 1);
	assert_int_equal(atomic_load(&race->used), (RACE_THREADS - 1) * RACE_IDS);
	cache_destroy(race->cache);
	ga_free(race);
}

/* Threads filling a small set at once: exactly max ids get in. */
struct fill {
	struct cache_claims *claims;
	unsigned base;
	atomic_int *added;
	atomic_int *full;
	atomic_int *start;
};

static void *
fill_thread(void *arg)
{
	struct fill *fill = arg;
	uint8_t key[GA_HMAC_SIZE];

	while (!atomic_load(fill->start))
		;
	for (unsigned i = 0; i < 500; i++) {
		key_of(fill->claims, fill->base + i, key);
		switch (cache_claims_add(fill->claims, key, NOW + 360, NOW)) {
		case CACHE_CLAIMS_ADDED:
			atomic_fetch_add(fill->added, 1);
			break;
		case CACHE_CLAIMS_FULL:
			atomic_fetch_add(fill->full, 1);
			break;
		case CACHE_CLAIMS_PRESENT:
			fail_msg("a distinct id found present");
		}
	}
	return NULL;
}

static void
test_concurrent_bound(void **state)
{
	struct cache_claims *claims = cache_claims_create(memory_config(), 100);
	struct fill fills[RACE_THREADS];
	pthread_t threads[RACE_THREADS];
	atomic_int added = 0;
	atomic_int full = 0;
	atomic_int start = 0;

	(void)state;
	for (int i = 0; i < RACE_THREADS; i++) {
		fills[i] = (struct fill){ claims, 100000u * (unsigned)i, &added, &full, &start };
		assert_int_equal(pthread_create(&threads[i], NULL, fill_thread, &fills[i]), 0);
	}
	atomic_store(&start, 1);
	for (int i = 0; i < RACE_THREADS; i++)
		pthread_join(threads[i], NULL);
	assert_int_equal(atomic_load(&added), 100);
	assert_int_equal(atomic_load(&full), RACE_THREADS * 500 - 100);
	assert_int_equal(cache_claims_count(claims), 100);
	cache_claims_destroy(claims);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_public_bound),
		cmocka_unit_test(test_scopes_and_keys),
		cmocka_unit_test(test_concurrent_claims),
		cmocka_unit_test(test_concurrent_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
