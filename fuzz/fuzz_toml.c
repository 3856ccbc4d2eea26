/*
 * fuzz_toml.c - any bytes must give a TOML document or a positioned error;
 * a document is walked through the public accessors (checking that every
 * key is found again by lookup) and freed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "toml/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stop the fuzzer on a broken invariant, as a sanitizer would. */
static void
check(int condition)
{
	if (!condition)
		abort();
}

static void
walk(const struct toml_value *value, int depth)
{
	enum toml_type type = toml_value_type(value);
	size_t len;
	const char *text;

	check(depth <= TOML_MAX_DEPTH + 1);
	check(toml_type_name(type) != NULL);
	switch (type) {
	case TOML_TABLE:
		for (size_t i = 0; i < toml_table_count(value); i++) {
			const char *key = toml_table_key_at(value, i, &len);
			const struct toml_value *child = toml_table_value_at(value, i);

			check(key != NULL && key[len] == '\0');
			/* The hash index and the entry list must agree. */
			check(toml_table_get_n(value, key, len) == child);
			walk(child, depth + 1);
		}
		check(toml_table_value_at(value, toml_table_count(value)) == NULL);
		break;
	case TOML_ARRAY:
		for (size_t i = 0; i < toml_array_count(value); i++)
			walk(toml_array_at(value, i), depth + 1);
		check(toml_array_at(value, toml_array_count(value)) == NULL);
		break;
	case TOML_STRING:
		text = toml_string(value, &len);
		check(text != NULL && text[len] == '\0');
		break;
	case TOML_OFFSET_DATETIME:
	case TOML_LOCAL_DATETIME:
	case TOML_LOCAL_DATE:
	case TOML_LOCAL_TIME:
		text = toml_datetime_text(value);
		check(text != NULL && strlen(text) >= 8);
		break;
	case TOML_INTEGER:
		(void)toml_integer(value);
		break;
	case TOML_FLOAT:
		(void)toml_float(value);
		break;
	case TOML_BOOLEAN:
		(void)toml_boolean(value);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_document *doc = NULL;
	struct ga_err err;

	ga_err_clear(&err);
	if (toml_parse((const char *)data, size, &doc, &err) == GA_OK) {
		check(doc != NULL);
		walk(toml_document_root(doc), 0);
		toml_document_free(doc);
	} else {
		check(doc == NULL);
		check(err.line >= 1 && err.column >= 1 && err.message[0] != '\0');
	}
	return 0;
}
