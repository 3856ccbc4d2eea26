/*
 * test_org_reserved.c - who owns a package name (docs/access-model.md §2):
 * every repository competes for the name it declares, whatever the filters
 * and its state; the oldest (lowest id) owns it; when the owner yields no
 * package the name is reserved (owners only); newer declarers are
 * conflicts.  Each case is the takeover of issue 10 item 1 in one variant:
 * an older repository that the configuration keeps out, and a newer one a
 * member created to take the name over.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "org/org_policy.h"
#include "util/ga_xalloc.h"

/*
 * Organization "acme", base permission read (so "no access" below is the
 * reserved rule, not a missing grant).  olivia owns it; mallory is a member
 * with ADMIN on the repositories she created; bob is in team "platform".
 */
static struct org_input *
base_input(void)
{
	struct org_input *input = org_input_new();
	struct org_input_team *team;

	input->organization = ga_strdup("acme");
	input->base_permission_known = true;
	input->base_permission = ORG_LEVEL_READ;
	org_input_add_member(input, "olivia", 1, true);
	org_input_add_member(input, "mallory", 2, false);
	org_input_add_member(input, "bob", 3, false);
	team = org_input_add_team(input, 10, "platform", "Platform", NULL);
	org_input_team_add_member(team, "bob");
	org_input_team_add_repository(team, "mallory-sbx", ORG_LEVEL_WRITE);
	org_input_team_add_repository(team, "sandbox", ORG_LEVEL_WRITE);
	return input;
}

static struct org_input_repository *
add_repository(struct org_input *input, long long id, const char *name, const char *declared,
	       bool archived, bool disabled)
{
	struct org_input_repository *repository =
		org_input_add_repository(input, id, name, archived, disabled);

	if (declared != NULL) {
		char *text = ga_asprintf("[project]\nname = \"%s\"\n", declared);

		org_input_repository_set_pyproject(repository, text, strlen(text));
		ga_free(text);
	}
	return repository;
}

/* The repro: sandbox (older) declares sandbox-pkg; mallory-sbx (newer,
 * hers) declares Sandbox_Pkg. */
static struct org_input *
takeover_input(bool older_disabled)
{
	struct org_input *input = base_input();
	struct org_input_repository *repository;

	add_repository(input, 100, "sandbox", "sandbox-pkg", false, older_disabled);
	repository = add_repository(input, 200, "mallory-sbx", "Sandbox_Pkg", false, false);
	org_input_repository_add_collaborator(repository, "mallory", ORG_LEVEL_ADMIN);
	return input;
}

static struct org_snapshot *
build(struct org_input *input, struct config *config)
{
	struct org_snapshot *snapshot = NULL;
	struct ga_err err;

	assert_int_equal(org_snapshot_build(input, config, &snapshot, &err), GA_OK);
	return snapshot;
}

static int
permissions(const struct org_snapshot *snapshot, const char *login, const char *name)
{
	struct org_decision decision = org_decide_by_name(snapshot, login, name);

	assert_false(decision.write && !decision.read);
	return decision.write ? 2 : decision.read ? 1 : 0;
}

/* sandbox-pkg is reserved by sandbox; mallory-sbx is a conflict. */
static void
assert_reserved_by_sandbox(const struct org_snapshot *snapshot, const char *reason)
{
	long reserved = org_snapshot_find_reserved(snapshot, "SANDBOX.pkg");

	assert_int_equal(org_snapshot_package_count(snapshot), 0);
	assert_int_equal(org_snapshot_find_package(snapshot, "sandbox-pkg"), -1);
	assert_int_equal(org_snapshot_reserved_count(snapshot), 1);
	assert_true(reserved >= 0);
	assert_string_equal(org_snapshot_reserved_key(snapshot, reserved), "sandbox-pkg");
	assert_string_equal(org_snapshot_reserved_repository(snapshot, reserved), "sandbox");
	assert_string_equal(org_snapshot_reserved_reason(snapshot, reserved), reason);
	assert_true(org_snapshot_name_is_claimed(snapshot, "sandbox_pkg"));

	assert_int_equal(org_snapshot_conflict_count(snapshot), 1);
	assert_string_equal(org_snapshot_conflict_repository(snapshot, 0), "mallory-sbx");
	assert_string_equal(org_snapshot_conflict_key(snapshot, 0), "sandbox-pkg");
	assert_string_equal(org_snapshot_conflict_owner(snapshot, 0), "sandbox");
	assert_non_null(strstr(org_snapshot_skip_reason_of(snapshot, "mallory-sbx"),
			       "conflict: sandbox-pkg is reserved by sandbox"));
	assert_string_equal(org_snapshot_skip_reason_of(snapshot, "sandbox"), reason);

	/* Owners only, in every spelling: not mallory (ADMIN on her repository,
	 * base read), not bob (team WRITE on both repositories). */
	assert_int_equal(permissions(snapshot, "olivia", "sandbox-pkg"), 2);
	assert_int_equal(permissions(snapshot, "olivia", "Sandbox_Pkg"), 2);
	assert_int_equal(permissions(snapshot, "mallory", "sandbox-pkg"), 0);
	assert_int_equal(permissions(snapshot, "mallory", "Sandbox_Pkg"), 0);
	assert_int_equal(permissions(snapshot, "bob", "sandbox.pkg"), 0);
	assert_int_equal(permissions(snapshot, "stranger", "sandbox-pkg"), 0);
	assert_true(org_decide_by_name(snapshot, "mallory", "sandbox-pkg").reserved);
	assert_int_equal(org_decide_by_name(snapshot, "olivia", "sandbox-pkg").source,
			 ORG_SOURCE_OWNER);
}

static void
test_excluded_older_repository_keeps_its_name(void **state)
{
	struct config *config = config_new_defaults();
	struct org_snapshot *snapshot;

	(void)state;
	config_list_parse("sandbox", &config->repo_exclude_list);
	snapshot = build(takeover_input(false), config);
	assert_reserved_by_sandbox(snapshot, "excluded by repo_exclude_list");
	org_snapshot_release(snapshot);
	config_free(config);
}

static void
test_disabled_older_repository_keeps_its_name(void **state)
{
	struct config *config = config_new_defaults();
	struct org_snapshot *snapshot = build(takeover_input(true), config);

	(void)state;
	assert_reserved_by_sandbox(snapshot, "repository is disabled");
	org_snapshot_release(snapshot);
	config_free(config);
}

static void
test_older_repository_outside_repo_pattern_keeps_its_name(void **state)
{
	struct config *config = config_new_defaults();
	struct org_snapshot *snapshot;

	(void)state;
	ga_free(config->repo_pattern);
	config->repo_pattern = ga_strdup("mallory-");
	snapshot = build(takeover_input(false), config);
	assert_reserved_by_sandbox(snapshot, "excluded by repo_pattern");
	org_snapshot_release(snapshot);
	config_free(config);
}

static void
test_older_repository_outside_include_list_keeps_its_name(void **state)
{
	struct config *config = config_new_defaults();
	struct org_snapshot *snapshot;

	(void)state;
	config_list_parse("mallory-sbx", &config->repo_include_list);
	snapshot = build(takeover_input(false), config);
	assert_reserved_by_sandbox(snapshot, "not in repo_include_list");
	org_snapshot_release(snapshot);
	config_free(config);
}

/* The configuration decides which repositories are packages, not who owns
 * a name: the same records under a configuration that lets sandbox in make
 * it the package, and mallory-sbx is still a conflict. */
static void
test_filters_change_the_package_not_the_owner(void **state)
{
	struct config *config = config_new_defaults();
	struct org_snapshot *snapshot = build(takeover_input(false), config);
	long package = org_snapshot_find_package(snapshot, "sandbox-pkg");

	(void)state;
	assert_true(package >= 0);
	assert_string_equal(org_snapshot_package_repository(snapshot, package), "sandbox");
	assert_int_equal(org_snapshot_reserved_count(snapshot), 0);
	assert_int_equal(org_snapshot_conflict_count(snapshot), 1);
	assert_string_equal(org_snapshot_skip_reason_of(snapshot, "mallory-sbx"),
			    "conflict: package sandbox-pkg already belongs to sandbox (older "
			    "repository)");
	/* sandbox's own grants apply: bob through the team, mallory through the
	 * base permission only. */
	assert_int_equal(permissions(snapshot, "bob", "sandbox-pkg"), 2);
	assert_int_equal(permissions(snapshot, "mallory", "sandbox-pkg"), 1);
	org_snapshot_release(snapshot);
	config_free(config);
}

/* Archived competes too, and stays a (read-only) package. */
static void
test_archived_older_repository_keeps_its_package(void **state)
{
	struct config *config = config_new_defaults();
	struct org_input *input = base_input();
	struct org_input_repository *repository;
	struct org_snapshot *snapshot;

	(void)state;
	add_repository(input, 100, "sandbox", "sandbox-pkg", true, false);
	repository = add_repository(input, 200, "mallory-sbx", "sandbox-pkg", false, false);
	org_input_repository_add_collaborator(repository, "mallory", ORG_LEVEL_ADMIN);
	snapshot = build(input, config);
	assert_string_equal(org_snapshot_package_repository(
				    snapshot, org_snapshot_find_package(snapshot, "sandbox-pkg")),
			    "sandbox");
	assert_int_equal(permissions(snapshot, "mallory", "sandbox-pkg"), 1);
	assert_int_equal(permissions(snapshot, "bob", "sandbox-pkg"), 1);
	assert_int_equal(org_snapshot_conflict_count(snapshot), 1);
	org_snapshot_release(snapshot);
	config_free(config);
}

/* Input order does not matter (GitHub lists by name); the id does, and a
 * newer repository that the filters keep out is a conflict as well. */
static void
test_oldest_of_many_wins_in_any_order(void **state)
{
	struct config *config = config_new_defaults();
	struct org_input *input = base_input();
	struct org_snapshot *snapshot;

	(void)state;
	config_list_parse("zz-oldest, b-newest", &config->repo_exclude_list);
	add_repository(input, 300, "b-newest", "shared.name", false, false);
	add_repository(input, 200, "a-middle", "Shared_Name", false, false);
	add_repository(input, 100, "zz-oldest", "shared-name", false, false);
	snapshot = build(input, config);
	assert_int_equal(org_snapshot_package_count(snapshot), 0);
	assert_string_equal(org_snapshot_reserved_repository(
				    snapshot, org_snapshot_find_reserved(snapshot, "shared-name")),
			    "zz-oldest");
	assert_int_equal(org_snapshot_conflict_count(snapshot), 2);
	/* Sorted by repository. */
	assert_string_equal(org_snapshot_conflict_repository(snapshot, 0), "a-middle");
	assert_string_equal(org_snapshot_conflict_repository(snapshot, 1), "b-newest");
	assert_string_equal(org_snapshot_conflict_owner(snapshot, 1), "zz-oldest");
	/* The filtered newer one is reported for its filter first. */
	assert_string_equal(org_snapshot_skip_reason_of(snapshot, "b-newest"),
			    "excluded by repo_exclude_list");
	assert_non_null(strstr(org_snapshot_skip_reason_of(snapshot, "a-middle"),
			       "conflict: shared-name is reserved by zz-oldest (older repository, "
			       "excluded by repo_exclude_list)"));
	org_snapshot_release(snapshot);
	config_free(config);
}

/* Equal ids (bad data) are ordered by name, so the result never depends on
 * the order GitHub listed them in. */
static void
test_equal_ids_break_ties_by_name(void **state)
{
	struct config *config = config_new_defaults();
	struct org_snapshot *snapshot;
	struct org_input *input;

	(void)state;
	for (int order = 0; order < 2; order++) {
		input = base_input();
		add_repository(input, 7, order ? "beta" : "alpha", "twin", false, false);
		add_repository(input, 7, order ? "alpha" : "beta", "twin", false, false);
		snapshot = build(input, config);
		assert_string_equal(org_snapshot_package_repository(
					    snapshot, org_snapshot_find_package(snapshot, "twin")),
				    "alpha");
		org_snapshot_release(snapshot);
	}
	config_free(config);
}

/*
 * What ghaccess cannot know: a repository whose pyproject.toml it cannot
 * read or parse declares no name, so a newer repository declaring that
 * name gets it (docs/access-model.md §2 and the threat model say so).
 */
static void
test_unreadable_or_broken_older_file_declares_nothing(void **state)
{
	struct config *config = config_new_defaults();
	struct org_input *input = base_input();
	struct org_input_repository *repository;
	struct org_snapshot *snapshot;

	(void)state;
	repository = add_repository(input, 100, "hidden", NULL, false, false);
	repository->pyproject_state = ORG_PYPROJECT_UNREADABLE;
	repository = add_repository(input, 101, "broken", NULL, false, false);
	org_input_repository_set_pyproject(repository, "[project\nname = \"x\"\n", 19);
	add_repository(input, 200, "newer", "x", false, false);
	snapshot = build(input, config);
	assert_string_equal(org_snapshot_package_repository(
				    snapshot, org_snapshot_find_package(snapshot, "x")),
			    "newer");
	assert_int_equal(org_snapshot_reserved_count(snapshot), 0);
	assert_int_equal(org_snapshot_conflict_count(snapshot), 0);
	org_snapshot_release(snapshot);
	config_free(config);
}

static void
test_explain_reserved(void **state)
{
	struct config *config = config_new_defaults();
	struct org_snapshot *snapshot;
	char *text;

	(void)state;
	config_list_parse("sandbox", &config->repo_exclude_list);
	snapshot = build(takeover_input(false), config);
	text = org_explain(snapshot, "mallory", "Sandbox_Pkg");
	assert_string_equal(text, "no access: sandbox-pkg is reserved: the oldest repository "
			    "that declares it, sandbox, yields no package (excluded by "
			    "repo_exclude_list), so only organization owners may read or "
			    "upload it");
	ga_free(text);
	text = org_explain(snapshot, "olivia", "sandbox-pkg");
	assert_string_equal(text, "read, write: olivia is an owner of the organization acme; "
			    "sandbox-pkg is reserved: the oldest repository that declares it, "
			    "sandbox, yields no package (excluded by repo_exclude_list), so only "
			    "organization owners may read or upload it");
	ga_free(text);
	text = org_explain(snapshot, "erin", "sandbox-pkg");
	assert_non_null(strstr(text, "erin is not a member"));
	ga_free(text);
	org_snapshot_release(snapshot);
	config_free(config);
}

/* The decision for a reserved name ignores everything but ownership. */
static void
test_decide_reserved_bounds(void **state)
{
	struct config *config = config_new_defaults();
	struct org_snapshot *snapshot = build(takeover_input(true), config);
	struct org_decision decision;

	(void)state;
	decision = org_decide_reserved(snapshot, -1);
	assert_false(decision.read || decision.write);
	assert_true(decision.reserved);
	decision = org_decide_reserved(snapshot, 1000);
	assert_false(decision.read || decision.write);
	decision = org_decide_reserved(snapshot, org_snapshot_find_member(snapshot, "olivia"));
	assert_true(decision.read && decision.write);
	assert_int_equal(org_snapshot_find_reserved(snapshot, "no-such-name"), -1);
	assert_int_equal(org_snapshot_find_reserved(snapshot, NULL), -1);
	org_snapshot_release(snapshot);
	config_free(config);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_excluded_older_repository_keeps_its_name),
		cmocka_unit_test(test_disabled_older_repository_keeps_its_name),
		cmocka_unit_test(test_older_repository_outside_repo_pattern_keeps_its_name),
		cmocka_unit_test(test_older_repository_outside_include_list_keeps_its_name),
		cmocka_unit_test(test_filters_change_the_package_not_the_owner),
		cmocka_unit_test(test_archived_older_repository_keeps_its_package),
		cmocka_unit_test(test_oldest_of_many_wins_in_any_order),
		cmocka_unit_test(test_equal_ids_break_ties_by_name),
		cmocka_unit_test(test_unreadable_or_broken_older_file_declares_nothing),
		cmocka_unit_test(test_explain_reserved),
		cmocka_unit_test(test_decide_reserved_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
