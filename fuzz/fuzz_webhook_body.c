/*
 * fuzz_webhook_body.c - a delivery's body as POST /webhook reads it
 * (service_webhook_body_*): the signature header and the declared length
 * when the headers arrive, then the body in pieces of any size, as a
 * hostile client could make libmicrohttpd deliver them, while another
 * delivery competes for the same memory budget.  Contracts:
 *   - a header the one-shot check calls missing or malformed is refused
 *     as UNSIGNED or MALFORMED before anything is held;
 *   - a declared length over max_body is refused before anything is held;
 *     one the budget cannot hold next to the other delivery is BUSY;
 *   - the budget never holds more than max_memory, and exactly what the
 *     live bodies hold; once they are freed it holds nothing;
 *   - a body fed to the end holds exactly the bytes fed, and its streamed
 *     verdict and digest are those of the one-shot HMAC over those bytes;
 *     a body that grew past max_body was refused.
 * Input: line 1 the X-Hub-Signature-256 value ("GOOD" is replaced by the
 * right signature of the body, so that both verdicts are reached), line 2
 * the declared length ("-" for none, a chunked body) and the other
 * delivery's, e.g. "300 4000", then one byte that sets the piece sizes,
 * then the body.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/service_webhook.h"
#include "util/ga_log.h"
#include "util/ga_secret.h"

#define SECRET "fuzz-secret"
#define MAX_BODY 4096
#define MAX_MEMORY 6000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next line of data (at most size - 1 bytes, NUL-terminated) and what follows it. */
static bool
take_line(const uint8_t **data, size_t *left, char *out, size_t size)
{
	const uint8_t *newline = memchr(*data, '\n', *left);
	size_t len;

	if (newline == NULL)
		return false;
	len = (size_t)(newline - *data);
	if (len >= size)
		len = size - 1;
	memcpy(out, *data, len);
	out[len] = '\0';
	*left -= (size_t)(newline + 1 - *data);
	*data = newline + 1;
	return true;
}

/* "-" or junk: -1 (no length); else the number, whatever its size. */
static long long
parse_length(const char *text)
{
	char *end;
	long long value = strtoll(text, &end, 10);

	return end == text || value < 0 ? -1 : value;
}

static void
check_held(struct service_webhook_budget *budget, const struct service_webhook_body *a,
	   const struct service_webhook_body *b)
{
	size_t held = (a ? service_webhook_body_held(a) : 0) + (b ? service_webhook_body_held(b) : 0);

	if (service_webhook_budget_held(budget) != held || held > MAX_MEMORY)
		abort();
}

/* Feed body in pieces of sizes derived from seed; returns the last status. */
static enum service_webhook_body_status
feed(struct service_webhook_budget *budget, struct service_webhook_body *body,
     const struct service_webhook_body *other, const uint8_t *bytes, size_t len, uint8_t seed)
{
	enum service_webhook_body_status status = SERVICE_WEBHOOK_BODY_OK;
	size_t at = 0;

	while (at < len && status == SERVICE_WEBHOOK_BODY_OK) {
		size_t piece = 1 + (size_t)((seed * (at + 7)) % 97) * (seed & 0x0f);

		if (piece > len - at)
			piece = len - at;
		status = service_webhook_body_append(body, bytes + at, piece);
		check_held(budget, body, other);
		at += piece;
	}
	return status;
}

static void
check_verdict(struct service_webhook_body *body, const char *header, const uint8_t *bytes,
	      size_t len)
{
	enum service_webhook_body_status streamed = service_webhook_body_finish(body);
	enum service_webhook_signature once = service_webhook_verify_signature(
		SECRET, strlen(SECRET), bytes, len, header);
	uint8_t digest[GA_HMAC_SIZE];
	const char *kept;
	size_t kept_len;

	kept = service_webhook_body_data(body, &kept_len);
	if (kept_len != len || (len > 0 && memcmp(kept, bytes, len) != 0))
		abort();
	if ((streamed == SERVICE_WEBHOOK_BODY_OK) != (once == SERVICE_WEBHOOK_SIGNATURE_OK))
		abort();
	if (service_webhook_body_verified(body) != (streamed == SERVICE_WEBHOOK_BODY_OK))
		abort();
	ga_hmac_sha256(SECRET, strlen(SECRET), bytes, len, digest);
	if (memcmp(digest, service_webhook_body_digest(body), sizeof(digest)) != 0)
		abort();
}

static void
run(struct service_webhook_budget *budget, const char *header, long long declared,
    long long competing, uint8_t seed, const uint8_t *bytes, size_t len)
{
	const struct service_webhook_body_limits limits = { MAX_BODY, MAX_MEMORY };
	struct service_webhook_body *other = NULL;
	struct service_webhook_body *body = NULL;
	enum service_webhook_signature parsed;
	enum service_webhook_body_status status;
	uint8_t presented[GA_HMAC_SIZE];

	/* Another delivery in flight first: it holds its declared length. */
	(void)service_webhook_body_begin(budget, &limits, SECRET, strlen(SECRET),
					 "sha256=" "00000000000000000000000000000000"
					 "00000000000000000000000000000000",
					 competing, &other);
	check_held(budget, other, NULL);
	status = service_webhook_body_begin(budget, &limits, SECRET, strlen(SECRET), header,
					    declared, &body);
	parsed = service_webhook_parse_signature(header, presented);
	if ((parsed == SERVICE_WEBHOOK_SIGNATURE_MISSING) != (status == SERVICE_WEBHOOK_BODY_UNSIGNED) ||
	    (parsed == SERVICE_WEBHOOK_SIGNATURE_MALFORMED) != (status == SERVICE_WEBHOOK_BODY_MALFORMED))
		abort();
	if (parsed == SERVICE_WEBHOOK_SIGNATURE_OK && declared > MAX_BODY &&
	    status != SERVICE_WEBHOOK_BODY_TOO_LARGE)
		abort();
	if (parsed == SERVICE_WEBHOOK_SIGNATURE_OK && declared >= 0 && declared <= MAX_BODY &&
	    (status == SERVICE_WEBHOOK_BODY_BUSY) !=
		    ((size_t)declared + (other ? service_webhook_body_held(other) : 0) > MAX_MEMORY))
		abort();
	if ((status == SERVICE_WEBHOOK_BODY_OK) != (body != NULL))
		abort();
	check_held(budget, body, other);
	if (body != NULL) {
		status = feed(budget, body, other, bytes, len, seed);
		if (len > MAX_BODY && status == SERVICE_WEBHOOK_BODY_OK)
			abort();
		if (status == SERVICE_WEBHOOK_BODY_OK)
			check_verdict(body, header, bytes, len);
		else if (service_webhook_body_held(body) != 0)
			abort();
		service_webhook_body_free(body);
	}
	service_webhook_body_free(other);
	if (service_webhook_budget_held(budget) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct service_webhook_budget budget;
	static bool set_up;
	char header[160];
	char lengths[64];
	char *space;
	long long declared, competing;
	uint8_t seed;

	if (!set_up) {
		ga_log_setup(GA_LOG_SILENT, GA_LOG_LOGFMT);
		set_up = true;
	}
	if (!take_line(&data, &size, header, sizeof(header)) ||
	    !take_line(&data, &size, lengths, sizeof(lengths)) || size == 0)
		return 0;
	seed = data[0];
	data++;
	size--;
	if (strcmp(header, "GOOD") == 0) {
		uint8_t digest[GA_HMAC_SIZE];

		ga_hmac_sha256(SECRET, strlen(SECRET), data, size, digest);
		memcpy(header, "sha256=", 7);
		ga_hex(digest, GA_HMAC_SIZE, header + 7);
	}
	space = strchr(lengths, ' ');
	competing = space != NULL ? parse_length(space + 1) : -1;
	if (space != NULL)
		*space = '\0';
	declared = strcmp(lengths, "=") == 0 ? (long long)size : parse_length(lengths);
	run(&budget, header[0] != '\0' ? header : NULL, declared, competing, seed, data, size);
	return 0;
}
