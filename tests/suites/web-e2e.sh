#!/bin/sh
# web-e2e.sh - the web pages end to end: sign in with GitHub through the
# stand-in's OAuth endpoints in Debian's headless Chromium, the packages of
# two users per scenario, the "why" sentence, sign out, a removed member's
# session, and the attacks over plain HTTP (forged, expired and tampered
# cookies, CSRF, OAuth state and replay, headers) (tests/e2e/test_web.py).
# Screenshots of each page go to $BUILD/web/.
#
# Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
export PYTHONDONTWRITEBYTECODE=1
if [ ! -x "$BUILD/ghaccess" ]; then
	echo "web-e2e: $BUILD/ghaccess not built" >&2
	exit 1
fi
[ -d tests/github-standin/node_modules ] ||
	(cd tests/github-standin && npm ci --no-audit --no-fund --loglevel=error)
exec python3 tests/e2e/test_web.py
