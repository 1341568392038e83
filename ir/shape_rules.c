/*
 * shape_rules.c — shape inference, one rule per op (table generated from ops.def: its shape
 * column picks the leaf, same-as-input or broadcast rule here, or the op's own shape_NAME).
 *
 * A rule reads the shapes of its node's inputs (already known: inputs have smaller ids) and
 * sets the node's dtype and shape. On a mismatch it reports a user error at the node's source
 * location naming the construct and both shapes, and returns 0.
 */
#include "ir.h"
#include "shape_conv.h"
#include <string.h>

typedef int (*shape_fn)(ir_graph *g, ir_node *n, diag *d);

static const ir_shape *in_shape(ir_graph *g, ir_node *n, int i) {
    return &ir_get(g, n->in[i])->shape;
}

static const char *construct(const ir_node *n) { return n->what ? n->what : ir_op_names[n->op]; }

static int mismatch(ir_graph *g, ir_node *n, diag *d, const char *why) {
    diag_error(d, n->loc, "%s: %s: %s and %s", construct(n), why,
               ir_shape_str(g->a, in_shape(g, n, 0)), ir_shape_str(g->a, in_shape(g, n, 1)));
    return 0;
}

static int shape_leaf(ir_graph *g, ir_node *n, diag *d) {
    (void)g, (void)d;
    DLC_ASSERT(n->shape_known); /* leaves are created with their shape */
    return 1;
}

/* a suffix-of-b broadcast: a's dims equal b's trailing dims (a unbatched or both batched) */
static int is_suffix(const ir_shape *a, const ir_shape *b) {
    if (a->rank > b->rank || (a->batched && !b->batched)) return 0;
    if (a->batched && a->rank != b->rank) return 0;
    for (int i = 1; i <= a->rank; i++)
        if (a->dims[a->rank - i] != b->dims[b->rank - i]) return 0;
    return 1;
}

static int broadcast2(ir_graph *g, ir_node *n, diag *d) {
    const ir_shape *a = in_shape(g, n, 0), *b = in_shape(g, n, 1);
    if (is_suffix(b, a)) n->shape = *a;
    else if (is_suffix(a, b)) n->shape = *b;
    else return mismatch(g, n, d, "shapes do not broadcast");
    return 1;
}

static int same_as_input(ir_graph *g, ir_node *n, diag *d) {
    (void)d;
    n->shape = *in_shape(g, n, 0);
    return 1;
}

/* (x [B, C], slope [C]): one slope per feature */
static int ir_infer_prelu(ir_graph *g, ir_node *n, diag *d) {
    const ir_shape *x = in_shape(g, n, 0), *a = in_shape(g, n, 1);
    if (x->rank != 2 || !x->batched || a->rank != 1 || a->batched || a->dims[0] != x->dims[1])
        return mismatch(g, n, d, "expects features [B,C] and one slope per C");
    n->shape = *x;
    return 1;
}

#define ir_infer_sum to_scalar /* defined with the optimizer-support rules below */
#define ir_infer_mean to_scalar

static int ir_infer_broadcast(ir_graph *g, ir_node *n, diag *d) {
    if (in_shape(g, n, 0)->rank != 0) return mismatch(g, n, d, "expects a scalar");
    n->shape = *in_shape(g, n, 1);
    return 1;
}

static int ir_infer_reduce_like(ir_graph *g, ir_node *n, diag *d) {
    if (!is_suffix(in_shape(g, n, 1), in_shape(g, n, 0)))
        return mismatch(g, n, d, "cannot reduce");
    n->shape = *in_shape(g, n, 1);
    return 1;
}

/* matmul per_sample: a [B,n,k] times b [B,k,m] sample by sample (either transposed per
 * sample) -> [B,n,m] */
static int matmul_per_sample(ir_graph *g, ir_node *n, diag *d, int ta, int tb) {
    const ir_shape *a = in_shape(g, n, 0), *b = in_shape(g, n, 1);
    if (a->rank != 3 || b->rank != 3 || !a->batched || !b->batched)
        return mismatch(g, n, d, "expects two batches of matrices [B,n,k] and [B,k,m]");
    if (a->dims[ta ? 1 : 2] != b->dims[tb ? 2 : 1]) return mismatch(g, n, d, "inner dimensions differ");
    int64_t dims[3] = {a->dims[0], a->dims[ta ? 2 : 1], b->dims[tb ? 1 : 2]};
    n->shape = ir_shape_make(1, 3, dims);
    return 1;
}

/* matmul of a rank-3 a ([B,n,k] or [p,n,k]: its leading dims are rows of one matrix) times b
 * [k,m] not batched -> a's leading dims then m; with trans_a the rows are contracted: a^T times
 * b [B,n,m] (same leading dims) -> [k,m] (a shared b's gradient: it sums over the batch) */
static int matmul_rows3(ir_graph *g, ir_node *n, diag *d, int ta, int tb) {
    const ir_shape *a = in_shape(g, n, 0), *b = in_shape(g, n, 1);
    if (!ta) {
        if (a->rank != 3 || b->rank != 2 || b->batched)
            return mismatch(g, n, d, "expects matrices [B,n,k] times a matrix [k,m]");
        if (a->dims[2] != b->dims[tb ? 1 : 0]) return mismatch(g, n, d, "inner dimensions differ");
        n->shape = *a;
        n->shape.dims[2] = b->dims[tb ? 0 : 1];
        return 1;
    }
    if (tb || a->rank != 3 || b->rank != 3 || a->batched != b->batched || a->dims[0] != b->dims[0] ||
        a->dims[1] != b->dims[1])
        return mismatch(g, n, d, "expects the same rows [B,n,_] in both operands");
    int64_t dims[2] = {a->dims[2], b->dims[2]};
    n->shape = ir_shape_make(0, 2, dims);
    return 1;
}

/* a [B,k] (batched) or [n,k] times b [k,m]: [B,m] or [n,m]; trans_a with a batched contracts the
 * batch (a gradient); rank-3 operands: matmul_rows3, per_sample: matmul_per_sample */
static int ir_infer_matmul(ir_graph *g, ir_node *n, diag *d) {
    const ir_shape *a = in_shape(g, n, 0), *b = in_shape(g, n, 1);
    int ta = (int)ir_matmul_trans_a(n), tb = (int)ir_matmul_trans_b(n);
    if (ir_matmul_per_sample(n)) return matmul_per_sample(g, n, d, ta, tb);
    if (a->rank == 3 || b->rank == 3) return matmul_rows3(g, n, d, ta, tb);
    if (a->rank != 2 || b->rank != 2 || (tb && b->batched) || (ta && !a->batched && b->batched))
        return mismatch(g, n, d, "expects 2-d operands");
    int64_t k_a = ta ? a->dims[0] : a->dims[1], k_b = tb ? b->dims[1] : b->dims[0];
    if (k_a != k_b) return mismatch(g, n, d, "inner dimensions differ");
    int64_t dims[2] = {ta ? a->dims[1] : a->dims[0], tb ? b->dims[0] : b->dims[1]};
    n->shape = ir_shape_make(a->batched && !ta, 2, dims);
    return 1;
}

static int scalar_loss(ir_graph *g, ir_node *n, diag *d, int rows_only) {
    const ir_shape *p = in_shape(g, n, 0), *t = in_shape(g, n, 1);
    int ok = rows_only ? (p->rank == 2 && t->rank == 1 && p->dims[0] == t->dims[0] &&
                          p->batched == t->batched)
                       : ir_shape_equal(p, t);
    if (!ok) return mismatch(g, n, d, rows_only ? "expects scores [B,C] and labels [B]"
                                                : "prediction and target differ");
    n->shape = ir_shape_make(0, 0, NULL);
    return 1;
}

/* (scores [B,C], labels i32 [B]) */
static int label_loss(ir_graph *g, ir_node *n, diag *d) {
    if (ir_get(g, n->in[1])->dtype != IR_I32) {
        diag_error(d, n->loc, "%s: labels must be integer class indices (i32), got f32",
                   construct(n));
        return 0;
    }
    return scalar_loss(g, n, d, 1);
}
#define ir_infer_cross_entropy label_loss
#define ir_infer_nll label_loss

/* (prediction, target) of equal shapes, both real */
static int element_loss(ir_graph *g, ir_node *n, diag *d) {
    for (int i = 0; i < 2; i++)
        if (ir_get(g, n->in[i])->dtype != IR_F32) {
            diag_error(d, n->loc, "%s: the %s must be f32, got i32 %s (integer labels are for "
                       "cross_entropy and nll)", construct(n), i ? "target" : "prediction",
                       ir_shape_str(g->a, in_shape(g, n, i)));
            return 0;
        }
    return scalar_loss(g, n, d, 0);
}
#define ir_infer_mse element_loss
#define ir_infer_mae element_loss
#define ir_infer_smooth_l1 element_loss
#define ir_infer_huber element_loss
#define ir_infer_bce element_loss
#define ir_infer_bce_with_logits element_loss
#define ir_infer_hinge element_loss

static int ir_infer_assign(ir_graph *g, ir_node *n, diag *d) {
    if (!ir_shape_equal(in_shape(g, n, 0), in_shape(g, n, 1)))
        return mismatch(g, n, d, "assigned value has the wrong shape");
    n->shape = *in_shape(g, n, 0);
    return 1;
}

/* ---- optimizer support ---- */

static int to_scalar(ir_graph *g, ir_node *n, diag *d) {
    (void)g, (void)d;
    n->shape = ir_shape_make(0, 0, NULL);
    return 1;
}
#define ir_infer_sum_squares to_scalar
#define ir_infer_sum_abs to_scalar

/* ---- pooling and concatenation (NCHW) ---- */

/* f32 images [B, C, H, W] (dims[0] is the batch, or the leading dim of an unbatched tensor) */
static int expect_images(ir_graph *g, ir_node *n, diag *d) {
    const ir_shape *x = in_shape(g, n, 0);
    int real = ir_get(g, n->in[0])->dtype == IR_F32;
    if (x->rank == 4 && real) return 1;
    diag_error(d, n->loc, "%s: expects f32 images [B,C,H,W], got %s%s", construct(n),
               real ? "" : "i32 ", ir_shape_str(g->a, x));
    return 0;
}

/* out = ir_pool_out_size(in, kernel, stride, padding) per spatial dim; the kernel must fit in
 * the padded input */
static int shape_pool(ir_graph *g, ir_node *n, diag *d) {
    if (!expect_images(g, n, d)) return 0;
    const ir_shape *x = in_shape(g, n, 0);
    int64_t k = ir_pool_kernel(n), s = ir_pool_stride(n), p = ir_pool_padding(n);
    if (x->dims[2] + 2 * p < k || x->dims[3] + 2 * p < k) {
        diag_error(d, n->loc, "%s: kernel [%lld,%lld] is larger than the input %s padded to "
                   "[%lld,%lld]", construct(n), (long long)k, (long long)k,
                   ir_shape_str(g->a, x), (long long)(x->dims[2] + 2 * p),
                   (long long)(x->dims[3] + 2 * p));
        return 0;
    }
    n->shape = *x;
    n->shape.dims[2] = ir_pool_out_size(x->dims[2], k, s, p);
    n->shape.dims[3] = ir_pool_out_size(x->dims[3], k, s, p);
    return 1;
}
#define ir_infer_max_pool2d shape_pool
#define ir_infer_avg_pool2d shape_pool

static int ir_infer_global_avg_pool(ir_graph *g, ir_node *n, diag *d) {
    if (!expect_images(g, n, d)) return 0;
    const ir_shape *x = in_shape(g, n, 0);
    n->shape = ir_shape_make(x->batched, 2, x->dims);
    return 1;
}

/* equal shapes (batched alike) except along the axis; the result sums the axis */
static int ir_infer_concat(ir_graph *g, ir_node *n, diag *d) {
    const ir_shape *a = in_shape(g, n, 0);
    int axis = (int)ir_concat_axis(n);
    n->shape = *a;
    for (int i = 1; i < n->n_in; i++) {
        const ir_shape *b = in_shape(g, n, i);
        int ok = b->rank == a->rank && b->batched == a->batched;
        for (int j = 0; ok && j < a->rank; j++) ok = j == axis || a->dims[j] == b->dims[j];
        if (!ok) {
            diag_error(d, n->loc, "%s: shapes differ outside axis %d: %s and %s", construct(n),
                       axis, ir_shape_str(g->a, a), ir_shape_str(g->a, b));
            return 0;
        }
        n->shape.dims[axis] += b->dims[axis];
    }
    return 1;
}

static int ir_infer_slice(ir_graph *g, ir_node *n, diag *d) {
    (void)d;
    n->shape = *in_shape(g, n, 0);
    n->shape.dims[ir_slice_axis(n)] = ir_slice_length(n);
    return 1;
}

/* ---- issue 13 ops1: transpose and one_hot (the frontend checks the axes and the labels'
 * type; the rules restate what they need) ---- */

static int ir_infer_transpose(ir_graph *g, ir_node *n, diag *d) {
    (void)d;
    n->shape = *in_shape(g, n, 0);
    int a = (int)ir_transpose_a(n), b = (int)ir_transpose_b(n);
    DLC_ASSERT(a < b && b < n->shape.rank && (a > 0 || !n->shape.batched));
    int64_t t = n->shape.dims[a];
    n->shape.dims[a] = n->shape.dims[b];
    n->shape.dims[b] = t;
    return 1;
}

/* labels of any shape (i32) -> the same shape and one more axis of `classes` */
static int ir_infer_one_hot(ir_graph *g, ir_node *n, diag *d) {
    const ir_shape *x = in_shape(g, n, 0);
    if (ir_get(g, n->in[0])->dtype != IR_I32 || x->rank >= IR_MAX_RANK) {
        diag_error(d, n->loc, "%s: expects integer labels (i32) of rank below %d, got %s%s",
                   construct(n), IR_MAX_RANK, ir_get(g, n->in[0])->dtype == IR_I32 ? "i32" : "f32",
                   ir_shape_str(g->a, x));
        return 0;
    }
    n->shape = *x;
    n->shape.dims[n->shape.rank++] = ir_one_hot_classes(n);
    return 1;
}

/* an unbatched tensor of the listed dims */
static int ir_infer_fill(ir_graph *g, ir_node *n, diag *d) {
    (void)g, (void)d;
    int64_t dims[IR_MAX_RANK];
    int rank = (int)ir_fill_dims_count(n);
    DLC_ASSERT(rank <= IR_MAX_RANK);
    for (int i = 0; i < rank; i++) dims[i] = ir_fill_dims(n, i);
    n->shape = ir_shape_make(0, rank, dims);
    return 1;
}

/* ---- batchnorm: channels are dims[1] of a [B, C] or [B, C, H, W] value ---- */

/* a rank-2 or rank-4 x whose channel count is C, and input i (when i > 0) of shape [rows, C] */
static int channels_of(ir_graph *g, ir_node *n, int i, int rows, int64_t *channels) {
    const ir_shape *x = in_shape(g, n, 0), *s = in_shape(g, n, i);
    if (x->rank != 2 && x->rank != 4) return 0;
    *channels = x->dims[1];
    if (s->batched) return 0;
    if (rows == 0) return s->rank == 1 && s->dims[0] == *channels;
    return s->rank == 2 && s->dims[0] == rows && s->dims[1] == *channels;
}

static int ir_infer_batchnorm_stats(ir_graph *g, ir_node *n, diag *d) {
    int64_t C;
    if (!channels_of(g, n, 1, 0, &C) || !channels_of(g, n, 2, 0, &C))
        return mismatch(g, n, d, "expects [B,C] or [B,C,H,W] and running statistics [C]");
    int64_t dims[2] = {2, C};
    n->shape = ir_shape_make(0, 2, dims);
    return 1;
}

/* (x, stats [2, C], then [C] per-channel operands from input `first_c` on) -> like x */
static int per_channel(ir_graph *g, ir_node *n, diag *d, int first_c) {
    int64_t C;
    int ok = channels_of(g, n, 1, 2, &C);
    for (int i = first_c; ok && i < n->n_in; i++) ok = channels_of(g, n, i, 0, &C);
    if (!ok) return mismatch(g, n, d, "expects [B,C] or [B,C,H,W] and per-channel statistics");
    n->shape = *in_shape(g, n, 0);
    return 1;
}

static int ir_infer_batchnorm(ir_graph *g, ir_node *n, diag *d) {
    if (n->n_in != 2 && n->n_in != 4) return mismatch(g, n, d, "expects 2 or 4 operands");
    return per_channel(g, n, d, 2);
}

static int ir_infer_batchnorm_grad(ir_graph *g, ir_node *n, diag *d) {
    if ((n->n_in != 3 && n->n_in != 4) || !ir_shape_equal(in_shape(g, n, 0), in_shape(g, n, 2)))
        return mismatch(g, n, d, "expects x, stats, dy shaped like x and gamma");
    return per_channel(g, n, d, 3);
}

static int ir_infer_batchnorm_param_grad(ir_graph *g, ir_node *n, diag *d) {
    if (!per_channel(g, n, d, 3)) return 0;
    n->shape = ir_shape_make(0, 1, &n->shape.dims[1]);
    return 1;
}

static int ir_infer_batchnorm_running(ir_graph *g, ir_node *n, diag *d) {
    const ir_shape *r = in_shape(g, n, 0), *s = in_shape(g, n, 1), *x = in_shape(g, n, 2);
    if ((x->rank != 2 && x->rank != 4) || r->rank != 1 || r->batched || r->dims[0] != x->dims[1] ||
        s->rank != 2 || s->dims[0] != 2 || s->dims[1] != x->dims[1])
        return mismatch(g, n, d, "expects running statistics [C] and stats [2,C]");
    n->shape = *r;
    return 1;
}

/* ---- issue 13 ops2: axis reductions and where ---- */

/* x without dim reduce.axis (the frontend checked the axis: in range, not a batch) */
static int shape_reduce_axis(ir_graph *g, ir_node *n, diag *d) {
    (void)d;
    const ir_shape *x = in_shape(g, n, 0);
    int axis = (int)ir_reduce_axis(n);
    DLC_ASSERT(axis >= (x->batched ? 1 : 0) && axis < x->rank);
    n->shape = *x;
    n->shape.rank = x->rank - 1;
    for (int i = axis; i < n->shape.rank; i++) n->shape.dims[i] = x->dims[i + 1];
    return 1;
}
#define ir_infer_sum_axis shape_reduce_axis
#define ir_infer_max_axis shape_reduce_axis

/* (dy, x): x's shape, dy being x reduced along the axis */
static int ir_infer_expand_axis(ir_graph *g, ir_node *n, diag *d) {
    (void)d;
    n->shape = *in_shape(g, n, 1);
    return 1;
}

/* (cond, a, b): the largest operand's shape; the other two are suffixes of it */
static int ir_infer_where(ir_graph *g, ir_node *n, diag *d) {
    int big = 0;
    for (int i = 1; i < 3; i++)
        if (is_suffix(in_shape(g, n, big), in_shape(g, n, i))) big = i;
    for (int i = 0; i < 3; i++)
        if (!is_suffix(in_shape(g, n, i), in_shape(g, n, big))) {
            diag_error(d, n->loc, "%s: shapes do not broadcast: %s, %s and %s", construct(n),
                       ir_shape_str(g->a, in_shape(g, n, 0)), ir_shape_str(g->a, in_shape(g, n, 1)),
                       ir_shape_str(g->a, in_shape(g, n, 2)));
            return 0;
        }
    n->shape = *in_shape(g, n, big);
    return 1;
}

/* issue 15: a sample of sample.dims, the batch first: [B, ...] */
static int shape_sample(ir_graph *g, ir_node *n, diag *d) {
    (void)g, (void)d;
    int64_t dims[IR_MAX_RANK];
    int rank = (int)ir_sample_dims_count(n);
    DLC_ASSERT(rank >= 1 && rank <= IR_MAX_RANK);
    for (int i = 0; i < rank; i++) dims[i] = ir_sample_dims(n, i);
    n->shape = ir_shape_make(1, rank, dims);
    return 1;
}
#define ir_infer_normal shape_sample
#define ir_infer_uniform shape_sample

/* ops.def's shape column: a leaf's own shape, its input's, the broadcast of its two inputs, or
 * a rule of its own (shape_NAME) */
#define SHAPE_LEAF(name) shape_leaf
#define SHAPE_SAME(name) same_as_input
#define SHAPE_BCAST(name) broadcast2
#define SHAPE_OWN(name) ir_infer_##name
static const shape_fn shape_rules[] = {
#define OP(name, n_in, flags, shape, grad, attrs, cuda) [IR_OP_##name] = SHAPE_##shape(name),
#include "ops.def"
#undef OP
};
_Static_assert(sizeof shape_rules / sizeof shape_rules[0] == IR_OP_COUNT, "shape rule table size");

/* a result past IR_MAX_ELEMENTS (checked after every rule, so no size computed later wraps) */
static int too_large(ir_graph *g, ir_node *n, diag *d) {
    const char *at = n->shape.batched
        ? arena_printf(g->a, " at batch %lld", (long long)n->shape.dims[0]) : "";
    diag_error(d, n->loc, "%s: its result %s%s holds more than " IR_MAX_ELEMENTS_TEXT
               " elements; a tensor may hold at most " IR_MAX_ELEMENTS_TEXT, construct(n),
               ir_shape_str(g->a, &n->shape), at);
    return 0;
}

int ir_batch_fits(const ir_graph *g, int64_t batch) {
    if (batch < 1 || batch > IR_MAX_DIM) return 0;
    for (int id = 0; id < g->n_nodes; id++) {
        const ir_node *n = &g->nodes[id];
        ir_shape s = n->shape;
        if (!n->shape_known || !s.batched) continue;
        s.dims[0] = batch;
        if (!ir_shape_fits(&s)) return 0;
        if (n->op == IR_OP_conv2d &&
            !ir_conv_columns_fit(&g->nodes[n->in[0]].shape, &g->nodes[n->in[1]].shape, &s, batch))
            return 0;
    }
    return 1;
}

int ir_infer_shape(ir_graph *g, int id, diag *d) {
    ir_node *n = ir_get(g, id);
    for (int i = 0; i < n->n_in; i++)
        if (!ir_get(g, n->in[i])->shape_known) return 0; /* an input already failed */
    if (!(ir_op_flags[n->op] & OPF_LEAF)) n->dtype = IR_F32;
    if (!shape_rules[n->op](g, n, d)) return 0;
    if (!ir_shape_fits(&n->shape)) return too_large(g, n, d);
    n->shape_known = 1;
    return 1;
}
