/* test_service_period.c - the full sync's period planned from GitHub's budget (service_period.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "service/service_period.h"

#define NOW 1800000000LL

static struct service_period_plan
plan(long long cost, long long limit, long long remaining, long long reset_at, long long share,
     long long expiration)
{
	struct service_period_budget budget = { cost, limit, remaining, reset_at };
	struct service_period_plan out;

	service_period_plan(&budget, share, expiration, 7 * 24 * 3600, NOW, &out);
	return out;
}

/* Points an hour that syncing every plan.min_gap_s seconds spends. */
static double
points_per_hour(long long cost, const struct service_period_plan *p)
{
	return (double)cost * 3600.0 / (double)p->min_gap_s;
}

/* The figures: 646 points per 30k sync, 5,000 an hour, a quarter:
 * at most 1,250 points an hour, so a sync every 1,861 s at the soonest,
 * whatever expiration = 10 asks. */
static void
test_budget_overrides_expiration(void **state)
{
	struct service_period_plan p = plan(646, 5000, 4000, NOW + 1200, 250, 10);

	(void)state;
	assert_int_equal(p.reason, SERVICE_PERIOD_BUDGET);
	assert_int_equal(p.period_s, 1861);
	assert_int_equal(p.min_gap_s, 1861);
	assert_int_equal(p.limit, 5000);
	assert_false(p.limit_assumed);
	assert_true(points_per_hour(646, &p) <= 1250.0);
	assert_true(points_per_hour(646, &p) > 1249.0);
	assert_string_equal(service_period_reason_name(p.reason), "budget");
}

/* A small organization: the budget allows expiration, which stays the
 * period; webhook-asked syncs may come as soon as the budget allows. */
static void
test_expiration_when_the_budget_allows(void **state)
{
	struct service_period_plan p = plan(10, 5000, 4990, NOW + 3000, 250, 300);

	(void)state;
	assert_int_equal(p.reason, SERVICE_PERIOD_EXPIRATION);
	assert_int_equal(p.period_s, 300);
	assert_int_equal(p.min_gap_s, 29);		/* ceil(10 * 3600 / 1250) */
	assert_string_equal(service_period_reason_name(p.reason), "expiration");
	/* The exact boundary: the gap equal to expiration is expiration's. */
	p = plan(125, 5000, 4000, NOW + 3000, 250, 360);
	assert_int_equal(p.min_gap_s, 360);
	assert_int_equal(p.period_s, 360);
	assert_int_equal(p.reason, SERVICE_PERIOD_EXPIRATION);
}

/* A larger limit (an App on Enterprise Cloud: 10,000) shortens the period. */
static void
test_the_reported_limit_is_used(void **state)
{
	struct service_period_plan p = plan(2106, 10000, 9000, NOW + 3000, 250, 300);

	(void)state;
	assert_int_equal(p.reason, SERVICE_PERIOD_BUDGET);
	assert_int_equal(p.period_s, 3033);		/* ceil(2106 * 3600 / 2500) */
	assert_false(p.limit_assumed);
}

/* No x-ratelimit-limit (a GitHub Enterprise Server without rate limits,
 * an answer without the header): the smallest documented budget. */
static void
test_unknown_limit_assumes_the_smallest_budget(void **state)
{
	struct service_period_plan p = plan(646, -1, -1, -1, 250, 10);

	(void)state;
	assert_true(p.limit_assumed);
	assert_int_equal(p.limit, SERVICE_PERIOD_ASSUMED_LIMIT);
	assert_int_equal(p.period_s, 1861);
	assert_int_equal(p.reason, SERVICE_PERIOD_BUDGET);
	p = plan(646, 0, -1, -1, 250, 10);
	assert_true(p.limit_assumed);
	assert_int_equal(p.period_s, 1861);
	/* An absurd limit is not believed beyond a million points. */
	p = plan(646, 1LL << 50, -1, -1, 1000, 1);
	assert_int_equal(p.limit, 1000000);
	assert_int_equal(p.period_s, 3);
}

/* Before the first good sync the cost is unknown: expiration, no gap (that
 * first sync runs anyway). */
static void
test_unknown_cost(void **state)
{
	struct service_period_plan p = plan(-1, -1, -1, -1, 250, 10);

	(void)state;
	assert_int_equal(p.period_s, 10);
	assert_int_equal(p.min_gap_s, 0);
	assert_int_equal(p.reason, SERVICE_PERIOD_EXPIRATION);
	p = plan(0, 5000, 5000, NOW + 10, 250, 10);	/* free (GHES): expiration */
	assert_int_equal(p.period_s, 10);
	assert_int_equal(p.min_gap_s, 0);
}

/* Fewer points left than a sync costs: wait for the reset, not fail midway. */
static void
test_remaining_low_waits_for_the_reset(void **state)
{
	struct service_period_plan p = plan(646, 5000, 600, NOW + 2500, 250, 10);

	(void)state;
	assert_int_equal(p.reason, SERVICE_PERIOD_RESET);
	assert_int_equal(p.period_s, 2501);
	assert_int_equal(p.reset_wait_s, 2501);
	assert_int_equal(p.min_gap_s, 1861);
	assert_string_equal(service_period_reason_name(p.reason), "reset");
	/* Reset sooner than the budget's gap: the budget's period stands,
	 * and so does its reason. */
	p = plan(646, 5000, 600, NOW + 100, 250, 10);
	assert_int_equal(p.period_s, 1861);
	assert_int_equal(p.reason, SERVICE_PERIOD_BUDGET);
	/* Enough left: no wait. */
	p = plan(646, 5000, 646, NOW + 3000, 1000, 10);
	assert_int_equal(p.period_s, 466);
	assert_int_equal(p.reason, SERVICE_PERIOD_BUDGET);
	/* Reset unknown, in the past, or absurdly far: an hour at most. */
	p = plan(646, 5000, 0, -1, 1000, 10);
	assert_int_equal(p.period_s, 3600);
	assert_int_equal(p.reason, SERVICE_PERIOD_RESET);
	p = plan(646, 5000, 0, NOW - 5, 1000, 10);
	assert_int_equal(p.period_s, 3600);
	p = plan(646, 5000, 0, NOW + 1000000, 1000, 10);
	assert_int_equal(p.period_s, 3601);
}

/* The share is bounded whatever the caller passes: 0.01 .. 1. */
static void
test_share_bounds(void **state)
{
	struct service_period_plan p;

	(void)state;
	p = plan(646, 5000, 5000, NOW + 3000, 0, 10);
	assert_int_equal(p.share, SERVICE_PERIOD_SHARE_MIN);
	assert_int_equal(p.period_s, 46512);		/* ceil(646 * 3600 / 50) */
	p = plan(646, 5000, 5000, NOW + 3000, -250, 10);
	assert_int_equal(p.share, SERVICE_PERIOD_SHARE_MIN);
	p = plan(646, 5000, 5000, NOW + 3000, 5000, 10);
	assert_int_equal(p.share, SERVICE_PERIOD_SHARE_MAX);
	assert_int_equal(p.period_s, 466);		/* the whole budget, never more */
	assert_true(points_per_hour(646, &p) <= 5000.0);
	/* A week at most, whatever the cost (memcached lifetimes stay relative). */
	p = plan(1LL << 40, 1, 1LL << 41, NOW + 10, 10, 10);
	assert_int_equal(p.min_gap_s, SERVICE_PERIOD_MAX_S);
	assert_int_equal(p.period_s, 7 * 24 * 3600 * 9 / 10);	/* max_stale's cap, below */
	assert_int_equal(p.reason, SERVICE_PERIOD_MAX_STALE);
	/* Expiration below one second is one second. */
	p = plan(-1, -1, -1, -1, 250, 0);
	assert_int_equal(p.period_s, 1);
}

/* Whatever GitHub says, syncing every min_gap_s spends at most the share. */
static void
test_never_more_than_the_share(void **state)
{
	static const long long costs[] = { 1, 7, 326, 646, 999, 2106, 4999, 5000, 12000 };
	static const long long limits[] = { 5000, 10000, 12500, 15000 };
	static const long long shares[] = { 10, 100, 250, 333, 500, 1000 };

	(void)state;
	for (size_t c = 0; c < sizeof(costs) / sizeof(costs[0]); c++)
		for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++)
			for (size_t s = 0; s < sizeof(shares) / sizeof(shares[0]); s++) {
				struct service_period_plan p = plan(costs[c], limits[l], limits[l],
								    NOW + 3600, shares[s], 1);

				if (p.min_gap_s >= SERVICE_PERIOD_MAX_S)
					continue;
				assert_true(points_per_hour(costs[c], &p) * 1000.0 <=
					    (double)limits[l] * (double)shares[s]);
				assert_true(p.period_s >= p.min_gap_s);
			}
}

/* A period past max_stale would answer no to everyone for part of each
 * period: it stops short of it (9/10), over the share, and says so. */
static void
test_max_stale_caps_the_period(void **state)
{
	struct service_period_budget budget = { 2106, 5000, 2894, NOW + 3000 };
	struct service_period_plan p;

	(void)state;
	service_period_plan(&budget, 250, 300, 3600, NOW, &p);
	assert_int_equal(p.reason, SERVICE_PERIOD_MAX_STALE);
	assert_int_equal(p.period_s, 3240);
	assert_int_equal(p.min_gap_s, 6066);		/* what the share alone would ask */
	assert_string_equal(service_period_reason_name(p.reason), "max_stale");
	/* A larger max_stale: the share stands. */
	service_period_plan(&budget, 250, 300, 7200, NOW, &p);
	assert_int_equal(p.reason, SERVICE_PERIOD_BUDGET);
	assert_int_equal(p.period_s, 6066);
	/* A short max_stale: at least a second short of it, so that a failed
	 * sync is seen before the data turns stale. */
	service_period_plan(&budget, 250, 1, 3, NOW, &p);
	assert_int_equal(p.period_s, 2);
	assert_int_equal(p.reason, SERVICE_PERIOD_MAX_STALE);
	/* max_stale = expiration: expiration, whatever the margin. */
	service_period_plan(&budget, 250, 600, 600, NOW, &p);
	assert_int_equal(p.period_s, 600);
	assert_int_equal(p.reason, SERVICE_PERIOD_MAX_STALE);
	/* Waiting for the reset is not capped: no sync could succeed before. */
	budget.remaining = 10;
	service_period_plan(&budget, 250, 60, 600, NOW, &p);
	assert_int_equal(p.reason, SERVICE_PERIOD_RESET);
	assert_int_equal(p.period_s, 3001);
}

/* ---- the bucket: every full sync, webhook-asked ones included ---------------- */

/* A large organization: the bucket holds one sync; after the first, the
 * next may start only when the share has paid for it again. */
static void
test_bucket_large_organization(void **state)
{
	struct service_period_plan p = plan(646, 5000, 4354, NOW + 3000, 250, 10);
	struct service_period_bucket bucket;
	long long t = 1000000;

	(void)state;
	service_period_bucket_init(&bucket);
	assert_int_equal(service_period_bucket_wait_ms(&bucket, &p, t), 0);	/* full */
	service_period_bucket_take(&bucket, &p, 646, t);
	/* 646 points at 1,250 an hour: 1,860.5 s. */
	assert_int_equal(service_period_bucket_wait_ms(&bucket, &p, t) / 1000, 1860);
	assert_true(service_period_bucket_wait_ms(&bucket, &p, t + 90000) > 1700000);
	assert_int_equal(service_period_bucket_wait_ms(&bucket, &p, t + 1861000), 0);
	/* It never holds more than one sync: a long quiet time buys no burst. */
	assert_int_equal(service_period_bucket_wait_ms(&bucket, &p, t + 100LL * 3600000), 0);
	service_period_bucket_take(&bucket, &p, 646, t + 100LL * 3600000);
	assert_true(service_period_bucket_wait_ms(&bucket, &p, t + 100LL * 3600000) > 1800000);
}

/* A small organization: five minutes of the share (104 points) is a burst
 * of a few quick webhook refreshes, then one sync per 29 s. */
static void
test_bucket_small_organization(void **state)
{
	struct service_period_plan p = plan(10, 5000, 4990, NOW + 3000, 250, 300);
	struct service_period_bucket bucket;
	long long t = 5000;
	int quick = 0;

	(void)state;
	service_period_bucket_init(&bucket);
	while (service_period_bucket_wait_ms(&bucket, &p, t) == 0 && quick < 100) {
		service_period_bucket_take(&bucket, &p, 10, t);
		quick++;
	}
	assert_int_equal(quick, 10);		/* 104.2 points: ten syncs */
	assert_true(service_period_bucket_wait_ms(&bucket, &p, t) <= 29000);
	/* A failed sync's points count too; more than the bucket holds is a debt. */
	service_period_bucket_take(&bucket, &p, 500, t);
	assert_true(service_period_bucket_wait_ms(&bucket, &p, t) > 1400000);
}

/* Over any time, what the bucket lets through is the share pro rata plus
 * its capacity, whoever asks and however often. */
static void
test_bucket_bounds_any_asking(void **state)
{
	static const long long costs[] = { 3, 10, 104, 646, 2106 };

	(void)state;
	for (size_t c = 0; c < sizeof(costs) / sizeof(costs[0]); c++) {
		struct service_period_plan p = plan(costs[c], 5000, 5000, NOW + 3600, 250, 1);
		struct service_period_bucket bucket;
		long long spent = 0, start = 77000, end = start + 3LL * 3600 * 1000;
		double burst = 1250.0 * SERVICE_PERIOD_BURST_S / 3600;

		service_period_bucket_init(&bucket);
		for (long long t = start; t < end; t += 1000) {	/* asked every second */
			if (service_period_bucket_wait_ms(&bucket, &p, t) != 0)
				continue;
			service_period_bucket_take(&bucket, &p, costs[c], t);
			spent += costs[c];
		}
		assert_true((double)spent <= 1250.0 * 3 + (costs[c] > burst ? costs[c] : burst));
		assert_true((double)spent >= 1250.0 * 3 * 0.9);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_budget_overrides_expiration),
		cmocka_unit_test(test_expiration_when_the_budget_allows),
		cmocka_unit_test(test_the_reported_limit_is_used),
		cmocka_unit_test(test_unknown_limit_assumes_the_smallest_budget),
		cmocka_unit_test(test_unknown_cost),
		cmocka_unit_test(test_remaining_low_waits_for_the_reset),
		cmocka_unit_test(test_share_bounds),
		cmocka_unit_test(test_never_more_than_the_share),
		cmocka_unit_test(test_max_stale_caps_the_period),
		cmocka_unit_test(test_bucket_large_organization),
		cmocka_unit_test(test_bucket_small_organization),
		cmocka_unit_test(test_bucket_bounds_any_asking),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
