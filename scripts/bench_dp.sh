#!/usr/bin/env bash
# Accuracy against differential-privacy noise, side by side in one run: 16 peerd processes on a
# seeded 4-regular graph, D-PSGD, MNIST logistic regression (configs/dpsgd_mnist_logreg.ini),
# each node clipping its round's update to L2 norm CLIP and adding N(0, (σ·CLIP)²) per parameter
# before sharing ([SHARING] dp_clip, dp_sigma). One run without DP, then one per σ.
#   scripts/bench_dp.sh [ITERATIONS] [CLIP] [SIGMA...]     (default 100, 1.0, 0 0.005 0.01 0.02 0.05 0.1)
# ε is the results file's (RDP accountant, and the exact μ-GDP figure) at δ = 1e-5 after
# ITERATIONS releases; the guarantee covers each node's whole training shard.
set -euo pipefail
cd "$(dirname "$0")/.."
# A port range of its own (BASE_PORT overrides), away from the configs' 20000 other runs use.
PORT="${BASE_PORT:-32000}"
ITER="${1:-100}"
CLIP="${2:-1.0}"
shift $(($# < 2 ? $# : 2))
SIGMAS=("$@")
[ ${#SIGMAS[@]} -gt 0 ] || SIGMAS=(0 0.005 0.01 0.02 0.05 0.1)
[[ "$ITER" =~ ^[0-9]+$ && "$ITER" -ge 2 ]] || { echo "bench_dp.sh: ITERATIONS must be a whole number ≥ 2, got '$ITER'" >&2; exit 2; }
swift build -c release --product peerd >/dev/null
swift build -c release --product peerctl >/dev/null
export OPENBLAS_NUM_THREADS=1
out=$(mktemp -d /tmp/peerd-dp-XXXXXX)
.build/release/peerctl graph --type regular --nodes 16 --degree 4 --seed 1 -o "$out/graph.txt" >/dev/null
echo "bench_dp.sh: $ITER rounds, clip $CLIP, sigmas ${SIGMAS[*]}, runs in $out (load average $(cut -d' ' -f1 /proc/loadavg))"
for sigma in none "${SIGMAS[@]}"; do
  python3 - configs/dpsgd_mnist_logreg.ini "$out/$sigma.ini" "$sigma" "$CLIP" "$PORT" <<'PY'
import sys
base, target, sigma, clip, port = sys.argv[1:]
text = open(base).read().replace("base_port = 20000", f"base_port = {port}")
if sigma != "none":
    text = text.replace("sharing_class = Sharing\n", f"sharing_class = Sharing\ndp_clip = {clip}\ndp_sigma = {sigma}\n")
open(target, "w").write(text)
PY
  scripts/launch_cluster.sh --config "$out/$sigma.ini" --graph "$out/graph.txt" --iterations "$ITER" \
    --test-after "$ITER" --log-dir "$out/$sigma" >"$out/$sigma.log" 2>&1 || true
  echo "  sigma $sigma done"
done
python3 - "$out" "$ITER" "$CLIP" "none" "${SIGMAS[@]}" <<'PY'
import json, glob, statistics, sys
out, iters, clip, sigmas = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]
print()
print("| dp_sigma | noise std per parameter | ε (RDP), δ = 1e-5 | ε (exact) | test accuracy % (mean / min) | rounds clipped | median update norm |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for sigma in sigmas:
    rs = [json.load(open(f)) for f in glob.glob(f"{out}/{sigma}/machine*/*_results.json") if ".prev" not in f]
    accs = [r["test_acc"].get(iters, float("nan")) for r in rs]
    acc = f"{statistics.mean(accs):.2f} / {min(accs):.2f}" if accs else "—"
    if sigma == "none":
        print(f"| no DP | — | — | — | {acc} | — | — |"); continue
    p = [r["privacy"] for r in rs]
    eps = p[0]["epsilon"]; exact = p[0]["epsilon_exact"]
    fmt = lambda e: "∞" if e in ("inf", float("inf")) else f"{float(e):.3g}"
    clipped = sum(x["rounds_clipped"] for x in p) / max(1, sum(x["rounds_shared"] for x in p))
    norms = statistics.median(v for x in p for v in x["update_norm"].values())
    print(f"| {sigma} | {float(sigma) * clip:.3g} | {fmt(eps)} | {fmt(exact)} | {acc} | {100 * clipped:.0f} % | {norms:.3g} |")
print()
print(f"16 nodes, {iters} rounds, dp_clip {clip}; accuracy at round {iters} over the 16 nodes")
PY
