#!/bin/bash
# media-latency-bench.sh — mouth → ear into a real-time sink (docs/BENCHMARKS.md,
# "Calls: mouth → ear into a real-time sink"): runs the media suite's
# /media/latency RUNS times (two calls of the engine in one process, host
# candidates on loopback, ICE and SRTP; the callee plays into `udpsink
# sync=true`, which renders each buffer at its time on the pipeline clock as
# an audio device would, without a device's own buffer) and prints the p50,
# p99 and max of unmute → first loud sample at the callee's sink.
#
# Environment (defaults): BUILD=build-bench (its test-media and tone-analyze),
# MODULE=$BUILD/daemon/media/voipd-media.so (another build's engine, to
# compare), RUNS=20.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build-bench}
module=${MODULE:-$build/daemon/media/voipd-media.so}
runs=${RUNS:-20}
[ -x "$build/tests/calls/test-media" ] || { echo "no $build/tests/calls/test-media (meson compile -C $build)" >&2; exit 1; }
dir=$(mktemp -d /tmp/media-latency-bench-XXXXXX)
trap 'rm -rf "$dir"' EXIT

for i in $(seq "$runs"); do
  VOIPD_MEDIA_MODULE=$module TONE_ANALYZE=$build/tests/support/tone-analyze \
    TEST_MEDIA_LATENCY_FILE=$dir/run$i "$build/tests/calls/test-media" -p /media/latency \
    >"$dir/log$i" 2>&1 || { echo "run $i failed:" >&2; tail -5 "$dir/log$i" >&2; exit 1; }
done
cat "$dir"/run* | sort -n | awk -v m="$module" '
  { v[NR] = $1 }
  END { p50 = v[int((NR + 1) / 2)]; i99 = int(NR * 0.99 + 0.999); if (i99 > NR) i99 = NR
        printf "mouth → ear (unmute → real-time sink), %d runs, %s: p50 %.1f ms, p99 %.1f ms, max %.1f ms, min %.1f ms\n",
               NR, m, p50, v[i99], v[NR], v[1] }'
