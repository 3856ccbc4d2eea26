#!/bin/sh
# bench/http.sh - `ghaccess serve` against nginx on the same machine.
#
# Starts the GitHub stand-in with tests/scenarios/worked-example.json, ghaccess
# serve (the optimised build/ghaccess), and nginx serving a static file with
# the same body as /user_permissions?package=acme-core.  Then wrk measures,
# with keep-alive connections:
#
#   /user_permissions?package=acme-core     ghaccess (access log on and off), nginx
#   /verify (a cached token)                 ghaccess (access log on and off)
#
# at 1, 16 and 64 connections, SECONDS each (default 10), and writes the
# table to bench/results-http.md (and prints it).  Targets: at 64
# connections at least 0.8 of nginx's rate, p99 under 1 ms.
#
# Environment: BUILD (default build), SECONDS_EACH (default 10),
# CONNECTIONS (default "1 16 64").  Installs nginx-light and wrk with
# apt-get when missing (as root).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SECONDS_EACH=${SECONDS_EACH:-10}
CONNECTIONS=${CONNECTIONS:-"1 16 64"}
RESULTS=bench/results-http.md
GHACCESS=$BUILD/ghaccess
SCENARIO=tests/scenarios/worked-example.json
PACKAGE=acme-core
VERIFY_USER=bob
VERIFY_TOKEN=ghp_bob000000000000000000000000000000000
# The pypicloud protocol needs backend credentials, and pypicloud sends them.
BACKEND_PASSWORD=bench-backend-password
BACKEND_AUTHORIZATION="Basic $(printf 'pypicloud:%s' "$BACKEND_PASSWORD" | base64)"

need() {
	command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]
}
if ! need nginx || ! need wrk; then
	if [ "$(id -u)" != 0 ]; then
		echo "bench/http.sh: needs nginx and wrk: apt-get install nginx-light wrk" >&2
		exit 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		nginx-light wrk
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$GHACCESS" ] || { echo "bench/http.sh: $GHACCESS not built (make)" >&2; exit 1; }
[ -d tests/github-standin/node_modules ] ||
	(cd tests/github-standin && npm ci --no-audit --no-fund --loglevel=error)

WORK=$(mktemp -d)
STANDIN_PID=
GHACCESS_PID=
NGINX_STARTED=
cleanup() {
	[ -n "$GHACCESS_PID" ] && kill "$GHACCESS_PID" 2>/dev/null && wait "$GHACCESS_PID" 2>/dev/null
	[ -n "$STANDIN_PID" ] && kill "$STANDIN_PID" 2>/dev/null && wait "$STANDIN_PID" 2>/dev/null
	[ -n "$NGINX_STARTED" ] && "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -s stop \
		2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_http() {
	i=0
	until curl -sf -o /dev/null "$1"; do
		i=$((i + 1))
		[ "$i" -lt 200 ] || { echo "bench/http.sh: $1 never answered" >&2; exit 1; }
		sleep 0.1
	done
}

# ---- the stand-in -----------------------------------------------------
node tests/github-standin/server.js --scenario "$SCENARIO" --listen 127.0.0.1:0 \
	>"$WORK/standin.out" 2>"$WORK/standin.err" &
STANDIN_PID=$!
i=0
until grep -q '^listening on ' "$WORK/standin.out"; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || { echo "bench/http.sh: the stand-in did not start" >&2; exit 1; }
	sleep 0.1
done
STANDIN_URL=$(sed -n 's/^listening on //p' "$WORK/standin.out")

# ---- ghaccess serve, with or without its access log --------------------
start_ghaccess() {
	GHACCESS_PORT=$(free_port)
	cat >"$WORK/ghaccess.ini" <<EOF
[github]
organization = acme
token = ghp_acmeServerToken0000000000000000000000
api_url = $STANDIN_URL
graphql_url = $STANDIN_URL/graphql

[cache]
expiration = 3600

[server]
listen = 127.0.0.1:$GHACCESS_PORT
backend_user = pypicloud
backend_password = $BACKEND_PASSWORD
max_connections_per_ip = 0
EOF
	"$GHACCESS" serve --config "$WORK/ghaccess.ini" "$@" 2>"$WORK/ghaccess.log" &
	GHACCESS_PID=$!
	GHACCESS_URL=http://127.0.0.1:$GHACCESS_PORT
	wait_http "$GHACCESS_URL/health"
	# Warm the token cache: /verify below measures cached answers.
	[ "$(curl -s -u "pypicloud:$BACKEND_PASSWORD" "$GHACCESS_URL/verify?username=$VERIFY_USER&password=$VERIFY_TOKEN")" = true ] ||
		{ echo "bench/http.sh: /verify did not say true" >&2; exit 1; }
}

stop_ghaccess() {
	kill "$GHACCESS_PID"
	wait "$GHACCESS_PID" 2>/dev/null || true
	GHACCESS_PID=
}

# ---- nginx with the same body ---------------------------------------------
start_nginx() {
	NGINX_PORT=$(free_port)
	mkdir -p "$WORK/nginx/root" "$WORK/nginx/logs" "$WORK/nginx/tmp"
	curl -s -u "pypicloud:$BACKEND_PASSWORD" "$GHACCESS_URL/user_permissions?package=$PACKAGE" >"$WORK/nginx/root/user_permissions"
	cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $WORK/nginx/tmp;
	proxy_temp_path $WORK/nginx/tmp;
	fastcgi_temp_path $WORK/nginx/tmp;
	# nginx at its best for one small file: no open/fstat per request.
	open_file_cache max=16 inactive=600s;
	open_file_cache_valid 600s;
	etag off;
	keepalive_requests 100000000;
	keepalive_timeout 60s;
	server {
		listen 127.0.0.1:$NGINX_PORT;
		root $WORK/nginx/root;
		location / { default_type application/json; }
	}
}
EOF
	[ "$(id -u)" = 0 ] && sed -i '1i user root;' "$WORK/nginx/nginx.conf"
	"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
	NGINX_STARTED=1
	NGINX_URL=http://127.0.0.1:$NGINX_PORT
	wait_http "$NGINX_URL/user_permissions"
}

# ---- wrk ---------------------------------------------------------------------
# CPU time (user + system, clock ticks) used so far by the processes $@.
cpu_ticks() {
	total=0
	for pid in "$@"; do
		ticks=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
		total=$((total + ticks))
	done
	echo "$total"
}

# measure LABEL URL CONNECTIONS PID...: one wrk run, one row in $WORK/rows
# (the PIDs are the server's processes, for its CPU time per request).
measure() {
	label=$1 url=$2 connections=$3
	shift 3
	threads=2
	[ "$connections" -lt 2 ] && threads=1
	before=$(cpu_ticks "$@")
	# pypicloud sends its backend credentials with every call (nginx ignores them).
	wrk -t"$threads" -c"$connections" -d"${SECONDS_EACH}s" --latency \
		-H "Authorization: $BACKEND_AUTHORIZATION" "$url" >"$WORK/wrk.out" 2>&1
	after=$(cpu_ticks "$@")
	python3 bench/http_report.py row "$label" "$connections" "$WORK/wrk.out" \
		"$((after - before))" >>"$WORK/rows"
	tail -n 1 "$WORK/rows" | awk -F'\t' '{ printf "  %-40s c=%-3s %7s req/s  p50 %5s us  p99 %6s us  CPU %5s us/req %s\n", $1, $2, $3, $4, $5, $6, $7 }'
}

: >"$WORK/rows"
PERMISSIONS="/user_permissions?package=$PACKAGE"
VERIFY="/verify?username=$VERIFY_USER&password=$VERIFY_TOKEN"
echo "bench/http.sh: ${SECONDS_EACH}s per run, connections: $CONNECTIONS, $(nproc) cores"

start_ghaccess --no-access-log
start_nginx
NGINX_MASTER=$(cat "$WORK/nginx/nginx.pid")
NGINX_PIDS="$NGINX_MASTER $(pgrep -P "$NGINX_MASTER" | tr '\n' ' ')"
for c in $CONNECTIONS; do
	# shellcheck disable=SC2086
	measure "nginx static file (same body)" "$NGINX_URL/user_permissions" "$c" $NGINX_PIDS
	measure "ghaccess /user_permissions" "$GHACCESS_URL$PERMISSIONS" "$c" "$GHACCESS_PID"
	measure "ghaccess /verify (cached)" "$GHACCESS_URL$VERIFY" "$c" "$GHACCESS_PID"
done
stop_ghaccess
start_ghaccess
for c in $CONNECTIONS; do
	measure "ghaccess /user_permissions, access log" "$GHACCESS_URL$PERMISSIONS" "$c" \
		"$GHACCESS_PID"
	measure "ghaccess /verify (cached), access log" "$GHACCESS_URL$VERIFY" "$c" \
		"$GHACCESS_PID"
done
stop_ghaccess

python3 bench/http_report.py table "$WORK/rows" "$SECONDS_EACH" \
	"$(uptime | sed 's/.*load average: //')" >"$RESULTS"
echo
cat "$RESULTS"
