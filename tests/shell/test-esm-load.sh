#!/bin/bash
# Runs test-esm-load.js (the ES-module build in plain gjs, the Shell's own
# modules stood in for by esm-shims/) with the St and Clutter typelibs of the
# installed GNOME Shell and mutter on the path: the shims' classes derive from
# St as the Shell's do. Exit 77 (skipped) without gjs or GNOME Shell's St.
# Usage: test-esm-load.sh ESM_BUILD_DIR SHIMS_GRESOURCE
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v gjs >/dev/null || { echo "1..0 # SKIP gjs is not installed (Debian: apt-get install gjs)"; exit 77; }
st=$(find /usr/lib /usr/lib64 -name 'St-*.typelib' -path '*gnome-shell*' 2>/dev/null | head -n1)
clutter=$(find /usr/lib /usr/lib64 -name 'Clutter-*.typelib' -path '*mutter*' 2>/dev/null | head -n1)
[ -n "$st" ] && [ -n "$clutter" ] || { echo "1..0 # SKIP GNOME Shell's St or mutter's Clutter typelib is missing"; exit 77; }
dirs="$(dirname "$st"):$(dirname "$clutter")"
export GI_TYPELIB_PATH="$dirs${GI_TYPELIB_PATH:+:$GI_TYPELIB_PATH}"
export LD_LIBRARY_PATH="$dirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec gjs -m "$here/test-esm-load.js" "$@"
