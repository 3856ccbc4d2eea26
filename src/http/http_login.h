/*
 * http_login.h - end-user logins for the index front ends (built-in index,
 * forward-auth): HTTP Basic credentials, a GitHub login and a token as the
 * password, checked by service_verify_login() (docs/access-model.md §3).
 *
 * The front ends that serve people (pip, twine, a proxy) answer 401 with
 * a WWW-Authenticate challenge when credentials are missing or refused,
 * and 503 when no decision can be made right now (no usable snapshot, or
 * GitHub could not tell): a "no" that a client should retry, never a
 * "yes".
 *
 * Used on a request's thread; no allocation.
 */
#ifndef HTTP_LOGIN_H
#define HTTP_LOGIN_H

#include "http/http.h"
#include "oidc/oidc_scope.h"
#include "oidc/oidc_token.h"
#include "org/org_snapshot.h"

/* Room for the reason a minted token is refused. */
#define HTTP_LOGIN_REFUSAL_MAX 200

enum http_login_status {
	HTTP_LOGIN_OK = 0,
	HTTP_LOGIN_MISSING,	/* no Authorization header */
	HTTP_LOGIN_REFUSED,	/* malformed, wrong token, not a member, two headers */
	HTTP_LOGIN_UNAVAILABLE,	/* no usable snapshot, or GitHub could not tell */
};

struct http_login {
	enum http_login_status status;
	/* The snapshot the request decides with (the request's view holds it
	 * until the response is sent); NULL when there is none. */
	const struct org_snapshot *snapshot;
	long member;		/* member index in snapshot when OK, else -1 */
	char user[40];		/* the verified login when OK, else "" */
	/* Trusted publishing (username __token__, http_publisher.h): a
	 * token minted for a repository's workflow; member is -1 then. */
	bool publisher_set;
	struct oidc_publisher publisher;	/* what the token says */
	struct oidc_repository repository;	/* where it stands in snapshot */
	char refusal[HTTP_LOGIN_REFUSAL_MAX];	/* why it was refused, or "" */
};

/* Check the request's credentials; on OK the user is named in the access log. */
void http_login_check(struct http_request *request, struct http_login *out);

/*
 * Answer a login that is not OK: 401 with the Basic challenge of
 * [server] realm, or 503 with Retry-After.  The body says what to do, in
 * plain text.
 */
void http_login_refuse(struct http_request *request, const struct http_login *login);

#endif
