#!/usr/bin/env bash
# Installs what the test bed needs from Debian, without letting the packages start their own
# daemons on this machine (Debian's sshd, munged and slurmd would otherwise start and listen):
# openssh-server, openssh-client and rsync always; with --slurm also slurm-wlm and munge; with
# --emulation iptables and python3 (link emulation on kernels without netem).
# Idempotent; needs root only when something is missing.
set -euo pipefail
usage() { echo "Usage: scripts/testbed/install.sh [--slurm] [--emulation]"; }
want=(openssh-server openssh-client rsync)
for arg in "$@"; do
  case "$arg" in
    --slurm) want+=(slurm-wlm munge) ;;
    --emulation) want+=(iptables python3) ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown argument '$arg'" >&2; usage >&2; exit 2 ;;
  esac
done
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ "${#missing[@]}" -gt 0 ] || exit 0
[ "$(id -u)" -eq 0 ] || { echo "install.sh: missing ${missing[*]}; run as root or: apt-get install -y ${missing[*]}" >&2; exit 1; }
echo "install.sh: installing ${missing[*]}" >&2
policy_added=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_added=1
fi
cleanup() { [ "$policy_added" = 0 ] || rm -f /usr/sbin/policy-rc.d; }
trap cleanup EXIT
DEBIAN_FRONTEND=noninteractive apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
  || { echo "install.sh: apt-get install ${missing[*]} failed" >&2; exit 1; }
