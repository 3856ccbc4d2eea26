/*
 * test_org_github_model.c - what the snapshot makes of GitHub's answers
 * that issue 11 brought in: files GitHub could not read, repositories it
 * gave no id or no name for, forks (include_forks) and templates; that the
 * snapshot file keeps them; that webhook removals keep them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "org/org_input.h"
#include "org/org_policy.h"
#include "org/org_snapshot.h"
#include "service/service_webhook.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

#define PYPROJECT(name) "[project]\nname = \"" name "\"\n"

static void
add_named(struct org_input *input, long long id, const char *repository, const char *text)
{
	struct org_input_repository *record = org_input_add_repository(input, id, repository, false,
								       false);

	org_input_repository_set_pyproject(record, text, strlen(text));
	org_input_repository_add_collaborator(record, "bob", ORG_LEVEL_WRITE);
}

/* An organization: bob a member, base read; core-lib, a fork of
 * psf/requests, a template, an unreadable file, a repository without id
 * and its namesake. */
static struct org_input *
organization(void)
{
	struct org_input *input = org_input_new();
	struct org_input_repository *record;

	input->organization = ga_strdup("acme");
	input->base_permission_known = true;
	input->base_permission = ORG_LEVEL_READ;
	input->synced_at = 1000;
	org_input_add_member(input, "bob", 102, false);
	org_input_add_member(input, "olivia", 101, true);
	add_named(input, 301, "core-lib", PYPROJECT("acme-core"));
	add_named(input, 302, "requests", PYPROJECT("requests"));
	org_input_repository_set_fork(&input->repositories[1], true, "psf/requests");
	add_named(input, 303, "template", PYPROJECT("acme-template"));
	input->repositories[2].is_template = true;
	record = org_input_add_repository(input, 304, "undetermined", false, false);
	record->pyproject_state = ORG_PYPROJECT_UNDETERMINED;
	add_named(input, 0, "no-id", PYPROJECT("acme-shared"));
	add_named(input, 306, "namesake", PYPROJECT("acme-shared"));
	return input;
}

static struct org_snapshot *
build(struct org_input *input, bool include_forks)
{
	struct config *config = config_new_defaults();
	struct org_snapshot *snapshot = NULL;
	struct ga_err err;

	config->include_forks = include_forks;
	assert_int_equal(org_snapshot_build(input, config, &snapshot, &err), GA_OK);
	config_free(config);
	return snapshot;
}

static void
test_unreadable_file_and_unknown_id(void **state)
{
	struct org_snapshot *snapshot = build(organization(), true);

	(void)state;
	assert_string_equal(org_snapshot_skip_reason_of(snapshot, "undetermined"),
			    "GitHub could not read pyproject.toml (it could not tell text from "
			    "binary)");
	/* No id: no package, and the namesake (which may be the newer one)
	 * neither: the name is reserved (owners only). */
	assert_int_equal(org_snapshot_find_package(snapshot, "acme-shared"), -1);
	assert_true(org_snapshot_find_reserved(snapshot, "acme-shared") >= 0);
	assert_string_equal(org_snapshot_skip_reason_of(snapshot, "no-id"),
			    "GitHub did not give the repository's id, which settles name "
			    "conflicts");
	assert_string_equal(org_snapshot_skip_reason_of(snapshot, "namesake"),
			    "conflict: acme-shared is reserved: no-id declares it too, and GitHub "
			    "did not say which repository is older");
	assert_true(org_snapshot_name_is_claimed(snapshot, "acme-shared"));
	assert_false(org_snapshot_name_is_claimed(snapshot, "left-pad"));
	/* The rest is unaffected. */
	assert_true(org_decide_by_name(snapshot, "bob", "acme-core").write);
	org_snapshot_release(snapshot);
}

static void
test_unnamed_repositories_stop_every_fallback(void **state)
{
	struct org_input *input = organization();
	struct org_snapshot *snapshot;

	(void)state;
	input->unnamed_repositories = 1;
	snapshot = build(input, true);
	/* Any name could be one of theirs: none goes to a fallback index. */
	assert_true(org_snapshot_name_is_claimed(snapshot, "left-pad"));
	assert_true(org_snapshot_name_is_claimed(snapshot, "requests2"));
	assert_true(org_decide_by_name(snapshot, "bob", "acme-core").read);
	org_snapshot_release(snapshot);
}

static void
test_forks_and_templates(void **state)
{
	struct org_snapshot *snapshot = build(organization(), true);
	long fork = org_snapshot_find_package(snapshot, "requests");
	long template = org_snapshot_find_package(snapshot, "acme-template");
	const char *parent = NULL;
	char *text;

	(void)state;
	/* include_forks = true (the default): the fork is a package, and says so. */
	assert_true(fork >= 0);
	assert_true(org_snapshot_package_is_fork(snapshot, fork, &parent));
	assert_string_equal(parent, "psf/requests");
	assert_false(org_snapshot_package_is_template(snapshot, fork));
	assert_true(org_snapshot_package_is_template(snapshot, template));
	assert_false(org_snapshot_package_is_fork(snapshot, template, NULL));
	text = org_explain(snapshot, "bob", "requests");
	assert_string_equal(text, "read, write: bob is a direct collaborator with WRITE on "
				  "requests; note: requests is a fork of psf/requests, so the name "
				  "requests is served from the organization, never from another index");
	ga_free(text);
	text = org_explain(snapshot, "bob", "acme-template");
	assert_non_null(strstr(text, "; note: template is a template repository"));
	ga_free(text);
	org_snapshot_release(snapshot);

	/* include_forks = false: no package, but the name stays the
	 * organization's: it never falls back to another index. */
	snapshot = build(organization(), false);
	assert_int_equal(org_snapshot_find_package(snapshot, "requests"), -1);
	assert_string_equal(org_snapshot_skip_reason_of(snapshot, "requests"),
			    "fork of psf/requests (include_forks = false)");
	assert_true(org_snapshot_name_is_claimed(snapshot, "requests"));
	org_snapshot_release(snapshot);
}

/* The snapshot file keeps what the sync learned. */
static void
test_snapshot_file_round_trip(void **state)
{
	struct org_input *input = organization();
	struct org_input *back = NULL;
	struct ga_err err;
	char *text;
	char *again;

	(void)state;
	input->unnamed_repositories = 2;
	text = org_input_to_json(input);
	assert_int_equal(org_input_from_json(text, strlen(text), &back, &err), GA_OK);
	assert_int_equal(back->unnamed_repositories, 2);
	assert_true(back->repositories[1].is_fork);
	assert_string_equal(back->repositories[1].fork_parent, "psf/requests");
	assert_true(back->repositories[2].is_template);
	assert_false(back->repositories[0].is_fork);
	assert_int_equal(back->repositories[3].pyproject_state, ORG_PYPROJECT_UNDETERMINED);
	again = org_input_to_json(back);
	assert_string_equal(text, again);
	/* Files written before these fields still read. */
	assert_null(strstr(text, "\"fork\":{\"parent\":null}"));
	ga_free(again);
	ga_free(text);
	org_input_free(back);
	org_input_free(input);
}

static void
test_bad_snapshot_fields(void **state)
{
	static const char *const bad[] = {
		"{\"format\":\"ghaccess-snapshot\",\"version\":1,\"organization\":\"a\","
		"\"base_permission\":null,\"synced_at\":1,\"unnamed_repositories\":-1,"
		"\"members\":[],\"teams\":[],\"repositories\":[]}",
		"{\"format\":\"ghaccess-snapshot\",\"version\":1,\"organization\":\"a\","
		"\"base_permission\":null,\"synced_at\":1,\"members\":[],\"teams\":[],"
		"\"repositories\":[{\"id\":1,\"name\":\"r\",\"archived\":false,\"disabled\":false,"
		"\"pyproject\":\"missing\",\"collaborators\":[],\"fork\":true}]}",
		"{\"format\":\"ghaccess-snapshot\",\"version\":1,\"organization\":\"a\","
		"\"base_permission\":null,\"synced_at\":1,\"members\":[],\"teams\":[],"
		"\"repositories\":[{\"id\":1,\"name\":\"r\",\"archived\":false,\"disabled\":false,"
		"\"pyproject\":\"missing\",\"collaborators\":[],\"template\":false}]}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct org_input *input = NULL;
		struct ga_err err;

		assert_int_equal(org_input_from_json(bad[i], strlen(bad[i]), &input, &err), GA_EPARSE);
		assert_null(input);
	}
}

/* A webhook removal rebuilds the input: forks stay forks (include_forks =
 * false must still keep them out), unnamed repositories stay unnamed. */
static void
test_removals_keep_what_github_said(void **state)
{
	struct service_webhook_revocations *revocations = service_webhook_revocations_create();
	struct service_webhook_removal removal = {.kind = SERVICE_WEBHOOK_REMOVE_MEMBER};
	struct org_input *input = organization();
	struct org_input *patched;
	struct org_snapshot *snapshot;

	(void)state;
	input->unnamed_repositories = 1;
	snprintf(removal.login, sizeof(removal.login), "olivia");
	service_webhook_revocations_add(revocations, &removal, org_input_read_at_ms(input) + 1);
	patched = service_webhook_revocations_apply(revocations, input);
	assert_non_null(patched);
	assert_int_equal(patched->member_count, 1);
	assert_int_equal(patched->unnamed_repositories, 1);
	assert_true(patched->repositories[1].is_fork);
	assert_string_equal(patched->repositories[1].fork_parent, "psf/requests");
	assert_true(patched->repositories[2].is_template);
	snapshot = build(patched, false);
	assert_int_equal(org_snapshot_find_package(snapshot, "requests"), -1);
	org_snapshot_release(snapshot);
	org_input_free(input);
	service_webhook_revocations_destroy(revocations);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unreadable_file_and_unknown_id),
		cmocka_unit_test(test_unnamed_repositories_stop_every_fallback),
		cmocka_unit_test(test_forks_and_templates),
		cmocka_unit_test(test_snapshot_file_round_trip),
		cmocka_unit_test(test_bad_snapshot_fields),
		cmocka_unit_test(test_removals_keep_what_github_said),
	};

	ga_log_setup(GA_LOG_ERROR, GA_LOG_LOGFMT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
