# e2e-env.sh - sourced (not run: it is not executable) by the end-to-end
# suites before they start a test program of tests/e2e/: the top of the
# repository as working directory, BUILD exported (default build), no
# __pycache__ in the source tree, the server built, the stand-in's npm
# packages installed (from the committed lockfile).  need_tool names the
# programs a suite drives: they come from Debian (scripts/install-deps.sh),
# so a missing one is a failure, not a skip, in `make check`.
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
export PYTHONDONTWRITEBYTECODE=1
suite=$(basename "$0" .sh)
if [ ! -x "$BUILD/ghaccess" ]; then
	echo "$suite: $BUILD/ghaccess not built" >&2
	exit 1
fi
[ -d tests/github-standin/node_modules ] ||
	(cd tests/github-standin && npm ci --no-audit --no-fund --loglevel=error)

need_tool() {
	for tool in "$@"; do
		if [ ! -x "$tool" ] && ! command -v "$tool" >/dev/null 2>&1; then
			echo "$suite: $tool missing: run scripts/install-deps.sh" >&2
			exit 1
		fi
	done
}
