/*
 * org_input_json.c - the snapshot file format: struct org_input as JSON.
 *
 * The same text is written by `ghaccess sync --out`, read by
 * `serve --snapshot`, and shared between instances through memcached.  It
 * holds what GitHub said, not decisions, so a new configuration applies on
 * load.  The reader checks every type and value: a file is outside data.
 * Format: docs/internals/snapshot-format.md.
 */
#include "org/org_input.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ga_file.h"
#include "util/ga_xalloc.h"

#define SNAPSHOT_FORMAT "ghaccess-snapshot"
#define SNAPSHOT_VERSION 1

static const char *const pyproject_state_names[] = {
	[ORG_PYPROJECT_MISSING] = "missing",
	[ORG_PYPROJECT_TEXT] = "text",
	[ORG_PYPROJECT_BINARY] = "binary",
	[ORG_PYPROJECT_TRUNCATED] = "truncated",
	[ORG_PYPROJECT_UNREADABLE] = "unreadable",
	[ORG_PYPROJECT_UNDETERMINED] = "undetermined",
};

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
team_to_json(const struct org_input_team *team)
{
	json_t *members = json_array();

	for (size_t m = 0; m < team->member_count; m++)
		json_array_append_new(members, json_string(team->member_logins[m]));
	return json_pack("{s:I, s:s, s:s, s:s?, s:o, s:o}", "id", (json_int_t)team->id,
			 "slug", team->slug, "name", team->name, "parent", team->parent_slug,
			 "members", members, "repositories",
			 grants_to_json(team->repositories, team->repository_count, "name"));
}

static json_t *
repository_to_json(const struct org_input_repository *repository)
{
	json_t *object = json_pack("{s:I, s:s, s:b, s:b, s:s}", "id", (json_int_t)repository->id,
				   "name", repository->name, "archived", repository->archived,
				   "disabled", repository->disabled, "pyproject",
				   pyproject_state_names[repository->pyproject_state]);

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

char *
org_input_to_json(const struct org_input *input)
{
	json_t *members = json_array();
	json_t *teams = json_array();
	json_t *repositories = json_array();
	json_t *root;
	char *dumped;
	char *text;

	for (size_t i = 0; i < input->member_count; i++)
		json_array_append_new(members, json_pack("{s:s, s:I, s:b}", "login",
							 input->members[i].login, "id",
							 (json_int_t)input->members[i].id, "owner",
							 input->members[i].is_owner));
	for (size_t i = 0; i < input->team_count; i++)
		json_array_append_new(teams, team_to_json(&input->teams[i]));
	for (size_t i = 0; i < input->repository_count; i++)
		json_array_append_new(repositories, repository_to_json(&input->repositories[i]));
	root = json_pack("{s:s, s:i, s:s, s:o, s:I, s:o, s:o, s:o}", "format", SNAPSHOT_FORMAT,
			 "version", SNAPSHOT_VERSION, "organization", input->organization,
			 "base_permission",
			 input->base_permission_known
				 ? json_string(org_level_name(input->base_permission))
				 : json_null(),
			 "synced_at", (json_int_t)input->synced_at, "members", members, "teams",
			 teams, "repositories", repositories);
	if (input->unnamed_repositories > 0)
		json_object_set_new(root, "unnamed_repositories",
				    json_integer((json_int_t)input->unnamed_repositories));
	if (input->organization_id > 0)
		json_object_set_new(root, "organization_id", json_integer(input->organization_id));
	dumped = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	/* jansson allocates with malloc; hand the caller our allocator's copy. */
	text = ga_strdup(dumped);
	free(dumped);	/* style-ok: jansson's allocation */
	return text;
}

/* ---- reading ---------------------------------------------------------- */

struct reader {
	struct ga_err *err;
	const char *where;	/* "members[3]" for messages */
	char where_buffer[96];
};

static enum ga_rc
fail(struct reader *reader, const char *field, const char *problem)
{
	return ga_err_set(reader->err, GA_EPARSE, "snapshot: %s.%s: %s", reader->where, field,
			  problem);
}

static enum ga_rc
get_string(struct reader *reader, json_t *object, const char *field, bool nullable,
	   const char **out)
{
	json_t *value = json_object_get(object, field);

	*out = NULL;
	if (nullable && (value == NULL || json_is_null(value)))
		return GA_OK;
	if (!json_is_string(value))
		return fail(reader, field, "expected a string");
	if (strlen(json_string_value(value)) != json_string_length(value))
		return fail(reader, field, "contains a NUL character");
	*out = json_string_value(value);
	return GA_OK;
}

static enum ga_rc
get_integer(struct reader *reader, json_t *object, const char *field, long long *out)
{
	json_t *value = json_object_get(object, field);

	if (!json_is_integer(value))
		return fail(reader, field, "expected an integer");
	*out = json_integer_value(value);
	return GA_OK;
}

static enum ga_rc
get_boolean(struct reader *reader, json_t *object, const char *field, bool *out)
{
	json_t *value = json_object_get(object, field);

	if (!json_is_boolean(value))
		return fail(reader, field, "expected true or false");
	*out = json_is_true(value);
	return GA_OK;
}

static enum ga_rc
get_array(struct reader *reader, json_t *object, const char *field, json_t **out)
{
	*out = json_object_get(object, field);
	if (!json_is_array(*out))
		return fail(reader, field, "expected an array");
	return GA_OK;
}

static void
set_where(struct reader *reader, const char *list, size_t index)
{
	snprintf(reader->where_buffer, sizeof(reader->where_buffer), "%s[%zu]", list, index);
	reader->where = reader->where_buffer;
}

static enum ga_rc
read_level(struct reader *reader, json_t *object, enum org_level *level)
{
	const char *text;
	enum ga_rc rc = get_string(reader, object, "permission", false, &text);

	if (rc == GA_OK && !org_level_parse(text, level))
		rc = fail(reader, "permission", "unknown permission");
	return rc;
}

static enum ga_rc
read_members(struct reader *reader, json_t *root, struct org_input *input)
{
	json_t *array;
	json_t *item;
	size_t i;
	enum ga_rc rc = get_array(reader, root, "members", &array);

	json_array_foreach(array, i, item) {
		const char *login = NULL;
		long long id = 0;
		bool owner = false;

		set_where(reader, "members", i);
		if (rc == GA_OK)
			rc = get_string(reader, item, "login", false, &login);
		if (rc == GA_OK)
			rc = get_integer(reader, item, "id", &id);
		if (rc == GA_OK)
			rc = get_boolean(reader, item, "owner", &owner);
		if (rc != GA_OK)
			return rc;
		org_input_add_member(input, login, id, owner);
	}
	return rc;
}

static enum ga_rc
read_team(struct reader *reader, json_t *item, struct org_input *input)
{
	const char *slug, *name, *parent;
	long long id = 0;
	json_t *members, *repositories, *value;
	struct org_input_team *team;
	size_t j;
	enum ga_rc rc = get_integer(reader, item, "id", &id);

	if (rc == GA_OK)
		rc = get_string(reader, item, "slug", false, &slug);
	if (rc == GA_OK)
		rc = get_string(reader, item, "name", false, &name);
	if (rc == GA_OK)
		rc = get_string(reader, item, "parent", true, &parent);
	if (rc == GA_OK)
		rc = get_array(reader, item, "members", &members);
	if (rc == GA_OK)
		rc = get_array(reader, item, "repositories", &repositories);
	if (rc != GA_OK)
		return rc;
	team = org_input_add_team(input, id, slug, name, parent);
	json_array_foreach(members, j, value) {
		if (!json_is_string(value))
			return fail(reader, "members", "expected strings");
		if (strlen(json_string_value(value)) != json_string_length(value))
			return fail(reader, "members", "contains a NUL character");
		org_input_team_add_member(team, json_string_value(value));
	}
	json_array_foreach(repositories, j, value) {
		const char *repository;
		enum org_level level = ORG_LEVEL_NONE;

		rc = get_string(reader, value, "name", false, &repository);
		if (rc == GA_OK)
			rc = read_level(reader, value, &level);
		if (rc != GA_OK)
			return rc;
		org_input_team_add_repository(team, repository, level);
	}
	return GA_OK;
}

static enum ga_rc
read_pyproject(struct reader *reader, json_t *item, struct org_input_repository *repository)
{
	const char *state;
	enum ga_rc rc = get_string(reader, item, "pyproject", false, &state);
	json_t *text;

	if (rc != GA_OK)
		return rc;
	for (size_t s = 0; s < sizeof(pyproject_state_names) / sizeof(*pyproject_state_names); s++)
		if (strcmp(state, pyproject_state_names[s]) == 0)
			repository->pyproject_state = (enum org_pyproject_state)s;
	if (strcmp(state, pyproject_state_names[repository->pyproject_state]) != 0)
		return fail(reader, "pyproject", "unknown state");
	if (repository->pyproject_state != ORG_PYPROJECT_TEXT)
		return GA_OK;
	text = json_object_get(item, "pyproject_text");
	if (!json_is_string(text))
		return fail(reader, "pyproject_text", "expected a string");
	org_input_repository_set_pyproject(repository, json_string_value(text),
					   json_string_length(text));
	return GA_OK;
}

/* "fork": {"parent": "owner/name" | null} and "template": true, both optional. */
static enum ga_rc
read_origin(struct reader *reader, json_t *item, struct org_input_repository *repository)
{
	json_t *fork = json_object_get(item, "fork");
	json_t *template = json_object_get(item, "template");
	const char *parent = NULL;
	enum ga_rc rc = GA_OK;

	if (fork != NULL && !json_is_object(fork))
		return fail(reader, "fork", "expected an object");
	if (fork != NULL)
		rc = get_string(reader, fork, "parent", true, &parent);
	if (rc == GA_OK && fork != NULL)
		org_input_repository_set_fork(repository, true, parent);
	if (rc == GA_OK && template != NULL && !json_is_true(template))
		rc = fail(reader, "template", "expected true");
	repository->is_template = template != NULL;
	return rc;
}

static enum ga_rc
read_repository(struct reader *reader, json_t *item, struct org_input *input)
{
	const char *name;
	long long id = 0;
	bool archived = false, disabled = false;
	json_t *collaborators, *value;
	struct org_input_repository *repository;
	size_t j;
	enum ga_rc rc = get_integer(reader, item, "id", &id);

	if (rc == GA_OK)
		rc = get_string(reader, item, "name", false, &name);
	if (rc == GA_OK)
		rc = get_boolean(reader, item, "archived", &archived);
	if (rc == GA_OK)
		rc = get_boolean(reader, item, "disabled", &disabled);
	if (rc != GA_OK)
		return rc;
	repository = org_input_add_repository(input, id, name, archived, disabled);
	rc = read_pyproject(reader, item, repository);
	if (rc == GA_OK)
		rc = read_origin(reader, item, repository);
	if (rc != GA_OK)
		return rc;
	collaborators = json_object_get(item, "collaborators");
	if (json_is_null(collaborators)) {
		repository->collaborators_known = false;
		return GA_OK;
	}
	if (!json_is_array(collaborators))
		return fail(reader, "collaborators", "expected an array or null");
	json_array_foreach(collaborators, j, value) {
		const char *login = NULL;
		enum org_level level = ORG_LEVEL_NONE;

		rc = get_string(reader, value, "login", false, &login);
		if (rc == GA_OK)
			rc = read_level(reader, value, &level);
		if (rc != GA_OK)
			return rc;
		org_input_repository_add_collaborator(repository, login, level);
	}
	return GA_OK;
}

static enum ga_rc
read_list(struct reader *reader, json_t *root, const char *field, struct org_input *input,
	  enum ga_rc (*read_item)(struct reader *, json_t *, struct org_input *))
{
	json_t *array, *item;
	size_t i;
	enum ga_rc rc = get_array(reader, root, field, &array);

	json_array_foreach(array, i, item) {
		if (rc != GA_OK)
			break;
		set_where(reader, field, i);
		if (!json_is_object(item))
			return fail(reader, "", "expected an object");
		rc = read_item(reader, item, input);
	}
	return rc;
}

static enum ga_rc
read_header(struct reader *reader, json_t *root, struct org_input *input)
{
	const char *format, *organization, *base;
	long long version;
	enum ga_rc rc = get_string(reader, root, "format", false, &format);

	if (rc == GA_OK && strcmp(format, SNAPSHOT_FORMAT) != 0)
		return fail(reader, "format", "not a ghaccess snapshot");
	if (rc == GA_OK)
		rc = get_integer(reader, root, "version", &version);
	if (rc == GA_OK && version != SNAPSHOT_VERSION)
		return fail(reader, "version", "unsupported snapshot version");
	if (rc == GA_OK)
		rc = get_string(reader, root, "organization", false, &organization);
	if (rc == GA_OK)
		rc = get_string(reader, root, "base_permission", true, &base);
	if (rc == GA_OK)
		rc = get_integer(reader, root, "synced_at", &input->synced_at);
	/* Optional: snapshots written before trusted publishing lack it. */
	if (rc == GA_OK && json_object_get(root, "organization_id") != NULL)
		rc = get_integer(reader, root, "organization_id", &input->organization_id);
	if (rc != GA_OK)
		return rc;
	input->organization = ga_strdup(organization);
	if (json_object_get(root, "unnamed_repositories") != NULL) {
		long long unnamed = 0;

		rc = get_integer(reader, root, "unnamed_repositories", &unnamed);
		if (rc == GA_OK && unnamed < 0)
			rc = fail(reader, "unnamed_repositories", "expected a count");
		if (rc != GA_OK)
			return rc;
		input->unnamed_repositories = (size_t)unnamed;
	}
	input->base_permission_known = base != NULL;
	if (base != NULL && !org_level_parse(base, &input->base_permission))
		return fail(reader, "base_permission", "unknown permission");
	return GA_OK;
}

enum ga_rc
org_input_from_json(const char *text, size_t len, struct org_input **out, struct ga_err *err)
{
	json_error_t json_error;
	struct reader reader = {.err = err, .where = "snapshot"};
	struct org_input *input;
	enum ga_rc rc;
	/* NUL is allowed by the parser because a pyproject.toml may hold one
	 * (GitHub returns it as \u0000, and org_input_to_json writes it back):
	 * rejecting it here would make such a snapshot unreadable after a
	 * restart.  Every other string is checked for NUL where it is read. */
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
				  &json_error);

	*out = NULL;
	if (!json_is_object(root)) {
		json_decref(root);
		return ga_err_set_at(err, GA_EPARSE, json_error.line, json_error.column,
				     "snapshot: not a JSON object: %s", json_error.text);
	}
	input = org_input_new();
	rc = read_header(&reader, root, input);
	if (rc == GA_OK)
		rc = read_members(&reader, root, input);
	if (rc == GA_OK)
		rc = read_list(&reader, root, "teams", input, read_team);
	if (rc == GA_OK)
		rc = read_list(&reader, root, "repositories", input, read_repository);
	json_decref(root);
	if (rc != GA_OK) {
		org_input_free(input);
		return rc;
	}
	*out = input;
	return GA_OK;
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
