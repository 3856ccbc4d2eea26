/* http_metrics.c - GET /metrics: the service's registry in the Prometheus text format. */
#include "http/http.h"

#include "util/ga_buf.h"
#include "util/ga_log.h"
#include "util/ga_metrics.h"

/* A few hundred series take tens of kilobytes; this is far beyond. */
#define METRICS_BODY_MAX ((size_t)16 << 20)

static void
handle_metrics(struct http_request *request)
{
	struct ga_buf body;
	size_t len;

	ga_buf_init(&body, METRICS_BODY_MAX);
	if (!ga_metrics_write(service_metrics(request->service), &body))
		ga_log(GA_LOG_WARN, "metrics: output cut at the size limit", (char *)NULL);
	len = body.len;
	http_respond(request, MHD_HTTP_OK, GA_METRICS_CONTENT_TYPE, ga_buf_steal(&body), len,
		     HTTP_BODY_TAKE);
}

static const struct http_route metrics_routes[] = {
	{ .path = "/metrics", .methods = HTTP_GET | HTTP_HEAD, .handle = handle_metrics },
	{ .path = NULL },
};

const struct http_frontend http_metrics_frontend = {
	.name = "metrics",
	.routes = metrics_routes,
	.backend_auth = false,
	.max_body = 0,
	.derivation = NULL,
	.enabled = NULL,
};
