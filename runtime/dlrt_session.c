/*
 * dlrt_session.c — a model instance: one weights block and one arena, allocated once and
 * 64-byte aligned; parameters, buffers and optimizer state initialised as their descriptor
 * rows say (random initializers draw from the seed, one stream per tensor).
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

/* What an initializer draws from: a constant, U[a, b), or N(a, b^2). */
typedef struct init_law {
    int kind;  /* LAW_* */
    double a;  /* constant value, uniform low or normal mean */
    double b;  /* uniform high or normal std */
} init_law;

enum { LAW_CONSTANT, LAW_UNIFORM, LAW_NORMAL };

static init_law symmetric(int kind, double size) {
    return kind == LAW_UNIFORM ? (init_law){LAW_UNIFORM, -size, size} : (init_law){LAW_NORMAL, 0, size};
}

/* The law of initializer t->init, as torch.nn.init defines it (kaiming: a = 0, relu gain;
 * xavier: gain 1; lecun: variance 1/fan_in; torch_default: nn.Linear's U(+-1/sqrt(fan_in))).
 * Returns 0 for an unknown name or a fan-scaled kind without a fan-in. */
static int find_law(const dlrt_tensor_desc *t, init_law *law) {
    const char *k = t->init;
    double fi = (double)t->fan_in, fo = (double)t->fan_out;
    if (!strcmp(k, "zeros")) *law = (init_law){LAW_CONSTANT, 0, 0};
    else if (!strcmp(k, "constant")) *law = (init_law){LAW_CONSTANT, t->init_a, 0};
    else if (!strcmp(k, "uniform")) *law = (init_law){LAW_UNIFORM, t->init_a, t->init_b};
    else if (!strcmp(k, "normal")) *law = (init_law){LAW_NORMAL, t->init_a, t->init_b};
    else if (fi <= 0) return 0;
    else if (!strcmp(k, "torch_default")) *law = symmetric(LAW_UNIFORM, 1 / sqrt(fi));
    else if (!strcmp(k, "he_uniform")) *law = symmetric(LAW_UNIFORM, sqrt(6.0 / fi));
    else if (!strcmp(k, "he_normal")) *law = symmetric(LAW_NORMAL, sqrt(2.0 / fi));
    else if (!strcmp(k, "lecun_uniform")) *law = symmetric(LAW_UNIFORM, sqrt(3.0 / fi));
    else if (!strcmp(k, "lecun_normal")) *law = symmetric(LAW_NORMAL, sqrt(1.0 / fi));
    else if (fi + fo <= 0) return 0;
    else if (!strcmp(k, "xavier_uniform")) *law = symmetric(LAW_UNIFORM, sqrt(6.0 / (fi + fo)));
    else if (!strcmp(k, "xavier_normal")) *law = symmetric(LAW_NORMAL, sqrt(2.0 / (fi + fo)));
    else return 0;
    return 1;
}

static double draw(const init_law *law, dlrt_rng *r) {
    if (law->kind == LAW_UNIFORM) return law->a + (law->b - law->a) * dlrt_rng_uniform(r);
    if (law->kind == LAW_NORMAL) return law->a + law->b * dlrt_rng_normal(r);
    return law->a;
}

static int init_weights(dlrt_session *s, uint64_t seed, char *err, size_t errlen) {
    const dlrt_model_desc *m = s->model;
    for (int i = 0; i < m->n_tensors; i++) {
        const dlrt_tensor_desc *t = &m->tensors[i];
        if (t->kind != DLRT_PARAM && t->kind != DLRT_STATE && t->kind != DLRT_BUFFER)
            continue;
        init_law law;
        if (!find_law(t, &law)) {
            snprintf(err, errlen, "%s: unknown initializer '%s' (or no fan-in for it)", t->name, t->init);
            return -1;
        }
        dlrt_rng r;
        dlrt_rng_seed(&r, seed * 1000003ULL + (uint64_t)i); /* per tensor: order-independent */
        for (long long j = 0; j < numel(t); j++) {
            double v = draw(&law, &r);
            if (m->real_size == 8) ((double *)s->weights)[t->offset + j] = v;
            else ((float *)s->weights)[t->offset + j] = (float)v;
        }
    }
    return 0;
}

/* 64-byte aligned, zeroed; *allocated gets the bytes asked for */
static void *alloc_aligned(long long bytes, long long *allocated) {
    size_t n = ((size_t)(bytes > 0 ? bytes : 1) + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, n);
    if (p) memset(p, 0, n);
    *allocated = p ? (long long)n : 0;
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
    s->weights = alloc_aligned(m->weights_count * m->real_size, &s->weights_bytes);
    s->arena = alloc_aligned(m->arena_bytes, &s->arena_bytes);
    if (!s->weights || !s->arena) {
        snprintf(err, errlen, "model '%s': cannot allocate %lld bytes of weights and %lld of arena",
                 m->name, m->weights_count * m->real_size, m->arena_bytes);
        dlrt_session_free(s);
        return -1;
    }
    return init_weights(s, seed, err, errlen);
}

void dlrt_session_free(dlrt_session *s) {
    free(s->weights);
    free(s->arena);
    s->weights = s->arena = NULL;
}
