/* toml_lexer.c - scanning TOML's pieces: whitespace, comments, quoted strings; error positions. */
#include "toml/toml_internal.h"

#include <stdarg.h>
#include <stdio.h>

/* ---------------------------------------------------------------- errors */

void
toml_position(const struct toml_parser *parser, const char *where, int *line, int *column)
{
	int current_line = 1;
	int current_column = 1;

	/* Only run when reporting an error, so a linear scan is fine. */
	for (const char *p = parser->input; p < where && p < parser->end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\n') {
			current_line++;
			current_column = 1;
		} else if ((c & 0xC0) != 0x80) {
			/* Columns count characters, not UTF-8 continuation bytes. */
			current_column++;
		}
	}
	*line = current_line;
	*column = current_column;
}

enum ga_rc
toml_fail_at(struct toml_parser *parser, const char *where, enum ga_rc code,
	     const char *fmt, ...)
{
	char message[GA_ERR_MESSAGE_MAX];
	va_list ap;
	int line;
	int column;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	toml_position(parser, where, &line, &column);
	return ga_err_set_at(parser->err, code, line, column, "%s", message);
}

/*
 * The length of the valid UTF-8 sequence at p (1 to 4), or 0 when it is not
 * one: overlong forms, surrogates and code points above U+10FFFF are refused.
 */
static size_t
utf8_sequence_length(const unsigned char *p, const unsigned char *end)
{
	unsigned char lead = p[0];
	unsigned char second_min = 0x80;
	unsigned char second_max = 0xBF;
	size_t length;

	if (lead < 0x80)
		return 1;
	if (lead < 0xC2)
		return 0;
	if (lead < 0xE0) {
		length = 2;
	} else if (lead < 0xF0) {
		length = 3;
		if (lead == 0xE0)
			second_min = 0xA0;	/* overlong */
		else if (lead == 0xED)
			second_max = 0x9F;	/* surrogates */
	} else if (lead < 0xF5) {
		length = 4;
		if (lead == 0xF0)
			second_min = 0x90;	/* overlong */
		else if (lead == 0xF4)
			second_max = 0x8F;	/* above U+10FFFF */
	} else {
		return 0;
	}
	if ((size_t)(end - p) < length)
		return 0;
	if (p[1] < second_min || p[1] > second_max)
		return 0;
	for (size_t i = 2; i < length; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	}
	return length;
}

static bool
is_control(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7F;
}

/* What is at p, for messages: "'x'", "end of line", "end of input" ... */
static const char *
describe(const struct toml_parser *parser, const char *p, char *buffer, size_t size)
{
	unsigned char c;
	size_t length;

	if (p >= parser->end)
		return "end of input";
	c = (unsigned char)*p;
	if (c == '\n' || (c == '\r' && p + 1 < parser->end && p[1] == '\n'))
		return "end of line";
	if (c == '\r')
		return "a carriage return not followed by a newline";
	if (is_control(c)) {
		snprintf(buffer, size, "control character U+%04X", c);
		return buffer;
	}
	if (c < 0x80) {
		snprintf(buffer, size, "'%c'", c);
		return buffer;
	}
	length = utf8_sequence_length((const unsigned char *)p,
				      (const unsigned char *)parser->end);
	if (length == 0) {
		snprintf(buffer, size, "invalid UTF-8 byte 0x%02X", c);
		return buffer;
	}
	snprintf(buffer, size, "'%.*s'", (int)length, p);
	return buffer;
}

enum ga_rc
toml_fail_unexpected(struct toml_parser *parser, const char *what)
{
	char buffer[48];

	return toml_fail_at(parser, parser->pos, GA_EPARSE, "%s, found %s", what,
			    describe(parser, parser->pos, buffer, sizeof(buffer)));
}

/* ------------------------------------------------- whitespace and comments */

bool
toml_at_newline(const struct toml_parser *parser)
{
	const char *p = parser->pos;

	if (p >= parser->end)
		return false;
	return *p == '\n' || (*p == '\r' && p + 1 < parser->end && p[1] == '\n');
}

void
toml_skip_newline(struct toml_parser *parser)
{
	parser->pos += *parser->pos == '\r' ? 2 : 1;
}

void
toml_skip_whitespace(struct toml_parser *parser)
{
	while (parser->pos < parser->end && (*parser->pos == ' ' || *parser->pos == '\t'))
		parser->pos++;
}

enum ga_rc
toml_skip_comment(struct toml_parser *parser)
{
	const unsigned char *p = (const unsigned char *)parser->pos + 1;
	const unsigned char *end = (const unsigned char *)parser->end;

	while (p < end && *p != '\n') {
		size_t length;

		if (*p == '\r' && p + 1 < end && p[1] == '\n')
			break;
		if (is_control(*p))
			return toml_fail_at(parser, (const char *)p, GA_EPARSE,
					    "control character U+%04X in comment", *p);
		length = utf8_sequence_length(p, end);
		if (length == 0)
			return toml_fail_at(parser, (const char *)p, GA_EPARSE,
					    "invalid UTF-8 in comment");
		p += length;
	}
	parser->pos = (const char *)p;
	return GA_OK;
}

enum ga_rc
toml_expect_line_end(struct toml_parser *parser, const char *after)
{
	char what[64];
	enum ga_rc rc;

	toml_skip_whitespace(parser);
	if (parser->pos < parser->end && *parser->pos == '#') {
		rc = toml_skip_comment(parser);
		if (rc != GA_OK)
			return rc;
	}
	if (parser->pos >= parser->end)
		return GA_OK;
	if (toml_at_newline(parser)) {
		toml_skip_newline(parser);
		return GA_OK;
	}
	snprintf(what, sizeof(what), "expected end of line after %s", after);
	return toml_fail_unexpected(parser, what);
}

enum ga_rc
toml_skip_blank_lines(struct toml_parser *parser)
{
	for (;;) {
		enum ga_rc rc;

		toml_skip_whitespace(parser);
		if (parser->pos >= parser->end)
			return GA_OK;
		if (*parser->pos == '#') {
			rc = toml_skip_comment(parser);
			if (rc != GA_OK)
				return rc;
		} else if (toml_at_newline(parser)) {
			toml_skip_newline(parser);
		} else {
			return GA_OK;
		}
	}
}

bool
toml_is_bare_key_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* ---------------------------------------------------------------- strings */

enum ga_rc
toml_scratch_append(struct toml_parser *parser, const char *bytes, size_t len)
{
	if (!ga_buf_append(&parser->scratch, bytes, len))
		return toml_fail_at(parser, parser->pos, GA_ELIMIT, "string too long");
	return GA_OK;
}

static size_t
utf8_encode(uint32_t code_point, char out[4])
{
	if (code_point < 0x80) {
		out[0] = (char)code_point;
		return 1;
	}
	if (code_point < 0x800) {
		out[0] = (char)(0xC0 | (code_point >> 6));
		out[1] = (char)(0x80 | (code_point & 0x3F));
		return 2;
	}
	if (code_point < 0x10000) {
		out[0] = (char)(0xE0 | (code_point >> 12));
		out[1] = (char)(0x80 | ((code_point >> 6) & 0x3F));
		out[2] = (char)(0x80 | (code_point & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (code_point >> 18));
	out[1] = (char)(0x80 | ((code_point >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((code_point >> 6) & 0x3F));
	out[3] = (char)(0x80 | (code_point & 0x3F));
	return 4;
}

int
toml_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* \uXXXX or \UXXXXXXXX with parser->pos on the 'u' or 'U'. */
static enum ga_rc
scan_unicode_escape(struct toml_parser *parser, const char *escape)
{
	size_t digits = *parser->pos == 'u' ? 4 : 8;
	uint32_t code_point = 0;
	char utf8[4];

	parser->pos++;
	for (size_t i = 0; i < digits; i++) {
		int value = parser->pos < parser->end ? toml_hex_value((unsigned char)*parser->pos) : -1;

		if (value < 0)
			return toml_fail_at(parser, escape, GA_EPARSE,
					    "\\%c escape needs %zu hexadecimal digits",
					    digits == 4 ? 'u' : 'U', digits);
		code_point = code_point * 16 + (uint32_t)value;
		parser->pos++;
	}
	if (code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF))
		return toml_fail_at(parser, escape, GA_EPARSE,
				    "escape \\%.*s is not a Unicode scalar value",
				    (int)(parser->pos - escape - 1), escape + 1);
	return toml_scratch_append(parser, utf8, utf8_encode(code_point, utf8));
}

/*
 * In a multi-line basic string, a backslash that ends a line removes it and
 * all whitespace and newlines that follow.  parser->pos is after the '\'.
 * Returns false (consuming nothing) when this is not such a backslash.
 */
static bool
skip_line_ending_backslash(struct toml_parser *parser)
{
	const char *after = parser->pos;

	toml_skip_whitespace(parser);
	if (!toml_at_newline(parser)) {
		parser->pos = after;
		return false;
	}
	for (;;) {
		toml_skip_whitespace(parser);
		if (!toml_at_newline(parser))
			return true;
		toml_skip_newline(parser);
	}
}

/* An escape sequence; parser->pos is on the backslash. */
static enum ga_rc
scan_escape(struct toml_parser *parser, bool multiline)
{
	const char *escape = parser->pos;
	const char *replacement;

	parser->pos++;
	if (parser->pos >= parser->end)
		return toml_fail_at(parser, escape, GA_EPARSE, "unterminated string");
	switch (*parser->pos) {
	case 'b':	replacement = "\b"; break;
	case 't':	replacement = "\t"; break;
	case 'n':	replacement = "\n"; break;
	case 'f':	replacement = "\f"; break;
	case 'r':	replacement = "\r"; break;
	case '"':	replacement = "\""; break;
	case '\\':	replacement = "\\"; break;
	case 'u':
	case 'U':
		return scan_unicode_escape(parser, escape);
	default:
		if (multiline && skip_line_ending_backslash(parser))
			return GA_OK;
		if ((unsigned char)*parser->pos >= 0x20 && (unsigned char)*parser->pos < 0x7F)
			return toml_fail_at(parser, escape, GA_EPARSE,
					    "invalid escape sequence '\\%c'", *parser->pos);
		return toml_fail_at(parser, escape, GA_EPARSE, "invalid escape sequence");
	}
	parser->pos++;
	return toml_scratch_append(parser, replacement, 1);
}

/*
 * One character of string content that needs no decoding: reject control
 * characters and invalid UTF-8.  Returns its length, 0 after an error.
 */
static size_t
check_content_character(struct toml_parser *parser, enum ga_rc *rc)
{
	const unsigned char *p = (const unsigned char *)parser->pos;
	size_t length;

	if (is_control(*p)) {
		*rc = toml_fail_at(parser, parser->pos, GA_EPARSE,
				   "control character U+%04X in string", *p);
		return 0;
	}
	length = utf8_sequence_length(p, (const unsigned char *)parser->end);
	if (length == 0)
		*rc = toml_fail_at(parser, parser->pos, GA_EPARSE, "invalid UTF-8 in string");
	return length;
}

/*
 * At a run of closing quotes of a multi-line string: up to two extra quotes
 * before the closing three belong to the content.  Sets *closed.
 */
static enum ga_rc
scan_multiline_quotes(struct toml_parser *parser, char quote, bool *closed)
{
	size_t run = 0;

	while (parser->pos + run < parser->end && parser->pos[run] == quote)
		run++;
	*closed = run >= 3;
	if (run > 5)
		return toml_fail_at(parser, parser->pos + 5, GA_EPARSE,
				    "too many quotes at the end of a multi-line string");
	if (*closed)
		run -= 3;
	for (size_t i = 0; i < run; i++) {
		enum ga_rc rc = toml_scratch_append(parser, &quote, 1);

		if (rc != GA_OK)
			return rc;
	}
	parser->pos += *closed ? run + 3 : run;
	return GA_OK;
}

/*
 * The body of any of the four string forms, after the opening quotes, up to
 * and including the closing quotes.  Plain runs are copied in one go.
 */
static enum ga_rc
scan_string_body(struct toml_parser *parser, const char *start, char quote, bool multiline)
{
	bool escapes = quote == '"';
	enum ga_rc rc = GA_OK;

	for (;;) {
		const char *run = parser->pos;
		bool closed = false;
		size_t length;

		while (parser->pos < parser->end) {
			unsigned char c = (unsigned char)*parser->pos;

			if (c == (unsigned char)quote || (escapes && c == '\\') || c == '\n' ||
			    c == '\r')
				break;
			length = check_content_character(parser, &rc);
			if (length == 0)
				return rc;
			parser->pos += length;
		}
		rc = toml_scratch_append(parser, run, (size_t)(parser->pos - run));
		if (rc != GA_OK)
			return rc;
		if (parser->pos >= parser->end)
			return toml_fail_at(parser, start, GA_EPARSE, "unterminated string");
		if (*parser->pos == quote) {
			if (!multiline) {
				parser->pos++;
				return GA_OK;
			}
			rc = scan_multiline_quotes(parser, quote, &closed);
			if (rc != GA_OK || closed)
				return rc;
		} else if (*parser->pos == '\\') {
			rc = scan_escape(parser, multiline);
			if (rc != GA_OK)
				return rc;
		} else if (multiline && toml_at_newline(parser)) {
			/* CRLF inside a string is read as LF. */
			toml_skip_newline(parser);
			rc = toml_scratch_append(parser, "\n", 1);
			if (rc != GA_OK)
				return rc;
		} else if (*parser->pos == '\r' && !toml_at_newline(parser)) {
			return toml_fail_at(parser, parser->pos, GA_EPARSE,
					    "control character U+000D in string");
		} else {
			return toml_fail_at(parser, start, GA_EPARSE,
					    "unterminated string (newline before the closing quote)");
		}
	}
}

enum ga_rc
toml_scan_string(struct toml_parser *parser, bool multiline_allowed, const char **text,
		 size_t *len)
{
	const char *start = parser->pos;
	char quote = *start;
	bool multiline = multiline_allowed && parser->end - start >= 3 && start[1] == quote &&
			 start[2] == quote;
	enum ga_rc rc;

	ga_buf_reset(&parser->scratch);
	parser->pos += multiline ? 3 : 1;
	/* A newline right after the opening quotes is not part of the string. */
	if (multiline && toml_at_newline(parser))
		toml_skip_newline(parser);
	rc = scan_string_body(parser, start, quote, multiline);
	if (rc != GA_OK)
		return rc;
	*len = parser->scratch.len;
	*text = toml_arena_strndup(&parser->doc->arena, ga_buf_cstr(&parser->scratch), *len);
	return GA_OK;
}
