#!/bin/bash
# nat-topology.sh — two homes behind NAT routers and a public network, in
# network namespaces, for the NAT call tests (tests/calls/test-calls-nat.c).
#
#   PFX-homeA 100.64.1.2 -- PFX-natA [lan 100.64.1.1 | wan 198.18.0.11] --+
#                                                                          br0 in PFX-pub
#   PFX-homeB 100.64.2.2 -- PFX-natB [lan 100.64.2.1 | wan 198.18.0.12] --+  198.18.0.1, .2: coturn
#                                                                             198.18.0.3: voip-server
#
# Every name it creates starts with PFX (e.g. "vtc1234", from the test's pid):
# namespaces PFX-pub, PFX-natA, PFX-natB, PFX-homeA, PFX-homeB; interfaces
# live only inside them. Nothing outside those namespaces is touched.
#
# Two rules come from ../../../shared/recipes/nat-namespaces (measured there):
# - the routers drop unsolicited inbound (ct state new, on the wan side):
#   without it an early inbound check creates a conntrack entry that steals the
#   cone mapping, and hole punching fails most of the time;
# - the public namespace routes everything else into a black hole, so that
#   packets coturn relays to private addresses vanish instead of failing with
#   ENETUNREACH (coturn then tears down the whole allocation).
#
# usage:
#   nat-topology.sh up PFX [cone|random|fully-random]   build it (fails if PFX-* exist)
#   nat-topology.sh nat PFX MODE                       switch both routers' NAT mode
#   nat-topology.sh block-udp PFX                      both routers drop forwarded UDP
#   nat-topology.sh loss PFX PERCENT                   both routers drop PERCENT % of what
#                                                      they forward out of wan
#   nat-topology.sh down PFX                           delete the namespaces (idempotent)
#   nat-topology.sh guard PFX                          wait for EOF on stdin, then down
#                                                      (the test keeps stdin open while
#                                                      it lives: cleanup even if it aborts)
#   nat-topology.sh check                              exit 0 if namespaces can be made here
set -e

usage() {
  sed -n 's/^#   nat-topology.sh/usage: nat-topology.sh/p' "$0" >&2
  exit 2
}

[ $# -ge 1 ] || usage
cmd=$1
if [ "$cmd" != check ]; then
  [ $# -ge 2 ] || usage
  pfx=$2
  case "$pfx" in *[!A-Za-z0-9_]*|"") echo "bad prefix '$pfx'" >&2; exit 2;; esac
fi

x() { ip netns exec "$@"; }

namespaces() { echo "$pfx-pub $pfx-natA $pfx-natB $pfx-homeA $pfx-homeB"; }

# $1 router namespace, $2 mode
nat_rules() {
  local flags
  case "$2" in
    cone) flags="";;
    random) flags="random";;
    fully-random) flags="fully-random";;
    *) echo "bad NAT mode '$2'" >&2; exit 2;;
  esac
  x "$1" nft delete table ip nat 2>/dev/null || true
  x "$1" nft -f - <<EOF
table ip nat {
  chain post { type nat hook postrouting priority srcnat; oifname "wan" masquerade $flags; }
}
EOF
  # conntrack entries of the old mode would keep their mappings
  x "$1" nft list table inet fw >/dev/null 2>&1 || x "$1" nft -f - <<EOF
table inet fw {
  chain input   { type filter hook input priority 0;   iifname "wan" ct state new drop; }
  chain forward { type filter hook forward priority 0; iifname "wan" ct state new drop; }
}
EOF
}

down() {
  for n in $(namespaces); do
    ip netns pids "$n" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "$n" 2>/dev/null || true
  done
}

case "$cmd" in
check)
  probe="vtcheck$$"
  ip netns add "$probe" 2>/dev/null || { echo "cannot create a network namespace (ip netns add failed; root needed)" >&2; exit 1; }
  ok=0
  x "$probe" ip link set lo up 2>/dev/null || ok=1
  x "$probe" nft list ruleset >/dev/null 2>&1 || { echo "nft does not work in a namespace" >&2; ok=1; }
  ip netns del "$probe"
  exit $ok
  ;;
up)
  mode=${3:-cone}
  if ip netns list | grep -q "^$pfx-"; then
    echo "namespaces $pfx-* exist already" >&2
    exit 1
  fi
  trap 'down' ERR
  for n in $(namespaces); do
    ip netns add "$n"
    x "$n" ip link set lo up
  done
  x "$pfx-pub" ip link add br0 type bridge
  x "$pfx-pub" ip addr add 198.18.0.1/24 dev br0
  x "$pfx-pub" ip addr add 198.18.0.2/24 dev br0
  x "$pfx-pub" ip addr add 198.18.0.3/24 dev br0
  x "$pfx-pub" ip link set br0 up
  # the black hole: a default route to a MAC nobody owns
  x "$pfx-pub" ip neigh add 198.18.0.254 lladdr 02:00:00:00:00:fe dev br0 nud permanent
  x "$pfx-pub" ip route add default via 198.18.0.254 dev br0
  for s in A B; do
    n=$([ $s = A ] && echo 1 || echo 2)
    wan=198.18.0.1$n
    # created directly inside the namespaces: the names never exist outside
    ip link add wan netns "$pfx-nat$s" type veth peer name "p$s" netns "$pfx-pub"
    x "$pfx-pub" ip link set "p$s" master br0 up
    x "$pfx-nat$s" ip addr add "$wan/24" dev wan
    x "$pfx-nat$s" ip link set wan up
    ip link add lan netns "$pfx-nat$s" type veth peer name eth0 netns "$pfx-home$s"
    x "$pfx-nat$s" ip addr add "100.64.$n.1/24" dev lan
    x "$pfx-nat$s" ip link set lan up
    x "$pfx-nat$s" sysctl -qw net.ipv4.ip_forward=1
    # the routers know only the public net: private destinations die silently
    x "$pfx-nat$s" ip route add default via 198.18.0.1
    x "$pfx-home$s" ip addr add "100.64.$n.2/24" dev eth0
    x "$pfx-home$s" ip link set eth0 up
    x "$pfx-home$s" ip route add default via "100.64.$n.1"
    nat_rules "$pfx-nat$s" "$mode"
  done
  echo "topology $pfx up, NAT mode $mode"
  ;;
nat)
  [ $# -ge 3 ] || usage
  for s in A B; do
    nat_rules "$pfx-nat$s" "$3"
    x "$pfx-nat$s" conntrack -F 2>/dev/null || true
  done
  echo "topology $pfx: NAT mode $3"
  ;;
block-udp)
  for s in A B; do
    x "$pfx-nat$s" nft -f - <<EOF
table inet block {
  chain forward { type filter hook forward priority -10; meta l4proto udp drop; }
}
EOF
  done
  echo "topology $pfx: UDP dropped on both routers"
  ;;
loss)
  # nft rather than tc netem: sch_netem is missing from some kernels (this
  # one's included). Each direction loses PERCENT %: A to B at natA's wan,
  # B to A at natB's.
  [ $# -ge 3 ] || usage
  case "$3" in *[!0-9]*|"") echo "bad percentage '$3'" >&2; exit 2;; esac
  for s in A B; do
    # a new rate replaces the last one
    x "$pfx-nat$s" nft delete table inet loss 2>/dev/null || true
    [ "$3" = 0 ] && continue
    x "$pfx-nat$s" nft -f - <<EOF
table inet loss {
  chain forward { type filter hook forward priority -5; oifname "wan" numgen random mod 100 < $3 drop; }
}
EOF
  done
  echo "topology $pfx: $3% loss out of both routers' wan"
  ;;
down)
  down
  ;;
guard)
  trap '' INT TERM HUP
  cat >/dev/null || true
  down
  ;;
*)
  usage
  ;;
esac
