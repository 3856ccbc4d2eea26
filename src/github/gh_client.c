/* gh_client.c - client lifetime, options, pooled curl handles and waits. */
#include "github/gh_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/ga_log.h"
#include "util/ga_xalloc.h"

#ifndef GHACCESS_VERSION
#define GHACCESS_VERSION "0.0.0"
#endif

#define DEFAULT_API_URL "https://api.github.com"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void
global_init_once(void)
{
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

	if (rc != CURLE_OK) {
		ga_logf(GA_LOG_ERROR, "libcurl initialisation failed: %s", curl_easy_strerror(rc));
		abort();
	}
}

void
gh_global_init(void)
{
	pthread_once(&global_once, global_init_once);
}

/* GHACCESS_TEST_TIME_SCALE lets test suites that run the binary shorten
 * every wait; only values that shorten are accepted. */
static double
time_scale_from_environment(void)
{
	const char *text = getenv("GHACCESS_TEST_TIME_SCALE");
	char *end;
	double scale;

	if (text == NULL || *text == '\0')
		return 1.0;
	errno = 0;
	scale = strtod(text, &end);
	if (errno != 0 || *end != '\0' || !(scale > 0.0) || scale > 1.0)
		return 1.0;
	return scale;
}

void
gh_client_options_default(struct gh_client_options *options)
{
	memset(options, 0, sizeof(*options));
	options->time_scale = time_scale_from_environment();
	options->max_attempts = 4;
	options->backoff_base_ms = 500;
	options->backoff_cap_ms = 30 * 1000;
	options->backoff_without_jitter = false;
	options->max_rate_limit_wait_ms = 15 * 60 * 1000;
	options->max_rate_limit_waits = 5;
	options->max_reply_bytes = (size_t)64 << 20;
	options->progress = NULL;
	options->progress_context = NULL;
}

static void
share_lock(CURL *handle, curl_lock_data data, curl_lock_access access, void *context)
{
	struct gh_client *client = context;

	(void)handle;
	(void)access;
	pthread_mutex_lock(&client->share_locks[data]);
}

static void
share_unlock(CURL *handle, curl_lock_data data, void *context)
{
	struct gh_client *client = context;

	(void)handle;
	pthread_mutex_unlock(&client->share_locks[data]);
}

/* DNS answers and TLS sessions are shared between the client's handles
 * (safe across threads with the locks); connections are not, because
 * libcurl does not support sharing a connection cache between threads. */
static CURLSH *
share_create(struct gh_client *client)
{
	CURLSH *share = curl_share_init();

	if (share == NULL) {
		ga_logf(GA_LOG_ERROR, "libcurl: cannot create a share handle");
		abort();
	}
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&client->share_locks[i], NULL);
	curl_share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(share, CURLSHOPT_USERDATA, client);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	return share;
}

static char *
graphql_url_of(const struct config *config)
{
	const char *api_url = config->api_url ? config->api_url : DEFAULT_API_URL;

	if (config->graphql_url != NULL && *config->graphql_url != '\0')
		return ga_strdup(config->graphql_url);
	return ga_asprintf("%s/graphql", api_url);
}

struct gh_client *
gh_client_create(const struct config *config, const struct gh_client_options *options)
{
	struct gh_client *client = ga_calloc(1, sizeof(*client));
	pthread_condattr_t attributes;

	gh_global_init();
	client->config = config;
	if (options != NULL)
		client->options = *options;
	else
		gh_client_options_default(&client->options);
	client->user_agent = ga_strdup("User-Agent: ghaccess/" GHACCESS_VERSION);
	client->graphql_url = graphql_url_of(config);
	client->share = share_create(client);
	pthread_mutex_init(&client->lock, NULL);
	pthread_mutex_init(&client->app_lock, NULL);
	/* A monotonic clock, so that setting the wall clock cannot stretch a wait. */
	pthread_condattr_init(&attributes);
	pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
	pthread_cond_init(&client->wake, &attributes);
	pthread_condattr_destroy(&attributes);
	atomic_init(&client->cancelled, false);
	atomic_init(&client->base_permission_warned, false);
	return client;
}

void
gh_client_destroy(struct gh_client *client)
{
	if (client == NULL)
		return;
	for (size_t i = 0; i < client->idle_count; i++)
		curl_easy_cleanup(client->idle[i]);
	curl_share_cleanup(client->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&client->share_locks[i]);
	pthread_cond_destroy(&client->wake);
	pthread_mutex_destroy(&client->lock);
	gh_app_destroy(client->app);
	pthread_mutex_destroy(&client->app_lock);
	ga_free(client->user_agent);
	ga_free(client->graphql_url);
	ga_free(client);
}

void
gh_client_retire(struct gh_client *client)
{
	CURL *idle[GH_IDLE_HANDLES];
	size_t count;

	pthread_mutex_lock(&client->lock);
	client->retired = true;
	count = client->idle_count;
	memcpy(idle, client->idle, count * sizeof(*idle));
	client->idle_count = 0;
	pthread_mutex_unlock(&client->lock);
	/* Closing connections may take a moment: not under the lock. */
	for (size_t i = 0; i < count; i++)
		curl_easy_cleanup(idle[i]);
}

void
gh_client_cancel(struct gh_client *client)
{
	pthread_mutex_lock(&client->lock);
	atomic_store(&client->cancelled, true);
	pthread_cond_broadcast(&client->wake);
	pthread_mutex_unlock(&client->lock);
}

bool
gh_client_is_cancelled(struct gh_client *client)
{
	return atomic_load(&client->cancelled);
}

CURL *
gh_handle_acquire(struct gh_client *client)
{
	CURL *handle = NULL;

	pthread_mutex_lock(&client->lock);
	if (client->idle_count > 0)
		handle = client->idle[--client->idle_count];
	pthread_mutex_unlock(&client->lock);
	if (handle != NULL)
		return handle;
	handle = curl_easy_init();
	if (handle == NULL) {
		ga_logf(GA_LOG_ERROR, "libcurl: cannot create a handle");
		abort();
	}
	return handle;
}

/* The handle keeps its open connections for the next request; its options
 * (which point at the caller's buffers) are reset. */
void
gh_handle_release(struct gh_client *client, CURL *handle)
{
	if (handle == NULL)
		return;
	curl_easy_reset(handle);
	pthread_mutex_lock(&client->lock);
	if (!client->retired && client->idle_count < GH_IDLE_HANDLES) {
		client->idle[client->idle_count++] = handle;
		handle = NULL;
	}
	pthread_mutex_unlock(&client->lock);
	if (handle != NULL)
		curl_easy_cleanup(handle);
}

bool
gh_client_wait(struct gh_client *client, long long ms)
{
	long long scaled = (long long)((double)ms * client->options.time_scale);
	struct timespec deadline;

	if (scaled < 0)
		scaled = 0;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += scaled / 1000;
	deadline.tv_nsec += (scaled % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&client->lock);
	while (!atomic_load(&client->cancelled)) {
		if (pthread_cond_timedwait(&client->wake, &client->lock, &deadline) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&client->lock);
	return !atomic_load(&client->cancelled);
}

bool
gh_token_is_sendable(const char *token)
{
	size_t len = 0;

	if (token == NULL)
		return false;
	for (const unsigned char *p = (const unsigned char *)token; *p != '\0'; p++, len++)
		if (*p <= ' ' || *p >= 0x7f || len >= GH_TOKEN_MAX)
			return false;
	return len > 0;
}

struct curl_slist *
gh_append_header(struct curl_slist *headers, const char *line)
{
	struct curl_slist *appended = curl_slist_append(headers, line);

	if (appended == NULL) {
		ga_logf(GA_LOG_ERROR, "libcurl: out of memory");
		abort();
	}
	return appended;
}

void
gh_append_bearer(struct curl_slist **headers, const char *token)
{
	struct ga_buf line;

	ga_buf_init(&line, 0);
	ga_buf_printf(&line, "Authorization: Bearer %s", token);
	*headers = gh_append_header(*headers, ga_buf_cstr(&line));
	explicit_bzero(line.data, line.len);
	ga_buf_free(&line);
}

/* The client's App, created at first use: reading the key can fail, and
 * gh_client_create cannot. */
static enum ga_rc
client_app(struct gh_client *client, struct gh_app **out, struct ga_err *err)
{
	enum ga_rc rc = GA_OK;

	pthread_mutex_lock(&client->app_lock);
	if (client->app == NULL)
		rc = gh_app_create(client, &client->app, err);
	*out = client->app;
	pthread_mutex_unlock(&client->app_lock);
	return rc;
}

/* A GitHub App's installation token, fetched or refreshed as needed. */
static enum ga_rc
app_auth_header(struct gh_client *client, struct curl_slist **headers, struct ga_err *err)
{
	struct gh_app *app;
	char token[GH_APP_TOKEN_MAX];
	enum ga_rc rc = client_app(client, &app, err);

	if (rc == GA_OK)
		rc = gh_app_token(app, token, sizeof(token), NULL, err);
	if (rc == GA_OK)
		gh_append_bearer(headers, token);
	explicit_bzero(token, sizeof(token));
	return rc;
}

void
gh_client_installation_changed(struct gh_client *client)
{
	pthread_mutex_lock(&client->app_lock);
	if (client->app != NULL)
		gh_app_forget_installation(client->app);
	pthread_mutex_unlock(&client->app_lock);
}

void
gh_client_credential_refused(struct gh_client *client)
{
	pthread_mutex_lock(&client->app_lock);
	if (client->app != NULL)
		gh_app_invalidate(client->app);
	pthread_mutex_unlock(&client->app_lock);
}

enum ga_rc
gh_auth_header(struct gh_client *client, struct curl_slist **headers, struct ga_err *err)
{
	const char *token = client->config->token;

	/* An App, when configured, is the explicit choice: it wins over a
	 * token (which may come from the environment). */
	if (client->config->app_client_id != NULL && *client->config->app_client_id != '\0')
		return app_auth_header(client, headers, err);
	if (!gh_token_is_sendable(token))
		return ga_err_set(err, GA_EINVAL,
				  "no usable GitHub token in the configuration (empty, too long "
				  "or not printable ASCII)");
	gh_append_bearer(headers, token);
	return GA_OK;
}
