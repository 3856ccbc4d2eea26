#!/bin/sh
# make demo works as the README says: the stand-in and ghaccess start, the
# printed pip line downloads acme-tools with its private dependency, and the
# printed pypicloud curl line answers true.  Stopped with SIGTERM (a background job of sh ignores SIGINT).
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
out=$(mktemp -d)
BUILD=$BUILD DEMO_PORT=$port scripts/demo.sh >"$out/demo.out" 2>&1 &
demo=$!
trap 'kill -TERM $demo 2>/dev/null; wait $demo 2>/dev/null; rm -rf "$out"' EXIT
i=0
until grep -q 'Press Ctrl-C to stop' "$out/demo.out"; do
	i=$((i + 1))
	if [ $i -gt 300 ] || ! kill -0 $demo 2>/dev/null; then
		echo "demo did not start:"; cat "$out/demo.out"; exit 1
	fi
	sleep 0.1
done
pip_line=$(grep -m1 'pip download' "$out/demo.out" | sed "s|-d /tmp/demo-dl|-d $out/dl|")
curl_line=$(grep -m1 'verify?username=bob' "$out/demo.out")
echo "running: $pip_line"
eval "$pip_line --quiet --disable-pip-version-check"
ls "$out/dl"
[ -f "$out/dl/acme_tools-0.3.0-py3-none-any.whl" ]
[ -f "$out/dl/acme_core-1.0.0-py3-none-any.whl" ]
answer=$(eval "$curl_line -s")
echo "verify answered: $answer"
[ "$answer" = true ]
# Without the backend credentials the pypicloud protocol answers nobody.
anonymous=$(echo "$curl_line" | sed 's/-u pypicloud:[^ ]* //')
status=$(eval "$anonymous -s -o /dev/null -w '%{http_code}'")
echo "anonymous verify: $status"
[ "$status" = 401 ]
# The printed server.ini lines parse as pasted, with the intended values.
python3 tests/e2e/ini_snippets.py --demo "$out/demo.out"
# The printed sign-in line for carol leads to a session as carol.
login_url=$(grep -m1 '/login?login=carol' "$out/demo.out" | sed 's/.* //')
cookies="$out/cookies"
location=$(curl -s -o /dev/null -c "$cookies" -w '%{redirect_url}' "$login_url")
back=$(curl -s -o /dev/null -w '%{redirect_url}' "$location")
curl -s -o /dev/null -b "$cookies" -c "$cookies" "$back"
page=$(curl -s -b "$cookies" "http://127.0.0.1:$port/")
echo "$page" | grep -q 'class="who">carol<' || { echo "not signed in as carol:"; echo "$page"; exit 1; }
echo "demo: 3 passed, 0 failed"
