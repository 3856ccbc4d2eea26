#!/bin/sh
# server-limits.sh - what one client can make `ghaccess serve` hold
# (tests/e2e/test_server_limits.py): unknown tokens while GitHub is slow
# (bounded token checks; a logged-in user keeps a p99 under 50 ms), slow
# header senders (header_timeout, max_connections_per_ip, /health).
#
# Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
if [ ! -x "$BUILD/ghaccess" ]; then
	echo "server-limits: $BUILD/ghaccess not built" >&2
	exit 1
fi
[ -d tests/github-standin/node_modules ] ||
	(cd tests/github-standin && npm ci --no-audit --no-fund --loglevel=error)
if ! command -v prlimit >/dev/null 2>&1; then
	echo "server-limits: prlimit (util-linux) missing" >&2
	exit 1
fi
exec python3 tests/e2e/test_server_limits.py
