/*
 * org_input_json.c - the snapshot file format: struct org_input as JSON,
 * written (the reader is org_input_json_read.c), and snapshot files.
 *
 * The same text is written by `ghaccess sync --out`, read by
 * `serve --snapshot`, and shared between instances through memcached.  It
 * holds what GitHub said, not decisions, so a new configuration applies on
 * load.  Format: docs/internals/snapshot-format.md.
 */
#include "org/org_input.h"

#include "org/org_input_json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ga_buf.h"
#include "util/ga_file.h"
#include "util/ga_xalloc.h"

const char *const org_pyproject_state_names[ORG_PYPROJECT_STATE_COUNT] = {
	[ORG_PYPROJECT_MISSING] = "missing",
	[ORG_PYPROJECT_TEXT] = "text",
	[ORG_PYPROJECT_BINARY] = "binary",
	[ORG_PYPROJECT_TRUNCATED] = "truncated",
	[ORG_PYPROJECT_UNREADABLE] = "unreadable",
	[ORG_PYPROJECT_UNDETERMINED] = "undetermined",
};

/*
 * Writing.  The text is the compact dump of one JSON object whose keys are
 * in the order below, exactly what json_dumps(JSON_COMPACT) makes of the
 * whole tree, but built one record at a time: a tree of the whole
 * organization costs about ten times the text (100 MiB at 30,000
 * repositories), one record's tree a few hundred bytes.
 */

static int
append_dump(const char *bytes, size_t len, void *data)
{
	return ga_buf_append(data, bytes, len) ? 0 : -1;
}

/* Dump value (any JSON value, taken) at the end of out. */
static void
append_value(struct ga_buf *out, json_t *value)
{
	json_dump_callback(value, append_dump, out, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(value);
}

static json_t *
grants_to_json(const struct org_input_grant *grants, size_t count, const char *name_key)
{
	json_t *array = json_array();

	for (size_t i = 0; i < count; i++)
		json_array_append_new(array, json_pack("{s:s, s:s}", name_key, grants[i].name,
						       "permission",
						       org_level_name(grants[i].level)));
	return array;
}

static json_t *
member_to_json(const void *item)
{
	const struct org_input_member *member = item;

	return json_pack("{s:s, s:I, s:b}", "login", member->login, "id", (json_int_t)member->id,
			 "owner", member->is_owner);
}

static json_t *
team_to_json(const void *item)
{
	const struct org_input_team *team = item;
	json_t *members = json_array();

	for (size_t m = 0; m < team->member_count; m++)
		json_array_append_new(members, json_string(team->member_logins[m]));
	return json_pack("{s:I, s:s, s:s, s:s?, s:o, s:o}", "id", (json_int_t)team->id,
			 "slug", team->slug, "name", team->name, "parent", team->parent_slug,
			 "members", members, "repositories",
			 grants_to_json(team->repositories, team->repository_count, "name"));
}

static json_t *
repository_to_json(const void *item)
{
	const struct org_input_repository *repository = item;
	json_t *object = json_pack("{s:I, s:s, s:b, s:b, s:s}", "id", (json_int_t)repository->id,
				   "name", repository->name, "archived", repository->archived,
				   "disabled", repository->disabled, "pyproject",
				   org_pyproject_state_names[repository->pyproject_state]);

	if (repository->pyproject_state == ORG_PYPROJECT_TEXT)
		json_object_set_new(object, "pyproject_text",
				    json_stringn(repository->pyproject_text,
						 repository->pyproject_length));
	json_object_set_new(object, "collaborators",
			    repository->collaborators_known
				    ? grants_to_json(repository->collaborators,
						     repository->collaborator_count, "login")
				    : json_null());
	/* Written only when set, so that files without them stay the same. */
	if (repository->is_fork)
		json_object_set_new(object, "fork", json_pack("{s:s?}", "parent",
							      repository->fork_parent));
	if (repository->is_template)
		json_object_set_new(object, "template", json_true());
	return object;
}

/* ,"key":[item,item,...] with each item's tree made, dumped and freed in turn. */
static void
append_list(struct ga_buf *out, const char *key, const void *items, size_t count, size_t size,
	    json_t *(*to_json)(const void *item))
{
	ga_buf_printf(out, ",\"%s\":[", key);
	for (size_t i = 0; i < count; i++) {
		if (i > 0)
			ga_buf_append_char(out, ',');
		append_value(out, to_json((const char *)items + i * size));
	}
	ga_buf_append_char(out, ']');
}

char *
org_input_to_json(const struct org_input *input)
{
	struct ga_buf out;
	size_t out_len;

	ga_buf_init(&out, 0);
	ga_buf_append_str(&out, "{\"format\":\"" SNAPSHOT_FORMAT "\",\"version\":");
	ga_buf_printf(&out, "%d", SNAPSHOT_VERSION);
	ga_buf_append_str(&out, ",\"organization\":");
	append_value(&out, json_string(input->organization != NULL ? input->organization : ""));
	ga_buf_append_str(&out, ",\"base_permission\":");
	append_value(&out, input->base_permission_known
				   ? json_string(org_level_name(input->base_permission))
				   : json_null());
	ga_buf_printf(&out, ",\"synced_at\":%lld", input->synced_at);
	append_list(&out, "members", input->members, input->member_count,
		    sizeof(*input->members), member_to_json);
	append_list(&out, "teams", input->teams, input->team_count, sizeof(*input->teams),
		    team_to_json);
	append_list(&out, "repositories", input->repositories, input->repository_count,
		    sizeof(*input->repositories), repository_to_json);
	if (input->unnamed_repositories > 0)
		ga_buf_printf(&out, ",\"unnamed_repositories\":%zu", input->unnamed_repositories);
	if (input->organization_id > 0)
		ga_buf_printf(&out, ",\"organization_id\":%lld", input->organization_id);
	ga_buf_append_char(&out, '}');
	out_len = out.len;
	/* Give back what the buffer's doubling left unused. */
	return ga_realloc(ga_buf_steal(&out), out_len + 1);
}

/* Snapshot files hold raw GitHub data; 1 GiB is far above any real org. */
#define SNAPSHOT_FILE_MAX (1u << 30)

enum ga_rc
org_input_read_file(const char *path, struct org_input **out, struct ga_err *err)
{
	struct ga_buf text;
	enum ga_rc rc = ga_file_read(path, SNAPSHOT_FILE_MAX, &text, err);

	*out = NULL;
	if (rc != GA_OK)
		return rc;
	rc = org_input_from_json(ga_buf_cstr(&text), text.len, out, err);
	ga_buf_free(&text);
	return rc;
}

enum ga_rc
org_input_write_file(const struct org_input *input, const char *path, struct ga_err *err)
{
	char *text = org_input_to_json(input);
	enum ga_rc rc = ga_file_write_atomic(path, text, strlen(text), 0, err);

	ga_free(text);
	return rc;
}
