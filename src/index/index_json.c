/* index_json.c - PyPI's JSON API documents; see index_json.h. */
#include "index/index_json.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "index/index_filename.h"
#include "index/index_metadata.h"
#include "index/index_simple.h"
#include "util/ga_xalloc.h"

/* A file's release key (the normal form of its version), or "" when the
 * filename does not name a version of project. */
static void
release_key(const char *project, const struct index_file *file, char key[INDEX_VERSION_NORMAL_MAX])
{
	char version[INDEX_VERSION_MAX + 1];

	if (!index_filename_version(file->filename, project, version) ||
	    !index_version_normalize(version, strlen(version), false, key))
		key[0] = '\0';
}

/* The releases of a project: each key once, with whether all its files
 * are yanked. */
struct release {
	char key[INDEX_VERSION_NORMAL_MAX];
	bool yanked;
	long metadata_file;	/* a file with METADATA, or -1 */
};

static size_t
collect_releases(const char *project, const struct index_file_list *files,
		 struct release **out)
{
	struct release *releases = ga_calloc(files->count + 1, sizeof(*releases));
	size_t count = 0;

	for (size_t i = 0; i < files->count; i++) {
		const struct index_file *file = &files->files[i];
		char key[INDEX_VERSION_NORMAL_MAX];
		size_t r;

		release_key(project, file, key);
		if (key[0] == '\0')
			continue;
		for (r = 0; r < count && strcmp(releases[r].key, key) != 0; r++)
			;
		if (r == count) {
			memcpy(releases[count].key, key, sizeof(key));
			releases[count].yanked = true;
			releases[count].metadata_file = -1;
			count++;
		}
		releases[r].yanked &= file->yanked;
		if (releases[r].metadata_file < 0 && file->metadata_sha256[0] != '\0')
			releases[r].metadata_file = (long)i;
	}
	*out = releases;
	return count;
}

/* Newest first; PEP 440 equal versions ("1.0", "1.0.0") by their text. */
static int
compare_newest(const void *a, const void *b)
{
	const struct release *x = a, *y = b;
	int diff = index_version_compare(y->key, x->key);

	return diff != 0 ? diff : strcmp(y->key, x->key);
}

/* PyPI's order for "latest": not yanked, final, newest. */
static int
compare_latest(const void *a, const void *b)
{
	const struct release *x = a, *y = b;
	bool x_pre = index_version_is_prerelease(x->key);
	bool y_pre = index_version_is_prerelease(y->key);

	if (x->yanked != y->yanked)
		return x->yanked ? 1 : -1;
	if (x_pre != y_pre)
		return x_pre ? 1 : -1;
	return compare_newest(a, b);
}

bool
index_json_pick_release(const char *project, const struct index_file_list *files,
			const char *version, char out[INDEX_VERSION_NORMAL_MAX],
			long *metadata_file)
{
	struct release *releases;
	size_t count = collect_releases(project, files, &releases);
	char wanted[INDEX_VERSION_NORMAL_MAX];
	long found = -1;

	out[0] = '\0';
	*metadata_file = -1;
	if (version == NULL) {
		qsort(releases, count, sizeof(*releases), compare_latest);
		found = count > 0 ? 0 : -1;
	} else if (index_version_normalize(version, strlen(version), false, wanted)) {
		for (size_t i = 0; i < count && found < 0; i++)
			if (strcmp(releases[i].key, wanted) == 0)
				found = (long)i;
		for (size_t i = 0; i < count && found < 0; i++)
			if (index_version_equal(releases[i].key, strlen(releases[i].key), version,
						strlen(version)))
				found = (long)i;
	}
	if (found >= 0) {
		memcpy(out, releases[found].key, INDEX_VERSION_NORMAL_MAX);
		*metadata_file = releases[found].metadata_file;
	}
	ga_free(releases);
	return found >= 0;
}

/* ----------------------------------------------------------------------
 * info, from the METADATA
 */

static json_t *
span(const struct index_metadata_field *field)
{
	return field != NULL ? json_stringn(field->value, field->value_len) : json_null();
}

static json_t *
first(const struct index_metadata *metadata, const char *name)
{
	return metadata != NULL ? span(index_metadata_get(metadata, name)) : json_null();
}

/* Every value of a multiple-use field; null_when_empty as PyPI does for
 * requires_dist and friends ([] for classifiers). */
static json_t *
all(const struct index_metadata *metadata, const char *name, bool null_when_empty)
{
	json_t *list = json_array();
	const struct index_metadata_field *field = NULL;

	while (metadata != NULL && (field = index_metadata_next(metadata, name, field)) != NULL)
		json_array_append_new(list, span(field));
	if (null_when_empty && json_array_size(list) == 0) {
		json_decref(list);
		return json_null();
	}
	return list;
}

static void
trim(const char **start, const char **end)
{
	while (*start < *end && (**start == ' ' || **start == '\t'))
		(*start)++;
	while (*end > *start && ((*end)[-1] == ' ' || (*end)[-1] == '\t'))
		(*end)--;
}

/* warehouse's Release.urls: Homepage, Download, then each "label, url". */
static json_t *
project_urls(const struct index_metadata *metadata)
{
	json_t *urls = json_object();
	const struct index_metadata_field *field = NULL;

	if (metadata != NULL) {
		json_t *home = first(metadata, "Home-page");
		json_t *download = first(metadata, "Download-URL");

		if (json_is_string(home) && json_string_length(home) > 0)
			json_object_set(urls, "Homepage", home);
		if (json_is_string(download) && json_string_length(download) > 0)
			json_object_set(urls, "Download", download);
		json_decref(home);
		json_decref(download);
	}
	while (metadata != NULL &&
	       (field = index_metadata_next(metadata, "Project-URL", field)) != NULL) {
		const char *comma = memchr(field->value, ',', field->value_len);
		const char *label = field->value, *label_end = comma;
		const char *url = comma ? comma + 1 : NULL;
		const char *url_end = field->value + field->value_len;

		if (comma == NULL)
			continue;
		trim(&label, &label_end);
		trim(&url, &url_end);
		if (label < label_end && url < url_end) {
			char *key = ga_strndup(label, (size_t)(label_end - label));

			json_object_set_new(urls, key, json_stringn(url, (size_t)(url_end - url)));
			ga_free(key);
		}
	}
	if (json_object_size(urls) == 0) {
		json_decref(urls);
		return json_null();
	}
	return urls;
}

static json_t *
description(const struct index_metadata *metadata)
{
	if (metadata != NULL && metadata->body_len > 0)
		return json_stringn(metadata->body, metadata->body_len);
	return first(metadata, "Description");
}

static json_t *
info_json(const struct index_json_page *page, const struct index_metadata *metadata,
	  const struct release *release, const char *requires_python, const char *yanked_reason)
{
	json_t *info = json_object();

	json_object_set_new(info, "name", metadata ? json_string(metadata->name)
						   : json_string(page->project));
	json_object_set_new(info, "version", json_string(page->release));
	json_object_set_new(info, "summary", first(metadata, "Summary"));
	json_object_set_new(info, "description", description(metadata));
	json_object_set_new(info, "description_content_type",
			    first(metadata, "Description-Content-Type"));
	json_object_set_new(info, "keywords", first(metadata, "Keywords"));
	json_object_set_new(info, "license", first(metadata, "License"));
	json_object_set_new(info, "license_expression", first(metadata, "License-Expression"));
	json_object_set_new(info, "license_files", all(metadata, "License-File", true));
	json_object_set_new(info, "classifiers", all(metadata, "Classifier", false));
	json_object_set_new(info, "author", first(metadata, "Author"));
	json_object_set_new(info, "author_email", first(metadata, "Author-email"));
	json_object_set_new(info, "maintainer", first(metadata, "Maintainer"));
	json_object_set_new(info, "maintainer_email", first(metadata, "Maintainer-email"));
	json_object_set_new(info, "requires_python",
			    metadata && index_metadata_get(metadata, "Requires-Python")
				    ? first(metadata, "Requires-Python")
				    : requires_python ? json_string(requires_python) : json_null());
	json_object_set_new(info, "platform", first(metadata, "Platform"));
	json_object_set_new(info, "downloads", json_pack("{s:i,s:i,s:i}", "last_day", -1,
							 "last_week", -1, "last_month", -1));
	json_object_set_new(info, "package_url", json_string(page->project_url));
	json_object_set_new(info, "project_url", json_string(page->project_url));
	json_object_set_new(info, "project_urls", project_urls(metadata));
	/* The index has no page per release: the project's. */
	json_object_set_new(info, "release_url", json_string(page->project_url));
	json_object_set_new(info, "requires_dist", all(metadata, "Requires-Dist", true));
	json_object_set_new(info, "provides_extra", all(metadata, "Provides-Extra", true));
	json_object_set_new(info, "docs_url", json_null());
	json_object_set_new(info, "bugtrack_url", json_null());
	json_object_set_new(info, "home_page", first(metadata, "Home-page"));
	json_object_set_new(info, "download_url", first(metadata, "Download-URL"));
	json_object_set_new(info, "yanked", json_boolean(release->yanked));
	json_object_set_new(info, "yanked_reason",
			    release->yanked && yanked_reason && yanked_reason[0]
				    ? json_string(yanked_reason) : json_null());
	json_object_set_new(info, "dynamic", all(metadata, "Dynamic", true));
	return info;
}

/* ----------------------------------------------------------------------
 * Files
 */

static json_t *
hex_or_null(const char *hex)
{
	return hex[0] != '\0' ? json_string(hex) : json_null();
}

/* The wheel's Python tag ("py3", "cp312"), "source" for an sdist. */
static json_t *
python_version(const char *filename)
{
	enum index_dist_type type;
	size_t len = strlen(filename);
	const char *end, *start;

	if (!index_filename_type(filename, &type) || type != INDEX_DIST_WHEEL)
		return json_string("source");
	/* {...}-{python}-{abi}-{platform}.whl */
	end = filename + len - 4;
	for (int dashes = 0; end > filename && dashes < 2; end--)
		if (end[-1] == '-' && ++dashes == 2)
			break;
	start = end - 1;
	while (start > filename && start[-1] != '-')
		start--;
	return end > start ? json_stringn(start, (size_t)(end - start - 1)) : json_null();
}

static json_t *
file_json(const struct index_json_page *page, const struct index_file *file)
{
	char iso[INDEX_ISO8601_SIZE];
	char plain[INDEX_ISO8601_SIZE];
	enum index_dist_type type = INDEX_DIST_SDIST;
	json_t *object = json_object();
	/* From /pypi/<name>/json, or one level deeper with a version. */
	char *url = ga_asprintf("%s../packages/%s/%s", page->all_releases ? "../" : "../../",
				page->project, file->filename);

	index_filename_type(file->filename, &type);
	index_simple_iso8601(file->uploaded_at, iso);
	memcpy(plain, iso, sizeof(plain));
	if (plain[0] != '\0')
		plain[strlen(plain) - 1] = '\0';	/* without the Z */
	json_object_set_new(object, "filename", json_string(file->filename));
	json_object_set_new(object, "packagetype",
			    json_string(type == INDEX_DIST_WHEEL ? "bdist_wheel" : "sdist"));
	json_object_set_new(object, "python_version", python_version(file->filename));
	json_object_set_new(object, "has_sig", json_false());
	json_object_set_new(object, "comment_text", json_null());
	json_object_set_new(object, "md5_digest", hex_or_null(file->md5));
	json_object_set_new(object, "digests",
			    json_pack("{s:o,s:s,s:o}", "md5", hex_or_null(file->md5), "sha256",
				      file->sha256, "blake2b_256", hex_or_null(file->blake2b_256)));
	json_object_set_new(object, "core-metadata",
			    file->metadata_sha256[0] != '\0'
				    ? json_pack("{s:s}", "sha256", file->metadata_sha256)
				    : json_false());
	json_object_set_new(object, "size", json_integer(file->size));
	json_object_set_new(object, "downloads", json_integer(-1));
	json_object_set_new(object, "upload_time", plain[0] ? json_string(plain) : json_null());
	json_object_set_new(object, "upload_time_iso_8601", iso[0] ? json_string(iso) : json_null());
	json_object_set_new(object, "url", json_string(url));
	json_object_set_new(object, "requires_python",
			    file->requires_python ? json_string(file->requires_python)
						  : json_null());
	json_object_set_new(object, "yanked", json_boolean(file->yanked));
	json_object_set_new(object, "yanked_reason",
			    file->yanked && file->yanked_reason && file->yanked_reason[0]
				    ? json_string(file->yanked_reason) : json_null());
	ga_free(url);
	return object;
}

/* The files of one release, by filename (the list is sorted). */
static json_t *
release_files(const struct index_json_page *page, const char *key)
{
	json_t *list = json_array();

	for (size_t i = 0; i < page->files->count; i++) {
		char file_key[INDEX_VERSION_NORMAL_MAX];

		release_key(page->project, &page->files->files[i], file_key);
		if (strcmp(file_key, key) == 0)
			json_array_append_new(list, file_json(page, &page->files->files[i]));
	}
	return list;
}

static int
append_to_buf(const char *data, size_t size, void *buf)
{
	return ga_buf_append(buf, data, size) ? 0 : -1;
}

bool
index_json_render(const struct index_json_page *page, struct ga_buf *out)
{
	struct index_metadata metadata;
	bool have_metadata = false;
	struct release *releases;
	size_t count = collect_releases(page->project, page->files, &releases);
	struct release *release = NULL;
	const char *requires_python = NULL;
	const char *yanked_reason = NULL;
	long long last = 0;
	json_t *document;
	char reason[INDEX_REASON_MAX];
	bool ok;

	if (page->metadata != NULL)
		have_metadata = index_metadata_parse(page->metadata, page->metadata_len, &metadata,
						     reason);
	qsort(releases, count, sizeof(*releases), compare_newest);
	for (size_t i = 0; i < count; i++)
		if (strcmp(releases[i].key, page->release) == 0)
			release = &releases[i];
	for (size_t i = 0; i < page->files->count; i++) {
		const struct index_file *file = &page->files->files[i];
		char key[INDEX_VERSION_NORMAL_MAX];

		if (file->uploaded_at > last)
			last = file->uploaded_at;
		release_key(page->project, file, key);
		if (strcmp(key, page->release) != 0)
			continue;
		if (requires_python == NULL)
			requires_python = file->requires_python;
		if (yanked_reason == NULL && file->yanked)
			yanked_reason = file->yanked_reason;
	}
	if (release == NULL) {
		ga_free(releases);
		if (have_metadata)
			index_metadata_free(&metadata);
		return false;
	}
	document = json_object();
	json_object_set_new(document, "info",
			    info_json(page, have_metadata ? &metadata : NULL, release,
				      requires_python, yanked_reason));
	json_object_set_new(document, "last_serial", json_integer(last));
	if (page->all_releases) {
		json_t *all_releases = json_object();

		/* Newest first, as PyPI orders them. */
		for (size_t i = 0; i < count; i++)
			json_object_set_new(all_releases, releases[i].key,
					    release_files(page, releases[i].key));
		json_object_set_new(document, "releases", all_releases);
	}
	json_object_set_new(document, "urls", release_files(page, page->release));
	json_object_set_new(document, "vulnerabilities", json_array());
	json_object_set_new(document, "ownership",
			    json_pack("{s:[],s:o}", "roles", "organization",
				      page->organization ? json_string(page->organization)
							 : json_null()));
	ok = json_dump_callback(document, append_to_buf, out, JSON_COMPACT) == 0 &&
	     ga_buf_append_char(out, '\n');
	json_decref(document);
	ga_free(releases);
	if (have_metadata)
		index_metadata_free(&metadata);
	return ok;
}
