/*
 * service_webhook_body.c - a delivery's body as it arrives: the memory it
 * may hold and its signature; see service_webhook.h.
 *
 * Why here and not in the HTTP layer: this is the part an unauthenticated
 * client feeds, so it is kept free of libmicrohttpd to be unit-tested and
 * fuzzed alone (fuzz/fuzz_webhook_body.c).
 *
 * Memory.  A body with a declared length takes exactly that from the
 * budget before its first byte is read and allocates it once, at its first
 * byte (a client that declares and sends nothing costs no page).  A body
 * without one (chunked) grows by doubling up to max_body, taking each
 * growth from the budget first.  What is held is what is allocated, so the
 * budget bounds the bytes of every body in flight, whatever the clients
 * declare or send.
 */
#include "service/service_webhook.h"

#include <string.h>

#include "util/ga_xalloc.h"

/* The first allocation of a body of unknown length. */
#define FIRST_CHUNK ((size_t)64 * 1024)

struct service_webhook_body {
	struct service_webhook_budget *budget;
	struct service_webhook_body_limits limits;
	size_t held;			/* taken from the budget */
	char *data;
	size_t len;
	size_t cap;			/* allocated; <= held */
	struct ga_hmac *mac;		/* NULL once finished or failed */
	enum service_webhook_body_status failed;	/* what ended it early, else OK */
	uint8_t presented[GA_HMAC_SIZE];
	uint8_t digest[GA_HMAC_SIZE];
	bool verified;
};

/* ---- the budget ------------------------------------------------------------ */

bool
service_webhook_budget_take(struct service_webhook_budget *budget, size_t bytes, size_t limit)
{
	size_t held = atomic_load(&budget->held);

	do {
		if (bytes > limit || held > limit - bytes)
			return false;
	} while (!atomic_compare_exchange_weak(&budget->held, &held, held + bytes));
	return true;
}

void
service_webhook_budget_give(struct service_webhook_budget *budget, size_t bytes)
{
	atomic_fetch_sub(&budget->held, bytes);
}

size_t
service_webhook_budget_held(struct service_webhook_budget *budget)
{
	return atomic_load(&budget->held);
}

/* ---- the body ---------------------------------------------------------------- */

enum service_webhook_body_status
service_webhook_body_begin(struct service_webhook_budget *budget,
			   const struct service_webhook_body_limits *limits, const char *secret,
			   size_t secret_len, const char *signature, long long declared,
			   struct service_webhook_body **out)
{
	uint8_t presented[GA_HMAC_SIZE];
	struct service_webhook_body *body;

	*out = NULL;
	switch (service_webhook_parse_signature(signature, presented)) {
	case SERVICE_WEBHOOK_SIGNATURE_MISSING:
		return SERVICE_WEBHOOK_BODY_UNSIGNED;
	case SERVICE_WEBHOOK_SIGNATURE_OK:
		break;
	default:
		return SERVICE_WEBHOOK_BODY_MALFORMED;
	}
	if (declared >= 0 && (unsigned long long)declared > limits->max_body)
		return SERVICE_WEBHOOK_BODY_TOO_LARGE;
	if (declared > 0 &&
	    !service_webhook_budget_take(budget, (size_t)declared, limits->max_memory))
		return SERVICE_WEBHOOK_BODY_BUSY;
	body = ga_calloc(1, sizeof(*body));
	body->budget = budget;
	body->limits = *limits;
	body->held = declared > 0 ? (size_t)declared : 0;
	memcpy(body->presented, presented, sizeof(presented));
	body->mac = ga_hmac_sha256_new(secret, secret_len);
	*out = body;
	return SERVICE_WEBHOOK_BODY_OK;
}

/* Stop holding anything: after a refusal the caller only frees the body. */
static enum service_webhook_body_status
fail(struct service_webhook_body *body, enum service_webhook_body_status status)
{
	body->failed = status;
	ga_free(body->data);
	body->data = NULL;
	body->len = body->cap = 0;
	service_webhook_budget_give(body->budget, body->held);
	body->held = 0;
	ga_hmac_free(body->mac);
	body->mac = NULL;
	return status;
}

/* Room for need bytes in all: what was declared, or doubling within max_body. */
static enum service_webhook_body_status
make_room(struct service_webhook_body *body, size_t need)
{
	size_t cap;

	if (need <= body->cap)
		return SERVICE_WEBHOOK_BODY_OK;
	if (need > body->limits.max_body)
		return SERVICE_WEBHOOK_BODY_TOO_LARGE;
	if (need <= body->held) {
		cap = body->held;	/* the declared length, at the first byte */
	} else {
		cap = body->cap > 0 ? body->cap : FIRST_CHUNK;
		while (cap < need)
			cap = cap > body->limits.max_body / 2 ? body->limits.max_body : cap * 2;
		if (cap > body->limits.max_body)
			cap = body->limits.max_body;
		if (!service_webhook_budget_take(body->budget, cap - body->held,
						 body->limits.max_memory))
			return SERVICE_WEBHOOK_BODY_BUSY;
		body->held = cap;
	}
	body->data = ga_realloc(body->data, cap);
	body->cap = cap;
	return SERVICE_WEBHOOK_BODY_OK;
}

enum service_webhook_body_status
service_webhook_body_append(struct service_webhook_body *body, const void *data, size_t len)
{
	enum service_webhook_body_status status;

	if (body->failed != SERVICE_WEBHOOK_BODY_OK)
		return body->failed;
	if (body->mac == NULL)
		return SERVICE_WEBHOOK_BODY_TOO_LARGE;	/* more after the end */
	if (len == 0)
		return SERVICE_WEBHOOK_BODY_OK;
	if (len > body->limits.max_body - body->len)
		return fail(body, SERVICE_WEBHOOK_BODY_TOO_LARGE);
	status = make_room(body, body->len + len);
	if (status != SERVICE_WEBHOOK_BODY_OK)
		return fail(body, status);
	memcpy(body->data + body->len, data, len);
	body->len += len;
	ga_hmac_update(body->mac, data, len);
	return SERVICE_WEBHOOK_BODY_OK;
}

enum service_webhook_body_status
service_webhook_body_finish(struct service_webhook_body *body)
{
	if (body->mac == NULL)
		return SERVICE_WEBHOOK_BODY_MISMATCH;
	ga_hmac_final(body->mac, body->digest);
	ga_hmac_free(body->mac);
	body->mac = NULL;
	body->verified = ga_secret_equal(body->presented, sizeof(body->presented), body->digest,
					 sizeof(body->digest));
	return body->verified ? SERVICE_WEBHOOK_BODY_OK : SERVICE_WEBHOOK_BODY_MISMATCH;
}

bool
service_webhook_body_verified(const struct service_webhook_body *body)
{
	return body != NULL && body->verified;
}

const char *
service_webhook_body_data(const struct service_webhook_body *body, size_t *len)
{
	*len = body->len;
	return body->data != NULL ? body->data : "";
}

const uint8_t *
service_webhook_body_digest(const struct service_webhook_body *body)
{
	return body->digest;
}

size_t
service_webhook_body_held(const struct service_webhook_body *body)
{
	return body->held;
}

void
service_webhook_body_free(struct service_webhook_body *body)
{
	if (body == NULL)
		return;
	fail(body, SERVICE_WEBHOOK_BODY_OK);
	ga_free(body);
}
