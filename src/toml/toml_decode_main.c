/* toml_decode_main.c - toml-decode: the toml-test decoder, TOML on stdin to tagged JSON on stdout. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml/toml.h"
#include "util/ga_buf.h"

/*
 * toml-test's interface: valid TOML prints {"key": {"type": "integer",
 * "value": "1"}, ...} and exits 0; invalid TOML prints "line:column:
 * message" on stderr and exits 1.
 */

static void write_value(FILE *out, const struct toml_value *value);

static void
write_string(FILE *out, const char *text, size_t len)
{
	putc('"', out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		switch (c) {
		case '"':	fputs("\\\"", out); break;
		case '\\':	fputs("\\\\", out); break;
		case '\b':	fputs("\\b", out); break;
		case '\f':	fputs("\\f", out); break;
		case '\n':	fputs("\\n", out); break;
		case '\r':	fputs("\\r", out); break;
		case '\t':	fputs("\\t", out); break;
		default:
			/* The parser has validated UTF-8: other bytes pass through. */
			if (c < 0x20 || c == 0x7F)
				fprintf(out, "\\u%04x", c);
			else
				putc(c, out);
		}
	}
	putc('"', out);
}

/* The shortest decimal text that reads back as the same double. */
static void
format_float(double number, char *buffer, size_t size)
{
	if (isnan(number)) {
		snprintf(buffer, size, "nan");
		return;
	}
	if (isinf(number)) {
		snprintf(buffer, size, number < 0 ? "-inf" : "inf");
		return;
	}
	for (int precision = 1; precision <= 17; precision++) {
		snprintf(buffer, size, "%.*g", precision, number);
		if (strtod(buffer, NULL) == number)
			return;
	}
}

static void
write_tagged(FILE *out, const char *type, const char *text)
{
	fprintf(out, "{\"type\": \"%s\", \"value\": ", type);
	write_string(out, text, strlen(text));
	putc('}', out);
}

static void
write_scalar(FILE *out, const struct toml_value *value)
{
	enum toml_type type = toml_value_type(value);
	char number[64];
	const char *text;
	size_t len;

	switch (type) {
	case TOML_STRING:
		text = toml_string(value, &len);
		fputs("{\"type\": \"string\", \"value\": ", out);
		write_string(out, text, len);
		putc('}', out);
		return;
	case TOML_INTEGER:
		snprintf(number, sizeof(number), "%" PRId64, toml_integer(value));
		write_tagged(out, "integer", number);
		return;
	case TOML_FLOAT:
		format_float(toml_float(value), number, sizeof(number));
		write_tagged(out, "float", number);
		return;
	case TOML_BOOLEAN:
		write_tagged(out, "bool", toml_boolean(value) ? "true" : "false");
		return;
	default:
		write_tagged(out, toml_type_name(type), toml_datetime_text(value));
		return;
	}
}

/* Recursion is bounded: the parser refuses documents deeper than TOML_MAX_DEPTH. */
static void
write_value(FILE *out, const struct toml_value *value)
{
	size_t count;

	switch (toml_value_type(value)) {
	case TOML_TABLE:
		count = toml_table_count(value);
		putc('{', out);
		for (size_t i = 0; i < count; i++) {
			size_t key_len;
			const char *key = toml_table_key_at(value, i, &key_len);

			if (i > 0)
				fputs(", ", out);
			write_string(out, key, key_len);
			fputs(": ", out);
			write_value(out, toml_table_value_at(value, i));
		}
		putc('}', out);
		return;
	case TOML_ARRAY:
		count = toml_array_count(value);
		putc('[', out);
		for (size_t i = 0; i < count; i++) {
			if (i > 0)
				fputs(", ", out);
			write_value(out, toml_array_at(value, i));
		}
		putc(']', out);
		return;
	default:
		write_scalar(out, value);
		return;
	}
}

/* All of stdin, up to one byte more than the parser accepts. */
static bool
read_input(struct ga_buf *input)
{
	char chunk[65536];
	size_t got;

	while ((got = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		if (!ga_buf_append(input, chunk, got)) {
			/* Fill up to one byte past the limit so that toml_parse
			 * refuses the input instead of reading a truncated one. */
			ga_buf_append(input, chunk, input->max - input->len);
			return true;
		}
	}
	return !ferror(stdin);
}

int
main(void)
{
	struct ga_buf input;
	struct toml_document *doc;
	struct ga_err err;
	int status = 0;

	ga_buf_init(&input, TOML_MAX_INPUT + 1u);
	if (!read_input(&input)) {
		fprintf(stderr, "toml-decode: cannot read standard input\n");
		ga_buf_free(&input);
		return 2;
	}
	ga_err_clear(&err);
	if (toml_parse(ga_buf_cstr(&input), input.len, &doc, &err) != GA_OK) {
		if (err.line > 0)
			fprintf(stderr, "%d:%d: %s\n", err.line, err.column, err.message);
		else
			fprintf(stderr, "toml-decode: %s\n", err.message);
		status = 1;
	} else {
		write_value(stdout, toml_document_root(doc));
		putc('\n', stdout);
		toml_document_free(doc);
		if (fflush(stdout) != 0)
			status = 2;
	}
	ga_buf_free(&input);
	return status;
}
