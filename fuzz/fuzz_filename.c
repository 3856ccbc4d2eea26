/*
 * fuzz_filename.c - the built-in index's decoders of outside text: a
 * distribution filename (from an upload form or a download path), a PEP 440
 * version, a forward-auth request target, an Accept header.  Each is held
 * to its contract, not only to not crashing:
 *   - a filename index_filename_check() accepts is safe, of a known type,
 *     and index_filename_projects() names the project it was checked for;
 *     what it accepts without legacy sdists it accepts with them, and such
 *     an sdist is a .tar.gz;
 *   - every candidate project is a PEP 503 key (normalising it again is a
 *     no-op) and a valid project name;
 *   - a version's normal form is valid, and normalising it again is a no-op;
 *   - a classified path names a valid key, and a FILE has candidates;
 *   - negotiation returns one of the four formats; with a User-Agent (the
 *     first line) it differs only by HTML instead of JSON.
 * Input: up to four lines: filename, project, version, Accept (the first
 * line is also the version, the request target and the User-Agent).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "index/index_filename.h"
#include "index/index_path.h"
#include "index/index_simple.h"
#include "index/index_version.h"
#include "org/org_names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIELD_MAX 4096

/* Line i of data (no NUL: the decoders take C strings) into out. */
static void
line(const uint8_t *data, size_t size, int index, char out[FIELD_MAX + 1])
{
	size_t start = 0;
	size_t len;

	for (int i = 0; i < index && start <= size; i++) {
		const uint8_t *newline = memchr(data + start, '\n', size - start);

		start = newline ? (size_t)(newline - data) + 1 : size + 1;
	}
	out[0] = '\0';
	if (start > size)
		return;
	len = size - start;
	if (memchr(data + start, '\n', len) != NULL)
		len = (size_t)((const uint8_t *)memchr(data + start, '\n', len) - (data + start));
	if (len > FIELD_MAX)
		len = FIELD_MAX;
	/* An embedded NUL simply ends the C string. */
	memcpy(out, data + start, len);
	out[len] = '\0';
}

static void
check_key(const char *key)
{
	char again[ORG_PACKAGE_NAME_MAX];

	if (!org_is_valid_project_name(key, strlen(key)) ||
	    !org_normalize_package(key, strlen(key), again, sizeof(again)) ||
	    strcmp(again, key) != 0)
		abort();
}

static void
check_filename(const char *filename, const char *project, const char *version)
{
	char reason[INDEX_REASON_MAX];
	char key[ORG_PACKAGE_NAME_MAX];
	struct index_filename_projects projects;
	enum index_dist_type type;
	bool found = false;

	if (index_filename_projects(filename, &projects)) {
		if (projects.count == 0 || projects.count > INDEX_CANDIDATES_MAX)
			abort();
		for (size_t i = 0; i < projects.count; i++)
			check_key(projects.names[i]);
	}
	if (index_filename_check(filename, project, version, false, &type, reason)) {
		size_t len = strlen(filename);

		if (!index_filename_check(filename, project, version, true, &type, reason) ||
		    (type == INDEX_DIST_SDIST &&
		     (len < 7 || strcmp(filename + len - 7, ".tar.gz") != 0)))
			abort();
	} else if (strlen(reason) == 0 || strchr(reason, '\n') != NULL) {
		abort();
	}
	if (!index_filename_check(filename, project, version, true, &type, reason)) {
		if (strlen(reason) == 0 || strchr(reason, '\n') != NULL)
			abort();
		return;
	}
	if (!index_filename_is_safe(filename, reason) || !index_filename_type(filename, &type) ||
	    !org_normalize_package(project, strlen(project), key, sizeof(key)) ||
	    !index_filename_projects(filename, &projects))
		abort();
	for (size_t i = 0; i < projects.count; i++)
		found = found || strcmp(projects.names[i], key) == 0;
	if (!found)
		abort();
}

static void
check_version(const char *version)
{
	char normal[INDEX_VERSION_NORMAL_MAX];
	char again[INDEX_VERSION_NORMAL_MAX];

	if (!index_version_normalize(version, strlen(version), false, normal))
		return;
	if (!index_version_is_valid(version, strlen(version)) ||
	    (strlen(normal) <= INDEX_VERSION_MAX &&
	     (!index_version_normalize(normal, strlen(normal), false, again) ||
	      strcmp(again, normal) != 0)) ||
	    !index_version_equal(version, strlen(version), version, strlen(version)))
		abort();
}

static void
check_path(const char *target)
{
	struct index_path path;

	switch (index_path_classify(target, &path)) {
	case INDEX_PATH_PROJECT:
		check_key(path.project);
		break;
	case INDEX_PATH_FILE:
		if (path.projects.count == 0)
			abort();
		for (size_t i = 0; i < path.projects.count; i++)
			check_key(path.projects.names[i]);
		break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char filename[FIELD_MAX + 1], project[FIELD_MAX + 1];
	static char version[FIELD_MAX + 1], accept[FIELD_MAX + 1];
	enum index_format format, client;

	line(data, size, 0, filename);
	line(data, size, 1, project);
	line(data, size, 2, version);
	line(data, size, 3, accept);
	check_filename(filename, project, version);
	check_version(filename);
	check_version(version);
	check_path(filename);
	format = index_simple_negotiate(accept);
	if (format != INDEX_FORMAT_NONE && format != INDEX_FORMAT_HTML &&
	    format != INDEX_FORMAT_HTML_V1 && format != INDEX_FORMAT_JSON_V1)
		abort();
	client = index_simple_negotiate_client(accept, filename);
	if (client != format && (format != INDEX_FORMAT_JSON_V1 ||
				 (client != INDEX_FORMAT_HTML && client != INDEX_FORMAT_HTML_V1)))
		abort();
	return 0;
}
