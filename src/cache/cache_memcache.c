/* cache_memcache.c - token entries, claims, sync lock and snapshot in memcached. */
#include "cache/cache_internal.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmemcached/memcached.h>

#include "util/ga_log.h"
#include "util/ga_map.h"
#include "util/ga_xalloc.h"

/*
 * Every value is sealed (cache_seal.c) under a key derived from the shared
 * secret, so whoever can write to memcached but lacks the secret can only
 * make ghaccess ignore values, never accept one.  Every call is bounded by
 * short timeouts, and after a failure memcached is left alone for
 * SHARED_RETRY_MS: a dead memcached costs a request at most one timeout
 * per retry period, never one per request.  docs/internals/cache.md.
 */

#define SHARED_TIMEOUT_MS 200		/* connect and each poll of a call */
#define SHARED_RETRY_MS 2000		/* wait this long after a failure */
#define SHARED_HANDLES_MAX 64		/* concurrent memcached calls */
#define SHARED_KEY_MAX 250		/* memcached's key limit */
#define EXPIRED_GRACE_SECONDS 5		/* memcached's clock runs in whole seconds */
#define MEMCACHED_RELATIVE_TTL_MAX 2592000	/* above: memcached reads a date */
#define SNAPSHOT_MAX ((size_t)512 << 20)
/* A shared snapshot read from GitHub later than this past our own clock
 * comes from an instance whose clock runs ahead: not adopted. */
#define SNAPSHOT_FUTURE_SKEW_SECONDS 5
#define WARNED_KEYS 64
#define INSTANCE_ID_SIZE 16

/* Token payload: verdict (1) | user_id (8) | stored_at_ms (8). */
#define TOKEN_PAYLOAD_SIZE 17
/* Snapshot pointer: set_id | chunk_count | total_length | sha256 | synced_at |
 * generation. */
#define CURRENT_PAYLOAD_SIZE (8 + 8 + 8 + 32 + 8 + 8)

/*
 * memcached_st handles are not thread-safe: each call borrows one from this
 * pool.  libmemcachedutil's pool only waits in whole seconds, so here is a
 * small one with a monotonic deadline.
 */
struct handle_pool {
	pthread_mutex_t lock;
	pthread_cond_t returned;
	memcached_st *master;		/* configured, never used for calls */
	memcached_st *idle[SHARED_HANDLES_MAX];
	size_t idle_count;
	size_t created;
};

struct cache_shared {
	struct handle_pool pool;
	uint8_t mac_key[GA_HMAC_SIZE];
	char *servers;			/* memcache_url, for the log */
	char *org_segment;		/* organization as it appears in keys */
	int snapshot_ttl;		/* seconds */
	uint8_t instance_id[INSTANCE_ID_SIZE];

	atomic_bool available;
	atomic_llong next_attempt_ms;	/* while unavailable: when to try again */
	atomic_ullong rejected;
	/* The highest snapshot generation this instance has read (in a pointer
	 * that authenticated) or written: an older one is never adopted. */
	atomic_ullong highest_generation;
	/* The generation of the snapshot this instance last published or
	 * fetched whole: not fetched again. */
	atomic_ullong known_generation;

	pthread_mutex_t sync_lock_calls;	/* renew and release, one at a time */
	pthread_mutex_t sync_lock_state;
	bool sync_lock_held;
	long long sync_lock_until_ms;

	pthread_mutex_t warned_lock;	/* log a rejected key once */
	uint64_t warned[WARNED_KEYS];
	size_t warned_next;
};

static long long
monotonic_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static long long
wall_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* ---- allocation: libmemcached allocates returned values with these ---- */

static void *
allocate(const memcached_st *handle, const size_t size, void *context)
{
	(void)handle;
	(void)context;
	return ga_malloc(size);
}

static void
release(const memcached_st *handle, void *memory, void *context)
{
	(void)handle;
	(void)context;
	ga_free(memory);
}

static void *
reallocate(const memcached_st *handle, void *memory, const size_t size, void *context)
{
	(void)handle;
	(void)context;
	return ga_realloc(memory, size);
}

static void *
allocate_zeroed(const memcached_st *handle, size_t count, const size_t size, void *context)
{
	(void)handle;
	(void)context;
	return ga_calloc(count, size);
}

/* ---- configuration ---------------------------------------------------- */

static bool
parse_port(const char *text, in_port_t *port)
{
	char *end;
	long value;

	if (*text == '\0' || strspn(text, "0123456789") != strlen(text))
		return false;
	value = strtol(text, &end, 10);
	if (value < 1 || value > 65535)
		return false;
	*port = (in_port_t)value;
	return true;
}

/* "host", "host:port", "[v6]:port" or "/unix/socket" into master. */
static bool
add_server(memcached_st *master, char *spec)
{
	char *host = spec;
	char *port_text = NULL;
	in_port_t port = 11211;

	if (spec[0] == '/')
		return memcached_success(memcached_server_add_unix_socket(master, spec));
	if (spec[0] == '[') {
		char *close = strchr(spec, ']');

		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return false;
		*close = '\0';
		host = spec + 1;
		port_text = close[1] == ':' ? close + 2 : NULL;
	} else {
		port_text = strchr(spec, ':');
		if (port_text != NULL && strchr(port_text + 1, ':') != NULL)
			return false;	/* a bare IPv6 address needs brackets */
		if (port_text != NULL)
			*port_text++ = '\0';
	}
	if (*host == '\0' || (port_text != NULL && !parse_port(port_text, &port)))
		return false;
	return memcached_success(memcached_server_add(master, host, port));
}

static enum ga_rc
add_servers(memcached_st *master, const char *url, struct ga_err *err)
{
	char *copy = ga_strdup(url);
	char *cursor = copy;
	size_t added = 0;
	enum ga_rc rc = GA_OK;

	while (cursor != NULL && rc == GA_OK) {
		char *spec = cursor;
		char *comma = strchr(cursor, ',');
		size_t len;

		cursor = comma ? comma + 1 : NULL;
		if (comma != NULL)
			*comma = '\0';
		spec += strspn(spec, " \t");
		len = strlen(spec);
		while (len > 0 && (spec[len - 1] == ' ' || spec[len - 1] == '\t'))
			spec[--len] = '\0';
		if (len == 0 || !add_server(master, spec))
			rc = ga_err_set(err, GA_EINVAL, "memcache_url: \"%s\" is not "
					"host:port[,host:port...]", url);
		else
			added++;
	}
	if (rc == GA_OK && added == 0)
		rc = ga_err_set(err, GA_EINVAL, "memcache_url: no server");
	ga_free(copy);
	return rc;
}

static void
configure_timeouts(memcached_st *master)
{
	/* NO_BLOCK makes the connect timeout apply; the send and receive
	 * timeouts are in microseconds, the others in milliseconds. */
	memcached_behavior_set(master, MEMCACHED_BEHAVIOR_NO_BLOCK, 1);
	memcached_behavior_set(master, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
	memcached_behavior_set(master, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, SHARED_TIMEOUT_MS);
	memcached_behavior_set(master, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, SHARED_TIMEOUT_MS);
	memcached_behavior_set(master, MEMCACHED_BEHAVIOR_SND_TIMEOUT, SHARED_TIMEOUT_MS * 1000);
	memcached_behavior_set(master, MEMCACHED_BEHAVIOR_RCV_TIMEOUT, SHARED_TIMEOUT_MS * 1000);
	memcached_behavior_set(master, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, 1);
}

/*
 * The organization in keys: lower case (GitHub names are case-insensitive,
 * so two instances configured "Acme" and "acme" share), and anything that
 * is not a plain GitHub name is replaced by a hash so that it cannot break
 * memcached's key syntax.
 */
static char *
org_segment(const char *organization)
{
	char *segment;
	bool plain = organization != NULL && organization[0] != '\0' &&
		     strlen(organization) <= 100;

	for (const char *p = organization; plain && *p; p++)
		plain = isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '.';
	if (!plain) {
		uint8_t digest[32];
		char hex[65];
		const char *name = organization ? organization : "";

		ga_sha256(name, strlen(name), digest);
		ga_hex(digest, 16, hex);
		return ga_asprintf("h%s", hex);
	}
	segment = ga_strdup(organization);
	for (char *p = segment; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return segment;
}

/* ---- the handle pool -------------------------------------------------- */

static void
pool_init(struct handle_pool *pool, memcached_st *master)
{
	pthread_condattr_t attributes;

	pthread_mutex_init(&pool->lock, NULL);
	pthread_condattr_init(&attributes);
	pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
	pthread_cond_init(&pool->returned, &attributes);
	pthread_condattr_destroy(&attributes);
	pool->master = master;
}

static void
pool_destroy(struct handle_pool *pool)
{
	for (size_t i = 0; i < pool->idle_count; i++)
		memcached_free(pool->idle[i]);
	memcached_free(pool->master);
	pthread_cond_destroy(&pool->returned);
	pthread_mutex_destroy(&pool->lock);
}

/* A handle, or NULL when all are busy for SHARED_TIMEOUT_MS. */
static memcached_st *
pool_take(struct handle_pool *pool)
{
	memcached_st *handle = NULL;
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_nsec += SHARED_TIMEOUT_MS * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&pool->lock);
	while (pool->idle_count == 0 && pool->created == SHARED_HANDLES_MAX) {
		if (pthread_cond_timedwait(&pool->returned, &pool->lock, &deadline) != 0)
			break;
	}
	if (pool->idle_count > 0) {
		handle = pool->idle[--pool->idle_count];
	} else if (pool->created < SHARED_HANDLES_MAX) {
		handle = memcached_clone(NULL, pool->master);
		if (handle != NULL)
			pool->created++;
	}
	pthread_mutex_unlock(&pool->lock);
	return handle;
}

static void
pool_give_back(struct handle_pool *pool, memcached_st *handle)
{
	pthread_mutex_lock(&pool->lock);
	pool->idle[pool->idle_count++] = handle;
	pthread_cond_signal(&pool->returned);
	pthread_mutex_unlock(&pool->lock);
}

/* ---- availability ----------------------------------------------------- */

/* While memcached is marked unreachable only one caller per retry period
 * may try it; the others go straight to memory. */
static bool
may_try(struct cache_shared *shared)
{
	long long now;
	long long next;

	if (atomic_load(&shared->available))
		return true;
	now = monotonic_ms();
	next = atomic_load(&shared->next_attempt_ms);
	if (now < next)
		return false;
	return atomic_compare_exchange_strong(&shared->next_attempt_ms, &next,
					      now + SHARED_RETRY_MS);
}

static void
note_result(struct cache_shared *shared, memcached_st *handle, memcached_return_t rc)
{
	if (memcached_fatal(rc)) {
		atomic_store(&shared->next_attempt_ms, monotonic_ms() + SHARED_RETRY_MS);
		if (atomic_exchange(&shared->available, false))
			ga_log(GA_LOG_WARN, "memcached unreachable, using memory until it answers",
			       "servers", shared->servers, "error", memcached_strerror(handle, rc),
			       (char *)NULL);
	} else if (!atomic_load(&shared->available)) {
		if (!atomic_exchange(&shared->available, true))
			ga_log(GA_LOG_INFO, "memcached reachable again", "servers",
			       shared->servers, (char *)NULL);
	}
}

static memcached_st *
acquire(struct cache_shared *shared)
{
	if (!may_try(shared))
		return NULL;
	return pool_take(&shared->pool);
}

/* ---- rejected values -------------------------------------------------- */

static bool
first_warning_for(struct cache_shared *shared, const char *name)
{
	uint64_t hash = ga_map_hash(name, strlen(name)) | 1;	/* 0: empty slot */
	bool first = true;

	pthread_mutex_lock(&shared->warned_lock);
	for (size_t i = 0; i < WARNED_KEYS && first; i++)
		first = shared->warned[i] != hash;
	if (first)
		shared->warned[shared->warned_next++ % WARNED_KEYS] = hash;
	pthread_mutex_unlock(&shared->warned_lock);
	return first;
}

static void
reject_value(struct cache_shared *shared, const char *name, const char *reason)
{
	atomic_fetch_add(&shared->rejected, 1);
	if (first_warning_for(shared, name))
		ga_log(GA_LOG_WARN, "memcached value rejected", "key", name, "reason", reason,
		       (char *)NULL);
}

/*
 * Open a value read from name.  An expired value counts as rejected only
 * well past its expiry: memcached drops items on its own whole-second
 * clock, so a genuine value may outlive its expires_at by a moment, while
 * one that is minutes old was written back by someone.
 */
static bool
open_value(struct cache_shared *shared, const char *name, const uint8_t *value, size_t len,
	   const uint8_t **payload, size_t *payload_len, long long *expires_at)
{
	long long now = time(NULL);

	switch (cache_open(shared->mac_key, name, value, len, now, payload, payload_len,
			   expires_at)) {
	case CACHE_OPEN_OK:
		return true;
	case CACHE_OPEN_MALFORMED:
		reject_value(shared, name, "malformed");
		return false;
	case CACHE_OPEN_BAD_MAC:
		reject_value(shared, name, "authentication failed");
		return false;
	case CACHE_OPEN_EXPIRED:
		if (*expires_at + EXPIRED_GRACE_SECONDS < now)
			reject_value(shared, name, "expired");
		return false;
	}
	return false;
}

/* ---- plain get/set ---------------------------------------------------- */

/* GA_OK with *value (ga_free; may be NULL for an empty value),
 * GA_ENOTFOUND, or GA_EUPSTREAM when memcached was not reached. */
static enum ga_rc
get_value(struct cache_shared *shared, const char *name, uint8_t **value, size_t *len)
{
	memcached_st *handle = acquire(shared);
	memcached_return_t rc;
	uint32_t flags = 0;
	char *raw;

	*value = NULL;
	*len = 0;
	if (handle == NULL)
		return GA_EUPSTREAM;
	raw = memcached_get(handle, name, strlen(name), len, &flags, &rc);
	note_result(shared, handle, rc);
	pool_give_back(&shared->pool, handle);
	if (rc == MEMCACHED_SUCCESS) {
		*value = (uint8_t *)raw;
		return GA_OK;
	}
	ga_free(raw);
	return rc == MEMCACHED_NOTFOUND ? GA_ENOTFOUND : GA_EUPSTREAM;
}

static time_t
memcached_ttl(long long seconds)
{
	if (seconds < 1)
		return 1;
	if (seconds > MEMCACHED_RELATIVE_TTL_MAX)
		return MEMCACHED_RELATIVE_TTL_MAX;
	return (time_t)seconds;
}

/* Seal payload under name and store it (add: only when absent).
 * MEMCACHED_NO_SERVERS when memcached was not tried. */
static memcached_return_t
put_value(struct cache_shared *shared, const char *name, const void *payload, size_t payload_len,
	  long long ttl_seconds, bool only_if_absent)
{
	size_t len = payload_len + CACHE_SEAL_OVERHEAD;
	uint8_t *sealed;
	memcached_st *handle;
	memcached_return_t rc;

	handle = acquire(shared);
	if (handle == NULL)
		return MEMCACHED_NO_SERVERS;
	sealed = ga_malloc(len);
	cache_seal(shared->mac_key, name, (long long)time(NULL) + ttl_seconds, payload,
		   payload_len, sealed);
	if (only_if_absent)
		rc = memcached_add(handle, name, strlen(name), (const char *)sealed, len,
				   memcached_ttl(ttl_seconds), 0);
	else
		rc = memcached_set(handle, name, strlen(name), (const char *)sealed, len,
				   memcached_ttl(ttl_seconds), 0);
	note_result(shared, handle, rc);
	pool_give_back(&shared->pool, handle);
	ga_free(sealed);
	return rc;
}

static void
delete_value(struct cache_shared *shared, const char *name)
{
	memcached_st *handle = acquire(shared);
	memcached_return_t rc;

	if (handle == NULL)
		return;
	rc = memcached_delete(handle, name, strlen(name), 0);
	note_result(shared, handle, rc);
	pool_give_back(&shared->pool, handle);
}

/* ---- for cache_changelog.c (cache_internal.h) ------------------------- */

const char *
cache_shared_org(const struct cache_shared *shared)
{
	return shared->org_segment;
}

enum ga_rc
cache_shared_get(struct cache_shared *shared, const char *name, uint8_t **value, size_t *len)
{
	return get_value(shared, name, value, len);
}

enum cache_shared_open
cache_shared_open(struct cache_shared *shared, const char *name, const uint8_t *value,
		  size_t len, const uint8_t **payload, size_t *payload_len)
{
	long long expires_at;

	if (open_value(shared, name, value, len, payload, payload_len, &expires_at))
		return CACHE_SHARED_OPENED;
	/* Expired but genuine is "gone", not "forged". */
	if (cache_open(shared->mac_key, name, value, len, 0, payload, payload_len,
		       &expires_at) == CACHE_OPEN_OK)
		return CACHE_SHARED_GONE;
	return CACHE_SHARED_REFUSED;
}

void
cache_shared_note_rejected(struct cache_shared *shared, const char *name, const char *reason)
{
	reject_value(shared, name, reason);
}

static enum cache_shared_put
put_result(memcached_return_t rc)
{
	if (memcached_success(rc))
		return CACHE_SHARED_STORED;
	if (rc == MEMCACHED_NOTSTORED || rc == MEMCACHED_DATA_EXISTS)
		return CACHE_SHARED_NOT_STORED;
	return CACHE_SHARED_FAILED;
}

enum cache_shared_put
cache_shared_put(struct cache_shared *shared, const char *name, const void *payload,
		 size_t payload_len, long long ttl_seconds, bool only_if_absent)
{
	return put_result(put_value(shared, name, payload, payload_len, ttl_seconds,
				    only_if_absent));
}

enum cache_shared_put
cache_shared_add_number(struct cache_shared *shared, const char *name, long long ttl_seconds)
{
	memcached_st *handle = acquire(shared);
	memcached_return_t rc;

	if (handle == NULL)
		return CACHE_SHARED_FAILED;
	rc = memcached_add(handle, name, strlen(name), "0", 1, memcached_ttl(ttl_seconds), 0);
	note_result(shared, handle, rc);
	pool_give_back(&shared->pool, handle);
	return put_result(rc);
}

enum ga_rc
cache_shared_incr(struct cache_shared *shared, const char *name, uint64_t *value)
{
	memcached_st *handle = acquire(shared);
	memcached_return_t rc;

	if (handle == NULL)
		return GA_EUPSTREAM;
	rc = memcached_increment(handle, name, strlen(name), 1, value);
	note_result(shared, handle, rc);
	pool_give_back(&shared->pool, handle);
	if (rc == MEMCACHED_SUCCESS)
		return GA_OK;
	if (rc == MEMCACHED_NOTFOUND)
		return GA_ENOTFOUND;
	/* Reached, but the value is no counter (someone wrote over it). */
	return memcached_fatal(rc) ? GA_EUPSTREAM : GA_EPARSE;
}

/* ---- life cycle ------------------------------------------------------- */

enum ga_rc
cache_shared_create(const struct config *config, const uint8_t mac_key[GA_HMAC_SIZE],
		    struct cache_shared **out, struct ga_err *err)
{
	const char *url = config->memcache_url ? config->memcache_url : "127.0.0.1:11211";
	struct cache_shared *shared;
	memcached_st *master = memcached_create(NULL);
	enum ga_rc rc;
	uint8_t *probe;
	size_t probe_len;

	*out = NULL;
	if (master == NULL)
		return ga_err_set(err, GA_ENOMEM, "memcached: cannot create a client");
	memcached_set_memory_allocators(master, allocate, release, reallocate, allocate_zeroed,
					NULL);
	configure_timeouts(master);
	rc = add_servers(master, url, err);
	if (rc != GA_OK) {
		memcached_free(master);
		return rc;
	}
	shared = ga_calloc(1, sizeof(*shared));
	pool_init(&shared->pool, master);
	memcpy(shared->mac_key, mac_key, GA_HMAC_SIZE);
	shared->servers = ga_strdup(url);
	shared->org_segment = org_segment(config->organization);
	shared->snapshot_ttl = 2 * (config->max_stale > 0 ? config->max_stale : 3600);
	ga_random_bytes(shared->instance_id, sizeof(shared->instance_id));
	atomic_init(&shared->available, true);
	atomic_init(&shared->next_attempt_ms, 0);
	atomic_init(&shared->rejected, 0);
	atomic_init(&shared->highest_generation, 0);
	atomic_init(&shared->known_generation, 0);
	pthread_mutex_init(&shared->sync_lock_calls, NULL);
	pthread_mutex_init(&shared->sync_lock_state, NULL);
	pthread_mutex_init(&shared->warned_lock, NULL);
	/* Find out now whether memcached answers, so that the status and the
	 * log say so from the start; a miss is the expected answer. */
	if (get_value(shared, "ghaccess:v1:probe", &probe, &probe_len) != GA_EUPSTREAM)
		ga_log(GA_LOG_INFO, "memcached in use", "servers", url, (char *)NULL);
	ga_free(probe);
	*out = shared;
	return GA_OK;
}

void
cache_shared_destroy(struct cache_shared *shared)
{
	if (shared == NULL)
		return;
	pool_destroy(&shared->pool);
	pthread_mutex_destroy(&shared->sync_lock_calls);
	pthread_mutex_destroy(&shared->sync_lock_state);
	pthread_mutex_destroy(&shared->warned_lock);
	ga_free(shared->servers);
	ga_free(shared->org_segment);
	ga_free(shared);
}

bool
cache_shared_available(struct cache_shared *shared)
{
	return atomic_load(&shared->available);
}

unsigned long long
cache_shared_rejected(struct cache_shared *shared)
{
	return atomic_load(&shared->rejected);
}

/* ---- token entries ---------------------------------------------------- */

static void
token_key_name(const uint8_t key[GA_HMAC_SIZE], char name[SHARED_KEY_MAX])
{
	char hex[2 * GA_HMAC_SIZE + 1];

	ga_hex(key, GA_HMAC_SIZE, hex);
	snprintf(name, SHARED_KEY_MAX, "ghaccess:v1:token:%s", hex);
}

bool
cache_shared_token_get(struct cache_shared *shared, const uint8_t key[GA_HMAC_SIZE],
		       struct cache_shared_token *token)
{
	char name[SHARED_KEY_MAX];
	uint8_t *value;
	size_t len;
	const uint8_t *payload;
	size_t payload_len;
	bool found = false;

	token_key_name(key, name);
	if (get_value(shared, name, &value, &len) != GA_OK)
		return false;
	if (open_value(shared, name, value, len, &payload, &payload_len, &token->expires_at)) {
		if (payload_len != TOKEN_PAYLOAD_SIZE ||
		    (payload[0] != CACHE_TOKEN_VALID && payload[0] != CACHE_TOKEN_INVALID)) {
			reject_value(shared, name, "malformed token entry");
		} else {
			token->answer.verdict = (enum cache_verdict)payload[0];
			token->answer.user_id = (long long)cache_get_u64(payload + 1);
			token->stored_at_ms = (long long)cache_get_u64(payload + 9);
			found = true;
		}
	}
	ga_free(value);
	return found;
}

void
cache_shared_token_put(struct cache_shared *shared, const uint8_t key[GA_HMAC_SIZE],
		       const struct cache_token_answer *answer, int ttl_seconds)
{
	char name[SHARED_KEY_MAX];
	uint8_t payload[TOKEN_PAYLOAD_SIZE];

	if (ttl_seconds <= 0 || answer->verdict == CACHE_TOKEN_UNKNOWN)
		return;
	token_key_name(key, name);
	payload[0] = (uint8_t)answer->verdict;
	cache_put_u64(payload + 1, (uint64_t)answer->user_id);
	cache_put_u64(payload + 9, (uint64_t)wall_ms());
	put_value(shared, name, payload, sizeof(payload), ttl_seconds, false);
}

/* ---- claims ----------------------------------------------------------- */

enum cache_shared_claim
cache_shared_claim(struct cache_shared *shared, const uint8_t key[GA_HMAC_SIZE],
		   long long ttl_seconds)
{
	char name[SHARED_KEY_MAX];
	char hex[2 * GA_HMAC_SIZE + 1];
	memcached_return_t rc;

	/* memcached reads more than 30 days as a date; the local set still
	 * remembers the claim for its whole life. */
	if (ttl_seconds > MEMCACHED_RELATIVE_TTL_MAX)
		ttl_seconds = MEMCACHED_RELATIVE_TTL_MAX;
	ga_hex(key, GA_HMAC_SIZE, hex);
	snprintf(name, SHARED_KEY_MAX, "ghaccess:v1:claim:%s", hex);
	rc = put_value(shared, name, shared->instance_id, INSTANCE_ID_SIZE, ttl_seconds, true);
	if (memcached_success(rc))
		return CACHE_SHARED_CLAIMED;
	if (rc == MEMCACHED_NOTSTORED || rc == MEMCACHED_DATA_EXISTS)
		return CACHE_SHARED_TAKEN;
	return CACHE_SHARED_NOT_MADE;
}

/* ---- the sync lock ---------------------------------------------------- */

static void release_lock(struct cache_shared *shared);

static void
lock_key_name(const struct cache_shared *shared, char name[SHARED_KEY_MAX])
{
	snprintf(name, SHARED_KEY_MAX, "ghaccess:v1:%s:lock", shared->org_segment);
}

/* The holder of the lock, read back: true when it is this instance.  A lock
 * value that fails authentication is not a lock (*forged set). */
static bool
lock_is_mine(struct cache_shared *shared, const char *name, bool *forged)
{
	uint8_t *value;
	size_t len;
	const uint8_t *payload;
	size_t payload_len;
	long long expires_at;
	bool mine = false;

	*forged = false;
	if (get_value(shared, name, &value, &len) != GA_OK)
		return false;
	if (open_value(shared, name, value, len, &payload, &payload_len, &expires_at))
		mine = payload_len == INSTANCE_ID_SIZE &&
		       memcmp(payload, shared->instance_id, INSTANCE_ID_SIZE) == 0;
	else
		*forged = cache_open(shared->mac_key, name, value, len, 0, &payload,
				     &payload_len, &expires_at) != CACHE_OPEN_OK;
	ga_free(value);
	return mine;
}

bool
cache_shared_lock_take(struct cache_shared *shared, int ttl_seconds)
{
	char name[SHARED_KEY_MAX];
	memcached_return_t rc;
	bool taken;
	bool held;
	bool forged = false;

	if (ttl_seconds < 1)
		ttl_seconds = 1;
	lock_key_name(shared, name);
	rc = put_value(shared, name, shared->instance_id, INSTANCE_ID_SIZE, ttl_seconds, true);
	if (memcached_success(rc)) {
		taken = held = true;
	} else if (rc == MEMCACHED_NOTSTORED || rc == MEMCACHED_DATA_EXISTS) {
		/* Held: by this instance (take it again), by another one, or by
		 * a value nobody with the secret wrote (not a lock: replace it). */
		taken = lock_is_mine(shared, name, &forged) || forged;
		held = taken && memcached_success(put_value(shared, name, shared->instance_id,
							    INSTANCE_ID_SIZE, ttl_seconds,
							    false));
	} else {
		/* memcached is down: every instance syncs for itself. */
		taken = true;
		held = false;
	}
	pthread_mutex_lock(&shared->sync_lock_state);
	shared->sync_lock_held = held;
	shared->sync_lock_until_ms = monotonic_ms() + (long long)ttl_seconds * 1000;
	pthread_mutex_unlock(&shared->sync_lock_state);
	return taken;
}

/*
 * The holder keeps its lock alive while its sync runs.  Renewal and release
 * are serialised (sync_lock_calls), so a renewal never re-takes a lock that
 * a release has just given up.
 */
bool
cache_shared_lock_renew(struct cache_shared *shared, int ttl_seconds)
{
	bool held;

	pthread_mutex_lock(&shared->sync_lock_calls);
	pthread_mutex_lock(&shared->sync_lock_state);
	held = shared->sync_lock_held;
	pthread_mutex_unlock(&shared->sync_lock_state);
	if (held)
		held = cache_shared_lock_take(shared, ttl_seconds);
	pthread_mutex_unlock(&shared->sync_lock_calls);
	return held;
}

static void
synced_key_name(const struct cache_shared *shared, char name[SHARED_KEY_MAX])
{
	snprintf(name, SHARED_KEY_MAX, "ghaccess:v1:%s:synced", shared->org_segment);
}

void
cache_shared_sync_mark(struct cache_shared *shared, int ttl_seconds)
{
	char name[SHARED_KEY_MAX];

	synced_key_name(shared, name);
	put_value(shared, name, shared->instance_id, INSTANCE_ID_SIZE,
		  ttl_seconds < 1 ? 1 : ttl_seconds, false);
}

bool
cache_shared_sync_marked(struct cache_shared *shared)
{
	char name[SHARED_KEY_MAX];
	uint8_t *value;
	size_t len;
	const uint8_t *payload;
	size_t payload_len;
	long long expires_at;
	bool marked = false;

	synced_key_name(shared, name);
	if (get_value(shared, name, &value, &len) != GA_OK)
		return false;
	marked = open_value(shared, name, value, len, &payload, &payload_len, &expires_at) &&
		 payload_len == INSTANCE_ID_SIZE;
	ga_free(value);
	return marked;
}

void
cache_shared_lock_release(struct cache_shared *shared)
{
	pthread_mutex_lock(&shared->sync_lock_calls);
	release_lock(shared);
	pthread_mutex_unlock(&shared->sync_lock_calls);
}

static void
release_lock(struct cache_shared *shared)
{
	char name[SHARED_KEY_MAX];
	bool held;
	bool forged;

	pthread_mutex_lock(&shared->sync_lock_state);
	/* Past our TTL the key may be another instance's lock by now. */
	held = shared->sync_lock_held && monotonic_ms() < shared->sync_lock_until_ms;
	shared->sync_lock_held = false;
	pthread_mutex_unlock(&shared->sync_lock_state);
	if (!held)
		return;
	lock_key_name(shared, name);
	if (lock_is_mine(shared, name, &forged))
		delete_value(shared, name);
}

/* ---- the snapshot ----------------------------------------------------- */

static void
current_key_name(const struct cache_shared *shared, char name[SHARED_KEY_MAX])
{
	snprintf(name, SHARED_KEY_MAX, "ghaccess:v1:%s:snapshot:current", shared->org_segment);
}

static void
chunk_key_name(const struct cache_shared *shared, uint64_t set_id, uint64_t index,
	       char name[SHARED_KEY_MAX])
{
	snprintf(name, SHARED_KEY_MAX, "ghaccess:v1:%s:snapshot:%016llx:%llu",
		 shared->org_segment, (unsigned long long)set_id, (unsigned long long)index);
}

static uint64_t
chunk_count_for(size_t len)
{
	return (len + CACHE_CHUNK_PAYLOAD_MAX - 1) / CACHE_CHUNK_PAYLOAD_MAX;
}

struct current_pointer {
	uint64_t set_id;		/* random: names the chunks */
	uint64_t chunks;
	uint64_t total;
	uint8_t sha256[32];
	long long synced_at;
	uint64_t generation;		/* monotonic: orders publications */
};

/* Remember generation as seen; returns the highest seen before it. */
static uint64_t
note_generation(struct cache_shared *shared, uint64_t generation)
{
	uint64_t seen = atomic_load(&shared->highest_generation);

	while (generation > seen &&
	       !atomic_compare_exchange_weak(&shared->highest_generation, &seen, generation))
		;
	return seen;
}

static enum ga_rc
fetch_current(struct cache_shared *shared, struct current_pointer *current, struct ga_err *err)
{
	char name[SHARED_KEY_MAX];
	uint8_t *value;
	size_t len;
	const uint8_t *payload;
	size_t payload_len;
	long long expires_at;
	enum ga_rc rc;

	current_key_name(shared, name);
	rc = get_value(shared, name, &value, &len);
	if (rc == GA_ENOTFOUND)
		return ga_err_set(err, rc, "no shared snapshot in memcached");
	if (rc != GA_OK)
		return ga_err_set(err, rc, "memcached unreachable");
	rc = GA_OK;
	if (!open_value(shared, name, value, len, &payload, &payload_len, &expires_at)) {
		rc = ga_err_set(err, GA_EPARSE, "shared snapshot pointer rejected");
	} else if (payload_len != CURRENT_PAYLOAD_SIZE) {
		reject_value(shared, name, "malformed snapshot pointer");
		rc = ga_err_set(err, GA_EPARSE, "shared snapshot pointer malformed");
	} else {
		current->set_id = cache_get_u64(payload);
		current->chunks = cache_get_u64(payload + 8);
		current->total = cache_get_u64(payload + 16);
		memcpy(current->sha256, payload + 24, 32);
		current->synced_at = (long long)cache_get_u64(payload + 56);
		current->generation = cache_get_u64(payload + 64);
		if (current->total > SNAPSHOT_MAX ||
		    current->chunks != chunk_count_for(current->total))
			rc = ga_err_set(err, GA_EPARSE, "shared snapshot pointer out of bounds");
	}
	ga_free(value);
	return rc;
}

/*
 * A generation above every one seen so far (ours and, through the pointer
 * read just before, every other instance's): the wall clock in milliseconds,
 * or one more than the highest seen when that is ahead (another instance's
 * clock runs fast, or it published twice in one millisecond).
 */
static uint64_t
next_generation(struct cache_shared *shared)
{
	struct current_pointer previous;
	struct ga_err ignored;
	uint64_t now_ms = (uint64_t)wall_ms();
	uint64_t highest;

	if (fetch_current(shared, &previous, &ignored) == GA_OK)
		note_generation(shared, previous.generation);
	highest = atomic_load(&shared->highest_generation);
	if (now_ms > highest)
		highest = now_ms;
	else if (highest < UINT64_MAX)
		highest++;
	note_generation(shared, highest);
	return highest;
}

enum ga_rc
cache_shared_snapshot_publish(struct cache_shared *shared, const char *text, size_t len,
			      long long synced_at, struct ga_err *err)
{
	char name[SHARED_KEY_MAX];
	uint8_t current[CURRENT_PAYLOAD_SIZE];
	uint64_t set_id;
	uint64_t generation;
	uint64_t chunks = chunk_count_for(len);

	if (len > SNAPSHOT_MAX)
		return ga_err_set(err, GA_ELIMIT, "snapshot of %zu bytes is too large to share",
				  len);
	ga_random_bytes(&set_id, sizeof(set_id));
	/* Chunks first, the pointer last: a reader never follows a pointer to
	 * a set that is not complete.  Chunks outlive the pointer, so a reader
	 * that has just read it still finds them. */
	for (uint64_t i = 0; i < chunks; i++) {
		size_t offset = (size_t)i * CACHE_CHUNK_PAYLOAD_MAX;
		size_t part = len - offset < CACHE_CHUNK_PAYLOAD_MAX ? len - offset
								      : CACHE_CHUNK_PAYLOAD_MAX;

		chunk_key_name(shared, set_id, i, name);
		if (!memcached_success(put_value(shared, name, text + offset, part,
						 shared->snapshot_ttl + 60, false)))
			return ga_err_set(err, GA_EUPSTREAM,
					  "memcached: cannot store snapshot chunk %llu",
					  (unsigned long long)i);
	}
	cache_put_u64(current, set_id);
	cache_put_u64(current + 8, chunks);
	cache_put_u64(current + 16, len);
	ga_sha256(text, len, current + 24);
	generation = next_generation(shared);
	cache_put_u64(current + 56, (uint64_t)synced_at);
	cache_put_u64(current + 64, generation);
	current_key_name(shared, name);
	if (!memcached_success(put_value(shared, name, current, sizeof(current),
					 shared->snapshot_ttl, false)))
		return ga_err_set(err, GA_EUPSTREAM,
				  "memcached: cannot store the snapshot pointer");
	atomic_store(&shared->known_generation, generation);
	return GA_OK;
}

/*
 * Whoever can write to memcached cannot forge a pointer, but can write back
 * one it copied earlier: its seal stays valid for snapshot_ttl.  So a
 * pointer older than one already seen is never adopted (GA_ENOTFOUND:
 * nothing newer; counted and logged once per generation), nor one whose
 * data was read in the future of our clock beyond SNAPSHOT_FUTURE_SKEW_SECONDS
 * (GA_EPARSE: the caller syncs by itself and overwrites it).  The snapshot
 * this instance already has is GA_ENOTFOUND too, without reading its chunks.
 */
static enum ga_rc
check_freshness(struct cache_shared *shared, const struct current_pointer *current,
		struct ga_err *err)
{
	uint64_t seen = note_generation(shared, current->generation);
	long long now = time(NULL);

	if (current->generation < seen) {
		char name[SHARED_KEY_MAX];
		char generation[24];
		char label[SHARED_KEY_MAX + 24];

		atomic_fetch_add(&shared->rejected, 1);
		current_key_name(shared, name);
		snprintf(generation, sizeof(generation), "%llu",
			 (unsigned long long)current->generation);
		snprintf(label, sizeof(label), "%s#%s", name, generation);
		if (first_warning_for(shared, label))
			ga_log(GA_LOG_WARN, "shared snapshot older than one already seen: not "
			       "adopted (a replayed value, or a publication that lost a race)",
			       "key", name, "generation", generation, (char *)NULL);
		return ga_err_set(err, GA_ENOTFOUND, "shared snapshot of generation %llu is older "
				  "than generation %llu, already seen",
				  (unsigned long long)current->generation,
				  (unsigned long long)seen);
	}
	if (current->generation == atomic_load(&shared->known_generation))
		return ga_err_set(err, GA_ENOTFOUND, "no newer shared snapshot");
	if (current->synced_at > now + SNAPSHOT_FUTURE_SKEW_SECONDS)
		return ga_err_set(err, GA_EPARSE, "shared snapshot dated %lld s in the future "
				  "(more than the %d s of clock skew allowed)",
				  current->synced_at - now, SNAPSHOT_FUTURE_SKEW_SECONDS);
	return GA_OK;
}

/* Read chunk index of current into text + offset, expecting part bytes. */
static enum ga_rc
fetch_chunk(struct cache_shared *shared, const struct current_pointer *current, uint64_t index,
	    char *destination, size_t part, struct ga_err *err)
{
	char name[SHARED_KEY_MAX];
	uint8_t *value;
	size_t len;
	const uint8_t *payload;
	size_t payload_len;
	long long expires_at;
	enum ga_rc rc;

	chunk_key_name(shared, current->set_id, index, name);
	rc = get_value(shared, name, &value, &len);
	if (rc == GA_ENOTFOUND)
		return ga_err_set(err, GA_EPARSE, "shared snapshot chunk %llu missing",
				  (unsigned long long)index);
	if (rc != GA_OK)
		return ga_err_set(err, rc, "memcached unreachable");
	if (!open_value(shared, name, value, len, &payload, &payload_len, &expires_at)) {
		rc = ga_err_set(err, GA_EPARSE, "shared snapshot chunk %llu rejected",
				(unsigned long long)index);
	} else if (payload_len != part) {
		reject_value(shared, name, "snapshot chunk of the wrong length");
		rc = ga_err_set(err, GA_EPARSE, "shared snapshot chunk %llu has the wrong length",
				(unsigned long long)index);
	} else {
		memcpy(destination, payload, part);
	}
	ga_free(value);
	return rc;
}

enum ga_rc
cache_shared_snapshot_fetch(struct cache_shared *shared, char **text, size_t *len,
			    long long *synced_at, struct ga_err *err)
{
	struct current_pointer current;
	struct ga_err local_err;
	char *assembled;
	uint8_t digest[32];
	enum ga_rc rc;

	if (err == NULL)
		err = &local_err;
	*text = NULL;
	*len = 0;
	rc = fetch_current(shared, &current, err);
	if (rc == GA_OK)
		rc = check_freshness(shared, &current, err);
	if (rc != GA_OK)
		goto done;
	assembled = ga_malloc((size_t)current.total + 1);
	for (uint64_t i = 0; i < current.chunks && rc == GA_OK; i++) {
		size_t offset = (size_t)i * CACHE_CHUNK_PAYLOAD_MAX;
		size_t part = (size_t)current.total - offset < CACHE_CHUNK_PAYLOAD_MAX
				      ? (size_t)current.total - offset
				      : CACHE_CHUNK_PAYLOAD_MAX;

		rc = fetch_chunk(shared, &current, i, assembled + offset, part, err);
	}
	if (rc == GA_OK) {
		ga_sha256(assembled, (size_t)current.total, digest);
		if (!ga_secret_equal(digest, 32, current.sha256, 32))
			rc = ga_err_set(err, GA_EPARSE, "shared snapshot fails its SHA-256");
	}
	if (rc != GA_OK) {
		ga_free(assembled);
		goto done;
	}
	assembled[current.total] = '\0';
	atomic_store(&shared->known_generation, current.generation);
	*text = assembled;
	*len = (size_t)current.total;
	*synced_at = current.synced_at;
done:
	if (rc == GA_EPARSE)
		ga_log(GA_LOG_WARN, "shared snapshot ignored", "reason", err->message,
		       (char *)NULL);
	return rc;
}
