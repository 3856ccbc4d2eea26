#!/bin/sh
# scripts/demo.sh (make demo) - a GitHub stand-in serving the worked example
# of docs/access-model.md, and `ghaccess serve` in front of it, ready for an
# unmodified pypicloud (pypi.auth = remote) or curl.  Ctrl-C stops both.
#
# Environment: BUILD (default build), DEMO_PORT (default 8081).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PORT=${DEMO_PORT:-8081}
DEMO=$BUILD/demo
SCENARIO=tests/scenarios/worked-example.json
GHACCESS=$BUILD/ghaccess

[ -x "$GHACCESS" ] || { echo "demo: $GHACCESS is not built (run make)" >&2; exit 1; }
if [ ! -d tests/github-standin/node_modules ]; then
	echo "demo: installing the stand-in's npm packages"
	(cd tests/github-standin && npm ci --no-audit --no-fund --loglevel=error)
fi
mkdir -p "$DEMO"

STANDIN_PID=
GHACCESS_PID=
stop() {
	trap - EXIT INT TERM
	[ -n "$GHACCESS_PID" ] && kill "$GHACCESS_PID" 2>/dev/null && wait "$GHACCESS_PID" 2>/dev/null
	[ -n "$STANDIN_PID" ] && kill "$STANDIN_PID" 2>/dev/null && wait "$STANDIN_PID" 2>/dev/null
	echo
	echo "demo: stopped (logs in $DEMO/)"
}
trap stop EXIT
trap 'exit 0' INT TERM

# The stand-in picks a free port and says which.
node tests/github-standin/server.js --scenario "$SCENARIO" --listen 127.0.0.1:0 \
	>"$DEMO/standin.out" 2>"$DEMO/standin.log" &
STANDIN_PID=$!
i=0
until grep -q '^listening on ' "$DEMO/standin.out" 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 100 ] || ! kill -0 "$STANDIN_PID" 2>/dev/null; then
		echo "demo: the GitHub stand-in did not start:" >&2
		cat "$DEMO/standin.log" >&2
		exit 1
	fi
	sleep 0.1
done
GITHUB=$(sed -n 's/^listening on //p' "$DEMO/standin.out")

# Backend credentials: pypicloud sends them with every call.
if [ ! -s "$DEMO/backend-password" ]; then
	(umask 077 && od -An -N18 -tx1 /dev/urandom | tr -d ' \n' >"$DEMO/backend-password")
fi
BACKEND_PASSWORD=$(cat "$DEMO/backend-password")
# The web pages: a GitHub App's client id and secret (the stand-in plays
# GitHub's OAuth endpoints), and the key that signs sessions.
WEB_CLIENT_ID=Iv1.demo0000000000000
[ -s "$DEMO/client-secret" ] ||
	(umask 077 && od -An -N20 -tx1 /dev/urandom | tr -d ' \n' >"$DEMO/client-secret")
[ -s "$DEMO/session-key" ] ||
	(umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$DEMO/session-key")
cat >"$DEMO/ghaccess.ini" <<EOF
; Written by scripts/demo.sh: ghaccess against the GitHub stand-in.
[github]
organization = acme
token = ghp_acmeServerToken0000000000000000000000
api_url = $GITHUB
graphql_url = $GITHUB/graphql

[cache]
expiration = 300

[server]
listen = 127.0.0.1:$PORT
backend_user = pypicloud
backend_password_file = $(pwd)/$DEMO/backend-password

[index]
storage_dir = $(pwd)/$DEMO/packages

[web]
client_id = $WEB_CLIENT_ID
client_secret_file = $(pwd)/$DEMO/client-secret
session_key_file = $(pwd)/$DEMO/session-key
url = http://127.0.0.1:$PORT
github_url = $GITHUB
cookie_secure = false
EOF
mkdir -p "$DEMO/packages" "$DEMO/dist"

"$GHACCESS" serve --config "$DEMO/ghaccess.ini" 2>"$DEMO/ghaccess.log" &
GHACCESS_PID=$!
i=0
until curl -sf -o /dev/null "http://127.0.0.1:$PORT/health" 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 300 ] || ! kill -0 "$GHACCESS_PID" 2>/dev/null; then
		echo "demo: ghaccess serve did not become ready (port $PORT taken? try" \
			"DEMO_PORT=18081 make demo):" >&2
		tail -n 20 "$DEMO/ghaccess.log" >&2
		exit 1
	fi
	sleep 0.1
done

# The stand-in's OAuth App registration: the callback URL, and who signs in
# (bob, unless /login?login=NAME suggests another account).
curl -sf -o /dev/null -X POST "$GITHUB/_standin/oauth" -d "{\"client_id\": \"$WEB_CLIENT_ID\",
	\"client_secret\": \"$(cat "$DEMO/client-secret")\", \"kind\": \"github_app\",
	\"callback_url\": \"http://127.0.0.1:$PORT/login/callback\", \"login\": \"bob\"}"

# Two small wheels, so that pip has something to install: acme-tools
# depends on acme-core.  bob (write on acme-core) and olivia (owner)
# upload them the way twine does.
BOB=ghp_bob000000000000000000000000000000000
OLIVIA=ghp_olivia0000000000000000000000000000000
python3 - "$DEMO/dist" <<'PYTHON'
import sys
sys.path.insert(0, "tests/e2e")
import dists
dists.wheel(sys.argv[1], "acme-core", "1.0.0")
dists.wheel(sys.argv[1], "acme-tools", "0.3.0", requires=["acme-core>=1"])
PYTHON
upload() {	# upload LOGIN TOKEN NAME VERSION FILE
	curl -s -o /dev/null -w '%{http_code}' -u "$1:$2" \
		-F ':action=file_upload' -F protocol_version=1 -F "name=$3" -F "version=$4" \
		-F filetype=bdist_wheel -F pyversion=py3 \
		-F "sha256_digest=$(sha256sum "$5" | cut -d' ' -f1)" -F "content=@$5" \
		"http://127.0.0.1:$PORT/legacy/"
}
for upload_args in "bob $BOB acme-core 1.0.0 acme_core-1.0.0-py3-none-any.whl" \
		   "olivia $OLIVIA acme-tools 0.3.0 acme_tools-0.3.0-py3-none-any.whl"; do
	# shellcheck disable=SC2086
	set -- $upload_args
	status=$(upload "$1" "$2" "$3" "$4" "$DEMO/dist/$5")
	case $status in
	200|201|409) ;;
	*) echo "demo: uploading $5 as $1 answered $status" >&2 ;;
	esac
done

cat <<EOF

ghaccess serve is answering on http://127.0.0.1:$PORT for the organization "acme"
(the worked example of docs/access-model.md), backed by a GitHub stand-in at $GITHUB.

pypicloud: put these lines in its server.ini

    [app:main]
    pypi.auth = remote
    auth.backend_server = http://127.0.0.1:$PORT
    auth.user = pypicloud
    auth.password = $BACKEND_PASSWORD
    # Empty: packages that no repository declares are for admins only
    # (pypicloud's default lets every logged-in user read them).
    pypi.default_read =
    # One /verify call less per request (pyramid_tm 2.4 and later).
    tm.annotate_user = false

Try it:

    curl -u pypicloud:$BACKEND_PASSWORD 'http://127.0.0.1:$PORT/verify?username=bob&password=ghp_bob000000000000000000000000000000000'
    curl -u pypicloud:$BACKEND_PASSWORD 'http://127.0.0.1:$PORT/user_permissions?package=Acme_Core'
    curl -u pypicloud:$BACKEND_PASSWORD 'http://127.0.0.1:$PORT/group_permissions?package=acme-core'
    curl -u pypicloud:$BACKEND_PASSWORD 'http://127.0.0.1:$PORT/groups?username=carol'
    curl 'http://127.0.0.1:$PORT/health'

The built-in index (packages in $DEMO/packages):

    pip download -d /tmp/demo-dl --index-url http://carol:ghp_carol00000000000000000000000000000000@127.0.0.1:$PORT/simple/ acme-tools
    twine upload --repository-url http://127.0.0.1:$PORT/legacy/ -u bob -p $BOB $DEMO/dist/acme_core-1.0.0-py3-none-any.whl
    twine upload --repository-url http://127.0.0.1:$PORT/legacy/ -u dave -p ghp_dave0000000000000000000000000000000000 $DEMO/dist/acme_core-1.0.0-py3-none-any.whl
      (refused: dave may only read acme-core)
    $GHACCESS explain --config $DEMO/ghaccess.ini carol acme-core

The web pages: open one of these in a browser to sign in (through the
stand-in's GitHub sign-in) as that user:

    olivia (owner):        http://127.0.0.1:$PORT/login?login=olivia
    bob:                   http://127.0.0.1:$PORT/login?login=bob
    carol:                 http://127.0.0.1:$PORT/login?login=carol
    dave:                  http://127.0.0.1:$PORT/login?login=dave
    erin (not a member):   http://127.0.0.1:$PORT/login?login=erin

Users: olivia (owner), bob, carol, dave (members), erin (outside collaborator);
their tokens are in $SCENARIO.  Logs: $DEMO/ghaccess.log.
Press Ctrl-C to stop.
EOF
wait "$GHACCESS_PID"
