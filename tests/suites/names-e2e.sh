#!/bin/sh
# names-e2e.sh - package name takeover through filtered or disabled
# repositories, end to end: the built-in index with twine and pip,
# forward-auth, the pypicloud protocol, `sync` and `explain`
# (tests/e2e/test_names.py).
#
# Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
if [ ! -x "$BUILD/ghaccess" ]; then
	echo "names-e2e: $BUILD/ghaccess not built" >&2
	exit 1
fi
[ -d tests/github-standin/node_modules ] ||
	(cd tests/github-standin && npm ci --no-audit --no-fund --loglevel=error)
# The clients come from Debian (scripts/install-deps.sh); a missing one is a
# failure, not a skip, in `make check`.
if [ ! -x /usr/bin/twine ]; then
	echo "names-e2e: /usr/bin/twine missing: run scripts/install-deps.sh" >&2
	exit 1
fi
exec python3 tests/e2e/test_names.py
