/*
 * index_json.h - PyPI's JSON API (warehouse/legacy/api/json.py) for the
 * built-in index: GET /pypi/<name>/json and /pypi/<name>/<version>/json,
 * what Renovate, Dependabot and similar tools ask an index first.
 *
 * A release is the files whose versions have one PEP 440 normal form (its
 * key in "releases"; "info.version").  The "info" object comes from the
 * release's core metadata (a wheel's METADATA; see index_metadata.h for
 * how it is read): name, summary, description (the METADATA body, else
 * its Description field), requires_dist, classifiers, project_urls and
 * the rest of PyPI's fields.  A release with no METADATA (sdists only, or
 * wheels stored before this was extracted) has the name and version and
 * nulls elsewhere.  Each file: digests (sha256, md5, blake2b_256),
 * packagetype, python_version, size, upload_time(_iso_8601), url,
 * requires_python, yanked, yanked_reason, core-metadata.
 *
 * URLs are relative to the document (../../packages/... from /pypi/<name>/json),
 * like the simple pages', so that a proxy's path prefix is kept.
 *
 * Pure functions writing into a caller's ga_buf; thread-safe.
 */
#ifndef INDEX_JSON_H
#define INDEX_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "index/index_storage.h"
#include "index/index_version.h"
#include "util/ga_buf.h"

/*
 * The release to describe: the one whose version equals version (its
 * normal form first, else PEP 440 equality), or with version NULL PyPI's
 * "latest": not yanked before yanked, final before pre-release, newest
 * first.  Its key (the normal form) into out, and the index of one of its
 * files with METADATA (-1 when none) into *metadata_file.  false when no
 * file of project has that version (or any, with NULL).
 */
bool index_json_pick_release(const char *project, const struct index_file_list *files,
			     const char *version, char out[INDEX_VERSION_NORMAL_MAX],
			     long *metadata_file);

struct index_json_page {
	const char *project;		/* the PEP 503 key */
	const struct index_file_list *files;	/* every stored file of it */
	const char *release;		/* the key index_json_pick_release chose */
	bool all_releases;		/* /pypi/<name>/json: with "releases" */
	const char *metadata;		/* the release's METADATA, or NULL */
	size_t metadata_len;
	const char *project_url;	/* info.project_url and package_url */
	const char *organization;	/* ownership.organization, or NULL */
};

/* Render the document; false when out cannot grow. */
bool index_json_render(const struct index_json_page *page, struct ga_buf *out);

#endif
