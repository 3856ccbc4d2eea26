#!/bin/sh
# names-e2e.sh - package name takeover through filtered or disabled
# repositories, end to end: the built-in index with twine and pip,
# forward-auth, the pypicloud protocol, `sync` and `explain`
# (tests/e2e/test_names.py).
#
# Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
set -eu
. "$(dirname "$0")/e2e-env.sh"
need_tool /usr/bin/twine
exec python3 tests/e2e/test_names.py
