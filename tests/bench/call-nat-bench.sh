#!/bin/bash
# call-nat-bench.sh — how long calls take to find their media path across NATs
# (a skeleton; call-bench.sh measures calls on loopback; these numbers are
# not in docs/BENCHMARKS.md yet).
#
#   add_peer → connected   per scenario of tests/calls/test-calls-nat.c (cone:
#                          srflx, symmetric-turn: relay, udp-blocked: server
#                          relay, cone-loss: srflx under 10 % loss), measured
#                          by the media engine itself (its debug line "Peer P:
#                          connected via PATH N ms after add_peer", both sides
#                          of each call); RUNS calls each; p50 and max
#
# Each run is one full NAT test (namespaces, server, coturn, two voipd), so it
# needs root, like the tests. Builds in build-bench/ unless BUILD is set.
# Environment (defaults): RUNS=5 SCENARIOS="cone symmetric-turn udp-blocked cone-loss".
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build-bench}
RUNS=${RUNS:-5}
SCENARIOS=${SCENARIOS:-cone symmetric-turn udp-blocked cone-loss}

[ "$(id -u)" = 0 ] || { echo "call-nat-bench.sh needs root (network namespaces)" >&2; exit 77; }
if [ ! -x "$build/tests/calls/test-calls-nat" ]; then
  [ -f "$build/build.ninja" ] || meson setup "$build" "$root" -Dbuildtype=debugoptimized >/dev/null
  meson compile -C "$build" >/dev/null
fi

work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/call-nat-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

export VOIP_SERVER=$build/server/voip-server
export VOIPD=$build/daemon/voipd
export VOIPCTL=$build/frontends/cli/voipctl
export GSETTINGS_SCHEMA_DIR=$build/data
export TONE_ANALYZE=$build/tests/support/tone-analyze
export NAT_TOPOLOGY=$root/tests/calls/nat-topology.sh
export G_MESSAGES_DEBUG=voipd-media

# p50 and max of the numbers on stdin, one a line
summary() { sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%6.0f %6.0f %3d", v[int((NR + 1) / 2)], v[NR], NR; else printf "     -      -   0" }'; }

printf "%-16s %-13s %6s %6s %3s  (ms from add_peer to connected)\n" scenario path p50 max n
for scenario in $SCENARIOS; do
  : > "$work/$scenario.ms"
  for run in $(seq "$RUNS"); do
    log=$work/$scenario.$run.log
    if ! "$build/tests/calls/test-calls-nat" -p "/calls/nat/$scenario" > "$log" 2>&1; then
      echo "$scenario run $run failed; its log: $log" >&2
      trap - EXIT
      continue
    fi
    sed -n 's/.*\[voipd [a-z]*\].*connected via \([a-z-]*\) \([0-9]*\) ms after add_peer.*/\1 \2/p' \
      "$log" >> "$work/$scenario.ms"
  done
  for path in $(cut -d' ' -f1 "$work/$scenario.ms" | sort -u); do
    printf "%-16s %-13s %s\n" "$scenario" "$path" \
      "$(awk -v p="$path" '$1 == p { print $2 }' "$work/$scenario.ms" | summary)"
  done
done
