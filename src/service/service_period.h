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
};
#define SERVICE_PERIOD_REASONS 3

/* What GitHub reported; -1 for anything unknown. */
struct service_period_budget {
	long long points_per_sync;	/* what the last good full sync cost */
	long long limit;		/* x-ratelimit-limit: points per hour */
	long long remaining;		/* rateLimit.remaining after the last sync */
	long long reset_at;		/* rateLimit.resetAt, Unix seconds */
};

struct service_period_plan {
	long long period_s;		/* from one full sync to the next scheduled one */
	long long min_gap_s;		/* the least time between any two full syncs,
					 * webhook-asked ones included (0: none) */
	long long limit;		/* the hourly limit planned with */
	bool limit_assumed;		/* GitHub did not report it: the assumed one */
	long long share;		/* thousandths, after the bounds */
	enum service_period_reason reason;
};

/*
 * Plan under budget (what GitHub reported), share (thousandths of the hour's
 * points; clamped to SHARE_MIN..SHARE_MAX), expiration_s (> 0) at Unix time
 * now.  Rules:
 *   - budget gap = ceil(points_per_sync x 3600 / (limit x share)): syncing
 *     no more often spends at most the share; 0 while the cost is unknown
 *     (before the first good sync, which runs whatever the plan says).
 *   - period = max(expiration, budget gap); reason budget when the gap is
 *     longer, else expiration.
 *   - remaining < points_per_sync: the next sync would fail midway, so both
 *     wait until reset_at + 1 s (at most an hour; an hour when reset_at is
 *     unknown or past); reason reset.
 */
void service_period_plan(const struct service_period_budget *budget, long long share,
			 long long expiration_s, long long now, struct service_period_plan *out);

/* "expiration", "budget", "reset": the /metrics label and the log's reason. */
const char *service_period_reason_name(enum service_period_reason reason);

#endif
