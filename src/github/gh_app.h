/*
 * gh_app.h - GitHub App authentication: JWT, installation, installation token.
 *
 * Instead of a person's token, the server may act as a GitHub App
 * installed on the organization ([github] app_client_id,
 * app_private_key_file, app_installation_id).  The App proves itself with
 * a JSON Web Token signed RS256 by its private key, and trades it for an
 * installation token (one hour) that the GitHub client sends as
 * "Authorization: Bearer <token>" like a personal token:
 *
 *   JWT          header {"alg":"RS256","typ":"JWT"}, claims iat = now - 60
 *                (GitHub's clock may be behind ours), exp = now + 540
 *                (GitHub refuses more than 10 minutes), iss = app_client_id
 *                (a client ID "Iv1.…" or a numeric App ID);
 *   installation GET {api_url}/orgs/{org}/installation, when
 *                app_installation_id is 0, and again whenever the
 *                installation turns out to be gone (below);
 *   token        POST {api_url}/app/installations/{id}/access_tokens ->
 *                {"token": "ghs_…", "expires_at": "2024-05-01T12:00:00Z"}.
 *
 * The holder keeps the current installation token and mints a new one when
 * the current one expires within the refresh margin (5 minutes), so that a
 * sync that starts with a token never ends with an expired one.
 *
 * Installations change: an App that is uninstalled and installed again
 * gets a new installation id, and the old one answers 404.  A 404 for the
 * token (or gh_app_forget_installation(), for the installation webhook's
 * deleted and created events) makes the next token request look the
 * installation up again, configured id or not; a lookup that fails is
 * not repeated for 1 s, then 2 s, 4 s ... at most 5 minutes.
 *
 * Secrets: the private key, the JWT and the token are never logged and
 * never put into an error message; buffers that held them are wiped.
 */
#ifndef GH_APP_H
#define GH_APP_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "util/ga_err.h"

struct gh_app;
struct gh_client;

/* How long before expiry the installation token is replaced (seconds). */
#define GH_APP_REFRESH_MARGIN 300
/* The lifetime asked for the JWT, after its iat 60 s in the past. */
#define GH_APP_JWT_LIFETIME 540
/* Room for an installation token (GitHub's are 40 characters). */
#define GH_APP_TOKEN_MAX 256

/*
 * An App that asks GitHub through client (borrowed, must outlive the App:
 * its transport, its waits, gh_client_cancel) for the client's
 * configuration: organization, api_url, app_client_id,
 * app_private_key_file, app_installation_id and the timeouts.  Reads the
 * private key now (PEM, PKCS#1 "RSA PRIVATE KEY" as GitHub hands it out,
 * or PKCS#8) and refuses anything but an RSA key.  Asks GitHub nothing yet.
 * Errors (err names the file, never its content):
 *   GA_EINVAL  app_client_id or app_private_key_file unset, not a PEM
 *              private key, or not an RSA key
 *   GA_EIO     the key file cannot be read
 * Free with gh_app_destroy().
 */
enum ga_rc gh_app_create(struct gh_client *client, struct gh_app **out, struct ga_err *err);

/* Free the App and wipe its key and token.  No call may be running.  NULL is fine. */
void gh_app_destroy(struct gh_app *app);

/*
 * A JWT for the App at Unix time now (tests pass a fixed time).  *out is a
 * new string; free it with ga_secret_free().  GA_EINVAL only if OpenSSL
 * cannot sign.  Thread-safe.
 */
enum ga_rc gh_app_jwt(const struct gh_app *app, long long now, char **out, struct ga_err *err);

/*
 * Copy the current installation token into token (size bytes, at least
 * GH_APP_TOKEN_MAX), minting a new one first when there is none, it
 * expires within GH_APP_REFRESH_MARGIN seconds, or gh_app_invalidate()
 * was called; looks the installation up first when needed.  *expires_at
 * (may be NULL) gets the token's expiry (Unix time).  Callers should wipe
 * token after use (explicit_bzero).
 *
 * Thread-safe and single-flight: callers that find the token stale while
 * another thread mints one wait for that one.  A network error or 5xx is
 * tried three times in all, 250 ms then 1 s apart (the transport's
 * GH_RETRY_APP; gh_client_cancel ends the waits and a call in progress).  A 404 for the
 * token looks the installation up again (within the lookup backoff) and
 * mints with the id found.
 * Errors (err says what and what to check):
 *   GA_EDENIED    GitHub refused the JWT (wrong key, wrong client ID)
 *   GA_ENOTFOUND  the App is not installed on the organization, or the
 *                 installation found does not exist (also during the
 *                 lookup backoff, without asking GitHub)
 *   GA_EUPSTREAM  network error, 5xx, or a malformed answer; the client
 *                 was cancelled
 */
enum ga_rc gh_app_token(struct gh_app *app, char *token, size_t size, long long *expires_at,
			struct ga_err *err);

/*
 * Forget the current token (GitHub answered 401 with it: revoked, or the
 * clocks disagree), so that the next gh_app_token() mints a new one.
 * Thread-safe.
 */
void gh_app_invalidate(struct gh_app *app);

/*
 * The installation changed (the installation webhook's created or deleted
 * event): forget the installation id, the token and the lookup backoff, so
 * that the next gh_app_token() looks the installation up at once.
 * Thread-safe.
 */
void gh_app_forget_installation(struct gh_app *app);

/* The installation ID in use: configured or looked up; 0 before the first
 * lookup and after the installation was found gone.  Thread-safe. */
long long gh_app_installation_id(struct gh_app *app);

/* Installation lookups (GET /orgs/{org}/installation) made so far (tests).
 * Thread-safe. */
unsigned long gh_app_lookups(struct gh_app *app);

/* Installation tokens minted so far (tests, metrics).  Thread-safe. */
unsigned long gh_app_tokens_minted(struct gh_app *app);

/*
 * "2024-05-01T12:00:00Z" (optionally with fractional seconds, or an offset
 * such as "+02:00" instead of "Z") -> Unix time; -1 when not that shape.
 * Exported for tests.
 */
long long gh_app_parse_time(const char *text);

#endif
