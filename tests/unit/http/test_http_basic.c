/* test_http_basic.c - table-driven tests of strict Basic credentials parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "http/http_basic.h"
#include "util/ga_xalloc.h"

struct basic_case {
	const char *header;
	bool ok;
	const char *user;
	const char *password;
};

static const struct basic_case basic_cases[] = {
	/* base64("pypi:s3cret") */
	{ "Basic cHlwaTpzM2NyZXQ=", true, "pypi", "s3cret" },
	{ "basic cHlwaTpzM2NyZXQ=", true, "pypi", "s3cret" },
	{ "BASIC   cHlwaTpzM2NyZXQ=", true, "pypi", "s3cret" },
	/* base64("a:b:c"): the password keeps its colons */
	{ "Basic YTpiOmM=", true, "a", "b:c" },
	/* base64(":pw") and base64("user:") */
	{ "Basic OnB3", true, "", "pw" },
	{ "Basic dXNlcjo=", true, "user", "" },
	/* base64("ab:c"), no padding needed */
	{ "Basic YWI6Yw==", true, "ab", "c" },
	{ "Basic YWI6", true, "ab", "" },
	/* UTF-8 user name base64("\xc3\xa9:x") */
	{ "Basic w6k6eA==", true, "\xc3\xa9", "x" },
	/* not Basic */
	{ NULL, false, NULL, NULL },
	{ "", false, NULL, NULL },
	{ "Bearer cHlwaTpzM2NyZXQ=", false, NULL, NULL },
	{ "Basic", false, NULL, NULL },
	{ "Basic ", false, NULL, NULL },
	{ "Basiccmmm", false, NULL, NULL },
	/* no colon: base64("pypi") */
	{ "Basic cHlwaQ==", false, NULL, NULL },
	/* missing padding, bad length, bad characters */
	{ "Basic cHlwaTpzM2NyZXQ", false, NULL, NULL },
	{ "Basic cHlwaTpzM2NyZXQ==", false, NULL, NULL },
	{ "Basic cHlwaTpz*2NyZXQ=", false, NULL, NULL },
	{ "Basic cHlwaTpzM2NyZXQ=\t", false, NULL, NULL },
	{ "Basic cHlwaTpzM2NyZXQ= ", false, NULL, NULL },
	{ "Basic cHlw aTpzM2NyZXQ=", false, NULL, NULL },
	{ "Basic cHl=aTpzM2NyZXQ=", false, NULL, NULL },
	{ "Basic ====", false, NULL, NULL },
	{ "Basic YQ=a", false, NULL, NULL },
	/* url-safe alphabet is not Basic's */
	{ "Basic YTo-_w==", false, NULL, NULL },
	/* non-canonical: bits under the padding ("YTpi" = "a:b"; "YTpiYR==") */
	{ "Basic YTpiYR==", false, NULL, NULL },
	{ "Basic YTpiYQ==", true, "a", "ba" },
	{ "Basic YTpiYWJ=", false, NULL, NULL },
	{ "Basic YTpiYWI=", true, "a", "bab" },
	/* a NUL inside: base64("a:b\0c") */
	{ "Basic YTpiAGM=", false, NULL, NULL },
};

static void
test_basic_table(void **state)
{
	struct http_basic_credentials *creds = ga_calloc(1, sizeof(*creds));

	(void)state;
	for (size_t i = 0; i < sizeof(basic_cases) / sizeof(basic_cases[0]); i++) {
		const struct basic_case *c = &basic_cases[i];
		bool ok = http_basic_parse(c->header, creds);

		if (ok != c->ok)
			fail_msg("case %zu (%s): got %d", i, c->header ? c->header : "(null)", ok);
		if (!ok) {
			assert_int_equal(creds->user_len, 0);
			assert_int_equal(creds->password_len, 0);
			continue;
		}
		assert_string_equal(creds->user, c->user);
		assert_int_equal(creds->user_len, strlen(c->user));
		assert_string_equal(creds->password, c->password);
		assert_int_equal(creds->password_len, strlen(c->password));
	}
	ga_free(creds);
}

/* Credentials up to HTTP_BASIC_DECODED_MAX decoded bytes pass; longer fail. */
static void
test_basic_length(void **state)
{
	static const unsigned char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const size_t lengths[] = { 1023, 1024, 1025, 3000 };
	struct http_basic_credentials *creds = ga_calloc(1, sizeof(*creds));
	unsigned char *plain = ga_malloc(3000);
	char *header = ga_malloc(6 + 4 * 1000 + 8);

	(void)state;
	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		size_t n = lengths[i], out = 6;

		memset(plain, 'x', n);
		plain[0] = ':';
		memcpy(header, "Basic ", 6);
		/* Encode by hand: the test must not trust the code it tests. */
		for (size_t k = 0; k < n; k += 3) {
			unsigned v = (unsigned)plain[k] << 16;
			size_t left = n - k;

			v |= left > 1 ? (unsigned)plain[k + 1] << 8 : 0;
			v |= left > 2 ? plain[k + 2] : 0;
			header[out++] = (char)alphabet[(v >> 18) & 63];
			header[out++] = (char)alphabet[(v >> 12) & 63];
			header[out++] = left > 1 ? (char)alphabet[(v >> 6) & 63] : '=';
			header[out++] = left > 2 ? (char)alphabet[v & 63] : '=';
		}
		header[out] = '\0';
		assert_int_equal(http_basic_parse(header, creds), n <= HTTP_BASIC_DECODED_MAX);
		if (n <= HTTP_BASIC_DECODED_MAX)
			assert_int_equal(creds->password_len, n - 1);
	}
	ga_free(header);
	ga_free(plain);
	ga_free(creds);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_table),
		cmocka_unit_test(test_basic_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
