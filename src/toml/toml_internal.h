/*
 * toml_internal.h - structures shared by the TOML reader's source files.
 *
 * Not part of the public API (toml.h).  The tree lives in an arena owned by
 * the document, so freeing a document, also after a failed parse, is one
 * walk over the arena's chunks plus the hash indexes of large tables.
 */
#ifndef TOML_INTERNAL_H
#define TOML_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "toml/toml.h"
#include "util/ga_buf.h"
#include "util/ga_err.h"
#include "util/ga_map.h"

/*
 * How a table came into existence; decides what later lines may do to it
 * (TOML's rules against redefinition).
 */
enum toml_table_kind {
	TOML_TABLE_ROOT,
	TOML_TABLE_IMPLICIT,	/* made by [a.b] for "a"; [a] may still define it */
	TOML_TABLE_HEADER,	/* defined by its own [header] */
	TOML_TABLE_DOTTED,	/* made by a dotted key a.b = 1 */
	TOML_TABLE_INLINE,	/* { ... }: complete and immutable once closed */
	TOML_TABLE_ARRAY_ELEMENT,	/* one [[header]] element */
};

struct toml_value;

struct toml_entry {
	const char *key;	/* in the arena, NUL-terminated, may contain NUL */
	size_t key_len;
	struct toml_value *value;
};

/* Tables up to this many keys are searched linearly; larger ones hashed. */
#define TOML_TABLE_LINEAR_MAX 8

struct toml_value {
	enum toml_type type;
	uint8_t table_kind;	/* enum toml_table_kind, tables only */
	bool array_of_tables;	/* arrays made by [[header]] (not static) */
	uint16_t depth;		/* containers from the root; root is 0 */
	union {
		struct {
			const char *text;	/* NUL-terminated, may contain NUL */
			size_t len;
		} string;	/* strings, and date-times as normalised text */
		int64_t integer;
		double floating;
		bool boolean;
		/* Counts fit 32 bits: TOML_MAX_INPUT is far below 4 GiB, and
		 * small nodes keep hostile documents' memory in check. */
		struct {
			struct toml_value **items;
			uint32_t count;
			uint32_t capacity;
		} array;
		struct {
			struct toml_entry *entries;
			uint32_t count;
			uint32_t capacity;
			struct ga_map *index;	/* NULL while small */
		} table;
	} as;
};

/* A chunk of the arena; data follows the header. */
struct toml_arena_chunk {
	struct toml_arena_chunk *next;
	size_t size;
	size_t used;
};

struct toml_arena {
	struct toml_arena_chunk *chunks;	/* newest first */
};

struct toml_document {
	struct toml_arena arena;
	struct toml_value *root;
	/* Hash indexes of large tables: their slot arrays live on the heap. */
	struct ga_map **indexes;
	size_t index_count;
	size_t index_capacity;
};

/* toml_arena.c */
void toml_arena_init(struct toml_arena *arena);
void toml_arena_free(struct toml_arena *arena);
/* Zeroed, 8-byte aligned memory that lives as long as the arena. */
void *toml_arena_alloc(struct toml_arena *arena, size_t size);
/* Grow an array kept in the arena from old_count to new_count elements. */
void *toml_arena_grow(struct toml_arena *arena, void *old, size_t old_count,
		      size_t new_count, size_t element_size);
/* A NUL-terminated copy of len bytes. */
char *toml_arena_strndup(struct toml_arena *arena, const char *text, size_t len);

/* toml_value.c: building the tree. */
struct toml_document *toml_document_new(void);
struct toml_value *toml_value_new(struct toml_document *doc, enum toml_type type);
struct toml_value *toml_table_new(struct toml_document *doc, enum toml_table_kind kind);
/* The value of key in table, or NULL when absent. */
struct toml_value *toml_table_find(const struct toml_value *table, const char *key,
				   size_t key_len);
/* Add key -> value; the key must be absent and stay alive (arena). */
void toml_table_insert(struct toml_document *doc, struct toml_value *table,
		       const char *key, size_t key_len, struct toml_value *value);
void toml_array_append(struct toml_document *doc, struct toml_value *array,
		       struct toml_value *item);

/* The parser's state, shared by toml_parse.c and toml_lexer.c. */
struct toml_key_part {
	const char *text;	/* decoded, in the arena */
	size_t len;
	const char *source;	/* where the part starts in the input */
};

struct toml_parser {
	const char *input;	/* after a BOM: line 1, column 1 */
	const char *pos;
	const char *end;
	struct toml_document *doc;
	struct ga_err *err;
	struct ga_buf scratch;	/* decoding strings and floats */
	struct toml_key_part key[TOML_MAX_DEPTH];
	size_t key_count;
};

/* toml_lexer.c: scanning the pieces of a line. */

/* Record an error at position where (line and column computed from it). */
enum ga_rc toml_fail_at(struct toml_parser *parser, const char *where, enum ga_rc code,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "what, found X" with X describing the character at parser->pos. */
enum ga_rc toml_fail_unexpected(struct toml_parser *parser, const char *what);
/* Line and column (1-based, columns count characters) of where. */
void toml_position(const struct toml_parser *parser, const char *where, int *line,
		   int *column);

bool toml_at_newline(const struct toml_parser *parser);
void toml_skip_newline(struct toml_parser *parser);
void toml_skip_whitespace(struct toml_parser *parser);
/* At '#': check the comment's characters and stop before the newline. */
enum ga_rc toml_skip_comment(struct toml_parser *parser);
/* Whitespace, an optional comment, then a newline or the end of input. */
enum ga_rc toml_expect_line_end(struct toml_parser *parser, const char *after);
/* Whitespace, comments and newlines, as allowed inside arrays. */
enum ga_rc toml_skip_blank_lines(struct toml_parser *parser);

bool toml_is_bare_key_char(unsigned char c);
/* 0-15 for a hexadecimal digit, else -1. */
int toml_hex_value(unsigned char c);
/* Append to parser->scratch; GA_ELIMIT past TOML_MAX_INPUT. */
enum ga_rc toml_scratch_append(struct toml_parser *parser, const char *bytes, size_t len);
/* A quoted string at pos ("..." '...', and """...""" '''...''' when
 * multiline is allowed), decoded into the arena. */
enum ga_rc toml_scan_string(struct toml_parser *parser, bool multiline_allowed,
			    const char **text, size_t *len);
/* toml_scalar.c: an integer, float, boolean or date-time at pos into value. */
enum ga_rc toml_scan_scalar(struct toml_parser *parser, struct toml_value *value);

#endif
