#!/usr/bin/env bash
# The full fault matrix of the node runtime: 16 real peerd processes, 4-regular graph, D-PSGD,
# MNIST logistic regression; kill -9 at the start, mid-training and mid-wait, two neighbours at
# once, SIGSTOP past the timeout then SIGCONT, SIGTERM, restart without and with --resume.
# Each scenario asserts that every survivor mixes with all its live neighbours after the fault,
# the run ends within rounds × clean round time + 2 × peer_timeout, and accuracy stays within
# 1 point of the clean run (Tests/IntegrationTests/FaultMatrixTests.swift).
#
# CI runs the same tests at 60 rounds with a 2 s timeout. This runs them longer:
#   scripts/fault_matrix.sh [ROUNDS] [PEER_TIMEOUT_SECONDS]      (default 300 and 3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-300}"
TIMEOUT="${2:-3}"
[[ "$ROUNDS" =~ ^[0-9]+$ && "$ROUNDS" -ge 20 ]] || { echo "fault_matrix.sh: ROUNDS must be a whole number ≥ 20, got '$ROUNDS'" >&2; exit 2; }
[[ "$TIMEOUT" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "fault_matrix.sh: PEER_TIMEOUT must be seconds, got '$TIMEOUT'" >&2; exit 2; }
PEERD_SKIP_BUILD=1 scripts/setup.sh >/dev/null
swift build -c release --product peerd >/dev/null
swift build -c release --product peerctl >/dev/null
swift build --build-tests >/dev/null
export OPENBLAS_NUM_THREADS=1 PEERD_BIN_DIR="$PWD/.build/release"
export PEERD_FAULT_ROUNDS="$ROUNDS" PEERD_FAULT_TIMEOUT="$TIMEOUT"
echo "fault_matrix.sh: 16 nodes, $ROUNDS rounds, peer_timeout $TIMEOUT s"
swift test --skip-build --filter FaultMatrixTests
