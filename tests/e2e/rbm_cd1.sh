#!/usr/bin/env bash
# models/rbm_mnist.dl's loss (issue 15) is CD-1: one SGD step (lr 1, the first step, so momentum
# plays no part) on the free-energy difference mean F(v0) - mean F(stop_gradient(v1)) must move
# W, b and c by exactly the contrastive-divergence update computed here by hand, in double, from
# the same v0, the same hidden sample h0 (the model's output) and the weights before the step:
#   h0p = sigmoid(v0 W + c), v1 = sigmoid(h0 W^T + b), h1p = sigmoid(v1 W + c),
#   dW = (v0^T h0p - v1^T h1p) / B,  db = mean(v0 - v1),  dc = mean(h0p - h1p).
# The model is the file's, at 20 visible and 8 hidden units, batch 16. Tolerance: the step runs
# in f32; each entry sums B products of values in [0, 1] after matmuls of length V, so its
# rounding error is below (V + B) eps32 times a few; we allow 8 (V + B) eps32 (1.7e-5; the
# largest update entry is about 0.6). Without the stop_gradient W and b move about 0.2 off.
# Drives the generated C directly (dlc -o), without the runtime.
#   rbm_cd1.sh DLC REPO_ROOT
set -eu
dlc=$1 root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the file's model and loss at 20-8, its output the hidden sample
sed -n '1,/^}/p' "$root/models/rbm_mnist.dl" | sed -e 's/f32\[784\]/f32[20]/' \
  -e 's/variable(784/variable(20/' -e 's/^}$/  sample = h0 * 1\n}/' >"$tmp/cd1.dl"
grep -q 'sample = h0' "$tmp/cd1.dl" && ! grep -q 784 "$tmp/cd1.dl"
cat >>"$tmp/cd1.dl" <<'DL'
train rbm {
  loss = cd
  optimizer = sgd(lr = 1, momentum = 0.5)
  batch = 16
  seed = 1
}
DL
"$dlc" -D hidden=8 "$tmp/cd1.dl" -o "$tmp/cd1.c"
cat >"$tmp/main.c" <<'C'
#include "cd1.c"
#include <math.h>
#include <stdlib.h>
#include "harness.h" /* expect(), find() */

enum { V = 20, H = 8, B = 16 };
static float v0[B * V], sample[B * H];
static double W[V * H], b[V], c[H], h0p[B * H], v1[B * V], h1p[B * H];

static double sigmoid(double x) { return 1 / (1 + exp(-x)); }
static double draw(void) { return (double)rand() / RAND_MAX; }

/* the chain from v0 and the model's sample, with the weights before the step */
static void chain(void) {
    for (int s = 0; s < B; s++) {
        for (int j = 0; j < H; j++) {
            double a = c[j];
            for (int i = 0; i < V; i++) a += v0[s * V + i] * W[i * H + j];
            h0p[s * H + j] = sigmoid(a);
        }
        for (int i = 0; i < V; i++) {
            double a = b[i];
            for (int j = 0; j < H; j++) a += sample[s * H + j] * W[i * H + j];
            v1[s * V + i] = sigmoid(a);
        }
        for (int j = 0; j < H; j++) {
            double a = c[j];
            for (int i = 0; i < V; i++) a += v1[s * V + i] * W[i * H + j];
            h1p[s * H + j] = sigmoid(a);
        }
    }
}

/* the largest |(after - before) - update| over a parameter's n entries */
static double worst(const float *after, const double *before, const double *update, int n) {
    double e = 0;
    for (int k = 0; k < n; k++) e = fmax(e, fabs((after[k] - before[k]) - update[k]));
    return e;
}

int main(void) {
    const dlrt_model_desc *m = rbm_model();
    float *w = calloc((size_t)m->weights_count, sizeof(float));
    unsigned char *arena = calloc((size_t)m->arena_bytes, 1);
    const dlrt_tensor_desc *tw = find(m, DLRT_PARAM, "W"), *tb = find(m, DLRT_PARAM, "visible_bias");
    const dlrt_tensor_desc *tc = find(m, DLRT_PARAM, "hidden_bias");
    srand(7);
    for (int k = 0; k < V * H; k++) w[tw->offset + k] = (float)(draw() - 0.5), W[k] = w[tw->offset + k];
    for (int k = 0; k < V; k++) w[tb->offset + k] = (float)(draw() - 0.5), b[k] = w[tb->offset + k];
    for (int k = 0; k < H; k++) w[tc->offset + k] = (float)(draw() - 0.5), c[k] = w[tc->offset + k];
    for (int k = 0; k < B * V; k++) v0[k] = draw() < 0.3 ? 1.0f : 0.0f;
    double scalars[8] = {0}, loss;
    for (int i = 0; i < m->n_tensors; i++) /* seed 1, step 1, lr 1 */
        if (m->tensors[i].kind == DLRT_SCALAR) scalars[m->tensors[i].index] = 1.0;
    const void *inputs[1] = {v0};
    m->train_step(w, arena, inputs, B, scalars, &loss);
    memcpy(sample, arena + find(m, DLRT_OUTPUT, NULL)->offset, sizeof sample);
    chain();
    static double dW[V * H], db[V], dc[H];
    for (int s = 0; s < B; s++) {
        for (int i = 0; i < V; i++) {
            db[i] += (v0[s * V + i] - v1[s * V + i]) / B;
            for (int j = 0; j < H; j++)
                dW[i * H + j] += (v0[s * V + i] * h0p[s * H + j] - v1[s * V + i] * h1p[s * H + j]) / B;
        }
        for (int j = 0; j < H; j++) dc[j] += (h0p[s * H + j] - h1p[s * H + j]) / B;
    }
    double tol = 8.0 * (V + B) * 0x1p-24, ew = worst(w + tw->offset, W, dW, V * H);
    double eb = worst(w + tb->offset, b, db, V), ec = worst(w + tc->offset, c, dc, H);
    double size = 0;
    for (int k = 0; k < V * H; k++) size = fmax(size, fabs(dW[k]));
    printf("CD-1 update: largest |dW| %.4f; step minus update: W %.2e, b %.2e, c %.2e (tolerance %.1e)\n",
           size, ew, eb, ec, tol);
    expect(ew <= tol, "W moves by the CD-1 update");
    expect(eb <= tol, "the visible bias moves by the CD-1 update");
    expect(ec <= tol, "the hidden bias moves by the CD-1 update");
    int ones = 0, binary = 1;
    for (int k = 0; k < B * H; k++) ones += sample[k] == 1, binary &= sample[k] == 0 || sample[k] == 1;
    expect(binary && ones > 0 && ones < B * H, "the hidden sample is 0/1, not constant");
    printf("%d passed, %d failed\n", 4 - failures, failures);
    return failures != 0;
}
C
cc -std=c99 -O1 -Wall -Wextra -Werror -I"$root/tests/e2e" -I"$tmp" -o "$tmp/main" "$tmp/main.c" -lm
"$tmp/main"
