#!/usr/bin/env bash
# A real Slurm cluster on the namespace test bed (scripts/testbed/up.sh): Debian's slurm-wlm
# with slurmctld on this machine's bridge address, one slurmd inside every test-bed host (its
# network, mount and uts namespaces, so its hostname is the host's), and munge for auth, all
# with a key, socket, config and state of their own under the test bed's state folder.
#
#   scripts/slurm/testbed-slurm.sh up [--name NAME]     start the daemons, wait until nodes are idle
#   scripts/slurm/testbed-slurm.sh env [--name NAME]    print the export line clients need
#   scripts/slurm/testbed-slurm.sh down [--name NAME]   stop them (down.sh also does)
#
# Then, for example:
#   eval "$(scripts/slurm/testbed-slurm.sh env)"
#   sbatch --wait --nodes=4 --ntasks-per-node=4 -o /tmp/peerd-%j.out scripts/slurm/peerd.sbatch --config …
set -euo pipefail
TB_SELF=testbed-slurm.sh
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=../testbed/common.sh
. "$ROOT/scripts/testbed/common.sh"

ACTION=${1:-}
[ $# -gt 0 ] && shift
NAME=pdtb
while [ $# -gt 0 ]; do
  case "$1" in
    --name) [ $# -ge 2 ] && [ -n "$2" ] || TB_EXIT=2 tb_die "--name needs a value"; NAME=$2; shift 2 ;;
    *) TB_EXIT=2 tb_die "unknown argument '$1' (see the header of this script)" ;;
  esac
done
tb_check_name "$NAME"
STATE="$TESTBED_ROOT/$NAME"
SL="$STATE/slurm"
[ -f "$STATE/testbed" ] || tb_die "no test bed '$NAME': run scripts/testbed/up.sh first"
read -r N SUBNET <"$STATE/testbed"

stop_daemons() {
  local f
  for f in "$SL"/slurmctld.pid "$SL"/munged.pid; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  for ((i = 0; i < N; i++)); do
    [ -f "$STATE/h$i/private/slurmd/slurmd.pid" ] && kill "$(cat "$STATE/h$i/private/slurmd/slurmd.pid")" 2>/dev/null || true
  done
}

case "$ACTION" in
  env) echo "export SLURM_CONF=$SL/slurm.conf"; exit 0 ;;
  down) stop_daemons; echo "$TB_SELF: Slurm daemons of '$NAME' stopped"; exit 0 ;;
  up) ;;
  *) TB_EXIT=2 tb_die "give up, env or down" ;;
esac
[ "$(id -u)" -eq 0 ] || tb_die "needs root"
"$ROOT/scripts/testbed/install.sh" --slurm || tb_die "could not install slurm-wlm and munge (scripts/testbed/install.sh --slurm)"

# The daemons must not inherit the caller's descriptors beyond 0-2: a caller that watches a
# pipe or socket for this script's exit (Foundation's Process does) would wait for the daemons.
for fd in /proc/$$/fd/*; do
  fd=${fd##*/}
  [ "$fd" -gt 2 ] 2>/dev/null && [ "$fd" -lt 255 ] && eval "exec $fd>&-" 2>/dev/null
done
UP_DONE=0
trap '[ "$UP_DONE" = 1 ] || { stop_daemons; echo "$TB_SELF: failed; Slurm daemons stopped" >&2; }' EXIT
mkdir -p "$SL/ctld" "$SL/munge"
chmod 700 "$SL/munge"
[ -f "$SL/munge/munge.key" ] || dd if=/dev/urandom of="$SL/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$SL/munge/munge.key"
# munged normally runs as user munge; --force lets it run as root on this private socket.
munged --force --key-file="$SL/munge/munge.key" --socket="$SL/munge/socket" --pid-file="$SL/munged.pid" \
  --log-file="$SL/munge/munged.log" --seed-file="$SL/munge/seed" </dev/null >>"$SL/munge/munged.log" 2>&1 \
  || tb_die "munged did not start: $(tail -n 2 "$SL/munge/munged.log" 2>/dev/null)"

# slurmctld listens on this machine, where two test beds would share a port: one per name.
CTLD_PORT=$((16817 + $(cksum <<<"$NAME" | cut -d' ' -f1) % 2000))
{
  cat <<CONF
ClusterName=peerd-$NAME
SlurmctldHost=$(hostname -s)($SUBNET.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=6818
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SL/munge/socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$SL/ctld
SlurmctldPidFile=$SL/slurmctld.pid
SlurmctldLogFile=$SL/slurmctld.log
SlurmdSpoolDir=$STATE/private/slurmd
SlurmdPidFile=$STATE/private/slurmd/slurmd.pid
SlurmdLogFile=$SL/slurmd-%n.log
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/linear
SchedulerType=sched/builtin
MpiDefault=none
ReturnToService=2
KillWait=10
CONF
  for ((i = 0; i < N; i++)); do
    echo "NodeName=$NAME-h$i NodeAddr=$SUBNET.$((i + 2)) CPUs=48 RealMemory=4000 State=UNKNOWN"
  done
  echo "PartitionName=testbed Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=EXCLUSIVE"
} >"$SL/slurm.conf"
echo "CgroupPlugin=autodetect" >"$SL/cgroup.conf"
export SLURM_CONF="$SL/slurm.conf"

slurmctld -f "$SL/slurm.conf" </dev/null >>"$SL/slurmctld.log" 2>&1 || tb_die "slurmctld did not start: $(tail -n 3 "$SL/slurmctld.log" 2>/dev/null)"
for ((i = 0; i < N; i++)); do
  mkdir -p "$STATE/h$i/private/slurmd"
  # The host's network and hostname, and a mount namespace of its own with this machine's /sys
  # (slurmd needs the cgroup mounts that `ip netns exec` hides) and the host's private folder.
  nsenter --target "$(cat "$STATE/h$i/sshd.pid")" --net --uts -- unshare --mount --propagation private sh -c \
    "mount --bind '$STATE/h$i/private' '$STATE/private' && exec env SLURM_CONF='$SL/slurm.conf' slurmd -f '$SL/slurm.conf' </dev/null >>'$SL/slurmd-$NAME-h$i.log' 2>&1" \
    || tb_die "slurmd on $NAME-h$i did not start: $(tail -n 3 "$SL/slurmd-$NAME-h$i.log" 2>/dev/null)"
done
for _ in $(seq 60); do
  idle=$(sinfo -h -N -o '%t' 2>/dev/null | grep -c '^idle' || true)
  [ "$idle" -eq "$N" ] && break
  sleep 0.5
done
[ "$idle" -eq "$N" ] || tb_die "only $idle of $N slurmd are idle: $(sinfo -N 2>&1 | tr '\n' ' ')"
UP_DONE=1
echo "$TB_SELF: Slurm up on test bed '$NAME': slurmctld at $SUBNET.1:$CTLD_PORT, $N nodes idle"
echo "$TB_SELF: clients need: export SLURM_CONF=$SL/slurm.conf"
