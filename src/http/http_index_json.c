/*
 * http_index_json.c - PyPI's JSON API on the built-in index:
 *
 *   GET /pypi/<name>/json            the project, its latest release's
 *                                    info, every release's files
 *   GET /pypi/<name>/<version>/json  one release
 *
 * (documents: index_json.h).  The access rule is the simple page's: a
 * login, and 404 for a package the caller may not read, exactly as for
 * one that does not exist.  Another spelling of the name, or a trailing
 * '/', is redirected (relative Location) before the login, like the
 * simple pages: the normalisation is public.  Never redirected to
 * [index] fallback_url: that is a simple index, not this API.
 */
#include "http/http_index.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "http/http_audit.h"
#include "http/http_reason.h"
#include "index/index_json.h"
#include "index/index_metadata.h"
#include "index/index_version.h"
#include "org/org_names.h"
#include "util/ga_buf.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

/* What a /pypi/ path asks for. */
struct json_path {
	char project[ORG_PACKAGE_NAME_MAX];
	char version[INDEX_VERSION_MAX + 1];	/* "" for the project */
};

static void
not_found(struct http_request *request)
{
	http_respond_text(request, MHD_HTTP_NOT_FOUND, "Not Found", NULL, NULL);
}

static bool
segment_is(const char *segment, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(segment, word, len) == 0;
}

/*
 * Parse "<name>/json" or "<name>/<version>/json", with or without a
 * trailing '/' (rest: after "/pypi/").  false after answering: 404, or a
 * redirect to the canonical path.
 */
static bool
parse_path(struct http_request *request, const char *rest, struct json_path *out)
{
	const char *segment[4];
	size_t len[4];
	size_t count = 0;
	bool trailing;
	char *location;

	out->version[0] = '\0';
	for (const char *p = rest; count < 4; count++) {
		segment[count] = p;
		len[count] = strcspn(p, "/");
		p += len[count];
		if (*p == '\0') {
			count++;
			break;
		}
		p++;
		if (count == 3) {
			count = 5;	/* too many */
			break;
		}
	}
	trailing = count >= 2 && count <= 4 && len[count - 1] == 0;
	count -= trailing;
	if (count < 2 || count > 3 || !segment_is(segment[count - 1], len[count - 1], "json") ||
	    !org_is_valid_project_name(segment[0], len[0]) ||
	    !org_normalize_package(segment[0], len[0], out->project, sizeof(out->project)) ||
	    (count == 3 && (len[1] > INDEX_VERSION_MAX ||
			    !index_version_is_valid(segment[1], len[1])))) {
		not_found(request);
		return false;
	}
	if (count == 3) {
		memcpy(out->version, segment[1], len[1]);
		out->version[len[1]] = '\0';
	}
	/* The canonical path: the normalised name, no trailing '/' (the
	 * document's relative URLs count on its depth). */
	if (!trailing && segment_is(segment[0], len[0], out->project))
		return true;
	location = ga_asprintf("%s%s../%s/%s%sjson", trailing ? "../" : "", count == 3 ? "../" : "",
			       out->project, out->version, count == 3 ? "/" : "");
	http_respond_text(request, MHD_HTTP_MOVED_PERMANENTLY, "redirect", MHD_HTTP_HEADER_LOCATION,
			  location);
	ga_free(location);
	return false;
}

/* The METADATA of files->files[index] into text (empty when unreadable). */
static void
read_metadata(struct index_storage *storage, const char *project,
	      const struct index_file_list *files, long index, struct ga_buf *text)
{
	struct index_download download;
	struct ga_err err;
	char chunk[16384];
	ssize_t got;

	if (index < 0 || index_storage_open_metadata(storage, project, files->files[index].filename,
						     &download, &err) != GA_OK)
		return;
	while ((got = read(download.fd, chunk, sizeof(chunk))) > 0)
		if (!ga_buf_append(text, chunk, (size_t)got))
			break;
	if (got != 0)
		ga_buf_reset(text);
	close(download.fd);
}

static void
render(struct http_request *request, const struct http_login *login, const struct json_path *path,
       const struct index_file_list *files)
{
	const struct config *config = service_config(request->service);
	struct index_storage *storage = http_index_storage(request);
	char release[INDEX_VERSION_NORMAL_MAX];
	struct index_json_page page = { 0 };
	struct ga_buf metadata, body;
	long metadata_file;
	char *project_url;

	if (!index_json_pick_release(path->project, files, path->version[0] ? path->version : NULL,
				     release, &metadata_file)) {
		not_found(request);
		return;
	}
	ga_buf_init(&metadata, INDEX_METADATA_MAX);
	read_metadata(storage, path->project, files, metadata_file, &metadata);
	/* The web page when there is one, else the simple page. */
	if (config->web_url != NULL && config->web_client_id != NULL)
		project_url = ga_asprintf("%s/project/%s/", config->web_url, path->project);
	else
		project_url = ga_asprintf("%s../simple/%s/", path->version[0] ? "../../" : "../",
					  path->project);
	page = (struct index_json_page){
		.project = path->project,
		.files = files,
		.release = release,
		.all_releases = path->version[0] == '\0',
		.metadata = metadata.len > 0 ? metadata.data : NULL,
		.metadata_len = metadata.len,
		.project_url = project_url,
		.organization = org_snapshot_organization(login->snapshot),
	};
	ga_buf_init(&body, 0);
	if (index_json_render(&page, &body))
		http_index_respond_json(request, MHD_HTTP_OK, &body);
	else
		http_respond_error(request, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render");
	ga_buf_free(&body);
	ga_buf_free(&metadata);
	ga_free(project_url);
}

void
http_index_handle_json(struct http_request *request)
{
	struct index_file_list files;
	struct index_access access;
	struct http_login login;
	struct json_path path;
	struct ga_err err;
	enum ga_rc rc;

	if (!parse_path(request, request->path + strlen("/pypi/"), &path) ||
	    !http_index_logged_in(request, &login))
		return;
	rc = index_storage_list_files(http_index_storage(request), path.project, &files, &err);
	if (rc != GA_OK && rc != GA_ENOTFOUND) {
		ga_log(GA_LOG_ERROR, "index: cannot list files", "project", path.project, "error",
		       err.message, (char *)NULL);
		http_respond_error(request, MHD_HTTP_INTERNAL_SERVER_ERROR, "storage error");
		return;
	}
	access = http_index_access(request, &login, path.project, rc == GA_OK);
	if (!access.read)
		http_audit(request, "read", login.user, path.project, NULL, false, "no read access");
	if (rc != GA_OK || !access.read)
		not_found(request);	/* unreadable and unknown look the same */
	else
		render(request, &login, &path, &files);
	index_file_list_free(&files);
}
