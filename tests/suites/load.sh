#!/bin/sh
# load.sh - wrk at 256 connections on /user_permissions, a cached /verify
# and the index's /simple/<pkg>/ while syncs run every second: zero errors,
# zero wrong answers in a sampled check, resident memory flat (under 5 %
# growth after warm-up).  See tests/e2e/load.py.
#
# LOAD_SECONDS: 15 here (make check); bench/run.sh (make bench) runs 60.
# The server is the optimised build (make all): a sanitizer build's
# quarantine and shadow memory would make the RSS figure meaningless.
#
# Environment: LOAD_SECONDS (15), LOAD_BUILD (build), LOAD_REPORT (a file
# for the Markdown table), GHACCESS_SCENARIOS.
set -eu
cd "$(dirname "$0")/../.."
if ! command -v wrk >/dev/null 2>&1; then
	echo "load: SKIP: wrk is not installed (scripts/install-deps.sh installs it)"
	exit 77
fi
build=${LOAD_BUILD:-build}
make -s BUILD="$build" all
[ -d tests/github-standin/node_modules ] ||
	(cd tests/github-standin && npm ci --no-audit --no-fund --loglevel=error)
set -- --seconds "${LOAD_SECONDS:-15}"
[ -n "${LOAD_REPORT:-}" ] && set -- "$@" --report "$LOAD_REPORT"
BUILD=$build exec python3 tests/e2e/load.py "$@"
