#!/bin/sh
# sso-e2e.sh - [github] verify_token_org_access against an organization that
# enforces SAML SSO (tests/e2e/test_sso.py): a token GET /user accepts but
# the organization refuses is refused, and twine and pip print the URL that
# authorizes it.
#
# Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
if [ ! -x "$BUILD/ghaccess" ]; then
	echo "sso-e2e: $BUILD/ghaccess not built" >&2
	exit 1
fi
[ -d tests/github-standin/node_modules ] ||
	(cd tests/github-standin && npm ci --no-audit --no-fund --loglevel=error)
if [ ! -x /usr/bin/twine ]; then
	echo "sso-e2e: /usr/bin/twine missing: run scripts/install-deps.sh" >&2
	exit 1
fi
exec python3 tests/e2e/test_sso.py
