/*
 * oidc_jwt.h - a JSON Web Token as GitHub Actions issues its ID tokens:
 * compact JWS (RFC 7515) signed with RS256 (RFC 7518 section 3.3).
 *
 * oidc_jwt_parse() splits header.payload.signature, decodes each part
 * (base64url, strict), and reads the header and the claims with jansson.
 * It accepts only what GitHub sends: "alg": "RS256" (so never "none" nor
 * an HMAC algorithm keyed with a public key), a "kid" to pick the key, no
 * "crit" extension, a JSON object as payload.  Nothing in the claims may be
 * believed before oidc_jwt_verify() says the signature holds.
 *
 * Bounds: a token over OIDC_JWT_MAX bytes is refused unread, a signature
 * over 1024 bytes (RSA 8192) too.
 *
 * A parsed token owns its claims (oidc_jwt_free).  Thread-safe: no shared
 * state.
 */
#ifndef OIDC_JWT_H
#define OIDC_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

/* Longest token looked at; GitHub's ID tokens are about 1.5 KB. */
#define OIDC_JWT_MAX 16384
#define OIDC_KID_MAX 128
#define OIDC_SIGNATURE_MAX 1024

struct oidc_jwt {
	char kid[OIDC_KID_MAX];
	json_t *claims;			/* the payload object (owned), unverified */
	const char *signing_input;	/* header.payload, borrowed from the token */
	size_t signing_input_len;
	uint8_t signature[OIDC_SIGNATURE_MAX];
	size_t signature_len;
};

/*
 * Parse token (len bytes, borrowed: it must outlive *out) into out.  false
 * with a short problem (no secret in it) when it is not such a token; out
 * then holds nothing to free.
 */
bool oidc_jwt_parse(const char *token, size_t len, struct oidc_jwt *out, char *problem,
		    size_t problem_size);

/* true when jwt's signature is RS256 over its signing input under key
 * (an RSA public key). */
bool oidc_jwt_verify(const struct oidc_jwt *jwt, EVP_PKEY *key);

/* Free the claims.  A zeroed or already freed jwt is fine. */
void oidc_jwt_free(struct oidc_jwt *jwt);

#endif
