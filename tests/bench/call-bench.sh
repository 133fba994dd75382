#!/bin/bash
# call-bench.sh — the call measures of docs/BENCHMARKS.md ("Calls"): a real
# voip-server on loopback and one voipd per simulated desktop user (private
# bus, unlocked keyring), calling each other with test tones and click trains
# whose decoded audio call-bench reads from FIFO sinks. See call-bench.c.
#
# Builds in build-bench/ (debugoptimized) unless BUILD is set. Environment
# (defaults): ROUNDS=10 calls for answer → audio, SECONDS_PER=20 seconds per CPU and mesh
# measure, MESH=8 users in the group call (0: skip it), NAT=1 to measure the
# 1:1 call again across two cone NATs in network namespaces (needs root;
# tests/calls/nat-topology.sh). VOIPD_MEDIA_DTX=0 (passed to the daemons)
# turns Opus DTX off: Opus's voice activity detector takes the steady test
# tones for background noise, so with DTX on the CPU figures are those of a
# silent call (a comfort-noise frame every 400 ms), with it off those of
# continuous speech.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build-bench}
# A given BUILD (the meson test) is used as it is; otherwise bring build-bench up to date.
if [ -z "${BUILD:-}" ] || [ ! -x "$build/tests/bench/call-bench" ]; then
  [ -f "$build/build.ninja" ] || meson setup "$build" "$root" -Dbuildtype=debugoptimized >/dev/null
  meson compile -C "$build" >/dev/null
fi

export VOIP_SERVER=$build/server/voip-server
export VOIPD=$build/daemon/voipd
export VOIPCTL=$build/frontends/cli/voipctl
export VOIPD_MEDIA_MODULE=$build/daemon/media/voipd-media.so
export GSETTINGS_SCHEMA_DIR=$build/data

echo "call-bench on $(nproc) cores, $(uname -r); ROUNDS=${ROUNDS:-10} SECONDS_PER=${SECONDS_PER:-20} MESH=${MESH:-8}"
"$build/tests/bench/call-bench" "${ROUNDS:-10}" "${SECONDS_PER:-20}" "${MESH:-8}"
[ "${NAT:-}" = 1 ] || exit 0

[ "$(id -u)" = 0 ] || { echo "NAT=1 needs root (network namespaces)" >&2; exit 1; }
topology=$root/tests/calls/nat-topology.sh
prefix=vcb$$
trap '"$topology" down "$prefix" >/dev/null' EXIT
"$topology" up "$prefix" cone >/dev/null
NAT_PREFIX=$prefix "$build/tests/bench/call-bench" "${ROUNDS:-10}" "${SECONDS_PER:-20}" 0
