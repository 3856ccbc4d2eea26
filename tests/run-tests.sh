#!/bin/sh
# Run every test: the cmocka unit test programs under $BUILD/tests, then each
# executable tests/suites/*.sh (end-to-end and data-driven suites).
# A test that exits 77 could not run here (a missing tool) and counts as
# skipped, never as passed.
# Prints one closing line "N passed, N failed, N skipped" and exits non-zero
# on failure.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/check}
export BUILD
# LeakSanitizer needs ptrace-free operation; halt on the first UBSan report.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0
failed=0
skipped=0
failures=""
skips=""
log_dir="$BUILD/test-logs"
mkdir -p "$log_dir"

run() {
	name=$1
	shift
	start=$(date +%s)
	"$@" >"$log_dir/$name.log" 2>&1
	status=$?
	# cmocka exits 0 when its only non-passing tests were skipped.
	if [ "$status" -eq 0 ] && grep -q '^\[  SKIPPED \]' "$log_dir/$name.log"; then
		status=77
	fi
	if [ "$status" -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok   $name ($(( $(date +%s) - start ))s)"
	elif [ "$status" -eq 77 ]; then
		skipped=$((skipped + 1))
		skips="$skips $name"
		echo "SKIP $name: $(grep -i 'skip' "$log_dir/$name.log" | tail -n 1)"
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
[ -n "$skips" ] && echo "skipped:$skips"
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
