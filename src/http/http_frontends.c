/* http_frontends.c - the table of front ends; a new front end is one line here (see http.h). */
#include "http/http.h"

const struct http_frontend *const http_frontends[] = {
	&http_pypicloud_frontend,
	&http_health_frontend,
	&http_index_frontend,
	&http_index_manage_frontend,
	&http_forward_auth_frontend,
	&http_metrics_frontend,
	&http_webhook_frontend,
	&http_web_frontend,
	&http_oidc_frontend,
	NULL,
};
