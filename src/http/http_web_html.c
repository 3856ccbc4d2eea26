/*
 * http_web_html.c - how the web pages are written and sent; see http_web.h.
 *
 * No page holds a script or an inline style, and no text that is not a
 * constant of this program reaches a page without going through
 * web_html()'s escaping (logins, package and repository names, file names,
 * yank reasons, the explain sentence, a filter typed by the user).  The
 * Content-Security-Policy says the same to the browser, so that a mistake
 * here would still not run.
 */
#include "http/http_web.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "index/index_simple.h"
#include "util/ga_xalloc.h"

#define CSP "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " \
	    "frame-ancestors 'none'; base-uri 'none'"

void
web_html(struct ga_buf *page, const char *fmt, ...)
{
	va_list ap;
	const char *p = fmt;

	va_start(ap, fmt);
	while (*p != '\0') {
		const char *percent = strchr(p, '%');
		char spec[8];
		size_t n = 0;

		if (percent == NULL) {
			ga_buf_append_str(page, p);
			break;
		}
		ga_buf_append(page, p, (size_t)(percent - p));
		p = percent + 1;
		/* A conversion: length modifiers, then the letter. */
		spec[n++] = '%';
		while ((*p == 'l' || *p == 'z') && n < 4)
			spec[n++] = *p++;
		spec[n++] = *p;
		spec[n] = '\0';
		if (*p == '\0')
			break;
		if (strcmp(spec, "%s") == 0) {
			const char *text = va_arg(ap, const char *);

			index_html_escape(page, text != NULL ? text : "");
		}
		else if (strcmp(spec, "%%") == 0)
			ga_buf_append_char(page, '%');
		else if (strcmp(spec, "%d") == 0)
			ga_buf_printf(page, "%d", va_arg(ap, int));
		else if (strcmp(spec, "%u") == 0)
			ga_buf_printf(page, "%u", va_arg(ap, unsigned));
		else if (strcmp(spec, "%ld") == 0)
			ga_buf_printf(page, "%ld", va_arg(ap, long));
		else if (strcmp(spec, "%lld") == 0)
			ga_buf_printf(page, "%lld", va_arg(ap, long long));
		else if (strcmp(spec, "%llu") == 0)
			ga_buf_printf(page, "%llu", va_arg(ap, unsigned long long));
		else if (strcmp(spec, "%zu") == 0)
			ga_buf_printf(page, "%zu", va_arg(ap, size_t));
		else
			break;	/* a programming error: the rest of fmt is dropped */
		p++;
	}
	va_end(ap);
}

void
web_html_segment(struct ga_buf *page, const char *text)
{
	index_url_escape_segment(page, text);
}

const char *
web_base_path(const struct config *config)
{
	const char *url = config->web_url != NULL ? config->web_url : "";
	const char *host = strstr(url, "://");
	const char *slash = host != NULL ? strchr(host + 3, '/') : NULL;

	return slash != NULL ? slash : "";
}

void
web_page_begin(struct ga_buf *page, struct http_request *request, const char *title,
	       const struct web_session *session)
{
	const char *base = web_base_path(service_config(request->service));

	web_html(page,
		 "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		 "<meta name=\"referrer\" content=\"same-origin\">"
		 "<title>%s</title><link rel=\"stylesheet\" href=\"%s/static/web.css\"></head>\n"
		 "<body><header><a class=\"brand\" href=\"%s/\">",
		 title, base, base);
	if (session != NULL && session->valid) {
		web_html(page, "%s packages</a><nav><span class=\"who\">%s</span>",
			 org_snapshot_organization(session->snapshot), session->login);
		if (org_snapshot_member_is_owner(session->snapshot, session->member))
			web_html(page, "<a href=\"%s/organization\">Organization</a>", base);
		web_html(page,
			 "<form method=\"post\" action=\"%s/logout\">"
			 "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
			 "<button type=\"submit\">Sign out</button></form></nav>",
			 base, session->csrf);
	} else {
		web_html(page, "Package index</a>");
	}
	web_html(page, "</header>\n<main>\n");
}

void
web_page_end(struct ga_buf *page)
{
	web_html(page, "</main>\n<footer>ghaccess</footer></body></html>\n");
}

static void
add_headers(struct MHD_Response *response, const char *const *cookies)
{
	MHD_add_response_header(response, "Content-Security-Policy", CSP);
	MHD_add_response_header(response, "X-Frame-Options", "DENY");
	MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
	/* same-origin, not no-referrer: with no-referrer a browser sends
	 * "Origin: null" with our own forms, which web_form_check refuses. */
	MHD_add_response_header(response, "Referrer-Policy", "same-origin");
	MHD_add_response_header(response, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	for (size_t i = 0; cookies != NULL && cookies[i] != NULL; i++)
		MHD_add_response_header(response, MHD_HTTP_HEADER_SET_COOKIE, cookies[i]);
}

static void
send_response(struct http_request *request, unsigned status, const char *type,
	      struct ga_buf *body, const char *const *cookies, const char *location)
{
	size_t len = body->len;
	char *data = ga_buf_steal(body);
	struct MHD_Response *response = MHD_create_response_from_buffer_with_free_callback(
		len, data != NULL ? data : ga_strdup(""), ga_free);

	if (response == NULL) {
		http_respond_error(request, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (location != NULL)
		MHD_add_response_header(response, MHD_HTTP_HEADER_LOCATION, location);
	add_headers(response, cookies);
	http_respond_shared(request, status, response);
	MHD_destroy_response(response);
}

void
web_send(struct http_request *request, unsigned status, struct ga_buf *page,
	 const char *const *cookies)
{
	send_response(request, status, "text/html; charset=utf-8", page, cookies, NULL);
}

void
web_redirect_absolute(struct http_request *request, const char *url, const char *const *cookies)
{
	struct ga_buf body;

	ga_buf_init(&body, 0);
	send_response(request, MHD_HTTP_SEE_OTHER, "text/html; charset=utf-8", &body, cookies, url);
}

void
web_redirect(struct http_request *request, const char *path, const char *const *cookies)
{
	char *location = ga_asprintf("%s%s", web_base_path(service_config(request->service)), path);

	web_redirect_absolute(request, location, cookies);
	ga_free(location);
}

void
web_send_message(struct http_request *request, unsigned status, const char *title,
		 const char *message, const struct web_session *session,
		 const char *const *cookies)
{
	struct ga_buf page;

	ga_buf_init(&page, 0);
	web_page_begin(&page, request, title, session);
	web_html(&page, "<h1>%s</h1><p>%s</p><p><a href=\"%s/\">Back</a></p>", title, message,
		 web_base_path(service_config(request->service)));
	web_page_end(&page);
	web_send(request, status, &page, cookies);
}

char *
web_cookie_header(const struct config *config, const char *name, const char *value,
		  long long max_age)
{
	/* SameSite=Lax: sent on the top-level redirect back from GitHub, never
	 * on a cross-site POST or a subresource. */
	return ga_asprintf("%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Lax%s", name,
			   max_age > 0 ? value : "", max_age > 0 ? max_age : 0,
			   config->web_cookie_secure ? "; Secure" : "");
}

/* Readable at phone width: one column, tables that scroll sideways. */
static const char stylesheet[] =
	":root{color-scheme:light dark;--fg:#1f2328;--bg:#fff;--muted:#59636e;--line:#d1d9e0;"
	"--accent:#0969da;--warn:#9a6700}\n"
	"@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;"
	"--line:#3d444d;--accent:#4493f8;--warn:#d29922}}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--fg);"
	"background:var(--bg)}\n"
	"header{display:flex;flex-wrap:wrap;gap:.5em 1em;align-items:center;"
	"justify-content:space-between;padding:.6em 1em;border-bottom:1px solid var(--line)}\n"
	"header .brand{font-weight:600;color:var(--fg);text-decoration:none}\n"
	"nav{display:flex;flex-wrap:wrap;gap:.5em 1em;align-items:center}\n"
	"nav form{margin:0}\n"
	".who{color:var(--muted)}\n"
	"main{max-width:60em;margin:0 auto;padding:1em}\n"
	"footer{max-width:60em;margin:2em auto 1em;padding:0 1em;color:var(--muted);"
	"font-size:.85em}\n"
	"h1{font-size:1.5em;margin:.3em 0 .6em;overflow-wrap:anywhere}\n"
	"h2{font-size:1.15em;margin:1.6em 0 .5em}\n"
	"a{color:var(--accent)}\n"
	".scroll{overflow-x:auto}\n"
	"table{border-collapse:collapse;width:100%}\n"
	"th,td{text-align:left;padding:.35em .6em .35em 0;border-bottom:1px solid var(--line);"
	"vertical-align:top}\n"
	"th{font-size:.85em;color:var(--muted);font-weight:600}\n"
	"code,pre{font:.9em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}\n"
	"pre{background:rgba(127,127,127,.12);padding:.6em;overflow-x:auto;white-space:pre}\n"
	".hash{overflow-wrap:anywhere;font-size:.8em}\n"
	".why{border-left:4px solid var(--accent);padding:.4em .8em;"
	"background:rgba(127,127,127,.08)}\n"
	".yanked{color:var(--warn)}\n"
	".muted{color:var(--muted)}\n"
	".badge{display:inline-block;padding:0 .5em;border:1px solid var(--line);"
	"border-radius:1em;font-size:.85em}\n"
	"form.filter{display:flex;gap:.5em;margin:0 0 1em}\n"
	"form.filter input{flex:1;min-width:0;padding:.4em;font:inherit}\n"
	"button,.button{font:inherit;padding:.35em .9em;border:1px solid var(--line);"
	"border-radius:6px;background:rgba(127,127,127,.1);color:var(--fg);cursor:pointer;"
	"text-decoration:none;display:inline-block}\n"
	".signin{margin:3em 0;text-align:center}\n"
	".signin .button{font-size:1.1em;padding:.6em 1.4em}\n"
	"dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}\n"
	"dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}\n"
	"form.change{display:inline-flex;flex-wrap:wrap;gap:.3em;margin:.2em 0 .2em 1em;"
	"font-weight:normal;font-size:.9em}\n"
	"form.change input{padding:.25em;font:inherit;min-width:8em}\n"
	"form.change button{padding:.2em .6em}\n"
	"button.danger{color:var(--warn)}\n";

void
web_send_css(struct http_request *request)
{
	struct MHD_Response *response = MHD_create_response_from_buffer(
		sizeof(stylesheet) - 1, (void *)stylesheet, MHD_RESPMEM_PERSISTENT);

	if (response == NULL) {
		http_respond_error(request, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/css; charset=utf-8");
	MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "public, max-age=3600");
	http_respond_shared(request, MHD_HTTP_OK, response);
	MHD_destroy_response(response);
}
