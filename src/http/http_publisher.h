/*
 * http_publisher.h - logins with a token minted by trusted publishing
 * (src/oidc/), for the built-in index: the one hook of the login path.
 *
 * A Basic username of "__token__" (PyPI's convention, what
 * pypa/gh-action-pypi-publish and uv send) is never a GitHub login (GitHub
 * logins hold no '_'), so http_login_check() hands such credentials here
 * instead of to service_verify_login().  The password must be a token this
 * installation minted (oidc_token.h: MAC under [trusted_publishing]
 * key_file, not expired), and its repository must still stand in the
 * request's snapshot (oidc_scope.h): re-checked at every request, so a
 * repository that lost its package name, or was archived, is refused at
 * once.  The login then has member -1 (no member's rights anywhere) and
 * publisher_set: the index decides with http_publisher_access().
 *
 * Every upload with such a token is an audit line with the workflow's
 * repository, workflow, ref, run id and actor, and is counted in /metrics
 * (ghaccess_trusted_publishing_uploads_total).
 */
#ifndef HTTP_PUBLISHER_H
#define HTTP_PUBLISHER_H

#include <stdbool.h>

#include "http/http_login.h"
#include "index/index_access.h"

/* The username that selects a minted token. */
#define HTTP_PUBLISHER_USERNAME "__token__"

/* Check password as a minted token; fills out (status, publisher, detail). */
void http_publisher_check(struct http_request *request, const char *password,
			  struct http_login *out);

/* Access of a publisher login to project (see oidc_scope_access). */
struct index_access http_publisher_access(struct http_request *request,
					  const struct http_login *login, const char *project,
					  bool stored);

/*
 * May the publisher of login still write project, in snapshot (the one in
 * use now, which may be newer than login->snapshot: an upload's second
 * decision at commit)?  The repository must still stand there and own the
 * package the token was minted for.  false with reason (size bytes) set.
 */
bool http_publisher_may_still_write(struct http_request *request,
				    const struct http_login *login,
				    const struct org_snapshot *snapshot, const char *project,
				    char *reason, size_t size);

/*
 * The audit line of a decision: http_audit() for people; for a publisher
 * the same line with repository, repository_id, workflow, ref, run_id and
 * actor, and an upload is counted in /metrics.
 */
void http_login_audit(struct http_request *request, const struct http_login *login,
		      const char *action, const char *package, const char *file, bool allowed,
		      const char *reason);

#endif
