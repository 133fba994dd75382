# desktop-user.sh — a simulated desktop user for shell scripts (sourced).
#
#   user_start NAME STATE_DIR BUILD_DIR   # private HOME and XDG dirs, a session bus,
#                                         # an unlocked gnome-keyring, and voipd
#   as_user NAME COMMAND...               # runs COMMAND in that user's session
#   user_stop NAME                        # stops voipd, the keyring and the bus
#
# This is what a login session gives a real user; see
# ../shared/recipes/keyring-headless for the keyring part.

declare -A USER_ENV USER_PIDS

user_start () {
  local name=$1 state=$2 build=$3 dir="$2/$1"
  mkdir -p "$dir/home" "$dir/run" && chmod 700 "$dir/run"
  USER_ENV[$name]="HOME=$dir/home XDG_DATA_HOME=$dir/home/.local/share \
XDG_CONFIG_HOME=$dir/home/.config XDG_CACHE_HOME=$dir/home/.cache XDG_RUNTIME_DIR=$dir/run \
GSETTINGS_SCHEMA_DIR=$build/data GSETTINGS_BACKEND=keyfile PATH=$build/frontends/cli:$PATH"
  # What the test runner sets for our programs (tests/run-all.sh): GLib's
  # debug flags and the sanitizers' options, suppressions included.
  local var
  for var in G_DEBUG G_SLICE ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
    [ -z "${!var:-}" ] || USER_ENV[$name]+=" $var=${!var}"
  done

  # A session bus of its own, like a login session's.
  env -i ${USER_ENV[$name]} dbus-daemon --session --fork --nopidfile \
    --print-address=3 --print-pid=4 3>"$dir/bus.address" 4>"$dir/bus.pid"
  USER_ENV[$name]+=" DBUS_SESSION_BUS_ADDRESS=$(head -n1 "$dir/bus.address")"
  USER_PIDS[$name]="$(head -n1 "$dir/bus.pid")"

  # An unlocked keyring for the session token (no prompt: no display).
  printf '%s' "keyring-of-$name" | env -i ${USER_ENV[$name]} \
    gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 || true

  env -i ${USER_ENV[$name]} "$build/daemon/voipd" >"$dir/voipd.log" 2>&1 &
  USER_PIDS[$name]+=" $!"
  for _ in $(seq 100); do
    as_user "$name" voipctl status >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "voipd of $name did not start; see $dir/voipd.log" >&2
  return 1
}

as_user () {
  local name=$1; shift
  env -i ${USER_ENV[$name]} "$@"
}

user_stop () {
  # voipd, then the bus; gnome-keyring-daemon leaves with its bus.
  kill ${USER_PIDS[$1]} 2>/dev/null || true
}
