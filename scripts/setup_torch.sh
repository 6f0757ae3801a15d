#!/usr/bin/env bash
# Installs PyTorch (the CPU build, from PyPI) into .venv-torch, for `peerd-bench models` to
# measure PyTorch's train steps in the same run as peerd's (docs/performance.md). Optional: the
# benchmark says where its PyTorch column comes from when this has not been run, and nothing
# else needs PyTorch. About 200 MB; idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-torch
VERSION=${PEERD_TORCH_VERSION:-2.13.0+cpu}
PYTHON=${PYTHON:-python3}
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  echo "setup_torch.sh: $("$VENV/bin/python" -c 'import torch; print("torch", torch.__version__)') in $VENV"
  exit 0
fi
"$PYTHON" -m venv "$VENV" || { echo "setup_torch.sh: '$PYTHON -m venv' failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
"$VENV/bin/pip" install --quiet --upgrade pip >/dev/null
if ! "$VENV/bin/pip" install --quiet "torch==$VERSION" numpy; then
  echo "setup_torch.sh: torch $VERSION could not be installed from the package index; peerd-bench models will quote its PyTorch column" >&2
  exit 1
fi
echo "setup_torch.sh: $("$VENV/bin/python" -c 'import torch; print("torch", torch.__version__)') in $VENV"
