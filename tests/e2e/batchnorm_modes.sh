#!/usr/bin/env bash
# batchnorm's two modes: the training step normalizes with the batch's statistics and moves the
# running statistics towards them (momentum, unbiased variance); the evaluation step normalizes
# with the running statistics, is deterministic and changes nothing. A training batch with one
# value per channel leaves the running statistics as they were. Drives the generated C directly
# (dlc -o), without the runtime.
#   batchnorm_modes.sh DLC
set -eu
dlc=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/maps.dl" <<'DL'
model maps {
  input x: f32[2, 2, 2]
  y = batchnorm(x, momentum = 0.25)
}
train maps {
  loss = mean(y * y + y)
  optimizer = sgd(lr = 0.5)
  batch = 3
}
DL
cat >"$tmp/feats.dl" <<'DL'
model feats {
  input x: f32[3]
  y = batchnorm(x)
}
train feats {
  loss = sum(y)
  batch = 4
}
DL
"$dlc" "$tmp/maps.dl" -o "$tmp/maps.c"
"$dlc" "$tmp/feats.dl" -o "$tmp/feats.c"
cat >"$tmp/main.c" <<'C'
#include "maps.c" /* and the ABI types */
const dlrt_model_desc *feats_model(void);
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 3, C = 2, HW = 4 };
static float x[N * C * HW];
#include "harness.h" /* expect(), find() */

typedef struct run {
    const dlrt_model_desc *m; /* the model */
    float *weights;           /* weights block, initialised as the tensor table says */
    unsigned char *arena;     /* activations */
    const float *out;         /* the model's output, in the arena */
} run;

static run fresh(const dlrt_model_desc *m) {
    run r = {m, calloc((size_t)m->weights_count, sizeof(float)), calloc((size_t)m->arena_bytes, 1), NULL};
    for (int i = 0; i < m->n_tensors; i++) {
        const dlrt_tensor_desc *t = &m->tensors[i];
        if ((t->kind == DLRT_PARAM || t->kind == DLRT_BUFFER) && !strcmp(t->init, "constant"))
            for (long long j = 0; j < t->dims[0]; j++) r.weights[t->offset + j] = (float)t->init_a;
    }
    r.out = (const float *)(r.arena + find(m, DLRT_OUTPUT, NULL)->offset);
    return r;
}

static const float *tensor(run *r, int kind, const char *name) {
    return r->weights + find(r->m, kind, name)->offset;
}

static void step(run *r, int train, int n) {
    const void *inputs[1] = {x};
    double scalars[8] = {0.5}, loss; /* lr, the only step scalar */
    if (train) r->m->train_step(r->weights, r->arena, inputs, n, scalars, &loss);
    else r->m->eval_step(r->weights, r->arena, inputs, n, NULL, &loss);
}

/* channel c's values x[b, c, k]: mean and biased variance */
static void channel_stats(int c, double *mean, double *var) {
    double s = 0, q = 0;
    for (int b = 0; b < N; b++)
        for (int k = 0; k < HW; k++) s += x[(b * C + c) * HW + k];
    *mean = s / (N * HW);
    for (int b = 0; b < N; b++)
        for (int k = 0; k < HW; k++) q += pow(x[(b * C + c) * HW + k] - *mean, 2);
    *var = q / (N * HW);
}

static void check_maps(void) {
    run r = fresh(maps_model());
    step(&r, 0, N);
    int fresh_eval = 1;
    for (int i = 0; i < N * C * HW; i++) fresh_eval &= fabs(r.out[i] - x[i] / sqrt(1 + 1e-5)) < 1e-6;
    expect(fresh_eval, "eval before training: running mean 0 and variance 1");
    step(&r, 1, N);
    const float *rm = tensor(&r, DLRT_BUFFER, "batchnorm1.running_mean");
    const float *rv = tensor(&r, DLRT_BUFFER, "batchnorm1.running_var");
    const float *gamma = tensor(&r, DLRT_PARAM, "batchnorm1.weight");
    const float *beta = tensor(&r, DLRT_PARAM, "batchnorm1.bias");
    int normalized = 1, running = 1;
    float train_out[N * C * HW];
    memcpy(train_out, r.out, sizeof train_out);
    for (int c = 0; c < C; c++) {
        double mean, var, ym = 0, yv = 0;
        channel_stats(c, &mean, &var);
        for (int b = 0; b < N; b++)
            for (int k = 0; k < HW; k++) ym += train_out[(b * C + c) * HW + k] / (N * HW);
        for (int b = 0; b < N; b++)
            for (int k = 0; k < HW; k++) yv += pow(train_out[(b * C + c) * HW + k] - ym, 2) / (N * HW);
        normalized &= fabs(ym) < 1e-5 && fabs(yv - 1) < 1e-3;
        double n = N * HW;
        running &= fabs(rm[c] - 0.25 * mean) < 1e-6 &&
                   fabs(rv[c] - (0.75 + 0.25 * var * n / (n - 1))) < 1e-5;
    }
    expect(normalized, "train: each channel is normalized with the batch's mean and variance");
    expect(running, "train: running statistics move by momentum, the variance unbiased");
    /* with y = xhat: d loss / d gamma_c = sum (2 y + 1) xhat / (N C HW) = 2 N HW / (N C HW) = 1
     * (up to var / (var + eps)), d loss / d beta_c = sum (2 y + 1) / (N C HW) = 1 / 2 */
    int trained = 1;
    for (int c = 0; c < C; c++) trained &= fabs(gamma[c] - 0.5) < 1e-5 && fabs(beta[c] + 0.25) < 1e-5;
    expect(trained, "train: gamma and beta take an SGD step (lr 0.5) along their gradients");
    float *before = malloc(sizeof(float) * (size_t)r.m->weights_count);
    memcpy(before, r.weights, sizeof(float) * (size_t)r.m->weights_count);
    step(&r, 0, N);
    float first[N * C * HW];
    memcpy(first, r.out, sizeof first);
    int with_running = 1;
    double most = 0;
    for (int b = 0; b < N; b++)
        for (int c = 0; c < C; c++)
            for (int k = 0; k < HW; k++) {
                int i = (b * C + c) * HW + k;
                double want = (x[i] - rm[c]) / sqrt(rv[c] + 1e-5) * gamma[c] + beta[c];
                with_running &= fabs(first[i] - want) < 1e-5;
                most = fmax(most, fabs(first[i] - train_out[i]));
            }
    expect(with_running, "eval: normalized with the running statistics, then gamma and beta");
    expect(most > 0.1, "eval and train outputs differ");
    step(&r, 0, N);
    expect(!memcmp(first, r.out, sizeof first), "eval: deterministic");
    expect(!memcmp(before, r.weights, sizeof(float) * (size_t)r.m->weights_count),
           "eval: changes no parameter or running statistic");
    free(before);
    free(r.weights), free(r.arena);
}

/* a [B, C] batch of one sample: one value per channel, no variance to estimate */
static void check_single(void) {
    run r = fresh(feats_model());
    step(&r, 1, 1);
    const float *rm = tensor(&r, DLRT_BUFFER, "batchnorm1.running_mean");
    const float *rv = tensor(&r, DLRT_BUFFER, "batchnorm1.running_var");
    int same = 1;
    for (int c = 0; c < 3; c++) same &= rm[c] == 0 && rv[c] == 1 && fabsf(r.out[c]) < 1e-3f;
    expect(same, "train with one value per channel: output beta, running statistics unchanged");
    free(r.weights), free(r.arena);
}

int main(void) {
    for (int i = 0; i < N * C * HW; i++) x[i] = (float)((i * 37) % 11) / 3.0f - 1.0f + (float)(i % 2);
    check_maps();
    check_single();
    printf("%d failed\n", failures);
    return failures != 0;
}
C
cc -std=c99 -O1 -Wall -Wextra -Werror -Wno-unused-function -I"$(dirname "$0")" -o "$tmp/main" "$tmp/main.c" "$tmp/feats.c" -lm
"$tmp/main"
