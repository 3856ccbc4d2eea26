#!/bin/sh
# The GitHub stand-in's own tests (node --test): schema validation, cost
# rule, pagination, faults, webhooks, app authentication.
set -eu
cd "$(dirname "$0")/../github-standin"
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
npm test --silent
