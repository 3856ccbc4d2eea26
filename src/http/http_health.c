/* http_health.c - GET /health for load balancers: 200 when decisions are made, else 503. */
#include "http/http.h"

#include "http/http_json.h"
#include "util/ga_buf.h"

static void
append_number(struct ga_buf *buf, const char *key, long long value)
{
	ga_buf_printf(buf, ",\"%s\":%lld", key, value);
}

/* Where the base permission in force comes from; a configured value the
 * token cannot verify is said in words, for whoever reads /health. */
static void
append_base_permission(struct ga_buf *buf, const struct service_health *health)
{
	ga_buf_append_str(buf, ",\"base_permission\":{\"level\":");
	http_json_string(buf, org_level_name(health->base_permission));
	ga_buf_append_str(buf, ",\"source\":");
	http_json_string(buf, health->base_permission_verified	   ? "github"
			       : health->base_permission_configured ? "configured"
								    : "assumed");
	ga_buf_printf(buf, ",\"verified\":%s", health->base_permission_verified ? "true" : "false");
	if (health->base_permission_configured) {
		ga_buf_append_str(buf, ",\"warning\":");
		http_json_string(buf, "the configured [github] base_permission is in force and "
				      "unverified: the token cannot read the organization's base "
				      "permission (it needs admin:org), so an owner lowering it on "
				      "GitHub goes unnoticed");
	}
	ga_buf_append_char(buf, '}');
}

/* The full sync's planned period and why: null before the first plan. */
static void
append_period(struct ga_buf *buf, const struct service_health *health)
{
	if (health->sync_period_reason == NULL) {
		ga_buf_append_str(buf, ",\"sync_period\":null");
		return;
	}
	ga_buf_append_str(buf, ",\"sync_period\":{");
	ga_buf_printf(buf, "\"seconds\":%lld,\"reason\":", health->sync_period);
	http_json_string(buf, health->sync_period_reason);
	ga_buf_printf(buf, ",\"points_per_sync\":%lld,\"points_limit\":%lld,"
		      "\"points_limit_assumed\":%s}", health->github_points_per_sync,
		      health->github_points_limit,
		      health->github_points_limit_assumed ? "true" : "false");
}

static void
handle_health(struct http_request *request)
{
	struct service_health health;
	struct ga_buf buf;
	size_t len;

	service_get_health(request->service, &health);
	ga_buf_init(&buf, 0);
	ga_buf_append_str(&buf, "{\"status\":");
	http_json_string(&buf, health.ready ? "ok" : health.has_snapshot ? "stale" : "starting");
	if (!health.ready) {
		ga_buf_append_str(&buf, ",\"reason\":");
		http_json_string(&buf, health.reason);
	}
	if (health.has_snapshot) {
		ga_buf_append_str(&buf, ",\"organization\":");
		http_json_string(&buf, health.organization);
		append_number(&buf, "snapshot_age_seconds", health.snapshot_age);
		append_number(&buf, "synced_at", health.synced_at);
		append_base_permission(&buf, &health);
	} else {
		ga_buf_append_str(&buf, ",\"snapshot_age_seconds\":null");
	}
	append_number(&buf, "max_stale_seconds", health.max_stale);
	append_number(&buf, "members", (long long)health.members);
	append_number(&buf, "teams", (long long)health.teams);
	append_number(&buf, "packages", (long long)health.packages);
	ga_buf_append_str(&buf, ",\"cache\":");
	http_json_string(&buf, health.cache);
	if (health.last_refresh_failed) {
		ga_buf_append_str(&buf, ",\"last_sync_error\":");
		http_json_string(&buf, health.last_error);
	}
	append_number(&buf, "last_success_at", health.last_success_at);
	append_period(&buf, &health);
	append_number(&buf, "syncs", (long long)health.counters.syncs_ok);
	append_number(&buf, "sync_failures", (long long)health.counters.syncs_failed);
	append_number(&buf, "snapshots_adopted", (long long)health.counters.snapshots_adopted);
	append_number(&buf, "shared_changes_appended",
		      (long long)health.counters.shared_changes_appended);
	append_number(&buf, "shared_changes_applied",
		      (long long)health.counters.shared_changes_applied);
	append_number(&buf, "shared_changes_refused",
		      (long long)health.counters.shared_changes_refused);
	append_number(&buf, "shared_change_log_gaps",
		      (long long)health.counters.shared_change_log_gaps);
	append_number(&buf, "shared_changes_pending",
		      (long long)health.counters.shared_changes_pending);
	ga_buf_append_char(&buf, '}');
	len = buf.len;
	http_respond(request, health.ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, NULL,
		     ga_buf_steal(&buf), len, HTTP_BODY_TAKE);
}

#define GET_OR_HEAD (HTTP_GET | HTTP_HEAD)

static const struct http_route health_routes[] = {
	{ .path = "/health", .methods = GET_OR_HEAD, .handle = handle_health },
	{ .path = NULL },
};

/* No backend credentials: load balancers and orchestrators ask without. */
const struct http_frontend http_health_frontend = {
	.name = "health",
	.routes = health_routes,
	.backend_auth = false,
	.max_body = 0,
	.derivation = NULL,
	.enabled = NULL,
};
