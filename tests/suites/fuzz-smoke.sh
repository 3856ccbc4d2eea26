#!/bin/sh
# Every libFuzzer harness (fuzz/fuzz_*.c) for a short time, so that a
# regression input in fuzz/corpus/<name>/ or a shallow new crash fails
# `make check`.  The long runs are `make fuzz FUZZ_SECONDS=N` (fuzz/README.md).
#   FUZZ_SMOKE_SECONDS=20 (per harness)
set -eu
cd "$(dirname "$0")/../.."

# libFuzzer ships with clang's runtime (Debian: libclang-rt-14-dev); without
# it this machine cannot fuzz, which is not a failure of ghaccess.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT INT TERM
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
	> "$probe/probe.c"
if ! command -v clang >/dev/null 2>&1 ||
   ! clang -fsanitize=fuzzer,address,undefined -o "$probe/probe" "$probe/probe.c" 2>/dev/null; then
	echo "fuzz-smoke: SKIP: clang with libFuzzer is not available (scripts/install-deps.sh installs clang and libclang-rt-14-dev)"
	exit 77
fi
rm -rf "$probe"
trap - EXIT INT TERM

# The test runner's ASAN_OPTIONS (abort_on_error=0) suit libFuzzer too;
# UBSan must stop at the first report so libFuzzer saves the input.
FUZZ_SECONDS=${FUZZ_SMOKE_SECONDS:-20} FUZZ_BUILD=${FUZZ_BUILD:-build/fuzz} exec fuzz/run.sh
