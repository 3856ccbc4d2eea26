/* index_metadata.c - core metadata read as Python's email parser reads it; see index_metadata.h. */
#include "index/index_metadata.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "index/index_version.h"
#include "org/org_names.h"
#include "util/ga_utf8.h"
#include "util/ga_xalloc.h"

static bool
fail(struct index_metadata *out, char reason[INDEX_REASON_MAX], const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool
fail(struct index_metadata *out, char reason[INDEX_REASON_MAX], const char *fmt, ...)
{
	va_list ap;

	index_metadata_free(out);
	va_start(ap, fmt);
	vsnprintf(reason, INDEX_REASON_MAX, fmt, ap);
	va_end(ap);
	return false;
}

/* The length of the line starting at p (its end not included) and of its
 * line end (0 at the end of the text without one). */
static size_t
line_length(const char *p, const char *end, size_t *eol)
{
	const char *q = p;

	while (q < end && *q != '\r' && *q != '\n')
		q++;
	*eol = q == end ? 0 : (*q == '\r' && q + 1 < end && q[1] == '\n') ? 2 : 1;
	return (size_t)(q - p);
}

/* Python's headerRE: a name of [\041-\071\073-\176]* then ':'.  Returns
 * the name's length, or -1 when the line is not a header line. */
static long
header_name_length(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == ':')
			return (long)i;
		if (c < 0x21 || c > 0x7e)
			return -1;
	}
	return -1;
}

static bool
add_field(struct index_metadata *out, size_t *capacity, const char *name, size_t name_len,
	  const char *value)
{
	if (out->count == INDEX_METADATA_FIELDS_MAX)
		return false;
	if (out->count == *capacity) {
		*capacity = *capacity ? 2 * *capacity : 32;
		out->fields = ga_reallocarray(out->fields, *capacity, sizeof(*out->fields));
	}
	out->fields[out->count++] = (struct index_metadata_field){
		.name = name, .name_len = name_len, .value = value, .value_len = 0,
	};
	return true;
}

/* The value ends where its last line's text ends: drop the line ends
 * (Python's rstrip('\r\n')). */
static void
close_value(struct index_metadata_field *field, const char *end)
{
	while (end > field->value && (end[-1] == '\r' || end[-1] == '\n'))
		end--;
	field->value_len = (size_t)(end - field->value);
}

/* Split the headers; the body starts where they end. */
static bool
split_headers(const char *text, size_t len, struct index_metadata *out,
	      char reason[INDEX_REASON_MAX])
{
	const char *p = text;
	const char *end = text + len;
	struct index_metadata_field *open = NULL;
	size_t capacity = 0;

	while (p < end) {
		size_t eol;
		size_t line = line_length(p, end, &eol);
		long name_len;

		if (line == 0)	{
			p += eol;	/* the separator: the body follows */
			break;
		}
		if (p[0] == ' ' || p[0] == '\t') {
			/* A continuation; one before any header is dropped. */
			p += line + eol;
			if (open != NULL)
				close_value(open, p);
			continue;
		}
		name_len = line >= 5 && memcmp(p, "From ", 5) == 0 ? 0
								    : header_name_length(p, line);
		if (name_len < 0)
			break;	/* not a header: this line starts the body */
		if (name_len == 0) {
			/* "From " or ":value": no header, as in Python. */
			open = NULL;
			p += line + eol;
			continue;
		}
		if (!add_field(out, &capacity, p, (size_t)name_len, NULL))
			return fail(out, reason, "METADATA has more than %d fields",
				    INDEX_METADATA_FIELDS_MAX);
		open = &out->fields[out->count - 1];
		open->value = p + name_len + 1;
		while (open->value < p + line && (*open->value == ' ' || *open->value == '\t'))
			open->value++;
		p += line + eol;
		close_value(open, p);
	}
	out->body = p;
	out->body_len = (size_t)(end - p);
	return true;
}

/* The only value of name, copied into out (size bytes with the NUL). */
static bool
single_value(struct index_metadata *out, const char *name, char *copy, size_t size,
	     char reason[INDEX_REASON_MAX])
{
	const struct index_metadata_field *field = index_metadata_get(out, name);

	if (field == NULL)
		return fail(out, reason, "METADATA has no %s field", name);
	if (index_metadata_next(out, name, field) != NULL)
		return fail(out, reason, "METADATA has more than one %s field", name);
	if (field->value_len == 0 || field->value_len >= size)
		return fail(out, reason, "METADATA has an invalid %s", name);
	memcpy(copy, field->value, field->value_len);
	copy[field->value_len] = '\0';
	return true;
}

bool
index_metadata_parse(const char *text, size_t len, struct index_metadata *out,
		     char reason[INDEX_REASON_MAX])
{
	memset(out, 0, sizeof(*out));
	if (len > INDEX_METADATA_MAX)
		return fail(out, reason, "METADATA is larger than %d bytes", INDEX_METADATA_MAX);
	if (memchr(text, '\0', len) != NULL || !ga_utf8_valid(text, len))
		return fail(out, reason, "METADATA is not UTF-8 text");
	if (!split_headers(text, len, out, reason) ||
	    !single_value(out, "Name", out->name, sizeof(out->name), reason) ||
	    !single_value(out, "Version", out->version, sizeof(out->version), reason))
		return false;
	if (!org_is_valid_project_name(out->name, strlen(out->name)))
		return fail(out, reason, "METADATA has an invalid Name (see PEP 508)");
	if (!index_version_is_valid(out->version, strlen(out->version)))
		return fail(out, reason, "METADATA has an invalid Version (see PEP 440)");
	return true;
}

void
index_metadata_free(struct index_metadata *metadata)
{
	ga_free(metadata->fields);
	memset(metadata, 0, sizeof(*metadata));
}

const struct index_metadata_field *
index_metadata_next(const struct index_metadata *metadata, const char *name,
		    const struct index_metadata_field *after)
{
	size_t name_len = strlen(name);
	size_t start = after == NULL ? 0 : (size_t)(after - metadata->fields) + 1;

	for (size_t i = start; i < metadata->count; i++) {
		const struct index_metadata_field *field = &metadata->fields[i];

		if (field->name_len == name_len && strncasecmp(field->name, name, name_len) == 0)
			return field;
	}
	return NULL;
}

const struct index_metadata_field *
index_metadata_get(const struct index_metadata *metadata, const char *name)
{
	return index_metadata_next(metadata, name, NULL);
}
