#!/bin/bash
# cluster-bench.sh — the cluster numbers of docs/BENCHMARKS.md (issue 11).
#
# Starts a private PostgreSQL (on disk, fsync on, as run-bench.sh's
# STORE=postgresql), one nats-server and voip-server nodes on loopback, then:
#
#   throughput  for each count in NODES: that many nodes on the one database,
#               PAIRS pairs with the receiver on the node after the sender's
#               (every message crosses nodes when there are several), pipelined
#               SendText; durable messages/s (acknowledged after COMMIT)
#   sessions    SESSION_NODES nodes holding SESSIONS sessions over ACCOUNTS
#               accounts (several sessions per account, as several devices),
#               the load spread over SESSION_PROCS processes; RSS per session
#               summed over the nodes
#   failover    FAILOVER_NODES nodes holding CLIENTS sessions spread over them;
#               the last node is killed with SIGKILL and its sessions resume on
#               the next node at once; time from the drop to logged in again
#
# The single SQLite node for reference: MEASURES=throughput tests/bench/run-bench.sh.
#
# Environment (defaults): NODES="1 2 3" PAIRS=500 PROCS=2 DURATION=10 WINDOW=16
# CLIENTS=3000 FAILOVER_NODES=3 SESSION_NODES=6 SESSIONS=100000 SESSION_PROCS=6
# HOLD=5 MEASURES="throughput failover" (sessions too: "throughput failover
# sessions"; each process is held under its open-file limit) KEEP=1 (keep
# the temporary directory) BUILD (default build-bench).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build-bench}
NODES=${NODES:-1 2 3}
PAIRS=${PAIRS:-500}
PROCS=${PROCS:-2}
DURATION=${DURATION:-10}
WINDOW=${WINDOW:-16}
CLIENTS=${CLIENTS:-3000}
FAILOVER_NODES=${FAILOVER_NODES:-3}
SESSION_NODES=${SESSION_NODES:-6}
SESSIONS=${SESSIONS:-100000}
SESSION_PROCS=${SESSION_PROCS:-6}
HOLD=${HOLD:-5}
MEASURES=${MEASURES:-throughput failover}
NATS_SERVER=${NATS_SERVER:-/usr/sbin/nats-server}

# Without PostgreSQL or NATS there is nothing to measure (77: skipped, for meson).
if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || [ ! -x "$NATS_SERVER" ]; then
  echo "cluster-bench: needs PostgreSQL (postgresql) and $NATS_SERVER (nats-server)" >&2
  exit 77
fi

if [ ! -x "$build/server/voip-server" ] || [ ! -x "$build/tests/bench/voip-bench" ]; then
  [ -f "$build/build.ninja" ] || meson setup "$build" "$root" -Dbuildtype=debugoptimized >/dev/null
  meson compile -C "$build" voip-server voip-bench >/dev/null
fi
server_bin=$build/server/voip-server
bench_bin=$build/tests/bench/voip-bench

work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/voip-cluster-bench.XXXXXX")
node_pids=()
nats_pid=
pg_bin=
pg_as_owner () { if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }
cleanup () {
  for pid in "${node_pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  if [ -n "$nats_pid" ]; then kill -TERM "$nats_pid" 2>/dev/null || true; fi
  if [ -n "$pg_bin" ]; then pg_as_owner "$pg_bin/pg_ctl" stop -D "$work/pg/data" -m fast -w >/dev/null || true; fi
  if [ -z "${KEEP:-}" ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT

# PostgreSQL on $work's disk, durable (fsync and synchronous_commit on).
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
mkdir "$work/pg"
if [ "$(id -u)" = 0 ]; then chmod 711 "$work"; chown nobody "$work/pg"; fi
pg_as_owner "$pg_bin/initdb" -D "$work/pg/data" -U voip --auth=trust -E UTF8 --locale=C.UTF-8 \
  > "$work/pg/initdb.log"
pg_as_owner "$pg_bin/pg_ctl" start -D "$work/pg/data" -l "$work/pg/server.log" -w \
  -o "-c listen_addresses='' -c unix_socket_directories='$work/pg'" > /dev/null
pg_as_owner "$pg_bin/psql" -h "$work/pg" -U voip -d postgres -qXc "CREATE DATABASE bench"

nats_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$NATS_SERVER" -a 127.0.0.1 -p "$nats_port" > "$work/nats.log" 2>&1 &
nats_pid=$!
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$nats_port") 2>/dev/null && break
  sleep 0.1
done

# As run-bench.sh: cheap hashes, login limits out of the way, long timeouts.
cat > "$work/bench.conf" <<CONF
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

[store]
url=postgresql:///bench?host=$work/pg&user=voip

[cluster]
nats=nats://127.0.0.1:$nats_port
CONF

# start_nodes N: N nodes; sets node_pids and addresses (comma-separated).
start_nodes () {
  node_pids=()
  local list=()
  for i in $(seq 0 $(( $1 - 1 ))); do
    sed "s/^nats=.*/&\nnode=node$i/" "$work/bench.conf" > "$work/node$i.conf"
    : > "$work/node$i.out"
    "$server_bin" --listen 127.0.0.1:0 --config "$work/node$i.conf" \
      > "$work/node$i.out" 2>> "$work/node$i.log" &
    node_pids+=($!)
  done
  for i in $(seq 0 $(( $1 - 1 ))); do
    local address=
    for _ in $(seq 300); do
      address=$(sed -n 's/^listening on \(.*\)$/\1/p' "$work/node$i.out" | head -n1)
      [ -n "$address" ] && break
      sleep 0.1
    done
    [ -n "$address" ] || { echo "node$i did not start:" >&2; cat "$work/node$i.log" >&2; exit 1; }
    list+=("$address")
  done
  addresses=$(IFS=,; echo "${list[*]}")
}

stop_nodes () {
  for pid in "${node_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${node_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  node_pids=()
}

ulimit -n "$(ulimit -Hn)"
echo "voip cluster benchmark: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "server: $server_bin ($(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')), store: postgresql, nats-server $("$NATS_SERVER" --version 2>&1 | head -n1)"

accounts=$(( CLIENTS > PAIRS * 2 ? CLIENTS : PAIRS * 2 ))
start_nodes 1
"$bench_bin" prepare --server "$addresses" --pairs $(( (accounts + 1) / 2 )) --procs 2 \
  --accounts "$work/accounts.txt"
stop_nodes

status=0
for measure in $MEASURES; do
  case $measure in
    throughput)
      for n in $NODES; do
        start_nodes "$n"
        echo; echo "== $n node(s) on PostgreSQL"
        "$bench_bin" throughput --server "$addresses" --accounts "$work/accounts.txt" \
          --pairs "$PAIRS" --procs "$PROCS" --duration "$DURATION" --window "$WINDOW" || status=1
        stop_nodes
      done
      ;;
    sessions)
      start_nodes "$SESSION_NODES"
      echo; echo "== $SESSIONS sessions over $SESSION_NODES nodes"
      pids=$(IFS=,; echo "${node_pids[*]}")
      "$bench_bin" sessions --server "$addresses" --server-pids "$pids" \
        --accounts "$work/accounts.txt" --clients "$SESSIONS" --procs "$SESSION_PROCS" \
        --hold "$HOLD" --timeout 300 || status=1
      for i in "${!node_pids[@]}"; do
        echo "  node$i RSS: $(awk '/VmRSS/ {print $2, $3}' "/proc/${node_pids[$i]}/status")"
      done
      stop_nodes
      ;;
    failover)
      start_nodes "$FAILOVER_NODES"
      echo; echo "== failover: $CLIENTS sessions over $FAILOVER_NODES nodes, the last one killed"
      coproc BENCH { "$bench_bin" failover --server "$addresses" --accounts "$work/accounts.txt" \
                       --clients "$CLIENTS" --procs "$PROCS" --timeout 60; }
      bench_pid=$BENCH_PID
      while read -r line <&"${BENCH[0]}"; do
        echo "$line"
        case $line in ready:*) break ;; esac
      done
      victim=$(( FAILOVER_NODES - 1 ))
      kill -KILL "${node_pids[$victim]}"
      wait "${node_pids[$victim]}" 2>/dev/null || true
      cat <&"${BENCH[0]}" || true
      wait "$bench_pid" || status=1
      unset "node_pids[$victim]"
      stop_nodes
      ;;
    *)
      echo "unknown measure $measure" >&2
      status=2
      ;;
  esac
done

for log in "$work"/node*.log; do
  if grep -qi 'critical\|error' "$log"; then
    echo; echo "$(basename "$log") (errors):"; grep -i 'critical\|error' "$log" | head -n 10
  fi
done
exit $status
