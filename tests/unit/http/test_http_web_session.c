/*
 * test_http_web_session.c - the web pages' cookies, tokens and escaping
 * (src/http/http_web_session.c, http_web_html.c): round trips, every field
 * tampered with, expiry and lifetime, the Cookie header's edge cases, the
 * PKCE transform against RFC 7636's example, and HTML escaping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/http_web.h"

#define KEY "unit-test-session-key-0123456789abcdef"
#define NOW 1800000000LL
#define LIFETIME 28800

static struct web_keys keys;

static int
setup(void **state)
{
	(void)state;
	web_keys_derive(KEY, &keys);
	return 0;
}

static bool
parses(const char *value, long long now)
{
	long long uid, iat, exp;

	return web_session_parse(&keys, "acme", value, now, LIFETIME, &uid, &iat, &exp);
}

static void
test_session_round_trip(void **state)
{
	char value[WEB_COOKIE_MAX];
	long long uid, iat, exp;

	(void)state;
	web_session_format(&keys, "acme", 102, NOW, NOW + LIFETIME, value);
	assert_true(web_session_parse(&keys, "acme", value, NOW + 1, LIFETIME, &uid, &iat, &exp));
	assert_int_equal(uid, 102);
	assert_int_equal(iat, NOW);
	assert_int_equal(exp, NOW + LIFETIME);
	assert_false(parses(value, NOW + LIFETIME));			/* expired */
	assert_false(web_session_parse(&keys, "other", value, NOW, LIFETIME, &uid, &iat, &exp));
	assert_false(web_session_parse(&keys, "acme", value, NOW, LIFETIME - 1, &uid, &iat, &exp));
	web_session_format(&keys, "acme", 102, NOW + 61, NOW + 1000, value);
	assert_false(parses(value, NOW));				/* from the future */
	web_session_format(&keys, "acme", 102, NOW + 59, NOW + 1000, value);
	assert_true(parses(value, NOW));				/* clock skew */
}

static void
test_session_tampering(void **state)
{
	char value[WEB_COOKIE_MAX], copy[WEB_COOKIE_MAX + 8];
	struct web_keys other;

	(void)state;
	web_session_format(&keys, "acme", 102, NOW, NOW + 600, value);
	/* Every single character changed: refused. */
	for (size_t i = 0; value[i] != '\0'; i++) {
		snprintf(copy, sizeof(copy), "%s", value);
		copy[i] = copy[i] == 'A' ? 'B' : 'A';
		assert_false(parses(copy, NOW));
	}
	snprintf(copy, sizeof(copy), "%s.", value);
	assert_false(parses(copy, NOW));
	snprintf(copy, sizeof(copy), "%s", value);
	copy[strlen(copy) - 1] = '\0';
	assert_false(parses(copy, NOW));
	assert_false(parses("", NOW));
	assert_false(parses("1....", NOW));
	assert_false(parses("1.0102.1800000000.1800000600.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NOW));
	assert_false(parses("1.-102.1800000000.1800000600.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NOW));
	assert_false(parses("1.99999999999999999999.1.2.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NOW));
	web_keys_derive("another key, another key, another", &other);
	web_session_format(&other, "acme", 102, NOW, NOW + 600, value);
	assert_false(parses(value, NOW));
}

static void
test_cookie_header(void **state)
{
	char out[64];

	(void)state;
	assert_true(web_cookie_get("a=1; ghaccess_session=v; b=2", "ghaccess_session", out, sizeof(out)));
	assert_string_equal(out, "v");
	assert_true(web_cookie_get("ghaccess_session=v ", "ghaccess_session", out, sizeof(out)));
	assert_string_equal(out, "v");
	assert_false(web_cookie_get("xghaccess_session=v", "ghaccess_session", out, sizeof(out)));
	assert_false(web_cookie_get("ghaccess_session=v; ghaccess_session=w", "ghaccess_session", out,
				    sizeof(out)));
	assert_false(web_cookie_get("ghaccess_session=", "ghaccess_session", out, sizeof(out)));
	assert_false(web_cookie_get(NULL, "ghaccess_session", out, sizeof(out)));
	assert_false(web_cookie_get("ghaccess_session=0123456789abcdef", "ghaccess_session", out, 8));
	assert_string_equal(out, "");
	assert_string_equal(web_session_cookie_name(true), "__Host-ghaccess_session");
}

static void
test_flow_and_pkce(void **state)
{
	char value[WEB_COOKIE_MAX], nonce[WEB_B64_16 + 1];
	char state_a[WEB_B64_32 + 1], state_b[WEB_B64_32 + 1], verifier[WEB_B64_32 + 1];
	char challenge[WEB_B64_32 + 1];

	(void)state;
	web_flow_format(&keys, "AAAAAAAAAAAAAAAAAAAAAA", NOW + WEB_FLOW_SECONDS, value);
	assert_true(web_flow_parse(&keys, value, NOW, nonce));
	assert_string_equal(nonce, "AAAAAAAAAAAAAAAAAAAAAA");
	assert_false(web_flow_parse(&keys, value, NOW + WEB_FLOW_SECONDS, nonce));
	assert_string_equal(nonce, "");
	value[3] = 'B';
	assert_false(web_flow_parse(&keys, value, NOW, nonce));
	web_flow_state(&keys, "AAAAAAAAAAAAAAAAAAAAAA", state_a);
	web_flow_state(&keys, "AAAAAAAAAAAAAAAAAAAAAB", state_b);
	web_flow_verifier(&keys, "AAAAAAAAAAAAAAAAAAAAAA", verifier);
	assert_int_equal(strlen(state_a), 43);
	assert_string_not_equal(state_a, state_b);
	assert_string_not_equal(state_a, verifier);
	/* RFC 7636, appendix B. */
	web_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", challenge);
	assert_string_equal(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

static void
test_csrf(void **state)
{
	char a[WEB_B64_32 + 1], b[WEB_B64_32 + 1], c[WEB_B64_32 + 1];

	(void)state;
	web_csrf_token(&keys, 102, NOW, a);
	web_csrf_token(&keys, 102, NOW + 1, b);
	web_csrf_token(&keys, 103, NOW, c);
	assert_int_equal(strlen(a), 43);
	assert_string_not_equal(a, b);
	assert_string_not_equal(a, c);
}

static void
test_html_escaping(void **state)
{
	struct ga_buf page;

	(void)state;
	ga_buf_init(&page, 0);
	web_html(&page, "<p title=\"%s\">%s %d %lld %zu 100%%</p>", "\"><script>", "a&b<'c'>", -1,
		 12345678901LL, (size_t)7);
	assert_string_equal(ga_buf_cstr(&page),
			    "<p title=\"&quot;&gt;&lt;script&gt;\">a&amp;b&lt;&#39;c&#39;&gt; -1 "
			    "12345678901 7 100%</p>");
	ga_buf_reset(&page);
	web_html_segment(&page, "a/b c");
	assert_string_equal(ga_buf_cstr(&page), "a%2Fb%20c");
	ga_buf_free(&page);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_round_trip),
		cmocka_unit_test(test_session_tampering),
		cmocka_unit_test(test_cookie_header),
		cmocka_unit_test(test_flow_and_pkce),
		cmocka_unit_test(test_csrf),
		cmocka_unit_test(test_html_escaping),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
