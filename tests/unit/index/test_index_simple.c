/*
 * test_index_simple.c - PEP 691 content negotiation and the PEP 503 / 691
 * pages: links, hashes, escaping, yanked files; API 1.1 (PEP 700) and the
 * core metadata's announcement (PEP 658, PEP 714).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "index/index_simple.h"

struct accept_case {
	const char *accept;
	enum index_format format;
};

static const struct accept_case accept_cases[] = {
	{ NULL, INDEX_FORMAT_HTML },
	{ "", INDEX_FORMAT_HTML },
	{ "*/*", INDEX_FORMAT_HTML },
	{ "text/html", INDEX_FORMAT_HTML },
	{ "text/*", INDEX_FORMAT_HTML },
	{ "application/vnd.pypi.simple.v1+json", INDEX_FORMAT_JSON_V1 },
	{ "application/vnd.pypi.simple.latest+json", INDEX_FORMAT_JSON_V1 },
	{ "APPLICATION/VND.PYPI.SIMPLE.V1+JSON", INDEX_FORMAT_JSON_V1 },
	{ "application/vnd.pypi.simple.v1+html", INDEX_FORMAT_HTML_V1 },
	{ "application/vnd.pypi.simple.latest+html", INDEX_FORMAT_HTML_V1 },
	/* What pip 23 sends. */
	{ "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
	  "text/html; q=0.01",
	  INDEX_FORMAT_JSON_V1 },
	/* Quality decides, whatever the order. */
	{ "text/html;q=0.5, application/vnd.pypi.simple.v1+json", INDEX_FORMAT_JSON_V1 },
	{ "application/vnd.pypi.simple.v1+json;q=0.2, text/html;q=0.9", INDEX_FORMAT_HTML },
	/* Among equals: the more specific range, then the first listed. */
	{ "*/*, application/vnd.pypi.simple.v1+json", INDEX_FORMAT_JSON_V1 },
	{ "application/vnd.pypi.simple.v1+json, text/html", INDEX_FORMAT_JSON_V1 },
	{ "text/html, application/vnd.pypi.simple.v1+json", INDEX_FORMAT_HTML },
	/* The most specific range sets a type's quality. */
	{ "application/vnd.pypi.simple.v1+json;q=0, */*", INDEX_FORMAT_HTML },
	{ "text/html;q=0, */*;q=0.5", INDEX_FORMAT_HTML_V1 },
	/* Nothing acceptable: 406. */
	{ "application/json", INDEX_FORMAT_NONE },
	{ "application/vnd.pypi.simple.v2+json", INDEX_FORMAT_NONE },
	{ "text/html;q=0", INDEX_FORMAT_NONE },
	{ "image/png, text/plain", INDEX_FORMAT_NONE },
	{ "garbage", INDEX_FORMAT_NONE },
	/* A malformed quality voids its range only. */
	{ "application/vnd.pypi.simple.v1+json;q=2, text/html", INDEX_FORMAT_HTML },
	{ "text/html;q=0.1234", INDEX_FORMAT_NONE },
	{ " text/html ; q=1.000 ", INDEX_FORMAT_HTML },
};

static void
test_negotiate(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(accept_cases) / sizeof(accept_cases[0]); i++) {
		const struct accept_case *c = &accept_cases[i];
		enum index_format format = index_simple_negotiate(c->accept);

		if (format != c->format)
			fail_msg("Accept '%s': format %d, expected %d",
				 c->accept ? c->accept : "(none)", format, c->format);
	}
	assert_string_equal(index_simple_content_type(INDEX_FORMAT_JSON_V1),
			    "application/vnd.pypi.simple.v1+json");
}

/* pip before 23.2 reads PEP 658 metadata from HTML only: it gets HTML
 * when its Accept allows it; everyone else is negotiated as before. */
static void
test_negotiate_old_pip(void **state)
{
	static const char pip_accept[] =
		"application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; "
		"q=0.1, text/html; q=0.01";
	static const char ua_23_0[] =
		"pip/23.0.1 {\"ci\":null,\"installer\":{\"name\":\"pip\",\"version\":\"23.0.1\"}}";

	(void)state;
	assert_int_equal(index_simple_negotiate_client(pip_accept, ua_23_0), INDEX_FORMAT_HTML_V1);
	assert_int_equal(index_simple_negotiate_client(pip_accept, "pip/22.3 {}"),
			 INDEX_FORMAT_HTML_V1);
	assert_int_equal(index_simple_negotiate_client(pip_accept, "pip/23.2 {}"),
			 INDEX_FORMAT_JSON_V1);
	assert_int_equal(index_simple_negotiate_client(pip_accept, "pip/24.0 {}"),
			 INDEX_FORMAT_JSON_V1);
	assert_int_equal(index_simple_negotiate_client(pip_accept, "uv/0.5.0"),
			 INDEX_FORMAT_JSON_V1);
	assert_int_equal(index_simple_negotiate_client(pip_accept, NULL), INDEX_FORMAT_JSON_V1);
	assert_int_equal(index_simple_negotiate_client(pip_accept, "pip/garbage {}"),
			 INDEX_FORMAT_JSON_V1);
	/* JSON only: it still gets JSON, never a 406. */
	assert_int_equal(index_simple_negotiate_client("application/vnd.pypi.simple.v1+json",
						       ua_23_0),
			 INDEX_FORMAT_JSON_V1);
	assert_int_equal(index_simple_negotiate_client("application/json", ua_23_0),
			 INDEX_FORMAT_NONE);
}

static struct index_file_list
two_files(struct index_file storage[2])
{
	memset(storage, 0, 2 * sizeof(storage[0]));
	storage[0].filename = "acme_core-1.0+x-py3-none-any.whl";
	memset(storage[0].sha256, 'a', 64);
	storage[0].requires_python = ">=3.8,<4 \"&'";
	storage[0].size = 1234;
	storage[0].uploaded_at = 1767225600;	/* 2026-01-01 */
	memset(storage[0].metadata_sha256, 'c', 64);
	storage[1].filename = "acme_core-0.9.tar.gz";
	storage[1].size = 99;
	memset(storage[1].sha256, 'b', 64);
	storage[1].yanked = true;
	storage[1].yanked_reason = "broken <build>";
	return (struct index_file_list){ storage, 2 };
}

static void
test_project_html(void **state)
{
	struct index_file files[2];
	struct index_file_list list = two_files(files);
	struct ga_buf out;
	const char *html;

	(void)state;
	ga_buf_init(&out, 0);
	assert_true(index_simple_render_project(INDEX_FORMAT_HTML, "acme-core", &list, &out));
	html = ga_buf_cstr(&out);
	assert_non_null(strstr(html, "<!DOCTYPE html>"));
	assert_non_null(strstr(html, "pypi:repository-version\" content=\"1.1\""));
	/* PEP 714's attribute and PEP 658's, with the same value. */
	assert_non_null(strstr(html,
			       "<a href=\"../../packages/acme-core/acme_core-1.0%2Bx-py3-none-any.whl"
			       "#sha256=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""
			       " data-requires-python=\"&gt;=3.8,&lt;4 &quot;&amp;&#39;\""
			       " data-core-metadata=\"sha256=cccccccccccccccccccccccccccccccc"
			       "cccccccccccccccccccccccccccccccc\""
			       " data-dist-info-metadata=\"sha256=cccccccccccccccccccccccccccccccc"
			       "cccccccccccccccccccccccccccccccc\">"
			       "acme_core-1.0+x-py3-none-any.whl</a>"));
	/* No METADATA, no announcement. */
	assert_null(strstr(strstr(html, "acme_core-0.9.tar.gz"), "metadata"));
	assert_non_null(strstr(html, "acme_core-0.9.tar.gz#sha256=bbbb"));
	assert_non_null(strstr(html, " data-yanked=\"broken &lt;build&gt;\">"));
	/* Only the yanked file carries the attribute. */
	assert_null(strstr(strstr(html, "data-yanked") + 1, "data-yanked"));
	ga_buf_free(&out);
}

static void
test_project_json(void **state)
{
	struct index_file files[2];
	struct index_file_list list = two_files(files);
	struct ga_buf out;
	json_t *page;
	json_t *file;

	(void)state;
	ga_buf_init(&out, 0);
	assert_true(index_simple_render_project(INDEX_FORMAT_JSON_V1, "acme-core", &list, &out));
	page = json_loads(ga_buf_cstr(&out), 0, NULL);
	assert_non_null(page);
	assert_string_equal(json_string_value(json_object_get(json_object_get(page, "meta"),
							      "api-version")),
			    "1.1");
	assert_string_equal(json_string_value(json_object_get(page, "name")), "acme-core");
	/* PEP 700: the versions (normal form, once) and each file's size. */
	assert_int_equal(json_array_size(json_object_get(page, "versions")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(page, "versions"), 0)),
			    "0.9");
	assert_string_equal(json_string_value(json_array_get(json_object_get(page, "versions"), 1)),
			    "1.0+x");
	assert_int_equal(json_array_size(json_object_get(page, "files")), 2);
	file = json_array_get(json_object_get(page, "files"), 0);
	assert_string_equal(json_string_value(json_object_get(file, "url")),
			    "../../packages/acme-core/acme_core-1.0%2Bx-py3-none-any.whl");
	assert_int_equal(strlen(json_string_value(
				 json_object_get(json_object_get(file, "hashes"), "sha256"))),
			 64);
	assert_string_equal(json_string_value(json_object_get(file, "requires-python")),
			    ">=3.8,<4 \"&'");
	assert_true(json_is_false(json_object_get(file, "yanked")));
	assert_int_equal(json_integer_value(json_object_get(file, "size")), 1234);
	assert_string_equal(json_string_value(json_object_get(file, "upload-time")),
			    "2026-01-01T00:00:00Z");
	/* PEP 714: core-metadata only; PEP 658's key breaks pip 22.3 to 23.1. */
	assert_int_equal(strlen(json_string_value(
				 json_object_get(json_object_get(file, "core-metadata"), "sha256"))),
			 64);
	assert_null(json_object_get(file, "dist-info-metadata"));
	assert_null(json_object_get(file, "data-dist-info-metadata"));
	file = json_array_get(json_object_get(page, "files"), 1);
	assert_null(json_object_get(file, "requires-python"));
	assert_null(json_object_get(file, "core-metadata"));
	assert_null(json_object_get(file, "upload-time"));
	assert_int_equal(json_integer_value(json_object_get(file, "size")), 99);
	assert_string_equal(json_string_value(json_object_get(file, "yanked")), "broken <build>");
	json_decref(page);
	/* Yanked without a reason: true. */
	files[1].yanked_reason = "";
	ga_buf_reset(&out);
	assert_true(index_simple_render_project(INDEX_FORMAT_JSON_V1, "acme-core", &list, &out));
	page = json_loads(ga_buf_cstr(&out), 0, NULL);
	assert_true(json_is_true(
		json_object_get(json_array_get(json_object_get(page, "files"), 1), "yanked")));
	json_decref(page);
	ga_buf_free(&out);
}

static void
test_root(void **state)
{
	const char *names[] = { "acme-core", "acme-tools" };
	struct ga_buf out;
	json_t *page;

	(void)state;
	ga_buf_init(&out, 0);
	assert_true(index_simple_render_root(INDEX_FORMAT_HTML, names, 2, &out));
	assert_non_null(strstr(ga_buf_cstr(&out), "<a href=\"acme-core/\">acme-core</a>"));
	assert_non_null(strstr(ga_buf_cstr(&out), "<a href=\"acme-tools/\">acme-tools</a>"));
	ga_buf_reset(&out);
	assert_true(index_simple_render_root(INDEX_FORMAT_JSON_V1, names, 2, &out));
	page = json_loads(ga_buf_cstr(&out), 0, NULL);
	assert_non_null(page);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(page, "projects"), 1), "name")),
			    "acme-tools");
	json_decref(page);
	ga_buf_reset(&out);
	assert_true(index_simple_render_root(INDEX_FORMAT_HTML, NULL, 0, &out));
	assert_null(strstr(ga_buf_cstr(&out), "<a "));
	ga_buf_free(&out);
}

static void
test_escaping(void **state)
{
	struct ga_buf out;

	(void)state;
	ga_buf_init(&out, 0);
	assert_true(index_url_escape_segment(&out, "a b/c?d#e%f+g~h"));
	assert_string_equal(ga_buf_cstr(&out), "a%20b%2Fc%3Fd%23e%25f%2Bg~h");
	ga_buf_reset(&out);
	assert_true(index_html_escape(&out, "<script>alert('x')&\"</script>"));
	assert_string_equal(ga_buf_cstr(&out),
			    "&lt;script&gt;alert(&#39;x&#39;)&amp;&quot;&lt;/script&gt;");
	/* A capped buffer makes rendering fail, not truncate silently. */
	ga_buf_free(&out);
	ga_buf_init(&out, 16);
	assert_false(index_simple_render_root(INDEX_FORMAT_HTML, NULL, 0, &out));
	ga_buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_negotiate),   cmocka_unit_test(test_negotiate_old_pip),
		cmocka_unit_test(test_project_html),
		cmocka_unit_test(test_project_json), cmocka_unit_test(test_root),
		cmocka_unit_test(test_escaping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
