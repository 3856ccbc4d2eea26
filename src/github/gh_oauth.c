/*
 * gh_oauth.c - the OAuth web flow's calls to GitHub, for the web pages'
 * sign-in: the code exchange and "who owns this token".
 *
 * GitHub documents the exchange in "Authorizing OAuth apps" and "Generating
 * a user access token for a GitHub App": POST /login/oauth/access_token on
 * the web host (not the API), client_id, client_secret, code, redirect_uri
 * and, with PKCE, code_verifier; with Accept: application/json the answer
 * is {"access_token", "token_type": "bearer", "scope"} or, for a refused
 * exchange, {"error", "error_description", "error_uri"} ("Troubleshooting
 * OAuth app access token request errors").
 */
#include "github/gh_internal.h"

#include <string.h>
#include <strings.h>

#include "util/ga_log.h"
#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

#define DEFAULT_GITHUB_URL "https://github.com"
/* An access token reply is about 100 bytes; nothing larger is read. */
#define EXCHANGE_REPLY_MAX (16 * 1024)

/* Append name=value, the value form-encoded (RFC 3986 unreserved stay). */
static void
append_field(struct ga_buf *body, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";

	if (body->len > 0)
		ga_buf_append_char(body, '&');
	ga_buf_append_str(body, name);
	ga_buf_append_char(body, '=');
	for (const unsigned char *c = (const unsigned char *)value; *c != '\0'; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_' || *c == '~') {
			ga_buf_append_char(body, (char)*c);
		} else {
			ga_buf_append_char(body, '%');
			ga_buf_append_char(body, hex[*c >> 4]);
			ga_buf_append_char(body, hex[*c & 15]);
		}
	}
}

static void
wipe_buf(struct ga_buf *buf)
{
	if (buf->data != NULL)
		explicit_bzero(buf->data, buf->cap);
	ga_buf_free(buf);
}

/* The reply of a 200: a token, or GitHub's refusal. */
static enum gh_oauth_result
judge_exchange(const struct gh_response *response, char **token, struct ga_err *err)
{
	json_t *root = json_loadb(response->body.data ? response->body.data : "",
				  response->body.len, JSON_REJECT_DUPLICATES, NULL);
	json_t *error = json_object_get(root, "error");
	json_t *access_token = json_object_get(root, "access_token");
	json_t *token_type = json_object_get(root, "token_type");
	enum gh_oauth_result result = GH_OAUTH_UNAVAILABLE;

	if (!json_is_object(root)) {
		ga_err_set(err, GA_EUPSTREAM, "access_token: the reply is not a JSON object");
	} else if (json_is_string(error)) {
		/* GitHub's codes are short words; keep only those characters. */
		char code[48];
		size_t n = 0;

		for (const char *c = json_string_value(error); *c != '\0' && n + 1 < sizeof(code); c++)
			if ((*c >= 'a' && *c <= 'z') || *c == '_')
				code[n++] = *c;
		code[n] = '\0';
		result = GH_OAUTH_REFUSED;
		ga_err_set(err, GA_EDENIED, "GitHub refused the code exchange: %s", code);
	} else if (json_is_string(access_token) && json_is_string(token_type) &&
		   strcasecmp(json_string_value(token_type), "bearer") == 0 &&
		   gh_token_is_sendable(json_string_value(access_token))) {
		result = GH_OAUTH_OK;
		*token = ga_strdup(json_string_value(access_token));
	} else {
		ga_err_set(err, GA_EUPSTREAM, "access_token: no usable bearer token in the reply");
	}
	/* jansson's copy of the token goes with the tree. */
	if (json_is_string(access_token))
		explicit_bzero((char *)json_string_value(access_token),
			       json_string_length(access_token));
	json_decref(root);
	return result;
}

enum gh_oauth_result
gh_oauth_exchange(struct gh_client *client, const struct gh_oauth_exchange *exchange,
		  char **token, struct ga_err *err)
{
	const char *github_url = client->config->web_github_url ? client->config->web_github_url
							       : DEFAULT_GITHUB_URL;
	struct gh_request request = {.method = "POST", .anonymous = true,
				     .what = "POST /login/oauth/access_token",
				     .retry = GH_RETRY_NONE, .accept = "application/json",
				     .content_type = "application/x-www-form-urlencoded"};
	struct gh_response response;
	enum gh_oauth_result result;
	char problem[GA_ERR_MESSAGE_MAX / 2];
	struct ga_buf body;
	struct ga_err inner = {0};
	char *url;

	*token = NULL;
	ga_buf_init(&body, 0);
	append_field(&body, "client_id", exchange->client_id);
	append_field(&body, "client_secret", exchange->client_secret);
	append_field(&body, "code", exchange->code);
	append_field(&body, "redirect_uri", exchange->redirect_uri);
	append_field(&body, "code_verifier", exchange->code_verifier);
	url = ga_asprintf("%s/login/oauth/access_token", github_url);
	request.url = url;
	request.body = ga_buf_cstr(&body);
	gh_response_init(&response, EXCHANGE_REPLY_MAX);
	gh_http_request(client, NULL, &request, &response, NULL, &inner);
	wipe_buf(&body);
	if (!response.final) {
		result = GH_OAUTH_UNAVAILABLE;	/* cancelled */
		ga_err_set(err, GA_EUPSTREAM, "%s", inner.message);
	} else if (gh_http_classify(&response) == GH_OUTCOME_OK) {
		result = judge_exchange(&response, token, err);
	} else {
		result = response.transport == CURLE_OK && response.status >= 400 &&
				 response.status < 500 && response.status != 429
			 ? GH_OAUTH_REFUSED
			 : GH_OAUTH_UNAVAILABLE;
		ga_err_set(err, result == GH_OAUTH_REFUSED ? GA_EDENIED : GA_EUPSTREAM,
			   "POST /login/oauth/access_token: %s",
			   gh_http_describe(&response, problem, sizeof(problem)));
	}
	explicit_bzero(response.body.data ? response.body.data : problem,
		       response.body.data ? response.body.cap : 0);
	gh_response_free(&response);
	ga_free(url);
	return result;
}
