#!/bin/sh
# Run every test: the cmocka unit test programs under $BUILD/tests, then each
# executable tests/suites/*.sh (end-to-end and data-driven suites).
# Prints one closing line "N passed, N failed" and exits non-zero on failure.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/check}
SHARED=${SHARED:-$(cd .. && pwd)/shared}
export BUILD SHARED
# LeakSanitizer needs ptrace-free operation; halt on the first UBSan report.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0
failed=0
failures=""
log_dir="$BUILD/test-logs"
mkdir -p "$log_dir"

run() {
	name=$1
	shift
	start=$(date +%s)
	if "$@" >"$log_dir/$name.log" 2>&1; then
		passed=$((passed + 1))
		echo "ok   $name ($(( $(date +%s) - start ))s)"
	else
		failed=$((failed + 1))
		failures="$failures $name"
		echo "FAIL $name ($(( $(date +%s) - start ))s)"
		tail -n 40 "$log_dir/$name.log" | sed 's/^/     | /'
	fi
}

for test in $(find "$BUILD/tests" -type f -perm -u+x 2>/dev/null | sort); do
	run "unit-$(echo "${test#"$BUILD"/tests/}" | tr / -)" "$test"
done
for suite in tests/suites/*.sh; do
	[ -x "$suite" ] || continue
	run "suite-$(basename "$suite" .sh)" "$suite"
done
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
