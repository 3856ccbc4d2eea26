#!/bin/sh
# trusted-publishing-e2e.sh - publishing from GitHub Actions with no stored
# secret: the stand-in plays GitHub Actions' OIDC issuer, the flow of
# pypa/gh-action-pypi-publish is re-enacted, twine uploads and pip reads with
# the minted token, every refusal has its own code
# (tests/e2e/test_trusted_publishing.py).
#
# Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
if [ ! -x "$BUILD/ghaccess" ]; then
	echo "trusted-publishing-e2e: $BUILD/ghaccess not built" >&2
	exit 1
fi
[ -d tests/github-standin/node_modules ] ||
	(cd tests/github-standin && npm ci --no-audit --no-fund --loglevel=error)
if [ ! -x /usr/bin/twine ]; then
	echo "trusted-publishing-e2e: /usr/bin/twine missing: run scripts/install-deps.sh" >&2
	exit 1
fi
exec python3 tests/e2e/test_trusted_publishing.py
