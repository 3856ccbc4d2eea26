/*
 * index_filename.h - distribution filenames: what may be stored and served,
 * and which project and version a filename names.
 *
 * Accepted forms:
 *   wheel (PEP 427): {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl,
 *       where name and version never contain '-' (tools write '_'), and
 *       each tag part is a compressed tag set of PEP 425 ("py2.py3");
 *   sdist (PEP 625): {name}-{version}.tar.gz with the name normalised and
 *       '-' written '_';
 *   legacy sdist: {name}-{version}.tar.gz or .zip where name may contain '-'
 *       ("acme-core-1.0.tar.gz", "Acme.Core-1.0.zip"): read everywhere (a
 *       guarded index may hold them), uploaded only with [index]
 *       allow_legacy_sdist.
 *
 * A legacy sdist name can be split at more than one '-' ("foo-1-2.tar.gz" is
 * foo 1-2, i.e. 1.post2, or foo-1 2).  With a project name and version
 * given (uploads) the filename is accepted when any split names that project
 * and version.  From the filename alone (forward-auth) every split whose
 * left part is a valid project name and right part a valid version is a
 * candidate, and callers must require access to every candidate: if the
 * candidates disagree, the answer is "no".
 *
 * Pure functions, thread-safe, no allocation.
 */
#ifndef INDEX_FILENAME_H
#define INDEX_FILENAME_H

#include <stdbool.h>
#include <stddef.h>

#include "index/index_version.h"
#include "org/org_names.h"

/* Longest stored filename: NAME_MAX (255) less room for ".meta.json" and
 * the temporary suffixes of the storage. */
#define INDEX_FILENAME_MAX 200

/* Room for a one-line refusal reason, NUL included. */
#define INDEX_REASON_MAX 768

/* Most project names one filename may stand for (legacy sdists). */
#define INDEX_CANDIDATES_MAX 8

enum index_dist_type {
	INDEX_DIST_WHEEL = 0,	/* .whl, upload filetype bdist_wheel */
	INDEX_DIST_SDIST,	/* .tar.gz or .zip, upload filetype sdist */
};

/*
 * true when filename is safe as a single path component on disk and in a
 * URL: 1 to INDEX_FILENAME_MAX bytes of [A-Za-z0-9._+!-], starting with a
 * letter or digit (so never ".", "..", a hidden name, a path, a control or
 * non-ASCII character).  Else false with a reason.
 */
bool index_filename_is_safe(const char *filename, char reason[INDEX_REASON_MAX]);

/* The distribution type from the extension (.whl, .tar.gz, .zip; lower
 * case only); false for any other name. */
bool index_filename_type(const char *filename, enum index_dist_type *type);

/*
 * true when filename is a safe wheel or sdist filename of project (any
 * spelling: PEP 503 normalised before comparison) at version (compared as
 * PEP 440 versions).  Without allow_legacy_sdist an sdist must be named as
 * PEP 625 says: {name}-{version}.tar.gz, the name normalised with '_' for
 * '-' and the version in its PEP 440 normal form ("acme_core-1.0rc1.tar.gz").
 * *type gets the distribution type.  Else false with a one-line reason
 * naming the filename.
 */
bool index_filename_check(const char *filename, const char *project, const char *version,
			  bool allow_legacy_sdist, enum index_dist_type *type,
			  char reason[INDEX_REASON_MAX]);

/*
 * The version that filename (a safe wheel or sdist name) gives for project
 * (a PEP 503 key), as written in the filename (a wheel's '_' read back as
 * '-'), into out.  For an sdist with several splits naming the project the
 * first (shortest name) wins.  false (out = "") when filename is not a
 * file of project.
 */
bool index_filename_version(const char *filename, const char *project_key,
			    char out[INDEX_VERSION_MAX + 1]);

/* Candidate projects of a filename, each PEP 503 normalised, no duplicates. */
struct index_filename_projects {
	size_t count;
	char names[INDEX_CANDIDATES_MAX][ORG_PACKAGE_NAME_MAX];
};

/*
 * The projects filename may belong to (see the top of this file).  Returns
 * false (count 0) when filename is not a safe wheel or sdist name or has
 * more than INDEX_CANDIDATES_MAX readings.
 */
bool index_filename_projects(const char *filename, struct index_filename_projects *out);

#endif
