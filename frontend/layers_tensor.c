/*
 * layers_tensor.c — the tensor ops of issue 13 (ops1) in the language table of layers.c:
 * transpose(x, dim0, dim1), slice(x, axis, start, length) and one_hot(labels, classes), and the
 * constants: constant(v), full(dims, v) and literal lists (lower_tensor_literal, for lower_expr:
 * fills of runs of equal numbers joined by concat along each axis). The first three's
 * numeric arguments arrive in c->num (by position or by name, required); here they are checked
 * to be whole numbers naming an axis or a range of the value's shape, with errors at the
 * argument naming the function, the shape and what is valid. The batch (axis 0 of a batched
 * value) is never transposed or sliced: each sample keeps its own row.
 */
#include "lower_internal.h"
#include <math.h>

/* the source of numeric argument k (the call's positional argument 1 + k, or its keyword) */
static src_loc arg_loc(const ast_expr *call, int k, const char *name) {
    int pos = 0;
    for (int i = 0; i < call->n_args; i++) {
        if (call->args[i].name) continue;
        if (pos++ == 1 + k) return call->args[i].value->loc;
    }
    const ast_expr *kw = lower_find_kwarg(call, name);
    return kw ? kw->loc : call->loc;
}

/* c->num[k] as an axis of shape s (negative: from the end) into *axis */
static int axis_arg(lower_ctx *c, const ast_expr *call, int k, const char *name, const ir_shape *s,
                    int *axis) {
    double v = c->num[k];
    int lo = s->batched ? 1 : 0, r = s->rank;
    if (v == floor(v) && v >= -(r - lo) && v < r && (v < 0 || v >= lo)) {
        *axis = v < 0 ? r + (int)v : (int)v;
        return 1;
    }
    const char *valid = r - lo == 0 ? "none"
        : arena_printf(c->a, "%d to %d, or %d to -1 from the end", lo, r - 1, -(r - lo));
    diag_error(c->d, arg_loc(call, k, name), "%s: %s must be an axis of the %s value %s (%s%s), got %g",
               call->str, name, s->batched ? "batched" : "unbatched", ir_shape_str(c->a, s), valid,
               s->batched ? "; 0 is the batch" : "", v);
    return 0;
}

/* transpose(x, dim0, dim1): torch.transpose; the same axis twice leaves x as it is */
int lower_build_transpose(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    const ir_shape *s = &ir_get(c->g, args[0])->shape;
    int a, b;
    int ok0 = axis_arg(c, call, 0, "dim0", s, &a); /* both checked: each reports its error */
    int ok1 = axis_arg(c, call, 1, "dim1", s, &b);
    if (!ok0 || !ok1) return -1;
    if (a == b) return args[0];
    int id = ir_add1(c->g, op, args[0]);
    ir_set_transpose_a(ir_get(c->g, id), a < b ? a : b);
    ir_set_transpose_b(ir_get(c->g, id), a < b ? b : a);
    return lower_finish_node(c, id);
}

/* slice(x, axis, start, length): entries [start, start + length) of the axis (x.narrow) */
int lower_build_slice(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    const ir_shape *s = &ir_get(c->g, args[0])->shape;
    int axis;
    if (!axis_arg(c, call, 0, "axis", s, &axis)) return -1;
    double start = c->num[1], len = c->num[2], size = (double)s->dims[axis];
    if (start != floor(start) || start < 0 || start >= size) {
        diag_error(c->d, arg_loc(call, 1, "start"), "slice: start must be an integer in [0, %g) "
                   "(axis %d of %s), got %g", size, axis, ir_shape_str(c->a, s), start);
        return -1;
    }
    if (len != floor(len) || len < 1 || start + len > size) {
        diag_error(c->d, arg_loc(call, 2, "length"), "slice: length must be an integer in [1, %g] "
                   "(axis %d of %s from %g), got %g", size - start, axis, ir_shape_str(c->a, s),
                   start, len);
        return -1;
    }
    int id = ir_add1(c->g, op, args[0]);
    ir_set_slice_axis(ir_get(c->g, id), axis);
    ir_set_slice_start(ir_get(c->g, id), (int64_t)start);
    ir_set_slice_length(ir_get(c->g, id), (int64_t)len);
    return lower_finish_node(c, id);
}

/* one_hot(labels, classes): integer labels -> f32 with one more axis (F.one_hot, as floats) */
int lower_build_one_hot(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    const ir_node *x = ir_get(c->g, args[0]);
    if (x->dtype != IR_I32) {
        diag_error(c->d, call->args[0].value->loc, "one_hot: expects integer labels (i32), got "
                   "f32%s", ir_shape_str(c->a, &x->shape));
        return -1;
    }
    double k = c->num[0];
    if (k != floor(k)) {
        diag_error(c->d, arg_loc(call, 0, "classes"), "one_hot: classes must be an integer, got %g", k);
        return -1;
    }
    int id = ir_add1(c->g, op, args[0]);
    ir_set_one_hot_classes(ir_get(c->g, id), (int64_t)k);
    return lower_finish_node(c, id);
}

/* ---- constants: constant(v), full(dims, v) and literal lists [1, 2, 3] ---- */

/* constant(v): the scalar v (what a bare number in an expression is), e.g. to name it */
int lower_build_constant(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    (void)call, (void)args, (void)op;
    return ir_const(c->g, c->num[0]);
}

/* a fill node of `rank` dims and value v */
static int fill(lower_ctx *c, int rank, const int64_t *dims, double v) {
    int id = ir_add(c->g, IR_OP_fill, 0, NULL);
    ir_node *n = ir_get(c->g, id);
    ir_set_fill_value(n, v);
    ir_set_fill_dims_count(n, rank);
    for (int i = 0; i < rank && i < IR_MAX_RANK; i++) ir_set_fill_dims(n, i, dims[i]);
    return lower_finish_node(c, id);
}

/* full(dims, v): dims a list of sizes (or one size), every element v; not batched */
int lower_build_full(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    (void)args, (void)op;
    const ast_expr *d = call->args[0].value, *v = call->args[1].value;
    int rank = d->kind == AST_LIST ? d->n_args : 1;
    int64_t dims[IR_MAX_RANK];
    if (rank < 1 || rank > IR_MAX_RANK) {
        diag_error(c->d, d->loc, "full: expects 1 to %d dims, got %d", IR_MAX_RANK, rank);
        return -1;
    }
    for (int i = 0; i < rank; i++)
        if (!lower_eval_int(c, d->kind == AST_LIST ? d->args[i].value : d, &dims[i], 1)) return -1;
    double value;
    if (!lower_eval_number(c, v, &value) || !lower_fits_f32(c, v->loc, value, "full: value")) return -1;
    return fill(c, rank, dims, value);
}

/* the dims of literal e at nesting depth `depth` into dims[0..*rank): rectangular, numbers at
 * one depth only */
static int literal_dims(lower_ctx *c, const ast_expr *e, int depth, int64_t *dims, int *rank) {
    if (e->kind != AST_LIST) {
        if (*rank < 0) *rank = depth;
        if (*rank == depth) return 1;
        diag_error(c->d, e->loc, "a tensor literal has numbers and lists at the same depth");
        return 0;
    }
    if (e->n_args == 0 || depth == IR_MAX_RANK || (*rank >= 0 && depth >= *rank)) {
        diag_error(c->d, e->loc, e->n_args == 0 ? "an empty list is not a tensor"
                   : depth == IR_MAX_RANK ? "a tensor literal nests too deep (rank above 6)"
                   : "a tensor literal has numbers and lists at the same depth");
        return 0;
    }
    if (dims[depth] && dims[depth] != e->n_args) {
        diag_error(c->d, e->loc, "a tensor literal's rows differ in length: %lld and %d",
                   (long long)dims[depth], e->n_args);
        return 0;
    }
    dims[depth] = e->n_args;
    for (int i = 0; i < e->n_args; i++)
        if (!literal_dims(c, e->args[i].value, depth + 1, dims, rank)) return 0;
    return 1;
}

/* parts[0..n) joined along `axis`, IR_MAX_IN at a time */
static int join(lower_ctx *c, const int *parts, int n, int axis) {
    int y = parts[0];
    for (int k = 1; k < n && y >= 0;) {
        int in[IR_MAX_IN], m = 0;
        in[m++] = y;
        while (m < IR_MAX_IN && k < n) in[m++] = parts[k++];
        y = ir_add(c->g, IR_OP_concat, m, in);
        ir_set_concat_axis(ir_get(c->g, y), axis);
        y = lower_finish_node(c, y);
    }
    return y;
}

/* the innermost rows of a literal: runs of equal numbers, each one fill [1, .., 1, run] */
static int literal_row(lower_ctx *c, const ast_expr *e, int rank, int *parts) {
    int64_t dims[IR_MAX_RANK] = {1, 1, 1, 1, 1, 1};
    double *v = arena_alloc(c->a, sizeof(double) * (size_t)e->n_args);
    for (int i = 0; i < e->n_args; i++)
        if (!lower_eval_number(c, e->args[i].value, &v[i]) ||
            !lower_fits_f32(c, e->args[i].value->loc, v[i], "constant")) return -1;
    int n = 0;
    for (int i = 0, j; i < e->n_args; i = j) {
        for (j = i + 1; j < e->n_args && v[j] == v[i];) j++;
        dims[rank - 1] = j - i;
        if ((parts[n++] = fill(c, rank, dims, v[i])) < 0) return -1;
    }
    return join(c, parts, n, rank - 1);
}

/* literal e at depth `depth` of `rank`: dims [1] * depth, then the literal's own */
static int literal_node(lower_ctx *c, const ast_expr *e, int depth, int rank) {
    int *parts = arena_alloc(c->a, sizeof(int) * (size_t)e->n_args);
    if (depth == rank - 1) return literal_row(c, e, rank, parts);
    for (int i = 0; i < e->n_args; i++)
        if ((parts[i] = literal_node(c, e->args[i].value, depth + 1, rank)) < 0) return -1;
    return join(c, parts, e->n_args, depth);
}

int lower_tensor_literal(lower_ctx *c, const ast_expr *e) {
    int64_t dims[IR_MAX_RANK] = {0};
    int rank = -1;
    if (!literal_dims(c, e, 0, dims, &rank)) return -1;
    c->g->cur_loc = e->loc;
    c->g->cur_what = "tensor literal";
    return literal_node(c, e, 0, rank);
}
