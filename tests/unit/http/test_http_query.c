/* test_http_query.c - table-driven tests of strict query decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "http/http_query.h"
#include "util/ga_xalloc.h"

struct query_case {
	const char *query;
	enum http_param_state username;
	const char *username_value;	/* when VALID */
	enum http_param_state password;
	const char *password_value;
};

static const struct query_case query_cases[] = {
	/* plain and empty */
	{ "username=bob&password=ghp_x", HTTP_PARAM_VALID, "bob", HTTP_PARAM_VALID, "ghp_x" },
	{ "", HTTP_PARAM_ABSENT, "", HTTP_PARAM_ABSENT, "" },
	{ "username=", HTTP_PARAM_VALID, "", HTTP_PARAM_ABSENT, "" },
	{ "username", HTTP_PARAM_VALID, "", HTTP_PARAM_ABSENT, "" },
	{ "&&username=bob&&", HTTP_PARAM_VALID, "bob", HTTP_PARAM_ABSENT, "" },
	{ "other=1", HTTP_PARAM_ABSENT, "", HTTP_PARAM_ABSENT, "" },
	{ "=bob", HTTP_PARAM_ABSENT, "", HTTP_PARAM_ABSENT, "" },
	/* + and %XX */
	{ "username=a+b", HTTP_PARAM_VALID, "a b", HTTP_PARAM_ABSENT, "" },
	{ "username=a%20b%2Bc%2bd", HTTP_PARAM_VALID, "a b+c+d", HTTP_PARAM_ABSENT, "" },
	{ "user%6Eame=bob", HTTP_PARAM_VALID, "bob", HTTP_PARAM_ABSENT, "" },
	{ "username=a%26password%3Dx", HTTP_PARAM_VALID, "a&password=x", HTTP_PARAM_ABSENT, "" },
	{ "username=a=b", HTTP_PARAM_VALID, "a=b", HTTP_PARAM_ABSENT, "" },
	/* UTF-8 */
	{ "username=%C3%A9t%C3%A9", HTTP_PARAM_VALID, "\xc3\xa9t\xc3\xa9", HTTP_PARAM_ABSENT, "" },
	{ "username=%F0%9F%90%8D", HTTP_PARAM_VALID, "\xf0\x9f\x90\x8d", HTTP_PARAM_ABSENT, "" },
	{ "username=%EF%BF%BF", HTTP_PARAM_VALID, "\xef\xbf\xbf", HTTP_PARAM_ABSENT, "" },
	{ "username=%F4%8F%BF%BF", HTTP_PARAM_VALID, "\xf4\x8f\xbf\xbf", HTTP_PARAM_ABSENT, "" },
	{ "username=%C3", HTTP_PARAM_INVALID, "", HTTP_PARAM_ABSENT, "" },
	{ "username=%C3%28", HTTP_PARAM_INVALID, "", HTTP_PARAM_ABSENT, "" },
	{ "username=%C0%AF", HTTP_PARAM_INVALID, "", HTTP_PARAM_ABSENT, "" },
	{ "username=%E0%80%AF", HTTP_PARAM_INVALID, "", HTTP_PARAM_ABSENT, "" },
	{ "username=%ED%A0%80", HTTP_PARAM_INVALID, "", HTTP_PARAM_ABSENT, "" },
	{ "username=%F4%90%80%80", HTTP_PARAM_INVALID, "", HTTP_PARAM_ABSENT, "" },
	{ "username=%F5%80%80%80", HTTP_PARAM_INVALID, "", HTTP_PARAM_ABSENT, "" },
	{ "username=%FF", HTTP_PARAM_INVALID, "", HTTP_PARAM_ABSENT, "" },
	{ "username=%80", HTTP_PARAM_INVALID, "", HTTP_PARAM_ABSENT, "" },
	{ "username=\xc3\xa9", HTTP_PARAM_VALID, "\xc3\xa9", HTTP_PARAM_ABSENT, "" },
	{ "username=\xc3", HTTP_PARAM_INVALID, "", HTTP_PARAM_ABSENT, "" },
	/* bad escapes and NUL */
	{ "username=%", HTTP_PARAM_INVALID, "", HTTP_PARAM_ABSENT, "" },
	{ "username=%4", HTTP_PARAM_INVALID, "", HTTP_PARAM_ABSENT, "" },
	{ "username=%G1&password=x", HTTP_PARAM_INVALID, "", HTTP_PARAM_VALID, "x" },
	{ "username=%1G", HTTP_PARAM_INVALID, "", HTTP_PARAM_ABSENT, "" },
	{ "username=a%00b", HTTP_PARAM_INVALID, "", HTTP_PARAM_ABSENT, "" },
	/* a name that does not decode spoils every parameter */
	{ "password=x&us%ZZer=bob", HTTP_PARAM_INVALID, "", HTTP_PARAM_INVALID, "" },
	{ "%C0=1&username=bob", HTTP_PARAM_INVALID, "", HTTP_PARAM_INVALID, "" },
	/* repeated */
	{ "username=bob&username=bob", HTTP_PARAM_INVALID, "", HTTP_PARAM_ABSENT, "" },
	{ "username=bob&password=x&username=eve", HTTP_PARAM_INVALID, "", HTTP_PARAM_VALID, "x" },
	{ "username=bob&user%6eame=eve", HTTP_PARAM_INVALID, "", HTTP_PARAM_ABSENT, "" },
	{ "username&username=", HTTP_PARAM_INVALID, "", HTTP_PARAM_ABSENT, "" },
	/* names are case-sensitive */
	{ "Username=bob", HTTP_PARAM_ABSENT, "", HTTP_PARAM_ABSENT, "" },
};

static void
test_query_table(void **state)
{
	static const char *const names[] = { "username", "password" };
	struct http_param *params = ga_calloc(2, sizeof(*params));

	(void)state;
	for (size_t i = 0; i < sizeof(query_cases) / sizeof(query_cases[0]); i++) {
		const struct query_case c = query_cases[i];

		http_query_get(c.query, strlen(c.query), names, params, 2);
		if (params[0].state != c.username || params[1].state != c.password)
			fail_msg("case %zu (%s): states %d %d, expected %d %d", i, c.query,
				 params[0].state, params[1].state, c.username, c.password);
		if (c.username == HTTP_PARAM_VALID) {
			assert_string_equal(params[0].value, c.username_value);
			assert_int_equal(params[0].len, strlen(c.username_value));
		} else {
			assert_string_equal(params[0].value, "");
		}
		if (c.password == HTTP_PARAM_VALID)
			assert_string_equal(params[1].value, c.password_value);
	}
	ga_free(params);
}

/* The 4 KiB limit applies to the decoded value: 4096 bytes pass, 4097 not,
 * whether written plainly or as escapes. */
static void
test_query_value_length(void **state)
{
	static const char *const names[] = { "password" };
	static const size_t lengths[] = { 0, 1, 4095, 4096, 4097, 10000 };
	struct http_param *param = ga_calloc(1, sizeof(*param));
	char *query = ga_malloc(3 * 10000 + 32);

	(void)state;
	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		for (int escaped = 0; escaped < 2; escaped++) {
			size_t n = strlen("password=");

			memcpy(query, "password=", n);
			for (size_t k = 0; k < lengths[i]; k++) {
				memcpy(query + n, escaped ? "%41" : "A", escaped ? 3 : 1);
				n += escaped ? 3 : 1;
			}
			http_query_get(query, n, names, param, 1);
			if (lengths[i] <= HTTP_QUERY_VALUE_MAX) {
				assert_int_equal(param->state, HTTP_PARAM_VALID);
				assert_int_equal(param->len, lengths[i]);
			} else {
				assert_int_equal(param->state, HTTP_PARAM_INVALID);
			}
		}
	}
	ga_free(query);
	ga_free(param);
}

/* The query need not be NUL-terminated: nothing past len is read. */
static void
test_query_not_terminated(void **state)
{
	static const char *const names[] = { "group" };
	struct http_param *param = ga_calloc(1, sizeof(*param));
	const char buffer[] = "group=platform&group=other";

	(void)state;
	http_query_get(buffer, strlen("group=plat"), names, param, 1);
	assert_int_equal(param->state, HTTP_PARAM_VALID);
	assert_string_equal(param->value, "plat");
	http_query_get(NULL, 0, names, param, 1);
	assert_int_equal(param->state, HTTP_PARAM_ABSENT);
	ga_free(param);
}

struct utf8_case {
	const char *bytes;
	size_t len;
	bool valid;
};

static void
test_utf8_table(void **state)
{
	static const struct utf8_case cases[] = {
		{ "", 0, true },
		{ "abc", 3, true },
		{ "\x7f", 1, true },
		{ "\xc2\x80", 2, true },
		{ "\xc1\xbf", 2, false },		/* overlong */
		{ "\xdf\xbf", 2, true },
		{ "\xe0\x9f\xbf", 3, false },		/* overlong */
		{ "\xe0\xa0\x80", 3, true },
		{ "\xed\x9f\xbf", 3, true },
		{ "\xed\xa0\x80", 3, false },		/* surrogate */
		{ "\xed\xbf\xbf", 3, false },		/* surrogate */
		{ "\xee\x80\x80", 3, true },
		{ "\xf0\x8f\xbf\xbf", 4, false },	/* overlong */
		{ "\xf0\x90\x80\x80", 4, true },
		{ "\xf4\x8f\xbf\xbf", 4, true },
		{ "\xf4\x90\x80\x80", 4, false },	/* past U+10FFFF */
		{ "\xf8\x88\x80\x80\x80", 5, false },
		{ "\xe2\x82", 2, false },		/* truncated */
		{ "\xe2\x82\x28", 3, false },
		{ "a\x80", 2, false },
		{ "\xfe", 1, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (http_utf8_valid(cases[i].bytes, cases[i].len) != cases[i].valid)
			fail_msg("utf8 case %zu: expected %s", i,
				 cases[i].valid ? "valid" : "invalid");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_table),
		cmocka_unit_test(test_query_value_length),
		cmocka_unit_test(test_query_not_terminated),
		cmocka_unit_test(test_utf8_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
