/* cache_claims.c - claim once: the bounded local set, then memcached; see cache.h. */
#include "cache/cache_internal.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>

#include "util/ga_xalloc.h"

/*
 * Layout.  A fixed array of max entries allocated up front (calloc: pages
 * are touched only as entries get used), a chained hash table of 32-bit
 * indices into it (plus one, so that 0 means "none"), a free list, and one
 * mutex: a claim is rare (one per mint, beside an RSA verification that
 * costs far more than the lock), so stripes would buy nothing.
 *
 * Expiry.  An entry is remembered while now <= until.  Expired entries are
 * unlinked whenever their bucket's chain is walked; when the set is full
 * every expired entry is dropped at once.  That sweep is O(max), so it runs
 * only when it can free something: sweep_after is at most the smallest
 * until of every entry, so while now <= sweep_after none has expired and a
 * full set answers CACHE_CLAIMS_FULL at once, whatever the rate of claims.
 * An unexpired entry is never dropped to make room: forgetting a claim
 * would let the same ID token be exchanged again.
 *
 * Keys are HMACs (cache_claims_key), uniformly spread and unknown to
 * whoever chooses the ids, so nobody can aim many ids at one bucket.
 */

#define CLAIM_KEY_LABEL "ghaccess:v1:claim-key"
/* memcached keeps a claim this long past until: its clock runs in whole
 * seconds and may lag ours (warehouse keeps a jti 5 s past its leeway). */
#define SHARED_MARGIN_SECONDS 5
#define CLAIMS_MAX_ENTRIES (1u << 24)

struct claim_entry {
	uint8_t key[GA_HMAC_SIZE];
	long long until;
	uint32_t next;		/* next entry of the bucket, or of the free list */
};

struct cache_claims {
	pthread_mutex_t lock;
	uint8_t hmac_key[GA_HMAC_SIZE];
	struct claim_entry *entries;
	uint32_t *buckets;
	uint32_t bucket_mask;
	uint32_t capacity;
	uint32_t count;
	uint32_t never_used;	/* entries[never_used..capacity) never handed out */
	uint32_t free_list;
	long long sweep_after;	/* <= the until of every entry */
};

struct cache_claims *
cache_claims_create(const struct config *config, size_t max_entries)
{
	struct cache_claims *claims = ga_calloc(1, sizeof(*claims));
	uint32_t capacity;
	uint32_t bucket_count;

	if (max_entries < 1)
		max_entries = 1;
	if (max_entries > CLAIMS_MAX_ENTRIES)
		max_entries = CLAIMS_MAX_ENTRIES;
	capacity = (uint32_t)max_entries;
	bucket_count = cache_next_power_of_two(capacity);
	pthread_mutex_init(&claims->lock, NULL);
	/* Shared with every instance of the secret: they must compute the same
	 * memcached keys.  Otherwise nothing leaves this process. */
	if (config->cache_backend == CONFIG_CACHE_MEMCACHE && config->secret != NULL)
		cache_derive_key(config->secret, CLAIM_KEY_LABEL, claims->hmac_key);
	else
		ga_random_bytes(claims->hmac_key, sizeof(claims->hmac_key));
	claims->capacity = capacity;
	claims->entries = ga_calloc(capacity, sizeof(struct claim_entry));
	claims->buckets = ga_calloc(bucket_count, sizeof(uint32_t));
	claims->bucket_mask = bucket_count - 1;
	claims->sweep_after = LLONG_MAX;
	return claims;
}

void
cache_claims_destroy(struct cache_claims *claims)
{
	if (claims == NULL)
		return;
	OPENSSL_cleanse(claims->hmac_key, sizeof(claims->hmac_key));
	pthread_mutex_destroy(&claims->lock);
	ga_free(claims->entries);
	ga_free(claims->buckets);
	ga_free(claims);
}

void
cache_claims_key(const struct cache_claims *claims, const char *scope, const char *id,
		 size_t id_len, uint8_t out[GA_HMAC_SIZE])
{
	const char *fields[2] = {scope, id};
	size_t lengths[2] = {strlen(scope), id_len};

	ga_hmac_fields(claims->hmac_key, sizeof(claims->hmac_key), fields, lengths, 2, out);
}

static uint32_t *
bucket_of(struct cache_claims *claims, const uint8_t key[GA_HMAC_SIZE])
{
	return &claims->buckets[cache_get_u64(key) & claims->bucket_mask];
}

static void
release_entry(struct cache_claims *claims, uint32_t index)
{
	claims->entries[index].next = claims->free_list;
	claims->free_list = index + 1;
	claims->count--;
}

/* Drop every expired entry and recompute sweep_after.  Lock held. */
static void
sweep(struct cache_claims *claims, long long now)
{
	long long earliest = LLONG_MAX;

	for (uint32_t b = 0; b <= claims->bucket_mask; b++) {
		uint32_t *link = &claims->buckets[b];

		while (*link != 0) {
			uint32_t index = *link - 1;
			struct claim_entry *entry = &claims->entries[index];

			if (now > entry->until) {
				*link = entry->next;
				release_entry(claims, index);
				continue;
			}
			if (entry->until < earliest)
				earliest = entry->until;
			link = &entry->next;
		}
	}
	claims->sweep_after = earliest;
}

/* A free entry, or UINT32_MAX when the set holds only unexpired ones. */
static uint32_t
take_entry(struct cache_claims *claims, long long now)
{
	uint32_t index;

	if (claims->count >= claims->capacity) {
		if (now <= claims->sweep_after)
			return UINT32_MAX;
		sweep(claims, now);
		if (claims->count >= claims->capacity)
			return UINT32_MAX;
	}
	if (claims->free_list != 0) {
		index = claims->free_list - 1;
		claims->free_list = claims->entries[index].next;
	} else {
		index = claims->never_used++;
	}
	claims->count++;
	return index;
}

enum cache_claims_add
cache_claims_add(struct cache_claims *claims, const uint8_t key[GA_HMAC_SIZE], long long until,
		 long long now)
{
	enum cache_claims_add result = CACHE_CLAIMS_ADDED;
	uint32_t *bucket;
	uint32_t *link;
	uint32_t index;

	pthread_mutex_lock(&claims->lock);
	bucket = bucket_of(claims, key);
	link = bucket;
	while (*link != 0) {
		struct claim_entry *entry = &claims->entries[*link - 1];

		if (now > entry->until) {
			uint32_t expired = *link - 1;

			*link = entry->next;
			release_entry(claims, expired);
			continue;
		}
		if (memcmp(entry->key, key, GA_HMAC_SIZE) == 0) {
			result = CACHE_CLAIMS_PRESENT;
			goto done;
		}
		link = &entry->next;
	}
	index = take_entry(claims, now);
	if (index == UINT32_MAX) {
		result = CACHE_CLAIMS_FULL;
		goto done;
	}
	memcpy(claims->entries[index].key, key, GA_HMAC_SIZE);
	claims->entries[index].until = until;
	claims->entries[index].next = *bucket;
	*bucket = index + 1;
	if (until < claims->sweep_after)
		claims->sweep_after = until;
done:
	pthread_mutex_unlock(&claims->lock);
	return result;
}

size_t
cache_claims_count(struct cache_claims *claims)
{
	size_t count;

	pthread_mutex_lock(&claims->lock);
	count = claims->count;
	pthread_mutex_unlock(&claims->lock);
	return count;
}

enum cache_once
cache_claims_claim(struct cache_claims *claims, struct cache_shared *shared, const char *scope,
		   const char *id, size_t id_len, long long until, long long now)
{
	uint8_t key[GA_HMAC_SIZE];
	long long ttl;

	cache_claims_key(claims, scope, id, id_len, key);
	/* This process first: a reuse here costs no memcached call, and of
	 * concurrent claims of one id only the one that added it goes on. */
	switch (cache_claims_add(claims, key, until, now)) {
	case CACHE_CLAIMS_PRESENT:
		return CACHE_ONCE_USED;
	case CACHE_CLAIMS_FULL:
		return CACHE_ONCE_FULL;
	case CACHE_CLAIMS_ADDED:
		break;
	}
	if (shared == NULL)
		return CACHE_ONCE_FIRST;
	/* The local entry stays whatever memcached answers: the id is used.
	 * (until - now in unsigned: any two Unix times, no overflow.) */
	ttl = 1;
	if (until > now) {
		unsigned long long remaining = (unsigned long long)until - (unsigned long long)now;

		ttl = remaining < (unsigned long long)(LLONG_MAX - SHARED_MARGIN_SECONDS)
			      ? (long long)remaining + SHARED_MARGIN_SECONDS
			      : LLONG_MAX;
	}
	switch (cache_shared_claim(shared, key, ttl)) {
	case CACHE_SHARED_CLAIMED:
		return CACHE_ONCE_FIRST;
	case CACHE_SHARED_TAKEN:
		return CACHE_ONCE_USED;
	case CACHE_SHARED_NOT_MADE:
		break;
	}
	return CACHE_ONCE_FIRST_LOCAL;
}
