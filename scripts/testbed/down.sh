#!/usr/bin/env bash
# Removes a test bed built by scripts/testbed/up.sh: every process in its namespaces (sshd,
# peerd, Slurm daemons), the namespaces, the bridge and the state folder. Idempotent: removing
# a test bed that is not there (or half there) succeeds.
set -euo pipefail
TB_SELF=down.sh
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=common.sh
. "$HERE/common.sh"

usage() {
  cat <<USAGE
Usage: scripts/testbed/down.sh [--name NAME]

Removes test bed NAME (default: pdtb): processes in namespaces NAME-h*, the namespaces, the
bridge NAME-br and $TESTBED_ROOT/NAME.
USAGE
}

NAME=pdtb
while [ $# -gt 0 ]; do
  case "$1" in
    --name) [ $# -ge 2 ] && [ -n "$2" ] || TB_EXIT=2 tb_die "--name needs a value (see --help)"; NAME=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) TB_EXIT=2 tb_die "unknown argument '$1' (see --help)" ;;
  esac
done
tb_check_name "$NAME"
[ "$(id -u)" -eq 0 ] || tb_die "needs root"

# Slurm's controller and munged (scripts/slurm/testbed-slurm.sh) run on this machine's side.
for f in "$TESTBED_ROOT/$NAME/slurm/slurmctld.pid" "$TESTBED_ROOT/$NAME/slurm/munged.pid"; do
  [ -f "$f" ] || continue
  p=$(cat "$f")
  if tr '\000' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$TESTBED_ROOT/$NAME/"; then kill -TERM "$p" 2>/dev/null || true; fi
done
namespaces=$(tb_namespaces "$NAME")
for ns in $namespaces; do
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  [ -z "$pids" ] || kill -TERM $pids 2>/dev/null || true
done
# Give processes a moment to exit on SIGTERM (peerd writes its results), then make sure.
for _ in $(seq 20); do
  left=""
  for ns in $namespaces; do left+=$(ip netns pids "$ns" 2>/dev/null || true); done
  [ -n "$left" ] || break
  sleep 0.1
done
for ns in $namespaces; do
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
done
for ns in $namespaces; do
  for _ in $(seq 20); do [ -z "$(ip netns pids "$ns" 2>/dev/null || true)" ] && break; sleep 0.05; done
  ip netns del "$ns" 2>/dev/null || true
done
ip link del "$NAME-br" 2>/dev/null || true
# Veths whose namespace side was never moved (a failure half-way through up.sh).
for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E "^$NAME-[vp][0-9]+$" || true); do
  ip link del "$link" 2>/dev/null || true
done
rm -rf "${TESTBED_ROOT:?}/$NAME"
echo "down.sh: test bed '$NAME' removed"
