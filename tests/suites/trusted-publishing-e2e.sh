#!/bin/sh
# trusted-publishing-e2e.sh - publishing from GitHub Actions with no stored
# secret: the stand-in plays GitHub Actions' OIDC issuer, the flow of
# pypa/gh-action-pypi-publish is re-enacted, twine uploads and pip reads with
# the minted token, every refusal has its own code
# (tests/e2e/test_trusted_publishing.py).
#
# Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
set -eu
. "$(dirname "$0")/e2e-env.sh"
need_tool /usr/bin/twine
exec python3 tests/e2e/test_trusted_publishing.py
