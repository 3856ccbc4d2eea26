/*
 * service_shared.c - the source of other instances' changes: the change
 * log shared through memcached (cache.h, cache_changes_*).  Its thread
 *
 *   - appends the changes this instance's deliveries and targeted reads
 *     learned (kept encoded while memcached cannot take them, at most
 *     SERVICE_SHARED_PENDING_MAX and SERVICE_SHARED_PENDING_BYTES; past
 *     that the oldest is dropped, and a change too large for one entry is
 *     not kept at all: either way the log is reset once memcached answers,
 *     so that every reader sees a gap and syncs);
 *   - reads every instance's changes every [cache] change_poll_interval_ms
 *     and hands them to the publisher stamped with the moment their
 *     instance learned them: a change applies to every snapshot whose data
 *     predates it, on every instance;
 *   - asks the refresh for a full snapshot when it finds a gap (the log
 *     reset or replaced, an entry missing, fallen behind the ring, an entry
 *     refused), at most once per GAP_REFRESH_MIN_MS, and counts it;
 *   - renews the memcached sync lock every CACHE_SYNC_LOCK_RENEW_MS while
 *     this instance's refresh holds it (gh_sync blocks the refresh thread).
 *
 * An entry is its writer's origin (random per process, 32 hex digits) and
 * the change as service_change_codec.c writes it.  The entries this
 * instance wrote are skipped: its deliveries applied them already.  An
 * entry that fails its seal, or whose change does not decode (an unknown
 * kind included), is refused and never applied.  See service_pipeline.h.
 */
#include "service/service_pipeline.h"

#include <stdio.h>
#include <string.h>

#include "service/service_metrics.h"
#include "util/ga_clock.h"
#include "util/ga_log.h"
#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

#define ORIGIN_SIZE 16
#define ORIGIN_HEX (2 * ORIGIN_SIZE)
/* Entries read in one pass, at most (the rest at once in the next). */
#define READS_PER_PASS 256
/* Refreshes asked for by gaps: at most one per this. */
#define GAP_REFRESH_MIN_MS 5000LL

struct service_shared {
	struct service_source source;
	char origin[ORIGIN_HEX + 1];

	struct service_thread thread;	/* its lock guards the four below */
	char **pending;			/* ours, encoded, not appended yet; oldest first */
	size_t pending_count;
	size_t pending_bytes;
	bool lost;			/* pending overflowed: reset the log */
	bool appended;			/* a change was queued: a pass now */

	/* The thread's own. */
	struct cache_changes_cursor cursor;
	long long next_renew_ms;
	long long last_gap_refresh_ms;
	bool gap_refresh_owed;
	bool unreachable_logged;
	bool head_refused;		/* counted and logged once until it changes */
};

struct service_shared *
service_shared_create(const struct service_source *source)
{
	struct service_shared *shared = ga_calloc(1, sizeof(*shared));
	uint8_t origin[ORIGIN_SIZE];

	shared->source = *source;
	ga_random_bytes(origin, sizeof(origin));
	ga_hex(origin, sizeof(origin), shared->origin);
	shared->pending = ga_reallocarray(NULL, SERVICE_SHARED_PENDING_MAX,
					  sizeof(*shared->pending));
	shared->last_gap_refresh_ms = -GAP_REFRESH_MIN_MS;
	service_thread_init(&shared->thread);
	return shared;
}

void
service_shared_destroy(struct service_shared *shared)
{
	if (shared == NULL)
		return;
	service_thread_destroy(&shared->thread);
	for (size_t i = 0; i < shared->pending_count; i++)
		ga_free(shared->pending[i]);
	ga_free(shared->pending);
	ga_free(shared);
}

/* Under the lock: the oldest pending change, handed to the caller. */
static char *
pop_front_locked(struct service_shared *shared)
{
	char *entry = shared->pending[0];

	shared->pending_bytes -= strlen(entry);
	memmove(shared->pending, shared->pending + 1,
		(shared->pending_count - 1) * sizeof(*shared->pending));
	shared->pending_count--;
	return entry;
}

/* Under the lock: the oldest pending change is dropped, and the log will be
 * reset so that every instance syncs rather than miss it. */
static void
drop_oldest_locked(struct service_shared *shared, const char *why)
{
	ga_free(pop_front_locked(shared));
	if (!shared->lost)
		ga_log(GA_LOG_ERROR, why, (char *)NULL);
	shared->lost = true;
}

/* Under the lock: room for one more change of len bytes, within both bounds;
 * whatever is dropped for it makes the log reset. */
static void
make_room_locked(struct service_shared *shared, size_t len)
{
	while (shared->pending_count == SERVICE_SHARED_PENDING_MAX ||
	       (shared->pending_count > 0 &&
		shared->pending_bytes + len > SERVICE_SHARED_PENDING_BYTES))
		drop_oldest_locked(shared, "too many changes waiting for memcached: the oldest "
				   "is dropped; the change log is reset when memcached answers, "
				   "so that every instance syncs");
}

void
service_shared_append(struct service_shared *shared, const struct service_change *change)
{
	/* Encoded now: a targeted result's data is the caller's, and the text
	 * is what waits (bounded in count and in bytes) while memcached is
	 * away. */
	char *text = service_change_encode(change);
	char *entry;

	if (text == NULL)
		return;	/* nothing another instance could apply */
	entry = ga_asprintf("%s%s", shared->origin, text);
	ga_free(text);
	pthread_mutex_lock(&shared->thread.lock);
	if (strlen(entry) > CACHE_CHANGES_DATA_MAX) {
		/* Too large for one entry (a very large team's list): the
		 * others sync instead of missing it. */
		ga_free(entry);
		if (!shared->lost)
			ga_log(GA_LOG_WARN, "a change is too large to share: the change log is "
			       "reset, so that every instance syncs", (char *)NULL);
		shared->lost = true;
	} else {
		make_room_locked(shared, strlen(entry));
		shared->pending[shared->pending_count++] = entry;
		shared->pending_bytes += strlen(entry);
	}
	service_metrics_note_shared_pending(shared->source.metrics, shared->pending_count);
	shared->appended = true;
	pthread_cond_signal(&shared->thread.wake);
	pthread_mutex_unlock(&shared->thread.lock);
}

/* ---- appending ------------------------------------------------------------------ */

/* Append one encoded change: false when memcached did not take it (try
 * later). */
static bool
append_one(struct service_shared *shared, const char *entry)
{
	struct ga_err err = {0};
	enum ga_rc rc;

	rc = cache_changes_append(shared->source.cache, entry, strlen(entry), &err);
	if (rc == GA_EUPSTREAM)
		return false;
	if (rc == GA_OK)
		service_metrics_note_shared(shared->source.metrics, SERVICE_SHARED_APPENDED);
	else
		ga_log(GA_LOG_ERROR, "a change could not be shared", "error", err.message,
		       (char *)NULL);
	return true;
}

/* Append what is pending, oldest first, until memcached refuses. */
static void
flush_pending(struct service_shared *shared)
{
	char *entry;
	bool lost;

	pthread_mutex_lock(&shared->thread.lock);
	lost = shared->lost;
	pthread_mutex_unlock(&shared->thread.lock);
	if (lost) {
		struct ga_err err = {0};

		if (cache_changes_reset(shared->source.cache, &err) != GA_OK)
			return;
		ga_log(GA_LOG_WARN, "the shared change log was reset: changes were lost while "
		       "memcached was away, every instance syncs", (char *)NULL);
		pthread_mutex_lock(&shared->thread.lock);
		shared->lost = false;
		pthread_mutex_unlock(&shared->thread.lock);
	}
	for (;;) {
		pthread_mutex_lock(&shared->thread.lock);
		if (shared->pending_count == 0) {
			pthread_mutex_unlock(&shared->thread.lock);
			return;
		}
		/* Taken out while it is appended (so an overflow meanwhile
		 * cannot free it); put back in front if memcached refuses it. */
		entry = pop_front_locked(shared);
		service_metrics_note_shared_pending(shared->source.metrics, shared->pending_count);
		pthread_mutex_unlock(&shared->thread.lock);
		if (append_one(shared, entry)) {
			ga_free(entry);
			continue;
		}
		pthread_mutex_lock(&shared->thread.lock);
		make_room_locked(shared, strlen(entry));
		memmove(shared->pending + 1, shared->pending,
			shared->pending_count * sizeof(*shared->pending));
		shared->pending[0] = entry;
		shared->pending_count++;
		shared->pending_bytes += strlen(entry);
		service_metrics_note_shared_pending(shared->source.metrics, shared->pending_count);
		pthread_mutex_unlock(&shared->thread.lock);
		return;
	}
}

/* ---- reading -------------------------------------------------------------------- */

/* Entries were lost: the snapshot may miss changes.  A full refresh. */
static void
note_gap(struct service_shared *shared, const char *why)
{
	service_metrics_note_shared(shared->source.metrics, SERVICE_SHARED_GAP);
	ga_log(GA_LOG_WARN, "changes of the shared log were lost: asking for a full refresh",
	       "reason", why, (char *)NULL);
	shared->gap_refresh_owed = true;
}

static void
ask_refresh_if_owed(struct service_shared *shared)
{
	long long now = ga_monotonic_ms();

	if (!shared->gap_refresh_owed || now - shared->last_gap_refresh_ms < GAP_REFRESH_MIN_MS)
		return;
	shared->gap_refresh_owed = false;
	shared->last_gap_refresh_ms = now;
	service_refresh_request(shared->source.refresh);
}

/* One entry read from the log: apply it unless it is ours; false when refused. */
static bool
apply_entry(struct service_shared *shared, const char *data, size_t len)
{
	const struct config *config = service_settings_config(shared->source.settings);
	struct service_change change;
	struct ga_err err = {0};

	if (len < ORIGIN_HEX || service_change_decode(data + ORIGIN_HEX, len - ORIGIN_HEX,
						      &change, &err) != GA_OK) {
		ga_log(GA_LOG_WARN, "a shared change was refused", "error",
		       len < ORIGIN_HEX ? "too short" : err.message, (char *)NULL);
		return false;
	}
	if (memcmp(data, shared->origin, ORIGIN_HEX) == 0) {
		org_input_free(change.targeted.data);
		return true;
	}
	service_publisher_change(shared->source.publisher, &change, config);
	service_metrics_note_shared(shared->source.metrics, SERVICE_SHARED_APPLIED);
	if (change.targeted.target.kind != SERVICE_TARGETED_NONE)
		ga_log(GA_LOG_INFO, "targeted read applied", "what",
		       service_targeted_kind_name(change.targeted.target.kind), "name",
		       change.targeted.target.name, "reason", "shared by another instance",
		       (char *)NULL);
	else
		ga_log(GA_LOG_INFO, "audit", "action", "revoke", "user",
		       change.removal.login[0] ? change.removal.login : "-", "what",
		       service_webhook_removal_name(change.removal.kind), "decision", "deny",
		       "reason", "shared by another instance", (char *)NULL);
	org_input_free(change.targeted.data);
	return true;
}

static void
read_log(struct service_shared *shared)
{
	for (int i = 0; i < READS_PER_PASS; i++) {
		char *data = NULL;
		size_t len = 0;
		const char *why = "";
		enum cache_changes result = cache_changes_next(shared->source.cache,
							       &shared->cursor, &data, &len, &why);

		bool head = result == CACHE_CHANGES_REFUSED && strstr(why, "head") != NULL;

		if (!head)
			shared->head_refused = false;
		switch (result) {
		case CACHE_CHANGES_ENTRY:
			shared->unreachable_logged = false;
			if (!apply_entry(shared, data, len)) {
				service_metrics_note_shared(shared->source.metrics,
							    SERVICE_SHARED_REFUSED);
				note_gap(shared, "a change was refused");
			}
			ga_free(data);
			break;
		case CACHE_CHANGES_REFUSED:
			/* A forged head stays until a writer replaces it: counted
			 * once, read again next pass rather than spin. */
			if (!shared->head_refused) {
				service_metrics_note_shared(shared->source.metrics,
							    SERVICE_SHARED_REFUSED);
				note_gap(shared, why);
			}
			shared->head_refused = head;
			if (head)
				return;
			break;
		case CACHE_CHANGES_GAP:
			note_gap(shared, why);
			break;
		case CACHE_CHANGES_UNREACHABLE:
			if (!shared->unreachable_logged)
				ga_log(GA_LOG_WARN, "the shared change log cannot be read: memcached "
				       "unreachable", (char *)NULL);
			shared->unreachable_logged = true;
			return;
		case CACHE_CHANGES_NONE:
		default:
			return;
		}
	}
}

/* ---- the thread ----------------------------------------------------------------- */

static void
renew_sync_lock(struct service_shared *shared)
{
	long long now = ga_monotonic_ms();

	if (now < shared->next_renew_ms)
		return;
	shared->next_renew_ms = now + CACHE_SYNC_LOCK_RENEW_MS;
	cache_sync_lock_renew(shared->source.cache, CACHE_SYNC_LOCK_TTL);
}

static void *
shared_main(void *arg)
{
	struct service_shared *shared = arg;
	long long due_ms = ga_monotonic_ms();

	pthread_mutex_lock(&shared->thread.lock);
	for (;;) {
		while (!shared->thread.stopping && !shared->appended && ga_monotonic_ms() < due_ms)
			service_thread_wait_until(&shared->thread, due_ms);
		if (shared->thread.stopping)
			break;
		shared->appended = false;
		pthread_mutex_unlock(&shared->thread.lock);

		renew_sync_lock(shared);
		flush_pending(shared);
		read_log(shared);
		ask_refresh_if_owed(shared);
		/* Changes memcached refused wait for the next pass. */
		due_ms = ga_monotonic_ms() +
			 service_settings_config(shared->source.settings)->change_poll_interval_ms;
		pthread_mutex_lock(&shared->thread.lock);
	}
	pthread_mutex_unlock(&shared->thread.lock);
	return NULL;
}

enum ga_rc
service_shared_start(struct service_shared *shared, struct ga_err *err)
{
	return service_thread_start(&shared->thread, "shared change log", shared_main, shared,
				    err);
}

void
service_shared_stop(struct service_shared *shared)
{
	service_thread_stop(&shared->thread);
}
