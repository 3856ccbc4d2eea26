/*
 * service_publisher.c - the one writer of the current view: sources hand
 * it snapshots and changes, it applies the changes, derives the front
 * ends' data and swaps the view; see service_pipeline.h.
 *
 * Readers (request threads) take a counted reference to the view that is
 * current right now, use it for the whole request, and release it.  They
 * never take a lock and never wait: an acquire is a handful of atomic
 * operations.  A publisher swaps the pointer, then waits only for readers
 * that are in the middle of an acquire (a few instructions) before dropping
 * its reference to the old view: that wait is what makes it safe to free a
 * view that a reader had just loaded.  Two epoch counters make the wait
 * finite under constant read load: readers that arrive after the swap count
 * themselves in the other epoch.
 *
 * Changes.  A change (what a webhook took away) is kept with the moment a
 * source learned it, applied to every snapshot published whose data was
 * read before that moment (a sync that was already running cannot bring
 * the access back), and dropped once a snapshot read after it is
 * published.  Applying is explicit and happens here only: a snapshot comes
 * in, the changes that apply to it are applied, the result is published.
 */
#include "service/service_pipeline.h"

#include <sched.h>

#include "service/service_metrics.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

/* A republish that lost a race with a newer sync tries again this often. */
#define REPUBLISH_TRIES 5

struct service_view {
	atomic_ulong references;
	struct org_snapshot *snapshot;		/* one reference, owned */
	long long synced_at;
	size_t derived_count;
	struct service_view_slot {
		const struct service_derivation *derivation;
		void *data;
	} derived[];
};

struct service_publisher {
	const struct service_derivation *const *derivations;
	size_t derivation_count;
	struct service_metrics *metrics;
	struct service_webhook_revocations *changes;	/* its own lock */

	_Atomic(struct service_view *) view;
	atomic_ulong epoch;
	atomic_ulong active[2];
	pthread_mutex_t publish_lock;		/* one swap at a time */
	/* The configuration whose unverified base permission was warned about
	 * (once per start and per reload). */
	_Atomic(const struct config *) base_permission_warned_for;
};

struct service_publisher *
service_publisher_create(const struct service_derivation *const *derivations,
			 struct service_metrics *metrics)
{
	struct service_publisher *publisher = ga_calloc(1, sizeof(*publisher));

	publisher->derivations = derivations;
	while (derivations != NULL && derivations[publisher->derivation_count] != NULL)
		publisher->derivation_count++;
	publisher->metrics = metrics;
	publisher->changes = service_webhook_revocations_create();
	atomic_init(&publisher->view, NULL);
	atomic_init(&publisher->epoch, 0);
	atomic_init(&publisher->active[0], 0);
	atomic_init(&publisher->active[1], 0);
	atomic_init(&publisher->base_permission_warned_for, NULL);
	pthread_mutex_init(&publisher->publish_lock, NULL);
	return publisher;
}

/* ---- views -------------------------------------------------------------------- */

static struct service_view *
view_build(const struct service_publisher *publisher, struct org_snapshot *snapshot,
	   const struct config *config)
{
	struct service_view *view = ga_calloc(1, sizeof(*view) + publisher->derivation_count *
						  sizeof(view->derived[0]));

	atomic_init(&view->references, 1);
	view->snapshot = snapshot;
	view->synced_at = org_snapshot_synced_at(snapshot);
	view->derived_count = publisher->derivation_count;
	for (size_t i = 0; i < publisher->derivation_count; i++) {
		const struct service_derivation *derivation = publisher->derivations[i];

		view->derived[i].derivation = derivation;
		view->derived[i].data = derivation->build != NULL
					? derivation->build(snapshot, config) : NULL;
	}
	return view;
}

static void
view_free(struct service_view *view)
{
	for (size_t i = 0; i < view->derived_count; i++) {
		const struct service_derivation *derivation = view->derived[i].derivation;

		if (view->derived[i].data != NULL && derivation->destroy != NULL)
			derivation->destroy(view->derived[i].data);
	}
	org_snapshot_release(view->snapshot);
	ga_free(view);
}

void
service_release_view(const struct service_view *view)
{
	struct service_view *mutable_view = (struct service_view *)view;

	if (view != NULL && atomic_fetch_sub(&mutable_view->references, 1) == 1)
		view_free(mutable_view);
}

/*
 * The reader side of the scheme above: announce ourselves in the current
 * epoch, take a reference, leave.  A publisher that swapped the
 * pointer waits for the readers of the epoch it closed before it drops its
 * own reference, so the view we loaded cannot be freed under us.
 */
const struct service_view *
service_publisher_acquire(struct service_publisher *publisher)
{
	struct service_view *view;
	unsigned long epoch;

	for (;;) {
		epoch = atomic_load(&publisher->epoch);
		atomic_fetch_add(&publisher->active[epoch & 1], 1);
		if (atomic_load(&publisher->epoch) == epoch)
			break;
		atomic_fetch_sub(&publisher->active[epoch & 1], 1);
	}
	view = atomic_load(&publisher->view);
	if (view != NULL)
		atomic_fetch_add(&view->references, 1);
	atomic_fetch_sub(&publisher->active[epoch & 1], 1);
	return view;
}

const struct org_snapshot *
service_view_snapshot(const struct service_view *view)
{
	return view->snapshot;
}

long long
service_view_synced_at(const struct service_view *view)
{
	return view->synced_at;
}

void *
service_view_derived(const struct service_view *view, const struct service_derivation *derivation)
{
	for (size_t i = 0; i < view->derived_count; i++)
		if (view->derived[i].derivation == derivation)
			return view->derived[i].data;
	return NULL;
}

/* Swap in view (may be NULL) and drop the old one once no reader can be
 * between loading it and counting itself.  Under publish_lock. */
static void
swap_view(struct service_publisher *publisher, struct service_view *view)
{
	struct service_view *old = atomic_exchange(&publisher->view, view);
	unsigned long epoch = atomic_fetch_add(&publisher->epoch, 1);

	while (atomic_load(&publisher->active[epoch & 1]) != 0)
		sched_yield();
	if (old != NULL)
		service_release_view(old);
}

void
service_publisher_destroy(struct service_publisher *publisher)
{
	if (publisher == NULL)
		return;
	pthread_mutex_lock(&publisher->publish_lock);
	swap_view(publisher, NULL);
	pthread_mutex_unlock(&publisher->publish_lock);
	pthread_mutex_destroy(&publisher->publish_lock);
	service_webhook_revocations_destroy(publisher->changes);
	ga_free(publisher);
}

/* ---- the base permission ----------------------------------------------------- */

bool
service_base_permission_unverified(const struct org_snapshot *snapshot,
				   const struct config *config)
{
	return !org_snapshot_input(snapshot)->base_permission_known &&
	       config->base_permission != CONFIG_PERMISSION_UNSET;
}

/* A snapshot is published under config: warn (once per start and per
 * reload) when its base permission is the configured, unverified one. */
static void
note_base_permission(struct service_publisher *publisher, const struct org_snapshot *snapshot,
		     const struct config *config)
{
	if (!service_base_permission_unverified(snapshot, config) ||
	    atomic_exchange(&publisher->base_permission_warned_for, config) == config)
		return;
	ga_log(GA_LOG_WARN,
	       "the configured [github] base_permission is in force and unverified: the token "
	       "cannot read the organization's base permission (it needs admin:org), so an owner "
	       "lowering it on GitHub goes unnoticed until the configuration changes",
	       "base_permission", org_level_name(org_snapshot_base_permission(snapshot)),
	       (char *)NULL);
}

/* ---- changes ------------------------------------------------------------------ */

/*
 * snapshot (taken) with the changes learned after its data was read
 * applied: the same snapshot when none applies, else a new build.
 */
static struct org_snapshot *
apply_changes(struct service_publisher *publisher, struct org_snapshot *snapshot,
	      const struct config *config)
{
	struct org_input *patched;
	struct org_snapshot *rebuilt = NULL;
	struct ga_err err = {0};

	patched = service_webhook_revocations_apply(publisher->changes,
						    org_snapshot_input(snapshot));
	if (patched == NULL)
		return snapshot;
	if (org_snapshot_build(patched, config, &rebuilt, &err) != GA_OK) {
		/* Only an invalid repo_pattern fails, and config_load refuses
		 * those: keep GitHub's data rather than nothing. */
		ga_log(GA_LOG_ERROR, "could not apply webhook changes", "error", err.message,
		       (char *)NULL);
		return snapshot;
	}
	org_snapshot_release(snapshot);
	return rebuilt;
}

size_t
service_publisher_pending_changes(struct service_publisher *publisher)
{
	return service_webhook_revocations_count(publisher->changes);
}

/* ---- publishing ---------------------------------------------------------------- */

bool
service_publisher_snapshot(struct service_publisher *publisher, struct org_snapshot *snapshot,
			   const struct config *config)
{
	struct service_view *view;
	struct service_view *current;
	long long read_at_ms;

	snapshot = apply_changes(publisher, snapshot, config);
	read_at_ms = org_input_read_at_ms(org_snapshot_input(snapshot));
	/* Derive outside the lock: it is the slow part, and a publisher that
	 * loses the race to a newer view is refused below. */
	view = view_build(publisher, snapshot, config);
	/* Before the swap: once published, another publisher may drop it. */
	note_base_permission(publisher, snapshot, config);
	pthread_mutex_lock(&publisher->publish_lock);
	current = atomic_load(&publisher->view);
	if (current != NULL && current->synced_at > view->synced_at) {
		pthread_mutex_unlock(&publisher->publish_lock);
		ga_log(GA_LOG_INFO, "snapshot not published: the current one is newer",
		       (char *)NULL);
		view_free(view);
		return false;
	}
	swap_view(publisher, view);
	pthread_mutex_unlock(&publisher->publish_lock);
	/* The old view is usually freed by now: give its pages back, or the
	 * resident set stays at the refresh's peak (docs/internals/memory.md). */
	ga_trim();
	service_metrics_note_published(publisher->metrics);
	/* Changes older than this data are in GitHub's data now. */
	service_webhook_revocations_expire(publisher->changes, read_at_ms);
	return true;
}

/* Publish the current snapshot again so that the change just recorded
 * applies.  A snapshot published meanwhile applies it itself, or is newer
 * than what we tried to publish: then try again with it. */
static void
republish_current(struct service_publisher *publisher, const struct config *config)
{
	for (int attempt = 0; attempt < REPUBLISH_TRIES; attempt++) {
		const struct service_view *view = service_publisher_acquire(publisher);
		struct org_snapshot *snapshot;

		if (view == NULL)
			return;	/* nothing to take access from yet */
		snapshot = org_snapshot_retain((struct org_snapshot *)service_view_snapshot(view));
		service_release_view(view);
		if (service_publisher_snapshot(publisher, snapshot, config))
			return;
	}
}

void
service_publisher_change(struct service_publisher *publisher,
			 const struct service_change *change, const struct config *config)
{
	if (change->targeted.target.kind != SERVICE_TARGETED_NONE)
		service_webhook_revocations_add_targeted(publisher->changes, &change->targeted,
							 change->at_ms);
	else
		service_webhook_revocations_add(publisher->changes, &change->removal,
						change->at_ms);
	republish_current(publisher, config);
}
