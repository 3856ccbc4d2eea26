/*
 * fuzz_org_access.c - what GitHub answers to GET /user/memberships/orgs/{org}:
 * the X-GitHub-SSO header value (gh_parse_sso_header) and the reply body
 * (gh_parse_membership_rest).  Contracts:
 *   - an SSO URL is handed back only when it is an http(s) URL of
 *     printable ASCII without spaces, that fits and occurs in the header
 *     (it ends up in a reason phrase that twine and pip print); otherwise
 *     the URL is "";
 *   - the membership parser answers GA_OK or GA_EUPSTREAM, and "active"
 *     only with GA_OK.
 * Input: the header value up to the first newline, then the body.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "github/gh_internal.h"
#include "util/ga_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_url(const char *header, const char *url, size_t size, bool found)
{
	size_t len = strlen(url);

	if (!found) {
		if (len != 0)
			abort();
		return;
	}
	if (len == 0 || len >= size || strstr(header, url) == NULL)
		abort();
	if (strncasecmp(url, "https://", 8) != 0 && strncasecmp(url, "http://", 7) != 0)
		abort();
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *newline = memchr(data, '\n', size);
	size_t header_len = newline ? (size_t)(newline - data) : size;
	const char *body = newline ? (const char *)newline + 1 : "";
	size_t body_len = newline ? size - header_len - 1 : 0;
	char header[GH_SSO_HEADER_MAX];
	char url[GH_SSO_URL_MAX];
	char small[24];
	struct ga_err err;
	bool active = true;
	enum ga_rc rc;

	ga_log_setup(GA_LOG_SILENT, GA_LOG_LOGFMT);
	/* The HTTP layer keeps at most GH_SSO_HEADER_MAX - 1 bytes, NUL-free. */
	if (header_len >= sizeof(header) || memchr(data, '\0', header_len) != NULL)
		header_len = 0;
	memcpy(header, data, header_len);
	header[header_len] = '\0';
	check_url(header, url, sizeof(url), gh_parse_sso_header(header, url, sizeof(url)));
	check_url(header, small, sizeof(small), gh_parse_sso_header(header, small, sizeof(small)));

	rc = gh_parse_membership_rest(body, body_len, "acme", &active, &err);
	if (rc != GA_OK && rc != GA_EUPSTREAM)
		abort();
	if (rc != GA_OK && active)
		abort();
	return 0;
}
