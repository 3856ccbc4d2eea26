/* service_login.c - the login rule of docs/access-model.md section 3; see service.h. */
#include "service/service_pipeline.h"

#include <stdio.h>
#include <string.h>

#include "org/org_names.h"
#include "service/service_metrics.h"
#include "util/ga_log.h"

/*
 * [github] verify_token_org_access: GET /user says whose token it is, not
 * whether the organization admits it.  A token that the organization's
 * SAML SSO has not authorized (or whose authorization an owner revoked), a
 * fine-grained token for another resource owner, a token an IP allow list
 * or a token policy refuses: all pass GET /user.  Asking for the user's own
 * membership with the token itself settles it.
 */
static enum cache_verdict
verify_org_access(struct gh_client *client, const struct config *config, const char *username,
		  const char *token, char *detail, size_t detail_size)
{
	char sso_url[GH_SSO_URL_MAX];
	struct ga_err err = {0};

	switch (gh_check_org_access(client, token, sso_url, &err)) {
	case GH_ORG_ACCESS_OK:
		return CACHE_TOKEN_VALID;
	case GH_ORG_ACCESS_SSO_REQUIRED:
		ga_log(GA_LOG_INFO, "login refused: token not authorized for SAML SSO", "user",
		       username, (char *)NULL);
		if (sso_url[0] != '\0')
			snprintf(detail, detail_size,
				 "your token is not authorized for the SAML single sign-on of %s: "
				 "authorize it at %s",
				 config->organization, sso_url);
		else
			snprintf(detail, detail_size,
				 "your token is not authorized for the SAML single sign-on of %s: "
				 "authorize it in GitHub's token settings (Configure SSO)",
				 config->organization);
		return CACHE_TOKEN_SSO_REQUIRED;
	case GH_ORG_ACCESS_DENIED:
		ga_log(GA_LOG_INFO, "login refused: token cannot reach the organization", "user",
		       username, "error", err.message, (char *)NULL);
		snprintf(detail, detail_size,
			 "GitHub does not let this token see your active membership of %s (a "
			 "classic token needs the read:org scope; a fine-grained token needs %s as "
			 "resource owner and Members read access)",
			 config->organization, config->organization);
		return CACHE_TOKEN_NO_ORG_ACCESS;
	case GH_ORG_ACCESS_UNKNOWN:
		break;
	}
	ga_log(GA_LOG_WARN, "GitHub could not tell whether a token reaches the organization", "user",
	       username, "error", err.message, (char *)NULL);
	return CACHE_TOKEN_UNKNOWN;
}

/* The token cache's verifier: GET /user, and the membership when asked for. */
static enum cache_verdict
verify_with_github(void *context, const char *username, const char *token, long long *user_id,
		   char *detail, size_t detail_size)
{
	struct service_settings *settings = context;
	struct gh_client *client = service_settings_github(settings);
	const struct config *config = service_settings_config(settings);
	struct ga_err err = {0};

	switch (gh_check_token(client, username, token, user_id, &err)) {
	case GH_TOKEN_VALID:
		if (!config->verify_token_org_access)
			return CACHE_TOKEN_VALID;
		return verify_org_access(client, config, username, token, detail, detail_size);
	case GH_TOKEN_INVALID:
		ga_log(GA_LOG_DEBUG, "GitHub refused a token", "user", username,
		       "error", err.message, (char *)NULL);
		return CACHE_TOKEN_INVALID;
	case GH_TOKEN_UNKNOWN:
		break;
	}
	ga_log(GA_LOG_WARN, "GitHub could not verify a token", "user", username,
	       "error", err.message, (char *)NULL);
	return CACHE_TOKEN_UNKNOWN;
}

static enum service_login
check_member(const struct org_snapshot *snapshot, const char *username, long long user_id,
	     long *member)
{
	long long member_id;

	*member = org_snapshot_find_member(snapshot, username);
	if (*member < 0)
		return SERVICE_LOGIN_NOT_MEMBER;
	/* A login that was renamed and then taken by another account: the
	 * token is the new account's, the membership the old one's. */
	member_id = org_snapshot_member_id(snapshot, *member);
	if (user_id != 0 && member_id != 0 && user_id != member_id)
		return SERVICE_LOGIN_ACCOUNT_CHANGED;
	return SERVICE_LOGIN_OK;
}

static void
count(struct service *service, enum service_login login)
{
	service_metrics_note_login(service_metrics_of(service), login);
}

/* Syntax and snapshot: the checks that need nothing from GitHub.  Returns
 * SERVICE_LOGIN_OK when the token must be checked. */
static enum service_login
precheck(const struct org_snapshot *snapshot, const char *username, const char *password)
{
	if (username == NULL || password == NULL ||
	    !org_is_valid_login(username, strlen(username)) ||
	    !org_is_valid_token(password, strlen(password)))
		return SERVICE_LOGIN_MALFORMED;	/* the "username" may be a pasted token: not logged */
	if (snapshot == NULL)
		return SERVICE_LOGIN_NO_SNAPSHOT;
	return SERVICE_LOGIN_OK;
}

/* The outcome once the token's verdict is known; audited, counted. */
static enum service_login
conclude(struct service *service, const struct org_snapshot *snapshot, const char *username,
	 const struct cache_token_answer *answer, struct service_login_result *out)
{
	enum service_login login;
	long found = -1;

	switch (answer->verdict) {
	case CACHE_TOKEN_VALID:
		login = check_member(snapshot, username, answer->user_id, &found);
		break;
	case CACHE_TOKEN_INVALID:
		login = SERVICE_LOGIN_BAD_TOKEN;
		break;
	case CACHE_TOKEN_NO_ORG_ACCESS:
		login = SERVICE_LOGIN_NO_ORG_ACCESS;
		break;
	case CACHE_TOKEN_SSO_REQUIRED:
		login = SERVICE_LOGIN_SSO_REQUIRED;
		break;
	case CACHE_TOKEN_UNKNOWN:
	default:
		login = SERVICE_LOGIN_UNVERIFIED;
		break;
	}
	/* The audit line of a failed login (http_audit.h's format). */
	if (login != SERVICE_LOGIN_OK)
		ga_log(GA_LOG_INFO, "audit", "action", "login", "user", username, "decision", "deny",
		       "reason", service_login_reason(login), (char *)NULL);
	count(service, login);
	out->login = login;
	out->member = login == SERVICE_LOGIN_OK ? found : -1;
	snprintf(out->detail, sizeof(out->detail), "%s",
		 login == SERVICE_LOGIN_OK ? "" : answer->detail);
	return login;
}

static void
result_init(struct service_login_result *out, enum service_login login)
{
	out->login = login;
	out->member = -1;
	out->detail[0] = '\0';
}

enum service_login
service_login_start(struct service *service, const struct org_snapshot *snapshot,
		    const char *username, const char *password, cache_done_fn done, void *arg,
		    struct service_login_result *out)
{
	struct cache_token_answer answer;
	enum service_login login = precheck(snapshot, username, password);

	result_init(out, login);
	if (login != SERVICE_LOGIN_OK) {
		count(service, login);
		return login;
	}
	switch (cache_verify_token_start(service_cache(service), username, password,
					 verify_with_github, service_settings_of(service), done, arg,
					 &answer)) {
	case CACHE_START_ANSWERED:
		return conclude(service, snapshot, username, &answer, out);
	case CACHE_START_PENDING:
		out->login = SERVICE_LOGIN_PENDING;
		return SERVICE_LOGIN_PENDING;
	case CACHE_START_BUSY:
	default:
		break;
	}
	ga_log(GA_LOG_INFO, "audit", "action", "login", "user", username, "decision", "deny",
	       "reason", service_login_reason(SERVICE_LOGIN_BUSY), (char *)NULL);
	count(service, SERVICE_LOGIN_BUSY);
	out->login = SERVICE_LOGIN_BUSY;
	return SERVICE_LOGIN_BUSY;
}

enum service_login
service_login_finish(struct service *service, const struct org_snapshot *snapshot,
		     const char *username, const struct cache_token_answer *answer,
		     struct service_login_result *out)
{
	result_init(out, SERVICE_LOGIN_NO_SNAPSHOT);
	if (snapshot == NULL || username == NULL) {
		count(service, SERVICE_LOGIN_NO_SNAPSHOT);
		return SERVICE_LOGIN_NO_SNAPSHOT;
	}
	return conclude(service, snapshot, username, answer, out);
}

enum service_login
service_verify_login(struct service *service, const struct org_snapshot *snapshot,
		     const char *username, const char *password, long *member)
{
	struct cache_token_answer answer = {CACHE_TOKEN_UNKNOWN, 0, ""};
	struct service_login_result result;
	enum service_login login = precheck(snapshot, username, password);

	result_init(&result, login);
	if (login != SERVICE_LOGIN_OK) {
		count(service, login);
	} else {
		answer.verdict = cache_verify_token(service_cache(service), username, password,
						    verify_with_github, service_settings_of(service),
						    &answer.user_id);
		login = conclude(service, snapshot, username, &answer, &result);
	}
	if (member != NULL)
		*member = login == SERVICE_LOGIN_OK ? result.member : -1;
	return login;
}

const char *
service_login_reason(enum service_login login)
{
	switch (login) {
	case SERVICE_LOGIN_OK:
		return "ok";
	case SERVICE_LOGIN_MALFORMED:
		return "not a possible login or token";
	case SERVICE_LOGIN_NO_SNAPSHOT:
		return "no current organization snapshot";
	case SERVICE_LOGIN_BAD_TOKEN:
		return "token refused by GitHub for this login";
	case SERVICE_LOGIN_UNVERIFIED:
		return "GitHub could not verify the token";
	case SERVICE_LOGIN_NOT_MEMBER:
		return "not a member of the organization";
	case SERVICE_LOGIN_ACCOUNT_CHANGED:
		return "the login now belongs to another GitHub account";
	case SERVICE_LOGIN_NO_ORG_ACCESS:
		return "GitHub does not let the token reach the organization";
	case SERVICE_LOGIN_SSO_REQUIRED:
		return "token not authorized for the organization's SAML SSO";
	case SERVICE_LOGIN_BUSY:
		return "too many token checks with GitHub at once";
	case SERVICE_LOGIN_PENDING:
		return "token check in progress";
	}
	return "unknown";
}
