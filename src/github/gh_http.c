/*
 * gh_http.c - the transport: every request to GitHub, and when to try it
 * again; see gh_internal.h and docs/internals/github-client.md.
 *
 * Written once here, for GraphQL, the REST calls of a sync, polls, the
 * App's JWT calls, token checks and the web sign-in: the headers and the
 * credential, timeouts, protocols (http and https, no redirects), the
 * reply cap, the rate-limit headers, what an answer means, the retry
 * policies and their waits, and cancellation (gh_client_cancel ends a
 * transfer in progress as well as a wait).
 */
#include "github/gh_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/ga_clock.h"
#include "util/ga_log.h"
#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

/* The rate-limit wait when GitHub names no time: at least a minute, growing. */
#define RATE_LIMIT_FALLBACK_MS (60LL * 1000)
/* GH_RETRY_QUICK: the one quick retry waits this long, and only when this
 * much time is left. */
#define QUICK_RETRY_MS 100
#define QUICK_MIN_TRY_MS 250
/* GH_RETRY_APP: the waits before the second and third tries. */
#define APP_ATTEMPTS 3
static const long app_waits_ms[APP_ATTEMPTS - 1] = {250, 1000};
/* A JWT is about 600 characters with a 2048-bit key. */
#define JWT_MAX 8192

void
gh_response_init(struct gh_response *response, size_t max_body)
{
	memset(response, 0, sizeof(*response));
	ga_buf_init(&response->body, max_body);
	gh_response_reset(response);
}

void
gh_response_reset(struct gh_response *response)
{
	ga_buf_reset(&response->body);
	response->status = 0;
	response->retry_after_s = -1;
	response->ratelimit_limit = -1;
	response->ratelimit_remaining = -1;
	response->ratelimit_reset = -1;
	response->transport = CURLE_OK;
	response->too_large = false;
	response->transport_error[0] = '\0';
	response->sso[0] = '\0';
	response->etag[0] = '\0';
}

void
gh_response_free(struct gh_response *response)
{
	ga_buf_free(&response->body);
}

static size_t
on_body(char *data, size_t size, size_t count, void *context)
{
	struct gh_response *response = context;
	size_t len = size * count;

	if (!ga_buf_append(&response->body, data, len)) {
		response->too_large = true;
		return 0;	/* makes libcurl stop with CURLE_WRITE_ERROR */
	}
	return len;
}

/* A header value as a non-negative integer; -1 when it is not one. */
static long long
header_integer(const char *value, size_t len)
{
	long long result = 0;

	if (len == 0 || len > 18)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (value[i] < '0' || value[i] > '9')
			return -1;
		result = result * 10 + (value[i] - '0');
	}
	return result;
}

/* retry-after is seconds or an HTTP date. */
static long long
retry_after_seconds(const char *value, size_t len)
{
	char date[64];
	time_t when;
	long long seconds = header_integer(value, len);

	if (seconds >= 0 || len >= sizeof(date))
		return seconds;
	memcpy(date, value, len);
	date[len] = '\0';
	when = curl_getdate(date, NULL);
	if (when < 0)
		return -1;
	seconds = (long long)(when - time(NULL));
	return seconds < 0 ? 0 : seconds;
}

static bool
header_is(const char *line, size_t name_len, const char *name)
{
	return strlen(name) == name_len && strncasecmp(line, name, name_len) == 0;
}

static size_t
on_header(char *line, size_t size, size_t count, void *context)
{
	struct gh_response *response = context;
	size_t len = size * count;
	const char *colon = memchr(line, ':', len);
	const char *value;
	size_t name_len;
	size_t value_len;

	/* A new status line (after "100 Continue") starts a new header set. */
	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		response->retry_after_s = -1;
		response->ratelimit_limit = -1;
		response->ratelimit_remaining = -1;
		response->ratelimit_reset = -1;
		response->sso[0] = '\0';
		response->etag[0] = '\0';
		return len;
	}
	if (colon == NULL)
		return len;
	name_len = (size_t)(colon - line);
	value = colon + 1;
	value_len = len - name_len - 1;
	while (value_len > 0 && (*value == ' ' || *value == '\t')) {
		value++;
		value_len--;
	}
	while (value_len > 0 && (value[value_len - 1] == '\r' || value[value_len - 1] == '\n' ||
				 value[value_len - 1] == ' '))
		value_len--;
	if (header_is(line, name_len, "retry-after"))
		response->retry_after_s = retry_after_seconds(value, value_len);
	else if (header_is(line, name_len, "x-ratelimit-limit"))
		response->ratelimit_limit = header_integer(value, value_len);
	else if (header_is(line, name_len, "x-ratelimit-remaining"))
		response->ratelimit_remaining = header_integer(value, value_len);
	else if (header_is(line, name_len, "x-ratelimit-reset"))
		response->ratelimit_reset = header_integer(value, value_len);
	else if (header_is(line, name_len, "x-github-sso") && value_len < sizeof(response->sso))
		snprintf(response->sso, sizeof(response->sso), "%.*s", (int)value_len, value);
	else if (header_is(line, name_len, "etag") && value_len < sizeof(response->etag))
		snprintf(response->etag, sizeof(response->etag), "%.*s", (int)value_len, value);
	return len;
}

/* The Authorization line must not linger in freed memory. */
static void
free_headers_wiped(struct curl_slist *headers)
{
	for (struct curl_slist *item = headers; item != NULL; item = item->next)
		explicit_bzero(item->data, strlen(item->data));
	curl_slist_free_all(headers);
}

/* A credential the caller made (the App's JWT): printable, no spaces. */
static bool
jwt_is_sendable(const char *jwt)
{
	size_t len = strlen(jwt);

	if (len == 0 || len > JWT_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)jwt[i] <= ' ' || (unsigned char)jwt[i] >= 0x7f)
			return false;
	return true;
}

/* The Authorization line: the request's credential, or the client's own. */
static enum ga_rc
add_credential(struct gh_client *client, const struct gh_request *request,
	       struct curl_slist **headers, struct ga_err *err)
{
	if (request->anonymous)	/* the web host's OAuth endpoints are not the API */
		return GA_OK;
	if (request->jwt != NULL) {
		if (!jwt_is_sendable(request->jwt))
			return ga_err_set(err, GA_EINVAL, "the App's JWT cannot be sent in a header");
		gh_append_bearer(headers, request->jwt);
		return GA_OK;
	}
	if (request->token == NULL)
		return gh_auth_header(client, headers, err);
	if (!gh_token_is_sendable(request->token))
		return ga_err_set(err, GA_EINVAL, "token cannot be sent in a header");
	gh_append_bearer(headers, request->token);
	return GA_OK;
}

static enum ga_rc
build_headers(struct gh_client *client, const struct gh_request *request,
	      struct curl_slist **headers, struct ga_err *err)
{
	char line[GH_ETAG_MAX + 32];

	snprintf(line, sizeof(line), "Accept: %s",
		 request->accept ? request->accept : "application/vnd.github+json");
	*headers = gh_append_header(*headers, line);
	if (!request->anonymous)
		*headers = gh_append_header(*headers, "X-GitHub-Api-Version: 2022-11-28");
	*headers = gh_append_header(*headers, client->user_agent);
	if (request->body != NULL && request->body[0] != '\0') {
		snprintf(line, sizeof(line), "Content-Type: %s",
			 request->content_type ? request->content_type : "application/json");
		*headers = gh_append_header(*headers, line);
		/* No "Expect: 100-continue" round trip before a large query. */
		*headers = gh_append_header(*headers, "Expect:");
	}
	if (request->if_none_match != NULL && request->if_none_match[0] != '\0' &&
	    strlen(request->if_none_match) < GH_ETAG_MAX) {
		snprintf(line, sizeof(line), "If-None-Match: %s", request->if_none_match);
		*headers = gh_append_header(*headers, line);
	}
	return add_credential(client, request, headers, err);
}

static long
try_timeout_ms(const struct gh_client *client)
{
	const struct config *config = client->config;

	return (config->http_timeout > 0 ? config->http_timeout : 30) * 1000L;
}

/* gh_client_cancel() ends a transfer in progress at once (shutdown). */
static int
on_progress(void *context, curl_off_t download_total, curl_off_t downloaded,
	    curl_off_t upload_total, curl_off_t uploaded)
{
	(void)download_total;
	(void)downloaded;
	(void)upload_total;
	(void)uploaded;
	return gh_client_is_cancelled(context) ? 1 : 0;
}

static void
set_options(struct gh_client *client, CURL *handle, const struct gh_request *request,
	    struct curl_slist *headers, struct gh_response *response)
{
	const struct config *config = client->config;
	long timeout_ms = request->timeout_ms;

	if (timeout_ms <= 0)
		timeout_ms = try_timeout_ms(client);
	curl_easy_setopt(handle, CURLOPT_URL, request->url);
	curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(handle, CURLOPT_SHARE, client->share);
	curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(handle, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
			 (config->connect_timeout > 0 ? config->connect_timeout : 10) * 1000L);
	curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(handle, CURLOPT_WRITEDATA, response);
	curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(handle, CURLOPT_HEADERDATA, response);
	curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, response->transport_error);
	curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(handle, CURLOPT_XFERINFODATA, client);
	if (request->body != NULL) {
		curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request->body);
		curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)strlen(request->body));
	} else {
		curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
	}
}

enum ga_rc
gh_http_once(struct gh_client *client, CURL *handle, const struct gh_request *request,
	     struct gh_response *response, struct ga_err *err)
{
	struct curl_slist *headers = NULL;
	enum ga_rc rc;

	gh_response_reset(response);
	if (gh_client_is_cancelled(client))
		return ga_err_set(err, GA_EUPSTREAM, "%s: cancelled",
				  request->what != NULL ? request->what : "GitHub request");
	rc = build_headers(client, request, &headers, err);
	if (rc != GA_OK) {
		free_headers_wiped(headers);
		return rc;
	}
	set_options(client, handle, request, headers, response);
	response->tries++;
	response->transport = curl_easy_perform(handle);
	curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response->status);
	/* The handle must not keep pointers to the freed header list. */
	curl_easy_setopt(handle, CURLOPT_HTTPHEADER, NULL);
	free_headers_wiped(headers);
	return GA_OK;
}

/* GitHub's secondary limits answer 403 with a message and no headers. */
static bool
body_mentions_rate_limit(const struct gh_response *response)
{
	return strcasestr(ga_buf_cstr(&response->body), "rate limit") != NULL;
}

enum gh_outcome
gh_http_classify(const struct gh_response *response)
{
	long status = response->status;

	if (response->too_large)
		return GH_OUTCOME_FAILED;
	if (response->transport != CURLE_OK)
		return GH_OUTCOME_TRANSIENT;
	if (status >= 200 && status < 300)
		return GH_OUTCOME_OK;
	if (status == 429)
		return GH_OUTCOME_RATE_LIMITED;
	if (status == 403 && (response->retry_after_s >= 0 || response->ratelimit_remaining == 0 ||
			      body_mentions_rate_limit(response)))
		return GH_OUTCOME_RATE_LIMITED;
	if (status >= 500 && status < 600)
		return GH_OUTCOME_TRANSIENT;
	return GH_OUTCOME_FAILED;
}

/* GitHub's error bodies are {"message": "..."}; quote it when it is one. */
static const char *
body_message(const struct gh_response *response, char *buf, size_t size)
{
	json_t *root = json_loadb(response->body.data ? response->body.data : "",
				  response->body.len, 0, NULL);
	json_t *message = json_object_get(root, "message");

	buf[0] = '\0';
	if (json_is_string(message))
		snprintf(buf, size, "%s", json_string_value(message));
	json_decref(root);
	return buf;
}

const char *
gh_http_describe(const struct gh_response *response, char *buf, size_t size)
{
	char message[160];

	if (response->too_large)
		snprintf(buf, size, "reply larger than %zu bytes", response->body.max);
	else if (response->transport != CURLE_OK)
		snprintf(buf, size, "%s%s%s%s", curl_easy_strerror(response->transport),
			 response->transport_error[0] ? " (" : "", response->transport_error,
			 response->transport_error[0] ? ")" : "");
	else if (*body_message(response, message, sizeof(message)) != '\0')
		snprintf(buf, size, "HTTP %ld: %s", response->status, message);
	else
		snprintf(buf, size, "HTTP %ld", response->status);
	return buf;
}

void
gh_retry_init(struct gh_retry *retry, enum gh_retry_policy policy,
	      const struct gh_client *client)
{
	retry->policy = policy;
	retry->attempts = 0;
	retry->rate_limit_waits = 0;
	retry->fallback_wait_ms = RATE_LIMIT_FALLBACK_MS;
	retry->deadline_ms = ga_monotonic_ms() + try_timeout_ms(client);
	retry->own_credential = true;
}

long long
gh_backoff_ms(const struct gh_client_options *options, int attempt)
{
	long long window = options->backoff_base_ms;
	uint64_t random;

	for (int i = 1; i < attempt && window < options->backoff_cap_ms; i++)
		window *= 2;
	if (window > options->backoff_cap_ms)
		window = options->backoff_cap_ms;
	if (window <= 0 || options->backoff_without_jitter)
		return window < 0 ? 0 : window;
	/* Full jitter: clients that failed together do not retry together. */
	ga_random_bytes(&random, sizeof(random));
	return (long long)(random % (uint64_t)(window + 1));
}

long long
gh_rate_limit_wait_ms(const struct gh_response *response, long long now_unix,
		      long long fallback_ms)
{
	long long seconds;

	if (response->retry_after_s >= 0) {
		seconds = response->retry_after_s;
	} else if (response->ratelimit_remaining == 0 && response->ratelimit_reset > 0) {
		/* The reset is a whole second: one more covers the rounding. */
		seconds = response->ratelimit_reset - now_unix + 1;
	} else {
		return fallback_ms;
	}
	return (seconds < 1 ? 1 : seconds) * 1000;
}

static enum ga_rc
wait_for_rate_limit(struct gh_client *client, struct gh_retry *retry,
		    const struct gh_response *response, const char *what,
		    struct gh_sync_stats *stats, struct ga_err *err)
{
	const struct gh_client_options *options = &client->options;
	long long wait_ms = gh_rate_limit_wait_ms(response, (long long)time(NULL),
						  retry->fallback_wait_ms);
	char seconds[32];

	retry->fallback_wait_ms *= 2;
	if (++retry->rate_limit_waits > options->max_rate_limit_waits)
		return ga_err_set(err, GA_ELIMIT, "%s: still rate limited after %d waits", what,
				  options->max_rate_limit_waits);
	if (wait_ms > options->max_rate_limit_wait_ms)
		return ga_err_set(err, GA_ELIMIT,
				  "%s: GitHub rate limit reached; it resets in %lld s, longer than "
				  "the %ld s this client waits",
				  what, wait_ms / 1000, options->max_rate_limit_wait_ms / 1000);
	snprintf(seconds, sizeof(seconds), "%lld", (wait_ms + 999) / 1000);
	ga_log(GA_LOG_WARN, "GitHub rate limit reached, waiting", "call", what, "seconds",
	       seconds, (char *)NULL);
	if (stats != NULL)
		stats->rate_limit_waits++;
	if (!gh_client_wait(client, wait_ms))
		return ga_err_set(err, GA_EUPSTREAM, "%s: cancelled", what);
	return GA_OK;
}

/* The tries a policy allows on a transient failure, and the wait before
 * the next one; 0 tries more: the answer is final. */
static bool
next_try(const struct gh_client *client, const struct gh_retry *retry, long long *wait_ms)
{
	switch (retry->policy) {
	case GH_RETRY_SYNC:
		*wait_ms = gh_backoff_ms(&client->options, retry->attempts);
		return retry->attempts < client->options.max_attempts;
	case GH_RETRY_APP:
		if (retry->attempts >= APP_ATTEMPTS)
			return false;
		*wait_ms = app_waits_ms[retry->attempts - 1];
		return true;
	case GH_RETRY_QUICK:
		/* A person waits: once, and only with time left for a try. */
		*wait_ms = QUICK_RETRY_MS;
		return retry->attempts < 2 &&
		       retry->deadline_ms - ga_monotonic_ms() >= QUICK_RETRY_MS + QUICK_MIN_TRY_MS;
	case GH_RETRY_NONE:
		break;
	}
	return false;
}

static enum ga_rc
wait_for_backoff(struct gh_client *client, struct gh_retry *retry,
		 const struct gh_response *response, const char *what,
		 struct gh_sync_stats *stats, struct ga_err *err)
{
	char problem[GA_ERR_MESSAGE_MAX / 2];
	char wait_text[32];
	long long wait_ms = 0;

	gh_http_describe(response, problem, sizeof(problem));
	retry->attempts++;
	if (!next_try(client, retry, &wait_ms))
		return retry->attempts > 1
		       ? ga_err_set(err, GA_EUPSTREAM, "%s: %s (after %d tries)", what, problem,
				    retry->attempts)
		       : ga_err_set(err, GA_EUPSTREAM, "%s: %s", what, problem);
	snprintf(wait_text, sizeof(wait_text), "%lld", wait_ms);
	ga_log(GA_LOG_WARN, "GitHub request failed, retrying", "call", what, "problem",
	       problem, "wait_ms", wait_text, (char *)NULL);
	if (stats != NULL)
		stats->retries++;
	if (!gh_client_wait(client, wait_ms))
		return ga_err_set(err, GA_EUPSTREAM, "%s: cancelled", what);
	return GA_OK;
}

enum ga_rc
gh_retry_after(struct gh_client *client, struct gh_retry *retry, enum gh_outcome outcome,
	       const struct gh_response *response, const char *what,
	       struct gh_sync_stats *stats, struct ga_err *err)
{
	char problem[GA_ERR_MESSAGE_MAX / 2];

	if (gh_client_is_cancelled(client))
		return ga_err_set(err, GA_EUPSTREAM, "%s: cancelled", what);
	switch (outcome) {
	case GH_OUTCOME_OK:
		return GA_OK;
	case GH_OUTCOME_RATE_LIMITED:
		/* Only a sync waits; for the others the limit is the answer. */
		if (retry->policy == GH_RETRY_SYNC)
			return wait_for_rate_limit(client, retry, response, what, stats, err);
		break;
	case GH_OUTCOME_TRANSIENT:
		return wait_for_backoff(client, retry, response, what, stats, err);
	case GH_OUTCOME_FAILED:
		break;
	}
	gh_http_describe(response, problem, sizeof(problem));
	if (response->status == 401 && response->transport == CURLE_OK && retry->own_credential) {
		/* The client's own credential was refused: an App mints a new
		 * token next time. */
		gh_client_credential_refused(client);
		return ga_err_set(err, GA_EDENIED, "%s: GitHub refused the token (%s)", what,
				  problem);
	}
	if (response->status == 401 && response->transport == CURLE_OK)
		return ga_err_set(err, GA_EDENIED, "%s: %s", what, problem);
	return ga_err_set(err, GA_EUPSTREAM, "%s: %s", what, problem);
}

/* ---- a whole request -------------------------------------------------- */

enum ga_rc
gh_http_request(struct gh_client *client, CURL *handle, const struct gh_request *request,
		struct gh_response *response, struct gh_sync_stats *stats, struct ga_err *err)
{
	const char *what = request->what != NULL ? request->what : "GitHub request";
	struct gh_request attempt = *request;
	struct gh_retry retry;
	CURL *pooled = NULL;
	enum ga_rc rc;

	gh_retry_init(&retry, request->retry, client);
	retry.own_credential = !request->anonymous && request->token == NULL &&
			       request->jwt == NULL;
	response->tries = 0;
	response->final = false;
	if (handle == NULL)
		handle = pooled = gh_handle_acquire(client);
	for (;;) {
		enum gh_outcome outcome;

		if (retry.policy == GH_RETRY_QUICK) {
			long long left = retry.deadline_ms - ga_monotonic_ms();

			attempt.timeout_ms = (long)(left > 1 ? left : 1);
		}
		rc = gh_http_once(client, handle, &attempt, response, err);
		if (rc != GA_OK)
			break;	/* not sent */
		if (stats != NULL)
			stats->rest_requests++;
		outcome = gh_http_classify(response);
		if (outcome == GH_OUTCOME_OK) {
			response->final = true;
			break;
		}
		rc = gh_retry_after(client, &retry, outcome, response, what, stats, err);
		if (rc != GA_OK) {
			response->final = !gh_client_is_cancelled(client);
			break;
		}
	}
	gh_handle_release(client, pooled);
	return rc;
}

char *
gh_url_escape(const char *text)
{
	char *escaped = curl_easy_escape(NULL, text != NULL ? text : "", 0);
	char *copy;

	if (escaped == NULL) {
		ga_logf(GA_LOG_ERROR, "libcurl: out of memory");
		abort();
	}
	copy = ga_strdup(escaped);
	curl_free(escaped);
	return copy;
}
