/*
 * dlrt_session.c — a model instance: one weights block and one arena, allocated once and
 * 64-byte aligned; parameters initialised from the seed as their descriptor says; optimizer
 * state zeroed.
 */
#include "dlrt.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const dlrt_tensor_desc *dlrt_find_tensor(const dlrt_model_desc *m, int kind, const char *name) {
    for (int i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].kind == kind && (!name || strcmp(m->tensors[i].name, name) == 0))
            return &m->tensors[i];
    return NULL;
}

static long long numel(const dlrt_tensor_desc *t) {
    long long n = 1;
    for (int i = 0; i < t->rank; i++) n *= t->dims[i];
    return n;
}

/* one draw of the initializer; returns 0 for an unknown name */
static int init_draw(const dlrt_tensor_desc *t, dlrt_rng *r, double *v) {
    const char *k = t->init;
    double fi = (double)t->fan_in, fo = (double)t->fan_out, u = dlrt_rng_uniform(r);
    if (!strcmp(k, "zeros")) *v = 0;
    else if (!strcmp(k, "constant")) *v = t->init_a;
    else if (!strcmp(k, "uniform")) *v = t->init_a + (t->init_b - t->init_a) * u;
    else if (!strcmp(k, "normal")) *v = t->init_a + t->init_b * dlrt_rng_normal(r);
    else if (!strcmp(k, "torch_default")) *v = (2 * u - 1) / sqrt(fi);
    else if (!strcmp(k, "he_uniform")) *v = (2 * u - 1) * sqrt(6.0 / fi);
    else if (!strcmp(k, "he_normal")) *v = sqrt(2.0 / fi) * dlrt_rng_normal(r);
    else if (!strcmp(k, "xavier_uniform")) *v = (2 * u - 1) * sqrt(6.0 / (fi + fo));
    else if (!strcmp(k, "xavier_normal")) *v = sqrt(2.0 / (fi + fo)) * dlrt_rng_normal(r);
    else if (!strcmp(k, "lecun_normal")) *v = sqrt(1.0 / fi) * dlrt_rng_normal(r);
    else return 0;
    return 1;
}

static int init_params(dlrt_session *s, uint64_t seed, char *err, size_t errlen) {
    const dlrt_model_desc *m = s->model;
    for (int i = 0; i < m->n_tensors; i++) {
        const dlrt_tensor_desc *t = &m->tensors[i];
        if (t->kind != DLRT_PARAM) continue;
        dlrt_rng r;
        dlrt_rng_seed(&r, seed * 1000003ULL + (uint64_t)i); /* per tensor: order-independent */
        for (long long j = 0; j < numel(t); j++) {
            double v;
            if (!init_draw(t, &r, &v)) {
                snprintf(err, errlen, "%s: unknown initializer '%s'", t->name, t->init);
                return -1;
            }
            if (m->real_size == 8) ((double *)s->weights)[t->offset + j] = v;
            else ((float *)s->weights)[t->offset + j] = (float)v;
        }
    }
    return 0;
}

static void *alloc_aligned(long long bytes) {
    size_t n = ((size_t)(bytes > 0 ? bytes : 1) + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, n);
    if (p) memset(p, 0, n);
    return p;
}

int dlrt_session_init(dlrt_session *s, const dlrt_model_desc *m, uint64_t seed, char *err,
                      size_t errlen) {
    memset(s, 0, sizeof *s);
    if (m->abi_version != DLRT_ABI_VERSION) {
        snprintf(err, errlen, "model '%s' was generated for runtime ABI %d, this runtime is %d",
                 m->name, m->abi_version, DLRT_ABI_VERSION);
        return -1;
    }
    s->model = m;
    s->weights = alloc_aligned(m->weights_count * m->real_size);
    s->arena = alloc_aligned(m->arena_bytes);
    if (!s->weights || !s->arena) {
        snprintf(err, errlen, "model '%s': cannot allocate %lld bytes of weights and %lld of arena",
                 m->name, m->weights_count * m->real_size, m->arena_bytes);
        dlrt_session_free(s);
        return -1;
    }
    return init_params(s, seed, err, errlen);
}

void dlrt_session_free(dlrt_session *s) {
    free(s->weights);
    free(s->arena);
    s->weights = s->arena = NULL;
}
