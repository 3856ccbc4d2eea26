/*
 * http_index.h - the built-in index's HTTP files, and what they share
 * (internal to them; the front ends themselves are in http.h):
 *
 *   http_index.c         the front end "index": the simple API, downloads
 *                        (files and their .metadata), uploads, and the
 *                        routes of the JSON API; the storage's owner
 *                        (cleaned at start, completed by index_backfill)
 *   http_index_json.c    GET /pypi/<name>/json, /pypi/<name>/<version>/json
 *   http_index_manage.c  the front end "index-api": yank, un-yank and
 *                        delete (POST and DELETE /api/package/...), and
 *                        http_index_change(), which the web pages' forms
 *                        use too
 *
 * Everything runs on request threads.
 */
#ifndef HTTP_INDEX_H
#define HTTP_INDEX_H

#include <stdbool.h>

#include "http/http.h"
#include "http/http_login.h"
#include "index/index_access.h"
#include "index/index_filename.h"
#include "index/index_manage.h"
#include "index/index_storage.h"
#include "util/ga_buf.h"

/* The index front end's storage, for a request routed to it. */
struct index_storage *http_index_storage(struct http_request *request);

/* The access of a logged-in caller to a project key (stored: whether the
 * index holds files of it). */
struct index_access http_index_access(struct http_request *request, const struct http_login *login,
				      const char *project, bool stored);

/* Log in with Basic credentials, answering the refusal when not OK (or
 * nothing while a check with GitHub is pending). */
bool http_index_logged_in(struct http_request *request, struct http_login *login);

/* A JSON body answer for the JSON API and the change API (taken). */
void http_index_respond_json(struct http_request *request, unsigned status, struct ga_buf *body);

/* GET /pypi/...: the JSON API (http_index_json.c). */
void http_index_handle_json(struct http_request *request);

/* ---- changes (http_index_manage.c) ------------------------------------ */

struct http_index_change {
	enum index_manage_action action;
	const char *project;	/* a PEP 503 key */
	const char *target;	/* a version or a filename */
	const char *reason;	/* NULL: none */
};

struct http_index_change_result {
	unsigned status;			/* 200, 400, 403, 404, 500 */
	char message[INDEX_REASON_MAX];		/* a sentence for the person */
	struct index_manage_result files;	/* on 200: what the action applied to */
};

/*
 * Decide and apply a change for user (member of snapshot), and write its
 * audit line: 404 when the user may not read the package or it has no
 * such release or file (the same answer), 403 without write on it (or for
 * a deletion with [index] allow_delete off), 400 for a bad target or
 * reason.  Free out->files with index_manage_result_free.
 */
void http_index_change(struct http_request *request, struct index_storage *storage,
		       const struct org_snapshot *snapshot, long member, const char *user,
		       const struct http_index_change *change, struct http_index_change_result *out);

#endif
