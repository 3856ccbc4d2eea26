/*
 * service.c - the service's lifetime: it creates the stages of the
 * pipeline (service_pipeline.h), gives each source its handle, starts and
 * stops their threads, reloads the configuration, and answers the front
 * ends' reads (views, health).  The only file that sees struct service.
 */
#include "service/service_pipeline.h"

#include <stdio.h>
#include <string.h>

#include "service/service_metrics.h"
#include "util/ga_clock.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

/* Configurations and GitHub clients replaced by a reload stay alive until
 * service_destroy(): requests may still hold them, and reloads are rare. */
struct service_retired {
	struct config **configs;
	size_t config_count;
	struct gh_client **clients;
	size_t client_count;
};

struct service {
	struct service_settings settings;
	struct service_retired retired;		/* main thread only */
	struct cache *cache;
	struct service_metrics *metrics;
	struct service_budget budget;
	struct service_publisher *publisher;
	struct service_refresh *refresh;
	struct service_deliveries *deliveries;
	struct service_poll *poll;
	struct service_shared *shared;		/* NULL without memcached */
	struct service_targeted *targeted;
	bool started;
};

const struct config *
service_settings_config(struct service_settings *settings)
{
	return atomic_load(&settings->config);
}

struct gh_client *
service_settings_github(struct service_settings *settings)
{
	return atomic_load(&settings->client);
}

static void
warn_about_settings(const struct config *config)
{
	if (config->max_stale < config->expiration)
		ga_log(GA_LOG_WARN, "max_stale is shorter than expiration: the snapshot goes "
		       "stale between refreshes and every decision becomes no", (char *)NULL);
}

/* Every stage, each with its handle; metrics registered before anything
 * is published (the snapshot file counts). */
static void
create_stages(struct service *service, const struct service_options *options)
{
	struct service_source source = {
		.settings = &service->settings,
		.budget = &service->budget,
	};
	struct service_metrics_readings readings;

	service->metrics = service_metrics_create();
	service->publisher = service_publisher_create(
		options != NULL ? options->derivations : NULL, service->metrics);
	source.publisher = service->publisher;
	source.metrics = service->metrics;
	source.cache = service->cache;
	service->refresh = service_refresh_create(&source);
	source.refresh = service->refresh;
	if (cache_is_shared(service->cache))
		service->shared = service_shared_create(&source);
	source.cache = NULL;
	service->poll = service_poll_create(&source);
	/* The sources that learn changes share them with the other instances. */
	source.shared = service->shared;
	service->targeted = service_targeted_create(&source);
	source.targeted = service->targeted;
	service->deliveries = service_deliveries_create(&source);
	readings = (struct service_metrics_readings){
		.publisher = service->publisher,
		.settings = &service->settings,
		.cache = service->cache,
		.webhook_memory = service_deliveries_budget(service->deliveries),
		.budget = &service->budget,
	};
	service_metrics_register(service->metrics, &readings);
}

enum ga_rc
service_create(struct config *config, const struct service_options *options,
	       struct service **out, struct ga_err *err)
{
	struct service *service = ga_calloc(1, sizeof(*service));
	struct cache *cache = NULL;
	enum ga_rc rc;

	*out = NULL;
	rc = cache_create(config, &cache, err);
	if (rc != GA_OK) {
		config_free(config);
		ga_free(service);
		return rc;
	}
	service->cache = cache;
	atomic_init(&service->settings.config, config);
	atomic_init(&service->settings.client, gh_client_create(config, NULL));
	service_budget_init(&service->budget);
	create_stages(service, options);
	warn_about_settings(config);
	if (options != NULL && options->snapshot_path != NULL) {
		rc = service_refresh_load_file(service->refresh, options->snapshot_path, err);
		if (rc != GA_OK) {
			service_destroy(service);
			return rc;
		}
	}
	*out = service;
	return GA_OK;
}

enum ga_rc
service_start(struct service *service, struct ga_err *err)
{
	enum ga_rc rc = service_refresh_start(service->refresh, err);

	if (rc != GA_OK)
		return rc;
	service->started = true;
	rc = service_targeted_start(service->targeted, err);
	if (rc == GA_OK)
		rc = service_deliveries_start(service->deliveries, err);
	if (rc == GA_OK)
		rc = service_poll_start(service->poll, err);
	if (rc == GA_OK && service->shared != NULL)
		rc = service_shared_start(service->shared, err);
	if (rc != GA_OK)
		service_stop(service);
	return rc;
}

void
service_stop(struct service *service)
{
	if (!service->started)
		return;
	/* First end every wait on GitHub (a sync in a backoff or a rate-limit
	 * wait, a poll in progress): each thread then ends within moments.  A
	 * retired client may still be the one syncing. */
	gh_client_cancel(service_settings_github(&service->settings));
	for (size_t i = 0; i < service->retired.client_count; i++)
		gh_client_cancel(service->retired.clients[i]);
	service_refresh_stop(service->refresh);
	service_deliveries_stop(service->deliveries);
	service_targeted_stop(service->targeted);
	service_poll_stop(service->poll);
	if (service->shared != NULL)
		service_shared_stop(service->shared);
	service->started = false;
}

void
service_destroy(struct service *service)
{
	if (service == NULL)
		return;
	service_stop(service);
	service_poll_destroy(service->poll);
	service_deliveries_destroy(service->deliveries);
	service_shared_destroy(service->shared);
	service_targeted_destroy(service->targeted);
	service_refresh_destroy(service->refresh);
	service_publisher_destroy(service->publisher);
	/* Token checks still running use the client. */
	cache_stop_checks(service->cache);
	gh_client_destroy(service_settings_github(&service->settings));
	for (size_t i = 0; i < service->retired.client_count; i++)
		gh_client_destroy(service->retired.clients[i]);
	cache_destroy(service->cache);
	service_metrics_destroy(service->metrics);
	service_budget_destroy(&service->budget);
	config_free(atomic_load(&service->settings.config));
	for (size_t i = 0; i < service->retired.config_count; i++)
		config_free(service->retired.configs[i]);
	ga_free(service->retired.clients);
	ga_free(service->retired.configs);
	ga_free(service);
}

void
service_request_refresh(struct service *service)
{
	service_refresh_request(service->refresh);
}

static bool
same_string(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Settings read once at start: say so when a reload changes them. */
static void
log_restart_only_changes(const struct config *old, const struct config *fresh)
{
	if (!same_string(old->listen, fresh->listen))
		ga_log(GA_LOG_WARN, "setting changed; it applies after a restart",
		       "key", "server.listen", (char *)NULL);
	if (old->threads != fresh->threads)
		ga_log(GA_LOG_WARN, "setting changed; it applies after a restart",
		       "key", "server.threads", (char *)NULL);
	if (old->cache_backend != fresh->cache_backend ||
	    !same_string(old->memcache_url, fresh->memcache_url) ||
	    !same_string(old->secret, fresh->secret) ||
	    old->token_cache_entries != fresh->token_cache_entries ||
	    old->expiration != fresh->expiration || old->negative_ttl != fresh->negative_ttl)
		ga_log(GA_LOG_WARN, "token cache settings changed; they apply after a restart",
		       "key", "cache", (char *)NULL);
	if (old->log_level != fresh->log_level || old->log_format != fresh->log_format)
		ga_log(GA_LOG_WARN, "setting changed; it applies after a restart",
		       "key", "log", (char *)NULL);
	if (old->max_token_checks != fresh->max_token_checks ||
	    old->max_token_checks_per_login != fresh->max_token_checks_per_login)
		ga_log(GA_LOG_WARN, "setting changed; it applies after a restart",
		       "key", "github.max_token_checks", (char *)NULL);
	if (old->header_timeout != fresh->header_timeout ||
	    old->max_connections_per_ip != fresh->max_connections_per_ip)
		ga_log(GA_LOG_WARN, "setting changed; it applies after a restart",
		       "key", "server.header_timeout, server.max_connections_per_ip", (char *)NULL);
	if (old->index_max_concurrent_uploads != fresh->index_max_concurrent_uploads ||
	    old->index_max_concurrent_uploads_per_user !=
		    fresh->index_max_concurrent_uploads_per_user ||
	    old->index_max_upload_disk != fresh->index_max_upload_disk)
		ga_log(GA_LOG_WARN, "setting changed; it applies after a restart",
		       "key", "index.max_concurrent_uploads", (char *)NULL);
}

enum ga_rc
service_reload(struct service *service, struct ga_err *err)
{
	struct config *old = atomic_load(&service->settings.config);
	struct gh_client *old_client = atomic_load(&service->settings.client);
	struct config *fresh = NULL;
	struct service_retired *retired = &service->retired;
	enum ga_rc rc;

	rc = config_load(old->path, &fresh, err);
	if (rc != GA_OK)
		return rc;
	log_restart_only_changes(old, fresh);
	warn_about_settings(fresh);
	retired->configs = ga_reallocarray(retired->configs, retired->config_count + 1,
					   sizeof(*retired->configs));
	retired->configs[retired->config_count++] = old;
	retired->clients = ga_reallocarray(retired->clients, retired->client_count + 1,
					   sizeof(*retired->clients));
	retired->clients[retired->client_count++] = old_client;
	atomic_store(&service->settings.client, gh_client_create(fresh, NULL));
	atomic_store(&service->settings.config, fresh);
	/* Kept until exit for the calls still on it, but its connections go now. */
	gh_client_retire(old_client);
	cache_forget_tokens(service->cache);
	service_refresh_rebuild(service->refresh);
	ga_log(GA_LOG_INFO, "configuration reloaded", "file", fresh->path, (char *)NULL);
	return GA_OK;
}

/* ---- what front ends read ------------------------------------------------------ */

const struct config *
service_config(struct service *service)
{
	return service_settings_config(&service->settings);
}

struct cache *
service_cache(struct service *service)
{
	return service->cache;
}

struct gh_client *
service_github(struct service *service)
{
	return service_settings_github(&service->settings);
}

struct ga_metrics *
service_metrics(struct service *service)
{
	return service_metrics_registry(service->metrics);
}

const struct service_view *
service_acquire_view(struct service *service)
{
	const struct service_view *view = service_publisher_acquire(service->publisher);
	const struct config *config = service_settings_config(&service->settings);

	if (view != NULL && ga_wall_s() - service_view_synced_at(view) > config->max_stale) {
		service_release_view(view);
		return NULL;
	}
	return view;
}

struct org_snapshot *
service_acquire_snapshot(struct service *service)
{
	const struct service_view *view = service_acquire_view(service);
	struct org_snapshot *snapshot;

	if (view == NULL)
		return NULL;
	snapshot = org_snapshot_retain((struct org_snapshot *)service_view_snapshot(view));
	service_release_view(view);
	return snapshot;
}

/* ---- webhooks, for the HTTP layer ----------------------------------------------------- */

void
service_count_delivery(struct service *service, enum service_delivery result)
{
	service_metrics_note_delivery(service->metrics, result);
}

struct service_webhook_budget *
service_webhook_budget(struct service *service)
{
	return service_deliveries_budget(service->deliveries);
}

enum service_delivery
service_deliver_webhook(struct service *service, const char *event, const char *delivery,
			struct service_webhook_body *body)
{
	return service_deliveries_take(service->deliveries, event, delivery, body);
}

void
service_get_events_summary(struct service *service, struct service_events_summary *out)
{
	service_metrics_events_summary(service->metrics, out);
}

/* ---- the parts, for service_login.c and the tests ------------------------------------- */

struct service_settings *
service_settings_of(struct service *service)
{
	return &service->settings;
}

struct service_metrics *
service_metrics_of(struct service *service)
{
	return service->metrics;
}

struct service_publisher *
service_publisher_of(struct service *service)
{
	return service->publisher;
}

struct service_shared *
service_shared_of(struct service *service)
{
	return service->shared;
}

/* ---- health --------------------------------------------------------------------------- */

/* The base permission part of /health. */
static void
health_base_permission(const struct org_snapshot *snapshot, const struct config *config,
		       struct service_health *out)
{
	out->base_permission = org_snapshot_base_permission(snapshot);
	out->base_permission_verified = org_snapshot_input(snapshot)->base_permission_known;
	out->base_permission_configured = service_base_permission_unverified(snapshot, config);
}

static void
health_snapshot(const struct service_view *view, const struct config *config,
		struct service_health *out)
{
	const struct org_snapshot *snapshot = service_view_snapshot(view);

	out->has_snapshot = true;
	out->synced_at = service_view_synced_at(view);
	out->snapshot_age = ga_wall_s() - out->synced_at;
	out->members = org_snapshot_member_count(snapshot);
	out->teams = org_snapshot_team_count(snapshot);
	out->packages = org_snapshot_package_count(snapshot);
	snprintf(out->organization, sizeof(out->organization), "%s",
		 org_snapshot_organization(snapshot));
	health_base_permission(snapshot, config, out);
}

static void
health_period(struct service_budget *budget, struct service_health *out)
{
	struct service_period_plan plan;
	long long remaining;

	out->sync_period = -1;
	out->sync_period_reason = NULL;
	out->github_points_limit = -1;
	service_budget_read(budget, &out->github_points_per_sync, &remaining);
	if (!service_budget_last_plan(budget, &plan))
		return;
	out->sync_period = plan.period_s;
	out->sync_period_reason = service_period_reason_name(plan.reason);
	out->github_points_limit = plan.limit;
	out->github_points_limit_assumed = plan.limit_assumed;
}

void
service_get_health(struct service *service, struct service_health *out)
{
	const struct config *config = service_settings_config(&service->settings);
	const struct service_view *view = service_publisher_acquire(service->publisher);
	struct service_refresh_status status;

	memset(out, 0, sizeof(*out));
	out->max_stale = config->max_stale;
	out->snapshot_age = -1;
	if (view != NULL) {
		health_snapshot(view, config, out);
		service_release_view(view);
	}
	out->ready = out->has_snapshot && out->snapshot_age <= config->max_stale;
	if (!out->has_snapshot)
		out->reason = "no snapshot yet";
	else if (!out->ready)
		out->reason = "snapshot older than max_stale: every decision is no";
	snprintf(out->cache, sizeof(out->cache), "%s", cache_status(service->cache));
	service_refresh_get_status(service->refresh, &status);
	out->last_refresh_failed = status.last_refresh_failed;
	snprintf(out->last_error, sizeof(out->last_error), "%s", status.last_error);
	out->last_success_at = status.last_success_at;
	health_period(&service->budget, out);
	service_metrics_counters(service->metrics, &out->counters);
}
