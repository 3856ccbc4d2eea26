/*
 * gh_internal.h - the GitHub client's internals, shared by its files and
 * its unit tests (which feed the reply parsers canned pages without HTTP).
 *
 * Layers, bottom up:
 *   gh_client.c   client lifetime, options, pooled curl handles, waits
 *   gh_http.c     the transport: every request to GitHub, its retries
 *   gh_app.c      the GitHub App's JWT and installation tokens
 *   gh_json.c     type-checked access to jansson values
 *   gh_graphql.c  a GraphQL request with retries; reply envelope parsing
 *   gh_parse.c    page parsers: GraphQL data -> struct org_input records
 *   gh_sync.c     the sync plan (pagination, follow-ups, base permission)
 *   gh_user.c     the token check, the organization-access check
 *   gh_oauth.c    the OAuth web flow's code exchange (the web pages' sign-in)
 *   gh_poll.c     conditional REST polls (gh_poll.h)
 *   gh_fetch.c    anonymous GETs of public documents (trusted publishing)
 * Nothing here is part of the module's contract with the rest of ghaccess.
 */
#ifndef GH_INTERNAL_H
#define GH_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>
#include <jansson.h>

#include "github/gh_app.h"
#include "github/github.h"
#include "util/ga_buf.h"
#include "util/ga_map.h"

/* The queries, embedded from the src/github/queries .graphql files at build time. */
extern const char gh_query_org_members[];
extern const char gh_query_org_teams[];
extern const char gh_query_org_repositories[];
extern const char gh_query_team_members[];
extern const char gh_query_team_repositories[];
extern const char gh_query_repository_collaborators[];
extern const char gh_query_repository[];
/* The CollaboratorEdge fragment the two queries above spread: with
 * permissionSources (needs admin:org), or without. */
extern const char gh_query_collaborator_edge[];
extern const char gh_query_collaborator_edge_plain[];

/* The largest page GitHub serves, and the smallest we shrink to after 502s. */
#define GH_PAGE_SIZE 100
#define GH_MIN_PAGE_SIZE 10
/* The longest token gh_check_token() will send (docs/access-model.md). */
#define GH_TOKEN_MAX 255
/* Idle curl handles kept for reuse (keep-alive connections). */
#define GH_IDLE_HANDLES 16

/* ---- gh_client.c ---------------------------------------------------- */

struct gh_client {
	const struct config *config;		/* borrowed */
	struct gh_client_options options;
	char *user_agent;			/* "User-Agent: ghaccess/<version>" */
	char *graphql_url;
	CURLSH *share;				/* DNS cache and TLS sessions */
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
	pthread_mutex_t lock;			/* idle handles, waits */
	pthread_cond_t wake;			/* signalled by gh_client_cancel */
	CURL *idle[GH_IDLE_HANDLES];
	size_t idle_count;
	bool retired;				/* gh_client_retire: pool nothing (under lock) */
	atomic_bool cancelled;
	atomic_bool base_permission_warned;	/* log the hidden base permission once */
	/* GitHub refused permissionSources to the credential (INSUFFICIENT_SCOPES):
	 * later syncs of this client ask without it (gh_sync.c). */
	atomic_bool sources_refused;
	/* GitHub App authentication (gh_app.h), when app_client_id is set:
	 * created at the first request, under app_lock. */
	pthread_mutex_t app_lock;
	struct gh_app *app;
};

/* A curl handle for one thread's use (reset, keep-alive connections kept);
 * give it back with gh_handle_release.  Never NULL (aborts). */
CURL *gh_handle_acquire(struct gh_client *client);
void gh_handle_release(struct gh_client *client, CURL *handle);

/* Sleep ms milliseconds scaled by options.time_scale.  Returns false at
 * once when the client is (or gets) cancelled. */
bool gh_client_wait(struct gh_client *client, long long ms);
bool gh_client_is_cancelled(struct gh_client *client);

/*
 * Append "Authorization: Bearer <credential>" for the client's own
 * requests to headers.  The one place that knows which credential the
 * server uses: a GitHub App's installation token when app_client_id is
 * set (gh_app.h), else the personal token.  GA_EINVAL when there is no
 * usable credential; the App's errors (GA_EDENIED, GA_ENOTFOUND,
 * GA_EUPSTREAM) when it cannot get a token.
 */
enum ga_rc gh_auth_header(struct gh_client *client, struct curl_slist **headers,
			  struct ga_err *err);

/* GitHub answered 401 to the client's credential: an App forgets its
 * installation token so that the next request mints a new one. */
void gh_client_credential_refused(struct gh_client *client);

/* curl_slist_append that aborts when out of memory. */
struct curl_slist *gh_append_header(struct curl_slist *headers, const char *line);

/* Append "Authorization: Bearer <token>"; token must be sendable.  The
 * temporary copy is wiped. */
void gh_append_bearer(struct curl_slist **headers, const char *token);

/* true when token can go into a header: 1..GH_TOKEN_MAX printable,
 * non-space ASCII characters. */
bool gh_token_is_sendable(const char *token);

/* ---- gh_http.c: the transport ---------------------------------------- */

/*
 * Every request to GitHub goes through here (docs/internals/github-client.md,
 * "The transport"): headers, the credential, timeouts, protocols, the
 * reply cap, the rate-limit headers, classification, retries and their
 * waits, cancellation.  Nothing else in ghaccess configures libcurl.
 */

/* How a request is tried again. */
enum gh_retry_policy {
	/* The server's own calls of a sync: network errors and 5xx with full
	 * jitter backoff (options.max_attempts tries), rate limits waited out
	 * up to options.max_rate_limit_wait_ms. */
	GH_RETRY_SYNC = 0,
	/* A person is waiting (token checks, the web sign-in's token owner):
	 * one more try 100 ms after a network error or 5xx when time is left,
	 * every try within one [github] timeout; a rate limit is an answer. */
	GH_RETRY_QUICK,
	/* The App's JWT calls (gh_app.c): a network error or 5xx is tried
	 * three times in all, 250 ms then 1 s apart. */
	GH_RETRY_APP,
	/* One try: an OAuth code is single use; a poll comes back anyway. */
	GH_RETRY_NONE,
};

struct gh_request {
	const char *method;		/* "GET" or "POST" */
	const char *url;
	const char *body;		/* POST body, NUL-terminated; NULL for GET */
	const char *what;		/* "GET /user", "GraphQL OrgTeams": for messages */
	enum gh_retry_policy retry;	/* gh_http_request only */
	/* The credential, at most one: a user's token (token checks, the
	 * web sign-in), the App's JWT (gh_app.c), none at all (anonymous: the
	 * OAuth endpoints of the web host).  Neither: the client's own
	 * (gh_auth_header: the App's installation token or the token). */
	const char *token;
	const char *jwt;
	bool anonymous;
	const char *if_none_match;	/* an ETag: a conditional GET (polls) */
	long timeout_ms;		/* of one try; 0: [github] timeout */
	const char *accept;		/* NULL: application/vnd.github+json */
	const char *content_type;	/* of a non-empty body; NULL: application/json */
};

/* The longest X-GitHub-SSO value kept, and ETag. */
#define GH_SSO_HEADER_MAX 512
#define GH_ETAG_MAX 160

struct gh_response {
	long status;			/* HTTP status; 0 when no answer came */
	struct ga_buf body;		/* capped at the size given to gh_response_init */
	long long retry_after_s;	/* retry-after header; -1 absent */
	long long ratelimit_limit;	/* x-ratelimit-limit; -1 absent */
	long long ratelimit_remaining;	/* x-ratelimit-remaining; -1 absent */
	long long ratelimit_reset;	/* x-ratelimit-reset (Unix time); -1 absent */
	CURLcode transport;		/* CURLE_OK when an answer came */
	bool too_large;			/* the body passed the cap */
	char transport_error[CURL_ERROR_SIZE];
	char sso[GH_SSO_HEADER_MAX];	/* X-GitHub-SSO, "" when absent or too long */
	char etag[GH_ETAG_MAX];		/* ETag, "" when absent or too long */
	unsigned tries;			/* requests sent (gh_http_request) */
	/* The request ended with this answer (gh_http_request), rather than
	 * cancelled or never sent: a caller may judge it (401, 404, 304). */
	bool final;
};

enum gh_outcome {
	GH_OUTCOME_OK = 0,		/* 2xx */
	GH_OUTCOME_FAILED,		/* an answer that retrying will not change (4xx) */
	GH_OUTCOME_TRANSIENT,		/* network error, timeout, 5xx: retry with backoff */
	GH_OUTCOME_RATE_LIMITED,	/* 403/429 rate limit: wait, then retry */
};

void gh_response_init(struct gh_response *response, size_t max_body);
void gh_response_reset(struct gh_response *response);
void gh_response_free(struct gh_response *response);

/*
 * The whole request on handle (NULL: one from the client's pool): tried
 * and waited as request->retry says, every wait ended by
 * gh_client_cancel.  stats (may be NULL; the sync's) counts the REST
 * requests, retries and rate-limit waits.  GA_OK: a 2xx answer is in
 * response.  Otherwise err says why, naming request->what:
 *   GA_EUPSTREAM  network error, 5xx after the tries, another answer,
 *                 a reply over the cap; cancelled
 *   GA_EDENIED    401 (to the client's own credential: an App mints a
 *                 new installation token next time)
 *   GA_ELIMIT     a rate limit longer than the client waits (SYNC)
 *   GA_EINVAL     not sent: no usable credential
 * and response->final says whether response holds the answer the request
 * ended with, for callers that judge it (a 401, 404 or 304 means
 * something to them).  A cancelled client sends nothing.  Thread-safe.
 */
enum ga_rc gh_http_request(struct gh_client *client, CURL *handle,
			   const struct gh_request *request, struct gh_response *response,
			   struct gh_sync_stats *stats, struct ga_err *err);

/*
 * One try on handle (from gh_handle_acquire), for callers with their own
 * loop (GraphQL: smaller pages after a 502).  Fills response (a transport
 * failure is response->transport, not an error).  Returns GA_EINVAL when
 * the request could not be built (no credential), GA_EUPSTREAM without
 * sending anything when the client is cancelled.
 */
enum ga_rc gh_http_once(struct gh_client *client, CURL *handle, const struct gh_request *request,
			struct gh_response *response, struct ga_err *err);

/* What the answer means for a retry loop. */
enum gh_outcome gh_http_classify(const struct gh_response *response);

/* A one-line description of a failed answer for messages, e.g.
 * "HTTP 502" or "timeout (Timeout was reached)".  Static or into buf. */
const char *gh_http_describe(const struct gh_response *response, char *buf, size_t size);

/* Retry bookkeeping of one logical request. */
struct gh_retry {
	enum gh_retry_policy policy;
	int attempts;			/* failed tries so far (5xx, network) */
	int rate_limit_waits;
	long long fallback_wait_ms;	/* grows when a limit names no reset time */
	long long deadline_ms;		/* QUICK: monotonic end of every try */
	bool own_credential;		/* the client's credential: a 401 refuses it */
};

/* Start the bookkeeping of a request of client under policy. */
void gh_retry_init(struct gh_retry *retry, enum gh_retry_policy policy,
		   const struct gh_client *client);

/*
 * After an answer that is not 2xx: decide, by the policy, whether to try
 * again and wait accordingly (cancellable).  Returns GA_OK after waiting
 * (try again), or the error that ends the request (see gh_http_request)
 * with err naming what and the last answer.  stats (may be NULL) counts
 * retries and rate-limit waits.
 */
enum ga_rc gh_retry_after(struct gh_client *client, struct gh_retry *retry,
			  enum gh_outcome outcome, const struct gh_response *response,
			  const char *what, struct gh_sync_stats *stats, struct ga_err *err);

/* The wait, in ms, that a rate-limited answer asks for (before scaling):
 * retry-after, else until x-ratelimit-reset, else the growing fallback. */
long long gh_rate_limit_wait_ms(const struct gh_response *response, long long now_unix,
				long long fallback_ms);

/* Full-jitter backoff for the attempt-th failure (1-based). */
long long gh_backoff_ms(const struct gh_client_options *options, int attempt);

/* text percent-encoded for a URL path segment (ga_free).  Never fails. */
char *gh_url_escape(const char *text);

/* ---- gh_json.c ------------------------------------------------------ */

/*
 * Type-checked members of a JSON object.  where names the object in error
 * messages ("organization.teams.nodes[3]").  A missing member or a member
 * of another type is GA_EUPSTREAM; nullable accepts JSON null (out set to
 * NULL / the default).  Strings with an embedded NUL are rejected.
 */
enum ga_rc gh_json_object(const json_t *parent, const char *key, bool nullable, json_t **out,
			  const char *where, struct ga_err *err);
enum ga_rc gh_json_array(const json_t *parent, const char *key, json_t **out,
			 const char *where, struct ga_err *err);
enum ga_rc gh_json_string(const json_t *parent, const char *key, bool nullable,
			  const char **out, const char *where, struct ga_err *err);
enum ga_rc gh_json_bool(const json_t *parent, const char *key, bool *out, const char *where,
			struct ga_err *err);
enum ga_rc gh_json_integer(const json_t *parent, const char *key, bool nullable,
			   long long *out, const char *where, struct ga_err *err);

/* Parse len bytes of JSON (NUL bytes inside strings allowed, duplicate
 * keys rejected).  GA_EUPSTREAM with the position on a syntax error. */
enum ga_rc gh_json_parse(const char *text, size_t len, json_t **out, const char *what,
			 struct ga_err *err);

/* Serialise compactly into a new string (ga_free). */
char *gh_json_dump(const json_t *value);

/* ---- gh_graphql.c --------------------------------------------------- */

struct gh_graphql_error {
	char *type;		/* "FORBIDDEN", ...; "" when absent */
	char *path;		/* "organization.repositories.nodes[3].collaborators"; "" when absent */
	char *message;		/* "" when absent */
};

/* One GraphQL reply: the envelope of docs/internals/github-client.md. */
struct gh_graphql_reply {
	json_t *root;			/* owned */
	json_t *data;			/* borrowed from root; NULL when absent or null */
	struct gh_graphql_error *errors;
	size_t error_count;
	long long cost;			/* rateLimit.cost; -1 absent */
	long long remaining;		/* rateLimit.remaining; -1 absent */
	long long reset_at;		/* rateLimit.resetAt as Unix time; -1 absent */
};

void gh_graphql_reply_init(struct gh_graphql_reply *reply);
void gh_graphql_reply_free(struct gh_graphql_reply *reply);

/*
 * Parse a reply body: a JSON object with "data" (object or null) and/or
 * "errors" (array of objects with message, type, path).  Partial data is
 * kept.  GA_EUPSTREAM for malformed JSON, a non-object, wrong types, or
 * neither data nor errors.  Errors in the reply are not an error here:
 * the page parsers decide which ones they can live with.
 */
enum ga_rc gh_graphql_parse_reply(const char *text, size_t len, struct gh_graphql_reply *reply,
				  const char *what, struct ga_err *err);

/* true when an error of the reply says the rate limit is exhausted. */
bool gh_graphql_reply_rate_limited(const struct gh_graphql_reply *reply);

/* "TYPE at PATH: message" of the first error into buf. */
const char *gh_graphql_describe_error(const struct gh_graphql_error *error, char *buf,
				      size_t size);

/* A connection to GitHub for a sequence of GraphQL requests (one sync). */
struct gh_session {
	struct gh_client *client;
	CURL *handle;
	struct gh_sync_stats *stats;
	long long last_remaining;	/* rateLimit.remaining of the last reply; -1 unknown */
	long long last_cost;
	long long last_reset_at;
};

void gh_session_init(struct gh_session *session, struct gh_client *client,
		     struct gh_sync_stats *stats);
void gh_session_free(struct gh_session *session);

/*
 * POST query with variables (borrowed; "first" is set to *page_size) and
 * parse the reply into reply.  Retries network errors and 5xx with
 * backoff; on 502/504 (GitHub's answer to a query that ran too long)
 * halves *page_size down to GH_MIN_PAGE_SIZE, so the caller continues with
 * the smaller pages.  Waits out rate limits (HTTP or a RATE_LIMITED error)
 * and, before sending, a budget that the previous reply said is spent.
 * name ("OrgTeams") is used in messages.  On GA_OK the caller owns reply
 * (gh_graphql_reply_free); GraphQL errors in it are the caller's to judge.
 */
enum ga_rc gh_graphql_query(struct gh_session *session, const char *name, const char *query,
			    json_t *variables, int *page_size, struct gh_graphql_reply *reply,
			    struct ga_err *err);

/* ---- gh_parse.c ----------------------------------------------------- */

enum gh_followup_kind {
	GH_FOLLOW_TEAM_MEMBERS = 0,
	GH_FOLLOW_TEAM_REPOSITORIES,
	GH_FOLLOW_COLLABORATORS,
};

/* A nested list that has more pages: what, whose (index in the input), from where. */
struct gh_followup {
	enum gh_followup_kind kind;
	size_t index;
	char *cursor;		/* owned */
};

/*
 * A direct collaborator whose direct grant GitHub did not say (the token
 * may not read permissionSources, or it was null): the collaborator is
 * stored with its highest permission until gh_infer_direct_grants()
 * replaces that with what the rest of the organization allows to infer.
 */
struct gh_inferred {
	size_t repository;		/* index in input->repositories */
	size_t collaborator;		/* index in its collaborators */
};

/*
 * The records of a sync being collected.  The maps find a member, team or
 * repository by name in O(1) (keys borrowed from the input's strings,
 * which never move), to drop the duplicates that a list changing under
 * pagination can produce.
 */
struct gh_collect {
	struct org_input *input;	/* borrowed */
	struct gh_sync_stats *stats;	/* borrowed; warnings are added here */
	struct ga_map members;
	struct ga_map teams;
	struct ga_map repositories;
	struct gh_followup *followups;
	size_t followup_count;
	size_t followup_cap;
	/* The collaborator queries asked for permissionSources. */
	bool sources_asked;
	struct gh_inferred *inferred;
	size_t inferred_count;
	size_t inferred_cap;
};

void gh_collect_init(struct gh_collect *collect, struct org_input *input,
		     struct gh_sync_stats *stats);
void gh_collect_free(struct gh_collect *collect);

/* Add a formatted warning to stats (and log it at warn level). */
void gh_stats_warn(struct gh_sync_stats *stats, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A null where a value was needed (field: "Blob.isBinary"), which cost
 * only the item it belongs to: counted in stats->nulls and warned about. */
void gh_stats_null(struct gh_sync_stats *stats, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Where the next page of a connection starts. */
struct gh_page {
	bool has_next;
	char *end_cursor;	/* owned; NULL when there is no next page */
};

void gh_page_clear(struct gh_page *page);

/*
 * Page parsers: take the records of one reply into collect->input, note
 * follow-ups for nested lists with more pages, and set page to the outer
 * connection's next page.  GA_EUPSTREAM for a malformed page or a GraphQL
 * error they cannot live with; a page that fails adds nothing reliable, so
 * the sync must fail too.
 */
enum ga_rc gh_parse_members_page(struct gh_collect *collect, const struct gh_graphql_reply *reply,
				 struct gh_page *page, struct ga_err *err);
enum ga_rc gh_parse_teams_page(struct gh_collect *collect, const struct gh_graphql_reply *reply,
			       struct gh_page *page, struct ga_err *err);
enum ga_rc gh_parse_repositories_page(struct gh_collect *collect,
				      const struct gh_graphql_reply *reply, struct gh_page *page,
				      struct ga_err *err);
/* One repository (a Repository query, gh_sync_targeted): added to
 * collect->input, its collaborators' next pages as a follow-up. */
enum ga_rc gh_parse_repository(struct gh_collect *collect, const struct gh_graphql_reply *reply,
			       struct ga_err *err);
/* Follow-up pages for the team or repository at index. */
enum ga_rc gh_parse_team_members_page(struct gh_collect *collect, size_t team,
				      const struct gh_graphql_reply *reply, struct gh_page *page,
				      struct ga_err *err);
enum ga_rc gh_parse_team_repositories_page(struct gh_collect *collect, size_t team,
					   const struct gh_graphql_reply *reply,
					   struct gh_page *page, struct ga_err *err);
enum ga_rc gh_parse_collaborators_page(struct gh_collect *collect, size_t repository,
				       const struct gh_graphql_reply *reply, struct gh_page *page,
				       struct ga_err *err);

/* ---- gh_direct.c ---------------------------------------------------- */

/*
 * Replace the highest permission stored for every collaborator of
 * collect->inferred by the direct grant that the whole organization
 * allows to infer: a collaborator's highest permission H is the highest of
 * the direct grant, the teams' grants (parents' included), the base
 * permission and the owner role; when those others stay below H the
 * direct grant is H, else it is unknown between READ (the least direct
 * grant) and H, and counts as READ.  Never above the truth when the data
 * is consistent.  Call once, after the last page.
 */
void gh_infer_direct_grants(struct gh_collect *collect);

/*
 * GET /orgs/{org} reply body -> the base permission.  Sets *known false
 * when default_repository_permission is absent or null (token without
 * admin:org).  GA_EUPSTREAM for a malformed body or an unknown value.
 */
enum ga_rc gh_parse_org_rest(const char *body, size_t len, bool *known, enum org_level *level,
			     struct ga_err *err);

/*
 * GET /orgs/{org} reply body -> the organization's numeric id (the
 * repository_owner_id of its Actions ID tokens).  *id is 0 and GA_OK when
 * the reply has no integer id (the sync still works; trusted publishing
 * then mints nothing).  GA_EUPSTREAM for a body that is not JSON.
 */
enum ga_rc gh_parse_org_id(const char *body, size_t len, long long *id, struct ga_err *err);

/*
 * GET /user reply body -> login (pointer into a new string, ga_free) and
 * id.  GA_EUPSTREAM for anything but an object with a string login and an
 * integer id.
 */
enum ga_rc gh_parse_user_rest(const char *body, size_t len, char **login, long long *id,
			      struct ga_err *err);

/*
 * GET /user/memberships/orgs/{org} reply body: *active is true when
 * "state" is "active" ("pending": an invitation not yet accepted) and
 * organization.login equals org (case-insensitive, as GitHub's logins).
 * GA_EUPSTREAM for anything but an object with a string state and an
 * organization object with a string login.
 */
enum ga_rc gh_parse_membership_rest(const char *body, size_t len, const char *org, bool *active,
				    struct ga_err *err);

/*
 * GET /orgs/{org}/memberships/{username} reply body (a targeted read of
 * one member): *active when "state" is "active" for organization org and
 * user.login is login (case-insensitive), *is_owner when also "role" is
 * "admin", *id the user's id.  GA_EUPSTREAM for anything but an object
 * with string state and role, an organization with a string login, and a
 * user with a string login (login's) and an integer id.
 */
enum ga_rc gh_parse_org_membership_rest(const char *body, size_t len, const char *org,
					const char *login, bool *active, bool *is_owner,
					long long *id, struct ga_err *err);

/*
 * The authorization URL of an X-GitHub-SSO header value
 * ("required; url=https://github.com/orgs/acme/sso?authorization_request=..."):
 * true and the URL in url (size bytes) when the value says "required" and
 * names an http(s) URL of printable ASCII without spaces that fits; false
 * otherwise ("partial-results; organizations=...", garbage), url "".
 */
bool gh_parse_sso_header(const char *value, char *url, size_t size);

#endif
