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
