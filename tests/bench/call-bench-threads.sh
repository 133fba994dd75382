#!/bin/bash
# call-bench-threads.sh PID [SECONDS] — what each thread of a running voipd
# (or any process) costs over SECONDS (default 10): % of a core (user +
# system, /proc/PID/task/TID/stat) and context switches per second
# (voluntary + involuntary, /proc/PID/task/TID/status). For a call in
# progress, e.g. during tests/bench/call-bench.sh; docs/BENCHMARKS.md. pidstat
# -wt gives the same, when sysstat is installed.
set -euo pipefail

pid=${1:?usage: call-bench-threads.sh PID [SECONDS]}
secs=${2:-10}
[ -d "/proc/$pid" ] || { echo "no process $pid" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

snap() {
  for t in /proc/"$pid"/task/*; do
    printf '%s %s %s %s\n' "${t##*/}" "$(tr ' ' '_' <"$t/comm")" \
      "$(awk '{ print $14 + $15 }' "$t/stat")" \
      "$(awk '/ctxt_switches/ { s += $2 } END { print s }' "$t/status")"
  done 2>/dev/null | sort
}

snap >"$dir/before"
sleep "$secs"
snap >"$dir/after"
join "$dir/before" "$dir/after" | awk -v s="$secs" -v hz="$(getconf CLK_TCK)" '
  { cpu = ($6 - $3) * 100 / hz / s; cs = ($7 - $4) / s; total += cpu; switches += cs
    if (cpu > 0.05 || cs > 1) printf "%-16s %5.1f%%  %6.0f cs/s\n", $2, cpu, cs }
  END { printf "%-16s %5.1f%%  %6.0f cs/s\n", "total", total, switches }'
