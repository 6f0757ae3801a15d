#!/usr/bin/env bash
# Regenerates docs/worked-example.md's table and figures: two 16-node runs on this machine
# through the launcher (4-regular graph, D-PSGD, logistic regression on MNIST, 40 rounds), one
# with full sharing and one with PartialModel at alpha 0.1, then peerctl report and plot.
#   scripts/worked_example.sh [RUNS_DIR]      (default runs/worked-example; needs MNIST)
# Writes docs/img/worked-example-*.png and docs/img/worked-example-report.txt; the figures' data
# goes beside them as .csv.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-runs/worked-example}
PEERCTL=.build/release/peerctl
IMG=docs/img
mkdir -p "$RUNS" "$IMG"
rm -rf "$RUNS/full" "$RUNS/partial"
scripts/launch_cluster.sh --config configs/dpsgd_mnist_logreg.ini --nodes 16 --log-dir "$RUNS/full"
scripts/launch_cluster.sh --config configs/dpsgd_mnist_partial.ini --nodes 16 --log-dir "$RUNS/partial"
"$PEERCTL" report "$RUNS/full" "$RUNS/partial" | tee "$IMG/worked-example-report.txt"
"$PEERCTL" report "$RUNS/full" >"$IMG/worked-example-full.txt"
for spec in "rounds test_acc" "bytes test_acc" "time test_acc" "rounds train_loss"; do
  read -r x y <<<"$spec"
  "$PEERCTL" plot "$RUNS/full" "$RUNS/partial" --x "$x" --y "$y" --size 960x600 -o "$IMG/worked-example-$y-$x.png"
done
