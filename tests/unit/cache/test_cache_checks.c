/* test_cache_checks.c - cache_verify_token_start: single flight without
 * blocking, the bounds in all and per login, details, stopping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache.h"
#include "util/ga_log.h"

/* A verifier that holds every call until the test opens the gate. */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool open;
	int calls;
	int inside;
	int most_inside;
	enum cache_verdict verdict;
	const char *detail;
};

static enum cache_verdict
gated_verify(void *context, const char *username, const char *token, long long *user_id,
	     char *detail, size_t detail_size)
{
	struct gate *gate = context;
	enum cache_verdict verdict;

	(void)username;
	(void)token;
	pthread_mutex_lock(&gate->lock);
	gate->calls++;
	gate->inside++;
	if (gate->inside > gate->most_inside)
		gate->most_inside = gate->inside;
	pthread_cond_broadcast(&gate->changed);
	while (!gate->open)
		pthread_cond_wait(&gate->changed, &gate->lock);
	gate->inside--;
	verdict = gate->verdict;
	if (gate->detail != NULL)
		snprintf(detail, detail_size, "%s", gate->detail);
	pthread_mutex_unlock(&gate->lock);
	*user_id = 42;
	return verdict;
}

static void
gate_init(struct gate *gate, enum cache_verdict verdict)
{
	memset(gate, 0, sizeof(*gate));
	pthread_mutex_init(&gate->lock, NULL);
	pthread_cond_init(&gate->changed, NULL);
	gate->verdict = verdict;
}

static void
gate_open(struct gate *gate)
{
	pthread_mutex_lock(&gate->lock);
	gate->open = true;
	pthread_cond_broadcast(&gate->changed);
	pthread_mutex_unlock(&gate->lock);
}

/* Wait until count calls are inside the verifier. */
static void
gate_wait_inside(struct gate *gate, int count)
{
	pthread_mutex_lock(&gate->lock);
	while (gate->inside < count)
		pthread_cond_wait(&gate->changed, &gate->lock);
	pthread_mutex_unlock(&gate->lock);
}

static void
gate_destroy(struct gate *gate)
{
	pthread_cond_destroy(&gate->changed);
	pthread_mutex_destroy(&gate->lock);
}

/* What the callbacks received. */
struct results {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int count;
	struct cache_token_answer last;
};

static struct results results;

static void
on_done(void *arg, const struct cache_token_answer *answer)
{
	(void)arg;
	pthread_mutex_lock(&results.lock);
	results.count++;
	results.last = *answer;
	pthread_cond_broadcast(&results.changed);
	pthread_mutex_unlock(&results.lock);
}

static void
wait_results(int count)
{
	pthread_mutex_lock(&results.lock);
	while (results.count < count)
		pthread_cond_wait(&results.changed, &results.lock);
	pthread_mutex_unlock(&results.lock);
}

static int
setup(void **state)
{
	(void)state;
	memset(&results, 0, sizeof(results));
	pthread_mutex_init(&results.lock, NULL);
	pthread_cond_init(&results.changed, NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	pthread_cond_destroy(&results.changed);
	pthread_mutex_destroy(&results.lock);
	return 0;
}

static struct cache *
new_cache(int checks, int per_login)
{
	struct config config;
	struct cache *cache = NULL;
	struct ga_err err;

	memset(&config, 0, sizeof(config));
	config.organization = (char *)"acme";
	config.expiration = 300;
	config.negative_ttl = 30;
	config.max_stale = 3600;
	config.token_cache_entries = 1000;
	config.http_timeout = 30;
	config.max_token_checks = checks;
	config.max_token_checks_per_login = per_login;
	assert_int_equal(cache_create(&config, &cache, &err), GA_OK);
	return cache;
}

static enum cache_start
start(struct cache *cache, struct gate *gate, const char *username, const char *token,
      struct cache_token_answer *answer)
{
	return cache_verify_token_start(cache, username, token, gated_verify, gate, on_done, NULL,
					answer);
}

/* 100 requests for one new token: one check, 100 answers, then a hit. */
static void
test_single_flight_without_blocking(void **state)
{
	struct cache *cache = new_cache(4, 2);
	struct cache_token_answer answer;
	struct cache_stats stats;
	struct gate gate;

	(void)state;
	gate_init(&gate, CACHE_TOKEN_VALID);
	for (int i = 0; i < 100; i++)
		assert_int_equal(start(cache, &gate, "octocat", "ghp_new", &answer),
				 CACHE_START_PENDING);
	gate_wait_inside(&gate, 1);
	cache_get_stats(cache, &stats);
	assert_int_equal(stats.checks_in_flight, 1);
	gate_open(&gate);
	wait_results(100);
	assert_int_equal(gate.calls, 1);
	assert_int_equal(results.last.verdict, CACHE_TOKEN_VALID);
	assert_int_equal(results.last.user_id, 42);
	assert_int_equal(start(cache, &gate, "octocat", "ghp_new", &answer), CACHE_START_ANSWERED);
	assert_int_equal(answer.verdict, CACHE_TOKEN_VALID);
	assert_int_equal(answer.user_id, 42);
	assert_int_equal(cache_verify_token(cache, "octocat", "ghp_new", NULL, NULL, NULL),
			 CACHE_TOKEN_VALID);
	cache_destroy(cache);
	gate_destroy(&gate);
}

/* Unknown tokens beyond the bounds are refused at once, without a check. */
static void
test_bounds_in_all_and_per_login(void **state)
{
	struct cache *cache = new_cache(3, 2);
	struct cache_token_answer answer;
	struct cache_stats stats;
	struct gate gate;

	(void)state;
	gate_init(&gate, CACHE_TOKEN_INVALID);
	assert_int_equal(start(cache, &gate, "bob", "ghp_random1", &answer), CACHE_START_PENDING);
	assert_int_equal(start(cache, &gate, "bob", "ghp_random2", &answer), CACHE_START_PENDING);
	/* Bob's bound; another spelling of his login is the same login. */
	assert_int_equal(start(cache, &gate, "bob", "ghp_random3", &answer), CACHE_START_BUSY);
	assert_int_equal(answer.verdict, CACHE_TOKEN_UNKNOWN);
	assert_int_equal(start(cache, &gate, "BoB", "ghp_random4", &answer), CACHE_START_BUSY);
	/* Joining a running check needs no slot. */
	assert_int_equal(start(cache, &gate, "bob", "ghp_random1", &answer), CACHE_START_PENDING);
	assert_int_equal(start(cache, &gate, "carol", "ghp_random5", &answer), CACHE_START_PENDING);
	/* Full in all. */
	assert_int_equal(start(cache, &gate, "dave", "ghp_random6", &answer), CACHE_START_BUSY);
	gate_wait_inside(&gate, 3);
	cache_get_stats(cache, &stats);
	assert_int_equal(stats.checks_in_flight, 3);
	assert_int_equal(stats.checks_refused, 3);
	gate_open(&gate);
	wait_results(4);
	assert_int_equal(gate.calls, 3);
	assert_int_equal(gate.most_inside, 3);
	cache_destroy(cache);
	gate_destroy(&gate);
}

static void
test_slots_come_back(void **state)
{
	struct cache *cache = new_cache(1, 1);
	struct cache_token_answer answer;
	struct cache_stats stats;
	struct gate gate;
	int done;

	(void)state;
	gate_init(&gate, CACHE_TOKEN_INVALID);
	gate_open(&gate);
	for (int i = 0; i < 20; i++) {
		char token[32];
		enum cache_start started;

		snprintf(token, sizeof(token), "ghp_token_%d", i);
		/* The slot is given back just after the callbacks: retry briefly. */
		do {
			started = start(cache, &gate, "bob", token, &answer);
			if (started == CACHE_START_BUSY)
				usleep(1000);
		} while (started == CACHE_START_BUSY);
		assert_int_equal(started, CACHE_START_PENDING);
		wait_results(i + 1);
	}
	pthread_mutex_lock(&results.lock);
	done = results.count;
	pthread_mutex_unlock(&results.lock);
	assert_int_equal(done, 20);
	assert_int_equal(gate.most_inside, 1);
	cache_stop_checks(cache);
	cache_get_stats(cache, &stats);
	assert_int_equal(stats.checks_in_flight, 0);
	cache_destroy(cache);
	gate_destroy(&gate);
}

/* An SSO refusal carries its detail to every waiter and is never kept; a
 * refusal for the organization is kept like a wrong token. */
static void
test_details_and_what_is_kept(void **state)
{
	struct cache *cache = new_cache(4, 2);
	struct cache_token_answer answer;
	struct gate gate;

	(void)state;
	gate_init(&gate, CACHE_TOKEN_SSO_REQUIRED);
	gate.detail = "https://github.com/orgs/acme/sso?authorization_request=x\n";
	gate_open(&gate);
	assert_int_equal(start(cache, &gate, "bob", "ghp_no_sso", &answer), CACHE_START_PENDING);
	wait_results(1);
	assert_int_equal(results.last.verdict, CACHE_TOKEN_SSO_REQUIRED);
	assert_int_equal(results.last.user_id, 0);
	/* One printable line. */
	assert_string_equal(results.last.detail,
			    "https://github.com/orgs/acme/sso?authorization_request=x?");
	assert_int_equal(start(cache, &gate, "bob", "ghp_no_sso", &answer), CACHE_START_PENDING);
	wait_results(2);
	assert_int_equal(gate.calls, 2);

	gate.verdict = CACHE_TOKEN_NO_ORG_ACCESS;
	gate.detail = NULL;
	assert_int_equal(start(cache, &gate, "erin", "ghp_outsider", &answer), CACHE_START_PENDING);
	wait_results(3);
	assert_int_equal(start(cache, &gate, "erin", "ghp_outsider", &answer),
			 CACHE_START_ANSWERED);
	assert_int_equal(answer.verdict, CACHE_TOKEN_NO_ORG_ACCESS);
	assert_string_equal(answer.detail, "");
	assert_int_equal(gate.calls, 3);
	cache_destroy(cache);
	gate_destroy(&gate);
}

static void *
open_later(void *arg)
{
	usleep(100 * 1000);
	gate_open(arg);
	return NULL;
}

/* Stopping waits for the running check, answers it, and refuses new ones. */
static void
test_stop(void **state)
{
	struct cache *cache = new_cache(4, 2);
	struct cache_token_answer answer;
	struct gate gate;
	pthread_t opener;

	(void)state;
	gate_init(&gate, CACHE_TOKEN_VALID);
	assert_int_equal(start(cache, &gate, "bob", "ghp_a", &answer), CACHE_START_PENDING);
	gate_wait_inside(&gate, 1);
	/* The gate opens while stop waits. */
	assert_int_equal(pthread_create(&opener, NULL, open_later, &gate), 0);
	cache_stop_checks(cache);
	pthread_join(opener, NULL);
	assert_int_equal(results.count, 1);
	assert_int_equal(start(cache, &gate, "bob", "ghp_b", &answer), CACHE_START_BUSY);
	/* A cached answer is still given. */
	assert_int_equal(start(cache, &gate, "bob", "ghp_a", &answer), CACHE_START_ANSWERED);
	cache_destroy(cache);
	gate_destroy(&gate);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_single_flight_without_blocking, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bounds_in_all_and_per_login, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slots_come_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_details_and_what_is_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
	};

	ga_log_setup(GA_LOG_ERROR, GA_LOG_LOGFMT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
