#!/usr/bin/env bash
# normal, uniform and bernoulli (issue 15): the moments of their draws and their seeding.
# Each model's output is one sample op's draws (zero weights make dense(x) = 0), 512 x 64 =
# 32768 values per step. The sample mean must lie within 6 standard errors of the law's mean
# (6 sqrt(var / n)) and the sample variance within 6 standard errors of its variance
# (6 sqrt((mu4 - var^2) / n), mu4 the fourth central moment): a false failure has odds below
# 1e-8 per check. The same (seed, step) draws the same values, another seed or step others,
# two samples of one batch differ, and the evaluation step draws the same values every call.
# Drives the generated C directly (dlc -o), without the runtime.
#   random_samples.sh DLC
set -eu
dlc=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
model() { # name, expression of the output
  cat >"$tmp/$1.dl" <<DL
model $1 {
  input x: f32[8]
  y = $2
}
train $1 {
  loss = mean(y)
  optimizer = sgd(lr = 1)
  batch = 512
  seed = 1
}
DL
  "$dlc" "$tmp/$1.dl" -o "$tmp/$1.c"
}
model gauss 'normal(64, mean = 1, std = 2) + dense(x, 64)'
model flat 'uniform(64, low = -1, high = 3) + dense(x, 64)'
model coin 'bernoulli(sigmoid(dense(x, 64) - 1.3862943611198906)) + dense(x, 64)'
cat >"$tmp/main.c" <<'C'
#include "gauss.c" /* and the ABI types */
const dlrt_model_desc *flat_model(void);
const dlrt_model_desc *coin_model(void);
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 512, F = 64, M = N * F };
static float x[N * 8];
#include "harness.h" /* expect(), find() */

/* the output of one step of model m from zero weights: train, or eval (given scalars, or NULL) */
static void run(const dlrt_model_desc *m, int train, int null_scalars, double seed, double stepno,
                float *out) {
    float *w = calloc((size_t)m->weights_count, sizeof(float));
    unsigned char *arena = calloc((size_t)m->arena_bytes, 1);
    double scalars[8] = {0}, loss;
    for (int i = 0; i < m->n_tensors; i++) {
        const dlrt_tensor_desc *t = &m->tensors[i];
        if (t->kind == DLRT_SCALAR)
            scalars[t->index] = !strcmp(t->name, "seed") ? seed : !strcmp(t->name, "step") ? stepno : 1.0;
    }
    const void *inputs[1] = {x};
    if (train) m->train_step(w, arena, inputs, N, scalars, &loss);
    else m->eval_step(w, arena, inputs, N, null_scalars ? NULL : scalars, &loss);
    memcpy(out, arena + find(m, DLRT_OUTPUT, NULL)->offset, sizeof(float) * M);
    free(w), free(arena);
}

/* train when seed >= 0, else eval without scalars */
static void step(const dlrt_model_desc *m, double seed, double stepno, float *out) {
    run(m, seed >= 0, 1, seed, stepno, out);
}

static float a[M], b[M];

/* mean and variance of a[] against the law's mean, variance and fourth central moment */
static void moments(const char *what, double mu, double var, double mu4) {
    double s = 0, q = 0;
    for (int i = 0; i < M; i++) s += a[i];
    double mean = s / M;
    for (int i = 0; i < M; i++) q += (a[i] - mean) * (a[i] - mean);
    double v = q / (M - 1), se_m = sqrt(var / M), se_v = sqrt((mu4 - var * var) / M);
    char msg[200];
    printf("%s: mean %.5f (law %.5f, 6 SE %.5f), variance %.5f (law %.5f, 6 SE %.5f)\n", what, mean,
           mu, 6 * se_m, v, var, 6 * se_v);
    snprintf(msg, sizeof msg, "%s: mean within 6 standard errors", what);
    expect(fabs(mean - mu) <= 6 * se_m, msg);
    snprintf(msg, sizeof msg, "%s: variance within 6 standard errors", what);
    expect(fabs(v - var) <= 6 * se_v, msg);
}

static void seeding(const dlrt_model_desc *m, const char *what) {
    char msg[200];
    step(m, 7, 3, a), step(m, 7, 3, b);
    snprintf(msg, sizeof msg, "%s: the same seed and step draw the same values", what);
    expect(!memcmp(a, b, sizeof a), msg);
    step(m, 8, 3, b);
    snprintf(msg, sizeof msg, "%s: another seed draws other values", what);
    expect(memcmp(a, b, sizeof a) != 0, msg);
    step(m, 7, 4, b);
    snprintf(msg, sizeof msg, "%s: the next step draws other values", what);
    expect(memcmp(a, b, sizeof a) != 0, msg);
    snprintf(msg, sizeof msg, "%s: two samples of a batch draw other values", what);
    expect(memcmp(a, a + F, sizeof(float) * F) != 0, msg);
    step(m, -1, 0, a), step(m, -1, 0, b);
    snprintf(msg, sizeof msg, "%s: evaluation draws the same values every call", what);
    expect(!memcmp(a, b, sizeof a), msg);
    run(m, 0, 0, 0, 0, b);
    snprintf(msg, sizeof msg, "%s: evaluation without scalars draws as with seed 0, step 0", what);
    expect(!memcmp(a, b, sizeof a), msg);
    run(m, 0, 0, 7, -1, a), run(m, 0, 0, 7, -1, b);
    snprintf(msg, sizeof msg, "%s: evaluation of one batch key draws the same values", what);
    expect(!memcmp(a, b, sizeof a), msg);
    run(m, 0, 0, 7, -2, b);
    snprintf(msg, sizeof msg, "%s: evaluation of the next batch draws other values", what);
    expect(memcmp(a, b, sizeof a) != 0, msg);
}

int main(void) {
    for (int i = 0; i < N * 8; i++) x[i] = (float)(i % 13) / 13.0f;
    step(gauss_model(), 7, 1, a);
    moments("normal(mean 1, std 2)", 1, 4, 3 * 16);
    step(gauss_model(), -1, 0, a);
    moments("normal, evaluation", 1, 4, 3 * 16);
    step(flat_model(), 7, 1, a);
    moments("uniform(-1, 3)", 1, 16.0 / 12, 256.0 / 80);
    step(coin_model(), 7, 1, a);
    int binary = 1;
    for (int i = 0; i < M; i++) binary &= a[i] == 0 || a[i] == 1;
    expect(binary, "bernoulli: every draw is 0 or 1");
    moments("bernoulli(0.2)", 0.2, 0.16, 0.16 * (1 - 3 * 0.2 + 3 * 0.04));
    seeding(gauss_model(), "normal");
    seeding(flat_model(), "uniform");
    seeding(coin_model(), "bernoulli");
    printf("%d failed\n", failures);
    return failures != 0;
}
C
cc -std=c99 -O1 -Wall -Wextra -Werror -I"$(dirname "$0")" -o "$tmp/main" "$tmp/main.c" "$tmp/flat.c" "$tmp/coin.c" -lm
"$tmp/main"
