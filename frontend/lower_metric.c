/*
 * lower_metric.c — issue 13 ops2's rows of the layer table (layers.c): axis reductions,
 * distances, comparisons and where, and the metric-learning losses.
 *   sum(x, axis), mean(x, axis), max(x, axis): along one dim, counted as torch's dim on the
 *     value (the batch is dim 0 of a batched value and is refused; negative counts from the
 *     end), the dim dropped (keepdim off); sum(x) and mean(x) without an axis reduce every
 *     element, the batch included, as before;
 *   norm(x): the L2 norm over the last dim; pairwise_distance(a, b, eps = 1e-6) = norm(a - b +
 *     eps) and cosine_similarity(a, b, eps = 1e-8) = sum(a b) / (max(|a|, eps) max(|b|, eps))
 *     over the last dim, as torch.nn.functional's;
 *   greater, less, greater_equal, less_equal, equal, not_equal (1 or 0, no gradient) and
 *     where(cond, a, b);
 *   contrastive(d, same, margin = 1): Caffe's ContrastiveLoss over distances d, 1 / (2 N) sum
 *     of same d^2 + (1 - same) max(margin - d, 0)^2 (N the elements of d: the batch for [B]);
 *     triplet(anchor, positive, negative, margin = 1, eps = 1e-6): torch's TripletMarginLoss
 *     (p = 2), the mean of max(d(a, p) - d(a, n) + margin, 0) with d pairwise_distance.
 * The distances and losses are built from the IR's arithmetic, sum_axis and where, so their
 * gradients and both backends' code come from those ops.
 */
#include "lower_internal.h"
#include <math.h>

/* the node of op over (a, b), its shape inferred; -1 when an operand or the shape failed */
static int op2(lower_ctx *c, ir_op op, int a, int b) {
    return a < 0 || b < 0 ? -1 : lower_finish_node(c, ir_add2(c->g, op, a, b));
}
static int op1(lower_ctx *c, ir_op op, int a) {
    return a < 0 ? -1 : lower_finish_node(c, ir_add1(c->g, op, a));
}
static int num(lower_ctx *c, double v) { return ir_const(c->g, v); }

static int reduce_node(lower_ctx *c, ir_op op, int x, int axis, int mean) {
    if (x < 0) return -1;
    int id = ir_add1(c->g, op, x);
    ir_set_reduce_axis(ir_get(c->g, id), axis);
    ir_set_reduce_mean(ir_get(c->g, id), mean);
    return lower_finish_node(c, id);
}

/* axis A of x's shape (negative from the end; never the batch), or an error at e */
static int axis_of(lower_ctx *c, const ast_expr *call, const ast_expr *e, int x, int *axis) {
    const ir_shape *s = &ir_get(c->g, x)->shape;
    int first = s->batched ? 1 : 0, n = s->rank - first;
    double v;
    if (!lower_eval_number(c, e, &v)) return 0;
    if (ir_get(c->g, x)->dtype != IR_F32) {
        diag_error(c->d, call->loc, "%s: expects f32 values, got i32 %s", call->str, ir_shape_str(c->a, s));
        return 0;
    }
    if (n < 1 || v != floor(v) || v < -n || v >= s->rank ||
        (s->batched && v == 0)) {
        const char *valid = n < 1 ? "none" : n == 1 ? (s->batched ? "1 or -1; 0 is the batch" : "0 or -1")
            : s->batched ? arena_printf(c->a, "1 to %d, or -%d to -1 from the end; 0 is the batch", s->rank - 1, n)
            : arena_printf(c->a, "0 to %d, or -%d to -1 from the end", s->rank - 1, n);
        diag_error(c->d, e->loc, "%s: axis must be a dim of the %s value (%s), got %g", call->str,
                   ir_shape_str(c->a, s), valid, v);
        return 0;
    }
    *axis = v < 0 ? s->rank + (int)v : (int)v;
    return 1;
}

/* the last dim of x, which must not be the batch */
static int last_axis(lower_ctx *c, const ast_expr *call, int x, int *axis) {
    const ir_shape *s = &ir_get(c->g, x)->shape;
    if (s->rank - (s->batched ? 1 : 0) >= 1 && ir_get(c->g, x)->dtype == IR_F32) {
        *axis = s->rank - 1;
        return 1;
    }
    diag_error(c->d, call->loc, "%s: expects f32 values with a per-sample dim to reduce, got %s%s",
               call->str, ir_get(c->g, x)->dtype == IR_F32 ? "" : "i32 ", ir_shape_str(c->a, s));
    return 0;
}

/* sum(x[, axis]), mean(x[, axis]) (op sum / mean), max(x, axis) (op max_axis) */
int lower_build_reduce(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    const ast_expr *e = lower_find_kwarg(call, "axis"), *pos = NULL;
    for (int i = 1; i < call->n_args; i++)
        if (!call->args[i].name) pos = call->args[i].value;
    if (pos && e) {
        diag_error(c->d, e->loc, "%s: argument 'axis' is given twice", call->str);
        return -1;
    }
    e = e ? e : pos;
    if (!e && op == IR_OP_max_axis) {
        diag_error(c->d, call->loc, "max: expects an axis: max(x, axis)");
        return -1;
    }
    if (!e) { /* the whole-tensor reduction, as before */
        int id = ir_add1(c->g, op, args[0]);
        ir_set_float_attrs(ir_get(c->g, id), c->num);
        return lower_finish_node(c, id);
    }
    int axis;
    if (!axis_of(c, call, e, args[0], &axis)) return -1;
    return reduce_node(c, op == IR_OP_max_axis ? op : IR_OP_sum_axis, args[0], axis, op == IR_OP_mean);
}

/* sqrt(sum(x^2)) over the last dim */
static int l2(lower_ctx *c, const ast_expr *call, int x) {
    int axis;
    if (x < 0 || !last_axis(c, call, x, &axis)) return -1;
    int sq = op2(c, IR_OP_mul, x, x);
    return op1(c, IR_OP_sqrt, reduce_node(c, IR_OP_sum_axis, sq, axis, 0));
}

int lower_build_norm(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    (void)op;
    return l2(c, call, args[0]);
}

/* |a - b + eps| over the last dim (c->num[k] is eps) */
static int distance(lower_ctx *c, const ast_expr *call, int a, int b, int k) {
    int diff = op2(c, IR_OP_sub, a, b), eps = num(c, c->num[k]);
    return l2(c, call, op2(c, IR_OP_add, diff, eps));
}

int lower_build_pairwise_distance(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    (void)op;
    return distance(c, call, args[0], args[1], 0);
}

/* max(n, eps) with the gradient of n where n > eps */
static int at_least(lower_ctx *c, int n, double eps) {
    int e = num(c, eps);
    int cond = op2(c, IR_OP_greater, n, e);
    return cond < 0 ? -1 : lower_finish_node(c, ir_add3(c->g, IR_OP_where, cond, n, e));
}

int lower_build_cosine_similarity(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    (void)op;
    int axis;
    if (!last_axis(c, call, args[0], &axis)) return -1;
    int prod = op2(c, IR_OP_mul, args[0], args[1]);
    if (prod < 0) return -1;
    int dot = reduce_node(c, IR_OP_sum_axis, prod, axis, 0);
    int na = at_least(c, l2(c, call, args[0]), c->num[0]);
    int nb = at_least(c, l2(c, call, args[1]), c->num[0]);
    return op2(c, IR_OP_div, dot, op2(c, IR_OP_mul, na, nb));
}

/* a comparison (a, b), or where(cond, a, b) */
int lower_build_select(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    (void)call;
    if (op == IR_OP_where) return lower_finish_node(c, ir_add3(c->g, op, args[0], args[1], args[2]));
    return op2(c, op, args[0], args[1]);
}

/* contrastive(d, same, margin): mean(same d^2 + (1 - same) relu(margin - d)^2) / 2 */
int lower_build_contrastive(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    (void)call, (void)op;
    int d = args[0], same = args[1], margin = num(c, c->num[0]), one = num(c, 1), half = num(c, 0.5);
    int d2 = op2(c, IR_OP_mul, d, d);
    int pull = op2(c, IR_OP_mul, same, d2);
    if (pull < 0) return -1; /* same and d do not match: reported once, not again for push */
    int h = op1(c, IR_OP_relu, op2(c, IR_OP_sub, margin, d));
    int h2 = op2(c, IR_OP_mul, h, h);
    int push = op2(c, IR_OP_mul, op2(c, IR_OP_sub, one, same), h2);
    int total = op2(c, IR_OP_add, pull, push);
    return op2(c, IR_OP_mul, op1(c, IR_OP_mean, total), half);
}

/* triplet(a, p, n, margin, eps): mean(relu(d(a, p) - d(a, n) + margin)) */
int lower_build_triplet(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    (void)op;
    int dp = distance(c, call, args[0], args[1], 1);
    int dn = distance(c, call, args[0], args[2], 1);
    int margin = num(c, c->num[0]);
    int gap = op2(c, IR_OP_add, op2(c, IR_OP_sub, dp, dn), margin);
    return op1(c, IR_OP_mean, op1(c, IR_OP_relu, gap));
}
