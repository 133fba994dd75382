#!/bin/bash
# run-demo.sh — installs what is missing of tests/demo/packages (Debian 12,
# as root; only what the demo needs, not the test suites' tools), builds voip,
# starts a local voip-server on a fresh SQLite database, then plays two
# desktop users, alice and bob, each with a session bus, an unlocked keyring
# and a voipd of their own, driven through voipctl: they register, befriend
# each other, chat, read the history, and make a real voice call (ICE, SRTP,
# Opus) in which alice's microphone is a 440 Hz tone and bob's an 880 Hz one;
# what each of them heard is recorded and its frequency measured. DEMO=protocol plays the lower-level
# session instead (tests/demo/voip-demo.c, straight over the wire protocol).
#
#   ./run-demo.sh            # build in ./build, database in a temporary directory
#   KEEP=1 ./run-demo.sh     # keep the database and the server log afterwards
#   BUILD=DIR ./run-demo.sh  # use another build directory (the meson test does)
set -euo pipefail
cd "$(dirname "$0")"
build=${BUILD:-build}

[ -n "${VOIP_DEPS_INSTALLED:-}" ] || .ci/ensure-packages tests/demo/packages

echo "==> building (meson + ninja, in $build)"
[ -f "$build/build.ninja" ] || meson setup "$build" -Dbuildtype=debugoptimized >/dev/null
# voip-gmo: the French catalogue, so that the README's
# `LANGUAGE=fr build/frontends/cli/voipctl --help` works after the demo.
meson compile -C "$build" voip-server voip-demo voipd voipd-media voipctl tone-analyze \
  gsettings-compile-data voip-gmo >/dev/null

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
# Its STUN responder on a free port too (3478 by default), so that the demo
# never collides with a STUN or TURN server already running here.
printf '[stun]\nport=0\n' > "$state/server.conf"
"$build/server/voip-server" --config "$state/server.conf" --listen 127.0.0.1:0 \
  --database "$state/server.db" > "$state/server.out" 2> "$state/server.log" &
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

if [ "${DEMO:-desktop}" = protocol ]; then
  exec "$build/tests/demo/voip-demo" --port "${address##*:}"
fi

. tests/demo/desktop-user.sh
# Headings in bold on a terminal only: no escape codes in a pipe or a log,
# nor with NO_COLOR (no-color.org) or TERM=dumb.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ] && [ "${TERM:-dumb}" != dumb ]; then
  bold=$'\033[1m' plain=$'\033[0m'
else
  bold= plain=
fi
say () { printf '\n%s%s%s\n' "$bold" "$*" "$plain"; }
run () {   # run USER voipctl ARGS...: shows the command and its output
  local who=$1; shift
  printf '%-6s$ %s\n' "$who" "$*"
  as_user "$who" "$@" 2>&1 | sed 's/^/         /'
}
wait_for () {   # wait_for USER PATTERN voipctl ARGS...: until the output matches (10 s at most)
  local who=$1 pattern=$2; shift 2
  for _ in $(seq 100); do
    as_user "$who" "$@" 2>/dev/null | grep -q -- "$pattern" && return 0
    sleep 0.1
  done
  echo "(timed out waiting for '$pattern' in: $*)" >&2
}
stop_users () { user_stop alice 2>/dev/null; user_stop bob 2>/dev/null; finish; }
trap stop_users EXIT

say "Two desktop users, each with a session bus, a keyring and voipd"
user_start alice "$state" "$build"
user_start bob "$state" "$build"
echo "alice and bob are up"

say "They register (the daemon keeps the session token in the keyring)"
echo "alice-password" | run alice voipctl register --server "$address" alice --password-stdin
echo "bob-password" | run bob voipctl register --server "$address" bob --password-stdin
run alice voipctl status

say "alice asks bob to be friends; bob accepts"
run alice voipctl contact add bob
wait_for bob incoming voipctl contacts
run bob voipctl contacts
run bob voipctl contact accept alice
wait_for alice friend voipctl contacts
run alice voipctl contacts

say "They chat"
run alice voipctl profile set display_name "Alice A."
run alice voipctl send bob "Hi Bob! Lunch at noon?"
run bob voipctl send alice "Sure, see you there."
run alice voipctl send bob "Great!"
run bob voipctl presence away
wait_for alice away voipctl contacts
run alice voipctl contacts

say "bob reads the conversation"
run bob voipctl history alice
run bob voipctl history alice --json
run bob voipctl read alice
wait_for bob "alice" voipctl contacts
run bob voipctl contacts

say "alice calls bob (test tones stand in for microphones: alice 440 Hz, bob 880 Hz)"
for who in alice bob; do
  freq=$([ $who = alice ] && echo 440 || echo 880)
  as_user $who gsettings set org.voipd.Voip1 audio-source \
    "audiotestsrc is-live=true wave=sine freq=$freq volume=0.5"
  as_user $who gsettings set org.voipd.Voip1 audio-sink \
    "wavenc ! filesink location=$state/$who-heard.wav"
done
echo "(audio-source and audio-sink are GSettings keys: GStreamer descriptions, normally autoaudiosrc/autoaudiosink)"
run alice voipctl call bob
wait_for bob ringing voipctl calls
run bob voipctl calls
run bob voipctl answer
wait_for alice active voipctl calls
wait_for bob active voipctl calls
sleep 3
run alice voipctl calls
run bob voipctl calls --json
run bob voipctl hangup
wait_for alice ended voipctl calls
run alice voipctl calls

say "What each of them heard (dominant frequency of the recorded call audio)"
for who in alice bob; do
  heard=$("$build/tests/support/tone-analyze" "$state/$who-heard.wav" --skip-ms 1000)
  hz=$(sed -n 's/.*dominant_hz=\([0-9.]*\).*/\1/p' <<<"$heard")
  expected=$([ $who = alice ] && echo 880 || echo 440)
  printf '%-6s heard %s Hz (the other side sends %s Hz)   [%s]\n' "$who" "$hz" "$expected" "$heard"
  awk -v hz="$hz" -v want="$expected" 'BEGIN { exit !(hz > want - 5 && hz < want + 5) }' \
    || { echo "$who did not hear the expected tone" >&2; exit 1; }
done

say "Done: two daemons, one friendship, three durable messages and a real call, all through voipctl."
