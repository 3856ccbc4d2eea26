#!/bin/sh
# index-api-e2e.sh - what the built-in index speaks beyond PEP 503/691, with
# real clients from Debian: pip resolving from PEP 658 .metadata files,
# `pip index versions`, the JSON API against the stored METADATA, PEP 592
# yanking through the API and `ghaccess index`, deletion and the names it
# retires, and hostile uploads (tests/e2e/test_index_api.py).
#
# Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
export PYTHONDONTWRITEBYTECODE=1
if [ ! -x "$BUILD/ghaccess" ]; then
	echo "index-api-e2e: $BUILD/ghaccess not built" >&2
	exit 1
fi
[ -d tests/github-standin/node_modules ] ||
	(cd tests/github-standin && npm ci --no-audit --no-fund --loglevel=error)
# The clients come from Debian (scripts/install-deps.sh); a missing one is a
# failure, not a skip, in `make check`.
for tool in /usr/bin/twine /usr/bin/python3; do
	if [ ! -x "$tool" ]; then
		echo "index-api-e2e: $tool missing: run scripts/install-deps.sh" >&2
		exit 1
	fi
done
if ! /usr/bin/python3 -m pip --version >/dev/null 2>&1; then
	echo "index-api-e2e: Debian's pip (python3-pip) missing: run scripts/install-deps.sh" >&2
	exit 1
fi
exec python3 tests/e2e/test_index_api.py
