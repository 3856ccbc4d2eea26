/* test_toml.c - unit tests of the TOML reader: accessors, shapes, errors, limits, large inputs. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "toml/toml.h"
#include "util/ga_buf.h"
#include "util/ga_xalloc.h"

/* Parse text that must be valid; fails the test with the message if not. */
static struct toml_document *
parse_ok(const char *text, size_t len)
{
	struct toml_document *doc = NULL;
	struct ga_err err;

	ga_err_clear(&err);
	if (toml_parse(text, len, &doc, &err) != GA_OK)
		fail_msg("unexpected error %d:%d: %s", err.line, err.column, err.message);
	assert_non_null(doc);
	return doc;
}

static struct toml_document *
parse_text(const char *text)
{
	return parse_ok(text, strlen(text));
}

/* root[first][second], either may be NULL to stop early. */
static const struct toml_value *
lookup(const struct toml_document *doc, const char *first, const char *second)
{
	const struct toml_value *value = toml_table_get(toml_document_root(doc), first);

	if (value != NULL && second != NULL)
		value = toml_table_get(value, second);
	return value;
}

static void
test_scalar_accessors(void **state)
{
	static const char text[] =
		"s = \"text\"\n"
		"i = -42\n"
		"h = 0xff\n"
		"f = 6.5e-1\n"
		"inf = -inf\n"
		"nan = nan\n"
		"b = true\n"
		"odt = 1979-05-27 07:32:00.5z\n"
		"ldt = 1979-05-27t07:32:00\n"
		"ld = 1979-05-27\n"
		"lt = 07:32:00\n";
	struct toml_document *doc = parse_text(text);
	const struct toml_value *root = toml_document_root(doc);
	size_t len = 0;

	(void)state;
	assert_int_equal(toml_value_type(root), TOML_TABLE);
	assert_int_equal(toml_table_count(root), 11);
	assert_string_equal(toml_string(lookup(doc, "s", NULL), &len), "text");
	assert_int_equal(len, 4);
	assert_int_equal(toml_integer(lookup(doc, "i", NULL)), -42);
	assert_int_equal(toml_integer(lookup(doc, "h", NULL)), 255);
	assert_true(toml_float(lookup(doc, "f", NULL)) == 0.65);
	assert_true(isinf(toml_float(lookup(doc, "inf", NULL))));
	assert_true(toml_float(lookup(doc, "inf", NULL)) < 0);
	assert_true(isnan(toml_float(lookup(doc, "nan", NULL))));
	assert_true(toml_boolean(lookup(doc, "b", NULL)));
	assert_int_equal(toml_value_type(lookup(doc, "odt", NULL)), TOML_OFFSET_DATETIME);
	assert_string_equal(toml_datetime_text(lookup(doc, "odt", NULL)),
			    "1979-05-27T07:32:00.5Z");
	assert_int_equal(toml_value_type(lookup(doc, "ldt", NULL)), TOML_LOCAL_DATETIME);
	assert_string_equal(toml_datetime_text(lookup(doc, "ldt", NULL)), "1979-05-27T07:32:00");
	assert_int_equal(toml_value_type(lookup(doc, "ld", NULL)), TOML_LOCAL_DATE);
	assert_string_equal(toml_datetime_text(lookup(doc, "ld", NULL)), "1979-05-27");
	assert_int_equal(toml_value_type(lookup(doc, "lt", NULL)), TOML_LOCAL_TIME);
	assert_string_equal(toml_datetime_text(lookup(doc, "lt", NULL)), "07:32:00");
	/* Asking a value for another type gives a neutral answer. */
	assert_null(toml_string(lookup(doc, "i", NULL), NULL));
	assert_int_equal(toml_integer(lookup(doc, "s", NULL)), 0);
	assert_false(toml_boolean(lookup(doc, "s", NULL)));
	assert_true(isnan(toml_float(lookup(doc, "s", NULL))));
	assert_null(toml_datetime_text(lookup(doc, "s", NULL)));
	assert_null(lookup(doc, "missing", NULL));
	assert_null(toml_table_get(lookup(doc, "s", NULL), "x"));
	toml_document_free(doc);
}

static void
test_type_names(void **state)
{
	static const struct {
		enum toml_type type;
		const char *name;
	} names[] = {
		{TOML_STRING, "string"},
		{TOML_INTEGER, "integer"},
		{TOML_FLOAT, "float"},
		{TOML_BOOLEAN, "bool"},
		{TOML_OFFSET_DATETIME, "datetime"},
		{TOML_LOCAL_DATETIME, "datetime-local"},
		{TOML_LOCAL_DATE, "date-local"},
		{TOML_LOCAL_TIME, "time-local"},
		{TOML_ARRAY, "array"},
		{TOML_TABLE, "table"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_string_equal(toml_type_name(names[i].type), names[i].name);
}

static void
test_containers(void **state)
{
	static const char text[] =
		"[owner]\n"
		"zeta = 1\n"
		"alpha = [1, \"two\", [3], {four = 4},]\n"
		"[[fruit]]\n"
		"name = \"apple\"\n"
		"[[fruit]]\n"
		"name = \"banana\"\n";
	struct toml_document *doc = parse_text(text);
	const struct toml_value *owner = lookup(doc, "owner", NULL);
	const struct toml_value *alpha = lookup(doc, "owner", "alpha");
	const struct toml_value *fruit = lookup(doc, "fruit", NULL);
	size_t key_len = 0;

	(void)state;
	/* Keys come back in the order they were written. */
	assert_int_equal(toml_table_count(owner), 2);
	assert_string_equal(toml_table_key_at(owner, 0, &key_len), "zeta");
	assert_int_equal(key_len, 4);
	assert_string_equal(toml_table_key_at(owner, 1, NULL), "alpha");
	assert_ptr_equal(toml_table_value_at(owner, 1), alpha);
	assert_null(toml_table_key_at(owner, 2, NULL));
	assert_null(toml_table_value_at(owner, 2));
	assert_int_equal(toml_array_count(alpha), 4);
	assert_int_equal(toml_integer(toml_array_at(alpha, 0)), 1);
	assert_string_equal(toml_string(toml_array_at(alpha, 1), NULL), "two");
	assert_int_equal(toml_array_count(toml_array_at(alpha, 2)), 1);
	assert_int_equal(toml_integer(toml_table_get(toml_array_at(alpha, 3), "four")), 4);
	assert_null(toml_array_at(alpha, 4));
	assert_int_equal(toml_array_count(owner), 0);
	assert_int_equal(toml_array_count(fruit), 2);
	assert_string_equal(toml_string(toml_table_get(toml_array_at(fruit, 1), "name"), NULL),
			    "banana");
	toml_document_free(doc);
}

/* Keys may hold NUL: they are compared with their length. */
static void
test_key_with_nul(void **state)
{
	static const char text[] = "\"a\\u0000b\" = 1\n\"a\" = 2\n";
	struct toml_document *doc = parse_text(text);
	const struct toml_value *root = toml_document_root(doc);
	size_t key_len = 0;
	const char *key = toml_table_key_at(root, 0, &key_len);

	(void)state;
	assert_int_equal(key_len, 3);
	assert_memory_equal(key, "a\0b", 4);
	assert_int_equal(toml_integer(toml_table_get_n(root, "a\0b", 3)), 1);
	assert_int_equal(toml_integer(toml_table_get(root, "a")), 2);
	toml_document_free(doc);
}

/* Past TOML_TABLE_LINEAR_MAX keys lookups are hashed: NUL must still count. */
static void
test_hashed_keys_with_nul(void **state)
{
	struct ga_buf buf;
	struct toml_document *doc;
	const struct toml_value *root;

	(void)state;
	ga_buf_init(&buf, 0);
	for (int i = 0; i < 40; i++)
		ga_buf_printf(&buf, "\"k\\u0000%d\" = %d\n", i, i);
	ga_buf_append_str(&buf, "k = -1\n");
	doc = parse_ok(buf.data, buf.len);
	root = toml_document_root(doc);
	assert_int_equal(toml_table_count(root), 41);
	for (int i = 0; i < 40; i++) {
		char key[16];
		int len = snprintf(key, sizeof(key), "k%c%d", '\0', i);

		assert_int_equal(toml_integer(toml_table_get_n(root, key, (size_t)len)), i);
	}
	assert_int_equal(toml_integer(toml_table_get(root, "k")), -1);
	assert_null(toml_table_get_n(root, "k\0", 2));
	toml_document_free(doc);
	ga_buf_free(&buf);
}

/* Every way a pyproject.toml may spell project.name = "x". */
static void
test_pyproject_shapes(void **state)
{
	static const char *const shapes[] = {
		"[project]\nname = \"x\"\n",
		"project.name = \"x\"\n",
		"project = { name = \"x\" }\n",
		"[ \"project\" ]\n\"name\" = \"x\"\n",
		"['project']\n'name' = 'x'\n",
		"# header comment\r\n[project] # the project\r\nname = \"x\" # its name\r\n",
		"[project]\nname = \"\"\"x\"\"\"\n",
		"[project]\nname = \"\"\"\nx\"\"\"\n",
		"[project]\nname = '''\nx'''\n",
		"[project]\nname = \"\\u0078\"\n",
		"[project]\nname = \"\\U00000078\"\n",
		"[project]\nname = \"\"\"\\\n    x\"\"\"\n",
		"\xEF\xBB\xBF[project]\nname = \"x\"",
		("[build-system]\nrequires = [\n  \"setuptools>=61\",  # comment\n]\n"
		 "[project]\nname = \"x\"\n"),
		"[tool.black]\nline-length = 88\n[project]\nname = \"x\"\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		struct toml_document *doc = parse_text(shapes[i]);
		const char *name = toml_string(lookup(doc, "project", "name"), NULL);

		if (name == NULL || strcmp(name, "x") != 0)
			fail_msg("shape %zu: project.name is %s", i, name ? name : "(missing)");
		toml_document_free(doc);
	}
}

static void
test_errors(void **state)
{
	static const struct {
		const char *text;
		enum ga_rc code;
		int line;
		int column;
		const char *message;
	} cases[] = {
		{"name \"x\"\n", GA_EPARSE, 1, 6, "expected '=' after key, found '\"'"},
		{"name = \"x\"\nname = \"y\"\n", GA_EPARSE, 2, 1, "duplicate key \"name\""},
		{"a.b = 1\na.b = 2\n", GA_EPARSE, 2, 1, "duplicate key \"a.b\""},
		{"[a]\n[a]\n", GA_EPARSE, 2, 1, "table [a] is defined more than once"},
		{"a = {}\n[a.b]\n", GA_EPARSE, 2, 2, "cannot add a table to a: it is already "
						   "defined as an inline table"},
		{"a = { b = 1 }\na.c = 2\n", GA_EPARSE, 2, 1, "cannot add keys to inline table a"},
		{"a.b = 1\n[a]\n", GA_EPARSE, 2, 1, "table [a] was already defined by dotted keys"},
		{"a = []\n[[a]]\n", GA_EPARSE, 2, 1, "cannot define array of tables [[a]]: it is "
						   "already a static array"},
		{"x = 1\n  y = \"abc\n", GA_EPARSE, 2, 7, "unterminated string (newline before the closing quote)"},
		{"x = \"\\e\"\n", GA_EPARSE, 1, 6, "invalid escape sequence '\\e'"},
		{"x = 01\n", GA_EPARSE, 1, 5, "invalid number '01': leading zeros are not allowed"},
		{"x = 1__0\n", GA_EPARSE, 1, 5, "invalid number '1__0': underscores are only "
					      "allowed between digits"},
		{"x = 2023-02-29\n", GA_EPARSE, 1, 13, "invalid date: 2023-02 has no day 29"},
		{"x = 1 # \x7f\n", GA_EPARSE, 1, 9, "control character U+007F in comment"},
		{"x = \"\xC0\xAF\"\n", GA_EPARSE, 1, 6, "invalid UTF-8 in string"},
		{"x = 1\ry = 2\n", GA_EPARSE, 1, 6, "expected end of line after a value, found a "
						"carriage return not followed by a newline"},
		{"t = { a = 1, }\n", GA_EPARSE, 1, 14, "trailing comma in inline table"},
		{"t = { a = 1,\n b = 2 }\n", GA_EPARSE, 1, 13, "expected a key, found end of line"},
		{"\xC3\xA9t\xC3\xA9 = 1\n", GA_EPARSE, 1, 1, "expected a key, found '\xC3\xA9'"},
		{"k = \xC3\xA9\n", GA_EPARSE, 1, 5, "expected a value, found '\xC3\xA9'"},
		{"[a]\nb = 1\n[a.b]\n", GA_EPARSE, 3, 1, "cannot define table [a.b]: it is "
						       "already an integer"},
		{"[a]\nb = 1\n[a.b.c]\n", GA_EPARSE, 3, 4, "cannot add a table to a.b: it is "
							 "already defined as an integer"},
		{"x = [1 2]\n", GA_EPARSE, 1, 8, "expected ',' or ']' in array, found '2'"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* Not NULL, so that the test sees toml_parse reset it. */
		struct toml_document *doc = (struct toml_document *)&doc;
		struct ga_err err;
		enum ga_rc rc;

		ga_err_clear(&err);
		rc = toml_parse(cases[i].text, strlen(cases[i].text), &doc, &err);
		assert_null(doc);
		if (rc != cases[i].code || err.line != cases[i].line ||
		    err.column != cases[i].column || strcmp(err.message, cases[i].message) != 0)
			fail_msg("case %zu: got %d at %d:%d \"%s\", expected %d at %d:%d \"%s\"", i,
				 rc, err.line, err.column, err.message, cases[i].code,
				 cases[i].line, cases[i].column, cases[i].message);
	}
}

/* "a = " followed by depth '[' and as many ']'. */
static char *
nested_arrays(size_t depth)
{
	struct ga_buf buf;

	ga_buf_init(&buf, 0);
	ga_buf_append_str(&buf, "a = ");
	for (size_t i = 0; i < depth; i++)
		ga_buf_append_char(&buf, '[');
	for (size_t i = 0; i < depth; i++)
		ga_buf_append_char(&buf, ']');
	ga_buf_append_char(&buf, '\n');
	return ga_buf_steal(&buf);
}

static void
test_depth_limit(void **state)
{
	char *deepest = nested_arrays(TOML_MAX_DEPTH);
	char *too_deep = nested_arrays(TOML_MAX_DEPTH + 1);
	struct toml_document *doc = parse_text(deepest);
	struct ga_err err;

	(void)state;
	toml_document_free(doc);
	assert_int_equal(toml_parse(too_deep, strlen(too_deep), &doc, &err), GA_ELIMIT);
	assert_null(doc);
	assert_int_equal(err.line, 1);
	assert_int_equal(err.column, 5 + TOML_MAX_DEPTH);
	assert_string_equal(err.message, "nesting deeper than 128 levels");
	ga_free(deepest);
	ga_free(too_deep);
}

/* Tables count too: a 129-part [header] is as deep as 129 arrays. */
static void
test_depth_limit_tables(void **state)
{
	struct ga_buf buf;
	struct toml_document *doc;
	struct ga_err err;

	(void)state;
	ga_buf_init(&buf, 0);
	ga_buf_append_str(&buf, "[k");
	for (int i = 1; i < TOML_MAX_DEPTH; i++)
		ga_buf_append_str(&buf, ".k");
	ga_buf_append_str(&buf, "]\n");
	doc = parse_ok(buf.data, buf.len);
	toml_document_free(doc);
	buf.len -= 2;
	ga_buf_append_str(&buf, ".k]\n");
	assert_int_equal(toml_parse(buf.data, buf.len, &doc, &err), GA_ELIMIT);
	assert_null(doc);
	ga_buf_reset(&buf);
	/* x = {a={a=...}}: inline tables and their keys. */
	ga_buf_append_str(&buf, "x = ");
	for (int i = 0; i < TOML_MAX_DEPTH - 1; i++)
		ga_buf_append_str(&buf, "{a=");
	ga_buf_append_str(&buf, "{}");
	for (int i = 0; i < TOML_MAX_DEPTH - 1; i++)
		ga_buf_append_str(&buf, "}");
	doc = parse_ok(buf.data, buf.len);
	toml_document_free(doc);
	ga_buf_reset(&buf);
	ga_buf_append_str(&buf, "x = {a.b = ");
	for (int i = 0; i < TOML_MAX_DEPTH - 2; i++)
		ga_buf_append_str(&buf, "{a=");
	ga_buf_append_str(&buf, "{}");
	for (int i = 0; i < TOML_MAX_DEPTH - 1; i++)
		ga_buf_append_str(&buf, "}");
	assert_int_equal(toml_parse(buf.data, buf.len, &doc, &err), GA_ELIMIT);
	assert_null(doc);
	ga_buf_free(&buf);
}

static void
test_input_limit(void **state)
{
	size_t len = TOML_MAX_INPUT + 1u;
	char *text = ga_malloc(len);
	struct toml_document *doc = NULL;
	struct ga_err err;

	(void)state;
	memset(text, '#', len);
	ga_err_clear(&err);
	assert_int_equal(toml_parse(text, len, &doc, &err), GA_ELIMIT);
	assert_null(doc);
	assert_non_null(strstr(err.message, "exceeds the limit"));
	ga_free(text);
}

static void
test_empty_documents(void **state)
{
	static const char *const empty[] = {"", " \t\n", "# only a comment", "\xEF\xBB\xBF",
					    "\r\n\r\n"};

	(void)state;
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		struct toml_document *doc = parse_text(empty[i]);

		assert_int_equal(toml_table_count(toml_document_root(doc)), 0);
		toml_document_free(doc);
	}
	toml_document_free(NULL);
}

/* About 1 MB each; they must parse (their speed is measured elsewhere). */
static void
test_large_inputs(void **state)
{
	struct toml_document *doc;
	struct ga_buf buf;

	(void)state;
	ga_buf_init(&buf, 0);
	for (int i = 0; i < 50000; i++)
		ga_buf_printf(&buf, "key_%06d = %d\n", i, i);
	doc = parse_ok(buf.data, buf.len);
	assert_int_equal(toml_table_count(toml_document_root(doc)), 50000);
	assert_int_equal(toml_integer(lookup(doc, "key_049999", NULL)), 49999);
	toml_document_free(doc);

	ga_buf_reset(&buf);
	ga_buf_append_str(&buf, "a = [");
	for (int i = 0; i < 500000; i++)
		ga_buf_append_str(&buf, "1,");
	ga_buf_append_str(&buf, "]\n");
	doc = parse_ok(buf.data, buf.len);
	assert_int_equal(toml_array_count(lookup(doc, "a", NULL)), 500000);
	toml_document_free(doc);

	ga_buf_reset(&buf);
	ga_buf_append_str(&buf, "s = \"");
	for (int i = 0; i < 100000; i++)
		ga_buf_append_str(&buf, "0123456\\n");
	ga_buf_append_str(&buf, "\"\n");
	doc = parse_ok(buf.data, buf.len);
	assert_int_equal(strlen(toml_string(lookup(doc, "s", NULL), NULL)), 800000);
	toml_document_free(doc);

	ga_buf_reset(&buf);
	for (int i = 0; i < 30000; i++)
		ga_buf_printf(&buf, "[t.s%d]\nv = %d\n[[aot]]\nx = %d\n", i, i, i);
	doc = parse_ok(buf.data, buf.len);
	assert_int_equal(toml_table_count(lookup(doc, "t", NULL)), 30000);
	assert_int_equal(toml_array_count(lookup(doc, "aot", NULL)), 30000);
	toml_document_free(doc);
	ga_buf_free(&buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalar_accessors),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_containers),
		cmocka_unit_test(test_key_with_nul),
		cmocka_unit_test(test_hashed_keys_with_nul),
		cmocka_unit_test(test_pyproject_shapes),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_depth_limit_tables),
		cmocka_unit_test(test_input_limit),
		cmocka_unit_test(test_empty_documents),
		cmocka_unit_test(test_large_inputs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
