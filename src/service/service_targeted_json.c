/*
 * service_targeted_json.c - a targeted result as JSON, for a change log
 * shared between instances (issue 14 part 3): what one instance read can be
 * applied by another.  See service_webhook.h.
 *
 *   {"version":1,"kind":"team_members","name":"platform","at_ms":1796433791000,
 *    "data":"<org_input_to_json of the result's data>"}
 *
 * The data is the snapshot file format (org_input_to_json), carried as a
 * string so that org_input_from_json validates it whole.  Reading trusts
 * nothing: the kind must be known, the name GitHub's characters, and the
 * data must hold exactly the one record the kind names (a value that
 * carries more, say a whole organization under a team's name, is refused).
 */
#include "service/service_webhook.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "util/ga_xalloc.h"

#define TARGETED_JSON_VERSION 1

static const struct {
	enum service_targeted_kind kind;
	const char *name;
} kinds[] = {
	{SERVICE_TARGETED_TEAM_MEMBERS, "team_members"},
	{SERVICE_TARGETED_TEAM_REPOSITORIES, "team_repositories"},
	{SERVICE_TARGETED_REPOSITORY, "repository"},
	{SERVICE_TARGETED_MEMBER, "member"},
};

char *
service_targeted_to_json(const struct service_targeted_result *result, long long at_ms)
{
	const char *kind = NULL;
	char *data;
	char *text;
	json_t *root;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].kind == result->target.kind)
			kind = kinds[i].name;
	if (kind == NULL || result->data == NULL)
		return NULL;
	data = org_input_to_json(result->data);
	root = json_pack("{s:i, s:s, s:s, s:I, s:s}", "version", TARGETED_JSON_VERSION, "kind",
			 kind, "name", result->target.name, "at_ms", (json_int_t)at_ms, "data", data);
	ga_free(data);
	if (root == NULL)
		return NULL;
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (text == NULL)
		return NULL;
	/* jansson allocates with malloc: hand back a ga_ string. */
	data = ga_strdup(text);
	free(text);	/* style-ok: jansson's allocation */
	return data;
}

/* The data holds exactly the record kind names, and nothing else. */
static bool
data_fits(enum service_targeted_kind kind, const char *name, const struct org_input *data)
{
	size_t members = data->member_count;
	size_t teams = data->team_count;
	size_t repositories = data->repository_count;

	switch (kind) {
	case SERVICE_TARGETED_TEAM_MEMBERS:
	case SERVICE_TARGETED_TEAM_REPOSITORIES:
		return members == 0 && repositories == 0 && teams == 1 &&
		       strcasecmp(data->teams[0].slug, name) == 0 &&
		       (kind == SERVICE_TARGETED_TEAM_MEMBERS ? data->teams[0].repository_count
							      : data->teams[0].member_count) == 0;
	case SERVICE_TARGETED_REPOSITORY:
		return members == 0 && teams == 0 && repositories == 1 &&
		       strcasecmp(data->repositories[0].name, name) == 0;
	case SERVICE_TARGETED_MEMBER:
		return teams == 0 && repositories == 0 && members == 1 &&
		       strcasecmp(data->members[0].login, name) == 0;
	case SERVICE_TARGETED_NONE:
	default:
		return false;
	}
}

static enum ga_rc
parse_kind(const char *text, enum service_targeted_kind *kind, struct ga_err *err)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(kinds[i].name, text) == 0) {
			*kind = kinds[i].kind;
			return GA_OK;
		}
	}
	return ga_err_set(err, GA_EPARSE, "targeted result: unknown kind");
}

enum ga_rc
service_targeted_from_json(const char *text, size_t len, struct service_targeted_result *out,
			   long long *at_ms, struct ga_err *err)
{
	json_error_t error;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
	json_int_t version = 0;
	json_int_t at = 0;
	const char *kind = NULL;
	const char *name = NULL;
	const char *data = NULL;
	size_t data_len = 0;
	enum ga_rc rc = GA_OK;

	memset(out, 0, sizeof(*out));
	out->target.kind = SERVICE_TARGETED_NONE;
	*at_ms = 0;
	if (root == NULL || json_unpack_ex(root, &error, JSON_STRICT, "{s:I, s:s, s:s, s:I, s:s%}",
					   "version", &version, "kind", &kind, "name", &name,
					   "at_ms", &at, "data", &data, &data_len) != 0)
		rc = ga_err_set(err, GA_EPARSE, "targeted result: not the expected object");
	if (rc == GA_OK && version != TARGETED_JSON_VERSION)
		rc = ga_err_set(err, GA_EPARSE, "targeted result: version %lld unknown",
				(long long)version);
	if (rc == GA_OK && at <= 0)
		rc = ga_err_set(err, GA_EPARSE, "targeted result: at_ms is not a time");
	if (rc == GA_OK)
		rc = parse_kind(kind, &out->target.kind, err);
	if (rc == GA_OK && !service_webhook_name_is_valid(name, SERVICE_WEBHOOK_NAME_MAX))
		rc = ga_err_set(err, GA_EPARSE, "targeted result: the name is not GitHub's");
	if (rc == GA_OK)
		rc = org_input_from_json(data, data_len, &out->data, err);
	if (rc == GA_OK && !data_fits(out->target.kind, name, out->data))
		rc = ga_err_set(err, GA_EPARSE,
				"targeted result: the data is not the one record its kind names");
	if (rc == GA_OK) {
		memcpy(out->target.name, name, strlen(name) + 1);
		*at_ms = (long long)at;
	} else {
		org_input_free(out->data);
		memset(out, 0, sizeof(*out));
		out->target.kind = SERVICE_TARGETED_NONE;
	}
	json_decref(root);
	return rc;
}
