#!/bin/sh
# github-model-e2e.sh - GitHub as it really is (issue 11), end to end: a
# team removal leaves a lower direct grant (with and without admin:org),
# nullable fields that cost only their item, an App reinstalled without a
# restart, a configured base permission flagged as unverified, forks and
# templates in sync and explain (tests/e2e/test_github_model.py).
#
# Environment: BUILD (directory holding ghaccess, default build).
set -eu
. "$(dirname "$0")/e2e-env.sh"
exec python3 tests/e2e/test_github_model.py
