/*
 * org_current.h - the current snapshot, swapped atomically.
 *
 * Readers (request threads) call org_current_acquire() to get a counted
 * reference to the snapshot that is current right now, use it for the whole
 * request, and release it.  They never take a lock and never wait: the
 * acquire is a handful of atomic operations.  The one writer (the sync
 * thread, or SIGHUP) publishes a new snapshot with org_current_publish(),
 * which waits only for readers that are in the middle of an acquire (a few
 * instructions) before dropping its reference to the old snapshot: that wait
 * is what makes it safe to free a snapshot that a reader had just loaded.
 *
 * Two epoch counters make the writer's wait finite even under constant read
 * load: new readers count themselves in the other epoch.
 */
#ifndef ORG_CURRENT_H
#define ORG_CURRENT_H

#include <pthread.h>
#include <stdatomic.h>

#include "org/org_snapshot.h"

struct org_current {
	_Atomic(struct org_snapshot *) snapshot;
	atomic_ulong epoch;
	atomic_ulong active[2];
	pthread_mutex_t writer_lock;	/* serialises publishers only */
};

void org_current_init(struct org_current *current);

/* Drops the held snapshot.  No reader may be active. */
void org_current_destroy(struct org_current *current);

/* A new reference to the current snapshot, or NULL before the first one.
 * Release it with org_snapshot_release. */
struct org_snapshot *org_current_acquire(struct org_current *current);

/* Make snapshot current.  Takes the caller's reference.  NULL clears. */
void org_current_publish(struct org_current *current, struct org_snapshot *snapshot);

#endif
