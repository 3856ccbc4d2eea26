/* service_metrics.c - every series of the service, in /metrics order; see service_metrics.h. */
#include "service/service_metrics.h"

#include <string.h>

#include "util/ga_clock.h"
#include "util/ga_metrics.h"
#include "util/ga_xalloc.h"

#define GITHUB_REQUESTS_HELP \
	"Requests to GitHub: graphql and rest (syncs, polls, retries included), user " \
	"(token checks)."
#define LOGINS_HELP "Login checks of people (GitHub login and token), by result."
#define SYNCS_HELP "Refreshes of the organization from GitHub, by result."
#define TARGETED_HELP \
	"Targeted reads after webhooks (one team list or repository), by result: ok, " \
	"failed (a full refresh is asked for), dropped (queue full: a full refresh)."

#ifndef GHACCESS_VERSION
#define GHACCESS_VERSION "0.0.0"
#endif

enum snapshot_number {
	SNAPSHOT_AGE = 0,
	SNAPSHOT_MEMBERS,
	SNAPSHOT_TEAMS,
	SNAPSHOT_PACKAGES,
	SNAPSHOT_BASE_UNVERIFIED,
	SNAPSHOT_NUMBERS,
};

enum cache_number {
	CACHE_HITS = 0,
	CACHE_MISSES,
	CACHE_VERIFIER_CALLS,
	CACHE_CHECKS_IN_FLIGHT,
	CACHE_NUMBERS,
};

/* The planned full-sync period: its length, the limit, one gauge per reason. */
enum period_number {
	PERIOD_SECONDS = 0,
	PERIOD_LIMIT,
	PERIOD_REASON,		/* + enum service_period_reason */
	PERIOD_NUMBERS = PERIOD_REASON + SERVICE_PERIOD_REASONS,
};

/* A callback's context: what to read, and from where. */
struct reading {
	struct service_metrics *metrics;
	int what;
};

struct service_metrics {
	struct ga_metrics *registry;
	struct service_metrics_readings from;
	struct reading snapshot[SNAPSHOT_NUMBERS];
	struct reading cache[CACHE_NUMBERS];
	struct reading period[PERIOD_NUMBERS];

	struct ga_metrics_counter *deliveries[SERVICE_DELIVERY_RESULT_COUNT];
	struct ga_metrics_counter *github_graphql_requests;
	struct ga_metrics_counter *github_rest_requests;
	struct ga_metrics_counter *points_used;
	struct ga_metrics_gauge *points_remaining;
	struct ga_metrics_histogram *sync_seconds;
	struct ga_metrics_counter *webhook_refreshes;
	struct ga_metrics_counter *webhook_refreshes_skipped;
	struct ga_metrics_counter *removals_applied;
	struct ga_metrics_counter *targeted_ok;
	struct ga_metrics_counter *targeted_failed;
	struct ga_metrics_counter *targeted_dropped;
	struct ga_metrics_counter *targeted_points;
	struct ga_metrics_counter *polls;
	struct ga_metrics_counter *poll_changes;
	struct ga_metrics_gauge *github_nulls;
	struct ga_metrics_counter *logins_ok;
	struct ga_metrics_counter *logins_refused;
	struct ga_metrics_counter *logins_unverified;
	struct ga_metrics_counter *logins_busy;
	struct ga_metrics_counter *syncs_ok;
	struct ga_metrics_counter *syncs_failed;
	struct ga_metrics_counter *snapshots_adopted;
	struct ga_metrics_counter *snapshots_published;
	struct ga_metrics_counter *changes_appended;
	struct ga_metrics_counter *changes_applied;
	struct ga_metrics_counter *changes_refused;
	struct ga_metrics_counter *change_log_gaps;
	struct ga_metrics_gauge *changes_unshared;
};

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

struct service_metrics *
service_metrics_create(void)
{
	struct service_metrics *metrics = ga_calloc(1, sizeof(*metrics));

	metrics->registry = ga_metrics_create();
	return metrics;
}

void
service_metrics_destroy(struct service_metrics *metrics)
{
	if (metrics == NULL)
		return;
	ga_metrics_destroy(metrics->registry);
	ga_free(metrics);
}

struct ga_metrics *
service_metrics_registry(struct service_metrics *metrics)
{
	return metrics->registry;
}

/* ---- callbacks ------------------------------------------------------------------- */

/* The snapshot in use, whatever its age (the age is what is measured). */
static double
read_snapshot(void *context)
{
	const struct reading *reading = context;
	const struct service_metrics_readings *from = &reading->metrics->from;
	const struct service_view *view = service_publisher_acquire(from->publisher);
	const struct org_snapshot *snapshot;
	double value;

	if (view == NULL)
		return reading->what == SNAPSHOT_AGE ? -1 : 0;
	snapshot = service_view_snapshot(view);
	switch (reading->what) {
	case SNAPSHOT_BASE_UNVERIFIED:
		value = service_base_permission_unverified(
				snapshot, service_settings_config(from->settings)) ? 1 : 0;
		break;
	case SNAPSHOT_AGE:
		value = (double)(ga_wall_s() - org_snapshot_synced_at(snapshot));
		break;
	case SNAPSHOT_MEMBERS:
		value = (double)org_snapshot_member_count(snapshot);
		break;
	case SNAPSHOT_TEAMS:
		value = (double)org_snapshot_team_count(snapshot);
		break;
	default:
		value = (double)org_snapshot_package_count(snapshot);
		break;
	}
	service_release_view(view);
	return value;
}

static double
read_cache(void *context)
{
	const struct reading *reading = context;
	struct cache_stats stats;

	cache_get_stats(reading->metrics->from.cache, &stats);
	switch (reading->what) {
	case CACHE_HITS:
		return (double)stats.hits;
	case CACHE_MISSES:
		return (double)stats.misses;
	case CACHE_CHECKS_IN_FLIGHT:
		return (double)stats.checks_in_flight;
	default:
		break;
	}
	return (double)stats.verifier_calls;
}

/* -1 (seconds, limit) or 0 (reasons) before the first plan. */
static double
read_period(void *context)
{
	const struct reading *reading = context;
	struct service_period_plan plan;

	if (!service_budget_last_plan(reading->metrics->from.budget, &plan))
		return reading->what >= PERIOD_REASON ? 0 : -1;
	if (reading->what == PERIOD_SECONDS)
		return (double)plan.period_s;
	if (reading->what == PERIOD_LIMIT)
		return (double)plan.limit;
	return (int)plan.reason == reading->what - PERIOD_REASON ? 1 : 0;
}

static double
read_pending_changes(void *context)
{
	return (double)service_publisher_pending_changes(context);
}

static double
read_webhook_memory(void *context)
{
	return (double)service_webhook_budget_held(context);
}

/* ---- registration, in the order /metrics shows the families ----------------------- */

static void
register_period(struct service_metrics *metrics)
{
	struct ga_metrics *registry = metrics->registry;

	for (int i = 0; i < PERIOD_NUMBERS; i++)
		metrics->period[i] = (struct reading){ metrics, i };
	ga_metrics_callback(registry, GA_METRICS_GAUGE, "ghaccess_github_points_limit",
			    "GraphQL points per hour the full sync is planned with "
			    "(x-ratelimit-limit, or 5000 assumed); -1 before the first plan.",
			    read_period, &metrics->period[PERIOD_LIMIT], (char *)NULL);
	ga_metrics_callback(registry, GA_METRICS_GAUGE, "ghaccess_sync_period_seconds",
			    "Planned seconds between full syncs: [cache] expiration, or longer to "
			    "spend at most [github] budget_share of the hourly points (never past "
			    "9/10 of max_stale); -1 before the first plan.",
			    read_period, &metrics->period[PERIOD_SECONDS], (char *)NULL);
	for (int i = 0; i < SERVICE_PERIOD_REASONS; i++)
		ga_metrics_callback(registry, GA_METRICS_GAUGE, "ghaccess_sync_period_reason",
				    "1 for why the full sync has its planned period: expiration "
				    "(the budget allows it), budget (budget_share), reset (too few "
				    "points left: waiting for the hourly reset), max_stale (the share "
				    "would let the data pass max_stale: over the share).",
				    read_period, &metrics->period[PERIOD_REASON + i], "reason",
				    service_period_reason_name((enum service_period_reason)i),
				    (char *)NULL);
}

static void
register_github(struct service_metrics *metrics)
{
	static const double sync_bounds[] = {0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600};
	struct ga_metrics *registry = metrics->registry;

	for (int i = 0; i < SERVICE_DELIVERY_RESULT_COUNT; i++)
		metrics->deliveries[i] = ga_metrics_counter(
			registry, "ghaccess_webhook_deliveries_total",
			"Webhook deliveries received, by what became of them.", "result",
			delivery_names[i], (char *)NULL);
	metrics->github_graphql_requests = ga_metrics_counter(
		registry, "ghaccess_github_requests_total", GITHUB_REQUESTS_HELP, "api", "graphql",
		(char *)NULL);
	metrics->github_rest_requests = ga_metrics_counter(
		registry, "ghaccess_github_requests_total", GITHUB_REQUESTS_HELP, "api", "rest",
		(char *)NULL);
	metrics->points_used = ga_metrics_counter(registry, "ghaccess_github_points_used_total",
						  "GraphQL rate-limit points spent by syncs.",
						  (char *)NULL);
	metrics->points_remaining = ga_metrics_gauge(
		registry, "ghaccess_github_points_remaining",
		"GraphQL points left in the current hour, as GitHub last said; -1 unknown.",
		(char *)NULL);
	ga_metrics_gauge_set(metrics->points_remaining, -1);
	register_period(metrics);
	metrics->sync_seconds = ga_metrics_histogram(
		registry, "ghaccess_sync_duration_seconds", "Wall time of a sync from GitHub.",
		sync_bounds, sizeof(sync_bounds) / sizeof(sync_bounds[0]), (char *)NULL);
}

static void
register_webhooks(struct service_metrics *metrics)
{
	struct ga_metrics *registry = metrics->registry;

	metrics->webhook_refreshes = ga_metrics_counter(
		registry, "ghaccess_webhook_refreshes_total",
		"Refreshes asked for by webhook deliveries (after debouncing).", (char *)NULL);
	metrics->webhook_refreshes_skipped = ga_metrics_counter(
		registry, "ghaccess_webhook_refreshes_skipped_total",
		"Webhook refreshes dropped to keep the GraphQL points reserve.", (char *)NULL);
	metrics->removals_applied = ga_metrics_counter(
		registry, "ghaccess_webhook_removals_total",
		"Removals (members, team members, collaborators, teams, repositories) applied "
		"at once from webhooks.", (char *)NULL);
	metrics->targeted_ok = ga_metrics_counter(
		registry, "ghaccess_targeted_reads_total", TARGETED_HELP, "result", "ok",
		(char *)NULL);
	metrics->targeted_failed = ga_metrics_counter(
		registry, "ghaccess_targeted_reads_total", TARGETED_HELP, "result", "failed",
		(char *)NULL);
	metrics->targeted_dropped = ga_metrics_counter(
		registry, "ghaccess_targeted_reads_total", TARGETED_HELP, "result", "dropped",
		(char *)NULL);
	metrics->targeted_points = ga_metrics_counter(
		registry, "ghaccess_targeted_points_used_total",
		"GraphQL rate-limit points spent by targeted reads after webhooks.", (char *)NULL);
	ga_metrics_callback(registry, GA_METRICS_GAUGE, "ghaccess_webhook_revocations_pending",
			    "Changes (removals, targeted reads) applied ahead of GitHub's full "
			    "data, until a sync has them.",
			    read_pending_changes, metrics->from.publisher, (char *)NULL);
	ga_metrics_callback(registry, GA_METRICS_GAUGE, "ghaccess_webhook_memory_bytes",
			    "Bytes held by webhook bodies in flight (limit: [webhook] max_memory).",
			    read_webhook_memory, metrics->from.webhook_memory, (char *)NULL);
}

static void
register_polls(struct service_metrics *metrics)
{
	struct ga_metrics *registry = metrics->registry;

	metrics->polls = ga_metrics_counter(registry, "ghaccess_polls_total",
					    "ETag polls for base permission and owner changes.",
					    (char *)NULL);
	metrics->poll_changes = ga_metrics_counter(
		registry, "ghaccess_poll_changes_total",
		"Polls that found a change (each asks for a refresh).", (char *)NULL);
	metrics->github_nulls = ga_metrics_gauge(
		registry, "ghaccess_sync_github_nulls",
		"Values GitHub answered null in the last sync where ghaccess needed one; each cost "
		"only its item (a repository without package, a member left out), see the sync "
		"warnings in the log.", (char *)NULL);
}

#define SHARED_CHANGES_HELP \
	"Changes in the change log shared through memcached: appended by this instance, " \
	"applied from it (every instance's, this one's included), refused (forged, " \
	"malformed or of an unknown kind: never applied)."

static void
register_shared(struct service_metrics *metrics)
{
	struct ga_metrics *registry = metrics->registry;

	metrics->changes_appended = ga_metrics_counter(registry, "ghaccess_shared_changes_total",
						       SHARED_CHANGES_HELP, "result", "appended",
						       (char *)NULL);
	metrics->changes_applied = ga_metrics_counter(registry, "ghaccess_shared_changes_total",
						      SHARED_CHANGES_HELP, "result", "applied",
						      (char *)NULL);
	metrics->changes_refused = ga_metrics_counter(registry, "ghaccess_shared_changes_total",
						      SHARED_CHANGES_HELP, "result", "refused",
						      (char *)NULL);
	metrics->change_log_gaps = ga_metrics_counter(
		registry, "ghaccess_shared_change_log_gaps_total",
		"Changes of the shared log this instance could not read (log reset, entry "
		"missing, fell behind, refused); each asks for a full refresh.", (char *)NULL);
	metrics->changes_unshared = ga_metrics_gauge(
		registry, "ghaccess_shared_changes_pending",
		"Changes learned here that memcached has not taken yet (appended when it "
		"answers again).", (char *)NULL);
}

static void
register_counters(struct service_metrics *metrics)
{
	struct ga_metrics *registry = metrics->registry;

	metrics->logins_ok = ga_metrics_counter(registry, "ghaccess_logins_total", LOGINS_HELP,
						"result", "ok", (char *)NULL);
	metrics->logins_refused = ga_metrics_counter(registry, "ghaccess_logins_total",
						     LOGINS_HELP, "result", "refused", (char *)NULL);
	metrics->logins_unverified = ga_metrics_counter(registry, "ghaccess_logins_total",
							LOGINS_HELP, "result", "unverified",
							(char *)NULL);
	metrics->logins_busy = ga_metrics_counter(registry, "ghaccess_logins_total", LOGINS_HELP,
						  "result", "busy", (char *)NULL);
	metrics->syncs_ok = ga_metrics_counter(registry, "ghaccess_syncs_total", SYNCS_HELP,
					       "result", "ok", (char *)NULL);
	metrics->syncs_failed = ga_metrics_counter(registry, "ghaccess_syncs_total", SYNCS_HELP,
						   "result", "failed", (char *)NULL);
	metrics->snapshots_adopted = ga_metrics_counter(
		registry, "ghaccess_snapshots_adopted_total",
		"Snapshots taken from memcached, synced by another instance.", (char *)NULL);
	metrics->snapshots_published = ga_metrics_counter(
		registry, "ghaccess_snapshots_published_total",
		"Snapshots made current (syncs, adoptions, reloads, removals).", (char *)NULL);
}

static void
register_snapshot(struct service_metrics *metrics)
{
	static const char *const names[SNAPSHOT_NUMBERS] = {
		"ghaccess_snapshot_age_seconds", "ghaccess_snapshot_members",
		"ghaccess_snapshot_teams", "ghaccess_snapshot_packages",
		"ghaccess_base_permission_unverified",
	};
	static const char *const help[SNAPSHOT_NUMBERS] = {
		"Seconds since the organization data in use was read from GitHub; -1 before "
		"the first.",
		"Members of the organization in the snapshot in use.",
		"Teams in the snapshot in use.",
		"Packages (repositories that declare one) in the snapshot in use.",
		"1 when the configured [github] base_permission is in force because the token "
		"cannot read the real one (unverified: an owner lowering it goes unnoticed).",
	};

	for (int i = 0; i < SNAPSHOT_NUMBERS; i++) {
		metrics->snapshot[i] = (struct reading){ metrics, i };
		ga_metrics_callback(metrics->registry, GA_METRICS_GAUGE, names[i], help[i],
				    read_snapshot, &metrics->snapshot[i], (char *)NULL);
	}
}

static void
register_cache(struct service_metrics *metrics)
{
	struct ga_metrics *registry = metrics->registry;

	for (int i = 0; i < CACHE_NUMBERS; i++)
		metrics->cache[i] = (struct reading){ metrics, i };
	ga_metrics_callback(registry, GA_METRICS_COUNTER, "ghaccess_token_cache_hits_total",
			    "Token checks answered by the token cache.", read_cache,
			    &metrics->cache[CACHE_HITS], (char *)NULL);
	ga_metrics_callback(registry, GA_METRICS_COUNTER, "ghaccess_token_cache_misses_total",
			    "Token checks that had to ask GitHub (GET /user).", read_cache,
			    &metrics->cache[CACHE_MISSES], (char *)NULL);
	/* Token checks go to GitHub with the user's token, once per miss. */
	ga_metrics_callback(registry, GA_METRICS_COUNTER, "ghaccess_github_requests_total",
			    GITHUB_REQUESTS_HELP, read_cache, &metrics->cache[CACHE_VERIFIER_CALLS],
			    "api", "user", (char *)NULL);
	ga_metrics_callback(registry, GA_METRICS_GAUGE, "ghaccess_token_checks_in_flight",
			    "Token checks with GitHub running now (bounded by [github] "
			    "max_token_checks).",
			    read_cache, &metrics->cache[CACHE_CHECKS_IN_FLIGHT], (char *)NULL);
}

void
service_metrics_register(struct service_metrics *metrics,
			 const struct service_metrics_readings *readings)
{
	metrics->from = *readings;
	register_github(metrics);
	register_webhooks(metrics);
	register_polls(metrics);
	register_shared(metrics);
	register_counters(metrics);
	register_snapshot(metrics);
	register_cache(metrics);
	ga_metrics_gauge_set(ga_metrics_gauge(metrics->registry, "ghaccess_build_info",
					      "The running version (always 1).", "version",
					      GHACCESS_VERSION, (char *)NULL),
			     1);
}

/* ---- notes ---------------------------------------------------------------------------- */

void
service_metrics_note_sync(struct service_metrics *metrics, const struct gh_sync_stats *stats,
			  enum ga_rc rc)
{
	ga_metrics_counter_add(metrics->github_graphql_requests, stats->graphql_requests);
	ga_metrics_counter_add(metrics->github_rest_requests, stats->rest_requests);
	if (stats->graphql_points > 0)
		ga_metrics_counter_add(metrics->points_used, (uint64_t)stats->graphql_points);
	if (stats->rate_limit_remaining >= 0)
		ga_metrics_gauge_set(metrics->points_remaining, (double)stats->rate_limit_remaining);
	if (stats->duration_ms > 0)
		ga_metrics_observe(metrics->sync_seconds, (double)stats->duration_ms / 1000.0);
	if (rc == GA_OK)
		ga_metrics_gauge_set(metrics->github_nulls, (double)stats->nulls);
}

void
service_metrics_note_targeted(struct service_metrics *metrics, const struct gh_sync_stats *stats,
			      enum service_targeted_outcome outcome)
{
	if (stats != NULL) {
		ga_metrics_counter_add(metrics->github_graphql_requests, stats->graphql_requests);
		if (stats->graphql_points > 0)
			ga_metrics_counter_add(metrics->targeted_points,
					       (uint64_t)stats->graphql_points);
		if (stats->rate_limit_remaining >= 0)
			ga_metrics_gauge_set(metrics->points_remaining,
					     (double)stats->rate_limit_remaining);
	}
	if (outcome == SERVICE_TARGETED_OK)
		ga_metrics_counter_add(metrics->targeted_ok, 1);
	else if (outcome == SERVICE_TARGETED_FAILED)
		ga_metrics_counter_add(metrics->targeted_failed, 1);
	else
		ga_metrics_counter_add(metrics->targeted_dropped, 1);
}

void
service_metrics_note_sync_result(struct service_metrics *metrics, bool ok)
{
	ga_metrics_counter_add(ok ? metrics->syncs_ok : metrics->syncs_failed, 1);
}

void
service_metrics_note_adopted(struct service_metrics *metrics)
{
	ga_metrics_counter_add(metrics->snapshots_adopted, 1);
}

void
service_metrics_note_published(struct service_metrics *metrics)
{
	ga_metrics_counter_add(metrics->snapshots_published, 1);
}

void
service_metrics_note_login(struct service_metrics *metrics, enum service_login login)
{
	if (login == SERVICE_LOGIN_OK)
		ga_metrics_counter_add(metrics->logins_ok, 1);
	else if (login == SERVICE_LOGIN_UNVERIFIED)
		ga_metrics_counter_add(metrics->logins_unverified, 1);
	else if (login == SERVICE_LOGIN_BUSY)
		ga_metrics_counter_add(metrics->logins_busy, 1);
	else
		ga_metrics_counter_add(metrics->logins_refused, 1);
}

void
service_metrics_note_delivery(struct service_metrics *metrics, enum service_delivery result)
{
	if ((unsigned)result < SERVICE_DELIVERY_RESULT_COUNT)
		ga_metrics_counter_add(metrics->deliveries[result], 1);
}

void
service_metrics_note_removal(struct service_metrics *metrics)
{
	ga_metrics_counter_add(metrics->removals_applied, 1);
}

void
service_metrics_note_shared(struct service_metrics *metrics, enum service_shared_note note)
{
	struct ga_metrics_counter *counters[] = {
		[SERVICE_SHARED_APPENDED] = metrics->changes_appended,
		[SERVICE_SHARED_APPLIED] = metrics->changes_applied,
		[SERVICE_SHARED_REFUSED] = metrics->changes_refused,
		[SERVICE_SHARED_GAP] = metrics->change_log_gaps,
	};

	ga_metrics_counter_add(counters[note], 1);
}

void
service_metrics_note_shared_pending(struct service_metrics *metrics, size_t pending)
{
	ga_metrics_gauge_set(metrics->changes_unshared, (double)pending);
}

void
service_metrics_note_webhook_refresh(struct service_metrics *metrics, bool skipped)
{
	ga_metrics_counter_add(skipped ? metrics->webhook_refreshes_skipped
				       : metrics->webhook_refreshes, 1);
}

void
service_metrics_note_poll(struct service_metrics *metrics, const struct gh_poll_stats *stats,
			  bool changed)
{
	ga_metrics_counter_add(metrics->polls, 1);
	ga_metrics_counter_add(metrics->github_rest_requests, stats->requests);
	if (changed)
		ga_metrics_counter_add(metrics->poll_changes, 1);
}

/* ---- reading back ------------------------------------------------------------------------ */

void
service_metrics_counters(struct service_metrics *metrics, struct service_counters *out)
{
	out->logins_ok = ga_metrics_counter_value(metrics->logins_ok);
	out->logins_refused = ga_metrics_counter_value(metrics->logins_refused);
	out->logins_unverified = ga_metrics_counter_value(metrics->logins_unverified);
	out->logins_busy = ga_metrics_counter_value(metrics->logins_busy);
	out->syncs_ok = ga_metrics_counter_value(metrics->syncs_ok);
	out->syncs_failed = ga_metrics_counter_value(metrics->syncs_failed);
	out->snapshots_adopted = ga_metrics_counter_value(metrics->snapshots_adopted);
	out->snapshots_published = ga_metrics_counter_value(metrics->snapshots_published);
	out->shared_changes_appended = ga_metrics_counter_value(metrics->changes_appended);
	out->shared_changes_applied = ga_metrics_counter_value(metrics->changes_applied);
	out->shared_changes_refused = ga_metrics_counter_value(metrics->changes_refused);
	out->shared_change_log_gaps = ga_metrics_counter_value(metrics->change_log_gaps);
	out->shared_changes_pending =
		(unsigned long long)ga_metrics_gauge_value(metrics->changes_unshared);
}

void
service_metrics_events_summary(struct service_metrics *metrics,
			       struct service_events_summary *out)
{
	memset(out, 0, sizeof(*out));
	out->github_points_remaining = (long long)ga_metrics_gauge_value(metrics->points_remaining);
	out->github_points_used = ga_metrics_counter_value(metrics->points_used);
	for (int i = 0; i < SERVICE_DELIVERY_RESULT_COUNT; i++)
		out->deliveries[i] = ga_metrics_counter_value(metrics->deliveries[i]);
	out->removals_applied = ga_metrics_counter_value(metrics->removals_applied);
	out->refreshes_skipped = ga_metrics_counter_value(metrics->webhook_refreshes_skipped);
}
