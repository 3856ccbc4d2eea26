/* ga_limit.c - admission against fixed bounds; see ga_limit.h. */
#include "util/ga_limit.h"

#include <pthread.h>
#include <string.h>

#include "util/ga_xalloc.h"

/*
 * One slot per key that holds something: at most `total` keys can, so the
 * table never needs to grow.  A linear scan is fine: the bounds are tens,
 * and each call already costs a mutex.
 */
struct limit_slot {
	unsigned count;			/* 0: free */
	char key[GA_LIMIT_KEY_MAX];
};

struct ga_limit {
	pthread_mutex_t lock;
	unsigned total;
	unsigned per_key;
	long long max_weight;		/* 0: none */
	unsigned holders;
	long long weight;
	struct limit_slot *slots;	/* total of them */
};

struct ga_limit *
ga_limit_create(unsigned total, unsigned per_key, long long max_weight)
{
	struct ga_limit *limit = ga_calloc(1, sizeof(*limit));

	pthread_mutex_init(&limit->lock, NULL);
	limit->total = total > 0 ? total : 1;
	limit->per_key = per_key > 0 && per_key < limit->total ? per_key : limit->total;
	limit->max_weight = max_weight > 0 ? max_weight : 0;
	limit->slots = ga_calloc(limit->total, sizeof(*limit->slots));
	return limit;
}

void
ga_limit_destroy(struct ga_limit *limit)
{
	if (limit == NULL)
		return;
	pthread_mutex_destroy(&limit->lock);
	ga_free(limit->slots);
	ga_free(limit);
}

/* The slot holding key, or else a free one (*found false), or NULL. */
static struct limit_slot *
find_slot(struct ga_limit *limit, const char *key, bool *found)
{
	struct limit_slot *free_slot = NULL;

	*found = false;
	for (unsigned i = 0; i < limit->total; i++) {
		struct limit_slot *slot = &limit->slots[i];

		if (slot->count > 0 && strcmp(slot->key, key) == 0) {
			*found = true;
			return slot;
		}
		if (slot->count == 0 && free_slot == NULL)
			free_slot = slot;
	}
	return free_slot;
}

enum ga_limit_result
ga_limit_take(struct ga_limit *limit, const char *key, long long weight)
{
	enum ga_limit_result result = GA_LIMIT_OK;
	struct limit_slot *slot;
	bool found;

	if (strlen(key) >= GA_LIMIT_KEY_MAX)
		return GA_LIMIT_KEY;
	if (weight < 0)
		weight = 0;
	pthread_mutex_lock(&limit->lock);
	slot = find_slot(limit, key, &found);
	/* The key's own bound first: the most useful reason for its holder. */
	if (found && slot->count >= limit->per_key)
		result = GA_LIMIT_KEY;
	else if (limit->holders >= limit->total || slot == NULL)
		result = GA_LIMIT_TOTAL;
	else if (limit->max_weight > 0 && weight > limit->max_weight - limit->weight)
		result = GA_LIMIT_WEIGHT;
	if (result == GA_LIMIT_OK) {
		if (!found)
			memcpy(slot->key, key, strlen(key) + 1);
		slot->count++;
		limit->holders++;
		limit->weight += weight;
	}
	pthread_mutex_unlock(&limit->lock);
	return result;
}

void
ga_limit_give(struct ga_limit *limit, const char *key, long long weight)
{
	struct limit_slot *slot;
	bool found;

	if (strlen(key) >= GA_LIMIT_KEY_MAX)
		return;
	if (weight < 0)
		weight = 0;
	pthread_mutex_lock(&limit->lock);
	slot = find_slot(limit, key, &found);
	/* A give without its take would break the bounds: ignore it. */
	if (found) {
		slot->count--;
		limit->holders--;
		limit->weight -= weight < limit->weight ? weight : limit->weight;
	}
	pthread_mutex_unlock(&limit->lock);
}

void
ga_limit_usage(struct ga_limit *limit, unsigned *holders, long long *weight)
{
	pthread_mutex_lock(&limit->lock);
	if (holders != NULL)
		*holders = limit->holders;
	if (weight != NULL)
		*weight = limit->weight;
	pthread_mutex_unlock(&limit->lock);
}

const char *
ga_limit_result_name(enum ga_limit_result result)
{
	switch (result) {
	case GA_LIMIT_OK:
		return "ok";
	case GA_LIMIT_TOTAL:
		return "total";
	case GA_LIMIT_KEY:
		return "per key";
	case GA_LIMIT_WEIGHT:
		return "weight";
	}
	return "unknown";
}
