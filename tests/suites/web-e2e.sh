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
. "$(dirname "$0")/e2e-env.sh"
exec python3 tests/e2e/test_web.py
