/*
 * github.h - the GitHub client: organization sync and token checks.
 *
 * gh_sync() reads one organization through GitHub's GraphQL API (the sync
 * plan of docs/internals/github-client.md: members, teams and repositories
 * in pages of 100, follow-up pages only for the nested lists that are
 * longer) plus one REST call for the base permission, and hands back plain
 * records (struct org_input).  gh_check_token() asks GET /user who owns a
 * token.  Every request goes through one transport (gh_http.c, libcurl:
 * headers, timeouts, retries, rate limits, cancellation written once);
 * replies are parsed with jansson and every field is type-checked: a
 * malformed reply is an error, never a crash.
 *
 * Waiting: network errors and 5xx answers are retried with exponential
 * backoff and full jitter; a rate-limit answer is waited out (retry-after,
 * x-ratelimit-reset) unless the wait is longer than a cap, which fails the
 * sync instead of blocking for an hour.  Every wait can be interrupted with
 * gh_client_cancel() and scaled down for tests.
 *
 * Secrets: the token is only ever written into the Authorization header of
 * a request; it is never logged and never put into an error message.
 */
#ifndef GITHUB_H
#define GITHUB_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "org/org_input.h"
#include "util/ga_err.h"

struct gh_client;

/*
 * Initialise libcurl once for the process.  gh_client_create() calls it
 * too (through pthread_once), so calling it is only needed when another
 * module uses libcurl before the first client exists.  Thread-safe.
 */
void gh_global_init(void);

/* Progress of a running sync, for the CLI (see gh_client_options). */
struct gh_sync_progress {
	unsigned pages;			/* GraphQL pages fetched so far */
	long long points;		/* sum of rateLimit.cost so far */
	const char *phase;		/* "members", "teams", "repositories", "follow-up" */
};

/*
 * Tunables of a client.  gh_client_options_default() fills the defaults;
 * tests shorten the waits.  Every field is copied by gh_client_create().
 */
struct gh_client_options {
	/* Multiplies every wait (backoff and rate limit) before sleeping.
	 * Default 1.0, or the value of the environment variable
	 * GHACCESS_TEST_TIME_SCALE when it is a number in (0, 1]. */
	double time_scale;
	/* Tries per request on network errors and 5xx answers; default 4. */
	int max_attempts;
	/* Backoff window: try n waits a random time in
	 * [0, min(cap, base * 2^(n-1))].  Defaults 500 ms and 30 s. */
	long backoff_base_ms;
	long backoff_cap_ms;
	/* Wait the top of each backoff window instead of a random point in
	 * it (deterministic tests).  Default false. */
	bool backoff_without_jitter;
	/* A rate-limit wait longer than this fails the request with
	 * GA_ELIMIT instead of sleeping; default 15 minutes.  Compared with
	 * the unscaled wait. */
	long max_rate_limit_wait_ms;
	/* Rate-limit waits allowed per request; default 5. */
	int max_rate_limit_waits;
	/* Largest reply body accepted; default 64 MiB. */
	size_t max_reply_bytes;
	/* Called after every GraphQL page of gh_sync(), on the syncing
	 * thread.  NULL: no progress reports. */
	void (*progress)(void *context, const struct gh_sync_progress *progress);
	void *progress_context;
};

/* Fill options with the defaults described above. */
void gh_client_options_default(struct gh_client_options *options);

/*
 * A client for the organization of config.  config is borrowed: it must
 * stay alive and unchanged until gh_client_destroy() (a reloaded
 * configuration gets a new client).  options may be NULL for the
 * defaults.  Never fails (allocation failure aborts).  Free with
 * gh_client_destroy().
 */
struct gh_client *gh_client_create(const struct config *config,
				   const struct gh_client_options *options);

/* Free the client.  No call may be running on it.  NULL is fine. */
void gh_client_destroy(struct gh_client *client);

/*
 * A client that a configuration reload replaced: it must stay alive for
 * the calls still running on it (until gh_client_destroy() at exit), but
 * its pooled handles are closed now and every handle given back later is
 * closed at once.  Without this each reload kept the old client's
 * keep-alive connections to GitHub open until exit (3 descriptors and
 * about 20 KiB per SIGHUP).  Calls keep working.  Thread-safe.
 */
void gh_client_retire(struct gh_client *client);

/*
 * Interrupt every wait of the client, now and later: a sync in a backoff
 * or rate-limit wait (or the App's wait between its tries) fails at once
 * with GA_EUPSTREAM ("cancelled"), and a transfer in progress ends.  A
 * cancelled client stays cancelled: it sends no request any more (syncs,
 * polls and token checks fail at once); destroy it.  For shutdown.
 * Thread-safe; not async-signal-safe (call it from a normal thread).
 */
void gh_client_cancel(struct gh_client *client);

/*
 * The GitHub App's installation changed (its installation webhook said
 * created or deleted): the next request looks the installation up again
 * instead of using the id it knows.  Nothing when the client uses a token.
 * Thread-safe.
 */
void gh_client_installation_changed(struct gh_client *client);

/*
 * Numbers of one sync.  gh_sync() fills it whether the sync succeeds or
 * fails (a failed sync reports what it spent).  warnings are owned by the
 * struct: free them with gh_sync_stats_free().
 */
struct gh_sync_stats {
	unsigned graphql_requests;	/* HTTP requests to the GraphQL endpoint, retries included */
	long long graphql_points;	/* sum of rateLimit.cost of the answered pages */
	long long rate_limit_remaining;	/* last rateLimit.remaining seen; -1 unknown */
	long long rate_limit_limit;	/* last x-ratelimit-limit of a GraphQL answer; -1 unknown */
	long long rate_limit_reset_at;	/* last rateLimit.resetAt (Unix time); -1 unknown */
	unsigned rest_requests;		/* HTTP requests to the REST API, retries included */
	unsigned pages;			/* GraphQL pages parsed (follow-up pages included) */
	unsigned followup_pages;	/* of which follow-up pages */
	unsigned retries;		/* requests repeated after a 5xx or network error */
	unsigned rate_limit_waits;	/* waits for a rate limit */
	long long duration_ms;		/* wall-clock time of the sync */
	size_t members;
	size_t teams;
	size_t repositories;
	/* Values GitHub answered null where the client needed one (a blob it
	 * could not classify, a member edge without a role or a user...):
	 * each cost only its item and has a warning. */
	size_t nulls;
	/* Direct collaborators whose direct grant GitHub did not name (a
	 * token without admin:org, or permissionSources null): inferred. */
	size_t direct_grants_inferred;
	/* Things the operator should know: a repository whose collaborators
	 * the token may not list, a hidden base permission, a smaller page
	 * size after a 502.  Never contains a secret. */
	char **warnings;
	size_t warning_count;
	size_t warnings_omitted;	/* warnings past the first 100, not kept */
};

/* Free the warnings and zero the struct.  NULL is fine. */
void gh_sync_stats_free(struct gh_sync_stats *stats);

/*
 * Read the whole organization.  On GA_OK *out is a new org_input (free
 * with org_input_free, or hand it to org_snapshot_build) with synced_at
 * and synced_at_ms set to the start of the sync.  stats (may be NULL) is zeroed and filled
 * either way; free it with gh_sync_stats_free().
 *
 * A repository whose direct collaborators GitHub refuses to list
 * (FORBIDDEN) keeps collaborators_known = false and a warning; a base
 * permission the token may not see is base_permission_known = false with
 * the configured base_permission (or none).  Everything else that goes
 * wrong fails the whole sync, so that a partial organization never
 * replaces a complete one:
 *   GA_EUPSTREAM  network error, 5xx after the retries, malformed reply,
 *                 a GraphQL error, organization not found, cancelled
 *   GA_EDENIED    the server token was refused (401)
 *   GA_ELIMIT     a rate limit that would take longer than the cap
 *   GA_EINVAL     no usable token in the configuration
 * err gets a message naming the call that failed.
 *
 * Thread-safety: several syncs and token checks may run at once on one
 * client; each sync uses its own connection.
 */
enum ga_rc gh_sync(struct gh_client *client, struct org_input **out,
		   struct gh_sync_stats *stats, struct ga_err *err);

/* What a targeted read reads (a webhook named it). */
enum gh_targeted_kind {
	GH_TARGETED_TEAM_MEMBERS = 0,	/* one team's immediate members */
	GH_TARGETED_TEAM_REPOSITORIES,	/* one team's repository grants */
	GH_TARGETED_REPOSITORY,		/* one repository: metadata, direct
					 * collaborators, HEAD:pyproject.toml */
	GH_TARGETED_MEMBER,		/* one user's organization membership
					 * (REST: no GraphQL points) */
};

/*
 * Read one thing of the organization with the queries of a sync, a few
 * points instead of a whole sync (docs/internals/github-client.md,
 * "Targeted reads"): name is the team's slug or the repository's name.
 * On GA_OK *out is a new org_input holding only that: for a team, one team
 * (slug name, id 0) with the list read and the other list empty; for a
 * repository, that repository; for a member, that member when the
 * membership is active, else no member at all (GitHub's 404, a pending
 * invitation).  synced_at/_ms are the start of the read.
 * Direct grants that the token cannot read from permissionSources count
 * as READ (the inference of a sync needs the whole organization; READ is
 * never above the truth).  A team or repository GitHub does not show is
 * GA_EUPSTREAM, like every other failure (see gh_sync); stats as gh_sync.
 * Thread-safe as gh_sync.
 */
enum ga_rc gh_sync_targeted(struct gh_client *client, enum gh_targeted_kind kind,
			    const char *name, struct org_input **out,
			    struct gh_sync_stats *stats, struct ga_err *err);

/* Answer of gh_check_token(). */
enum gh_token_result {
	GH_TOKEN_VALID = 0,	/* GitHub says the token is username's */
	GH_TOKEN_INVALID,	/* definite no: 401, or the token is another login's */
	GH_TOKEN_UNKNOWN,	/* could not tell: timeout, 5xx, rate limit, garbage */
};

/* "valid", "invalid", "unknown". */
const char *gh_token_result_name(enum gh_token_result result);

/*
 * Ask GET {api_url}/user with token whether it belongs to username.  The
 * login must match exactly (case-sensitive, docs/access-model.md section 3);
 * a login that differs only in case is INVALID and logged at warn level
 * (without the token).  On VALID *user_id (may be NULL) gets GitHub's
 * numeric id.  A token that could not be sent in a header (empty, longer
 * than 255 bytes, or not printable ASCII) is INVALID without a request.
 *
 * Fast and bounded: one request, plus one quick retry after a network
 * error or 5xx when time is left; the total never exceeds the configured
 * http_timeout.  Never waits for a rate limit (that answer is UNKNOWN).
 * err (may be NULL) explains INVALID and UNKNOWN answers, without the
 * token.  Thread-safe: call it from any number of threads at once.
 */
enum gh_token_result gh_check_token(struct gh_client *client, const char *username,
				    const char *token, long long *user_id,
				    struct ga_err *err);

/* ---- the OAuth web flow (gh_oauth.c), for the web pages' sign-in ---- */

/* Answer of gh_oauth_exchange() and gh_token_owner(). */
enum gh_oauth_result {
	GH_OAUTH_OK = 0,
	GH_OAUTH_REFUSED,	/* definite no: a bad or used code, wrong client credentials */
	GH_OAUTH_UNAVAILABLE,	/* could not tell: timeout, 5xx, rate limit, garbage */
};

/* What the code exchange sends (all borrowed; secrets are never logged). */
struct gh_oauth_exchange {
	const char *client_id;
	const char *client_secret;
	const char *code;		/* from the callback's query */
	const char *redirect_uri;	/* the one sent to the authorize page */
	const char *code_verifier;	/* PKCE (RFC 7636, S256) */
};

/*
 * POST {[web] github_url}/login/oauth/access_token with the exchange's
 * fields (form-encoded, Accept: application/json), as GitHub documents it
 * for OAuth Apps and GitHub Apps.  One try, never retried (a code is
 * single use: a retry after a lost answer could only fail), within
 * [github] timeout.  On GH_OAUTH_OK *token is the user's access token
 * (ga_malloc'd: wipe it with ga_secret_free as soon as it is used).
 * GitHub answers a refusal with 200 and {"error": ...}: that is REFUSED,
 * with err naming GitHub's error code (never a secret).  Thread-safe.
 */
enum gh_oauth_result gh_oauth_exchange(struct gh_client *client,
				       const struct gh_oauth_exchange *exchange, char **token,
				       struct ga_err *err);

/*
 * GET {api_url}/user with a user's access token: the account's login
 * (copied into login, at most 39 characters) and numeric id.  Same bounds
 * as gh_check_token (one quick retry after a network error or 5xx, within
 * [github] timeout).  401 is REFUSED; anything else that is not a user is
 * UNAVAILABLE.  Thread-safe.
 */
enum gh_oauth_result gh_token_owner(struct gh_client *client, const char *token, char login[40],
				    long long *id, struct ga_err *err);

/* Answer of gh_check_org_access(). */
enum gh_org_access {
	GH_ORG_ACCESS_OK = 0,		/* 200 with state "active" */
	GH_ORG_ACCESS_DENIED,		/* definite no: 404 (no membership the token can
					 * see), a pending invitation, 401, or a 403 that
					 * is neither SSO nor a rate limit (a token
					 * policy, an IP allow list, a missing permission) */
	GH_ORG_ACCESS_SSO_REQUIRED,	/* 403 with X-GitHub-SSO: required: the token is
					 * not authorized for the organization's SAML SSO */
	GH_ORG_ACCESS_UNKNOWN,		/* could not tell: timeout, 5xx, rate limit, garbage */
};

/* Longest authorization URL gh_check_org_access hands back (with its NUL). */
#define GH_SSO_URL_MAX 256

/*
 * Ask GET {api_url}/user/memberships/orgs/{org} with the user's token
 * whether the token reaches the configured organization as an active
 * member.  GitHub refuses organization resources to a token that its SAML
 * SSO, a token policy or an IP allow list does not admit, while GET /user
 * still accepts it: this call tells them apart.  On SSO_REQUIRED, sso_url
 * (GH_SSO_URL_MAX bytes) gets the URL from X-GitHub-SSO that authorizes the
 * token ("" when GitHub gave none usable).  Same bounds as gh_check_token:
 * one request and one quick retry within http_timeout, no rate-limit wait.
 * err explains DENIED and UNKNOWN, without the token.  Thread-safe.
 */
enum gh_org_access gh_check_org_access(struct gh_client *client, const char *token,
				       char sso_url[GH_SSO_URL_MAX], struct ga_err *err);

/* ---- public documents (gh_fetch.c), for trusted publishing ------------- */

/*
 * GET url without any credential (GitHub Actions' OIDC issuer serves its
 * discovery document and key set to anyone; the client's token must never
 * go there), Accept: application/json, through the client's transport and
 * limits: one try within [github] timeout, no redirect followed, http or
 * https only.  On GA_OK *body is the reply (ga_malloc'd, NUL-terminated)
 * and *len its length.  GA_EUPSTREAM with err for no answer, a status other
 * than 200, or a reply over max_bytes.  Thread-safe.
 */
enum ga_rc gh_fetch_public(struct gh_client *client, const char *url, size_t max_bytes,
			   char **body, size_t *len, struct ga_err *err);

#endif
