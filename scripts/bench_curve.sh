#!/usr/bin/env bash
# What CURVE costs: the same 16-node MovieLens cluster (D-PSGD, full sharing) with plaintext and
# with CURVE, back to back on this machine, then the two median round times side by side.
#   scripts/bench_curve.sh [ITERATIONS]     (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
ITER="${1:-200}"
[[ "$ITER" =~ ^[0-9]+$ && "$ITER" -ge 10 ]] || { echo "bench_curve.sh: ITERATIONS must be a whole number ≥ 10, got '$ITER'" >&2; exit 2; }
swift build -c release --product peerd >/dev/null
swift build -c release --product peerd-bench >/dev/null
export OPENBLAS_NUM_THREADS=1
out=$(mktemp -d)
for mode in none curve; do
  .build/release/peerd-bench cluster --config configs/dpsgd_movielens_mf.ini --nodes 16 --iterations "$ITER" \
    --security "$mode" | tee "$out/$mode.txt"
done
median() { grep -E "per-round time, median" "$1" | grep -oE "[0-9]+\.[0-9]+" | head -1; }
a=$(median "$out/none.txt"); b=$(median "$out/curve.txt")
echo
echo "| security | median round (s) |"
echo "| --- | --- |"
echo "| none | $a |"
echo "| curve | $b |"
awk -v a="$a" -v b="$b" 'BEGIN { if (a > 0) printf "CURVE / plaintext: %.2fx\n", b / a }'
