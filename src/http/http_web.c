/*
 * http_web.c - the web pages' front end: routes, state, and who is signed
 * in (see http_web.h for the files and docs/web.md for the pages).
 *
 * Routes (GET and HEAD unless said):
 *   /                    your packages, or the sign-in page
 *   /project/<name>/     one package: versions, files, install lines, why
 *   /organization        owners: packages, skipped repositories, sync,
 *                        GitHub budget, webhook deliveries
 *   /login               start signing in with GitHub (OAuth web flow)
 *   /login/callback      GET only: GitHub sends the browser back here
 *   /logout              POST, with the form's CSRF token
 *   /project/<name>/     POST: yank, un-yank or delete (writers; the form's
 *                        CSRF token), then back to the page
 *   /static/web.css      the stylesheet
 */
#include "http/http_web.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/ga_log.h"
#include "util/ga_xalloc.h"

/* A form body (logout, yank, delete) is a few hundred bytes. */
#define WEB_MAX_BODY (8 * 1024)

long long
web_now(void)
{
	return (long long)time(NULL);
}

struct web_state *
web_state_of(struct http_request *request)
{
	return request->frontend_state;
}

/* ---- members by GitHub id, once per snapshot --------------------------- */

struct member_id {
	long long id;
	long member;
};

struct member_ids {
	size_t count;
	struct member_id items[];
};

static int
compare_ids(const void *a, const void *b)
{
	const struct member_id *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static void *
build_member_ids(const struct org_snapshot *snapshot, const struct config *config)
{
	size_t count = org_snapshot_member_count(snapshot);
	struct member_ids *ids;

	if (config->web_client_id == NULL)
		return NULL;	/* no pages, no index */
	ids = ga_malloc(sizeof(*ids) + count * sizeof(ids->items[0]));
	ids->count = count;
	for (size_t i = 0; i < count; i++) {
		ids->items[i].id = org_snapshot_member_id(snapshot, (long)i);
		ids->items[i].member = (long)i;
	}
	qsort(ids->items, count, sizeof(ids->items[0]), compare_ids);
	return ids;
}

static const struct service_derivation member_ids_derivation = {
	.name = "web-member-ids",
	.build = build_member_ids,
	.destroy = ga_free,
};

long
web_member_by_id(struct http_request *request, long long id)
{
	const struct service_view *view = http_request_view(request);
	const struct member_ids *ids =
		view != NULL ? service_view_derived(view, &member_ids_derivation) : NULL;
	struct member_id key = {.id = id};
	const struct member_id *found;

	/* An id of 0 is what a snapshot says when it does not know one. */
	if (ids == NULL || id <= 0)
		return -1;
	found = bsearch(&key, ids->items, ids->count, sizeof(ids->items[0]), compare_ids);
	return found != NULL ? found->member : -1;
}

/* ---- who is signed in --------------------------------------------------- */

void
web_session_of(struct http_request *request, struct web_session *session, bool *unavailable)
{
	const struct config *config = service_config(request->service);
	const struct service_view *view;
	char value[WEB_COOKIE_MAX];
	struct web_keys keys;

	memset(session, 0, sizeof(*session));
	session->member = -1;
	*unavailable = false;
	if (config->web_session_key == NULL ||
	    !web_cookie_get(http_request_header(request, MHD_HTTP_HEADER_COOKIE),
			    web_session_cookie_name(config->web_cookie_secure), value,
			    sizeof(value)))
		return;
	view = http_request_view(request);
	if (view == NULL) {
		*unavailable = true;
		return;
	}
	session->snapshot = service_view_snapshot(view);
	web_keys_derive(config->web_session_key, &keys);
	if (web_session_parse(&keys, org_snapshot_organization(session->snapshot), value, web_now(),
			      config->web_session_lifetime, &session->user_id,
			      &session->issued_at, &session->expires_at)) {
		/* Every request asks the snapshot it decides with. */
		session->member = web_member_by_id(request, session->user_id);
		if (session->member >= 0) {
			session->valid = true;
			snprintf(session->login, sizeof(session->login), "%s",
				 org_snapshot_member_login(session->snapshot, session->member));
			web_csrf_token(&keys, session->user_id, session->issued_at, session->csrf);
			http_request_set_user(request, session->login);
		}
	}
	explicit_bzero(&keys, sizeof(keys));
}

/* ---- the front end ------------------------------------------------------ */

static bool
web_enabled(const struct config *config)
{
	return config->web_client_id != NULL && config->web_client_id[0] != '\0';
}

static enum ga_rc
web_start(const struct config *config, void **state, struct ga_err *err)
{
	struct web_state *web = ga_calloc(1, sizeof(*web));
	enum ga_rc rc = GA_OK;

	pthread_mutex_init(&web->used_lock, NULL);
	atomic_init(&web->exchanges, 0);
	/* The pages read the index's files (versions, hashes) and change them
	 * (yank, delete): a storage of their own; the index front end owns and
	 * cleans it. */
	if (config->index_storage_dir != NULL && config->index_storage_dir[0] != '\0')
		rc = index_storage_open(config->index_storage_dir, INDEX_STORAGE_SHARED,
					&web->storage, err);
	*state = web;
	return rc;
}

static void
web_stop(void *state)
{
	struct web_state *web = state;

	if (web == NULL)
		return;
	index_storage_close(web->storage);
	pthread_mutex_destroy(&web->used_lock);
	ga_free(web);
}

#define GET_OR_HEAD (HTTP_GET | HTTP_HEAD)

static const struct http_route web_routes[] = {
	{ .path = "/", .methods = GET_OR_HEAD, .handle = web_handle_home },
	{ .path = "/project/", .match = HTTP_MATCH_PREFIX, .methods = GET_OR_HEAD,
	  .handle = web_handle_project },
	{ .path = "/project/", .match = HTTP_MATCH_PREFIX, .methods = HTTP_POST,
	  .handle = web_handle_project_change },
	{ .path = "/organization", .methods = GET_OR_HEAD, .handle = web_handle_organization },
	{ .path = "/login", .methods = GET_OR_HEAD, .handle = web_handle_login },
	/* GET only: a HEAD (a prefetcher) must not spend the sign-in. */
	{ .path = "/login/callback", .methods = HTTP_GET, .handle = web_handle_callback },
	{ .path = "/logout", .methods = HTTP_POST, .handle = web_handle_logout },
	{ .path = "/static/web.css", .methods = GET_OR_HEAD, .handle = web_send_css },
	{ .path = NULL },
};

const struct http_frontend http_web_frontend = {
	.name = "web",
	.routes = web_routes,
	.backend_auth = false,
	.max_body = WEB_MAX_BODY,
	.derivation = &member_ids_derivation,
	.enabled = web_enabled,
	.start = web_start,
	.stop = web_stop,
};
