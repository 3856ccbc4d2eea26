/*
 * fuzz_oidc.c - trusted publishing's parsers of outside data: the ID token
 * (JWT), the issuer's discovery document and key set (JWKS), the claims
 * of a token that verified, and the minted upload tokens that come back as
 * passwords.  The first byte picks the parser, the rest is its input:
 *
 *   0  a JWT: oidc_jwt_parse; a token that parses has an object as claims
 *      and a kid of 1..127 bytes; its signature never verifies under the
 *      harness's key (the fuzzer cannot forge RS256);
 *   1  a key set: oidc_jwks_parse; at most OIDC_JWKS_KEYS_MAX keys, each
 *      found by its kid;
 *   2  a discovery document for a fixed issuer: the jwks_uri is http(s);
 *   3  a minted token: oidc_token_verify under a fixed key; nothing the
 *      fuzzer writes verifies (no MAC can be found), and a token minted
 *      from the input as claims (through oidc_token_audit_copy, as
 *      oidc_mint does) always fits and verifies to exactly what was minted;
 *   4  the claims of a token: signed here with the issuer's key, so that
 *      oidc_mint reads them as GitHub's and checks every claim against a
 *      small snapshot; a token is minted only for core-lib (id 301), and
 *      the same token is refused the second time (invalid-reuse-token:
 *      each input gets a cache of its own, so that runs stay repeatable).
 *   5  base64url: what decodes re-encodes to exactly the input.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "cache/cache.h"
#include "config/config.h"
#include "oidc/oidc_jwks.h"
#include "oidc/oidc_jwt.h"
#include "oidc/oidc_keys.h"
#include "oidc/oidc_mint.h"
#include "oidc/oidc_token.h"
#include "org/org_snapshot.h"
#include "util/ga_base64.h"
#include "util/ga_buf.h"
#include "util/ga_xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ISSUER "https://token.actions.githubusercontent.com"
#define KEY "fuzz-minting-key-0123456789abcdef0123456789"
#define NOW 1800000000LL

static EVP_PKEY *issuer_key;
static char *jwks;
static struct config *config;
static struct org_snapshot *snapshot;
static struct oidc_keys *keys;

static void
append_b64url(struct ga_buf *out, const void *bytes, size_t len)
{
	char *text = ga_malloc(GA_BASE64URL_LEN(len) + 1);

	ga_base64url_encode(bytes, len, text);
	ga_buf_append_str(out, text);
	ga_free(text);
}

static enum ga_rc
fixed_fetch(void *context, const char *url, size_t max, char **body, size_t *len,
	    struct ga_err *err)
{
	(void)context;
	(void)max;
	(void)err;
	*body = strstr(url, "openid-configuration") != NULL
			? ga_strdup("{\"issuer\":\"" ISSUER "\",\"jwks_uri\":\"https://k/jwks\"}")
			: ga_strdup(jwks);
	*len = strlen(*body);
	return GA_OK;
}

static void
setup(void)
{
	struct org_input *input = org_input_new();
	struct org_input_repository *repository;
	BIGNUM *n = NULL;
	BIGNUM *e = NULL;
	unsigned char bytes[512];
	struct ga_buf text;
	struct ga_err err;

	issuer_key = EVP_RSA_gen(2048);
	EVP_PKEY_get_bn_param(issuer_key, OSSL_PKEY_PARAM_RSA_N, &n);
	EVP_PKEY_get_bn_param(issuer_key, OSSL_PKEY_PARAM_RSA_E, &e);
	ga_buf_init(&text, 0);
	ga_buf_append_str(&text, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"n\":\"");
	append_b64url(&text, bytes, (size_t)BN_bn2bin(n, bytes));
	ga_buf_append_str(&text, "\",\"e\":\"");
	append_b64url(&text, bytes, (size_t)BN_bn2bin(e, bytes));
	ga_buf_append_str(&text, "\"}]}");
	jwks = ga_buf_steal(&text);
	BN_free(n);
	BN_free(e);
	input->organization = ga_strdup("acme");
	input->organization_id = 9000;
	repository = org_input_add_repository(input, 301, "core-lib", false, false);
	org_input_repository_set_pyproject(repository, "[project]\nname = \"acme-core\"\n", 29);
	repository->collaborators_known = true;
	org_input_add_repository(input, 303, "old", true, false);
	config = config_new_defaults();
	config->tp_enabled = true;
	config->tp_audience = ga_strdup("idx");
	config->tp_key = ga_strdup(KEY);
	ga_free(config->tp_issuer);
	config->tp_issuer = ga_strdup(ISSUER);
	config_list_parse("refs/tags/*", &config->tp_allowed_refs);
	config->token_cache_entries = 64;	/* a cache per input: keep it small */
	if (org_snapshot_build(input, config, &snapshot, &err) != GA_OK)
		abort();
	keys = oidc_keys_create();
}

static void
fuzz_jwt(const char *text, size_t len)
{
	struct oidc_jwt jwt;
	char problem[160];

	if (!oidc_jwt_parse(text, len, &jwt, problem, sizeof(problem)))
		return;
	if (!json_is_object(jwt.claims) || jwt.kid[0] == '\0' || strlen(jwt.kid) >= OIDC_KID_MAX)
		abort();
	if (oidc_jwt_verify(&jwt, issuer_key))
		abort();
	oidc_jwt_free(&jwt);
}

static void
fuzz_jwks(const char *text, size_t len)
{
	struct oidc_jwks *set = NULL;
	struct ga_err err;

	if (oidc_jwks_parse(text, len, &set, &err) != GA_OK)
		return;
	if (oidc_jwks_count(set) == 0 || oidc_jwks_count(set) > OIDC_JWKS_KEYS_MAX)
		abort();
	oidc_jwks_free(set);
}

static void
fuzz_discovery(const char *text, size_t len)
{
	char *uri = NULL;
	struct ga_err err;

	if (oidc_discovery_parse(text, len, ISSUER, &uri, &err) != GA_OK)
		return;
	if (strncmp(uri, "http://", 7) != 0 && strncmp(uri, "https://", 8) != 0)
		abort();
	ga_free(uri);
}

static bool
utf8_valid(const char *text)
{
	json_t *string = json_string(text);	/* NULL for invalid UTF-8 */

	json_decref(string);
	return string != NULL;
}

static void
fuzz_minted(const char *text, size_t len)
{
	struct oidc_publisher publisher;
	struct oidc_publisher out;
	char token[OIDC_TOKEN_MAX];

	if (oidc_token_verify(KEY, text, NOW, &out) == OIDC_TOKEN_OK)
		abort();
	/* Mint from the input's bytes (as a mint would from claims). */
	memset(&publisher, 0, sizeof(publisher));
	publisher.organization_id = 9000;
	publisher.repository_id = len + 1;
	publisher.issued_at = NOW;
	publisher.expires_at = NOW + 900;
	oidc_token_package_digest("acme-core", publisher.package_digest);
	/* As oidc_mint fills them from claims (JSON strings: UTF-8). */
	if (!utf8_valid(text))
		return;
	oidc_token_audit_copy(publisher.actor, sizeof(publisher.actor), text);
	oidc_token_audit_copy(publisher.workflow, sizeof(publisher.workflow), text);
	oidc_token_audit_copy(publisher.ref, sizeof(publisher.ref), text);
	oidc_token_audit_copy(publisher.repository, sizeof(publisher.repository), text);
	if (!oidc_token_mint(KEY, &publisher, token))
		abort();
	if (oidc_token_verify(KEY, token, NOW + 1, &out) != OIDC_TOKEN_OK ||
	    strcmp(out.actor, publisher.actor) != 0 || strcmp(out.workflow, publisher.workflow) != 0 ||
	    out.repository_id != publisher.repository_id)
		abort();
}

static void
fuzz_claims(const char *text, size_t len)
{
	static const char header[] = "{\"alg\":\"RS256\",\"kid\":\"k1\"}";
	struct oidc_fetcher fetcher = { fixed_fetch, NULL };
	struct oidc_mint_result *result = ga_malloc(sizeof(*result));
	EVP_MD_CTX *context = EVP_MD_CTX_new();
	unsigned char signature[512];
	size_t signature_len = sizeof(signature);
	struct ga_buf jwt;
	struct oidc_mint_input input = { .now = NOW, .config = config, .snapshot = snapshot,
					 .keys = keys, .fetcher = &fetcher };
	struct cache *cache = NULL;
	struct ga_err err;

	ga_buf_init(&jwt, 0);
	append_b64url(&jwt, header, strlen(header));
	ga_buf_append_char(&jwt, '.');
	append_b64url(&jwt, text, len);
	EVP_DigestSignInit(context, NULL, EVP_sha256(), NULL, issuer_key);
	EVP_DigestSign(context, signature, &signature_len, (const unsigned char *)jwt.data,
		       jwt.len);
	EVP_MD_CTX_free(context);
	ga_buf_append_char(&jwt, '.');
	append_b64url(&jwt, signature, signature_len);
	input.token = jwt.data;
	input.token_len = jwt.len;
	if (cache_create(config, &cache, &err) != GA_OK)
		abort();
	input.cache = cache;
	oidc_mint(&input, result);
	if (result->status == OIDC_MINT_OK &&
	    (result->publisher.repository_id != 301 || !oidc_token_looks_minted(result->token) ||
	     strncmp(result->publisher.ref, "refs/tags/", 10) != 0))
		abort();
	if (result->status != OIDC_MINT_OK && result->error_count == 0)
		abort();
	if (result->status == OIDC_MINT_OK) {
		oidc_mint(&input, result);
		if (result->status != OIDC_MINT_REFUSED || result->error_count != 1 ||
		    strcmp(result->errors[0].code, "invalid-reuse-token") != 0)
			abort();
	}
	cache_destroy(cache);
	ga_free(result);
	ga_buf_free(&jwt);
}

static void
fuzz_base64url(const char *text, size_t len)
{
	uint8_t *bytes = ga_malloc(GA_BASE64URL_DECODED_MAX(len) + 1);
	char *again;
	size_t bytes_len;

	if (ga_base64url_decode(text, len, bytes, GA_BASE64URL_DECODED_MAX(len), &bytes_len)) {
		again = ga_malloc(GA_BASE64URL_LEN(bytes_len) + 1);
		ga_base64url_encode(bytes, bytes_len, again);
		if (strlen(again) != len || memcmp(again, text, len) != 0)
			abort();
		ga_free(again);
	}
	ga_free(bytes);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (issuer_key == NULL)
		setup();
	if (size == 0)
		return 0;
	text = ga_malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 6) {
	case 0:
		fuzz_jwt(text, size - 1);
		break;
	case 1:
		fuzz_jwks(text, size - 1);
		break;
	case 2:
		fuzz_discovery(text, size - 1);
		break;
	case 3:
		fuzz_minted(text, size - 1);
		break;
	case 4:
		fuzz_claims(text, size - 1);
		break;
	default:
		fuzz_base64url(text, size - 1);
		break;
	}
	ga_free(text);
	return 0;
}
