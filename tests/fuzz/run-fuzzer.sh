#!/bin/sh
# run-fuzzer.sh FUZZER SEEDS WORKDIR LIBFUZZER-ARGS...
#
# What the fuzz suite runs for each target: the fuzzer over its seed corpus
# in the tree (read only) and a corpus of its own discoveries in the build
# directory (WORKDIR/corpus, kept from run to run so that coverage grows).
# A crash, a timeout or running out of memory leaves the input in
# WORKDIR/artifacts and fails the test (libFuzzer exits non-zero).
set -eu
fuzzer=$1 seeds=$2 work=$3
shift 3
mkdir -p "$work/corpus" "$work/artifacts"
exec "$fuzzer" -artifact_prefix="$work/artifacts/" "$@" "$work/corpus" "$seeds"
