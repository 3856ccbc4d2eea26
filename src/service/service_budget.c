/* service_budget.c - GitHub's GraphQL points as the syncs saw them; see service_pipeline.h. */
#include "service/service_pipeline.h"

void
service_budget_init(struct service_budget *budget)
{
	pthread_mutex_init(&budget->lock, NULL);
	budget->points_per_sync = -1;
	budget->points_remaining = -1;
}

void
service_budget_destroy(struct service_budget *budget)
{
	pthread_mutex_destroy(&budget->lock);
}

void
service_budget_note(struct service_budget *budget, long long cost, long long remaining)
{
	pthread_mutex_lock(&budget->lock);
	if (cost >= 0)
		budget->points_per_sync = cost;
	if (remaining >= 0)
		budget->points_remaining = remaining;
	pthread_mutex_unlock(&budget->lock);
}

void
service_budget_read(struct service_budget *budget, long long *points_per_sync,
		    long long *points_remaining)
{
	pthread_mutex_lock(&budget->lock);
	*points_per_sync = budget->points_per_sync;
	*points_remaining = budget->points_remaining;
	pthread_mutex_unlock(&budget->lock);
}
