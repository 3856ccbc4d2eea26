#!/bin/sh
# metrics-format.sh - the live GET /metrics of `ghaccess serve` (after
# logins, a refusal and a webhook delivery) has every metric the operations
# guide lists and passes `promtool check metrics` (Debian package
# prometheus; without it the test says so and is skipped).
#
# Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
export PYTHONDONTWRITEBYTECODE=1
if [ ! -x "$BUILD/ghaccess" ]; then
	echo "metrics-format: $BUILD/ghaccess not built" >&2
	exit 1
fi
command -v promtool >/dev/null 2>&1 ||
	echo "metrics-format: promtool missing (apt-get install prometheus): format not checked"
[ -d tests/github-standin/node_modules ] ||
	(cd tests/github-standin && npm ci --no-audit --no-fund --loglevel=error)
exec python3 tests/e2e/test_webhook.py metrics_pass_promtool
