#!/usr/bin/env bash
# End to end, BatchNorm folding (passes/fold_batchnorm.c): a model of models/ with batchnorm
# trains for one epoch and saves its weights; `dlc --weights` writes the inference C twice,
# folded (the default) and unfolded (--no-fold). Then
#   - the folded graph has no batchnorm left and fewer nodes than the unfolded one (counted in
#     --dump-after=dce), which had N_BN, and both C files compile strictly;
#   - built alike (as dlc --run builds: clang -O3 -march=native, OpenBLAS, or the built-in
#     GEMM under DLC_PORTABLE_GEMM=1), both run the whole test split of DATASET: each within
#     the error bound derived from the arithmetic of its graph's exact (double) outputs, and so
#     of each other (compare_inference.c, error_bound.c: gamma(K) sum |w| |x| through the
#     layers, the folded weights' own rounding included), the predicted classes the same
#     except where the bound allows a tie.
#   fold_trained.sh DLC COMPARE_INFERENCE REPO_ROOT CBLAS_INCLUDE_DIR OPENBLAS_LIBRARY
#                   MODEL PREFIX DATASET N_BN
set -eu
dlc=$1 compare=$2 root=$3 inc=$4 blas=$5 name=$6 prefix=$7 dataset=$8 n_bn=$9
gemm=(-DDLC_USE_CBLAS -I"$inc" "$blas")
if [ -n "${DLC_PORTABLE_GEMM:-}" ] && [ "$DLC_PORTABLE_GEMM" != 0 ]; then gemm=(); fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
model="$root/models/$name.dl"
"$dlc" -q --run "$model" -D epochs=1 --save-weights "$tmp/bn.dlw"
count() { "$dlc" "$model" --weights "$tmp/bn.dlw" --dump-after=dce "$@" | grep -c '^  %' || true; }
count_bn() { "$dlc" "$model" --weights "$tmp/bn.dlw" --dump-after=dce "$@" | grep -c '= batchnorm ' || true; }
folded=$(count) unfolded=$(count --no-fold)
bn_folded=$(count_bn) bn_unfolded=$(count_bn --no-fold)
echo "nodes: folded $folded, unfolded $unfolded; batchnorm nodes: folded $bn_folded, unfolded $bn_unfolded"
if [ "$bn_folded" != 0 ] || [ "$bn_unfolded" != "$n_bn" ] || [ "$folded" -ge "$unfolded" ]; then
  echo "fold_trained: expected all $n_bn batchnorms folded away and fewer nodes"; exit 1
fi
for v in folded unfolded; do
  flag=""
  [ "$v" = unfolded ] && flag=--no-fold
  "$dlc" "$model" --weights "$tmp/bn.dlw" $flag -o "$tmp/$v.c"
  cc -std=c99 -Wall -Wextra -Werror -c "$tmp/$v.c" -o "$tmp/$v.o"
  clang -std=c99 -O3 -march=native -fPIC -shared "$tmp/$v.c" -o "$tmp/$v.so" \
        ${gemm[@]+"${gemm[@]}"} -lm
done
"$compare" "$prefix" "$tmp/folded.so" "$tmp/unfolded.so" "$model" "$tmp/bn.dlw" "$dataset"
