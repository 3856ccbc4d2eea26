/* gh_http.c - one HTTP exchange with GitHub, and when to try it again. */
#include "github/gh_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/ga_log.h"
#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

/* The rate-limit wait when GitHub names no time: at least a minute, growing. */
#define RATE_LIMIT_FALLBACK_MS (60LL * 1000)

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
	response->ratelimit_remaining = -1;
	response->ratelimit_reset = -1;
	response->transport = CURLE_OK;
	response->too_large = false;
	response->transport_error[0] = '\0';
	response->sso[0] = '\0';
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
		response->ratelimit_remaining = -1;
		response->ratelimit_reset = -1;
		response->sso[0] = '\0';
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
	else if (header_is(line, name_len, "x-ratelimit-remaining"))
		response->ratelimit_remaining = header_integer(value, value_len);
	else if (header_is(line, name_len, "x-ratelimit-reset"))
		response->ratelimit_reset = header_integer(value, value_len);
	else if (header_is(line, name_len, "x-github-sso") && value_len < sizeof(response->sso))
		snprintf(response->sso, sizeof(response->sso), "%.*s", (int)value_len, value);
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

static enum ga_rc
build_headers(struct gh_client *client, const struct gh_request *request,
	      struct curl_slist **headers, struct ga_err *err)
{
	char line[128];

	snprintf(line, sizeof(line), "Accept: %s",
		 request->accept ? request->accept : "application/vnd.github+json");
	*headers = gh_append_header(*headers, line);
	if (!request->anonymous)	/* the web host's OAuth endpoints are not the API */
		*headers = gh_append_header(*headers, "X-GitHub-Api-Version: 2022-11-28");
	*headers = gh_append_header(*headers, client->user_agent);
	if (request->body != NULL) {
		snprintf(line, sizeof(line), "Content-Type: %s",
			 request->content_type ? request->content_type : "application/json");
		*headers = gh_append_header(*headers, line);
		/* No "Expect: 100-continue" round trip before a large query. */
		*headers = gh_append_header(*headers, "Expect:");
	}
	if (request->anonymous)
		return GA_OK;
	if (request->token == NULL)
		return gh_auth_header(client, headers, err);
	if (!gh_token_is_sendable(request->token))
		return ga_err_set(err, GA_EINVAL, "token cannot be sent in a header");
	gh_append_bearer(headers, request->token);
	return GA_OK;
}

static void
set_options(struct gh_client *client, CURL *handle, const struct gh_request *request,
	    struct curl_slist *headers, struct gh_response *response)
{
	const struct config *config = client->config;
	long timeout_ms = request->timeout_ms;

	if (timeout_ms <= 0)
		timeout_ms = (config->http_timeout > 0 ? config->http_timeout : 30) * 1000L;
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
	rc = build_headers(client, request, &headers, err);
	if (rc != GA_OK) {
		free_headers_wiped(headers);
		return rc;
	}
	set_options(client, handle, request, headers, response);
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
gh_retry_init(struct gh_retry *retry)
{
	retry->attempts = 0;
	retry->rate_limit_waits = 0;
	retry->fallback_wait_ms = RATE_LIMIT_FALLBACK_MS;
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

static enum ga_rc
wait_for_backoff(struct gh_client *client, struct gh_retry *retry,
		 const struct gh_response *response, const char *what,
		 struct gh_sync_stats *stats, struct ga_err *err)
{
	char problem[GA_ERR_MESSAGE_MAX / 2];
	char wait_text[32];
	long long wait_ms;

	gh_http_describe(response, problem, sizeof(problem));
	if (++retry->attempts >= client->options.max_attempts)
		return ga_err_set(err, GA_EUPSTREAM, "%s: %s (after %d tries)", what, problem,
				  retry->attempts);
	wait_ms = gh_backoff_ms(&client->options, retry->attempts);
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
		return wait_for_rate_limit(client, retry, response, what, stats, err);
	case GH_OUTCOME_TRANSIENT:
		return wait_for_backoff(client, retry, response, what, stats, err);
	case GH_OUTCOME_FAILED:
		break;
	}
	gh_http_describe(response, problem, sizeof(problem));
	/* Only the client's own requests retry here: a 401 refused its
	 * credential (an App then mints a new token next time). */
	if (response->status == 401) {
		gh_client_credential_refused(client);
		return ga_err_set(err, GA_EDENIED, "%s: GitHub refused the token (%s)", what,
				  problem);
	}
	return ga_err_set(err, GA_EUPSTREAM, "%s: %s", what, problem);
}
