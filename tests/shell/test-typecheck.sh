#!/bin/bash
# test-typecheck.sh ESM_BUILD_DIR SHELL_DEPS_D_TS WORK_DIR — the static checks of
# the applet's ES-module build (typecheck/README.md): tsc --checkJs against
# @girs/gnome-shell, then eslint with GNOME Shell's rules. The tools are
# installed with npm ci from typecheck/package-lock.json into WORK_DIR once.
# TAP; exit 77 (skipped) without node and npm.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
esm=$1 deps=$2 work=$3
command -v node >/dev/null && command -v npm >/dev/null \
  || { echo "1..0 # SKIP node and npm are not installed (Debian: apt-get install nodejs npm)"; exit 77; }

mkdir -p "$work"
cp "$here/typecheck/package.json" "$here/typecheck/package-lock.json" "$here/typecheck/tsconfig.json" "$work/"
cp "$here/typecheck/eslintrc.yml" "$work/.eslintrc.yml"
rm -rf "$work/lint" && cp -r "$here/typecheck/lint" "$work/lint"
# npm ci again only when the lock file changed
if ! cmp -s "$work/package-lock.json" "$work/node_modules/.voip-lock" 2>/dev/null; then
  (cd "$work" && npm ci --no-audit --no-fund --loglevel=error >"$work/npm.log" 2>&1) \
    || { echo "Bail out! npm ci failed: $(tail -5 "$work/npm.log")"; exit 1; }
  cp "$work/package-lock.json" "$work/node_modules/.voip-lock"
fi
rm -rf "$work/esm" && mkdir "$work/esm"
cp "$esm"/*.js "$deps" "$work/esm/"
echo '{"type": "module"}' >"$work/esm/package.json"

echo "1..2"
status=0
cd "$work"
if out=$(npx --no-install tsc -p tsconfig.json 2>&1); then
  echo "ok 1 - tsc --checkJs of the ES-module build against @girs/gnome-shell"
else
  status=1; echo "not ok 1 - tsc --checkJs of the ES-module build against @girs/gnome-shell"
  sed 's/^/# /' <<<"$out"
fi
if out=$(ESLINT_USE_FLAT_CONFIG=false npx --no-install eslint --max-warnings 0 esm/ 2>&1); then
  echo "ok 2 - eslint with GNOME Shell's rules"
else
  status=1; echo "not ok 2 - eslint with GNOME Shell's rules"
  sed 's/^/# /' <<<"$out"
fi
exit $status
