#!/usr/bin/env bash
# bench/gan_judge.sh -- judges generated MNIST digits with a classifier dlc trained itself.
#
# The judge is models/mnist_cnn.dl (99.2% on the test split), trained once with
# build/dlc --run ... --save-weights and kept in JUDGE_DIR (default build/gan_judge) under the
# model file's sha256 (mnist_cnn-KEY.dlw, with its run report mnist_cnn-KEY.json), so reruns
# reuse it and an edited model file is trained anew. Its inference C (dlc --weights W -o
# judge_model-KEY.c: forward only, the weights embedded, the training normalisation applied
# inside, so it takes pixels in [0, 1]) is compiled with bench/judge_samples.c into
# JUDGE_DIR/judge-KEY, rebuilt when the weights, dlc or judge_samples.c are newer.
#
# For each FILE (an IDX file, gzip or raw, of u8 28x28 images, 0 = background as in MNIST) it
# prints the mean top-1 softmax confidence, the classes predicted with their shares (and how
# many of the 10 have at least 2% of the images) and exp(E_x KL(p(y|x) || p(y))), the
# Inception-score form (1 to 10), ending with one line
#   judge: n=N confidence=C classes=K classes_2pct=M score=S
# bench/judge_samples.c says how each is computed.
#
# Usage:  bench/gan_judge.sh [--first N] FILE...   score FILE (its first N images)
#         bench/gan_judge.sh --check               validate: 1,000 real test digits (and the
#                                                  classifier's accuracy on them), 1,000
#                                                  images of uniform noise (seeded) and one
#                                                  real digit 1,000 times (mode collapse)
#   JUDGE_DIR  where the weights and the judge are kept (default build/gan_judge)
#   DLC_DATA   the data directory holding mnist/ (default: the checkout's data/)
# Needs build/dlc and build/libdlrt.a (cmake --build build).
set -eu
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DLC="$ROOT/build/dlc" LIB="$ROOT/build/libdlrt.a" MODEL="$ROOT/models/mnist_cnn.dl"
DIR="${JUDGE_DIR:-$ROOT/build/gan_judge}" DATA="${DLC_DATA:-$ROOT/data}"
for f in "$DLC" "$LIB"; do
  [ -e "$f" ] || { echo "gan_judge: $f not found: build first (cmake --build build)" >&2; exit 1; }
done
mkdir -p "$DIR"
KEY=$(sha256sum "$MODEL" | cut -c1-12)
W="$DIR/mnist_cnn-$KEY.dlw" JUDGE="$DIR/judge-$KEY"
trap 'rm -f "$W.tmp$$" "$DIR/mnist_cnn-$KEY.json.tmp$$" "$JUDGE.tmp$$"' EXIT # none left on failure

# the weights: trained once per model file (to temporaries, renamed when complete)
if [ ! -s "$W" ]; then
  echo "gan_judge: training the judge, $MODEL (a few minutes) ..." >&2
  "$DLC" -q --run "$MODEL" --save-weights "$W.tmp$$" --report "$DIR/mnist_cnn-$KEY.json.tmp$$" >&2
  mv "$DIR/mnist_cnn-$KEY.json.tmp$$" "$DIR/mnist_cnn-$KEY.json"
  mv "$W.tmp$$" "$W"
fi

# the judge program: the inference C plus judge_samples.c, as dlc --run builds (OpenBLAS)
if [ ! -x "$JUDGE" ] || [ "$W" -nt "$JUDGE" ] || [ "$DLC" -nt "$JUDGE" ] || [ "$LIB" -nt "$JUDGE" ] ||
   [ "$ROOT/bench/judge_samples.c" -nt "$JUDGE" ]; then
  "$DLC" "$MODEL" --weights "$W" -o "$DIR/judge_model-$KEY.c"
  blas=$(sed -n 's/^OPENBLAS_LIBRARY:FILEPATH=//p' "$ROOT/build/CMakeCache.txt")
  inc=$(sed -n 's/^CBLAS_INCLUDE_DIR:PATH=//p' "$ROOT/build/CMakeCache.txt")
  cblas=() && [ -n "$blas" ] && cblas=(-DDLC_USE_CBLAS -I"$inc")
  cc -std=c99 -O2 -Wall -Wextra -Werror "${cblas[@]}" -I"$ROOT/runtime" \
     "$ROOT/bench/judge_samples.c" "$DIR/judge_model-$KEY.c" "$LIB" $blas -lz -lm -o "$JUDGE.tmp$$"
  mv "$JUDGE.tmp$$" "$JUDGE"
fi

if [ "${1:-}" = --check ]; then
  test_images="$DATA/mnist/t10k-images-idx3-ubyte" test_labels="$DATA/mnist/t10k-labels-idx1-ubyte"
  [ -e "$test_images.gz" ] && test_images="$test_images.gz"
  [ -e "$test_labels.gz" ] && test_labels="$test_labels.gz"
  echo "== 1,000 real MNIST test digits ($test_images)"
  "$JUDGE" "$test_images" --first 1000 --labels "$test_labels"
  noise="$DIR/noise-1000.idx"
  python3 - "$noise" <<'PY'
import random, struct, sys
data = random.Random(1).randbytes(1000 * 784)          # uniform u8 pixels, seed 1
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack(">HBBIII", 0, 0x08, 3, 1000, 28, 28) + data)
PY
  echo "== 1,000 images of uniform noise (pixels uniform in 0..255, seed 1)"
  "$JUDGE" "$noise"
  collapse="$DIR/collapse-1000.idx"
  python3 - "$test_images" "$collapse" <<'PY'
import gzip, struct, sys
raw = open(sys.argv[1], "rb").read()
raw = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
with open(sys.argv[2], "wb") as f:                      # test image 0, 1,000 times
    f.write(struct.pack(">HBBIII", 0, 0x08, 3, 1000, 28, 28) + raw[16:16 + 784] * 1000)
PY
  echo "== mode collapse: the first test digit 1,000 times"
  "$JUDGE" "$collapse"
  exit 0
fi

first=()
if [ "${1:-}" = --first ]; then first=(--first "${2:?--first N}"); shift 2; fi
[ $# -ge 1 ] || { echo "usage: $0 [--first N] FILE... | --check" >&2; exit 2; }
for f in "$@"; do
  echo "== $f"
  "$JUDGE" "$f" "${first[@]}"
done
