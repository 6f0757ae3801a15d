#!/usr/bin/env bash
# Builds a multi-host test bed on this machine: N hosts as Linux network namespaces on one bridge,
# each with its own address, hostname, private run folder and OpenSSH server (key-only login with
# a key generated here). Writes an ssh config and the matching IP JSON; the JSON's path is the
# last line printed. Any failure or Ctrl-C tears down what was built (scripts/testbed/down.sh).
set -euo pipefail
TB_SELF=up.sh
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=common.sh
. "$HERE/common.sh"

usage() {
  cat <<USAGE
Usage: scripts/testbed/up.sh N [options]

Builds N hosts (network namespaces NAME-h0 … NAME-h<N-1>) on the bridge NAME-br, with addresses
SUBNET.2 … SUBNET.<N+1> and SUBNET.1 on the bridge (this machine's side).

Options:
  --name NAME        test bed name, 1-8 lower-case letters/digits (default: pdtb)
  --subnet A.B.C     the /24 to use, a private range unused on this machine (default: 10.231.0)
  --netem SPEC       link emulation on each host's egress, e.g. delay=20ms,rate=100mbit,loss=0%
                     (tc netem; on a kernel without it: tbf for rate, iptables for loss, and
                     scripts/testbed/delay.py through NFQUEUE for delay)
  -h, --help         this help

Per host, in its own namespaces: the address, hostname NAME-hI, sshd on port 22, and a private
folder at STATE/private that only that host sees (STATE is $TESTBED_ROOT/NAME; this machine
sees the empty mount point). Files in STATE: ssh_config, id_ed25519, known_hosts, hosts.json.
Log in with: ssh -F STATE/ssh_config SUBNET.2   Tear down with: scripts/testbed/down.sh --name NAME
Needs root; installs openssh-server and rsync with apt when missing.
USAGE
}

N="" NAME=pdtb SUBNET=10.231.0 NETEM=""
need_value() { [ $# -ge 2 ] && [ -n "$2" ] || TB_EXIT=2 tb_die "$1 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --name) need_value "$@"; NAME=$2; shift 2 ;;
    --subnet) need_value "$@"; SUBNET=$2; shift 2 ;;
    --netem) need_value "$@"; NETEM=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    -*) TB_EXIT=2 tb_die "unknown option '$1' (see --help)" ;;
    *) [ -z "$N" ] || TB_EXIT=2 tb_die "one host count only, got '$N' and '$1'"; N=$1; shift ;;
  esac
done
[ -n "$N" ] || TB_EXIT=2 tb_die "give the number of hosts, e.g. up.sh 4 (see --help)"
[[ "$N" =~ ^[0-9]+$ ]] && [ "$N" -ge 1 ] && [ "$N" -le 200 ] \
  || TB_EXIT=2 tb_die "the host count must be a whole number 1-200, got '$N'"
tb_check_name "$NAME"
[[ "$SUBNET" =~ ^(10\.[0-9]{1,3}|172\.(1[6-9]|2[0-9]|3[01])|192\.168)\.[0-9]{1,3}$ ]] \
  || TB_EXIT=2 tb_die "--subnet must be the first three octets of a private /24 (10.x.y, 172.16-31.y, 192.168.y), got '$SUBNET'"

# --netem: delay=…,rate=…,loss=…
DELAY="" RATE="" LOSS=""
if [ -n "$NETEM" ]; then
  IFS=, read -r -a parts <<<"$NETEM"
  for kv in "${parts[@]}"; do
    case "$kv" in
      delay=*) DELAY=${kv#delay=}; [[ "$DELAY" =~ ^[0-9]+(\.[0-9]+)?(us|ms|s)$ ]] || TB_EXIT=2 tb_die "--netem delay must look like 20ms, got '$DELAY'" ;;
      rate=*) RATE=${kv#rate=}; [[ "$RATE" =~ ^[0-9]+(kbit|mbit|gbit)$ ]] || TB_EXIT=2 tb_die "--netem rate must look like 100mbit, got '$RATE'" ;;
      loss=*) LOSS=${kv#loss=}; [[ "$LOSS" =~ ^[0-9]+(\.[0-9]+)?%$ ]] || TB_EXIT=2 tb_die "--netem loss must look like 0.5%, got '$LOSS'" ;;
      *) TB_EXIT=2 tb_die "--netem takes delay=, rate= and loss=, comma-separated; got '$kv'" ;;
    esac
  done
fi

[ "$(id -u)" -eq 0 ] || tb_die "needs root (network namespaces, veth, sshd)"
command -v ip >/dev/null || tb_die "'ip' (iproute2) is missing: apt-get install iproute2"
command -v nsenter >/dev/null && command -v unshare >/dev/null || tb_die "nsenter/unshare (util-linux) are missing"

# openssh-server and rsync, installed without starting Debian's own sshd on this machine; with
# link emulation also iptables and python3, for kernels without netem.
"$HERE/install.sh" ${NETEM:+--emulation} || tb_die "could not install the test bed's packages (scripts/testbed/install.sh)"
SSHD=$(command -v sshd || echo /usr/sbin/sshd)

STATE="$TESTBED_ROOT/$NAME"
BRIDGE="$NAME-br"
[ -z "$(tb_namespaces "$NAME")" ] && ! ip link show "$BRIDGE" >/dev/null 2>&1 \
  || tb_die "test bed '$NAME' already exists; run scripts/testbed/down.sh --name $NAME first"
if ip -o -4 addr show | awk '{print $4}' | grep -q "^${SUBNET//./\\.}\."; then
  tb_die "subnet $SUBNET.0/24 is already in use on this machine; pick another with --subnet"
fi
ip netns add "$NAME-probe" 2>/dev/null && ip netns del "$NAME-probe" \
  || tb_die "cannot create network namespaces here (ip netns add failed)"

# From here on, anything that fails (or Ctrl-C) removes everything built so far.
teardown() {
  local rc=$?
  trap - EXIT INT TERM HUP
  echo "up.sh: failed or interrupted; tearing down test bed '$NAME'" >&2
  "$HERE/down.sh" --name "$NAME" >&2 || true
  exit "$([ "$rc" -eq 0 ] && echo 1 || echo "$rc")"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

mkdir -p "$STATE/private"
chmod 700 "$STATE"
echo "$N $SUBNET" >"$STATE/testbed"
ssh-keygen -q -t ed25519 -N "" -C "peerd-testbed-$NAME" -f "$STATE/id_ed25519"
cp "$STATE/id_ed25519.pub" "$STATE/authorized_keys"
: >"$STATE/known_hosts"

ip link add "$BRIDGE" type bridge
ip addr add "$SUBNET.1/24" dev "$BRIDGE"
ip link set "$BRIDGE" up

# Link emulation: netem when the kernel has it. Otherwise rate goes through tbf, loss through an
# iptables statistic rule, and delay through scripts/testbed/delay.py, which holds each packet
# arriving on the host for the delay (NFQUEUE; --queue-bypass lets packets through if it is not
# running). Holding arriving packets, not departing ones, matters: a departing packet held on
# the sender counts against TCP Small Queues, which then throttles the sender to a few Mbit/s.
# Either way a packet between two hosts is delayed once, so the round trip is twice the delay.
netem_args=()
[ -n "$DELAY" ] && netem_args+=(delay "$DELAY")
[ -n "$RATE" ] && netem_args+=(rate "$RATE")
[ -n "$LOSS" ] && netem_args+=(loss "$LOSS")
EMULATION=""
shape() { # namespace state-folder-of-host
  [ "${#netem_args[@]}" -gt 0 ] || return 0
  if ip netns exec "$1" tc qdisc add dev eth0 root netem "${netem_args[@]}" 2>/dev/null; then
    EMULATION="netem"
    return 0
  fi
  EMULATION="no netem in this kernel:"
  if [ -n "$RATE" ]; then
    EMULATION+=" tbf rate $RATE"
    ip netns exec "$1" tc qdisc add dev eth0 root tbf rate "$RATE" burst 256kb latency 200ms \
      || tb_die "tc could not shape $1's eth0 to $RATE"
  fi
  if [ -n "$LOSS" ] && [ "$(awk -v l="${LOSS%\%}" 'BEGIN{print (l > 0)}')" = 1 ]; then
    ip netns exec "$1" iptables-legacy -A OUTPUT -o eth0 -m statistic --mode random \
      --probability "$(awk -v l="${LOSS%\%}" 'BEGIN{printf "%.6f", l / 100}')" -j DROP \
      || tb_die "iptables could not add the loss rule in $1"
    EMULATION+=" iptables loss $LOSS"
  fi
  if [ -n "$DELAY" ]; then
    local ms
    EMULATION+=" delay.py $DELAY"
    ms=$(awk -v d="$DELAY" 'BEGIN{v = d + 0; if (d ~ /us$/) v /= 1000; else if (d ~ /[^m]s$/) v *= 1000; print v}')
    ip netns exec "$1" iptables-legacy -A INPUT -i eth0 -j NFQUEUE --queue-num 0 --queue-bypass \
      || tb_die "iptables could not add the NFQUEUE rule in $1"
    # Real-time priority: the emulated link must not wait for a core behind the nodes it carries
    # (it uses little CPU); at normal priority, 96 busy peers on 2 cores stretch every delay.
    ip netns exec "$1" chrt -f 10 python3 "$HERE/delay.py" 0 "$ms" </dev/null >"$2/delay.log" 2>&1 &
    sleep 0.2
    kill -0 $! 2>/dev/null || tb_die "delay.py did not start in $1: $(tail -n 1 "$2/delay.log")"
  fi
}

hosts_json="{"
for ((i = 0; i < N; i++)); do
  ns="$NAME-h$i" addr="$SUBNET.$((i + 2))" hdir="$STATE/h$i"
  mkdir -p "$hdir/private"
  ip netns add "$ns"
  ip link add "$NAME-v$i" type veth peer name "$NAME-p$i"
  ip link set "$NAME-p$i" netns "$ns"
  ip link set "$NAME-v$i" master "$BRIDGE" up
  ip netns exec "$ns" ip link set "$NAME-p$i" name eth0
  ip netns exec "$ns" ip addr add "$addr/24" dev eth0
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" ip link set eth0 up
  shape "$ns" "$hdir"

  ssh-keygen -q -t ed25519 -N "" -C "$ns" -f "$hdir/ssh_host_ed25519_key"
  echo "$addr $(cut -d' ' -f1,2 "$hdir/ssh_host_ed25519_key.pub")" >>"$STATE/known_hosts"
  echo "$ns $(cut -d' ' -f1,2 "$hdir/ssh_host_ed25519_key.pub")" >>"$STATE/known_hosts"
  cat >"$hdir/sshd_config" <<CONF
ListenAddress $addr:22
HostKey $hdir/ssh_host_ed25519_key
PidFile $hdir/sshd.pid
AuthorizedKeysFile $STATE/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers root
UsePAM no
StrictModes no
PrintMotd no
X11Forwarding no
AllowTcpForwarding no
MaxStartups 100:30:200
MaxSessions 100
LogLevel ERROR
CONF
  mkdir -p /run/sshd
  # sshd (and every session it starts) gets the host's own mount and uts namespaces: its hostname,
  # and $STATE/private bound to this host's private folder.
  ip netns exec "$ns" unshare --mount --uts --propagation private sh -c \
    "hostname '$ns' && mount --bind '$hdir/private' '$STATE/private' && exec '$SSHD' -f '$hdir/sshd_config'" \
    || tb_die "could not start sshd for $ns"
  [ "$i" -eq 0 ] || hosts_json+=", "
  hosts_json+="\"$i\": \"$addr\""
done
hosts_json+="}"

{
  for ((i = 0; i < N; i++)); do
    echo "Host $SUBNET.$((i + 2)) $NAME-h$i"
    echo "  HostName $SUBNET.$((i + 2))"
  done
  cat <<CONF
Host $SUBNET.* $NAME-h*
  User root
  IdentityFile $STATE/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $STATE/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 5
  ServerAliveInterval 5
  ServerAliveCountMax 3
  LogLevel ERROR
CONF
} >"$STATE/ssh_config"

# Every sshd answers before the test bed is declared up.
for ((i = 0; i < N; i++)); do
  ok=0
  for _ in $(seq 50); do
    if ssh -F "$STATE/ssh_config" "$SUBNET.$((i + 2))" true 2>/dev/null; then ok=1; break; fi
    sleep 0.1
  done
  [ "$ok" = 1 ] || tb_die "sshd of $NAME-h$i ($SUBNET.$((i + 2))) does not accept the generated key"
done

echo "$hosts_json" >"$STATE/hosts.json"
trap - EXIT INT TERM HUP
echo "up.sh: test bed '$NAME': $N hosts $SUBNET.2-$SUBNET.$((N + 1)) on bridge $BRIDGE${NETEM:+, link emulation $NETEM ($EMULATION)}"
echo "up.sh: ssh config $STATE/ssh_config (e.g. ssh -F $STATE/ssh_config $SUBNET.2 hostname)"
echo "up.sh: per-host private folder $STATE/private; tear down with scripts/testbed/down.sh --name $NAME"
echo "$STATE/hosts.json"
