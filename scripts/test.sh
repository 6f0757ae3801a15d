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
# The multi-host tests (Tests/IntegrationTests/TestbedTests, SlurmTests) build network-namespace
# hosts with sshd, rsync and Slurm; as root, install those packages (they skip when not root).
if [ "$(id -u)" -eq 0 ]; then
  scripts/testbed/install.sh --slurm || echo "test.sh: the test-bed packages could not be installed; the test-bed tests will fail"
fi
echo "test.sh: building release binaries for the integration tests"
swift build -c release --product peerd 2>&1 | grep -E "error|warning: [^']" || true
swift build -c release --product peerctl 2>&1 | grep -E "error|warning: [^']" || true
# The fuzz harness (IntegrationTests/FuzzHarnessTests runs 100,000 inputs per decoder through it).
swift build -c release --product peerd-fuzz 2>&1 | grep -E "error|warning: [^']" || true
export PEERD_BIN_DIR="$PWD/.build/release"
echo "test.sh: building tests"
swift build --build-tests 2>&1 | grep -E "error|warning: [^']" || true
log=$(mktemp)
set +e
swift test --skip-build "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# XCTest's summary, restated as a plain closing line (swift-testing prints "0 tests" after it).
summary=$(grep -E "Executed [0-9]+ tests?, with" "$log" | tail -n 1)
rm -f "$log"
if [ -n "$summary" ]; then
  total=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$summary")
  failed=$(sed -E 's/.* ([0-9]+) failures?.*/\1/' <<<"$summary")
  skipped=$(grep -oE "[0-9]+ tests? skipped" <<<"$summary" | grep -oE "^[0-9]+" || echo 0)
  echo "tests: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
fi
exit "$status"
