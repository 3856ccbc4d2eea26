#!/bin/sh
# targeted-e2e.sh - freshness from webhooks by targeted reads (issue 14 (b)):
# with no full sync after the first, a team gaining a repository, a member
# added to a team, a new repository with a pyproject.toml and a push
# changing a package name each take effect within 5 s of the delivery, for
# a few GraphQL points each (tests/e2e/test_targeted.py).
#
# Environment: BUILD (directory holding ghaccess, default build),
# TARGETED_POINTS_REPORT (a file the points per event are appended to).
set -eu
. "$(dirname "$0")/e2e-env.sh"
exec python3 tests/e2e/test_targeted.py
