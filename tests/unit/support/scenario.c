/* scenario.c - loading shared scenarios and asserting their expectations; see scenario.h. */
#include "scenario.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "org/org_names.h"
#include "org/org_policy.h"
#include "util/ga_xalloc.h"

const char *
scenario_directory(void)
{
	static char directory[4096];
	const char *custom = getenv("GHACCESS_SCENARIOS");

	/* Tests run from the top of the repository (tests/run-tests.sh). */
	snprintf(directory, sizeof(directory), "%s",
		 custom && *custom ? custom : "tests/scenarios");
	return directory;
}

static int
compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
scenario_paths(void)
{
	DIR *dir = opendir(scenario_directory());
	struct dirent *entry;
	char **paths = ga_calloc(1, sizeof(char *));
	size_t count = 0;

	if (dir == NULL) {
		fail_msg("cannot open scenario directory %s (set GHACCESS_SCENARIOS)", scenario_directory());
		return paths;
	}
	while ((entry = readdir(dir)) != NULL) {
		size_t len = strlen(entry->d_name);

		if (len < 5 || strcmp(entry->d_name + len - 5, ".json") != 0)
			continue;
		paths = ga_reallocarray(paths, count + 2, sizeof(char *));
		paths[count++] = ga_asprintf("%s/%s", scenario_directory(), entry->d_name);
		paths[count] = NULL;
	}
	closedir(dir);
	qsort(paths, count, sizeof(char *), compare_strings);
	return paths;
}

void
scenario_paths_free(char **paths)
{
	for (size_t i = 0; paths[i] != NULL; i++)
		ga_free(paths[i]);
	ga_free(paths);
}

json_t *
scenario_load(const char *path)
{
	json_error_t error;
	json_t *scenario = json_load_file(path, 0, &error);

	if (scenario == NULL)
		fail_msg("%s:%d: %s", path, error.line, error.text);
	return scenario;
}

static enum org_level
level_of(json_t *value)
{
	enum org_level level = ORG_LEVEL_NONE;

	assert_true(json_is_string(value));
	assert_true(org_level_parse(json_string_value(value), &level));
	return level;
}

/*
 * A file given as an object of Blob fields, read as the GitHub client reads
 * the Blob the stand-in answers for it (fields left out follow the text).
 */
static void
set_blob(struct org_input_repository *repository, json_t *blob)
{
	json_t *text = json_object_get(blob, "text");
	json_t *binary = json_object_get(blob, "isBinary");
	bool is_text = json_is_string(text);

	if (json_is_null(binary))
		repository->pyproject_state = ORG_PYPROJECT_UNDETERMINED;
	else if (binary != NULL ? json_is_true(binary) : !is_text)
		repository->pyproject_state = ORG_PYPROJECT_BINARY;
	else if (json_is_true(json_object_get(blob, "isTruncated")))
		repository->pyproject_state = ORG_PYPROJECT_TRUNCATED;
	else if (!is_text)
		repository->pyproject_state = ORG_PYPROJECT_UNDETERMINED;
	else
		org_input_repository_set_pyproject(repository, json_string_value(text),
						   json_string_length(text));
}

static void
add_repository(struct org_input *input, json_t *record)
{
	json_t *files = json_object_get(record, "files");
	json_t *pyproject = json_object_get(files, "pyproject.toml");
	json_t *collaborator;
	size_t i;
	struct org_input_repository *repository = org_input_add_repository(
		input, json_integer_value(json_object_get(record, "id")),
		json_string_value(json_object_get(record, "name")),
		json_is_true(json_object_get(record, "archived")),
		json_is_true(json_object_get(record, "disabled")));

	if (json_is_string(pyproject))
		org_input_repository_set_pyproject(repository, json_string_value(pyproject),
						   json_string_length(pyproject));
	else if (json_is_object(pyproject))
		set_blob(repository, pyproject);
	else if (pyproject != NULL)
		repository->pyproject_state = ORG_PYPROJECT_BINARY;
	org_input_repository_set_fork(repository, json_is_true(json_object_get(record, "fork")),
				      json_string_value(json_object_get(record, "parent")));
	repository->is_template = json_is_true(json_object_get(record, "template"));
	json_array_foreach(json_object_get(record, "collaborators"), i, collaborator)
		org_input_repository_add_collaborator(
			repository, json_string_value(json_object_get(collaborator, "login")),
			level_of(json_object_get(collaborator, "permission")));
}

static void
add_team(struct org_input *input, json_t *record)
{
	json_t *parent = json_object_get(record, "parent");
	json_t *item;
	size_t i;
	struct org_input_team *team = org_input_add_team(
		input, json_integer_value(json_object_get(record, "id")),
		json_string_value(json_object_get(record, "slug")),
		json_string_value(json_object_get(record, "name")),
		json_is_string(parent) ? json_string_value(parent) : NULL);

	json_array_foreach(json_object_get(record, "members"), i, item)
		org_input_team_add_member(team, json_string_value(json_object_get(item, "login")));
	json_array_foreach(json_object_get(record, "repositories"), i, item)
		org_input_team_add_repository(team,
					      json_string_value(json_object_get(item, "name")),
					      level_of(json_object_get(item, "permission")));
}

struct org_input *
scenario_to_input(const json_t *scenario)
{
	struct org_input *input = org_input_new();
	json_t *organization = json_object_get(scenario, "organization");
	json_t *base = json_object_get(organization, "default_repository_permission");
	json_t *item;
	size_t i;

	input->organization = ga_strdup(json_string_value(json_object_get(organization, "login")));
	if (json_is_string(base)) {
		input->base_permission_known = true;
		input->base_permission = level_of(base);
	}
	json_array_foreach(json_object_get(scenario, "users"), i, item) {
		json_t *role = json_object_get(item, "org_role");

		if (json_is_string(role))
			org_input_add_member(input, json_string_value(json_object_get(item, "login")),
					     json_integer_value(json_object_get(item, "id")),
					     strcmp(json_string_value(role), "ADMIN") == 0);
	}
	json_array_foreach(json_object_get(scenario, "teams"), i, item)
		add_team(input, item);
	json_array_foreach(json_object_get(scenario, "repositories"), i, item)
		add_repository(input, item);
	return input;
}

static void
set_list(struct config_list *list, json_t *array)
{
	json_t *item;
	size_t i;

	config_list_free(list);
	json_array_foreach(array, i, item) {
		list->items = ga_reallocarray(list->items, list->count + 1, sizeof(char *));
		list->items[list->count++] = ga_strdup(json_string_value(item));
	}
}

struct config *
scenario_config(const json_t *scenario)
{
	struct config *config = config_new_defaults();
	json_t *filters = json_object_get(scenario, "config");
	json_t *pattern = json_object_get(filters, "repo_pattern");

	if (json_is_string(pattern)) {
		ga_free(config->repo_pattern);
		config->repo_pattern = ga_strdup(json_string_value(pattern));
	}
	set_list(&config->repo_include_list, json_object_get(filters, "repo_include_list"));
	set_list(&config->repo_exclude_list, json_object_get(filters, "repo_exclude_list"));
	return config;
}

/* ---- expectations ----------------------------------------------------- */

/* true when the JSON array of strings holds exactly the given strings. */
static void
assert_same_set(const char *what, json_t *expected, const char *const *actual, size_t count)
{
	json_t *item;
	size_t i;

	assert_true(json_is_array(expected));
	if (json_array_size(expected) != count)
		fail_msg("%s: expected %zu entries, got %zu", what, json_array_size(expected),
			 count);
	json_array_foreach(expected, i, item) {
		bool found = false;

		for (size_t a = 0; a < count && !found; a++)
			found = strcmp(actual[a], json_string_value(item)) == 0;
		if (!found)
			fail_msg("%s: missing %s", what, json_string_value(item));
	}
}

static void
assert_packages(json_t *expect, const struct org_snapshot *snapshot)
{
	json_t *packages = json_object_get(expect, "packages");
	const char *key;
	json_t *repository;

	if (packages == NULL)
		return;
	assert_int_equal(json_object_size(packages), org_snapshot_package_count(snapshot));
	json_object_foreach(packages, key, repository) {
		long package = org_snapshot_find_package(snapshot, key);

		if (package < 0)
			fail_msg("package %s not found", key);
		assert_string_equal(org_snapshot_package_key(snapshot, package), key);
		assert_string_equal(org_snapshot_package_repository(snapshot, package),
				    json_string_value(repository));
	}
}

static void
assert_skipped(json_t *expect, const struct org_snapshot *snapshot)
{
	json_t *item;
	size_t i;

	json_array_foreach(json_object_get(expect, "skipped"), i, item) {
		const char *repository = json_string_value(item);

		if (org_snapshot_skip_reason_of(snapshot, repository) == NULL)
			fail_msg("repository %s should have been skipped", repository);
		for (size_t p = 0; p < org_snapshot_package_count(snapshot); p++)
			assert_string_not_equal(
				org_snapshot_package_repository(snapshot, (long)p), repository);
	}
}

/* "reserved": exactly these names, each reserved by that repository. */
static void
assert_reserved(json_t *expect, const struct org_snapshot *snapshot)
{
	json_t *reserved = json_object_get(expect, "reserved");
	const char *key;
	json_t *repository;

	if (reserved == NULL)
		return;
	if (json_object_size(reserved) != org_snapshot_reserved_count(snapshot))
		fail_msg("reserved: expected %zu names, got %zu", json_object_size(reserved),
			 org_snapshot_reserved_count(snapshot));
	json_object_foreach(reserved, key, repository) {
		long found = org_snapshot_find_reserved(snapshot, key);

		if (found < 0)
			fail_msg("name %s is not reserved", key);
		assert_string_equal(org_snapshot_reserved_key(snapshot, found), key);
		assert_string_equal(org_snapshot_reserved_repository(snapshot, found),
				    json_string_value(repository));
		assert_int_equal(org_snapshot_find_package(snapshot, key), -1);
	}
}

/* "conflicts": exactly these repositories, each with the name it declares. */
static void
assert_conflicts(json_t *expect, const struct org_snapshot *snapshot)
{
	json_t *conflicts = json_object_get(expect, "conflicts");
	size_t count = org_snapshot_conflict_count(snapshot);

	if (conflicts == NULL)
		return;
	if (json_object_size(conflicts) != count)
		fail_msg("conflicts: expected %zu, got %zu", json_object_size(conflicts), count);
	for (size_t i = 0; i < count; i++) {
		const char *repository = org_snapshot_conflict_repository(snapshot, i);
		json_t *name = json_object_get(conflicts, repository);

		if (name == NULL)
			fail_msg("%s reported as a conflict", repository);
		assert_string_equal(org_snapshot_conflict_key(snapshot, i), json_string_value(name));
		assert_non_null(org_snapshot_skip_reason_of(snapshot, repository));
	}
}

/* The expected permissions of (user, package): NULL when not listed. */
static json_t *
expected_permissions(json_t *expect, const char *user, const char *package)
{
	json_t *item;
	size_t i;

	json_array_foreach(json_object_get(expect, "permissions"), i, item) {
		if (strcmp(json_string_value(json_object_get(item, "user")), user) == 0 &&
		    strcmp(json_string_value(json_object_get(item, "package")), package) == 0)
			return json_object_get(item, "permissions");
	}
	return NULL;
}

static void
assert_permission(json_t *expect, const char *login, const char *package,
		  const struct org_snapshot *snapshot)
{
	struct org_decision decision = org_decide_by_name(snapshot, login, package);
	json_t *expected = expected_permissions(expect, login, package);
	size_t want = expected ? json_array_size(expected) : 0;
	size_t got = decision.write ? 2 : decision.read ? 1 : 0;

	if (want != got)
		fail_msg("%s on %s: expected %zu permissions, got %zu", login, package, want, got);
	/* The fixed order is ["read"] or ["read", "write"]. */
	if (want >= 1)
		assert_string_equal(json_string_value(json_array_get(expected, 0)), "read");
	if (want == 2)
		assert_string_equal(json_string_value(json_array_get(expected, 1)), "write");
}

/* Every user on every package and every reserved name. */
static void
assert_permissions(const json_t *scenario, json_t *expect, const struct org_snapshot *snapshot)
{
	json_t *user;
	const char *package;
	json_t *ignored;
	size_t i;

	if (json_object_get(expect, "permissions") == NULL)
		return;
	json_array_foreach(json_object_get(scenario, "users"), i, user) {
		const char *login = json_string_value(json_object_get(user, "login"));

		json_object_foreach(json_object_get(expect, "packages"), package, ignored)
			assert_permission(expect, login, package, snapshot);
		json_object_foreach(json_object_get(expect, "reserved"), package, ignored)
			assert_permission(expect, login, package, snapshot);
	}
}

static void
assert_groups(json_t *expect, const struct org_snapshot *snapshot)
{
	const char *login;
	json_t *groups;

	json_object_foreach(json_object_get(expect, "groups"), login, groups) {
		long member = org_snapshot_find_member(snapshot, login);
		const char *names[256];
		size_t count = 0;
		const long *teams;

		assert_true(member >= 0);
		teams = org_snapshot_member_groups(snapshot, member, &count);
		assert_true(count <= 256);
		for (size_t t = 0; t < count; t++)
			names[t] = org_snapshot_group_key(snapshot, teams[t]);
		assert_same_set(login, groups, names, count);
	}
}

static void
assert_group_members(json_t *expect, const struct org_snapshot *snapshot)
{
	const char *group;
	json_t *members;

	json_object_foreach(json_object_get(expect, "group_members"), group, members) {
		long team = org_snapshot_find_group(snapshot, group);
		const char *names[256];
		size_t count = 0;
		const long *list;

		if (team < 0)
			fail_msg("group %s not found", group);
		list = org_snapshot_group_members(snapshot, team, &count);
		assert_true(count <= 256);
		for (size_t m = 0; m < count; m++)
			names[m] = org_snapshot_member_login(snapshot, list[m]);
		assert_same_set(group, members, names, count);
	}
}

static void
assert_admins(json_t *expect, const struct org_snapshot *snapshot)
{
	json_t *admins = json_object_get(expect, "admins");
	const char *names[256];
	size_t count = 0;
	const long *owners;

	if (admins == NULL)
		return;
	owners = org_snapshot_owners(snapshot, &count);
	assert_true(count <= 256);
	for (size_t o = 0; o < count; o++)
		names[o] = org_snapshot_member_login(snapshot, owners[o]);
	assert_same_set("admins", admins, names, count);
}

void
scenario_assert_snapshot(const json_t *scenario, const struct org_snapshot *snapshot)
{
	json_t *expect = json_object_get(scenario, "expect");

	assert_packages(expect, snapshot);
	assert_skipped(expect, snapshot);
	assert_reserved(expect, snapshot);
	assert_conflicts(expect, snapshot);
	assert_permissions(scenario, expect, snapshot);
	assert_groups(expect, snapshot);
	assert_group_members(expect, snapshot);
	assert_admins(expect, snapshot);
}
