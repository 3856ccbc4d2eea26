/*
 * bench_token_cache.c - cached /verify lookups per second with 1, 2 and 4
 * threads: all threads on one (username, token) (the worst case for the
 * striped locks: one stripe, one mutex), then each thread on its own 1000
 * cached tokens, then a flood of new tokens through a full cache (every
 * call a miss, an instant verifier and an eviction).
 *
 * Besides lookups per second (wall clock) it prints the process CPU time per
 * lookup, which stays meaningful on a machine shared with other work.
 *
 * Not built by default.  From the repository root:
 *
 *   gcc -std=c17 -D_GNU_SOURCE -O2 -Isrc bench/bench_token_cache.c \
 *       src/cache/cache_*.c src/util/ga_*.c \
 *       $(pkg-config --cflags --libs libmemcached libcrypto) -lpthread \
 *       -o build/bench_token_cache
 *   build/bench_token_cache [seconds per run, default 1]
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/cache.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

#define TOKENS_PER_THREAD 1000
#define THREADS_MAX 4

enum workload {
	ONE_KEY,
	OWN_KEYS,
	NEW_KEYS,
};

struct run {
	struct cache *cache;
	enum workload workload;
	int thread;
	double seconds;
	atomic_bool *stop;
	unsigned long long lookups;
};

static double
now_seconds(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static enum cache_verdict
instant_verifier(void *context, const char *username, const char *token, long long *user_id,
		 char *detail, size_t detail_size)
{
	(void)context;
	(void)detail;
	(void)detail_size;
	(void)username;
	(void)token;
	(void)detail;
	(void)detail_size;
	*user_id = 583231;
	return CACHE_TOKEN_VALID;
}

static void
token_name(char *out, size_t size, int thread, unsigned long long n)
{
	snprintf(out, size, "ghp_bench_%d_%llu_0123456789abcdefghijklmnopqrst", thread, n);
}

static void *
lookup_loop(void *argument)
{
	struct run *run = argument;
	char token[96];
	unsigned long long n = 0;

	token_name(token, sizeof(token), 0, 0);
	while (!atomic_load_explicit(run->stop, memory_order_relaxed)) {
		/* Check the clock only every 1024 calls; a stop flag is cheaper. */
		for (int i = 0; i < 1024; i++, n++) {
			unsigned long long own = n % TOKENS_PER_THREAD;

			if (run->workload == OWN_KEYS)
				token_name(token, sizeof(token), run->thread, own);
			else if (run->workload == NEW_KEYS)
				token_name(token, sizeof(token), run->thread, n + 1000000);
			cache_verify_token(run->cache, "octocat", token, instant_verifier, NULL,
					   NULL);
		}
	}
	run->lookups = n;
	return NULL;
}

static struct cache *
new_cache(size_t entries)
{
	struct config config;
	struct cache *cache;
	struct ga_err err;

	memset(&config, 0, sizeof(config));
	config.cache_backend = CONFIG_CACHE_MEMORY;
	config.expiration = 300;
	config.negative_ttl = 30;
	config.token_cache_entries = entries;
	config.http_timeout = 30;
	if (cache_create(&config, &cache, &err) != GA_OK) {
		fprintf(stderr, "cache_create: %s\n", err.message);
		exit(1);
	}
	return cache;
}

/* Fill the cache so that ONE_KEY and OWN_KEYS only hit. */
static void
warm(struct cache *cache)
{
	char token[96];

	for (int thread = 0; thread < THREADS_MAX; thread++) {
		for (int n = 0; n < TOKENS_PER_THREAD; n++) {
			token_name(token, sizeof(token), thread, (unsigned long long)n);
			cache_verify_token(cache, "octocat", token, instant_verifier, NULL, NULL);
		}
	}
}

static double
cpu_seconds(void)
{
	struct timespec now;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

struct measurement {
	double per_second;
	double cpu_ns_per_lookup;
};

static struct measurement
measure(struct cache *cache, enum workload workload, int threads, double seconds)
{
	pthread_t ids[THREADS_MAX];
	struct run runs[THREADS_MAX];
	atomic_bool stop;
	unsigned long long total = 0;
	double started;
	double cpu_started;
	struct measurement result;
	struct timespec pause = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};

	atomic_init(&stop, false);
	started = now_seconds();
	cpu_started = cpu_seconds();
	for (int i = 0; i < threads; i++) {
		runs[i] = (struct run){cache, workload, i, seconds, &stop, 0};
		pthread_create(&ids[i], NULL, lookup_loop, &runs[i]);
	}
	nanosleep(&pause, NULL);
	atomic_store(&stop, true);
	for (int i = 0; i < threads; i++) {
		pthread_join(ids[i], NULL);
		total += runs[i].lookups;
	}
	result.per_second = (double)total / (now_seconds() - started);
	result.cpu_ns_per_lookup = (cpu_seconds() - cpu_started) * 1e9 / (double)total;
	return result;
}

int
main(int argc, char **argv)
{
	static const char *const names[] = {
		"one cached key, all threads",
		"own 1000 cached keys per thread",
		"new keys (miss + verify + evict)",
	};
	double seconds = argc > 1 ? atof(argv[1]) : 1.0;
	struct cache *cache;

	if (seconds <= 0)
		seconds = 1.0;
	ga_log_setup(GA_LOG_ERROR, GA_LOG_LOGFMT);
	printf("%-36s %8s %14s %14s\n", "workload", "threads", "lookups/s", "cpu ns/lookup");
	for (int workload = ONE_KEY; workload <= NEW_KEYS; workload++) {
		for (int threads = 1; threads <= THREADS_MAX; threads *= 2) {
			/* NEW_KEYS: a small cache, so that every insert evicts. */
			struct measurement result;

			cache = new_cache(workload == NEW_KEYS ? 10000 : 100000);
			warm(cache);
			result = measure(cache, (enum workload)workload, threads, seconds);
			printf("%-36s %8d %14.0f %14.0f\n", names[workload], threads,
			       result.per_second, result.cpu_ns_per_lookup);
			cache_destroy(cache);
		}
	}
	return 0;
}
