/*
 * org_input_json_read.c - the snapshot format read back into a struct
 * org_input (the writer is org_input_json.c).  The text is outside data (a
 * file, a memcached value): every field is type-checked, and anything
 * unexpected is GA_EPARSE with a message naming the field.
 */
#include "org/org_input.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "org/org_input_json.h"
#include "util/ga_xalloc.h"

/* ---- records ---------------------------------------------------------- */

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
read_member(struct reader *reader, json_t *item, struct org_input *input)
{
	const char *login = NULL;
	long long id = 0;
	bool owner = false;
	enum ga_rc rc = get_string(reader, item, "login", false, &login);

	if (rc == GA_OK)
		rc = get_integer(reader, item, "id", &id);
	if (rc == GA_OK)
		rc = get_boolean(reader, item, "owner", &owner);
	if (rc == GA_OK)
		org_input_add_member(input, login, id, owner);
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
	for (size_t s = 0; s < ORG_PYPROJECT_STATE_COUNT; s++)
		if (strcmp(state, org_pyproject_state_names[s]) == 0)
			repository->pyproject_state = (enum org_pyproject_state)s;
	if (strcmp(state, org_pyproject_state_names[repository->pyproject_state]) != 0)
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

/* ---- the document, one record at a time ------------------------------- */

/*
 * A whole document parsed by jansson at once costs about eight times its
 * text (80 MiB for the 10 MB of a 30,000-repository organization), on top
 * of the snapshot being replaced: every follower pays it on every shared
 * snapshot.  So the top-level object is walked here (whitespace, keys, ':'
 * and ','), each of its values is parsed by jansson on its own
 * (JSON_DISABLE_EOF_CHECK stops at the value's end and says where), and the
 * lists members, teams and repositories one level deeper, one record at a
 * time.  jansson still checks all the syntax, UTF-8 and nesting, and
 * duplicate keys inside each value; duplicate top-level keys are refused
 * here.  The text must hold nothing after the object but whitespace.
 */

/* NUL is allowed by the parser because a pyproject.toml may hold one
 * (GitHub returns it as \u0000, and org_input_to_json writes it back):
 * rejecting it here would make such a snapshot unreadable after a
 * restart.  Every other string is checked for NUL where it is read. */
#define VALUE_FLAGS \
	(JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK)

struct cursor {
	const char *text;
	size_t len;
	size_t pos;
};

static void
skip_space(struct cursor *cursor)
{
	while (cursor->pos < cursor->len) {
		char c = cursor->text[cursor->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return;
		cursor->pos++;
	}
}

/* Skip whitespace, then take c if it comes next. */
static bool
take(struct cursor *cursor, char c)
{
	skip_space(cursor);
	if (cursor->pos < cursor->len && cursor->text[cursor->pos] == c) {
		cursor->pos++;
		return true;
	}
	return false;
}

/* A syntax error at byte offset at, with its line and column. */
static enum ga_rc
syntax_error(struct reader *reader, const struct cursor *cursor, size_t at, const char *problem)
{
	int line = 1, column = 1;

	for (size_t i = 0; i < at && i < cursor->len; i++) {
		if (cursor->text[i] == '\n') {
			line++;
			column = 1;
		} else {
			column++;
		}
	}
	return ga_err_set_at(reader->err, GA_EPARSE, line, column,
			     "snapshot: not a JSON object: %s", problem);
}

/* The next value, parsed on its own (NULL: *rc says why). */
static json_t *
next_value(struct reader *reader, struct cursor *cursor, enum ga_rc *rc)
{
	json_error_t error;
	size_t start;
	json_t *value;

	skip_space(cursor);
	start = cursor->pos;
	value = json_loadb(cursor->text + start, cursor->len - start, VALUE_FLAGS, &error);
	if (value == NULL) {
		*rc = syntax_error(reader, cursor, start + (size_t)error.position, error.text);
		return NULL;
	}
	cursor->pos = start + (size_t)error.position;
	return value;
}

typedef enum ga_rc (*read_item_fn)(struct reader *reader, json_t *item, struct org_input *input);

/* Teams and repositories are objects; a member is read field by field. */
static enum ga_rc
read_object(struct reader *reader, json_t *item, struct org_input *input, read_item_fn read_item)
{
	if (!json_is_object(item))
		return fail(reader, "", "expected an object");
	return read_item(reader, item, input);
}

static enum ga_rc
read_team_item(struct reader *reader, json_t *item, struct org_input *input)
{
	return read_object(reader, item, input, read_team);
}

static enum ga_rc
read_repository_item(struct reader *reader, json_t *item, struct org_input *input)
{
	return read_object(reader, item, input, read_repository);
}

static const struct list {
	const char *name;
	read_item_fn read_item;
} lists[] = {
	{ "members", read_member },
	{ "teams", read_team_item },
	{ "repositories", read_repository_item },
};
#define LIST_COUNT (sizeof(lists) / sizeof(lists[0]))

/* The list's items, each read and freed in turn; the cursor is on '['. */
static enum ga_rc
read_list(struct reader *reader, struct cursor *cursor, const struct list *list,
	  struct org_input *input)
{
	enum ga_rc rc = GA_OK;

	take(cursor, '[');
	if (take(cursor, ']'))
		return GA_OK;
	for (size_t i = 0;; i++) {
		json_t *item = next_value(reader, cursor, &rc);

		if (item == NULL)
			return rc;
		set_where(reader, list->name, i);
		rc = list->read_item(reader, item, input);
		json_decref(item);
		reader->where = "snapshot";
		if (rc != GA_OK)
			return rc;
		if (take(cursor, ']'))
			return GA_OK;
		if (!take(cursor, ','))
			return syntax_error(reader, cursor, cursor->pos, "',' or ']' expected");
	}
}

static const struct list *
find_list(const char *key)
{
	for (size_t i = 0; i < LIST_COUNT; i++)
		if (strcmp(key, lists[i].name) == 0)
			return &lists[i];
	return NULL;
}

/*
 * One "key": value of the top level: a list streamed into input, anything
 * else kept in header (read by read_header afterwards, and where a list
 * that is not an array is found to be wrong).
 */
static enum ga_rc
read_member_of_document(struct reader *reader, struct cursor *cursor, json_t *header,
			bool listed[LIST_COUNT], struct org_input *input)
{
	enum ga_rc rc = GA_OK;
	size_t at;
	json_t *key, *value;
	const struct list *list;

	skip_space(cursor);
	at = cursor->pos;
	key = next_value(reader, cursor, &rc);
	if (key == NULL)
		return rc;
	if (!json_is_string(key) || strlen(json_string_value(key)) != json_string_length(key)) {
		json_decref(key);
		return syntax_error(reader, cursor, at, "string or '}' expected");
	}
	list = find_list(json_string_value(key));
	if (json_object_get(header, json_string_value(key)) != NULL ||
	    (list != NULL && listed[list - lists])) {
		json_decref(key);
		return syntax_error(reader, cursor, at, "duplicate object key");
	}
	if (!take(cursor, ':')) {
		json_decref(key);
		return syntax_error(reader, cursor, cursor->pos, "':' expected");
	}
	if (list != NULL)
		listed[list - lists] = true;
	skip_space(cursor);
	if (list != NULL && cursor->pos < cursor->len && cursor->text[cursor->pos] == '[') {
		rc = read_list(reader, cursor, list, input);
	} else if ((value = next_value(reader, cursor, &rc)) != NULL) {
		json_object_set_new(header, json_string_value(key), value);
	}
	json_decref(key);
	return rc;
}

static enum ga_rc
read_document(struct reader *reader, struct cursor *cursor, json_t *header,
	      struct org_input *input)
{
	bool listed[LIST_COUNT] = {false};
	enum ga_rc rc;

	if (!take(cursor, '{'))
		return syntax_error(reader, cursor, cursor->pos, "'{' expected");
	if (!take(cursor, '}')) {
		do {
			rc = read_member_of_document(reader, cursor, header, listed, input);
			if (rc != GA_OK)
				return rc;
		} while (take(cursor, ','));
		if (!take(cursor, '}'))
			return syntax_error(reader, cursor, cursor->pos, "',' or '}' expected");
	}
	skip_space(cursor);
	if (cursor->pos != cursor->len)
		return syntax_error(reader, cursor, cursor->pos, "end of file expected");
	rc = read_header(reader, header, input);
	/* A list missing, or not an array: the message of get_array. */
	for (size_t i = 0; i < LIST_COUNT && rc == GA_OK; i++)
		if (!listed[i] || json_object_get(header, lists[i].name) != NULL)
			rc = fail(reader, lists[i].name, "expected an array");
	return rc;
}

enum ga_rc
org_input_from_json(const char *text, size_t len, struct org_input **out, struct ga_err *err)
{
	struct reader reader = {.err = err, .where = "snapshot"};
	struct cursor cursor = {.text = text, .len = len, .pos = 0};
	struct org_input *input = org_input_new();
	json_t *header = json_object();
	enum ga_rc rc = read_document(&reader, &cursor, header, input);

	json_decref(header);
	*out = NULL;
	if (rc != GA_OK) {
		org_input_free(input);
		return rc;
	}
	*out = input;
	return GA_OK;
}
