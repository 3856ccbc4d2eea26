/*
 * http_webhook.c - POST /webhook: GitHub organization (or App) webhook deliveries.
 *
 * In this order, and nothing is parsed before the signature holds.  When
 * the headers arrive, before any byte of the body is read:
 *   401  no X-Hub-Signature-256, or one that is not "sha256=" and 64 hex
 *        digits: GitHub signs every delivery, so nothing unsigned is read;
 *   413  Content-Length over [webhook] max_body;
 *   503  the memory budget of every delivery in flight ([webhook]
 *        max_memory) cannot hold the declared length now.
 * While the body arrives (service_webhook_body.c holds it within the
 * budget and computes its HMAC as it comes):
 *   a chunked body that grows past max_body, or past what the budget
 *   can hold, and a body still arriving 10 s after its headers (GitHub
 *   gives up on a delivery after 10 s) close the connection: no answer
 *   can be sent in the middle of a body, and the memory is given back.
 * At the end of the body:
 *   401  the HMAC-SHA256 of the raw body under [webhook] secret_file is
 *        not the one presented (constant-time comparison);
 *   415  signed, but not application/json (GitHub's form encoding);
 *   400  no usable X-GitHub-Event or X-GitHub-Delivery;
 *   409  a delivery id accepted before (GitHub's "Redeliver" reuses the id,
 *        and a redelivery of what was processed needs no second
 *        processing), or the same signed body under another id: a replay;
 *   503  the webhook queue is full (the thread is stuck): GitHub shows it;
 *   202  queued: the service's webhook thread classifies the event, applies
 *        a removal at once and asks for a debounced refresh, after this
 *        answer, so GitHub gets it in milliseconds.
 * Without a webhook secret the front end is off (404): an unsigned webhook
 * would let anyone trigger syncs.
 */
#include "http/http.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "service/service_webhook.h"
#include "util/ga_clock.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

/* GitHub ends a delivery that has not been answered within 10 seconds
 * ("Handling webhook deliveries"): a body still arriving after that is not
 * GitHub's, and must not keep its memory any longer. */
#define BODY_DEADLINE_MS 10000
/* [webhook] max_memory when a configuration leaves it at 0. */
#define DEFAULT_MAX_MEMORY ((size_t)64 << 20)

struct webhook_delivery {
	struct service_webhook_body *body;
	long long started_ms;
};

static bool
webhook_enabled(const struct config *config)
{
	return config->webhook_secret != NULL && config->webhook_secret[0] != '\0';
}

static struct service_webhook_body_limits
limits_of(const struct config *config)
{
	struct service_webhook_body_limits limits = {
		.max_body = config->webhook_max_body > 0 ? (size_t)config->webhook_max_body
							 : (size_t)25 << 20,
		.max_memory = config->webhook_max_memory > 0 ? (size_t)config->webhook_max_memory
							     : DEFAULT_MAX_MEMORY,
	};

	return limits;
}

static void
free_delivery(void *state)
{
	struct webhook_delivery *delivery = state;

	if (delivery == NULL)
		return;
	service_webhook_body_free(delivery->body);
	ga_free(delivery);
}

/* The Content-Length, -1 when there is none (chunked), -2 when it is not a number. */
static long long
declared_length(struct http_request *request)
{
	const char *length = http_request_header(request, MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long declared;
	char *end;

	if (length == NULL)
		return -1;
	errno = 0;
	declared = strtoull(length, &end, 10);
	if (errno != 0 || end == length || *end != '\0' || declared > (unsigned long long)LLONG_MAX)
		return -2;
	return (long long)declared;
}

static void
refuse(struct http_request *request, enum service_delivery result, unsigned status,
       const char *message)
{
	service_count_delivery(request->service, result);
	http_respond_error(request, status, message);
}

/* The headers have arrived: refuse what can be refused before the body. */
static bool
webhook_admit(struct http_request *request)
{
	const struct config *config = service_config(request->service);
	struct service_webhook_body_limits limits = limits_of(config);
	const char *signature = http_request_header(request, "X-Hub-Signature-256");
	long long declared = declared_length(request);
	struct webhook_delivery *delivery;
	struct service_webhook_body *body = NULL;

	if (!webhook_enabled(config))
		return true;	/* the handler answers 404 */
	if (declared == -2)
		declared = (long long)limits.max_body + 1;	/* not a length: too large */
	switch (service_webhook_body_begin(service_webhook_budget(request->service), &limits,
					   config->webhook_secret, strlen(config->webhook_secret),
					   signature, declared, &body)) {
	case SERVICE_WEBHOOK_BODY_OK:
		break;
	case SERVICE_WEBHOOK_BODY_UNSIGNED:
		ga_log(GA_LOG_WARN, "webhook refused", "reason", "missing signature", (char *)NULL);
		refuse(request, SERVICE_DELIVERY_UNSIGNED, MHD_HTTP_UNAUTHORIZED,
		       "missing signature");
		return true;
	case SERVICE_WEBHOOK_BODY_TOO_LARGE:
		refuse(request, SERVICE_DELIVERY_TOO_LARGE, MHD_HTTP_CONTENT_TOO_LARGE,
		       "delivery larger than [webhook] max_body");
		return true;
	case SERVICE_WEBHOOK_BODY_BUSY:
		refuse(request, SERVICE_DELIVERY_BUSY, MHD_HTTP_SERVICE_UNAVAILABLE,
		       "too many deliveries in flight; try again");
		return true;
	case SERVICE_WEBHOOK_BODY_MALFORMED:
	case SERVICE_WEBHOOK_BODY_MISMATCH:
	default:
		ga_log(GA_LOG_WARN, "webhook refused", "reason", "malformed signature",
		       (char *)NULL);
		refuse(request, SERVICE_DELIVERY_BAD_SIGNATURE, MHD_HTTP_UNAUTHORIZED,
		       "malformed signature");
		return true;
	}
	delivery = ga_calloc(1, sizeof(*delivery));
	delivery->body = body;
	delivery->started_ms = ga_monotonic_ms();
	request->state = delivery;
	request->free_state = free_delivery;
	return true;
}

/* The body, held within the budget.  data NULL: the headers have arrived. */
static bool
webhook_stream(struct http_request *request, const char *data, size_t size)
{
	struct webhook_delivery *delivery = request->state;
	enum service_webhook_body_status status;

	if (data == NULL)
		return webhook_admit(request);
	if (delivery == NULL)
		return false;	/* not admitted (webhooks off): nothing to keep */
	if (ga_monotonic_ms() - delivery->started_ms > BODY_DEADLINE_MS) {
		ga_log(GA_LOG_WARN, "webhook refused", "reason", "body too slow", (char *)NULL);
		service_count_delivery(request->service, SERVICE_DELIVERY_TOO_SLOW);
		return false;
	}
	status = service_webhook_body_append(delivery->body, data, size);
	if (status == SERVICE_WEBHOOK_BODY_OK)
		return true;
	/* Chunked and past a limit: no answer can be sent mid-body. */
	service_count_delivery(request->service, status == SERVICE_WEBHOOK_BODY_BUSY
							 ? SERVICE_DELIVERY_BUSY
							 : SERVICE_DELIVERY_TOO_LARGE);
	return false;
}

static bool
is_json(const char *content_type)
{
	size_t len = strlen("application/json");

	return content_type != NULL && strncasecmp(content_type, "application/json", len) == 0 &&
	       (content_type[len] == '\0' || content_type[len] == ';' || content_type[len] == ' ');
}

static void
respond_delivered(struct http_request *request, enum service_delivery result)
{
	static const char accepted[] = "{\"status\": \"accepted\"}";

	switch (result) {
	case SERVICE_DELIVERY_ACCEPTED:
		http_respond(request, MHD_HTTP_ACCEPTED, NULL, accepted, sizeof(accepted) - 1,
			     HTTP_BODY_STATIC);
		break;
	case SERVICE_DELIVERY_DUPLICATE:
		http_respond_error(request, MHD_HTTP_CONFLICT,
				   "duplicate delivery: this X-GitHub-Delivery was accepted before");
		break;
	case SERVICE_DELIVERY_REPLAY:
		http_respond_error(request, MHD_HTTP_CONFLICT,
				   "replay: this signed body was accepted before");
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

static void
handle_webhook(struct http_request *request)
{
	const struct config *config = service_config(request->service);
	struct webhook_delivery *delivery = request->state;
	struct service_webhook_body *body;

	if (!webhook_enabled(config) || delivery == NULL) {
		http_respond_error(request, MHD_HTTP_NOT_FOUND, "webhooks are not configured");
		return;
	}
	if (service_webhook_body_finish(delivery->body) != SERVICE_WEBHOOK_BODY_OK) {
		ga_log(GA_LOG_WARN, "webhook refused", "reason",
		       service_webhook_signature_reason(SERVICE_WEBHOOK_SIGNATURE_MISMATCH),
		       (char *)NULL);
		refuse(request, SERVICE_DELIVERY_BAD_SIGNATURE, MHD_HTTP_UNAUTHORIZED,
		       service_webhook_signature_reason(SERVICE_WEBHOOK_SIGNATURE_MISMATCH));
		return;
	}
	if (!is_json(http_request_header(request, MHD_HTTP_HEADER_CONTENT_TYPE))) {
		refuse(request, SERVICE_DELIVERY_MALFORMED, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		       "set the webhook's content type to application/json");
		return;
	}
	body = delivery->body;
	delivery->body = NULL;	/* the service takes it, with its budget */
	respond_delivered(request, service_deliver_webhook(
					   request->service,
					   http_request_header(request, "X-GitHub-Event"),
					   http_request_header(request, "X-GitHub-Delivery"), body));
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
