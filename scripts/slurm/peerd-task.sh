#!/usr/bin/env bash
# One Slurm task = one peerd node (started by scripts/slurm/peerd.sbatch through srun).
# Arguments: PROCS_PER_MACHINE MACHINES CONFIG GRAPH LOGDIR SERVER [peerd flags…]
#
# uid = SLURM_PROCID, machine = SLURM_NODEID, rank = SLURM_LOCALID; with block distribution
# these agree (uid = machine × procs + rank), and the task refuses to run if they do not. SERVER
# is the uid of a FedAvg server, or "-": task 0 (machine 0, rank 0) then runs the server too, as
# the launcher's host agent does on machine 0. The task records each peerd's exit status in
# machine<m>/<uid>.rc, passes SIGTERM/SIGINT/SIGHUP (scancel) on to them, and cancels the whole
# step when one of them fails before finishing a round.
set -uo pipefail
ppm=$1 machines=$2 cfg=$3 graph=$4 logdir=$5 server=$6
shift 6
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
common=(--procs-per-machine "$ppm" --machines "$machines" --config "$cfg" --graph "$graph" --ip "$logdir/ip.json"
  --log-dir "$dir" --run-id "slurm-${SLURM_JOB_ID:-0}")
uids=("$uid") pids=()
"$root/.build/release/peerd" --machine-id "$mid" --rank "$rank" "${common[@]}" "$@" \
  >"$dir/$uid.out" 2>"$dir/$uid.err" </dev/null &
pids+=($!)
if [ "$server" != - ] && [ "$uid" -eq 0 ]; then
  "$root/.build/release/peerd" --uid "$server" "${common[@]}" "$@" \
    >"$dir/$server.out" 2>"$dir/$server.err" </dev/null &
  pids+=($!)
  uids+=("$server")
fi
signalled=""
trap 'signalled=1; kill -TERM "${pids[@]}" 2>/dev/null' TERM INT HUP

# Whether node $1 finished a round, from its events file (peerctl watch; a failure without
# peerctl counts as during the run).
finished_a_round() {
  local peerctl="$root/.build/release/peerctl" r
  [ -x "$peerctl" ] || return 0
  r=$("$peerctl" watch "$dir" --print rounds --uid "$1" 2>/dev/null)
  [ "${r#* }" -gt 0 ] 2>/dev/null
}

# Whichever peerd ends first is handled first: a server failing at start must cancel the step
# before its clients give up on it.
status=0
left=("${!pids[@]}")
while [ ${#left[@]} -gt 0 ]; do
  ended=""
  live=()
  for k in "${left[@]}"; do live+=("${pids[$k]}"); done
  wait -n -p ended "${live[@]}" 2>/dev/null
  rc=$?
  # An interrupted wait leaves `ended` unset, not empty.
  if [ -z "${ended:-}" ]; then
    [ "$rc" -ne 127 ] || break # nothing left to wait for
    continue                   # a trapped signal interrupted the wait: peerd still runs
  fi
  rest=()
  for k in "${left[@]}"; do
    if [ "${pids[$k]}" = "$ended" ]; then u=${uids[$k]}; else rest+=("$k"); fi
  done
  left=("${rest[@]}")
  echo "$rc" >"$dir/$u.rc"
  [ "$status" -ne 0 ] || status=$rc
  # Only a node that failed on its own aborts the run; the ones stopped by that abort (a signal
  # from this task or straight from slurmstepd: exit 3 or 128+N) do not.
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ] && [ "$rc" -lt 128 ] && [ -z "$signalled" ] && ! finished_a_round "$u"; then
    what="node $u"
    [ "$u" != "$server" ] || what="the FedAvg server (uid $u)"
    why="$what ($(hostname)) exited $rc before its first round: $(tail -n 1 "$dir/$u.err")"
    echo "$why" >>"$logdir/aborted"
    echo "peerd-task: $why; cancelling the step" >&2
    scancel --signal=TERM "${SLURM_JOB_ID}.${SLURM_STEP_ID}" 2>/dev/null
  fi
done
exit "$status"
