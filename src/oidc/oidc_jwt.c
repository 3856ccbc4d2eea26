/* oidc_jwt.c - compact JWS with RS256, parsed strictly; see oidc_jwt.h. */
#include "oidc/oidc_jwt.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/rsa.h>

#include "util/ga_base64.h"
#include "util/ga_xalloc.h"

/* A header is a few dozen bytes; GitHub's is about 150. */
#define HEADER_MAX 1024

static bool
problem_is(char *problem, size_t size, const char *text)
{
	snprintf(problem, size, "%s", text);
	return false;
}

/* Decode one part into a new JSON object (no duplicate keys). */
static json_t *
decode_object(const char *part, size_t len, size_t max)
{
	uint8_t *bytes;
	size_t bytes_len;
	json_t *object = NULL;

	if (len > GA_BASE64URL_LEN(max))
		return NULL;
	bytes = ga_malloc(GA_BASE64URL_DECODED_MAX(len) + 1);
	if (ga_base64url_decode(part, len, bytes, GA_BASE64URL_DECODED_MAX(len), &bytes_len))
		object = json_loadb((const char *)bytes, bytes_len, JSON_REJECT_DUPLICATES, NULL);
	ga_free(bytes);
	if (object != NULL && !json_is_object(object)) {
		json_decref(object);
		object = NULL;
	}
	return object;
}

/* The header's rules: RS256, a kid, no crit, typ JWT when present. */
static bool
read_header(json_t *header, struct oidc_jwt *out, char *problem, size_t size)
{
	json_t *alg = json_object_get(header, "alg");
	json_t *kid = json_object_get(header, "kid");
	json_t *typ = json_object_get(header, "typ");

	if (!json_is_string(alg) || strcmp(json_string_value(alg), "RS256") != 0)
		return problem_is(problem, size, "the token is not signed with RS256");
	if (json_object_get(header, "crit") != NULL)
		return problem_is(problem, size, "the token's header has a crit extension");
	if (typ != NULL && (!json_is_string(typ) || strcasecmp(json_string_value(typ), "JWT") != 0))
		return problem_is(problem, size, "the token's typ is not JWT");
	if (!json_is_string(kid) || json_string_length(kid) == 0 ||
	    json_string_length(kid) >= sizeof(out->kid) ||
	    strlen(json_string_value(kid)) != json_string_length(kid))
		return problem_is(problem, size, "the token's header names no usable key id (kid)");
	memcpy(out->kid, json_string_value(kid), json_string_length(kid) + 1);
	return true;
}

bool
oidc_jwt_parse(const char *token, size_t len, struct oidc_jwt *out, char *problem,
	       size_t problem_size)
{
	const char *first;
	const char *second;
	json_t *header;
	bool ok;

	memset(out, 0, sizeof(*out));
	if (len > OIDC_JWT_MAX)
		return problem_is(problem, problem_size, "the token is too long");
	first = memchr(token, '.', len);
	second = first != NULL ? memchr(first + 1, '.', len - (size_t)(first + 1 - token)) : NULL;
	if (second == NULL || memchr(second + 1, '.', len - (size_t)(second + 1 - token)) != NULL)
		return problem_is(problem, problem_size,
				  "not a JSON Web Token (header.payload.signature)");
	header = decode_object(token, (size_t)(first - token), HEADER_MAX);
	if (header == NULL)
		return problem_is(problem, problem_size, "the token's header is not a JSON object");
	ok = read_header(header, out, problem, problem_size);
	json_decref(header);
	if (!ok)
		return false;
	out->claims = decode_object(first + 1, (size_t)(second - first - 1), OIDC_JWT_MAX);
	if (out->claims == NULL)
		return problem_is(problem, problem_size, "the token's payload is not a JSON object");
	if (!ga_base64url_decode(second + 1, len - (size_t)(second + 1 - token), out->signature,
				 sizeof(out->signature), &out->signature_len) ||
	    out->signature_len == 0) {
		oidc_jwt_free(out);
		return problem_is(problem, problem_size, "the token's signature is not base64url");
	}
	out->signing_input = token;
	out->signing_input_len = (size_t)(second - token);
	return true;
}

bool
oidc_jwt_verify(const struct oidc_jwt *jwt, EVP_PKEY *key)
{
	EVP_MD_CTX *context;
	EVP_PKEY_CTX *key_context = NULL;
	bool ok = false;

	if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
		return false;
	context = EVP_MD_CTX_new();
	if (context == NULL)
		return false;
	/* RS256 is RSASSA-PKCS1-v1_5 with SHA-256: OpenSSL's default padding
	 * for RSA, set explicitly so that no default can change it. */
	if (EVP_DigestVerifyInit(context, &key_context, EVP_sha256(), NULL, key) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PADDING) == 1)
		ok = EVP_DigestVerify(context, jwt->signature, jwt->signature_len,
				      (const unsigned char *)jwt->signing_input,
				      jwt->signing_input_len) == 1;
	EVP_MD_CTX_free(context);
	return ok;
}

void
oidc_jwt_free(struct oidc_jwt *jwt)
{
	json_decref(jwt->claims);
	jwt->claims = NULL;
}
