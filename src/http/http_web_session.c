/*
 * http_web_session.c - the web pages' cookies and tokens; see http_web.h.
 *
 * Formats (every MAC is HMAC-SHA256, base64url without padding, compared
 * in constant time; every key is derived from [web] session_key_file for
 * one purpose):
 *
 *   session   1.<user id>.<issued at>.<expires at>.<MAC(session key;
 *             "session", organization, user id, issued at, expires at)>
 *   sign-in   1.<16 random bytes>.<expires at>.<MAC(oauth key; "flow",
 *             nonce, expires at)>; the OAuth state is MAC(oauth key;
 *             "state", nonce) and the PKCE verifier MAC(oauth key;
 *             "verifier", nonce), so neither is stored anywhere
 *   CSRF      MAC(csrf key; "csrf", user id, issued at): one token per
 *             session, which a form carries in its "csrf" field
 *
 * The fields of a MAC are length-prefixed (ga_hmac_fields), so no two
 * different field lists give the same input.
 */
#include "http/http_web.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/http_query.h"

/* Decimal numbers in cookies: at most 18 digits (no overflow). */
#define NUMBER_DIGITS_MAX 18
/* Clock skew tolerated between instances that share the key. */
#define SKEW_SECONDS 60

void
web_base64url(const uint8_t *bytes, size_t len, char *out)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t chunk = (uint32_t)bytes[i] << 16;
		size_t left = len - i;

		if (left > 1)
			chunk |= (uint32_t)bytes[i + 1] << 8;
		if (left > 2)
			chunk |= bytes[i + 2];
		out[o++] = alphabet[(chunk >> 18) & 63];
		out[o++] = alphabet[(chunk >> 12) & 63];
		if (left > 1)
			out[o++] = alphabet[(chunk >> 6) & 63];
		if (left > 2)
			out[o++] = alphabet[chunk & 63];
	}
	out[o] = '\0';
}

static void
derive(const char *secret, const char *label, uint8_t out[GA_HMAC_SIZE])
{
	ga_hmac_sha256(secret, strlen(secret), label, strlen(label), out);
}

void
web_keys_derive(const char *session_key, struct web_keys *keys)
{
	derive(session_key, "ghaccess:v1:web-session", keys->session);
	derive(session_key, "ghaccess:v1:web-oauth", keys->oauth);
	derive(session_key, "ghaccess:v1:web-csrf", keys->csrf);
}

const char *
web_session_cookie_name(bool secure)
{
	/* __Host-: only this host may set it (no Domain), over HTTPS, Path=/. */
	return secure ? "__Host-ghaccess_session" : "ghaccess_session";
}

const char *
web_oauth_cookie_name(bool secure)
{
	return secure ? "__Host-ghaccess_signin" : "ghaccess_signin";
}

bool
web_cookie_get(const char *header, const char *name, char *out, size_t size)
{
	size_t name_len = strlen(name);
	bool found = false;
	const char *p = header;

	out[0] = '\0';
	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ';');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		if (len > name_len && strncmp(p, name, name_len) == 0 && p[name_len] == '=') {
			size_t value_len = len - name_len - 1;

			while (value_len > 0 && (p[name_len + 1 + value_len - 1] == ' ' ||
						 p[name_len + 1 + value_len - 1] == '\t'))
				value_len--;
			if (found || value_len >= size) {
				out[0] = '\0';
				return false;
			}
			memcpy(out, p + name_len + 1, value_len);
			out[value_len] = '\0';
			found = true;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return found && out[0] != '\0';
}

/* ---- MACs ------------------------------------------------------------- */

static void
mac_b64(const uint8_t key[GA_HMAC_SIZE], const char *const *fields, size_t count,
	char out[WEB_B64_32 + 1])
{
	size_t lengths[8];
	uint8_t mac[GA_HMAC_SIZE];

	for (size_t i = 0; i < count; i++)
		lengths[i] = strlen(fields[i]);
	ga_hmac_fields(key, GA_HMAC_SIZE, fields, lengths, count, mac);
	web_base64url(mac, sizeof(mac), out);
	explicit_bzero(mac, sizeof(mac));
}

static bool
mac_matches(const char *given, const char *expected)
{
	return ga_secret_equal(given, strlen(given), expected, strlen(expected));
}

/* ---- parsing -------------------------------------------------------- */

/* Split value at '.' into exactly count parts (copied into parts[i],
 * each at most part_size-1 bytes, none empty). */
static bool
split(const char *value, char parts[][WEB_COOKIE_MAX], size_t count)
{
	size_t part = 0;
	size_t used = 0;

	for (const char *c = value;; c++) {
		if (*c == '.' || *c == '\0') {
			if (used == 0 || part >= count)
				return false;
			parts[part++][used] = '\0';
			used = 0;
			if (*c == '\0')
				break;
			continue;
		}
		/* Text after the last expected part is one part too many. */
		if (part >= count || used + 1 >= WEB_COOKIE_MAX)
			return false;
		parts[part][used++] = *c;
	}
	return part == count;
}

/* A positive decimal number without sign, leading zero or excess digits. */
static bool
parse_number(const char *text, long long *out)
{
	size_t len = strlen(text);
	long long value = 0;

	if (len == 0 || len > NUMBER_DIGITS_MAX || text[0] == '0')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		value = value * 10 + (text[i] - '0');
	}
	*out = value;
	return true;
}

static bool
is_base64url(const char *text, size_t len)
{
	if (strlen(text) != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* ---- sessions --------------------------------------------------------- */

static void
session_mac(const struct web_keys *keys, const char *organization, const char *uid,
	    const char *iat, const char *exp, char out[WEB_B64_32 + 1])
{
	const char *fields[] = { "session", organization, uid, iat, exp };

	mac_b64(keys->session, fields, 5, out);
}

void
web_session_format(const struct web_keys *keys, const char *organization, long long user_id,
		   long long issued_at, long long expires_at, char out[WEB_COOKIE_MAX])
{
	char uid[24], iat[24], exp[24], mac[WEB_B64_32 + 1];

	snprintf(uid, sizeof(uid), "%lld", user_id);
	snprintf(iat, sizeof(iat), "%lld", issued_at);
	snprintf(exp, sizeof(exp), "%lld", expires_at);
	session_mac(keys, organization, uid, iat, exp, mac);
	snprintf(out, WEB_COOKIE_MAX, "1.%s.%s.%s.%s", uid, iat, exp, mac);
}

bool
web_session_parse(const struct web_keys *keys, const char *organization, const char *value,
		  long long now, int lifetime, long long *user_id, long long *issued_at,
		  long long *expires_at)
{
	char parts[5][WEB_COOKIE_MAX];
	char expected[WEB_B64_32 + 1];
	long long uid, iat, exp;

	if (value == NULL || strlen(value) >= WEB_COOKIE_MAX || !split(value, parts, 5) ||
	    strcmp(parts[0], "1") != 0 || !parse_number(parts[1], &uid) ||
	    !parse_number(parts[2], &iat) || !parse_number(parts[3], &exp) ||
	    !is_base64url(parts[4], WEB_B64_32))
		return false;
	session_mac(keys, organization, parts[1], parts[2], parts[3], expected);
	if (!mac_matches(parts[4], expected))
		return false;
	if (iat > now + SKEW_SECONDS || now >= exp || exp <= iat || exp - iat > lifetime)
		return false;
	*user_id = uid;
	*issued_at = iat;
	*expires_at = exp;
	return true;
}

void
web_csrf_token(const struct web_keys *keys, long long user_id, long long issued_at,
	       char out[WEB_B64_32 + 1])
{
	char uid[24], iat[24];
	const char *fields[] = { "csrf", uid, iat };

	snprintf(uid, sizeof(uid), "%lld", user_id);
	snprintf(iat, sizeof(iat), "%lld", issued_at);
	mac_b64(keys->csrf, fields, 3, out);
}

/* ---- the sign-in flow ------------------------------------------------- */

static void
flow_mac(const struct web_keys *keys, const char *nonce, const char *exp,
	 char out[WEB_B64_32 + 1])
{
	const char *fields[] = { "flow", nonce, exp };

	mac_b64(keys->oauth, fields, 3, out);
}

void
web_flow_format(const struct web_keys *keys, const char nonce[WEB_B64_16 + 1],
		long long expires_at, char out[WEB_COOKIE_MAX])
{
	char exp[24], mac[WEB_B64_32 + 1];

	snprintf(exp, sizeof(exp), "%lld", expires_at);
	flow_mac(keys, nonce, exp, mac);
	snprintf(out, WEB_COOKIE_MAX, "1.%s.%s.%s", nonce, exp, mac);
}

bool
web_flow_parse(const struct web_keys *keys, const char *value, long long now,
	       char nonce[WEB_B64_16 + 1])
{
	char parts[4][WEB_COOKIE_MAX];
	char expected[WEB_B64_32 + 1];
	long long exp;

	nonce[0] = '\0';
	if (value == NULL || strlen(value) >= WEB_COOKIE_MAX || !split(value, parts, 4) ||
	    strcmp(parts[0], "1") != 0 || !is_base64url(parts[1], WEB_B64_16) ||
	    !parse_number(parts[2], &exp) || !is_base64url(parts[3], WEB_B64_32))
		return false;
	flow_mac(keys, parts[1], parts[2], expected);
	if (!mac_matches(parts[3], expected) || now >= exp || exp > now + WEB_FLOW_SECONDS + SKEW_SECONDS)
		return false;
	memcpy(nonce, parts[1], WEB_B64_16 + 1);
	return true;
}

void
web_flow_state(const struct web_keys *keys, const char *nonce, char out[WEB_B64_32 + 1])
{
	const char *fields[] = { "state", nonce };

	mac_b64(keys->oauth, fields, 2, out);
}

void
web_flow_verifier(const struct web_keys *keys, const char *nonce, char out[WEB_B64_32 + 1])
{
	const char *fields[] = { "verifier", nonce };

	mac_b64(keys->oauth, fields, 2, out);
}

void
web_pkce_challenge(const char *verifier, char out[WEB_B64_32 + 1])
{
	uint8_t digest[32];

	ga_sha256(verifier, strlen(verifier), digest);
	web_base64url(digest, sizeof(digest), out);
}

/* ---- forms ---------------------------------------------------------- */

/* scheme://host[:port] of [web] url. */
static size_t
origin_length(const char *url)
{
	const char *host = strstr(url, "://");
	const char *slash = host != NULL ? strchr(host + 3, '/') : NULL;

	return slash != NULL ? (size_t)(slash - url) : strlen(url);
}

static bool
origin_ok(struct http_request *request)
{
	const char *origin = http_request_header(request, "Origin");
	const char *url = service_config(request->service)->web_url;
	size_t len = origin_length(url);

	/* Browsers send Origin with every POST; its absence is an old client
	 * or a non-browser one, which the token alone must then convince. */
	if (origin == NULL)
		return true;
	return strlen(origin) == len && strncasecmp(origin, url, len) == 0;
}

static bool
form_encoded(struct http_request *request)
{
	const char *type = http_request_header(request, "Content-Type");

	return type != NULL && strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0 &&
	       (type[33] == '\0' || type[33] == ';');
}

bool
web_form_check(struct http_request *request, const struct web_session *session)
{
	static const char *const names[] = { "csrf" };
	struct http_param csrf;
	bool ok;

	if (!session->valid || !origin_ok(request) || !form_encoded(request)) {
		web_send_message(request, MHD_HTTP_FORBIDDEN, "Refused",
				 "This form did not come from a page of this site. Reload the page "
				 "and try again.", session->valid ? session : NULL, NULL);
		return false;
	}
	http_query_get(request->body, request->body_len, names, &csrf, 1);
	ok = csrf.state == HTTP_PARAM_VALID &&
	     ga_secret_equal(csrf.value, csrf.len, session->csrf, strlen(session->csrf));
	explicit_bzero(csrf.value, sizeof(csrf.value));
	if (!ok)
		web_send_message(request, MHD_HTTP_FORBIDDEN, "Refused",
				 "This form did not come from a page of this site. Reload the page "
				 "and try again.", session, NULL);
	return ok;
}
