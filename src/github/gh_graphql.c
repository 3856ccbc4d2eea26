/* gh_graphql.c - GraphQL requests with retries, and the reply envelope. */
#include "github/gh_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "github/gh_app.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

void
gh_graphql_reply_init(struct gh_graphql_reply *reply)
{
	memset(reply, 0, sizeof(*reply));
	reply->cost = -1;
	reply->remaining = -1;
	reply->reset_at = -1;
}

void
gh_graphql_reply_free(struct gh_graphql_reply *reply)
{
	for (size_t i = 0; i < reply->error_count; i++) {
		ga_free(reply->errors[i].type);
		ga_free(reply->errors[i].path);
		ga_free(reply->errors[i].message);
	}
	ga_free(reply->errors);
	json_decref(reply->root);
	gh_graphql_reply_init(reply);
}

/* ["organization", "repositories", "nodes", 3] -> "organization.repositories.nodes[3]" */
static enum ga_rc
render_path(const json_t *path, char **out, const char *what, struct ga_err *err)
{
	struct ga_buf text;
	size_t i;
	json_t *element;

	*out = NULL;
	ga_buf_init(&text, 4096);
	json_array_foreach(path, i, element) {
		bool fits;

		if (json_is_integer(element))
			fits = ga_buf_printf(&text, "[%lld]", (long long)json_integer_value(element));
		else if (json_is_string(element))
			fits = ga_buf_printf(&text, "%s%s", i > 0 ? "." : "",
					     json_string_value(element));
		else
			fits = false;
		if (!fits) {
			ga_buf_free(&text);
			return ga_err_set(err, GA_EUPSTREAM, "%s: malformed error path in reply",
					  what);
		}
	}
	*out = ga_buf_steal(&text);
	return GA_OK;
}

/* An optional string member of an error object: "" when absent. */
static enum ga_rc
error_string(const json_t *error, const char *key, char **out, const char *what,
	     struct ga_err *err)
{
	json_t *value = json_object_get(error, key);

	*out = NULL;
	if (value == NULL || json_is_null(value)) {
		*out = ga_strdup("");
		return GA_OK;
	}
	if (!json_is_string(value))
		return ga_err_set(err, GA_EUPSTREAM, "%s: malformed reply: errors[].%s is not a string",
				  what, key);
	*out = ga_strdup(json_string_value(value));
	return GA_OK;
}

static enum ga_rc
parse_error(const json_t *error, struct gh_graphql_error *out, const char *what,
	    struct ga_err *err)
{
	json_t *path = json_object_get(error, "path");
	enum ga_rc rc;

	if (!json_is_object(error))
		return ga_err_set(err, GA_EUPSTREAM, "%s: malformed reply: an error is not an object",
				  what);
	rc = error_string(error, "type", &out->type, what, err);
	if (rc == GA_OK)
		rc = error_string(error, "message", &out->message, what, err);
	if (rc != GA_OK)
		return rc;
	if (path == NULL || json_is_null(path)) {
		out->path = ga_strdup("");
		return GA_OK;
	}
	if (!json_is_array(path))
		return ga_err_set(err, GA_EUPSTREAM, "%s: malformed reply: errors[].path is not an array",
				  what);
	return render_path(path, &out->path, what, err);
}

static enum ga_rc
parse_errors(const json_t *errors, struct gh_graphql_reply *reply, const char *what,
	     struct ga_err *err)
{
	size_t count = json_array_size(errors);

	reply->errors = ga_calloc(count ? count : 1, sizeof(*reply->errors));
	for (size_t i = 0; i < count; i++) {
		enum ga_rc rc = parse_error(json_array_get(errors, i), &reply->errors[i], what, err);

		/* Counted before the check so that a half-filled entry is freed. */
		reply->error_count = i + 1;
		if (rc != GA_OK)
			return rc;
	}
	return GA_OK;
}

static enum ga_rc
parse_rate_limit(struct gh_graphql_reply *reply, const char *what, struct ga_err *err)
{
	json_t *rate_limit;
	const char *reset_at;
	enum ga_rc rc;
	char where[96];

	snprintf(where, sizeof(where), "%s: data", what);
	if (reply->data == NULL || json_object_get(reply->data, "rateLimit") == NULL)
		return GA_OK;
	rc = gh_json_object(reply->data, "rateLimit", true, &rate_limit, where, err);
	if (rc != GA_OK || rate_limit == NULL)
		return rc;
	snprintf(where, sizeof(where), "%s: data.rateLimit", what);
	rc = gh_json_integer(rate_limit, "cost", false, &reply->cost, where, err);
	if (rc == GA_OK)
		rc = gh_json_integer(rate_limit, "remaining", false, &reply->remaining, where, err);
	if (rc == GA_OK)
		rc = gh_json_string(rate_limit, "resetAt", false, &reset_at, where, err);
	if (rc == GA_OK)
		reply->reset_at = gh_app_parse_time(reset_at);
	return rc;
}

enum ga_rc
gh_graphql_parse_reply(const char *text, size_t len, struct gh_graphql_reply *reply,
		       const char *what, struct ga_err *err)
{
	json_t *data;
	json_t *errors;
	enum ga_rc rc;

	gh_graphql_reply_init(reply);
	rc = gh_json_parse(text, len, &reply->root, what, err);
	if (rc != GA_OK)
		return rc;
	if (!json_is_object(reply->root)) {
		rc = ga_err_set(err, GA_EUPSTREAM, "%s: reply is not a JSON object", what);
		goto fail;
	}
	data = json_object_get(reply->root, "data");
	errors = json_object_get(reply->root, "errors");
	if (data != NULL && !json_is_null(data) && !json_is_object(data)) {
		rc = ga_err_set(err, GA_EUPSTREAM, "%s: malformed reply: data is not an object", what);
		goto fail;
	}
	if (errors != NULL && !json_is_null(errors) && !json_is_array(errors)) {
		rc = ga_err_set(err, GA_EUPSTREAM, "%s: malformed reply: errors is not an array", what);
		goto fail;
	}
	reply->data = json_is_object(data) ? data : NULL;
	if (reply->data == NULL && json_array_size(errors) == 0) {
		rc = ga_err_set(err, GA_EUPSTREAM, "%s: reply has neither data nor errors", what);
		goto fail;
	}
	rc = json_is_array(errors) ? parse_errors(errors, reply, what, err) : GA_OK;
	if (rc == GA_OK)
		rc = parse_rate_limit(reply, what, err);
	if (rc == GA_OK)
		return GA_OK;
fail:
	gh_graphql_reply_free(reply);
	return rc;
}

bool
gh_graphql_reply_rate_limited(const struct gh_graphql_reply *reply)
{
	for (size_t i = 0; i < reply->error_count; i++)
		if (strcmp(reply->errors[i].type, "RATE_LIMITED") == 0)
			return true;
	return false;
}

const char *
gh_graphql_describe_error(const struct gh_graphql_error *error, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s: %s", *error->type ? error->type : "error",
		 *error->path ? " at " : "", error->path, error->message);
	return buf;
}

void
gh_session_init(struct gh_session *session, struct gh_client *client,
		struct gh_sync_stats *stats)
{
	session->client = client;
	session->handle = gh_handle_acquire(client);
	session->stats = stats;
	session->last_remaining = -1;
	session->last_cost = -1;
	session->last_reset_at = -1;
}

void
gh_session_free(struct gh_session *session)
{
	gh_handle_release(session->client, session->handle);
	session->handle = NULL;
}

/*
 * Never hammer: when the previous reply said the budget cannot pay for
 * another query of the same cost, wait for the reset before sending.
 */
static enum ga_rc
wait_for_budget(struct gh_session *session, const char *what, struct ga_err *err)
{
	long long cost = session->last_cost > 0 ? session->last_cost : 1;
	long long now = (long long)time(NULL);
	long long wait_ms;
	char seconds[32];

	if (session->last_remaining < 0 || session->last_remaining >= cost ||
	    session->last_reset_at <= now)
		return GA_OK;
	wait_ms = (session->last_reset_at - now + 1) * 1000;
	if (wait_ms > session->client->options.max_rate_limit_wait_ms)
		return ga_err_set(err, GA_ELIMIT,
				  "%s: GitHub rate limit spent (%lld points left); it resets in "
				  "%lld s, longer than the %ld s this client waits",
				  what, session->last_remaining, wait_ms / 1000,
				  session->client->options.max_rate_limit_wait_ms / 1000);
	snprintf(seconds, sizeof(seconds), "%lld", wait_ms / 1000);
	ga_log(GA_LOG_WARN, "GitHub rate limit spent, waiting for the reset", "call", what,
	       "seconds", seconds, (char *)NULL);
	if (session->stats != NULL)
		session->stats->rate_limit_waits++;
	session->last_remaining = -1;
	if (!gh_client_wait(session->client, wait_ms))
		return ga_err_set(err, GA_EUPSTREAM, "%s: cancelled", what);
	return GA_OK;
}

static char *
request_body(const char *query, json_t *variables, int page_size)
{
	json_t *envelope;
	char *body;

	json_object_set_new(variables, "first", json_integer(page_size));
	envelope = json_pack("{s:s, s:O}", "query", query, "variables", variables);
	body = gh_json_dump(envelope);
	json_decref(envelope);
	return body;
}

/* The hourly limit comes only in the x-ratelimit-limit header (the
 * queries ask rateLimit for cost, remaining and resetAt). */
static void
note_budget(struct gh_session *session, const struct gh_graphql_reply *reply,
	    long long limit)
{
	struct gh_sync_stats *stats = session->stats;

	session->last_cost = reply->cost;
	session->last_remaining = reply->remaining;
	session->last_reset_at = reply->reset_at;
	if (stats == NULL)
		return;
	if (reply->cost > 0)
		stats->graphql_points += reply->cost;
	if (reply->remaining >= 0)
		stats->rate_limit_remaining = reply->remaining;
	if (reply->reset_at >= 0)
		stats->rate_limit_reset_at = reply->reset_at;
	if (limit > 0)
		stats->rate_limit_limit = limit;
}

/* GitHub answers 502/504 when a query ran over its time: ask for less. */
static void
shrink_page(struct gh_session *session, const char *what, long status, int *page_size)
{
	if ((status != 502 && status != 504) || *page_size <= GH_MIN_PAGE_SIZE)
		return;
	*page_size /= 2;
	if (*page_size < GH_MIN_PAGE_SIZE)
		*page_size = GH_MIN_PAGE_SIZE;
	if (session->stats != NULL)
		gh_stats_warn(session->stats, "%s: GitHub answered HTTP %ld; page size reduced to %d",
			      what, status, *page_size);
}

/* One try; GA_OK with *outcome telling the retry loop what happened. */
static enum ga_rc
try_once(struct gh_session *session, const char *what, const char *body,
	 struct gh_response *response, struct gh_graphql_reply *reply,
	 enum gh_outcome *outcome, struct ga_err *err)
{
	struct gh_request request = {
		.method = "POST",
		.url = session->client->graphql_url,
		.body = body,
		.what = what,
	};
	enum ga_rc rc = gh_http_once(session->client, session->handle, &request, response, err);

	if (rc != GA_OK)
		return rc;
	if (session->stats != NULL)
		session->stats->graphql_requests++;
	*outcome = gh_http_classify(response);
	if (*outcome != GH_OUTCOME_OK)
		return GA_OK;
	rc = gh_graphql_parse_reply(response->body.data, response->body.len, reply, what, err);
	if (rc != GA_OK)
		return rc;
	if (gh_graphql_reply_rate_limited(reply)) {
		*outcome = GH_OUTCOME_RATE_LIMITED;
		gh_graphql_reply_free(reply);
	}
	return GA_OK;
}

enum ga_rc
gh_graphql_query(struct gh_session *session, const char *name, const char *query,
		 json_t *variables, int *page_size, struct gh_graphql_reply *reply,
		 struct ga_err *err)
{
	struct gh_client *client = session->client;
	struct gh_response response;
	struct gh_retry retry;
	enum gh_outcome outcome = GH_OUTCOME_FAILED;
	char what[64];
	enum ga_rc rc;

	snprintf(what, sizeof(what), "GraphQL %s", name);
	gh_graphql_reply_init(reply);
	rc = wait_for_budget(session, what, err);
	if (rc != GA_OK)
		return rc;
	gh_retry_init(&retry, GH_RETRY_SYNC, client);
	gh_response_init(&response, client->options.max_reply_bytes);
	for (;;) {
		char *body = request_body(query, variables, *page_size);

		rc = try_once(session, what, body, &response, reply, &outcome, err);
		ga_free(body);
		if (rc != GA_OK || outcome == GH_OUTCOME_OK)
			break;
		shrink_page(session, what, response.status, page_size);
		rc = gh_retry_after(client, &retry, outcome, &response, what, session->stats, err);
		if (rc != GA_OK)
			break;
	}
	if (rc == GA_OK)
		note_budget(session, reply, response.ratelimit_limit);
	gh_response_free(&response);
	return rc;
}
