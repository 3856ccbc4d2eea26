#!/bin/sh
# faults-e2e.sh - `ghaccess serve` under GitHub, memcached and process
# faults (tests/e2e/test_faults.py): decisions continue from the last good
# snapshot, max_stale fails closed (never open), kill -9 loses nothing.
#
# Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
set -eu
. "$(dirname "$0")/e2e-env.sh"
exec python3 tests/e2e/test_faults.py
