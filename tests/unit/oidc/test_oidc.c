/*
 * test_oidc.c - trusted publishing's parsers and decisions, in process:
 * base64url, JWT parsing and RS256, JWKS and discovery documents, the key
 * cache's refresh bounds (with a counting fetcher instead of the network),
 * minted tokens, and oidc_mint over a snapshot built here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "cache/cache.h"
#include "config/config.h"
#include "oidc/oidc_jwks.h"
#include "oidc/oidc_jwt.h"
#include "oidc/oidc_keys.h"
#include "oidc/oidc_mint.h"
#include "oidc/oidc_scope.h"
#include "oidc/oidc_token.h"
#include "org/org_snapshot.h"
#include "util/ga_base64.h"
#include "util/ga_buf.h"
#include "util/ga_xalloc.h"

#define ISSUER "https://token.actions.githubusercontent.com"
#define NOW 1800000000LL

static EVP_PKEY *test_key;	/* the issuer's key */
static EVP_PKEY *other_key;	/* a forger's key */

static int
setup_keys(void **state)
{
	(void)state;
	test_key = EVP_RSA_gen(2048);
	other_key = EVP_RSA_gen(2048);
	return test_key != NULL && other_key != NULL ? 0 : -1;
}

static int
teardown_keys(void **state)
{
	(void)state;
	EVP_PKEY_free(test_key);
	EVP_PKEY_free(other_key);
	return 0;
}

static void
append_b64url(struct ga_buf *out, const void *bytes, size_t len)
{
	char *text = ga_malloc(GA_BASE64URL_LEN(len) + 1);

	ga_base64url_encode(bytes, len, text);
	ga_buf_append_str(out, text);
	ga_free(text);
}

/* A JWT with header and claims (JSON texts) signed RS256 with key. */
static char *
make_jwt(const char *header, const char *claims, EVP_PKEY *key)
{
	struct ga_buf jwt;
	EVP_MD_CTX *context = EVP_MD_CTX_new();
	unsigned char signature[512];
	size_t signature_len = sizeof(signature);

	ga_buf_init(&jwt, 0);
	append_b64url(&jwt, header, strlen(header));
	ga_buf_append_char(&jwt, '.');
	append_b64url(&jwt, claims, strlen(claims));
	assert_int_equal(EVP_DigestSignInit(context, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(context, signature, &signature_len,
					(const unsigned char *)jwt.data, jwt.len), 1);
	EVP_MD_CTX_free(context);
	ga_buf_append_char(&jwt, '.');
	append_b64url(&jwt, signature, signature_len);
	return ga_buf_steal(&jwt);
}

/* The JWK of key as {"kty":"RSA","kid":kid,"n":...,"e":...}. */
static char *
jwk_of(EVP_PKEY *key, const char *kid, const char *extra)
{
	BIGNUM *n = NULL;
	BIGNUM *e = NULL;
	unsigned char bytes[1024];
	struct ga_buf out;
	int len;

	assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e), 1);
	ga_buf_init(&out, 0);
	ga_buf_printf(&out, "{\"kty\":\"RSA\",\"kid\":\"%s\",%s\"n\":\"", kid, extra);
	len = BN_bn2bin(n, bytes);
	append_b64url(&out, bytes, (size_t)len);
	ga_buf_append_str(&out, "\",\"e\":\"");
	len = BN_bn2bin(e, bytes);
	append_b64url(&out, bytes, (size_t)len);
	ga_buf_append_str(&out, "\"}");
	BN_free(n);
	BN_free(e);
	return ga_buf_steal(&out);
}

static char *
jwks_text(void)
{
	char *jwk = jwk_of(test_key, "k1", "\"alg\":\"RS256\",\"use\":\"sig\",");
	char *text = ga_asprintf("{\"keys\":[{\"kty\":\"EC\",\"kid\":\"ec\",\"crv\":\"P-256\"},%s]}",
				 jwk);

	ga_free(jwk);
	return text;
}

/* ---- base64url ------------------------------------------------------ */

static void
test_base64url(void **state)
{
	uint8_t out[16];
	size_t len;
	char text[32];
	static const uint8_t bytes[] = { 0xfb, 0xff, 0x00, 0x41 };

	(void)state;
	ga_base64url_encode(bytes, sizeof(bytes), text);
	assert_string_equal(text, "-_8AQQ");
	assert_true(ga_base64url_decode("-_8AQQ", 6, out, sizeof(out), &len));
	assert_int_equal(len, 4);
	assert_memory_equal(out, bytes, 4);
	assert_true(ga_base64url_decode("", 0, out, sizeof(out), &len));
	assert_int_equal(len, 0);
	/* padding, the standard alphabet, a lone character, set spare bits */
	assert_false(ga_base64url_decode("-_8AQQ==", 8, out, sizeof(out), &len));
	assert_false(ga_base64url_decode("+/8AQQ", 6, out, sizeof(out), &len));
	assert_false(ga_base64url_decode("-_8AQ", 5, out, sizeof(out), &len) && len != 3);
	assert_false(ga_base64url_decode("A", 1, out, sizeof(out), &len));
	assert_false(ga_base64url_decode("-_8AQR", 6, out, sizeof(out), &len));
	assert_false(ga_base64url_decode("-_8AQQ", 6, out, 3, &len));
	assert_false(ga_base64url_decode("-_8 QQ", 6, out, sizeof(out), &len));
}

/* ---- JWT ------------------------------------------------------------ */

static const char header_ok[] = "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"k1\"}";

static void
test_jwt_parse_and_verify(void **state)
{
	char *token = make_jwt(header_ok, "{\"iss\":\"x\"}", test_key);
	struct oidc_jwt jwt;
	char problem[160];

	(void)state;
	assert_true(oidc_jwt_parse(token, strlen(token), &jwt, problem, sizeof(problem)));
	assert_string_equal(jwt.kid, "k1");
	assert_string_equal(json_string_value(json_object_get(jwt.claims, "iss")), "x");
	assert_true(oidc_jwt_verify(&jwt, test_key));
	assert_false(oidc_jwt_verify(&jwt, other_key));
	oidc_jwt_free(&jwt);
	/* One bit of the payload changed: the signature no longer holds. */
	token[strchr(token, '.') - token + 3] ^= 1;
	if (oidc_jwt_parse(token, strlen(token), &jwt, problem, sizeof(problem))) {
		assert_false(oidc_jwt_verify(&jwt, test_key));
		oidc_jwt_free(&jwt);
	}
	ga_free(token);
}

static void
test_jwt_rejects_other_forms(void **state)
{
	static const char *const headers[] = {
		"{\"alg\":\"none\",\"kid\":\"k1\"}",
		"{\"alg\":\"HS256\",\"kid\":\"k1\"}",
		"{\"alg\":\"RS256\"}",
		"{\"alg\":\"RS256\",\"kid\":\"\"}",
		"{\"alg\":\"RS256\",\"kid\":\"k1\",\"crit\":[\"b64\"]}",
		"{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"JOSE+JSON\"}",
		"{\"alg\":\"RS256\",\"kid\":\"k1\",\"alg\":\"none\"}",
		"[1]",
	};
	static const char *const texts[] = { "", "a", "a.b", "a.b.c.d", "..", "eyJ9.e30.AA" };
	struct oidc_jwt jwt;
	char problem[160];

	(void)state;
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		char *token = make_jwt(headers[i], "{}", test_key);

		assert_false(oidc_jwt_parse(token, strlen(token), &jwt, problem, sizeof(problem)));
		assert_null(jwt.claims);
		ga_free(token);
	}
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		assert_false(oidc_jwt_parse(texts[i], strlen(texts[i]), &jwt, problem,
					    sizeof(problem)));
	{
		char *token = make_jwt(header_ok, "[]", test_key);

		assert_false(oidc_jwt_parse(token, strlen(token), &jwt, problem, sizeof(problem)));
		ga_free(token);
	}
}

/* ---- JWKS and discovery ---------------------------------------------- */

static void
test_jwks_parse(void **state)
{
	char *text = jwks_text();
	struct oidc_jwks *set = NULL;
	struct ga_err err;
	EVP_PKEY *key;

	(void)state;
	assert_int_equal(oidc_jwks_parse(text, strlen(text), &set, &err), GA_OK);
	assert_int_equal(oidc_jwks_count(set), 1);	/* the EC key is skipped */
	key = oidc_jwks_find(set, "k1");
	assert_non_null(key);
	assert_int_equal(EVP_PKEY_eq(key, test_key), 1);
	EVP_PKEY_free(key);
	assert_null(oidc_jwks_find(set, "ec"));
	oidc_jwks_free(set);
	ga_free(text);
}

static void
test_jwks_rejects_unusable_keys(void **state)
{
	EVP_PKEY *small = EVP_RSA_gen(1024);
	char *weak = jwk_of(small, "weak", "");
	char *enc = jwk_of(test_key, "enc", "\"use\":\"enc\",");
	char *hs = jwk_of(test_key, "hs", "\"alg\":\"HS256\",");
	char *first = jwk_of(test_key, "dup", "");
	char *second = jwk_of(other_key, "dup", "");
	char *text = ga_asprintf("{\"keys\":[%s,%s,%s,%s,%s]}", weak, enc, hs, first, second);
	struct oidc_jwks *set = NULL;
	struct ga_err err;
	EVP_PKEY *key;

	(void)state;
	assert_int_equal(oidc_jwks_parse(text, strlen(text), &set, &err), GA_OK);
	assert_int_equal(oidc_jwks_count(set), 1);
	key = oidc_jwks_find(set, "dup");
	assert_int_equal(EVP_PKEY_eq(key, test_key), 1);	/* the first one */
	EVP_PKEY_free(key);
	oidc_jwks_free(set);
	assert_int_equal(oidc_jwks_parse("{\"keys\":[]}", 11, &set, &err), GA_EPARSE);
	assert_int_equal(oidc_jwks_parse("{}", 2, &set, &err), GA_EPARSE);
	assert_int_equal(oidc_jwks_parse("nope", 4, &set, &err), GA_EPARSE);
	assert_null(set);
	ga_free(text);
	ga_free(weak);
	ga_free(enc);
	ga_free(hs);
	ga_free(first);
	ga_free(second);
	EVP_PKEY_free(small);
}

static void
test_discovery_parse(void **state)
{
	static const char good[] = "{\"issuer\":\"" ISSUER "\",\"jwks_uri\":\"" ISSUER
				   "/.well-known/jwks\"}";
	static const char other[] = "{\"issuer\":\"https://evil.example\",\"jwks_uri\":"
				    "\"https://evil.example/jwks\"}";
	static const char slash[] = "{\"issuer\":\"" ISSUER "/\",\"jwks_uri\":\"https://x/j\"}";
	static const char scheme[] = "{\"issuer\":\"" ISSUER "\",\"jwks_uri\":\"file:///etc\"}";
	char *uri = NULL;
	struct ga_err err;

	(void)state;
	assert_int_equal(oidc_discovery_parse(good, strlen(good), ISSUER, &uri, &err), GA_OK);
	assert_string_equal(uri, ISSUER "/.well-known/jwks");
	ga_free(uri);
	assert_int_equal(oidc_discovery_parse(other, strlen(other), ISSUER, &uri, &err), GA_EPARSE);
	assert_int_equal(oidc_discovery_parse(slash, strlen(slash), ISSUER, &uri, &err), GA_EPARSE);
	assert_int_equal(oidc_discovery_parse(scheme, strlen(scheme), ISSUER, &uri, &err),
			 GA_EPARSE);
	assert_null(uri);
}

/* ---- the key cache ---------------------------------------------------- */

struct fake_issuer {
	unsigned calls;		/* fetches of any document */
	bool down;
	char *jwks;
};

static enum ga_rc
fake_fetch(void *context, const char *url, size_t max, char **body, size_t *len,
	   struct ga_err *err)
{
	struct fake_issuer *issuer = context;

	(void)max;
	issuer->calls++;
	if (issuer->down)
		return ga_err_set(err, GA_EUPSTREAM, "down");
	if (strstr(url, "openid-configuration") != NULL)
		*body = ga_asprintf("{\"issuer\":\"%.*s\",\"jwks_uri\":\"https://keys/jwks\"}",
				    (int)(strstr(url, "/.well-known") - url), url);
	else
		*body = ga_strdup(issuer->jwks);
	*len = strlen(*body);
	return GA_OK;
}

static enum oidc_key_result
get_key(struct oidc_keys *keys, struct fake_issuer *issuer, const char *kid, long long now)
{
	struct oidc_fetcher fetcher = { fake_fetch, issuer };
	EVP_PKEY *key = NULL;
	struct ga_err err;
	enum oidc_key_result result = oidc_keys_get(keys, &fetcher, ISSUER, kid, now, &key, &err);

	assert_true((result == OIDC_KEY_FOUND) == (key != NULL));
	EVP_PKEY_free(key);
	return result;
}

static void
test_keys_refresh_bounds(void **state)
{
	struct fake_issuer issuer = { .jwks = jwks_text() };
	struct oidc_keys *keys = oidc_keys_create();

	(void)state;
	assert_int_equal(get_key(keys, &issuer, "k1", NOW), OIDC_KEY_FOUND);
	assert_int_equal(issuer.calls, 2);	/* discovery + key set */
	assert_int_equal(get_key(keys, &issuer, "k1", NOW + 10), OIDC_KEY_FOUND);
	assert_int_equal(issuer.calls, 2);	/* warm */
	/* An unknown kid: no refresh within a minute of the last fetch... */
	for (int i = 0; i < 50; i++)
		assert_int_equal(get_key(keys, &issuer, "made-up", NOW + 20), OIDC_KEY_UNKNOWN);
	assert_int_equal(issuer.calls, 2);
	/* ...then one, and again none for a minute. */
	assert_int_equal(get_key(keys, &issuer, "made-up", NOW + 61), OIDC_KEY_UNKNOWN);
	assert_int_equal(issuer.calls, 4);
	assert_int_equal(get_key(keys, &issuer, "made-up", NOW + 100), OIDC_KEY_UNKNOWN);
	assert_int_equal(issuer.calls, 4);
	/* A set older than the max age is fetched again; if that fails, the
	 * old set serves until the stale age, then nothing does. */
	issuer.down = true;
	assert_int_equal(get_key(keys, &issuer, "k1", NOW + OIDC_KEYS_MAX_AGE + 100),
			 OIDC_KEY_FOUND);
	assert_int_equal(issuer.calls, 5);
	assert_int_equal(get_key(keys, &issuer, "k1", NOW + OIDC_KEYS_STALE_AGE + 100),
			 OIDC_KEY_UNAVAILABLE);
	/* Nothing usable: retried at most every OIDC_KEYS_RETRY_INTERVAL. */
	{
		unsigned calls = issuer.calls;

		assert_int_equal(get_key(keys, &issuer, "k1", NOW + OIDC_KEYS_STALE_AGE + 101),
				 OIDC_KEY_UNAVAILABLE);
		assert_int_equal(issuer.calls, calls);
		issuer.down = false;
		assert_int_equal(get_key(keys, &issuer, "k1",
					 NOW + OIDC_KEYS_STALE_AGE + 100 + OIDC_KEYS_RETRY_INTERVAL),
				 OIDC_KEY_FOUND);
	}
	oidc_keys_destroy(keys);
	ga_free(issuer.jwks);
}

static void
test_keys_issuer_change_drops_the_set(void **state)
{
	struct fake_issuer issuer = { .jwks = jwks_text() };
	struct oidc_fetcher fetcher = { fake_fetch, &issuer };
	struct oidc_keys *keys = oidc_keys_create();
	EVP_PKEY *key = NULL;
	struct ga_err err;

	(void)state;
	assert_int_equal(get_key(keys, &issuer, "k1", NOW), OIDC_KEY_FOUND);
	issuer.down = true;
	assert_int_equal(oidc_keys_get(keys, &fetcher, "https://ghes.example/_services/token", "k1",
				       NOW + 1, &key, &err),
			 OIDC_KEY_UNAVAILABLE);
	assert_null(key);
	oidc_keys_destroy(keys);
	ga_free(issuer.jwks);
}

/* ---- minted tokens ----------------------------------------------------- */

static const char key_a[] = "0123456789abcdef0123456789abcdef-a";
static const char key_b[] = "0123456789abcdef0123456789abcdef-b";

static struct oidc_publisher
publisher_for(long long now)
{
	struct oidc_publisher publisher = {
		.organization_id = 9000, .repository_id = 301, .issued_at = now,
		.expires_at = now + 900,
	};

	oidc_token_package_digest("acme-core", publisher.package_digest);
	snprintf(publisher.repository, sizeof(publisher.repository), "core-lib");
	snprintf(publisher.workflow, sizeof(publisher.workflow),
		 "acme/core-lib/.github/workflows/release.yml@refs/tags/v1");
	snprintf(publisher.ref, sizeof(publisher.ref), "refs/tags/v1");
	snprintf(publisher.run_id, sizeof(publisher.run_id), "42");
	snprintf(publisher.actor, sizeof(publisher.actor), "bob");
	return publisher;
}

static void
test_token_round_trip_and_tampering(void **state)
{
	struct oidc_publisher publisher = publisher_for(NOW);
	struct oidc_publisher out;
	char token[OIDC_TOKEN_MAX];
	char altered[OIDC_TOKEN_MAX];
	char *dot;

	(void)state;
	assert_true(oidc_token_mint(key_a, &publisher, token));
	assert_true(oidc_token_looks_minted(token));
	assert_int_equal(oidc_token_verify(key_a, token, NOW + 1, &out), OIDC_TOKEN_OK);
	assert_int_equal(out.repository_id, 301);
	assert_int_equal(out.organization_id, 9000);
	assert_string_equal(out.package_digest, publisher.package_digest);
	assert_string_equal(out.actor, "bob");
	/* Another installation's key. */
	assert_int_equal(oidc_token_verify(key_b, token, NOW + 1, &out), OIDC_TOKEN_BAD_MAC);
	/* Expired, and issued far in the future. */
	assert_int_equal(oidc_token_verify(key_a, token, NOW + 900, &out), OIDC_TOKEN_EXPIRED);
	assert_int_equal(oidc_token_verify(key_a, token, NOW - OIDC_TOKEN_SKEW - 1, &out),
			 OIDC_TOKEN_NOT_YET_VALID);
	/* Every byte of the payload is covered by the MAC. */
	for (size_t i = strlen(OIDC_TOKEN_PREFIX); token[i] != '.'; i++) {
		snprintf(altered, sizeof(altered), "%s", token);
		altered[i] = altered[i] == 'A' ? 'B' : 'A';
		assert_int_not_equal(oidc_token_verify(key_a, altered, NOW + 1, &out),
				     OIDC_TOKEN_OK);
	}
	/* The MAC of one token on the payload of another. */
	publisher.repository_id = 302;
	assert_true(oidc_token_mint(key_a, &publisher, altered));
	dot = strrchr(token, '.');
	snprintf(strrchr(altered, '.'), OIDC_TOKEN_MAX - (size_t)(strrchr(altered, '.') - altered),
		 "%s", dot);
	assert_int_equal(oidc_token_verify(key_a, altered, NOW + 1, &out), OIDC_TOKEN_BAD_MAC);
	/* A lifetime over 15 minutes is not ours, even with a good MAC. */
	publisher = publisher_for(NOW);
	publisher.expires_at = NOW + 3600;
	assert_true(oidc_token_mint(key_a, &publisher, token));
	assert_int_equal(oidc_token_verify(key_a, token, NOW + 1, &out), OIDC_TOKEN_MALFORMED);
	assert_int_equal(oidc_token_verify(key_a, "gatp1.", NOW, &out), OIDC_TOKEN_MALFORMED);
	assert_int_equal(oidc_token_verify(key_a, "ghp_x", NOW, &out), OIDC_TOKEN_MALFORMED);
	assert_int_equal(oidc_token_verify(key_a, "gatp1.e30.AAAA", NOW, &out),
			 OIDC_TOKEN_MALFORMED);
}

static void
test_token_bounds(void **state)
{
	struct oidc_publisher publisher = publisher_for(NOW);
	char token[OIDC_TOKEN_MAX];

	(void)state;
	memset(publisher.repository, 'r', sizeof(publisher.repository) - 1);
	memset(publisher.workflow, 'w', sizeof(publisher.workflow) - 1);
	memset(publisher.ref, 'f', sizeof(publisher.ref) - 1);
	memset(publisher.run_id, '9', sizeof(publisher.run_id) - 1);
	memset(publisher.actor, 'a', sizeof(publisher.actor) - 1);
	publisher.organization_id = publisher.repository_id = 999999999999999999LL;
	assert_true(oidc_token_mint(key_a, &publisher, token));
	/* "__token__:" and the token fit a Basic header's 1024 bytes. */
	assert_true(strlen(token) + 10 <= 1024);
}

/* ---- oidc_mint over a snapshot ------------------------------------------ */

struct mint_fixture {
	struct config *config;
	struct org_snapshot *snapshot;
	struct oidc_keys *keys;
	struct fake_issuer issuer;
	struct oidc_fetcher fetcher;
	struct cache *cache;		/* the used jtis */
	unsigned jtis;			/* do_mint's fresh jtis */
};

static int
mint_setup(void **state)
{
	struct mint_fixture *f = ga_calloc(1, sizeof(*f));
	struct org_input *input = org_input_new();
	struct org_input_repository *repository;
	struct ga_err err;

	input->organization = ga_strdup("acme");
	input->organization_id = 9000;
	org_input_add_member(input, "bob", 102, false);
	repository = org_input_add_repository(input, 301, "core-lib", false, false);
	org_input_repository_set_pyproject(repository, "[project]\nname = \"Acme_Core\"\n", 29);
	repository->collaborators_known = true;
	repository = org_input_add_repository(input, 303, "old-client", true, false);
	org_input_repository_set_pyproject(repository, "[project]\nname = \"acme-client\"\n", 30);
	repository->collaborators_known = true;
	org_input_add_repository(input, 304, "docs", false, false)->collaborators_known = true;
	f->config = config_new_defaults();
	f->config->tp_enabled = true;
	f->config->tp_audience = ga_strdup("idx");
	f->config->tp_key = ga_strdup(key_a);
	ga_free(f->config->tp_issuer);
	f->config->tp_issuer = ga_strdup(ISSUER);
	assert_int_equal(org_snapshot_build(input, f->config, &f->snapshot, &err), GA_OK);
	f->keys = oidc_keys_create();
	assert_int_equal(cache_create(f->config, &f->cache, &err), GA_OK);
	f->issuer.jwks = jwks_text();
	f->fetcher = (struct oidc_fetcher){ fake_fetch, &f->issuer };
	*state = f;
	return 0;
}

static int
mint_teardown(void **state)
{
	struct mint_fixture *f = *state;

	oidc_keys_destroy(f->keys);
	cache_destroy(f->cache);
	org_snapshot_release(f->snapshot);
	config_free(f->config);
	ga_free(f->issuer.jwks);
	ga_free(f);
	return 0;
}

/* Claims of a GitHub token for repository (id) with extra members. */
static char *
claims_text(const char *repository, const char *id, long long iat, const char *extra)
{
	return ga_asprintf("{\"iss\":\"" ISSUER "\",\"aud\":\"idx\",\"iat\":%lld,\"nbf\":%lld,"
			   "\"exp\":%lld,\"repository\":\"acme/%s\",\"repository_id\":\"%s\","
			   "\"repository_owner\":\"acme\",\"repository_owner_id\":\"9000\","
			   "\"ref\":\"refs/tags/v1\",\"job_workflow_ref\":\"acme/%s/.github/"
			   "workflows/release.yml@refs/tags/v1\",\"event_name\":\"push\","
			   "\"run_id\":\"7\",\"actor\":\"bob\"%s}",
			   iat, iat - 600, iat + 300, repository, id, repository, extra);
}

/* Mint the token of exactly these claims. */
static struct oidc_mint_result *
mint_as_is(struct mint_fixture *f, const char *claims, EVP_PKEY *key, long long now)
{
	char *token = make_jwt(header_ok, claims, key);
	struct oidc_mint_result *result = ga_malloc(sizeof(*result));
	struct oidc_mint_input input = { .token = token, .token_len = strlen(token), .now = now,
					 .config = f->config, .snapshot = f->snapshot,
					 .keys = f->keys, .fetcher = &f->fetcher,
					 .cache = f->cache };

	oidc_mint(&input, result);
	ga_free(token);
	return result;
}

/* Mint claims (a JSON object) as GitHub would send them: each token with a
 * jti of its own unless the claims name one. */
static struct oidc_mint_result *
do_mint(struct mint_fixture *f, const char *claims, EVP_PKEY *key, long long now)
{
	struct oidc_mint_result *result;
	char *with_jti;

	if (strstr(claims, "\"jti\"") != NULL || claims[0] != '{')
		return mint_as_is(f, claims, key, now);
	with_jti = ga_asprintf("{\"jti\":\"4f0b1a2e-0000-4000-8000-%012u\",%s", ++f->jtis,
			       claims + 1);
	result = mint_as_is(f, with_jti, key, now);
	ga_free(with_jti);
	return result;
}

static void
expect_code(struct mint_fixture *f, const char *claims, EVP_PKEY *key, long long now,
	    const char *code)
{
	struct oidc_mint_result *result = do_mint(f, claims, key, now);

	if (code == NULL) {
		assert_int_equal(result->status, OIDC_MINT_OK);
		assert_true(oidc_token_looks_minted(result->token));
	} else {
		assert_int_not_equal(result->status, OIDC_MINT_OK);
		assert_true(result->error_count >= 1);
		assert_string_equal(result->errors[0].code, code);
	}
	ga_free(result);
}

static void
test_mint_decisions(void **state)
{
	struct mint_fixture *f = *state;
	char *ok = claims_text("core-lib", "301", NOW, "");
	char *archived = claims_text("old-client", "303", NOW, "");
	char *docs = claims_text("docs", "304", NOW, "");
	char *unknown = claims_text("nothing", "999", NOW, "");
	char *mismatch = claims_text("core-lib", "999", NOW, "");
	char *array = claims_text("core-lib", "301", NOW, ",\"aud\":[\"other\",\"idx\"]");
	char *numeric = ga_asprintf("%.*s,\"repository_id\":301}", (int)strlen(ok) - 1, ok);
	char *missing = ga_asprintf("{\"iss\":\"" ISSUER "\",\"aud\":\"idx\",\"iat\":%lld,"
				    "\"exp\":%lld}", NOW, NOW + 300);

	/* Duplicate keys are refused, so rebuild array/numeric without them. */
	ga_free(array);
	array = ga_asprintf("{\"iss\":\"" ISSUER "\",\"aud\":[\"other\",\"idx\"],\"iat\":%lld,"
			    "\"exp\":%lld,\"repository\":\"acme/core-lib\",\"repository_id\":"
			    "\"301\",\"repository_owner_id\":\"9000\",\"ref\":\"r\","
			    "\"job_workflow_ref\":\"w\",\"event_name\":\"push\",\"run_id\":\"1\","
			    "\"actor\":\"a\"}", NOW, NOW + 300);
	ga_free(numeric);
	numeric = ga_asprintf("{\"iss\":\"" ISSUER "\",\"aud\":\"idx\",\"iat\":%lld,"
			      "\"exp\":%lld,\"repository\":\"acme/core-lib\",\"repository_id\":"
			      "301,\"repository_owner_id\":9000,\"ref\":\"r\","
			      "\"job_workflow_ref\":\"w\",\"event_name\":\"push\",\"run_id\":\"1\","
			      "\"actor\":\"a\"}", NOW, NOW + 300);
	expect_code(f, ok, test_key, NOW, NULL);
	expect_code(f, array, test_key, NOW, NULL);
	expect_code(f, numeric, test_key, NOW, NULL);
	expect_code(f, ok, other_key, NOW, "invalid-signature");
	expect_code(f, archived, test_key, NOW, "repository-archived");
	expect_code(f, docs, test_key, NOW, "no-package");
	expect_code(f, unknown, test_key, NOW, "unknown-repository");
	expect_code(f, mismatch, test_key, NOW, "repository-id-mismatch");
	expect_code(f, missing, test_key, NOW, "missing-claim");
	/* Skew: exp may have passed by up to OIDC_MINT_SKEW seconds. */
	expect_code(f, ok, test_key, NOW + 300 + OIDC_MINT_SKEW, NULL);
	expect_code(f, ok, test_key, NOW + 300 + OIDC_MINT_SKEW + 1, "expired-token");
	expect_code(f, ok, test_key, NOW - OIDC_MINT_SKEW, NULL);
	expect_code(f, ok, test_key, NOW - OIDC_MINT_SKEW - 1, "token-not-yet-valid");
	/* Another audience, another organization's id. */
	ga_free(f->config->tp_audience);
	f->config->tp_audience = ga_strdup("pypi");
	expect_code(f, ok, test_key, NOW, "invalid-audience");
	ga_free(f->config->tp_audience);
	f->config->tp_audience = ga_strdup("idx");
	{
		char *foreign = ga_asprintf("{\"iss\":\"" ISSUER "\",\"aud\":\"idx\",\"iat\":%lld,"
					    "\"exp\":%lld,\"repository\":\"octo/core-lib\","
					    "\"repository_id\":\"301\",\"repository_owner_id\":"
					    "\"65\",\"ref\":\"r\",\"job_workflow_ref\":\"w\","
					    "\"event_name\":\"push\",\"run_id\":\"1\",\"actor\":\"a\"}",
					    NOW, NOW + 300);

		expect_code(f, foreign, test_key, NOW, "wrong-organization");
		ga_free(foreign);
	}
	ga_free(ok);
	ga_free(archived);
	ga_free(docs);
	ga_free(unknown);
	ga_free(mismatch);
	ga_free(array);
	ga_free(numeric);
	ga_free(missing);
}

/* A long non-ASCII claim is cut for the token at a character boundary. */
static void
test_mint_cuts_claims_at_characters(void **state)
{
	struct mint_fixture *f = *state;
	struct ga_buf workflow;
	char *claims;
	struct oidc_mint_result *result;
	struct oidc_publisher out;

	ga_buf_init(&workflow, 0);
	ga_buf_append_str(&workflow, "acme/core-lib/.github/workflows/x");
	for (int i = 0; i < 150; i++)
		ga_buf_append_str(&workflow, "\xc3\xa9");	/* U+00E9 */
	ga_buf_append_str(&workflow, ".yml@refs/tags/v1");
	claims = ga_asprintf("{\"iss\":\"" ISSUER "\",\"aud\":\"idx\",\"iat\":%lld,"
			     "\"exp\":%lld,\"repository\":\"acme/core-lib\",\"repository_id\":"
			     "\"301\",\"repository_owner_id\":\"9000\",\"ref\":\"r\","
			     "\"job_workflow_ref\":\"%s\",\"event_name\":\"push\",\"run_id\":\"1\","
			     "\"actor\":\"a\"}", NOW, NOW + 300, workflow.data);
	result = do_mint(f, claims, test_key, NOW);
	assert_int_equal(result->status, OIDC_MINT_OK);
	assert_int_equal(oidc_token_verify(key_a, result->token, NOW, &out), OIDC_TOKEN_OK);
	assert_true(strlen(out.workflow) % 2 == 1);	/* 33 ASCII bytes, then whole characters */
	ga_free(result);
	ga_free(claims);
	ga_buf_free(&workflow);
}

/* Claims full of characters JSON escapes still make a token that fits. */
static void
test_mint_bounds_escaped_claims(void **state)
{
	struct mint_fixture *f = *state;
	struct ga_buf value;
	char *claims;
	struct oidc_mint_result *result;

	ga_buf_init(&value, 0);
	for (int i = 0; i < 250; i++)
		ga_buf_append_str(&value, i % 2 ? "\\\"" : "\\u0001");
	claims = ga_asprintf("{\"iss\":\"" ISSUER "\",\"aud\":\"idx\",\"iat\":%lld,"
			     "\"exp\":%lld,\"repository\":\"acme/core-lib\",\"repository_id\":"
			     "\"301\",\"repository_owner_id\":\"9000\",\"ref\":\"%s\","
			     "\"job_workflow_ref\":\"%s\",\"event_name\":\"push\",\"run_id\":\"1\","
			     "\"actor\":\"%.56s\"}", NOW, NOW + 300, value.data, value.data,
			     value.data);
	result = do_mint(f, claims, test_key, NOW);
	assert_int_equal(result->status, OIDC_MINT_OK);
	assert_true(strlen(result->token) + strlen("__token__:") <= 1024);
	assert_null(strchr(result->publisher.workflow, '"'));
	ga_free(result);
	ga_free(claims);
	ga_buf_free(&value);
}

/* config_list_parse overwrites: free what the list held first. */
static void
set_list(const char *text, struct config_list *list)
{
	config_list_free(list);
	config_list_parse(text, list);
}

static void
test_mint_restrictions(void **state)
{
	struct mint_fixture *f = *state;
	char *env = claims_text("core-lib", "301", NOW, ",\"environment\":\"Release\"");
	char *plain = claims_text("core-lib", "301", NOW, "");
	struct oidc_mint_result *result;

	set_list("refs/tags/v*", &f->config->tp_allowed_refs);
	set_list("release", &f->config->tp_allowed_environments);
	set_list(".github/workflows/release.yml", &f->config->tp_allowed_workflows);
	set_list("push release", &f->config->tp_allowed_events);
	expect_code(f, env, test_key, NOW, NULL);	/* environments ignore case */
	expect_code(f, plain, test_key, NOW, "environment-not-allowed");
	/* Another repository's release.yml is not this repository's. */
	set_list(".github/workflows/ci.yml", &f->config->tp_allowed_workflows);
	set_list("refs/heads/*", &f->config->tp_allowed_refs);
	set_list("workflow_dispatch", &f->config->tp_allowed_events);
	result = do_mint(f, env, test_key, NOW);
	assert_int_equal(result->status, OIDC_MINT_REFUSED);
	assert_int_equal(result->error_count, 3);
	assert_string_equal(result->errors[0].code, "ref-not-allowed");
	assert_string_equal(result->errors[1].code, "workflow-not-allowed");
	assert_string_equal(result->errors[2].code, "event-not-allowed");
	assert_null(strstr(result->token, "gatp1."));
	ga_free(result);
	ga_free(env);
	ga_free(plain);
}

/* A jti is exchanged once while the token could be accepted; a refused
 * token does not use it up; a token without one is refused. */
static void
test_mint_jti_once(void **state)
{
	struct mint_fixture *f = *state;
	char *once = claims_text("core-lib", "301", NOW, ",\"jti\":\"jti-once\"");
	char *other = claims_text("core-lib", "301", NOW, ",\"jti\":\"jti-other\"");
	char *empty = claims_text("core-lib", "301", NOW, ",\"jti\":\"\"");
	char *number = claims_text("core-lib", "301", NOW, ",\"jti\":7");
	char *none = claims_text("core-lib", "301", NOW, "");
	struct oidc_mint_result *result;

	/* Refused by a restriction first: the jti stays unused. */
	set_list("refs/heads/*", &f->config->tp_allowed_refs);
	expect_code(f, once, test_key, NOW, "ref-not-allowed");
	set_list("", &f->config->tp_allowed_refs);
	expect_code(f, once, test_key, NOW, NULL);
	result = do_mint(f, once, test_key, NOW + 10);
	assert_int_equal(result->status, OIDC_MINT_REFUSED);
	assert_int_equal(result->error_count, 1);
	assert_string_equal(result->errors[0].code, "invalid-reuse-token");
	assert_non_null(strstr(result->errors[0].description, "already used"));
	assert_null(strstr(result->token, "gatp1."));
	ga_free(result);
	/* Remembered up to the last second the token is accepted (exp + skew),
	 * past which it is refused as expired anyway. */
	expect_code(f, once, test_key, NOW + 300 + OIDC_MINT_SKEW, "invalid-reuse-token");
	expect_code(f, once, test_key, NOW + 300 + OIDC_MINT_SKEW + 1, "expired-token");
	expect_code(f, other, test_key, NOW, NULL);
	/* GitHub always sends a jti: a token without one is not GitHub's. */
	result = mint_as_is(f, none, test_key, NOW);
	assert_int_equal(result->status, OIDC_MINT_REFUSED);
	assert_string_equal(result->errors[0].code, "missing-claim");
	assert_non_null(strstr(result->errors[0].description, "jti"));
	ga_free(result);
	expect_code(f, empty, test_key, NOW, "missing-claim");
	expect_code(f, number, test_key, NOW, "missing-claim");
	ga_free(once);
	ga_free(other);
	ga_free(empty);
	ga_free(number);
	ga_free(none);
}

/* claims (taken) with its exp replaced by exp (JSON number text). */
static char *
with_exp(char *claims, const char *exp)
{
	const char *value = strstr(claims, "\"exp\":") + strlen("\"exp\":");
	char *changed = ga_asprintf("%.*s%s%s", (int)(value - claims), claims, exp,
				    value + strcspn(value, ","));

	ga_free(claims);
	return changed;
}

/* Times at the ends of the integer range: refused or accepted without
 * overflowing (UBSan aborts on signed overflow), and a token that never
 * expires is still exchanged once. */
static void
test_mint_extreme_times(void **state)
{
	struct mint_fixture *f = *state;
	char *forever = with_exp(claims_text("core-lib", "301", NOW, ",\"jti\":\"forever\""),
				 "9223372036854775807");
	char *ancient = with_exp(claims_text("core-lib", "301", NOW, ",\"jti\":\"ancient\""),
				 "-9223372036854775807");

	expect_code(f, forever, test_key, NOW, NULL);
	expect_code(f, forever, test_key, NOW + 100000, "invalid-reuse-token");
	expect_code(f, ancient, test_key, NOW, "expired-token");
	ga_free(forever);
	ga_free(ancient);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64url),
		cmocka_unit_test(test_jwt_parse_and_verify),
		cmocka_unit_test(test_jwt_rejects_other_forms),
		cmocka_unit_test(test_jwks_parse),
		cmocka_unit_test(test_jwks_rejects_unusable_keys),
		cmocka_unit_test(test_discovery_parse),
		cmocka_unit_test(test_keys_refresh_bounds),
		cmocka_unit_test(test_keys_issuer_change_drops_the_set),
		cmocka_unit_test(test_token_round_trip_and_tampering),
		cmocka_unit_test(test_token_bounds),
		cmocka_unit_test_setup_teardown(test_mint_decisions, mint_setup, mint_teardown),
		cmocka_unit_test_setup_teardown(test_mint_cuts_claims_at_characters, mint_setup,
						mint_teardown),
		cmocka_unit_test_setup_teardown(test_mint_bounds_escaped_claims, mint_setup,
						mint_teardown),
		cmocka_unit_test_setup_teardown(test_mint_restrictions, mint_setup, mint_teardown),
		cmocka_unit_test_setup_teardown(test_mint_jti_once, mint_setup, mint_teardown),
		cmocka_unit_test_setup_teardown(test_mint_extreme_times, mint_setup, mint_teardown),
	};

	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
