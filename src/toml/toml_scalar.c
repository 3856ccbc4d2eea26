/* toml_scalar.c - scanning TOML's unquoted values: integers, floats, booleans, date-times. */
#include "toml/toml_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- numbers */

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Characters that continue a number, boolean or date-time token. */
static bool
is_token_char(char c)
{
	return toml_is_bare_key_char((unsigned char)c) || c == '+' || c == '.';
}

static bool
is_base_digit(char c, int base)
{
	int value = toml_hex_value((unsigned char)c);

	return value >= 0 && value < base;
}

/*
 * Digits of a base, with single underscores only between digits.  Returns
 * NULL and advances *i past them, or an explanation.
 */
static const char *
scan_digits(const char *token, size_t len, size_t *i, int base)
{
	if (*i >= len || !is_base_digit(token[*i], base))
		return *i < len && token[*i] == '_' ? "underscores are only allowed between digits"
						    : "digits expected";
	while (*i < len) {
		if (is_base_digit(token[*i], base)) {
			(*i)++;
		} else if (token[*i] == '_') {
			if (*i + 1 >= len || !is_base_digit(token[*i + 1], base))
				return "underscores are only allowed between digits";
			(*i)++;
		} else {
			break;
		}
	}
	return NULL;
}

/* The value of digits (underscores skipped); false when it exceeds limit. */
static bool
digits_value(const char *digits, size_t len, int base, uint64_t limit, uint64_t *value)
{
	uint64_t result = 0;

	for (size_t i = 0; i < len; i++) {
		uint64_t digit;

		if (digits[i] == '_')
			continue;
		digit = (uint64_t)toml_hex_value((unsigned char)digits[i]);
		if (result > (limit - digit) / (uint64_t)base)
			return false;
		result = result * (uint64_t)base + digit;
	}
	*value = result;
	return true;
}

static enum ga_rc
fail_number(struct toml_parser *parser, const char *token, size_t len, const char *why)
{
	return toml_fail_at(parser, token, GA_EPARSE, "invalid number '%.*s': %s",
			    len > 40 ? 40 : (int)len, token, why);
}

/* 0x.., 0o.., 0b..: non-negative, leading zeros allowed after the prefix. */
static enum ga_rc
scan_prefixed_integer(struct toml_parser *parser, const char *token, size_t len,
		      struct toml_value *value)
{
	int base = token[1] == 'x' ? 16 : token[1] == 'o' ? 8 : 2;
	size_t i = 2;
	const char *why = scan_digits(token, len, &i, base);
	uint64_t magnitude;

	if (why != NULL)
		return fail_number(parser, token, len, why);
	if (i != len)
		return fail_number(parser, token, len, "not a digit of its base");
	if (!digits_value(token + 2, len - 2, base, INT64_MAX, &magnitude))
		return fail_number(parser, token, len, "does not fit in 64 bits");
	value->type = TOML_INTEGER;
	value->as.integer = (int64_t)magnitude;
	return GA_OK;
}

static enum ga_rc
make_float(struct toml_parser *parser, const char *token, size_t len,
	   struct toml_value *value)
{
	char *end;
	double number;

	/* strtod does not know underscores: copy the token without them. */
	ga_buf_reset(&parser->scratch);
	for (size_t i = 0; i < len; i++) {
		if (token[i] != '_' && !ga_buf_append_char(&parser->scratch, token[i]))
			return fail_number(parser, token, len, "too long");
	}
	errno = 0;
	number = strtod(ga_buf_cstr(&parser->scratch), &end);
	if (*end != '\0')
		return fail_number(parser, token, len, "not a float");
	if (errno == ERANGE && (number > 1.0 || number < -1.0))
		return fail_number(parser, token, len, "out of range of a 64-bit float");
	value->type = TOML_FLOAT;
	value->as.floating = number;
	return GA_OK;
}

static enum ga_rc
scan_number(struct toml_parser *parser, const char *token, size_t len,
	    struct toml_value *value)
{
	size_t i = 0;
	bool negative = false;
	bool is_float = false;
	const char *why;
	size_t integer_start;
	uint64_t magnitude;

	if (token[0] == '+' || token[0] == '-') {
		negative = token[0] == '-';
		i++;
	}
	if (len - i == 3 && (memcmp(token + i, "inf", 3) == 0 || memcmp(token + i, "nan", 3) == 0)) {
		value->type = TOML_FLOAT;
		value->as.floating = token[i] == 'i' ? (double)INFINITY : (double)NAN;
		if (negative)
			value->as.floating = -value->as.floating;
		return GA_OK;
	}
	if (i == 0 && len > 1 && token[0] == '0' && (token[1] == 'x' || token[1] == 'o' ||
						     token[1] == 'b'))
		return scan_prefixed_integer(parser, token, len, value);
	integer_start = i;
	why = scan_digits(token, len, &i, 10);
	if (why != NULL)
		return fail_number(parser, token, len, why);
	if (token[integer_start] == '0' && i - integer_start > 1)
		return fail_number(parser, token, len, "leading zeros are not allowed");
	if (i < len && token[i] == '.') {
		i++;
		is_float = true;
		why = scan_digits(token, len, &i, 10);
		if (why != NULL)
			return fail_number(parser, token, len, "digits expected after '.'");
	}
	if (i < len && (token[i] == 'e' || token[i] == 'E')) {
		i++;
		is_float = true;
		if (i < len && (token[i] == '+' || token[i] == '-'))
			i++;
		why = scan_digits(token, len, &i, 10);
		if (why != NULL)
			return fail_number(parser, token, len, why);
	}
	if (i != len)
		return fail_number(parser, token, len, "unexpected character");
	if (is_float)
		return make_float(parser, token, len, value);
	if (!digits_value(token + integer_start, len - integer_start, 10,
			  negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &magnitude))
		return fail_number(parser, token, len, "does not fit in 64 bits");
	value->type = TOML_INTEGER;
	/* Negate in unsigned arithmetic: -(2^63) has no positive int64_t. */
	value->as.integer = negative ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
	return GA_OK;
}

/* ------------------------------------------------------------- date-times */

/* The character offset bytes after p, or NUL past the end of input. */
static char
char_at(const struct toml_parser *parser, const char *p, size_t offset)
{
	return (size_t)(parser->end - p) > offset ? p[offset] : '\0';
}

/* count digits offset bytes after p as a number; -1 when they are not. */
static int
digits_at(const struct toml_parser *parser, const char *p, size_t offset, int count)
{
	int value = 0;

	if ((size_t)(parser->end - p) < offset + (size_t)count)
		return -1;
	for (int i = 0; i < count; i++) {
		char c = p[offset + (size_t)i];

		if (!is_digit(c))
			return -1;
		value = value * 10 + (c - '0');
	}
	return value;
}

static bool
is_leap_year(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int
days_in_month(int year, int month)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (month == 2 && is_leap_year(year))
		return 29;
	return days[month - 1];
}

/* YYYY-MM-DD at parser->pos. */
static enum ga_rc
scan_date(struct toml_parser *parser)
{
	const char *p = parser->pos;
	int year = digits_at(parser, p, 0, 4);
	int month = digits_at(parser, p, 5, 2);
	int day = digits_at(parser, p, 8, 2);

	if (year < 0 || char_at(parser, p, 4) != '-' || month < 0 ||
	    char_at(parser, p, 7) != '-' || day < 0)
		return toml_fail_at(parser, p, GA_EPARSE,
				    "invalid date: expected YYYY-MM-DD");
	if (month < 1 || month > 12)
		return toml_fail_at(parser, p + 5, GA_EPARSE, "invalid date: month %02d", month);
	if (day < 1 || day > days_in_month(year, month))
		return toml_fail_at(parser, p + 8, GA_EPARSE,
				    "invalid date: %04d-%02d has no day %02d", year, month, day);
	parser->pos = p + 10;
	return GA_OK;
}

/* HH:MM:SS with optional fraction at parser->pos. */
static enum ga_rc
scan_time(struct toml_parser *parser)
{
	const char *p = parser->pos;
	int hour = digits_at(parser, p, 0, 2);
	int minute = digits_at(parser, p, 3, 2);
	int second = digits_at(parser, p, 6, 2);

	if (hour < 0 || char_at(parser, p, 2) != ':' || minute < 0 ||
	    char_at(parser, p, 5) != ':' || second < 0)
		return toml_fail_at(parser, p, GA_EPARSE,
				    "invalid time: expected HH:MM:SS");
	if (hour > 23)
		return toml_fail_at(parser, p, GA_EPARSE, "invalid time: hour %02d", hour);
	if (minute > 59)
		return toml_fail_at(parser, p + 3, GA_EPARSE, "invalid time: minute %02d", minute);
	/* 60 is a leap second. */
	if (second > 60)
		return toml_fail_at(parser, p + 6, GA_EPARSE, "invalid time: second %02d", second);
	p += 8;
	if (p < parser->end && *p == '.') {
		p++;
		if (p >= parser->end || !is_digit(*p))
			return toml_fail_at(parser, p, GA_EPARSE,
					    "invalid time: digits expected after '.'");
		while (p < parser->end && is_digit(*p))
			p++;
	}
	parser->pos = p;
	return GA_OK;
}

/* Z or +HH:MM / -HH:MM at parser->pos. */
static enum ga_rc
scan_offset(struct toml_parser *parser)
{
	const char *p = parser->pos;
	int hour;
	int minute;

	if (*p == 'Z' || *p == 'z') {
		parser->pos++;
		return GA_OK;
	}
	hour = digits_at(parser, p, 1, 2);
	minute = digits_at(parser, p, 4, 2);
	if (hour < 0 || char_at(parser, p, 3) != ':' || minute < 0)
		return toml_fail_at(parser, p, GA_EPARSE,
				    "invalid time offset: expected Z or %cHH:MM", *p);
	if (hour > 23 || minute > 59)
		return toml_fail_at(parser, p, GA_EPARSE, "invalid time offset %.6s", p);
	parser->pos = p + 6;
	return GA_OK;
}

/* Does a time start at p: two digits and a colon? */
static bool
time_starts_at(const struct toml_parser *parser, const char *p)
{
	return parser->end - p >= 3 && is_digit(p[0]) && is_digit(p[1]) && p[2] == ':';
}

static bool
date_starts_at(const struct toml_parser *parser, const char *p)
{
	return parser->end - p >= 5 && is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2]) &&
	       is_digit(p[3]) && p[4] == '-';
}

/* Append text to the scratch buffer, upper-casing a t or z separator. */
static enum ga_rc
append_datetime_part(struct toml_parser *parser, const char *from, const char *to)
{
	for (const char *p = from; p < to; p++) {
		char c = *p == 't' || *p == ' ' ? 'T' : *p == 'z' ? 'Z' : *p;
		enum ga_rc rc = toml_scratch_append(parser, &c, 1);

		if (rc != GA_OK)
			return rc;
	}
	return GA_OK;
}

static enum ga_rc
scan_datetime(struct toml_parser *parser, struct toml_value *value)
{
	const char *start = parser->pos;
	enum ga_rc rc;

	if (time_starts_at(parser, start)) {
		rc = scan_time(parser);
		value->type = TOML_LOCAL_TIME;
	} else {
		rc = scan_date(parser);
		value->type = TOML_LOCAL_DATE;
		if (rc == GA_OK && parser->pos < parser->end &&
		    (*parser->pos == 'T' || *parser->pos == 't' ||
		     (*parser->pos == ' ' && time_starts_at(parser, parser->pos + 1)))) {
			parser->pos++;
			rc = scan_time(parser);
			value->type = TOML_LOCAL_DATETIME;
			if (rc == GA_OK && parser->pos < parser->end &&
			    (*parser->pos == 'Z' || *parser->pos == 'z' || *parser->pos == '+' ||
			     *parser->pos == '-')) {
				rc = scan_offset(parser);
				value->type = TOML_OFFSET_DATETIME;
			}
		}
	}
	if (rc != GA_OK)
		return rc;
	if (parser->pos < parser->end && (is_token_char(*parser->pos) || *parser->pos == ':'))
		return toml_fail_at(parser, parser->pos, GA_EPARSE,
				    "invalid date-time: unexpected '%c'", *parser->pos);
	ga_buf_reset(&parser->scratch);
	rc = append_datetime_part(parser, start, parser->pos);
	if (rc != GA_OK)
		return rc;
	value->as.string.len = parser->scratch.len;
	value->as.string.text = toml_arena_strndup(&parser->doc->arena,
						   ga_buf_cstr(&parser->scratch),
						   parser->scratch.len);
	return GA_OK;
}

enum ga_rc
toml_scan_scalar(struct toml_parser *parser, struct toml_value *value)
{
	const char *token = parser->pos;
	size_t len;

	if (date_starts_at(parser, token) || time_starts_at(parser, token))
		return scan_datetime(parser, value);
	while (parser->pos < parser->end && is_token_char(*parser->pos))
		parser->pos++;
	len = (size_t)(parser->pos - token);
	if (len == 0) {
		parser->pos = token;
		return toml_fail_unexpected(parser, "expected a value");
	}
	if ((len == 4 && memcmp(token, "true", 4) == 0) ||
	    (len == 5 && memcmp(token, "false", 5) == 0)) {
		value->type = TOML_BOOLEAN;
		value->as.boolean = len == 4;
		return GA_OK;
	}
	if (!is_digit(token[0]) && token[0] != '+' && token[0] != '-' && token[0] != '.' &&
	    memcmp(token, "inf", len < 3 ? len : 3) != 0 &&
	    memcmp(token, "nan", len < 3 ? len : 3) != 0)
		return toml_fail_at(parser, token, GA_EPARSE,
				    "expected a value, found '%.*s' (strings need quotes)",
				    len > 40 ? 40 : (int)len, token);
	return scan_number(parser, token, len, value);
}
