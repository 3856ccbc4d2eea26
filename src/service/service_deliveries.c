/*
 * service_deliveries.c - the webhook source: deliveries queued by POST
 * /webhook are handled here after the answer, on a thread of their own so
 * that neither a slow sync nor a hung poll delays a removal.  What a
 * delivery takes away goes to the publisher as a change, at once; what it
 * asks for otherwise is a full refresh, debounced and paced by the GitHub
 * budget; see service_pipeline.h and docs/internals/webhooks.md.
 */
#include "service/service_pipeline.h"

#include <stdio.h>
#include <string.h>

#include "service/service_metrics.h"
#include "util/ga_clock.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

/* Deliveries waiting for the thread: GitHub sends them one by one, so a
 * long queue means the thread is stuck; refuse rather than grow.  Their
 * bytes stay within the webhook memory budget ([webhook] max_memory). */
#define QUEUE_MAX 256
/* X-GitHub-Event names are short lower-case words. */
#define EVENT_MAX 64

struct queued_delivery {
	struct queued_delivery *next;
	char event[EVENT_MAX];
	char delivery[SERVICE_WEBHOOK_DELIVERY_MAX + 1];
	struct service_webhook_body *body;	/* verified; holds its budget */
};

struct service_deliveries {
	struct service_source source;
	struct service_webhook_budget budget;		/* every body in flight */
	struct service_webhook_replay *replay;		/* delivery ids */
	struct service_webhook_replay *bodies;		/* signed bodies, by their HMAC */

	struct service_thread thread;	/* its lock guards everything below */
	struct queued_delivery *head;
	struct queued_delivery *tail;
	size_t queued;
	struct service_webhook_pacing pacing;
};

struct service_deliveries *
service_deliveries_create(const struct service_source *source)
{
	struct service_deliveries *deliveries = ga_calloc(1, sizeof(*deliveries));

	deliveries->source = *source;
	deliveries->replay = service_webhook_replay_create(SERVICE_WEBHOOK_REPLAY_CAPACITY,
							   SERVICE_WEBHOOK_REPLAY_MAX_AGE);
	deliveries->bodies = service_webhook_replay_create(SERVICE_WEBHOOK_REPLAY_CAPACITY,
							   SERVICE_WEBHOOK_REPLAY_MAX_AGE);
	service_thread_init(&deliveries->thread);
	service_webhook_pacing_init(&deliveries->pacing,
				    service_settings_config(source->settings)->webhook_debounce_ms);
	return deliveries;
}

void
service_deliveries_destroy(struct service_deliveries *deliveries)
{
	struct queued_delivery *item;

	if (deliveries == NULL)
		return;
	service_deliveries_stop(deliveries);
	while ((item = deliveries->head) != NULL) {
		deliveries->head = item->next;
		service_webhook_body_free(item->body);
		ga_free(item);
	}
	service_webhook_replay_destroy(deliveries->replay);
	service_webhook_replay_destroy(deliveries->bodies);
	service_thread_destroy(&deliveries->thread);
	ga_free(deliveries);
}

struct service_webhook_budget *
service_deliveries_budget(struct service_deliveries *deliveries)
{
	return &deliveries->budget;
}

/* ---- taking a delivery (request threads) ---------------------------------------- */

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

/* Under the lock: room for one more delivery?  (Its bytes are in the
 * budget already.) */
static bool
queue_has_room(const struct service_deliveries *deliveries)
{
	return !deliveries->thread.stopping && deliveries->queued < QUEUE_MAX;
}

/* The replay sets: the delivery id (GitHub's Redeliver reuses it), then the
 * signed body under any id.  Only a delivery that passes both is recorded
 * in the second; its id is recorded either way. */
static enum service_delivery
check_replay(struct service_deliveries *deliveries, const char *delivery,
	     const struct service_webhook_body *body)
{
	char key[2 * GA_HMAC_SIZE + 1];
	long long now = ga_wall_s();

	switch (service_webhook_replay_check(deliveries->replay, delivery, now)) {
	case SERVICE_WEBHOOK_DELIVERY_NEW:
		break;
	case SERVICE_WEBHOOK_DELIVERY_DUPLICATE:
		return SERVICE_DELIVERY_DUPLICATE;
	case SERVICE_WEBHOOK_DELIVERY_INVALID:
	default:
		return SERVICE_DELIVERY_INVALID;
	}
	ga_hex(service_webhook_body_digest(body), GA_HMAC_SIZE, key);
	if (service_webhook_replay_check(deliveries->bodies, key, now) !=
	    SERVICE_WEBHOOK_DELIVERY_NEW)
		return SERVICE_DELIVERY_REPLAY;
	return SERVICE_DELIVERY_ACCEPTED;
}

/* Under the lock: the replay checks, then the queue.  A delivery that
 * finds no room is not recorded, so that GitHub's redelivery is taken. */
static enum service_delivery
admit(struct service_deliveries *deliveries, const char *delivery, struct queued_delivery *item)
{
	enum service_delivery result;

	if (!queue_has_room(deliveries))
		return SERVICE_DELIVERY_BUSY;
	result = check_replay(deliveries, delivery, item->body);
	if (result != SERVICE_DELIVERY_ACCEPTED)
		return result;
	if (deliveries->tail != NULL)
		deliveries->tail->next = item;
	else
		deliveries->head = item;
	deliveries->tail = item;
	deliveries->queued++;
	pthread_cond_signal(&deliveries->thread.wake);
	return SERVICE_DELIVERY_ACCEPTED;
}

enum service_delivery
service_deliveries_take(struct service_deliveries *deliveries, const char *event,
			const char *delivery, struct service_webhook_body *body)
{
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
		pthread_mutex_lock(&deliveries->thread.lock);
		result = admit(deliveries, delivery, item);
		pthread_mutex_unlock(&deliveries->thread.lock);
		if (result == SERVICE_DELIVERY_ACCEPTED)
			body = NULL;	/* the queue has it */
		else
			ga_free(item);
	}
	service_webhook_body_free(body);
	service_metrics_note_delivery(deliveries->source.metrics, result);
	return result;
}

/* ---- handling a delivery (the deliveries thread) ---------------------------------- */

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
	       event->refresh ? "yes" : "no", "reason", event->reason, "read",
	       service_targeted_kind_name(event->target.kind), "removal",
	       service_webhook_removal_name(event->removal.kind), fields[0], fields[1], fields[2],
	       fields[3], fields[4], fields[5], fields[6], fields[7], (char *)NULL);
}

/* The App was installed or uninstalled (a reinstall is both, with a new
 * installation id): the client looks the installation up again. */
static bool
installation_changed(const struct service_webhook_event *event)
{
	return strcmp(event->event, "installation") == 0 &&
	       (strcmp(event->action, "created") == 0 || strcmp(event->action, "deleted") == 0 ||
		strcmp(event->action, "unsuspend") == 0);
}

/* What the delivery took away goes to the publisher at once. */
static void
send_change(struct service_deliveries *deliveries, const struct service_webhook_event *event,
	    const struct config *config)
{
	struct service_change change = { .at_ms = ga_wall_ms(), .removal = event->removal };

	service_publisher_change(deliveries->source.publisher, &change, config);
	/* Every other instance applies it too, through the shared log. */
	if (deliveries->source.shared != NULL)
		service_shared_append(deliveries->source.shared, &change);
	service_metrics_note_removal(deliveries->source.metrics);
	ga_log(GA_LOG_INFO, "audit", "action", "revoke", "user",
	       event->removal.login[0] ? event->removal.login : "-", "what",
	       service_webhook_removal_name(event->removal.kind), "decision", "deny",
	       "reason", event->reason, (char *)NULL);
}

/* Lock not held. */
static void
handle_delivery(struct service_deliveries *deliveries, struct queued_delivery *item)
{
	const struct service_source *source = &deliveries->source;
	const struct config *config = service_settings_config(source->settings);
	struct service_webhook_event event;
	struct ga_err err = {0};
	size_t len;
	const char *body = service_webhook_body_data(item->body, &len);

	if (service_webhook_classify(item->event, body, len, config->organization, &event,
				     &err) != GA_OK) {
		ga_log(GA_LOG_WARN, "webhook payload refused", "delivery", item->delivery, "event",
		       event.event, "error", err.message, (char *)NULL);
		service_metrics_note_delivery(source->metrics, SERVICE_DELIVERY_MALFORMED);
		return;
	}
	log_delivery(item, &event);
	if (installation_changed(&event))
		gh_client_installation_changed(service_settings_github(source->settings));
	if (event.removal.kind != SERVICE_WEBHOOK_REMOVE_NONE)
		send_change(deliveries, &event, config);
	/* After the removal: the read starts later, so what it finds is newer. */
	if (event.target.kind != SERVICE_TARGETED_NONE &&
	    (source->targeted == NULL || !service_targeted_request(source->targeted, &event.target)))
		event.refresh = true;
	if (event.refresh) {
		pthread_mutex_lock(&deliveries->thread.lock);
		service_webhook_pacing_note(&deliveries->pacing, ga_monotonic_ms());
		pthread_mutex_unlock(&deliveries->thread.lock);
	}
}

/* ---- the thread ------------------------------------------------------------------------ */

/*
 * Under the lock: is a delivery-asked refresh due now?  *wait_ms gets the
 * time until it is (-1: none pending).  The budget is the one the last
 * sync reported, and the bucket every full sync draws from must hold one.
 */
static bool
refresh_due(struct service_deliveries *deliveries, long long now_ms, long long *wait_ms)
{
	bool budget_low = false;
	long long cost, remaining, due;

	service_budget_read(deliveries->source.budget, &cost, &remaining);
	service_webhook_pacing_budget(&deliveries->pacing, cost, remaining);
	due = service_webhook_pacing_due(&deliveries->pacing, now_ms, &budget_low);
	if (budget_low) {
		service_metrics_note_webhook_refresh(deliveries->source.metrics, true);
		ga_log(GA_LOG_WARN, "webhook refresh skipped: GitHub points are low; the "
		       "periodic refresh will bring the change", (char *)NULL);
	}
	/* The full syncs, webhook-asked ones too, spend at most [github]
	 * budget_share: wait until the bucket holds one sync's points. */
	if (due == 0)
		due = service_budget_sync_wait_ms(deliveries->source.budget,
						  service_settings_config(deliveries->source.settings),
						  now_ms);
	*wait_ms = due;
	if (due != 0)
		return false;
	service_webhook_pacing_started(&deliveries->pacing, now_ms);
	service_metrics_note_webhook_refresh(deliveries->source.metrics, false);
	*wait_ms = -1;
	return true;
}

/* Deliveries first, in arrival order; then the refresh they asked for. */
static void *
deliveries_main(void *arg)
{
	struct service_deliveries *deliveries = arg;
	struct service_thread *thread = &deliveries->thread;

	pthread_mutex_lock(&thread->lock);
	while (!thread->stopping) {
		struct queued_delivery *item = deliveries->head;
		long long now;
		long long refresh_in;

		if (item != NULL) {
			deliveries->head = item->next;
			if (deliveries->head == NULL)
				deliveries->tail = NULL;
			deliveries->queued--;
			pthread_mutex_unlock(&thread->lock);
			handle_delivery(deliveries, item);
			service_webhook_body_free(item->body);
			ga_free(item);
			pthread_mutex_lock(&thread->lock);
			continue;
		}
		now = ga_monotonic_ms();
		if (refresh_due(deliveries, now, &refresh_in)) {
			/* Not under our lock: no lock is taken while another is held. */
			pthread_mutex_unlock(&thread->lock);
			service_refresh_request(deliveries->source.refresh);
			pthread_mutex_lock(&thread->lock);
		}
		if (!thread->stopping && deliveries->head == NULL)
			service_thread_wait_until(thread,
						  now + (refresh_in >= 0 ? refresh_in : 60 * 1000));
	}
	pthread_mutex_unlock(&thread->lock);
	return NULL;
}

enum ga_rc
service_deliveries_start(struct service_deliveries *deliveries, struct ga_err *err)
{
	return service_thread_start(&deliveries->thread, "webhook", deliveries_main, deliveries,
				    err);
}

void
service_deliveries_stop(struct service_deliveries *deliveries)
{
	service_thread_stop(&deliveries->thread);
}
