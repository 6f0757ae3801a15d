#!/usr/bin/env bash
# Sets up the system packages and runs the whole test suite (the README's test command; CI runs it).
# The integration tests start real release-built peerd processes over loopback TCP.
set -euo pipefail
cd "$(dirname "$0")/.."
PEERD_SKIP_BUILD=1 scripts/setup.sh
export OPENBLAS_NUM_THREADS=1
echo "test.sh: building release binaries for the integration tests"
swift build -c release --product peerd 2>&1 | grep -E "error|warning: [^']" || true
swift build -c release --product peerctl 2>&1 | grep -E "error|warning: [^']" || true
export PEERD_BIN_DIR="$PWD/.build/release"
echo "test.sh: building tests"
swift build --build-tests 2>&1 | grep -E "error|warning: [^']" || true
exec swift test --skip-build "$@"
