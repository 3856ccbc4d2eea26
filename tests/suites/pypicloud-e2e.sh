#!/bin/sh
# pypicloud-e2e.sh - `ghaccess serve` end to end: the pypicloud remote access
# protocol replayed for every shared scenario, the token cache, bad input,
# the snapshot lifecycle, and several instances sharing one memcached.
# Real server, real GitHub client, the GitHub stand-in (tests/e2e/*.py).
#
# Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
set -eu
. "$(dirname "$0")/e2e-env.sh"
status=0
python3 tests/e2e/test_pypicloud.py || status=1
python3 tests/e2e/test_memcache.py || status=1
exit $status
