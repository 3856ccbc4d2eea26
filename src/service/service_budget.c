/*
 * service_budget.c - GitHub's GraphQL points as the syncs saw them, and the
 * full sync's period planned from them (service_period.c); see
 * service_pipeline.h.
 */
#include "service/service_pipeline.h"

#include <stdio.h>

#include "config/config.h"
#include "util/ga_clock.h"
#include "util/ga_log.h"

void
service_budget_init(struct service_budget *budget)
{
	pthread_mutex_init(&budget->lock, NULL);
	budget->seen.points_per_sync = -1;
	budget->seen.limit = -1;
	budget->seen.remaining = -1;
	budget->seen.reset_at = -1;
	budget->last_sync_ms = -1;
	budget->planned = false;
	service_period_bucket_init(&budget->bucket);
}

void
service_budget_destroy(struct service_budget *budget)
{
	pthread_mutex_destroy(&budget->lock);
}

/* Under the lock: what GitHub said of the budget; unknown values keep the
 * last known ones. */
static void
note_rate_limit_locked(struct service_budget *budget, const struct gh_sync_stats *stats)
{
	if (stats->rate_limit_remaining >= 0)
		budget->seen.remaining = stats->rate_limit_remaining;
	if (stats->rate_limit_limit > 0)
		budget->seen.limit = stats->rate_limit_limit;
	if (stats->rate_limit_reset_at >= 0)
		budget->seen.reset_at = stats->rate_limit_reset_at;
}

void
service_budget_note(struct service_budget *budget, const struct gh_sync_stats *stats, bool ok,
		    const struct config *config)
{
	struct service_period_plan plan;
	long long now_ms = ga_monotonic_ms();

	pthread_mutex_lock(&budget->lock);
	/* Only a good sync's cost is a full sync's; a failed one stopped early. */
	if (ok && stats->graphql_points >= 0)
		budget->seen.points_per_sync = stats->graphql_points;
	note_rate_limit_locked(budget, stats);
	budget->last_sync_ms = now_ms;
	/* What it spent, failed or not, comes out of the bucket. */
	service_period_plan(&budget->seen, config->budget_share, config->expiration,
			    config->max_stale, ga_wall_s(), &plan);
	service_period_bucket_take(&budget->bucket, &plan, stats->graphql_points, now_ms);
	pthread_mutex_unlock(&budget->lock);
}

void
service_budget_note_rate_limit(struct service_budget *budget, const struct gh_sync_stats *stats)
{
	pthread_mutex_lock(&budget->lock);
	note_rate_limit_locked(budget, stats);
	pthread_mutex_unlock(&budget->lock);
}

void
service_budget_read(struct service_budget *budget, long long *points_per_sync,
		    long long *points_remaining)
{
	pthread_mutex_lock(&budget->lock);
	*points_per_sync = budget->seen.points_per_sync;
	*points_remaining = budget->seen.remaining;
	pthread_mutex_unlock(&budget->lock);
}

static void
log_plan(const struct service_period_plan *plan, const struct service_period_budget *seen)
{
	char period[24], cost[24], limit[32], remaining[24], share[24];

	snprintf(period, sizeof(period), "%lld", plan->period_s);
	snprintf(cost, sizeof(cost), "%lld", seen->points_per_sync);
	snprintf(limit, sizeof(limit), "%lld%s", plan->limit, plan->limit_assumed ? "(assumed)" : "");
	snprintf(remaining, sizeof(remaining), "%lld", seen->remaining);
	snprintf(share, sizeof(share), "%lld.%03lld", plan->share / 1000, plan->share % 1000);
	/* Over the share to keep the data usable: the operator should know. */
	ga_log(plan->reason == SERVICE_PERIOD_MAX_STALE ? GA_LOG_WARN : GA_LOG_INFO,
	       "full sync period planned", "period_s", period, "reason",
	       service_period_reason_name(plan->reason), "points_per_sync", cost,
	       "limit", limit, "remaining", remaining, "budget_share", share, (char *)NULL);
}

long long
service_budget_period_ms(struct service_budget *budget, const struct config *config,
			 struct service_period_plan *out)
{
	struct service_period_plan plan;
	struct service_period_budget seen;
	bool changed;
	long long wait_ms;

	pthread_mutex_lock(&budget->lock);
	seen = budget->seen;
	service_period_plan(&seen, config->budget_share, config->expiration,
			    config->max_stale, ga_wall_s(), &plan);
	changed = !budget->planned || budget->plan.period_s != plan.period_s ||
		  budget->plan.reason != plan.reason;
	budget->plan = plan;
	budget->planned = true;
	wait_ms = service_period_bucket_wait_ms(&budget->bucket, &plan, ga_monotonic_ms());
	pthread_mutex_unlock(&budget->lock);
	if (changed)
		log_plan(&plan, &seen);
	if (out != NULL)
		*out = plan;
	/* Webhook-asked syncs may have spent the bucket: wait for it, but never
	 * so long that the data passes max_stale. */
	if (wait_ms > plan.stale_cap_s * 1000)
		wait_ms = plan.stale_cap_s * 1000;
	return wait_ms > plan.period_s * 1000 ? wait_ms : plan.period_s * 1000;
}

bool
service_budget_last_plan(struct service_budget *budget, struct service_period_plan *out)
{
	bool planned;

	pthread_mutex_lock(&budget->lock);
	planned = budget->planned;
	*out = budget->plan;
	pthread_mutex_unlock(&budget->lock);
	return planned;
}

long long
service_budget_sync_wait_ms(struct service_budget *budget, const struct config *config,
			    long long now_ms)
{
	struct service_period_plan plan;
	long long wait_ms, reset_ms = 0;

	pthread_mutex_lock(&budget->lock);
	service_period_plan(&budget->seen, config->budget_share, config->expiration,
			    config->max_stale, ga_wall_s(), &plan);
	wait_ms = service_period_bucket_wait_ms(&budget->bucket, &plan, now_ms);
	if (plan.reset_wait_s > 0 && budget->last_sync_ms >= 0)
		reset_ms = budget->last_sync_ms + plan.reset_wait_s * 1000 - now_ms;
	pthread_mutex_unlock(&budget->lock);
	return reset_ms > wait_ms ? reset_ms : wait_ms;
}
