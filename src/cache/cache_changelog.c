/*
 * cache_changelog.c - the shared change log in memcached; see cache.h and
 * docs/internals/cache.md.
 *
 *   ghaccess:v1:<org>:changes:head           sealed: the log's random id
 *   ghaccess:v1:<org>:changes:<id>:count     plain: the last sequence number
 *                                            (memcached incr)
 *   ghaccess:v1:<org>:changes:<id>:<slot>    sealed: sequence | data, where
 *                                            slot = sequence % RING
 *
 * The MAC covers each entry's key (log id and slot) and its payload holds
 * the sequence number, so an entry cannot be moved to another slot, another
 * log or another position, nor forged; the counter is not sealed (incr
 * needs a plain number), so whoever rewrites it can only make readers see
 * a gap (and sync) or wait, never accept an entry.  A memcached restart
 * loses the head: the next writer starts a log under a new id, and a
 * reader that followed the old one sees the id change: a gap, never old
 * positions read as new ones.
 */
#include "cache/cache_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ga_clock.h"
#include "util/ga_xalloc.h"

#define KEY_MAX 250
#define LOG_ID_SIZE 16
/* The head and the counter live this long (memcached's longest relative
 * TTL); a log that expires is a reset that readers see as a gap. */
#define LOG_TTL (30LL * 24 * 3600)
/* A writer that finds the head changed under it (another writer started a
 * new log) appends again, this many times at most. */
#define APPEND_ATTEMPTS 3

static void
head_name(struct cache_shared *shared, char name[KEY_MAX])
{
	snprintf(name, KEY_MAX, "ghaccess:v1:%s:changes:head", cache_shared_org(shared));
}

static void
count_name(struct cache_shared *shared, const char *log_id, char name[KEY_MAX])
{
	snprintf(name, KEY_MAX, "ghaccess:v1:%s:changes:%s:count", cache_shared_org(shared),
		 log_id);
}

static void
entry_name(struct cache_shared *shared, const char *log_id, unsigned long long seq,
	   char name[KEY_MAX])
{
	snprintf(name, KEY_MAX, "ghaccess:v1:%s:changes:%s:%llu", cache_shared_org(shared),
		 log_id, seq % CACHE_CHANGES_RING);
}

enum head {
	HEAD_FOUND,
	HEAD_MISSING,
	HEAD_REFUSED,
	HEAD_UNREACHABLE,
};

/* The current log's id (hex) from the head. */
static enum head
read_head(struct cache_shared *shared, char log_id[2 * LOG_ID_SIZE + 1])
{
	char name[KEY_MAX];
	uint8_t *value;
	size_t len;
	const uint8_t *payload;
	size_t payload_len;
	enum head result = HEAD_REFUSED;
	enum ga_rc rc;

	head_name(shared, name);
	rc = cache_shared_get(shared, name, &value, &len);
	if (rc == GA_ENOTFOUND)
		return HEAD_MISSING;
	if (rc != GA_OK)
		return HEAD_UNREACHABLE;
	switch (cache_shared_open(shared, name, value, len, &payload, &payload_len)) {
	case CACHE_SHARED_OPENED:
		if (payload_len == LOG_ID_SIZE) {
			ga_hex(payload, LOG_ID_SIZE, log_id);
			result = HEAD_FOUND;
		} else {
			cache_shared_note_rejected(shared, name, "malformed change log head");
		}
		break;
	case CACHE_SHARED_GONE:
		result = HEAD_MISSING;
		break;
	case CACHE_SHARED_REFUSED:
		break;
	}
	ga_free(value);
	return result;
}

/*
 * Start a new log: its counter first, then the head.  replace: set the
 * head whatever is there (a forged head, a reset); otherwise add it, so
 * that of two writers finding no head only one log starts.
 */
static enum ga_rc
start_log(struct cache_shared *shared, bool replace, struct ga_err *err)
{
	uint8_t id[LOG_ID_SIZE];
	char log_id[2 * LOG_ID_SIZE + 1];
	char name[KEY_MAX];

	ga_random_bytes(id, sizeof(id));
	ga_hex(id, LOG_ID_SIZE, log_id);
	count_name(shared, log_id, name);
	if (cache_shared_add_number(shared, name, LOG_TTL) == CACHE_SHARED_FAILED)
		return ga_err_set(err, GA_EUPSTREAM, "memcached: cannot start a change log");
	head_name(shared, name);
	if (cache_shared_put(shared, name, id, sizeof(id), LOG_TTL, !replace) ==
	    CACHE_SHARED_FAILED)
		return ga_err_set(err, GA_EUPSTREAM, "memcached: cannot start a change log");
	return GA_OK;
}

enum ga_rc
cache_changelog_reset(struct cache_shared *shared, struct ga_err *err)
{
	return start_log(shared, true, err);
}

/* The current log's id, starting one when there is none (or a forged one). */
static enum ga_rc
current_log(struct cache_shared *shared, char log_id[2 * LOG_ID_SIZE + 1], struct ga_err *err)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		enum ga_rc rc;

		switch (read_head(shared, log_id)) {
		case HEAD_FOUND:
			return GA_OK;
		case HEAD_UNREACHABLE:
			return ga_err_set(err, GA_EUPSTREAM, "memcached unreachable");
		case HEAD_MISSING:
			rc = start_log(shared, false, err);
			break;
		case HEAD_REFUSED:
		default:
			rc = start_log(shared, true, err);
			break;
		}
		if (rc != GA_OK)
			return rc;
	}
	return ga_err_set(err, GA_EUPSTREAM, "memcached: the change log has no head");
}

/* Append once to the current log; *log_id says which. */
static enum ga_rc
append_once(struct cache_shared *shared, const char *data, size_t len,
	    char log_id[2 * LOG_ID_SIZE + 1], struct ga_err *err)
{
	char name[KEY_MAX];
	uint64_t seq = 0;
	uint8_t *payload;
	enum cache_shared_put put;
	enum ga_rc rc = current_log(shared, log_id, err);

	if (rc != GA_OK)
		return rc;
	count_name(shared, log_id, name);
	rc = cache_shared_incr(shared, name, &seq);
	if (rc == GA_ENOTFOUND || rc == GA_EPARSE) {
		/* The counter is gone (evicted) or overwritten while the head
		 * stayed: the positions of this log cannot be trusted any more.
		 * A new log; readers see a gap. */
		rc = start_log(shared, true, err);
		if (rc == GA_OK)
			rc = current_log(shared, log_id, err);
		if (rc != GA_OK)
			return rc;
		count_name(shared, log_id, name);
		rc = cache_shared_incr(shared, name, &seq);
	}
	if (rc != GA_OK)
		return ga_err_set(err, GA_EUPSTREAM, "memcached: cannot number a change");
	payload = ga_malloc(8 + len);
	cache_put_u64(payload, seq);
	memcpy(payload + 8, data, len);
	entry_name(shared, log_id, seq, name);
	put = cache_shared_put(shared, name, payload, 8 + len, CACHE_CHANGES_TTL, false);
	ga_free(payload);
	if (put != CACHE_SHARED_STORED)
		return ga_err_set(err, GA_EUPSTREAM, "memcached: cannot store a change");
	return GA_OK;
}

enum ga_rc
cache_changelog_append(struct cache_shared *shared, const char *data, size_t len,
		       struct ga_err *err)
{
	if (len > CACHE_CHANGES_DATA_MAX)
		return ga_err_set(err, GA_ELIMIT, "a change of %zu bytes is too large to share",
				  len);
	for (int attempt = 0; attempt < APPEND_ATTEMPTS; attempt++) {
		char log_id[2 * LOG_ID_SIZE + 1];
		char now_id[2 * LOG_ID_SIZE + 1];
		enum ga_rc rc = append_once(shared, data, len, log_id, err);

		if (rc != GA_OK)
			return rc;
		/* Another writer may have started a new log meanwhile, which
		 * readers follow: then the entry goes there too (a change read
		 * twice is applied once more, harmlessly). */
		if (read_head(shared, now_id) == HEAD_FOUND && strcmp(now_id, log_id) == 0)
			return GA_OK;
	}
	return ga_err_set(err, GA_EUPSTREAM, "memcached: the change log keeps changing");
}

/* ---- reading ------------------------------------------------------------ */

/* The last sequence number of log_id: GA_OK, GA_ENOTFOUND, GA_EPARSE (not a
 * number), GA_EUPSTREAM. */
static enum ga_rc
read_count(struct cache_shared *shared, const char *log_id, unsigned long long *count)
{
	char name[KEY_MAX];
	uint8_t *value;
	size_t len;
	char digits[24];
	char *end;
	enum ga_rc rc;

	count_name(shared, log_id, name);
	rc = cache_shared_get(shared, name, &value, &len);
	if (rc != GA_OK)
		return rc;
	rc = GA_EPARSE;
	if (len > 0 && len < sizeof(digits) && strspn((const char *)value, "0123456789") >= len) {
		memcpy(digits, value, len);
		digits[len] = '\0';
		*count = strtoull(digits, &end, 10);
		rc = GA_OK;
	}
	ga_free(value);
	return rc;
}

static enum cache_changes
gap(struct cache_changes_cursor *cursor, unsigned long long next, const char *reason,
    const char **why)
{
	cursor->next = next;
	cursor->missing_since_ms = 0;
	*why = reason;
	return CACHE_CHANGES_GAP;
}

/* The entry at cursor->next of cursor->log_id, which count says exists. */
static enum cache_changes
read_entry(struct cache_shared *shared, struct cache_changes_cursor *cursor,
	   unsigned long long count, char **data, size_t *len, const char **why)
{
	char name[KEY_MAX];
	uint8_t *value;
	size_t value_len;
	const uint8_t *payload;
	size_t payload_len;
	enum cache_shared_open opened = CACHE_SHARED_GONE;
	unsigned long long seq = 0;
	enum ga_rc rc;

	entry_name(shared, cursor->log_id, cursor->next, name);
	rc = cache_shared_get(shared, name, &value, &value_len);
	if (rc == GA_EUPSTREAM)
		return CACHE_CHANGES_UNREACHABLE;
	if (rc == GA_OK) {
		opened = cache_shared_open(shared, name, value, value_len, &payload, &payload_len);
		if (opened == CACHE_SHARED_OPENED && payload_len < 8) {
			cache_shared_note_rejected(shared, name, "malformed change");
			opened = CACHE_SHARED_REFUSED;
		}
		if (opened == CACHE_SHARED_OPENED)
			seq = cache_get_u64(payload);
	}
	if (opened == CACHE_SHARED_REFUSED) {
		ga_free(value);
		cursor->next++;
		cursor->missing_since_ms = 0;
		*why = "a change failed its seal";
		return CACHE_CHANGES_REFUSED;
	}
	if (opened == CACHE_SHARED_OPENED && seq > cursor->next) {
		/* Overwritten by a later turn of the ring: we fell behind. */
		ga_free(value);
		return gap(cursor, count > CACHE_CHANGES_RING ? count - CACHE_CHANGES_RING + 1 : 1,
			   "fell behind the change log's ring", why);
	}
	if (opened != CACHE_SHARED_OPENED || seq < cursor->next) {
		/* Numbered but not written yet (or expired, or lost): wait a
		 * moment for its writer, then give it up. */
		long long now = ga_monotonic_ms();

		ga_free(value);
		if (cursor->missing_since_ms == 0)
			cursor->missing_since_ms = now;
		if (now - cursor->missing_since_ms < CACHE_CHANGES_GRACE_MS)
			return CACHE_CHANGES_NONE;
		return gap(cursor, cursor->next + 1, "a change stayed missing", why);
	}
	*len = payload_len - 8;
	*data = ga_malloc(*len + 1);
	memcpy(*data, payload + 8, *len);
	(*data)[*len] = '\0';
	ga_free(value);
	cursor->next++;
	cursor->missing_since_ms = 0;
	return CACHE_CHANGES_ENTRY;
}

enum cache_changes
cache_changelog_next(struct cache_shared *shared, struct cache_changes_cursor *cursor,
		     char **data, size_t *len, const char **why)
{
	char log_id[2 * LOG_ID_SIZE + 1];
	unsigned long long count = 0;
	unsigned long long oldest;
	bool followed = cursor->log_id[0] != '\0';
	enum ga_rc rc;

	switch (read_head(shared, log_id)) {
	case HEAD_UNREACHABLE:
		return CACHE_CHANGES_UNREACHABLE;
	case HEAD_MISSING:
		if (!followed)
			return CACHE_CHANGES_NONE;
		cursor->log_id[0] = '\0';
		return gap(cursor, 0, "the change log is gone (memcached restarted?)", why);
	case HEAD_REFUSED:
		*why = "the change log's head failed its seal";
		return CACHE_CHANGES_REFUSED;
	case HEAD_FOUND:
		break;
	}
	rc = read_count(shared, log_id, &count);
	if (rc == GA_EUPSTREAM)
		return CACHE_CHANGES_UNREACHABLE;
	if (rc != GA_OK)
		count = 0;	/* being started, or lost: the next writer replaces it */
	oldest = count > CACHE_CHANGES_RING ? count - CACHE_CHANGES_RING + 1 : 1;
	if (strcmp(log_id, cursor->log_id) != 0) {
		/* A new log: read what it holds.  Following another one before
		 * means whatever that one held after our cursor is lost. */
		memcpy(cursor->log_id, log_id, sizeof(log_id));
		cursor->missing_since_ms = 0;
		if (followed)
			return gap(cursor, oldest, "the change log was replaced or reset", why);
		cursor->next = oldest;
	}
	if (cursor->next == 0)
		cursor->next = oldest;
	if (count + 1 < cursor->next)
		return gap(cursor, count + 1, "the change log's counter went back", why);
	if (cursor->next < oldest)
		return gap(cursor, oldest, "fell behind the change log's ring", why);
	if (cursor->next > count)
		return CACHE_CHANGES_NONE;
	return read_entry(shared, cursor, count, data, len, why);
}
