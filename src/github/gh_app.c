/* gh_app.c - GitHub App authentication: RS256 JWT and installation tokens; see gh_app.h. */
#include "github/gh_app.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "github/gh_internal.h"
#include "github/github.h"
#include "util/ga_buf.h"
#include "util/ga_clock.h"
#include "util/ga_log.h"
#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

#define DEFAULT_API_URL "https://api.github.com"
/* GitHub's answers here are a few kilobytes; anything far larger is wrong. */
#define APP_REPLY_MAX ((size_t)1 << 20)
/* Installation lookups after a failure: 1 s, doubling, at most 5 minutes. */
#define LOOKUP_BACKOFF_FIRST_MS 1000LL
#define LOOKUP_BACKOFF_MAX_MS (5 * 60 * 1000LL)

struct gh_app {
	struct gh_client *client;	/* borrowed: the transport */
	const struct config *config;	/* borrowed: the client's */
	EVP_PKEY *key;
	char *api_url;			/* no trailing slash */
	json_t *issuer;			/* the iss claim: integer App ID or client ID string */
	pthread_mutex_t lock;		/* token, expires_at, have_token; held while minting */
	char token[GH_APP_TOKEN_MAX];
	long long expires_at;
	bool have_token;
	_Atomic long long installation_id;
	atomic_ulong minted;
	atomic_ulong lookups;
	/* Failed installation lookups in a row, and when the next may be
	 * made (monotonic ms); under lock. */
	unsigned lookup_failures;
	long long next_lookup_ms;
	enum ga_rc last_lookup_rc;
};

/* ---- the key ------------------------------------------------------- */

/* An encrypted key would make OpenSSL prompt on the terminal: refuse it. */
static int
no_passphrase(char *buf, int size, int rwflag, void *context)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)context;
	return -1;
}

static enum ga_rc
load_key(const char *path, EVP_PKEY **out, struct ga_err *err)
{
	FILE *file = fopen(path, "r");
	EVP_PKEY *key;
	int type;

	*out = NULL;
	if (file == NULL)
		return ga_err_set(err, GA_EIO, "[github] app_private_key_file %s: cannot open: %s",
				  path, strerror(errno));
	key = PEM_read_PrivateKey(file, NULL, no_passphrase, NULL);
	fclose(file);
	ERR_clear_error();
	if (key == NULL)
		return ga_err_set(err, GA_EINVAL,
				  "[github] app_private_key_file %s: not an unencrypted PEM private "
				  "key (download it from the App's settings page)", path);
	type = EVP_PKEY_get_base_id(key);
	if (type != EVP_PKEY_RSA) {
		const char *name = OBJ_nid2sn(type);

		EVP_PKEY_free(key);
		return ga_err_set(err, GA_EINVAL,
				  "[github] app_private_key_file %s: a %s key; GitHub Apps sign "
				  "their JWT with RS256 and need the App's RSA private key",
				  path, name != NULL ? name : "non-RSA");
	}
	*out = key;
	return GA_OK;
}

/* A numeric App ID goes into iss as a number, a client ID as a string:
 * GitHub accepts both forms. */
static json_t *
issuer_of(const char *client_id)
{
	size_t len = strlen(client_id);
	bool digits = len > 0 && len <= 15;

	for (size_t i = 0; digits && i < len; i++)
		digits = client_id[i] >= '0' && client_id[i] <= '9';
	if (digits)
		return json_integer(strtoll(client_id, NULL, 10));
	return json_string(client_id);
}

enum ga_rc
gh_app_create(struct gh_client *client, struct gh_app **out, struct ga_err *err)
{
	const struct config *config = client->config;
	struct gh_app *app;
	EVP_PKEY *key;
	enum ga_rc rc;
	const char *api_url = config->api_url != NULL ? config->api_url : DEFAULT_API_URL;
	size_t api_len = strlen(api_url);

	*out = NULL;
	if (config->app_client_id == NULL || *config->app_client_id == '\0')
		return ga_err_set(err, GA_EINVAL, "[github] app_client_id: required for a GitHub App");
	if (config->app_private_key_file == NULL || *config->app_private_key_file == '\0')
		return ga_err_set(err, GA_EINVAL,
				  "[github] app_private_key_file: required for a GitHub App");
	rc = load_key(config->app_private_key_file, &key, err);
	if (rc != GA_OK)
		return rc;
	gh_global_init();
	app = ga_calloc(1, sizeof(*app));
	app->client = client;
	app->config = config;
	app->key = key;
	while (api_len > 0 && api_url[api_len - 1] == '/')
		api_len--;
	app->api_url = ga_strndup(api_url, api_len);
	app->issuer = issuer_of(config->app_client_id);
	pthread_mutex_init(&app->lock, NULL);
	atomic_init(&app->installation_id,
		    config->app_installation_id > 0 ? config->app_installation_id : 0);
	atomic_init(&app->minted, 0);
	atomic_init(&app->lookups, 0);
	*out = app;
	return GA_OK;
}

void
gh_app_destroy(struct gh_app *app)
{
	if (app == NULL)
		return;
	OPENSSL_cleanse(app->token, sizeof(app->token));
	EVP_PKEY_free(app->key);
	json_decref(app->issuer);
	pthread_mutex_destroy(&app->lock);
	ga_free(app->api_url);
	ga_free(app);
}

/* ---- the JWT ------------------------------------------------------- */

/* RFC 4648 section 5 without padding, as JWS wants it. */
static void
base64url_append(struct ga_buf *out, const unsigned char *data, size_t len)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i = 0;

	for (; i + 3 <= len; i += 3) {
		unsigned long triple = (unsigned long)data[i] << 16 |
				       (unsigned long)data[i + 1] << 8 | data[i + 2];

		ga_buf_append_char(out, alphabet[(triple >> 18) & 63]);
		ga_buf_append_char(out, alphabet[(triple >> 12) & 63]);
		ga_buf_append_char(out, alphabet[(triple >> 6) & 63]);
		ga_buf_append_char(out, alphabet[triple & 63]);
	}
	if (len - i == 1) {
		ga_buf_append_char(out, alphabet[data[i] >> 2]);
		ga_buf_append_char(out, alphabet[(data[i] & 3) << 4]);
	} else if (len - i == 2) {
		ga_buf_append_char(out, alphabet[data[i] >> 2]);
		ga_buf_append_char(out, alphabet[((data[i] & 3) << 4) | (data[i + 1] >> 4)]);
		ga_buf_append_char(out, alphabet[(data[i + 1] & 15) << 2]);
	}
}

static void
append_claims(const struct gh_app *app, long long now, struct ga_buf *out)
{
	json_t *claims = json_object();
	char *text;

	json_object_set_new(claims, "iat", json_integer(now - 60));
	json_object_set_new(claims, "exp", json_integer(now + GH_APP_JWT_LIFETIME));
	json_object_set(claims, "iss", app->issuer);
	text = json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(claims);
	if (text == NULL) {
		ga_logf(GA_LOG_ERROR, "jansson: out of memory");
		abort();
	}
	base64url_append(out, (const unsigned char *)text, strlen(text));
	free(text);	/* style-ok: jansson's allocation */
}

/* RSASSA-PKCS1-v1_5 with SHA-256 over the signing input. */
static bool
sign_rs256(EVP_PKEY *key, const char *input, size_t len, unsigned char **signature,
	   size_t *signature_len)
{
	EVP_MD_CTX *context = EVP_MD_CTX_new();
	bool ok = false;

	*signature = NULL;
	if (context == NULL)
		return false;
	if (EVP_DigestSignInit(context, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(context, NULL, signature_len, (const unsigned char *)input, len) != 1)
		goto done;
	*signature = ga_malloc(*signature_len);
	ok = EVP_DigestSign(context, *signature, signature_len, (const unsigned char *)input,
			    len) == 1;
done:
	EVP_MD_CTX_free(context);
	ERR_clear_error();
	if (!ok) {
		ga_free(*signature);
		*signature = NULL;
	}
	return ok;
}

enum ga_rc
gh_app_jwt(const struct gh_app *app, long long now, char **out, struct ga_err *err)
{
	static const char header[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
	struct ga_buf jwt;
	unsigned char *signature;
	size_t signature_len;

	*out = NULL;
	ga_buf_init(&jwt, 0);
	base64url_append(&jwt, (const unsigned char *)header, sizeof(header) - 1);
	ga_buf_append_char(&jwt, '.');
	append_claims(app, now, &jwt);
	if (!sign_rs256(app->key, jwt.data, jwt.len, &signature, &signature_len)) {
		ga_buf_free(&jwt);
		return ga_err_set(err, GA_EINVAL, "OpenSSL could not sign the GitHub App JWT");
	}
	ga_buf_append_char(&jwt, '.');
	base64url_append(&jwt, signature, signature_len);
	ga_free(signature);
	*out = ga_buf_steal(&jwt);
	return GA_OK;
}

/* ---- one call to GitHub ---------------------------------------------- */

/*
 * One call with a fresh JWT, through the client's transport: a network
 * error or 5xx is tried three times in all, 250 ms then 1 s apart
 * (GH_RETRY_APP; gh_client_cancel ends the waits).  GA_OK when an
 * answer came (in reply, whatever its status); otherwise none could, and
 * err says why: no JWT (GA_EINVAL), cancelled (GA_EUPSTREAM).
 */
static enum ga_rc
app_call(const struct gh_app *app, const char *method, const char *url, const char *what,
	 struct gh_response *reply, struct ga_err *err)
{
	struct gh_request request = {.method = method, .url = url, .what = what,
				     .retry = GH_RETRY_APP};
	struct ga_err inner = {0};
	enum ga_rc rc;
	char *jwt;

	gh_response_init(reply, APP_REPLY_MAX);
	rc = gh_app_jwt(app, (long long)time(NULL), &jwt, err);
	if (rc != GA_OK)
		return rc;
	request.jwt = jwt;
	/* POST with an empty body (GitHub needs none). */
	request.body = strcmp(method, "POST") == 0 ? "" : NULL;
	rc = gh_http_request(app->client, NULL, &request, reply, NULL, &inner);
	ga_secret_free(jwt);
	if (reply->final)
		return GA_OK;
	return ga_err_set(err, rc, "GitHub App %s", inner.message);
}

/* The error for an answer other than the one expected. */
static enum ga_rc
reply_error(const struct gh_app *app, const struct gh_response *reply, const char *what,
	    struct ga_err *err)
{
	char problem[GA_ERR_MESSAGE_MAX / 2];

	gh_http_describe(reply, problem, sizeof(problem));
	if (reply->transport != CURLE_OK || reply->status >= 500)
		return ga_err_set(err, GA_EUPSTREAM, "GitHub App %s: %s (after %u tries)", what,
				  problem, reply->tries);
	if (reply->status == 401)
		return ga_err_set(err, GA_EDENIED,
				  "GitHub App %s: GitHub refused the App's JWT (%s); check that "
				  "[github] app_client_id is the App's client ID or App ID and that "
				  "app_private_key_file is one of its current private keys", what,
				  problem);
	if (reply->status == 404)
		return ga_err_set(err, GA_ENOTFOUND,
				  "GitHub App %s: %s; is the App installed on organization %s%s?",
				  what, problem, app->config->organization,
				  app->config->app_installation_id > 0 ?
				  " with that [github] app_installation_id" : "");
	return ga_err_set(err, GA_EUPSTREAM, "GitHub App %s: %s", what, problem);
}

static enum ga_rc
parse_object(const struct gh_response *reply, const char *what, json_t **out, struct ga_err *err)
{
	*out = json_loadb(ga_buf_cstr(&reply->body), reply->body.len, JSON_REJECT_DUPLICATES,
			  NULL);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return ga_err_set(err, GA_EUPSTREAM, "GitHub App %s: the answer is not a JSON object",
				  what);
	}
	return GA_OK;
}

/* ---- installation and token ----------------------------------------- */

static enum ga_rc
lookup_installation(struct gh_app *app, struct ga_err *err)
{
	static const char what[] = "installation lookup (GET /orgs/{org}/installation)";
	struct gh_response reply;
	const char *organization = app->config->organization ? app->config->organization : "";
	char *escaped = gh_url_escape(organization);
	char *url = ga_asprintf("%s/orgs/%s/installation", app->api_url, escaped);
	json_t *root = NULL;
	json_t *id;
	enum ga_rc rc;

	ga_free(escaped);
	atomic_fetch_add(&app->lookups, 1);
	rc = app_call(app, "GET", url, what, &reply, err);
	if (rc != GA_OK)
		goto done;
	if (reply.transport != CURLE_OK || reply.status != 200) {
		rc = reply_error(app, &reply, what, err);
		goto done;
	}
	rc = parse_object(&reply, what, &root, err);
	if (rc != GA_OK)
		goto done;
	id = json_object_get(root, "id");
	if (!json_is_integer(id) || json_integer_value(id) <= 0) {
		rc = ga_err_set(err, GA_EUPSTREAM, "GitHub App %s: no installation id in the answer",
				what);
		goto done;
	}
	atomic_store(&app->installation_id, (long long)json_integer_value(id));
	ga_logf(GA_LOG_INFO, "GitHub App installation %lld found for organization %s",
		(long long)json_integer_value(id), organization);
done:
	json_decref(root);
	gh_response_free(&reply);
	ga_free(url);
	return rc;
}

/* A token must be printable ASCII without spaces to go into a header. */
static bool
token_is_sendable(const char *token, size_t max)
{
	size_t len = strlen(token);

	if (len == 0 || len >= max)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)token[i] <= ' ' || (unsigned char)token[i] >= 0x7f)
			return false;
	return true;
}

/* Take token and expires_at from the answer (lock held). */
static enum ga_rc
take_token(struct gh_app *app, const struct gh_response *reply, const char *what,
	   struct ga_err *err)
{
	json_t *root;
	const char *token;
	long long expires_at;
	enum ga_rc rc = parse_object(reply, what, &root, err);

	if (rc != GA_OK)
		return rc;
	token = json_string_value(json_object_get(root, "token"));
	expires_at = gh_app_parse_time(json_string_value(json_object_get(root, "expires_at")));
	if (token == NULL || !token_is_sendable(token, sizeof(app->token)) || expires_at < 0) {
		rc = ga_err_set(err, GA_EUPSTREAM,
				"GitHub App %s: the answer has no usable token or expires_at", what);
	} else {
		snprintf(app->token, sizeof(app->token), "%s", token);
		app->expires_at = expires_at;
		app->have_token = true;
	}
	/* jansson's copy of the token is wiped before it is freed. */
	if (token != NULL)
		OPENSSL_cleanse((char *)token, strlen(token));
	json_decref(root);
	return rc;
}

static enum ga_rc
mint_token(struct gh_app *app, struct ga_err *err)
{
	static const char what[] =
		"installation token (POST /app/installations/{id}/access_tokens)";
	struct gh_response reply;
	char *url;
	enum ga_rc rc;
	char seconds[32];

	url = ga_asprintf("%s/app/installations/%lld/access_tokens", app->api_url,
			  atomic_load(&app->installation_id));
	rc = app_call(app, "POST", url, what, &reply, err);
	if (rc == GA_OK && (reply.transport != CURLE_OK || reply.status != 201))
		rc = reply_error(app, &reply, what, err);
	else if (rc == GA_OK)
		rc = take_token(app, &reply, what, err);
	/* The body held the token. */
	if (reply.body.data != NULL)
		OPENSSL_cleanse(reply.body.data, reply.body.len);
	gh_response_free(&reply);
	ga_free(url);
	if (rc != GA_OK)
		return rc;
	atomic_fetch_add(&app->minted, 1);
	snprintf(seconds, sizeof(seconds), "%lld", app->expires_at - (long long)time(NULL));
	ga_log(GA_LOG_INFO, "GitHub App installation token minted", "expires_in_s", seconds,
	       (char *)NULL);
	return GA_OK;
}

/*
 * GET /orgs/{org}/installation, unless a lookup failed moments ago: then
 * wait (1 s, doubling, at most 5 minutes) and answer with that failure,
 * so that a server whose App was uninstalled does not ask at every sync,
 * poll and retry.  Lock held.
 */
static enum ga_rc
find_installation(struct gh_app *app, struct ga_err *err)
{
	long long now = ga_monotonic_ms();
	long long wait;
	enum ga_rc rc;

	if (app->lookup_failures > 0 && now < app->next_lookup_ms)
		return ga_err_set(err, app->last_lookup_rc,
				  "GitHub App: the installation on organization %s could not be found "
				  "(%u tries); next lookup in %lld ms",
				  app->config->organization ? app->config->organization : "",
				  app->lookup_failures, app->next_lookup_ms - now);
	rc = lookup_installation(app, err);
	if (rc == GA_OK) {
		app->lookup_failures = 0;
		return GA_OK;
	}
	wait = LOOKUP_BACKOFF_FIRST_MS << (app->lookup_failures < 9 ? app->lookup_failures : 9);
	app->lookup_failures++;
	app->next_lookup_ms = now + (wait < LOOKUP_BACKOFF_MAX_MS ? wait : LOOKUP_BACKOFF_MAX_MS);
	app->last_lookup_rc = rc;
	return rc;
}

/*
 * A new installation token (lock held).  A 404 for the token means the
 * installation is gone: the App was uninstalled, or reinstalled with a
 * new installation id (GitHub gives every installation its own).  Look it
 * up again (with backoff) rather than keep asking for a dead id until a
 * restart, while the snapshot ages into deny-all.
 */
static enum ga_rc
refresh_token(struct gh_app *app, struct ga_err *err)
{
	long long stale;
	enum ga_rc rc = GA_OK;

	if (atomic_load(&app->installation_id) == 0)
		rc = find_installation(app, err);
	if (rc == GA_OK)
		rc = mint_token(app, err);
	if (rc != GA_ENOTFOUND)
		return rc;
	stale = atomic_exchange(&app->installation_id, 0);
	if (stale == 0)
		return rc;	/* the lookup itself found nothing */
	ga_logf(GA_LOG_WARN,
		"GitHub App installation %lld is gone (the App was reinstalled or uninstalled): "
		"looking the installation up again", stale);
	rc = find_installation(app, err);
	if (rc == GA_OK)
		rc = mint_token(app, err);
	return rc;
}

enum ga_rc
gh_app_token(struct gh_app *app, char *token, size_t size, long long *expires_at,
	     struct ga_err *err)
{
	enum ga_rc rc = GA_OK;

	if (size < GH_APP_TOKEN_MAX)
		return ga_err_set(err, GA_EINVAL, "gh_app_token: buffer too small");
	token[0] = '\0';
	pthread_mutex_lock(&app->lock);
	if (!app->have_token || app->expires_at - (long long)time(NULL) <= GH_APP_REFRESH_MARGIN) {
		app->have_token = false;
		OPENSSL_cleanse(app->token, sizeof(app->token));
		rc = refresh_token(app, err);
	}
	if (rc == GA_OK) {
		memcpy(token, app->token, sizeof(app->token));
		if (expires_at != NULL)
			*expires_at = app->expires_at;
	}
	pthread_mutex_unlock(&app->lock);
	return rc;
}

void
gh_app_invalidate(struct gh_app *app)
{
	pthread_mutex_lock(&app->lock);
	app->have_token = false;
	OPENSSL_cleanse(app->token, sizeof(app->token));
	pthread_mutex_unlock(&app->lock);
}

void
gh_app_forget_installation(struct gh_app *app)
{
	pthread_mutex_lock(&app->lock);
	app->have_token = false;
	OPENSSL_cleanse(app->token, sizeof(app->token));
	atomic_store(&app->installation_id, 0);
	app->lookup_failures = 0;
	app->next_lookup_ms = 0;
	pthread_mutex_unlock(&app->lock);
}

unsigned long
gh_app_lookups(struct gh_app *app)
{
	return atomic_load(&app->lookups);
}

long long
gh_app_installation_id(struct gh_app *app)
{
	return atomic_load(&app->installation_id);
}

unsigned long
gh_app_tokens_minted(struct gh_app *app)
{
	return atomic_load(&app->minted);
}

/* ---- time ---------------------------------------------------------- */

static bool
take_digits(const char **text, int count, int *value)
{
	*value = 0;
	for (int i = 0; i < count; i++) {
		char c = (*text)[i];

		if (c < '0' || c > '9')
			return false;
		*value = *value * 10 + (c - '0');
	}
	*text += count;
	return true;
}

static bool
take_char(const char **text, char expected)
{
	if (**text != expected)
		return false;
	(*text)++;
	return true;
}

/* "Z", "+HH:MM" or "-HH:MM" -> seconds east of UTC. */
static bool
take_offset(const char **text, long *offset)
{
	int hours;
	int minutes;
	char sign = **text;

	if (take_char(text, 'Z')) {
		*offset = 0;
		return true;
	}
	if (sign != '+' && sign != '-')
		return false;
	(*text)++;
	if (!take_digits(text, 2, &hours) || !take_char(text, ':') ||
	    !take_digits(text, 2, &minutes) || hours > 23 || minutes > 59)
		return false;
	*offset = (sign == '+' ? 1 : -1) * (hours * 3600L + minutes * 60L);
	return true;
}

long long
gh_app_parse_time(const char *text)
{
	struct tm parts = {0};
	int year, month, day, hour, minute, second;
	long offset;

	if (text == NULL)
		return -1;
	if (!take_digits(&text, 4, &year) || !take_char(&text, '-') ||
	    !take_digits(&text, 2, &month) || !take_char(&text, '-') ||
	    !take_digits(&text, 2, &day) || !take_char(&text, 'T') ||
	    !take_digits(&text, 2, &hour) || !take_char(&text, ':') ||
	    !take_digits(&text, 2, &minute) || !take_char(&text, ':') ||
	    !take_digits(&text, 2, &second))
		return -1;
	if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
	    second > 60)
		return -1;
	if (take_char(&text, '.')) {
		if (*text < '0' || *text > '9')
			return -1;
		while (*text >= '0' && *text <= '9')
			text++;
	}
	if (!take_offset(&text, &offset) || *text != '\0')
		return -1;
	parts.tm_year = year - 1900;
	parts.tm_mon = month - 1;
	parts.tm_mday = day;
	parts.tm_hour = hour;
	parts.tm_min = minute;
	parts.tm_sec = second;
	return (long long)timegm(&parts) - offset;
}
