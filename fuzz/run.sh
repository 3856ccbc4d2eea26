#!/bin/sh
# Build every libFuzzer harness fuzz/fuzz_*.c with clang (ASan + UBSan) and
# run each for FUZZ_SECONDS against its corpus fuzz/corpus/<name>/.
# New inputs go to a scratch corpus under build/fuzz so the committed seed
# corpus stays small; crashes are written to build/fuzz/<name>/crash-* and
# fail the run (copy them into fuzz/corpus/<name>/ as regression inputs).
#   FUZZ_SECONDS=60 fuzz/run.sh [name ...]
set -eu
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
out=build/fuzz
mkdir -p "$out"
PKGS="libmicrohttpd libcurl jansson libpcre2-8 inih libcrypto libmemcached"
cflags="-std=c17 -D_GNU_SOURCE -DPCRE2_CODE_UNIT_WIDTH=8 -DGHACCESS_VERSION=\"fuzz\" -g -O1 \
 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc -I$out/generated \
 $(pkg-config --cflags $PKGS)"
libs="$(pkg-config --libs $PKGS) -lpthread -lm"
sources=$(find src -name '*.c' ! -name main.c ! -name toml_decode_main.c | sort)
mkdir -p "$out/generated"
scripts/embed-graphql.sh src/github/queries/*.graphql > "$out/generated/github_queries.c"

names=${*:-$(for f in fuzz/fuzz_*.c; do basename "$f" .c | sed 's/^fuzz_//'; done)}
status=0
for name in $names; do
	binary=$out/fuzz_$name
	# shellcheck disable=SC2086
	clang $cflags -o "$binary" fuzz/fuzz_$name.c $sources "$out/generated/github_queries.c" $libs
	mkdir -p "$out/$name/corpus" "fuzz/corpus/$name"
	dict=""
	[ -f "fuzz/$name.dict" ] && dict="-dict=fuzz/$name.dict"
	echo "fuzz: $name for ${seconds}s"
	# shellcheck disable=SC2086
	if ! "$binary" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix="$out/$name/" $dict \
		"$out/$name/corpus" "fuzz/corpus/$name" > "$out/$name.log" 2>&1; then
		echo "fuzz: $name FAILED, see $out/$name.log"; tail -n 30 "$out/$name.log"
		status=1
	else
		grep -E '^stat::(number_of_executed_units|peak_rss_mb)|cov:' "$out/$name.log" | tail -n 3
	fi
done
exit $status
