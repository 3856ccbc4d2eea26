#!/bin/sh
# index-e2e.sh - the built-in package index and forward-auth end to end, with
# real clients from Debian: twine, poetry, pip, and nginx (auth_request) in
# front of a static PEP 503 directory; 20 concurrent uploads; kill -9 during
# an upload (tests/e2e/test_index.py).
#
# Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
set -eu
. "$(dirname "$0")/e2e-env.sh"
need_tool /usr/bin/twine /usr/bin/poetry /usr/sbin/nginx
exec python3 tests/e2e/test_index.py
