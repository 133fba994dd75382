#!/bin/sh
# test-i18n.sh — the gettext domain "voip" in French.
#
#  1. po/fr.po passes `msgfmt --check`, with nothing fuzzy or untranslated;
#  2. every msgid of a template made now from po/POTFILES (into a temporary
#     directory; the committed files are left alone) has a French msgstr, and
#     every source file with _() strings is listed in po/POTFILES;
#  3. the uninstalled voipctl speaks French: --help, usage errors, and
#     "voipd is not running" on a private session bus;
#  4. the uninstalled voipd too: its D-Bus errors and StateReason reach
#     voipctl in French, and so does an error of a real voip-server (the
#     wire carries the status code and English; voipd translates).
#
# How French is chosen: gettext takes the language from LANGUAGE (a list,
# fr:en), then LC_ALL, LC_MESSAGES and LANG. But in the "C" or "POSIX" locale
# it ignores LANGUAGE altogether: `LANGUAGE=fr voipctl` with LANG unset stays
# English, as every gettext program does. A French desktop has
# LANG=fr_FR.UTF-8 and needs nothing more; on a machine without that locale,
# LANG=C.UTF-8 LANGUAGE=fr is the way, and what this test uses (C.UTF-8
# always exists). The build tree's catalogues are build/po/fr/LC_MESSAGES/
# voip.mo; voipctl and voipd find them there when they run from the build
# tree (see locale_dir() in voipctl.c and voipd-main.c), and in LOCALEDIR
# once installed.
#
# Environment (tests/i18n/meson.build): SOURCE_ROOT, VOIPCTL, VOIPD, VOIP_SERVER,
# GSETTINGS_SCHEMA_DIR, XGETTEXT, MSGFMT, MSGMERGE.
set -u

# French typography in po/fr.po: a no-break space before ":" and inside
# « », a narrow no-break space before ";".
nbsp=$(printf '\302\240')
nnbsp=$(printf '\342\200\257')

fail () {
  echo "FAIL: $*" >&2
  exit 1
}

# "expect_in FILE TEXT": FILE contains TEXT, or the test fails showing FILE.
expect_in () {
  if ! grep -qF -- "$2" "$1"; then
    echo "--- $1:" >&2
    cat "$1" >&2
    fail "expected \"$2\""
  fi
}

french () {
  env -u LC_ALL -u LC_MESSAGES LANG=C.UTF-8 LANGUAGE=fr "$@"
}

# What fails a test in a program of ours besides its exit status: a sanitizer
# report or a GLib critical (tests/support/test-process.c has the same list).
reports='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|GLib-CRITICAL|CRITICAL \*\*'

# "check_clean FILE WHAT": WHAT's output in FILE holds no report.
check_clean () {
  if grep -qE -- "$reports" "$1"; then
    echo "--- $1:" >&2
    cat "$1" >&2
    fail "$2 printed a sanitizer report or a critical"
  fi
}

# A critical is a crash, in CI as here.
case ",${G_DEBUG:-}," in
  *,fatal-criticals,*|*,fatal-warnings,*|*,all,*) ;;
  *) G_DEBUG=${G_DEBUG:+$G_DEBUG,}fatal-criticals; export G_DEBUG ;;
esac

# ---- 4 (on the private bus that dbus-run-session made for it) -------------
if [ "${1:-}" = "--on-private-bus" ]; then
  tmp=$2
  out=$tmp/out
  err=$tmp/err

  # No voipd yet: voipctl's own message.
  "$VOIPCTL" status >"$out" 2>"$err" && fail "voipctl status succeeded without voipd"
  expect_in "$err" "voipd n’est pas lancé"

  # An unlocked login keyring, as a desktop session has. Without one,
  # gnome-keyring asks (a prompt that cannot show without a display), and
  # libsecret 0.20.5 leaks every prompt's result: secret_service_real_prompt_
  # finish() ref_sinks a variant that is not floating. No suppression can
  # name it (it is allocated in GDBus's worker thread), so the path that
  # prompts is left to test-daemon-resilience's no-keyring case, which has
  # no secret service at all.
  printf '%s' keyring-i18n | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 ||
    fail "gnome-keyring-daemon --unlock"

  # A voipd of a user who never logged in: offline, "not logged in".
  mkdir -p "$tmp/data" "$tmp/config" "$tmp/cache" "$tmp/runtime"
  chmod 700 "$tmp/runtime"
  XDG_DATA_HOME=$tmp/data XDG_CONFIG_HOME=$tmp/config XDG_CACHE_HOME=$tmp/cache \
    XDG_RUNTIME_DIR=$tmp/runtime GSETTINGS_BACKEND=memory "$VOIPD" 2>"$tmp/voipd.log" &
  voipd_pid=$!
  server_pid=
  trap 'kill $voipd_pid $server_pid 2>/dev/null; wait $voipd_pid $server_pid 2>/dev/null' EXIT
  i=0
  until "$VOIPCTL" status --json >"$out" 2>/dev/null && grep -q '"offline"' "$out"; do
    i=$((i + 1))
    [ $i -lt 100 ] || { cat "$tmp/voipd.log" >&2; fail "voipd did not come up"; }
    sleep 0.1
  done

  "$VOIPCTL" status >"$out" 2>"$err" || fail "voipctl status failed"
  expect_in "$out" "Raison${nbsp}:"       # voipctl's label
  expect_in "$out" "non connecté"         # voipd's StateReason
  "$VOIPCTL" logout >"$out" 2>"$err" && fail "voipctl logout succeeded while logged out"
  expect_in "$err" "voipctl: non connecté" # voipd's D-Bus error
  "$VOIPCTL" presence dormant >"$out" 2>"$err" && fail "voipctl presence dormant succeeded"
  expect_in "$err" "présence «${nbsp}dormant${nbsp}» non valide"
  check_clean "$err" "voipctl presence"

  # A server error: a real voip-server (English, in its log and on the wire)
  # refuses a friend request to a user who does not exist; voipctl shows it
  # in French. Its STUN responder on a free port, as in run-demo.sh.
  printf '[stun]\nport=0\n' >"$tmp/server.conf"
  env -u LANGUAGE LANG=C.UTF-8 "$VOIP_SERVER" --config "$tmp/server.conf" --listen 127.0.0.1:0 \
    --database "$tmp/server.db" >"$tmp/server.out" 2>"$tmp/server.log" &
  server_pid=$!
  address=
  i=0
  until address=$(sed -n 's/^listening on \(.*\)$/\1/p' "$tmp/server.out" | head -n1) &&
        [ -n "$address" ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || { cat "$tmp/server.log" >&2; fail "voip-server did not come up"; }
    sleep 0.1
  done
  echo "alice-password" | "$VOIPCTL" register --server "$address" alice --password-stdin \
    >"$out" 2>"$err" || { cat "$err" >&2; fail "voipctl register"; }
  "$VOIPCTL" contact add nobody >"$out" 2>"$err" && fail "voipctl contact add nobody succeeded"
  expect_in "$err" "Utilisateur inconnu, ou qui n’est pas votre ami"
  check_clean "$err" "voipctl contact add nobody"
  # The server's own log stays English.
  if grep -qi 'utilisateur\|ami' "$tmp/server.log"; then
    cat "$tmp/server.log" >&2
    fail "voip-server logged French"
  fi
  kill -TERM "$server_pid"
  wait "$server_pid" 2>/dev/null
  server_pid=

  # SIGTERM, as the session ends it: a clean exit, and nothing in its log
  # (under ASan, LeakSanitizer runs now).
  trap - EXIT
  kill -TERM "$voipd_pid"
  wait "$voipd_pid"
  status=$?
  check_clean "$tmp/voipd.log" voipd
  [ $status -eq 0 ] || { cat "$tmp/voipd.log" >&2; fail "voipd exited with status $status after SIGTERM"; }
  exit 0
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
po=$SOURCE_ROOT/po
out=$tmp/out
err=$tmp/err

# ---- 1. the committed catalogue ----------------------------------------------
"$MSGFMT" --check --statistics -o /dev/null "$po/fr.po" 2>"$err" ||
  { cat "$err" >&2; fail "msgfmt --check po/fr.po"; }
if grep -q 'fuzzy\|untranslated' "$err"; then
  cat "$err" >&2
  fail "po/fr.po has fuzzy or untranslated messages"
fi

# ---- 2. a template made now, and POTFILES -------------------------------------
# The same xgettext arguments as meson's i18n.gettext(preset: 'glib').
( cd "$SOURCE_ROOT" && "$XGETTEXT" --package-name=voip -f "$po/POTFILES" -D "$SOURCE_ROOT" \
    -o "$tmp/voip.pot" -k_ --from-code=UTF-8 --add-comments \
    --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
    --keyword=g_dcgettext:2 --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 \
    --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format --flag=NC_:2:pass-c-format \
    --flag=g_dngettext:2:pass-c-format --flag=g_strdup_printf:1:c-format \
    --flag=g_string_printf:2:c-format --flag=g_string_append_printf:2:c-format \
    --flag=g_error_new:3:c-format --flag=g_set_error:4:c-format \
    --flag=g_print:1:c-format --flag=g_printerr:1:c-format ) 2>"$err" ||
  { cat "$err" >&2; fail "xgettext"; }
"$MSGMERGE" --quiet --no-wrap --no-fuzzy-matching -o "$tmp/fr.po" "$po/fr.po" "$tmp/voip.pot" ||
  fail "msgmerge"
"$MSGFMT" --check --statistics -o /dev/null "$tmp/fr.po" 2>"$err" ||
  { cat "$err" >&2; fail "msgfmt --check on po/fr.po merged with a fresh template"; }
if grep -q 'fuzzy\|untranslated' "$err"; then
  cat "$err" >&2
  echo "--- untranslated (update-po, then translate them in po/fr.po):" >&2
  grep -B1 -E '^msgstr(\[0\])? ""$' "$tmp/fr.po" | grep -E '^msgid' | grep -vx 'msgid ""' >&2
  fail "po/fr.po does not translate every string of the sources"
fi

while read -r file; do
  case $file in ''|'#'*) continue ;; esac
  [ -f "$SOURCE_ROOT/$file" ] || fail "po/POTFILES lists $file, which does not exist"
done <"$po/POTFILES"
( cd "$SOURCE_ROOT" &&
  grep -rlE --include='*.c' --include='*.js' '(^|[^A-Za-z0-9_])(N?_|C_|ngettext) ?\(' frontends daemon ) |
  sort >"$tmp/marked"
for file in $(cat "$tmp/marked"); do
  grep -qx "$file" "$po/POTFILES" || fail "$file has translatable strings but is not in po/POTFILES"
done

# ---- 3. voipctl ---------------------------------------------------------------
french "$VOIPCTL" --help >"$out" 2>"$err" || fail "voipctl --help"
check_clean "$err" "voipctl --help"
expect_in "$out" "Utilisation${nbsp}:"
expect_in "$out" "Commandes${nbsp}:"
expect_in "$out" "contact add UTILISATEUR"
expect_in "$out" "Lister vos contacts"
expect_in "$out" "Répondre à l’appel qui sonne"

french "$VOIPCTL" history --help >"$out" 2>"$err" || fail "voipctl history --help"
expect_in "$out" "Afficher la conversation d’un groupe"

french "$VOIPCTL" frobnicate >"$out" 2>"$err"
[ $? -eq 2 ] || fail "voipctl frobnicate: exit status 2 expected"
expect_in "$err" "voipctl${nbsp}: commande inconnue «${nbsp}frobnicate${nbsp}»"
expect_in "$err" "Essayez «${nbsp}voipctl --help${nbsp}» pour plus d’informations."

french "$VOIPCTL" contact add >"$out" 2>"$err"
[ $? -eq 2 ] || fail "voipctl contact add: exit status 2 expected"
expect_in "$err" "argument manquant${nnbsp}; attendu${nbsp}: UTILISATEUR"
check_clean "$err" "voipctl contact add"

# English stays English.
env -u LC_ALL -u LC_MESSAGES -u LANGUAGE LANG=C.UTF-8 "$VOIPCTL" --help >"$out" 2>&1
expect_in "$out" "Usage:"

# ---- 4. voipd, on a private session bus -----------------------------------------
if ! command -v dbus-run-session >/dev/null; then
  echo "SKIP: no dbus-run-session; the daemon's French is not checked" >&2
  exit 77   # meson's SKIP, which fails CI
fi
# A HOME of its own: registering activates the keyring of the private bus,
# which then keeps its files there, not in the real user's.
mkdir -p "$tmp/home"
french env HOME="$tmp/home" dbus-run-session -- sh "$0" --on-private-bus "$tmp" \
    >"$tmp/bus.out" 2>"$tmp/bus.log" ||
  { grep -v 'fd limit' "$tmp/bus.log" >&2; fail "on the private bus"; }
echo "ok: French in po/fr.po, voipctl and voipd"
