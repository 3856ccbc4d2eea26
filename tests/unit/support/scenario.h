/*
 * scenario.h - the scenarios of tests/scenarios/ (format: tests/scenarios/README.md)
 * in unit tests.
 *
 * A scenario is read with jansson, turned into the struct org_input that a
 * sync with a fully scoped token would produce, and its "expect" part is
 * asserted (with cmocka) against a snapshot, whichever way the snapshot was
 * obtained: straight from the scenario (engine tests) or through the real
 * GitHub client and the stand-in (sync tests).
 */
#ifndef TEST_SCENARIO_H
#define TEST_SCENARIO_H

#include <jansson.h>

#include "config/config.h"
#include "org/org_input.h"
#include "org/org_snapshot.h"

/* Directory of the scenarios: $GHACCESS_SCENARIOS, defaulting to
 * tests/scenarios (tests run from the top of the repository).  Returns a
 * static string. */
const char *scenario_directory(void);

/* Every *.json file of scenario_directory(), sorted; NULL-terminated array
 * of paths (free with scenario_paths_free). */
char **scenario_paths(void);
void scenario_paths_free(char **paths);

/* Parse a scenario file; fails the test on error. */
json_t *scenario_load(const char *path);

/* The organization as GitHub would report it to the server token. */
struct org_input *scenario_to_input(const json_t *scenario);

/* A default config with the scenario's "config" filters applied. */
struct config *scenario_config(const json_t *scenario);

/* Assert every part of "expect" except "logins" against snapshot. */
void scenario_assert_snapshot(const json_t *scenario, const struct org_snapshot *snapshot);

#endif
