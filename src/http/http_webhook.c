/*
 * http_webhook.c - POST /webhook: GitHub organization (or App) webhook deliveries.
 *
 * In this order, and nothing is parsed before the signature holds:
 *   413  Content-Length over [webhook] max_body: refused before the body is
 *        read (a chunked body that grows past it closes the connection);
 *   401  no X-Hub-Signature-256, or one that is not HMAC-SHA256 of the raw
 *        body under [webhook] secret_file (constant-time comparison);
 *   415  signed, but not application/json (GitHub's form encoding);
 *   400  no usable X-GitHub-Event or X-GitHub-Delivery;
 *   409  a delivery id accepted before: a replay.  GitHub's "Redeliver"
 *        reuses the id, and a redelivery of what was processed needs no
 *        second processing, so refusing it loses nothing;
 *   503  the webhook queue is full (the thread is stuck): GitHub shows it;
 *   202  queued: the service's webhook thread classifies the event, applies
 *        a removal at once and asks for a debounced refresh, after this
 *        answer, so GitHub gets it in milliseconds.
 * Without a webhook secret the front end is off (404): an unsigned webhook
 * would let anyone trigger syncs.
 */
#include "http/http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "service/service_webhook.h"
#include "util/ga_buf.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

struct webhook_body {
	struct ga_buf buf;
};

static bool
webhook_enabled(const struct config *config)
{
	return config->webhook_secret != NULL && config->webhook_secret[0] != '\0';
}

static size_t
max_body_of(const struct config *config)
{
	return config->webhook_max_body > 0 ? (size_t)config->webhook_max_body
					    : (size_t)25 << 20;
}

static void
free_body(void *state)
{
	struct webhook_body *body = state;

	if (body == NULL)
		return;
	ga_buf_free(&body->buf);
	ga_free(body);
}

static bool
declared_too_large(struct http_request *request, size_t max)
{
	const char *length = http_request_header(request, MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long declared;
	char *end;

	if (length == NULL)
		return false;
	errno = 0;
	declared = strtoull(length, &end, 10);
	return errno != 0 || *end != '\0' || declared > max;
}

static void
refuse(struct http_request *request, enum service_delivery result, unsigned status,
       const char *message)
{
	service_count_delivery(request->service, result);
	http_respond_error(request, status, message);
}

/* The body, kept up to max_body.  data NULL: the headers have arrived. */
static bool
webhook_stream(struct http_request *request, const char *data, size_t size)
{
	const struct config *config = service_config(request->service);
	struct webhook_body *body = request->state;

	if (data == NULL) {
		if (declared_too_large(request, max_body_of(config))) {
			refuse(request, SERVICE_DELIVERY_TOO_LARGE, MHD_HTTP_CONTENT_TOO_LARGE,
			       "delivery larger than [webhook] max_body");
			return true;
		}
		body = ga_calloc(1, sizeof(*body));
		ga_buf_init(&body->buf, max_body_of(config));
		request->state = body;
		request->free_state = free_body;
		return true;
	}
	if (body == NULL || !ga_buf_append(&body->buf, data, size)) {
		/* Chunked and past the limit: no answer can be sent mid-body. */
		service_count_delivery(request->service, SERVICE_DELIVERY_TOO_LARGE);
		return false;
	}
	return true;
}

static bool
is_json(const char *content_type)
{
	size_t len = strlen("application/json");

	return content_type != NULL && strncasecmp(content_type, "application/json", len) == 0 &&
	       (content_type[len] == '\0' || content_type[len] == ';' || content_type[len] == ' ');
}

static void
handle_webhook(struct http_request *request)
{
	const struct config *config = service_config(request->service);
	struct webhook_body *body = request->state;
	enum service_webhook_signature signature;
	char *payload;
	size_t len;

	if (!webhook_enabled(config) || body == NULL) {
		http_respond_error(request, MHD_HTTP_NOT_FOUND, "webhooks are not configured");
		return;
	}
	signature = service_webhook_verify_signature(
		config->webhook_secret, strlen(config->webhook_secret), body->buf.data,
		body->buf.len, http_request_header(request, "X-Hub-Signature-256"));
	if (signature != SERVICE_WEBHOOK_SIGNATURE_OK) {
		ga_log(GA_LOG_WARN, "webhook refused", "reason",
		       service_webhook_signature_reason(signature), (char *)NULL);
		refuse(request, signature == SERVICE_WEBHOOK_SIGNATURE_MISSING
				       ? SERVICE_DELIVERY_UNSIGNED : SERVICE_DELIVERY_BAD_SIGNATURE,
		       MHD_HTTP_UNAUTHORIZED, service_webhook_signature_reason(signature));
		return;
	}
	if (!is_json(http_request_header(request, MHD_HTTP_HEADER_CONTENT_TYPE))) {
		refuse(request, SERVICE_DELIVERY_MALFORMED, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		       "set the webhook's content type to application/json");
		return;
	}
	len = body->buf.len;
	payload = len > 0 ? ga_buf_steal(&body->buf) : ga_strdup("");
	switch (service_deliver_webhook(request->service,
					http_request_header(request, "X-GitHub-Event"),
					http_request_header(request, "X-GitHub-Delivery"), payload,
					len)) {
	case SERVICE_DELIVERY_ACCEPTED:
		http_respond(request, MHD_HTTP_ACCEPTED, NULL, "{\"status\": \"accepted\"}",
			     strlen("{\"status\": \"accepted\"}"), HTTP_BODY_STATIC);
		break;
	case SERVICE_DELIVERY_DUPLICATE:
		http_respond_error(request, MHD_HTTP_CONFLICT,
				   "duplicate delivery: this X-GitHub-Delivery was accepted before");
		break;
	case SERVICE_DELIVERY_BUSY:
		http_respond_error(request, MHD_HTTP_SERVICE_UNAVAILABLE,
				   "too many deliveries waiting; try again");
		break;
	case SERVICE_DELIVERY_INVALID:
	default:
		http_respond_error(request, MHD_HTTP_BAD_REQUEST,
				   "X-GitHub-Event and X-GitHub-Delivery are required");
		break;
	}
}

static const struct http_route webhook_routes[] = {
	{ .path = "/webhook", .methods = HTTP_POST, .handle = handle_webhook },
	{ .path = NULL },
};

const struct http_frontend http_webhook_frontend = {
	.name = "webhook",
	.routes = webhook_routes,
	.backend_auth = false,
	.max_body = 0,
	.derivation = NULL,
	.enabled = webhook_enabled,
	.stream = webhook_stream,
};
