/*
 * cg_tensor.c — the shared layer's element formulas of the tensor ops of issue 13 (ops1):
 * transpose, slice's gradient, one_hot and fill (cg_shared.h). Each is the value of the node's
 * element at linear index `q` (a C expression of type long), written once for both targets:
 * the C backend evaluates it in a loop over the elements, the CUDA backend in a grid-stride
 * loop, one element per thread (cg_c_tensor.c, cg_cuda_tensor.c). Every element is written, so
 * no buffer needs clearing first.
 */
#include "cg_shared.h"

/* the elements of dims [from, to) of s */
static long long span(const ir_shape *s, int from, int to) {
    long long len = 1;
    for (int i = from; i < to; i++) len *= s->dims[i];
    return len;
}

/* x's axes a < b swapped: x is [P, A, M, B, S] (P the axes before a, the batch included, M
 * those between, S those after b) and the result [P, B, M, A, S]; output index q decodes to
 * (p, j, m, i, s) and reads x at (p, i, m, j, s) */
const char *cg_transpose_value(cg_ctx *x, int id, const char *q) {
    const ir_node *n = cg_node(x, id);
    const ir_shape *in = &cg_node(x, n->in[0])->shape;
    int a = (int)ir_transpose_a(n), b = (int)ir_transpose_b(n);
    long long A = in->dims[a], M = span(in, a + 1, b), B = in->dims[b], S = span(in, b + 1, in->rank);
    return arena_printf(x->a, "t%d[((((%s) / %lldL * %lldL + (%s) / %lldL %% %lldL) * %lldL + (%s) / "
                              "%lldL %% %lldL) * %lldL + (%s) / %lldL %% %lldL) * %lldL + (%s) %% %lldL]",
                        n->in[0], q, S * A * M * B, A, q, S, A, M, q, S * A, M, B, q, S * A * M, B,
                        S, q, S);
}

/* (x, dy) -> dx of x's shape: each row (the axes before `axis`) is `total` entries, of which
 * [offset, offset + len) are dy's row */
const char *cg_slice_grad_value(cg_ctx *x, int id, const char *q) {
    const ir_node *n = cg_node(x, id);
    int axis = (int)ir_slice_axis(n);
    long long total = span(&n->shape, axis, n->shape.rank);
    long long len = total / n->shape.dims[axis] * ir_slice_length(n);
    long long offset = total / n->shape.dims[axis] * ir_slice_start(n);
    return arena_printf(x->a, "((%s) %% %lldL >= %lldL && (%s) %% %lldL < %lldL ? t%d[(%s) / %lldL * "
                              "%lldL + (%s) %% %lldL - %lldL] : (real)0)",
                        q, total, offset, q, total, offset + len, n->in[1], q, total, len, q, total,
                        offset);
}

/* every element the node's value */
const char *cg_fill_value(cg_ctx *x, int id, const char *q) {
    (void)q;
    return arena_printf(x->a, "((real)%.17g)", ir_fill_value(cg_node(x, id)));
}

/* labels tL -> 1 where the last axis's index equals the label, else 0 */
const char *cg_one_hot_value(cg_ctx *x, int id, const char *q) {
    const ir_node *n = cg_node(x, id);
    long long K = ir_one_hot_classes(n);
    return arena_printf(x->a, "(t%d[(%s) / %lldL] == (%s) %% %lldL ? (real)1 : (real)0)", n->in[0], q,
                        K, q, K);
}
