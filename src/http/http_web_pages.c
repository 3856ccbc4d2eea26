/*
 * http_web_pages.c - the pages of a signed-in member: the packages they may
 * read (/) and one package (/project/<name>/); and the signed-out page.
 *
 * Access is the built-in index's (index_access_decide over the request's
 * snapshot), so a page shows exactly what pip would get: a package the
 * user may not read is "not found", like one that does not exist.
 *
 * A user who may write the package also gets, per release, a form to yank
 * it (with a reason) or un-yank it and, with [index] allow_delete, to
 * delete it or one file.  They POST to /project/<name>/ with the session's
 * CSRF token (web_form_check), and the decision is the index's own
 * (http_index_change: the same rules and audit lines as its API).
 *
 * Who else may write: GitHub shows a repository's access list (Settings,
 * Collaborators and teams) to organization owners and to the repository's
 * admins only.  The page follows the most conservative reading: owners and
 * members whose own level on the repository is admin see the teams, their
 * members and the direct collaborators that may write; everybody else
 * reads that only they can see it.
 */
#include "http/http_web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http/http_index.h"
#include "http/http_query.h"
#include "index/index_access.h"
#include "index/index_filename.h"
#include "index/index_version.h"
#include "org/org_names.h"
#include "org/org_policy.h"
#include "util/ga_xalloc.h"

/* ---- small formatting helpers ------------------------------------------ */

static void
format_size(long long bytes, char *out, size_t size)
{
	if (bytes < 1000)
		snprintf(out, size, "%lld B", bytes);
	else if (bytes < 1000 * 1000)
		snprintf(out, size, "%.1f kB", (double)bytes / 1e3);
	else if (bytes < 1000LL * 1000 * 1000)
		snprintf(out, size, "%.1f MB", (double)bytes / 1e6);
	else
		snprintf(out, size, "%.2f GB", (double)bytes / 1e9);
}

void
web_format_time(long long when, char *out, size_t size)
{
	time_t t = (time_t)when;
	struct tm tm;

	if (when <= 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(out, size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(out, size, "-");
}

static const char *
index_url(const struct config *config, char *buf, size_t size)
{
	if (config->web_index_url != NULL)
		snprintf(buf, size, "%s/", config->web_index_url);
	else
		snprintf(buf, size, "%s/simple/", config->web_url);
	return buf;
}

/* The highest version among files of project (finals before pre-releases
 * when there is one; yanked files do not count). */
static void
latest_version(const struct index_file_list *files, const char *project,
	       char out[INDEX_VERSION_MAX + 1])
{
	char version[INDEX_VERSION_MAX + 1];
	bool have_final = false;

	out[0] = '\0';
	for (size_t i = 0; i < files->count; i++) {
		bool final;

		if (files->files[i].yanked ||
		    !index_filename_version(files->files[i].filename, project, version))
			continue;
		final = !index_version_is_prerelease(version);
		if (out[0] == '\0' || (final && !have_final) ||
		    (final == have_final && index_version_compare(version, out) > 0)) {
			memcpy(out, version, sizeof(version));
			have_final = final;
		}
	}
}

/* ---- who is asking -------------------------------------------------------- */

void
web_send_signed_out(struct http_request *request, unsigned status, const char *notice,
		    const char *const *cookies)
{
	struct ga_buf page;

	/* Nothing about the organization: not its name, not a package. */
	ga_buf_init(&page, 0);
	web_page_begin(&page, request, "Sign in", NULL);
	web_html(&page, "<section class=\"signin\"><h1>Package index</h1>"
		 "<p>Sign in with your GitHub account to see the packages you may use.</p>");
	if (notice != NULL)
		web_html(&page, "<p class=\"yanked\" id=\"notice\">%s</p>", notice);
	web_html(&page, "<p><a class=\"button\" id=\"signin\" href=\"%s/login\">Sign in with "
		 "GitHub</a></p></section>",
		 web_base_path(service_config(request->service)));
	web_page_end(&page);
	web_send(request, status, &page, cookies);
}

/*
 * The session of a page request, or an answer: the signed-out page (and
 * the dead cookie cleared) or a 503 when nothing can be decided.
 */
static bool
signed_in(struct http_request *request, struct web_session *session, bool redirect)
{
	const struct config *config = service_config(request->service);
	bool unavailable;
	char value[WEB_COOKIE_MAX];
	char *cookies[2] = { NULL, NULL };
	bool had_cookie;

	web_session_of(request, session, &unavailable);
	if (session->valid)
		return true;
	if (unavailable) {
		web_send_message(request, MHD_HTTP_SERVICE_UNAVAILABLE, "Try again soon",
				 "Access cannot be checked right now. Please try again in a minute.",
				 NULL, NULL);
		return false;
	}
	had_cookie = web_cookie_get(http_request_header(request, MHD_HTTP_HEADER_COOKIE),
				    web_session_cookie_name(config->web_cookie_secure), value,
				    sizeof(value));
	if (had_cookie)
		cookies[0] = web_cookie_header(config,
					       web_session_cookie_name(config->web_cookie_secure),
					       "", 0);
	if (redirect)
		web_redirect(request, "/", (const char *const *)cookies);
	else
		web_send_signed_out(request, MHD_HTTP_OK,
				    had_cookie ? "Your session has ended. Please sign in again."
					       : NULL,
				    (const char *const *)cookies);
	ga_free(cookies[0]);
	return false;
}

static struct index_access
access_to(struct http_request *request, const struct web_session *session, const char *name,
	  bool stored)
{
	return index_access_decide(session->snapshot, session->member, name, stored,
				   service_config(request->service)->index_unclaimed);
}

/* ---- / --------------------------------------------------------------- */

struct row {
	const char *name;		/* borrowed: snapshot or the project list */
	const char *repository;		/* NULL: no repository provides it */
	bool write;
	char latest[INDEX_VERSION_MAX + 1];
};

static int
compare_rows(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->name, ((const struct row *)b)->name);
}

static bool
matches(const char *filter, const struct row *row)
{
	return filter[0] == '\0' || strcasestr(row->name, filter) != NULL ||
	       (row->repository != NULL && strcasestr(row->repository, filter) != NULL);
}

/* Packages of the organization, then names only the index holds. */
static size_t
collect_rows(struct http_request *request, const struct web_session *session,
	     const struct index_name_list *stored, struct row **out)
{
	const struct org_snapshot *snapshot = session->snapshot;
	size_t packages = org_snapshot_package_count(snapshot);
	size_t reserved = org_snapshot_reserved_count(snapshot);
	struct row *rows = ga_calloc(packages + reserved + stored->count + 1, sizeof(*rows));
	size_t count = 0;

	for (size_t i = 0; i < packages; i++) {
		const char *key = org_snapshot_package_key(snapshot, (long)i);
		struct index_access access = access_to(request, session, key, true);

		if (!access.read)
			continue;
		rows[count].name = key;
		rows[count].repository = org_snapshot_package_repository(snapshot, (long)i);
		rows[count++].write = access.write;
	}
	/* Reserved names: the index decides (owners only). */
	for (size_t i = 0; i < reserved; i++) {
		const char *key = org_snapshot_reserved_key(snapshot, (long)i);
		struct index_access access = access_to(request, session, key, true);

		if (!access.read)
			continue;
		rows[count].name = key;
		rows[count].repository = org_snapshot_reserved_repository(snapshot, (long)i);
		rows[count++].write = access.write;
	}
	for (size_t i = 0; i < stored->count; i++) {
		struct index_access access;

		if (org_snapshot_find_package(snapshot, stored->names[i]) >= 0 ||
		    org_snapshot_find_reserved(snapshot, stored->names[i]) >= 0)
			continue;
		access = access_to(request, session, stored->names[i], true);
		if (!access.read)
			continue;
		rows[count].name = stored->names[i];
		rows[count++].write = access.write;
	}
	qsort(rows, count, sizeof(*rows), compare_rows);
	*out = rows;
	return count;
}

static void
render_rows(struct ga_buf *page, const struct config *config, const struct row *rows,
	    size_t count, const char *filter)
{
	const char *base = web_base_path(config);
	size_t shown = 0;

	web_html(page, "<div class=\"scroll\"><table id=\"packages\"><thead><tr><th>Package</th>"
		 "<th>Latest</th><th>Repository</th><th>Access</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < count; i++) {
		if (!matches(filter, &rows[i]))
			continue;
		shown++;
		web_html(page, "<tr data-package=\"%s\"><td><a href=\"%s/project/", rows[i].name,
			 base);
		web_html_segment(page, rows[i].name);
		web_html(page, "/\">%s</a></td><td>%s</td><td>%s</td><td class=\"access\">%s</td>"
			 "</tr>\n",
			 rows[i].name, rows[i].latest[0] ? rows[i].latest : "-",
			 rows[i].repository ? rows[i].repository : "-",
			 rows[i].write ? "read and write" : "read");
	}
	web_html(page, "</tbody></table></div>\n");
	if (shown == 0)
		web_html(page, "<p class=\"muted\">%s</p>",
			 count == 0 ? "You may not read any package yet."
				    : "No package matches the filter.");
}

void
web_handle_home(struct http_request *request)
{
	static const char *const names[] = { "q" };
	const struct config *config = service_config(request->service);
	struct web_state *web = web_state_of(request);
	struct index_name_list stored = {0};
	struct web_session session;
	struct http_param filter;
	struct ga_err err;
	struct ga_buf page;
	struct row *rows;
	size_t count;

	if (!signed_in(request, &session, false))
		return;
	http_query_get(request->query, request->query_len, names, &filter, 1);
	if (filter.state != HTTP_PARAM_VALID || filter.len > 100)
		filter.value[0] = '\0';
	if (web->storage != NULL && index_storage_list_projects(web->storage, &stored, &err) != GA_OK)
		memset(&stored, 0, sizeof(stored));
	count = collect_rows(request, &session, &stored, &rows);
	for (size_t i = 0; web->storage != NULL && i < count; i++) {
		struct index_file_list files;

		if (!matches(filter.value, &rows[i]) ||
		    index_storage_list_files(web->storage, rows[i].name, &files, &err) != GA_OK)
			continue;
		latest_version(&files, rows[i].name, rows[i].latest);
		index_file_list_free(&files);
	}
	ga_buf_init(&page, 0);
	web_page_begin(&page, request, "Your packages", &session);
	web_html(&page, "<h1>Packages you may use</h1>"
		 "<form class=\"filter\" method=\"get\" action=\"%s/\" role=\"search\">"
		 "<input type=\"search\" name=\"q\" value=\"%s\" placeholder=\"Filter by name or "
		 "repository\" aria-label=\"Filter\"><button type=\"submit\">Filter</button></form>\n",
		 web_base_path(config), filter.value);
	render_rows(&page, config, rows, count, filter.value);
	web_page_end(&page);
	web_send(request, MHD_HTTP_OK, &page, NULL);
	ga_free(rows);
	index_name_list_free(&stored);
}

/* ---- /project/<name>/ ------------------------------------------------- */

static void
render_why(struct ga_buf *page, const struct web_session *session, const char *project,
	   const struct index_access *access, const struct config *config)
{
	const char *organization = org_snapshot_organization(session->snapshot);
	char *sentence;

	web_html(page, "<h2>Why you have this access</h2><p class=\"why\" id=\"why\">");
	switch (access->basis) {
	case INDEX_ACCESS_PACKAGE:
		/* The sentence of `ghaccess explain`, from the same engine. */
		sentence = org_explain(session->snapshot, session->login, project);
		web_html(page, "%s", sentence);
		ga_free(sentence);
		break;
	case INDEX_ACCESS_CLAIMED:
		web_html(page, "read, write: %s is an owner of the organization %s; a repository of "
			 "%s declares this name but yields no package, so only owners may use it",
			 session->login, organization, organization);
		break;
	case INDEX_ACCESS_UNCLAIMED:
		if (access->write)
			web_html(page, "read, write: %s is an owner of the organization %s; no "
				 "repository of %s provides this package, so owners may read and "
				 "write it", session->login, organization, organization);
		else
			web_html(page, "read: no repository of %s provides this package, and this "
				 "index lets every member read such packages ([index] unclaimed = "
				 "%s)", organization,
				 config->index_unclaimed == CONFIG_UNCLAIMED_MEMBERS ? "members"
										   : "owners");
		break;
	}
	web_html(page, "</p>\n");
}

static void
render_install(struct ga_buf *page, const struct config *config, const char *project)
{
	char url[512];

	index_url(config, url, sizeof(url));
	web_html(page, "<h2>Install</h2><pre id=\"install\">pip install --index-url %s %s\n"
		 "uv add --index %s %s\n"
		 "poetry source add --priority=explicit ghaccess %s\n"
		 "poetry add --source ghaccess %s</pre>"
		 "<p class=\"muted\">Log in with your GitHub login and a GitHub token as the "
		 "password.</p>\n",
		 url, project, url, project, url, project);
}

struct version_group {
	char version[INDEX_VERSION_MAX + 1];
	size_t file;		/* index in the file list */
};

static int
compare_groups_newest_first(const void *a, const void *b)
{
	const struct version_group *x = a, *y = b;
	int diff = index_version_compare(y->version, x->version);

	return diff != 0 ? diff : (x->file > y->file) - (x->file < y->file);
}

/* What the forms of a writer need; NULL for a reader. */
struct change_forms {
	const char *action;	/* the form's URL */
	const char *csrf;
	bool allow_delete;
};

/* One form that POSTs action on target, with a reason field for a yank. */
static void
render_form(struct ga_buf *page, const struct change_forms *forms, const char *action,
	    const char *target, const char *label)
{
	bool yank = strcmp(action, "yank") == 0;

	web_html(page, "<form class=\"change %s\" method=\"post\" action=\"%s\" data-target=\"%s\">"
		 "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
		 "<input type=\"hidden\" name=\"action\" value=\"%s\">"
		 "<input type=\"hidden\" name=\"target\" value=\"%s\">",
		 action, forms->action, target, forms->csrf, action, target);
	if (yank || strcmp(action, "delete") == 0)
		web_html(page, "<input name=\"reason\" maxlength=\"%d\" placeholder=\"Reason\" "
			 "aria-label=\"Reason\">", INDEX_MANAGE_REASON_MAX);
	web_html(page, "<button type=\"submit\"%s>%s</button></form>",
		 strcmp(action, "delete") == 0 ? " class=\"danger\"" : "", label);
}

static void
render_file(struct ga_buf *page, const struct config *config, const char *project,
	    const struct index_file *file, const struct change_forms *forms)
{
	char size[32], when[32];

	format_size(file->size, size, sizeof(size));
	web_format_time(file->uploaded_at, when, sizeof(when));
	web_html(page, "<tr><td><a href=\"%s/packages/", web_base_path(config));
	web_html_segment(page, project);
	web_html(page, "/");
	web_html_segment(page, file->filename);
	web_html(page, "\">%s</a></td><td>%s</td><td>%s</td><td>%s</td><td class=\"hash\">%s</td>"
		 "<td>", file->filename, size, when,
		 file->requires_python ? file->requires_python : "-", file->sha256);
	if (file->yanked)
		web_html(page, "<span class=\"yanked\">yanked%s%s</span>",
			 file->yanked_reason && file->yanked_reason[0] ? ": " : "",
			 file->yanked_reason ? file->yanked_reason : "");
	if (forms != NULL && forms->allow_delete)
		render_form(page, forms, "delete", file->filename, "Delete file");
	web_html(page, "</td></tr>\n");
}

/* The heading row of a release, with a writer's forms. */
static void
render_release(struct ga_buf *page, const char *version, bool yanked,
	       const struct change_forms *forms)
{
	if (forms == NULL || strcmp(version, "?") == 0) {
		web_html(page, "<tr class=\"version\"><th colspan=\"6\">%s</th></tr>\n", version);
		return;
	}
	web_html(page, "<tr class=\"version\" data-version=\"%s\"><th colspan=\"5\">%s</th><td>",
		 version, version);
	if (yanked)
		render_form(page, forms, "unyank", version, "Un-yank");
	else
		render_form(page, forms, "yank", version, "Yank");
	if (forms->allow_delete)
		render_form(page, forms, "delete", version, "Delete release");
	web_html(page, "</td></tr>\n");
}

/* Every file of the release starting at groups[first] is yanked. */
static bool
release_yanked(const struct index_file_list *files, const struct version_group *groups,
	       size_t first)
{
	for (size_t i = first; i < files->count; i++) {
		if (strcmp(groups[i].version, groups[first].version) != 0)
			break;
		if (!files->files[groups[i].file].yanked)
			return false;
	}
	return true;
}

static void
render_files(struct ga_buf *page, struct http_request *request, const char *project,
	     const struct change_forms *forms)
{
	const struct config *config = service_config(request->service);
	struct web_state *web = web_state_of(request);
	struct index_file_list files;
	struct version_group *groups;
	struct ga_err err;
	enum ga_rc rc;

	web_html(page, "<h2>Versions and files</h2>\n");
	if (web->storage == NULL) {
		web_html(page, "<p class=\"muted\">This server does not store files; the index at "
			 "the address above holds them.</p>\n");
		return;
	}
	rc = index_storage_list_files(web->storage, project, &files, &err);
	if (rc != GA_OK) {
		web_html(page, "<p class=\"muted\">%s</p>\n",
			 rc == GA_ENOTFOUND ? "No file was uploaded yet." : "The files cannot be "
			 "read right now.");
		return;
	}
	groups = ga_calloc(files.count + 1, sizeof(*groups));
	for (size_t i = 0; i < files.count; i++) {
		if (!index_filename_version(files.files[i].filename, project, groups[i].version))
			snprintf(groups[i].version, sizeof(groups[i].version), "?");
		groups[i].file = i;
	}
	qsort(groups, files.count, sizeof(*groups), compare_groups_newest_first);
	web_html(page, "<div class=\"scroll\"><table id=\"files\"><thead><tr><th>File</th>"
		 "<th>Size</th><th>Uploaded</th><th>Requires Python</th><th>SHA-256</th>"
		 "<th></th></tr></thead><tbody>\n");
	for (size_t i = 0; i < files.count; i++) {
		if (i == 0 || strcmp(groups[i].version, groups[i - 1].version) != 0)
			render_release(page, groups[i].version, release_yanked(&files, groups, i),
				       forms);
		render_file(page, config, project, &files.files[groups[i].file], forms);
	}
	web_html(page, "</tbody></table></div>\n");
	ga_free(groups);
	index_file_list_free(&files);
}

static void
render_logins(struct ga_buf *page, const struct org_snapshot *snapshot, const long *members,
	      size_t count)
{
	for (size_t i = 0; i < count; i++)
		web_html(page, "%s%s", i > 0 ? ", " : "", org_snapshot_member_login(snapshot,
										    members[i]));
	if (count == 0)
		web_html(page, "nobody");
}

/* Teams, collaborators and owners that may write package (see the top). */
static void
render_writers(struct ga_buf *page, const struct web_session *session, long package)
{
	const struct org_snapshot *snapshot = session->snapshot;
	size_t count;
	const long *owners = org_snapshot_owners(snapshot, &count);
	const struct org_package_grant *grants;

	web_html(page, "<ul id=\"writers\"><li>Owners: ");
	render_logins(page, snapshot, owners, count);
	web_html(page, "</li>");
	if (org_snapshot_base_permission(snapshot) >= ORG_LEVEL_WRITE)
		web_html(page, "<li>Every member (the organization's base permission is %s)</li>",
			 org_level_name(org_snapshot_base_permission(snapshot)));
	grants = org_snapshot_package_team_grants(snapshot, package, &count);
	for (size_t i = 0; i < count; i++) {
		size_t member_count;
		const long *members;

		if (grants[i].level < ORG_LEVEL_WRITE)
			continue;
		members = org_snapshot_group_members(snapshot, grants[i].index, &member_count);
		web_html(page, "<li>Team %s (%s, with its child teams): ",
			 org_snapshot_group_key(snapshot, grants[i].index),
			 org_level_name(grants[i].level));
		render_logins(page, snapshot, members, member_count);
		web_html(page, "</li>");
	}
	grants = org_snapshot_package_member_grants(snapshot, package, &count);
	for (size_t i = 0; i < count; i++)
		if (grants[i].level >= ORG_LEVEL_WRITE)
			web_html(page, "<li>%s (direct collaborator, %s)</li>",
				 org_snapshot_member_login(snapshot, grants[i].index),
				 org_level_name(grants[i].level));
	web_html(page, "</ul>\n");
	if (!org_snapshot_package_collaborators_known(snapshot, package))
		web_html(page, "<p class=\"muted\">GitHub did not list this repository's direct "
			 "collaborators to the server; they are not counted.</p>");
}

static void
render_who_else(struct ga_buf *page, const struct web_session *session, long package)
{
	const struct org_snapshot *snapshot = session->snapshot;
	struct org_decision mine = org_decide(snapshot, session->member, package);

	web_html(page, "<h2>Who else may write</h2>\n");
	if (package < 0) {
		web_html(page, "<p>Organization owners only.</p>\n");
	} else if (org_snapshot_package_archived(snapshot, package)) {
		web_html(page, "<p>Nobody: the repository is archived (read-only).</p>\n");
	} else if (org_snapshot_member_is_owner(snapshot, session->member) ||
		   mine.level >= ORG_LEVEL_ADMIN) {
		render_writers(page, session, package);
	} else {
		web_html(page, "<p class=\"muted\" id=\"writers-hidden\">As on GitHub, only "
			 "organization owners and admins of %s can see who may write.</p>\n",
			 org_snapshot_package_repository(snapshot, package));
	}
}

static void
render_project(struct http_request *request, const struct web_session *session,
	       const char *project, const struct index_access *access)
{
	const struct config *config = service_config(request->service);
	long package = org_snapshot_find_package(session->snapshot, project);
	char *action = ga_asprintf("%s/project/%s/", web_base_path(config), project);
	struct change_forms forms = {
		.action = action,
		.csrf = session->csrf,
		.allow_delete = config->index_allow_delete,
	};
	struct ga_buf page;

	ga_buf_init(&page, 0);
	web_page_begin(&page, request, project, session);
	web_html(&page, "<h1>%s <span class=\"badge\" id=\"access\">%s</span></h1>\n", project,
		 access->write ? "read and write" : "read");
	if (package >= 0)
		web_html(&page, "<p>Repository: <a id=\"repository\" href=\"%s/%s/%s\">%s/%s</a>%s</p>\n",
			 config->web_github_url, org_snapshot_organization(session->snapshot),
			 org_snapshot_package_repository(session->snapshot, package),
			 org_snapshot_organization(session->snapshot),
			 org_snapshot_package_repository(session->snapshot, package),
			 org_snapshot_package_archived(session->snapshot, package) ? " (archived)"
										    : "");
	else
		web_html(&page, "<p>No repository of the organization provides this package.</p>\n");
	render_why(&page, session, project, access, config);
	render_install(&page, config, project);
	render_files(&page, request, project, access->write ? &forms : NULL);
	render_who_else(&page, session, package);
	web_page_end(&page);
	web_send(request, MHD_HTTP_OK, &page, NULL);
	ga_free(action);
}

void
web_handle_project(struct http_request *request)
{
	const char *rest = request->path + strlen("/project/");
	const char *slash = strchr(rest, '/');
	size_t name_len = slash ? (size_t)(slash - rest) : strlen(rest);
	char project[ORG_PACKAGE_NAME_MAX];
	struct web_session session;
	struct index_access access;
	struct web_state *web = web_state_of(request);

	if ((slash != NULL && slash[1] != '\0') || !org_is_valid_project_name(rest, name_len) ||
	    !org_normalize_package(rest, name_len, project, sizeof(project))) {
		web_send_message(request, MHD_HTTP_NOT_FOUND, "Not found", "There is no such page.",
				 NULL, NULL);
		return;
	}
	if (slash == NULL || strncmp(rest, project, name_len) != 0 || project[name_len] != '\0') {
		/* The normal spelling is public (PEP 503); it reveals nothing. */
		char *path = ga_asprintf("/project/%s/", project);

		web_redirect(request, path, NULL);
		ga_free(path);
		return;
	}
	if (!signed_in(request, &session, true))
		return;
	access = access_to(request, &session, project,
			   web->storage != NULL && index_storage_has_project(web->storage, project));
	if (!access.read) {
		/* The same answer as for a name that does not exist. */
		web_send_message(request, MHD_HTTP_NOT_FOUND, "Not found",
				 "There is no such package, or you may not read it.", &session, NULL);
		return;
	}
	render_project(request, &session, project, &access);
}

/* ---- POST /project/<name>/: yank, un-yank, delete ---------------------- */

void
web_handle_project_change(struct http_request *request)
{
	static const char *const names[] = { "action", "target", "reason" };
	const char *rest = request->path + strlen("/project/");
	size_t name_len = strcspn(rest, "/");
	struct web_state *web = web_state_of(request);
	char project[ORG_PACKAGE_NAME_MAX];
	struct http_param fields[3];
	struct http_index_change change;
	struct http_index_change_result result;
	enum index_manage_action action;
	struct web_session session;
	bool unavailable;
	char *back;

	/* Only the canonical URL, the one the page's forms use. */
	if (strcmp(rest + name_len, "/") != 0 || !org_is_valid_project_name(rest, name_len) ||
	    !org_normalize_package(rest, name_len, project, sizeof(project)) ||
	    strncmp(rest, project, name_len) != 0 || project[name_len] != '\0' ||
	    web->storage == NULL) {
		web_send_message(request, MHD_HTTP_NOT_FOUND, "Not found", "There is no such page.",
				 NULL, NULL);
		return;
	}
	web_session_of(request, &session, &unavailable);
	if (unavailable) {
		web_send_message(request, MHD_HTTP_SERVICE_UNAVAILABLE, "Try again soon",
				 "Access cannot be checked right now. Please try again in a minute.",
				 NULL, NULL);
		return;
	}
	/* A session, the Origin, the form's token: else 403 (answered). */
	if (!web_form_check(request, &session))
		return;
	http_query_get(request->body, request->body_len, names, fields, 3);
	if (fields[0].state != HTTP_PARAM_VALID ||
	    !index_manage_action_parse(fields[0].value, &action) ||
	    fields[1].state != HTTP_PARAM_VALID || fields[2].state == HTTP_PARAM_INVALID) {
		web_send_message(request, MHD_HTTP_BAD_REQUEST, "Not done",
				 "This form is not one of the page's.", &session, NULL);
		return;
	}
	change = (struct http_index_change){
		.action = action,
		.project = project,
		.target = fields[1].value,
		.reason = action == INDEX_MANAGE_UNYANK ? NULL : fields[2].value,
	};
	http_index_change(request, web->storage, session.snapshot, session.member, session.login,
			  &change, &result);
	if (result.status == MHD_HTTP_OK) {
		/* Post/redirect/get: a reload does not post again. */
		back = ga_asprintf("/project/%s/", project);
		web_redirect(request, back, NULL);
		ga_free(back);
	} else {
		web_send_message(request, result.status,
				 result.status == MHD_HTTP_NOT_FOUND ? "Not found" : "Not done",
				 result.message, &session, NULL);
	}
	index_manage_result_free(&result.files);
}
