/*
 * bench_trusted_publishing.c - what trusted publishing costs in process,
 * side by side in one run (make bench, part "trusted"):
 *
 *   mint          oidc_mint() of a GitHub Actions ID token with a warm key
 *                 set: JWT parse, RS256 verify (RSA-2048), claims, the
 *                 repository's standing in the snapshot, the jti's claim
 *                 (memory backend: no memcached call), the minted token's
 *                 HMAC.  p50/p99 over ROUNDS mints.
 *   jti claim     cache_claim_once() of a new jti (memory backend), the
 *                 share of a mint that refuses a reused ID token.
 *   minted use    what every request with a minted token (__token__) adds
 *                 to an upload or a read: oidc_token_verify (HMAC, JSON) and
 *                 the repository's standing re-checked in the snapshot.
 *   personal use  the same step for a person's GitHub token once cached:
 *                 cache_verify_token (HMAC of login and token, the memory
 *                 store) and org_snapshot_find_member.
 *
 * The organization has REPOS repositories, each a package (the standing
 * check scans them: this is where its size shows).
 *
 *   build/bench/bench_trusted_publishing [REPOS [ROUNDS]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "cache/cache.h"
#include "config/config.h"
#include "oidc/oidc_keys.h"
#include "oidc/oidc_mint.h"
#include "oidc/oidc_scope.h"
#include "oidc/oidc_token.h"
#include "org/org_snapshot.h"
#include "util/ga_base64.h"
#include "util/ga_buf.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

#define ISSUER "https://token.actions.githubusercontent.com"

static EVP_PKEY *issuer_key;
static char *jwks;

static double
now_us(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec * 1e6 + (double)now.tv_nsec / 1e3;
}

static void
append_b64url(struct ga_buf *out, const void *bytes, size_t len)
{
	char *text = ga_malloc(GA_BASE64URL_LEN(len) + 1);

	ga_base64url_encode(bytes, len, text);
	ga_buf_append_str(out, text);
	ga_free(text);
}

static char *
signed_token(const char *claims)
{
	static const char header[] = "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"k1\"}";
	EVP_MD_CTX *context = EVP_MD_CTX_new();
	unsigned char signature[512];
	size_t signature_len = sizeof(signature);
	struct ga_buf jwt;

	ga_buf_init(&jwt, 0);
	append_b64url(&jwt, header, strlen(header));
	ga_buf_append_char(&jwt, '.');
	append_b64url(&jwt, claims, strlen(claims));
	EVP_DigestSignInit(context, NULL, EVP_sha256(), NULL, issuer_key);
	EVP_DigestSign(context, signature, &signature_len, (const unsigned char *)jwt.data, jwt.len);
	EVP_MD_CTX_free(context);
	ga_buf_append_char(&jwt, '.');
	append_b64url(&jwt, signature, signature_len);
	return ga_buf_steal(&jwt);
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
make_jwks(void)
{
	BIGNUM *n = NULL;
	BIGNUM *e = NULL;
	unsigned char bytes[512];
	struct ga_buf text;

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
}

static struct org_snapshot *
make_snapshot(const struct config *config, int repos)
{
	struct org_input *input = org_input_new();
	struct org_snapshot *snapshot = NULL;
	struct ga_err err;

	input->organization = ga_strdup("acme");
	input->organization_id = 9000;
	org_input_add_member(input, "octocat", 583231, false);
	for (int i = 1; i <= repos; i++) {
		char name[32];
		char text[64];
		struct org_input_repository *repository;

		snprintf(name, sizeof(name), "repo-%05d", i);
		snprintf(text, sizeof(text), "[project]\nname = \"pkg-%d\"\n", i);
		repository = org_input_add_repository(input, 300000 + i, name, false, false);
		org_input_repository_set_pyproject(repository, text, strlen(text));
		repository->collaborators_known = true;
	}
	if (org_snapshot_build(input, config, &snapshot, &err) != GA_OK) {
		fprintf(stderr, "snapshot: %s\n", err.message);
		exit(1);
	}
	return snapshot;
}

static int
compare(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *what, double *samples, int count)
{
	qsort(samples, (size_t)count, sizeof(*samples), compare);
	printf("%-14s p50 %8.1f us   p99 %8.1f us   (%d rounds)\n", what, samples[count / 2],
	       samples[count * 99 / 100], count);
}

static enum cache_verdict
instant_verifier(void *context, const char *username, const char *token, long long *user_id,
		 char *detail, size_t detail_size)
{
	(void)context;
	(void)username;
	(void)token;
	(void)detail;
	(void)detail_size;
	*user_id = 583231;
	return CACHE_TOKEN_VALID;
}

int
main(int argc, char **argv)
{
	int repos = argc > 1 ? atoi(argv[1]) : 1000;	/* style-ok: a bench argument */
	int rounds = argc > 2 ? atoi(argv[2]) : 2000;	/* style-ok: a bench argument */
	struct config *config = config_new_defaults();
	struct oidc_fetcher fetcher = { fixed_fetch, NULL };
	struct oidc_keys *keys = oidc_keys_create();
	struct org_snapshot *snapshot;
	struct oidc_mint_result *result = ga_malloc(sizeof(*result));
	double *samples = ga_calloc((size_t)rounds, sizeof(*samples));
	char **tokens = ga_calloc((size_t)rounds + 1, sizeof(*tokens));
	long long now = (long long)time(NULL);
	struct cache *cache;
	struct ga_err err;

	ga_log_setup(GA_LOG_ERROR, GA_LOG_LOGFMT);
	if (repos < 1 || rounds < 100)
		return 2;
	make_jwks();
	config->tp_enabled = true;
	config->tp_audience = ga_strdup("idx");
	config->tp_key = ga_strdup("bench-minting-key-0123456789abcdef0123456789");
	ga_free(config->tp_issuer);
	config->tp_issuer = ga_strdup(ISSUER);
	snapshot = make_snapshot(config, repos);
	if (cache_create(config, &cache, &err) != GA_OK)
		return 1;
	/* The last repository: the worst case of the scan.  tokens[rounds]
	 * warms the key set (each token has its own jti: exchanged once). */
	for (int i = 0; i <= rounds; i++) {
		char *claims = ga_asprintf(
			"{\"jti\":\"bench-%d\",\"iss\":\"" ISSUER "\",\"aud\":\"idx\",\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld,"
			"\"repository\":\"acme/repo-%05d\",\"repository_id\":\"%d\",\"repository_owner\":"
			"\"acme\",\"repository_owner_id\":\"9000\",\"ref\":\"refs/tags/v%d\","
			"\"job_workflow_ref\":\"acme/repo-%05d/.github/workflows/release.yml@refs/tags/"
			"v%d\",\"event_name\":\"push\",\"run_id\":\"%d\",\"actor\":\"octocat\"}",
			i, now, now - 600, now + 300, repos, 300000 + repos, i, repos, i, 1000000 + i);

		tokens[i] = signed_token(claims);
		ga_free(claims);
	}
	printf("organization: %d repositories (each a package), RSA-2048 issuer key, warm key set\n",
	       repos);
	/* Warm the key set (the one fetch), then measure. */
	{
		struct oidc_mint_input input = { .token = tokens[rounds],
						 .token_len = strlen(tokens[rounds]), .now = now,
						 .config = config, .snapshot = snapshot, .keys = keys,
						 .fetcher = &fetcher, .cache = cache };

		oidc_mint(&input, result);
		if (result->status != OIDC_MINT_OK) {
			fprintf(stderr, "mint refused: %s\n", result->errors[0].description);
			return 1;
		}
	}
	for (int i = 0; i < rounds; i++) {
		struct oidc_mint_input input = { .token = tokens[i], .token_len = strlen(tokens[i]),
						 .now = now, .config = config, .snapshot = snapshot,
						 .keys = keys, .fetcher = &fetcher, .cache = cache };
		double start = now_us();

		oidc_mint(&input, result);
		samples[i] = now_us() - start;
		if (result->status != OIDC_MINT_OK)
			return 1;
	}
	report("mint", samples, rounds);

	/* The jti's claim alone (in the mints above too). */
	for (int i = 0; i < rounds; i++) {
		char jti[48];
		double start;

		snprintf(jti, sizeof(jti), "4f0b1a2e-0000-4000-8000-%012d", i);
		start = now_us();
		if (cache_claim_once(cache, ISSUER, jti, strlen(jti), now + 360, now) !=
		    CACHE_ONCE_FIRST)
			return 1;
		samples[i] = now_us() - start;
	}
	report("jti claim", samples, rounds);

	/* A request with the minted token: verify and re-check the standing. */
	for (int i = 0; i < rounds; i++) {
		struct oidc_publisher publisher;
		struct oidc_repository repository;
		char why[200];
		char digest[33];
		double start = now_us();

		if (oidc_token_verify(config->tp_key, result->token, now + 1, &publisher) !=
			    OIDC_TOKEN_OK ||
		    oidc_repository_standing(snapshot, publisher.organization_id,
					     publisher.repository_id, NULL, &repository, why,
					     sizeof(why)) != OIDC_STANDING_OK)
			return 1;
		oidc_token_package_digest(repository.package_key, digest);
		samples[i] = now_us() - start;
		if (strcmp(digest, publisher.package_digest) != 0)
			return 1;
	}
	report("minted use", samples, rounds);

	/* A request with a person's cached token. */
	cache_verify_token(cache, "octocat", "ghp_bench_0123456789abcdefghijklmnopqrstuv",
			   instant_verifier, NULL, NULL);
	for (int i = 0; i < rounds; i++) {
		double start = now_us();

		if (cache_verify_token(cache, "octocat", "ghp_bench_0123456789abcdefghijklmnopqrstuv",
				       instant_verifier, NULL, NULL) != CACHE_TOKEN_VALID ||
		    org_snapshot_find_member(snapshot, "octocat") < 0)
			return 1;
		samples[i] = now_us() - start;
	}
	report("personal use", samples, rounds);
	cache_destroy(cache);

	for (int i = 0; i <= rounds; i++)
		ga_free(tokens[i]);
	ga_free(tokens);
	ga_free(samples);
	ga_free(result);
	oidc_keys_destroy(keys);
	org_snapshot_release(snapshot);
	config_free(config);
	ga_free(jwks);
	EVP_PKEY_free(issuer_key);
	return 0;
}
