/* service.c - the service's lifetime, configuration reloads and health; see service.h. */
#include "service/service_internal.h"

#include <stdio.h>
#include <string.h>

#include "util/ga_log.h"
#include "util/ga_metrics.h"
#include "util/ga_xalloc.h"

static void
init_locks(struct service *service)
{
	pthread_condattr_t attr;

	pthread_mutex_init(&service->publish_lock, NULL);
	pthread_mutex_init(&service->lock, NULL);
	pthread_mutex_init(&service->status_lock, NULL);
	/* The refresh timer must not jump with the wall clock. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&service->wake, &attr);
	pthread_condattr_destroy(&attr);
}

static void
warn_about_settings(const struct config *config)
{
	if (config->max_stale < config->expiration)
		ga_log(GA_LOG_WARN, "max_stale is shorter than expiration: the snapshot goes "
		       "stale between refreshes and every decision becomes no", (char *)NULL);
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
	atomic_init(&service->config, config);
	atomic_init(&service->client, gh_client_create(config, NULL));
	atomic_init(&service->view, NULL);
	atomic_init(&service->base_permission_warned_for, NULL);
	atomic_init(&service->epoch, 0);
	atomic_init(&service->active[0], 0);
	atomic_init(&service->active[1], 0);
	init_locks(service);
	service->metrics = ga_metrics_create();
	service->events = service_events_create(service);
	if (options != NULL && options->derivations != NULL) {
		service->derivations = options->derivations;
		while (options->derivations[service->derivation_count] != NULL)
			service->derivation_count++;
	}
	warn_about_settings(config);
	if (options != NULL && options->snapshot_path != NULL) {
		rc = service_load_snapshot_file(service, options->snapshot_path, err);
		if (rc != GA_OK) {
			service_destroy(service);
			return rc;
		}
		service->loaded_from_file = true;
	}
	*out = service;
	return GA_OK;
}

enum ga_rc
service_start(struct service *service, struct ga_err *err)
{
	int error = pthread_create(&service->thread, NULL, service_refresh_main, service);
	enum ga_rc rc;

	if (error != 0)
		return ga_err_set(err, GA_EIO, "cannot start the refresh thread: %s",
				  strerror(error));
	service->thread_started = true;
	rc = service_events_start(service->events, err);
	if (rc != GA_OK)
		service_stop(service);
	return rc;
}

void
service_stop(struct service *service)
{
	if (!service->thread_started)
		return;
	pthread_mutex_lock(&service->lock);
	service->stopping = true;
	pthread_cond_signal(&service->wake);
	pthread_mutex_unlock(&service->lock);
	/* A sync may be waiting out a backoff or a rate limit: cut it short.
	 * A retired client may still be the one syncing. */
	gh_client_cancel(atomic_load(&service->client));
	for (size_t i = 0; i < service->retired.client_count; i++)
		gh_client_cancel(service->retired.clients[i]);
	service_events_stop(service->events);
	pthread_join(service->thread, NULL);
	service->thread_started = false;
}

void
service_destroy(struct service *service)
{
	if (service == NULL)
		return;
	service_stop(service);
	service_events_destroy(service->events);
	service->events = NULL;
	service_clear_view(service);
	/* Token checks still running use the client. */
	cache_stop_checks(service->cache);
	gh_client_destroy(atomic_load(&service->client));
	for (size_t i = 0; i < service->retired.client_count; i++)
		gh_client_destroy(service->retired.clients[i]);
	cache_destroy(service->cache);
	ga_metrics_destroy(service->metrics);
	config_free(atomic_load(&service->config));
	for (size_t i = 0; i < service->retired.config_count; i++)
		config_free(service->retired.configs[i]);
	ga_free(service->retired.clients);
	ga_free(service->retired.configs);
	pthread_cond_destroy(&service->wake);
	pthread_mutex_destroy(&service->lock);
	pthread_mutex_destroy(&service->status_lock);
	pthread_mutex_destroy(&service->publish_lock);
	ga_free(service);
}

void
service_request_refresh(struct service *service)
{
	pthread_mutex_lock(&service->lock);
	service->refresh_requested = true;
	pthread_cond_signal(&service->wake);
	pthread_mutex_unlock(&service->lock);
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
	struct config *old = atomic_load(&service->config);
	struct gh_client *old_client = atomic_load(&service->client);
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
	atomic_store(&service->client, gh_client_create(fresh, NULL));
	atomic_store(&service->config, fresh);
	/* Kept until exit for the calls still on it, but its connections go now. */
	gh_client_retire(old_client);
	cache_forget_tokens(service->cache);

	pthread_mutex_lock(&service->lock);
	service->rebuild_requested = true;
	service->refresh_requested = true;
	pthread_cond_signal(&service->wake);
	pthread_mutex_unlock(&service->lock);
	ga_log(GA_LOG_INFO, "configuration reloaded", "file", fresh->path, (char *)NULL);
	return GA_OK;
}

const struct config *
service_config(struct service *service)
{
	return atomic_load(&service->config);
}

struct cache *
service_cache(struct service *service)
{
	return service->cache;
}

struct gh_client *
service_github(struct service *service)
{
	return atomic_load(&service->client);
}

void
service_note_refresh(struct service *service, bool ok, const struct ga_err *err)
{
	pthread_mutex_lock(&service->status_lock);
	service->last_refresh_failed = !ok;
	if (ok) {
		service->last_error[0] = '\0';
		service->last_success_at = service_now();
	} else {
		snprintf(service->last_error, sizeof(service->last_error), "%s",
			 err != NULL && err->message[0] != '\0' ? err->message : "unknown error");
	}
	pthread_mutex_unlock(&service->status_lock);
}

static void
load_counters(struct service *service, struct service_counters *out)
{
	struct service_atomic_counters *c = &service->counters;

	out->logins_ok = atomic_load(&c->logins_ok);
	out->logins_refused = atomic_load(&c->logins_refused);
	out->logins_unverified = atomic_load(&c->logins_unverified);
	out->logins_busy = atomic_load(&c->logins_busy);
	out->syncs_ok = atomic_load(&c->syncs_ok);
	out->syncs_failed = atomic_load(&c->syncs_failed);
	out->snapshots_adopted = atomic_load(&c->snapshots_adopted);
	out->snapshots_published = atomic_load(&c->snapshots_published);
}

bool
service_base_permission_unverified(const struct org_snapshot *snapshot,
				   const struct config *config)
{
	return !org_snapshot_input(snapshot)->base_permission_known &&
	       config->base_permission != CONFIG_PERMISSION_UNSET;
}

void
service_note_base_permission(struct service *service, const struct org_snapshot *snapshot,
			     const struct config *config)
{
	if (!service_base_permission_unverified(snapshot, config) ||
	    atomic_exchange(&service->base_permission_warned_for, config) == config)
		return;
	ga_log(GA_LOG_WARN,
	       "the configured [github] base_permission is in force and unverified: the token "
	       "cannot read the organization's base permission (it needs admin:org), so an owner "
	       "lowering it on GitHub goes unnoticed until the configuration changes",
	       "base_permission", org_level_name(org_snapshot_base_permission(snapshot)),
	       (char *)NULL);
}

/* The base permission part of /health. */
static void
health_base_permission(const struct org_snapshot *snapshot, const struct config *config,
		       struct service_health *out)
{
	out->base_permission = org_snapshot_base_permission(snapshot);
	out->base_permission_verified = org_snapshot_input(snapshot)->base_permission_known;
	out->base_permission_configured = service_base_permission_unverified(snapshot, config);
}

void
service_get_health(struct service *service, struct service_health *out)
{
	const struct config *config = atomic_load(&service->config);
	const struct service_view *view = service_acquire_view_any_age(service);

	memset(out, 0, sizeof(*out));
	out->max_stale = config->max_stale;
	out->snapshot_age = -1;
	if (view != NULL) {
		const struct org_snapshot *snapshot = view->snapshot;

		out->has_snapshot = true;
		out->synced_at = view->synced_at;
		out->snapshot_age = service_now() - view->synced_at;
		out->members = org_snapshot_member_count(snapshot);
		out->teams = org_snapshot_team_count(snapshot);
		out->packages = org_snapshot_package_count(snapshot);
		snprintf(out->organization, sizeof(out->organization), "%s",
			 org_snapshot_organization(snapshot));
		health_base_permission(snapshot, config, out);
		service_release_view(view);
	}
	out->ready = out->has_snapshot && out->snapshot_age <= config->max_stale;
	if (!out->has_snapshot)
		out->reason = "no snapshot yet";
	else if (!out->ready)
		out->reason = "snapshot older than max_stale: every decision is no";
	snprintf(out->cache, sizeof(out->cache), "%s", cache_status(service->cache));
	pthread_mutex_lock(&service->status_lock);
	out->last_refresh_failed = service->last_refresh_failed;
	snprintf(out->last_error, sizeof(out->last_error), "%s", service->last_error);
	out->last_success_at = service->last_success_at;
	pthread_mutex_unlock(&service->status_lock);
	load_counters(service, &out->counters);
}
