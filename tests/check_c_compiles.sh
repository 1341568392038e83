#!/usr/bin/env bash
# The C that `dlc MODEL -o FILE` writes compiles on its own with strict warnings, both with the
# built-in GEMM (no dependencies but libm) and, where OpenBLAS is installed, with cblas; each
# also with -fopenmp (as dlc --run compiles it) where the compiler takes it.
#   check_c_compiles.sh DLC MODEL.dl [DLC OPTIONS...]   (e.g. --weights FILE: the inference C)
set -eu
dlc=$1 model=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$dlc" "$model" "$@" -o "$tmp/model.c"
omp=""
echo 'int main(void) { return 0; }' >"$tmp/omp.c"
cc -fopenmp -c "$tmp/omp.c" -o "$tmp/omp.o" 2>/dev/null && omp=-fopenmp
for par in "" $omp; do
  cc -std=c99 -Wall -Wextra -Werror $par -c "$tmp/model.c" -o "$tmp/plain.o"
  for inc in /usr/include/x86_64-linux-gnu/openblas-pthread /usr/include/openblas; do
    if [ -f "$inc/cblas.h" ]; then
      cc -std=c99 -Wall -Wextra -Werror $par -DDLC_USE_CBLAS -I"$inc" -c "$tmp/model.c" -o "$tmp/blas.o"
      break
    fi
  done
done
echo "1 passed, 0 failed"
