/* cache_checks.c - the bounded pool that runs cache_verify_token_start's checks. */
#include "cache/cache_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <openssl/crypto.h>

#include "util/ga_limit.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

/*
 * Why a pool.  A token that the cache does not know costs a GitHub call
 * (GET /user, and with verify_token_org_access a second one) of up to
 * [github] timeout.  On a server thread that call would stall every other
 * request of that thread: a few unknown tokens made a logged-in user wait
 * 30 s.  So the HTTP layer suspends the connection and the call runs here.
 *
 * Bounds.  A check is admitted only while fewer than max_total run, and
 * fewer than max_per_login for its login (lower case: GitHub logins are
 * case-insensitive, so "Bob" and "bob" share a bound).  There are never
 * more jobs than admitted checks, hence never more than max_total threads;
 * threads are created on demand and live until the pool stops.  Joining a
 * running check (same login and token) needs no admission: single flight.
 */

#define LOGIN_KEY_MAX 64

struct check_job {
	struct check_job *next;
	uint8_t key[GA_HMAC_SIZE];
	char *username;
	char *token;			/* a copy, wiped when done */
	char login_key[LOGIN_KEY_MAX];	/* the admission key */
	cache_verify_fn verify;
	void *context;
	struct cache_flight *flight;
};

struct cache_checks {
	struct cache *cache;
	struct ga_limit *limit;
	pthread_mutex_t lock;
	pthread_cond_t wake;		/* a job is queued, or stopping */
	struct check_job *head, *tail;
	pthread_t *threads;
	unsigned thread_count;
	unsigned max_threads;
	unsigned idle;			/* threads waiting for a job */
	bool stopping;
	atomic_ullong refused;
};

/* The admission key of username: its lower case.  false when too long
 * (GitHub logins have at most 39 characters; callers check that first). */
static bool
login_key(const char *username, char out[LOGIN_KEY_MAX])
{
	size_t i = 0;

	for (; i < LOGIN_KEY_MAX - 1 && username[i] != '\0'; i++)
		out[i] = (username[i] >= 'A' && username[i] <= 'Z') ? (char)(username[i] + 32)
								    : username[i];
	out[i] = '\0';
	return username[i] == '\0';
}

struct cache_checks *
cache_checks_create(struct cache *cache, unsigned max_total, unsigned max_per_login)
{
	struct cache_checks *checks = ga_calloc(1, sizeof(*checks));

	checks->cache = cache;
	checks->limit = ga_limit_create(max_total, max_per_login, 0);
	checks->max_threads = max_total > 0 ? max_total : 1;
	checks->threads = ga_calloc(checks->max_threads, sizeof(*checks->threads));
	pthread_mutex_init(&checks->lock, NULL);
	pthread_cond_init(&checks->wake, NULL);
	atomic_init(&checks->refused, 0);
	return checks;
}

bool
cache_checks_admit(struct cache_checks *checks, const char *username)
{
	char key[LOGIN_KEY_MAX];
	bool stopping;

	pthread_mutex_lock(&checks->lock);
	stopping = checks->stopping;
	pthread_mutex_unlock(&checks->lock);
	if (!stopping && login_key(username, key) &&
	    ga_limit_take(checks->limit, key, 0) == GA_LIMIT_OK)
		return true;
	atomic_fetch_add(&checks->refused, 1);
	return false;
}

static void
free_job(struct check_job *job)
{
	OPENSSL_cleanse(job->token, strlen(job->token));
	ga_free(job->token);
	ga_free(job->username);
	ga_free(job);
}

/* Lead the job's flight, then give its slot back. */
static void
run_job(struct cache_checks *checks, struct check_job *job)
{
	struct cache_token_answer answer;

	memset(&answer, 0, sizeof(answer));
	cache_lead_flight(checks->cache, job->key, job->username, job->token, job->verify,
			  job->context, job->flight, &answer);
	ga_limit_give(checks->limit, job->login_key, 0);
	free_job(job);
}

static void *
worker_main(void *arg)
{
	struct cache_checks *checks = arg;

	pthread_mutex_lock(&checks->lock);
	for (;;) {
		struct check_job *job = checks->head;

		if (job == NULL) {
			/* Queued jobs are run even when stopping: their
			 * waiters need an answer. */
			if (checks->stopping)
				break;
			checks->idle++;
			pthread_cond_wait(&checks->wake, &checks->lock);
			checks->idle--;
			continue;
		}
		checks->head = job->next;
		if (checks->head == NULL)
			checks->tail = NULL;
		pthread_mutex_unlock(&checks->lock);
		run_job(checks, job);
		pthread_mutex_lock(&checks->lock);
	}
	pthread_mutex_unlock(&checks->lock);
	return NULL;
}

/* Queue job (lock held); start a thread when none is idle.  false when no
 * thread can run it (stopping, or pthread_create failed with none left). */
static bool
enqueue(struct cache_checks *checks, struct check_job *job)
{
	if (checks->stopping)
		return false;
	if (checks->idle == 0 && checks->thread_count < checks->max_threads) {
		int error = pthread_create(&checks->threads[checks->thread_count], NULL,
					   worker_main, checks);

		if (error == 0)
			checks->thread_count++;
		else if (checks->thread_count == 0)
			return false;
		else
			ga_log(GA_LOG_WARN, "token checks: cannot start a thread; the check waits "
			       "for a busy one", (char *)NULL);
	}
	if (checks->tail != NULL)
		checks->tail->next = job;
	else
		checks->head = job;
	checks->tail = job;
	pthread_cond_signal(&checks->wake);
	return true;
}

void
cache_checks_submit(struct cache_checks *checks, const uint8_t key[GA_HMAC_SIZE],
		    const char *username, const char *token, cache_verify_fn verify,
		    void *context, struct cache_flight *flight)
{
	struct check_job *job = ga_calloc(1, sizeof(*job));
	bool queued;

	memcpy(job->key, key, GA_HMAC_SIZE);
	job->username = ga_strdup(username);
	job->token = ga_strdup(token);
	(void)login_key(username, job->login_key);	/* admitted: it fits */
	job->verify = verify;
	job->context = context;
	job->flight = flight;
	pthread_mutex_lock(&checks->lock);
	queued = enqueue(checks, job);
	pthread_mutex_unlock(&checks->lock);
	if (!queued) {
		/* Stopped since the admission: answer "could not tell" now, so
		 * that the flight's waiters (this caller too) get an answer. */
		cache_abandon_flight(checks->cache, flight);
		ga_limit_give(checks->limit, job->login_key, 0);
		free_job(job);
	}
}

void
cache_checks_stop(struct cache_checks *checks)
{
	unsigned count;

	pthread_mutex_lock(&checks->lock);
	checks->stopping = true;
	pthread_cond_broadcast(&checks->wake);
	count = checks->thread_count;
	checks->thread_count = 0;
	pthread_mutex_unlock(&checks->lock);
	for (unsigned i = 0; i < count; i++)
		pthread_join(checks->threads[i], NULL);
}

void
cache_checks_destroy(struct cache_checks *checks)
{
	if (checks == NULL)
		return;
	cache_checks_stop(checks);
	ga_limit_destroy(checks->limit);
	pthread_cond_destroy(&checks->wake);
	pthread_mutex_destroy(&checks->lock);
	ga_free(checks->threads);
	ga_free(checks);
}

unsigned
cache_checks_in_flight(struct cache_checks *checks)
{
	unsigned holders = 0;

	ga_limit_usage(checks->limit, &holders, NULL);
	return holders;
}

unsigned long long
cache_checks_refused(struct cache_checks *checks)
{
	return atomic_load(&checks->refused);
}
