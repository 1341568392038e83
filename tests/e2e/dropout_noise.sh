#!/usr/bin/env bash
# dropout and gaussian_noise act only in training: the evaluation step passes values through
# unchanged, the training step drops about p of them (scaling the rest by 1 / (1 - p)) or adds
# noise of the given std, reproducibly from (seed, step), and the backward pass applies the
# forward pass's mask. Drives the generated C directly (dlc -o), without the runtime.
#   dropout_noise.sh DLC
set -eu
dlc=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/drop.dl" <<'DL'
model drop {
  input x: f32[8]
  y = dropout(x + dense(x, 8), 0.25)
}
train drop {
  loss = sum(y)
  optimizer = sgd(lr = 1)
  batch = 512
}
DL
cat >"$tmp/noise.dl" <<'DL'
model noise {
  input x: f32[8]
  z = gaussian_noise(x + dense(x, 8), 0.5)
}
train noise {
  loss = mean(z)
  optimizer = sgd(lr = 1)
  batch = 512
}
DL
"$dlc" "$tmp/drop.dl" -o "$tmp/drop.c"
"$dlc" "$tmp/noise.dl" -o "$tmp/noise.c"
cat >"$tmp/main.c" <<'C'
#include "drop.c" /* and the ABI types */
const dlrt_model_desc *noise_model(void);
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

enum { N = 512, F = 8 };
static float x[N * F];
#include "harness.h" /* expect(), find() */

/* one model instance: zero weights (so dense(x) starts at 0), an arena, its output */
typedef struct run {
    const dlrt_model_desc *m; /* the model */
    float *weights;           /* weights block */
    unsigned char *arena;     /* activations */
    const float *out;         /* the model's output, in the arena */
} run;

static run fresh(const dlrt_model_desc *m) {
    run r = {m, calloc((size_t)m->weights_count, sizeof(float)), calloc((size_t)m->arena_bytes, 1), NULL};
    r.out = (const float *)(r.arena + find(m, DLRT_OUTPUT, NULL)->offset);
    return r;
}

static void done(run *r) { free(r->weights), free(r->arena); }

static void eval(run *r) {
    const void *inputs[1] = {x};
    double loss;
    r->m->eval_step(r->weights, r->arena, inputs, N, NULL, &loss);
}

static void train(run *r, double seed, double step) {
    double scalars[8] = {0}, loss;
    for (int i = 0; i < r->m->n_tensors; i++) {
        const dlrt_tensor_desc *t = &r->m->tensors[i];
        if (t->kind != DLRT_SCALAR) continue;
        scalars[t->index] = !strcmp(t->name, "seed") ? seed : !strcmp(t->name, "step") ? step : 1.0;
    }
    const void *inputs[1] = {x};
    r->m->train_step(r->weights, r->arena, inputs, N, scalars, &loss);
}

/* the same (seed, step) draws the same values; another step or seed draws others */
static void check_reproducible(const dlrt_model_desc *m, const float *first, const char *what) {
    char msg[128];
    run b = fresh(m), c = fresh(m), d = fresh(m);
    train(&b, 7, 1), train(&c, 7, 2), train(&d, 8, 1);
    snprintf(msg, sizeof msg, "train: the same seed and step draw the same %s", what);
    expect(!memcmp(first, b.out, sizeof x), msg);
    snprintf(msg, sizeof msg, "train: the next step and another seed draw another %s", what);
    expect(memcmp(first, c.out, sizeof x) != 0 && memcmp(first, d.out, sizeof x) != 0, msg);
    done(&b), done(&c), done(&d);
}

static void check_dropout(void) {
    run a = fresh(drop_model());
    eval(&a);
    expect(!memcmp(a.out, x, sizeof x), "eval: dropout is the identity");
    train(&a, 7, 1);
    int dropped = 0, scaled = 1;
    for (int i = 0; i < N * F; i++) {
        if (a.out[i] == 0) dropped++;
        else scaled &= a.out[i] == x[i] * (1 / 0.75f);
    }
    printf("train: dropout(p = 0.25) dropped %.4f of the values\n", (double)dropped / (N * F));
    expect(dropped > 0.22 * N * F && dropped < 0.28 * N * F, "train: dropout drops about p of the values");
    expect(scaled, "train: kept values are scaled by 1 / (1 - p)");
    /* d sum(y) / d bias_j = kept_j / (1 - p); SGD with lr 1 from 0 leaves bias = -grad */
    const float *bias = a.weights + find(a.m, DLRT_PARAM, "dense1.b")->offset;
    int same_mask = 1;
    for (int j = 0; j < F; j++) {
        int kept = 0;
        for (int r = 0; r < N; r++) kept += a.out[r * F + j] != 0;
        same_mask &= fabsf(bias[j] + (float)kept / 0.75f) < 1e-3f * (float)kept;
    }
    expect(same_mask, "train: the backward pass applies the forward pass's mask");
    check_reproducible(a.m, a.out, "mask");
    done(&a);
}

static void check_noise(void) {
    run a = fresh(noise_model());
    eval(&a);
    expect(!memcmp(a.out, x, sizeof x), "eval: gaussian_noise is the identity");
    train(&a, 7, 1);
    double sum = 0, sq = 0;
    for (int i = 0; i < N * F; i++) {
        double d = (double)a.out[i] - x[i];
        sum += d, sq += d * d;
    }
    double mean = sum / (N * F), sd = sqrt(sq / (N * F) - mean * mean);
    printf("train: gaussian_noise(std = 0.5) added noise of mean %.4f, std %.4f\n", mean, sd);
    expect(fabs(mean) < 0.03 && fabs(sd - 0.5) < 0.03, "train: noise has mean 0 and the given std");
    check_reproducible(a.m, a.out, "noise");
    done(&a);
}

int main(void) {
    for (int i = 0; i < N * F; i++) x[i] = 1.0f + (float)(i % 97) / 97.0f; /* never 0 */
    check_dropout();
    check_noise();
    printf("%d failed\n", failures);
    return failures != 0;
}
C
cc -std=c99 -O1 -Wall -Wextra -Werror -I"$(dirname "$0")" -o "$tmp/main" "$tmp/main.c" "$tmp/noise.c" -lm
"$tmp/main"
