/*
 * http_web_owner.c - /organization: what an owner needs to run the index,
 * the facts `ghaccess sync` prints and /health and /metrics give: the
 * packages and their repositories, the repositories that yield no package
 * (conflicts included) with the reason, the last sync, the GitHub budget,
 * the webhook deliveries.  Anyone else gets "not found".
 */
#include "http/http_web.h"

#include <stdio.h>

#include "org/org_policy.h"

static void
render_status(struct ga_buf *page, struct http_request *request,
	      const struct org_snapshot *snapshot)
{
	struct service_health health;
	struct service_events_summary events;
	char synced[32], success[32];

	service_get_health(request->service, &health);
	service_get_events_summary(request->service, &events);
	web_format_time(org_snapshot_synced_at(snapshot), synced, sizeof(synced));
	web_format_time(health.last_success_at, success, sizeof(success));
	web_html(page, "<h2>Sync</h2><dl id=\"sync\">"
		 "<dt>Organization</dt><dd>%s</dd>"
		 "<dt>Data read from GitHub</dt><dd>%s (%lld s ago; answers stop after %d s)</dd>"
		 "<dt>Last successful refresh</dt><dd>%s</dd>"
		 "<dt>Refreshes</dt><dd>%llu ok, %llu failed</dd>",
		 org_snapshot_organization(snapshot), synced, health.snapshot_age,
		 health.max_stale, success, health.counters.syncs_ok, health.counters.syncs_failed);
	if (health.last_refresh_failed)
		web_html(page, "<dt>Last error</dt><dd class=\"yanked\">%s</dd>", health.last_error);
	web_html(page, "<dt>Members, teams</dt><dd>%zu, %zu</dd>"
		 "<dt>Base permission</dt><dd>%s</dd>"
		 "<dt>Cache</dt><dd>%s</dd></dl>\n",
		 org_snapshot_member_count(snapshot), org_snapshot_team_count(snapshot),
		 org_level_name(org_snapshot_base_permission(snapshot)), health.cache);
	web_html(page, "<h2>GitHub budget</h2><dl id=\"budget\">"
		 "<dt>GraphQL points left this hour</dt><dd>");
	if (events.github_points_remaining >= 0)
		web_html(page, "%lld", events.github_points_remaining);
	else
		web_html(page, "unknown");
	web_html(page, "</dd><dt>Points spent by syncs since start</dt><dd>%llu</dd>"
		 "<dt>Webhook refreshes skipped to save points</dt><dd>%llu</dd></dl>\n",
		 events.github_points_used, events.refreshes_skipped);
	web_html(page, "<h2>Webhook deliveries</h2><dl id=\"deliveries\">");
	for (int i = 0; i < SERVICE_DELIVERY_RESULT_COUNT; i++)
		web_html(page, "<dt>%s</dt><dd>%llu</dd>",
			 service_delivery_name((enum service_delivery)i), events.deliveries[i]);
	web_html(page, "<dt>removals applied at once</dt><dd>%llu</dd></dl>\n",
		 events.removals_applied);
}

static void
render_packages(struct ga_buf *page, const struct org_snapshot *snapshot, const char *base)
{
	size_t count = org_snapshot_package_count(snapshot);

	web_html(page, "<h2>Packages (%zu)</h2><div class=\"scroll\"><table id=\"org-packages\">"
		 "<thead><tr><th>Package</th><th>Repository</th></tr></thead><tbody>\n", count);
	for (size_t i = 0; i < count; i++) {
		const char *key = org_snapshot_package_key(snapshot, (long)i);

		web_html(page, "<tr><td><a href=\"%s/project/", base);
		web_html_segment(page, key);
		web_html(page, "/\">%s</a></td><td>%s%s</td></tr>\n", key,
			 org_snapshot_package_repository(snapshot, (long)i),
			 org_snapshot_package_archived(snapshot, (long)i) ? " (archived: read-only)"
									  : "");
	}
	web_html(page, "</tbody></table></div>\n");
	count = org_snapshot_reserved_count(snapshot);
	web_html(page, "<h2>Reserved names (%zu)</h2><p class=\"muted\">Names whose oldest "
		 "declaring repository yields no package: owners only.</p><div class=\"scroll\">"
		 "<table id=\"reserved\"><thead><tr><th>Name</th><th>Repository</th><th>Why</th>"
		 "</tr></thead><tbody>\n", count);
	for (size_t i = 0; i < count; i++)
		web_html(page, "<tr><td>%s</td><td>%s</td><td>%s</td></tr>\n",
			 org_snapshot_reserved_key(snapshot, (long)i),
			 org_snapshot_reserved_repository(snapshot, (long)i),
			 org_snapshot_reserved_reason(snapshot, (long)i));
	web_html(page, "</tbody></table></div>\n");
	count = org_snapshot_conflict_count(snapshot);
	web_html(page, "<h2>Conflicts (%zu)</h2><div class=\"scroll\"><table id=\"conflicts\">"
		 "<thead><tr><th>Repository</th><th>Declares</th><th>Owned by</th></tr></thead>"
		 "<tbody>\n", count);
	for (size_t i = 0; i < count; i++)
		web_html(page, "<tr><td>%s</td><td>%s</td><td>%s</td></tr>\n",
			 org_snapshot_conflict_repository(snapshot, i),
			 org_snapshot_conflict_key(snapshot, i),
			 org_snapshot_conflict_owner(snapshot, i));
	web_html(page, "</tbody></table></div>\n");
	count = org_snapshot_skipped_count(snapshot);
	web_html(page, "<h2>Repositories without a package (%zu)</h2><div class=\"scroll\">"
		 "<table id=\"skipped\"><thead><tr><th>Repository</th><th>Why</th></tr></thead>"
		 "<tbody>\n", count);
	for (size_t i = 0; i < count; i++)
		web_html(page, "<tr><td>%s</td><td>%s</td></tr>\n",
			 org_snapshot_skipped_repository(snapshot, i),
			 org_snapshot_skipped_reason(snapshot, i));
	web_html(page, "</tbody></table></div>\n");
}

void
web_handle_organization(struct http_request *request)
{
	struct web_session session;
	bool unavailable;
	struct ga_buf page;

	web_session_of(request, &session, &unavailable);
	if (!session.valid || !org_snapshot_member_is_owner(session.snapshot, session.member)) {
		/* Signed out or not an owner: the page does not exist for them. */
		web_send_message(request, MHD_HTTP_NOT_FOUND, "Not found", "There is no such page.",
				 session.valid ? &session : NULL, NULL);
		return;
	}
	ga_buf_init(&page, 0);
	web_page_begin(&page, request, "Organization", &session);
	web_html(&page, "<h1>%s</h1>\n", org_snapshot_organization(session.snapshot));
	render_status(&page, request, session.snapshot);
	render_packages(&page, session.snapshot, web_base_path(service_config(request->service)));
	web_page_end(&page);
	web_send(request, MHD_HTTP_OK, &page, NULL);
}
