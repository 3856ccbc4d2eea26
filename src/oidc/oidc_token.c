/* oidc_token.c - stateless minted upload tokens (HMAC); see oidc_token.h. */
#include "oidc/oidc_token.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "oidc/oidc_json.h"
#include "util/ga_base64.h"
#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

#define PREFIX_LEN (sizeof(OIDC_TOKEN_PREFIX) - 1)
#define MAC_TEXT_LEN GA_BASE64URL_LEN(GA_HMAC_SIZE)
/* The payload part's longest encoding that still leaves room for the rest. */
#define PAYLOAD_TEXT_MAX (OIDC_TOKEN_MAX - PREFIX_LEN - 1 - MAC_TEXT_LEN - 1)
#define PAYLOAD_MAX GA_BASE64URL_DECODED_MAX(PAYLOAD_TEXT_MAX)

static void
derive_key(const char *key, uint8_t out[GA_HMAC_SIZE])
{
	static const char label[] = "ghaccess:v1:trusted-publishing";

	ga_hmac_sha256(key, strlen(key), label, sizeof(label) - 1, out);
}

static void
mac_of(const char *key, const char *text, size_t len, uint8_t out[GA_HMAC_SIZE])
{
	uint8_t derived[GA_HMAC_SIZE];

	derive_key(key, derived);
	ga_hmac_sha256(derived, sizeof(derived), text, len, out);
	OPENSSL_cleanse(derived, sizeof(derived));
}

bool
oidc_token_looks_minted(const char *text)
{
	return text != NULL && strncmp(text, OIDC_TOKEN_PREFIX, PREFIX_LEN) == 0;
}

bool
oidc_token_mint(const char *key, const struct oidc_publisher *publisher,
		char out[OIDC_TOKEN_MAX])
{
	json_t *payload = json_pack("{s:i, s:I, s:I, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s}", "v",
				    1, "o", (json_int_t)publisher->organization_id, "r",
				    (json_int_t)publisher->repository_id, "p",
				    publisher->package_digest, "n",
				    publisher->repository, "iat", (json_int_t)publisher->issued_at,
				    "exp", (json_int_t)publisher->expires_at, "w",
				    publisher->workflow, "ref", publisher->ref, "run",
				    publisher->run_id, "a", publisher->actor);
	char *text = payload != NULL ? json_dumps(payload, JSON_COMPACT) : NULL;
	size_t len = text != NULL ? strlen(text) : 0;
	uint8_t mac[GA_HMAC_SIZE];
	size_t o;
	bool ok = text != NULL && GA_BASE64URL_LEN(len) <= PAYLOAD_TEXT_MAX;

	json_decref(payload);
	if (ok) {
		memcpy(out, OIDC_TOKEN_PREFIX, PREFIX_LEN);
		ga_base64url_encode((const uint8_t *)text, len, out + PREFIX_LEN);
		o = strlen(out);
		mac_of(key, out, o, mac);
		out[o++] = '.';
		ga_base64url_encode(mac, sizeof(mac), out + o);
	}
	free(text);	/* style-ok: jansson's allocation */
	return ok;
}

static bool
copy_integer(json_t *payload, const char *name, long long *out)
{
	json_t *value = json_object_get(payload, name);

	if (!json_is_integer(value) || json_integer_value(value) <= 0)
		return false;
	*out = json_integer_value(value);
	return true;
}

/* The authenticated payload's fields. */
static bool
read_payload(const uint8_t *bytes, size_t len, struct oidc_publisher *out)
{
	json_t *payload = json_loadb((const char *)bytes, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *version = json_object_get(payload, "v");
	bool ok = json_is_object(payload) && json_is_integer(version) &&
		  json_integer_value(version) == 1 &&
		  copy_integer(payload, "o", &out->organization_id) &&
		  copy_integer(payload, "r", &out->repository_id) &&
		  copy_integer(payload, "iat", &out->issued_at) &&
		  copy_integer(payload, "exp", &out->expires_at) &&
		  oidc_json_string(payload, "p", out->package_digest, sizeof(out->package_digest)) &&
		  oidc_json_string(payload, "n", out->repository, sizeof(out->repository)) &&
		  oidc_json_string(payload, "w", out->workflow, sizeof(out->workflow)) &&
		  oidc_json_string(payload, "ref", out->ref, sizeof(out->ref)) &&
		  oidc_json_string(payload, "run", out->run_id, sizeof(out->run_id)) &&
		  oidc_json_string(payload, "a", out->actor, sizeof(out->actor));

	json_decref(payload);
	return ok;
}

enum oidc_token_status
oidc_token_verify(const char *key, const char *token, long long now,
		  struct oidc_publisher *out)
{
	size_t len = strnlen(token, OIDC_TOKEN_MAX);
	const char *dot;
	uint8_t mac[GA_HMAC_SIZE];
	uint8_t given[GA_HMAC_SIZE];
	uint8_t payload[PAYLOAD_MAX];
	size_t given_len;
	size_t payload_len;
	bool ok;

	memset(out, 0, sizeof(*out));
	if (!oidc_token_looks_minted(token) || len >= OIDC_TOKEN_MAX || key == NULL)
		return OIDC_TOKEN_MALFORMED;
	dot = memchr(token + PREFIX_LEN, '.', len - PREFIX_LEN);
	if (dot == NULL || strlen(dot + 1) != MAC_TEXT_LEN ||
	    !ga_base64url_decode(dot + 1, MAC_TEXT_LEN, given, sizeof(given), &given_len) ||
	    given_len != sizeof(given))
		return OIDC_TOKEN_MALFORMED;
	mac_of(key, token, (size_t)(dot - token), mac);
	ok = ga_secret_equal(mac, sizeof(mac), given, sizeof(given));
	OPENSSL_cleanse(mac, sizeof(mac));
	if (!ok)
		return OIDC_TOKEN_BAD_MAC;
	/* Authenticated: only this code wrote it, but read it with care all the same. */
	if (!ga_base64url_decode(token + PREFIX_LEN, (size_t)(dot - token) - PREFIX_LEN, payload,
				 sizeof(payload), &payload_len) ||
	    !read_payload(payload, payload_len, out)) {
		memset(out, 0, sizeof(*out));
		return OIDC_TOKEN_MALFORMED;
	}
	/* No instance mints for longer; a longer one is not ours to honour. */
	if (out->expires_at <= out->issued_at || out->expires_at - out->issued_at > 900) {
		memset(out, 0, sizeof(*out));
		return OIDC_TOKEN_MALFORMED;
	}
	if (now >= out->expires_at)
		return OIDC_TOKEN_EXPIRED;
	if (out->issued_at > now + OIDC_TOKEN_SKEW)
		return OIDC_TOKEN_NOT_YET_VALID;
	return OIDC_TOKEN_OK;
}

void
oidc_token_audit_copy(char *out, size_t size, const char *text)
{
	size_t len = strnlen(text, size - 1);

	/* Half a character would make the payload invalid UTF-8. */
	while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80)
		len--;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		out[i] = c < 0x20 || c == 0x7f || c == '"' || c == '\\' ? '?' : (char)c;
	}
	out[len] = '\0';
}

void
oidc_token_package_digest(const char *package_key, char out[33])
{
	uint8_t digest[32];

	ga_sha256(package_key, strlen(package_key), digest);
	ga_hex(digest, 16, out);
}

const char *
oidc_token_status_name(enum oidc_token_status status)
{
	switch (status) {
	case OIDC_TOKEN_OK:
		return "ok";
	case OIDC_TOKEN_MALFORMED:
		return "malformed";
	case OIDC_TOKEN_BAD_MAC:
		return "bad signature";
	case OIDC_TOKEN_EXPIRED:
		return "expired";
	case OIDC_TOKEN_NOT_YET_VALID:
		return "not yet valid";
	}
	return "unknown";
}
