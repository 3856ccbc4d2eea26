/* toml_parse.c - TOML structure: lines, keys, tables, arrays and the rules against redefinition. */
#include "toml/toml_internal.h"

#include <stdio.h>
#include <string.h>

/* Room for a key path in an error message. */
#define KEY_NAME_MAX 160

static enum ga_rc parse_value(struct toml_parser *parser, uint16_t depth,
			      struct toml_value **out);

/* Append piece to a message buffer; false (and "...") when it is full. */
static bool
name_append(char *buffer, size_t size, size_t *used, const char *piece)
{
	size_t len = strlen(piece);

	/* Invariant: used + 4 <= size, so "..." always fits. */
	if (*used + len + 4 > size) {
		memcpy(buffer + *used, "...", 4);
		return false;
	}
	memcpy(buffer + *used, piece, len + 1);
	*used += len;
	return true;
}

static bool
is_bare_key(const struct toml_key_part *part)
{
	for (size_t i = 0; i < part->len; i++) {
		if (!toml_is_bare_key_char((unsigned char)part->text[i]))
			return false;
	}
	return part->len > 0;
}

/*
 * The first count parts of the current key for a message, e.g. a.b.'c d':
 * quoted parts in single quotes with control characters escaped, cut with
 * "..." when long.
 */
static const char *
key_name(const struct toml_parser *parser, size_t count, char *buffer, size_t size)
{
	size_t used = 0;

	buffer[0] = '\0';
	for (size_t i = 0; i < count; i++) {
		const struct toml_key_part *part = &parser->key[i];
		const char *quote = is_bare_key(part) ? "" : "'";

		if ((i > 0 && !name_append(buffer, size, &used, ".")) ||
		    !name_append(buffer, size, &used, quote))
			return buffer;
		for (size_t j = 0; j < part->len; j++) {
			unsigned char c = (unsigned char)part->text[j];
			char piece[8];

			if (c < 0x20 || c == 0x7F)
				snprintf(piece, sizeof(piece), "\\u%04X", c);
			else if (c == '\'' || c == '\\')
				snprintf(piece, sizeof(piece), "\\%c", c);
			else
				snprintf(piece, sizeof(piece), "%c", c);
			if (!name_append(buffer, size, &used, piece))
				return buffer;
		}
		if (!name_append(buffer, size, &used, quote))
			return buffer;
	}
	return buffer;
}

/* "an integer", "a table" ... for messages about what a key already is. */
static const char *
type_phrase(const struct toml_value *value)
{
	switch (value->type) {
	case TOML_STRING:		return "a string";
	case TOML_INTEGER:		return "an integer";
	case TOML_FLOAT:		return "a float";
	case TOML_BOOLEAN:		return "a boolean";
	case TOML_OFFSET_DATETIME:	return "a date-time";
	case TOML_LOCAL_DATETIME:	return "a local date-time";
	case TOML_LOCAL_DATE:		return "a local date";
	case TOML_LOCAL_TIME:		return "a local time";
	case TOML_ARRAY:
		return value->array_of_tables ? "an array of tables" : "an array";
	case TOML_TABLE:
		return value->table_kind == TOML_TABLE_INLINE ? "an inline table" : "a table";
	}
	return "a value";
}

static enum ga_rc
check_depth(struct toml_parser *parser, unsigned depth, const char *where)
{
	if (depth > TOML_MAX_DEPTH)
		return toml_fail_at(parser, where, GA_ELIMIT,
				    "nesting deeper than %d levels", TOML_MAX_DEPTH);
	return GA_OK;
}

/* Add parent[part] = value; the key is copied into the document. */
static void
insert_entry(struct toml_parser *parser, struct toml_value *parent,
	     const struct toml_key_part *part, struct toml_value *value)
{
	const char *key = toml_arena_strndup(&parser->doc->arena, part->text, part->len);

	toml_table_insert(parser->doc, parent, key, part->len, value);
}

static enum ga_rc
add_table(struct toml_parser *parser, struct toml_value *parent,
	  const struct toml_key_part *part, enum toml_table_kind kind, struct toml_value **out)
{
	struct toml_value *table;
	enum ga_rc rc = check_depth(parser, parent->depth + 1u, part->source);

	if (rc != GA_OK)
		return rc;
	table = toml_table_new(parser->doc, kind);
	table->depth = (uint16_t)(parent->depth + 1);
	insert_entry(parser, parent, part, table);
	*out = table;
	return GA_OK;
}

/* A key, bare or quoted, possibly dotted, into parser->key. */
static enum ga_rc
parse_key(struct toml_parser *parser)
{
	parser->key_count = 0;
	for (;;) {
		struct toml_key_part *part;
		const char *start;
		enum ga_rc rc;

		toml_skip_whitespace(parser);
		start = parser->pos;
		if (parser->key_count == TOML_MAX_DEPTH)
			return toml_fail_at(parser, start, GA_ELIMIT,
					    "key has more than %d dotted parts", TOML_MAX_DEPTH);
		part = &parser->key[parser->key_count];
		part->source = start;
		if (start < parser->end && (*start == '"' || *start == '\'')) {
			rc = toml_scan_string(parser, false, &part->text, &part->len);
			if (rc != GA_OK)
				return rc;
		} else {
			while (parser->pos < parser->end &&
			       toml_is_bare_key_char((unsigned char)*parser->pos))
				parser->pos++;
			if (parser->pos == start)
				return toml_fail_unexpected(parser, "expected a key");
			/* Bare keys point into the input until inserted. */
			part->text = start;
			part->len = (size_t)(parser->pos - start);
		}
		parser->key_count++;
		toml_skip_whitespace(parser);
		if (parser->pos >= parser->end || *parser->pos != '.')
			return GA_OK;
		parser->pos++;
	}
}

/* ------------------------------------------------------------ [headers] */

/*
 * Step from *table into part index of a [header] path.  Headers may pass
 * through any table but an inline one, and into the last element of an
 * array of tables; missing tables are created as implicit.
 */
static enum ga_rc
header_descend(struct toml_parser *parser, struct toml_value **table, size_t index)
{
	const struct toml_key_part *part = &parser->key[index];
	struct toml_value *child = toml_table_find(*table, part->text, part->len);
	char name[KEY_NAME_MAX];

	if (child == NULL)
		return add_table(parser, *table, part, TOML_TABLE_IMPLICIT, table);
	if (child->type == TOML_TABLE && child->table_kind != TOML_TABLE_INLINE) {
		*table = child;
		return GA_OK;
	}
	if (child->type == TOML_ARRAY && child->array_of_tables) {
		*table = child->as.array.items[child->as.array.count - 1];
		return GA_OK;
	}
	return toml_fail_at(parser, part->source, GA_EPARSE,
			    "cannot add a table to %s: it is already defined as %s",
			    key_name(parser, index + 1, name, sizeof(name)), type_phrase(child));
}

/* [name]: define the table, which may only have been created implicitly. */
static enum ga_rc
define_table(struct toml_parser *parser, struct toml_value *parent, const char *header,
	     struct toml_value **current)
{
	const struct toml_key_part *part = &parser->key[parser->key_count - 1];
	struct toml_value *child = toml_table_find(parent, part->text, part->len);
	char name[KEY_NAME_MAX];

	if (child == NULL)
		return add_table(parser, parent, part, TOML_TABLE_HEADER, current);
	key_name(parser, parser->key_count, name, sizeof(name));
	if (child->type == TOML_TABLE && child->table_kind == TOML_TABLE_IMPLICIT) {
		child->table_kind = TOML_TABLE_HEADER;
		*current = child;
		return GA_OK;
	}
	if (child->type == TOML_TABLE && child->table_kind == TOML_TABLE_HEADER)
		return toml_fail_at(parser, header, GA_EPARSE,
				    "table [%s] is defined more than once", name);
	if (child->type == TOML_TABLE && child->table_kind == TOML_TABLE_DOTTED)
		return toml_fail_at(parser, header, GA_EPARSE,
				    "table [%s] was already defined by dotted keys", name);
	return toml_fail_at(parser, header, GA_EPARSE,
			    "cannot define table [%s]: it is already %s", name, type_phrase(child));
}

/* [[name]]: append a table to the array of tables, creating it if needed. */
static enum ga_rc
append_table(struct toml_parser *parser, struct toml_value *parent, const char *header,
	     struct toml_value **current)
{
	const struct toml_key_part *part = &parser->key[parser->key_count - 1];
	struct toml_value *array = toml_table_find(parent, part->text, part->len);
	struct toml_value *element;
	char name[KEY_NAME_MAX];
	enum ga_rc rc;

	if (array == NULL) {
		rc = check_depth(parser, parent->depth + 2u, part->source);
		if (rc != GA_OK)
			return rc;
		array = toml_value_new(parser->doc, TOML_ARRAY);
		array->array_of_tables = true;
		array->depth = (uint16_t)(parent->depth + 1);
		insert_entry(parser, parent, part, array);
	} else if (array->type != TOML_ARRAY || !array->array_of_tables) {
		return toml_fail_at(parser, header, GA_EPARSE,
				    "cannot define array of tables [[%s]]: it is already %s",
				    key_name(parser, parser->key_count, name, sizeof(name)),
				    array->type == TOML_ARRAY ? "a static array" : type_phrase(array));
	}
	element = toml_table_new(parser->doc, TOML_TABLE_ARRAY_ELEMENT);
	element->depth = (uint16_t)(array->depth + 1);
	toml_array_append(parser->doc, array, element);
	*current = element;
	return GA_OK;
}

/* [table] or [[array of tables]]; *current becomes the table it opens. */
static enum ga_rc
parse_table_header(struct toml_parser *parser, struct toml_value **current)
{
	const char *header = parser->pos;
	bool is_array = parser->end - header >= 2 && header[1] == '[';
	struct toml_value *table = parser->doc->root;
	enum ga_rc rc;

	parser->pos += is_array ? 2 : 1;
	rc = parse_key(parser);
	if (rc != GA_OK)
		return rc;
	if (parser->pos >= parser->end || *parser->pos != ']')
		return toml_fail_unexpected(parser, is_array ? "expected ']]' after the name of "
							       "an array of tables"
							     : "expected ']' after the table name");
	parser->pos++;
	if (is_array) {
		if (parser->pos >= parser->end || *parser->pos != ']')
			return toml_fail_unexpected(parser, "expected ']]' after the name of "
							    "an array of tables");
		parser->pos++;
	}
	for (size_t i = 0; i + 1 < parser->key_count; i++) {
		rc = header_descend(parser, &table, i);
		if (rc != GA_OK)
			return rc;
	}
	rc = is_array ? append_table(parser, table, header, current)
		      : define_table(parser, table, header, current);
	if (rc != GA_OK)
		return rc;
	return toml_expect_line_end(parser, is_array ? "the array of tables header"
						     : "the table header");
}

/* ------------------------------------------------------------ key = value */

/*
 * Step from *table into part index of a dotted key.  Dotted keys create and
 * extend their own tables (and implicit ones, which they then own), but may
 * not add to a table defined by a [header] or to an inline table.
 */
static enum ga_rc
dotted_descend(struct toml_parser *parser, struct toml_value **table, size_t index)
{
	const struct toml_key_part *part = &parser->key[index];
	struct toml_value *child = toml_table_find(*table, part->text, part->len);
	char name[KEY_NAME_MAX];

	if (child == NULL)
		return add_table(parser, *table, part, TOML_TABLE_DOTTED, table);
	if (child->type == TOML_TABLE && (child->table_kind == TOML_TABLE_DOTTED ||
					  child->table_kind == TOML_TABLE_IMPLICIT)) {
		child->table_kind = TOML_TABLE_DOTTED;
		*table = child;
		return GA_OK;
	}
	key_name(parser, index + 1, name, sizeof(name));
	if (child->type == TOML_TABLE && child->table_kind == TOML_TABLE_INLINE)
		return toml_fail_at(parser, part->source, GA_EPARSE,
				    "cannot add keys to inline table %s", name);
	if (child->type == TOML_TABLE)
		return toml_fail_at(parser, part->source, GA_EPARSE,
				    "cannot add keys to table [%s] with a dotted key outside its "
				    "[header]", name);
	return toml_fail_at(parser, part->source, GA_EPARSE,
			    "key %s is already defined as %s", name, type_phrase(child));
}

/* key = value into table (the current [table] or an inline table). */
static enum ga_rc
parse_key_value(struct toml_parser *parser, struct toml_value *table)
{
	struct toml_key_part last;
	struct toml_value *value;
	char name[KEY_NAME_MAX];
	enum ga_rc rc = parse_key(parser);

	if (rc != GA_OK)
		return rc;
	for (size_t i = 0; i + 1 < parser->key_count; i++) {
		rc = dotted_descend(parser, &table, i);
		if (rc != GA_OK)
			return rc;
	}
	/* Copied: parsing the value reuses parser->key for nested keys. */
	last = parser->key[parser->key_count - 1];
	if (toml_table_find(table, last.text, last.len) != NULL)
		return toml_fail_at(parser, parser->key[0].source, GA_EPARSE,
				    "duplicate key \"%s\"",
				    key_name(parser, parser->key_count, name, sizeof(name)));
	if (parser->pos >= parser->end || *parser->pos != '=')
		return toml_fail_unexpected(parser, "expected '=' after key");
	parser->pos++;
	toml_skip_whitespace(parser);
	rc = parse_value(parser, (uint16_t)(table->depth + 1), &value);
	if (rc != GA_OK)
		return rc;
	insert_entry(parser, table, &last, value);
	return GA_OK;
}

/* ------------------------------------------------------------ values */

/* [ value, value, ] with newlines and comments allowed between values. */
static enum ga_rc
parse_array(struct toml_parser *parser, uint16_t depth, struct toml_value **out)
{
	struct toml_value *array;
	enum ga_rc rc = check_depth(parser, depth, parser->pos);

	if (rc != GA_OK)
		return rc;
	array = toml_value_new(parser->doc, TOML_ARRAY);
	array->depth = depth;
	*out = array;
	parser->pos++;
	for (;;) {
		struct toml_value *item;

		rc = toml_skip_blank_lines(parser);
		if (rc != GA_OK)
			return rc;
		if (parser->pos < parser->end && *parser->pos == ']')
			break;
		rc = parse_value(parser, (uint16_t)(depth + 1), &item);
		if (rc != GA_OK)
			return rc;
		toml_array_append(parser->doc, array, item);
		rc = toml_skip_blank_lines(parser);
		if (rc != GA_OK)
			return rc;
		if (parser->pos < parser->end && *parser->pos == ',') {
			parser->pos++;
			continue;
		}
		if (parser->pos < parser->end && *parser->pos == ']')
			break;
		return toml_fail_unexpected(parser, "expected ',' or ']' in array");
	}
	parser->pos++;
	return GA_OK;
}

/* { key = value, ... } on one line, no trailing comma; immutable afterwards. */
static enum ga_rc
parse_inline_table(struct toml_parser *parser, uint16_t depth, struct toml_value **out)
{
	struct toml_value *table;
	enum ga_rc rc = check_depth(parser, depth, parser->pos);

	if (rc != GA_OK)
		return rc;
	table = toml_table_new(parser->doc, TOML_TABLE_INLINE);
	table->depth = depth;
	*out = table;
	parser->pos++;
	toml_skip_whitespace(parser);
	if (parser->pos < parser->end && *parser->pos == '}') {
		parser->pos++;
		return GA_OK;
	}
	for (;;) {
		rc = parse_key_value(parser, table);
		if (rc != GA_OK)
			return rc;
		toml_skip_whitespace(parser);
		if (parser->pos < parser->end && *parser->pos == ',') {
			parser->pos++;
			toml_skip_whitespace(parser);
			if (parser->pos < parser->end && *parser->pos == '}')
				return toml_fail_at(parser, parser->pos, GA_EPARSE,
						    "trailing comma in inline table");
			continue;
		}
		if (parser->pos < parser->end && *parser->pos == '}') {
			parser->pos++;
			return GA_OK;
		}
		return toml_fail_unexpected(parser, "expected ',' or '}' in inline table "
						    "(inline tables are one line)");
	}
}

/*
 * Any value.  Recursion through arrays and inline tables is bounded: each
 * level adds one to depth, and check_depth stops at TOML_MAX_DEPTH.
 */
static enum ga_rc
parse_value(struct toml_parser *parser, uint16_t depth, struct toml_value **out)
{
	struct toml_value *value;

	if (parser->pos >= parser->end)
		return toml_fail_unexpected(parser, "expected a value");
	switch (*parser->pos) {
	case '[':
		return parse_array(parser, depth, out);
	case '{':
		return parse_inline_table(parser, depth, out);
	case '"':
	case '\'':
		value = toml_value_new(parser->doc, TOML_STRING);
		*out = value;
		return toml_scan_string(parser, true, &value->as.string.text,
					&value->as.string.len);
	default:
		value = toml_value_new(parser->doc, TOML_STRING);
		*out = value;
		return toml_scan_scalar(parser, value);
	}
}

/* ------------------------------------------------------------ document */

static enum ga_rc
parse_document(struct toml_parser *parser)
{
	struct toml_value *current = parser->doc->root;
	enum ga_rc rc;

	for (;;) {
		toml_skip_whitespace(parser);
		if (parser->pos >= parser->end)
			return GA_OK;
		if (*parser->pos == '#') {
			rc = toml_expect_line_end(parser, "a comment");
		} else if (toml_at_newline(parser)) {
			toml_skip_newline(parser);
			rc = GA_OK;
		} else if (*parser->pos == '[') {
			rc = parse_table_header(parser, &current);
		} else {
			rc = parse_key_value(parser, current);
			if (rc == GA_OK)
				rc = toml_expect_line_end(parser, "a value");
		}
		if (rc != GA_OK)
			return rc;
	}
}

enum ga_rc
toml_parse(const char *text, size_t len, struct toml_document **out, struct ga_err *err)
{
	struct toml_parser parser;
	enum ga_rc rc;

	*out = NULL;
	if (len > TOML_MAX_INPUT)
		return ga_err_set(err, GA_ELIMIT, "TOML input of %zu bytes exceeds the limit of %u",
				  len, TOML_MAX_INPUT);
	memset(&parser, 0, sizeof(parser));
	if (text == NULL || len == 0) {
		parser.input = "";
		parser.end = parser.input;
	} else {
		parser.input = text;
		parser.end = text + len;
		/* A byte order mark is allowed at the very start only. */
		if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
			parser.input += 3;
	}
	parser.pos = parser.input;
	parser.err = err;
	parser.doc = toml_document_new();
	ga_buf_init(&parser.scratch, TOML_MAX_INPUT);
	rc = parse_document(&parser);
	ga_buf_free(&parser.scratch);
	if (rc != GA_OK) {
		toml_document_free(parser.doc);
		return rc;
	}
	*out = parser.doc;
	return GA_OK;
}
