#!/usr/bin/env bash
# End to end, from training to a deployable C file: models/mnist_mlp.dl trains for one epoch
# and saves its weights (--save-weights); `dlc --weights` writes the inference C, which
#   - compiles with -std=c99 -Wall -Wextra -Werror and links into a program with only
#     OpenBLAS and libm (and with no library but libm, built-in GEMM);
#   - reproduces eval_step's outputs, and both lie within the error bounds derived from the
#     arithmetic of the exact (double) outputs; predicted classes differ only on near-ties and
#     the run's test accuracy is met within their count (check_inference.c, error_bound.c).
#   inference_mnist.sh DLC CHECK_INFERENCE REPO_ROOT CBLAS_INCLUDE_DIR OPENBLAS_LIBRARY
set -eu
dlc=$1 check=$2 root=$3 inc=$4 blas=$5
# the checked C with OpenBLAS, or with its built-in GEMM under DLC_PORTABLE_GEMM=1 (as --run
# then builds the training C; tools/numeric_kernels.sh)
gemm=(-DDLC_USE_CBLAS -I"$inc" "$blas")
if [ -n "${DLC_PORTABLE_GEMM:-}" ] && [ "$DLC_PORTABLE_GEMM" != 0 ]; then gemm=(); fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
model="$root/models/mnist_mlp.dl"
"$dlc" --run "$model" -D epochs=1 --save-weights "$tmp/mlp.dlw" --report "$tmp/report.json"
"$dlc" "$model" --weights "$tmp/mlp.dlw" -o "$tmp/mlp.c"
cc -std=c99 -Wall -Wextra -Werror -c "$tmp/mlp.c" -o "$tmp/plain.o"
cat >"$tmp/main.c" <<'C'
#include <math.h>
#include <stdio.h>
int mlp_predict(const float *input, int n, float *output);
long mlp_input_size(void);
long mlp_output_size(void);
int main(void) {
    static float x[3 * 784], y[3 * 10];
    if (mlp_input_size() != 784 || mlp_output_size() != 10) return 1;
    if (mlp_predict(x, 3, y) != 0 || mlp_predict(x, -1, y) != -1) return 1;
    printf("predict on zeros: %g ... %g\n", y[0], y[29]);
    /* the same sample in three rows of one batch: equal up to rounding. Not bit for bit:
     * OpenBLAS's kernel for a batch's last rows may sum in another order than its main one
     * (OPENBLAS_CORETYPE=Prescott: row 3 one ulp off). Whether rounding explains a
     * difference is check_inference's business, on every test sample; here a wrong row
     * (another sample's, or garbage) is what is caught. */
    for (int j = 0; j < 10; j++)
        if (!(fabsf(y[j] - y[10 + j]) <= 1e-3f * (1 + fabsf(y[j])) &&
              fabsf(y[j] - y[20 + j]) <= 1e-3f * (1 + fabsf(y[j]))))
            return 1;
    return 0;
}
C
cc -std=c99 -Wall -Wextra -Werror -O2 -DDLC_USE_CBLAS -I"$inc" "$tmp/main.c" "$tmp/mlp.c" \
   -o "$tmp/prog" "$blas" -lm
"$tmp/prog"
cc -std=c99 -Wall -Wextra -Werror -O2 -fPIC -shared "$tmp/mlp.c" -o "$tmp/mlp.so" \
   ${gemm[@]+"${gemm[@]}"} -lm
acc=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["test"]["accuracy"])' "$tmp/report.json")
"$check" "$model" "$tmp/mlp.dlw" "$tmp/mlp.so" "$acc"
