#!/bin/sh
# Install the Debian packages that building and testing ghaccess need, when
# they are missing.  Runs apt-get only as root; otherwise says what to run.
set -eu
PACKAGES="build-essential pkg-config clang libclang-rt-14-dev cppcheck
libmicrohttpd-dev libcurl4-openssl-dev libjansson-dev libpcre2-dev libinih-dev
libssl-dev libmemcached-dev libzip-dev libsodium-dev libcmocka-dev memcached nginx-light curl
chromium fonts-dejavu-core
nodejs npm python3 python3-pip python3-venv twine python3-poetry python3-pastedeploy
valgrind prometheus wrk"
missing=""
for package in $PACKAGES; do
	if ! dpkg -s "$package" >/dev/null 2>&1; then
		missing="$missing $package"
	fi
done
# node and npm may come from elsewhere than Debian (the machines ship Node 20).
case "$missing" in *nodejs*|*npm*)
	if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
		missing=$(echo "$missing" | sed -e 's/ nodejs//' -e 's/ npm//')
	fi;;
esac
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "install-deps: installing$missing"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $missing
	else
		echo "install-deps: missing Debian packages:$missing" >&2
		echo "install-deps: run as root: apt-get install$missing" >&2
		exit 1
	fi
fi
# The GitHub stand-in's pinned npm packages.
if [ -f tests/github-standin/package-lock.json ] &&
   [ ! -d tests/github-standin/node_modules ]; then
	(cd tests/github-standin && npm ci --no-audit --no-fund --loglevel=error)
fi
