/*
 * dlrt_pairs.c — the pairs and triplets sampler (semantics in dlrt_pairs.h): O(1) per tuple
 * over the pool grouped by class.
 */
#include "dlrt.h"
#include "dlrt_pairs.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAIRS_STREAM 0x7061697273ULL /* keeps the pair streams apart from the others */

static int64_t below(dlrt_rng *r, int64_t n) { /* uniform in [0, n) */
    int64_t k = (int64_t)(dlrt_rng_uniform(r) * (double)n);
    return k < n ? k : n - 1;
}

void dlrt_sampler_free(dlrt_sampler *s) {
    free(s->by_class), free(s->start), free(s->count);
    memset(s, 0, sizeof *s);
}

static int classes_present(const dlrt_sampler *s) {
    int k = 0;
    for (int c = 0; c < s->n_classes; c++) k += s->count[c] > 0;
    return k;
}

int dlrt_sampler_init(dlrt_sampler *s, const int32_t *labels, int n_classes, const int64_t *pool,
                      int64_t n, int need_other, const char *what, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    s->labels = labels, s->n = n, s->n_classes = n_classes;
    s->by_class = malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
    s->start = calloc((size_t)n_classes + 1, sizeof(int64_t));
    s->count = calloc((size_t)n_classes + 1, sizeof(int64_t));
    if (!s->by_class || !s->start || !s->count) {
        dlrt_sampler_free(s);
        snprintf(err, errlen, "out of memory for the pairs sampler");
        return -1;
    }
    for (int64_t i = 0; i < n; i++) s->count[labels[pool[i]]]++;
    for (int c = 1; c < n_classes; c++) s->start[c] = s->start[c - 1] + s->count[c - 1];
    int64_t *at = calloc((size_t)n_classes, sizeof(int64_t));
    if (!at) {
        dlrt_sampler_free(s);
        snprintf(err, errlen, "out of memory for the pairs sampler");
        return -1;
    }
    for (int64_t i = 0; i < n; i++) {
        int32_t c = labels[pool[i]];
        s->by_class[s->start[c] + at[c]++] = pool[i];
    }
    free(at);
    int have = classes_present(s);
    if (have >= (need_other ? 2 : 1)) return 0;
    snprintf(err, errlen, "%s: %s", what, n == 0 ? "no sample to draw pairs from"
             : "every sample is of one class, so no different-class pair can be drawn");
    dlrt_sampler_free(s);
    return -1;
}

/* a position of class c's block other than p (p itself when the class has one sample) */
static int64_t same_class(const dlrt_sampler *s, dlrt_rng *r, int c, int64_t p) {
    int64_t n = s->count[c];
    if (n < 2) return p;
    int64_t q = s->start[c] + below(r, n - 1);
    return q >= p ? q + 1 : q;
}

/* a position outside class c's block */
static int64_t other_class(const dlrt_sampler *s, dlrt_rng *r, int c) {
    int64_t q = below(r, s->n - s->count[c]);
    return q >= s->start[c] ? q + s->count[c] : q;
}

void dlrt_sampler_draw(const dlrt_sampler *s, int arity, double same_share, uint64_t key,
                       int64_t n, int64_t *out) {
    dlrt_rng r;
    dlrt_rng_seed(&r, key);
    for (int64_t k = 0; k < n; k++) {
        int64_t p = below(&r, s->n), *t = out + k * arity;
        int c = s->labels[s->by_class[p]];
        t[0] = s->by_class[p];
        if (arity == 3) {
            t[1] = s->by_class[same_class(s, &r, c, p)];
            t[2] = s->by_class[other_class(s, &r, c)];
            continue;
        }
        int same = dlrt_rng_uniform(&r) < same_share;
        t[1] = s->by_class[same ? same_class(s, &r, c, p) : other_class(s, &r, c)];
    }
}

uint64_t dlrt_sampler_key(long long seed, long long epoch, int part) {
    return (((uint64_t)seed * 1000003ULL + (uint64_t)epoch) * 4ULL + (uint64_t)part) ^ PAIRS_STREAM;
}
