#!/bin/bash
# baresip-bench.sh — the baseline of docs/BENCHMARKS.md ("Calls: baresip in the
# same run"): CPU (% of one core) and RSS per side of a 1:1 Opus call between
# two baresip 1.0 (Debian `baresip`) on loopback, measured the way
# call-bench measures voipd: user + system time from /proc/PID/stat over
# SECONDS_PER seconds of an established call. Not in CI.
#
# The call matches voipd's defaults where baresip has the knob: Opus 48 kHz
# mono, 20 ms, 32 kbit/s; the source is a 440 Hz tone from a WAV file
# (aufile), no playback device (baresip decodes on receive). No SRTP, no
# ICE: baresip's cheapest call, the issue's comparison. The RTP goes to the
# machine's own eth0 address (net_interface lo fails: lo has no IPv6), which
# the kernel delivers locally like loopback.
#
# Environment (defaults): SECONDS_PER=20, RUNS=3.
set -euo pipefail

command -v baresip >/dev/null || { echo "baresip is not installed (apt-get install baresip)" >&2; exit 1; }
seconds=${SECONDS_PER:-20}
runs=${RUNS:-3}
dir=$(mktemp -d /tmp/baresip-bench-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

# A minute of tone, more than a run lasts.
gst-launch-1.0 -q audiotestsrc freq=440 volume=0.5 samplesperbuffer=960 \
  num-buffers=$(( (seconds + 30) * 50 )) ! audio/x-raw,format=S16LE,rate=48000,channels=1 \
  ! wavenc ! filesink location="$dir/tone.wav"

# $1 name, $2 SIP port (baresip also takes port+1 and +2 for TCP and TLS)
configure() {
  mkdir -p "$dir/$1"
  cat >"$dir/$1/config" <<CONF
poll_method epoll
sip_listen 127.0.0.1:$2
audio_source aufile,$dir/tone.wav
audio_alert aufile,/dev/null
ausrc_srate 48000
auplay_srate 48000
ausrc_channels 1
auplay_channels 1
jitter_buffer_type fixed
jitter_buffer_delay 5-10
module_path /usr/lib/baresip/modules
module stdio.so
module opus.so
module aufile.so
module account.so
module menu.so
opus_bitrate 32000
opus_stereo no
opus_sprop_stereo no
CONF
  echo "<sip:$1@127.0.0.1:$2>;regint=0;answermode=auto" >"$dir/$1/accounts"
}

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

echo "baresip-bench on $(nproc) cores, $(uname -r), $(baresip -h 2>&1 | head -1 || true); SECONDS_PER=$seconds RUNS=$runs"
for run in $(seq "$runs"); do
  base=$(( 26000 + run * 10 ))
  configure callee $((base + 5))
  configure caller "$base"
  baresip -f "$dir/callee" >"$dir/callee.log" 2>&1 </dev/null &
  callee=$!
  pids+=("$callee")
  for _ in $(seq 100); do grep -q "baresip is ready" "$dir/callee.log" 2>/dev/null && break; sleep 0.1; done
  baresip -f "$dir/caller" -e "/dial sip:callee@127.0.0.1:$((base + 5))" \
    >"$dir/caller.log" 2>&1 </dev/null &
  caller=$!
  pids+=("$caller")
  for _ in $(seq 100); do grep -q "Call established" "$dir/callee.log" 2>/dev/null && break; sleep 0.1; done
  grep -q "Call established" "$dir/callee.log" || { echo "run $run: no call"; tail "$dir/callee.log"; exit 1; }
  sleep 2   # past the call set-up, as call-bench
  c0=$(cpu_ticks "$caller"); e0=$(cpu_ticks "$callee")
  sleep "$seconds"
  c1=$(cpu_ticks "$caller"); e1=$(cpu_ticks "$callee")
  printf 'run %d: caller %.1f%% of a core, RSS %.1f MB, %d threads; callee %.1f%%, RSS %.1f MB, %d threads\n' \
    "$run" "$(echo "100 * ($c1 - $c0) / $ticks / $seconds" | bc -l)" "$(echo "$(rss_kb "$caller") / 1024" | bc -l)" \
    "$(ls /proc/"$caller"/task | wc -l)" \
    "$(echo "100 * ($e1 - $e0) / $ticks / $seconds" | bc -l)" "$(echo "$(rss_kb "$callee") / 1024" | bc -l)" \
    "$(ls /proc/"$callee"/task | wc -l)"
  kill "$caller" "$callee"
  wait "$caller" "$callee" 2>/dev/null || true
  pids=()
done
