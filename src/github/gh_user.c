/* gh_user.c - who owns a token, and whether it reaches the organization: fast, bounded. */
#include "github/gh_internal.h"

#include <string.h>
#include <strings.h>

#include "util/ga_log.h"
#include "util/ga_xalloc.h"

#define DEFAULT_API_URL "https://api.github.com"

const char *
gh_token_result_name(enum gh_token_result result)
{
	switch (result) {
	case GH_TOKEN_VALID:
		return "valid";
	case GH_TOKEN_INVALID:
		return "invalid";
	case GH_TOKEN_UNKNOWN:
		return "unknown";
	}
	return "unknown";
}

/*
 * GET url with a person's token: one request, and a second one only after
 * a network error or 5xx that left time (GH_RETRY_QUICK): a login waits
 * for this, so no backoff, no rate-limit wait.  true when an answer came
 * (response holds it, whatever its status); false when none could (err:
 * cancelled).
 */
static bool
ask_github(struct gh_client *client, const char *url, const char *what, const char *token,
	   struct gh_response *response, struct ga_err *err)
{
	struct gh_request request = {.method = "GET", .url = url, .what = what, .token = token,
				     .retry = GH_RETRY_QUICK};
	struct ga_err inner = {0};

	gh_response_init(response, client->options.max_reply_bytes);
	if (gh_http_request(client, NULL, &request, response, NULL, &inner) == GA_OK ||
	    response->final)
		return true;
	ga_err_set(err, GA_EUPSTREAM, "%s", inner.message);
	return false;
}

static enum gh_token_result
judge_login(const char *username, const struct gh_response *response, long long *user_id,
	    struct ga_err *err)
{
	char *login;
	long long id;
	enum gh_token_result result;

	if (gh_parse_user_rest(response->body.data, response->body.len, &login, &id, err) != GA_OK)
		return GH_TOKEN_UNKNOWN;
	if (strcmp(login, username) == 0) {
		result = GH_TOKEN_VALID;
		if (user_id != NULL)
			*user_id = id;
	} else if (strcasecmp(login, username) == 0) {
		/* pypicloud builds user:<login> from the name as typed: accepting
		 * another spelling would make per-user grants miss. */
		ga_log(GA_LOG_WARN, "token refused: the login differs only in case", "username",
		       username, "login", login, (char *)NULL);
		result = GH_TOKEN_INVALID;
		ga_err_set(err, GA_EDENIED, "the token belongs to %s, not %s (case differs)", login,
			   username);
	} else {
		result = GH_TOKEN_INVALID;
		ga_err_set(err, GA_EDENIED, "the token belongs to another login");
	}
	ga_free(login);
	return result;
}

enum gh_token_result
gh_check_token(struct gh_client *client, const char *username, const char *token,
	       long long *user_id, struct ga_err *err)
{
	const char *api_url = client->config->api_url ? client->config->api_url : DEFAULT_API_URL;
	struct gh_response response;
	enum gh_token_result result;
	char problem[GA_ERR_MESSAGE_MAX / 2];
	char *url;

	if (user_id != NULL)
		*user_id = 0;
	if (username == NULL || *username == '\0') {
		ga_err_set(err, GA_EDENIED, "empty username");
		return GH_TOKEN_INVALID;
	}
	if (!gh_token_is_sendable(token)) {
		ga_err_set(err, GA_EDENIED, "the password cannot be a GitHub token");
		return GH_TOKEN_INVALID;
	}
	url = ga_asprintf("%s/user", api_url);
	if (!ask_github(client, url, "GET /user", token, &response, err))
		result = GH_TOKEN_UNKNOWN;
	else if (gh_http_classify(&response) == GH_OUTCOME_OK) {
		result = judge_login(username, &response, user_id, err);
	} else if (response.transport == CURLE_OK && response.status == 401) {
		result = GH_TOKEN_INVALID;
		ga_err_set(err, GA_EDENIED, "GitHub does not know the token (HTTP 401)");
	} else {
		/* Timeouts, 5xx, rate limits and other 4xx say nothing definite. */
		result = GH_TOKEN_UNKNOWN;
		ga_err_set(err, GA_EUPSTREAM, "GET /user: %s",
			   gh_http_describe(&response, problem, sizeof(problem)));
	}
	gh_response_free(&response);
	ga_free(url);
	return result;
}

enum gh_oauth_result
gh_token_owner(struct gh_client *client, const char *token, char login[40], long long *id,
	       struct ga_err *err)
{
	const char *api_url = client->config->api_url ? client->config->api_url : DEFAULT_API_URL;
	struct gh_response response;
	enum gh_oauth_result result = GH_OAUTH_UNAVAILABLE;
	char problem[GA_ERR_MESSAGE_MAX / 2];
	char *owner = NULL;
	char *url;

	login[0] = '\0';
	*id = 0;
	if (!gh_token_is_sendable(token)) {
		ga_err_set(err, GA_EDENIED, "the token cannot be sent in a header");
		return GH_OAUTH_REFUSED;
	}
	url = ga_asprintf("%s/user", api_url);
	if (!ask_github(client, url, "GET /user", token, &response, err)) {
		/* cancelled: unavailable, err says so */
	} else if (gh_http_classify(&response) == GH_OUTCOME_OK) {
		if (gh_parse_user_rest(response.body.data, response.body.len, &owner, id, err) ==
			    GA_OK &&
		    strlen(owner) < 40) {
			memcpy(login, owner, strlen(owner) + 1);
			result = GH_OAUTH_OK;
		} else if (owner != NULL) {
			ga_err_set(err, GA_EUPSTREAM, "GET /user: login longer than 39 characters");
		}
	} else if (response.transport == CURLE_OK && response.status == 401) {
		result = GH_OAUTH_REFUSED;
		ga_err_set(err, GA_EDENIED, "GitHub does not know the token (HTTP 401)");
	} else {
		ga_err_set(err, GA_EUPSTREAM, "GET /user: %s",
			   gh_http_describe(&response, problem, sizeof(problem)));
	}
	ga_free(owner);
	gh_response_free(&response);
	ga_free(url);
	return result;
}

/* A 403 or 404 said no: why, in words the operator can act on. */
static void
describe_denial(const struct gh_response *response, struct ga_err *err)
{
	char problem[GA_ERR_MESSAGE_MAX / 2];

	gh_http_describe(response, problem, sizeof(problem));
	ga_err_set(err, GA_EDENIED, "GET /user/memberships/orgs: %s", problem);
}

enum gh_org_access
gh_check_org_access(struct gh_client *client, const char *token, char sso_url[GH_SSO_URL_MAX],
		    struct ga_err *err)
{
	const char *api_url = client->config->api_url ? client->config->api_url : DEFAULT_API_URL;
	const char *org = client->config->organization;
	struct gh_response response;
	enum gh_org_access result = GH_ORG_ACCESS_UNKNOWN;
	enum gh_outcome outcome;
	char problem[GA_ERR_MESSAGE_MAX / 2];
	bool active = false;
	char *url;

	sso_url[0] = '\0';
	if (org == NULL || !gh_token_is_sendable(token)) {
		ga_err_set(err, GA_EDENIED, "no organization, or a token that cannot be sent");
		return GH_ORG_ACCESS_DENIED;
	}
	/* The organization name is checked at load: letters, digits, -_. only. */
	url = ga_asprintf("%s/user/memberships/orgs/%s", api_url, org);
	if (!ask_github(client, url, "GET /user/memberships/orgs", token, &response, err)) {
		/* cancelled: could not tell, err says so */
		gh_response_free(&response);
		ga_free(url);
		return GH_ORG_ACCESS_UNKNOWN;
	}
	outcome = gh_http_classify(&response);
	if (outcome == GH_OUTCOME_OK) {
		if (gh_parse_membership_rest(response.body.data, response.body.len, org, &active,
					     err) != GA_OK)
			result = GH_ORG_ACCESS_UNKNOWN;
		else if (active)
			result = GH_ORG_ACCESS_OK;
		else {
			result = GH_ORG_ACCESS_DENIED;
			ga_err_set(err, GA_EDENIED, "the membership is not active (an invitation "
				   "not accepted yet?)");
		}
	} else if (response.transport == CURLE_OK && response.status == 403 &&
		   outcome != GH_OUTCOME_RATE_LIMITED && response.sso[0] != '\0' &&
		   strncasecmp(response.sso, "required", 8) == 0) {
		result = GH_ORG_ACCESS_SSO_REQUIRED;
		gh_parse_sso_header(response.sso, sso_url, GH_SSO_URL_MAX);
		ga_err_set(err, GA_EDENIED, "the token is not authorized for SAML SSO");
	} else if (response.transport == CURLE_OK && outcome == GH_OUTCOME_FAILED &&
		   (response.status == 401 || response.status == 403 || response.status == 404)) {
		result = GH_ORG_ACCESS_DENIED;
		describe_denial(&response, err);
	} else {
		ga_err_set(err, GA_EUPSTREAM, "GET /user/memberships/orgs: %s",
			   gh_http_describe(&response, problem, sizeof(problem)));
	}
	gh_response_free(&response);
	ga_free(url);
	return result;
}
