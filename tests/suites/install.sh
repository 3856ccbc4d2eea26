#!/bin/sh
# install.sh - `make install` lays out a daemon: binary, both manual pages,
# documentation, an example configuration that is never overwritten, and a
# hardened systemd unit that `systemd-analyze verify` accepts.
#
# Uses the binary already built in $BUILD (default build): make install is
# run with BUILD=$BUILD, so nothing is rebuilt.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}

if [ ! -x "$BUILD/ghaccess" ]; then
	echo "install: $BUILD/ghaccess not built" >&2
	exit 1
fi
# Relinking with other flags than the build's would fail: keep them.
sanitize=0
if ldd "$BUILD/ghaccess" 2>/dev/null | grep -q libasan; then
	sanitize=1
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# install_into DESTDIR PREFIX
install_into() {
	make -s install DESTDIR="$1" PREFIX="$2" BUILD="$BUILD" SANITIZE=$sanitize \
		>"$WORK/make.log" 2>&1 || {
		cat "$WORK/make.log" >&2
		fail "make install DESTDIR=$1 PREFIX=$2"
		return 1
	}
}

# mode_of FILE -> octal permission bits
mode_of() {
	stat -c '%a' "$1"
}

# ---- PREFIX=/usr -------------------------------------------------------------
D=$WORK/usr-root
mkdir -p "$D"
install_into "$D" /usr

expected="usr/bin/ghaccess
usr/share/man/man8/ghaccess.8
usr/share/man/man5/ghaccess.ini.5
usr/share/doc/ghaccess/README.md
usr/share/doc/ghaccess/ghaccess.ini.example
usr/lib/systemd/system/ghaccess.service
etc/ghaccess/ghaccess.ini"
for file in $expected; do
	[ -f "$D/$file" ] || fail "missing $file"
done
[ -f examples/nginx.conf ] && { [ -f "$D/usr/share/doc/ghaccess/nginx.conf.example" ] ||
	fail "missing usr/share/doc/ghaccess/nginx.conf.example"; }
echo "installed files:"
(cd "$D" && find . -type f | sort | sed 's|^\./|  |')

[ -x "$D/usr/bin/ghaccess" ] || fail "usr/bin/ghaccess is not executable"
[ "$(mode_of "$D/usr/bin/ghaccess")" = 755 ] || fail "ghaccess mode $(mode_of "$D/usr/bin/ghaccess")"
[ "$(mode_of "$D/etc/ghaccess/ghaccess.ini")" = 640 ] ||
	fail "the configuration must not be world-readable (mode $(mode_of "$D/etc/ghaccess/ghaccess.ini"))"
for page in man8/ghaccess.8 man5/ghaccess.ini.5; do
	[ "$(mode_of "$D/usr/share/man/$page")" = 644 ] || fail "$page mode"
done
"$D/usr/bin/ghaccess" --version >/dev/null 2>&1 || fail "the installed binary does not run"

# The manual pages format without warnings.
if command -v groff >/dev/null 2>&1; then
	for page in "$D/usr/share/man/man8/ghaccess.8" "$D/usr/share/man/man5/ghaccess.ini.5"; do
		warnings=$(groff -t -man -ww -z "$page" 2>&1 || true)
		[ -z "$warnings" ] || fail "$(basename "$page"): groff warnings: $warnings"
	done
else
	echo "install: groff missing, manual pages not formatted"
fi

# The unit: paths substituted, the hardening the issue asks for.
unit=$D/usr/lib/systemd/system/ghaccess.service
grep -q '@[A-Z]*@' "$unit" && fail "unsubstituted @VARIABLE@ in the unit"
grep -qx 'ExecStart=/usr/bin/ghaccess serve --config /etc/ghaccess/ghaccess.ini' "$unit" ||
	fail "ExecStart does not run /usr/bin/ghaccess with /etc/ghaccess/ghaccess.ini"
for directive in DynamicUser=yes ProtectSystem=strict StateDirectory=ghaccess \
	NoNewPrivileges=yes CapabilityBoundingSet= 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
	ProtectHome=yes PrivateTmp=yes; do
	grep -qx "$directive" "$unit" || fail "unit lacks $directive"
done

# systemd-analyze verify checks that ExecStart exists and that the
# Documentation= pages resolve, so it gets a copy of the unit pointing into
# DESTDIR and MANPATH pointing at the installed pages.
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "install: systemd-analyze missing (Debian package systemd); unit not verified"
else
	mkdir -p "$WORK/unit"
	sed -e "s|^ExecStart=/usr/bin/ghaccess|ExecStart=$D/usr/bin/ghaccess|" \
		-e "s|/etc/ghaccess/ghaccess.ini|$D/etc/ghaccess/ghaccess.ini|" \
		"$unit" >"$WORK/unit/ghaccess.service"
	if MANPATH=$D/usr/share/man systemd-analyze verify "$WORK/unit/ghaccess.service" \
		>"$WORK/verify.log" 2>&1; then
		echo "systemd-analyze verify: unit accepted"
	elif grep -qiE 'Failed to (connect|initialize|allocate)|not been booted|System has not' \
		"$WORK/verify.log"; then
		echo "install: systemd-analyze cannot run here ($(head -n 1 "$WORK/verify.log")); unit not verified"
	else
		cat "$WORK/verify.log" >&2
		fail "systemd-analyze verify refused the unit"
	fi
fi

# ---- a second install keeps the operator's configuration --------------------
echo "; edited by the operator" >>"$D/etc/ghaccess/ghaccess.ini"
install_into "$D" /usr
tail -n 1 "$D/etc/ghaccess/ghaccess.ini" | grep -q 'edited by the operator' ||
	fail "a second make install overwrote /etc/ghaccess/ghaccess.ini"

# ---- PREFIX=/usr/local: everything under the prefix -------------------------
L=$WORK/local-root
mkdir -p "$L"
install_into "$L" /usr/local
for file in usr/local/bin/ghaccess usr/local/share/man/man5/ghaccess.ini.5 \
	usr/local/etc/ghaccess/ghaccess.ini usr/local/lib/systemd/system/ghaccess.service; do
	[ -f "$L/$file" ] || fail "PREFIX=/usr/local: missing $file"
done
grep -q '^ExecStart=/usr/local/bin/ghaccess serve --config /usr/local/etc/ghaccess/ghaccess.ini$' \
	"$L/usr/local/lib/systemd/system/ghaccess.service" ||
	fail "PREFIX=/usr/local: ExecStart paths"
outside=$(cd "$L" && find . -type f ! -path './usr/local/*')
[ -z "$outside" ] || fail "PREFIX=/usr/local: files outside the prefix: $outside"

if [ "$failures" -ne 0 ]; then
	echo "install: $failures failure(s)"
	exit 1
fi
echo "install: ok"
