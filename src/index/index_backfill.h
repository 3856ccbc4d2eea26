/*
 * index_backfill.h - completing the records of files stored before this
 * version: MD5 and BLAKE2b-256 (for the JSON API and the digest checks of
 * clients), and a wheel's METADATA (PEP 658), which uploads extract now.
 *
 * The server runs it once, in a thread of its own, from its start: every
 * request is answered meanwhile, and a file whose METADATA is not there
 * yet is simply listed without it (pip then downloads the wheel, as it
 * did before).  A wheel whose METADATA cannot be extracted keeps being
 * served; its record says why (metadata_error) and it is not tried again.
 *
 * Per file: its record and an open descriptor are taken under the
 * project's shared lock, the file is read without any lock (a descriptor
 * keeps its bytes, whatever replaces or deletes the name meanwhile), and
 * the results are written under the exclusive lock only if the record
 * still describes the same bytes and the name was not deleted.  Reading a
 * wheel is bounded as uploads are (index_wheel.h).
 *
 * Thread-safety: index_backfill_start/stop from one thread; the work runs
 * on its own thread over the thread-safe storage.
 */
#ifndef INDEX_BACKFILL_H
#define INDEX_BACKFILL_H

#include <stdbool.h>

#include "index/index_storage.h"

struct index_backfill_counts {
	unsigned metadata;	/* METADATA extracted and stored */
	unsigned failed;	/* wheels whose METADATA cannot be extracted */
	unsigned digests;	/* records given MD5 and BLAKE2b-256 */
};

/*
 * One pass over the whole storage, on the calling thread.  stop (may be
 * NULL) is polled between files and while a file is read: true abandons
 * the pass.
 */
void index_backfill_run(struct index_storage *storage, bool (*stop)(void *context),
			void *context, struct index_backfill_counts *counts);

struct index_backfill;

/* Start one pass on a new thread (storage must outlive it); NULL when no
 * thread can be started (logged: the files are then served without). */
struct index_backfill *index_backfill_start(struct index_storage *storage);

/* Ask the pass to stop, wait for it, free.  NULL is fine. */
void index_backfill_stop(struct index_backfill *backfill);

#endif
