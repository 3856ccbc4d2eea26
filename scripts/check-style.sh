#!/bin/sh
# Project rules that the compiler does not check (CONTRIBUTING.md explains them):
#  - raw malloc/calloc/realloc/free/strdup only in src/util/ga_xalloc.c
#    (a line may opt out with "style-ok" when freeing a library's allocation);
#  - the include direction of the layers: the rank() table below;
#  - no unsafe string functions (sprintf, strcpy, strcat, gets, atoi);
#  - cppcheck reports nothing (varFuncNullUB is off: glibc defines NULL as
#    a pointer, and ga_log's sentinel attribute checks the terminator).
set -eu
cd "$(dirname "$0")/.."
status=0

banned=$(grep -rnE '\b(malloc|calloc|realloc|free|strdup|strndup)\(' src \
	--include='*.c' | grep -v '^src/util/ga_xalloc.c' | grep -v 'style-ok' |
	grep -vE '(ga_|json_|_)free\(|ga_(malloc|calloc|realloc|strdup|strndup)\(' || true)
if [ -n "$banned" ]; then
	echo "check-style: raw allocation outside src/util/ga_xalloc.c:"; echo "$banned"; status=1
fi
unsafe=$(grep -rnE '\b(sprintf|vsprintf|strcpy|strcat|gets|atoi|atol)\(' src --include='*.c' |
	grep -vE '(snprintf|vsnprintf)\(' || true)
if [ -n "$unsafe" ]; then
	echo "check-style: unsafe string function:"; echo "$unsafe"; status=1
fi

# Layer rank, the one written statement of the layers' order: a file may
# include headers of its own or a lower rank only.
rank() {
	case $1 in
	util) echo 0;; toml|config) echo 1;; org) echo 2;; github) echo 3;;
	cache) echo 3;; oidc) echo 4;; service|index) echo 5;; http) echo 6;; cli) echo 7;;
	*) echo 9;;
	esac
}
for file in $(find src -name '*.[ch]' | sort); do
	layer=$(echo "$file" | cut -d/ -f2)
	[ "$layer" = main.c ] && continue
	own=$(rank "$layer")
	for included in $(sed -n 's|^#include "\([a-z]*\)/.*|\1|p' "$file" | sort -u); do
		if [ "$(rank "$included")" -gt "$own" ]; then
			echo "check-style: $file ($layer) includes $included/: wrong direction"
			status=1
		fi
	done
done

if command -v cppcheck >/dev/null 2>&1; then
	if ! cppcheck --quiet --enable=warning,performance,portability --error-exitcode=1 \
		--inline-suppr --suppress=missingIncludeSystem --suppress=varFuncNullUB -Isrc -Ibuild/check/generated \
		--std=c11 -D__GNUC__ src 2>&1; then
		echo "check-style: cppcheck reported problems"; status=1
	fi
fi
exit $status
