#!/bin/sh
# bench/bench-index.sh - the built-in index against nginx on the same machine:
# `pip download` of one wheel through ghaccess (credentials, access check,
# zero-copy send) versus nginx serving the same file from disk without
# authentication (the ratio of the medians, same run), and the upload
# throughput of a 50 MiB file in MiB/s.  Writes bench/results-index.md.
#
# Environment: BUILD (default build: the optimised `make` output), RUNS,
# WHEEL_MB, UPLOAD_MB, UPLOAD_RUNS (see bench/bench_index.py).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
[ -x "$BUILD/ghaccess" ] || { echo "bench-index: $BUILD/ghaccess not built (make)" >&2; exit 1; }
for tool in /usr/sbin/nginx /usr/bin/curl; do
	[ -x "$tool" ] || { echo "bench-index: $tool missing (scripts/install-deps.sh)" >&2; exit 1; }
done
[ -d tests/github-standin/node_modules ] ||
	(cd tests/github-standin && npm ci --no-audit --no-fund --loglevel=error)
exec python3 bench/bench_index.py
