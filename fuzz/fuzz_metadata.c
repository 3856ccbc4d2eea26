/*
 * fuzz_metadata.c - the core metadata reader (index_metadata_parse) on any
 * text.  Contracts:
 *   - accepted: every field's name and value, and the body, lie within
 *     the text, in order; a name is printable ASCII without ':' or space;
 *     the body runs to the end of the text; Name and Version are a valid
 *     project name and PEP 440 version, and each appears exactly once;
 *     index_metadata_get finds the first field of a name in any case;
 *   - refused: a one-line reason and no field.
 * Input: the text.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "index/index_metadata.h"
#include "index/index_version.h"
#include "org/org_names.h"
#include "util/ga_xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
within(const char *text, size_t len, const char *p, size_t n)
{
	return p >= text && n <= len && p + n <= text + len;
}

static void
check_accepted(const char *text, size_t len, const struct index_metadata *m)
{
	const char *previous = text;
	size_t names = 0, versions = 0;

	for (size_t i = 0; i < m->count; i++) {
		const struct index_metadata_field *f = &m->fields[i];
		char name[64];

		if (!within(text, len, f->name, f->name_len) ||
		    !within(text, len, f->value, f->value_len) || f->name < previous ||
		    f->name_len == 0 || f->value < f->name + f->name_len)
			abort();
		for (size_t j = 0; j < f->name_len; j++)
			if (f->name[j] <= ' ' || f->name[j] > '~' || f->name[j] == ':')
				abort();
		previous = f->value;
		names += f->name_len == 4 && strncasecmp(f->name, "name", 4) == 0;
		versions += f->name_len == 7 && strncasecmp(f->name, "version", 7) == 0;
		if (f->name_len < sizeof(name)) {
			/* The first field of this name, whatever the case asked. */
			memcpy(name, f->name, f->name_len);
			name[f->name_len] = '\0';
			for (size_t j = 0; name[j]; j++)
				name[j] = (char)toupper((unsigned char)name[j]);
			if (index_metadata_get(m, name) > f)
				abort();
		}
	}
	if (names != 1 || versions != 1 || m->body + m->body_len != text + len ||
	    m->body < previous ||
	    !org_is_valid_project_name(m->name, strlen(m->name)) ||
	    !index_version_is_valid(m->version, strlen(m->version)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = ga_malloc(size + 1);
	char reason[INDEX_REASON_MAX];
	struct index_metadata m;

	if (size > 0)
		memcpy(text, data, size);
	if (index_metadata_parse(text, size, &m, reason))
		check_accepted(text, size, &m);
	else if (m.count != 0 || reason[0] == '\0' || strchr(reason, '\n') != NULL)
		abort();
	index_metadata_free(&m);
	ga_free(text);
	return 0;
}
