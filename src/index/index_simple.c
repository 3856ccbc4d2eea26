/* index_simple.c - PEP 503 / PEP 691 pages and Accept negotiation; see index_simple.h. */
#include "index/index_simple.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "index/index_filename.h"
#include "index/index_version.h"
#include "util/ga_xalloc.h"

/* ----------------------------------------------------------------------
 * Content negotiation
 */

struct format_type {
	enum index_format format;
	const char *type;		/* "text" or "application" */
	const char *subtypes[2];	/* exact subtypes that select it */
};

/* In the server's order of preference among otherwise equal choices: HTML
 * first, as PEP 691 recommends for clients that do not say. */
static const struct format_type format_types[] = {
	{ INDEX_FORMAT_HTML, "text", { "html", NULL } },
	{ INDEX_FORMAT_HTML_V1, "application",
	  { "vnd.pypi.simple.v1+html", "vnd.pypi.simple.latest+html" } },
	{ INDEX_FORMAT_JSON_V1, "application",
	  { "vnd.pypi.simple.v1+json", "vnd.pypi.simple.latest+json" } },
};

#define FORMAT_COUNT (sizeof(format_types) / sizeof(format_types[0]))

/* The best match so far of one format. */
struct format_match {
	int quality;		/* 0 to 1000; -1: no range matched */
	int specificity;	/* 3 exact, 2 a type wildcard, 1 the full wildcard */
	int position;		/* index of the range in the header */
};

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

static void
trim(const char **start, const char **end)
{
	while (*start < *end && is_space(**start))
		(*start)++;
	while (*end > *start && is_space((*end)[-1]))
		(*end)--;
}

static bool
span_equals(const char *start, const char *end, const char *word)
{
	size_t len = strlen(word);

	return (size_t)(end - start) == len && strncasecmp(start, word, len) == 0;
}

/* RFC 9110 qvalue: "0" ["." 0-3 digits] or "1" ["." 0-3 zeros]; -1 if bad. */
static int
parse_quality(const char *start, const char *end)
{
	int value;
	int scale = 100;

	if (start == end || (*start != '0' && *start != '1'))
		return -1;
	value = (*start - '0') * 1000;
	start++;
	if (start == end)
		return value;
	if (*start != '.')
		return -1;
	for (start++; start < end; start++) {
		if (*start < '0' || *start > '9' || scale == 0)
			return -1;
		value += (*start - '0') * scale;
		scale /= 10;
	}
	return value <= 1000 ? value : -1;
}

/*
 * The quality of one media range (its "q" parameter, default 1000); -1 when
 * a parameter is malformed, in which case the range is ignored.
 */
static int
range_quality(const char *params, const char *end)
{
	int quality = 1000;

	while (params < end) {
		const char *next = memchr(params, ';', (size_t)(end - params));
		const char *param_end = next ? next : end;
		const char *name = params;
		const char *equals = memchr(params, '=', (size_t)(param_end - params));

		if (equals != NULL) {
			const char *name_end = equals;
			const char *value = equals + 1;
			const char *value_end = param_end;

			trim(&name, &name_end);
			trim(&value, &value_end);
			if (span_equals(name, name_end, "q"))
				quality = parse_quality(value, value_end);
		}
		params = next ? next + 1 : end;
	}
	return quality;
}

static int
range_specificity(const struct format_type *format, const char *type, const char *type_end,
		  const char *subtype, const char *subtype_end)
{
	if (span_equals(type, type_end, "*") && span_equals(subtype, subtype_end, "*"))
		return 1;
	if (!span_equals(type, type_end, format->type))
		return 0;
	if (span_equals(subtype, subtype_end, "*"))
		return 2;
	for (size_t i = 0; i < 2 && format->subtypes[i] != NULL; i++)
		if (span_equals(subtype, subtype_end, format->subtypes[i]))
			return 3;
	return 0;
}

/* Apply one media range to every format: the most specific range that
 * matches a format sets its quality (RFC 9110 section 12.5.1). */
static void
apply_range(const char *start, const char *end, int position,
	    struct format_match matches[FORMAT_COUNT])
{
	const char *params = memchr(start, ';', (size_t)(end - start));
	const char *type_end = params ? params : end;
	const char *slash = memchr(start, '/', (size_t)(type_end - start));
	const char *subtype;
	int quality;

	if (slash == NULL)
		return;
	subtype = slash + 1;
	trim(&start, &type_end);
	quality = range_quality(params ? params + 1 : end, end);
	if (quality < 0)
		return;
	for (size_t i = 0; i < FORMAT_COUNT; i++) {
		int specificity = range_specificity(&format_types[i], start, slash, subtype,
						    type_end);

		if (specificity > matches[i].specificity) {
			matches[i].quality = quality;
			matches[i].specificity = specificity;
			matches[i].position = position;
		}
	}
}

/* The negotiation, among every format or among the HTML ones only. */
static enum index_format
negotiate(const char *accept, bool html_only)
{
	struct format_match matches[FORMAT_COUNT];
	const char *cursor = accept;
	size_t best = FORMAT_COUNT;
	int position = 0;

	if (accept == NULL)
		return INDEX_FORMAT_HTML;
	for (size_t i = 0; i < FORMAT_COUNT; i++)
		matches[i] = (struct format_match){ -1, 0, 0 };
	while (*cursor != '\0') {
		const char *comma = strchr(cursor, ',');
		const char *end = comma ? comma : cursor + strlen(cursor);

		apply_range(cursor, end, position++, matches);
		cursor = comma ? comma + 1 : end;
	}
	if (position == 0 || (position == 1 && strspn(accept, " \t") == strlen(accept)))
		return INDEX_FORMAT_HTML;	/* an empty header says nothing */
	for (size_t i = 0; i < FORMAT_COUNT; i++) {
		const struct format_match *m = &matches[i];
		const struct format_match *b = best < FORMAT_COUNT ? &matches[best] : NULL;

		if (m->quality <= 0 || (html_only && format_types[i].format == INDEX_FORMAT_JSON_V1))
			continue;
		if (b == NULL || m->quality > b->quality ||
		    (m->quality == b->quality &&
		     (m->specificity > b->specificity ||
		      (m->specificity == b->specificity && m->position < b->position))))
			best = i;
	}
	return best < FORMAT_COUNT ? format_types[best].format : INDEX_FORMAT_NONE;
}

enum index_format
index_simple_negotiate(const char *accept)
{
	return negotiate(accept, false);
}

/* pip before 23.2: "pip/<version> {json...}". */
static bool
is_old_pip(const char *user_agent)
{
	char version[INDEX_VERSION_MAX + 1];
	size_t len;

	if (user_agent == NULL || strncmp(user_agent, "pip/", 4) != 0)
		return false;
	len = strcspn(user_agent + 4, " ");
	if (len == 0 || len > INDEX_VERSION_MAX)
		return false;
	memcpy(version, user_agent + 4, len);
	version[len] = '\0';
	return index_version_is_valid(version, len) && index_version_compare(version, "23.2") < 0;
}

enum index_format
index_simple_negotiate_client(const char *accept, const char *user_agent)
{
	enum index_format format = negotiate(accept, false);

	if (format == INDEX_FORMAT_JSON_V1 && is_old_pip(user_agent)) {
		enum index_format html = negotiate(accept, true);

		if (html != INDEX_FORMAT_NONE)
			return html;
	}
	return format;
}

const char *
index_simple_content_type(enum index_format format)
{
	switch (format) {
	case INDEX_FORMAT_HTML:
		return "text/html; charset=utf-8";
	case INDEX_FORMAT_HTML_V1:
		return "application/vnd.pypi.simple.v1+html";
	case INDEX_FORMAT_JSON_V1:
		return "application/vnd.pypi.simple.v1+json";
	case INDEX_FORMAT_NONE:
		break;
	}
	return "text/plain; charset=utf-8";
}

/* ----------------------------------------------------------------------
 * Escaping
 */

bool
index_html_escape(struct ga_buf *out, const char *text)
{
	bool ok = true;

	for (; *text != '\0' && ok; text++) {
		switch (*text) {
		case '&':
			ok = ga_buf_append_str(out, "&amp;");
			break;
		case '<':
			ok = ga_buf_append_str(out, "&lt;");
			break;
		case '>':
			ok = ga_buf_append_str(out, "&gt;");
			break;
		case '"':
			ok = ga_buf_append_str(out, "&quot;");
			break;
		case '\'':
			ok = ga_buf_append_str(out, "&#39;");
			break;
		default:
			ok = ga_buf_append_char(out, *text);
		}
	}
	return ok;
}

bool
index_url_escape_segment(struct ga_buf *out, const char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	bool ok = true;

	for (; *text != '\0' && ok; text++) {
		unsigned char c = (unsigned char)*text;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			ok = ga_buf_append_char(out, (char)c);
		else
			ok = ga_buf_printf(out, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
	return ok;
}

bool
index_simple_iso8601(long long when, char out[INDEX_ISO8601_SIZE])
{
	time_t t = (time_t)when;
	struct tm tm;

	out[0] = '\0';
	return when > 0 && gmtime_r(&t, &tm) != NULL &&
	       strftime(out, INDEX_ISO8601_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0;
}

/* ----------------------------------------------------------------------
 * Pages
 */

static const char html_head[] =
	"<!DOCTYPE html>\n"
	"<html>\n"
	"  <head>\n"
	"    <meta name=\"pypi:repository-version\" content=\"1.1\">\n";

static int
append_to_buf(const char *data, size_t size, void *buf)
{
	return ga_buf_append(buf, data, size) ? 0 : -1;
}

/* Dump a JSON value (whose reference this takes) into out. */
static bool
dump_json(json_t *value, struct ga_buf *out)
{
	bool ok = value != NULL &&
		  json_dump_callback(value, append_to_buf, out, JSON_COMPACT) == 0 &&
		  ga_buf_append_char(out, '\n');

	json_decref(value);
	return ok;
}

static json_t *
json_meta(void)
{
	return json_pack("{s:s}", "api-version", "1.1");
}

bool
index_simple_render_root(enum index_format format, const char *const *names, size_t count,
			 struct ga_buf *out)
{
	bool ok;

	if (format == INDEX_FORMAT_JSON_V1) {
		json_t *projects = json_array();

		for (size_t i = 0; i < count; i++)
			json_array_append_new(projects, json_pack("{s:s}", "name", names[i]));
		return dump_json(json_pack("{s:o,s:o}", "meta", json_meta(), "projects", projects),
				 out);
	}
	ok = ga_buf_append_str(out, html_head) &&
	     ga_buf_append_str(out, "    <title>Simple index</title>\n  </head>\n  <body>\n");
	for (size_t i = 0; i < count && ok; i++) {
		ok = ga_buf_append_str(out, "    <a href=\"") &&
		     index_url_escape_segment(out, names[i]) &&
		     ga_buf_append_str(out, "/\">") && index_html_escape(out, names[i]) &&
		     ga_buf_append_str(out, "</a><br>\n");
	}
	return ok && ga_buf_append_str(out, "  </body>\n</html>\n");
}

/* "../../packages/<project>/<filename>", escaped as URL path segments. */
static bool
append_file_url(struct ga_buf *out, const char *project, const char *filename)
{
	return ga_buf_append_str(out, "../../packages/") &&
	       index_url_escape_segment(out, project) && ga_buf_append_char(out, '/') &&
	       index_url_escape_segment(out, filename);
}

static bool
render_project_html(const char *project, const struct index_file_list *files,
		    struct ga_buf *out)
{
	struct ga_buf url;
	bool ok = ga_buf_append_str(out, html_head) &&
		  ga_buf_append_str(out, "    <title>Links for ") &&
		  index_html_escape(out, project) &&
		  ga_buf_append_str(out, "</title>\n  </head>\n  <body>\n    <h1>Links for ") &&
		  index_html_escape(out, project) && ga_buf_append_str(out, "</h1>\n");

	ga_buf_init(&url, 0);
	for (size_t i = 0; i < files->count && ok; i++) {
		const struct index_file *file = &files->files[i];

		ga_buf_reset(&url);
		ok = append_file_url(&url, project, file->filename) &&
		     ga_buf_printf(&url, "#sha256=%s", file->sha256) &&
		     ga_buf_append_str(out, "    <a href=\"") &&
		     index_html_escape(out, ga_buf_cstr(&url)) && ga_buf_append_char(out, '"');
		if (ok && file->requires_python != NULL)
			ok = ga_buf_append_str(out, " data-requires-python=\"") &&
			     index_html_escape(out, file->requires_python) &&
			     ga_buf_append_char(out, '"');
		/* PEP 714's name, and PEP 658's for pip 22.3 to 23.1, which read
		 * only that one; both must carry the same value. */
		if (ok && file->metadata_sha256[0] != '\0')
			ok = ga_buf_printf(out,
					   " data-core-metadata=\"sha256=%s\""
					   " data-dist-info-metadata=\"sha256=%s\"",
					   file->metadata_sha256, file->metadata_sha256);
		if (ok && file->yanked)
			ok = ga_buf_append_str(out, " data-yanked=\"") &&
			     index_html_escape(out,
					       file->yanked_reason ? file->yanked_reason : "") &&
			     ga_buf_append_char(out, '"');
		ok = ok && ga_buf_append_char(out, '>') &&
		     index_html_escape(out, file->filename) &&
		     ga_buf_append_str(out, "</a><br>\n");
	}
	ga_buf_free(&url);
	return ok && ga_buf_append_str(out, "  </body>\n</html>\n");
}

static json_t *
file_json(const char *project, const struct index_file *file)
{
	char when[INDEX_ISO8601_SIZE];
	struct ga_buf url;
	json_t *object;

	ga_buf_init(&url, 0);
	if (!append_file_url(&url, project, file->filename)) {
		ga_buf_free(&url);
		return NULL;
	}
	object = json_pack("{s:s,s:s,s:{s:s}}", "filename", file->filename, "url",
			   ga_buf_cstr(&url), "hashes", "sha256", file->sha256);
	ga_buf_free(&url);
	if (object == NULL)
		return NULL;
	if (file->requires_python != NULL)
		json_object_set_new(object, "requires-python",
				    json_string(file->requires_python));
	/* PEP 700. */
	json_object_set_new(object, "size", json_integer(file->size));
	if (index_simple_iso8601(file->uploaded_at, when))
		json_object_set_new(object, "upload-time", json_string(when));
	/* PEP 714: "core-metadata" only.  The PEP 658 key "dist-info-metadata"
	 * makes pip 22.3 to 23.1 (Debian 12's is 23.0.1) fail on the whole
	 * page: they expect a string there, where PEP 691 puts an object. */
	if (file->metadata_sha256[0] != '\0')
		json_object_set_new(object, "core-metadata",
				    json_pack("{s:s}", "sha256", file->metadata_sha256));
	/* PEP 691: true, or a non-empty reason string. */
	if (file->yanked && file->yanked_reason != NULL && file->yanked_reason[0] != '\0')
		json_object_set_new(object, "yanked", json_string(file->yanked_reason));
	else
		json_object_set_new(object, "yanked", json_boolean(file->yanked));
	return object;
}

static int
compare_versions(const void *a, const void *b)
{
	return index_version_compare(*(char *const *)a, *(char *const *)b);
}

/* PEP 700's "versions": every version of a file, in its PEP 440 normal
 * form, once, oldest first. */
static json_t *
versions_json(const char *project, const struct index_file_list *files)
{
	char **normal = ga_calloc(files->count + 1, sizeof(*normal));
	json_t *list = json_array();
	size_t count = 0;

	for (size_t i = 0; i < files->count; i++) {
		char version[INDEX_VERSION_MAX + 1];
		char key[INDEX_VERSION_NORMAL_MAX];

		if (index_filename_version(files->files[i].filename, project, version) &&
		    index_version_normalize(version, strlen(version), false, key))
			normal[count++] = ga_strdup(key);
	}
	qsort(normal, count, sizeof(*normal), compare_versions);
	for (size_t i = 0; i < count; i++) {
		if (i == 0 || strcmp(normal[i], normal[i - 1]) != 0)
			json_array_append_new(list, json_string(normal[i]));
	}
	for (size_t i = 0; i < count; i++)
		ga_free(normal[i]);
	ga_free(normal);
	return list;
}

static bool
render_project_json(const char *project, const struct index_file_list *files,
		    struct ga_buf *out)
{
	json_t *list = json_array();

	for (size_t i = 0; i < files->count; i++) {
		json_t *file = file_json(project, &files->files[i]);

		if (file == NULL) {
			json_decref(list);
			return false;
		}
		json_array_append_new(list, file);
	}
	return dump_json(json_pack("{s:o,s:s,s:o,s:o}", "meta", json_meta(), "name", project,
				   "files", list, "versions", versions_json(project, files)),
			 out);
}

bool
index_simple_render_project(enum index_format format, const char *project,
			    const struct index_file_list *files, struct ga_buf *out)
{
	if (format == INDEX_FORMAT_JSON_V1)
		return render_project_json(project, files, out);
	return render_project_html(project, files, out);
}
