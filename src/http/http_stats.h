/*
 * http_stats.h - per-endpoint request metrics of the HTTP server.
 *
 * At start the server registers, for every route of every front end it
 * serves, a counter per outcome and a latency histogram in the service's
 * registry (service_metrics):
 *
 *   ghaccess_http_requests_total{endpoint="/verify",outcome="allow"}
 *   ghaccess_http_request_duration_seconds_bucket{endpoint="/verify",le="0.001"}
 *
 * endpoint is the route's path as declared (a fixed set: never the
 * request's own path, which a client chooses); "other" for requests no
 * route takes.  outcome is the decision a front end noted
 * (http_request_note_decision: "allow" or "deny"), else it follows the
 * status: "ok" (1xx-3xx), "deny" (401, 403), "client_error" (other 4xx),
 * "error" (5xx, or no answer).
 *
 * Recording is lock-free (atomic increments); create and destroy belong to
 * the server's start and stop.
 */
#ifndef HTTP_STATS_H
#define HTTP_STATS_H

#include "http/http.h"
#include "util/ga_metrics.h"

struct http_stats;

/* Register the series of count front ends' routes in metrics (borrowed;
 * must outlive the stats).  Never fails. */
struct http_stats *http_stats_create(struct ga_metrics *metrics,
				     const struct http_frontend *const *frontends, size_t count);
void http_stats_destroy(struct http_stats *stats);

/* Decision values for http_stats_record. */
#define HTTP_DECISION_NONE (-1)
#define HTTP_DECISION_DENY 0
#define HTTP_DECISION_ALLOW 1

/*
 * One finished request: its route (NULL when none matched), the status
 * sent (0: none), the decision noted (HTTP_DECISION_*) and how long it
 * took.  stats may be NULL.
 */
void http_stats_record(struct http_stats *stats, const struct http_route *route,
		       unsigned status, int decision, long long duration_ns);

#endif
