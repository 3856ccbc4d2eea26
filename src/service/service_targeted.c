/*
 * service_targeted.c - the targeted-read source: a webhook delivery names
 * what changed (one team's members or repository grants, one repository),
 * and this thread reads only that from GitHub (gh_sync_targeted, a point or
 * two) and hands the publisher a change: "this team list / repository is
 * what GitHub said at the moment the read started".  The publisher applies
 * it, in time order with the removals, to every snapshot read before that
 * moment, so that neither an older sync nor an older change undoes it; a
 * full sync started later ends it.  See service_pipeline.h and
 * docs/internals/webhooks.md.
 */
#include "service/service_pipeline.h"

#include <string.h>
#include <strings.h>

#include "service/service_metrics.h"
#include "util/ga_clock.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

struct service_targeted {
	struct service_source source;

	struct service_thread thread;	/* its lock guards the queue */
	struct service_webhook_target queue[SERVICE_TARGETED_QUEUE_MAX];
	size_t head;			/* oldest pending */
	size_t count;
};

struct service_targeted *
service_targeted_create(const struct service_source *source)
{
	struct service_targeted *targeted = ga_calloc(1, sizeof(*targeted));

	targeted->source = *source;
	service_thread_init(&targeted->thread);
	return targeted;
}

void
service_targeted_destroy(struct service_targeted *targeted)
{
	if (targeted == NULL)
		return;
	service_thread_destroy(&targeted->thread);
	ga_free(targeted);
}

/* Under the lock: the same read waits already (it has not started, so it
 * will read what this delivery changed too). */
static bool
pending(const struct service_targeted *targeted, const struct service_webhook_target *target)
{
	for (size_t i = 0; i < targeted->count; i++) {
		const struct service_webhook_target *queued =
			&targeted->queue[(targeted->head + i) % SERVICE_TARGETED_QUEUE_MAX];

		if (queued->kind == target->kind && strcasecmp(queued->name, target->name) == 0)
			return true;
	}
	return false;
}

bool
service_targeted_request(struct service_targeted *targeted,
			 const struct service_webhook_target *target)
{
	bool queued = true;

	if (target->kind == SERVICE_TARGETED_NONE || target->name[0] == '\0')
		return false;
	pthread_mutex_lock(&targeted->thread.lock);
	if (targeted->thread.stopping || (!pending(targeted, target) &&
					  targeted->count == SERVICE_TARGETED_QUEUE_MAX)) {
		queued = false;
	} else if (!pending(targeted, target)) {
		targeted->queue[(targeted->head + targeted->count) % SERVICE_TARGETED_QUEUE_MAX] =
			*target;
		targeted->count++;
		pthread_cond_signal(&targeted->thread.wake);
	}
	pthread_mutex_unlock(&targeted->thread.lock);
	if (!queued)
		service_metrics_note_targeted(targeted->source.metrics, NULL,
					      SERVICE_TARGETED_DROPPED);
	return queued;
}

static enum gh_targeted_kind
github_kind(enum service_targeted_kind kind)
{
	switch (kind) {
	case SERVICE_TARGETED_TEAM_MEMBERS:
		return GH_TARGETED_TEAM_MEMBERS;
	case SERVICE_TARGETED_TEAM_REPOSITORIES:
		return GH_TARGETED_TEAM_REPOSITORIES;
	case SERVICE_TARGETED_MEMBER:
		return GH_TARGETED_MEMBER;
	case SERVICE_TARGETED_REPOSITORY:
	case SERVICE_TARGETED_NONE:
	default:
		return GH_TARGETED_REPOSITORY;
	}
}

/* A team list applies only to a team the current data has: a new team's
 * parent and other list come with the full sync. */
static bool
known_to_current(struct service_targeted *targeted, const struct service_webhook_target *target)
{
	const struct service_view *view;
	const struct org_input *input;
	bool known = false;

	if (target->kind == SERVICE_TARGETED_REPOSITORY || target->kind == SERVICE_TARGETED_MEMBER)
		return true;
	view = service_publisher_acquire(targeted->source.publisher);
	if (view == NULL)
		return false;
	input = org_snapshot_input(service_view_snapshot(view));
	for (size_t i = 0; !known && i < input->team_count; i++)
		known = strcasecmp(input->teams[i].slug, target->name) == 0;
	service_release_view(view);
	return known;
}

static void
log_read(const struct service_webhook_target *target, const struct gh_sync_stats *stats,
	 const char *error)
{
	char points[24];
	char duration[24];

	snprintf(points, sizeof(points), "%lld", stats->graphql_points);
	snprintf(duration, sizeof(duration), "%lld", stats->duration_ms);
	if (error != NULL)
		ga_log(GA_LOG_WARN, "targeted read failed; a full refresh will bring the change",
		       "what", service_targeted_kind_name(target->kind), "name", target->name,
		       "points", points, "error", error, (char *)NULL);
	else
		ga_log(GA_LOG_INFO, "targeted read", "what",
		       service_targeted_kind_name(target->kind), "name", target->name, "points",
		       points, "duration_ms", duration, (char *)NULL);
}

/* Lock not held. */
static void
read_one(struct service_targeted *targeted, const struct service_webhook_target *target)
{
	const struct service_source *source = &targeted->source;
	struct gh_sync_stats stats = {.warnings = NULL};
	struct ga_err err = {0};
	struct service_change change = {.removal = {.kind = SERVICE_WEBHOOK_REMOVE_NONE}};
	struct org_input *data = NULL;
	enum ga_rc rc;

	rc = gh_sync_targeted(service_settings_github(source->settings), github_kind(target->kind),
			      target->name, &data, &stats, &err);
	/* Only what GitHub says is left: a targeted read's cost is not a
	 * sync's, which paces the full refreshes. */
	service_budget_note_rate_limit(source->budget, &stats);
	service_metrics_note_targeted(source->metrics, &stats,
				      rc == GA_OK ? SERVICE_TARGETED_OK : SERVICE_TARGETED_FAILED);
	log_read(target, &stats, rc == GA_OK ? NULL : err.message);
	gh_sync_stats_free(&stats);
	if (rc != GA_OK || !known_to_current(targeted, target)) {
		org_input_free(data);
		service_refresh_request(source->refresh);
		return;
	}
	change.at_ms = org_input_read_at_ms(data);
	if (target->kind == SERVICE_TARGETED_MEMBER && data->member_count == 0) {
		/* Not a member (any more): what a member_removed takes away. */
		size_t len = strnlen(target->name, sizeof(change.removal.login) - 1);

		/* A member target is a valid login (copy_login): it fits. */
		change.removal.kind = SERVICE_WEBHOOK_REMOVE_MEMBER;
		memcpy(change.removal.login, target->name, len);
		change.removal.login[len] = '\0';
	} else {
		change.targeted.target = *target;
		change.targeted.data = data;
	}
	service_publisher_change(source->publisher, &change,
				 service_settings_config(source->settings));
	/* The other instances apply what was read here, at the same time. */
	if (source->shared != NULL)
		service_shared_append(source->shared, &change);
	org_input_free(data);
}

static void *
targeted_main(void *arg)
{
	struct service_targeted *targeted = arg;
	struct service_thread *thread = &targeted->thread;

	pthread_mutex_lock(&thread->lock);
	while (!thread->stopping) {
		struct service_webhook_target target;

		if (targeted->count == 0) {
			service_thread_wait_until(thread, ga_monotonic_ms() + 60 * 1000);
			continue;
		}
		target = targeted->queue[targeted->head];
		targeted->head = (targeted->head + 1) % SERVICE_TARGETED_QUEUE_MAX;
		targeted->count--;
		pthread_mutex_unlock(&thread->lock);
		read_one(targeted, &target);
		pthread_mutex_lock(&thread->lock);
	}
	pthread_mutex_unlock(&thread->lock);
	return NULL;
}

enum ga_rc
service_targeted_start(struct service_targeted *targeted, struct ga_err *err)
{
	return service_thread_start(&targeted->thread, "targeted", targeted_main, targeted, err);
}

/* A read in progress ends with its request: service_stop cancels the
 * client first. */
void
service_targeted_stop(struct service_targeted *targeted)
{
	service_thread_stop(&targeted->thread);
}
