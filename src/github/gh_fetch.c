/*
 * gh_fetch.c - anonymous GETs of public JSON documents through the GitHub
 * transport (gh_http.c): GitHub Actions' OIDC discovery document and key
 * set, for trusted publishing (src/oidc/).  One try: the caller limits how
 * often it asks and keeps what it had when a fetch fails.
 */
#include "github/gh_internal.h"

#include <string.h>

#include "util/ga_xalloc.h"

enum ga_rc
gh_fetch_public(struct gh_client *client, const char *url, size_t max_bytes, char **body,
		size_t *len, struct ga_err *err)
{
	struct gh_request request = {.method = "GET", .url = url, .what = "GET public document",
				     .anonymous = true, .accept = "application/json",
				     .retry = GH_RETRY_NONE};
	struct gh_response response;
	char problem[GA_ERR_MESSAGE_MAX / 2];
	struct ga_err inner = {0};
	enum ga_rc rc = GA_OK;

	*body = NULL;
	*len = 0;
	gh_response_init(&response, max_bytes);
	gh_http_request(client, NULL, &request, &response, NULL, &inner);
	if (!response.final) {
		/* cancelled: nothing was asked */
		rc = ga_err_set(err, GA_EUPSTREAM, "GET %s: %s", url, inner.message);
	} else if (response.too_large || response.transport != CURLE_OK ||
		   response.status != 200) {
		rc = ga_err_set(err, GA_EUPSTREAM, "GET %s: %s", url,
				gh_http_describe(&response, problem, sizeof(problem)));
	} else {
		*len = response.body.len;
		*body = ga_buf_steal(&response.body);
		if (*body == NULL)
			*body = ga_strdup("");
	}
	gh_response_free(&response);
	return rc;
}
