#!/usr/bin/env bash
# Runs D-PSGD, RWM, SwarmAvg, FedAvg and Epidemic Learning on the same data, graph and seed, one
# after the other through scripts/launch_cluster.sh, and prints one table: final mean accuracy
# (or RMSE), rounds reached, training and wall time, MB sent per node (docs/algorithms.md).
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SELF=compare_algorithms.sh
usage() {
  cat <<USAGE
Usage: scripts/compare_algorithms.sh [options]

  --config FILE        the shared config (default: configs/dpsgd_mnist_logreg.ini); only
                       [NODE] algorithm changes between runs (and the --set keys)
  --nodes N            nodes of the generated regular graph (default 16)
  --degree D           its degree (default 4)
  --seed S             its seed (default 1)
  --iterations N       rounds or iterations per run (default 100)
  --algorithms "A B"   which to run, in order (default "dpsgd rwm swarmavg fedavg epidemic")
  --set "key = value"  a [NODE] key for every run; repeat (default for fedavg: client_fraction = 0.5)
  --base-port P        [COMMUNICATION] base_port for every run (default: the config's); the
                       runs use ports P … P + n
  --log-dir DIR        one folder per algorithm under DIR (default: runs/compare-<date-time>)
  -h, --help           this help

Every run uses the same graph file and the config's random_seed. FedAvg runs the graph's nodes as
clients plus their server (uid n). "MB_sent/node" is all model traffic of the run over the n
graph nodes (FedAvg's server included); "time_s" is the longest any node trained, "wall_s" the
launcher's whole run (start-up and data loading included).
USAGE
}

die() { echo "$SELF: $*" >&2; exit 2; }
CONFIG="$ROOT/configs/dpsgd_mnist_logreg.ini" NODES=16 DEGREE=4 SEED=1 ITER=100 LOGDIR="" PORT=""
ALGORITHMS="dpsgd rwm swarmavg fedavg epidemic"
SETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --config | --nodes | --degree | --seed | --iterations | --algorithms | --set | --log-dir | --base-port)
      [ $# -ge 2 ] || die "$1 needs a value (see --help)" ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  case "$1" in
    --config) CONFIG=$2 ;;
    --nodes) NODES=$2 ;;
    --degree) DEGREE=$2 ;;
    --seed) SEED=$2 ;;
    --iterations) ITER=$2 ;;
    --algorithms) ALGORITHMS=$2 ;;
    --set) [[ "$2" == *=* ]] || die "--set needs 'key = value', got '$2'"; SETS+=("$2") ;;
    --log-dir) LOGDIR=$2 ;;
    --base-port) PORT=$2 ;;
  esac
  shift 2
done
for v in NODES DEGREE SEED ITER ${PORT:+PORT}; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "--${v,,} must be a whole number, got '${!v}'"
done
[ -f "$CONFIG" ] || die "config '$CONFIG' not found"

BIN="$ROOT/.build/release"
if [ ! -x "$BIN/peerd" ] || [ ! -x "$BIN/peerctl" ]; then
  (cd "$ROOT" && swift build -c release --product peerd >/dev/null && swift build -c release --product peerctl >/dev/null) \
    || die "build failed; run scripts/setup.sh"
fi
LOGDIR="${LOGDIR:-$ROOT/runs/compare-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$LOGDIR" || die "cannot create $LOGDIR"
LOGDIR="$(cd "$LOGDIR" && pwd)"
GRAPH="$LOGDIR/graph.edges"
"$BIN/peerctl" graph --type regular --nodes "$NODES" --degree "$DEGREE" --seed "$SEED" -o "$GRAPH" >/dev/null || exit 2

# The config with keys of one section replaced (or added): section, then "key = value" lines.
with_keys() {
  local section=$1 src=$2
  shift 2
  awk -v want="$section" -v sets="$(printf '%s\n' "$@")" '
    BEGIN { n = split(sets, lines, "\n"); for (i = 1; i <= n; i++) if (lines[i] != "") {
              k = lines[i]; sub(/[ \t]*=.*/, "", k); gsub(/^[ \t]+/, "", k); keys[tolower(k)] = lines[i] } }
    /^\[/ { if (section == want) flush(); section = substr($0, 2, index($0, "]") - 2) }
    section == want && /^[ \t]*[A-Za-z_]+[ \t]*[=:]/ {
      k = $0; sub(/[ \t]*[=:].*/, "", k); gsub(/^[ \t]+/, "", k); if (tolower(k) in keys) next }
    { print }
    function flush() { for (k in keys) print keys[k]; done = 1 }
    END { if (section == want) flush(); else if (!done) { print "[" want "]"; for (k in keys) print keys[k] } }
  ' "$src"
}

echo "$SELF: $ALGORITHMS on $NODES nodes ($DEGREE-regular, graph seed $SEED), $ITER rounds, config $(basename "$CONFIG")"
echo "$SELF: runs under $LOGDIR"
ROWS=()
for alg in $ALGORITHMS; do
  keys=("algorithm = $alg" "${SETS[@]}")
  if [ "$alg" = fedavg ] && ! printf '%s\n' "${SETS[@]}" | grep -Eq '^(client_fraction|clients_per_round)'; then
    keys+=("client_fraction = 0.5")
  fi
  if [ -n "$PORT" ]; then
    with_keys COMMUNICATION "$CONFIG" "base_port = $PORT" | with_keys NODE /dev/stdin "${keys[@]}" >"$LOGDIR/$alg.ini"
  else
    with_keys NODE "$CONFIG" "${keys[@]}" >"$LOGDIR/$alg.ini"
  fi
  start=$(date +%s.%N)
  "$ROOT/scripts/launch_cluster.sh" --config "$LOGDIR/$alg.ini" --graph "$GRAPH" --iterations "$ITER" \
    --log-dir "$LOGDIR/$alg" >"$LOGDIR/$alg.launch.log" 2>&1
  status=$?
  wall=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  if line=$("$BIN/peerctl" report --summary --log-dir "$LOGDIR/$alg" 2>&1); then
    ROWS+=("$line  wall_s=$wall$([ $status -eq 0 ] || echo "  (launcher exit $status)")")
  else
    ROWS+=("$alg: no results ($line; launcher exit $status, see $LOGDIR/$alg.launch.log)")
  fi
  echo "$SELF: $alg done in $wall s (launcher exit $status)"
done
echo
echo "$("$BIN/peerctl" report --summary --header --log-dir "$LOGDIR/${ALGORITHMS%% *}" 2>/dev/null | head -n 1)"
printf '%s\n' "${ROWS[@]}"
