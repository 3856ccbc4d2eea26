/* org_current.c - lock-free publication of snapshots; see org_current.h. */
#include "org/org_current.h"

#include <sched.h>

void
org_current_init(struct org_current *current)
{
	atomic_init(&current->snapshot, NULL);
	atomic_init(&current->epoch, 0);
	atomic_init(&current->active[0], 0);
	atomic_init(&current->active[1], 0);
	pthread_mutex_init(&current->writer_lock, NULL);
}

void
org_current_destroy(struct org_current *current)
{
	struct org_snapshot *snapshot = atomic_exchange(&current->snapshot, NULL);

	if (snapshot != NULL)
		org_snapshot_release(snapshot);
	pthread_mutex_destroy(&current->writer_lock);
}

struct org_snapshot *
org_current_acquire(struct org_current *current)
{
	struct org_snapshot *snapshot;
	unsigned long epoch;

	/* Announce ourselves in the current epoch; if a publisher flipped the
	 * epoch meanwhile, it may not wait for us, so try again. */
	for (;;) {
		epoch = atomic_load(&current->epoch);
		atomic_fetch_add(&current->active[epoch & 1], 1);
		if (atomic_load(&current->epoch) == epoch)
			break;
		atomic_fetch_sub(&current->active[epoch & 1], 1);
	}
	snapshot = atomic_load(&current->snapshot);
	if (snapshot != NULL)
		org_snapshot_retain(snapshot);
	atomic_fetch_sub(&current->active[epoch & 1], 1);
	return snapshot;
}

void
org_current_publish(struct org_current *current, struct org_snapshot *snapshot)
{
	struct org_snapshot *old;
	unsigned long epoch;

	pthread_mutex_lock(&current->writer_lock);
	old = atomic_exchange(&current->snapshot, snapshot);
	/* Readers of the old epoch may hold `old` without a reference yet:
	 * wait until each of them has taken one.  Readers arriving now count
	 * themselves in the new epoch and will load the new pointer. */
	epoch = atomic_fetch_add(&current->epoch, 1);
	while (atomic_load(&current->active[epoch & 1]) != 0)
		sched_yield();
	pthread_mutex_unlock(&current->writer_lock);
	if (old != NULL)
		org_snapshot_release(old);
}
