/*
 * cg_c_ops.c — one C statement emitter per op (table generated from ops.def): each writes
 * whole statements that read its inputs `tK` and write its own buffer `tID`. Ops with an
 * expression (ops.def's kind FUSED) are the shared layer's (cg_expr.c), emitted in their fused
 * loop.
 * Reductions accumulate in double. Formulas follow PyTorch's CPU kernels term by term (which
 * side of a kink gets which derivative, clamps, the stable forms), so results agree to rounding.
 */
#include "cg_c_internal.h"
#include <string.h>

#define OUT c->out
static const ir_node *in_node(cg_ctx *c, int id, int i) { return cg_node(c, cg_node(c, id)->in[i]); }
static int in_id(cg_ctx *c, int id, int i) { return cg_node(c, id)->in[i]; }

/* ---- leaves (kind NONE): storage is bound by the function prologue, nothing to emit ---- */
static void emit_leaf(cg_ctx *c, int id) { (void)c, (void)id; }

/* ops with an expression (kind FUSED): always inside a fusion group (passes/schedule.c) */
static void emit_fused(cg_ctx *c, int id) {
    dlc_internal_error(__FILE__, __LINE__, "%s (node %%%d) outside a fusion group",
                       ir_op_names[cg_node(c, id)->op], id);
}

/* ---- matrix product ---- */

/* the rows of matrices [B,n,k] or [p,n,k] taken as one matrix */
static const char *rows3(cg_ctx *c, const ir_shape *s) {
    if (s->batched) return arena_printf(c->a, "((long)n * %lld)", (long long)s->dims[1]);
    return arena_printf(c->a, "%lld", (long long)(s->dims[0] * s->dims[1]));
}

/* per_sample: one product per sample of a [B,n,k] and b [B,k,m] (either transposed) */
static void matmul_per_sample(cg_ctx *c, int id, int ta, int tb) {
    const ir_shape *y = &cg_node(c, id)->shape, *a = &in_node(c, id, 0)->shape;
    const ir_shape *b = &in_node(c, id, 1)->shape;
    sb_printf(OUT, "    for (long s = 0; s < n; s++)\n"
                   "        dlc_gemm(%d, %d, %lld, %lld, %lld, t%d + s * %lldL, t%d + s * %lldL, "
                   "t%d + s * %lldL);\n",
              ta, tb, (long long)y->dims[1], (long long)y->dims[2],
              (long long)a->dims[ta ? 1 : 2], in_id(c, id, 0), (long long)ir_shape_inner(a),
              in_id(c, id, 1), (long long)ir_shape_inner(b), id, (long long)ir_shape_inner(y));
}

/* rank-3 operands of one product: a's rows times b [k,m], or a^T dY contracting the rows */
static void matmul_rows3(cg_ctx *c, int id, int ta, int tb) {
    const ir_shape *y = &cg_node(c, id)->shape, *a = &in_node(c, id, 0)->shape;
    const char *M = ta ? arena_printf(c->a, "%lld", (long long)a->dims[2]) : rows3(c, y);
    const char *K = ta ? rows3(c, a) : arena_printf(c->a, "%lld", (long long)a->dims[2]);
    sb_printf(OUT, "    dlc_gemm(%d, %d, %s, %lld, %s, t%d, t%d, t%d);\n", ta, tb, M,
              (long long)y->dims[y->rank - 1], K, in_id(c, id, 0), in_id(c, id, 1), id);
}

static void cg_c_emit_matmul(cg_ctx *c, int id) {
    const ir_node *n = cg_node(c, id), *x = in_node(c, id, 0);
    int ta = (int)ir_matmul_trans_a(n), tb = (int)ir_matmul_trans_b(n);
    if (ir_matmul_per_sample(n) || x->shape.rank == 3) {
        (ir_matmul_per_sample(n) ? matmul_per_sample : matmul_rows3)(c, id, ta, tb);
        return;
    }
    sb_printf(OUT, "    dlc_gemm(%d, %d, %s, %s, %s, t%d, t%d, t%d);\n", ta, tb,
              cg_dim(c, &n->shape, 0), cg_dim(c, &n->shape, 1),
              cg_dim(c, &x->shape, ta ? 0 : 1), in_id(c, id, 0), in_id(c, id, 1), id);
}

/* rows x cols view of a value whose last dim is cols */
static void rows_cols(cg_ctx *c, const ir_shape *s, const char **rows, long long *cols) {
    *cols = s->dims[s->rank - 1];
    *rows = arena_printf(c->a, "(%s / %lld)", cg_count(c, s), *cols);
}

/* for every row of node id's shape (its last dim long), the op's row body */
static void emit_row_op(cg_ctx *c, int id) {
    const char *rows;
    long long C;
    rows_cols(c, &cg_node(c, id)->shape, &rows, &C);
    sb_printf(OUT, "    for (long r = 0; r < %s; r++) {\n%s    }\n", rows,
              cg_row_body(c, id, arena_printf(c->a, "%lld", C)));
}

static void cg_c_emit_softmax(cg_ctx *c, int id) {
    emit_row_op(c, id);
}

static void cg_c_emit_softmax_grad(cg_ctx *c, int id) {
    emit_row_op(c, id);
}

static void cg_c_emit_reduce_like(cg_ctx *c, int id) {
    const ir_node *n = cg_node(c, id);
    long long L = ir_shape_numel(&n->shape);
    /* row by row, so the inner loop is contiguous and vectorises */
    sb_printf(OUT, "    {\n"
                   "        const long rows = %s / %lld;\n"
                   "        for (long j = 0; j < %lld; j++) t%d[j] = 0;\n"
                   "        for (long r = 0; r < rows; r++)\n"
                   "            for (long j = 0; j < %lld; j++) t%d[j] += t%d[r * %lld + j];\n"
                   "    }\n",
              cg_count(c, &in_node(c, id, 0)->shape), L, L, id, L, id, in_id(c, id, 0), L);
}

/* log-sum-exp of row r of logits tL with C classes, into `lse` (shared by loss and grad) */
static void row_lse(cg_ctx *c, int logits, long long C) {
    sb_puts(OUT, cg_row_max_sum(c, logits, arena_printf(c->a, "%lld", C)));
    sb_puts(OUT, "        const double lse = m + log(s);\n");
}

/* ---- log-softmax ---- */

static void cg_c_emit_log_softmax(cg_ctx *c, int id) {
    emit_row_op(c, id);
}

static void cg_c_emit_log_softmax_grad(cg_ctx *c, int id) {
    emit_row_op(c, id);
}

/* ---- reductions to a scalar ---- */

static void reduce_all(cg_ctx *c, int id, int mean) {
    const char *count = cg_count(c, &in_node(c, id, 0)->shape);
    sb_printf(OUT, "    {\n"
                   "        double s = 0;\n"
                   "        for (long i = 0; i < %s; i++) s += t%d[i];\n"
                   "        t%d[0] = (real)(s%s%s);\n"
                   "    }\n",
              count, in_id(c, id, 0), id, mean ? " / (double)" : "", mean ? count : "");
}
static void cg_c_emit_sum(cg_ctx *c, int id) {
    reduce_all(c, id, 0);
}
static void cg_c_emit_mean(cg_ctx *c, int id) {
    reduce_all(c, id, 1);
}

/* ---- losses over class labels: rows of scores [B,C] and labels [B] ---- */

static int sums(cg_ctx *c, int id) { return ir_loss_sum(cg_node(c, id)) != 0; }

/* dloss, divided by the batch for reduction=mean */
static const char *row_scale(cg_ctx *c, int id) {
    const char *dloss = cg_scalar(c, in_id(c, id, 2));
    return sums(c, id) ? dloss : arena_printf(c->a, "%s / (real)n", dloss);
}

static void cg_c_emit_cross_entropy(cg_ctx *c, int id) {
    long long C = in_node(c, id, 0)->shape.dims[1];
    double eps = ir_ce_label_smoothing(cg_node(c, id));
    sb_puts(OUT, "    {\n    double total = 0;\n    for (long r = 0; r < n; r++) {\n");
    row_lse(c, in_id(c, id, 0), C);
    if (eps == 0) {
        sb_printf(OUT, "        total += lse - xr[t%d[r]];\n", in_id(c, id, 1));
    } else { /* torch: (1 - eps) * nll + eps / C * sum_j -log p_j */
        sb_printf(OUT, "        double sx = 0;\n"
                       "        for (long j = 0; j < %lld; j++) sx += xr[j];\n"
                       "        total += %.17g * (lse - xr[t%d[r]]) + %.17g * (%lld * lse - sx);\n",
                  C, 1 - eps, in_id(c, id, 1), eps / (double)C, C);
    }
    sb_printf(OUT, "    }\n    t%d[0] = (real)(total%s);\n    }\n", id, sums(c, id) ? "" : " / n");
}

static void cg_c_emit_cross_entropy_grad(cg_ctx *c, int id) {
    long long C = in_node(c, id, 0)->shape.dims[1];
    double eps = ir_ce_label_smoothing(cg_node(c, id));
    sb_printf(OUT, "    for (long r = 0; r < n; r++) {\n");
    row_lse(c, in_id(c, id, 0), C);
    sb_printf(OUT, "        const real scale = %s;\n"
                   "        real *gr = t%d + r * %lld;\n",
              row_scale(c, id), id, C);
    if (eps == 0)
        sb_printf(OUT, "        for (long j = 0; j < %lld; j++) gr[j] = (real)(exp(xr[j] - lse)) * scale;\n"
                       "        gr[t%d[r]] -= scale;\n",
                  C, in_id(c, id, 1));
    else
        sb_printf(OUT, "        for (long j = 0; j < %lld; j++) gr[j] = (real)(exp(xr[j] - lse) - %.17g) * scale;\n"
                       "        gr[t%d[r]] -= (real)%.17g * scale;\n",
                  C, eps / (double)C, in_id(c, id, 1), 1 - eps);
    sb_puts(OUT, "    }\n");
}

static void cg_c_emit_nll(cg_ctx *c, int id) {
    long long C = in_node(c, id, 0)->shape.dims[1];
    sb_printf(OUT, "    {\n"
                   "        double total = 0;\n"
                   "        for (long r = 0; r < n; r++) total -= t%d[r * %lld + t%d[r]];\n"
                   "        t%d[0] = (real)(total%s);\n"
                   "    }\n",
              in_id(c, id, 0), C, in_id(c, id, 1), id, sums(c, id) ? "" : " / n");
}

static void cg_c_emit_nll_grad(cg_ctx *c, int id) {
    long long C = in_node(c, id, 0)->shape.dims[1];
    sb_printf(OUT, "    for (long r = 0; r < n; r++) {\n"
                   "        real *gr = t%d + r * %lld;\n"
                   "        for (long j = 0; j < %lld; j++) gr[j] = 0;\n"
                   "        gr[t%d[r]] = -(%s);\n"
                   "    }\n",
              id, C, C, in_id(c, id, 1), row_scale(c, id));
}

/* ---- losses over elements: prediction $0 and target $1 of equal shapes ---- */

/* the sum of the loss's term (cg_elem_loss_term) over all elements, divided by their count
 * for reduction=mean */
static void elem_loss(cg_ctx *c, int id) {
    const char *count = cg_count(c, &in_node(c, id, 0)->shape);
    sb_printf(OUT, "    {\n"
                   "        double s = 0;\n"
                   "        for (long i = 0; i < %s; i++) {\n"
                   "            const real p = t%d[i], t = t%d[i];\n"
                   "            s += (double)(%s);\n"
                   "        }\n"
                   "        t%d[0] = (real)(s%s%s);\n"
                   "    }\n",
              count, in_id(c, id, 0), in_id(c, id, 1), cg_elem_loss_term(c, id), id,
              sums(c, id) ? "" : " / (double)", sums(c, id) ? "" : count);
}
#define ELOSS(name) static void cg_c_emit_##name(cg_ctx *c, int id) { elem_loss(c, id); }
ELOSS(mse) ELOSS(mae) ELOSS(smooth_l1) ELOSS(huber) ELOSS(bce) ELOSS(bce_with_logits) ELOSS(hinge)
#undef ELOSS

/* sum of f(x) over every element of input 0 into the scalar tID; f is `fx` over `x` */
static void emit_sum_of(cg_ctx *c, int id, const char *fx) {
    sb_printf(OUT, "    {\n"
                   "        double s = 0;\n"
                   "        for (long i = 0; i < %s; i++) {\n"
                   "            const double x = t%d[i];\n"
                   "            s += %s;\n"
                   "        }\n"
                   "        t%d[0] = (real)s;\n"
                   "    }\n",
              cg_count(c, &in_node(c, id, 0)->shape), in_id(c, id, 0), fx, id);
}
static void cg_c_emit_sum_squares(cg_ctx *c, int id) {
    emit_sum_of(c, id, "x * x");
}
static void cg_c_emit_sum_abs(cg_ctx *c, int id) {
    emit_sum_of(c, id, "fabs(x)");
}

/* ---- batchnorm: channel c of x [B, C] or [B, C, H, W] is B runs of `inner` values ---- */

/* `body` once per value of channel c, at index k of x-shaped buffers */
static void channel_loop(cg_ctx *c, const cg_bn_geom *g, const char *body) {
    sb_printf(OUT, "        for (long b = 0; b < %s; b++)\n"
                   "            for (long k = (b * %lld + c) * %lld; k < (b * %lld + c + 1) * %lld; k++) %s\n",
              g->outer, g->C, g->inner, g->C, g->inner, body);
}

/* `body` once per value of channel c, at index k, with l = k's lane among 8: sums over a
 * channel go into 8 partial sums (lane l), so their loop vectorizes instead of waiting on one
 * running sum (with fewer than 8 values per sample, all in lane 0); the order is fixed, so the
 * results do not depend on the threads */
static void channel_lanes(cg_ctx *c, const cg_bn_geom *g, const char *body) {
    if (g->inner < 8) { /* [B, C]: one value per sample, nothing to spread */
        channel_loop(c, g, arena_printf(c->a, "{ const int l = 0; %s }", body));
        return;
    }
    sb_printf(OUT, "        for (long b = 0; b < %s; b++) {\n"
                   "            const long k0 = (b * %lld + c) * %lld;\n"
                   "            long j = 0;\n"
                   "            for (; j + 8 <= %lld; j += 8)\n"
                   "                for (int l = 0; l < 8; l++) { const long k = k0 + j + l; %s }\n"
                   "            for (int l = 0; j < %lld; j++, l++) { const long k = k0 + j; %s }\n"
                   "        }\n",
              g->outer, g->C, g->inner, g->inner, body, g->inner, body);
}

/* opens `for c` with `mean` and `invstd` (double) of channel c from stats tS */
static void channel_open(cg_ctx *c, const cg_bn_geom *g, int stats, double eps) {
    cg_c_parallel(c, arena_printf(c->a, "(long)%s * %lld", g->outer, g->C * g->inner), g->numel);
    sb_printf(OUT, "    for (long c = 0; c < %lld; c++) {\n"
                   "        const double cnt = (double)%s * %lld;\n"
                   "%s"
                   "        (void)cnt, (void)invstd;\n",
              g->C, g->outer, g->inner, cg_bn_mean_invstd(c, g, stats, eps));
}

/* training (and --gradcheck): the batch's mean and biased variance, in double; evaluation:
 * the running statistics */
static void cg_c_emit_batchnorm_stats(cg_ctx *c, int id) {
    int x = in_id(c, id, 0);
    cg_bn_geom g = cg_bn_geometry(c, x);
    if (!c->train && !c->batch_stats) {
        sb_printf(OUT, "    for (long c = 0; c < %lld; c++) {\n%s    }\n", g.C, cg_bn_running_stats(c, id, &g));
        return;
    }
    cg_c_parallel(c, arena_printf(c->a, "(long)%s * %lld", g.outer, g.C * g.inner), g.numel);
    sb_printf(OUT, "    for (long c = 0; c < %lld; c++) {\n"
                   "        const double cnt = (double)%s * %lld;\n"
                   "        double s = 0, v = 0, ls[8] = {0}, lv[8] = {0};\n", g.C, g.outer, g.inner);
    channel_lanes(c, &g, arena_printf(c->a, "ls[l] += t%d[k];", x));
    sb_puts(OUT, "        for (int l = 0; l < 8; l++) s += ls[l];\n"
                 "        const double mean = s / cnt;\n");
    channel_lanes(c, &g, arena_printf(c->a, "lv[l] += (t%d[k] - mean) * (t%d[k] - mean);", x, x));
    sb_puts(OUT, "        for (int l = 0; l < 8; l++) v += lv[l];\n");
    sb_printf(OUT, "        t%d[c] = (real)mean;\n        t%d[%lld + c] = (real)(v / cnt);\n    }\n",
              id, id, g.C);
}

static void cg_c_emit_batchnorm(cg_ctx *c, int id) {
    const ir_node *n = cg_node(c, id);
    int x = n->in[0];
    cg_bn_geom g = cg_bn_geometry(c, x);
    channel_open(c, &g, n->in[1], ir_bn_eps(n));
    sb_puts(OUT, cg_bn_affine(c, id));
    channel_loop(c, &g, arena_printf(c->a, "t%d[k] = t%d[k] * alpha + shift;", id, x));
    sb_puts(OUT, "    }\n");
}

/* per channel: sdy = sum dy, dot = sum (x - mean) dy (in 8 lanes each) */
static void channel_sums(cg_ctx *c, const cg_bn_geom *g, int x, int dy) {
    sb_puts(OUT, "        double sdy = 0, dot = 0, ls[8] = {0}, ld[8] = {0};\n");
    channel_lanes(c, g, arena_printf(c->a, "ls[l] += t%d[k]; ld[l] += (t%d[k] - mean) * t%d[k];",
                                     dy, x, dy));
    sb_puts(OUT, "        for (int l = 0; l < 8; l++) sdy += ls[l], dot += ld[l];\n"
                 "        (void)sdy, (void)dot;\n");
}

/* torch's batch-statistics backward (cg_bn_grad_setup) */
static void cg_c_emit_batchnorm_grad(cg_ctx *c, int id) {
    const ir_node *n = cg_node(c, id);
    int x = n->in[0], dy = n->in[2];
    cg_bn_geom g = cg_bn_geometry(c, x);
    channel_open(c, &g, n->in[1], ir_bn_eps(n));
    channel_sums(c, &g, x, dy);
    sb_puts(OUT, cg_bn_grad_setup(c, id));
    channel_loop(c, &g, cg_bn_grad_value(c, id));
    sb_puts(OUT, "    }\n");
}

/* dgamma = dot * invstd (the sum of dy * xhat), dbeta = sdy */
static void cg_c_emit_batchnorm_param_grad(cg_ctx *c, int id) {
    const ir_node *n = cg_node(c, id);
    cg_bn_geom g = cg_bn_geometry(c, n->in[0]);
    channel_open(c, &g, n->in[1], ir_bn_eps(n));
    channel_sums(c, &g, n->in[0], n->in[2]);
    sb_printf(OUT, "        t%d[c] = (real)%s;\n    }\n", id, cg_bn_param_grad_value(c, id));
}

/* torch: running = momentum * stat + (1 - momentum) * running, the variance unbiased */
static void cg_c_emit_batchnorm_running(cg_ctx *c, int id) {
    const ir_node *n = cg_node(c, id);
    cg_bn_geom g = cg_bn_geometry(c, n->in[2]);
    sb_printf(OUT, "    {\n        const double cnt = (double)%s * %lld;\n"
                   "        for (long c = 0; c < %lld; c++)\n"
                   "            t%d[c] = %s;\n"
                   "    }\n",
              g.outer, g.inner, g.C, id, cg_bn_running_value(c, id, &g));
}

/* ---- issue 13 ops2: axis reductions, one element q at a time (the shared body) ---- */
static void axis_op(cg_ctx *c, int id) {
    sb_printf(OUT, "    for (long q = 0; q < %s; q++) {\n%s    }\n",
              cg_count(c, cg_axis_space(c, id)), cg_axis_body(c, id));
}
static void cg_c_emit_sum_axis(cg_ctx *c, int id) { axis_op(c, id); }
static void cg_c_emit_max_axis(cg_ctx *c, int id) { axis_op(c, id); }
static void cg_c_emit_expand_axis(cg_ctx *c, int id) { axis_op(c, id); }
static void cg_c_emit_max_axis_grad(cg_ctx *c, int id) { axis_op(c, id); }

/* the entry of each op by ops.def's kind column (named cuda: how it runs, the same classes in
 * C; ir/ir_attrs.c checks NONE is exactly the leaves and FUSED exactly the fusable ops): a
 * GEMM or KERNEL op without its cg_c_emit_NAME is a compile error */
#define C_EMIT_NONE(name) emit_leaf
#define C_EMIT_FUSED(name) emit_fused
#define C_EMIT_GEMM(name) cg_c_emit_##name
#define C_EMIT_KERNEL(name) cg_c_emit_##name
const cg_c_emit_fn cg_c_emitters[IR_OP_COUNT] = {
#define OP(name, n_in, flags, shape, grad, attrs, cuda) [IR_OP_##name] = C_EMIT_##cuda(name),
#include "../ir/ops.def"
#undef OP
};
