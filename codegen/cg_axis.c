/*
 * cg_axis.c — the shared layer's axis reductions (issue 13 ops2; cg_shared.h): the body that
 * computes one element `q` of sum_axis, max_axis, expand_axis or max_axis_grad, the same text in
 * the C backend's loop and in a CUDA thread, and the shape that loop runs over. Along the axis
 * of a value x, element (o, k, i) is x[(o L + k) inner + i]: a reduced element q = o inner + i
 * reads L values `inner` apart. Sums run in double in index order; a maximum keeps the first
 * of equal values and a NaN wins (torch's max(x, dim)); the gradient of a maximum goes to that
 * first maximum.
 */
#include "cg_shared.h"

/* L and inner of the full-shape value x along the op's axis */
static void geometry(cg_ctx *x, int id, int full, long long *len, long long *inner) {
    const ir_shape *s = &cg_node(x, full)->shape;
    int axis = (int)ir_reduce_axis(cg_node(x, id));
    *len = s->dims[axis];
    *inner = 1;
    for (int i = axis + 1; i < s->rank; i++) *inner *= s->dims[i];
}

/* the full-shape operand: x for the reductions and max_axis_grad, x (input 1) for expand_axis */
static int full_operand(cg_ctx *x, int id) {
    const ir_node *n = cg_node(x, id);
    return n->op == IR_OP_expand_axis ? n->in[1] : n->in[0];
}

const ir_shape *cg_axis_space(cg_ctx *x, int id) {
    const ir_node *n = cg_node(x, id);
    if (n->op == IR_OP_expand_axis) return &n->shape;
    if (n->op == IR_OP_max_axis_grad) return &cg_node(x, n->in[1])->shape;
    return &n->shape;
}

/* `xa`: the L values of x that element q reduces; `m`, `a`: their first maximum and its k */
static const char *first_max(cg_ctx *x, int src, long long len, long long inner) {
    return arena_printf(x->a,
        "        const real *xa = t%d + q / %lld * %lld + q %% %lld;\n"
        "        real m = xa[0];\n"
        "        long a = 0;\n"
        "        for (long k = 1; k < %lld; k++)\n"
        "            if (m == m && !(xa[k * %lld] <= m)) m = xa[k * %lld], a = k;\n"
        "        (void)a;\n",
        src, inner, len * inner, inner, len, inner, inner);
}

const char *cg_axis_body(cg_ctx *x, int id) {
    const ir_node *n = cg_node(x, id);
    long long len, inner;
    geometry(x, id, full_operand(x, id), &len, &inner);
    int mean = (int)ir_reduce_mean(n);
    switch (n->op) {
    case IR_OP_sum_axis:
        return arena_printf(x->a,
            "        const real *xa = t%d + q / %lld * %lld + q %% %lld;\n"
            "        double s = 0;\n"
            "        for (long k = 0; k < %lld; k++) s += xa[k * %lld];\n"
            "        t%d[q] = (real)(s%s);\n",
            n->in[0], inner, len * inner, inner, len, inner, id,
            mean ? arena_printf(x->a, " / (double)%lld", len) : "");
    case IR_OP_max_axis:
        return arena_printf(x->a, "%s        t%d[q] = m;\n", first_max(x, n->in[0], len, inner), id);
    case IR_OP_max_axis_grad:
        return arena_printf(x->a, "%s        real *ga = t%d + q / %lld * %lld + q %% %lld;\n"
                                  "        for (long k = 0; k < %lld; k++) ga[k * %lld] = k == a ? t%d[q] : (real)0;\n",
                            first_max(x, n->in[0], len, inner), id, inner, len * inner, inner,
                            len, inner, n->in[1]);
    case IR_OP_expand_axis:
        return arena_printf(x->a, "        t%d[q] = t%d[q / %lld * %lld + q %% %lld]%s;\n", id, n->in[0],
                            len * inner, inner, inner,
                            mean ? arena_printf(x->a, " / (real)%lld", len) : "");
    default: break;
    }
    dlc_internal_error(__FILE__, __LINE__, "%s is no axis op", ir_op_names[n->op]);
    return NULL;
}
