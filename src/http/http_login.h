/*
 * http_login.h - end-user logins for the index front ends (built-in index,
 * forward-auth): HTTP Basic credentials, a GitHub login and a token as the
 * password, checked by service_verify_login() (docs/access-model.md §3).
 *
 * The front ends that serve people (pip, twine, a proxy) answer 401 with
 * a WWW-Authenticate challenge when credentials are missing or refused,
 * and 503 when no decision can be made right now (no usable snapshot,
 * GitHub could not tell, or too many token checks with GitHub at once): a
 * "no" that a client should retry, never a "yes".
 *
 * A token the cache does not know is checked with GitHub while the
 * request's connection is suspended (http_request_login): the check says
 * HTTP_LOGIN_PENDING, the handler returns without answering (refuse does
 * nothing then) and runs again when GitHub answered.
 *
 * Used on a request's thread.
 */
#ifndef HTTP_LOGIN_H
#define HTTP_LOGIN_H

#include "http/http.h"
#include "oidc/oidc_scope.h"
#include "oidc/oidc_token.h"
#include "org/org_snapshot.h"

enum http_login_status {
	HTTP_LOGIN_OK = 0,
	HTTP_LOGIN_MISSING,	/* no Authorization header */
	HTTP_LOGIN_REFUSED,	/* malformed, wrong token, not a member, two headers */
	HTTP_LOGIN_UNAVAILABLE,	/* no usable snapshot, or GitHub could not tell */
	HTTP_LOGIN_BUSY,	/* too many token checks with GitHub at once: not asked */
	HTTP_LOGIN_PENDING,	/* waiting for GitHub: return, the handler runs again */
};

struct http_login {
	enum http_login_status status;
	/* The snapshot the request decides with (the request's view holds it
	 * until the response is sent); NULL when there is none. */
	const struct org_snapshot *snapshot;
	long member;		/* member index in snapshot when OK, else -1 */
	char user[40];		/* the verified login when OK, else "" */
	/* REFUSED: what to tell the person (an SSO authorization URL, why a
	 * minted token is refused), or "". */
	char detail[CACHE_DETAIL_MAX];
	/* Trusted publishing (username __token__, http_publisher.h): a
	 * token minted for a repository's workflow; member is -1 then. */
	bool publisher_set;
	struct oidc_publisher publisher;	/* what the token says */
	struct oidc_repository repository;	/* where it stands in snapshot */
};

/* Check the request's credentials; on OK the user is named in the access log. */
void http_login_check(struct http_request *request, struct http_login *out);

/*
 * Answer a login that is not OK: 401 with the Basic challenge of
 * [server] realm, or 503 with Retry-After; nothing when PENDING.  The body
 * and the reason phrase (what twine and pip print) say what to do, e.g.
 * where to authorize a token for SAML SSO.
 */
void http_login_refuse(struct http_request *request, const struct http_login *login);

#endif
