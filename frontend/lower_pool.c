/*
 * lower_pool.c — lowering of pooling and concatenation over NCHW images [B, C, H, W] (rows of
 * the layer table in layers.c):
 *   max_pool2d(x, kernel, stride = kernel, padding = 0), avg_pool2d(...) as torch's (square
 *     kernel, ceil_mode off, avg counting padding as zeros); kernel, stride and padding are
 *     integers, padding at most kernel / 2 (torch's rule);
 *   concat(a, b, ..., axis = 1): along a per-sample axis, counted as torch's dim on the
 *     batched tensor (1 = channels; negative counts from the end; 0, the batch, is refused).
 * Shape errors (a kernel larger than its padded input, shapes that differ outside the concat
 * axis) are reported at the call and name both shapes.
 */
#include "lower_internal.h"
#include <math.h>
#include <string.h>

/* the expression of argument `name`, given at position `pos` or by keyword, or NULL */
static const ast_expr *arg_expr(const ast_expr *call, int pos, const char *name) {
    int k = 0;
    for (int i = 0; i < call->n_args; i++)
        if (!call->args[i].name && k++ == pos) return call->args[i].value;
    return lower_find_kwarg(call, name);
}

/* c->num[k] (already range-checked) as an integer; an error at the argument otherwise */
static int integral(lower_ctx *c, const ast_expr *call, int k, const char *name, int64_t *out) {
    double v = c->num[k];
    *out = (int64_t)v;
    if (v == floor(v)) return 1;
    const ast_expr *e = arg_expr(call, 1 + k, name);
    diag_error(c->d, e ? e->loc : call->loc, "%s: %s must be an integer, got %g", call->str, name, v);
    return 0;
}

/* max_pool2d / avg_pool2d: c->num = kernel, stride (0: the kernel), padding */
int lower_build_pool(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    static const char *const names[] = {"kernel", "stride", "padding"};
    int64_t v[3];
    for (int k = 0; k < 3; k++)
        if (!integral(c, call, k, names[k], &v[k])) return -1;
    if (v[1] == 0) v[1] = v[0];
    if (v[2] > v[0] / 2) {
        const ast_expr *e = arg_expr(call, 3, "padding");
        diag_error(c->d, e->loc, "%s: padding must be at most half the kernel (%lld for kernel "
                   "%lld), got %lld", call->str, (long long)(v[0] / 2), (long long)v[0],
                   (long long)v[2]);
        return -1;
    }
    int id = ir_add1(c->g, op, args[0]);
    ir_set_pool_kernel(ir_get(c->g, id), v[0]);
    ir_set_pool_stride(ir_get(c->g, id), v[1]);
    ir_set_pool_padding(ir_get(c->g, id), v[2]);
    return lower_finish_node(c, id);
}

/* axis = A as an index into the shape of rank `rank`: 1 .. rank - 1, or negative from the end */
static int concat_axis(lower_ctx *c, const ast_expr *call, int rank, int *axis) {
    const ast_expr *e = lower_find_kwarg(call, "axis");
    double v = 1;
    if (e && !lower_eval_number(c, e, &v)) return 0;
    int ok = v == floor(v) && fabs(v) < rank && v != 0;
    if (!ok) {
        const char *valid = rank == 2 ? "1 or -1"
                          : arena_printf(c->a, "1 to %d, or -%d to -1 from the end", rank - 1, rank - 1);
        diag_error(c->d, e ? e->loc : call->loc, "concat: axis must be a per-sample axis of the "
                   "rank-%d inputs (%s; 0 is the batch), got %g", rank, valid, v);
        return 0;
    }
    *axis = v < 0 ? rank + (int)v : (int)v;
    return 1;
}

/* every input has the first one's shape outside the axis */
static int same_outside(lower_ctx *c, const ast_expr *call, const int *ids, int n, int axis) {
    const ir_shape *a = &ir_get(c->g, ids[0])->shape;
    for (int i = 1; i < n; i++) {
        const ir_shape *b = &ir_get(c->g, ids[i])->shape;
        int ok = b->rank == a->rank && b->batched == a->batched;
        for (int j = 0; ok && j < a->rank; j++) ok = j == axis || a->dims[j] == b->dims[j];
        if (ok) continue;
        diag_error(c->d, call->loc, "concat: shapes differ outside axis %d: %s and %s", axis,
                   ir_shape_str(c->a, a), ir_shape_str(c->a, b));
        return 0;
    }
    return 1;
}

/* concat(a, b, ..., axis = 1): one node per IR_MAX_IN inputs, chained; ids: the lowered
 * positional arguments (its row has them all lowered) */
int lower_build_concat(lower_ctx *c, const ast_expr *call, const int *ids, ir_op op) {
    int n = 0, axis;
    for (int i = 0; i < call->n_args; i++) n += !call->args[i].name;
    c->g->cur_loc = call->loc;
    c->g->cur_what = "concat";
    const ir_shape *first = &ir_get(c->g, ids[0])->shape;
    if (first->rank < 2) {
        diag_error(c->d, call->loc, "concat: expects tensors with a per-sample axis, got %s",
                   ir_shape_str(c->a, first));
        return -1;
    }
    if (!concat_axis(c, call, first->rank, &axis) || !same_outside(c, call, ids, n, axis))
        return -1;
    int y = -1;
    for (int k = 0; k < n;) {
        int in[IR_MAX_IN], m = 0;
        if (y >= 0) in[m++] = y;
        while (m < IR_MAX_IN && k < n) in[m++] = ids[k++];
        y = ir_add(c->g, op, m, in);
        ir_set_concat_axis(ir_get(c->g, y), axis);
        if (lower_finish_node(c, y) < 0) return -1;
    }
    return y;
}
