/*
 * test_index_metadata.c - core metadata read as Python's email parser reads
 * it (headers, continuation lines, line ends, the body), and the refusals:
 * not UTF-8, NUL, missing or repeated Name and Version, too many fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/index_metadata.h"

static void
check_value(const struct index_metadata *m, const char *name, const char *value)
{
	const struct index_metadata_field *field = index_metadata_get(m, name);

	if (field == NULL)
		fail_msg("no %s", name);
	if (field->value_len != strlen(value) || memcmp(field->value, value, field->value_len) != 0)
		fail_msg("%s: '%.*s', expected '%s'", name, (int)field->value_len, field->value,
			 value);
}

static void
parse_ok(const char *text, struct index_metadata *m)
{
	char reason[INDEX_REASON_MAX] = "";

	if (!index_metadata_parse(text, strlen(text), m, reason))
		fail_msg("refused: %s", reason);
}

static void
test_fields(void **state)
{
	static const char text[] =
		"Metadata-Version: 2.1\n"
		"name: Acme.Core\n"
		"Version: 1.0.0rc1\n"
		"Summary:   spaces before, kept after  \n"
		"Requires-Dist: a>=1\n"
		"requires-dist: b ; extra == \"x\"\n"
		"Description: first\n"
		"        |second\n"
		"\tthird\n"
		"Keywords:\n"
		" folded\n"
		"\n"
		"The body\n\nwith lines.\n";
	const struct index_metadata_field *field;
	struct index_metadata m;

	(void)state;
	parse_ok(text, &m);
	assert_string_equal(m.name, "Acme.Core");
	assert_string_equal(m.version, "1.0.0rc1");
	check_value(&m, "SUMMARY", "spaces before, kept after  ");
	/* Continuations are kept with their line ends (compat32). */
	check_value(&m, "Description", "first\n        |second\n\tthird");
	check_value(&m, "Keywords", "\n folded");
	field = index_metadata_get(&m, "Requires-Dist");
	assert_non_null(field);
	field = index_metadata_next(&m, "Requires-Dist", field);
	assert_non_null(field);
	assert_memory_equal(field->value, "b ; extra == \"x\"", field->value_len);
	assert_null(index_metadata_next(&m, "Requires-Dist", field));
	assert_null(index_metadata_get(&m, "Author"));
	assert_int_equal(m.body_len, strlen("The body\n\nwith lines.\n"));
	assert_memory_equal(m.body, "The body\n\nwith lines.\n", m.body_len);
	index_metadata_free(&m);
}

/* \r\n, a lone \r and \n all end a line, as in Python's feedparser. */
static void
test_line_ends(void **state)
{
	struct index_metadata m;

	(void)state;
	parse_ok("Name: a\r\nVersion: 1\rSummary: s\r\n continued\r\n\r\nbody\r\n", &m);
	assert_string_equal(m.name, "a");
	assert_string_equal(m.version, "1");
	check_value(&m, "Summary", "s\r\n continued");
	assert_memory_equal(m.body, "body\r\n", m.body_len);
	index_metadata_free(&m);
	/* No line end at all, no body. */
	parse_ok("Version: 2\nName: b", &m);
	assert_string_equal(m.name, "b");
	assert_int_equal(m.body_len, 0);
	index_metadata_free(&m);
}

/* The headers end at the first line that is not one: it starts the body. */
static void
test_headers_end(void **state)
{
	struct index_metadata m;
	char reason[INDEX_REASON_MAX];

	(void)state;
	parse_ok("Name: a\nVersion: 1\nnot a header\nSummary: in the body\n", &m);
	assert_null(index_metadata_get(&m, "Summary"));
	assert_memory_equal(m.body, "not a header\n", strlen("not a header\n"));
	index_metadata_free(&m);
	/* "Name : x" (a space before the colon) is not a header either. */
	assert_false(index_metadata_parse("Name : a\nVersion: 1\n", 20, &m, reason));
	assert_non_null(strstr(reason, "no Name"));
	index_metadata_free(&m);
	/* A continuation before any header, "From " and ":x" lines: skipped. */
	parse_ok(" lost\nFrom someone\n:empty name\nName: a\nVersion: 1\n", &m);
	assert_string_equal(m.name, "a");
	assert_int_equal(m.count, 2);
	index_metadata_free(&m);
}

struct refusal {
	const char *text;
	size_t len;	/* 0: strlen */
	const char *reason_part;
};

static const struct refusal refusals[] = {
	{ "Version: 1\n", 0, "no Name field" },
	{ "Name: a\n", 0, "no Version field" },
	{ "Name: a\nName: b\nVersion: 1\n", 0, "more than one Name" },
	{ "Name: a\nVersion: 1\nVersion: 2\n", 0, "more than one Version" },
	{ "Name: \nVersion: 1\n", 0, "invalid Name" },
	{ "Name: a b\nVersion: 1\n", 0, "invalid Name" },
	{ "Name: a\nVersion: one\n", 0, "invalid Version" },
	{ "Name: a\nVersion: 1\nSummary: \xc3\x28\n", 0, "not UTF-8" },
	{ "Name: a\nVersion: 1\nSummary: \xed\xa0\x80\n", 0, "not UTF-8" },
	{ "Name: a\0b\nVersion: 1\n", 19, "not UTF-8" },
};

static void
test_refusals(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *c = &refusals[i];
		char reason[INDEX_REASON_MAX] = "";
		struct index_metadata m;

		if (index_metadata_parse(c->text, c->len ? c->len : strlen(c->text), &m, reason))
			fail_msg("case %zu accepted", i);
		if (strstr(reason, c->reason_part) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, reason, c->reason_part);
		assert_int_equal(m.count, 0);
		index_metadata_free(&m);
	}
}

/* The bounds: bytes and fields. */
static void
test_bounds(void **state)
{
	size_t fields = INDEX_METADATA_FIELDS_MAX + 1;
	size_t size = fields * 4 + 32;
	char *text = malloc(INDEX_METADATA_MAX + 2);
	char reason[INDEX_REASON_MAX];
	struct index_metadata m;
	size_t len;

	(void)state;
	len = (size_t)snprintf(text, size, "Name: a\nVersion: 1\n");
	for (size_t i = 0; i < fields; i++) {
		memcpy(text + len, "X:\n", 3);
		len += 3;
	}
	assert_false(index_metadata_parse(text, len, &m, reason));
	assert_non_null(strstr(reason, "more than 16384 fields"));
	index_metadata_free(&m);
	/* Exactly at the limit of fields: fine. */
	len -= 3 * 3;
	assert_true(index_metadata_parse(text, len, &m, reason));
	assert_int_equal(m.count, INDEX_METADATA_FIELDS_MAX);
	index_metadata_free(&m);
	memset(text, 'a', INDEX_METADATA_MAX + 1);
	assert_false(index_metadata_parse(text, INDEX_METADATA_MAX + 1, &m, reason));
	assert_non_null(strstr(reason, "larger than"));
	index_metadata_free(&m);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),     cmocka_unit_test(test_line_ends),
		cmocka_unit_test(test_headers_end), cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
