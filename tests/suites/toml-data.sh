#!/bin/sh
# toml-data.sh - run the project's own TOML cases (tests/data/toml) through $BUILD/toml-decode.
#
# Each NAME.toml has either NAME.json, the tagged JSON toml-decode must print
# (compared by toml_compare.py), or NAME.err, whose first line must begin the
# first line toml-decode prints on stderr when it refuses the file (exit 1).
# Ends with "toml-data: N passed, M failed".
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
data=$root/tests/data/toml
decoder=$BUILD/toml-decode

if [ ! -x "$decoder" ]; then
	echo "toml-data: $decoder is not built" >&2
	exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
compared=0
: > "$work/batch"

for file in "$data"/*.toml; do
	name=${file##*/}
	base=${file%.toml}
	output=$work/$compared.json
	"$decoder" < "$file" > "$output" 2> "$work/err.txt"
	status=$?
	if [ -f "$base.json" ]; then
		if [ "$status" -ne 0 ]; then
			failed=$((failed + 1))
			echo "FAIL $name: exit $status, expected 0: $(head -n 1 "$work/err.txt")"
		else
			printf '%s\t%s\t%s\n' "$name" "$base.json" "$output" >> "$work/batch"
			compared=$((compared + 1))
		fi
	elif [ -f "$base.err" ]; then
		expected=$(head -n 1 "$base.err")
		actual=$(head -n 1 "$work/err.txt")
		if [ "$status" -ne 1 ]; then
			failed=$((failed + 1))
			echo "FAIL $name: exit $status, expected 1"
		else
			case $actual in
			"$expected"*)
				passed=$((passed + 1)) ;;
			*)
				failed=$((failed + 1))
				echo "FAIL $name: error \"$actual\", expected \"$expected\"" ;;
			esac
		fi
	else
		failed=$((failed + 1))
		echo "FAIL $name: neither ${base##*/}.json nor ${base##*/}.err exists"
	fi
done

python3 "$here/toml_compare.py" --batch "$work/batch" > "$work/differences"
different=$(grep -c '^FAIL' "$work/differences")
cat "$work/differences"
passed=$((passed + compared - different))
failed=$((failed + different))

echo "toml-data: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
