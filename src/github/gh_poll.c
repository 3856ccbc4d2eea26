/* gh_poll.c - conditional REST polls for base permission and owner changes; see gh_poll.h. */
#include "github/gh_poll.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "github/gh_internal.h"
#include "util/ga_log.h"
#include "util/ga_map.h"
#include "util/ga_xalloc.h"

#define ETAG_MAX GH_ETAG_MAX
#define PAGE_SIZE 100
/* 5,000 owners: past that the periodic sync is the safety net. */
#define MAX_PAGES 50
#define POLL_REPLY_MAX ((size_t)4 << 20)

struct poll_page {
	char etag[ETAG_MAX];
	uint64_t hash;		/* of the page's sorted owner logins */
	size_t count;
};

struct gh_poll {
	char org_etag[ETAG_MAX];
	char base_permission[24];	/* "" when GitHub does not say */
	struct poll_page pages[MAX_PAGES];
	size_t page_count;
	bool admins_unsupported;
	bool have_fingerprint;
	uint64_t fingerprint;
};

struct gh_poll *
gh_poll_create(void)
{
	return ga_calloc(1, sizeof(struct gh_poll));
}

void
gh_poll_destroy(struct gh_poll *poll)
{
	ga_free(poll);
}

/* ---- one conditional GET ------------------------------------------------ */

/*
 * GET url with If-None-Match: etag, once (the next poll comes anyway),
 * through the client's transport.  GA_OK when an answer came (in reply,
 * whatever its status: a 304 is the usual one); an error when none could
 * (cancelled, no credential).
 */
static enum ga_rc
conditional_get(struct gh_client *client, const char *url, const char *what, const char *etag,
		struct gh_response *reply, struct gh_poll_stats *stats, struct ga_err *err)
{
	struct gh_request request = {.method = "GET", .url = url, .what = what,
				     .retry = GH_RETRY_NONE, .if_none_match = etag};
	enum ga_rc rc;

	gh_response_init(reply, POLL_REPLY_MAX);
	rc = gh_http_request(client, NULL, &request, reply, NULL, err);
	if (stats != NULL) {
		stats->requests += reply->tries;
		if (reply->tries > 0 && reply->status == 304)
			stats->not_modified++;
	}
	return rc == GA_OK || reply->final ? GA_OK : rc;
}

static enum ga_rc
reply_error(const struct gh_response *reply, const char *what, struct ga_err *err)
{
	if (reply->transport != CURLE_OK)
		return ga_err_set(err, GA_EUPSTREAM, "poll %s: %s", what,
				  curl_easy_strerror(reply->transport));
	if (reply->status == 401)
		return ga_err_set(err, GA_EDENIED, "poll %s: GitHub refused the credential (HTTP 401)",
				  what);
	return ga_err_set(err, GA_EUPSTREAM, "poll %s: HTTP %ld", what, reply->status);
}

/* ---- what the answers mean ---------------------------------------------- */

static enum ga_rc
poll_organization(struct gh_client *client, struct gh_poll *poll, const char *escaped,
		  struct gh_poll_stats *stats, struct ga_err *err)
{
	struct gh_response reply;
	char *url = ga_asprintf("%s/orgs/%s", client->config->api_url, escaped);
	json_t *root = NULL;
	const char *permission;
	enum ga_rc rc;

	rc = conditional_get(client, url, "poll GET /orgs/{org}", poll->org_etag, &reply, stats,
			     err);
	if (rc != GA_OK || reply.status == 304)
		goto done;
	if (reply.transport != CURLE_OK || reply.status != 200) {
		rc = reply_error(&reply, "GET /orgs/{org}", err);
		goto done;
	}
	root = json_loadb(ga_buf_cstr(&reply.body), reply.body.len, 0, NULL);
	if (!json_is_object(root)) {
		rc = ga_err_set(err, GA_EUPSTREAM, "poll GET /orgs/{org}: not a JSON object");
		goto done;
	}
	/* Absent for a credential below owner level: "" (unknown) then. */
	permission = json_string_value(json_object_get(root, "default_repository_permission"));
	snprintf(poll->base_permission, sizeof(poll->base_permission), "%s",
		 permission != NULL ? permission : "");
	snprintf(poll->org_etag, sizeof(poll->org_etag), "%s", reply.etag);
done:
	json_decref(root);
	gh_response_free(&reply);
	ga_free(url);
	return rc;
}

static int
compare_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A page of members -> its size and the hash of its sorted logins. */
static enum ga_rc
hash_members_page(const struct gh_response *reply, struct poll_page *page, struct ga_err *err)
{
	json_t *root = json_loadb(ga_buf_cstr(&reply->body), reply->body.len, 0, NULL);
	const char **logins;
	json_t *member;
	size_t index;
	uint64_t hash = 1469598103934665603ULL;

	if (!json_is_array(root)) {
		json_decref(root);
		return ga_err_set(err, GA_EUPSTREAM,
				  "poll GET /orgs/{org}/members: not a JSON array");
	}
	logins = ga_reallocarray(NULL, json_array_size(root) + 1, sizeof(*logins));
	page->count = 0;
	json_array_foreach(root, index, member) {
		const char *login = json_string_value(json_object_get(member, "login"));

		if (login != NULL)
			logins[page->count++] = login;
	}
	qsort(logins, page->count, sizeof(*logins), compare_strings);
	for (size_t i = 0; i < page->count; i++)
		hash = hash * 1099511628211ULL ^ ga_map_hash(logins[i], strlen(logins[i]) + 1);
	page->hash = hash;
	ga_free(logins);
	json_decref(root);
	return GA_OK;
}

static void
note_admins_unsupported(struct gh_poll *poll, long status)
{
	char text[16];

	poll->admins_unsupported = true;
	poll->page_count = 0;
	snprintf(text, sizeof(text), "%ld", status);
	ga_log(GA_LOG_WARN, "GitHub does not list the organization's owners "
	       "(GET /orgs/{org}/members?role=admin); owner changes arrive with the next sync",
	       "status", text, (char *)NULL);
}

static enum ga_rc
poll_owner_page(struct gh_client *client, struct gh_poll *poll, const char *escaped,
		size_t index, struct gh_poll_stats *stats, struct ga_err *err)
{
	struct gh_response reply;
	struct poll_page *page = &poll->pages[index];
	char *url = ga_asprintf("%s/orgs/%s/members?role=admin&per_page=%d&page=%zu",
				client->config->api_url, escaped, PAGE_SIZE, index + 1);
	enum ga_rc rc;

	rc = conditional_get(client, url, "poll GET /orgs/{org}/members?role=admin",
			     index < poll->page_count ? page->etag : NULL, &reply, stats, err);
	if (rc != GA_OK || (reply.status == 304 && index < poll->page_count))
		goto done;
	if (index == 0 && (reply.status == 404 || reply.status == 403 || reply.status == 422)) {
		note_admins_unsupported(poll, reply.status);
	} else if (reply.transport != CURLE_OK || reply.status != 200) {
		rc = reply_error(&reply, "GET /orgs/{org}/members?role=admin", err);
	} else {
		rc = hash_members_page(&reply, page, err);
		snprintf(page->etag, sizeof(page->etag), "%s", rc == GA_OK ? reply.etag : "");
	}
done:
	gh_response_free(&reply);
	ga_free(url);
	return rc;
}

static enum ga_rc
poll_owners(struct gh_client *client, struct gh_poll *poll, const char *escaped,
	    struct gh_poll_stats *stats, struct ga_err *err)
{
	size_t index = 0;

	for (; index < MAX_PAGES && !poll->admins_unsupported; index++) {
		enum ga_rc rc = poll_owner_page(client, poll, escaped, index, stats, err);

		if (rc != GA_OK) {
			poll->page_count = 0;	/* start again from scratch next time */
			return rc;
		}
		if (poll->admins_unsupported || poll->pages[index].count < PAGE_SIZE) {
			index++;
			break;
		}
	}
	if (!poll->admins_unsupported)
		poll->page_count = index;
	return GA_OK;
}

static uint64_t
fingerprint_of(const struct gh_poll *poll)
{
	uint64_t hash = ga_map_hash(poll->base_permission, strlen(poll->base_permission) + 1);

	for (size_t i = 0; i < poll->page_count; i++)
		hash = (hash ^ poll->pages[i].hash) * 1099511628211ULL ^ poll->pages[i].count;
	return hash;
}

enum ga_rc
gh_poll_check(struct gh_client *client, struct gh_poll *poll, bool *changed,
	      struct gh_poll_stats *stats, struct ga_err *err)
{
	char *escaped = gh_url_escape(client->config->organization);
	enum ga_rc rc;
	uint64_t fingerprint;

	*changed = false;
	if (stats != NULL)
		memset(stats, 0, sizeof(*stats));
	rc = poll_organization(client, poll, escaped, stats, err);
	if (rc == GA_OK)
		rc = poll_owners(client, poll, escaped, stats, err);
	ga_free(escaped);
	if (rc != GA_OK)
		return rc;
	fingerprint = fingerprint_of(poll);
	*changed = poll->have_fingerprint && fingerprint != poll->fingerprint;
	poll->fingerprint = fingerprint;
	poll->have_fingerprint = true;
	return GA_OK;
}
