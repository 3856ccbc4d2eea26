#!/bin/sh
# valgrind.sh - `ghaccess serve` under valgrind memcheck through the main
# end-to-end flows (tests/e2e/test_valgrind.py): zero errors, zero
# definitely lost blocks.  valgrind cannot run a sanitizer build, so this
# builds its own: make BUILD=build/valgrind CFLAGS='-O1 -g' all.
#
# Environment: VALGRIND_BUILD (default build/valgrind), GHACCESS_SCENARIOS.
set -eu
cd "$(dirname "$0")/../.."
if ! command -v valgrind >/dev/null 2>&1; then
	echo "valgrind: SKIP: valgrind is not installed (scripts/install-deps.sh installs it)"
	exit 77
fi
build=${VALGRIND_BUILD:-build/valgrind}
# -O1 keeps the stack traces readable; no sanitizers (they clash with memcheck).
make -s BUILD="$build" CFLAGS='-O1 -g' all
[ -d tests/github-standin/node_modules ] ||
	(cd tests/github-standin && npm ci --no-audit --no-fund --loglevel=error)
# The server under test is not an ASan build; the runner's ASAN_OPTIONS
# are harmless but say nothing here.
BUILD=$build exec python3 tests/e2e/test_valgrind.py
