#!/bin/sh
# cluster-e2e.sh - several `ghaccess serve` instances as one service, end to
# end with a real memcached and the GitHub stand-in: a webhook delivered to
# one instance refuses on the others within 2 s (the shared change log), the
# first syncer killed during a fresh cluster's first sync holds the others
# up for seconds (the renewed sync lock), memcached restarted or down while
# a revocation arrives lets nobody in, forged or moved change log entries
# are refused (tests/e2e/test_cluster.py).  Skipped without memcached.
#
# Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
set -eu
. "$(dirname "$0")/e2e-env.sh"
exec python3 tests/e2e/test_cluster.py
