#!/bin/sh
# faults-e2e.sh - `ghaccess serve` under GitHub, memcached and process
# faults (tests/e2e/test_faults.py): decisions continue from the last good
# snapshot, max_stale fails closed (never open), kill -9 loses nothing.
#
# Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
if [ ! -x "$BUILD/ghaccess" ]; then
	echo "faults-e2e: $BUILD/ghaccess not built" >&2
	exit 1
fi
[ -d tests/github-standin/node_modules ] ||
	(cd tests/github-standin && npm ci --no-audit --no-fund --loglevel=error)
exec python3 tests/e2e/test_faults.py
