#!/bin/sh
# scale-e2e.sh - `ghaccess serve` on generated organizations of thousands of
# repositories (tests/e2e/test_scale.py): bounded memory through refreshes,
# a reload rebuilt from the records in hand, large answers that agree with
# the engine, and the GitHub budget: a 30k organization with expiration = 10
# spends at most [github] budget_share of the hour pro rata (issue 14 test
# (a)).  bench/scale.py measures the same at full size.
#
# Environment: BUILD (directory holding ghaccess, default build).
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
export PYTHONDONTWRITEBYTECODE=1
if [ ! -x "$BUILD/ghaccess" ]; then
	echo "scale-e2e: $BUILD/ghaccess not built" >&2
	exit 1
fi
[ -d tests/github-standin/node_modules ] ||
	(cd tests/github-standin && npm ci --no-audit --no-fund --loglevel=error)
exec python3 tests/e2e/test_scale.py
