/*
 * service_view.c - the current view: a snapshot with its derived data,
 * published atomically.
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
 */
#include "service/service_internal.h"

#include <sched.h>

#include "util/ga_log.h"
#include "util/ga_xalloc.h"

static struct service_view *
view_build(struct service *service, struct org_snapshot *snapshot, const struct config *config)
{
	struct service_view *view = ga_calloc(1, sizeof(*view) + service->derivation_count *
						  sizeof(view->derived[0]));

	atomic_init(&view->references, 1);
	view->snapshot = snapshot;
	view->synced_at = org_snapshot_synced_at(snapshot);
	view->derived_count = service->derivation_count;
	for (size_t i = 0; i < service->derivation_count; i++) {
		const struct service_derivation *derivation = service->derivations[i];

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
service_acquire_view_any_age(struct service *service)
{
	struct service_view *view;
	unsigned long epoch;

	for (;;) {
		epoch = atomic_load(&service->epoch);
		atomic_fetch_add(&service->active[epoch & 1], 1);
		if (atomic_load(&service->epoch) == epoch)
			break;
		atomic_fetch_sub(&service->active[epoch & 1], 1);
	}
	view = atomic_load(&service->view);
	if (view != NULL)
		atomic_fetch_add(&view->references, 1);
	atomic_fetch_sub(&service->active[epoch & 1], 1);
	return view;
}

const struct service_view *
service_acquire_view(struct service *service)
{
	const struct service_view *view = service_acquire_view_any_age(service);
	const struct config *config = atomic_load(&service->config);

	if (view != NULL && service_now() - view->synced_at > config->max_stale) {
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
	snapshot = org_snapshot_retain(view->snapshot);
	service_release_view(view);
	return snapshot;
}

const struct org_snapshot *
service_view_snapshot(const struct service_view *view)
{
	return view->snapshot;
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
swap_view(struct service *service, struct service_view *view)
{
	struct service_view *old = atomic_exchange(&service->view, view);
	unsigned long epoch = atomic_fetch_add(&service->epoch, 1);

	while (atomic_load(&service->active[epoch & 1]) != 0)
		sched_yield();
	if (old != NULL)
		service_release_view(old);
}

bool
service_publish(struct service *service, struct org_snapshot *snapshot,
		const struct config *config)
{
	struct service_view *view;
	struct service_view *current;
	long long read_at_ms;

	/* Removals that webhooks reported after this data was read. */
	snapshot = service_events_patch(service, snapshot, config);
	read_at_ms = org_input_read_at_ms(org_snapshot_input(snapshot));
	/* Derive outside the lock: it is the slow part, and a publisher that
	 * loses the race to a newer view is refused below. */
	view = view_build(service, snapshot, config);
	/* Before the swap: once published, another publisher may drop it. */
	service_note_base_permission(service, snapshot, config);
	pthread_mutex_lock(&service->publish_lock);
	current = atomic_load(&service->view);
	if (current != NULL && current->synced_at > view->synced_at) {
		pthread_mutex_unlock(&service->publish_lock);
		ga_log(GA_LOG_INFO, "snapshot not published: the current one is newer",
		       (char *)NULL);
		view_free(view);
		return false;
	}
	swap_view(service, view);
	pthread_mutex_unlock(&service->publish_lock);
	/* The old view is usually freed by now: give its pages back, or the
	 * resident set stays at the refresh's peak (docs/internals/memory.md). */
	ga_trim();
	atomic_fetch_add(&service->counters.snapshots_published, 1);
	service_events_published(service, read_at_ms);
	return true;
}

void
service_clear_view(struct service *service)
{
	pthread_mutex_lock(&service->publish_lock);
	swap_view(service, NULL);
	pthread_mutex_unlock(&service->publish_lock);
}
