#!/bin/bash
# call-bench.sh — the call measures of docs/BENCHMARKS.md ("Calls"): a real
# voip-server on loopback and one voipd per simulated desktop user (private
# bus, unlocked keyring), calling each other with test tones and click trains
# whose decoded audio call-bench reads from FIFO sinks. See call-bench.c.
#
# Builds in build-bench/ (debugoptimized) unless BUILD is set. Environment
# (defaults): ROUNDS=10 calls for answer → audio, SECONDS_PER=20 seconds per CPU and mesh
# measure, MESH=8 users in the group call (0: skip it).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build-bench}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$root" -Dbuildtype=debugoptimized >/dev/null
fi
meson compile -C "$build" >/dev/null

export VOIP_SERVER=$build/server/voip-server
export VOIPD=$build/daemon/voipd
export VOIPCTL=$build/frontends/cli/voipctl
export VOIPD_MEDIA_MODULE=$build/daemon/media/voipd-media.so
export GSETTINGS_SCHEMA_DIR=$build/data

echo "call-bench on $(nproc) cores, $(uname -r); ROUNDS=${ROUNDS:-10} SECONDS_PER=${SECONDS_PER:-20} MESH=${MESH:-8}"
exec "$build/tests/bench/call-bench" "${ROUNDS:-10}" "${SECONDS_PER:-20}" "${MESH:-8}"
