#!/usr/bin/env bash
# bench/bench_fold.sh -- inference speed with BatchNorm folded vs unfolded.
#
# Trains MODEL (default models/mnist_mlp_batchnorm.dl) for one epoch with
# build/dlc --run ... --save-weights, writes its inference C twice
# (dlc --weights: folded, the default; --no-fold: unfolded), builds both
# alike (clang -O3 -march=native -DDLC_USE_CBLAS, OpenBLAS: as dlc --run
# builds) and runs PREFIX_predict over the whole test split (10000
# samples, one call) RUNS times each, alternating, with
# build/tests/compare_inference (which first checks the two agree: each within
# the error bound derived for its graph, same predicted classes but near-ties). Prints, for each,
# the IR node count (dlc --dump-after=dce; operations = nodes other than
# params, buffers and inputs), the batchnorm nodes left, the
# embedded weights (reals) and the median / min / max samples/s, and the
# ratio folded / unfolded of the medians.
#
# Usage:  bench/bench_fold.sh [RUNS [MODEL]]
#   RUNS           timed passes over the test split per variant (default 11)
#   MODEL          a .dl file training on mnist or fashion_mnist (default: the MLP with
#                  batchnorm; bench/fold_cnn.dl is a small CNN with batchnorm,
#                  models/fashion_cnn.dl the Fashion-MNIST CNN, timed on its test split)
#   BENCH_THREADS  OPENBLAS_NUM_THREADS (default: nproc)
# Needs build/dlc and build/tests/compare_inference (cmake --build build).
set -eu
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${1:-11}"
MODEL="${2:-$ROOT/models/mnist_mlp_batchnorm.dl}"
DLC="$ROOT/build/dlc" COMPARE="$ROOT/build/tests/compare_inference"
case "$RUNS" in *[!0-9]*|"") echo "usage: $0 [RUNS [MODEL]]" >&2; exit 2 ;; esac
for f in "$DLC" "$COMPARE"; do
  [ -x "$f" ] || { echo "error: $f not found: build first (cmake --build build)" >&2; exit 1; }
done
export OPENBLAS_NUM_THREADS="${BENCH_THREADS:-$(nproc)}"
blas=$(sed -n 's/^OPENBLAS_LIBRARY:FILEPATH=//p' "$ROOT/build/CMakeCache.txt")
inc=$(sed -n 's/^CBLAS_INCLUDE_DIR:PATH=//p' "$ROOT/build/CMakeCache.txt")
TMP="$(mktemp -d /tmp/bench_fold.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
export DLC_CACHE="${DLC_CACHE:-$TMP/cache}"
prefix=$(sed -n 's/^model \([A-Za-z_0-9]*\).*/\1/p' "$MODEL" | head -1)
dataset=mnist
grep -q 'data *= *fashion_mnist' "$MODEL" && dataset=fashion-mnist

echo "model $MODEL: training 1 epoch ..."
"$DLC" -q --run "$MODEL" -D epochs=1 --save-weights "$TMP/w.dlw" >/dev/null
for v in folded unfolded; do
  flag=""
  [ "$v" = unfolded ] && flag=--no-fold
  dump=$("$DLC" "$MODEL" --weights "$TMP/w.dlw" $flag --dump-after=dce)
  nodes=$(grep -c '^  %' <<<"$dump" || true)
  ops=$(grep '^  %' <<<"$dump" | grep -vc '= \(param\|buffer\|state\|input\|const\) ' || true)
  bn=$(grep -c '= batchnorm ' <<<"$dump" || true)
  "$DLC" "$MODEL" --weights "$TMP/w.dlw" $flag -o "$TMP/$v.c"
  reals=$(sed -n 's/^ \* weights: \([0-9]*\) reals.*/\1/p' "$TMP/$v.c")
  echo "$v: $nodes IR nodes ($ops operations, $bn batchnorm), $reals embedded weight reals"
  clang -std=c99 -O3 -march=native -fPIC -shared -DDLC_USE_CBLAS -I"$inc" "$TMP/$v.c" \
        -o "$TMP/$v.so" "$blas" -lm
done
echo "OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS; $(lscpu | sed -n 's/^Model name: *//p'); $(date -u +%F)"
MODEL_PATH=$(realpath "$MODEL")
(cd "$TMP" && "$COMPARE" "$prefix" ./folded.so ./unfolded.so "$MODEL_PATH" ./w.dlw "$dataset" "$RUNS") | tee "$TMP/out.txt"
python3 - "$TMP/out.txt" <<'PY'
import re, sys
med = [float(m) for m in re.findall(r"median (\d+) samples/s", open(sys.argv[1]).read())]
print(f"folded / unfolded: {med[0] / med[1]:.2f}x (medians)")
PY
