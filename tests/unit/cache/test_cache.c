/* test_cache.c - the memory token cache: TTLs, bounds, single flight, formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/cache_internal.h"
#include "util/ga_log.h"
#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

/* ---- fixtures ------------------------------------------------------- */

static atomic_llong fake_now_ms;

static long long
fake_clock(void)
{
	return atomic_load(&fake_now_ms);
}

static void
advance_ms(long long ms)
{
	atomic_fetch_add(&fake_now_ms, ms);
}

struct verifier {
	atomic_int calls;
	enum cache_verdict verdict;
	long long user_id;
	int sleep_ms;
	const char *only_username;	/* when set: VALID only for this pair, else INVALID */
	const char *only_token;
};

static enum cache_verdict
verify(void *context, const char *username, const char *token, long long *user_id,
       char *detail, size_t detail_size)
{
	(void)detail;
	(void)detail_size;
	struct verifier *verifier = context;

	atomic_fetch_add(&verifier->calls, 1);
	if (verifier->sleep_ms > 0)
		usleep((useconds_t)verifier->sleep_ms * 1000);
	if (verifier->only_username != NULL &&
	    (strcmp(username, verifier->only_username) != 0 ||
	     strcmp(token, verifier->only_token) != 0))
		return CACHE_TOKEN_INVALID;
	if (verifier->verdict == CACHE_TOKEN_VALID)
		*user_id = verifier->user_id;
	return verifier->verdict;
}

static struct config
memory_config(void)
{
	struct config config;

	memset(&config, 0, sizeof(config));
	config.organization = (char *)"acme";
	config.cache_backend = CONFIG_CACHE_MEMORY;
	config.expiration = 300;
	config.negative_ttl = 30;
	config.max_stale = 3600;
	config.token_cache_entries = 1000;
	config.http_timeout = 30;
	return config;
}

static struct cache *
new_cache(const struct config *config)
{
	struct cache *cache = NULL;
	struct ga_err err;

	assert_int_equal(cache_create(config, &cache, &err), GA_OK);
	cache_set_clock_for_tests(cache, fake_clock);
	atomic_store(&fake_now_ms, 1000000);
	return cache;
}

static struct cache_stats
stats_of(struct cache *cache)
{
	struct cache_stats stats;

	cache_get_stats(cache, &stats);
	return stats;
}

static enum cache_verdict
ask(struct cache *cache, struct verifier *verifier, const char *username, const char *token,
    long long *user_id)
{
	return cache_verify_token(cache, username, token, verify, verifier, user_id);
}

/* ---- TTLs ----------------------------------------------------------- */

static void
test_valid_cached_for_expiration(void **state)
{
	struct config config = memory_config();
	struct verifier verifier = {.verdict = CACHE_TOKEN_VALID, .user_id = 42};
	struct cache *cache;
	long long user_id = -1;
	struct cache_stats stats;

	(void)state;
	config.expiration = 10;
	cache = new_cache(&config);
	assert_int_equal(ask(cache, &verifier, "octocat", "ghp_one", &user_id), CACHE_TOKEN_VALID);
	assert_int_equal(user_id, 42);
	user_id = -1;
	assert_int_equal(ask(cache, &verifier, "octocat", "ghp_one", &user_id), CACHE_TOKEN_VALID);
	assert_int_equal(user_id, 42);
	assert_int_equal(atomic_load(&verifier.calls), 1);
	stats = stats_of(cache);
	assert_int_equal(stats.hits, 1);
	assert_int_equal(stats.misses, 1);
	assert_int_equal(stats.verifier_calls, 1);
	assert_int_equal(stats.entries, 1);
	assert_true(stats.bytes > 0);
	assert_false(stats.shared_available);

	advance_ms(9999);
	assert_int_equal(ask(cache, &verifier, "octocat", "ghp_one", NULL), CACHE_TOKEN_VALID);
	assert_int_equal(atomic_load(&verifier.calls), 1);
	advance_ms(1);
	assert_int_equal(ask(cache, &verifier, "octocat", "ghp_one", NULL), CACHE_TOKEN_VALID);
	assert_int_equal(atomic_load(&verifier.calls), 2);
	stats = stats_of(cache);
	assert_int_equal(stats.hits, 2);
	assert_int_equal(stats.misses, 2);
	assert_int_equal(stats.entries, 1);
	cache_destroy(cache);
}

static void
test_invalid_cached_for_negative_ttl(void **state)
{
	struct config config = memory_config();
	struct verifier verifier = {.verdict = CACHE_TOKEN_INVALID};
	struct cache *cache;
	long long user_id = -1;

	(void)state;
	config.negative_ttl = 5;
	cache = new_cache(&config);
	assert_int_equal(ask(cache, &verifier, "octocat", "bad", &user_id), CACHE_TOKEN_INVALID);
	assert_int_equal(user_id, 0);
	advance_ms(4999);
	assert_int_equal(ask(cache, &verifier, "octocat", "bad", NULL), CACHE_TOKEN_INVALID);
	assert_int_equal(atomic_load(&verifier.calls), 1);
	advance_ms(1);
	assert_int_equal(ask(cache, &verifier, "octocat", "bad", NULL), CACHE_TOKEN_INVALID);
	assert_int_equal(atomic_load(&verifier.calls), 2);
	cache_destroy(cache);

	/* negative_ttl = 0: a "no" is never kept. */
	config.negative_ttl = 0;
	cache = new_cache(&config);
	atomic_store(&verifier.calls, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ask(cache, &verifier, "octocat", "bad", NULL),
				 CACHE_TOKEN_INVALID);
	assert_int_equal(atomic_load(&verifier.calls), 3);
	assert_int_equal(stats_of(cache).entries, 0);
	cache_destroy(cache);
}

static void
test_unknown_never_cached(void **state)
{
	struct config config = memory_config();
	struct verifier verifier = {.verdict = CACHE_TOKEN_UNKNOWN};
	struct cache *cache = new_cache(&config);

	(void)state;
	for (int i = 0; i < 5; i++)
		assert_int_equal(ask(cache, &verifier, "octocat", "ghp_x", NULL),
				 CACHE_TOKEN_UNKNOWN);
	assert_int_equal(atomic_load(&verifier.calls), 5);
	assert_int_equal(stats_of(cache).entries, 0);
	assert_int_equal(stats_of(cache).hits, 0);
	cache_destroy(cache);
}

static enum cache_verdict
verify_out_of_range(void *context, const char *username, const char *token, long long *user_id,
		    char *detail, size_t detail_size)
{
	snprintf(detail, detail_size, "not shown");
	(void)context;
	(void)username;
	(void)token;
	*user_id = 5;
	return (enum cache_verdict)77;
}

static void
test_bad_verifier_answer_is_unknown(void **state)
{
	struct config config = memory_config();
	struct cache *cache = new_cache(&config);
	long long user_id = -1;

	(void)state;
	assert_int_equal(cache_verify_token(cache, "octocat", "t", verify_out_of_range, NULL,
					    &user_id), CACHE_TOKEN_UNKNOWN);
	assert_int_equal(user_id, 0);
	assert_int_equal(cache_verify_token(cache, "octocat", "t", NULL, NULL, &user_id),
			 CACHE_TOKEN_UNKNOWN);
	assert_int_equal(stats_of(cache).entries, 0);
	cache_destroy(cache);
}

/* ---- keys ----------------------------------------------------------- */

static void
test_separate_entries(void **state)
{
	struct config config = memory_config();
	struct verifier verifier = {.verdict = CACHE_TOKEN_VALID, .user_id = 1,
				    .only_username = "ab", .only_token = "c"};
	struct cache *cache = new_cache(&config);

	(void)state;
	assert_int_equal(ask(cache, &verifier, "ab", "c", NULL), CACHE_TOKEN_VALID);
	/* The same concatenation, split differently, is another entry. */
	assert_int_equal(ask(cache, &verifier, "a", "bc", NULL), CACHE_TOKEN_INVALID);
	assert_int_equal(ask(cache, &verifier, "abc", "", NULL), CACHE_TOKEN_INVALID);
	/* Another user with the same token, another token of the same user. */
	assert_int_equal(ask(cache, &verifier, "xy", "c", NULL), CACHE_TOKEN_INVALID);
	assert_int_equal(ask(cache, &verifier, "ab", "d", NULL), CACHE_TOKEN_INVALID);
	assert_int_equal(atomic_load(&verifier.calls), 5);
	/* Each is remembered separately. */
	assert_int_equal(ask(cache, &verifier, "ab", "c", NULL), CACHE_TOKEN_VALID);
	assert_int_equal(ask(cache, &verifier, "a", "bc", NULL), CACHE_TOKEN_INVALID);
	assert_int_equal(atomic_load(&verifier.calls), 5);
	assert_int_equal(stats_of(cache).entries, 5);
	cache_destroy(cache);
}

static void
test_keyer_matches_ga_hmac_fields(void **state)
{
	static const char *const pairs[][2] = {
		{"octocat", "ghp_abc"}, {"ab", "c"}, {"a", "bc"}, {"", ""},
		{"x", "github_pat_11AAAAAAA0aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
	};
	uint8_t key[GA_HMAC_SIZE];
	struct cache_keyer *keyer;

	(void)state;
	ga_random_bytes(key, sizeof(key));
	keyer = cache_keyer_create(key, sizeof(key));
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
			size_t lengths[2] = {strlen(pairs[i][0]), strlen(pairs[i][1])};
			uint8_t expected[GA_HMAC_SIZE];
			uint8_t actual[GA_HMAC_SIZE];

			ga_hmac_fields(key, sizeof(key), pairs[i], lengths, 2, expected);
			cache_keyer_fields(keyer, pairs[i], lengths, 2, actual);
			assert_memory_equal(expected, actual, GA_HMAC_SIZE);
		}
	}
	cache_keyer_destroy(keyer);
}

/* ---- bounds --------------------------------------------------------- */

static void
test_entry_bound(void **state)
{
	struct config config = memory_config();
	struct verifier verifier = {.verdict = CACHE_TOKEN_VALID, .user_id = 9};
	struct cache *cache;
	struct cache_stats stats;
	char token[64];

	(void)state;
	config.token_cache_entries = 1000;
	cache = new_cache(&config);
	for (int i = 0; i < 10000; i++) {
		uint8_t random[16];

		ga_random_bytes(random, sizeof(random));
		ga_hex(random, sizeof(random), token);
		assert_int_equal(ask(cache, &verifier, "octocat", token, NULL), CACHE_TOKEN_VALID);
		if (i % 1000 == 0)
			assert_true(stats_of(cache).entries <= 1000);
	}
	stats = stats_of(cache);
	assert_true(stats.entries <= 1000);
	assert_true(stats.entries >= 900);	/* stripes fill unevenly, but nearly */
	assert_int_equal(stats.evictions, 10000 - stats.entries);
	assert_true(stats.bytes <= 1000 * cache_tokens_entry_size());
	/* The most recent token survived the flood. */
	assert_int_equal(ask(cache, &verifier, "octocat", token, NULL), CACHE_TOKEN_VALID);
	assert_int_equal(atomic_load(&verifier.calls), 10000);
	cache_destroy(cache);
}

static void
test_lru_keeps_recently_used(void **state)
{
	struct config config = memory_config();
	struct verifier verifier = {.verdict = CACHE_TOKEN_VALID};
	struct cache *cache;
	char token[32];

	(void)state;
	config.token_cache_entries = 1;	/* one stripe of one entry */
	cache = new_cache(&config);
	ask(cache, &verifier, "a", "1", NULL);
	ask(cache, &verifier, "a", "2", NULL);	/* evicts 1 */
	assert_int_equal(stats_of(cache).evictions, 1);
	ask(cache, &verifier, "a", "2", NULL);
	assert_int_equal(atomic_load(&verifier.calls), 2);
	ask(cache, &verifier, "a", "1", NULL);
	assert_int_equal(atomic_load(&verifier.calls), 3);
	cache_destroy(cache);

	/* 64 entries in one stripe: touching the oldest saves it. */
	config.token_cache_entries = 64;
	cache = new_cache(&config);
	atomic_store(&verifier.calls, 0);
	for (int i = 0; i < 64; i++) {
		snprintf(token, sizeof(token), "t%d", i);
		ask(cache, &verifier, "a", token, NULL);
	}
	ask(cache, &verifier, "a", "t0", NULL);		/* t0 now newest, t1 oldest */
	ask(cache, &verifier, "a", "t64", NULL);	/* evicts t1 */
	assert_int_equal(atomic_load(&verifier.calls), 65);
	ask(cache, &verifier, "a", "t0", NULL);
	assert_int_equal(atomic_load(&verifier.calls), 65);
	ask(cache, &verifier, "a", "t1", NULL);
	assert_int_equal(atomic_load(&verifier.calls), 66);
	cache_destroy(cache);
}

static void
test_forget_tokens(void **state)
{
	struct config config = memory_config();
	struct verifier verifier = {.verdict = CACHE_TOKEN_VALID};
	struct cache *cache = new_cache(&config);

	(void)state;
	ask(cache, &verifier, "octocat", "ghp_1", NULL);
	ask(cache, &verifier, "octocat", "ghp_2", NULL);
	assert_int_equal(stats_of(cache).entries, 2);
	cache_forget_tokens(cache);
	assert_int_equal(stats_of(cache).entries, 0);
	ask(cache, &verifier, "octocat", "ghp_1", NULL);
	assert_int_equal(atomic_load(&verifier.calls), 3);
	ask(cache, &verifier, "octocat", "ghp_1", NULL);
	assert_int_equal(atomic_load(&verifier.calls), 3);
	cache_destroy(cache);
}

/* ---- single flight -------------------------------------------------- */

#define FLIGHT_THREADS 100

struct flight_run {
	struct cache *cache;
	struct verifier *verifier;
	pthread_barrier_t *start;
	const char *token;
	enum cache_verdict verdict;
	long long user_id;
};

static void *
flight_thread(void *argument)
{
	struct flight_run *run = argument;

	pthread_barrier_wait(run->start);
	run->verdict = cache_verify_token(run->cache, "octocat", run->token, verify,
					  run->verifier, &run->user_id);
	return NULL;
}

/* FLIGHT_THREADS callers of token at once; fills runs. */
static void
run_flight(struct cache *cache, struct verifier *verifier, const char *token,
	   struct flight_run *runs)
{
	pthread_t threads[FLIGHT_THREADS];
	pthread_barrier_t start;

	pthread_barrier_init(&start, NULL, FLIGHT_THREADS);
	for (int i = 0; i < FLIGHT_THREADS; i++) {
		runs[i] = (struct flight_run){cache, verifier, &start, token,
					      CACHE_TOKEN_UNKNOWN, -1};
		assert_int_equal(pthread_create(&threads[i], NULL, flight_thread, &runs[i]), 0);
	}
	for (int i = 0; i < FLIGHT_THREADS; i++)
		pthread_join(threads[i], NULL);
	pthread_barrier_destroy(&start);
}

static void
test_single_flight(void **state)
{
	struct config config = memory_config();
	struct verifier verifier = {.verdict = CACHE_TOKEN_VALID, .user_id = 77, .sleep_ms = 100};
	struct cache *cache = new_cache(&config);
	struct flight_run runs[FLIGHT_THREADS];
	struct cache_stats stats;

	(void)state;
	run_flight(cache, &verifier, "ghp_new", runs);
	assert_int_equal(atomic_load(&verifier.calls), 1);
	for (int i = 0; i < FLIGHT_THREADS; i++) {
		assert_int_equal(runs[i].verdict, CACHE_TOKEN_VALID);
		assert_int_equal(runs[i].user_id, 77);
	}
	stats = stats_of(cache);
	assert_int_equal(stats.hits + stats.misses, FLIGHT_THREADS);
	assert_int_equal(stats.verifier_calls, 1);
	cache_destroy(cache);
}

static void
test_single_flight_unknown_shared_not_stored(void **state)
{
	struct config config = memory_config();
	struct verifier verifier = {.verdict = CACHE_TOKEN_UNKNOWN, .sleep_ms = 100};
	struct cache *cache = new_cache(&config);
	struct flight_run runs[FLIGHT_THREADS];

	(void)state;
	run_flight(cache, &verifier, "ghp_flaky", runs);
	/* One call for the whole burst (GitHub is not hammered while it
	 * struggles), every caller told "could not tell", nothing kept. */
	assert_int_equal(atomic_load(&verifier.calls), 1);
	for (int i = 0; i < FLIGHT_THREADS; i++)
		assert_int_equal(runs[i].verdict, CACHE_TOKEN_UNKNOWN);
	assert_int_equal(stats_of(cache).entries, 0);
	verifier.sleep_ms = 0;
	verifier.verdict = CACHE_TOKEN_VALID;
	assert_int_equal(ask(cache, &verifier, "octocat", "ghp_flaky", NULL), CACHE_TOKEN_VALID);
	assert_int_equal(atomic_load(&verifier.calls), 2);
	cache_destroy(cache);
}

struct slow_leader {
	struct cache *cache;
	struct verifier *verifier;
	enum cache_verdict verdict;
};

static void *
slow_leader_thread(void *argument)
{
	struct slow_leader *leader = argument;

	leader->verdict = cache_verify_token(leader->cache, "octocat", "ghp_slow", verify,
					     leader->verifier, NULL);
	return NULL;
}

static long long
elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000LL + (now.tv_nsec - since->tv_nsec) / 1000000;
}

static void
test_waiter_times_out(void **state)
{
	struct config config = memory_config();
	struct verifier verifier = {.verdict = CACHE_TOKEN_VALID, .sleep_ms = 2400};
	struct cache *cache;
	struct slow_leader leader;
	pthread_t thread;
	struct timespec started;
	long long waited;

	(void)state;
	config.http_timeout = 1;	/* waiters give up after 2 s */
	cache = new_cache(&config);
	leader = (struct slow_leader){cache, &verifier, CACHE_TOKEN_UNKNOWN};
	assert_int_equal(pthread_create(&thread, NULL, slow_leader_thread, &leader), 0);
	while (atomic_load(&verifier.calls) == 0)
		usleep(1000);
	clock_gettime(CLOCK_MONOTONIC, &started);
	assert_int_equal(ask(cache, &verifier, "octocat", "ghp_slow", NULL), CACHE_TOKEN_UNKNOWN);
	waited = elapsed_ms(&started);
	assert_true(waited >= 1900 && waited < 2400);
	pthread_join(thread, NULL);
	assert_int_equal(leader.verdict, CACHE_TOKEN_VALID);
	assert_int_equal(atomic_load(&verifier.calls), 1);
	/* The leader's answer was stored after all. */
	assert_int_equal(ask(cache, &verifier, "octocat", "ghp_slow", NULL), CACHE_TOKEN_VALID);
	assert_int_equal(atomic_load(&verifier.calls), 1);
	cache_destroy(cache);
}

/* ---- memory backend and configuration ------------------------------- */

static void
test_memory_backend_shares_nothing(void **state)
{
	struct config config = memory_config();
	struct cache *cache = new_cache(&config);
	struct ga_err err;
	char *text = (char *)"x";
	size_t len = 1;
	long long synced_at = 0;

	(void)state;
	assert_string_equal(cache_status(cache), "memory");
	assert_true(cache_sync_lock_take(cache, 60));
	assert_true(cache_sync_lock_take(cache, 60));
	cache_sync_lock_release(cache);
	assert_int_equal(cache_snapshot_publish(cache, "{}", 2, 1, &err), GA_ENOTFOUND);
	assert_int_equal(cache_snapshot_fetch(cache, &text, &len, &synced_at, &err), GA_ENOTFOUND);
	assert_null(text);
	assert_int_equal(len, 0);
	cache_destroy(cache);
}

static void
test_create_rejects_bad_memcache_config(void **state)
{
	static const char *const bad_urls[] = {
		"", ",", "host:", "host:0", "host:65536", "host:12a", "::1:11211", "[::1",
		"[::1]x", "a:1,,b:2", ":11211",
	};
	struct config config = memory_config();
	struct cache *cache = NULL;
	struct ga_err err;

	(void)state;
	config.cache_backend = CONFIG_CACHE_MEMCACHE;
	config.memcache_url = (char *)"127.0.0.1:1";
	config.secret = NULL;
	assert_int_equal(cache_create(&config, &cache, &err), GA_EINVAL);
	assert_null(cache);
	config.secret = (char *)"too short";
	assert_int_equal(cache_create(&config, &cache, &err), GA_EINVAL);
	config.secret = (char *)"a secret that is long enough";
	for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
		config.memcache_url = (char *)bad_urls[i];
		if (cache_create(&config, &cache, &err) != GA_EINVAL)
			fail_msg("memcache_url \"%s\" accepted", bad_urls[i]);
		assert_null(cache);
	}
}

static void
test_create_accepts_server_lists(void **state)
{
	static const char *const good_urls[] = {
		"127.0.0.1:1", "127.0.0.1:1, 127.0.0.1:2", "[::1]:1", "localhost",
		"/nonexistent.sock",
	};
	struct config config = memory_config();
	struct cache *cache = NULL;
	struct ga_err err;
	struct cache_stats stats;

	(void)state;
	config.cache_backend = CONFIG_CACHE_MEMCACHE;
	config.secret = (char *)"a secret that is long enough";
	for (size_t i = 0; i < sizeof(good_urls) / sizeof(good_urls[0]); i++) {
		config.memcache_url = (char *)good_urls[i];
		if (cache_create(&config, &cache, &err) != GA_OK)
			fail_msg("memcache_url \"%s\" refused: %s", good_urls[i], err.message);
		cache_get_stats(cache, &stats);
		cache_destroy(cache);
	}
}

/* ---- the sealed value format ---------------------------------------- */

static void
test_seal_and_open(void **state)
{
	uint8_t mac_key[GA_HMAC_SIZE];
	uint8_t other_key[GA_HMAC_SIZE];
	uint8_t value[5 + CACHE_SEAL_OVERHEAD];
	const uint8_t *payload;
	size_t payload_len;
	long long expires_at;

	(void)state;
	cache_derive_key("one secret of enough length", "label", mac_key);
	cache_derive_key("another secret of length", "label", other_key);
	cache_seal(mac_key, "k:1", 1000, "hello", 5, value);
	assert_int_equal(cache_open(mac_key, "k:1", value, sizeof(value), 999, &payload,
				    &payload_len, &expires_at), CACHE_OPEN_OK);
	assert_int_equal(payload_len, 5);
	assert_memory_equal(payload, "hello", 5);
	assert_int_equal(expires_at, 1000);

	assert_int_equal(cache_open(mac_key, "k:1", value, sizeof(value), 1000, &payload,
				    &payload_len, &expires_at), CACHE_OPEN_EXPIRED);
	assert_int_equal(cache_open(other_key, "k:1", value, sizeof(value), 999, &payload,
				    &payload_len, &expires_at), CACHE_OPEN_BAD_MAC);
	assert_int_equal(cache_open(mac_key, "k:2", value, sizeof(value), 999, &payload,
				    &payload_len, &expires_at), CACHE_OPEN_BAD_MAC);
	assert_int_equal(cache_open(mac_key, "k:1", value, CACHE_SEAL_OVERHEAD - 1, 999, &payload,
				    &payload_len, &expires_at), CACHE_OPEN_MALFORMED);
	assert_int_equal(cache_open(mac_key, "k:1", NULL, 0, 999, &payload, &payload_len,
				    &expires_at), CACHE_OPEN_MALFORMED);
	for (size_t i = 0; i < sizeof(value); i++) {
		uint8_t copy[sizeof(value)];

		memcpy(copy, value, sizeof(value));
		copy[i] ^= 0x01;
		if (cache_open(mac_key, "k:1", copy, sizeof(copy), 999, &payload, &payload_len,
			       &expires_at) == CACHE_OPEN_OK)
			fail_msg("flipping byte %zu went unnoticed", i);
	}
	/* A later expiry written over a genuine value breaks its MAC. */
	cache_put_u64(value + 1, 5000);
	assert_int_equal(cache_open(mac_key, "k:1", value, sizeof(value), 1500, &payload,
				    &payload_len, &expires_at), CACHE_OPEN_BAD_MAC);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_cached_for_expiration),
		cmocka_unit_test(test_invalid_cached_for_negative_ttl),
		cmocka_unit_test(test_unknown_never_cached),
		cmocka_unit_test(test_bad_verifier_answer_is_unknown),
		cmocka_unit_test(test_separate_entries),
		cmocka_unit_test(test_keyer_matches_ga_hmac_fields),
		cmocka_unit_test(test_entry_bound),
		cmocka_unit_test(test_lru_keeps_recently_used),
		cmocka_unit_test(test_forget_tokens),
		cmocka_unit_test(test_single_flight),
		cmocka_unit_test(test_single_flight_unknown_shared_not_stored),
		cmocka_unit_test(test_waiter_times_out),
		cmocka_unit_test(test_memory_backend_shares_nothing),
		cmocka_unit_test(test_create_rejects_bad_memcache_config),
		cmocka_unit_test(test_create_accepts_server_lists),
		cmocka_unit_test(test_seal_and_open),
	};

	ga_log_setup(GA_LOG_ERROR, GA_LOG_LOGFMT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
