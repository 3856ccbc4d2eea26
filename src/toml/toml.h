/*
 * toml.h - a complete TOML 1.0 reader.
 *
 * toml_parse() turns a document into an immutable tree of values.  It accepts
 * exactly TOML 1.0.0 (https://toml.io/en/v1.0.0): every string form and
 * escape, integers in four bases, floats with inf/nan, booleans, the four
 * date-time kinds, arrays, inline tables, dotted keys, tables and arrays of
 * tables, with every rule against redefinition.  Input must be UTF-8; a
 * leading BOM is skipped.  Errors carry a 1-based line and column.
 *
 * Bounded: input larger than TOML_MAX_INPUT bytes or nesting deeper than
 * TOML_MAX_DEPTH is refused with GA_ELIMIT.  Depth counts every container
 * (table, array, inline table) from the root, which is depth 0: so
 * `a = [[1]]` nests two levels and `[a.b]` two, and a consumer may walk a
 * document recursively without risk.  The parser uses no recursion that
 * input can drive past that depth, and runs in time linear in the input
 * (table lookups are hashed).
 *
 * Thread-safety: a parsed document is read-only and may be shared.
 */
#ifndef TOML_H
#define TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/ga_err.h"

#define TOML_MAX_INPUT (16u * 1024u * 1024u)
#define TOML_MAX_DEPTH 128

enum toml_type {
	TOML_STRING,
	TOML_INTEGER,
	TOML_FLOAT,
	TOML_BOOLEAN,
	TOML_OFFSET_DATETIME,	/* 1979-05-27T07:32:00Z, with offset */
	TOML_LOCAL_DATETIME,	/* 1979-05-27T07:32:00 */
	TOML_LOCAL_DATE,	/* 1979-05-27 */
	TOML_LOCAL_TIME,	/* 07:32:00 */
	TOML_ARRAY,
	TOML_TABLE,
};

struct toml_value;
struct toml_document;

/*
 * Parse len bytes of text.  On success returns GA_OK and *out owns a
 * document (free with toml_document_free).  On failure *out is NULL and err
 * (if given) holds the message, line and column.
 */
enum ga_rc toml_parse(const char *text, size_t len, struct toml_document **out,
		      struct ga_err *err);

void toml_document_free(struct toml_document *doc);

/* The root table.  Borrowed from the document. */
const struct toml_value *toml_document_root(const struct toml_document *doc);

enum toml_type toml_value_type(const struct toml_value *value);

/* Name of a type as toml-test spells it: "string", "integer", "datetime" ... */
const char *toml_type_name(enum toml_type type);

/*
 * Table access.  toml_table_get returns NULL when table is not a table or
 * has no such key.  key is raw UTF-8 (already unquoted).
 */
const struct toml_value *toml_table_get(const struct toml_value *table, const char *key);
/* Same for a key of key_len bytes, which may contain NUL. */
const struct toml_value *toml_table_get_n(const struct toml_value *table, const char *key,
					  size_t key_len);
size_t toml_table_count(const struct toml_value *table);
/* The i-th key in insertion order, and its value (NULL past the end); key
 * length in *key_len because keys may contain NUL ("\u0000" is a valid key). */
const char *toml_table_key_at(const struct toml_value *table, size_t i, size_t *key_len);
const struct toml_value *toml_table_value_at(const struct toml_value *table, size_t i);

/* Array access.  toml_array_count is 0 and toml_array_at NULL for a value
 * that is not an array or an index out of range. */
size_t toml_array_count(const struct toml_value *array);
const struct toml_value *toml_array_at(const struct toml_value *array, size_t i);

/*
 * Scalars.  toml_string returns the decoded UTF-8 text (NUL-terminated, but
 * it may contain NUL; the length is in *len when len is not NULL).
 * toml_datetime_text returns the date-time as written, normalised the way
 * toml-test expects (upper-case T and Z, space separator replaced by T);
 * fractional seconds keep every digit written, and second 60 (a leap
 * second, as RFC 3339 allows) is accepted.
 * Called on a value of another type they return NULL, 0, NaN or false.
 */
const char *toml_string(const struct toml_value *value, size_t *len);
int64_t toml_integer(const struct toml_value *value);
double toml_float(const struct toml_value *value);
bool toml_boolean(const struct toml_value *value);
const char *toml_datetime_text(const struct toml_value *value);

#endif
