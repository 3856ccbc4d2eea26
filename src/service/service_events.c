/*
 * service_events.c - what happens between two periodic refreshes: webhook
 * deliveries (queued by POST /webhook, handled here after the answer),
 * removals applied to the organization data at once, debounced refreshes,
 * ETag polls for what no webhook reports; and the service's metrics.
 *
 * Two threads of their own: one for deliveries and the refreshes they ask
 * for, so that neither a slow sync (on the refresh thread) nor a hung poll
 * delays a removal; one for the polls.
 */
#include "service/service_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "github/gh_poll.h"
#include "service/service_webhook.h"
#include "util/ga_log.h"
#include "util/ga_metrics.h"
#include "util/ga_xalloc.h"

/* Deliveries waiting for the thread: GitHub sends them one by one, so a
 * long queue means the thread is stuck; refuse rather than grow.  Their
 * bytes stay within the webhook memory budget ([webhook] max_memory). */
#define QUEUE_MAX 256
/* A republish that lost a race with a newer sync tries again this often. */
#define REPUBLISH_TRIES 5
/* X-GitHub-Event names are short lower-case words. */
#define EVENT_MAX 64
#define GITHUB_REQUESTS_HELP \
	"Requests to GitHub: graphql and rest (syncs, polls, retries included), user " \
	"(token checks)."

#ifndef GHACCESS_VERSION
#define GHACCESS_VERSION "0.0.0"
#endif

struct queued_delivery {
	struct queued_delivery *next;
	char event[EVENT_MAX];
	char delivery[SERVICE_WEBHOOK_DELIVERY_MAX + 1];
	struct service_webhook_body *body;	/* verified; holds its budget */
};

struct service_events {
	struct service *service;
	struct service_webhook_budget budget;		/* every body in flight */
	struct service_webhook_replay *replay;		/* delivery ids */
	struct service_webhook_replay *bodies;		/* signed bodies, by their HMAC */
	struct service_webhook_revocations *revocations;
	struct gh_poll *poll;

	pthread_t thread;		/* deliveries and their refreshes */
	pthread_t poller;		/* ETag polls */
	bool started;
	pthread_mutex_t lock;		/* everything below */
	pthread_cond_t wake;		/* the delivery thread's; CLOCK_MONOTONIC */
	pthread_cond_t poll_wake;	/* the poller's; CLOCK_MONOTONIC */
	bool stopping;
	struct queued_delivery *head;
	struct queued_delivery *tail;
	size_t queued;
	struct service_webhook_pacing pacing;
	bool poll_failing;		/* log the first failure of a streak only (poller only) */

	/* Metrics updated here (the others are read by callbacks). */
	struct ga_metrics_counter *deliveries[SERVICE_DELIVERY_RESULT_COUNT];
	struct ga_metrics_counter *github_graphql_requests;
	struct ga_metrics_counter *github_rest_requests;
	struct ga_metrics_counter *points_used;
	struct ga_metrics_gauge *points_remaining;
	struct ga_metrics_histogram *sync_seconds;
	struct ga_metrics_counter *webhook_refreshes;
	struct ga_metrics_counter *webhook_refreshes_skipped;
	struct ga_metrics_counter *removals_applied;
	struct ga_metrics_counter *polls;
	struct ga_metrics_counter *poll_changes;
	struct ga_metrics_gauge *github_nulls;
};

/* ---- metrics -------------------------------------------------------------- */

static const char *const delivery_names[SERVICE_DELIVERY_RESULT_COUNT] = {
	[SERVICE_DELIVERY_ACCEPTED] = "accepted",
	[SERVICE_DELIVERY_DUPLICATE] = "duplicate",
	[SERVICE_DELIVERY_INVALID] = "invalid",
	[SERVICE_DELIVERY_BUSY] = "busy",
	[SERVICE_DELIVERY_UNSIGNED] = "unsigned",
	[SERVICE_DELIVERY_BAD_SIGNATURE] = "bad_signature",
	[SERVICE_DELIVERY_TOO_LARGE] = "too_large",
	[SERVICE_DELIVERY_MALFORMED] = "malformed",
	[SERVICE_DELIVERY_REPLAY] = "replay",
	[SERVICE_DELIVERY_TOO_SLOW] = "too_slow",
};

const char *
service_delivery_name(enum service_delivery result)
{
	return (unsigned)result < SERVICE_DELIVERY_RESULT_COUNT ? delivery_names[result] : "unknown";
}

static double
read_atomic(void *context)
{
	return (double)atomic_load((atomic_ullong *)context);
}

/* The snapshot in use, whatever its age (the age is what is measured). */
struct snapshot_reading {
	struct service *service;
	int what;	/* 0 age, 1 members, 2 teams, 3 packages, 4 base permission unverified */
};

static double
read_snapshot(void *context)
{
	const struct snapshot_reading *reading = context;
	const struct service_view *view = service_acquire_view_any_age(reading->service);
	const struct org_snapshot *snapshot;
	double value = -1;

	if (view == NULL)
		return reading->what == 0 ? -1 : 0;
	snapshot = service_view_snapshot(view);
	switch (reading->what) {
	case 4:
		value = service_base_permission_unverified(
				snapshot, atomic_load(&reading->service->config)) ? 1 : 0;
		break;
	case 0:
		value = (double)(service_now() - org_snapshot_synced_at(snapshot));
		break;
	case 1:
		value = (double)org_snapshot_member_count(snapshot);
		break;
	case 2:
		value = (double)org_snapshot_team_count(snapshot);
		break;
	default:
		value = (double)org_snapshot_package_count(snapshot);
		break;
	}
	service_release_view(view);
	return value;
}

enum cache_number { CACHE_HITS = 0, CACHE_MISSES, CACHE_VERIFIER_CALLS, CACHE_CHECKS_IN_FLIGHT };

struct cache_reading {
	struct service *service;
	enum cache_number what;
};

static double
read_cache(void *context)
{
	const struct cache_reading *reading = context;
	struct cache_stats stats;

	cache_get_stats(reading->service->cache, &stats);
	switch (reading->what) {
	case CACHE_HITS:
		return (double)stats.hits;
	case CACHE_MISSES:
		return (double)stats.misses;
	case CACHE_CHECKS_IN_FLIGHT:
		return (double)stats.checks_in_flight;
	case CACHE_VERIFIER_CALLS:
		break;
	}
	return (double)stats.verifier_calls;
}

static double
read_revocations(void *context)
{
	return (double)service_webhook_revocations_count(context);
}

static double
read_budget(void *context)
{
	return (double)service_webhook_budget_held(context);
}

/* Contexts of the callbacks that read the service's numbers: one set per
 * service (tests create several in one process). */
struct readings {
	struct snapshot_reading snapshot[5];
	struct cache_reading cache[4];
};

static void
register_service_counters(struct service *service, struct ga_metrics *metrics)
{
	struct service_atomic_counters *c = &service->counters;

	ga_metrics_callback(metrics, GA_METRICS_COUNTER, "ghaccess_logins_total",
			    "Login checks of people (GitHub login and token), by result.",
			    read_atomic, &c->logins_ok, "result", "ok", (char *)NULL);
	ga_metrics_callback(metrics, GA_METRICS_COUNTER, "ghaccess_logins_total",
			    "Login checks of people (GitHub login and token), by result.",
			    read_atomic, &c->logins_refused, "result", "refused", (char *)NULL);
	ga_metrics_callback(metrics, GA_METRICS_COUNTER, "ghaccess_logins_total",
			    "Login checks of people (GitHub login and token), by result.",
			    read_atomic, &c->logins_unverified, "result", "unverified", (char *)NULL);
	ga_metrics_callback(metrics, GA_METRICS_COUNTER, "ghaccess_logins_total",
			    "Login checks of people (GitHub login and token), by result.",
			    read_atomic, &c->logins_busy, "result", "busy", (char *)NULL);
	ga_metrics_callback(metrics, GA_METRICS_COUNTER, "ghaccess_syncs_total",
			    "Refreshes of the organization from GitHub, by result.",
			    read_atomic, &c->syncs_ok, "result", "ok", (char *)NULL);
	ga_metrics_callback(metrics, GA_METRICS_COUNTER, "ghaccess_syncs_total",
			    "Refreshes of the organization from GitHub, by result.",
			    read_atomic, &c->syncs_failed, "result", "failed", (char *)NULL);
	ga_metrics_callback(metrics, GA_METRICS_COUNTER, "ghaccess_snapshots_adopted_total",
			    "Snapshots taken from memcached, synced by another instance.",
			    read_atomic, &c->snapshots_adopted, (char *)NULL);
	ga_metrics_callback(metrics, GA_METRICS_COUNTER, "ghaccess_snapshots_published_total",
			    "Snapshots made current (syncs, adoptions, reloads, removals).",
			    read_atomic, &c->snapshots_published, (char *)NULL);
}

static void
register_readings(struct service *service, struct ga_metrics *metrics, struct readings *readings)
{
	static const char *const snapshot_names[5] = {
		"ghaccess_snapshot_age_seconds", "ghaccess_snapshot_members",
		"ghaccess_snapshot_teams", "ghaccess_snapshot_packages",
		"ghaccess_base_permission_unverified",
	};
	static const char *const snapshot_help[5] = {
		"Seconds since the organization data in use was read from GitHub; -1 before "
		"the first.",
		"Members of the organization in the snapshot in use.",
		"Teams in the snapshot in use.",
		"Packages (repositories that declare one) in the snapshot in use.",
		"1 when the configured [github] base_permission is in force because the token "
		"cannot read the real one (unverified: an owner lowering it goes unnoticed).",
	};

	for (int i = 0; i < 5; i++) {
		readings->snapshot[i].service = service;
		readings->snapshot[i].what = i;
		ga_metrics_callback(metrics, GA_METRICS_GAUGE, snapshot_names[i], snapshot_help[i],
				    read_snapshot, &readings->snapshot[i], (char *)NULL);
	}
	for (int i = 0; i < 4; i++) {
		readings->cache[i].service = service;
		readings->cache[i].what = (enum cache_number)i;
	}
	ga_metrics_callback(metrics, GA_METRICS_COUNTER, "ghaccess_token_cache_hits_total",
			    "Token checks answered by the token cache.", read_cache,
			    &readings->cache[0], (char *)NULL);
	ga_metrics_callback(metrics, GA_METRICS_COUNTER, "ghaccess_token_cache_misses_total",
			    "Token checks that had to ask GitHub (GET /user).", read_cache,
			    &readings->cache[1], (char *)NULL);
	/* Token checks go to GitHub with the user's token, once per miss. */
	ga_metrics_callback(metrics, GA_METRICS_COUNTER, "ghaccess_github_requests_total",
			    GITHUB_REQUESTS_HELP, read_cache, &readings->cache[2], "api", "user",
			    (char *)NULL);
	ga_metrics_callback(metrics, GA_METRICS_GAUGE, "ghaccess_token_checks_in_flight",
			    "Token checks with GitHub running now (bounded by [github] "
			    "max_token_checks).",
			    read_cache, &readings->cache[3], (char *)NULL);
}

static void
register_own(struct service_events *events, struct ga_metrics *metrics)
{
	static const double sync_bounds[] = {0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600};

	for (int i = 0; i < SERVICE_DELIVERY_RESULT_COUNT; i++)
		events->deliveries[i] = ga_metrics_counter(
			metrics, "ghaccess_webhook_deliveries_total",
			"Webhook deliveries received, by what became of them.", "result",
			delivery_names[i], (char *)NULL);
	events->github_graphql_requests = ga_metrics_counter(
		metrics, "ghaccess_github_requests_total",
		GITHUB_REQUESTS_HELP, "api", "graphql", (char *)NULL);
	events->github_rest_requests = ga_metrics_counter(
		metrics, "ghaccess_github_requests_total",
		GITHUB_REQUESTS_HELP, "api", "rest", (char *)NULL);
	events->points_used = ga_metrics_counter(metrics, "ghaccess_github_points_used_total",
						 "GraphQL rate-limit points spent by syncs.",
						 (char *)NULL);
	events->points_remaining = ga_metrics_gauge(
		metrics, "ghaccess_github_points_remaining",
		"GraphQL points left in the current hour, as GitHub last said; -1 unknown.",
		(char *)NULL);
	ga_metrics_gauge_set(events->points_remaining, -1);
	events->sync_seconds = ga_metrics_histogram(
		metrics, "ghaccess_sync_duration_seconds", "Wall time of a sync from GitHub.",
		sync_bounds, sizeof(sync_bounds) / sizeof(sync_bounds[0]), (char *)NULL);
	events->webhook_refreshes = ga_metrics_counter(
		metrics, "ghaccess_webhook_refreshes_total",
		"Refreshes asked for by webhook deliveries (after debouncing).", (char *)NULL);
	events->webhook_refreshes_skipped = ga_metrics_counter(
		metrics, "ghaccess_webhook_refreshes_skipped_total",
		"Webhook refreshes dropped to keep the GraphQL points reserve.", (char *)NULL);
	events->removals_applied = ga_metrics_counter(
		metrics, "ghaccess_webhook_removals_total",
		"Removals (members, team members, collaborators, teams, repositories) applied "
		"at once from webhooks.", (char *)NULL);
	ga_metrics_callback(metrics, GA_METRICS_GAUGE, "ghaccess_webhook_revocations_pending",
			    "Removals applied ahead of GitHub's data, until a sync has them.",
			    read_revocations, events->revocations, (char *)NULL);
	ga_metrics_callback(metrics, GA_METRICS_GAUGE, "ghaccess_webhook_memory_bytes",
			    "Bytes held by webhook bodies in flight (limit: [webhook] max_memory).",
			    read_budget, &events->budget, (char *)NULL);
	events->polls = ga_metrics_counter(metrics, "ghaccess_polls_total",
					   "ETag polls for base permission and owner changes.",
					   (char *)NULL);
	events->poll_changes = ga_metrics_counter(
		metrics, "ghaccess_poll_changes_total",
		"Polls that found a change (each asks for a refresh).", (char *)NULL);
	events->github_nulls = ga_metrics_gauge(
		metrics, "ghaccess_sync_github_nulls",
		"Values GitHub answered null in the last sync where ghaccess needed one; each cost "
		"only its item (a repository without package, a member left out), see the sync "
		"warnings in the log.", (char *)NULL);
}

/* ---- lifetime -------------------------------------------------------------- */

/* The callbacks' contexts live in the same allocation as the events: the
 * service destroys the events only after the HTTP server (the last reader
 * of the registry) has stopped. */
struct service_events_with_readings {
	struct service_events events;
	struct readings readings;
};

struct service_events *
service_events_create(struct service *service)
{
	struct service_events_with_readings *whole = ga_calloc(1, sizeof(*whole));
	struct service_events *events = &whole->events;
	const struct config *config = atomic_load(&service->config);
	pthread_condattr_t attributes;

	events->service = service;
	events->replay = service_webhook_replay_create(SERVICE_WEBHOOK_REPLAY_CAPACITY,
						       SERVICE_WEBHOOK_REPLAY_MAX_AGE);
	events->bodies = service_webhook_replay_create(SERVICE_WEBHOOK_REPLAY_CAPACITY,
						       SERVICE_WEBHOOK_REPLAY_MAX_AGE);
	events->revocations = service_webhook_revocations_create();
	events->poll = gh_poll_create();
	pthread_mutex_init(&events->lock, NULL);
	pthread_condattr_init(&attributes);
	pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
	pthread_cond_init(&events->wake, &attributes);
	pthread_cond_init(&events->poll_wake, &attributes);
	pthread_condattr_destroy(&attributes);
	service_webhook_pacing_init(&events->pacing, config->webhook_debounce_ms);
	register_own(events, service->metrics);
	register_service_counters(service, service->metrics);
	register_readings(service, service->metrics, &whole->readings);
	ga_metrics_gauge_set(ga_metrics_gauge(service->metrics, "ghaccess_build_info",
					      "The running version (always 1).", "version",
					      GHACCESS_VERSION, (char *)NULL),
			     1);
	return events;
}

void
service_events_destroy(struct service_events *events)
{
	struct queued_delivery *item;

	if (events == NULL)
		return;
	service_events_stop(events);
	while ((item = events->head) != NULL) {
		events->head = item->next;
		service_webhook_body_free(item->body);
		ga_free(item);
	}
	service_webhook_replay_destroy(events->replay);
	service_webhook_replay_destroy(events->bodies);
	service_webhook_revocations_destroy(events->revocations);
	gh_poll_destroy(events->poll);
	pthread_cond_destroy(&events->wake);
	pthread_cond_destroy(&events->poll_wake);
	pthread_mutex_destroy(&events->lock);
	/* events is the first member of the allocation. */
	ga_free(events);
}

/* ---- removals --------------------------------------------------------------- */

struct org_snapshot *
service_events_patch(struct service *service, struct org_snapshot *snapshot,
		     const struct config *config)
{
	struct service_events *events = service->events;
	struct org_input *patched;
	struct org_snapshot *rebuilt = NULL;
	struct ga_err err = {0};

	if (events == NULL)
		return snapshot;
	patched = service_webhook_revocations_apply(events->revocations,
						    org_snapshot_input(snapshot));
	if (patched == NULL)
		return snapshot;
	if (org_snapshot_build(patched, config, &rebuilt, &err) != GA_OK) {
		/* Only an invalid repo_pattern fails, and config_load refuses
		 * those: keep GitHub's data rather than nothing. */
		ga_log(GA_LOG_ERROR, "could not apply webhook removals", "error", err.message,
		       (char *)NULL);
		return snapshot;
	}
	org_snapshot_release(snapshot);
	return rebuilt;
}

void
service_events_published(struct service *service, long long read_at_ms)
{
	if (service->events != NULL)
		service_webhook_revocations_expire(service->events->revocations, read_at_ms);
}

/* Publish the current snapshot again so that service_publish applies the
 * removals just recorded.  A sync that publishes meanwhile applies them
 * itself, or is newer than what we tried to publish: then try again with it. */
static void
republish_current(struct service *service)
{
	for (int attempt = 0; attempt < REPUBLISH_TRIES; attempt++) {
		const struct service_view *view = service_acquire_view_any_age(service);
		struct org_snapshot *snapshot;

		if (view == NULL)
			return;	/* nothing to take access from yet */
		snapshot = org_snapshot_retain((struct org_snapshot *)service_view_snapshot(view));
		service_release_view(view);
		if (service_publish(service, snapshot, atomic_load(&service->config)))
			return;
	}
}

/* ---- deliveries ------------------------------------------------------------ */

void
service_count_delivery(struct service *service, enum service_delivery result)
{
	if (service->events != NULL && (unsigned)result < SERVICE_DELIVERY_RESULT_COUNT)
		ga_metrics_counter_add(service->events->deliveries[result], 1);
}

static bool
event_name_is_valid(const char *event)
{
	size_t len = event != NULL ? strlen(event) : 0;

	if (len == 0 || len >= EVENT_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((event[i] >= 'a' && event[i] <= 'z') || event[i] == '_'))
			return false;
	return true;
}

struct service_webhook_budget *
service_webhook_budget(struct service *service)
{
	return &service->events->budget;
}

/* Under events->lock: room for one more delivery?  (Its bytes are in the
 * budget already.) */
static bool
queue_has_room(const struct service_events *events)
{
	return !events->stopping && events->queued < QUEUE_MAX;
}

/* The replay sets: the delivery id (GitHub's Redeliver reuses it), then the
 * signed body under any id.  Only a delivery that passes both is recorded
 * in the second; its id is recorded either way. */
static enum service_delivery
check_replay(struct service_events *events, const char *delivery,
	     const struct service_webhook_body *body)
{
	char key[2 * GA_HMAC_SIZE + 1];
	long long now = service_now();

	switch (service_webhook_replay_check(events->replay, delivery, now)) {
	case SERVICE_WEBHOOK_DELIVERY_NEW:
		break;
	case SERVICE_WEBHOOK_DELIVERY_DUPLICATE:
		return SERVICE_DELIVERY_DUPLICATE;
	case SERVICE_WEBHOOK_DELIVERY_INVALID:
	default:
		return SERVICE_DELIVERY_INVALID;
	}
	ga_hex(service_webhook_body_digest(body), GA_HMAC_SIZE, key);
	if (service_webhook_replay_check(events->bodies, key, now) != SERVICE_WEBHOOK_DELIVERY_NEW)
		return SERVICE_DELIVERY_REPLAY;
	return SERVICE_DELIVERY_ACCEPTED;
}

/* Under events->lock: the replay checks, then the queue.  A delivery that
 * finds no room is not recorded, so that GitHub's redelivery is taken. */
static enum service_delivery
admit(struct service_events *events, const char *delivery, struct queued_delivery *item)
{
	enum service_delivery result;

	if (!queue_has_room(events))
		return SERVICE_DELIVERY_BUSY;
	result = check_replay(events, delivery, item->body);
	if (result != SERVICE_DELIVERY_ACCEPTED)
		return result;
	if (events->tail != NULL)
		events->tail->next = item;
	else
		events->head = item;
	events->tail = item;
	events->queued++;
	pthread_cond_signal(&events->wake);
	return SERVICE_DELIVERY_ACCEPTED;
}

enum service_delivery
service_deliver_webhook(struct service *service, const char *event, const char *delivery,
			struct service_webhook_body *body)
{
	struct service_events *events = service->events;
	struct queued_delivery *item;
	enum service_delivery result = SERVICE_DELIVERY_INVALID;

	if (!service_webhook_body_verified(body)) {
		result = SERVICE_DELIVERY_BAD_SIGNATURE;
	} else if (event_name_is_valid(event)) {
		item = ga_calloc(1, sizeof(*item));
		snprintf(item->event, sizeof(item->event), "%s", event);
		snprintf(item->delivery, sizeof(item->delivery), "%s",
			 delivery != NULL ? delivery : "");
		item->body = body;
		pthread_mutex_lock(&events->lock);
		result = admit(events, delivery, item);
		pthread_mutex_unlock(&events->lock);
		if (result == SERVICE_DELIVERY_ACCEPTED)
			body = NULL;	/* the queue has it */
		else
			ga_free(item);
	}
	service_webhook_body_free(body);
	service_count_delivery(service, result);
	return result;
}

/* "key", value pairs of the removal's names that are set, NULL-ended. */
#define REMOVAL_FIELDS 11
static void
removal_fields(const struct service_webhook_removal *removal, const char *fields[REMOVAL_FIELDS])
{
	size_t count = 0;

	if (removal->login[0] != '\0') {
		fields[count++] = "user";
		fields[count++] = removal->login;
	}
	if (removal->team[0] != '\0') {
		fields[count++] = "team";
		fields[count++] = removal->team;
	}
	if (removal->repository[0] != '\0') {
		fields[count++] = "repository";
		fields[count++] = removal->repository;
	}
	if (removal->kind == SERVICE_WEBHOOK_LOWER_TEAM_GRANT ||
	    removal->kind == SERVICE_WEBHOOK_LOWER_COLLABORATOR) {
		fields[count++] = "level";
		fields[count++] = org_level_name(removal->level);
	} else if (removal->kind == SERVICE_WEBHOOK_DETACH_TEAM) {
		fields[count++] = "parent";
		fields[count++] = removal->parent[0] != '\0' ? removal->parent : "-";
	}
	fields[count] = NULL;
}

static void
log_delivery(const struct queued_delivery *item, const struct service_webhook_event *event)
{
	const char *fields[REMOVAL_FIELDS] = {NULL};

	removal_fields(&event->removal, fields);
	/* A NULL key ends the list early: the names only when there are some.
	 * Events out of the organization's scope are only worth a debug line. */
	ga_log(event->in_scope ? GA_LOG_INFO : GA_LOG_DEBUG, "webhook", "delivery",
	       item->delivery, "event", event->event, "action", event->action, "refresh",
	       event->refresh ? "yes" : "no", "reason", event->reason, "removal",
	       service_webhook_removal_name(event->removal.kind), fields[0], fields[1], fields[2],
	       fields[3], fields[4], fields[5], fields[6], fields[7], (char *)NULL);
}

/* Runs on the events thread, lock not held. */
static void
handle_delivery(struct service_events *events, struct queued_delivery *item)
{
	struct service *service = events->service;
	const struct config *config = atomic_load(&service->config);
	struct service_webhook_event event;
	struct ga_err err = {0};
	size_t len;
	const char *body = service_webhook_body_data(item->body, &len);

	if (service_webhook_classify(item->event, body, len, config->organization, &event,
				     &err) != GA_OK) {
		ga_log(GA_LOG_WARN, "webhook payload refused", "delivery", item->delivery, "event",
		       event.event, "error", err.message, (char *)NULL);
		service_count_delivery(service, SERVICE_DELIVERY_MALFORMED);
		return;
	}
	log_delivery(item, &event);
	/* The App was installed or uninstalled (a reinstall is both, with a
	 * new installation id): look the installation up again. */
	if (strcmp(event.event, "installation") == 0 &&
	    (strcmp(event.action, "created") == 0 || strcmp(event.action, "deleted") == 0 ||
	     strcmp(event.action, "unsuspend") == 0))
		gh_client_installation_changed(atomic_load(&service->client));
	if (event.removal.kind != SERVICE_WEBHOOK_REMOVE_NONE) {
		service_webhook_revocations_add(events->revocations, &event.removal,
						service_now_ms());
		republish_current(service);
		ga_metrics_counter_add(events->removals_applied, 1);
		ga_log(GA_LOG_INFO, "audit", "action", "revoke", "user",
		       event.removal.login[0] ? event.removal.login : "-", "what",
		       service_webhook_removal_name(event.removal.kind), "decision", "deny",
		       "reason", event.reason, (char *)NULL);
	}
	if (event.refresh) {
		pthread_mutex_lock(&events->lock);
		service_webhook_pacing_note(&events->pacing, service_monotonic_ms());
		pthread_mutex_unlock(&events->lock);
	}
}

/* ---- polling ------------------------------------------------------------ */

/* Runs on the events thread, lock not held. */
static void
poll_once(struct service_events *events)
{
	struct service *service = events->service;
	struct gh_client *client = atomic_load(&service->client);
	struct gh_poll_stats stats = {0};
	struct ga_err err = {0};
	bool changed = false;
	enum ga_rc rc = gh_poll_check(client, events->poll, &changed, &stats, &err);

	ga_metrics_counter_add(events->polls, 1);
	ga_metrics_counter_add(events->github_rest_requests, stats.requests);
	if (rc != GA_OK) {
		if (!events->poll_failing)
			ga_log(GA_LOG_WARN, "poll for role and base permission changes failed",
			       "error", err.message, (char *)NULL);
		events->poll_failing = true;
		return;
	}
	events->poll_failing = false;
	if (changed) {
		ga_log(GA_LOG_INFO, "poll: owners or base permission changed; refreshing",
		       (char *)NULL);
		ga_metrics_counter_add(events->poll_changes, 1);
		service_request_refresh(service);
	}
}

static bool
have_snapshot(struct service *service)
{
	const struct service_view *view = service_acquire_view_any_age(service);

	service_release_view(view);
	return view != NULL;
}

/* ---- the threads ------------------------------------------------------------ */

static void
wait_until(pthread_cond_t *wake, pthread_mutex_t *lock, long long due_ms)
{
	struct timespec deadline = {
		.tv_sec = (time_t)(due_ms / 1000),
		.tv_nsec = (long)(due_ms % 1000) * 1000000,
	};

	pthread_cond_timedwait(wake, lock, &deadline);
}

/* Under lock: a delivery-asked refresh when it is due; returns the ms
 * until the next one (-1: none pending). */
static long long
refresh_if_due(struct service_events *events, long long now_ms)
{
	bool budget_low = false;
	long long due = service_webhook_pacing_due(&events->pacing, now_ms, &budget_low);

	if (budget_low) {
		ga_metrics_counter_add(events->webhook_refreshes_skipped, 1);
		ga_log(GA_LOG_WARN, "webhook refresh skipped: GitHub points are low; the "
		       "periodic refresh will bring the change", (char *)NULL);
	}
	if (due != 0)
		return due;
	service_webhook_pacing_started(&events->pacing, now_ms);
	ga_metrics_counter_add(events->webhook_refreshes, 1);
	service_request_refresh(events->service);
	return -1;
}

/* Deliveries first, in arrival order; then the refresh they asked for. */
static void *
deliveries_main(void *arg)
{
	struct service_events *events = arg;

	pthread_mutex_lock(&events->lock);
	while (!events->stopping) {
		struct queued_delivery *item = events->head;
		long long now;
		long long refresh_in;

		if (item != NULL) {
			events->head = item->next;
			if (events->head == NULL)
				events->tail = NULL;
			events->queued--;
			pthread_mutex_unlock(&events->lock);
			handle_delivery(events, item);
			service_webhook_body_free(item->body);
			ga_free(item);
			pthread_mutex_lock(&events->lock);
			continue;
		}
		now = service_monotonic_ms();
		refresh_in = refresh_if_due(events, now);
		if (!events->stopping && events->head == NULL)
			wait_until(&events->wake, &events->lock,
				   now + (refresh_in >= 0 ? refresh_in : 60 * 1000));
	}
	pthread_mutex_unlock(&events->lock);
	return NULL;
}

/* Every poll_interval seconds once there is a snapshot (the first poll only
 * records: the sync that made the snapshot read the same data). */
static void *
poller_main(void *arg)
{
	struct service_events *events = arg;
	struct service *service = events->service;

	pthread_mutex_lock(&events->lock);
	while (!events->stopping) {
		int poll_interval = atomic_load(&service->config)->poll_interval;
		long long wait_ms = 1000;

		if (poll_interval > 0 && have_snapshot(service)) {
			pthread_mutex_unlock(&events->lock);
			poll_once(events);
			pthread_mutex_lock(&events->lock);
			wait_ms = poll_interval * 1000LL;
		} else if (poll_interval <= 0) {
			/* Off; a reload may turn it on. */
			wait_ms = 60 * 1000;
		}
		if (!events->stopping)
			wait_until(&events->poll_wake, &events->lock,
				   service_monotonic_ms() + wait_ms);
	}
	pthread_mutex_unlock(&events->lock);
	return NULL;
}

enum ga_rc
service_events_start(struct service_events *events, struct ga_err *err)
{
	int error = pthread_create(&events->thread, NULL, deliveries_main, events);

	if (error != 0)
		return ga_err_set(err, GA_EIO, "cannot start the webhook thread: %s",
				  strerror(error));
	error = pthread_create(&events->poller, NULL, poller_main, events);
	if (error != 0) {
		pthread_mutex_lock(&events->lock);
		events->stopping = true;
		pthread_cond_signal(&events->wake);
		pthread_mutex_unlock(&events->lock);
		pthread_join(events->thread, NULL);
		return ga_err_set(err, GA_EIO, "cannot start the poll thread: %s",
				  strerror(error));
	}
	events->started = true;
	return GA_OK;
}

void
service_events_stop(struct service_events *events)
{
	if (!events->started)
		return;
	pthread_mutex_lock(&events->lock);
	events->stopping = true;
	pthread_cond_signal(&events->wake);
	pthread_cond_signal(&events->poll_wake);
	pthread_mutex_unlock(&events->lock);
	/* A poll in progress ends with its request (the client's timeout);
	 * service_stop cancels the client's waits first. */
	pthread_join(events->thread, NULL);
	pthread_join(events->poller, NULL);
	events->started = false;
}

/* ---- syncs ------------------------------------------------------------------ */

void
service_events_note_sync(struct service *service, const struct gh_sync_stats *stats,
			 enum ga_rc rc)
{
	struct service_events *events = service->events;

	if (events == NULL)
		return;
	ga_metrics_counter_add(events->github_graphql_requests, stats->graphql_requests);
	ga_metrics_counter_add(events->github_rest_requests, stats->rest_requests);
	if (stats->graphql_points > 0)
		ga_metrics_counter_add(events->points_used, (uint64_t)stats->graphql_points);
	if (stats->rate_limit_remaining >= 0)
		ga_metrics_gauge_set(events->points_remaining, (double)stats->rate_limit_remaining);
	if (stats->duration_ms > 0)
		ga_metrics_observe(events->sync_seconds, (double)stats->duration_ms / 1000.0);
	if (rc == GA_OK)
		ga_metrics_gauge_set(events->github_nulls, (double)stats->nulls);
	pthread_mutex_lock(&events->lock);
	service_webhook_pacing_budget(&events->pacing, rc == GA_OK ? stats->graphql_points : -1,
				      stats->rate_limit_remaining);
	pthread_mutex_unlock(&events->lock);
}

struct ga_metrics *
service_metrics(struct service *service)
{
	return service->metrics;
}

void
service_get_events_summary(struct service *service, struct service_events_summary *out)
{
	const struct service_events *events = service->events;

	memset(out, 0, sizeof(*out));
	out->github_points_remaining = (long long)ga_metrics_gauge_value(events->points_remaining);
	out->github_points_used = ga_metrics_counter_value(events->points_used);
	for (int i = 0; i < SERVICE_DELIVERY_RESULT_COUNT; i++)
		out->deliveries[i] = ga_metrics_counter_value(events->deliveries[i]);
	out->removals_applied = ga_metrics_counter_value(events->removals_applied);
	out->refreshes_skipped = ga_metrics_counter_value(events->webhook_refreshes_skipped);
}
