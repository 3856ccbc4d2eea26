/* test_cache_memcache.c - sharing through a real memcached: tokens, forgeries,
 * snapshot chunks, the sync lock, and memcached dying and coming back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libmemcached/memcached.h>

#include "cache/cache.h"
#include "cache/cache_internal.h"
#include "util/ga_log.h"
#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

/* The sub-key labels of cache_core.c: the tests write values as another
 * instance (or a forger) would. */
#define TOKEN_KEY_LABEL "ghaccess:v1:token-key"
#define VALUE_MAC_LABEL "ghaccess:v1:value-mac"
#define CLAIM_KEY_LABEL "ghaccess:v1:claim-key"

#define SECRET "the shared secret of the test instances"
#define OTHER_SECRET "a secret that some other deployment uses"
/* Every token of these tests contains this, so the log can be searched. */
#define TOKEN_MARK "SECRET-TOKEN-"

static pid_t memcached_pid = -1;
static int memcached_port;
static char memcache_url[64];
static char log_path[] = "/tmp/ghaccess-test-cache-log-XXXXXX";
static int log_fd = -1;

/* ---- the memcached child ---------------------------------------------- */

static const char *
memcached_binary(void)
{
	const char *path = getenv("MEMCACHED");

	return path != NULL ? path : "/usr/bin/memcached";
}

/* A loopback port that was free a moment ago. */
static int
free_port(void)
{
	struct sockaddr_in address = {.sin_family = AF_INET};
	socklen_t len = sizeof(address);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port = 0;

	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&address, sizeof(address)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&address, &len) == 0)
		port = ntohs(address.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static bool
accepts_connections(int port)
{
	struct sockaddr_in address = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	address.sin_port = htons((uint16_t)port);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&address, sizeof(address)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static bool
start_memcached(int port)
{
	char port_text[16];

	snprintf(port_text, sizeof(port_text), "%d", port);
	memcached_pid = fork();
	if (memcached_pid < 0)
		return false;
	if (memcached_pid == 0) {
		int null = open("/dev/null", O_RDWR);

		/* Dies with the test, even when the test crashes. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(null, 1);
		dup2(null, 2);
		/* memcached refuses to run as root unless told which user. */
		if (geteuid() == 0)
			execl(memcached_binary(), "memcached", "-l", "127.0.0.1", "-p", port_text,
			      "-U", "0", "-m", "64", "-u", "root", (char *)NULL);
		else
			execl(memcached_binary(), "memcached", "-l", "127.0.0.1", "-p", port_text,
			      "-U", "0", "-m", "64", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 300; i++) {
		int status;

		if (accepts_connections(port))
			return true;
		if (waitpid(memcached_pid, &status, WNOHANG) == memcached_pid) {
			memcached_pid = -1;
			return false;
		}
		usleep(10000);
	}
	return false;
}

static void
stop_memcached(void)
{
	if (memcached_pid <= 0)
		return;
	kill(memcached_pid, SIGCONT);
	kill(memcached_pid, SIGKILL);
	waitpid(memcached_pid, NULL, 0);
	memcached_pid = -1;
}

static int
group_setup(void **state)
{
	(void)state;
	log_fd = mkstemp(log_path);
	if (log_fd >= 0) {
		ga_log_set_fd(log_fd);
		ga_log_setup(GA_LOG_DEBUG, GA_LOG_LOGFMT);
	}
	if (access(memcached_binary(), X_OK) != 0) {
		fprintf(stderr, "memcached tests skipped: %s not found "
			"(apt-get install memcached)\n", memcached_binary());
		return 0;
	}
	for (int attempt = 0; attempt < 5 && memcached_pid <= 0; attempt++) {
		memcached_port = free_port();
		if (memcached_port > 0 && !start_memcached(memcached_port))
			stop_memcached();
	}
	if (memcached_pid <= 0)
		fprintf(stderr, "memcached tests skipped: memcached did not start\n");
	snprintf(memcache_url, sizeof(memcache_url), "127.0.0.1:%d", memcached_port);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	stop_memcached();
	ga_log_set_fd(2);
	if (log_fd >= 0) {
		/* CACHE_TEST_LOG=1 shows what the caches logged. */
		if (getenv("CACHE_TEST_LOG") != NULL) {
			char buffer[4096];
			ssize_t got;

			lseek(log_fd, 0, SEEK_SET);
			while ((got = read(log_fd, buffer, sizeof(buffer))) > 0)
				fwrite(buffer, 1, (size_t)got, stderr);
		}
		close(log_fd);
		unlink(log_path);
	}
	return 0;
}

static void
need_memcached(void)
{
	if (memcached_pid <= 0)
		skip();
}

/* ---- fixtures ------------------------------------------------------- */

struct verifier {
	atomic_int calls;
	enum cache_verdict verdict;
	long long user_id;
};

static enum cache_verdict
verify(void *context, const char *username, const char *token, long long *user_id,
       char *detail, size_t detail_size)
{
	(void)detail;
	(void)detail_size;
	struct verifier *verifier = context;

	(void)username;
	(void)token;
	atomic_fetch_add(&verifier->calls, 1);
	if (verifier->verdict == CACHE_TOKEN_VALID)
		*user_id = verifier->user_id;
	return verifier->verdict;
}

static struct cache *
new_cache(const char *secret, const char *organization)
{
	struct config config;
	struct cache *cache = NULL;
	struct ga_err err;

	memset(&config, 0, sizeof(config));
	config.organization = (char *)organization;
	config.cache_backend = CONFIG_CACHE_MEMCACHE;
	config.memcache_url = memcache_url;
	config.secret = (char *)secret;
	config.expiration = 300;
	config.negative_ttl = 30;
	config.max_stale = 3600;
	config.token_cache_entries = 1000;
	config.http_timeout = 30;
	if (cache_create(&config, &cache, &err) != GA_OK)
		fail_msg("cache_create: %s", err.message);
	return cache;
}

static struct cache_stats
stats_of(struct cache *cache)
{
	struct cache_stats stats;

	cache_get_stats(cache, &stats);
	return stats;
}

static long long
now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec * 1000LL + now.tv_nsec / 1000000;
}

/* A plain memcached client, to read and write raw values. */
static memcached_st *
raw_client(void)
{
	memcached_st *client = memcached_create(NULL);

	memcached_server_add(client, "127.0.0.1", (in_port_t)memcached_port);
	return client;
}

static uint8_t *
raw_get(const char *key, size_t *len)
{
	memcached_st *client = raw_client();
	memcached_return_t rc;
	uint32_t flags;
	char *value = memcached_get(client, key, strlen(key), len, &flags, &rc);

	memcached_free(client);
	if (rc != MEMCACHED_SUCCESS)
		fail_msg("raw get %s: %d", key, (int)rc);
	return (uint8_t *)value;
}

static void
raw_set(const char *key, const void *value, size_t len)
{
	memcached_st *client = raw_client();

	assert_int_equal(memcached_set(client, key, strlen(key), value, len, 600, 0),
			 MEMCACHED_SUCCESS);
	memcached_free(client);
}

static void
raw_delete(const char *key)
{
	memcached_st *client = raw_client();

	memcached_delete(client, key, strlen(key), 0);
	memcached_free(client);
}

/* The memcached key of (username, token) for instances sharing secret. */
#define NAME_SIZE 128

static void
token_key_name(const char *secret, const char *username, const char *token,
	       char name[NAME_SIZE])
{
	uint8_t token_key[GA_HMAC_SIZE];
	uint8_t key[GA_HMAC_SIZE];
	const char *fields[2] = {username, token};
	size_t lengths[2] = {strlen(username), strlen(token)};
	char hex[2 * GA_HMAC_SIZE + 1];

	cache_derive_key(secret, TOKEN_KEY_LABEL, token_key);
	ga_hmac_fields(token_key, GA_HMAC_SIZE, fields, lengths, 2, key);
	ga_hex(key, GA_HMAC_SIZE, hex);
	snprintf(name, NAME_SIZE, "ghaccess:v1:token:%s", hex);
}

/* Write a token entry as an instance with secret would (or a forger). */
static void
write_token_entry(const char *secret, const char *name, enum cache_verdict verdict,
		  long long user_id, long long expires_at)
{
	uint8_t mac_key[GA_HMAC_SIZE];
	uint8_t payload[17];
	uint8_t value[sizeof(payload) + CACHE_SEAL_OVERHEAD];

	cache_derive_key(secret, VALUE_MAC_LABEL, mac_key);
	payload[0] = (uint8_t)verdict;
	cache_put_u64(payload + 1, (uint64_t)user_id);
	cache_put_u64(payload + 9, (uint64_t)time(NULL) * 1000);
	cache_seal(mac_key, name, expires_at, payload, sizeof(payload), value);
	raw_set(name, value, sizeof(value));
}

/* ---- tokens --------------------------------------------------------- */

static void
test_instances_share_verified_tokens(void **state)
{
	struct verifier first = {.verdict = CACHE_TOKEN_VALID, .user_id = 583231};
	struct verifier second = {.verdict = CACHE_TOKEN_INVALID};
	struct cache *a;
	struct cache *b;
	long long user_id = 0;
	struct cache_stats stats;

	(void)state;
	need_memcached();
	a = new_cache(SECRET, "acme");
	b = new_cache(SECRET, "acme");
	assert_string_equal(cache_status(a), "memcache");
	assert_int_equal(cache_verify_token(a, "octocat", TOKEN_MARK "share", verify, &first,
					    &user_id), CACHE_TOKEN_VALID);
	assert_int_equal(atomic_load(&first.calls), 1);
	/* b never asks its verifier: the answer comes from memcached. */
	user_id = 0;
	assert_int_equal(cache_verify_token(b, "octocat", TOKEN_MARK "share", verify, &second,
					    &user_id), CACHE_TOKEN_VALID);
	assert_int_equal(user_id, 583231);
	assert_int_equal(atomic_load(&second.calls), 0);
	stats = stats_of(b);
	assert_int_equal(stats.shared_hits, 1);
	assert_int_equal(stats.hits, 1);
	assert_int_equal(stats.misses, 0);
	assert_int_equal(stats.entries, 1);
	assert_true(stats.shared_available);
	/* ... and is now in b's memory too. */
	assert_int_equal(cache_verify_token(b, "octocat", TOKEN_MARK "share", verify, &second,
					    NULL), CACHE_TOKEN_VALID);
	assert_int_equal(stats_of(b).shared_hits, 1);
	assert_int_equal(stats_of(b).hits, 2);
	assert_int_equal(stats_of(b).rejected_values, 0);

	/* A definite "no" is shared as well. */
	assert_int_equal(cache_verify_token(b, "octocat", TOKEN_MARK "nope", verify, &second,
					    NULL), CACHE_TOKEN_INVALID);
	assert_int_equal(cache_verify_token(a, "octocat", TOKEN_MARK "nope", verify, &first,
					    NULL), CACHE_TOKEN_INVALID);
	assert_int_equal(atomic_load(&first.calls), 1);
	cache_destroy(a);
	cache_destroy(b);
}

static void
test_forget_ignores_older_shared_entries(void **state)
{
	struct verifier verifier = {.verdict = CACHE_TOKEN_VALID, .user_id = 3};
	struct cache *a;

	(void)state;
	need_memcached();
	a = new_cache(SECRET, "acme");
	cache_verify_token(a, "octocat", TOKEN_MARK "forget", verify, &verifier, NULL);
	usleep(2000);
	cache_forget_tokens(a);
	cache_verify_token(a, "octocat", TOKEN_MARK "forget", verify, &verifier, NULL);
	assert_int_equal(atomic_load(&verifier.calls), 2);
	assert_int_equal(stats_of(a).shared_hits, 0);
	cache_destroy(a);
}

static void
test_value_under_other_secret_rejected(void **state)
{
	struct verifier verifier = {.verdict = CACHE_TOKEN_INVALID};
	char name[NAME_SIZE];
	struct cache *a;

	(void)state;
	need_memcached();
	/* Where a would look, a VALID entry sealed with another secret. */
	token_key_name(SECRET, "octocat", TOKEN_MARK "other", name);
	write_token_entry(OTHER_SECRET, name, CACHE_TOKEN_VALID, 1, time(NULL) + 300);
	a = new_cache(SECRET, "acme");
	assert_int_equal(cache_verify_token(a, "octocat", TOKEN_MARK "other", verify, &verifier,
					    NULL), CACHE_TOKEN_INVALID);
	assert_int_equal(atomic_load(&verifier.calls), 1);
	assert_int_equal(stats_of(a).rejected_values, 1);
	assert_int_equal(stats_of(a).shared_hits, 0);
	cache_destroy(a);
}

/* A fresh instance asks for (octocat, token) and must distrust memcached. */
static void
assert_rejected(const char *token)
{
	struct verifier verifier = {.verdict = CACHE_TOKEN_INVALID};
	struct cache *fresh = new_cache(SECRET, "acme");

	assert_int_equal(cache_verify_token(fresh, "octocat", token, verify, &verifier, NULL),
			 CACHE_TOKEN_INVALID);
	assert_int_equal(atomic_load(&verifier.calls), 1);
	assert_int_equal(stats_of(fresh).rejected_values, 1);
	cache_destroy(fresh);
}

static void
test_forged_values_rejected(void **state)
{
	struct verifier verifier = {.verdict = CACHE_TOKEN_VALID, .user_id = 5};
	char genuine_name[NAME_SIZE];
	char name[NAME_SIZE];
	uint8_t *genuine;
	size_t len;
	struct cache *a;

	(void)state;
	need_memcached();
	a = new_cache(SECRET, "acme");
	cache_verify_token(a, "octocat", TOKEN_MARK "genuine", verify, &verifier, NULL);
	cache_destroy(a);
	token_key_name(SECRET, "octocat", TOKEN_MARK "genuine", genuine_name);
	genuine = raw_get(genuine_name, &len);

	/* Arbitrary bytes. */
	token_key_name(SECRET, "octocat", TOKEN_MARK "junk", name);
	raw_set(name, "\x01true", 5);
	assert_rejected(TOKEN_MARK "junk");

	/* A genuine value with one byte changed, wherever it is. */
	for (size_t i = 0; i < len; i += 7) {
		genuine[i] ^= 0x20;
		raw_set(genuine_name, genuine, len);
		genuine[i] ^= 0x20;
		assert_rejected(TOKEN_MARK "genuine");
	}

	/* A genuine value copied under another token's key. */
	token_key_name(SECRET, "octocat", TOKEN_MARK "moved", name);
	raw_set(name, genuine, len);
	assert_rejected(TOKEN_MARK "moved");

	/* A genuine value that expired long ago, written back. */
	token_key_name(SECRET, "octocat", TOKEN_MARK "stale", name);
	write_token_entry(SECRET, name, CACHE_TOKEN_VALID, 5, time(NULL) - 600);
	assert_rejected(TOKEN_MARK "stale");

	/* Restored, it is accepted again. */
	raw_set(genuine_name, genuine, len);
	a = new_cache(SECRET, "acme");
	verifier.calls = 0;
	assert_int_equal(cache_verify_token(a, "octocat", TOKEN_MARK "genuine", verify, &verifier,
					    NULL), CACHE_TOKEN_VALID);
	assert_int_equal(atomic_load(&verifier.calls), 0);
	cache_destroy(a);
	free(genuine);
}

/* ---- snapshot ------------------------------------------------------- */

static char *
random_text(size_t len)
{
	char *text = ga_malloc(len + 1);

	ga_random_bytes(text, len);
	for (size_t i = 0; i < len; i++)
		text[i] = (char)(' ' + (unsigned char)text[i] % 95);
	text[len] = '\0';
	return text;
}

static void
test_snapshot_round_trip(void **state)
{
	size_t len = 3 * 1000 * 1000 + 17;
	char *text;
	char *fetched = NULL;
	size_t fetched_len = 0;
	long long synced_at = 0;
	struct cache *a;
	struct cache *b;
	struct ga_err err;

	(void)state;
	need_memcached();
	a = new_cache(SECRET, "roundtrip");
	b = new_cache(SECRET, "RoundTrip");	/* organization names ignore case */
	assert_int_equal(cache_snapshot_fetch(b, &fetched, &fetched_len, &synced_at, &err),
			 GA_ENOTFOUND);
	text = random_text(len);
	assert_int_equal(cache_snapshot_publish(a, text, len, 1700000000, &err), GA_OK);
	assert_int_equal(cache_snapshot_fetch(b, &fetched, &fetched_len, &synced_at, &err), GA_OK);
	assert_int_equal(fetched_len, len);
	assert_int_equal(synced_at, 1700000000);
	assert_memory_equal(fetched, text, len);
	assert_int_equal(fetched[len], '\0');
	ga_free(fetched);

	/* A newer generation replaces it; a small one is a single chunk. */
	assert_int_equal(cache_snapshot_publish(b, "{\"members\": []}", 15, 1700000060, &err),
			 GA_OK);
	assert_int_equal(cache_snapshot_fetch(a, &fetched, &fetched_len, &synced_at, &err), GA_OK);
	assert_int_equal(fetched_len, 15);
	assert_string_equal(fetched, "{\"members\": []}");
	assert_int_equal(synced_at, 1700000060);
	ga_free(fetched);

	/* Another organization sees nothing. */
	cache_destroy(b);
	b = new_cache(SECRET, "other-org");
	assert_int_equal(cache_snapshot_fetch(b, &fetched, &fetched_len, &synced_at, &err),
			 GA_ENOTFOUND);
	assert_int_equal(stats_of(a).rejected_values, 0);
	ga_free(text);
	cache_destroy(a);
	cache_destroy(b);
}

static void
expect_fetch_fails(struct cache *cache, enum ga_rc expected)
{
	char *fetched = (char *)"untouched";
	size_t fetched_len = 1;
	long long synced_at = 0;
	struct ga_err err;

	assert_int_equal(cache_snapshot_fetch(cache, &fetched, &fetched_len, &synced_at, &err),
			 expected);
	assert_null(fetched);
	assert_int_equal(fetched_len, 0);
}

static void
expect_fetch_ok(struct cache *cache, const char *text, size_t len)
{
	char *fetched = NULL;
	size_t fetched_len = 0;
	long long synced_at = 0;
	struct ga_err err;

	assert_int_equal(cache_snapshot_fetch(cache, &fetched, &fetched_len, &synced_at, &err),
			 GA_OK);
	assert_int_equal(fetched_len, len);
	assert_memory_equal(fetched, text, len);
	ga_free(fetched);
}

/* An instance reads each publication once: these use a new one. */
static void
new_reader_fetch_fails(const char *organization, enum ga_rc expected,
		       unsigned long long rejected)
{
	struct cache *reader = new_cache(SECRET, organization);

	expect_fetch_fails(reader, expected);
	assert_int_equal(stats_of(reader).rejected_values, rejected);
	cache_destroy(reader);
}

static void
new_reader_fetch_ok(const char *organization, const char *text, size_t len)
{
	struct cache *reader = new_cache(SECRET, organization);

	expect_fetch_ok(reader, text, len);
	/* Once read, the same publication is nothing new. */
	expect_fetch_fails(reader, GA_ENOTFOUND);
	cache_destroy(reader);
}

/* The snapshot pointer's payload (docs/internals/cache.md): set id, chunk
 * count, length, SHA-256, synced_at, generation. */
#define POINTER_SIZE 72
#define POINTER_SYNCED_AT 56
#define POINTER_GENERATION 64

static void
test_snapshot_corruption(void **state)
{
	const char *current_name = "ghaccess:v1:corrupt:snapshot:current";
	size_t len = 2500000;
	char *text;
	uint8_t *current;
	size_t current_len;
	char chunk_name[128];
	uint8_t *chunk;
	size_t chunk_len;
	uint8_t mac_key[GA_HMAC_SIZE];
	uint8_t pointer[POINTER_SIZE];
	uint8_t sealed[POINTER_SIZE + CACHE_SEAL_OVERHEAD];
	struct cache *a;
	struct ga_err err;

	(void)state;
	need_memcached();
	a = new_cache(SECRET, "corrupt");
	text = random_text(len);
	assert_int_equal(cache_snapshot_publish(a, text, len, 1, &err), GA_OK);
	current = raw_get(current_name, &current_len);
	assert_int_equal(current_len, POINTER_SIZE + CACHE_SEAL_OVERHEAD);
	assert_int_equal(cache_get_u64(current + CACHE_SEAL_HEADER + 8), 3);	/* chunks */
	snprintf(chunk_name, sizeof(chunk_name), "ghaccess:v1:corrupt:snapshot:%016llx:1",
		(unsigned long long)cache_get_u64(current + CACHE_SEAL_HEADER));
	chunk = raw_get(chunk_name, &chunk_len);
	assert_true(chunk_len < 1000000);

	/* The publisher has it already. */
	expect_fetch_fails(a, GA_ENOTFOUND);

	/* One flipped byte in the middle chunk. */
	chunk[chunk_len / 2] ^= 1;
	raw_set(chunk_name, chunk, chunk_len);
	new_reader_fetch_fails("corrupt", GA_EPARSE, 1);
	chunk[chunk_len / 2] ^= 1;
	raw_set(chunk_name, chunk, chunk_len);
	new_reader_fetch_ok("corrupt", text, len);

	/* A missing chunk. */
	raw_delete(chunk_name);
	new_reader_fetch_fails("corrupt", GA_EPARSE, 0);
	raw_set(chunk_name, chunk, chunk_len);
	new_reader_fetch_ok("corrupt", text, len);

	/* A forged pointer. */
	raw_set(current_name, "\x01garbage", 8);
	new_reader_fetch_fails("corrupt", GA_EPARSE, 1);

	/* A pointer that authenticates (whoever wrote it had the secret) but
	 * whose SHA-256 does not match the chunks. */
	memcpy(pointer, current + CACHE_SEAL_HEADER, sizeof(pointer));
	pointer[24] ^= 1;
	cache_derive_key(SECRET, VALUE_MAC_LABEL, mac_key);
	cache_seal(mac_key, current_name, time(NULL) + 600, pointer, sizeof(pointer), sealed);
	raw_set(current_name, sealed, sizeof(sealed));
	new_reader_fetch_fails("corrupt", GA_EPARSE, 0);

	/* The genuine pointer again. */
	raw_set(current_name, current, current_len);
	new_reader_fetch_ok("corrupt", text, len);
	free(current);
	free(chunk);
	ga_free(text);
	cache_destroy(a);
}

/* The pointer stored now under name, opened (payload copied to pointer). */
static void
read_pointer(const char *name, uint8_t pointer[POINTER_SIZE], uint8_t **sealed,
	     size_t *sealed_len)
{
	*sealed = raw_get(name, sealed_len);
	assert_int_equal(*sealed_len, POINTER_SIZE + CACHE_SEAL_OVERHEAD);
	memcpy(pointer, *sealed + CACHE_SEAL_HEADER, POINTER_SIZE);
}

/* Write pointer under name as an instance holding the secret would: here,
 * one whose clock is off (a publication dated or numbered ahead). */
static void
write_pointer(const char *name, const uint8_t pointer[POINTER_SIZE], long long synced_at,
	      uint64_t generation)
{
	uint8_t mac_key[GA_HMAC_SIZE];
	uint8_t payload[POINTER_SIZE];
	uint8_t sealed[POINTER_SIZE + CACHE_SEAL_OVERHEAD];

	memcpy(payload, pointer, POINTER_SIZE);
	cache_put_u64(payload + POINTER_SYNCED_AT, (uint64_t)synced_at);
	cache_put_u64(payload + POINTER_GENERATION, generation);
	cache_derive_key(SECRET, VALUE_MAC_LABEL, mac_key);
	cache_seal(mac_key, name, time(NULL) + 600, payload, sizeof(payload), sealed);
	raw_set(name, sealed, sizeof(sealed));
}

/*
 * Whoever can write to memcached can put back a genuine pointer it copied
 * earlier.  A follower that has seen a newer generation never takes it
 * (nothing new, counted), nor a pointer whose data was read more than the
 * allowed skew in the future; publications stay ordered even when an
 * instance's clock runs ahead.
 */
static void
test_snapshot_replay_and_future(void **state)
{
	const char *name = "ghaccess:v1:replay:snapshot:current";
	long long now = time(NULL);
	uint8_t first[POINTER_SIZE], second[POINTER_SIZE], ahead[POINTER_SIZE];
	uint8_t *first_sealed, *second_sealed, *ahead_sealed;
	size_t first_len, second_len, ahead_len;
	struct cache *a, *b, *fresh;
	struct ga_err err;

	(void)state;
	need_memcached();
	a = new_cache(SECRET, "replay");
	b = new_cache(SECRET, "replay");
	assert_int_equal(cache_snapshot_publish(a, "first", 5, now - 100, &err), GA_OK);
	read_pointer(name, first, &first_sealed, &first_len);
	expect_fetch_ok(b, "first", 5);
	assert_int_equal(cache_snapshot_publish(a, "second", 6, now - 50, &err), GA_OK);
	read_pointer(name, second, &second_sealed, &second_len);
	assert_true(cache_get_u64(second + POINTER_GENERATION) >
		    cache_get_u64(first + POINTER_GENERATION));
	expect_fetch_ok(b, "second", 6);

	/* The first pointer written back: b has seen newer, a published newer. */
	raw_set(name, first_sealed, first_len);
	expect_fetch_fails(b, GA_ENOTFOUND);
	expect_fetch_fails(a, GA_ENOTFOUND);
	assert_int_equal(stats_of(b).rejected_values, 1);
	assert_int_equal(stats_of(a).rejected_values, 1);
	/* An instance that has seen nothing cannot tell (docs say so). */
	fresh = new_cache(SECRET, "replay");
	expect_fetch_ok(fresh, "first", 5);
	cache_destroy(fresh);
	/* The current one again: b has it already. */
	raw_set(name, second_sealed, second_len);
	expect_fetch_fails(b, GA_ENOTFOUND);
	assert_int_equal(stats_of(b).rejected_values, 1);

	/* Dated in the future beyond the skew: refused, whatever its generation;
	 * within the skew: taken. */
	write_pointer(name, second, now + 60, cache_get_u64(second + POINTER_GENERATION) + 1);
	expect_fetch_fails(b, GA_EPARSE);
	write_pointer(name, second, now + 3, cache_get_u64(second + POINTER_GENERATION) + 2);
	expect_fetch_ok(b, "second", 6);

	/* An instance whose clock runs an hour ahead published; a's next
	 * publication still comes after it, and b takes it. */
	write_pointer(name, second, now, cache_get_u64(second + POINTER_GENERATION) + 3600000);
	read_pointer(name, ahead, &ahead_sealed, &ahead_len);
	expect_fetch_ok(b, "second", 6);
	assert_int_equal(cache_snapshot_publish(a, "third", 5, now, &err), GA_OK);
	expect_fetch_ok(b, "third", 5);
	raw_set(name, ahead_sealed, ahead_len);
	expect_fetch_fails(b, GA_ENOTFOUND);
	assert_int_equal(stats_of(b).rejected_values, 2);
	free(first_sealed);
	free(second_sealed);
	free(ahead_sealed);
	cache_destroy(a);
	cache_destroy(b);
}

/* ---- the sync lock -------------------------------------------------- */

static void
test_sync_lock(void **state)
{
	struct cache *a;
	struct cache *b;

	(void)state;
	need_memcached();
	a = new_cache(SECRET, "locking");
	b = new_cache(SECRET, "locking");
	assert_true(cache_sync_lock_take(a, 60));
	assert_false(cache_sync_lock_take(b, 60));
	assert_true(cache_sync_lock_take(a, 60));	/* still a's */
	cache_sync_lock_release(b);			/* not b's: no effect */
	assert_false(cache_sync_lock_take(b, 60));
	cache_sync_lock_release(a);
	assert_true(cache_sync_lock_take(b, 60));
	assert_false(cache_sync_lock_take(a, 60));
	cache_sync_lock_release(b);

	/* A lock value nobody with the secret wrote is no lock. */
	raw_set("ghaccess:v1:locking:lock", "held forever", 12);
	assert_true(cache_sync_lock_take(a, 60));
	assert_false(cache_sync_lock_take(b, 60));
	cache_sync_lock_release(a);
	cache_destroy(a);
	cache_destroy(b);
}

/* The sync lock lives a short TTL and is renewed by its holder only; the
 * "synced this period" marker is sealed. */
static void
test_sync_lock_renew_and_mark(void **state)
{
	struct cache *a;
	struct cache *b;

	(void)state;
	need_memcached();
	a = new_cache(SECRET, "renewing");
	b = new_cache(SECRET, "renewing");
	assert_false(cache_sync_lock_renew(a, CACHE_SYNC_LOCK_TTL));	/* not taken */
	assert_true(cache_sync_lock_take(a, CACHE_SYNC_LOCK_TTL));
	assert_true(cache_sync_lock_renew(a, CACHE_SYNC_LOCK_TTL));
	assert_false(cache_sync_lock_renew(b, CACHE_SYNC_LOCK_TTL));
	assert_false(cache_sync_lock_take(b, CACHE_SYNC_LOCK_TTL));
	cache_sync_lock_release(a);
	/* Released: a renewal never takes it back. */
	assert_false(cache_sync_lock_renew(a, CACHE_SYNC_LOCK_TTL));
	assert_true(cache_sync_lock_take(b, CACHE_SYNC_LOCK_TTL));
	cache_sync_lock_release(b);

	assert_false(cache_sync_marked(b));
	cache_sync_mark(a, 60);
	assert_true(cache_sync_marked(b));
	/* A marker nobody with the secret wrote is none: the reader syncs. */
	raw_set("ghaccess:v1:renewing:synced", "synced, trust me", 16);
	assert_false(cache_sync_marked(b));
	cache_destroy(a);
	cache_destroy(b);
}

/* ---- the shared change log ------------------------------------------ */

#define LOG_ORG "changing"
#define LOG_PREFIX "ghaccess:v1:" LOG_ORG ":changes:"

static void
append(struct cache *cache, const char *text)
{
	struct ga_err err = {0};

	assert_int_equal(cache_changes_append(cache, text, strlen(text), &err), GA_OK);
}

/* The next result of the reader; an entry must be expected_text. */
static void
expect_next(struct cache *cache, struct cache_changes_cursor *cursor, enum cache_changes expected,
	    const char *expected_text)
{
	char *data = NULL;
	size_t len = 0;
	const char *why = NULL;
	enum cache_changes got = cache_changes_next(cache, cursor, &data, &len, &why);

	if (got != expected)
		fail_msg("change log: got %d (%s), expected %d", (int)got, why ? why : "",
			 (int)expected);
	if (expected == CACHE_CHANGES_ENTRY) {
		assert_int_equal(len, strlen(expected_text));
		assert_string_equal(data, expected_text);
	}
	if (expected == CACHE_CHANGES_GAP || expected == CACHE_CHANGES_REFUSED)
		assert_true(why != NULL && why[0] != '\0');
	ga_free(data);
}

/* The current log's id, from the sealed head (payload after 9 bytes). */
static void
current_log(char name[NAME_SIZE], const char *suffix)
{
	size_t len = 0;
	uint8_t *head = raw_get(LOG_PREFIX "head", &len);
	char hex[33];

	assert_int_equal(len, 9 + 16 + GA_HMAC_SIZE);
	ga_hex(head + 9, 16, hex);
	ga_free(head);
	snprintf(name, NAME_SIZE, LOG_PREFIX "%s:%s", hex, suffix);
}

/* One writer, one reader: order, a moved entry, a missing one, a reset, a
 * restart (the head gone), a reader fallen behind the ring, a forged head. */
static void
test_change_log(void **state)
{
	struct cache *writer;
	struct cache *reader;
	struct cache_changes_cursor cursor;
	char name[NAME_SIZE];
	char moved_from[NAME_SIZE];
	uint8_t *value;
	size_t len;
	uint64_t count;
	memcached_st *client;

	(void)state;
	need_memcached();
	memset(&cursor, 0, sizeof(cursor));
	writer = new_cache(SECRET, LOG_ORG);
	reader = new_cache(SECRET, LOG_ORG);
	expect_next(reader, &cursor, CACHE_CHANGES_NONE, NULL);	/* no log yet */
	append(writer, "one");
	append(writer, "two");
	expect_next(reader, &cursor, CACHE_CHANGES_ENTRY, "one");
	expect_next(reader, &cursor, CACHE_CHANGES_ENTRY, "two");
	expect_next(reader, &cursor, CACHE_CHANGES_NONE, NULL);

	/* A genuine entry copied to the next slot: its MAC names its key. */
	append(writer, "three");
	current_log(moved_from, "2");
	current_log(name, "3");
	value = raw_get(moved_from, &len);
	raw_set(name, value, len);
	ga_free(value);
	expect_next(reader, &cursor, CACHE_CHANGES_REFUSED, NULL);
	expect_next(reader, &cursor, CACHE_CHANGES_NONE, NULL);

	/* Numbered but never written: waited for, then a gap. */
	current_log(name, "count");
	client = raw_client();
	assert_int_equal(memcached_increment(client, name, strlen(name), 1, &count),
			 MEMCACHED_SUCCESS);
	memcached_free(client);
	assert_int_equal(count, 4);
	expect_next(reader, &cursor, CACHE_CHANGES_NONE, NULL);
	usleep((CACHE_CHANGES_GRACE_MS + 100) * 1000);
	expect_next(reader, &cursor, CACHE_CHANGES_GAP, NULL);
	expect_next(reader, &cursor, CACHE_CHANGES_NONE, NULL);

	/* A reset, then memcached losing the log: both are gaps, and what is
	 * appended after is read. */
	{
		struct ga_err err = {0};

		assert_int_equal(cache_changes_reset(writer, &err), GA_OK);
	}
	expect_next(reader, &cursor, CACHE_CHANGES_GAP, NULL);
	append(writer, "four");
	expect_next(reader, &cursor, CACHE_CHANGES_ENTRY, "four");
	raw_delete(LOG_PREFIX "head");
	expect_next(reader, &cursor, CACHE_CHANGES_GAP, NULL);
	append(writer, "five");
	expect_next(reader, &cursor, CACHE_CHANGES_ENTRY, "five");

	/* Fallen behind the ring: a gap, then the oldest entry kept. */
	for (int i = 0; i < CACHE_CHANGES_RING + 2; i++)
		append(writer, i == 2 ? "kept" : "more");
	expect_next(reader, &cursor, CACHE_CHANGES_GAP, NULL);
	expect_next(reader, &cursor, CACHE_CHANGES_ENTRY, "kept");

	/* A forged head is refused; the next writer replaces it. */
	raw_set(LOG_PREFIX "head", "a head of my own", 16);
	expect_next(reader, &cursor, CACHE_CHANGES_REFUSED, NULL);
	append(writer, "six");
	expect_next(reader, &cursor, CACHE_CHANGES_GAP, NULL);
	expect_next(reader, &cursor, CACHE_CHANGES_ENTRY, "six");
	assert_true(stats_of(reader).rejected_values >= 2);

	/* Too large to share; and nothing with the memory backend. */
	{
		struct ga_err err = {0};
		char *big = ga_calloc(1, CACHE_CHANGES_DATA_MAX + 2);

		memset(big, 'x', CACHE_CHANGES_DATA_MAX + 1);
		assert_int_equal(cache_changes_append(writer, big, strlen(big), &err), GA_ELIMIT);
		ga_free(big);
	}
	cache_destroy(writer);
	cache_destroy(reader);
}

/* ---- memcached in trouble ------------------------------------------- */

/* ---- claim once ------------------------------------------------------ */

#define ISSUER "https://token.actions.githubusercontent.com"

static enum cache_once
claim(struct cache *cache, const char *jti)
{
	long long now = time(NULL);

	return cache_claim_once(cache, ISSUER, jti, strlen(jti), now + 360, now);
}

/* Instances sharing memcached refuse an id another one claimed; the key is
 * an HMAC under the secret; with memcached down each instance still refuses
 * what it claimed itself, and says that the claim was not shared. */
static void
test_claims_shared(void **state)
{
	struct cache *a;
	struct cache *b;
	struct cache *elsewhere;
	uint8_t claim_key[GA_HMAC_SIZE];
	uint8_t key[GA_HMAC_SIZE];
	const char *fields[2] = {ISSUER, "jti-shared-1"};
	size_t lengths[2] = {strlen(ISSUER), strlen("jti-shared-1")};
	char hex[2 * GA_HMAC_SIZE + 1];
	char name[NAME_SIZE];
	uint8_t *value;
	size_t len;
	long long started;

	(void)state;
	need_memcached();
	a = new_cache(SECRET, "claims");
	b = new_cache(SECRET, "claims");
	elsewhere = new_cache(OTHER_SECRET, "claims");
	assert_int_equal(claim(a, "jti-shared-1"), CACHE_ONCE_FIRST);
	assert_int_equal(claim(a, "jti-shared-1"), CACHE_ONCE_USED);
	assert_int_equal(claim(b, "jti-shared-1"), CACHE_ONCE_USED);
	assert_int_equal(claim(b, "jti-shared-2"), CACHE_ONCE_FIRST);
	assert_int_equal(claim(a, "jti-shared-2"), CACHE_ONCE_USED);
	/* A claim that never ends (an issuer's absurd exp): no overflow, and
	 * memcached keeps it its longest relative TTL. */
	assert_int_equal(cache_claim_once(a, ISSUER, "jti-forever", 11, LLONG_MAX, time(NULL)),
			 CACHE_ONCE_FIRST);
	assert_int_equal(cache_claim_once(b, ISSUER, "jti-forever", 11, LLONG_MAX, time(NULL)),
			 CACHE_ONCE_USED);
	/* Another deployment's secret: other keys, nothing shared. */
	assert_int_equal(claim(elsewhere, "jti-shared-1"), CACHE_ONCE_FIRST);

	/* The key: HMAC-SHA256 under the claim key, over (scope, id); the
	 * value is sealed and does not hold the id. */
	cache_derive_key(SECRET, CLAIM_KEY_LABEL, claim_key);
	ga_hmac_fields(claim_key, GA_HMAC_SIZE, fields, lengths, 2, key);
	ga_hex(key, GA_HMAC_SIZE, hex);
	snprintf(name, NAME_SIZE, "ghaccess:v1:claim:%s", hex);
	value = raw_get(name, &len);
	assert_int_equal(len, 16 + CACHE_SEAL_OVERHEAD);
	assert_null(memmem(value, len, "jti-shared-1", strlen("jti-shared-1")));
	ga_free(value);

	/* Any value under a claim's key is a claim, authenticated or not:
	 * nobody without the secret can compute the key, and in doubt the
	 * answer is "used". */
	fields[1] = "jti-preset";
	lengths[1] = strlen("jti-preset");
	ga_hmac_fields(claim_key, GA_HMAC_SIZE, fields, lengths, 2, key);
	ga_hex(key, GA_HMAC_SIZE, hex);
	snprintf(name, NAME_SIZE, "ghaccess:v1:claim:%s", hex);
	raw_set(name, "x", 1);
	assert_int_equal(claim(a, "jti-preset"), CACHE_ONCE_USED);

	/* memcached goes away: each instance claims in its memory only. */
	stop_memcached();
	started = now_ms();
	assert_int_equal(claim(a, "jti-down-1"), CACHE_ONCE_FIRST_LOCAL);
	assert_int_equal(claim(a, "jti-down-1"), CACHE_ONCE_USED);
	assert_int_equal(claim(b, "jti-down-1"), CACHE_ONCE_FIRST_LOCAL);
	assert_int_equal(claim(a, "jti-shared-2"), CACHE_ONCE_USED);	/* still in a's memory */
	for (int i = 0; i < 20; i++) {
		char jti[32];

		snprintf(jti, sizeof(jti), "jti-down-burst-%d", i);
		assert_int_equal(claim(b, jti), CACHE_ONCE_FIRST_LOCAL);
	}
	assert_true(now_ms() - started < 1500);	/* no timeout per claim */
	/* Back: claims are shared again after the retry period. */
	assert_true(start_memcached(memcached_port));
	usleep(2200 * 1000);
	assert_int_equal(claim(a, "jti-back-1"), CACHE_ONCE_FIRST);
	assert_int_equal(claim(b, "jti-back-1"), CACHE_ONCE_USED);
	cache_destroy(a);
	cache_destroy(b);
	cache_destroy(elsewhere);
}

/* Ask for a new token and check that the call did not block. */
static void
verify_quickly(struct cache *cache, const char *token, struct verifier *verifier,
	       enum cache_verdict expected)
{
	long long started = now_ms();

	assert_int_equal(cache_verify_token(cache, "octocat", token, verify, verifier, NULL),
			 expected);
	if (now_ms() - started > 1000)
		fail_msg("cache_verify_token took %lld ms", now_ms() - started);
}

static void
test_memcached_hangs(void **state)
{
	struct verifier verifier = {.verdict = CACHE_TOKEN_VALID};
	struct cache *a;
	long long started;
	char token[64];

	(void)state;
	need_memcached();
	a = new_cache(SECRET, "hang");
	verify_quickly(a, TOKEN_MARK "before-hang", &verifier, CACHE_TOKEN_VALID);
	kill(memcached_pid, SIGSTOP);
	started = now_ms();
	for (int i = 0; i < 20; i++) {
		snprintf(token, sizeof(token), TOKEN_MARK "hang-%d", i);
		verify_quickly(a, token, &verifier, CACHE_TOKEN_VALID);
	}
	/* One timeout, then memory only: not one timeout per request. */
	assert_true(now_ms() - started < 1500);
	assert_false(stats_of(a).shared_available);
	verify_quickly(a, TOKEN_MARK "before-hang", &verifier, CACHE_TOKEN_VALID);
	assert_int_equal(atomic_load(&verifier.calls), 21);
	kill(memcached_pid, SIGCONT);
	cache_destroy(a);
}

static void
test_memcached_dies_and_returns(void **state)
{
	struct verifier verifier = {.verdict = CACHE_TOKEN_VALID, .user_id = 8};
	struct verifier other = {.verdict = CACHE_TOKEN_INVALID};
	struct cache *a;
	struct cache *b;
	char *text = NULL;
	size_t len = 0;
	long long synced_at = 0;
	long long started;
	struct ga_err err;
	char token[64];

	(void)state;
	need_memcached();
	a = new_cache(SECRET, "dying");
	b = new_cache(SECRET, "dying");
	verify_quickly(a, TOKEN_MARK "kept", &verifier, CACHE_TOKEN_VALID);
	stop_memcached();

	/* Cached answers still come from memory, new ones from the verifier. */
	verify_quickly(a, TOKEN_MARK "kept", &verifier, CACHE_TOKEN_VALID);
	assert_int_equal(atomic_load(&verifier.calls), 1);
	verify_quickly(a, TOKEN_MARK "new", &verifier, CACHE_TOKEN_VALID);
	assert_int_equal(atomic_load(&verifier.calls), 2);
	assert_false(stats_of(a).shared_available);
	assert_string_equal(cache_status(a), "memcache (unreachable: using memory)");
	verify_quickly(a, TOKEN_MARK "new", &verifier, CACHE_TOKEN_VALID);
	assert_int_equal(atomic_load(&verifier.calls), 2);

	started = now_ms();
	for (int i = 0; i < 50; i++) {
		snprintf(token, sizeof(token), TOKEN_MARK "down-%d", i);
		verify_quickly(b, token, &other, CACHE_TOKEN_INVALID);
	}
	assert_int_equal(atomic_load(&other.calls), 50);
	assert_true(cache_sync_lock_take(b, 60));	/* everyone syncs for itself */
	cache_sync_lock_release(b);
	assert_int_equal(cache_snapshot_fetch(b, &text, &len, &synced_at, &err), GA_EUPSTREAM);
	assert_int_equal(cache_snapshot_publish(b, "{}", 2, 1, &err), GA_EUPSTREAM);
	assert_true(now_ms() - started < 1500);

	/* Back on the same port: after the retry period it is used again. */
	assert_true(start_memcached(memcached_port));
	usleep(2200 * 1000);
	verify_quickly(a, TOKEN_MARK "after", &verifier, CACHE_TOKEN_VALID);
	assert_true(stats_of(a).shared_available);
	assert_string_equal(cache_status(a), "memcache");
	assert_int_equal(cache_verify_token(b, "octocat", TOKEN_MARK "after", verify, &other, NULL),
			 CACHE_TOKEN_VALID);
	assert_true(stats_of(b).shared_available);
	assert_int_equal(stats_of(b).shared_hits, 1);
	assert_int_equal(atomic_load(&other.calls), 50);
	cache_destroy(a);
	cache_destroy(b);
}

/* ---- the log -------------------------------------------------------- */

static void
test_log_never_shows_tokens_or_secret(void **state)
{
	char *log;
	off_t size;

	(void)state;
	need_memcached();
	assert_true(log_fd >= 0);
	size = lseek(log_fd, 0, SEEK_END);
	log = ga_calloc(1, (size_t)size + 1);
	assert_int_equal(pread(log_fd, log, (size_t)size, 0), size);
	assert_non_null(strstr(log, "memcached value rejected"));
	assert_non_null(strstr(log, "memcached unreachable"));
	assert_non_null(strstr(log, "memcached reachable again"));
	assert_null(strstr(log, TOKEN_MARK));
	assert_null(strstr(log, SECRET));
	assert_null(strstr(log, OTHER_SECRET));
	ga_free(log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_instances_share_verified_tokens),
		cmocka_unit_test(test_forget_ignores_older_shared_entries),
		cmocka_unit_test(test_value_under_other_secret_rejected),
		cmocka_unit_test(test_forged_values_rejected),
		cmocka_unit_test(test_snapshot_round_trip),
		cmocka_unit_test(test_snapshot_corruption),
		cmocka_unit_test(test_snapshot_replay_and_future),
		cmocka_unit_test(test_sync_lock),
		cmocka_unit_test(test_sync_lock_renew_and_mark),
		cmocka_unit_test(test_change_log),
		cmocka_unit_test(test_claims_shared),
		cmocka_unit_test(test_memcached_hangs),
		cmocka_unit_test(test_memcached_dies_and_returns),
		cmocka_unit_test(test_log_never_shows_tokens_or_secret),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
