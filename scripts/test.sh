#!/usr/bin/env bash
# Sets up the system packages and runs the whole test suite (the README's test command; CI runs it).
# Integration tests start real peerd processes over loopback TCP, so they run serially.
set -euo pipefail
cd "$(dirname "$0")/.."
PEERD_SKIP_BUILD=1 scripts/setup.sh
export OPENBLAS_NUM_THREADS=1
swift build --build-tests 2>&1 | grep -vE "^\[[0-9]+/[0-9]+\]" || true
exec swift test --skip-build "$@"
