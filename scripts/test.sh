#!/usr/bin/env bash
# Sets up the system packages and runs the whole test suite (the README's test command; CI runs it).
# The integration tests start real release-built peerd processes over loopback TCP.
set -euo pipefail
cd "$(dirname "$0")/.."
PEERD_SKIP_BUILD=1 scripts/setup.sh
export OPENBLAS_NUM_THREADS=1
# The protocol interop test runs a Python peer written from docs/protocol.md; it needs pyzmq.
if command -v python3 >/dev/null 2>&1 && ! python3 -c "import zmq" 2>/dev/null; then
  python3 -m pip install --quiet pyzmq 2>/dev/null || echo "test.sh: pyzmq not installable; the interop test will be skipped"
fi
echo "test.sh: building release binaries for the integration tests"
swift build -c release --product peerd 2>&1 | grep -E "error|warning: [^']" || true
swift build -c release --product peerctl 2>&1 | grep -E "error|warning: [^']" || true
export PEERD_BIN_DIR="$PWD/.build/release"
echo "test.sh: building tests"
swift build --build-tests 2>&1 | grep -E "error|warning: [^']" || true
exec swift test --skip-build "$@"
