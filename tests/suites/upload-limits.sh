#!/bin/sh
# upload-limits.sh - what an upload may make the built-in index hold, and
# when its permission is decided (tests/e2e/test_upload_limits.py): a form
# with the file part first stores nothing, uploads in progress are bounded
# per user, in all and in disk, a revocation during an upload is honoured
# at commit.
#
# Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
set -eu
. "$(dirname "$0")/e2e-env.sh"
exec python3 tests/e2e/test_upload_limits.py
