#!/usr/bin/env bash
# sync-cli.sh - `ghaccess sync` against the GitHub stand-in, for every shared
# scenario: exit status, the --json summary's packages, reserved names,
# conflicts and skipped repositories against the scenario's expect (and the
# text summary's reserved names and conflicts), a loadable --out snapshot, exit
# 1 when GitHub is down, exit 2 for a bad configuration or usage, and never a
# token on the terminal.
#
# Environment: BUILD (directory holding ghaccess, default build),
# GHACCESS_SCENARIOS (default tests/scenarios).  Skips (exit 77) without
# node or the stand-in's node_modules; make check installs both.
set -uo pipefail

cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SCENARIOS=${GHACCESS_SCENARIOS:-tests/scenarios}
GHACCESS=$BUILD/ghaccess
STANDIN=tests/github-standin

if [ ! -x "$GHACCESS" ]; then
	echo "sync-cli: $GHACCESS not built" >&2
	exit 1
fi
if ! command -v node >/dev/null 2>&1 || [ ! -d "$STANDIN/node_modules" ]; then
	echo "sync-cli: skipped, node or $STANDIN/node_modules missing (make check installs them)"
	exit 77
fi

WORK=$(mktemp -d)
STANDIN_PID=""
cleanup() {
	if [ -n "$STANDIN_PID" ]; then
		kill "$STANDIN_PID" 2>/dev/null
		wait "$STANDIN_PID" 2>/dev/null
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

failures=0
checks=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}
check() {
	checks=$((checks + 1))
}

# start_standin ARGS...: sets STANDIN_PID and URL.
start_standin() {
	node "$STANDIN/server.js" "$@" --listen 127.0.0.1:0 >"$WORK/standin.out" \
		2>"$WORK/standin.err" &
	STANDIN_PID=$!
	for _ in $(seq 1 300); do
		if grep -q '^listening on ' "$WORK/standin.out" 2>/dev/null; then
			URL=$(sed -n 's/^listening on //p' "$WORK/standin.out" | head -n 1)
			return 0
		fi
		sleep 0.1
	done
	echo "sync-cli: the stand-in did not start" >&2
	cat "$WORK/standin.err" >&2
	exit 1
}

stop_standin() {
	kill "$STANDIN_PID" 2>/dev/null
	wait "$STANDIN_PID" 2>/dev/null
	STANDIN_PID=""
}

# post PATH FILE: POST a JSON file to a control endpoint.
post() {
	python3 - "$URL$1" "$2" <<'EOF'
import sys, urllib.request
with open(sys.argv[2], 'rb') as f:
    body = f.read()
request = urllib.request.Request(sys.argv[1], data=body,
                                 headers={'Content-Type': 'application/json'})
urllib.request.urlopen(request, timeout=30).read()
EOF
}

# write_config SCENARIO FILE: a ghaccess config for the scenario's org, token and filters.
write_config() {
	python3 - "$1" "$2" "$URL" <<'EOF'
import json, sys
scenario = json.load(open(sys.argv[1]))
filters = scenario.get('config') or {}
lines = ['[github]',
         'organization = %s' % scenario['organization']['login'],
         'token = %s' % scenario['server_token'],
         'api_url = %s' % sys.argv[3],
         'timeout = 10',
         'connect_timeout = 5']
if filters.get('repo_pattern'):
    lines.append('repo_pattern = %s' % filters['repo_pattern'])
if filters.get('repo_include_list'):
    lines.append('repo_include_list = %s' % ', '.join(filters['repo_include_list']))
if filters.get('repo_exclude_list'):
    lines.append('repo_exclude_list = %s' % ', '.join(filters['repo_exclude_list']))
open(sys.argv[2], 'w').write('\n'.join(lines) + '\n')
EOF
}

# compare SCENARIO SUMMARY SNAPSHOT: the --json summary against expect, and the snapshot loads.
compare() {
	python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
scenario = json.load(open(sys.argv[1]))
summary = json.load(open(sys.argv[2]))
snapshot = json.load(open(sys.argv[3]))
expect = scenario.get('expect') or {}
problems = []
login = scenario['organization']['login']
if summary.get('organization') != login:
    problems.append('organization %r' % summary.get('organization'))
if 'packages' in expect and summary['packages'] != expect['packages']:
    problems.append('packages %r, expected %r' % (summary['packages'], expect['packages']))
if 'reserved' in expect and summary['reserved'] != expect['reserved']:
    problems.append('reserved %r, expected %r' % (summary['reserved'], expect['reserved']))
if 'conflicts' in expect:
    conflicts = {repository: entry['name'] for repository, entry in summary['conflicts'].items()}
    if conflicts != expect['conflicts']:
        problems.append('conflicts %r, expected %r' % (conflicts, expect['conflicts']))
    owners = dict(expect.get('packages', {}), **expect.get('reserved', {}))
    for repository, entry in summary['conflicts'].items():
        if entry['name'] in owners and entry['owner'] != owners[entry['name']]:
            problems.append('conflict of %s: owner %r' % (repository, entry['owner']))
for repository in expect.get('skipped', []):
    if repository not in summary['skipped']:
        problems.append('%s not reported as skipped' % repository)
    elif not summary['skipped'][repository]:
        problems.append('%s skipped without a reason' % repository)
members = [u for u in scenario['users'] if u.get('org_role')]
if summary['members'] != len(members):
    problems.append('members %r, expected %d' % (summary['members'], len(members)))
owners = sorted(u['login'] for u in members if u['org_role'] == 'ADMIN')
if sorted(summary['owner_logins']) != owners or summary['owners'] != len(owners):
    problems.append('owners %r, expected %r' % (summary['owner_logins'], owners))
if summary['teams'] != len(scenario.get('teams', [])):
    problems.append('teams %r' % summary['teams'])
if summary['repositories'] != len(scenario.get('repositories', [])):
    problems.append('repositories %r' % summary['repositories'])
base = scenario['organization'].get('default_repository_permission')
if base is not None and (summary['base_permission'] != base or not summary['base_permission_known']):
    problems.append('base permission %r' % summary['base_permission'])
for key in ('graphql_requests', 'graphql_points', 'rest_requests', 'duration_ms'):
    if not isinstance(summary.get(key), int):
        problems.append('%s missing' % key)
if summary['graphql_points'] < 3 or summary['rest_requests'] < 1:
    problems.append('implausible cost %r/%r' % (summary['graphql_points'], summary['rest_requests']))
if not isinstance(summary.get('warnings'), list):
    problems.append('warnings missing')
if snapshot.get('organization') != login:
    problems.append('snapshot organization %r' % snapshot.get('organization'))
for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
EOF
}

# text_lists SCENARIO TEXT: the text summary names every reserved name with
# its repository and every conflict.
text_lists() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
expect = json.load(open(sys.argv[1])).get('expect') or {}
text = open(sys.argv[2]).read()
lines = text.splitlines()
problems = []
for name, repository in expect.get('reserved', {}).items():
    if not any(line.startswith('  %s <- %s (' % (name, repository)) for line in lines):
        problems.append('reserved %s <- %s not shown' % (name, repository))
for repository, name in expect.get('conflicts', {}).items():
    if not any(line.startswith('  %s declares %s, which belongs to ' % (repository, name))
               for line in lines):
        problems.append('conflict of %s not shown' % repository)
if 'reserved' in expect and not any(line.startswith('reserved:        %d' % len(expect['reserved']))
                                    for line in lines):
    problems.append('reserved count not shown')
for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
EOF
}

# no_token FILE TOKEN: the token never reaches the terminal.
no_token() {
	if grep -qF -- "$2" "$1"; then
		fail "$1 shows the server token"
	fi
}

scenarios=("$SCENARIOS"/*.json)
if [ ! -f "${scenarios[0]}" ]; then
	echo "sync-cli: no scenarios in $SCENARIOS" >&2
	exit 1
fi
start_standin --scenario "${scenarios[0]}"

for scenario in "${scenarios[@]}"; do
	name=$(basename "$scenario" .json)
	failures_before=$failures
	token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["server_token"])' "$scenario")
	post /_standin/scenario "$scenario"
	write_config "$scenario" "$WORK/$name.ini"

	check
	"$GHACCESS" sync --config "$WORK/$name.ini" --json --out "$WORK/$name.snapshot" \
		>"$WORK/$name.json" 2>"$WORK/$name.err"
	status=$?
	if [ "$status" -ne 0 ]; then
		fail "$name: sync --json exited $status: $(cat "$WORK/$name.err")"
		continue
	fi
	check
	if ! problems=$(compare "$scenario" "$WORK/$name.json" "$WORK/$name.snapshot" 2>&1); then
		fail "$name: $problems"
	fi
	check
	if [ -e "$WORK/$name.snapshot.tmp" ]; then
		fail "$name: the temporary snapshot file was left behind"
	fi

	check
	"$GHACCESS" sync --config "$WORK/$name.ini" >"$WORK/$name.txt" 2>"$WORK/$name.txt.err"
	status=$?
	if [ "$status" -ne 0 ] || ! grep -q '^packages: ' "$WORK/$name.txt"; then
		fail "$name: text summary (exit $status)"
	fi
	check
	if ! problems=$(text_lists "$scenario" "$WORK/$name.txt" 2>&1); then
		fail "$name: text summary: $problems"
	fi
	for file in "$WORK/$name.json" "$WORK/$name.err" "$WORK/$name.txt" "$WORK/$name.txt.err" \
		"$WORK/$name.snapshot"; do
		no_token "$file" "$token"
	done
	[ "$failures" -eq "$failures_before" ] && echo "sync-cli: $name ok"
done

# ---- exit status 2: usage and configuration --------------------------------
check
"$GHACCESS" sync >/dev/null 2>&1
[ $? -eq 2 ] || fail "sync without --config must exit 2"
check
"$GHACCESS" sync --config "$WORK/missing.ini" >/dev/null 2>"$WORK/missing.err"
[ $? -eq 2 ] || fail "sync with a missing config must exit 2"
grep -q '^ghaccess: ' "$WORK/missing.err" || fail "missing config: no 'ghaccess:' message"
check
printf '[github]\norganization = acme\ntoken = ghp_x\nno_such_key = 1\n' >"$WORK/bad.ini"
"$GHACCESS" sync --config "$WORK/bad.ini" >/dev/null 2>&1
[ $? -eq 2 ] || fail "sync with an unknown key must exit 2"
check
"$GHACCESS" sync --config "$WORK/bad.ini" --bogus >/dev/null 2>&1
[ $? -eq 2 ] || fail "sync with an unknown option must exit 2"

# ---- exit status 1: GitHub down (the stand-in is gone) ---------------------
last=$(basename "${scenarios[-1]}" .json)
stop_standin
check
GHACCESS_TEST_TIME_SCALE=0.01 "$GHACCESS" sync --config "$WORK/$last.ini" --json \
	>"$WORK/down.json" 2>"$WORK/down.err"
status=$?
[ "$status" -eq 1 ] || fail "sync with GitHub down exited $status, expected 1"
grep -q 'failed' "$WORK/down.err" || fail "sync with GitHub down: no reason printed"
[ -s "$WORK/down.json" ] && fail "sync with GitHub down printed a summary"

echo "sync-cli: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
