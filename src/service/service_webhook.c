/* service_webhook.c - webhook signature, replay sets, pacing; see service_webhook.h. */
#include "service/service_webhook.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/ga_map.h"
#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

/* ---- signature --------------------------------------------------------- */

/* 64 hex digits -> 32 bytes; false for anything else. */
static bool
decode_digest(const char *hex, uint8_t out[GA_HMAC_SIZE])
{
	if (strlen(hex) != 2 * GA_HMAC_SIZE)
		return false;
	for (size_t i = 0; i < GA_HMAC_SIZE; i++) {
		int high = ga_hex_value(hex[2 * i]);
		int low = ga_hex_value(hex[2 * i + 1]);

		if (high < 0 || low < 0)
			return false;
		out[i] = (uint8_t)(high << 4 | low);
	}
	return true;
}

enum service_webhook_signature
service_webhook_parse_signature(const char *header, uint8_t presented[GA_HMAC_SIZE])
{
	static const char prefix[] = "sha256=";

	if (header == NULL || *header == '\0')
		return SERVICE_WEBHOOK_SIGNATURE_MISSING;
	if (strncmp(header, prefix, sizeof(prefix) - 1) != 0 ||
	    !decode_digest(header + sizeof(prefix) - 1, presented))
		return SERVICE_WEBHOOK_SIGNATURE_MALFORMED;
	return SERVICE_WEBHOOK_SIGNATURE_OK;
}

enum service_webhook_signature
service_webhook_verify_signature(const char *secret, size_t secret_len, const void *body,
				 size_t len, const char *header)
{
	uint8_t presented[GA_HMAC_SIZE];
	uint8_t expected[GA_HMAC_SIZE];
	enum service_webhook_signature parsed = service_webhook_parse_signature(header, presented);

	if (parsed != SERVICE_WEBHOOK_SIGNATURE_OK)
		return parsed;
	ga_hmac_sha256(secret, secret_len, body != NULL ? body : "", len, expected);
	return ga_secret_equal(presented, sizeof(presented), expected, sizeof(expected))
		       ? SERVICE_WEBHOOK_SIGNATURE_OK : SERVICE_WEBHOOK_SIGNATURE_MISMATCH;
}

const char *
service_webhook_signature_reason(enum service_webhook_signature result)
{
	switch (result) {
	case SERVICE_WEBHOOK_SIGNATURE_OK:
		return "ok";
	case SERVICE_WEBHOOK_SIGNATURE_MISSING:
		return "missing signature";
	case SERVICE_WEBHOOK_SIGNATURE_MALFORMED:
		return "malformed signature";
	case SERVICE_WEBHOOK_SIGNATURE_MISMATCH:
		return "signature mismatch";
	}
	return "unknown";
}

/* ---- replay ------------------------------------------------------------ */

/*
 * A ring of the ids in arrival order (the oldest is the one to forget)
 * and an open-addressing table from id to ring position, with linear
 * probing and backward-shift deletion so that forgetting leaves no
 * tombstones and every operation stays O(1).
 */
struct replay_entry {
	char id[SERVICE_WEBHOOK_DELIVERY_MAX + 1];
	uint64_t hash;
	long long recorded_at;
};

struct service_webhook_replay {
	pthread_mutex_t lock;
	struct replay_entry *ring;
	size_t capacity;
	size_t oldest;			/* ring position of the oldest id */
	size_t count;
	long long max_age;
	uint32_t *table;		/* ring position + 1; 0 is empty */
	size_t table_mask;
};

struct service_webhook_replay *
service_webhook_replay_create(size_t capacity, long long max_age)
{
	struct service_webhook_replay *replay = ga_calloc(1, sizeof(*replay));
	size_t table_size = 16;

	if (capacity == 0)
		capacity = 1;
	while (table_size < capacity * 2)
		table_size *= 2;
	pthread_mutex_init(&replay->lock, NULL);
	replay->ring = ga_calloc(capacity, sizeof(*replay->ring));
	replay->capacity = capacity;
	replay->max_age = max_age;
	replay->table = ga_calloc(table_size, sizeof(*replay->table));
	replay->table_mask = table_size - 1;
	return replay;
}

void
service_webhook_replay_destroy(struct service_webhook_replay *replay)
{
	if (replay == NULL)
		return;
	pthread_mutex_destroy(&replay->lock);
	ga_free(replay->ring);
	ga_free(replay->table);
	ga_free(replay);
}

static bool
delivery_is_valid(const char *delivery)
{
	size_t len;

	if (delivery == NULL)
		return false;
	len = strlen(delivery);
	if (len == 0 || len > SERVICE_WEBHOOK_DELIVERY_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)delivery[i] <= ' ' || (unsigned char)delivery[i] >= 0x7f)
			return false;
	return true;
}

/* The table slot holding ring position, or of id when position is SIZE_MAX. */
static size_t
replay_find_slot(const struct service_webhook_replay *replay, uint64_t hash, const char *id)
{
	for (size_t slot = hash & replay->table_mask;; slot = (slot + 1) & replay->table_mask) {
		uint32_t held = replay->table[slot];

		if (held == 0)
			return SIZE_MAX;
		if (replay->ring[held - 1].hash == hash && strcmp(replay->ring[held - 1].id, id) == 0)
			return slot;
	}
}

/* Empty slot, then pull later entries of the probe run back into the gap. */
static void
replay_table_delete(struct service_webhook_replay *replay, size_t slot)
{
	size_t gap = slot;
	size_t next = slot;

	for (;;) {
		size_t home;

		next = (next + 1) & replay->table_mask;
		if (replay->table[next] == 0)
			break;
		home = replay->ring[replay->table[next] - 1].hash & replay->table_mask;
		/* The entry at next may move into the gap unless its home lies
		 * cyclically in (gap, next]. */
		if (gap <= next ? (home <= gap || home > next) : (home <= gap && home > next)) {
			replay->table[gap] = replay->table[next];
			gap = next;
		}
	}
	replay->table[gap] = 0;
}

static void
replay_forget_oldest(struct service_webhook_replay *replay)
{
	struct replay_entry *entry = &replay->ring[replay->oldest];
	size_t slot = replay_find_slot(replay, entry->hash, entry->id);

	if (slot != SIZE_MAX)
		replay_table_delete(replay, slot);
	entry->id[0] = '\0';
	replay->oldest = (replay->oldest + 1) % replay->capacity;
	replay->count--;
}

static void
replay_insert(struct service_webhook_replay *replay, const char *delivery, uint64_t hash,
	      long long now)
{
	size_t position = (replay->oldest + replay->count) % replay->capacity;
	struct replay_entry *entry = &replay->ring[position];
	size_t slot = hash & replay->table_mask;

	snprintf(entry->id, sizeof(entry->id), "%s", delivery);
	entry->hash = hash;
	entry->recorded_at = now;
	while (replay->table[slot] != 0)
		slot = (slot + 1) & replay->table_mask;
	replay->table[slot] = (uint32_t)position + 1;
	replay->count++;
}

enum service_webhook_delivery
service_webhook_replay_check(struct service_webhook_replay *replay, const char *delivery,
			     long long now)
{
	enum service_webhook_delivery result = SERVICE_WEBHOOK_DELIVERY_NEW;
	uint64_t hash;

	if (!delivery_is_valid(delivery))
		return SERVICE_WEBHOOK_DELIVERY_INVALID;
	hash = ga_map_hash(delivery, strlen(delivery));
	pthread_mutex_lock(&replay->lock);
	while (replay->count > 0 &&
	       replay->ring[replay->oldest].recorded_at <= now - replay->max_age)
		replay_forget_oldest(replay);
	if (replay_find_slot(replay, hash, delivery) != SIZE_MAX) {
		result = SERVICE_WEBHOOK_DELIVERY_DUPLICATE;
	} else {
		if (replay->count == replay->capacity)
			replay_forget_oldest(replay);
		replay_insert(replay, delivery, hash, now);
	}
	pthread_mutex_unlock(&replay->lock);
	return result;
}

size_t
service_webhook_replay_count(struct service_webhook_replay *replay)
{
	size_t count;

	pthread_mutex_lock(&replay->lock);
	count = replay->count;
	pthread_mutex_unlock(&replay->lock);
	return count;
}

/* ---- pacing ------------------------------------------------------------- */

void
service_webhook_pacing_init(struct service_webhook_pacing *pacing, long long debounce_ms)
{
	pacing->debounce_ms = debounce_ms > 0 ? debounce_ms : 0;
	pacing->pending_since_ms = -1;
	pacing->last_delivery_ms = -1;
	pacing->last_start_ms = -1;
	pacing->points_remaining = -1;
	pacing->points_per_sync = -1;
}

void
service_webhook_pacing_note(struct service_webhook_pacing *pacing, long long now_ms)
{
	if (pacing->pending_since_ms < 0)
		pacing->pending_since_ms = now_ms;
	pacing->last_delivery_ms = now_ms;
}

void
service_webhook_pacing_budget(struct service_webhook_pacing *pacing, long long cost,
			      long long remaining)
{
	if (cost >= 0)
		pacing->points_per_sync = cost;
	if (remaining >= 0)
		pacing->points_remaining = remaining;
}

static bool
budget_too_low(const struct service_webhook_pacing *pacing)
{
	long long cost = pacing->points_per_sync > 0 ? pacing->points_per_sync : 0;

	if (pacing->points_remaining < 0)
		return false;
	return pacing->points_remaining - cost < SERVICE_WEBHOOK_POINTS_RESERVE;
}

long long
service_webhook_pacing_due(struct service_webhook_pacing *pacing, long long now_ms,
			   bool *budget_low)
{
	long long start;
	long long latest;

	if (budget_low != NULL)
		*budget_low = false;
	if (pacing->pending_since_ms < 0)
		return -1;
	if (budget_too_low(pacing)) {
		pacing->pending_since_ms = -1;
		if (budget_low != NULL)
			*budget_low = true;
		return -1;
	}
	start = pacing->last_delivery_ms + pacing->debounce_ms;
	latest = pacing->pending_since_ms +
		 (4 * pacing->debounce_ms > 2000 ? 4 * pacing->debounce_ms : 2000);
	if (start > latest)
		start = latest;
	if (pacing->last_start_ms >= 0 && start < pacing->last_start_ms + SERVICE_WEBHOOK_MIN_INTERVAL_MS)
		start = pacing->last_start_ms + SERVICE_WEBHOOK_MIN_INTERVAL_MS;
	return start > now_ms ? start - now_ms : 0;
}

void
service_webhook_pacing_started(struct service_webhook_pacing *pacing, long long now_ms)
{
	pacing->pending_since_ms = -1;
	pacing->last_start_ms = now_ms;
}
