#!/usr/bin/env bash
# End to end, BatchNorm folding (passes/fold_batchnorm.c): a model of models/ with batchnorm
# trains for one epoch and saves its weights; `dlc --weights` writes the inference C twice,
# folded (the default) and unfolded (--no-fold). Then
#   - the folded graph has no batchnorm left and fewer nodes than the unfolded one (counted in
#     --dump-after=dce), which had N_BN, and both C files compile strictly;
#   - built alike (as dlc --run builds: clang -O3 -march=native, OpenBLAS), both run the whole
#     test split of DATASET: every folded output within 1e-5 relative of the unfolded one,
#     |a - b| <= 1e-5 max(|b|, 1), and the same predicted class for every sample
#     (compare_inference.c). The floor 1: the logits reach ~20 and the folded layer's sums
#     differ from the unfolded ones by a few float ulps of their largest terms (W * s rounded
#     once instead of W x then x s), so near-zero logits get an absolute 1e-5 (measured on
#     mnist_mlp_batchnorm: at most 8e-6 absolute, 3.4e-6 relative with this floor).
#   fold_trained.sh DLC COMPARE_INFERENCE REPO_ROOT CBLAS_INCLUDE_DIR OPENBLAS_LIBRARY
#                   MODEL PREFIX DATASET N_BN
set -eu
dlc=$1 compare=$2 root=$3 inc=$4 blas=$5 name=$6 prefix=$7 dataset=$8 n_bn=$9
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
  clang -std=c99 -O3 -march=native -fPIC -shared -DDLC_USE_CBLAS -I"$inc" "$tmp/$v.c" \
        -o "$tmp/$v.so" "$blas" -lm
done
"$compare" "$prefix" "$tmp/folded.so" "$tmp/unfolded.so" 1 "$dataset"
