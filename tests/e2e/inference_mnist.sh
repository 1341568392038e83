#!/usr/bin/env bash
# End to end, from training to a deployable C file: models/mnist_mlp.dl trains for one epoch
# and saves its weights (--save-weights); `dlc --weights` writes the inference C, which
#   - compiles with -std=c99 -Wall -Wextra -Werror and links into a program with only
#     OpenBLAS and libm (and with no library but libm, built-in GEMM);
#   - reproduces eval_step's outputs within 1e-5 relative, its predicted class for every test
#     sample and the run's test accuracy (check_inference.c).
#   inference_mnist.sh DLC CHECK_INFERENCE REPO_ROOT CBLAS_INCLUDE_DIR OPENBLAS_LIBRARY
set -eu
dlc=$1 check=$2 root=$3 inc=$4 blas=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
model="$root/models/mnist_mlp.dl"
"$dlc" --run "$model" -D epochs=1 --save-weights "$tmp/mlp.dlw" --report "$tmp/report.json"
"$dlc" "$model" --weights "$tmp/mlp.dlw" -o "$tmp/mlp.c"
cc -std=c99 -Wall -Wextra -Werror -c "$tmp/mlp.c" -o "$tmp/plain.o"
cat >"$tmp/main.c" <<'C'
#include <stdio.h>
int mlp_predict(const float *input, int n, float *output);
long mlp_input_size(void);
long mlp_output_size(void);
int main(void) {
    static float x[3 * 784], y[3 * 10];
    if (mlp_input_size() != 784 || mlp_output_size() != 10) return 1;
    if (mlp_predict(x, 3, y) != 0 || mlp_predict(x, -1, y) != -1) return 1;
    printf("predict on zeros: %g ... %g\n", y[0], y[29]);
    return y[0] != y[10] || y[0] != y[20]; /* the same sample gives the same output */
}
C
cc -std=c99 -Wall -Wextra -Werror -O2 -DDLC_USE_CBLAS -I"$inc" "$tmp/main.c" "$tmp/mlp.c" \
   -o "$tmp/prog" "$blas" -lm
"$tmp/prog"
cc -std=c99 -Wall -Wextra -Werror -O2 -fPIC -shared -DDLC_USE_CBLAS -I"$inc" "$tmp/mlp.c" \
   -o "$tmp/mlp.so" "$blas" -lm
acc=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["test"]["accuracy"])' "$tmp/report.json")
"$check" "$model" "$tmp/mlp.dlw" "$tmp/mlp.so" "$acc"
