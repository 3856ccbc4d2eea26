/*
 * http_reason.h - a custom reason phrase on the next status line.
 *
 * twine shows the user only the HTTP reason phrase of a refused upload
 * ("HTTPError: 403 Forbidden from ...\n<reason phrase>"), not the body, so
 * every refusal must travel in the status line, as PyPI does ("400 File
 * already exists").  libmicrohttpd has no API for that: it writes the
 * phrase of MHD_get_reason_phrase_for(code), which it calls through its
 * PLT.  http_reason.c defines that function (and its _len_ sibling) in the
 * program, which interposes them: they return the phrase set here for the
 * next status line this thread builds with that code, and libmicrohttpd's
 * own phrase otherwise (found with dlsym(RTLD_NEXT)).
 *
 * libmicrohttpd builds the status line on the thread that queued the
 * response, right after the access handler returns, so a thread-local
 * phrase reaches the right response; it is used once, and only within a
 * second of being set, so a phrase that was never used cannot leak into a
 * later response.  With a libmicrohttpd that binds the call internally the
 * interposition silently does nothing and clients see the standard phrase
 * (the body still carries the reason).
 */
#ifndef HTTP_REASON_H
#define HTTP_REASON_H

/* Longest phrase kept (longer ones are cut): a refusal that names a SAML
 * SSO authorization URL needs about 250. */
#define HTTP_REASON_MAX 400

/*
 * Use text as the reason phrase of the next response with status built on
 * this thread.  Characters outside printable ASCII become '?', so a phrase
 * can never break the status line.  Call just before queuing the response.
 */
void http_reason_set(unsigned status, const char *text);

struct http_request;

/*
 * Answer status with text as a plain-text body and, for a refusal (status
 * 400 or above), as the reason phrase too; header and value (both NULL for
 * none) add one response header (Location, WWW-Authenticate, Retry-After).
 * The index and the login refusals of every front end answer through here.
 */
void http_respond_text(struct http_request *request, unsigned status, const char *text,
		       const char *header, const char *value);

#endif
