#!/usr/bin/env bash
# Benchmark (not in CI): issue 14's acceptance table on real processes. 16 peerd processes on
# this machine, 4-regular graph, D-PSGD, MNIST logistic regression 784→10, SGD lr 0.05, 5 steps
# of batch 16 a round, the same seed for every run; one run per sharing method, through the
# launcher. Prints bytes per node per round, accuracy at the last round and round times from
# the nodes' own <uid>_results.json; docs/performance.md records the table.
#
# Round times are then compared side by side: full sharing, PartialModel and TopK run at the
# same time, --repeats times, without evaluation, and each partial run's median round is divided
# by that of the full-sharing run beside it (the load of a shared machine drifts between runs);
# so is the CPU a round costs a node (cpu_time in the results), which waiting does not inflate.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SELF=bench_sharing_cluster.sh
usage() {
  cat <<USAGE
Usage: scripts/bench_sharing_cluster.sh [options]

  --rounds N         rounds of every accuracy run (default 100)
  --one-bit-rounds N rounds of the 1-bit CHOCO run (default 200; evaluated at --rounds too)
  --timing-rounds N  rounds of each round-time run (default 100)
  --repeats N        full / PartialModel / TopK round-time triples (default 3; 0: none)
  --only LIST        comma-separated subset of: full,partial,randomalpha,subsampling,topk,q8,q1
                     (default: all; none: only the round-time runs)
  --seed S           random_seed of every run and the graph's seed (default 90)
  --partial-averaging RULE
                     [SHARING] partial_averaging of every run (default: the config's default)
  --out DIR          where runs go (default: /tmp/peerd-bench-sharing)
  -h, --help         this help
USAGE
}
die() { echo "$SELF: $*" >&2; exit 2; }
number() { [[ "$2" =~ ^[0-9]+$ ]] || die "$1 must be a whole number, got '$2'"; }
ROUNDS=100 ONE_BIT=200 TIMING=100 REPEATS=3 SEED=90 OUT=/tmp/peerd-bench-sharing AVERAGING=
ONLY="full,partial,randomalpha,subsampling,topk,q8,q1"
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --rounds | --one-bit-rounds | --timing-rounds | --repeats | --only | --seed | --out | --partial-averaging)
      if [ $# -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value"; fi ;;&
    --rounds) number "$1" "$2"; ROUNDS=$2; shift 2 ;;
    --one-bit-rounds) number "$1" "$2"; ONE_BIT=$2; shift 2 ;;
    --timing-rounds) number "$1" "$2"; TIMING=$2; shift 2 ;;
    --repeats) number "$1" "$2"; REPEATS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --seed) number "$1" "$2"; SEED=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --partial-averaging) AVERAGING=$2; shift 2 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
if [ "$ROUNDS" -lt 1 ] || [ "$TIMING" -lt 3 ]; then die "--rounds must be at least 1 and --timing-rounds at least 3"; fi
command -v python3 >/dev/null || die "python3 is needed to summarise the results files"
cd "$ROOT"
if ! swift build -c release --product peerd >/dev/null || ! swift build -c release --product peerctl >/dev/null; then
  die "release build failed"
fi
"$ROOT/.build/release/peerctl" data --quiet mnist || die "MNIST not found; run scripts/download_datasets.sh"
mkdir -p "$OUT"

# The method's [SHARING] section, as a decentralizepy config would name it.
sharing() {
  case "$1" in
    full) printf 'sharing_package = decentralizepy.sharing.Sharing\nsharing_class = Sharing\n' ;;
    partial) printf 'sharing_package = decentralizepy.sharing.PartialModel\nsharing_class = PartialModel\nalpha = 0.1\n' ;;
    randomalpha) printf 'sharing_package = decentralizepy.sharing.RandomAlpha\nsharing_class = RandomAlpha\n' ;;
    subsampling) printf 'sharing_package = decentralizepy.sharing.SubSampling\nsharing_class = SubSampling\nalpha = 0.1\n' ;;
    topk) printf 'sharing_package = decentralizepy.sharing.TopK\nsharing_class = TopK\nalpha = 0.1\n' ;;
    q8) printf 'sharing_package = decentralizepy.sharing.Quantize\nsharing_class = Quantize\nbits = 8\n' ;;
    q1) printf 'sharing_package = decentralizepy.sharing.Quantize\nsharing_class = Quantize\nbits = 1\n' ;;
    *) die "unknown method '$1' in --only" ;;
  esac
}

# configs/dpsgd_mnist_logreg.ini with the issue's lr and local steps, the seed, the method's
# [SHARING], and evaluation only where asked ($3 = test_after, 0 for none).
config() { # method file test_after [base_port]
  local lines
  lines=$(sharing "$1")
  if [ -n "$AVERAGING" ]; then lines+=$'\n'"partial_averaging = $AVERAGING"; fi
  sed -e "s/^lr = .*/lr = 0.05/" -e "s/^rounds = .*/rounds = 5/" -e "s/^random_seed = .*/random_seed = $SEED/" \
    -e "s/^base_port = .*/base_port = ${4:-23000}/" -e "s/^test_after = .*/test_after = $3/" \
    -e "s/^train_evaluate_after = .*/train_evaluate_after = 0/" -e "/^sharing_/d" configs/dpsgd_mnist_logreg.ini \
    | awk -v lines="$lines" '{ print } /^\[SHARING\]/ { print lines }' >"$2"
}

run() { # label method rounds test_after [base_port]
  local label=$1 method=$2 rounds=$3 test_after=$4
  echo "$SELF: $label ($rounds rounds) …" >&2
  rm -rf "${OUT:?}/$label"
  config "$method" "$OUT/$label.ini" "$test_after" "${5:-23000}"
  "$ROOT/scripts/launch_cluster.sh" --config "$OUT/$label.ini" --iterations "$rounds" --test-after "$test_after" \
    --nodes 16 --degree 4 --seed "$SEED" --log-dir "$OUT/$label" >"$OUT/$label.out" 2>&1 \
    || die "run $label failed: see $OUT/$label.out"
}

LABELS=()
[ "$ONLY" != none ] || ONLY=""
for m in ${ONLY//,/ }; do
  sharing "$m" >/dev/null
  if [ "$m" = q1 ]; then
    run "$m" "$m" "$ONE_BIT" "$ROUNDS"
  else
    run "$m" "$m" "$ROUNDS" "$ROUNDS"
  fi
  LABELS+=("$m")
done
# The three clusters of a repeat run at the same time (48 processes), so that they share the
# same machine under the same load: each gets the same share of the cores, and a method that
# needs more CPU a round shows it in its round time.
TIMINGS=()
for i in $(seq 1 "$REPEATS"); do
  port=23100
  pids=()
  for m in full partial topk; do
    run "time$i-$m" "$m" "$TIMING" 0 "$port" &
    pids+=($!)
    TIMINGS+=("time$i-$m")
    port=$((port + 100))
  done
  for p in "${pids[@]}"; do wait "$p" || exit 2; done
done

echo "load average before the summary: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$OUT" "$ROUNDS" "$(IFS=,; echo "${LABELS[*]-}")" "$(IFS=,; echo "${TIMINGS[*]-}")" <<'PY'
import glob, json, os, statistics, sys
out, rounds, labels, timings = sys.argv[1], int(sys.argv[2]), [l for l in sys.argv[3].split(",") if l], sys.argv[4]
names = {"full": "`Sharing`", "partial": "`PartialModel`, `alpha = 0.1`", "randomalpha": "`RandomAlpha` (default list)",
         "subsampling": "`SubSampling`, `alpha = 0.1`", "topk": "`TopK`, `alpha = 0.1`", "q8": "`Quantize`, `bits = 8`",
         "q1": "`Quantize`, `bits = 1`"}

def records(label):
    rs = [json.load(open(f)) for f in glob.glob(os.path.join(out, label, "machine*", "*_results.json"))]
    if len(rs) != 16:
        sys.exit(f"{label}: {len(rs)} results files, expected 16")
    return rs

def series(r, key, at):
    return r[key][str(at)]

def median_round(rs, key="round_time"):
    # Round 1 waits for the slowest start; every node's median over the rest, then the median node.
    return statistics.median(statistics.median(v for k, v in r[key].items() if int(k) >= 2) for r in rs)

def cpu_round(rs, upto):
    # CPU seconds (user + system, all threads) a round cost each node, rounds 2..upto, the mean
    # node: start-up and round 1 are left out, and cpu_time is read before a round's evaluation.
    return statistics.mean((r["cpu_time"][str(upto)] - r["cpu_time"]["1"]) / (upto - 1) for r in rs)

full_bytes = None
rows = []
for label in labels:
    rs = records(label)
    last = max(int(k) for k in rs[0]["test_acc"])
    for at in sorted({rounds, last}):
        if str(at) not in rs[0]["test_acc"]:
            continue
        b = statistics.mean(series(r, "total_bytes", at) / at for r in rs)
        meta = statistics.mean(series(r, "total_meta", at) / at for r in rs)
        acc = [series(r, "test_acc", at) for r in rs]
        rejected = sum(sum(r.get("rejected_frames", {}).values()) for r in rs)
        downs = sum(sum(1 for e in r.get("peer_events", []) if e["kind"] == "down") for r in rs)
        if label == "full" and at == rounds:
            full_bytes, full_acc = b, statistics.mean(acc)
        cpu = cpu_round(rs, min(rounds, last)) * 1000
        rows.append((label, at, b, meta, statistics.mean(acc), min(acc), median_round(rs) * 1000, cpu, rejected, downs))

if rows:
    print("\n| method, `[SHARING]` | round | bytes per node per round | of which metadata | accuracy % (mean / min of 16)"
          " | − full sharing | median round ms | CPU ms per round | rejected frames | peers marked down |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for label, at, b, meta, mean, low, ms, cpu, rejected, downs in rows:
    share = f" ({b / full_bytes:.3f} ×)" if full_bytes and label != "full" else ""
    diff = f"{mean - full_acc:+.2f}" if full_bytes and at == rounds else "—"
    print(f"| {names[label]} | {at} | {b:,.0f}{share} | {meta:,.0f} | {mean:.2f} / {low:.2f} | {diff} | {ms:.1f} |"
          f" {cpu:.2f} | {rejected} | {downs} |")

if timings:
    print("\nRound times side by side (three clusters at once, no evaluation). Wall: median over nodes of each"
          " node's median round, ms (train / average: the node's own work in it; the rest is sending and waiting)."
          " CPU: ms of CPU (user + system, all threads) per node and round, rounds 2 to the last, the mean node:")
    print("| repeat | Sharing wall (train / average) | CPU | PartialModel wall (train / average) | × | CPU | × |"
          " TopK wall (train / average) | × | CPU | × |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    ratios = {"partial": [], "topk": []}
    cpu_ratios = {"partial": [], "topk": []}
    names_t = timings.split(",")
    for i in range(0, len(names_t), 3):
        cells, full, full_cpu = [], None, None
        for label in names_t[i:i + 3]:
            rs = records(label)
            t = median_round(rs) * 1000
            train = median_round(rs, "train_time") * 1000
            avg = median_round(rs, "average_time") * 1000
            last = max(int(k) for k in rs[0]["cpu_time"])
            cpu = cpu_round(rs, last) * 1000
            cell = f"{t:.1f} ({train:.2f} / {avg:.3f})"
            if label.endswith("-full"):
                full, full_cpu = t, cpu
                cells += [cell, f"{cpu:.2f}"]
            else:
                m = label.split("-")[1]
                ratios[m].append(t / full)
                cpu_ratios[m].append(cpu / full_cpu)
                cells += [cell, f"{t / full:.2f}", f"{cpu:.2f}", f"{cpu / full_cpu:.2f}"]
        print(f"| {i // 3 + 1} | " + " | ".join(cells) + " |")
    for m in ratios:
        rs, cs = ratios[m], cpu_ratios[m]
        print(f"{m}: wall round / full-sharing round, median of {len(rs)}: {statistics.median(rs):.2f}"
              f" (min {min(rs):.2f}, max {max(rs):.2f}); CPU per round: {statistics.median(cs):.2f}"
              f" (min {min(cs):.2f}, max {max(cs):.2f})")
PY
