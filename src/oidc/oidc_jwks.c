/* oidc_jwks.c - discovery document and JSON Web Key Set; see oidc_jwks.h. */
#include "oidc/oidc_jwks.h"

#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "util/ga_base64.h"
#include "util/ga_xalloc.h"

/* RSA moduli accepted: 2048 bits (GitHub's) to 8192. */
#define MODULUS_MIN_BYTES 256
#define MODULUS_MAX_BYTES 1024
#define EXPONENT_MAX_BYTES 8

struct jwks_key {
	char *kid;
	EVP_PKEY *key;
};

struct oidc_jwks {
	struct jwks_key keys[OIDC_JWKS_KEYS_MAX];
	size_t count;
};

static json_t *
load_object(const char *text, size_t len)
{
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);

	if (root != NULL && !json_is_object(root)) {
		json_decref(root);
		return NULL;
	}
	return root;
}

static bool
is_http_url(const char *url)
{
	return strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0;
}

enum ga_rc
oidc_discovery_parse(const char *text, size_t len, const char *issuer, char **jwks_uri,
		     struct ga_err *err)
{
	json_t *root = load_object(text, len);
	json_t *claimed = json_object_get(root, "issuer");
	json_t *uri = json_object_get(root, "jwks_uri");
	enum ga_rc rc = GA_OK;

	*jwks_uri = NULL;
	if (root == NULL)
		rc = ga_err_set(err, GA_EPARSE, "discovery document: not a JSON object");
	else if (!json_is_string(claimed) || strcmp(json_string_value(claimed), issuer) != 0)
		rc = ga_err_set(err, GA_EPARSE,
				"discovery document: its issuer is not the configured issuer");
	else if (!json_is_string(uri) || !is_http_url(json_string_value(uri)) ||
		 strlen(json_string_value(uri)) != json_string_length(uri) ||
		 strpbrk(json_string_value(uri), " \t\r\n") != NULL)
		rc = ga_err_set(err, GA_EPARSE, "discovery document: no http(s) jwks_uri");
	else
		*jwks_uri = ga_strdup(json_string_value(uri));
	json_decref(root);
	return rc;
}

/* A base64url member of key decoded into a BIGNUM within max bytes. */
static BIGNUM *
member_number(json_t *key, const char *name, size_t min, size_t max)
{
	json_t *value = json_object_get(key, name);
	uint8_t bytes[MODULUS_MAX_BYTES];
	size_t len;

	if (!json_is_string(value) || json_string_length(value) > GA_BASE64URL_LEN(max) ||
	    !ga_base64url_decode(json_string_value(value), json_string_length(value), bytes,
				 max, &len) ||
	    len < min || len == 0 || bytes[0] == 0)
		return NULL;
	return BN_bin2bn(bytes, (int)len, NULL);
}

/* An RSA public key from n and e (OpenSSL 3's parameter builder). */
static EVP_PKEY *
rsa_key(BIGNUM *n, BIGNUM *e)
{
	OSSL_PARAM_BLD *builder = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *context = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *key = NULL;

	if (builder != NULL && context != NULL &&
	    OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
	    OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_E, e) == 1 &&
	    (params = OSSL_PARAM_BLD_to_param(builder)) != NULL &&
	    EVP_PKEY_fromdata_init(context) == 1 &&
	    EVP_PKEY_fromdata(context, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
		key = NULL;
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(builder);
	EVP_PKEY_CTX_free(context);
	return key;
}

static bool
string_is(json_t *object, const char *name, const char *expected, bool optional)
{
	json_t *value = json_object_get(object, name);

	if (value == NULL)
		return optional;
	return json_is_string(value) && strcmp(json_string_value(value), expected) == 0;
}

/* One entry of "keys": added when it is a usable RS256 key with a new kid. */
static void
add_key(struct oidc_jwks *set, json_t *entry)
{
	json_t *kid = json_object_get(entry, "kid");
	BIGNUM *n;
	BIGNUM *e;
	EVP_PKEY *key;

	if (!json_is_object(entry) || !string_is(entry, "kty", "RSA", false) ||
	    !string_is(entry, "alg", "RS256", true) || !string_is(entry, "use", "sig", true) ||
	    !json_is_string(kid) || json_string_length(kid) == 0 ||
	    json_string_length(kid) >= 128 ||
	    strlen(json_string_value(kid)) != json_string_length(kid))
		return;
	for (size_t i = 0; i < set->count; i++)
		if (strcmp(set->keys[i].kid, json_string_value(kid)) == 0)
			return;
	n = member_number(entry, "n", MODULUS_MIN_BYTES, MODULUS_MAX_BYTES);
	e = member_number(entry, "e", 1, EXPONENT_MAX_BYTES);
	key = n != NULL && e != NULL && BN_is_odd(e) && !BN_is_one(e) ? rsa_key(n, e) : NULL;
	BN_free(n);
	BN_free(e);
	if (key == NULL)
		return;
	set->keys[set->count].kid = ga_strdup(json_string_value(kid));
	set->keys[set->count].key = key;
	set->count++;
}

enum ga_rc
oidc_jwks_parse(const char *text, size_t len, struct oidc_jwks **out, struct ga_err *err)
{
	json_t *root = load_object(text, len);
	json_t *keys = json_object_get(root, "keys");
	struct oidc_jwks *set;

	*out = NULL;
	if (!json_is_array(keys)) {
		json_decref(root);
		return ga_err_set(err, GA_EPARSE, "key set: not an object with a keys array");
	}
	set = ga_calloc(1, sizeof(*set));
	for (size_t i = 0; i < json_array_size(keys) && set->count < OIDC_JWKS_KEYS_MAX; i++)
		add_key(set, json_array_get(keys, i));
	json_decref(root);
	if (set->count == 0) {
		oidc_jwks_free(set);
		return ga_err_set(err, GA_EPARSE, "key set: no RSA signing key usable with RS256");
	}
	*out = set;
	return GA_OK;
}

EVP_PKEY *
oidc_jwks_find(const struct oidc_jwks *set, const char *kid)
{
	for (size_t i = 0; set != NULL && i < set->count; i++)
		if (strcmp(set->keys[i].kid, kid) == 0) {
			EVP_PKEY_up_ref(set->keys[i].key);
			return set->keys[i].key;
		}
	return NULL;
}

size_t
oidc_jwks_count(const struct oidc_jwks *set)
{
	return set != NULL ? set->count : 0;
}

void
oidc_jwks_free(struct oidc_jwks *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->count; i++) {
		ga_free(set->keys[i].kid);
		EVP_PKEY_free(set->keys[i].key);
	}
	ga_free(set);
}
