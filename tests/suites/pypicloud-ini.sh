#!/bin/sh
# pypicloud-ini.sh - one server.ini for pserve and for ghaccess: Debian's
# PasteDeploy (python3-pastedeploy) and `ghaccess check-config` / `serve`
# on the same files (tests/e2e/test_pypicloud_ini.py), and every pypicloud
# configuration snippet of the documentation parsed with configparser's
# rules (tests/e2e/ini_snippets.py).
#
# Environment: BUILD (directory holding ghaccess, default build).
set -eu
. "$(dirname "$0")/e2e-env.sh"
# 77 (skipped) only when nothing failed.
status=0
python3 tests/e2e/ini_snippets.py || status=1
python3 tests/e2e/test_pypicloud_ini.py || {
	code=$?
	[ "$code" -eq 77 ] && [ "$status" -eq 0 ] && status=77 || status=1
}
exit $status
