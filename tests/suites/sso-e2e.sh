#!/bin/sh
# sso-e2e.sh - [github] verify_token_org_access against an organization that
# enforces SAML SSO (tests/e2e/test_sso.py): a token GET /user accepts but
# the organization refuses is refused, and twine and pip print the URL that
# authorizes it.
#
# Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
set -eu
. "$(dirname "$0")/e2e-env.sh"
need_tool /usr/bin/twine
exec python3 tests/e2e/test_sso.py
