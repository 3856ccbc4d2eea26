/*
 * index_metadata.h - a distribution's core metadata (the METADATA file of
 * a wheel's .dist-info directory; the packaging specification "Core
 * metadata specifications"), read the way Python's email parser reads it,
 * which is what pip, packaging and PyPI use:
 *
 *   - lines end with \r\n, \r or \n;
 *   - a header line is a name of printable ASCII without space or ':',
 *     then ':'; the value starts after the colon and its blanks, and
 *     continues over the following lines that start with a space or a tab
 *     (kept as they are, line ends included), without its last line end;
 *   - the headers end at an empty line, or at the first line that is not a
 *     header (which then belongs to the body); the body is the rest, as it
 *     is: the long description of Metadata 2.1 and later.
 *
 * Names compare without regard to case.  Beyond Python's reading this
 * refuses what no tool writes and no index should store: text that is not
 * UTF-8 or holds a NUL byte, more than INDEX_METADATA_MAX bytes or
 * INDEX_METADATA_FIELDS_MAX fields, and a Name or Version that is missing,
 * repeated or invalid (PEP 508 name, PEP 440 version).
 *
 * Values point into the text given to index_metadata_parse, which must
 * outlive the struct.  Pure functions, thread-safe.
 */
#ifndef INDEX_METADATA_H
#define INDEX_METADATA_H

#include <stdbool.h>
#include <stddef.h>

#include "index/index_filename.h"

/* Largest METADATA accepted (the long description is part of it). */
#define INDEX_METADATA_MAX (4 * 1024 * 1024)
/* Most header fields accepted (a package with many extras lists a few
 * hundred Requires-Dist). */
#define INDEX_METADATA_FIELDS_MAX 16384

struct index_metadata_field {
	const char *name;	/* not NUL-terminated */
	size_t name_len;
	const char *value;	/* not NUL-terminated */
	size_t value_len;
};

struct index_metadata {
	struct index_metadata_field *fields;	/* owned; in the order of the text */
	size_t count;
	const char *body;			/* the rest after the headers */
	size_t body_len;
	/* Name and Version, NUL-terminated copies (checked). */
	char name[ORG_PACKAGE_NAME_MAX];
	char version[INDEX_VERSION_MAX + 1];
};

/*
 * Parse text (len bytes).  false with a one-line reason (printable, names
 * no client text) when it breaks a rule above; out is then empty.  Free
 * with index_metadata_free either way.
 */
bool index_metadata_parse(const char *text, size_t len, struct index_metadata *out,
			  char reason[INDEX_REASON_MAX]);

void index_metadata_free(struct index_metadata *metadata);

/*
 * The fields named name (any case), one after the other: pass NULL to get
 * the first, then the previous answer.  NULL when there is no more.
 */
const struct index_metadata_field *index_metadata_next(const struct index_metadata *metadata,
						       const char *name,
						       const struct index_metadata_field *after);

/* The first field named name, or NULL. */
const struct index_metadata_field *index_metadata_get(const struct index_metadata *metadata,
						      const char *name);

#endif
