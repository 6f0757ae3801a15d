#!/usr/bin/env bash
# Downloads the datasets peerd reads into ${PEERD_DATA:-./data}, checking sha256 sums.
# Usage: scripts/download_datasets.sh [mnist|fashion-mnist|movielens|all]
set -euo pipefail
DEST="${PEERD_DATA:-./data}"
WHAT="${1:-all}"

fetch() { # url output
  if command -v curl >/dev/null; then curl -fL --retry 3 -o "$2" "$1"; else wget -O "$2" "$1"; fi
}
check() { # file sha256
  local got
  got=$(sha256sum "$1" | cut -d' ' -f1)
  if [ "$got" != "$2" ]; then echo "checksum mismatch for $1: got $got, expected $2" >&2; exit 1; fi
}

mnist() {
  mkdir -p "$DEST/mnist"
  local base=https://ossci-datasets.s3.amazonaws.com/mnist
  while read -r name sum; do
    fetch "$base/$name" "$DEST/mnist/$name"
    check "$DEST/mnist/$name" "$sum"
  done <<'LIST'
train-images-idx3-ubyte.gz 440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609
train-labels-idx1-ubyte.gz 3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c
t10k-images-idx3-ubyte.gz 8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6
t10k-labels-idx1-ubyte.gz f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6
LIST
}

fashion() {
  mkdir -p "$DEST/fashion-mnist"
  local base=https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion
  for name in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz \
    t10k-labels-idx1-ubyte.gz; do
    fetch "$base/$name" "$DEST/fashion-mnist/$name"
  done
  # Upstream publishes md5 sums only (README of zalandoresearch/fashion-mnist).
  (cd "$DEST/fashion-mnist" && md5sum -c - <<'LIST'
8d4fb7e6c68d591d4c3dfef9ec88bf0d  train-images-idx3-ubyte.gz
25c81989df183df01b3e8a0aad5dffbe  train-labels-idx1-ubyte.gz
bef4ecab320f06d8554ea6380940ec79  t10k-images-idx3-ubyte.gz
bb300cfdad3c16e7a12a480ee83cd310  t10k-labels-idx1-ubyte.gz
LIST
  )
}

movielens() {
  mkdir -p "$DEST/movielens"
  fetch https://files.grouplens.org/datasets/movielens/ml-latest-small.zip "$DEST/movielens/ml-latest-small.zip"
  (cd "$DEST/movielens" && unzip -o ml-latest-small.zip)
  check "$DEST/movielens/ml-latest-small/ratings.csv" \
    aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646
}

case "$WHAT" in
  mnist) mnist ;;
  fashion-mnist) fashion ;;
  movielens) movielens ;;
  all) mnist; fashion; movielens ;;
  *) echo "usage: $0 [mnist|fashion-mnist|movielens|all]" >&2; exit 2 ;;
esac
echo "data ready under $DEST"
