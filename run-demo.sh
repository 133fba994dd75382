#!/bin/bash
# run-demo.sh — installs what is missing (Debian 12, as root), builds voip,
# starts a local voip-server on a fresh SQLite database, and runs the scripted
# demo session (tests/demo/voip-demo.c): alice, bob and carol register,
# befriend each other, change presence, chat, read history and talk in a group.
#
#   ./run-demo.sh            # build in ./build, database in a temporary directory
#   KEEP=1 ./run-demo.sh     # keep the database and the server log afterwards
#   BUILD=DIR ./run-demo.sh  # use another build directory (the meson test does)
set -euo pipefail
cd "$(dirname "$0")"
build=${BUILD:-build}

[ -n "${VOIP_DEPS_INSTALLED:-}" ] || .ci/ensure-packages

echo "==> building (meson + ninja, in $build)"
[ -f "$build/build.ninja" ] || meson setup "$build" -Dbuildtype=debugoptimized >/dev/null
meson compile -C "$build" voip-server voip-demo >/dev/null

state=$(mktemp -d "${TMPDIR:-/tmp}/voip-demo.XXXXXX")
server_pid=
finish () {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "${KEEP:-}" ]; then echo "kept $state (server.db, server.log)"; else rm -rf "$state"; fi
}
trap finish EXIT

echo "==> starting voip-server (database $state/server.db)"
"$build/server/voip-server" --listen 127.0.0.1:0 --database "$state/server.db" \
  > "$state/server.out" 2> "$state/server.log" &
server_pid=$!
address=
for _ in $(seq 100); do
  address=$(sed -n 's/^listening on \(.*\)$/\1/p' "$state/server.out" | head -n1)
  [ -n "$address" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$state/server.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$address" ] || { echo "voip-server did not start" >&2; exit 1; }
echo "    listening on $address"
echo

"$build/tests/demo/voip-demo" --port "${address##*:}"
