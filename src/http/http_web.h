/*
 * http_web.h - the web pages for people: sign in with GitHub, see your
 * packages, understand your access (docs/web.md).  Internal to the
 * http_web*.c files; the front end itself is http_web_frontend (http.h).
 *
 *   http_web.c          the front end: routes, start/stop, the per-snapshot
 *                       index of members by GitHub id, the signed-in check
 *   http_web_session.c  cookies: the signed session, the OAuth flow cookie,
 *                       the CSRF token of forms, the Cookie header
 *   http_web_oauth.c    /login, /login/callback, /logout
 *   http_web_html.c     escaping, the page skeleton, security headers, CSS
 *   http_web_pages.c    /, /project/<name>/ (with the yank and delete forms
 *                       of writers, and their POST), the signed-out page
 *   http_web_owner.c    /organization, for owners
 *
 * Sessions are stateless: a cookie signed with a key derived from [web]
 * session_key_file names the GitHub user id and an expiry; every request
 * finds that id among the members of the snapshot it decides with, so a
 * removed member loses the session at the next snapshot or webhook.  Any
 * instance with the same key file accepts it.  The user's GitHub token is
 * used for GET /user during the callback and wiped; nothing keeps it.
 *
 * Thread-safety: everything here runs on request threads; the shared
 * state (struct web_state) is immutable after start except the used-state
 * table and the exchange counter, which lock or are atomic.
 */
#ifndef HTTP_WEB_H
#define HTTP_WEB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"
#include "index/index_storage.h"
#include "org/org_snapshot.h"
#include "util/ga_buf.h"
#include "util/ga_secret.h"

/* A GitHub login is at most 39 characters. */
#define WEB_LOGIN_MAX 40
/* base64url of 32 bytes, unpadded, and of 16 bytes. */
#define WEB_B64_32 43
#define WEB_B64_16 22
/* How long a sign-in may take at GitHub: its codes live 10 minutes. */
#define WEB_FLOW_SECONDS 600
/* Code exchanges in flight at once (each holds a server thread for up to
 * two [github] timeouts); more sign-ins at that moment get a 503. */
#define WEB_EXCHANGES_MAX 4
/* Sign-in states remembered as used (single use), the oldest forgotten
 * first; GitHub's codes are single use as well. */
#define WEB_USED_STATES 4096

/* ---- the front end's state (http_web.c) ---------------------------- */

struct web_used_state {
	char nonce[WEB_B64_16 + 1];
	long long expires;
};

struct web_state {
	struct index_storage *storage;	/* NULL without [index] storage_dir */
	atomic_int exchanges;		/* code exchanges in flight */
	pthread_mutex_t used_lock;
	struct web_used_state used[WEB_USED_STATES];	/* a ring */
	size_t used_next;
};

/* A signed-in request: who, as of the request's snapshot. */
struct web_session {
	bool valid;
	long long user_id;
	long long issued_at;
	long long expires_at;
	long member;				/* index in snapshot */
	const struct org_snapshot *snapshot;	/* the request's (held by its view) */
	char login[WEB_LOGIN_MAX];
	char csrf[WEB_B64_32 + 1];		/* the token this session's forms carry */
};

/* Unix time now. */
long long web_now(void);

/* The front end's state of this request. */
struct web_state *web_state_of(struct http_request *request);

/* The member of snapshot with GitHub id (the request's view's index), or -1. */
long web_member_by_id(struct http_request *request, long long id);

/*
 * The request's session: the cookie verified (web_session_parse), then
 * the user found in the request's snapshot.  session->valid is false when
 * there is no cookie, a bad one, an expired one, a user who is no longer
 * a member, or no usable snapshot (*unavailable set for the last one).
 */
void web_session_of(struct http_request *request, struct web_session *session,
		    bool *unavailable);

/* ---- cookies and tokens (http_web_session.c) ----------------------- */

/* The keys of one [web] session_key, each for one purpose. */
struct web_keys {
	uint8_t session[GA_HMAC_SIZE];
	uint8_t oauth[GA_HMAC_SIZE];
	uint8_t csrf[GA_HMAC_SIZE];
};

void web_keys_derive(const char *session_key, struct web_keys *keys);

/* Cookie names: "__Host-" prefixed when cookies are Secure. */
const char *web_session_cookie_name(bool secure);
const char *web_oauth_cookie_name(bool secure);

/*
 * The value of cookie name in a Cookie header (NULL: none).  Copies at
 * most size-1 bytes into out.  Returns false when the cookie is absent,
 * present more than once (which one would a proxy have seen?), or longer
 * than out.
 */
bool web_cookie_get(const char *header, const char *name, char *out, size_t size);

/* The longest cookie value written here. */
#define WEB_COOKIE_MAX 160

/* "1.<uid>.<iat>.<exp>.<mac>" for a session of user_id. */
void web_session_format(const struct web_keys *keys, const char *organization,
			long long user_id, long long issued_at, long long expires_at,
			char out[WEB_COOKIE_MAX]);

/*
 * Verify a session cookie value: the format, the MAC (constant time),
 * issued_at not in the future (60 s of clock skew), now < expires_at and
 * expires_at - issued_at <= lifetime.  Fills user_id, issued_at and
 * expires_at on success.
 */
bool web_session_parse(const struct web_keys *keys, const char *organization, const char *value,
		       long long now, int lifetime, long long *user_id, long long *issued_at,
		       long long *expires_at);

/* The CSRF token of a session (bound to its user, issue time and key). */
void web_csrf_token(const struct web_keys *keys, long long user_id, long long issued_at,
		    char out[WEB_B64_32 + 1]);

/* "1.<nonce>.<exp>.<mac>": a new sign-in's cookie, with its nonce. */
void web_flow_format(const struct web_keys *keys, const char nonce[WEB_B64_16 + 1],
		     long long expires_at, char out[WEB_COOKIE_MAX]);

/* Verify a sign-in cookie (format, MAC, not expired); its nonce into nonce. */
bool web_flow_parse(const struct web_keys *keys, const char *value, long long now,
		    char nonce[WEB_B64_16 + 1]);

/* The OAuth state and the PKCE code verifier of a sign-in, both derived
 * from its nonce (the verifier never reaches the browser). */
void web_flow_state(const struct web_keys *keys, const char *nonce, char out[WEB_B64_32 + 1]);
void web_flow_verifier(const struct web_keys *keys, const char *nonce,
		       char out[WEB_B64_32 + 1]);

/* PKCE S256: base64url(SHA-256(verifier)). */
void web_pkce_challenge(const char *verifier, char out[WEB_B64_32 + 1]);

/* base64url without padding of len bytes (out: 4*len/3+2 bytes). */
void web_base64url(const uint8_t *bytes, size_t len, char *out);

/*
 * A state-changing form's check, for every POST of the pages: a signed-in
 * session, an Origin header (when sent) equal to [web] url's origin, and
 * the form's "csrf" field equal to the session's token (constant time).
 * The body must be application/x-www-form-urlencoded.  Returns false and
 * answers 403 when any of these fails.  Yank and delete forms use it too.
 */
bool web_form_check(struct http_request *request, const struct web_session *session);

/* ---- pages (http_web_html.c) --------------------------------------- */

/*
 * Append fmt with its arguments to page, escaping every %s argument for
 * HTML text and attributes: the only way text that is not a constant
 * enters a page.  Supported conversions: %s %d %u %ld %lld %llu %zu %%.
 */
void web_html(struct ga_buf *page, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append text percent-encoded as one URL path segment (then safe in HTML). */
void web_html_segment(struct ga_buf *page, const char *text);

/* The path part of [web] url ("" or "/prefix"), for the links of a page. */
const char *web_base_path(const struct config *config);

/* Start a page: doctype, head with title, the header bar (the signed-in
 * user and the sign-out form when session is valid). */
void web_page_begin(struct ga_buf *page, struct http_request *request, const char *title,
		    const struct web_session *session);
void web_page_end(struct ga_buf *page);

/*
 * Send page (taken) with status and the security headers (CSP without
 * inline script or style, frame-ancestors 'none', X-Frame-Options DENY,
 * nosniff, no-referrer, Cache-Control no-store); cookies (NULL-terminated
 * Set-Cookie values, may be NULL) are added.
 */
void web_send(struct http_request *request, unsigned status, struct ga_buf *page,
	      const char *const *cookies);

/* A 303 redirect to base path + path, with cookies, and the same headers. */
void web_redirect(struct http_request *request, const char *path, const char *const *cookies);

/* A redirect to an absolute URL (GitHub's authorize page). */
void web_redirect_absolute(struct http_request *request, const char *url,
			   const char *const *cookies);

/* A short page with a title and one sentence (errors, refusals). */
void web_send_message(struct http_request *request, unsigned status, const char *title,
		      const char *message, const struct web_session *session,
		      const char *const *cookies);

/* A Set-Cookie value for name=value, Max-Age seconds (0: delete). */
char *web_cookie_header(const struct config *config, const char *name, const char *value,
			long long max_age);

/* "2026-01-31 12:00 UTC" ("-" for 0). */
void web_format_time(long long when, char *out, size_t size);

/* The stylesheet (GET /static/web.css). */
void web_send_css(struct http_request *request);

/* ---- handlers ------------------------------------------------------ */

void web_handle_login(struct http_request *request);		/* http_web_oauth.c */
void web_handle_callback(struct http_request *request);
void web_handle_logout(struct http_request *request);
void web_handle_home(struct http_request *request);		/* http_web_pages.c */
void web_handle_project(struct http_request *request);
void web_handle_project_change(struct http_request *request);
void web_handle_organization(struct http_request *request);	/* http_web_owner.c */

/* The signed-out page (names nothing of the organization). */
void web_send_signed_out(struct http_request *request, unsigned status, const char *notice,
			 const char *const *cookies);

#endif
