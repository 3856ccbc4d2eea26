#!/usr/bin/env bash
# check-config.sh - `ghaccess check-config` on the files of tests/data/config:
# exit statuses, exact messages, and that no secret is ever printed.
#
# Environment: BUILD, the build directory holding ghaccess (default build).
set -euo pipefail

cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
GHACCESS=$BUILD/ghaccess
DATA=tests/data/config
EXAMPLES=examples

if [ ! -x "$GHACCESS" ]; then
	echo "check-config: $GHACCESS not built" >&2
	exit 1
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Every secret that appears in the data files or the environment below.
SECRETS=(
	ghp_SuiteTokenThatMustNeverBePrinted01
	ghp_SuiteFileTokenNeverPrinted02
	ghp_SuiteEnvironmentTokenNeverPrinted03
	suite-backend-password-never-printed
	suite-file-password-never-printed
	suite-cache-key-never-printed
	suite-trusted-publishing-key-never-printed-0123456789
)

failures=0
checks=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# run ARGS... : run check-config without the caller's token or credentials,
# leaving the status in $status and the output in $WORK/out, $WORK/err.
run() {
	checks=$((checks + 1))
	status=0
	env -u GHACCESS_GITHUB_TOKEN -u CREDENTIALS_DIRECTORY ${RUN_ENV:+$RUN_ENV} \
		"$GHACCESS" check-config "$@" >"$WORK/out" 2>"$WORK/err" || status=$?
}

no_secrets() {
	local secret
	for secret in "${SECRETS[@]}"; do
		if grep -qF -- "$secret" "$WORK/out" "$WORK/err"; then
			fail "$1: a secret was printed"
		fi
	done
}

# expect_ok FILE [LINE...]: exit 0, "# configuration OK" last, each LINE printed.
expect_ok() {
	local file=$1 line
	shift
	run --config "$file"
	if [ "$status" -ne 0 ]; then
		fail "$file: exit $status, expected 0: $(cat "$WORK/err")"
		return
	fi
	if [ "$(tail -n 1 "$WORK/out")" != "# configuration OK" ]; then
		fail "$file: no '# configuration OK' line"
	fi
	for line in "$@"; do
		if ! grep -qxF -- "$line" "$WORK/out"; then
			fail "$file: missing line '$line'"
		fi
	done
	no_secrets "$file"
}

# expect_error FILE MESSAGE: exit 2, exactly "ghaccess: MESSAGE" on stderr, nothing on stdout.
expect_error() {
	local file=$1 message=$2
	run --config "$file"
	if [ "$status" -ne 2 ]; then
		fail "$file: exit $status, expected 2"
	fi
	if [ "$(cat "$WORK/err")" != "ghaccess: $message" ]; then
		fail "$file: stderr is '$(cat "$WORK/err")', expected 'ghaccess: $message'"
	fi
	if [ -s "$WORK/out" ]; then
		fail "$file: printed something on stdout"
	fi
	no_secrets "$file"
}

# --- valid files -------------------------------------------------------------

expect_ok "$DATA/valid.ini" \
	"organization = acme" \
	"token = ********" \
	"repo_pattern = py-" \
	"repo_include_list = py-core, py-tools, py-client" \
	"base_permission = read" \
	"expiration = 600" \
	"max_stale = 7200" \
	"listen = [::1]:8090" \
	"backend_password = ********" \
	"max_upload_size = 1G" \
	"level = debug" \
	"format = json" \
	"negative_ttl = 30" \
	"graphql_url = https://api.github.com/graphql"

expect_ok "$DATA/pypicloud-server.ini" \
	"organization = acme" \
	"token = ********" \
	"repo_pattern = py-" \
	"repo_exclude_list = py-old, py-older" \
	"backend = memory" \
	"expiration = 120"

RUN_ENV="CREDENTIALS_DIRECTORY=$PWD/$DATA/credentials" expect_ok "$DATA/pypicloud-mixed.ini" \
	"backend = memcache" \
	"memcache.url = 10.0.0.5:11211" \
	"secret_file = $PWD/$DATA/credentials/cache-key" \
	"listen = 127.0.0.1:8082" \
	"backend_user = pypicloud" \
	"backend_password = ********"
# Without credentials the pypicloud protocol is off, and check-config says how to turn it on.
expect_ok "$DATA/valid-no-backend.ini" "organization = acme" \
	"# the pypicloud protocol is off (404): set [server] backend_user and backend_password_file (pypicloud's auth.user and auth.password) to turn it on"
expect_ok "$DATA/pypicloud-server.ini" \
	"# the pypicloud protocol is off (404): set auth.user and auth.password in pypicloud's [app:main] to turn it on"

RUN_ENV="CREDENTIALS_DIRECTORY=$PWD/$DATA/credentials" expect_ok "$DATA/credentials.ini" \
	"token = ********  ; from token_file" \
	"token_file = $PWD/$DATA/credentials/github-token" \
	"memcache.url = 127.0.0.1:11211" \
	"backend_password = ********"

# The environment's token wins over the file's, and is not printed either.
RUN_ENV="GHACCESS_GITHUB_TOKEN=ghp_SuiteEnvironmentTokenNeverPrinted03" \
	expect_ok "$DATA/valid.ini" "token = ********  ; from \$GHACCESS_GITHUB_TOKEN"
RUN_ENV="GHACCESS_GITHUB_TOKEN=ghp_SuiteEnvironmentTokenNeverPrinted03" \
	expect_ok "$DATA/missing-token.ini"

# The shipped example is complete and valid once a token is given.
RUN_ENV="GHACCESS_GITHUB_TOKEN=ghp_SuiteEnvironmentTokenNeverPrinted03" \
	expect_ok "$EXAMPLES/ghaccess.ini" "organization = acme"

# What check-config prints is itself a valid configuration.
RUN_ENV="GHACCESS_GITHUB_TOKEN=ghp_SuiteEnvironmentTokenNeverPrinted03" run --config "$DATA/valid.ini"
grep -v '^# configuration OK' "$WORK/out" >"$WORK/printed.ini"
cp "$WORK/out" "$WORK/first"
RUN_ENV="GHACCESS_GITHUB_TOKEN=ghp_SuiteEnvironmentTokenNeverPrinted03" run --config "$WORK/printed.ini"
if [ "$status" -ne 0 ] || ! diff <(tail -n +2 "$WORK/first") <(tail -n +2 "$WORK/out") >/dev/null; then
	fail "printed configuration does not load back to the same settings"
fi

# --- invalid files -------------------------------------------------------------

expect_error "$DATA/unknown-key.ini" "$DATA/unknown-key.ini:4: [github] organisation: unknown key"
expect_error "$DATA/bad-regex.ini" \
	"$DATA/bad-regex.ini:4: [github] repo_pattern: invalid regular expression at offset 1: missing closing parenthesis"
expect_error "$DATA/bad-number.ini" \
	"$DATA/bad-number.ini:6: [cache] expiration: expected an integer, got \"5 minutes\""
expect_error "$DATA/bad-listen.ini" \
	"$DATA/bad-listen.ini:6: [server] listen: an IPv6 address needs brackets: [ADDRESS]:PORT"
expect_error "$DATA/unknown-section.ini" "$DATA/unknown-section.ini:5: [caches]: unknown section"
expect_error "$DATA/missing-organization.ini" \
	"$DATA/missing-organization.ini: [github] organization: required"
expect_error "$DATA/missing-token.ini" \
	"$DATA/missing-token.ini: [github] token: required (or token_file, \$GHACCESS_GITHUB_TOKEN, or app_client_id with app_private_key_file)"
expect_error "$DATA/memcache-without-secret.ini" \
	"$DATA/memcache-without-secret.ini: [cache] secret_file: required with backend = memcache (the key that protects the shared entries)"
expect_error "$DATA/bad-seed-value.ini" \
	"$DATA/bad-seed-value.ini:4: [app:main] auth.otc.github.cache.backend: expected one of memory, memcache, memcached; got \"redis\""
expect_error "$DATA/not-ghaccess.ini" \
	"$DATA/not-ghaccess.ini: no ghaccess settings: expected a [github] section or, in a pypicloud server.ini, auth.otc.github.* keys in [app:main] or a [ghaccess:github] section"
# The seed's memcache settings need ghaccess's own key for the shared entries.
expect_error "$DATA/pypicloud-memcache-without-secret.ini" \
	"$DATA/pypicloud-memcache-without-secret.ini: [ghaccess:cache] secret_file: required with backend = memcache (the key that protects the shared entries)"
# ghaccess's [server] beside pypicloud's [server:main] breaks pserve: refused.
expect_error "$DATA/pypicloud-bare-server.ini" \
	"$DATA/pypicloud-bare-server.ini:10: [server]: in a pypicloud server.ini write [ghaccess:server] ([server] makes PasteDeploy's lookup of [server:main] ambiguous: pserve fails)"
# Without $CREDENTIALS_DIRECTORY a bare name is relative to the working directory.
expect_error "$DATA/credentials.ini" \
	"$DATA/credentials.ini:5: [github] token_file: github-token: cannot open: No such file or directory"
expect_error "$WORK/absent.ini" "$WORK/absent.ini: cannot open: No such file or directory"

# --- [trusted_publishing] ------------------------------------------------------------

# tp FILE [LINE...]: a valid file with an index and the given
# [trusted_publishing] lines (the key file is $WORK/tp-key).
printf 'suite-trusted-publishing-key-never-printed-0123456789\n' >"$WORK/tp-key"
printf 'too-short\n' >"$WORK/tp-short-key"
tp() {
	local file=$WORK/$1 line
	shift
	printf '[github]\norganization = acme\ntoken = ghp_SuiteTokenThatMustNeverBePrinted01\n' >"$file"
	printf '[index]\nstorage_dir = /var/lib/ghaccess/packages\n[trusted_publishing]\n' >>"$file"
	for line in "$@"; do
		printf '%s\n' "$line" >>"$file"
	done
}
tp tp-ok.ini "enabled = true" "audience = pypi.acme.example" "key_file = $WORK/tp-key" \
	"allowed_refs = refs/tags/*" "allowed_environments = pypi" \
	"allowed_workflows = .github/workflows/release.yml" "allowed_events = push, release" \
	"read_grants = web-app:acme-core"
expect_ok "$WORK/tp-ok.ini" "enabled = true" "issuer = https://token.actions.githubusercontent.com" \
	"audience = pypi.acme.example" "key_file = $WORK/tp-key" "token_lifetime = 900" \
	"allowed_refs = refs/tags/*" "allowed_events = push, release" "read_grants = web-app:acme-core"
tp tp-no-audience.ini "enabled = true" "key_file = $WORK/tp-key"
expect_error "$WORK/tp-no-audience.ini" \
	"$WORK/tp-no-audience.ini:7: [trusted_publishing] enabled: needs [trusted_publishing] audience"
tp tp-no-key.ini "enabled = true" "audience = idx"
expect_error "$WORK/tp-no-key.ini" \
	"$WORK/tp-no-key.ini:7: [trusted_publishing] enabled: needs [trusted_publishing] key_file"
tp tp-short-key.ini "enabled = true" "audience = idx" "key_file = $WORK/tp-short-key"
expect_error "$WORK/tp-short-key.ini" \
	"$WORK/tp-short-key.ini:9: [trusted_publishing] key_file: the key must be at least 32 bytes (e.g. openssl rand -hex 32)"
tp tp-lifetime.ini "token_lifetime = 3600"
expect_error "$WORK/tp-lifetime.ini" \
	"$WORK/tp-lifetime.ini:7: [trusted_publishing] token_lifetime: must be between 60 and 900, got 3600"
tp tp-ref.ini "allowed_refs = main"
expect_error "$WORK/tp-ref.ini" \
	"$WORK/tp-ref.ini:7: [trusted_publishing] allowed_refs: main: a ref pattern starts with refs/ (e.g. refs/tags/*)"
tp tp-grant.ini "read_grants = web-app:*"
expect_error "$WORK/tp-grant.ini" \
	"$WORK/tp-grant.ini:7: [trusted_publishing] read_grants: web-app:*: a grant is REPOSITORY:PACKAGE (no wildcard)"
tp tp-audience.ini "audience = two words"
expect_error "$WORK/tp-audience.ini" \
	"$WORK/tp-audience.ini:7: [trusted_publishing] audience: must hold only visible ASCII characters (no space, quote or backslash)"
tp tp-issuer.ini "issuer = token.actions.githubusercontent.com"
expect_error "$WORK/tp-issuer.ini" \
	"$WORK/tp-issuer.ini:7: [trusted_publishing] issuer: must start with http:// or https://"
printf '[github]\norganization = acme\ntoken = ghp_SuiteTokenThatMustNeverBePrinted01\n[trusted_publishing]\nenabled = true\naudience = idx\nkey_file = %s\n' \
	"$WORK/tp-key" >"$WORK/tp-no-index.ini"
expect_error "$WORK/tp-no-index.ini" \
	"$WORK/tp-no-index.ini:5: [trusted_publishing] enabled: needs [index] storage_dir (minted tokens upload to the built-in index)"

# --- usage ------------------------------------------------------------------------

run --help
if [ "$status" -ne 0 ] || ! grep -q '^usage: ghaccess check-config --config FILE' "$WORK/out"; then
	fail "--help: exit $status"
fi
run
if [ "$status" -ne 2 ] || ! grep -q '^usage: ghaccess check-config' "$WORK/err"; then
	fail "no --config: exit $status"
fi
run --frobnicate
if [ "$status" -ne 2 ] || ! grep -q 'unknown option --frobnicate' "$WORK/err"; then
	fail "unknown option: exit $status"
fi
run --config
[ "$status" -eq 2 ] || fail "--config without FILE: exit $status"
run -c "$DATA/valid.ini" extra
[ "$status" -eq 2 ] || fail "extra argument: exit $status"
run --config="$DATA/valid.ini"
[ "$status" -eq 0 ] || fail "--config=FILE: exit $status"

if [ "$failures" -ne 0 ]; then
	echo "check-config: $failures of $checks checks failed" >&2
	exit 1
fi
echo "check-config: $checks checks passed"
