/* test_org_scenarios.c - every shared scenario, straight into the engine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../support/scenario.h"
#include "org/org_snapshot.h"
#include "util/ga_xalloc.h"

static void
check_scenario(const char *path, bool through_snapshot_file)
{
	json_t *scenario = scenario_load(path);
	struct config *config = scenario_config(scenario);
	struct org_input *input = scenario_to_input(scenario);
	struct org_snapshot *snapshot = NULL;
	struct ga_err err;

	if (through_snapshot_file) {
		/* The same decisions after a trip through the snapshot format. */
		char *text = org_input_to_json(input);

		org_input_free(input);
		assert_int_equal(org_input_from_json(text, strlen(text), &input, &err), GA_OK);
		ga_free(text);
	}
	assert_int_equal(org_snapshot_build(input, config, &snapshot, &err), GA_OK);
	scenario_assert_snapshot(scenario, snapshot);
	org_snapshot_release(snapshot);
	config_free(config);
	json_decref(scenario);
}

/* A rebuild (SIGHUP) shares the records, outlives the snapshot it came
 * from, and decides the same; under another group_name it renames teams. */
static void
check_rebuild(const char *path)
{
	json_t *scenario = scenario_load(path);
	struct config *config = scenario_config(scenario);
	struct org_snapshot *first = NULL, *second = NULL, *renamed = NULL;
	struct ga_err err;

	assert_int_equal(org_snapshot_build(scenario_to_input(scenario), config, &first, &err),
			 GA_OK);
	assert_int_equal(org_snapshot_rebuild(first, config, &second, &err), GA_OK);
	assert_ptr_equal(org_snapshot_input(first), org_snapshot_input(second));
	config->group_name = config->group_name == CONFIG_GROUP_NAME ? CONFIG_GROUP_SLUG
								     : CONFIG_GROUP_NAME;
	assert_int_equal(org_snapshot_rebuild(second, config, &renamed, &err), GA_OK);
	org_snapshot_release(first);
	scenario_assert_snapshot(scenario, second);
	org_snapshot_release(second);
	for (size_t t = 0; t < org_snapshot_team_count(renamed); t++) {
		const struct org_input_team *team = &org_snapshot_input(renamed)->teams[t];

		assert_string_equal(org_snapshot_group_key(renamed, (long)t),
				    config->group_name == CONFIG_GROUP_NAME ? team->name
									    : team->slug);
	}
	org_snapshot_release(renamed);
	config_free(config);
	json_decref(scenario);
}

static void
test_every_shared_scenario(void **state)
{
	char **paths = scenario_paths();

	(void)state;
	assert_non_null(paths[0]);
	for (size_t i = 0; paths[i] != NULL; i++) {
		print_message("scenario %s\n", paths[i]);
		check_scenario(paths[i], false);
		check_scenario(paths[i], true);
		check_rebuild(paths[i]);
	}
	scenario_paths_free(paths);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_shared_scenario),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
