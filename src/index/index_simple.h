/*
 * index_simple.h - the pages of the simple repository API: PEP 503 HTML and
 * PEP 691 JSON, chosen from the Accept header.
 *
 * Simple API version 1.1 (PEP 700: versions, each file's size and upload
 * time, in JSON), with each wheel's core metadata announced when stored
 * (PEP 658 and PEP 714: data-core-metadata and data-dist-info-metadata
 * in HTML, core-metadata in JSON, "sha256=<hex>").
 *
 * Links are relative, so the index works behind a proxy that mounts it
 * under a path prefix: the project list at <base>/simple/ links to
 * "<name>/", a project page at <base>/simple/<name>/ links its files as
 * "../../packages/<name>/<filename>#sha256=<hex>" (PEP 691 allows relative
 * URLs in JSON too).  Every text is escaped for its context: HTML text and
 * attributes, URL path segments, JSON strings.
 *
 * Pure functions writing into a caller's ga_buf (which must be able to grow:
 * a failed append makes the function return false); thread-safe.
 */
#ifndef INDEX_SIMPLE_H
#define INDEX_SIMPLE_H

#include <stdbool.h>
#include <stddef.h>

#include "index/index_storage.h"
#include "util/ga_buf.h"

enum index_format {
	INDEX_FORMAT_NONE = 0,		/* nothing acceptable: answer 406 */
	INDEX_FORMAT_HTML,		/* text/html */
	INDEX_FORMAT_HTML_V1,		/* application/vnd.pypi.simple.v1+html */
	INDEX_FORMAT_JSON_V1,		/* application/vnd.pypi.simple.v1+json */
};

/*
 * Choose the format of a simple page for an Accept header (NULL: absent) by
 * PEP 691's rules: the acceptable type with the highest quality value; among
 * equals the most specific range, then the one listed first, then HTML
 * (text/html), so that a bare wildcard or no Accept header gets the HTML of
 * PEP 503.  The "latest" aliases of both formats are the v1 formats.  A
 * header that accepts none of them gives INDEX_FORMAT_NONE.
 */
enum index_format index_simple_negotiate(const char *accept);

/*
 * index_simple_negotiate, except that pip before 23.2 (User-Agent
 * "pip/<version> ...") gets HTML whenever its Accept allows it: those
 * versions read PEP 658 metadata only from HTML's data-dist-info-metadata
 * (PEP 714), so with JSON they would download every wheel they consider.
 */
enum index_format index_simple_negotiate_client(const char *accept, const char *user_agent);

/* The Content-Type to send with a format (a static string). */
const char *index_simple_content_type(enum index_format format);

/* The project list: names (PEP 503 keys, already filtered to what the
 * caller may read, sorted) as HTML or JSON. */
bool index_simple_render_root(enum index_format format, const char *const *names, size_t count,
			      struct ga_buf *out);

/* One project's page with its files. */
bool index_simple_render_project(enum index_format format, const char *project,
				 const struct index_file_list *files, struct ga_buf *out);

/* "2026-01-31T12:00:00Z" (PEP 700's upload-time, PyPI's
 * upload_time_iso_8601) into out; false (out "") for 0 or an impossible time. */
#define INDEX_ISO8601_SIZE 32
bool index_simple_iso8601(long long when, char out[INDEX_ISO8601_SIZE]);

/* Append text with &, <, >, " and ' escaped (HTML text and attributes). */
bool index_html_escape(struct ga_buf *out, const char *text);

/* Append text percent-encoded as one URL path segment (RFC 3986
 * unreserved characters stay; everything else, '/' included, is %XX). */
bool index_url_escape_segment(struct ga_buf *out, const char *text);

#endif
