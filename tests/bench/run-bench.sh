#!/bin/bash
# run-bench.sh — the benchmark of docs/BENCHMARKS.md.
#
# Builds voip-server and voip-bench (in build-bench/ unless BUILD is set),
# creates a temporary database with the benchmark configuration, prepares the
# accounts once, then measures, each against a freshly started server:
#
#   sessions    CLIENTS logged-in sessions held; server RSS per session
#   throughput  PAIRS sender->receiver pairs, pipelined SendText, delivered/s
#   latency     the same pairs at RATE messages/s; p50/p90/p99/max
#
# Environment (defaults): CLIENTS=10000 SESSION_PROCS=4 PAIRS=500 PROCS=2
# DURATION=10 RATE=5000 WINDOW=16 HOLD=5 MEASURES="sessions throughput latency"
# RATE may list several rates ("2000 5000"), one latency run each.
# PROFILE=perf|callgrind (profile the server during throughput; see the report
# under $work) KEEP=1 (keep the temporary directory). STORE=postgresql stores
# in a private PostgreSQL cluster under $work (fsync on, on its unix socket)
# instead of SQLite.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build-bench}
CLIENTS=${CLIENTS:-10000}
SESSION_PROCS=${SESSION_PROCS:-4}
PAIRS=${PAIRS:-500}
PROCS=${PROCS:-2}
DURATION=${DURATION:-10}
RATE=${RATE:-5000}
WINDOW=${WINDOW:-16}
HOLD=${HOLD:-5}
MEASURES=${MEASURES:-sessions throughput latency}
PROFILE=${PROFILE:-}

if [ ! -x "$build/server/voip-server" ] || [ ! -x "$build/tests/bench/voip-bench" ]; then
  [ -f "$build/build.ninja" ] || meson setup "$build" "$root" -Dbuildtype=debugoptimized >/dev/null
  meson compile -C "$build" voip-server voip-bench >/dev/null
fi
server_bin=$build/server/voip-server
bench_bin=$build/tests/bench/voip-bench

# On disk, not tmpfs: fsync must cost what it costs.
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/voip-bench.XXXXXX")
server_pid=
pg_bin=
cleanup () {
  if [ -n "$server_pid" ]; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  if [ -n "$pg_bin" ]; then pg_as_owner "$pg_bin/pg_ctl" stop -D "$work/pg/data" -m fast -w >/dev/null || true; fi
  if [ -z "${KEEP:-}" ] && [ -z "$PROFILE" ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT

# The benchmark measures sessions and messages, not password hashing or the
# login rate limits: cheap hashes, limits out of the way, long timeouts.
cat > "$work/bench.conf" <<EOF
[server]
login-timeout=120
idle-timeout=3600
max-output-queue=67108864

[stun]
port=0

[security]
password-hash=minimum
login-attempts-per-ip=1000000000
login-refill-per-second=1000000000
login-failures-per-account=1000000000
EOF

# STORE=postgresql: a cluster on $work's disk, durable as SQLite is (fsync and
# synchronous_commit on), owned by nobody when run as root (initdb refuses root).
pg_as_owner () { if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }
if [ "${STORE:-sqlite}" = postgresql ]; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  mkdir "$work/pg"
  if [ "$(id -u)" = 0 ]; then chmod 711 "$work"; chown nobody "$work/pg"; fi
  pg_as_owner "$pg_bin/initdb" -D "$work/pg/data" -U voip --auth=trust -E UTF8 --locale=C.UTF-8 \
    > "$work/pg/initdb.log"
  pg_as_owner "$pg_bin/pg_ctl" start -D "$work/pg/data" -l "$work/pg/server.log" -w \
    -o "-c listen_addresses='' -c unix_socket_directories='$work/pg'" > /dev/null
  pg_as_owner "$pg_bin/psql" -h "$work/pg" -U voip -d postgres -qXc "CREATE DATABASE bench"
  printf '\n[store]\nurl=postgresql:///bench?host=%s&user=voip\n' "$work/pg" >> "$work/bench.conf"
fi

# start_server [WRAPPER...]: starts a server on the benchmark database and sets
# server_pid and address.
start_server () {
  : > "$work/server.out"
  "$@" "$server_bin" --listen 127.0.0.1:0 --database "$work/bench.db" --config "$work/bench.conf" \
    > "$work/server.out" 2>> "$work/server.log" &
  server_pid=$!
  for _ in $(seq 300); do
    address=$(sed -n 's/^listening on \(.*\)$/\1/p' "$work/server.out" | head -n1)
    [ -n "$address" ] && return 0
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "voip-server did not start:" >&2; cat "$work/server.log" >&2; exit 1
    fi
    sleep 0.1
  done
  echo "voip-server did not print its address within 30 s" >&2
  exit 1
}

stop_server () {
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

raise_limit () { ulimit -n "$(ulimit -Hn)"; }
raise_limit

echo "voip benchmark: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "server: $server_bin ($(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')), store: ${STORE:-sqlite}"

# Enough accounts for the sessions measure (one account per session) and for the pairs.
prepare_pairs=$(( CLIENTS / 2 > PAIRS ? CLIENTS / 2 : PAIRS ))
start_server
"$bench_bin" prepare --server "$address" --pairs "$prepare_pairs" --procs 2 \
  --accounts "$work/accounts.txt"
stop_server

status=0
for measure in $MEASURES; do
  case $measure in
    sessions)
      start_server
      "$bench_bin" sessions --server "$address" --server-pid "$server_pid" \
        --accounts "$work/accounts.txt" --clients "$CLIENTS" --procs "$SESSION_PROCS" --hold "$HOLD" || status=1
      stop_server
      ;;
    throughput)
      case $PROFILE in
        callgrind) start_server valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" ;;
        *) start_server ;;
      esac
      if [ "$PROFILE" = perf ]; then
        perf record -e cpu-clock -F 999 -g -o "$work/perf.data" -p "$server_pid" -- sleep $(( DURATION + 3 )) \
          > "$work/perf.log" 2>&1 &
        perf_pid=$!
      fi
      "$bench_bin" throughput --server "$address" --server-pid "$server_pid" \
        --accounts "$work/accounts.txt" --pairs "$PAIRS" --procs "$PROCS" \
        --duration "$DURATION" --window "$WINDOW" || status=1
      if [ "$PROFILE" = perf ]; then
        wait "$perf_pid" || true
        perf report -i "$work/perf.data" --stdio --no-children --percent-limit 1 \
          > "$work/perf.txt" 2>/dev/null || true
        echo "  perf profile: $work/perf.txt"
      fi
      stop_server
      if [ "$PROFILE" = callgrind ]; then
        callgrind_annotate "$work/callgrind.out" > "$work/callgrind.txt" 2>/dev/null || true
        echo "  callgrind profile: $work/callgrind.txt"
      fi
      ;;
    latency)
      for rate in $RATE; do
        start_server
        "$bench_bin" latency --server "$address" --server-pid "$server_pid" \
          --accounts "$work/accounts.txt" --pairs "$PAIRS" --procs "$PROCS" \
          --duration "$DURATION" --rate "$rate" || status=1
        stop_server
      done
      ;;
    *)
      echo "unknown measure $measure" >&2
      status=2
      ;;
  esac
done

if grep -qi 'critical\|error' "$work/server.log"; then
  echo; echo "server log (errors):"; grep -i 'critical\|error' "$work/server.log" | head -n 20
fi
exit $status
