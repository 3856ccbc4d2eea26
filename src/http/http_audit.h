/*
 * http_audit.h - the audit line of an access decision.
 *
 * Every upload, every refusal and every failed login leaves one line:
 *
 *   level=info msg=audit action=upload user=carol package=acme-core
 *       file=acme_core-1.0-py3-none-any.whl decision=allow reason=ok
 *
 * (failed logins are written by service_verify_login, action=login).  The
 * decision is also noted for the request's metrics.  Never pass a token, a
 * query string or a header value.
 */
#ifndef HTTP_AUDIT_H
#define HTTP_AUDIT_H

#include <stdbool.h>

#include "http/http.h"

/*
 * action: "read", "upload", "auth" ...; user: the verified login ("-" when
 * none); package and file may be NULL; reason: why, in a few words.
 */
void http_audit(struct http_request *request, const char *action, const char *user,
		const char *package, const char *file, bool allowed, const char *reason);

#endif
