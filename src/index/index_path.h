/*
 * index_path.h - what a request path of a Python package index asks for,
 * decided from the path alone (forward-auth in front of another server).
 *
 * The path is the raw request target (nginx's $request_uri, Traefik's
 * X-Forwarded-Uri): the query and fragment are dropped, each segment is
 * percent-decoded strictly.  The decoded path must be absolute, hold no
 * empty segment but the last (a trailing '/'), no "." or ".." segment, and
 * only printable ASCII with no '\' or encoded '/': anything else is
 * INDEX_PATH_INVALID, because the server behind the proxy could read it
 * differently from us, and the caller must refuse it.
 *
 * Kinds, matched on the end of the path so that an index mounted under a
 * prefix ("/pypi/simple/") works:
 *   .../simple/                     INDEX_PATH_ROOT (the project list)
 *   .../simple/<name>/              INDEX_PATH_PROJECT ("/simple/<name>" and
 *                                   ".../index.html" too)
 *   .../<filename>                  INDEX_PATH_FILE when the last segment is a
 *                                   wheel or sdist filename, or one with a
 *                                   ".metadata" (PEP 658) or ".asc" suffix;
 *                                   the projects are read from the filename
 *                                   (index_filename_projects), whatever the
 *                                   directories say
 *   anything else                   INDEX_PATH_OTHER
 *
 * Pure, thread-safe, no allocation.
 */
#ifndef INDEX_PATH_H
#define INDEX_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "index/index_filename.h"

/* Longest request target considered (longer: INDEX_PATH_INVALID). */
#define INDEX_PATH_MAX 2048

enum index_path_kind {
	INDEX_PATH_INVALID = 0,
	INDEX_PATH_ROOT,
	INDEX_PATH_PROJECT,
	INDEX_PATH_FILE,
	INDEX_PATH_OTHER,
};

struct index_path {
	enum index_path_kind kind;
	/* INDEX_PATH_PROJECT: the PEP 503 key of the name in the path. */
	char project[ORG_PACKAGE_NAME_MAX];
	/* INDEX_PATH_FILE: the filename (suffix kept) and its projects. */
	char filename[INDEX_FILENAME_MAX + 1];
	struct index_filename_projects projects;
};

/* Classify target (NUL-terminated); returns out->kind. */
enum index_path_kind index_path_classify(const char *target, struct index_path *out);

/*
 * Percent-decode a path (len bytes, up to '?' or '#' if any, which the
 * caller excludes) into out (out_size bytes with the NUL) with the rules
 * above; false when it breaks one.  Used by the built-in index too.
 */
bool index_path_decode(const char *path, size_t len, char *out, size_t out_size);

#endif
