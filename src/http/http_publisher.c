/* http_publisher.c - logins with minted upload tokens; see http_publisher.h. */
#include "http/http_publisher.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http/http_audit.h"
#include "util/ga_log.h"
#include "util/ga_metrics.h"
#include "util/ga_secret.h"

/* Count one token check or upload ("result" label from a fixed set). */
static void
count(struct http_request *request, const char *name, const char *help, const char *label,
      const char *value)
{
	ga_metrics_counter_add(ga_metrics_counter(service_metrics(request->service), name, help,
						  label, value, (char *)NULL),
			       1);
}

static void
count_check(struct http_request *request, const char *result)
{
	count(request, "ghaccess_trusted_publishing_token_checks_total",
	      "Logins with a minted upload token (__token__), by result.", "result", result);
}

static void
refuse(struct http_request *request, struct http_login *out, enum http_login_status status,
       const char *result, const char *fmt, const char *detail)
{
	out->status = status;
	out->member = -1;
	out->publisher_set = false;
	snprintf(out->detail, sizeof(out->detail), fmt, detail);
	count_check(request, result);
	/* Like every failed login (service_verify_login's action=login lines). */
	ga_log(GA_LOG_INFO, "audit", "action", "login", "user", HTTP_PUBLISHER_USERNAME,
	       "decision", "deny", "reason", out->detail[0] ? out->detail : result, "via",
	       "trusted-publishing", (char *)NULL);
}

void
http_publisher_check(struct http_request *request, const char *password, struct http_login *out)
{
	const struct config *config = service_config(request->service);
	enum oidc_token_status status;
	enum oidc_standing standing;
	char why[CACHE_DETAIL_MAX];
	char digest[33];

	out->member = -1;
	if (!config->tp_enabled || config->tp_key == NULL) {
		refuse(request, out, HTTP_LOGIN_REFUSED, "off",
		       "upload token refused: trusted publishing is off%s", "");
		return;
	}
	status = oidc_token_verify(config->tp_key, password, (long long)time(NULL),
				   &out->publisher);
	if (status != OIDC_TOKEN_OK) {
		refuse(request, out, HTTP_LOGIN_REFUSED,
		       status == OIDC_TOKEN_EXPIRED ? "expired" : "invalid",
		       "upload token refused: %s (mint a new one: it lives 15 minutes at most, and "
		       "only the installation that minted it, or one with the same key_file, "
		       "accepts it)", oidc_token_status_name(status));
		return;
	}
	if (out->snapshot == NULL) {
		refuse(request, out, HTTP_LOGIN_UNAVAILABLE, "unavailable", "%s", "");
		return;
	}
	/* Re-checked at every use: the repository may have lost its name. */
	standing = oidc_repository_standing(out->snapshot, out->publisher.organization_id,
					    out->publisher.repository_id, NULL, &out->repository,
					    why, sizeof(why));
	if (standing == OIDC_STANDING_NO_ORGANIZATION_ID) {
		refuse(request, out, HTTP_LOGIN_UNAVAILABLE, "unavailable", "%s", "");
		return;
	}
	if (standing != OIDC_STANDING_OK) {
		refuse(request, out, HTTP_LOGIN_REFUSED, "revoked", "upload token refused: %s", why);
		return;
	}
	/* Minted for the package the repository owned then: not for a new name. */
	oidc_token_package_digest(out->repository.package_key, digest);
	if (!ga_secret_equal(digest, strlen(digest), out->publisher.package_digest,
			     strlen(out->publisher.package_digest))) {
		refuse(request, out, HTTP_LOGIN_REFUSED, "revoked",
		       "upload token refused: repository %s no longer provides the package it was "
		       "minted for (mint a new token)", out->repository.record->name);
		return;
	}
	out->status = HTTP_LOGIN_OK;
	out->publisher_set = true;
	/* The uploader stored with the file and named in the access log. */
	snprintf(out->user, sizeof(out->user), "repo:%.34s", out->repository.record->name);
	http_request_set_user(request, out->user);
	count_check(request, "ok");
}

bool
http_publisher_may_still_write(struct http_request *request, const struct http_login *login,
			       const struct org_snapshot *snapshot, const char *project,
			       char *reason, size_t size)
{
	struct oidc_repository repository;
	char why[CACHE_DETAIL_MAX];
	char digest[33];

	if (oidc_repository_standing(snapshot, login->publisher.organization_id,
				     login->publisher.repository_id, NULL, &repository, why,
				     sizeof(why)) != OIDC_STANDING_OK) {
		snprintf(reason, size, "upload token refused: %s", why);
		return false;
	}
	oidc_token_package_digest(repository.package_key, digest);
	if (!ga_secret_equal(digest, strlen(digest), login->publisher.package_digest,
			     strlen(login->publisher.package_digest)) ||
	    !oidc_scope_access(snapshot, service_config(request->service), &repository, project,
			       true).write) {
		snprintf(reason, size, "%s may no longer upload %s: the repository no longer "
			 "provides it", login->user, project);
		return false;
	}
	return true;
}

struct index_access
http_publisher_access(struct http_request *request, const struct http_login *login,
		      const char *project, bool stored)
{
	struct oidc_access scope = oidc_scope_access(login->snapshot,
						     service_config(request->service),
						     &login->repository, project, stored);
	struct index_access access = {
		.read = scope.read,
		.write = scope.write,
		.fallback = scope.fallback,
		.basis = scope.fallback ? INDEX_ACCESS_UNCLAIMED : INDEX_ACCESS_PACKAGE,
	};

	return access;
}

void
http_login_audit(struct http_request *request, const struct http_login *login,
		 const char *action, const char *package, const char *file, bool allowed,
		 const char *reason)
{
	const struct oidc_publisher *publisher = &login->publisher;
	char repository_id[24];

	if (!login->publisher_set) {
		http_audit(request, action, login->user, package, file, allowed, reason);
		return;
	}
	http_request_note_decision(request, allowed);
	snprintf(repository_id, sizeof(repository_id), "%lld", publisher->repository_id);
	ga_log(GA_LOG_INFO, "audit", "action", action, "user", login->user, "decision",
	       allowed ? "allow" : "deny", "reason", reason, "via", "trusted-publishing",
	       "repository", login->repository.record->name, "repository_id", repository_id,
	       "workflow", publisher->workflow, "ref", publisher->ref, "run_id",
	       publisher->run_id, "actor", publisher->actor, "package", package ? package : "-",
	       "file", file ? file : "-", (char *)NULL);
	if (strcmp(action, "upload") == 0)
		count(request, "ghaccess_trusted_publishing_uploads_total",
		      "Uploads with a minted upload token, by decision.", "decision",
		      allowed ? "allow" : "deny");
}
