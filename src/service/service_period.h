/*
 * service_period.h - the full sync's period, planned from the GraphQL
 * budget GitHub reports.
 *
 * The full sync is the safety net, not the means of freshness: it may
 * spend at most [github] budget_share of the hourly limit GitHub reports
 * (x-ratelimit-limit), whatever [cache] expiration asks.  expiration is
 * the period only when the budget allows it.
 *
 * Pure arithmetic: no clock, no lock, no allocation; the caller passes the
 * time.  Thread-safe.  Used by service_budget.c (the refresh's period and
 * the memcached sync lock's lifetime) and the webhook pacing (the least
 * time between two full syncs).
 */
#ifndef SERVICE_PERIOD_H
#define SERVICE_PERIOD_H

#include <stdbool.h>

/*
 * The limit assumed while GitHub has not told one (no x-ratelimit-limit
 * yet, or a GitHub Enterprise Server that sends none): the smallest
 * GraphQL budget GitHub documents, a user token's or an App
 * installation's floor, 5,000 points an hour.
 */
#define SERVICE_PERIOD_ASSUMED_LIMIT 5000LL
/* GitHub's budget is hourly: a window never lasts longer (+1 s). */
#define SERVICE_PERIOD_WINDOW_S 3600LL
/* The longest period planned (a week), whatever the budget. */
#define SERVICE_PERIOD_MAX_S (7LL * 24 * 3600)
/* budget_share bounds, in thousandths (0.01 .. 1). */
#define SERVICE_PERIOD_SHARE_MIN 10
#define SERVICE_PERIOD_SHARE_MAX 1000

enum service_period_reason {
	SERVICE_PERIOD_EXPIRATION,	/* [cache] expiration: the budget allows it */
	SERVICE_PERIOD_BUDGET,		/* budget_share of the hourly limit */
	SERVICE_PERIOD_RESET,		/* fewer points left than a sync costs: wait for the reset */
	SERVICE_PERIOD_MAX_STALE,	/* the share would let the data pass max_stale: the
					 * period keeps it usable, over the share */
};
#define SERVICE_PERIOD_REASONS 4

/* What GitHub reported; -1 for anything unknown. */
struct service_period_budget {
	long long points_per_sync;	/* what the last good full sync cost */
	long long limit;		/* x-ratelimit-limit: points per hour */
	long long remaining;		/* rateLimit.remaining after the last sync */
	long long reset_at;		/* rateLimit.resetAt, Unix seconds */
};

struct service_period_plan {
	long long period_s;		/* from one full sync to the next scheduled one */
	long long min_gap_s;		/* points_per_sync at the share's rate: the
					 * budget's period (0: cost unknown) */
	long long reset_wait_s;		/* > 0: too few points left, no full sync for
					 * this long after the last one */
	long long points_per_sync;	/* as given (-1 unknown) */
	long long stale_cap_s;		/* 9/10 of max_stale (at least expiration) */
	long long limit;		/* the hourly limit planned with */
	bool limit_assumed;		/* GitHub did not report it: the assumed one */
	long long share;		/* thousandths, after the bounds */
	enum service_period_reason reason;
};

/*
 * Plan under budget (what GitHub reported), share (thousandths of the hour's
 * points; clamped to SHARE_MIN..SHARE_MAX), expiration_s (> 0), max_stale_s
 * (>= expiration_s) at Unix time now.  Rules:
 *   - budget gap = ceil(points_per_sync x 3600 / (limit x share)): syncing
 *     no more often spends at most the share; 0 while the cost is unknown
 *     (before the first good sync, which runs whatever the plan says).
 *   - period = max(expiration, budget gap); reason budget when the gap is
 *     longer, else expiration.
 *   - but never past 9/10 of max_stale (1 s short of it at least; never
 *     below expiration): data older
 *     than max_stale answers no to everyone, and locking every member out
 *     for part of each period is worse than spending over the share (which
 *     /health, /metrics and a warning then say); reason max_stale.
 *   - remaining < points_per_sync: the next sync would fail midway, so both
 *     wait until reset_at + 1 s (at most an hour; an hour when reset_at is
 *     unknown or past); reason reset.
 */
void service_period_plan(const struct service_period_budget *budget, long long share,
			 long long expiration_s, long long max_stale_s, long long now,
			 struct service_period_plan *out);

/*
 * The points all full syncs together may spend, webhook-asked ones
 * included: a bucket that refills at the plan's share of its limit per
 * hour and holds at most max(SERVICE_PERIOD_BURST_S of refill, one sync).
 * So over any time T the syncs spend at most share x limit x T / 1 h plus
 * that burst: a few quick webhook refreshes for a small organization, none
 * beyond the share for a large one.  Not locked: the caller's lock guards
 * it.
 */
#define SERVICE_PERIOD_BURST_S 300LL

struct service_period_bucket {
	double points;			/* may fall below 0: a sync costs what it costs */
	long long at_ms;		/* when points was last computed; -1: full */
};

void service_period_bucket_init(struct service_period_bucket *bucket);
/* points were spent at now_ms (a sync ended, good or failed). */
void service_period_bucket_take(struct service_period_bucket *bucket,
				const struct service_period_plan *plan, long long points,
				long long now_ms);
/* Milliseconds from now_ms until the bucket holds the plan's points_per_sync
 * (0: a sync may start now; 0 while the cost is unknown). */
long long service_period_bucket_wait_ms(const struct service_period_bucket *bucket,
					const struct service_period_plan *plan, long long now_ms);

/* "expiration", "budget", "reset", "max_stale": the /metrics label and the log's reason. */
const char *service_period_reason_name(enum service_period_reason reason);

#endif
