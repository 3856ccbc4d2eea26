/* http_login.c - Basic credentials of people (GitHub login + token); see http_login.h. */
#include "http/http_login.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/http_basic.h"
#include "http/http_publisher.h"
#include "http/http_reason.h"
#include "util/ga_xalloc.h"

static enum MHD_Result
count_authorization(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	unsigned *count = cls;

	(void)kind;
	(void)value;
	if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0)
		(*count)++;
	return MHD_YES;
}

void
http_login_check(struct http_request *request, struct http_login *out)
{
	struct http_basic_credentials credentials;
	struct service_login_result result;
	const struct service_view *view;
	enum service_login login;
	unsigned headers = 0;

	memset(out, 0, sizeof(*out));
	out->member = -1;
	view = http_request_view(request);
	out->snapshot = view != NULL ? service_view_snapshot(view) : NULL;
	MHD_get_connection_values(request->connection, MHD_HEADER_KIND, count_authorization,
				  &headers);
	if (headers == 0) {
		out->status = HTTP_LOGIN_MISSING;
		return;
	}
	/* Two Authorization headers: which one did a proxy look at? */
	if (headers > 1 ||
	    !http_basic_parse(http_request_header(request, MHD_HTTP_HEADER_AUTHORIZATION),
			      &credentials)) {
		out->status = HTTP_LOGIN_REFUSED;
		return;
	}
	/* The one hook of trusted publishing: a minted token, not a GitHub login. */
	if (strcmp(credentials.user, HTTP_PUBLISHER_USERNAME) == 0) {
		http_publisher_check(request, credentials.password, out);
		explicit_bzero(credentials.password, sizeof(credentials.password));
		return;
	}
	login = http_request_login(request, out->snapshot, credentials.user, credentials.password,
				   &result);
	explicit_bzero(credentials.password, sizeof(credentials.password));
	/* The login stays: it is copied below when it verified. */
	switch (login) {
	case SERVICE_LOGIN_OK:
		out->status = HTTP_LOGIN_OK;
		out->member = result.member;
		snprintf(out->user, sizeof(out->user), "%.39s", credentials.user);
		http_request_set_user(request, out->user);
		break;
	case SERVICE_LOGIN_PENDING:
		out->status = HTTP_LOGIN_PENDING;
		break;
	case SERVICE_LOGIN_BUSY:
		out->status = HTTP_LOGIN_BUSY;
		break;
	case SERVICE_LOGIN_NO_SNAPSHOT:
	case SERVICE_LOGIN_UNVERIFIED:
		out->status = HTTP_LOGIN_UNAVAILABLE;
		break;
	default:
		out->status = HTTP_LOGIN_REFUSED;
		snprintf(out->detail, sizeof(out->detail), "%s", result.detail);
		break;
	}
}


void
http_login_refuse(struct http_request *request, const struct http_login *login)
{
	const struct config *config = service_config(request->service);
	char challenge[160];

	switch (login->status) {
	case HTTP_LOGIN_PENDING:
	case HTTP_LOGIN_OK:
		return;
	case HTTP_LOGIN_UNAVAILABLE:
		http_respond_text(request, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "cannot check credentials right now, try again",
				  MHD_HTTP_HEADER_RETRY_AFTER, "5");
		return;
	case HTTP_LOGIN_BUSY:
		/* Refused without asking GitHub: many unknown tokens at once,
		 * for this login or in all. */
		http_respond_text(request, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "too many logins are being checked with GitHub right now, try "
				  "again in a few seconds",
				  MHD_HTTP_HEADER_RETRY_AFTER, "5");
		return;
	case HTTP_LOGIN_MISSING:
	case HTTP_LOGIN_REFUSED:
		break;
	}
	snprintf(challenge, sizeof(challenge), "Basic realm=\"%s\", charset=\"UTF-8\"",
		 config->realm != NULL ? config->realm : "ghaccess");
	http_respond_text(request, MHD_HTTP_UNAUTHORIZED,
			  login->status == HTTP_LOGIN_MISSING
				  ? "credentials required: your GitHub login, and a GitHub token as "
				    "the password"
			  : login->detail[0] != '\0'
				  ? login->detail
				  : "invalid credentials: your GitHub login, and a valid GitHub token "
				    "of an organization member as the password",
			  MHD_HTTP_HEADER_WWW_AUTHENTICATE, challenge);
}
