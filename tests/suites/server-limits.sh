#!/bin/sh
# server-limits.sh - what one client can make `ghaccess serve` hold
# (tests/e2e/test_server_limits.py): unknown tokens while GitHub is slow
# (bounded token checks; a logged-in user keeps a p99 under 50 ms), slow
# header senders (header_timeout, max_connections_per_ip, /health).
#
# Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
set -eu
. "$(dirname "$0")/e2e-env.sh"
need_tool prlimit
exec python3 tests/e2e/test_server_limits.py
