/*
 * http_web_oauth.c - signing in with GitHub and out again.
 *
 * The OAuth web flow as GitHub documents it for OAuth Apps and GitHub Apps
 * ("Authorizing OAuth apps", "Generating a user access token for a GitHub
 * App"), with PKCE (RFC 7636, S256):
 *
 *   GET /login           a new sign-in (?login=NAME suggests an account): a random nonce in a signed,
 *                        HttpOnly, SameSite=Lax cookie (10 minutes), and a
 *                        redirect to {github_url}/login/oauth/authorize
 *                        with state and code_challenge derived from it
 *   GET /login/callback  the cookie must verify, the state must be the one
 *                        its nonce gives (constant time) and unused; then
 *                        the code exchange (with the code_verifier), GET
 *                        /user with the user's token (then wiped), and the
 *                        user must be a member in the request's snapshot;
 *                        the session cookie is set, the sign-in cookie
 *                        cleared, whatever the outcome
 *   POST /logout         the form's CSRF token; the session cookie cleared
 *
 * An anonymous client can make the server call GitHub only through a
 * callback that carries a state this server issued; at most
 * WEB_EXCHANGES_MAX exchanges run at once, so a slow GitHub holds at most
 * that many server threads.
 */
#include "http/http_web.h"

#include <stdio.h>
#include <string.h>

#include "github/github.h"
#include "http/http_audit.h"
#include "http/http_query.h"
#include "index/index_simple.h"
#include "org/org_names.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

/* GitHub's codes are 20 characters; anything much longer is not one. */
#define CODE_MAX 256

static void
append_param(struct ga_buf *url, const char *name, const char *value)
{
	ga_buf_append_char(url, strchr(ga_buf_cstr(url), '?') != NULL ? '&' : '?');
	ga_buf_append_str(url, name);
	ga_buf_append_char(url, '=');
	index_url_escape_segment(url, value);
}

/* /login?login=NAME suggests the GitHub account to sign in with (GitHub's
 * authorize page takes the same hint); who signed in is read from GitHub
 * afterwards, never taken from here. */
static void
append_login_hint(struct http_request *request, struct ga_buf *url)
{
	static const char *const names[] = { "login" };
	struct http_param login;

	http_query_get(request->query, request->query_len, names, &login, 1);
	if (login.state == HTTP_PARAM_VALID && org_is_valid_login(login.value, login.len))
		append_param(url, "login", login.value);
}

static char *
callback_url(const struct config *config)
{
	return ga_asprintf("%s/login/callback", config->web_url);
}

void
web_handle_login(struct http_request *request)
{
	const struct config *config = service_config(request->service);
	struct web_keys keys;
	uint8_t random[16];
	char nonce[WEB_B64_16 + 1], value[WEB_COOKIE_MAX];
	char state[WEB_B64_32 + 1], verifier[WEB_B64_32 + 1], challenge[WEB_B64_32 + 1];
	char *redirect_uri = callback_url(config);
	char *cookies[2] = { NULL, NULL };
	struct ga_buf url;

	ga_random_bytes(random, sizeof(random));
	web_base64url(random, sizeof(random), nonce);
	web_keys_derive(config->web_session_key, &keys);
	web_flow_format(&keys, nonce, web_now() + WEB_FLOW_SECONDS, value);
	web_flow_state(&keys, nonce, state);
	web_flow_verifier(&keys, nonce, verifier);
	web_pkce_challenge(verifier, challenge);
	ga_buf_init(&url, 0);
	ga_buf_printf(&url, "%s/login/oauth/authorize", config->web_github_url);
	append_param(&url, "client_id", config->web_client_id);
	append_param(&url, "redirect_uri", redirect_uri);
	append_param(&url, "state", state);
	append_param(&url, "code_challenge", challenge);
	append_param(&url, "code_challenge_method", "S256");
	append_param(&url, "allow_signup", "false");
	/* An OAuth App's token needs read:org for GET /user/memberships/orgs;
	 * a GitHub App's token has the App's Members permission and GitHub
	 * ignores the scope. */
	if (config->verify_token_org_access)
		append_param(&url, "scope", "read:org");
	append_login_hint(request, &url);
	cookies[0] = web_cookie_header(config, web_oauth_cookie_name(config->web_cookie_secure),
				       value, WEB_FLOW_SECONDS);
	web_redirect_absolute(request, ga_buf_cstr(&url), (const char *const *)cookies);
	ga_free(cookies[0]);
	ga_buf_free(&url);
	ga_free(redirect_uri);
	explicit_bzero(verifier, sizeof(verifier));
	explicit_bzero(&keys, sizeof(keys));
}

/* Single use: true the first time a nonce is seen (within the ring). */
static bool
consume_nonce(struct web_state *web, const char *nonce, long long expires)
{
	bool fresh = true;

	pthread_mutex_lock(&web->used_lock);
	for (size_t i = 0; i < WEB_USED_STATES && fresh; i++)
		if (web->used[i].expires > 0 && strcmp(web->used[i].nonce, nonce) == 0)
			fresh = false;
	if (fresh) {
		struct web_used_state *slot = &web->used[web->used_next];

		memcpy(slot->nonce, nonce, sizeof(slot->nonce));
		slot->expires = expires;
		web->used_next = (web->used_next + 1) % WEB_USED_STATES;
	}
	pthread_mutex_unlock(&web->used_lock);
	return fresh;
}

/* What a callback found. */
struct callback {
	const struct config *config;
	struct web_keys keys;
	struct http_param code;
	struct http_param state;
	struct http_param error;
	char nonce[WEB_B64_16 + 1];
	char login[WEB_LOGIN_MAX];
	long long user_id;
	char *clear_cookie;		/* the sign-in cookie, deleted */
};

/* The query and the sign-in cookie; false with a refusal sent. */
static bool
callback_checks(struct http_request *request, struct callback *cb)
{
	static const char *const names[] = { "code", "state", "error" };
	struct http_param params[3];
	char value[WEB_COOKIE_MAX], expected[WEB_B64_32 + 1];
	const char *const cookies[] = { cb->clear_cookie, NULL };

	http_query_get(request->query, request->query_len, names, params, 3);
	cb->code = params[0];
	cb->state = params[1];
	cb->error = params[2];
	if (cb->error.state != HTTP_PARAM_ABSENT) {
		/* access_denied: the user cancelled at GitHub. */
		web_send_signed_out(request, MHD_HTTP_OK, "Sign-in was cancelled.", cookies);
		return false;
	}
	if (!web_cookie_get(http_request_header(request, MHD_HTTP_HEADER_COOKIE),
			    web_oauth_cookie_name(cb->config->web_cookie_secure), value,
			    sizeof(value)) ||
	    !web_flow_parse(&cb->keys, value, web_now(), cb->nonce) ||
	    cb->state.state != HTTP_PARAM_VALID) {
		http_audit(request, "web-login", "-", NULL, NULL, false, "no valid sign-in cookie");
		web_send_signed_out(request, MHD_HTTP_BAD_REQUEST,
				    "This sign-in expired or was not started in this browser. "
				    "Please sign in again.", cookies);
		return false;
	}
	web_flow_state(&cb->keys, cb->nonce, expected);
	if (!ga_secret_equal(cb->state.value, cb->state.len, expected, strlen(expected)) ||
	    cb->code.state != HTTP_PARAM_VALID || cb->code.len == 0 || cb->code.len > CODE_MAX ||
	    !org_is_valid_token(cb->code.value, cb->code.len)) {
		http_audit(request, "web-login", "-", NULL, NULL, false, "state does not match");
		web_send_signed_out(request, MHD_HTTP_BAD_REQUEST,
				    "This sign-in does not match the one this browser started. "
				    "Please sign in again.", cookies);
		return false;
	}
	if (!consume_nonce(web_state_of(request), cb->nonce, web_now() + WEB_FLOW_SECONDS)) {
		http_audit(request, "web-login", "-", NULL, NULL, false, "sign-in state used twice");
		web_send_signed_out(request, MHD_HTTP_BAD_REQUEST,
				    "This sign-in was already used. Please sign in again.", cookies);
		return false;
	}
	return true;
}

/*
 * [github] verify_token_org_access: the user's token must reach the
 * organization too (SAML SSO, token policies), as for the index's logins.
 * GH_OAUTH_OK, or a refusal sent and REFUSED / UNAVAILABLE.
 */
static enum gh_oauth_result
callback_org_access(struct http_request *request, struct callback *cb, const char *token)
{
	const char *const cookies[] = { cb->clear_cookie, NULL };
	char sso_url[GH_SSO_URL_MAX];
	struct ga_err err = {0};
	char *message;

	switch (gh_check_org_access(service_github(request->service), token, sso_url, &err)) {
	case GH_ORG_ACCESS_OK:
		return GH_OAUTH_OK;
	case GH_ORG_ACCESS_SSO_REQUIRED:
		http_audit(request, "web-login", cb->login, NULL, NULL, false,
			   "token not authorized for SAML SSO");
		message = ga_asprintf("Your organization requires SAML single sign-on. Authorize "
				      "this sign-in at %s, then sign in again.",
				      sso_url[0] != '\0' ? sso_url : "your organization's SSO page");
		web_send_signed_out(request, MHD_HTTP_FORBIDDEN, message, cookies);
		ga_free(message);
		return GH_OAUTH_REFUSED;
	case GH_ORG_ACCESS_DENIED:
		http_audit(request, "web-login", cb->login, NULL, NULL, false,
			   "token does not reach the organization");
		web_send_signed_out(request, MHD_HTTP_FORBIDDEN,
				    "This GitHub account cannot use this package index.", cookies);
		return GH_OAUTH_REFUSED;
	case GH_ORG_ACCESS_UNKNOWN:
		break;
	}
	ga_log(GA_LOG_ERROR, "web sign-in: GitHub could not tell the organization access",
	       "error", err.message, (char *)NULL);
	http_audit(request, "web-login", cb->login, NULL, NULL, false, "GitHub unavailable");
	web_send_signed_out(request, MHD_HTTP_SERVICE_UNAVAILABLE,
			    "GitHub could not be reached. Please try again in a minute.", cookies);
	return GH_OAUTH_UNAVAILABLE;
}

/* The code for a token, the token for a login and id; the token is wiped
 * here.  false with a refusal sent. */
static bool
callback_github(struct http_request *request, struct callback *cb)
{
	struct gh_client *client = service_github(request->service);
	const char *const cookies[] = { cb->clear_cookie, NULL };
	char verifier[WEB_B64_32 + 1];
	char *redirect_uri = callback_url(cb->config);
	struct gh_oauth_exchange exchange = {
		.client_id = cb->config->web_client_id,
		.client_secret = cb->config->web_client_secret,
		.code = cb->code.value,
		.redirect_uri = redirect_uri,
		.code_verifier = verifier,
	};
	enum gh_oauth_result result;
	struct ga_err err = {0};
	char *token = NULL;

	web_flow_verifier(&cb->keys, cb->nonce, verifier);
	result = gh_oauth_exchange(client, &exchange, &token, &err);
	explicit_bzero(verifier, sizeof(verifier));
	ga_free(redirect_uri);
	if (result == GH_OAUTH_OK)
		result = gh_token_owner(client, token, cb->login, &cb->user_id, &err);
	if (result == GH_OAUTH_OK && cb->config->verify_token_org_access) {
		/* Checked with the token, before it is wiped; it answers itself. */
		bool reached = callback_org_access(request, cb, token) == GH_OAUTH_OK;

		ga_secret_free(token);
		return reached;
	}
	ga_secret_free(token);
	if (result == GH_OAUTH_OK)
		return true;
	ga_log(result == GH_OAUTH_REFUSED ? GA_LOG_WARN : GA_LOG_ERROR,
	       "web sign-in: GitHub did not confirm the user", "error", err.message, (char *)NULL);
	http_audit(request, "web-login", "-", NULL, NULL, false,
		   result == GH_OAUTH_REFUSED ? "GitHub refused the code" : "GitHub unavailable");
	if (result == GH_OAUTH_REFUSED)
		web_send_signed_out(request, MHD_HTTP_FORBIDDEN,
				    "GitHub did not confirm this sign-in. Please sign in again.",
				    cookies);
	else
		web_send_signed_out(request, MHD_HTTP_SERVICE_UNAVAILABLE,
				    "GitHub could not be reached. Please try again in a minute.",
				    cookies);
	return false;
}

/* A member of the request's snapshot gets a session. */
static void
callback_session(struct http_request *request, struct callback *cb)
{
	const struct service_view *view = http_request_view(request);
	char *cookies[3] = { cb->clear_cookie, NULL, NULL };
	char value[WEB_COOKIE_MAX];
	long long now = web_now();
	long member;

	if (view == NULL) {
		http_audit(request, "web-login", cb->login, NULL, NULL, false, "no usable snapshot");
		web_send_signed_out(request, MHD_HTTP_SERVICE_UNAVAILABLE,
				    "Access cannot be checked right now. Please try again in a "
				    "minute.", (const char *const *)cookies);
		return;
	}
	member = web_member_by_id(request, cb->user_id);
	if (member < 0) {
		http_audit(request, "web-login", cb->login, NULL, NULL, false, "not a member");
		/* The organization is not named: this person is not in it. */
		web_send_signed_out(request, MHD_HTTP_FORBIDDEN,
				    "This GitHub account cannot use this package index.",
				    (const char *const *)cookies);
		return;
	}
	web_session_format(&cb->keys, org_snapshot_organization(service_view_snapshot(view)),
			   cb->user_id, now, now + cb->config->web_session_lifetime, value);
	cookies[1] = web_cookie_header(cb->config,
				       web_session_cookie_name(cb->config->web_cookie_secure), value,
				       cb->config->web_session_lifetime);
	http_request_set_user(request, cb->login);
	http_audit(request, "web-login", cb->login, NULL, NULL, true, "member");
	web_redirect(request, "/", (const char *const *)cookies);
	explicit_bzero(value, sizeof(value));
	ga_free(cookies[1]);
}

void
web_handle_callback(struct http_request *request)
{
	struct web_state *web = web_state_of(request);
	struct callback cb;

	memset(&cb, 0, sizeof(cb));
	cb.config = service_config(request->service);
	web_keys_derive(cb.config->web_session_key, &cb.keys);
	cb.clear_cookie = web_cookie_header(cb.config,
					    web_oauth_cookie_name(cb.config->web_cookie_secure),
					    "", 0);
	if (callback_checks(request, &cb)) {
		if (atomic_fetch_add(&web->exchanges, 1) >= WEB_EXCHANGES_MAX) {
			const char *const cookies[] = { cb.clear_cookie, NULL };

			http_audit(request, "web-login", "-", NULL, NULL, false, "too many sign-ins");
			web_send_signed_out(request, MHD_HTTP_SERVICE_UNAVAILABLE,
					    "Too many people are signing in right now. Please try "
					    "again in a moment.", cookies);
		} else if (callback_github(request, &cb)) {
			callback_session(request, &cb);
		}
		atomic_fetch_sub(&web->exchanges, 1);
	}
	explicit_bzero(&cb.code, sizeof(cb.code));
	explicit_bzero(&cb.keys, sizeof(cb.keys));
	ga_free(cb.clear_cookie);
}

void
web_handle_logout(struct http_request *request)
{
	const struct config *config = service_config(request->service);
	struct web_session session;
	bool unavailable;
	char *cookies[2] = { NULL, NULL };

	web_session_of(request, &session, &unavailable);
	/* Signed out already: nothing to protect, just clear the cookie. */
	if (session.valid && !web_form_check(request, &session))
		return;
	cookies[0] = web_cookie_header(config, web_session_cookie_name(config->web_cookie_secure),
				       "", 0);
	if (session.valid)
		http_audit(request, "web-logout", session.login, NULL, NULL, true, "signed out");
	web_redirect(request, "/", (const char *const *)cookies);
	ga_free(cookies[0]);
}
