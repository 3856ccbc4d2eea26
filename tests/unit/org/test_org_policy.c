/*
 * test_org_policy.c - every rule of docs/access-model.md on a small fixture
 * organization, table-driven: (user, package) -> expected permissions and
 * source.
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
 * Organization "fixture", base permission read unless a test changes it.
 *   owner: owen          members: ann, ben, cat, dan, eve
 *   teams: top <- mid <- leaf (nested), loop-a <-> loop-b (a parent cycle)
 *   top: WRITE on lib-a;  leaf members: cat;  mid members: ben;  loop-a: dan
 *   repos: lib-a (name lib_a), lib-b (Lib.B, ann TRIAGE, eve ADMIN direct,
 *          outsider WRITE direct), lib-c archived (MAINTAIN to mid),
 *          squat (newer id, declares lib-a), disabled-repo, no-toml
 */
static struct org_input *
fixture_input(void)
{
	struct org_input *input = org_input_new();
	struct org_input_team *team;
	struct org_input_repository *repository;

	input->organization = ga_strdup("fixture");
	input->base_permission_known = true;
	input->base_permission = ORG_LEVEL_READ;
	org_input_add_member(input, "owen", 1, true);
	org_input_add_member(input, "ann", 2, false);
	org_input_add_member(input, "ben", 3, false);
	org_input_add_member(input, "cat", 4, false);
	org_input_add_member(input, "dan", 5, false);
	org_input_add_member(input, "eve", 6, false);

	team = org_input_add_team(input, 10, "top", "Top Team", NULL);
	org_input_team_add_repository(team, "lib-a", ORG_LEVEL_WRITE);
	team = org_input_add_team(input, 11, "mid", "Mid Team", "top");
	org_input_team_add_member(team, "ben");
	org_input_team_add_member(team, "not-a-member");
	org_input_team_add_repository(team, "lib-c", ORG_LEVEL_MAINTAIN);
	team = org_input_add_team(input, 12, "leaf", "Leaf Team", "mid");
	org_input_team_add_member(team, "cat");
	team = org_input_add_team(input, 13, "loop-a", "Loop A", "loop-b");
	org_input_team_add_member(team, "dan");
	org_input_team_add_repository(team, "lib-b", ORG_LEVEL_READ);
	org_input_add_team(input, 14, "loop-b", "Loop B", "loop-a");

	repository = org_input_add_repository(input, 100, "lib-a", false, false);
	org_input_repository_set_pyproject(repository, "[project]\nname = \"lib_a\"\n", 25);
	repository = org_input_add_repository(input, 101, "lib-b", false, false);
	org_input_repository_set_pyproject(repository, "[tool.poetry]\nname = 'Lib.B'\n", 29);
	org_input_repository_add_collaborator(repository, "ann", ORG_LEVEL_TRIAGE);
	org_input_repository_add_collaborator(repository, "eve", ORG_LEVEL_ADMIN);
	org_input_repository_add_collaborator(repository, "outsider", ORG_LEVEL_WRITE);
	repository = org_input_add_repository(input, 102, "lib-c", true, false);
	org_input_repository_set_pyproject(repository, "project.name = \"lib-c\"\n", 23);
	repository = org_input_add_repository(input, 103, "squat", false, false);
	org_input_repository_set_pyproject(repository, "[project]\nname = \"LIB-A\"\n", 25);
	org_input_repository_add_collaborator(repository, "ann", ORG_LEVEL_ADMIN);
	repository = org_input_add_repository(input, 104, "disabled-repo", false, true);
	org_input_repository_set_pyproject(repository, "[project]\nname = \"gone\"\n", 24);
	org_input_add_repository(input, 105, "no-toml", false, false);
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

struct decision_case {
	const char *login;
	const char *package;
	int permissions;	/* 0 none, 1 read, 2 read+write */
	enum org_source source;
};

static const struct decision_case decision_cases[] = {
	/* Owners are admin on everything; archived removes write even for them. */
	{"owen", "lib-a", 2, ORG_SOURCE_OWNER},
	{"owen", "lib-c", 1, ORG_SOURCE_OWNER},
	/* Base permission read for any member. */
	{"ann", "lib-a", 1, ORG_SOURCE_BASE},
	{"dan", "lib-c", 1, ORG_SOURCE_BASE},
	/* A grant to "top" reaches members of mid (child) and leaf (grandchild). */
	{"ben", "lib-a", 2, ORG_SOURCE_TEAM},
	{"cat", "lib-a", 2, ORG_SOURCE_TEAM},
	/* MAINTAIN on an archived repository: read only. */
	{"ben", "lib-c", 1, ORG_SOURCE_TEAM},
	{"cat", "lib-c", 1, ORG_SOURCE_TEAM},
	/* TRIAGE is read; a direct ADMIN is write; equal levels: collaborator first. */
	{"ann", "lib-b", 1, ORG_SOURCE_COLLABORATOR},
	{"eve", "lib-b", 2, ORG_SOURCE_COLLABORATOR},
	/* A team in a parent cycle still grants to its own members. */
	{"dan", "lib-b", 1, ORG_SOURCE_TEAM},
	/* Spellings of one package. */
	{"ben", "LIB_A", 2, ORG_SOURCE_TEAM},
	{"ben", "lib.a", 2, ORG_SOURCE_TEAM},
	{"eve", "lib--b", 2, ORG_SOURCE_COLLABORATOR},
	/* Outside collaborators and strangers get nothing. */
	{"outsider", "lib-b", 0, ORG_SOURCE_NONE},
	{"nobody", "lib-a", 0, ORG_SOURCE_NONE},
	/* Case matters for logins. */
	{"Ben", "lib-a", 0, ORG_SOURCE_NONE},
	/* Unknown packages, and skipped repositories, are not packages. */
	{"owen", "no-toml", 0, ORG_SOURCE_NONE},
	/* A disabled repository's name is reserved: owners only. */
	{"owen", "gone", 2, ORG_SOURCE_OWNER},
	{"ann", "gone", 0, ORG_SOURCE_NONE},
};

static void
test_decisions(void **state)
{
	struct config *config = config_new_defaults();
	struct org_snapshot *snapshot = build(fixture_input(), config);

	(void)state;
	for (size_t i = 0; i < sizeof(decision_cases) / sizeof(*decision_cases); i++) {
		const struct decision_case *c = &decision_cases[i];
		struct org_decision d = org_decide_by_name(snapshot, c->login, c->package);
		int got = d.write ? 2 : d.read ? 1 : 0;

		if (got != c->permissions || d.source != c->source)
			fail_msg("%s on %s: permissions %d source %d, expected %d source %d",
				 c->login, c->package, got, d.source, c->permissions, c->source);
		assert_false(d.write && !d.read);
	}
	org_snapshot_release(snapshot);
	config_free(config);
}

static void
test_base_permission_none_and_unknown(void **state)
{
	struct config *config = config_new_defaults();
	struct org_input *input = fixture_input();
	struct org_snapshot *snapshot;

	(void)state;
	/* GitHub did not tell: none unless configured. */
	input->base_permission_known = false;
	snapshot = build(input, config);
	assert_false(org_decide_by_name(snapshot, "ann", "lib-a").read);
	assert_int_equal(org_snapshot_base_permission(snapshot), ORG_LEVEL_NONE);
	org_snapshot_release(snapshot);

	input = fixture_input();
	input->base_permission_known = false;
	config->base_permission = ORG_LEVEL_WRITE;
	snapshot = build(input, config);
	assert_true(org_decide_by_name(snapshot, "ann", "lib-a").write);
	org_snapshot_release(snapshot);

	/* A known base permission wins over the configured override. */
	input = fixture_input();
	input->base_permission = ORG_LEVEL_NONE;
	snapshot = build(input, config);
	assert_false(org_decide_by_name(snapshot, "ann", "lib-a").read);
	org_snapshot_release(snapshot);
	config_free(config);
}

static void
test_packages_and_skips(void **state)
{
	struct config *config = config_new_defaults();
	struct org_snapshot *snapshot = build(fixture_input(), config);
	const char *reason;

	(void)state;
	assert_int_equal(org_snapshot_package_count(snapshot), 3);
	assert_string_equal(org_snapshot_package_repository(
				    snapshot, org_snapshot_find_package(snapshot, "lib-a")),
			    "lib-a");
	/* The squatter (newer id) loses, and its grants do not leak. */
	reason = org_snapshot_skip_reason_of(snapshot, "squat");
	assert_non_null(reason);
	assert_non_null(strstr(reason, "conflict"));
	assert_false(org_decide_by_name(snapshot, "ann", "lib-a").write);
	assert_non_null(strstr(org_snapshot_skip_reason_of(snapshot, "disabled-repo"),
			       "disabled"));
	assert_string_equal(org_snapshot_skip_reason_of(snapshot, "no-toml"), "no pyproject.toml");
	assert_null(org_snapshot_skip_reason_of(snapshot, "lib-a"));
	/* Claimed names include skipped repositories' names. */
	assert_true(org_snapshot_name_is_claimed(snapshot, "Gone"));
	assert_true(org_snapshot_name_is_claimed(snapshot, "lib.a"));
	assert_false(org_snapshot_name_is_claimed(snapshot, "requests"));
	org_snapshot_release(snapshot);
	config_free(config);
}

static void
test_filters(void **state)
{
	struct config *config = config_new_defaults();
	struct org_snapshot *snapshot;

	(void)state;
	/* re.match semantics: anchored at the start, not at the end. */
	ga_free(config->repo_pattern);
	config->repo_pattern = ga_strdup("lib");
	config_list_parse("lib-b,  other\tlib-c", &config->repo_exclude_list);
	snapshot = build(fixture_input(), config);
	assert_int_equal(org_snapshot_package_count(snapshot), 1);
	assert_true(org_snapshot_find_package(snapshot, "lib-a") >= 0);
	assert_string_equal(org_snapshot_skip_reason_of(snapshot, "no-toml"),
			    "excluded by repo_pattern");
	assert_string_equal(org_snapshot_skip_reason_of(snapshot, "lib-b"),
			    "excluded by repo_exclude_list");
	org_snapshot_release(snapshot);

	ga_free(config->repo_pattern);
	config->repo_pattern = ga_strdup("-a$");
	snapshot = build(fixture_input(), config);
	assert_int_equal(org_snapshot_package_count(snapshot), 0);
	org_snapshot_release(snapshot);

	ga_free(config->repo_pattern);
	config->repo_pattern = ga_strdup(".*");
	config_list_free(&config->repo_exclude_list);
	config_list_parse("lib-c squat", &config->repo_include_list);
	snapshot = build(fixture_input(), config);
	assert_int_equal(org_snapshot_package_count(snapshot), 1);
	assert_string_equal(org_snapshot_skip_reason_of(snapshot, "lib-a"),
			    "not in repo_include_list");
	/* lib-a is filtered out but still owns its name (the older repository):
	 * the name is reserved, and squat, although included, does not get it. */
	assert_int_equal(org_snapshot_find_package(snapshot, "lib-a"), -1);
	assert_string_equal(org_snapshot_reserved_repository(
				    snapshot, org_snapshot_find_reserved(snapshot, "lib-a")),
			    "lib-a");
	assert_non_null(strstr(org_snapshot_skip_reason_of(snapshot, "squat"),
			       "conflict: lib-a is reserved by lib-a"));
	org_snapshot_release(snapshot);
	config_free(config);
}

static void
test_groups_nesting_and_cycles(void **state)
{
	struct config *config = config_new_defaults();
	struct org_snapshot *snapshot = build(fixture_input(), config);
	long cat = org_snapshot_find_member(snapshot, "cat");
	long top = org_snapshot_find_group(snapshot, "top");
	size_t count;
	const long *list;

	(void)state;
	list = org_snapshot_member_groups(snapshot, cat, &count);
	assert_int_equal(count, 3);	/* leaf, mid, top */
	list = org_snapshot_group_members(snapshot, top, &count);
	assert_int_equal(count, 2);	/* ben (mid), cat (leaf) */
	assert_string_equal(org_snapshot_member_login(snapshot, list[0]), "ben");
	/* Immediate members only, and the non-member in mid is dropped. */
	list = org_snapshot_team_immediate_members(snapshot, org_snapshot_find_group(snapshot, "mid"),
						   &count);
	assert_int_equal(count, 1);
	(void)list;
	assert_int_equal(org_snapshot_team_parent(snapshot, org_snapshot_find_group(snapshot, "loop-a")), -1);
	assert_int_equal(org_snapshot_team_parent(snapshot, org_snapshot_find_group(snapshot, "leaf")),
			 org_snapshot_find_group(snapshot, "mid"));
	org_snapshot_release(snapshot);

	config->group_name = CONFIG_GROUP_NAME;
	snapshot = build(fixture_input(), config);
	assert_true(org_snapshot_find_group(snapshot, "Top Team") >= 0);
	assert_true(org_snapshot_find_group(snapshot, "top") < 0);
	org_snapshot_release(snapshot);
	config_free(config);
}

static const struct {
	const char *login;
	const char *package;
	const char *text;
} explain_cases[] = {
	{"cat", "lib-a", "read, write: via team top (parent of mid, parent of leaf, of which cat "
			 "is a member), which has WRITE on lib-a"},
	{"ben", "lib-a", "read, write: via team top (parent of mid, of which ben is a member), "
			 "which has WRITE on lib-a"},
	{"eve", "lib_b", "read, write: eve is a direct collaborator with ADMIN on lib-b"},
	{"owen", "lib-c", "read: owen is an owner of the organization fixture; write removed "
			  "because lib-c is archived"},
	{"ann", "lib-a", "read: the organization's base permission is read"},
	{"outsider", "lib-b", "no access: outsider is not a member of the organization fixture "
			      "(outside collaborators and strangers cannot log in)"},
	{"ann", "nothing", "no access: no repository of fixture provides the package nothing"},
};

static void
test_explain(void **state)
{
	struct config *config = config_new_defaults();
	struct org_snapshot *snapshot = build(fixture_input(), config);

	(void)state;
	for (size_t i = 0; i < sizeof(explain_cases) / sizeof(*explain_cases); i++) {
		char *text = org_explain(snapshot, explain_cases[i].login, explain_cases[i].package);

		assert_string_equal(text, explain_cases[i].text);
		ga_free(text);
	}
	org_snapshot_release(snapshot);
	config_free(config);
}

static void
test_snapshot_json_rejects_bad_input(void **state)
{
	static const char *const bad[] = {
		"", "[]", "{\"format\":\"other\"}",
		"{\"format\":\"ghaccess-snapshot\",\"version\":2}",
		"{\"format\":\"ghaccess-snapshot\",\"version\":1,\"organization\":\"o\","
		"\"base_permission\":\"root\",\"synced_at\":1,\"members\":[],\"teams\":[],"
		"\"repositories\":[]}",
		"{\"format\":\"ghaccess-snapshot\",\"version\":1,\"organization\":\"o\","
		"\"base_permission\":null,\"synced_at\":1,\"members\":[{\"login\":1}],"
		"\"teams\":[],\"repositories\":[]}",
	};
	struct org_input *input;
	struct ga_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(org_input_from_json(bad[i], strlen(bad[i]), &input, &err),
				 GA_EPARSE);
		assert_null(input);
		assert_true(strlen(err.message) > 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decisions),
		cmocka_unit_test(test_base_permission_none_and_unknown),
		cmocka_unit_test(test_packages_and_skips),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_groups_nesting_and_cycles),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_snapshot_json_rejects_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
