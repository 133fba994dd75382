#!/bin/bash
# run-all.sh — builds voip and runs every test suite, four ways:
#
#   1. build-ci:    -Dbuildtype=debugoptimized --werror; every suite
#   2. build-asan:  the same with AddressSanitizer + UndefinedBehaviorSanitizer
#                   (and LeakSanitizer); every suite again
#   3. valgrind:    the unit suite of build-ci under memcheck, leaks included
#   4. build-fuzz:  clang with libFuzzer and the sanitizers; each target of
#                   tests/fuzz for about a minute (the fuzz suite)
#
# Installs missing Debian packages first (.ci/ensure-packages). Every run is
# attempted even if an earlier one failed; the last line sums meson's test
# logs over all runs: "N passed, N failed, N skipped", counting each case of
# a GTest program (they speak TAP) and each other test as one. Exit status 0
# only if nothing failed; under CI=true (.ci/run) a skip is a failure too,
# since CI has every package and root, so nothing has a reason to skip.
# Extra arguments go to every `meson test` (e.g. --suite unit).
#
# What a test starts is checked too (tests/support/test-process.h): a
# sanitizer report, a GLib critical, a crash or an unclean exit after
# SIGTERM in any child fails the test.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [ -z "${VOIP_DEPS_INSTALLED:-}" ]; then
  .ci/ensure-packages || exit 1
fi

# GLib: no slice allocator and no leftover pointers, so that leak checkers see
# real leaks only; and a critical anywhere is a crash, not a line in a log
# (the harness adds fatal-criticals to its children's G_DEBUG in any case).
export G_SLICE=always-malloc G_DEBUG=gc-friendly,fatal-criticals
export MALLOC_CHECK_=3 MALLOC_PERTURB_=$((RANDOM % 255 + 1))

logs=()      # "label:path to testlog.json"
broken=()    # runs that could not even build

section () { printf '\n==== %s ====\n' "$*"; }

# setup DIR MESON-OPTIONS...: configures (or reconfigures) and builds.
setup () {
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null || meson setup --wipe "$dir" "$@"
  else
    meson setup "$dir" "$@"
  fi && meson compile -C "$dir"
}

# run LABEL DIR LOGBASE MESON-TEST-ARGS...
run () {
  local label=$1 dir=$2 logbase=$3 log; shift 3
  rm -f "$dir/meson-logs/$logbase"*.json
  meson test -C "$dir" --print-errorlogs --logbase "$logbase" "$@"
  # With --wrapper, meson appends the wrapper's name to the log's base name.
  log=$(ls -t "$dir/meson-logs/$logbase"*.json 2>/dev/null | head -n1)
  logs+=("$label:$root/${log:-$dir/meson-logs/$logbase.json}")
}

section "1/3 build-ci: debugoptimized, --werror"
if setup build-ci --werror -Dbuildtype=debugoptimized; then
  run plain build-ci testlog-plain "$@"
else
  broken+=("build-ci")
fi

section "2/3 build-asan: address and undefined-behaviour sanitizers"
if setup build-asan --werror -Dbuildtype=debugoptimized \
     -Db_sanitize=address,undefined -Db_lundef=false; then
  ASAN_OPTIONS="detect_leaks=1:fast_unwind_on_malloc=0:abort_on_error=1:detect_stack_use_after_return=1" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  LSAN_OPTIONS="suppressions=$root/.ci/lsan.supp:print_suppressions=0" \
    run asan build-asan testlog-asan --timeout-multiplier 3 "$@"
else
  broken+=("build-asan")
fi

section "3/3 valgrind memcheck over the unit suite"
if [[ " ${broken[*]-} " != *" build-ci "* ]]; then
  supp=/usr/share/glib-2.0/valgrind/glib.supp
  run valgrind build-ci testlog-valgrind --suite unit --timeout-multiplier 10 \
    --wrapper "valgrind --quiet --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --track-origins=yes --error-exitcode=66 --suppressions=$supp --suppressions=$root/.ci/valgrind.supp" \
    "$@"
else
  broken+=("valgrind (no build-ci)")
fi

# ---- fuzz: the libFuzzer targets of tests/fuzz (README.md there) -------------
# Built by clang with the sanitizers, each target fuzzes for about a minute
# from its seed corpus; a crash, a leak, a timeout, a memory blow-up or a
# critical fails its test. Only the fuzz suite runs here, whatever the
# extra arguments (they choose the suites of the runs above).
section "fuzz: libFuzzer targets (clang), about a minute each"
if CC=clang setup build-fuzz --werror -Dfuzzing=true -Dbuildtype=debugoptimized \
     -Db_sanitize=address,undefined -Db_lundef=false; then
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  LSAN_OPTIONS="suppressions=$root/.ci/lsan.supp:print_suppressions=0" \
    run fuzz build-fuzz testlog-fuzz --suite fuzz
else
  broken+=("build-fuzz")
fi

section "summary"
CI=${CI:-} python3 - "${#broken[@]}" "${logs[@]}" <<'PY'
import json, os, re, sys

# A GTest program's cases, from its TAP output (meson keeps it in the log).
CASE = re.compile(r"^(not )?ok\s+\d+\s*-?\s*([^#]*?)\s*(?:#\s*(SKIP|TODO)\b(.*))?$",
                  re.IGNORECASE)

ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
broken = int(sys.argv[1])
passed = failed = skipped = 0
for entry in sys.argv[2:]:
    label, path = entry.split(":", 1)
    p = f = s = 0
    if not os.path.exists(path):
        print(f"{label:>9}: no test log ({path})")
        failed += 1
        continue
    with open(path) as log:
        for line in log:
            line = line.strip()
            if not line:
                continue
            test = json.loads(line)
            name, result = test.get("name"), test.get("result")
            cases = [m for m in map(CASE.match, (test.get("stdout") or "").splitlines()) if m]
            bad = result not in ("OK", "EXPECTEDFAIL", "SKIP")
            if not cases:        # not TAP: the test is one case
                if result == "SKIP":
                    s += 1
                    print(f"{label:>9}: SKIP: {name}")
                elif bad:        # FAIL, ERROR, TIMEOUT, UNEXPECTEDPASS, INTERRUPT
                    f += 1
                    print(f"{label:>9}: {result}: {name}")
                else:
                    p += 1
                continue
            case_failed = False
            for m in cases:
                case = f"{name} {m.group(2)}".strip()
                if m.group(3):   # SKIP, or TODO (g_test_incomplete)
                    s += 1
                    print(f"{label:>9}: {m.group(3).upper()}: {case}{m.group(4).rstrip()}")
                elif m.group(1):
                    f += 1
                    case_failed = True
                    print(f"{label:>9}: FAIL: {case}")
                else:
                    p += 1
            if bad and not case_failed:
                # Died between cases, or failed where TAP shows no case
                # (a crash, a timeout, a non-zero exit).
                f += 1
                print(f"{label:>9}: {result}: {name}")
    print(f"{label:>9}: {p} passed, {f} failed, {s} skipped")
    passed, failed, skipped = passed + p, failed + f, skipped + s
if broken:
    print(f"{broken} run(s) did not build")
    failed += broken
print(f"{passed} passed, {failed} failed, {skipped} skipped")
if ci and skipped:
    print(f"CI: {skipped} skipped test(s) count as failed: CI has every package and root")
sys.exit(1 if failed or (ci and skipped) else 0)
PY
