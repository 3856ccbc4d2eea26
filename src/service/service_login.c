/* service_login.c - the login rule of docs/access-model.md section 3; see service.h. */
#include "service/service_internal.h"

#include <string.h>

#include "org/org_names.h"
#include "util/ga_log.h"

/* The token cache's verifier: one GET /user, mapped to the cache's verdicts. */
static enum cache_verdict
verify_with_github(void *context, const char *username, const char *token, long long *user_id,
		   char *detail, size_t detail_size)
{
	struct service *service = context;
	struct gh_client *client = atomic_load(&service->client);
	struct ga_err err = {0};

	(void)detail;
	(void)detail_size;
	switch (gh_check_token(client, username, token, user_id, &err)) {
	case GH_TOKEN_VALID:
		return CACHE_TOKEN_VALID;
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
	if (login == SERVICE_LOGIN_OK)
		atomic_fetch_add(&service->counters.logins_ok, 1);
	else if (login == SERVICE_LOGIN_UNVERIFIED)
		atomic_fetch_add(&service->counters.logins_unverified, 1);
	else
		atomic_fetch_add(&service->counters.logins_refused, 1);
}

enum service_login
service_verify_login(struct service *service, const struct org_snapshot *snapshot,
		     const char *username, const char *password, long *member)
{
	enum service_login login;
	long found = -1;
	long long user_id = 0;

	if (username == NULL || password == NULL ||
	    !org_is_valid_login(username, strlen(username)) ||
	    !org_is_valid_token(password, strlen(password))) {
		/* The "username" may be a pasted token: not logged. */
		login = SERVICE_LOGIN_MALFORMED;
	} else if (snapshot == NULL) {
		login = SERVICE_LOGIN_NO_SNAPSHOT;
	} else {
		switch (cache_verify_token(service->cache, username, password, verify_with_github,
					   service, &user_id)) {
		case CACHE_TOKEN_VALID:
			login = check_member(snapshot, username, user_id, &found);
			break;
		case CACHE_TOKEN_INVALID:
			login = SERVICE_LOGIN_BAD_TOKEN;
			break;
		case CACHE_TOKEN_UNKNOWN:
		default:
			login = SERVICE_LOGIN_UNVERIFIED;
			break;
		}
		/* The audit line of a failed login (http_audit.h's format). */
		if (login != SERVICE_LOGIN_OK)
			ga_log(GA_LOG_INFO, "audit", "action", "login", "user", username,
			       "decision", "deny", "reason", service_login_reason(login),
			       (char *)NULL);
	}
	count(service, login);
	if (member != NULL)
		*member = login == SERVICE_LOGIN_OK ? found : -1;
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
	}
	return "unknown";
}
