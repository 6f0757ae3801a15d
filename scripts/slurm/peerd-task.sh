#!/usr/bin/env bash
# One Slurm task = one peerd node (started by scripts/slurm/peerd.sbatch through srun).
# Arguments: PROCS_PER_MACHINE MACHINES CONFIG GRAPH LOGDIR [peerd flags…]
#
# uid = SLURM_PROCID, machine = SLURM_NODEID, rank = SLURM_LOCALID; with block distribution
# these agree (uid = machine × procs + rank), and the task refuses to run if they do not. It
# records peerd's exit status in machine<m>/<uid>.rc, passes SIGTERM/SIGINT/SIGHUP (scancel) on
# to peerd, and cancels the whole step when its node fails before finishing a round.
set -uo pipefail
ppm=$1 machines=$2 cfg=$3 graph=$4 logdir=$5
shift 5
uid=${SLURM_PROCID:?not a Slurm task} mid=${SLURM_NODEID:?} rank=${SLURM_LOCALID:?}
dir="$logdir/machine$mid"
mkdir -p "$dir"
if [ "$uid" -ne $((mid * ppm + rank)) ]; then
  echo "peerd-task: task $uid is rank $rank on node $mid, not uid $((mid * ppm + rank)): use --distribution=block and --ntasks-per-node" >&2
  echo 2 >"$dir/$uid.rc"
  exit 2
fi
root=${PEERD_ROOT:-${SLURM_SUBMIT_DIR:-$PWD}}
export OPENBLAS_NUM_THREADS=1
"$root/.build/release/peerd" --machine-id "$mid" --rank "$rank" --procs-per-machine "$ppm" --machines "$machines" \
  --config "$cfg" --graph "$graph" --ip "$logdir/ip.json" --log-dir "$dir" --run-id "slurm-${SLURM_JOB_ID:-0}" "$@" \
  >"$dir/$uid.out" 2>"$dir/$uid.err" </dev/null &
pid=$!
signalled=""
trap 'signalled=1; kill -TERM "$pid" 2>/dev/null' TERM INT HUP
while true; do
  wait "$pid" 2>/dev/null
  rc=$?
  kill -0 "$pid" 2>/dev/null || break # wait returned for a trapped signal: peerd still runs
done
echo "$rc" >"$dir/$uid.rc"
# Only a node that failed on its own aborts the run; the ones stopped by that abort (a signal
# from this task or straight from slurmstepd: exit 3 or 128+N) do not.
# Whether it finished a round, from its events file (peerctl watch; a failure without peerctl
# counts as during the run).
finished_a_round() {
  local peerctl="$root/.build/release/peerctl" r
  [ -x "$peerctl" ] || return 0
  r=$("$peerctl" watch "$dir" --print rounds --uid "$uid" 2>/dev/null)
  [ "${r#* }" -gt 0 ] 2>/dev/null
}
if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ] && [ "$rc" -lt 128 ] && [ -z "$signalled" ] && ! finished_a_round; then
  why="node $uid ($(hostname)) exited $rc before its first round: $(tail -n 1 "$dir/$uid.err")"
  echo "$why" >>"$logdir/aborted"
  echo "peerd-task: $why; cancelling the step" >&2
  scancel --signal=TERM "${SLURM_JOB_ID}.${SLURM_STEP_ID}" 2>/dev/null
fi
exit "$rc"
