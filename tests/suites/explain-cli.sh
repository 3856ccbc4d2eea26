#!/bin/sh
# ghaccess explain against snapshot files (no GitHub needed): the decision,
# the chain of reasons, and the exit status (0 when LOGIN may read).
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
bin=$BUILD/ghaccess
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '[github]\norganization = acme\ntoken = ghp_unused_for_snapshots\n' > "$tmp/acme.ini"
printf '[github]\norganization = edge-org\ntoken = ghp_unused\nrepo_pattern = py-\nrepo_exclude_list = py-excluded\n' > "$tmp/edge.ini"
# The filters of tests/scenarios/name-takeover.json.
printf '[github]\norganization = acme-names\ntoken = ghp_unused\nrepo_pattern = [a-z]\nrepo_include_list = core-lib, sandbox, old-service, Legacy-Tools, old-client, mallory-sbx, mallory-old, mallory-legacy, mallory-hidden, mallory-core, mallory-archived\nrepo_exclude_list = sandbox\n' > "$tmp/names.ini"
failures=0

expect() {	# expect STATUS "LINE" -- ghaccess explain arguments...
	want_status=$1
	want_line=$2
	shift 3
	set +e
	output=$("$bin" explain "$@" 2>&1)
	status=$?
	set -e
	if [ "$status" != "$want_status" ] || ! printf '%s\n' "$output" | grep -qxF "$want_line"; then
		echo "FAIL: explain $*: status $status (want $want_status)"
		echo "  want line: $want_line"
		printf '%s\n' "$output" | sed 's/^/  got: /'
		failures=$((failures + 1))
	else
		echo "ok: explain $*"
	fi
}

acme="--config $tmp/acme.ini --snapshot tests/data/snapshot/worked-example.json"
edge="--config $tmp/edge.ini --snapshot tests/data/snapshot/edge-cases.json"
names="--config $tmp/names.ini --snapshot tests/data/snapshot/name-takeover.json"
# shellcheck disable=SC2086
{
expect 0 "read, write: via team platform (parent of platform-infra, of which carol is a member), which has WRITE on core-lib" -- $acme carol acme.core
expect 0 "carol may read and write acme.core" -- $acme carol acme.core
expect 0 "read, write: via team platform (of which bob is a member), which has WRITE on core-lib" -- $acme bob ACME_core
expect 0 "read: olivia is an owner of the organization acme; write removed because old-client is archived" -- $acme olivia acme-client
expect 0 "read: dave is a direct collaborator with TRIAGE on tools" -- $acme dave acme-tools
expect 0 "read: the organization's base permission is read" -- $acme dave acme-core
expect 1 "no access: erin is not a member of the organization acme (outside collaborators and strangers cannot log in)" -- $acme erin acme-tools
expect 1 "note: the repository docs yields no package: no pyproject.toml" -- $acme bob docs
expect 0 "read, write: via team b-team (parent of c-team, of which m1 is a member), which has WRITE on py-inline" -- $edge m1 acme-inline
expect 1 "no access: no owner role, team, direct grant or base permission gives m3 access to py-inline" -- $edge m3 acme-inline
expect 0 "read, write: m2 is a direct collaborator with ADMIN on py-both" -- $edge m2 acme-both
expect 1 "note: the repository py-squat yields no package: conflict: package acme-inline already belongs to py-inline (older repository)" -- $edge m3 py-squat
expect 1 "mallory may not read Sandbox_Pkg" -- $names mallory Sandbox_Pkg
expect 1 "no access: sandbox-pkg is reserved: the oldest repository that declares it, sandbox, yields no package (excluded by repo_exclude_list), so only organization owners may read or upload it" -- $names mallory Sandbox_Pkg
expect 1 "conflict: the repository mallory-sbx also declares sandbox-pkg, which belongs to sandbox (older repository); mallory-sbx is ignored" -- $names mallory Sandbox_Pkg
expect 1 "conflict: the repository sandbox-copy also declares sandbox-pkg, which belongs to sandbox (older repository); sandbox-copy is ignored" -- $names bob sandbox-pkg
expect 0 "read, write: olivia is an owner of the organization acme-names; old-service is reserved: the oldest repository that declares it, old-service, yields no package (repository is disabled), so only organization owners may read or upload it" -- $names olivia old.service
expect 1 "no access: legacy-tools is reserved: the oldest repository that declares it, Legacy-Tools, yields no package (excluded by repo_pattern), so only organization owners may read or upload it" -- $names bob legacy_tools
expect 1 "no access: hidden-lib is reserved: the oldest repository that declares it, hidden-lib, yields no package (not in repo_include_list), so only organization owners may read or upload it" -- $names mallory Hidden.Lib
expect 0 "conflict: the repository mallory-core also declares acme-core, which belongs to core-lib (older repository); mallory-core is ignored" -- $names mallory acme-core
expect 1 "conflict: the repository sandbox-copy also declares sandbox-pkg, which belongs to sandbox (older repository); sandbox-copy is ignored" -- $names mallory sandbox-copy
expect 2 "usage: ghaccess explain --config FILE [--snapshot FILE] LOGIN PACKAGE" -- --config "$tmp/acme.ini" bob
}
echo "explain-cli: $failures failed"
[ "$failures" -eq 0 ]
