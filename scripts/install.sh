#!/bin/sh
# make install: lay out ghaccess under DESTDIR/PREFIX.
#   scripts/install.sh DESTDIR PREFIX BUILD
set -eu
destdir=$1
prefix=$2
build=$3
bindir=$prefix/bin
mandir=$prefix/share/man
docdir=$prefix/share/doc/ghaccess
unitdir=$prefix/lib/systemd/system
if [ "$prefix" = /usr ]; then sysconfdir=/etc; else sysconfdir=$prefix/etc; fi

install -d "$destdir$bindir" "$destdir$mandir/man8" "$destdir$mandir/man5" \
	"$destdir$docdir" "$destdir$unitdir" "$destdir$sysconfdir/ghaccess"
install -m 0755 "$build/ghaccess" "$destdir$bindir/ghaccess"
install -m 0644 man/ghaccess.8 "$destdir$mandir/man8/ghaccess.8"
install -m 0644 man/ghaccess.ini.5 "$destdir$mandir/man5/ghaccess.ini.5"
install -m 0644 README.md "$destdir$docdir/README.md"
install -m 0644 examples/ghaccess.ini "$destdir$docdir/ghaccess.ini.example"
[ -f examples/nginx.conf ] && install -m 0644 examples/nginx.conf "$destdir$docdir/nginx.conf.example"
# The example configuration is installed only where none exists yet.
if [ ! -e "$destdir$sysconfdir/ghaccess/ghaccess.ini" ]; then
	install -m 0640 examples/ghaccess.ini "$destdir$sysconfdir/ghaccess/ghaccess.ini"
fi
sed -e "s|@BINDIR@|$bindir|g" -e "s|@SYSCONFDIR@|$sysconfdir|g" dist/ghaccess.service \
	> "$destdir$unitdir/ghaccess.service"
chmod 0644 "$destdir$unitdir/ghaccess.service"
echo "installed ghaccess into ${destdir:-/}${prefix#/}"
