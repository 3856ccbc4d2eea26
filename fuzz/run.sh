#!/bin/sh
# Build every libFuzzer harness fuzz/fuzz_*.c with clang (ASan + UBSan) and
# run each for FUZZ_SECONDS against its corpus fuzz/corpus/<name>/.
#
# The library is compiled once through the Makefile (BUILD=$FUZZ_BUILD, with
# -fsanitize=fuzzer-no-link so libFuzzer sees its coverage), which also
# regenerates the embedded GraphQL queries, so this works from a clean
# checkout and rebuilds only what changed.
#
# Every committed input is first replayed one by one: a crash input copied
# into fuzz/corpus/<name>/ is a regression test.  New inputs then go to a
# scratch corpus under $FUZZ_BUILD/<name>/corpus so the committed seed
# corpus stays small; crashes are written to $FUZZ_BUILD/<name>/crash-* and
# fail the run (copy them into fuzz/corpus/<name>/ once fixed).
#
#   FUZZ_SECONDS=60 fuzz/run.sh [name ...]
#   FUZZ_BUILD=build/fuzz  FUZZ_JOBS=2  FUZZ_FLAGS='-max_len=8192'
# fuzz/<name>.dict is the harness's dictionary, fuzz/<name>.flags its own
# libFuzzer flags.
set -eu
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
out=${FUZZ_BUILD:-build/fuzz}
jobs=${FUZZ_JOBS:-2}
extra=${FUZZ_FLAGS:-}
mkdir -p "$out"

sanitize="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# Warnings stay on but are not errors here: clang may warn where the
# project's gcc build does not, and that must not stop the fuzzers.
make -s -j"$jobs" CC=clang BUILD="$out" WARNINGS="-Wall -Wextra" \
	CFLAGS="-g -O1 -fsanitize=fuzzer-no-link $sanitize" "$out/libghaccess.a"

PKGS="libmicrohttpd libcurl jansson libpcre2-8 inih libcrypto libmemcached libzip libsodium"
cflags="-std=c17 -D_GNU_SOURCE -DPCRE2_CODE_UNIT_WIDTH=8 -g -O1 -fsanitize=fuzzer $sanitize \
 -Isrc -I$out/generated $(pkg-config --cflags $PKGS)"
libs="$(pkg-config --libs $PKGS) -lpthread -lm"

names=${*:-$(for f in fuzz/fuzz_*.c; do basename "$f" .c | sed 's/^fuzz_//'; done)}
status=0
for name in $names; do
	binary=$out/fuzz_$name
	log=$out/$name.log
	# shellcheck disable=SC2086
	clang $cflags -o "$binary" "fuzz/fuzz_$name.c" "$out/libghaccess.a" $libs
	mkdir -p "$out/$name/corpus" "fuzz/corpus/$name"
	dict=""
	[ -f "fuzz/$name.dict" ] && dict="-dict=fuzz/$name.dict"
	# fuzz/<name>.flags: the harness's own libFuzzer flags (e.g. -max_len).
	flags=""
	[ -f "fuzz/$name.flags" ] && flags=$(grep -v '^#' "fuzz/$name.flags" | tr '\n' ' ')

	# Replay: each committed input once, by name, whatever its size.
	seeds=$(find "fuzz/corpus/$name" -type f | sort)
	if [ -n "$seeds" ]; then
		# shellcheck disable=SC2086
		if ! "$binary" -runs=1 -timeout=10 -rss_limit_mb=2048 $seeds \
			> "$out/$name.replay.log" 2>&1; then
			echo "fuzz: $name FAILED replaying fuzz/corpus/$name, see $out/$name.replay.log"
			tail -n 30 "$out/$name.replay.log"
			status=1
			continue
		fi
	fi

	echo "fuzz: $name for ${seconds}s ($(echo "$seeds" | grep -c . || true) committed inputs)"
	# shellcheck disable=SC2086
	if ! "$binary" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix="$out/$name/" $dict $flags $extra \
		"$out/$name/corpus" "fuzz/corpus/$name" > "$log" 2>&1; then
		echo "fuzz: $name FAILED, see $log"; tail -n 30 "$log"
		status=1
	else
		# The last status line (#N ... cov: ft: corp: exec/s:) and the totals.
		grep -E '^#[0-9]+' "$log" | tail -n 1
		grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log"
	fi
done
exit $status
