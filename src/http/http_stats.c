/* http_stats.c - per-endpoint request counters and latency histograms; see http_stats.h. */
#include "http/http_stats.h"

#include "util/ga_xalloc.h"

enum outcome {
	OUTCOME_ALLOW = 0,
	OUTCOME_DENY,
	OUTCOME_OK,
	OUTCOME_CLIENT_ERROR,
	OUTCOME_ERROR,
	OUTCOME_COUNT,
};

static const char *const outcome_names[OUTCOME_COUNT] = {
	"allow", "deny", "ok", "client_error", "error",
};

/* From 100 µs (a pypicloud answer from memory) to 30 s (a large upload). */
static const double latency_bounds[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10, 30,
};

struct endpoint {
	const struct http_route *route;		/* NULL: "other" */
	struct ga_metrics_counter *requests[OUTCOME_COUNT];
	struct ga_metrics_histogram *latency;
};

struct http_stats {
	struct endpoint *endpoints;
	size_t count;
};

static void
register_endpoint(struct ga_metrics *metrics, struct endpoint *endpoint,
		  const struct http_route *route)
{
	const char *name = route != NULL ? route->path : "other";

	endpoint->route = route;
	for (int i = 0; i < OUTCOME_COUNT; i++)
		endpoint->requests[i] = ga_metrics_counter(
			metrics, "ghaccess_http_requests_total",
			"HTTP requests answered, by endpoint and outcome (allow and deny are "
			"access decisions).", "endpoint", name, "outcome", outcome_names[i],
			(char *)NULL);
	endpoint->latency = ga_metrics_histogram(
		metrics, "ghaccess_http_request_duration_seconds",
		"Time from a request's arrival to its end, by endpoint.", latency_bounds,
		sizeof(latency_bounds) / sizeof(latency_bounds[0]), "endpoint", name,
		(char *)NULL);
}

struct http_stats *
http_stats_create(struct ga_metrics *metrics, const struct http_frontend *const *frontends,
		  size_t count)
{
	struct http_stats *stats = ga_calloc(1, sizeof(*stats));
	size_t routes = 1;

	for (size_t i = 0; i < count; i++)
		for (const struct http_route *route = frontends[i]->routes; route->path != NULL;
		     route++)
			routes++;
	stats->endpoints = ga_calloc(routes, sizeof(*stats->endpoints));
	register_endpoint(metrics, &stats->endpoints[stats->count++], NULL);
	for (size_t i = 0; i < count; i++)
		for (const struct http_route *route = frontends[i]->routes; route->path != NULL;
		     route++)
			register_endpoint(metrics, &stats->endpoints[stats->count++], route);
	return stats;
}

void
http_stats_destroy(struct http_stats *stats)
{
	if (stats == NULL)
		return;
	ga_free(stats->endpoints);
	ga_free(stats);
}

static enum outcome
outcome_of(unsigned status, int decision)
{
	if (decision == HTTP_DECISION_ALLOW)
		return OUTCOME_ALLOW;
	if (decision == HTTP_DECISION_DENY || status == 401 || status == 403)
		return OUTCOME_DENY;
	if (status >= 100 && status < 400)
		return OUTCOME_OK;
	if (status >= 400 && status < 500)
		return OUTCOME_CLIENT_ERROR;
	return OUTCOME_ERROR;
}

void
http_stats_record(struct http_stats *stats, const struct http_route *route, unsigned status,
		  int decision, long long duration_ns)
{
	struct endpoint *endpoint = NULL;

	if (stats == NULL)
		return;
	/* A few dozen routes: a scan is cheaper than anything cleverer. */
	for (size_t i = 1; i < stats->count && endpoint == NULL; i++)
		if (stats->endpoints[i].route == route)
			endpoint = &stats->endpoints[i];
	if (endpoint == NULL)
		endpoint = &stats->endpoints[0];
	ga_metrics_counter_add(endpoint->requests[outcome_of(status, decision)], 1);
	ga_metrics_observe(endpoint->latency, (double)duration_ns / 1e9);
}
