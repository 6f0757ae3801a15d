#!/usr/bin/env bash
# Starts a peerd cluster: procs-per-machine processes on every machine of the IP file.
#
# Local machines (127.x, localhost, ::1, or this host's name) run their processes directly;
# others are reached with --remote-cmd (default: ssh), which may also be an srun wrapper.
# With no arguments it runs the embedded default: 16 nodes, 4-regular graph, D-PSGD,
# logistic regression on MNIST when the data is found, otherwise on Synthetic data.
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
usage() {
  cat <<USAGE
Usage: scripts/launch_cluster.sh [options]

Options (all optional):
  --config FILE            INI config (default: configs/dpsgd_mnist_logreg.ini when MNIST is
                           available, else configs/dpsgd_synthetic.ini)
  --graph FILE             graph file (default: a generated 4-regular graph over all nodes)
  --ip FILE                IP-address JSON, machine id -> host (default: one local machine)
  --procs-per-machine N    peerd processes per machine (default: 16 / number of machines)
  --nodes N                total nodes when the graph is generated (default 16)
  --degree D               degree of the generated regular graph (default 4)
  --iterations N           communication rounds (overrides [NODE] iterations)
  --test-after N           evaluate every N rounds (overrides [NODE] test_after)
  --log-dir DIR            run directory (default: runs/<date-time>)
  --remote-cmd CMD         command prefix to reach a remote host (default: "ssh -o BatchMode=yes");
                           it is called as: CMD HOST 'shell command'
  --remote-root DIR        peerd checkout on remote hosts (default: this checkout's path)
  --seed S                 seed for the generated graph (default 1)
  --peerd PATH             peerd binary (default: .build/release/peerd, built if missing)
  -h, --help               this help

The run directory gets one folder per machine (machine0/, machine1/, ...) holding each
node's <uid>.log, <uid>.out and <uid>_results.json. Ctrl-C stops every process it started.
Exit status: 0 when every node finished, 1 when any node failed (it is named), 2 on bad usage.
USAGE
}

CONFIG="" GRAPH="" IPFILE="" PPM="" NODES=16 DEGREE=4 ITER="" TESTAFTER="" LOGDIR="" SEED=1
REMOTE_CMD="ssh -o BatchMode=yes" REMOTE_ROOT="$ROOT" PEERD=""
while [ $# -gt 0 ]; do
  case "$1" in
    --config) CONFIG="$2"; shift 2 ;;
    --graph) GRAPH="$2"; shift 2 ;;
    --ip) IPFILE="$2"; shift 2 ;;
    --procs-per-machine) PPM="$2"; shift 2 ;;
    --nodes) NODES="$2"; shift 2 ;;
    --degree) DEGREE="$2"; shift 2 ;;
    --iterations) ITER="$2"; shift 2 ;;
    --test-after) TESTAFTER="$2"; shift 2 ;;
    --log-dir) LOGDIR="$2"; shift 2 ;;
    --remote-cmd) REMOTE_CMD="$2"; shift 2 ;;
    --remote-root) REMOTE_ROOT="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --peerd) PEERD="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "launch_cluster.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in NODES DEGREE SEED; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "launch_cluster.sh: --${v,,} must be a whole number, got '${!v}'" >&2; exit 2; }
done

cd "$ROOT"
BIN_DIR="$ROOT/.build/release"
if [ -z "$PEERD" ]; then
  PEERD="$BIN_DIR/peerd"
  if [ ! -x "$PEERD" ] || [ ! -x "$BIN_DIR/peerctl" ]; then
    echo "launch_cluster.sh: building peerd (release)…"
    swift build -c release --product peerd >/dev/null && swift build -c release --product peerctl >/dev/null \
      || { echo "launch_cluster.sh: build failed; run scripts/setup.sh" >&2; exit 1; }
  fi
fi
PEERCTL="$(dirname "$PEERD")/peerctl"
[ -x "$PEERD" ] || { echo "launch_cluster.sh: no peerd binary at $PEERD" >&2; exit 2; }

# A single BLAS thread per process: many peers share the cores.
export OPENBLAS_NUM_THREADS=1

if [ -z "$CONFIG" ]; then
  if "$PEERCTL" data --quiet mnist >/dev/null 2>&1; then CONFIG="$ROOT/configs/dpsgd_mnist_logreg.ini"
  else CONFIG="$ROOT/configs/dpsgd_synthetic.ini"; fi
fi
[ -f "$CONFIG" ] || { echo "launch_cluster.sh: config '$CONFIG' not found" >&2; exit 2; }

RUN_ID="run-$(date +%Y%m%d-%H%M%S)-$$"
LOGDIR="${LOGDIR:-$ROOT/runs/$RUN_ID}"
mkdir -p "$LOGDIR" || { echo "launch_cluster.sh: cannot create $LOGDIR" >&2; exit 2; }
LOGDIR="$(cd "$LOGDIR" && pwd)"

if [ -z "$IPFILE" ]; then
  IPFILE="$LOGDIR/ip.json"
  echo '{"0": "127.0.0.1"}' > "$IPFILE"
fi
MACHINES=()
while read -r mid host; do MACHINES+=("$mid:$host"); done < <("$PEERCTL" hosts --ip "$IPFILE") || true
[ "${#MACHINES[@]}" -gt 0 ] || { "$PEERCTL" hosts --ip "$IPFILE" >&2; exit 2; }
M=${#MACHINES[@]}

if [ -z "$GRAPH" ]; then
  GRAPH="$LOGDIR/graph.edges"
  "$PEERCTL" graph --type regular --nodes "$NODES" --degree "$DEGREE" --seed "$SEED" -o "$GRAPH" >/dev/null || exit 2
fi
TOTAL=$("$PEERCTL" graph-info --graph "$GRAPH" --nodes-only) || exit 2
if [ -z "$PPM" ]; then
  PPM=$(( (TOTAL + M - 1) / M ))
fi
if [ $(( PPM * M )) -ne "$TOTAL" ]; then
  echo "launch_cluster.sh: the graph has $TOTAL nodes but $M machine(s) x $PPM procs = $(( PPM * M ))" >&2
  exit 2
fi

# Validate everything once, before any process starts.
"$PEERCTL" check --config "$CONFIG" --graph "$GRAPH" --ip "$IPFILE" --procs-per-machine "$PPM" ${ITER:+--iterations "$ITER"} || exit 2

EXTRA=()
[ -n "$ITER" ] && EXTRA+=(--iterations "$ITER")
[ -n "$TESTAFTER" ] && EXTRA+=(--test-after "$TESTAFTER")
ITERATIONS=$("$PEERCTL" check --config "$CONFIG" --print iterations ${ITER:+--iterations "$ITER"})

is_local() {
  case "$1" in
    127.*|localhost|::1|"$(hostname)"|"$(hostname -f 2>/dev/null)") return 0 ;;
  esac
  return 1
}

PIDS=() UIDS=() REMOTE_PIDS=() REMOTE_HOSTS=()
cleanup() {
  trap - INT TERM
  echo
  echo "launch_cluster.sh: stopping every process of $RUN_ID…"
  for pid in "${PIDS[@]}" "${REMOTE_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for host in "${REMOTE_HOSTS[@]}"; do
    $REMOTE_CMD "$host" "pkill -f -- '--run-id $RUN_ID'" 2>/dev/null &
  done
  wait 2>/dev/null
  exit 130
}
trap cleanup INT TERM

START=$(date +%s.%N)
echo "launch_cluster.sh: $TOTAL nodes on $M machine(s), config $(basename "$CONFIG"), graph $GRAPH"
echo "launch_cluster.sh: run directory $LOGDIR"
for entry in "${MACHINES[@]}"; do
  mid=${entry%%:*}; host=${entry#*:}
  mdir="$LOGDIR/machine$mid"
  mkdir -p "$mdir"
  if is_local "$host"; then
    for ((rank = 0; rank < PPM; rank++)); do
      uid=$(( mid * PPM + rank ))
      "$PEERD" --machine-id "$mid" --rank "$rank" --procs-per-machine "$PPM" --machines "$M" \
        --config "$CONFIG" --graph "$GRAPH" --ip "$IPFILE" --log-dir "$mdir" --run-id "$RUN_ID" \
        "${EXTRA[@]}" >"$mdir/$uid.out" 2>>"$mdir/$uid.err" &
      PIDS+=($!); UIDS+=("$uid")
    done
  else
    REMOTE_HOSTS+=("$host")
    cmd="cd '$REMOTE_ROOT' && mkdir -p '$mdir' && export OPENBLAS_NUM_THREADS=1 && fail=0 && for r in \$(seq 0 $((PPM - 1))); do \
      .build/release/peerd --machine-id $mid --rank \$r --procs-per-machine $PPM --machines $M --config '$CONFIG' \
      --graph '$GRAPH' --ip '$IPFILE' --log-dir '$mdir' --run-id '$RUN_ID' ${EXTRA[*]} > '$mdir/'\$(( $mid * $PPM + \$r )).out 2>&1 & done; \
      for j in \$(jobs -p); do wait \$j || fail=1; done; exit \$fail"
    $REMOTE_CMD "$host" "$cmd" &
    REMOTE_PIDS+=($!)
    echo "launch_cluster.sh: machine $mid ($host): $PPM processes started through '$REMOTE_CMD'"
  fi
done

# Progress: the last progress line of each local node's stdout.
progress() {
  local done_min=-1 acc_sum=0 acc_n=0 line r a
  for uid in "${UIDS[@]}"; do
    f="$LOGDIR/machine$(( uid / PPM ))/$uid.out"
    line=$(grep '^progress' "$f" 2>/dev/null | tail -n 1)
    r=$(sed -n 's/.* round=\([0-9]*\)\/.*/\1/p' <<<"$line"); r=${r:-0}
    if [ "$done_min" -lt 0 ] || [ "$r" -lt "$done_min" ]; then done_min=$r; fi
    a=$(grep -o 'test_acc=[0-9.]*\|test_rmse=[0-9.]*' "$f" 2>/dev/null | tail -n 1)
    if [ -n "$a" ]; then acc_sum=$(awk -v s="$acc_sum" -v x="${a#*=}" 'BEGIN{print s+x}'); acc_n=$((acc_n + 1)); metric=${a%%=*}; fi
  done
  local msg="rounds done: ${done_min}/${ITERATIONS} (slowest local node)"
  if [ "$acc_n" -gt 0 ]; then msg+=", mean $metric $(awk -v s="$acc_sum" -v n="$acc_n" 'BEGIN{printf "%.3f", s/n}') over $acc_n nodes"; fi
  echo "launch_cluster.sh: $msg"
}

FAILED=()
running=1
while [ "$running" -eq 1 ]; do
  running=0
  for pid in "${PIDS[@]}" "${REMOTE_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && running=1 && break; done
  [ "$running" -eq 1 ] || break
  sleep 2
  progress
done
for i in "${!PIDS[@]}"; do
  wait "${PIDS[$i]}"; rc=$?
  [ "$rc" -eq 0 ] || FAILED+=("node ${UIDS[$i]} (exit $rc, see $LOGDIR/machine$(( UIDS[i] / PPM ))/${UIDS[$i]}.err)")
done
for i in "${!REMOTE_PIDS[@]}"; do
  wait "${REMOTE_PIDS[$i]}" || FAILED+=("a node on remote host ${REMOTE_HOSTS[$i]}")
done
progress
END=$(date +%s.%N)
echo "launch_cluster.sh: finished in $(awk -v a="$START" -v b="$END" 'BEGIN{printf "%.1f", b-a}') s"
if [ "${#FAILED[@]}" -gt 0 ]; then
  for f in "${FAILED[@]}"; do echo "launch_cluster.sh: FAILED: $f" >&2; done
  exit 1
fi
"$PEERCTL" report --log-dir "$LOGDIR" || true
echo "launch_cluster.sh: results in $LOGDIR (peerctl report --log-dir $LOGDIR; peerctl plot --log-dir $LOGDIR)"
