/*
 * org_input_json.h - what the writer (org_input_json.c) and the reader
 * (org_input_json_read.c) of the snapshot format share; src/org only.
 */
#ifndef ORG_INPUT_JSON_H
#define ORG_INPUT_JSON_H

#include "org/org_input.h"

#define SNAPSHOT_FORMAT "ghaccess-snapshot"
#define SNAPSHOT_VERSION 1

#define ORG_PYPROJECT_STATE_COUNT (ORG_PYPROJECT_UNDETERMINED + 1)

/* "missing", "text", ... indexed by enum org_pyproject_state. */
extern const char *const org_pyproject_state_names[ORG_PYPROJECT_STATE_COUNT];

#endif
