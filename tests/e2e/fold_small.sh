#!/usr/bin/env bash
# BatchNorm folding on the small models of the golden suite (seconds): for each of
# tests/golden/inference/{bn,fold_dense,fold_conv}.dl with its weights file, the folded
# inference C (the default) and the unfolded one (--no-fold), compiled alike (cc -O2, the
# built-in GEMM), each lie within the error bound derived from the arithmetic of its graph's
# exact (double) outputs on 1000 pseudo-random samples, so within the sum of both bounds of
# each other, with the same argmax except where the bound allows a tie (compare_inference.c,
# error_bound.c). Covers dense layers and convolutions (grouped, padded) with and
# without a bias, batchnorm with and without affine, and batchnorms that stay (after tanh, after
# an input; a layer whose output is read twice). The folded graphs have fewer nodes: bn.dl
# none of its batchnorms left, fold_dense.dl two, fold_conv.dl one.
#   fold_small.sh DLC COMPARE_INFERENCE REPO_ROOT
set -eu
dlc=$1 compare=$2 root=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dir="$root/tests/golden/inference"
nodes() { "$dlc" "$dir/$1.dl" --weights "$dir/$1.dlw" --dump-after=dce $2 | grep -c "$3" || true; }
for case in "bn 0" "fold_dense 2" "fold_conv 1"; do
  set -- $case
  m=$1 left=$2
  folded=$(nodes "$m" "" '^  %') unfolded=$(nodes "$m" --no-fold '^  %')
  bn=$(nodes "$m" "" '= batchnorm ')
  echo "$m: $folded nodes folded, $unfolded unfolded; $bn batchnorm left"
  if [ "$bn" != "$left" ] || [ "$folded" -ge "$unfolded" ]; then
    echo "fold_small: $m: expected $left batchnorm left and fewer nodes"; exit 1
  fi
  prefix=$(sed -n 's/^model \([a-z_0-9]*\).*/\1/p' "$dir/$m.dl")
  "$dlc" "$dir/$m.dl" --weights "$dir/$m.dlw" -o "$tmp/folded.c"
  "$dlc" "$dir/$m.dl" --weights "$dir/$m.dlw" --no-fold -o "$tmp/unfolded.c"
  for v in folded unfolded; do
    cc -std=c99 -Wall -Wextra -Werror -O2 -fPIC -shared "$tmp/$v.c" -o "$tmp/$m.$v.so" -lm
  done
  "$compare" "$prefix" "$tmp/$m.folded.so" "$tmp/$m.unfolded.so" "$dir/$m.dl" "$dir/$m.dlw" 1000
done
