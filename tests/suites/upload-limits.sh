#!/bin/sh
# upload-limits.sh - what an upload may make the built-in index hold, and
# when its permission is decided (tests/e2e/test_upload_limits.py): a form
# with the file part first stores nothing, uploads in progress are bounded
# per user, in all and in disk, a revocation during an upload is honoured
# at commit.
#
# Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
if [ ! -x "$BUILD/ghaccess" ]; then
	echo "upload-limits: $BUILD/ghaccess not built" >&2
	exit 1
fi
[ -d tests/github-standin/node_modules ] ||
	(cd tests/github-standin && npm ci --no-audit --no-fund --loglevel=error)
exec python3 tests/e2e/test_upload_limits.py
