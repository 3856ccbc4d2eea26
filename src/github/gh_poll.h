/*
 * gh_poll.h - cheap polling, with ETags, for changes that no webhook reports.
 *
 * GitHub sends no webhook when an owner becomes a member (or the reverse)
 * or when the organization's base permission changes.  gh_poll_check()
 * asks two REST calls with If-None-Match:
 *
 *   GET {api_url}/orgs/{org}                          default_repository_permission
 *   GET {api_url}/orgs/{org}/members?role=admin&per_page=100&page=N    the owners
 *
 * An unchanged answer is a 304, which GitHub does not charge against the
 * rate limit, so polling every minute costs nothing while nothing changes.
 * A 200 is reduced to a fingerprint of what matters (the base permission,
 * the sorted owner logins): the ETag of /orgs/{org} also changes with
 * counters and dates that do not, and those must not trigger syncs.
 *
 * A server that does not list members by role (404, 403 or 422 on that
 * call) is polled for the base permission only; that is logged once.
 */
#ifndef GH_POLL_H
#define GH_POLL_H

#include <stdbool.h>

#include "github/github.h"
#include "util/ga_err.h"

struct gh_poll;

/* What to poll for (free with gh_poll_destroy).  Never fails. */
struct gh_poll *gh_poll_create(void);
void gh_poll_destroy(struct gh_poll *poll);

/* Numbers of one check, for tests and metrics. */
struct gh_poll_stats {
	unsigned requests;		/* HTTP requests made */
	unsigned not_modified;		/* of which answered 304 */
};

/*
 * Poll once with client (its organization, api_url and credential).  The
 * first successful check records the state and reports no change; later
 * ones set *changed when the base permission or the set of owners differs
 * from the last check.  stats may be NULL.  Errors (nothing recorded, the
 * next check compares with the last good one):
 *   GA_EUPSTREAM  network error, 5xx, a malformed answer
 *   GA_EDENIED    401
 *   GA_EINVAL     no usable credential
 * Not thread-safe for one poll (one poller thread owns it); any number of
 * polls may use one client.
 */
enum ga_rc gh_poll_check(struct gh_client *client, struct gh_poll *poll, bool *changed,
			 struct gh_poll_stats *stats, struct ga_err *err);

#endif
