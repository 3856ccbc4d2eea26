/*
 * ga_limit.h - admission against fixed bounds: at most N holders at once in
 * all, at most M per key (a login), and at most B units of a weight (bytes)
 * in all.  What a client can make the server hold (GitHub calls in flight,
 * uploads, their disk space) is taken here first, and the excess is refused
 * at once instead of queued.
 *
 * A holder takes a slot with ga_limit_take(key, weight) and gives it back
 * with ga_limit_give(key, weight), with the same key and weight.  Keys are
 * compared byte for byte (normalise them first, e.g. lower-case a login);
 * at most GA_LIMIT_KEY_MAX - 1 bytes, longer keys are refused.  Memory is
 * fixed at creation: one slot per possible holder.
 *
 * Thread-safety: every function may be called from any thread (one mutex).
 */
#ifndef GA_LIMIT_H
#define GA_LIMIT_H

#include <stdbool.h>
#include <stddef.h>

#define GA_LIMIT_KEY_MAX 64

enum ga_limit_result {
	GA_LIMIT_OK = 0,	/* taken: give it back later */
	GA_LIMIT_TOTAL,		/* the holders in all are at the bound */
	GA_LIMIT_KEY,		/* this key's holders are at the bound (or the key is too long) */
	GA_LIMIT_WEIGHT,	/* the weight in all would pass the bound */
};

struct ga_limit;

/*
 * total: holders at once (at least 1); per_key: holders per key (0: as
 * many as total); max_weight: the sum of the holders' weights (0: no
 * weight bound).  Free with ga_limit_destroy once nobody holds a slot.
 */
struct ga_limit *ga_limit_create(unsigned total, unsigned per_key, long long max_weight);
void ga_limit_destroy(struct ga_limit *limit);

/* Take one slot for key with weight (>= 0), or say which bound refused it. */
enum ga_limit_result ga_limit_take(struct ga_limit *limit, const char *key, long long weight);

/* Give back what ga_limit_take(key, weight) took. */
void ga_limit_give(struct ga_limit *limit, const char *key, long long weight);

/* Holders and weight right now (metrics, tests); either may be NULL. */
void ga_limit_usage(struct ga_limit *limit, unsigned *holders, long long *weight);

/* "total", "per key", "weight" (for logs and answers); "ok" for GA_LIMIT_OK. */
const char *ga_limit_result_name(enum ga_limit_result result);

#endif
