/* service_period.c - the full sync's period from GitHub's budget; see service_period.h. */
#include "service/service_period.h"

static long long
clamp(long long value, long long low, long long high)
{
	return value < low ? low : value > high ? high : value;
}

/* Seconds between syncs of cost points so that they spend at most share
 * thousandths of limit points an hour, rounded up. */
static long long
budget_gap_s(long long cost, long long limit, long long share)
{
	long long per_hour_thousandths = limit * share;

	if (cost <= 0)
		return 0;
	/* GitHub's number: keep the product in range (no sync costs this). */
	cost = clamp(cost, 0, 1000000);
	return (cost * SERVICE_PERIOD_WINDOW_S * 1000 + per_hour_thousandths - 1) /
	       per_hour_thousandths;
}

/* Seconds to wait for the window to reset: at most an hour. */
static long long
reset_wait_s(long long reset_at, long long now)
{
	if (reset_at < 0 || reset_at < now)
		return SERVICE_PERIOD_WINDOW_S;
	return clamp(reset_at - now + 1, 1, SERVICE_PERIOD_WINDOW_S + 1);
}

void
service_period_plan(const struct service_period_budget *budget, long long share,
		    long long expiration_s, long long max_stale_s, long long now,
		    struct service_period_plan *out)
{
	long long gap, usable_s;

	out->limit_assumed = budget->limit <= 0;
	/* A limit above what GitHub sells anyone is not believed either. */
	out->limit = out->limit_assumed ? SERVICE_PERIOD_ASSUMED_LIMIT
					: clamp(budget->limit, 1, 1000000);
	out->share = clamp(share, SERVICE_PERIOD_SHARE_MIN, SERVICE_PERIOD_SHARE_MAX);
	if (expiration_s < 1)
		expiration_s = 1;
	out->points_per_sync = budget->points_per_sync;
	out->reset_wait_s = 0;
	gap = budget_gap_s(budget->points_per_sync, out->limit, out->share);
	/* memcached reads a lifetime over 30 days as a date: stay far below. */
	gap = clamp(gap, 0, SERVICE_PERIOD_MAX_S);
	out->min_gap_s = gap;
	out->period_s = gap > expiration_s ? gap : expiration_s;
	out->reason = gap > expiration_s ? SERVICE_PERIOD_BUDGET : SERVICE_PERIOD_EXPIRATION;
	/* The sync itself takes time, and a failed one must be seen before the
	 * data turns stale: a tenth of max_stale is its margin, at least 1 s. */
	usable_s = max_stale_s - (max_stale_s / 10 > 1 ? max_stale_s / 10 : 1);
	if (usable_s < expiration_s)
		usable_s = expiration_s;
	out->stale_cap_s = usable_s;
	if (out->period_s > usable_s) {
		out->period_s = usable_s;
		out->reason = SERVICE_PERIOD_MAX_STALE;
	}
	if (budget->points_per_sync > 0 && budget->remaining >= 0 &&
	    budget->remaining < budget->points_per_sync) {
		long long wait = reset_wait_s(budget->reset_at, now);

		out->reset_wait_s = wait;
		if (wait > out->period_s) {
			out->period_s = wait;
			out->reason = SERVICE_PERIOD_RESET;
		}
	}
}

/* ---- the bucket ----------------------------------------------------------- */

/* Points per millisecond the share allows. */
static double
rate_per_ms(const struct service_period_plan *plan)
{
	return (double)plan->limit * (double)plan->share / 1000.0 /
	       (double)(SERVICE_PERIOD_WINDOW_S * 1000);
}

static double
capacity(const struct service_period_plan *plan)
{
	double burst = rate_per_ms(plan) * (double)(SERVICE_PERIOD_BURST_S * 1000);

	return plan->points_per_sync > burst ? (double)plan->points_per_sync : burst;
}

/* The bucket's points at now_ms. */
static double
level(const struct service_period_bucket *bucket, const struct service_period_plan *plan,
      long long now_ms)
{
	double full = capacity(plan);
	double points;

	if (bucket->at_ms < 0)
		return full;
	points = bucket->points;
	if (now_ms > bucket->at_ms)
		points += rate_per_ms(plan) * (double)(now_ms - bucket->at_ms);
	return points < full ? points : full;
}

void
service_period_bucket_init(struct service_period_bucket *bucket)
{
	bucket->points = 0;
	bucket->at_ms = -1;
}

void
service_period_bucket_take(struct service_period_bucket *bucket,
			   const struct service_period_plan *plan, long long points,
			   long long now_ms)
{
	bucket->points = level(bucket, plan, now_ms) - (double)(points > 0 ? points : 0);
	bucket->at_ms = now_ms;
}

long long
service_period_bucket_wait_ms(const struct service_period_bucket *bucket,
			      const struct service_period_plan *plan, long long now_ms)
{
	double missing;

	if (plan->points_per_sync <= 0)
		return 0;
	missing = (double)plan->points_per_sync - level(bucket, plan, now_ms);
	if (missing <= 0)
		return 0;
	return (long long)(missing / rate_per_ms(plan)) + 1;
}

const char *
service_period_reason_name(enum service_period_reason reason)
{
	switch (reason) {
	case SERVICE_PERIOD_EXPIRATION:
		return "expiration";
	case SERVICE_PERIOD_BUDGET:
		return "budget";
	case SERVICE_PERIOD_RESET:
		return "reset";
	case SERVICE_PERIOD_MAX_STALE:
		return "max_stale";
	}
	return "expiration";
}
