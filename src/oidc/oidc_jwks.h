/*
 * oidc_jwks.h - an issuer's signing keys: the OpenID Connect discovery
 * document (OpenID Connect Discovery 1.0 section 4) and the JSON Web Key
 * Set it points to (RFC 7517), as GitHub Actions' issuer serves them at
 * {issuer}/.well-known/openid-configuration and its jwks_uri.
 *
 * Both are outside data, parsed strictly with jansson: the discovery
 * document must name exactly the configured issuer (section 4.3: "MUST be
 * identical") and an http(s) jwks_uri; a key set is an object with a "keys"
 * array.  Of its keys only RSA signing keys usable with RS256 are kept
 * ("kty": "RSA", "n" and "e" base64url, 2048 to 8192 bits, "alg" absent or
 * RS256, "use" absent or "sig", a "kid"); others (EC keys, encryption keys)
 * are skipped, not fatal.  A repeated kid keeps the first key.  At most
 * OIDC_JWKS_KEYS_MAX keys are read.
 *
 * A key set is immutable once parsed; keys handed out carry their own
 * reference (EVP_PKEY_free), so a set may be replaced while a token is
 * being verified.  Thread-safe for readers.
 */
#ifndef OIDC_JWKS_H
#define OIDC_JWKS_H

#include <stddef.h>

#include <openssl/evp.h>

#include "util/ga_err.h"

/* Largest discovery document or key set read (GitHub's are under 4 KB). */
#define OIDC_DOCUMENT_MAX (256 * 1024)
#define OIDC_JWKS_KEYS_MAX 64

struct oidc_jwks;

/*
 * The jwks_uri of a discovery document (text, len bytes) whose issuer is
 * exactly issuer.  *jwks_uri is a new string (ga_free).  GA_EPARSE with err
 * for anything else.
 */
enum ga_rc oidc_discovery_parse(const char *text, size_t len, const char *issuer,
				char **jwks_uri, struct ga_err *err);

/* Parse a key set.  GA_EPARSE with err when it is not one, or holds no
 * usable key. */
enum ga_rc oidc_jwks_parse(const char *text, size_t len, struct oidc_jwks **out,
			   struct ga_err *err);

/* The key named kid with a new reference (EVP_PKEY_free), or NULL. */
EVP_PKEY *oidc_jwks_find(const struct oidc_jwks *set, const char *kid);

size_t oidc_jwks_count(const struct oidc_jwks *set);

/* NULL is fine. */
void oidc_jwks_free(struct oidc_jwks *set);

#endif
