/*
 * http_oidc.c - trusted publishing's endpoints, as PyPI serves them and
 * pypa/gh-action-pypi-publish and uv call them (warehouse/oidc/views.py):
 *
 *   GET  /_/oidc/audience            200 {"audience": "<[trusted_publishing] audience>"}
 *   POST /_/oidc/mint-token          {"token": "<GitHub Actions ID token>"} ->
 *   POST /_/oidc/github/mint-token     200 {"success": true, "token": "...", "expires": T}
 *                                      422 {"message": "Token request failed",
 *                                           "errors": [{"code", "description"}, ...]}
 *                                      503 the same shape, with Retry-After, when the
 *                                          issuer's keys or the snapshot are missing
 *
 * The clients find these at the host of the upload URL (the action builds
 * https://{netloc}/_/oidc/..., uv {scheme}://{authority}/_/oidc/...), so
 * ghaccess must be reachable at the root of that host.  Off (404, which the
 * action reports as "does not indicate trusted publishing support") unless
 * [trusted_publishing] enabled.  The decision is oidc_mint() (oidc_mint.h);
 * the issuer's keys are cached in this front end's state (oidc_keys.h) and
 * fetched through the GitHub client's transport.  Every mint is an audit
 * line and counted in ghaccess_trusted_publishing_mints_total.  The
 * ID token's jti is claimed once in the service's cache (cache_claim_once):
 * a second exchange of one token is refused (invalid-reuse-token) on every
 * instance that shares memcached.
 */
#include "http/http.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "github/github.h"
#include "oidc/oidc_keys.h"
#include "oidc/oidc_mint.h"
#include "util/ga_log.h"
#include "util/ga_metrics.h"
#include "util/ga_xalloc.h"

/* An ID token is about 1.5 KB; the body is {"token": "..."}. */
#define MINT_BODY_MAX (32 * 1024)

static bool
oidc_enabled(const struct config *config)
{
	return config->tp_enabled;
}

static enum ga_rc
oidc_start(const struct config *config, void **state, struct ga_err *err)
{
	(void)config;
	(void)err;
	*state = oidc_keys_create();
	return GA_OK;
}

static void
oidc_stop(void *state)
{
	oidc_keys_destroy(state);
}

/* A reload may have turned it off: answer as if the route did not exist. */
static bool
still_enabled(struct http_request *request)
{
	if (service_config(request->service)->tp_enabled)
		return true;
	http_respond(request, MHD_HTTP_NOT_FOUND, NULL, "{\"message\":\"Not Found\"}\n",
		     strlen("{\"message\":\"Not Found\"}\n"), HTTP_BODY_STATIC);
	return false;
}

static void
handle_audience(struct http_request *request)
{
	json_t *body;
	char *text;

	if (!still_enabled(request))
		return;
	body = json_pack("{s:s}", "audience", service_config(request->service)->tp_audience);
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	http_respond(request, MHD_HTTP_OK, NULL, text, strlen(text), HTTP_BODY_COPY);
	free(text);	/* style-ok: jansson's allocation */
}

/* The GitHub transport, for oidc_keys. */
static enum ga_rc
fetch_with_github(void *context, const char *url, size_t max, char **body, size_t *len,
		  struct ga_err *err)
{
	return gh_fetch_public(context, url, max, body, len, err);
}

static void
free_wiped(void *text)
{
	OPENSSL_cleanse(text, strlen(text));
	ga_free(text);
}

/* Send body (json, taken) with status; never cached anywhere. */
static void
respond_json(struct http_request *request, unsigned status, json_t *body)
{
	char *dumped = json_dumps(body, JSON_COMPACT);
	char *text = ga_asprintf("%s\n", dumped != NULL ? dumped : "{}");
	struct MHD_Response *response;

	if (dumped != NULL) {
		OPENSSL_cleanse(dumped, strlen(dumped));
		free(dumped);	/* style-ok: jansson's allocation */
	}
	json_decref(body);
	response = MHD_create_response_from_buffer_with_free_callback(strlen(text), text,
								      free_wiped);
	if (response == NULL) {
		free_wiped(text);
		http_respond_error(request, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(response, MHD_HTTP_HEADER_RETRY_AFTER, "60");
	http_respond_shared(request, status, response);
	MHD_destroy_response(response);
}

static json_t *
errors_json(const struct oidc_mint_result *result)
{
	json_t *errors = json_array();

	for (size_t i = 0; i < result->error_count; i++)
		json_array_append_new(errors, json_pack("{s:s, s:s}", "code",
							result->errors[i].code, "description",
							result->errors[i].description));
	return json_pack("{s:s, s:o}", "message", "Token request failed", "errors", errors);
}

static void
refuse_payload(struct http_request *request, const char *description)
{
	struct oidc_mint_result result = { .status = OIDC_MINT_REFUSED, .error_count = 1 };

	result.errors[0].code = "invalid-payload";
	snprintf(result.errors[0].description, sizeof(result.errors[0].description), "%s",
		 description);
	ga_metrics_counter_add(
		ga_metrics_counter(service_metrics(request->service),
				   "ghaccess_trusted_publishing_mints_total",
				   "Trusted publishing token requests, by result and code.", "result",
				   "refused", "code", "invalid-payload", (char *)NULL),
		1);
	http_request_note_decision(request, false);
	ga_log(GA_LOG_INFO, "audit", "action", "mint", "user", "-", "decision", "deny", "reason",
	       "invalid-payload", "via", "trusted-publishing", (char *)NULL);
	respond_json(request, 422, errors_json(&result));
}

/* The audit line and the counter of one mint (nothing secret in either). */
static void
record_mint(struct http_request *request, const struct oidc_mint_result *result)
{
	const struct oidc_publisher *publisher = &result->publisher;
	const char *outcome = result->status == OIDC_MINT_OK	       ? "ok"
			      : result->status == OIDC_MINT_REFUSED ? "refused"
								      : "unavailable";
	char codes[256] = "";
	char repository_id[24] = "";

	for (size_t i = 0; i < result->error_count; i++)
		snprintf(codes + strlen(codes), sizeof(codes) - strlen(codes), "%s%s",
			 i > 0 ? "," : "", result->errors[i].code);
	ga_metrics_counter_add(
		ga_metrics_counter(service_metrics(request->service),
				   "ghaccess_trusted_publishing_mints_total",
				   "Trusted publishing token requests, by result and code.", "result",
				   outcome, "code",
				   result->error_count > 0 ? result->errors[0].code : "ok",
				   (char *)NULL),
		1);
	http_request_note_decision(request, result->status == OIDC_MINT_OK);
	if (result->jti_local_only)
		ga_metrics_counter_add(
			ga_metrics_counter(service_metrics(request->service),
					   "ghaccess_trusted_publishing_unshared_claims_total",
					   "Mints whose ID token (jti) was claimed in this instance's "
					   "memory only: memcached could not take the claim.",
					   (char *)NULL),
			1);
	if (publisher->repository_id > 0)
		snprintf(repository_id, sizeof(repository_id), "%lld", publisher->repository_id);
	ga_log(GA_LOG_INFO, "audit", "action", "mint", "user", "-", "decision",
	       result->status == OIDC_MINT_OK ? "allow" : "deny", "reason",
	       codes[0] ? codes : "ok", "via", "trusted-publishing", "repository",
	       publisher->repository[0] ? publisher->repository : "-", "repository_id",
	       repository_id[0] ? repository_id : "-", "workflow",
	       publisher->workflow[0] ? publisher->workflow : "-", "ref",
	       publisher->ref[0] ? publisher->ref : "-", "run_id",
	       publisher->run_id[0] ? publisher->run_id : "-", "actor",
	       publisher->actor[0] ? publisher->actor : "-", "environment",
	       result->environment[0] ? result->environment : "-", "event",
	       result->event_name[0] ? result->event_name : "-", "package",
	       result->package ? result->package : "-", "jti_claim",
	       result->status != OIDC_MINT_OK ? "-" : result->jti_local_only ? "local" : "ok",
	       (char *)NULL);
}

static void
handle_mint(struct http_request *request)
{
	const struct service_view *view;
	struct oidc_fetcher fetcher = { .fetch = fetch_with_github,
					.context = service_github(request->service) };
	struct oidc_mint_input input = { .now = (long long)time(NULL),
					 .config = service_config(request->service),
					 .keys = request->frontend_state,
					 .fetcher = &fetcher,
					 .cache = service_cache(request->service) };
	struct oidc_mint_result *result;
	json_t *body;
	json_t *token;

	if (!still_enabled(request))
		return;
	body = json_loadb(request->body ? request->body : "", request->body_len,
			  JSON_REJECT_DUPLICATES, NULL);
	token = json_object_get(body, "token");
	if (!json_is_object(body) || !json_is_string(token) || json_string_length(token) == 0) {
		json_decref(body);
		refuse_payload(request, "the body must be a JSON object {\"token\": \"<ID token>\"}");
		return;
	}
	view = http_request_view(request);
	input.snapshot = view != NULL ? service_view_snapshot(view) : NULL;
	input.token = json_string_value(token);
	input.token_len = json_string_length(token);
	result = ga_malloc(sizeof(*result));
	oidc_mint(&input, result);
	json_decref(body);
	record_mint(request, result);
	if (result->status == OIDC_MINT_OK)
		respond_json(request, MHD_HTTP_OK,
			     json_pack("{s:b, s:s, s:I}", "success", 1, "token", result->token,
				       "expires", (json_int_t)result->publisher.expires_at));
	else
		respond_json(request,
			     result->status == OIDC_MINT_REFUSED ? 422
								 : MHD_HTTP_SERVICE_UNAVAILABLE,
			     errors_json(result));
	oidc_mint_result_wipe(result);
	ga_free(result);
}

static const struct http_route oidc_routes[] = {
	{ .path = "/_/oidc/audience", .methods = HTTP_GET | HTTP_HEAD, .handle = handle_audience },
	{ .path = "/_/oidc/mint-token", .methods = HTTP_POST, .handle = handle_mint },
	{ .path = "/_/oidc/github/mint-token", .methods = HTTP_POST, .handle = handle_mint },
	{ .path = NULL },
};

const struct http_frontend http_oidc_frontend = {
	.name = "oidc",
	.routes = oidc_routes,
	.backend_auth = false,
	.max_body = MINT_BODY_MAX,
	.derivation = NULL,
	.enabled = oidc_enabled,
	.start = oidc_start,
	.stop = oidc_stop,
	.stream = NULL,
};
