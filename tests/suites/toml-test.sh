#!/bin/sh
# toml-test.sh - run every TOML 1.0.0 case of the toml-test suite through $BUILD/toml-decode.
#
# Valid cases must exit 0 with JSON equal to the .json next to them (compared
# by toml_compare.py); invalid cases must exit 1.  The TOML 1.0.0 cases of
# the suite are in the repository (tests/toml-test, data only, MIT); set
# TOML_TEST_DIR to run another checkout of toml-test (the directory holding
# tests/), e.g. a newer one: TOML_TEST_DIR=../toml-test make check.
# Ends with "toml-test: N passed, M failed".
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
suite=${TOML_TEST_DIR:-$root/tests/toml-test}/tests
list=$suite/files-toml-1.0.0
decoder=$BUILD/toml-decode

if [ ! -f "$list" ]; then
	echo "toml-test: no suite at $suite (TOML_TEST_DIR)" >&2
	exit 1
fi
if [ ! -x "$decoder" ]; then
	echo "toml-test: $decoder is not built" >&2
	exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
compared=0
: > "$work/batch"

# The list names each valid case twice (.toml and .json) and each invalid
# case once; a case is one .toml file.  Decoder outputs of valid cases are
# kept and compared by one toml_compare.py run at the end.
while IFS= read -r name; do
	case $name in
	*.toml) ;;
	*) continue ;;
	esac
	file=$suite/$name
	output=$work/$compared.json
	"$decoder" < "$file" > "$output" 2> "$work/err.txt"
	status=$?
	case $name in
	valid/*)
		if [ "$status" -ne 0 ]; then
			failed=$((failed + 1))
			echo "FAIL $name: exit $status, expected 0: $(head -n 1 "$work/err.txt")"
		else
			printf '%s\t%s\t%s\n' "$name" "${file%.toml}.json" "$output" >> "$work/batch"
			compared=$((compared + 1))
		fi
		;;
	*)
		if [ "$status" -ne 1 ]; then
			failed=$((failed + 1))
			echo "FAIL $name: exit $status, expected 1"
		else
			passed=$((passed + 1))
		fi
		;;
	esac
done < "$list"

python3 "$here/toml_compare.py" --batch "$work/batch" > "$work/differences"
different=$(grep -c '^FAIL' "$work/differences")
cat "$work/differences"
passed=$((passed + compared - different))
failed=$((failed + different))

echo "toml-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
