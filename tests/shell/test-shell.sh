#!/bin/bash
# test-shell.sh — the GNOME Shell applet against real daemons, in a real
# headless GNOME Shell 43 (see ../shared/recipes/gnome-shell-headless).
#
# A voip-server on loopback; two desktop users, alice and bob, each with a
# session bus, a keyring and a voipd (tests/demo/desktop-user.sh), friends.
# The extension, installed with `meson install --tags gnome-shell` into a
# staging directory, runs in a gnome-shell on alice's session bus. Through
# org.gnome.Shell.Eval the test checks that:
#   - the panel shows alice's presence, follows `voipctl presence`, and the
#     menu's presence switch sets it;
#   - the menu lists bob and follows him going offline and online (his voipd
#     stopped and started again);
#   - the indicator copes with alice's own voipd going away and coming back;
#   - a quick reply from the menu reaches bob;
#   - a message from bob raises the badge and a notification (none in dnd,
#     none while bob is muted);
#   - carol's friend request and a group are listed; Accept in the menu accepts;
#   - a call from bob shows a notification whose Answer button answers it:
#     alice's call becomes active (voipctl calls --json on her bus);
#   - the menu then shows the call with a running timer; Mute microphone
#     mutes, Open call asks the desktop app to show it, Hang up ends it;
#   - a friend's and a group's "Open conversation" ask the desktop app
#     (org.voipd.Voip, ActivateAction, seen with dbus-monitor; the real app
#     runs on the shell's Wayland display when it is built) to open it;
#   - a call bob cancels while it rings counts as missed (badge, notification);
#   - logged out, the account line says to log in (Account.StateReasonCode).
# Before the shell, the client logic of the ES-module build (GNOME Shell 45+)
# runs under gjs on alice's voipd (esm-client.js): her account (its server a
# list of nodes, the first down), friends, requests, groups, and a message.
# Screenshots of the menu, the incoming-call notification and the call go to
# $SCREENSHOT_DIR (meson-logs/) for people to look at.
#
# Env: BUILD (build dir), SOURCE (source dir), SCREENSHOT_DIR, EXTENSION_UUID;
# VOIP_TEST_KEEP=1 keeps the state directory, VOIP_TEST_PAUSE=SECONDS pauses
# on failure (with everything still running) to look around.
# Exit 77 (skipped) when gnome-shell is not installed or cannot start here.
# Nothing here waits for a fixed time: every wait polls with a generous limit.
set -euo pipefail

: "${BUILD:?}" "${SOURCE:?}" "${EXTENSION_UUID:?}"
shots=${SCREENSHOT_DIR:-$BUILD/meson-logs}
WAIT_S=${WAIT_S:-60}

skip () { echo "SKIP: $*"; exit 77; }
fail () { echo "FAIL: $*" >&2; exit 1; }
step () { printf '\n--- %s\n' "$*"; }

# A critical in voipd or the server is a crash (desktop-user.sh passes G_DEBUG
# and the sanitizers' options on to voipd).
case ",${G_DEBUG:-}," in
  *,fatal-criticals,*|*,fatal-warnings,*|*,all,*) ;;
  *) export G_DEBUG=${G_DEBUG:+$G_DEBUG,}fatal-criticals ;;
esac

# What fails the test in a log of ours besides an exit status: a sanitizer
# report or a GLib critical (tests/support/test-process.c has the same list).
REPORTS='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|GLib-CRITICAL|CRITICAL \*\*'

# check_log FILE WHAT: no report in FILE.
check_log () {
  [ -f "$1" ] || return 0
  if grep -qE -- "$REPORTS" "$1"; then
    grep -E -B2 -A30 -- "$REPORTS" "$1" | head -80 >&2
    echo "FAIL: $2 printed a sanitizer report or a critical (in $1)" >&2
    return 1
  fi
}

# end_process PID WHAT: SIGTERM, then it must exit with status 0 (our child).
end_process () {
  local pid=$1 what=$2 code=0
  kill -TERM "$pid" 2>/dev/null || { echo "FAIL: $what was not running at the end" >&2; return 1; }
  wait "$pid" || code=$?
  [ "$code" -eq 0 ] || { echo "FAIL: $what exited with status $code after SIGTERM" >&2; return 1; }
}

command -v gnome-shell >/dev/null || skip "gnome-shell is not installed (Debian: apt-get install gnome-shell)"
command -v dbus-daemon >/dev/null || skip "dbus-daemon is not installed"

state=$(mktemp -d "${TMPDIR:-/tmp}/voip-shell.XXXXXX")
server_pid= sysbus_pid= shell_pid= monitor_pid= app_pid=

. "$SOURCE/tests/demo/desktop-user.sh"

# stop_within PID: SIGTERM, and SIGKILL if it is still there after 10 s (after a
# failure: a hung child must not hang the test until meson's timeout).
stop_within () {
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

finish () {
  local status=$?
  set +eu
  if [ "$status" -ne 0 ] && [ -n "${VOIP_TEST_PAUSE:-}" ]; then
    # time to look around: DBUS_SESSION_BUS_ADDRESS=$(cat $state/alice/bus.address) gdbus call ...
    echo "paused for ${VOIP_TEST_PAUSE}s; alice's bus: $(head -n1 "$state/alice/bus.address")"
    sleep "$VOIP_TEST_PAUSE"
  fi
  # the desktop app, a Wayland client of the shell, goes first; it exits 0 on SIGTERM
  if [ -n "$app_pid" ]; then
    if [ "$status" -eq 0 ]; then end_process "$app_pid" "the desktop app" || status=1
    else stop_within "$app_pid"; fi
    check_log "$state/app.log" "the desktop app" || status=1
  fi
  stop_shell
  # dbus-monitor has no SIGTERM handler: killed by it (143) is its clean end
  if [ -n "$monitor_pid" ]; then
    kill -TERM "$monitor_pid" 2>/dev/null; code=0; wait "$monitor_pid" || code=$?
    [ "$code" -eq 143 ] || [ "$status" -ne 0 ] || { echo "FAIL: dbus-monitor exited with $code" >&2; status=1; }
  fi
  if [ -f "$state/shell.log" ]; then
    cp "$state/shell.log" "$shots/voip-shell-gnome-shell.log" 2>/dev/null
    echo "--- the extension in the shell's log (all of it in $shots/voip-shell-gnome-shell.log):"
    grep -E '\[voip\]|JS ERROR|JS WARNING|voip@' "$state/shell.log" | grep -v '^$' | head -50
  fi
  [ -n "$sysbus_pid" ] && kill "$sysbus_pid" 2>/dev/null
  # A run that passed must also end cleanly: each voipd and the server exit 0
  # after SIGTERM (LeakSanitizer runs then) and their logs hold no report.
  if [ "$status" -eq 0 ]; then
    for who in alice bob; do
      [ -n "${USER_PIDS[$who]:-}" ] || continue
      end_process "$(voipd_pid $who)" "voipd of $who" || status=1
      check_log "$state/$who/voipd.log" "voipd of $who" || status=1
    done
    if [ -n "$server_pid" ]; then
      end_process "$server_pid" voip-server || status=1
      server_pid=
      check_log "$state/server.log" voip-server || status=1
    fi
  fi
  user_stop alice 2>/dev/null
  user_stop bob 2>/dev/null
  user_stop carol 2>/dev/null
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
  if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then
    for f in "$state"/alice/voipd.log "$state"/bob/voipd.log "$state"/server.log; do
      [ -f "$f" ] && { echo "--- tail of $f"; tail -20 "$f"; }
    done
  fi
  if [ -n "${VOIP_TEST_KEEP:-}" ]; then echo "kept $state"; else rm -rf "$state"; fi
  exit "$status"
}
trap finish EXIT
# A step that fails says which (its own output may have gone to /dev/null).
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR

# ---- helpers --------------------------------------------------------------------

# A clean exit; mutter 43 may still segfault on the way out (status 139): harmless.
stop_shell () {
  [ -n "$shell_pid" ] && kill -0 "$shell_pid" 2>/dev/null || return 0
  ev 'global.context.terminate(); true' >/dev/null 2>&1
  for _ in $(seq 50); do kill -0 "$shell_pid" 2>/dev/null || break; sleep 0.1; done
  kill "$shell_pid" 2>/dev/null || true
  wait "$shell_pid" 2>/dev/null || true
  shell_pid=
}

# Eval in alice's shell; prints the JSON of the value (the D-Bus reply unwrapped).
ev () {
  local reply
  reply=$(as_user alice env LANG=C.UTF-8 gdbus call --session --dest org.gnome.Shell \
            --object-path /org/gnome/Shell --method org.gnome.Shell.Eval "$1" 2>&1) || { echo "$reply"; return 1; }
  case "$reply" in
    "(true, '"*"')") reply=${reply#"(true, '"}; printf '%s\n' "${reply%"')"}" ;;
    *) echo "$reply"; return 1 ;;
  esac
}

# wait_eval WHAT EXPRESSION EXPECTED: until the JSON of EXPRESSION is EXPECTED.
wait_eval () {
  local what=$1 expr=$2 want=$3 got=
  for _ in $(seq $((WAIT_S * 5))); do
    got=$(ev "$expr" 2>&1) && [ "$got" = "$want" ] && { echo "ok: $what: $got"; return 0; }
    sleep 0.2
  done
  fail "$what: expected $want, last saw: $got"
}

# wait_cmd WHAT PATTERN USER COMMAND...: until the command's output matches PATTERN.
wait_cmd () {
  local what=$1 pattern=$2 who=$3 out=; shift 3
  for _ in $(seq $((WAIT_S * 5))); do
    out=$(as_user "$who" "$@" 2>&1) && grep -Eq -- "$pattern" <<<"$out" && { echo "ok: $what"; return 0; }
    sleep 0.2
  done
  fail "$what: '$pattern' never appeared in '$*'; last output: $out"
}

# call_state USER ID: the state of call ID in `voipctl calls --json` ("none" if absent).
call_state () {
  as_user "$1" voipctl calls --json | python3 -c '
import json, sys
root = json.load(sys.stdin)
calls = root if isinstance(root, list) else next(v for v in root.values() if isinstance(v, list))
print(next((c["state"] for c in calls if c["id"] == int(sys.argv[1])), "none"))' "$2"
}

# wait_call USER ID STATE
wait_call () {
  local got=
  for _ in $(seq $((WAIT_S * 5))); do
    got=$(call_state "$1" "$2" 2>&1) && [ "$got" = "$3" ] && { echo "ok: $1's call $2 is $3"; return 0; }
    sleep 0.2
  done
  fail "$1's call $2 never became $3; last: $got"
}

# The applet's own account of what it shows (indicator.describe(), read from its widgets).
INDICATOR="Main.panel.statusArea['voip']"
describe () { echo "$INDICATOR.describe().$1"; }

screenshot () {
  local file=$shots/$1 reply
  rm -f "$file"
  reply=$(as_user alice gdbus call --session --dest org.gnome.Shell.Screenshot \
            --object-path /org/gnome/Shell/Screenshot --method org.gnome.Shell.Screenshot.Screenshot \
            false false "$file" 2>&1)
  [ -s "$file" ] || fail "screenshot $1: $reply"
  echo "screenshot: $file"
}

# voipd_pid NAME: the user's running voipd (desktop-user.sh keeps "bus voipd [voipd...]").
voipd_pid () { local pids=(${USER_PIDS[$1]}); echo "${pids[-1]}"; }

stop_voipd () {
  local pid code=0; pid=$(voipd_pid "$1")
  kill "$pid"
  for _ in $(seq $((WAIT_S * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "voipd of $1 did not stop"
  wait "$pid" || code=$?
  [ "$code" -eq 0 ] || fail "voipd of $1 exited with status $code after SIGTERM"
  check_log "$state/$1/voipd.log" "voipd of $1" || exit 1
}

start_voipd () {
  env -i ${USER_ENV[$1]} "$BUILD/daemon/voipd" >>"$state/$1/voipd.log" 2>&1 &
  USER_PIDS[$1]+=" $!"
}

# ---- the extension, installed as meson installs it ----------------------------

step "installing the extension (meson install --tags gnome-shell)"
meson install -C "$BUILD" --no-rebuild --quiet --tags gnome-shell --destdir "$state/root" >/dev/null
extdir=$(find "$state/root" -type d -path "*/gnome-shell/extensions/$EXTENSION_UUID" | head -n1)
[ -n "$extdir" ] && [ -f "$extdir/metadata.json" ] && [ -f "$extdir/extension.js" ] \
  || fail "meson install did not install the extension"
datadir=${extdir%/gnome-shell/extensions/*}
echo "installed in $extdir"

# ---- server and users ------------------------------------------------------------

step "voip-server, alice and bob"
printf '[stun]\nport=0\n' >"$state/server.conf"   # a free port, not 3478
"$BUILD/server/voip-server" --config "$state/server.conf" --listen 127.0.0.1:0 \
  --database "$state/server.db" >"$state/server.out" 2>"$state/server.log" &
server_pid=$!
address=
for _ in $(seq $((WAIT_S * 10))); do
  address=$(sed -n 's/^listening on \(.*\)$/\1/p' "$state/server.out" | head -n1)
  [ -n "$address" ] && break
  kill -0 "$server_pid" 2>/dev/null || fail "voip-server exited: $(cat "$state/server.log")"
  sleep 0.1
done
[ -n "$address" ] || fail "voip-server did not start"

user_start alice "$state" "$BUILD"
user_start bob "$state" "$BUILD"
# alice's server is a list of nodes (HOST:PORT,HOST:PORT), its first one down:
# what the applet shows must not depend on the server being one node.
dead_node=127.0.0.1:1
echo "alice-password" | as_user alice voipctl register --server "$dead_node,$address" alice --password-stdin >/dev/null
echo "bob-password" | as_user bob voipctl register --server "$address" bob --password-stdin >/dev/null
as_user alice voipctl profile set display_name "Alice Liddell" >/dev/null
as_user bob voipctl profile set display_name "Bob Builder" >/dev/null
as_user alice voipctl contact add bob >/dev/null
wait_cmd "bob sees alice's request" 'alice.*incoming' bob voipctl contacts
as_user bob voipctl contact accept alice >/dev/null
wait_cmd "alice and bob are friends" 'bob.*friend' alice voipctl contacts
as_user alice voipctl group create Lunch bob >/dev/null
# carol asks alice to be friends (answered in the menu, at the end)
user_start carol "$state" "$BUILD"
echo "carol-password" | as_user carol voipctl register --server "$address" carol --password-stdin >/dev/null
as_user carol voipctl contact add alice >/dev/null

step "the applet's client logic from the ES-module build (GNOME Shell 45+), under gjs"
# Not the Shell (Debian 12 has no GNOME Shell 45+): the shared VoipClient,
# loaded as an ES module as 45+ loads it, on alice's real voipd.
esm_dir=$BUILD/frontends/gnome-shell/esm
snapshot=$(as_user alice gjs -m "$SOURCE/tests/shell/esm-client.js" "$esm_dir" snapshot bob carol)
python3 - "$snapshot" "$dead_node,$address" <<'PY' || fail "the ES-module client's view of alice's account is wrong: $snapshot"
import json, sys
view, server = json.loads(sys.argv[1]), sys.argv[2]
account = view["account"]
assert account["running"] and account["state"] == "online", account
assert account["username"] == "alice" and account["displayName"] == "Alice Liddell", account
assert account["server"] == server, (account["server"], server)
contacts = {c["username"]: c for c in view["contacts"]}
assert contacts["bob"]["subscription"] == "friend" and contacts["bob"]["displayName"] == "Bob Builder", contacts
assert contacts["carol"]["subscription"] == "incoming", contacts
assert [(g["name"], sorted(g["members"])) for g in view["groups"]] == [("Lunch", ["alice", "bob"])], view["groups"]
PY
echo "ok: the ES-module client sees alice online on $dead_node,$address, bob a friend, carol's request, the group"
as_user alice gjs -m "$SOURCE/tests/shell/esm-client.js" "$esm_dir" send bob "Sent by the ES-module client" >/dev/null
wait_cmd "its message reaches bob" 'Sent by the ES-module client' bob voipctl history alice

# Test tones for microphones, files for speakers.
for who in alice bob; do
  freq=$([ $who = alice ] && echo 440 || echo 880)
  as_user $who gsettings set org.voipd.Voip1 audio-source "audiotestsrc is-live=true wave=sine freq=$freq volume=0.5"
  as_user $who gsettings set org.voipd.Voip1 audio-sink "wavenc ! filesink location=$state/$who-heard.wav"
  as_user $who gsettings set org.voipd.Voip1 echo-cancellation false
done

# ---- the shell, on alice's session bus -------------------------------------------

step "GNOME Shell on alice's session bus"
# A private, permissive "system" bus: the shell wants one.
sed "s|RUNDIR|$state|" "$SOURCE/tests/shell/system-bus.conf.in" >"$state/system-bus.conf"
dbus-daemon --config-file="$state/system-bus.conf" --nofork >"$state/sysbus.log" 2>&1 &
sysbus_pid=$!
USER_ENV[alice]+=" DBUS_SYSTEM_BUS_ADDRESS=unix:path=$state/system_bus_socket"
for _ in $(seq $((WAIT_S * 10))); do [ -S "$state/system_bus_socket" ] && break; sleep 0.1; done

as_user alice gsettings set org.gnome.shell disable-user-extensions false
as_user alice gsettings set org.gnome.shell enabled-extensions "['$EXTENSION_UUID']"
as_user alice gsettings set org.gnome.shell welcome-dialog-last-shown-version '99'

# start_shell [LANGUAGE]: gnome-shell on alice's bus, in that language (English
# when empty); skips the test when it cannot start here.
start_shell () {
  local started=
  # fatal-criticals is for our programs: GNOME Shell's own criticals (Clutter
  # asserts on input-method focus when an entry's text changes) would kill it.
  as_user alice env -u G_DEBUG LANG=C.UTF-8 LANGUAGE="${1:-}" \
    XDG_DATA_DIRS="$datadir:/usr/local/share:/usr/share" \
    gnome-shell --headless --virtual-monitor 1280x800 --wayland --no-x11 --unsafe-mode \
    >>"$state/shell.log" 2>&1 &
  shell_pid=$!
  for _ in $(seq $((WAIT_S * 5))); do
    kill -0 "$shell_pid" 2>/dev/null || break
    [ "$(ev 'Main.layoutManager._startingUp' 2>/dev/null)" = false ] && { started=1; break; }
    sleep 0.2
  done
  if [ -z "$started" ]; then
    tail -20 "$state/shell.log"
    shell_pid=
    skip "gnome-shell could not start headless here (its log is above)"
  fi
  echo "gnome-shell is up (pid $shell_pid)"
}


start_shell
info=$(as_user alice gdbus call --session --dest org.gnome.Shell --object-path /org/gnome/Shell \
         --method org.gnome.Shell.Extensions.GetExtensionInfo "$EXTENSION_UUID")
grep -q "'state': <1.0>" <<<"$info" || fail "the extension is not enabled: $info"
# Running as root brings a "privileged user" notification: out of the pictures.
ev 'Main.overview.hide(); Main.messageTray.getSources().forEach(s => s.destroy()); true' >/dev/null

# What the applet asks of the desktop app (org.voipd.Voip), seen on alice's bus.
env -i ${USER_ENV[alice]} dbus-monitor --session "type='method_call',interface='org.freedesktop.Application'" \
  >"$state/app-calls.log" 2>&1 &
monitor_pid=$!
# The desktop app itself, when built, on the shell's Wayland display: the
# applet's "Open conversation" and "Open call" activate it.
app_binary=$BUILD/frontends/gtk/voip
if [ -x "$app_binary" ]; then
  # (env itself, not as_user's subshell, so that $! is the app). GTK's cairo
  # renderer, not GL: Mesa's llvmpipe registers its JIT code's unwind tables
  # with libgcc, which mallocs under libgcc's lock, and under ASan with
  # fast_unwind_on_malloc=0 that malloc unwinds through the same lock: the
  # app deadlocked at its first frame (tests/gtk does the same on Xvfb).
  env -i ${USER_ENV[alice]} GDK_BACKEND=wayland WAYLAND_DISPLAY=wayland-0 GSK_RENDERER=cairo \
    "$app_binary" --gapplication-service \
    >"$state/app.log" 2>&1 &
  app_pid=$!
  wait_cmd "the desktop app is on alice's bus" 'true' alice gdbus call --session --dest org.freedesktop.DBus \
    --object-path /org/freedesktop/DBus --method org.freedesktop.DBus.NameHasOwner org.voipd.Voip
fi

# app_asked ACTION PATH: the applet called ActivateAction(ACTION, [PATH]) on org.voipd.Voip.
app_asked () {
  for _ in $(seq $((WAIT_S * 5))); do
    if python3 - "$state/app-calls.log" "$1" "$2" <<'PY'
import re, sys
log, action, path = sys.argv[1:]
calls = open(log).read().split("method call")
sys.exit(0 if any("member=ActivateAction" in c and "destination=org.voipd.Voip" in c
                  and f'string "{action}"' in c and f'string "{path}"' in c for c in calls) else 1)
PY
    then echo "ok: the applet asked the desktop app to $1 $2"; return 0; fi
    sleep 0.2
  done
  fail "the applet never called ActivateAction($1, $2) on org.voipd.Voip; seen: $(cat "$state/app-calls.log")"
}

# ---- presence ----------------------------------------------------------------------

step "own presence in the panel"
wait_eval "panel shows alice online" "$(describe presence)" '"Online"'
wait_eval "account line" "$(describe account)" '"Alice Liddell (alice) — Online"'
as_user alice voipctl presence away >/dev/null
wait_eval "panel follows alice to away" "$(describe presence)" '"Away"'
wait_eval "the dot is yellow" "$(describe dot)" '"voip-presence-dot voip-presence-away"'
as_user alice voipctl presence dnd >/dev/null
wait_eval "panel follows alice to dnd" "$(describe presence)" '"Do not disturb"'
as_user alice voipctl presence online >/dev/null
wait_eval "panel follows alice back online" "$(describe presence)" '"Online"'
ev "$INDICATOR._presenceItems.get('busy').activate(null); true" >/dev/null
wait_cmd "the menu's presence switch sets busy" '"presence" *: *"busy"' alice voipctl status --json
wait_eval "panel busy" "$(describe presence)" '"Busy"'
ev "$INDICATOR._presenceItems.get('online').activate(null); true" >/dev/null
wait_eval "panel online from the menu" "$(describe presence)" '"Online"'

# ---- contacts ------------------------------------------------------------------

step "bob in the contact list, going offline and online"
CONTACTS="$(describe contacts).map(c => c.username + ':' + c.presence).join(',')"
wait_eval "menu lists bob online" "$CONTACTS" '"bob:Online"'
as_user bob voipctl presence busy >/dev/null
wait_eval "bob busy" "$CONTACTS" '"bob:Busy"'
as_user bob voipctl presence online >/dev/null
stop_voipd bob
wait_eval "bob offline once his voipd is gone" "$CONTACTS" '"bob:Offline"'
start_voipd bob
wait_eval "bob online again with a new voipd" "$CONTACTS" '"bob:Online"'

step "the menu: requests, groups, a contact's quick reply"
wait_eval "carol's request" "$(describe requests)" '["carol wants to be your friend"]'
wait_eval "the group" "$(describe groups)" '["Lunch  ·  2 members"]'
ev "$INDICATOR.menu.open(false); true" >/dev/null
wait_eval "menu open" "$INDICATOR.menu.isOpen" true
ev "[...$INDICATOR._contactItems.values()].find(i => i.username === 'bob').setSubmenuShown(true); true" >/dev/null
wait_eval "bob's quick reply shown" "[...$INDICATOR._contactItems.values()].find(i => i.username === 'bob').menu.isOpen" true
screenshot voip-shell-menu.png
ev "const e = [...$INDICATOR._contactItems.values()].find(i => i.username === 'bob')._entry; e.text = 'On my way'; e.clutter_text.emit('activate'); true" >/dev/null
wait_cmd "the quick reply reaches bob" 'On my way' bob voipctl history alice
ev "[...$INDICATOR._contactItems.values()].find(i => i.username === 'bob')._openItem.activate(null); true" >/dev/null
bob_path=$(ev "[...$INDICATOR._contactItems.values()].find(i => i.username === 'bob').path" | tr -d '"')
app_asked open-conversation "$bob_path"
ev "[...$INDICATOR._groupItems.values()][0]._openButton.emit('clicked', 1); true" >/dev/null
lunch_path=$(ev "[...$INDICATOR._groupItems.values()][0].path" | tr -d '"')
app_asked open-conversation "$lunch_path"
ev "$INDICATOR.menu.close(false); true" >/dev/null
if [ -n "$app_pid" ]; then
  # started as a service, the app had no window: the applet's ask opened one
  wait_eval "the desktop app's window is on screen" \
    "global.get_window_actors().some(a => a.meta_window.get_gtk_application_id() === 'org.voipd.Voip' && a.visible)" true
  screenshot voip-shell-open-conversation.png
fi

# ---- alice's own voipd going away and coming back ------------------------------

step "alice's voipd going away and coming back"
stop_voipd alice
wait_eval "the account says voipd is not running" "$(describe account)" '"The voip service is not running"'
wait_eval "panel offline" "$(describe presence)" '"Offline"'
wait_eval "no contacts without voipd" "$CONTACTS" '""'
start_voipd alice
wait_eval "panel online again" "$(describe presence)" '"Online"'
wait_eval "bob listed again" "$CONTACTS" '"bob:Online"'

# ---- a message ---------------------------------------------------------------------

step "a message from bob"
as_user bob voipctl send alice "Lunch at noon?" >/dev/null
wait_eval "badge counts it" "$(describe badge)" '"1"'
wait_eval "a notification from Bob Builder" \
  "Main.messageTray.getSources().flatMap(s => s.notifications).filter(n => n.title === 'Bob Builder').map(n => n.bannerBodyText).join()" \
  '"Lunch at noon?"'
as_user alice voipctl read bob >/dev/null
wait_eval "badge gone once read" "$(describe badge)" '""'
ev 'Main.messageTray.getSources().forEach(s => s.destroy()); true' >/dev/null
as_user alice voipctl presence dnd >/dev/null
wait_eval "alice in dnd" "$(describe presence)" '"Do not disturb"'
as_user bob voipctl send alice "Are you there?" >/dev/null
wait_eval "badge counts the message in dnd" "$(describe badge)" '"1"'
wait_eval "but no notification in dnd" "Main.messageTray.getSources().flatMap(s => s.notifications).length" 0
as_user alice voipctl read bob >/dev/null
as_user alice voipctl presence online >/dev/null
wait_eval "alice online" "$(describe presence)" '"Online"'
wait_eval "badge gone" "$(describe badge)" '""'
as_user alice voipctl contact mute bob >/dev/null
wait_eval "the applet sees bob muted" "$INDICATOR._client.contact('bob').muted" 'true'
as_user bob voipctl send alice "Still there?" >/dev/null
wait_eval "badge counts a muted friend's message" "$(describe badge)" '"1"'
wait_eval "but no notification for a muted friend" "Main.messageTray.getSources().flatMap(s => s.notifications).length" 0
as_user alice voipctl read bob >/dev/null
as_user alice voipctl contact unmute bob >/dev/null
wait_eval "bob unmuted" "$INDICATOR._client.contact('bob').muted" 'false'

# ---- an incoming call ------------------------------------------------------------

step "bob calls alice"
call_id=$(as_user bob voipctl --json call alice | tr -dc 0-9)   # {"id":N}
echo "call $call_id"
wait_call alice "$call_id" ringing
CALL_NOTE="Main.messageTray.getSources().flatMap(s => s.notifications).find(n => n.voipCallPath?.endsWith('/$call_id'))"
wait_eval "the call notification" "$CALL_NOTE?.title" '"Incoming call from Bob Builder"'
wait_eval "its banner is on screen with Answer and Decline" \
  "Main.messageTray._notification === $CALL_NOTE && Main.messageTray._banner?._buttonBox?.get_children().map(b => b.label).join()" \
  '"Answer,Decline"'
screenshot voip-shell-incoming-call.png
ev "Main.messageTray._banner._buttonBox.get_children().find(b => b.label === 'Answer').emit('clicked', 1); true" >/dev/null \
  || fail "could not click Answer"
wait_call alice "$call_id" active
wait_call bob "$call_id" active
wait_eval "the notification is gone" "$CALL_NOTE === undefined" true

step "the ongoing call in the menu"
wait_eval "the menu shows the call" "$(describe call).replace(/  [0-9:]+\$/, '')" '"In a call with Bob Builder"'
ev "$INDICATOR.menu.open(false); true" >/dev/null
wait_eval "the timer runs" "/  [0-9][0-9]:[0-9][0-9]\$/.test($(describe call)) && !/ 00:00\$/.test($(describe call))" true
ev "$INDICATOR._muteItem.toggle(); true" >/dev/null
wait_cmd "Mute microphone mutes" '"muted" *: *true' alice voipctl calls --json
screenshot voip-shell-call.png
ev "$INDICATOR._openCallItem.activate(null); true" >/dev/null
app_asked open-call "/org/voipd/Voip1/call/$call_id"
[ -z "$app_pid" ] || screenshot voip-shell-open-call.png
ev "$INDICATOR.menu.open(false); true" >/dev/null
ev "$INDICATOR._hangupItem.activate(null); true" >/dev/null
wait_call alice "$call_id" ended
wait_eval "the menu no longer shows a call" "$(describe call)" '""'

step "a missed call"
call_id=$(as_user bob voipctl --json call alice | tr -dc 0-9)   # {"id":N}
wait_call alice "$call_id" ringing
as_user bob voipctl hangup "$call_id" >/dev/null
wait_call alice "$call_id" ended
wait_eval "the badge counts the missed call" "$(describe badge)" '"1"'
wait_eval "a missed-call notification" \
  "Main.messageTray.getSources().flatMap(s => s.notifications).map(n => n.title).join()" \
  '"Missed call from Bob Builder"'
ev "$INDICATOR.menu.open(false); true" >/dev/null
wait_eval "the menu says so" "$INDICATOR._missedItem.visible && $INDICATOR._missedItem.label.text" '"1 missed call"'
ev "$INDICATOR.menu.close(false); true" >/dev/null
wait_eval "seen: the badge is gone" "$(describe badge)" '""'

step "accepting carol's request in the menu"
ev "[...$INDICATOR._requestItems.values()].find(i => i.username === 'carol')._buttons.get_children().find(b => b.label === 'Accept').emit('clicked', 1); true" >/dev/null \
  || fail "could not click Accept"
wait_cmd "alice and carol are friends" 'carol.*friend' alice voipctl contacts
wait_eval "carol listed after bob (both online: by name)" "$CONTACTS" '"bob:Online,carol:Online"'
wait_eval "no requests left" "$(describe requests)" '[]'

step "logged out, and in again on the list of nodes"
as_user alice voipctl logout >/dev/null
wait_eval "the account says to log in, and why" "$(describe account)" \
  '"Alice Liddell (alice) — Not logged in (use voipctl login) (logged out)"'
echo "alice-password" | as_user alice voipctl login --server "$dead_node,$address" alice --password-stdin >/dev/null
wait_eval "online again" "$(describe account)" '"Alice Liddell (alice) — Online"'

step "the applet in French"
# Extensions carry their catalogues in their own locale/ folder (as on
# extensions.gnome.org); the applet binds to it when it is there.
mkdir -p "$extdir/locale/fr/LC_MESSAGES"
cp "$BUILD/po/fr/LC_MESSAGES/voip.mo" "$extdir/locale/fr/LC_MESSAGES/voip.mo"
as_user alice voipctl presence online >/dev/null
# the desktop app is a client of this shell's display: it ends before it
if [ -n "$app_pid" ]; then end_process "$app_pid" "the desktop app"; app_pid=; fi
stop_shell
start_shell fr
wait_eval "the panel shows the presence in French" "$(describe presence)" '"En ligne"'
wait_eval "and bob's too" "$CONTACTS" '"bob:En ligne,carol:En ligne"'
ev "Main.overview.hide(); Main.messageTray.getSources().forEach(s => s.destroy()); $INDICATOR.menu.open(false); true" >/dev/null
wait_eval "the menu in French" "$(describe account).includes('alice')" 'true'
screenshot voip-shell-menu-fr.png

echo
echo "PASS: presence, contacts, requests, daemon restarts, a message, an answered call, and French in GNOME Shell"
echo "screenshots: $shots/voip-shell-menu.png $shots/voip-shell-incoming-call.png $shots/voip-shell-call.png $shots/voip-shell-menu-fr.png"
[ -z "${app_binary:-}" ] || [ ! -x "$app_binary" ] || echo "and the desktop app opened from the applet: $shots/voip-shell-open-conversation.png $shots/voip-shell-open-call.png"
