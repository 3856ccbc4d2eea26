#!/bin/sh
# bench/run.sh (make bench) - every benchmark of bench/, one after another.
# Each part writes its own bench/results-*.md and prints it.
set -eu
cd "$(dirname "$0")/.."
# ghaccess serve (/user_permissions, cached /verify) against nginx.
bench/http.sh
