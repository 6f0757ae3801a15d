#!/usr/bin/env bash
# Starts a peerd cluster: procs-per-machine processes on every machine of the IP file.
#
# Every machine runs a small agent (scripts/lib/host_agent.sh, sent inline) that starts its
# nodes, writes their pid files and reports on them. Local machines (127.x, localhost, ::1, this
# host's name or one of its addresses) run the agent directly; others through --remote-cmd
# (default: ssh). With no arguments it runs the embedded default: 16 nodes, 4-regular graph,
# D-PSGD, logistic regression on MNIST when the data is found, otherwise on Synthetic data.
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SELF=launch_cluster.sh
COMMAND_LINE=("$0" "$@")
usage() {
  cat <<USAGE
Usage: scripts/launch_cluster.sh [options]

Options (all optional):
  --config FILE            INI config (default: configs/dpsgd_mnist_logreg.ini when MNIST is
                           available, else configs/dpsgd_synthetic.ini)
  --graph FILE             graph file (default: a generated regular graph over all nodes)
  --ip FILE                IP-address JSON, machine id -> host (default: one local machine)
  --procs-per-machine N    peerd processes per machine (default: nodes / number of machines)
  --nodes N                total nodes when the graph is generated (default 16)
  --degree D               degree of the generated regular graph (default 4)
  --seed S                 seed for the generated graph (default 1)
  --iterations N           communication rounds (overrides [NODE] iterations)
  --test-after N           evaluate every N rounds (overrides [NODE] test_after)
  --log-dir DIR            run directory (default: runs/<date-time>)
  --remote-cmd CMD         how to reach a remote host (default: "ssh -o BatchMode=yes" with
                           keep-alives); called as: CMD HOST 'shell command', like ssh;
                           scripts/slurm/srun-remote.sh runs it inside a Slurm allocation
  --ssh-config FILE        use this ssh config (ssh -F FILE), e.g. the test bed's
  --remote-root DIR        peerd checkout on remote hosts (default: this checkout's path)
  --gather                 nothing is shared with remote hosts: copy the config, graph and IP
                           file to each of them, and rsync each machine's results back into
                           the run directory at the end (needs rsync on every host)
  --remote-log-dir DIR     with --gather: where remote hosts write (default: the --log-dir path)
  --stop-grace S           seconds between SIGTERM and SIGKILL when stopping nodes (default 10)
  --peerd PATH             local peerd binary (default: .build/release/peerd, built if missing)
  -h, --help               this help

Before anything starts it validates the inputs and prints what the run will do (peerctl check),
reaches every host, and checks there that every node's port (base_port + uid) can be bound on
the host's address. The run directory gets manifest.json and inputs/ (the config, graph and IP
file as started, the command line, the commit), one folder per machine (machine0/, ...) holding
each node's <uid>.log, <uid>.out, <uid>.err, <uid>_results.json and <uid>_events.jsonl, and
nodes.tsv with every node's outcome. Progress comes from peerctl watch; at the end it prints the
report (peerctl report) and draws the mean test curve across nodes into <run>/test_curve.png
(accuracy, or RMSE for MovieLens; its data in test_curve.csv) when matplotlib is installed.
When the config says [NODE] algorithm = fedavg, the graph's nodes are FedAvg's clients and machine 0
also runs their server (uid = the node count, port base_port + that uid), with the same options.
A node that fails at start aborts the run; a node lost during the run (crash, kill, host gone)
does not stop the others and is named at the end. Ctrl-C, SIGTERM and SIGHUP stop every process
the launcher started, on every host (found through its pid files, not by name).
Exit status: 0 every node finished; 1 some node was lost or trained alone (named); 2 bad usage,
input or host (nothing started); 3 a node failed at start and the run was aborted;
128+N stopped by signal N.
USAGE
}

die() { echo "$SELF: $*" >&2; exit 2; }
need_value() { [ "$2" -ge 2 ] && [ -n "$3" ] || die "$1 needs a value (see --help)"; }
whole() { [[ "$2" =~ ^[0-9]+$ ]] || die "$1 must be a whole number, got '$2'"; }
positive() { whole "$1" "$2"; [ "$2" -ge 1 ] || die "$1 must be at least 1, got '$2'"; }

CONFIG="" GRAPH="" IPFILE="" PPM="" NODES=16 DEGREE=4 ITER="" TESTAFTER="" LOGDIR="" SEED=1
REMOTE_CMD="" SSH_CONFIG="" REMOTE_ROOT="$ROOT" PEERD="" GATHER=0 REMOTE_LOGDIR="" GRACE=10
while [ $# -gt 0 ]; do
  opt=$1
  case "$opt" in
    -h | --help) usage; exit 0 ;;
    --gather) GATHER=1; shift; continue ;;
    --config | --graph | --ip | --procs-per-machine | --nodes | --degree | --iterations | --test-after \
      | --log-dir | --remote-cmd | --ssh-config | --remote-root | --remote-log-dir | --seed | --peerd \
      | --stop-grace) need_value "$opt" $# "${2-}" ;;
    *) die "unknown option '$opt' (see --help)" ;;
  esac
  val=$2
  shift 2
  case "$opt" in
    --config) CONFIG=$val ;;
    --graph) GRAPH=$val ;;
    --ip) IPFILE=$val ;;
    --procs-per-machine) positive "$opt" "$val"; PPM=$val ;;
    --nodes) positive "$opt" "$val"; NODES=$val ;;
    --degree) positive "$opt" "$val"; DEGREE=$val ;;
    --iterations) positive "$opt" "$val"; ITER=$val ;;
    --test-after) whole "$opt" "$val"; TESTAFTER=$val ;;
    --log-dir) LOGDIR=$val ;;
    --remote-cmd) REMOTE_CMD=$val ;;
    --ssh-config) SSH_CONFIG=$val ;;
    --remote-root) REMOTE_ROOT=$val ;;
    --remote-log-dir) REMOTE_LOGDIR=$val ;;
    --seed) whole "$opt" "$val"; SEED=$val ;;
    --peerd) PEERD=$val ;;
    --stop-grace) positive "$opt" "$val"; GRACE=$val ;;
  esac
done
if [ -n "$SSH_CONFIG" ]; then
  [ -z "$REMOTE_CMD" ] || die "give --ssh-config or --remote-cmd, not both (put -F FILE into the command)"
  [ -f "$SSH_CONFIG" ] || die "--ssh-config '$SSH_CONFIG' not found"
  SSH_CONFIG="$(cd "$(dirname "$SSH_CONFIG")" && pwd)/$(basename "$SSH_CONFIG")"
fi
REMOTE_CMD=${REMOTE_CMD:-ssh ${SSH_CONFIG:+-F $SSH_CONFIG} -o BatchMode=yes -o ServerAliveInterval=5 -o ServerAliveCountMax=3}
[ -z "$REMOTE_LOGDIR" ] || [ "$GATHER" = 1 ] || die "--remote-log-dir needs --gather (without it, remote hosts share the run directory)"
case "$REMOTE_LOGDIR" in "" | /*) ;; *) die "--remote-log-dir must be an absolute path, got '$REMOTE_LOGDIR'" ;; esac

cd "$ROOT" || die "cannot enter $ROOT"
BIN_DIR="$ROOT/.build/release"
if [ -z "$PEERD" ]; then
  PEERD="$BIN_DIR/peerd"
  if [ ! -x "$PEERD" ] || [ ! -x "$BIN_DIR/peerctl" ]; then
    echo "$SELF: building peerd (release)…"
    swift build -c release --product peerd >/dev/null && swift build -c release --product peerctl >/dev/null \
      || { echo "$SELF: build failed; run scripts/setup.sh" >&2; exit 1; }
  fi
fi
[ -x "$PEERD" ] || die "no peerd binary at $PEERD"
PEERD="$(cd "$(dirname "$PEERD")" && pwd)/$(basename "$PEERD")"
PEERCTL="$(dirname "$PEERD")/peerctl"
[ -x "$PEERCTL" ] || die "no peerctl binary beside $PEERD"
export OPENBLAS_NUM_THREADS=1

abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
if [ -z "$CONFIG" ]; then
  if "$PEERCTL" data --quiet mnist >/dev/null 2>&1; then CONFIG="$ROOT/configs/dpsgd_mnist_logreg.ini"
  else CONFIG="$ROOT/configs/dpsgd_synthetic.ini"; fi
fi
[ -f "$CONFIG" ] || die "config '$CONFIG' not found"
CONFIG=$(abs "$CONFIG")
[ -z "$GRAPH" ] || { [ -f "$GRAPH" ] || die "graph '$GRAPH' not found"; GRAPH=$(abs "$GRAPH"); }
[ -z "$IPFILE" ] || { [ -f "$IPFILE" ] || die "IP file '$IPFILE' not found"; IPFILE=$(abs "$IPFILE"); }

RUN_ID="run-$(date +%Y%m%d-%H%M%S)-$$"
LOGDIR="${LOGDIR:-$ROOT/runs/$RUN_ID}"
mkdir -p "$LOGDIR" || die "cannot create $LOGDIR"
LOGDIR="$(cd "$LOGDIR" && pwd)"
CTRL="$LOGDIR/launcher"
mkdir -p "$CTRL"
REMOTE_LOGDIR=${REMOTE_LOGDIR:-$LOGDIR}

if [ -z "$IPFILE" ]; then
  IPFILE="$LOGDIR/ip.json"
  echo '{"0": "127.0.0.1"}' >"$IPFILE"
fi
MIDS=() HOSTS=()
while read -r mid host; do MIDS+=("$mid"); HOSTS+=("$host"); done < <("$PEERCTL" hosts --ip "$IPFILE")
[ "${#HOSTS[@]}" -gt 0 ] || { "$PEERCTL" hosts --ip "$IPFILE" >&2; exit 2; }
M=${#HOSTS[@]}

if [ -z "$GRAPH" ]; then
  GRAPH="$LOGDIR/graph.edges"
  "$PEERCTL" graph --type regular --nodes "$NODES" --degree "$DEGREE" --seed "$SEED" -o "$GRAPH" >/dev/null || exit 2
fi
TOTAL=$("$PEERCTL" graph-info --graph "$GRAPH" --nodes-only) || exit 2
[ -n "$PPM" ] || PPM=$(((TOTAL + M - 1) / M))
[ $((PPM * M)) -eq "$TOTAL" ] || die "the graph has $TOTAL nodes but $M machine(s) x $PPM procs = $((PPM * M))"

# Validate everything once, before any process starts.
"$PEERCTL" check --config "$CONFIG" --graph "$GRAPH" --ip "$IPFILE" --procs-per-machine "$PPM" ${ITER:+--iterations "$ITER"} || exit 2
EXTRA=()
[ -n "$ITER" ] && EXTRA+=(--iterations "$ITER")
[ -n "$TESTAFTER" ] && EXTRA+=(--test-after "$TESTAFTER")
ITERATIONS=$("$PEERCTL" check --config "$CONFIG" --print iterations ${ITER:+--iterations "$ITER"}) || exit 2
BASE_PORT=$("$PEERCTL" check --config "$CONFIG" --print base-port) || exit 2
# FedAvg runs a server besides the graph's nodes (its clients): uid n, on machine 0 at
# base_port + n (docs/configuration.md, "The FedAvg server").
SERVER_UID=""
[ "$("$PEERCTL" check --config "$CONFIG" --print algorithm)" != fedavg ] || SERVER_UID=$TOTAL

# shellcheck source=lib/launch_hosts.sh source-path=SCRIPTDIR
. "$ROOT/scripts/lib/launch_hosts.sh"
preflight
[ "$GATHER" = 0 ] || push_inputs

# The run folder's record of what started it (manifest.json, inputs/), before any node starts.
MANIFEST_ARGS=(--writer "$SELF" --config "$CONFIG" --graph "$GRAPH" --ip "$IPFILE" --procs-per-machine "$PPM")
[ -z "$ITER" ] || MANIFEST_ARGS+=(--iterations "$ITER")
for i in "${!HOSTS[@]}"; do [ "${IS_LOCAL[$i]}" = 1 ] || MANIFEST_ARGS+=(--remote "$i"); done
[ "$GATHER" = 0 ] || MANIFEST_ARGS+=(--remote-log-dir "$REMOTE_LOGDIR")
"$PEERCTL" manifest "$LOGDIR" "${MANIFEST_ARGS[@]}" -- "${COMMAND_LINE[@]}" || exit 2

echo "$SELF: $TOTAL nodes on $M machine(s)${SERVER_UID:+ and the FedAvg server (uid $SERVER_UID, machine 0)}, config $(basename "$CONFIG"), graph $GRAPH"
echo "$SELF: run directory $LOGDIR${REMOTE:+ (remote hosts through '$REMOTE_CMD')}"
START=$(date +%s.%N)
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
trap 'on_signal HUP 129' HUP
start_agents
start_watch
monitor
stop_watch
END=$(date +%s.%N)
[ "$GATHER" = 0 ] || gather_results
echo "$SELF: finished in $(awk -v a="$START" -v b="$END" 'BEGIN{printf "%.1f", b-a}') s"
summarize
status=$?
if [ -n "$SIGNALLED" ]; then
  "$PEERCTL" manifest "$LOGDIR" --ended "$SIGNAL_STATUS" 2>/dev/null
  echo "$SELF: stopped by SIG$SIGNALLED; every process of $RUN_ID was stopped" >&2
  exit "$SIGNAL_STATUS"
fi
if [ -n "$ABORTED" ]; then
  "$PEERCTL" manifest "$LOGDIR" --ended 3 2>/dev/null
  echo "$SELF: ABORTED at start: $ABORTED" >&2
  exit 3
fi
"$PEERCTL" manifest "$LOGDIR" --ended "$status" || true
"$PEERCTL" report "$LOGDIR" || true
echo "$SELF: results in $LOGDIR (peerctl report $LOGDIR; peerctl watch $LOGDIR; peerctl plot $LOGDIR -o FIG.png)"
draw_plot
exit "$status"
