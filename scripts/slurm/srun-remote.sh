#!/usr/bin/env bash
# ssh's calling convention over srun, for scripts/launch_cluster.sh --remote-cmd inside a Slurm
# allocation (salloc or a batch script): srun-remote.sh HOST 'shell command' runs the command in
# one task on HOST, as `ssh HOST 'shell command'` would, with standard input, output and exit
# status passed through. --overlap lets the launcher's stop and rsync steps run beside the step
# that holds the nodes.
#
#   salloc --nodes=4 --ntasks-per-node=24 scripts/launch_cluster.sh --ip hosts.json \
#       --procs-per-machine 24 --remote-cmd scripts/slurm/srun-remote.sh
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: srun-remote.sh HOST 'shell command'" >&2; exit 2; }
[ -n "${SLURM_JOB_ID:-}" ] || { echo "srun-remote.sh: not inside a Slurm allocation (run the launcher under salloc or sbatch)" >&2; exit 2; }
host=$1
shift
# The IP JSON may hold addresses: srun wants the Slurm node name whose NodeAddr it is.
if ! scontrol show node -o "$host" >/dev/null 2>&1; then
  name=$(scontrol show nodes -o | tr ' ' '\n' | awk -v h="$host" '/^NodeName=/ {n = substr($0, 10)} $0 == "NodeAddr=" h {print n; exit}')
  [ -n "$name" ] || { echo "srun-remote.sh: '$host' is neither a node of this cluster nor a node's NodeAddr" >&2; exit 2; }
  host=$name
fi
exec srun --nodes=1 --ntasks=1 --overlap --nodelist="$host" --input=all --quiet bash -c "$*"
