/* test_gh_app.c - GitHub App JWT, installation lookup and token refresh, against the stand-in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "config/config.h"
#include "github/gh_app.h"
#include "github/github.h"
#include "util/ga_buf.h"
#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

#include "../support/scenario.h"
#include "../support/standin.h"

/* Test-only keys, see tests/data/app/README.md. */
#define KEY_PKCS8 "tests/data/app/test-app.pem"
#define KEY_PKCS1 "tests/data/app/test-app-pkcs1.pem"
#define KEY_PUBLIC "tests/data/app/test-app.pub.pem"
#define KEY_OTHER "tests/data/app/other-app.pem"
#define KEY_EC "tests/data/app/ec-app.pem"
#define APP_ID "12345"
#define CLIENT_ID "Iv1.0123456789abcdef"
#define INSTALLATION 4242

/*
 * An App asks GitHub through a client (its transport): each App of these
 * tests gets a client of its own for config, destroyed with it.
 */
static struct made_app {
	struct gh_app *app;
	struct gh_client *client;
} made_apps[8];

static enum ga_rc
app_create(const struct config *config, struct gh_app **out, struct ga_err *err)
{
	struct gh_client *client = gh_client_create(config, NULL);
	enum ga_rc rc = gh_app_create(client, out, err);

	if (rc != GA_OK) {
		gh_client_destroy(client);
		return rc;
	}
	for (size_t i = 0; i < sizeof(made_apps) / sizeof(made_apps[0]); i++)
		if (made_apps[i].app == NULL) {
			made_apps[i] = (struct made_app){ *out, client };
			return GA_OK;
		}
	fail_msg("too many Apps at once in one test");
	return GA_EINVAL;
}

static void
app_destroy(struct gh_app *app)
{
	for (size_t i = 0; i < sizeof(made_apps) / sizeof(made_apps[0]); i++)
		if (made_apps[i].app == app) {
			gh_app_destroy(app);
			gh_client_destroy(made_apps[i].client);
			made_apps[i].app = NULL;
			return;
		}
	fail_msg("an App this test did not make");
}

static struct config *
offline_config(const char *client_id, const char *key_file)
{
	struct config *config = config_new_defaults();

	ga_free(config->organization);
	config->organization = ga_strdup("acme");
	config->app_client_id = ga_strdup(client_id);
	config->app_private_key_file = ga_strdup(key_file);
	return config;
}

/* ---- base64url and the JWT's parts ------------------------------------ */

static int
base64url_value(char c)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *found = c != '\0' ? strchr(alphabet, c) : NULL;

	return found != NULL ? (int)(found - alphabet) : -1;
}

/* Decode unpadded base64url; fails the test on any other character. */
static unsigned char *
base64url_decode(const char *text, size_t len, size_t *out_len)
{
	unsigned char *out = ga_malloc(len * 3 / 4 + 3);
	unsigned long bits = 0;
	int bit_count = 0;

	*out_len = 0;
	assert_true(len % 4 != 1);
	for (size_t i = 0; i < len; i++) {
		int value = base64url_value(text[i]);

		assert_true(value >= 0);
		bits = (bits << 6) | (unsigned long)value;
		bit_count += 6;
		if (bit_count >= 8) {
			bit_count -= 8;
			out[(*out_len)++] = (unsigned char)(bits >> bit_count);
			bits &= (1UL << bit_count) - 1;
		}
	}
	return out;
}

struct jwt_parts {
	json_t *header;
	json_t *claims;
	unsigned char *signature;
	size_t signature_len;
	size_t signed_len;	/* length of "header.claims" */
};

static void
jwt_split(const char *jwt, struct jwt_parts *parts)
{
	const char *dot1 = strchr(jwt, '.');
	const char *dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
	unsigned char *text;
	size_t len;

	assert_non_null(dot1);
	assert_non_null(dot2);
	assert_null(strchr(dot2 + 1, '.'));
	assert_null(strchr(jwt, '='));
	text = base64url_decode(jwt, (size_t)(dot1 - jwt), &len);
	parts->header = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);
	/* The header is exactly GitHub's example, byte for byte. */
	assert_int_equal(len, strlen("{\"alg\":\"RS256\",\"typ\":\"JWT\"}"));
	assert_memory_equal(text, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", len);
	ga_free(text);
	text = base64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &len);
	parts->claims = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);
	ga_free(text);
	parts->signature = base64url_decode(dot2 + 1, strlen(dot2 + 1), &parts->signature_len);
	parts->signed_len = (size_t)(dot2 - jwt);
	assert_non_null(parts->header);
	assert_non_null(parts->claims);
}

static void
jwt_parts_free(struct jwt_parts *parts)
{
	json_decref(parts->header);
	json_decref(parts->claims);
	ga_free(parts->signature);
}

static bool
signature_verifies(const char *jwt, const struct jwt_parts *parts, const char *public_key)
{
	FILE *file = fopen(public_key, "r");
	EVP_PKEY *key;
	EVP_MD_CTX *context = EVP_MD_CTX_new();
	bool ok;

	assert_non_null(file);
	key = PEM_read_PUBKEY(file, NULL, NULL, NULL);
	fclose(file);
	assert_non_null(key);
	ok = EVP_DigestVerifyInit(context, NULL, EVP_sha256(), NULL, key) == 1 &&
	     EVP_DigestVerify(context, parts->signature, parts->signature_len,
			      (const unsigned char *)jwt, parts->signed_len) == 1;
	EVP_MD_CTX_free(context);
	EVP_PKEY_free(key);
	return ok;
}

static void
test_jwt_structure_and_signature(void **state)
{
	struct config *config = offline_config(CLIENT_ID, KEY_PKCS8);
	struct gh_app *app = NULL;
	struct ga_err err = {0};
	struct jwt_parts parts;
	char *jwt = NULL;
	const long long now = 1714564800;	/* 2024-05-01T12:00:00Z */

	(void)state;
	assert_int_equal(app_create(config, &app, &err), GA_OK);
	assert_int_equal(gh_app_jwt(app, now, &jwt, &err), GA_OK);
	jwt_split(jwt, &parts);
	assert_string_equal(json_string_value(json_object_get(parts.header, "alg")), "RS256");
	assert_int_equal(json_integer_value(json_object_get(parts.claims, "iat")), now - 60);
	assert_int_equal(json_integer_value(json_object_get(parts.claims, "exp")), now + 540);
	assert_string_equal(json_string_value(json_object_get(parts.claims, "iss")), CLIENT_ID);
	assert_int_equal(json_object_size(parts.claims), 3);
	/* 2048-bit RSA: a 256-byte signature, verified with the public key. */
	assert_int_equal(parts.signature_len, 256);
	assert_true(signature_verifies(jwt, &parts, KEY_PUBLIC));
	/* One changed byte of the signed part breaks it. */
	jwt[5] = jwt[5] == 'A' ? 'B' : 'A';
	assert_false(signature_verifies(jwt, &parts, KEY_PUBLIC));
	jwt_parts_free(&parts);
	ga_secret_free(jwt);
	app_destroy(app);
	config_free(config);
}

/* A numeric App ID is sent as a JSON number, like GitHub's own examples. */
static void
test_jwt_numeric_app_id(void **state)
{
	struct config *config = offline_config(APP_ID, KEY_PKCS8);
	struct gh_app *app = NULL;
	struct jwt_parts parts;
	char *jwt = NULL;

	(void)state;
	assert_int_equal(app_create(config, &app, NULL), GA_OK);
	assert_int_equal(gh_app_jwt(app, 1000000000, &jwt, NULL), GA_OK);
	jwt_split(jwt, &parts);
	assert_true(json_is_integer(json_object_get(parts.claims, "iss")));
	assert_int_equal(json_integer_value(json_object_get(parts.claims, "iss")), 12345);
	jwt_parts_free(&parts);
	ga_secret_free(jwt);
	app_destroy(app);
	config_free(config);
}

/* GitHub hands out PKCS#1 keys; PKCS#1 v1.5 signatures are deterministic,
 * so both encodings of one key give the same JWT. */
static void
test_pkcs1_and_pkcs8_sign_alike(void **state)
{
	struct config *config8 = offline_config(CLIENT_ID, KEY_PKCS8);
	struct config *config1 = offline_config(CLIENT_ID, KEY_PKCS1);
	struct gh_app *app8 = NULL;
	struct gh_app *app1 = NULL;
	char *jwt8 = NULL;
	char *jwt1 = NULL;

	(void)state;
	assert_int_equal(app_create(config8, &app8, NULL), GA_OK);
	assert_int_equal(app_create(config1, &app1, NULL), GA_OK);
	assert_int_equal(gh_app_jwt(app8, 1714564800, &jwt8, NULL), GA_OK);
	assert_int_equal(gh_app_jwt(app1, 1714564800, &jwt1, NULL), GA_OK);
	assert_string_equal(jwt8, jwt1);
	ga_secret_free(jwt8);
	ga_secret_free(jwt1);
	app_destroy(app8);
	app_destroy(app1);
	config_free(config8);
	config_free(config1);
}

struct key_case {
	const char *client_id;
	const char *key_file;
	enum ga_rc rc;
	const char *message_part;
};

static void
test_bad_keys_refused(void **state)
{
	static const struct key_case cases[] = {
		{ CLIENT_ID, KEY_EC, GA_EINVAL, "need the App's RSA private key" },
		{ CLIENT_ID, KEY_EC, GA_EINVAL, "id-ecPublicKey key" },
		{ CLIENT_ID, KEY_PUBLIC, GA_EINVAL, "not an unencrypted PEM private key" },
		{ CLIENT_ID, "tests/data/app/README.md", GA_EINVAL, "not an unencrypted PEM" },
		{ CLIENT_ID, "tests/data/app/missing.pem", GA_EIO, "cannot open" },
		{ "", KEY_PKCS8, GA_EINVAL, "app_client_id: required" },
		{ CLIENT_ID, "", GA_EINVAL, "app_private_key_file: required" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *config = offline_config(cases[i].client_id, cases[i].key_file);
		struct gh_app *app = (struct gh_app *)&cases[i];
		struct ga_err err = {0};

		assert_int_equal(app_create(config, &app, &err), cases[i].rc);
		assert_null(app);
		if (strstr(err.message, cases[i].message_part) == NULL)
			fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, err.message,
				 cases[i].message_part);
		config_free(config);
	}
}

struct time_case {
	const char *text;
	long long expected;
};

static void
test_parse_time(void **state)
{
	static const struct time_case cases[] = {
		{ "2024-05-01T12:00:00Z", 1714564800 },
		{ "2024-05-01T12:00:00.123Z", 1714564800 },
		{ "2024-05-01T14:00:00+02:00", 1714564800 },
		{ "2024-05-01T10:30:00-01:30", 1714564800 },
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2024-05-01 12:00:00Z", -1 },
		{ "2024-05-01T12:00:00", -1 },
		{ "2024-05-01T12:00:00Zjunk", -1 },
		{ "2024-13-01T12:00:00Z", -1 },
		{ "2024-05-01T12:00:00.Z", -1 },
		{ "", -1 },
		{ NULL, -1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(gh_app_parse_time(cases[i].text), cases[i].expected);
}

/* ---- against the stand-in --------------------------------------------- */

static const char *
worked_example(void)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/worked-example.json", scenario_directory());
	return path;
}

static struct standin *
start_app_standin(const char *ttl)
{
	const char *args[] = {
		"--scenario", worked_example(), "--app-id", APP_ID, "--app-client-id", CLIENT_ID,
		"--app-public-key", KEY_PUBLIC, "--app-token-ttl", ttl, NULL,
	};

	return standin_start(args);
}

static struct config *
app_config(const struct standin *standin, const char *client_id, const char *key_file,
	   long long installation_id)
{
	struct config *config = standin_config(standin, NULL, "acme", "unused");

	ga_secret_free(config->token);
	config->token = NULL;
	config->app_client_id = ga_strdup(client_id);
	config->app_private_key_file = ga_strdup(key_file);
	config->app_installation_id = installation_id;
	return config;
}

static size_t
discard(char *data, size_t size, size_t count, void *context)
{
	(void)data;
	(void)context;
	return size * count;
}

/* The HTTP status of GET {api_url}{path} with the token. */
static long
get_with_token(const struct config *config, const char *path, const char *token)
{
	CURL *handle = curl_easy_init();
	struct curl_slist *headers = NULL;
	char *url = ga_asprintf("%s%s", config->api_url, path);
	char *authorization = ga_asprintf("Authorization: Bearer %s", token);
	long status = 0;

	headers = curl_slist_append(headers, authorization);
	headers = curl_slist_append(headers, "User-Agent: ghaccess-test");
	headers = curl_slist_append(headers, "Accept: application/vnd.github+json");
	curl_easy_setopt(handle, CURLOPT_URL, url);
	curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(handle, CURLOPT_TIMEOUT, 10L);
	if (curl_easy_perform(handle) == CURLE_OK)
		curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(handle);
	ga_free(url);
	ga_free(authorization);
	return status;
}

static void
test_standin_lookup_and_token(void **state)
{
	struct standin *standin = start_app_standin("400");
	struct config *config = app_config(standin, CLIENT_ID, KEY_PKCS1, 0);
	struct gh_app *app = NULL;
	struct ga_err err = {0};
	char first[GH_APP_TOKEN_MAX];
	char second[GH_APP_TOKEN_MAX];
	long long expires_at = 0;
	long long now = (long long)time(NULL);

	(void)state;
	assert_int_equal(app_create(config, &app, &err), GA_OK);
	assert_int_equal(gh_app_installation_id(app), 0);
	if (gh_app_token(app, first, sizeof(first), &expires_at, &err) != GA_OK)
		fail_msg("gh_app_token: %s", err.message);
	assert_int_equal(gh_app_installation_id(app), INSTALLATION);
	assert_memory_equal(first, "ghs_", 4);
	assert_true(expires_at >= now + 400 - 5 && expires_at <= now + 400 + 5);
	/* The token is an installation token GitHub accepts. */
	assert_int_equal(get_with_token(config, "/orgs/acme", first), 200);
	/* 400 s left is more than the 5 minute margin: the same token again. */
	assert_int_equal(gh_app_token(app, second, sizeof(second), NULL, &err), GA_OK);
	assert_string_equal(first, second);
	assert_int_equal(gh_app_tokens_minted(app), 1);
	/* After a 401 the caller invalidates: a new token. */
	gh_app_invalidate(app);
	assert_int_equal(gh_app_token(app, second, sizeof(second), NULL, &err), GA_OK);
	assert_string_not_equal(first, second);
	assert_int_equal(gh_app_tokens_minted(app), 2);
	app_destroy(app);
	config_free(config);
	standin_stop(standin);
}

/* A token that expires within the margin is replaced on its next use. */
static void
test_standin_refresh_before_expiry(void **state)
{
	struct standin *standin = start_app_standin("240");
	struct config *config = app_config(standin, APP_ID, KEY_PKCS8, INSTALLATION);
	struct gh_app *app = NULL;
	struct ga_err err = {0};
	char first[GH_APP_TOKEN_MAX];
	char second[GH_APP_TOKEN_MAX];
	json_t *stats;

	(void)state;
	assert_int_equal(app_create(config, &app, &err), GA_OK);
	/* Configured: no lookup. */
	assert_int_equal(gh_app_installation_id(app), INSTALLATION);
	standin_reset_stats(standin);
	if (gh_app_token(app, first, sizeof(first), NULL, &err) != GA_OK)
		fail_msg("gh_app_token: %s", err.message);
	assert_int_equal(gh_app_token(app, second, sizeof(second), NULL, &err), GA_OK);
	assert_string_not_equal(first, second);
	assert_int_equal(gh_app_tokens_minted(app), 2);
	/* Two token calls and nothing else: the installation was not looked up. */
	stats = standin_stats(standin);
	assert_int_equal(json_integer_value(json_object_get(stats, "rest_requests")), 2);
	json_decref(stats);
	/* The old token still works until it really expires. */
	assert_int_equal(get_with_token(config, "/orgs/acme", first), 200);
	app_destroy(app);
	config_free(config);
	standin_stop(standin);
}

static void
test_standin_refusals(void **state)
{
	struct standin *standin = start_app_standin("3600");
	static const struct key_case cases[] = {
		/* a key of another App */
		{ CLIENT_ID, KEY_OTHER, GA_EDENIED, "GitHub refused the App's JWT" },
		/* another App's client ID */
		{ "Iv1.notthisapp", KEY_PKCS8, GA_EDENIED, "app_client_id" },
	};
	char token[GH_APP_TOKEN_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *config = app_config(standin, cases[i].client_id, cases[i].key_file, 0);
		struct gh_app *app = NULL;
		struct ga_err err = {0};

		assert_int_equal(app_create(config, &app, &err), GA_OK);
		assert_int_equal(gh_app_token(app, token, sizeof(token), NULL, &err), cases[i].rc);
		if (strstr(err.message, cases[i].message_part) == NULL)
			fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, err.message,
				 cases[i].message_part);
		assert_string_equal(token, "");
		assert_int_equal(gh_app_tokens_minted(app), 0);
		app_destroy(app);
		config_free(config);
	}
	standin_stop(standin);
}

static void
test_standin_unknown_installation(void **state)
{
	struct standin *standin = start_app_standin("3600");
	struct config *config = app_config(standin, CLIENT_ID, KEY_PKCS8, 999);
	struct gh_app *app = NULL;
	struct ga_err err = {0};
	char token[GH_APP_TOKEN_MAX];

	(void)state;
	/* A configured installation that is gone (a reinstall gives a new
	 * id): the 404 makes the App look its installation up, and use it. */
	assert_int_equal(app_create(config, &app, &err), GA_OK);
	assert_int_equal(gh_app_installation_id(app), 999);
	if (gh_app_token(app, token, sizeof(token), NULL, &err) != GA_OK)
		fail_msg("gh_app_token: %s", err.message);
	assert_int_equal(gh_app_installation_id(app), INSTALLATION);
	assert_int_equal(gh_app_lookups(app), 1);
	app_destroy(app);
	/* Another organization: the App is not installed there. */
	ga_free(config->organization);
	config->organization = ga_strdup("not-acme");
	config->app_installation_id = 0;
	assert_int_equal(app_create(config, &app, &err), GA_OK);
	assert_int_equal(gh_app_token(app, token, sizeof(token), NULL, &err), GA_ENOTFOUND);
	assert_non_null(strstr(err.message, "installed on organization not-acme"));
	/* Asked again at once: the lookup backoff answers, GitHub is not asked. */
	assert_int_equal(gh_app_token(app, token, sizeof(token), NULL, &err), GA_ENOTFOUND);
	assert_non_null(strstr(err.message, "next lookup in"));
	assert_int_equal(gh_app_lookups(app), 1);
	app_destroy(app);
	config_free(config);
	standin_stop(standin);
}

/* POST /_standin/app/installation {"action": action}. */
static void
change_installation(const struct standin *standin, const char *action)
{
	char body[64];

	snprintf(body, sizeof(body), "{\"action\":\"%s\"}", action);
	assert_int_equal(standin_request(standin, "/_standin/app/installation", body, NULL), 200);
}

/*
 * The App reinstalled: a new installation id, the old one 404s and its
 * tokens are revoked.  After the 401 (the caller invalidates) the 404 for
 * the token makes the App look its installation up again: no restart.
 */
static void
test_standin_reinstalled(void **state)
{
	struct standin *standin = start_app_standin("3600");
	struct config *config = app_config(standin, CLIENT_ID, KEY_PKCS8, 0);
	struct gh_app *app = NULL;
	struct ga_err err = {0};
	char token[GH_APP_TOKEN_MAX];

	(void)state;
	assert_int_equal(app_create(config, &app, &err), GA_OK);
	assert_int_equal(gh_app_token(app, token, sizeof(token), NULL, &err), GA_OK);
	assert_int_equal(gh_app_installation_id(app), INSTALLATION);
	change_installation(standin, "reinstall");
	assert_int_equal(get_with_token(config, "/orgs/acme", token), 401);
	gh_app_invalidate(app);
	if (gh_app_token(app, token, sizeof(token), NULL, &err) != GA_OK)
		fail_msg("after the reinstall: %s", err.message);
	assert_int_equal(gh_app_installation_id(app), INSTALLATION + 1);
	assert_int_equal(gh_app_lookups(app), 2);
	assert_int_equal(get_with_token(config, "/orgs/acme", token), 200);
	app_destroy(app);
	config_free(config);
	standin_stop(standin);
}

/*
 * Uninstalled: lookups back off (no request while waiting); installed
 * again, the lookup after the wait finds it.  The installation webhook's
 * events (gh_app_forget_installation) make the next lookup immediate.
 */
static void
test_standin_uninstalled_backoff(void **state)
{
	struct standin *standin = start_app_standin("3600");
	struct config *config = app_config(standin, CLIENT_ID, KEY_PKCS8, 0);
	struct gh_app *app = NULL;
	struct ga_err err = {0};
	char token[GH_APP_TOKEN_MAX];

	(void)state;
	assert_int_equal(app_create(config, &app, &err), GA_OK);
	assert_int_equal(gh_app_token(app, token, sizeof(token), NULL, &err), GA_OK);
	change_installation(standin, "uninstall");
	gh_app_invalidate(app);
	/* The token request 404s, the lookup too. */
	assert_int_equal(gh_app_token(app, token, sizeof(token), NULL, &err), GA_ENOTFOUND);
	assert_int_equal(gh_app_lookups(app), 2);
	assert_int_equal(gh_app_installation_id(app), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(gh_app_token(app, token, sizeof(token), NULL, &err), GA_ENOTFOUND);
	assert_int_equal(gh_app_lookups(app), 2);
	change_installation(standin, "install");
	usleep(1100 * 1000);
	if (gh_app_token(app, token, sizeof(token), NULL, &err) != GA_OK)
		fail_msg("after the backoff: %s", err.message);
	assert_int_equal(gh_app_installation_id(app), INSTALLATION + 1);
	assert_int_equal(gh_app_lookups(app), 3);
	/* Uninstalled again, then the created event: no waiting. */
	change_installation(standin, "uninstall");
	gh_app_invalidate(app);
	assert_int_equal(gh_app_token(app, token, sizeof(token), NULL, &err), GA_ENOTFOUND);
	change_installation(standin, "install");
	gh_app_forget_installation(app);
	if (gh_app_token(app, token, sizeof(token), NULL, &err) != GA_OK)
		fail_msg("after the created event: %s", err.message);
	assert_int_equal(gh_app_installation_id(app), INSTALLATION + 2);
	app_destroy(app);
	config_free(config);
	standin_stop(standin);
}

/* The stand-in down: a clear upstream error after the retries. */
static void
test_standin_down(void **state)
{
	struct standin *standin = start_app_standin("3600");
	struct config *config = app_config(standin, CLIENT_ID, KEY_PKCS8, INSTALLATION);
	struct gh_app *app = NULL;
	struct ga_err err = {0};
	char token[GH_APP_TOKEN_MAX];

	(void)state;
	standin_fault(standin, "{\"mode\":\"error5xx\",\"status\":502,\"target\":\"rest\"}");
	assert_int_equal(app_create(config, &app, &err), GA_OK);
	assert_int_equal(gh_app_token(app, token, sizeof(token), NULL, &err), GA_EUPSTREAM);
	assert_non_null(strstr(err.message, "HTTP 502"));
	assert_non_null(strstr(err.message, "after 3 tries"));
	/* The fault gone, the next call succeeds. */
	standin_fault(standin, "{\"mode\":\"none\"}");
	assert_int_equal(gh_app_token(app, token, sizeof(token), NULL, &err), GA_OK);
	app_destroy(app);
	config_free(config);
	standin_stop(standin);
}

/* ---- cancellation: gh_client_cancel ends the App's waits too ------------ */

struct app_sync {
	struct gh_client *client;
	enum ga_rc rc;
	struct ga_err err;
};

static void *
run_app_sync(void *context)
{
	struct app_sync *job = context;
	struct org_input *input = NULL;

	job->rc = gh_sync(job->client, &input, NULL, &job->err);
	org_input_free(input);
	return NULL;
}

/*
 * The installation token endpoint answers 502: the App tries three times,
 * waiting 250 ms and 1 s between tries.  gh_client_cancel (shutdown) during
 * those waits ends them: no third try, and the sync says it was
 * cancelled.  (The App used to sleep with nanosleep, which nothing could
 * interrupt, and made its three tries whatever happened.)
 */
static void
test_standin_cancel_ends_app_waits(void **state)
{
	struct standin *standin = start_app_standin("3600");
	struct config *config = app_config(standin, CLIENT_ID, KEY_PKCS8, INSTALLATION);
	struct app_sync job = { .client = gh_client_create(config, NULL) };
	pthread_t thread;

	(void)state;
	standin_fault(standin, "{\"mode\":\"error5xx\",\"status\":502,\"target\":\"rest\"}");
	standin_reset_stats(standin);
	assert_int_equal(pthread_create(&thread, NULL, run_app_sync, &job), 0);
	for (int i = 0; i < 500 && standin_stat(standin, "faulted_requests") < 1; i++)
		usleep(5 * 1000);
	gh_client_cancel(job.client);
	pthread_join(thread, NULL);
	assert_int_not_equal(job.rc, GA_OK);
	if (strstr(job.err.message, "cancelled") == NULL)
		fail_msg("the sync did not end as cancelled: %s", job.err.message);
	assert_true(standin_stat(standin, "faulted_requests") < 3);
	gh_client_destroy(job.client);
	config_free(config);
	standin_stop(standin);
}

/* A cancelled client asks GitHub nothing more, not even for a token. */
static void
test_standin_cancelled_client_asks_nothing(void **state)
{
	struct standin *standin = start_app_standin("3600");
	struct config *config = app_config(standin, CLIENT_ID, KEY_PKCS8, INSTALLATION);
	struct app_sync job = { .client = gh_client_create(config, NULL) };
	json_t *stats;

	(void)state;
	standin_fault(standin, "{\"mode\":\"error5xx\",\"status\":502,\"target\":\"rest\"}");
	standin_reset_stats(standin);
	gh_client_cancel(job.client);
	run_app_sync(&job);
	assert_int_not_equal(job.rc, GA_OK);
	assert_non_null(strstr(job.err.message, "cancelled"));
	stats = standin_stats(standin);
	assert_int_equal(json_integer_value(json_object_get(stats, "faulted_requests")), 0);
	assert_int_equal(json_integer_value(json_object_get(stats, "rest_requests")), 0);
	assert_int_equal(json_integer_value(json_object_get(stats, "graphql_requests")), 0);
	json_decref(stats);
	gh_client_destroy(job.client);
	config_free(config);
	standin_stop(standin);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jwt_structure_and_signature),
		cmocka_unit_test(test_jwt_numeric_app_id),
		cmocka_unit_test(test_pkcs1_and_pkcs8_sign_alike),
		cmocka_unit_test(test_bad_keys_refused),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_standin_lookup_and_token),
		cmocka_unit_test(test_standin_refresh_before_expiry),
		cmocka_unit_test(test_standin_refusals),
		cmocka_unit_test(test_standin_unknown_installation),
		cmocka_unit_test(test_standin_reinstalled),
		cmocka_unit_test(test_standin_uninstalled_backoff),
		cmocka_unit_test(test_standin_down),
		cmocka_unit_test(test_standin_cancel_ends_app_waits),
		cmocka_unit_test(test_standin_cancelled_client_asks_nothing),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
