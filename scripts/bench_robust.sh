#!/usr/bin/env bash
# Robust aggregation under attack, side by side in one run: 16 peerd processes on a seeded
# 4-regular graph, D-PSGD, MNIST logistic regression (configs/dpsgd_mnist_logreg.ini), two
# test-only attackers. Every rule (mean, median, trimmed_mean, krum) runs clean and under each
# attack (sign_flip, scaled, random); the table gives the honest nodes' test accuracy at the
# last round and each rule's averaging time per round.
#   scripts/bench_robust.sh [ITERATIONS]     (default 100)
# The attackers are the first two nodes with no common neighbour, so that every honest node has
# at most one attacker among its four neighbours (what trimmed_mean at 0.25 and krum with f = 1
# tolerate; the median of five values tolerates two).
set -euo pipefail
cd "$(dirname "$0")/.."
# A port range of its own (BASE_PORT overrides), away from the configs' 20000 other runs use.
PORT="${BASE_PORT:-31000}"
ITER="${1:-100}"
[[ "$ITER" =~ ^[0-9]+$ && "$ITER" -ge 2 ]] || { echo "bench_robust.sh: ITERATIONS must be a whole number ≥ 2, got '$ITER'" >&2; exit 2; }
swift build -c release --product peerd >/dev/null
swift build -c release --product peerctl >/dev/null
export OPENBLAS_NUM_THREADS=1
out=$(mktemp -d /tmp/peerd-robust-XXXXXX)
.build/release/peerctl graph --type regular --nodes 16 --degree 4 --seed 1 -o "$out/graph.txt" >/dev/null
attackers=$(python3 - "$out/graph.txt" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
n = int(lines[0]); nb = {i: set() for i in range(n)}
for line in lines[1:]:
    p = line.split()
    if len(p) == 2:
        a, b = int(p[0]), int(p[1]); nb[a].add(b); nb[b].add(a)
for a in range(n):
    for b in range(a + 1, n):
        if not (nb[a] & nb[b]):
            print(f"[{a}, {b}]"); sys.exit(0)
sys.exit("every pair of nodes shares a neighbour")
PY
)
echo "bench_robust.sh: $ITER rounds, attackers $attackers, runs in $out (load average $(cut -d' ' -f1 /proc/loadavg))"
for rule in mean median trimmed_mean krum; do
  for attack in none sign_flip scaled random; do
    name="$rule-$attack"
    python3 - configs/dpsgd_mnist_logreg.ini "$out/$name.ini" "$rule" "$attack" "$attackers" "$PORT" <<'PY'
import sys
base, target, rule, attack, attackers, port = sys.argv[1:]
text = open(base).read().replace("base_port = 20000", f"base_port = {port}")
extra = {"trimmed_mean": "trim_fraction = 0.25\n", "krum": "krum_f = 1\n"}.get(rule, "")
text = text.replace("sharing_class = Sharing\n", f"sharing_class = Sharing\naggregation = {rule}\n{extra}")
if attack != "none":
    text = text.rstrip("\n") + f"\nattack = {attack}\nattackers = {attackers}\n"
open(target, "w").write(text)
PY
    scripts/launch_cluster.sh --config "$out/$name.ini" --graph "$out/graph.txt" --iterations "$ITER" \
      --test-after "$ITER" --log-dir "$out/$name" >"$out/$name.log" 2>&1 || true
    echo "  $name done"
  done
done
python3 - "$out" "$ITER" "$attackers" <<'PY'
import json, glob, statistics, sys, os
out, iters, attackers = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
def run(name):
    accs, avg, rnd = [], [], []
    for f in glob.glob(f"{out}/{name}/machine*/*_results.json"):
        if ".prev" in f: continue
        r = json.load(open(f))
        if r["uid"] in attackers: continue
        accs.append(r["test_acc"].get(iters, float("nan")))
        times = [v for k, v in r["average_time"].items() if int(k) >= 2]
        rounds = [v for k, v in r["round_time"].items() if int(k) >= 2]
        if times: avg.append(statistics.median(times))
        if rounds: rnd.append(statistics.median(rounds))
    return accs, avg, rnd
print()
print(f"| aggregation | clean | sign_flip | scaled | random | average µs/round | round ms |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for rule in ["mean", "median", "trimmed_mean", "krum"]:
    cells, avgs, rnds = [], [], []
    for attack in ["none", "sign_flip", "scaled", "random"]:
        accs, avg, rnd = run(f"{rule}-{attack}")
        cells.append(f"{statistics.mean(accs):.2f} / {min(accs):.2f}" if accs else "—")
        avgs += avg; rnds += rnd
    a = f"{statistics.median(avgs) * 1e6:.0f}" if avgs else "—"
    r = f"{statistics.median(rnds) * 1e3:.1f}" if rnds else "—"
    print(f"| {rule} | " + " | ".join(cells) + f" | {a} | {r} |")
print()
print(f"test accuracy % at round {iters}, mean / min over the 14 honest nodes; times: median over honest nodes and runs of each node's median over rounds 2…{iters}")
PY
