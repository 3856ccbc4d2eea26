#!/bin/sh
# pypicloud-e2e.sh - `ghaccess serve` end to end: the pypicloud remote access
# protocol replayed for every shared scenario, the token cache, bad input,
# the snapshot lifecycle, and several instances sharing one memcached.
# Real server, real GitHub client, the GitHub stand-in (tests/e2e/*.py).
#
# Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
# No __pycache__ in the source tree.
export PYTHONDONTWRITEBYTECODE=1
if [ ! -x "$BUILD/ghaccess" ]; then
	echo "pypicloud-e2e: $BUILD/ghaccess not built" >&2
	exit 1
fi
[ -d tests/github-standin/node_modules ] ||
	(cd tests/github-standin && npm ci --no-audit --no-fund --loglevel=error)
status=0
python3 tests/e2e/test_pypicloud.py || status=1
python3 tests/e2e/test_memcache.py || status=1
exit $status
