/*
 * cg_cuda_ops.c — one CUDA emitter per op (the table is generated from ops.def's cuda column,
 * so a new GEMM or KERNEL op without its cg_cu_emit_NAME is a compile error). FUSED ops never
 * come here: they run in their fusion group's kernel (cg_cuda.c) with the shared layer's
 * expressions (cg_expr.c). Each emitter writes its kernel(s) and appends its launches; the
 * code mirrors the C backend's loops (cg_c_ops.c) statement for statement, with the loop over
 * rows or columns spread over threads: a row's or column's own arithmetic runs in the same
 * order as on the CPU. Sums over a whole tensor are one block's deterministic reduction in
 * double (dlc_block_sum).
 * Pooling, concatenation, batchnorm and convolution are in cg_cuda_nn.c.
 */
#include "cg_cuda_internal.h"

#define OUT c->x.out

/* leaves (cuda NONE): storage is bound by the kernels' parameters, nothing to emit */
static void cu_emit_leaf(cg_cu *c, int id) { (void)c, (void)id; }

/* cuda FUSED (elementwise ops, assign, reshape): always inside a fusion group
 * (passes/schedule.c), emitted by cg_cuda.c's group kernel with the shared expressions */
static void cu_emit_fused(cg_cu *c, int id) {
    dlc_internal_error(__FILE__, __LINE__, "%s (node %%%d) outside a fusion group",
                       ir_op_names[cg_cu_node(c, id)->op], id);
}

/* ---- matrix product: cuBLAS, row-major as dlc_gemm ---- */

static dlrt_cuda_lin dim_lin(const ir_shape *s, int i) {
    return s->batched && i == 0 ? cg_cu_lin(1, 0) : cg_cu_lin(0, s->dims[i]);
}

/* per_sample: a [B,n,k] times b [B,k,m] (either transposed per sample), one thread per element
 * of y [B,n,m], its dot product summed in order in real */
static void matmul_per_sample(cg_cu *c, int id, int ta, int tb) {
    const ir_shape *y = &cg_cu_node(c, id)->shape, *a = &cg_cu_in_node(c, id, 0)->shape;
    long long M = y->dims[1], N = y->dims[2], K = a->dims[ta ? 1 : 2];
    const char *k = cg_cu_kernel_open_node(c, id);
    sb_printf(OUT, "    DLC_FOR(e, (long)n * %lld) {\n"
                   "        const long s = e / %lld, i = e / %lld %% %lld, j = e %% %lld;\n"
                   "        const real *a = t%d + s * %lld, *b = t%d + s * %lld;\n"
                   "        real acc = 0;\n"
                   "        for (long k = 0; k < %lld; k++) acc += a[%s] * b[%s];\n"
                   "        t%d[e] = acc;\n"
                   "    }\n",
              M * N, M * N, N, M, N, cg_cu_in(c, id, 0), M * K, cg_cu_in(c, id, 1), K * N, K,
              ta ? arena_printf(c->x.a, "k * %lld + i", M) : arena_printf(c->x.a, "i * %lld + k", K),
              tb ? arena_printf(c->x.a, "j * %lld + k", K) : arena_printf(c->x.a, "k * %lld + j", N), id);
    cg_cu_kernel_close(c);
    cg_cu_launch(c, id, k, cg_cu_lin(M * N, 0), CU_BLOCK, CU_MAX_BLOCKS);
}

/* the rows of matrices [B,n,k] or [p,n,k] taken as one matrix */
static dlrt_cuda_lin rows3(const ir_shape *s) {
    return s->batched ? cg_cu_lin(s->dims[1], 0) : cg_cu_lin(0, s->dims[0] * s->dims[1]);
}

/* rank-3 operands of one product: a's rows times b [k,m], or a^T dY contracting the rows */
static void matmul_rows3(cg_cu *c, int id, int ta, int tb) {
    const ir_node *n = cg_cu_node(c, id);
    const ir_shape *y = &n->shape, *a = &cg_cu_in_node(c, id, 0)->shape;
    dlrt_cuda_lin M = ta ? cg_cu_lin(0, a->dims[2]) : rows3(y), N = cg_cu_lin(0, y->dims[y->rank - 1]);
    dlrt_cuda_lin K = ta ? rows3(a) : cg_cu_lin(0, a->dims[2]), zero = cg_cu_lin(0, 0);
    cg_cu_gemm(c, id, ta, tb, M, N, K, cg_cu_ptr(c, n->in[0], zero), ta ? M : K, cg_cu_ptr(c, n->in[1], zero),
               tb ? K : N, 0, cg_cu_ptr(c, id, zero), N);
}

static void cg_cu_emit_matmul(cg_cu *c, int id) {
    const ir_node *n = cg_cu_node(c, id), *x = cg_cu_in_node(c, id, 0);
    int ta = (int)ir_matmul_trans_a(n), tb = (int)ir_matmul_trans_b(n);
    if (ir_matmul_per_sample(n) || x->shape.rank == 3) {
        (ir_matmul_per_sample(n) ? matmul_per_sample : matmul_rows3)(c, id, ta, tb);
        return;
    }
    dlrt_cuda_lin M = dim_lin(&n->shape, 0), N = dim_lin(&n->shape, 1);
    dlrt_cuda_lin K = dim_lin(&x->shape, ta ? 0 : 1), zero = cg_cu_lin(0, 0);
    cg_cu_gemm(c, id, ta, tb, M, N, K, cg_cu_ptr(c, n->in[0], zero), ta ? M : K, cg_cu_ptr(c, n->in[1], zero),
            tb ? K : N, 0, cg_cu_ptr(c, id, zero), N);
}

/* ---- per row: one thread per row runs the C backend's row loop ---- */

/* rows of a value whose last dim is cols, as text and as a function of n */
static const char *rows_of(cg_cu *c, const ir_shape *s, long long *cols, dlrt_cuda_lin *rows) {
    *cols = s->dims[s->rank - 1];
    dlrt_cuda_lin cnt = cg_cu_count_lin(s);
    *rows = cg_cu_lin(cnt.a / *cols, cnt.b / *cols);
    return arena_printf(c->x.a, "(%s / %lld)", cg_cu_count(c, s), *cols);
}

/* a kernel over the rows of node id's shape with `body` (r: the row) */
static void row_kernel(cg_cu *c, int id, const char *body) {
    long long C;
    dlrt_cuda_lin rows;
    const char *nrows = rows_of(c, &cg_cu_node(c, id)->shape, &C, &rows);
    const char *k = cg_cu_kernel_open_node(c, id);
    sb_printf(OUT, "    const long C = %lld;\n    DLC_FOR(r, %s) {\n%s    }\n", C, nrows, body);
    cg_cu_kernel_close(c);
    cg_cu_launch(c, id, k, rows, CU_BLOCK, CU_MAX_BLOCKS);
}

/* row r of tX: its max `m` and `s` = sum(exp(x - m)), the shared text (cg_expr.c) */
static const char *row_max_sum(cg_cu *c, int x) { return cg_row_max_sum(&c->x, x, "C"); }

/* softmax, log_softmax and their gradients: the shared row bodies, as the C backend's */
static void row_op(cg_cu *c, int id) { row_kernel(c, id, cg_row_body(&c->x, id, "C")); }
static void cg_cu_emit_softmax(cg_cu *c, int id) { row_op(c, id); }
static void cg_cu_emit_softmax_grad(cg_cu *c, int id) { row_op(c, id); }
static void cg_cu_emit_log_softmax(cg_cu *c, int id) { row_op(c, id); }
static void cg_cu_emit_log_softmax_grad(cg_cu *c, int id) { row_op(c, id); }

/* reduce_like: one thread per column, summing the rows in order in real (as the C loop) */
static void cg_cu_emit_reduce_like(cg_cu *c, int id) {
    long long L = ir_shape_numel(&cg_cu_node(c, id)->shape);
    const char *k = cg_cu_kernel_open_node(c, id);
    sb_printf(OUT, "    const long rows = %s / %lld;\n"
                   "    DLC_FOR(j, %lld) {\n"
                   "        real acc = 0;\n"
                   "        for (long r = 0; r < rows; r++) acc += t%d[r * %lld + j];\n"
                   "        t%d[j] = acc;\n"
                   "    }\n",
              cg_cu_count(c, &cg_cu_in_node(c, id, 0)->shape), L, L, cg_cu_in(c, id, 0), L, id);
    cg_cu_kernel_close(c);
    cg_cu_launch(c, id, k, cg_cu_lin(0, L), CU_BLOCK, CU_MAX_BLOCKS);
}

/* ---- sums over a whole tensor: one block, each thread a strided share, then dlc_block_sum ---- */

/* a one-block kernel: `setup`, then `term` (a double expression, over index i) summed over
 * [0, count) into s, then tID[0] = (real)(s `finish`) */
static void block_reduce(cg_cu *c, int id, const char *count, const char *setup, const char *term,
                         const char *finish) {
    const char *k = cg_cu_kernel_open_node(c, id);
    sb_printf(OUT, "%s    double s = 0;\n"
                   "    DLC_BLOCK_FOR(i, %s) {\n%s    }\n"
                   "    s = dlc_block_sum(s);\n"
                   "    if (threadIdx.x == 0) t%d[0] = (real)(s%s);\n",
              setup, count, term, id, finish);
    cg_cu_kernel_close(c);
    cg_cu_launch(c, id, k, cg_cu_lin(0, CU_BLOCK), CU_BLOCK, 1);
}

static const char *mean_by(cg_cu *c, int mean, const char *count) {
    return mean ? arena_printf(c->x.a, " / (double)%s", count) : "";
}

static void reduce_all(cg_cu *c, int id, int mean) {
    const char *count = cg_cu_count(c, &cg_cu_in_node(c, id, 0)->shape);
    block_reduce(c, id, count, "", arena_printf(c->x.a, "        s += t%d[i];\n", cg_cu_in(c, id, 0)),
                 mean_by(c, mean, count));
}
static void cg_cu_emit_sum(cg_cu *c, int id) { reduce_all(c, id, 0); }
static void cg_cu_emit_mean(cg_cu *c, int id) { reduce_all(c, id, 1); }

static void sum_of(cg_cu *c, int id, const char *fx) {
    block_reduce(c, id, cg_cu_count(c, &cg_cu_in_node(c, id, 0)->shape), "",
                 arena_printf(c->x.a, "        const double x = t%d[i];\n        s += %s;\n",
                              cg_cu_in(c, id, 0), fx), "");
}
static void cg_cu_emit_sum_squares(cg_cu *c, int id) { sum_of(c, id, "x * x"); }
static void cg_cu_emit_sum_abs(cg_cu *c, int id) { sum_of(c, id, "fabs(x)"); }

static int sums(cg_cu *c, int id) { return ir_loss_sum(cg_cu_node(c, id)) != 0; }

/* element losses: the shared term over p and t, as the C backend's */
static void elem_loss(cg_cu *c, int id) {
    const char *count = cg_cu_count(c, &cg_cu_in_node(c, id, 0)->shape);
    block_reduce(c, id, count, "",
                 arena_printf(c->x.a, "        const real p = t%d[i], t = t%d[i];\n"
                                    "        s += (double)(%s);\n",
                              cg_cu_in(c, id, 0), cg_cu_in(c, id, 1), cg_elem_loss_term(&c->x, id)),
                 mean_by(c, !sums(c, id), count));
}
#define ELOSS(name) static void cg_cu_emit_##name(cg_cu *c, int id) { elem_loss(c, id); }
ELOSS(mse) ELOSS(mae) ELOSS(smooth_l1) ELOSS(huber) ELOSS(bce) ELOSS(bce_with_logits) ELOSS(hinge)

/* ---- losses over class labels: rows of scores [B,C] and labels [B] ---- */

static void cg_cu_emit_cross_entropy(cg_cu *c, int id) {
    long long C = cg_cu_in_node(c, id, 0)->shape.dims[1];
    double eps = ir_ce_label_smoothing(cg_cu_node(c, id));
    int lab = cg_cu_in(c, id, 1);
    const char *term = eps == 0
        ? arena_printf(c->x.a, "        total += lse - xr[t%d[r]];\n", lab)
        : arena_printf(c->x.a, "        double sx = 0;\n"
                             "        for (long j = 0; j < C; j++) sx += xr[j];\n"
                             "        total += %.17g * (lse - xr[t%d[r]]) + %.17g * (%lld * lse - sx);\n",
                       1 - eps, lab, eps / (double)C, C);
    const char *k = cg_cu_kernel_open_node(c, id);
    sb_printf(OUT, "    const long C = %lld;\n    double total = 0;\n"
                   "    DLC_BLOCK_FOR(r, n) {\n%s"
                   "        const double lse = m + log(s);\n%s"
                   "    }\n"
                   "    total = dlc_block_sum(total);\n"
                   "    if (threadIdx.x == 0) t%d[0] = (real)(total%s);\n",
              C, row_max_sum(c, cg_cu_in(c, id, 0)), term, id, sums(c, id) ? "" : " / n");
    cg_cu_kernel_close(c);
    cg_cu_launch(c, id, k, cg_cu_lin(0, CU_BLOCK), CU_BLOCK, 1);
}

/* dloss, divided by the batch for reduction=mean */
static const char *row_scale(cg_cu *c, int id) {
    const char *dloss = cg_scalar(&c->x, cg_cu_in(c, id, 2));
    return sums(c, id) ? dloss : arena_printf(c->x.a, "%s / (real)n", dloss);
}

static void cg_cu_emit_cross_entropy_grad(cg_cu *c, int id) {
    long long C = cg_cu_in_node(c, id, 0)->shape.dims[1];
    double eps = ir_ce_label_smoothing(cg_cu_node(c, id));
    int lab = cg_cu_in(c, id, 1);
    const char *tail = eps == 0
        ? arena_printf(c->x.a, "        for (long j = 0; j < C; j++) gr[j] = (real)(exp(xr[j] - lse)) * scale;\n"
                             "        gr[t%d[r]] -= scale;\n", lab)
        : arena_printf(c->x.a, "        for (long j = 0; j < C; j++) gr[j] = (real)(exp(xr[j] - lse) - %.17g) * scale;\n"
                             "        gr[t%d[r]] -= (real)%.17g * scale;\n", eps / (double)C, lab, 1 - eps);
    const char *k = cg_cu_kernel_open_node(c, id);
    sb_printf(OUT, "    const long C = %lld;\n    DLC_FOR(r, n) {\n%s"
                   "        const double lse = m + log(s);\n"
                   "        const real scale = %s;\n"
                   "        real *gr = t%d + r * C;\n%s    }\n",
              C, row_max_sum(c, cg_cu_in(c, id, 0)), row_scale(c, id), id, tail);
    cg_cu_kernel_close(c);
    cg_cu_launch(c, id, k, cg_cu_lin(1, 0), CU_BLOCK, CU_MAX_BLOCKS);
}

static void cg_cu_emit_nll(cg_cu *c, int id) {
    long long C = cg_cu_in_node(c, id, 0)->shape.dims[1];
    block_reduce(c, id, "n", "", arena_printf(c->x.a, "        s -= t%d[i * %lld + t%d[i]];\n",
                                              cg_cu_in(c, id, 0), C, cg_cu_in(c, id, 1)),
                 sums(c, id) ? "" : " / n");
}

static void cg_cu_emit_nll_grad(cg_cu *c, int id) {
    long long C = cg_cu_in_node(c, id, 0)->shape.dims[1];
    const char *k = cg_cu_kernel_open_node(c, id);
    sb_printf(OUT, "    DLC_FOR(r, n) {\n"
                   "        real *gr = t%d + r * %lld;\n"
                   "        for (long j = 0; j < %lld; j++) gr[j] = 0;\n"
                   "        gr[t%d[r]] = -(%s);\n"
                   "    }\n",
              id, C, C, cg_cu_in(c, id, 1), row_scale(c, id));
    cg_cu_kernel_close(c);
    cg_cu_launch(c, id, k, cg_cu_lin(1, 0), CU_BLOCK, CU_MAX_BLOCKS);
}

/* ---- issue 13 ops2: axis reductions, a thread per element q (the shared body, as C's) ---- */
static void axis_op(cg_cu *c, int id) {
    const ir_shape *sp = cg_axis_space(&c->x, id);
    const char *k = cg_cu_kernel_open_node(c, id);
    sb_printf(OUT, "    DLC_FOR(q, %s) {\n%s    }\n", cg_cu_count(c, sp), cg_axis_body(&c->x, id));
    cg_cu_kernel_close(c);
    cg_cu_launch(c, id, k, cg_cu_count_lin(sp), CU_BLOCK, CU_MAX_BLOCKS);
}
static void cg_cu_emit_sum_axis(cg_cu *c, int id) { axis_op(c, id); }
static void cg_cu_emit_max_axis(cg_cu *c, int id) { axis_op(c, id); }
static void cg_cu_emit_expand_axis(cg_cu *c, int id) { axis_op(c, id); }
static void cg_cu_emit_max_axis_grad(cg_cu *c, int id) { axis_op(c, id); }

/* the entry of each op by its cuda column: a GEMM or KERNEL op without its cg_cu_emit_NAME
 * is a compile error */
#define CU_EMIT_NONE(name) cu_emit_leaf
#define CU_EMIT_FUSED(name) cu_emit_fused
#define CU_EMIT_GEMM(name) cg_cu_emit_##name
#define CU_EMIT_KERNEL(name) cg_cu_emit_##name
const cg_cu_emit_fn cg_cu_emitters[IR_OP_COUNT] = {
#define OP(name, n_in, flags, shape, grad, attrs, cuda) [IR_OP_##name] = CU_EMIT_##cuda(name),
#include "../ir/ops.def"
#undef OP
};
_Static_assert(sizeof cg_cu_emitters / sizeof cg_cu_emitters[0] == IR_OP_COUNT,
               "one CUDA emitter per op");
