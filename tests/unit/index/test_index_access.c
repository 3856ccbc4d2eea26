/*
 * test_index_access.c - the built-in index's access rule on the worked
 * example (tests/scenarios/worked-example.json): organization packages as
 * org_decide says, reserved names owners only, unclaimed names
 * by the [index] unclaimed setting, and fallback only for unclaimed names
 * the index does not hold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../support/scenario.h"
#include "index/index_access.h"
#include "util/ga_log.h"

struct fixture {
	struct org_snapshot *snapshot;
	enum config_unclaimed unclaimed;
};

/* The worked example with the "tools" repository excluded by the filters:
 * acme-tools is then reserved by a repository that yields no package.  dave
 * created a newer repository declaring the name, to take it over. */
static int
setup(void **state)
{
	static const char takeover[] = "[project]\nname = \"Acme.Tools\"\n";
	static struct fixture f;
	char path[1024];
	json_t *scenario;
	struct config *config;
	struct org_input *input;
	struct org_input_repository *repository;
	struct ga_err err;

	ga_log_setup(GA_LOG_SILENT, GA_LOG_LOGFMT);
	snprintf(path, sizeof(path), "%s/worked-example.json", scenario_directory());
	scenario = scenario_load(path);
	config = scenario_config(scenario);
	config_list_free(&config->repo_exclude_list);
	config_list_parse("tools", &config->repo_exclude_list);
	input = scenario_to_input(scenario);
	repository = org_input_add_repository(input, 999999, "tools-takeover", false, false);
	org_input_repository_set_pyproject(repository, takeover, sizeof(takeover) - 1);
	org_input_repository_add_collaborator(repository, "dave", ORG_LEVEL_ADMIN);
	assert_int_equal(org_snapshot_build(input, config, &f.snapshot, &err), GA_OK);
	config_free(config);
	json_decref(scenario);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	org_snapshot_release(f->snapshot);
	return 0;
}

struct access_case {
	const char *login;
	const char *name;
	bool stored;
	enum config_unclaimed unclaimed;
	bool read;
	bool write;
	bool fallback;
	enum index_access_basis basis;
};

#define OWNERS CONFIG_UNCLAIMED_OWNERS
#define MEMBERS CONFIG_UNCLAIMED_MEMBERS

static const struct access_case access_cases[] = {
	/* Organization packages: org_decide (spec section 7). */
	{ "olivia", "acme-core", true, OWNERS, true, true, false, INDEX_ACCESS_PACKAGE },
	{ "olivia", "acme-client", true, OWNERS, true, false, false, INDEX_ACCESS_PACKAGE },
	{ "bob", "ACME_core", true, OWNERS, true, true, false, INDEX_ACCESS_PACKAGE },
	{ "bob", "acme-client", true, MEMBERS, true, false, false, INDEX_ACCESS_PACKAGE },
	{ "carol", "acme.core", false, OWNERS, true, true, false, INDEX_ACCESS_PACKAGE },
	{ "dave", "acme-core", true, OWNERS, true, false, false, INDEX_ACCESS_PACKAGE },
	/* Reserved by the excluded "tools" repository: owners only, always;
	 * not dave, although his newer repository declares the name. */
	{ "olivia", "acme-tools", true, OWNERS, true, true, false, INDEX_ACCESS_CLAIMED },
	{ "dave", "acme-tools", true, MEMBERS, false, false, false, INDEX_ACCESS_CLAIMED },
	{ "bob", "acme_tools", false, MEMBERS, false, false, false, INDEX_ACCESS_CLAIMED },
	/* Unclaimed names. */
	{ "olivia", "left-pad", true, OWNERS, true, true, false, INDEX_ACCESS_UNCLAIMED },
	{ "bob", "left-pad", true, OWNERS, false, false, false, INDEX_ACCESS_UNCLAIMED },
	{ "bob", "left-pad", true, MEMBERS, true, false, false, INDEX_ACCESS_UNCLAIMED },
	{ "dave", "requests", false, MEMBERS, true, false, true, INDEX_ACCESS_UNCLAIMED },
	{ "dave", "requests", false, OWNERS, false, false, true, INDEX_ACCESS_UNCLAIMED },
	{ "olivia", "requests", false, OWNERS, true, true, true, INDEX_ACCESS_UNCLAIMED },
	/* Not a member: nothing anywhere. */
	{ "erin", "acme-tools", true, MEMBERS, false, false, false, INDEX_ACCESS_CLAIMED },
	{ "erin", "left-pad", true, MEMBERS, false, false, false, INDEX_ACCESS_UNCLAIMED },
	{ "erin", "acme-core", true, MEMBERS, false, false, false, INDEX_ACCESS_PACKAGE },
	{ "nobody", "requests", false, MEMBERS, false, false, true, INDEX_ACCESS_UNCLAIMED },
	/* Names that are no project name: owners only, never a fallback. */
	{ "bob", "../etc", false, MEMBERS, false, false, false, INDEX_ACCESS_CLAIMED },
	{ "olivia", "", false, MEMBERS, true, true, false, INDEX_ACCESS_CLAIMED },
};

static void
test_decisions(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(access_cases) / sizeof(access_cases[0]); i++) {
		const struct access_case *c = &access_cases[i];
		long member = org_snapshot_find_member(f->snapshot, c->login);
		struct index_access access =
			index_access_decide(f->snapshot, member, c->name, c->stored, c->unclaimed);

		if (access.read != c->read || access.write != c->write ||
		    access.fallback != c->fallback || access.basis != c->basis)
			fail_msg("%s on %s (stored %d, unclaimed %d): got r%d w%d f%d b%d, "
				 "expected r%d w%d f%d b%d",
				 c->login, c->name, c->stored, c->unclaimed, access.read,
				 access.write, access.fallback, access.basis, c->read, c->write,
				 c->fallback, c->basis);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_decisions, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
