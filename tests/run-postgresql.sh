#!/bin/sh
# tests/run-postgresql.sh — runs test suites with every voip-server storing in
# PostgreSQL instead of SQLite: one private cluster (initdb + pg_ctl, on a
# unix socket in a temporary directory, as `nobody` when run as root since
# initdb refuses root), and tests/support/test-server.c gives each server a
# database of its own in it (VOIP_TEST_PG_DIR).
#
#   tests/run-postgresql.sh BUILD_DIR [meson test arguments]
#
# Without arguments after BUILD_DIR it runs the integration suite.
set -eu

build=${1:?usage: $0 BUILD_DIR [meson test arguments]}
shift
[ $# -gt 0 ] || set -- --suite integration

bindir=${VOIP_TEST_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [ ! -x "$bindir/initdb" ]; then
    echo "$0: no PostgreSQL server programs (Debian package postgresql)" >&2
    exit 1
fi

dir=$(mktemp -d /tmp/voip-pg-XXXXXX)
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}
[ "$(id -u)" != 0 ] || chown nobody "$dir"
cleanup() {
    as_owner "$bindir/pg_ctl" stop -D "$dir/data" -m fast -w >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

as_owner "$bindir/initdb" -D "$dir/data" -U voip --auth=trust -E UTF8 --locale=C.UTF-8 -N \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
# fsync off: the tests kill servers, never the machine's power.
as_owner "$bindir/pg_ctl" start -D "$dir/data" -l "$dir/server.log" -w -o \
    "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off -c max_connections=300" \
    >/dev/null || { cat "$dir/server.log" >&2; exit 1; }

status=0
VOIP_TEST_PG_DIR=$dir meson test -C "$build" --print-errorlogs "$@" || status=$?
exit $status
