#!/bin/sh
# metrics-format.sh - the live GET /metrics of `ghaccess serve` (after
# logins, a refusal and a webhook delivery) has every metric the operations
# guide lists and passes `promtool check metrics` (Debian package
# prometheus; without it the test says so and is skipped).
#
# Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
set -eu
. "$(dirname "$0")/e2e-env.sh"
command -v promtool >/dev/null 2>&1 ||
	echo "metrics-format: promtool missing (apt-get install prometheus): format not checked"
exec python3 tests/e2e/test_webhook.py metrics_pass_promtool
