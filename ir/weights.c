/*
 * weights.c — the IR's table of trained tensors (weights.h): building, lookup by name, sizes.
 */
#include "weights.h"
#include <string.h>

ir_weights *ir_weights_new(arena *a, const char *source, int cap) {
    ir_weights *w = arena_alloc(a, sizeof *w);
    w->source = source ? arena_strdup(a, source) : NULL;
    w->cap = cap > 0 ? cap : 1;
    w->t = arena_alloc(a, sizeof(ir_weight) * (size_t)w->cap);
    return w;
}

static size_t dtype_size(ir_weight_dtype dtype) { return dtype == IR_WEIGHT_F64 ? 8 : 4; }

const ir_weight *ir_weights_add(ir_weights *w, arena *a, const char *name, ir_weight_dtype dtype,
                                int rank, const int64_t *dims, const void *data) {
    DLC_ASSERT(rank >= 0 && rank <= IR_MAX_RANK);
    if (w->n == w->cap) {
        w->t = arena_grow(a, w->t, sizeof(ir_weight) * (size_t)w->cap,
                          sizeof(ir_weight) * (size_t)w->cap * 2);
        w->cap *= 2;
    }
    ir_weight *t = &w->t[w->n++];
    t->name = arena_strdup(a, name);
    t->dtype = dtype;
    t->rank = rank;
    for (int i = 0; i < rank; i++) t->dims[i] = dims[i];
    size_t bytes = (size_t)ir_weight_numel(t) * dtype_size(dtype);
    void *copy = arena_alloc(a, bytes + 1);
    if (bytes) memcpy(copy, data, bytes);
    t->data = copy;
    return t;
}

const ir_weight *ir_weights_find(const ir_weights *w, const char *name) {
    for (int k = 0; k < w->n; k++)
        if (strcmp(w->t[k].name, name) == 0) return &w->t[k];
    return NULL;
}

int64_t ir_weight_numel(const ir_weight *t) {
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++) n *= t->dims[i];
    return n;
}

const char *ir_weight_dtype_name(ir_weight_dtype dtype) {
    return dtype == IR_WEIGHT_F32 ? "f32" : dtype == IR_WEIGHT_I32 ? "i32" : "f64";
}
