/* cache_tokens.c - the bounded in-memory token store with single flight. */
#include "cache/cache_internal.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "util/ga_xalloc.h"

/*
 * Layout.  The store is split into up to 64 stripes, each with its own
 * mutex, chosen by the first 8 bytes of the key (an HMAC, so uniformly
 * spread).  Every stripe owns a fixed array of entries allocated up front
 * (calloc: the pages are only touched as entries get used), a chained hash
 * table of 32-bit indices into it, and a doubly linked LRU list.  When a
 * stripe is full its least recently used entry is evicted, so the memory of
 * the store never exceeds entries x sizeof(struct token_entry) plus the
 * bucket arrays, whatever a client sends.  LRU order is per stripe: a close
 * approximation of a global LRU that needs no global lock.
 *
 * Indices are stored plus one so that 0 means "none".
 *
 * Single flight.  A caller that finds nothing fresh looks for a flight (a
 * verification in progress) of the same key in its stripe; it waits on
 * that flight's condition variable or, if there is none, starts one and
 * verifies without holding any lock.  A caller that must not block
 * (cache_tokens_claim_async) hangs a waiter on the flight instead: the
 * leader calls it back when it finishes.
 */

#define STRIPES_MAX 64
#define STRIPE_MIN_ENTRIES 64
#define ENTRIES_MAX (1u << 30)

struct token_entry {
	uint8_t key[GA_HMAC_SIZE];
	long long expires_at_ms;
	long long user_id;
	uint32_t bucket_next;	/* next entry of the bucket, or of the free list */
	uint32_t lru_newer;	/* toward the most recently used */
	uint32_t lru_older;
	uint8_t verdict;
};

struct cache_flight {
	struct cache_flight *next;
	uint8_t key[GA_HMAC_SIZE];
	pthread_cond_t done_signal;
	unsigned references;		/* the leader and each waiter */
	unsigned long long generation;	/* of the stripe when it started */
	bool done;
	struct cache_token_answer answer;
	struct token_stripe *stripe;
	struct cache_waiter *waiters;	/* asynchronous callers, called at the end */
};

struct token_stripe {
	pthread_mutex_t lock;
	struct token_entry *entries;
	uint32_t *buckets;
	uint32_t bucket_mask;
	uint32_t capacity;
	uint32_t count;
	uint32_t never_used;	/* entries[never_used..capacity) never handed out */
	uint32_t free_list;
	uint32_t lru_newest;
	uint32_t lru_oldest;
	unsigned long long generation;	/* bumped by cache_tokens_forget */
	struct cache_flight *flights;
	unsigned long long hits;
	unsigned long long misses;
	unsigned long long evictions;
	char padding[64];	/* no false sharing between neighbouring stripes */
};

struct cache_tokens {
	struct token_stripe *stripes;
	size_t stripe_count;		/* a power of two */
	long long wait_timeout_ms;
	long long (*now_ms)(void);
};

static long long
monotonic_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

uint32_t
cache_next_power_of_two(uint32_t n)
{
	uint32_t power = 1;

	while (power < n)
		power <<= 1;
	return power;
}

static void
stripe_init(struct token_stripe *stripe, uint32_t capacity)
{
	uint32_t bucket_count = cache_next_power_of_two(capacity);

	pthread_mutex_init(&stripe->lock, NULL);
	stripe->capacity = capacity;
	stripe->entries = ga_calloc(capacity, sizeof(struct token_entry));
	stripe->buckets = ga_calloc(bucket_count, sizeof(uint32_t));
	stripe->bucket_mask = bucket_count - 1;
}

struct cache_tokens *
cache_tokens_create(size_t max_entries, long long wait_timeout_ms)
{
	struct cache_tokens *tokens = ga_calloc(1, sizeof(*tokens));
	size_t stripes = STRIPES_MAX;

	if (max_entries < 1)
		max_entries = 1;
	if (max_entries > ENTRIES_MAX)
		max_entries = ENTRIES_MAX;
	/* Small stores get fewer stripes, so that per-stripe LRU stays close
	 * to a global one and every stripe holds something. */
	while (stripes > 1 && max_entries / stripes < STRIPE_MIN_ENTRIES)
		stripes /= 2;
	tokens->stripe_count = stripes;
	tokens->stripes = ga_calloc(stripes, sizeof(struct token_stripe));
	tokens->wait_timeout_ms = wait_timeout_ms;
	tokens->now_ms = monotonic_ms;
	/* The per-stripe limits add up to max_entries exactly. */
	for (size_t i = 0; i < stripes; i++) {
		size_t capacity = max_entries / stripes + (i < max_entries % stripes ? 1 : 0);

		stripe_init(&tokens->stripes[i], (uint32_t)capacity);
	}
	return tokens;
}

void
cache_tokens_destroy(struct cache_tokens *tokens)
{
	if (tokens == NULL)
		return;
	for (size_t i = 0; i < tokens->stripe_count; i++) {
		struct token_stripe *stripe = &tokens->stripes[i];

		/* No caller may still be inside: flights are gone. */
		pthread_mutex_destroy(&stripe->lock);
		ga_free(stripe->entries);
		ga_free(stripe->buckets);
	}
	ga_free(tokens->stripes);
	ga_free(tokens);
}

void
cache_tokens_set_clock(struct cache_tokens *tokens, long long (*now_ms)(void))
{
	tokens->now_ms = now_ms ? now_ms : monotonic_ms;
}

size_t
cache_tokens_entry_size(void)
{
	return sizeof(struct token_entry);
}

static struct token_stripe *
stripe_of(struct cache_tokens *tokens, const uint8_t key[GA_HMAC_SIZE])
{
	return &tokens->stripes[cache_get_u64(key) & (tokens->stripe_count - 1)];
}

static struct token_entry *
entry_at(struct token_stripe *stripe, uint32_t index)
{
	return &stripe->entries[index - 1];
}

/*
 * The link (a bucket head or an entry's bucket_next) that points at key's
 * entry, or at 0 when key is absent.  memcmp's early exit is harmless: keys
 * are HMACs under a key no client knows.
 */
static uint32_t *
find_link(struct token_stripe *stripe, const uint8_t key[GA_HMAC_SIZE])
{
	uint32_t *link = &stripe->buckets[cache_get_u64(key + 8) & stripe->bucket_mask];

	while (*link != 0) {
		struct token_entry *entry = entry_at(stripe, *link);

		if (memcmp(entry->key, key, GA_HMAC_SIZE) == 0)
			return link;
		link = &entry->bucket_next;
	}
	return link;
}

static void
lru_unlink(struct token_stripe *stripe, uint32_t index)
{
	struct token_entry *entry = entry_at(stripe, index);

	if (entry->lru_newer != 0)
		entry_at(stripe, entry->lru_newer)->lru_older = entry->lru_older;
	else
		stripe->lru_newest = entry->lru_older;
	if (entry->lru_older != 0)
		entry_at(stripe, entry->lru_older)->lru_newer = entry->lru_newer;
	else
		stripe->lru_oldest = entry->lru_newer;
	entry->lru_newer = 0;
	entry->lru_older = 0;
}

static void
lru_push_newest(struct token_stripe *stripe, uint32_t index)
{
	struct token_entry *entry = entry_at(stripe, index);

	entry->lru_newer = 0;
	entry->lru_older = stripe->lru_newest;
	if (stripe->lru_newest != 0)
		entry_at(stripe, stripe->lru_newest)->lru_newer = index;
	else
		stripe->lru_oldest = index;
	stripe->lru_newest = index;
}

/* Unlink the entry *link points at from its bucket and the LRU list, and
 * put it on the free list. */
static void
remove_entry(struct token_stripe *stripe, uint32_t *link)
{
	uint32_t index = *link;
	struct token_entry *entry = entry_at(stripe, index);

	*link = entry->bucket_next;
	lru_unlink(stripe, index);
	entry->bucket_next = stripe->free_list;
	stripe->free_list = index;
	stripe->count--;
}

/* An unused entry index, evicting the least recently used when full. */
static uint32_t
take_slot(struct token_stripe *stripe)
{
	uint32_t index;

	if (stripe->free_list == 0 && stripe->never_used < stripe->capacity)
		return ++stripe->never_used;
	if (stripe->free_list == 0) {
		remove_entry(stripe, find_link(stripe, entry_at(stripe, stripe->lru_oldest)->key));
		stripe->evictions++;
	}
	index = stripe->free_list;
	stripe->free_list = entry_at(stripe, index)->bucket_next;
	return index;
}

static void
store_entry(struct token_stripe *stripe, const uint8_t key[GA_HMAC_SIZE],
	    const struct cache_token_answer *answer, long long expires_at_ms)
{
	uint32_t *link = find_link(stripe, key);
	uint32_t index = *link;
	struct token_entry *entry;

	if (index == 0) {
		uint32_t *bucket;

		index = take_slot(stripe);
		entry = entry_at(stripe, index);
		memcpy(entry->key, key, GA_HMAC_SIZE);
		bucket = &stripe->buckets[cache_get_u64(key + 8) & stripe->bucket_mask];
		entry->bucket_next = *bucket;
		*bucket = index;
		stripe->count++;
	} else {
		lru_unlink(stripe, index);
	}
	entry = entry_at(stripe, index);
	entry->verdict = (uint8_t)answer->verdict;
	entry->user_id = answer->user_id;
	entry->expires_at_ms = expires_at_ms;
	lru_push_newest(stripe, index);
}

/* Fresh entry of key: true and *answer set; an expired one is dropped. */
static bool
lookup_entry(struct token_stripe *stripe, const uint8_t key[GA_HMAC_SIZE], long long now_ms,
	     struct cache_token_answer *answer)
{
	uint32_t *link = find_link(stripe, key);
	struct token_entry *entry;

	if (*link == 0)
		return false;
	entry = entry_at(stripe, *link);
	if (entry->expires_at_ms <= now_ms) {
		remove_entry(stripe, link);
		return false;
	}
	if (stripe->lru_newest != *link) {
		uint32_t index = *link;

		lru_unlink(stripe, index);
		lru_push_newest(stripe, index);
	}
	answer->verdict = (enum cache_verdict)entry->verdict;
	answer->user_id = entry->user_id;
	answer->detail[0] = '\0';	/* details are never stored */
	return true;
}

static struct cache_flight *
find_flight(struct token_stripe *stripe, const uint8_t key[GA_HMAC_SIZE])
{
	for (struct cache_flight *flight = stripe->flights; flight; flight = flight->next)
		if (memcmp(flight->key, key, GA_HMAC_SIZE) == 0)
			return flight;
	return NULL;
}

static struct cache_flight *
start_flight(struct token_stripe *stripe, const uint8_t key[GA_HMAC_SIZE])
{
	struct cache_flight *flight = ga_calloc(1, sizeof(*flight));
	pthread_condattr_t attributes;

	pthread_condattr_init(&attributes);
	pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
	pthread_cond_init(&flight->done_signal, &attributes);
	pthread_condattr_destroy(&attributes);
	memcpy(flight->key, key, GA_HMAC_SIZE);
	flight->references = 1;
	flight->generation = stripe->generation;
	flight->stripe = stripe;
	flight->next = stripe->flights;
	stripe->flights = flight;
	return flight;
}

/* Drop one reference; the last one frees.  Called with the stripe locked. */
static void
release_flight(struct cache_flight *flight)
{
	if (--flight->references > 0)
		return;
	pthread_cond_destroy(&flight->done_signal);
	ga_free(flight);
}

static void
unlink_flight(struct token_stripe *stripe, struct cache_flight *flight)
{
	struct cache_flight **link = &stripe->flights;

	while (*link != flight)
		link = &(*link)->next;
	*link = flight->next;
}

/* Wait (stripe locked) for the leader of flight, at most timeout_ms. */
static void
wait_for_flight(struct token_stripe *stripe, struct cache_flight *flight, long long timeout_ms,
		struct cache_token_answer *answer)
{
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)(timeout_ms / 1000);
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	flight->references++;
	while (!flight->done &&
	       pthread_cond_timedwait(&flight->done_signal, &stripe->lock, &deadline) != ETIMEDOUT)
		continue;
	if (flight->done) {
		*answer = flight->answer;
	} else {
		answer->verdict = CACHE_TOKEN_UNKNOWN;
		answer->user_id = 0;
		answer->detail[0] = '\0';
	}
	release_flight(flight);
}

/*
 * The common start of a claim: lock key's stripe and look.  true on a fresh
 * entry (*answer set, the stripe unlocked again); otherwise the stripe
 * stays locked and *flight is the running flight of key, or NULL.
 */
static bool
claim_lookup(struct cache_tokens *tokens, const uint8_t key[GA_HMAC_SIZE],
	     struct cache_token_answer *answer, struct token_stripe **stripe_out,
	     struct cache_flight **flight)
{
	struct token_stripe *stripe = stripe_of(tokens, key);

	*stripe_out = stripe;
	pthread_mutex_lock(&stripe->lock);
	if (lookup_entry(stripe, key, tokens->now_ms(), answer)) {
		stripe->hits++;
		pthread_mutex_unlock(&stripe->lock);
		return true;
	}
	stripe->misses++;
	*flight = find_flight(stripe, key);
	return false;
}

enum cache_claim
cache_tokens_claim(struct cache_tokens *tokens, const uint8_t key[GA_HMAC_SIZE],
		   struct cache_token_answer *answer, struct cache_flight **flight_out)
{
	struct token_stripe *stripe;
	struct cache_flight *flight;
	enum cache_claim claim;

	*flight_out = NULL;
	if (claim_lookup(tokens, key, answer, &stripe, &flight))
		return CACHE_CLAIM_HIT;
	if (flight != NULL) {
		wait_for_flight(stripe, flight, tokens->wait_timeout_ms, answer);
		claim = CACHE_CLAIM_WAITED;
	} else {
		*flight_out = start_flight(stripe, key);
		claim = CACHE_CLAIM_LEADER;
	}
	pthread_mutex_unlock(&stripe->lock);
	return claim;
}

enum cache_claim
cache_tokens_claim_async(struct cache_tokens *tokens, const uint8_t key[GA_HMAC_SIZE],
			 struct cache_token_answer *answer, struct cache_flight **flight_out,
			 cache_done_fn done, void *arg, bool (*admit)(void *admit_arg),
			 void *admit_arg)
{
	struct token_stripe *stripe;
	struct cache_flight *flight;
	struct cache_waiter *waiter;
	enum cache_claim claim;

	*flight_out = NULL;
	if (claim_lookup(tokens, key, answer, &stripe, &flight))
		return CACHE_CLAIM_HIT;
	if (flight != NULL) {
		claim = CACHE_CLAIM_WAITED;
	} else if (admit(admit_arg)) {
		flight = start_flight(stripe, key);
		*flight_out = flight;
		claim = CACHE_CLAIM_LEADER;
	} else {
		pthread_mutex_unlock(&stripe->lock);
		return CACHE_CLAIM_REFUSED;
	}
	/* Allocated only here: a hit, the common case, allocates nothing. */
	waiter = ga_malloc(sizeof(*waiter));
	waiter->done = done;
	waiter->arg = arg;
	waiter->next = flight->waiters;
	flight->waiters = waiter;
	pthread_mutex_unlock(&stripe->lock);
	return claim;
}

void
cache_tokens_finish(struct cache_tokens *tokens, struct cache_flight *flight,
		    const struct cache_token_answer *answer, long long ttl_ms)
{
	struct token_stripe *stripe = flight->stripe;
	struct cache_waiter *waiters;

	pthread_mutex_lock(&stripe->lock);
	if (ttl_ms > 0 && answer->verdict != CACHE_TOKEN_UNKNOWN &&
	    flight->generation == stripe->generation)
		store_entry(stripe, flight->key, answer, tokens->now_ms() + ttl_ms);
	unlink_flight(stripe, flight);
	flight->answer = *answer;
	flight->done = true;
	waiters = flight->waiters;
	flight->waiters = NULL;
	pthread_cond_broadcast(&flight->done_signal);
	release_flight(flight);
	pthread_mutex_unlock(&stripe->lock);
	/* Outside the lock: a callback may start another claim. */
	while (waiters != NULL) {
		struct cache_waiter *next = waiters->next;

		waiters->done(waiters->arg, answer);
		ga_free(waiters);
		waiters = next;
	}
}

void
cache_tokens_forget(struct cache_tokens *tokens)
{
	for (size_t i = 0; i < tokens->stripe_count; i++) {
		struct token_stripe *stripe = &tokens->stripes[i];

		pthread_mutex_lock(&stripe->lock);
		memset(stripe->buckets, 0, ((size_t)stripe->bucket_mask + 1) * sizeof(uint32_t));
		stripe->count = 0;
		stripe->never_used = 0;
		stripe->free_list = 0;
		stripe->lru_newest = 0;
		stripe->lru_oldest = 0;
		stripe->generation++;
		pthread_mutex_unlock(&stripe->lock);
	}
}

void
cache_tokens_get_stats(struct cache_tokens *tokens, struct cache_tokens_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	for (size_t i = 0; i < tokens->stripe_count; i++) {
		struct token_stripe *stripe = &tokens->stripes[i];

		pthread_mutex_lock(&stripe->lock);
		stats->hits += stripe->hits;
		stats->misses += stripe->misses;
		stats->evictions += stripe->evictions;
		stats->entries += stripe->count;
		pthread_mutex_unlock(&stripe->lock);
	}
	stats->bytes = stats->entries * sizeof(struct token_entry);
}
