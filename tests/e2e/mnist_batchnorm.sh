#!/usr/bin/env bash
# End to end: models/mnist_mlp_batchnorm.dl (dense -> batchnorm -> ReLU) trains on MNIST for one
# epoch (-D epochs=1) and reaches >= 96% test accuracy, evaluated with the running statistics.
# Its weights file carries the running statistics: the unfolded inference C (dlc --weights
# --no-fold, batchnorm evaluated with them; folding is fold_trained.sh's) compiles
# strictly and, built as dlc --run builds the training C (clang -O3 -march=native, OpenBLAS:
# the same contractions into fused multiply-adds), reproduces eval_step's outputs within the
# error bounds derived from the arithmetic and the run's test accuracy within the near-ties
# (check_inference.c, error_bound.c).
#   mnist_batchnorm.sh DLC CHECK_INFERENCE REPO_ROOT CBLAS_INCLUDE_DIR OPENBLAS_LIBRARY
set -eu
dlc=$1 check=$2 root=$3 inc=$4 blas=$5
# the checked C with OpenBLAS, or with its built-in GEMM under DLC_PORTABLE_GEMM=1 (as --run
# then builds the training C; tools/numeric_kernels.sh)
gemm=(-DDLC_USE_CBLAS -I"$inc" "$blas")
if [ -n "${DLC_PORTABLE_GEMM:-}" ] && [ "$DLC_PORTABLE_GEMM" != 0 ]; then gemm=(); fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
model="$root/models/mnist_mlp_batchnorm.dl"
"$dlc" --run "$model" -D epochs=1 --save-weights "$tmp/bn.dlw" --report "$tmp/report.json"
python3 - "$tmp/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
acc = r["test"]["accuracy"]
assert len(r["epochs"]) == 1, r["epochs"]
print(f"test accuracy {acc:.4f} (need >= 0.96)")
sys.exit(0 if acc >= 0.96 else 1)
PY
"$dlc" "$model" --weights "$tmp/bn.dlw" --no-fold -o "$tmp/bn.c"
cc -std=c99 -Wall -Wextra -Werror -c "$tmp/bn.c" -o "$tmp/plain.o"
clang -std=c99 -O3 -march=native -fPIC -shared "$tmp/bn.c" -o "$tmp/bn.so" \
      ${gemm[@]+"${gemm[@]}"} -lm
acc=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["test"]["accuracy"])' "$tmp/report.json")
"$check" "$model" "$tmp/bn.dlw" "$tmp/bn.so" "$acc" --no-fold
