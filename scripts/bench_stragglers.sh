#!/usr/bin/env bash
# Systems heterogeneity (seed 004): D-PSGD against SwarmAvg with one node of 16 four times slower
# ([NODE] slow_nodes = <uid>:4.0), side by side with the same runs without it. Prints, per run,
# the rounds (D-PSGD) or steps (SwarmAvg) per second of the fast nodes (median, slowest) and of
# the slow node, and the wall time. Not run in CI (docs/performance.md).
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SELF=bench_stragglers.sh
usage() {
  cat <<USAGE
Usage: scripts/bench_stragglers.sh [--iterations N] [--slow UID:FACTOR] [--step-pause S] [--base-port P]
                                  [--log-dir DIR]

  --iterations N     rounds (D-PSGD) or steps (SwarmAvg) per node (default 100)
  --slow UID:FACTOR  the straggler (default 3:4.0)
  --step-pause S     emulated work per local step, seconds (default 0.005: 10 steps = 50 ms a round),
                     so that computing, not this machine's load, sets the pace
  --base-port P      ports P … P + 15 (default: the config's)
  --log-dir DIR      where the runs go (default: runs/stragglers-<date-time>)

Runs on 16 local nodes, 4-regular graph, MNIST logistic regression (configs/dpsgd_mnist_logreg.ini):
D-PSGD and SwarmAvg (the reference's γ = min(8, degree) = 4, β = 0; then γ = 3; then β = 1;
sync_timeout 10 s), each without and with the straggler.
USAGE
}
die() { echo "$SELF: $*" >&2; exit 2; }
ITER=100 SLOW="3:4.0" PAUSE=0.005 LOGDIR="" PORT=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --iterations) ITER=$2 ;;
    --slow) SLOW=$2 ;;
    --step-pause) PAUSE=$2 ;;
    --log-dir) LOGDIR=$2 ;;
    --base-port) PORT=(--base-port "$2") ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift 2 || die "$1 needs a value"
done
[[ "$SLOW" =~ ^[0-9]+:[0-9.]+$ ]] || die "--slow must be UID:FACTOR, got '$SLOW'"
SLOW_UID=${SLOW%%:*}
BIN="$ROOT/.build/release"
LOGDIR="${LOGDIR:-$ROOT/runs/stragglers-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$LOGDIR" && LOGDIR="$(cd "$LOGDIR" && pwd)" || die "cannot create $LOGDIR"

# name | [NODE] keys
RUNS=(
  "dpsgd|algorithm = dpsgd"
  "dpsgd+slow|algorithm = dpsgd;slow_nodes = $SLOW"
  "swarmavg|algorithm = swarmavg"
  "swarmavg+slow|algorithm = swarmavg;slow_nodes = $SLOW"
  "swarmavg-g3+slow|algorithm = swarmavg;swarm_gamma = 3;slow_nodes = $SLOW"
  "swarmavg-b1|algorithm = swarmavg;swarm_beta = 1"
  "swarmavg-b1+slow|algorithm = swarmavg;swarm_beta = 1;slow_nodes = $SLOW"
)
printf '%-18s %16s %16s %14s %8s\n' run "fast: median/s" "fast: slowest/s" "slow node/s" wall_s
for entry in "${RUNS[@]}"; do
  name=${entry%%|*}
  IFS=';' read -r -a keys <<<"${entry#*|}"
  sets=()
  for k in "${keys[@]}" "step_pause = $PAUSE" "test_after = $ITER" "train_evaluate_after = 0"; do sets+=(--set "$k"); done
  "$ROOT/scripts/compare_algorithms.sh" --algorithms "${keys[0]#algorithm = }" --iterations "$ITER" \
    --log-dir "$LOGDIR/$name" "${PORT[@]}" "${sets[@]}" >"$LOGDIR/$name.out" 2>&1 || true
  wall=$(grep -o 'wall_s=[0-9.]*' "$LOGDIR/$name.out" | tail -n 1 | cut -d= -f2)
  rates=$("$BIN/peerctl" report --nodes --log-dir "$LOGDIR/$name" 2>/dev/null | awk 'NR > 1 { print $1, $5 }')
  fast=$(awk -v s="$SLOW_UID" '$1 != s { print $2 }' <<<"$rates" | sort -g)
  median=$(awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }' <<<"$fast")
  slowest=$(head -n 1 <<<"$fast")
  slow=$(awk -v s="$SLOW_UID" '$1 == s { print $2 }' <<<"$rates")
  printf '%-18s %16s %16s %14s %8s\n' "$name" "${median:--}" "${slowest:--}" "${slow:--}" "${wall:--}"
done
echo "$SELF: runs in $LOGDIR (peerctl report --nodes --log-dir $LOGDIR/<run>/<algorithm>)"
