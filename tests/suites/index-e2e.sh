#!/bin/sh
# index-e2e.sh - the built-in package index and forward-auth end to end, with
# real clients from Debian: twine, poetry, pip, and nginx (auth_request) in
# front of a static PEP 503 directory; 20 concurrent uploads; kill -9 during
# an upload (tests/e2e/test_index.py).
#
# Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
if [ ! -x "$BUILD/ghaccess" ]; then
	echo "index-e2e: $BUILD/ghaccess not built" >&2
	exit 1
fi
[ -d tests/github-standin/node_modules ] ||
	(cd tests/github-standin && npm ci --no-audit --no-fund --loglevel=error)
# The clients come from Debian (scripts/install-deps.sh); a missing one is a
# failure, not a skip, in `make check`.
for tool in /usr/bin/twine /usr/bin/poetry /usr/sbin/nginx; do
	if [ ! -x "$tool" ]; then
		echo "index-e2e: $tool missing: run scripts/install-deps.sh" >&2
		exit 1
	fi
done
exec python3 tests/e2e/test_index.py
