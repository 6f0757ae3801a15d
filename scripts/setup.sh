#!/usr/bin/env bash
# Installs peerd's system libraries (and matplotlib for `peerctl plot`, tmux for the terminal
# test of `peerctl watch`) and builds peerd in release mode.
#
# Idempotent and non-interactive. Needs root (or sudo) only when a package is missing.
# The single-threaded ("serial") OpenBLAS build is selected: many peerd processes share one
# machine, and one BLAS thread per process is both faster and lighter than a thread pool each.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(libzmq3-dev libopenblas-dev libopenblas0-serial libturbojpeg0-dev zlib1g-dev libzstd-dev pkg-config
  python3-matplotlib tmux)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
  else
    echo "setup.sh: missing system packages: ${missing[*]}" >&2
    echo "setup.sh: run as root (or with passwordless sudo), or install them yourself:" >&2
    echo "  apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
}

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Prefer the serial OpenBLAS system-wide when it is installed and not already selected. Its
# libblas.so.3 and liblapack.so.3 go with it: the pthread build's libblas.so.3 needs symbols only
# the pthread libopenblas.so.0 has, and Debian's numpy (under matplotlib) would fail to load.
SERIAL_DIR=/usr/lib/x86_64-linux-gnu/openblas-serial
if [ -e "$SERIAL_DIR/libopenblas.so.0" ] && command -v update-alternatives >/dev/null 2>&1; then
  for lib in libopenblas.so.0 libblas.so.3 liblapack.so.3; do
    alt=$lib-x86_64-linux-gnu
    [ -e "$SERIAL_DIR/$lib" ] || continue
    current=$(update-alternatives --query "$alt" 2>/dev/null | awk '/^Value:/{print $2}')
    [ -n "$current" ] && [ "$current" != "$SERIAL_DIR/$lib" ] || continue
    as_root update-alternatives --set "$alt" "$SERIAL_DIR/$lib" >/dev/null \
      || echo "setup.sh: could not select the serial OpenBLAS $lib; set OPENBLAS_NUM_THREADS=1" >&2
  done
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup.sh: the Swift toolchain (6.0 or newer) is not on PATH" >&2
  exit 1
fi

if [ "${PEERD_SKIP_BUILD:-0}" != "1" ]; then
  echo "setup.sh: building peerd (release)"
  swift build -c release --product peerd 2>&1 | grep -vE "^(warning: 'main': Source files|\[)" || true
  swift build -c release --product peerctl 2>&1 | grep -vE "^\[" || true
  test -x .build/release/peerd && test -x .build/release/peerctl || { echo "setup.sh: release build failed" >&2; exit 1; }
fi
echo "setup.sh: ready"
