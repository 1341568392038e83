/*
 * cg_c_conv.c — the C backend's convolution: conv2d and its gradient ops lowered to im2col +
 * GEMM, sample by sample over the batch, and the support functions they call (emitted into
 * the generated file only when used: unused statics warn).
 *
 * Per sample s and group g, with K = C/groups kH kW rows of the column matrix per group and
 * P = OH OW output pixels:  y_s,g [O/groups, P] = w_g [O/groups, K] col_s,g [K, P];
 * dw_g += dy_s,g col_s,g^T;  dcol_s,g = w_g^T dy_s,g, then col2im adds the columns back into
 * dx_s. The column matrix of one sample lives in one scratch buffer of the arena, shared by
 * every convolution of the step (cg_c_conv_scratch sizes it); a 1x1 kernel with stride 1, no
 * padding and no dilation reads the input directly. Nothing is allocated in the step.
 */
#include "cg_c_internal.h"

static const char conv_common[] =
    "/* one convolution's geometry (torch.nn.Conv2d's arguments, per-side padding) */\n"
    "typedef struct dlc_conv {\n"
    "    long C, H, W, O, kh, kw, OH, OW, sh, sw, pt, pl, dh, dw, groups;\n"
    "} dlc_conv;\n\n"
    "/* C[M,N] = op(A) op(B) + beta C, row-major with leading dimensions */\n"
    "static void dlc_gemm_ld(int ta, int tb, long M, long N, long K, const real *A, long lda,\n"
    "                        const real *B, long ldb, real beta, real *C, long ldc) {\n"
    "#ifdef DLC_USE_CBLAS\n"
    "    DLC_GEMM_BLAS(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,\n"
    "                  (int)M, (int)N, (int)K, 1, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);\n"
    "#else\n"
    "    for (long i = 0; i < M; i++) {\n"
    "        real *c = C + i * ldc;\n"
    "        for (long j = 0; j < N; j++) c[j] = beta == 0 ? (real)0 : beta * c[j];\n"
    "        for (long k = 0; k < K; k++) {\n"
    "            const real a = ta ? A[k * lda + i] : A[i * lda + k];\n"
    "            if (tb) {\n"
    "                for (long j = 0; j < N; j++) c[j] += a * B[j * ldb + k];\n"
    "            } else {\n"
    "                const real *b = B + k * ldb;\n"
    "                for (long j = 0; j < N; j++) c[j] += a * b[j];\n"
    "            }\n"
    "        }\n"
    "    }\n"
    "#endif\n"
    "}\n\n"
    "/* the kernel reads the input as it is: 1x1, stride 1, no padding, no dilation */\n"
    "static int dlc_conv_direct(const dlc_conv *q) {\n"
    "    return q->kh == 1 && q->kw == 1 && q->sh == 1 && q->sw == 1 && q->pt == 0 && q->pl == 0 &&\n"
    "           q->OH == q->H && q->OW == q->W;\n"
    "}\n\n";

static const char conv_im2col[] =
    "/* col [C kh kw, OH OW]: row (c, i, j) holds x[c, oh sh - pt + i dh, ow sw - pl + j dw], 0\n"
    " * outside the image */\n"
    "static const real *dlc_im2col(const dlc_conv *q, const real *x, real *col) {\n"
    "    if (dlc_conv_direct(q)) return x;\n"
    "    const long P = q->OH * q->OW;\n"
    "    for (long c = 0; c < q->C; c++)\n"
    "        for (long i = 0; i < q->kh; i++)\n"
    "            for (long j = 0; j < q->kw; j++) {\n"
    "                real *r = col + ((c * q->kh + i) * q->kw + j) * P;\n"
    "                for (long oh = 0; oh < q->OH; oh++) {\n"
    "                    const long ih = oh * q->sh - q->pt + i * q->dh;\n"
    "                    real *ro = r + oh * q->OW;\n"
    "                    if (ih < 0 || ih >= q->H) {\n"
    "                        for (long ow = 0; ow < q->OW; ow++) ro[ow] = 0;\n"
    "                        continue;\n"
    "                    }\n"
    "                    const real *xr = x + (c * q->H + ih) * q->W;\n"
    "                    for (long ow = 0; ow < q->OW; ow++) {\n"
    "                        const long iw = ow * q->sw - q->pl + j * q->dw;\n"
    "                        ro[ow] = iw >= 0 && iw < q->W ? xr[iw] : (real)0;\n"
    "                    }\n"
    "                }\n"
    "            }\n"
    "    return col;\n"
    "}\n\n";

static const char conv_forward[] =
    "/* y [n, O, OH, OW] = conv2d(x [n, C, H, W], w [O, C/groups, kh, kw]) + bias (or NULL) */\n"
    "static void dlc_conv_forward(const dlc_conv *q, long n, const real *x, const real *w,\n"
    "                             const real *bias, real *y, real *col) {\n"
    "    const long P = q->OH * q->OW, Og = q->O / q->groups, K = q->C / q->groups * q->kh * q->kw;\n"
    "    for (long s = 0; s < n; s++) {\n"
    "        const real *cs = dlc_im2col(q, x + s * q->C * q->H * q->W, col);\n"
    "        real *ys = y + s * q->O * P;\n"
    "        for (long g = 0; g < q->groups; g++)\n"
    "            dlc_gemm_ld(0, 0, Og, P, K, w + g * Og * K, K, cs + g * K * P, P, 0, ys + g * Og * P, P);\n"
    "        if (bias)\n"
    "            for (long o = 0; o < q->O; o++)\n"
    "                for (long p = 0; p < P; p++) ys[o * P + p] += bias[o];\n"
    "    }\n"
    "}\n\n";

static const char conv_input_grad[] =
    "/* dx [n, C, H, W] from dy [n, O, OH, OW]: dcol = w^T dy per group, added back by col2im */\n"
    "static void dlc_conv_input_grad(const dlc_conv *q, long n, const real *dy, const real *w,\n"
    "                                real *dx, real *col) {\n"
    "    const long P = q->OH * q->OW, Og = q->O / q->groups, K = q->C / q->groups * q->kh * q->kw;\n"
    "    const long HW = q->H * q->W;\n"
    "    for (long s = 0; s < n; s++) {\n"
    "        real *xs = dx + s * q->C * HW;\n"
    "        real *cs = dlc_conv_direct(q) ? xs : col;\n"
    "        for (long g = 0; g < q->groups; g++)\n"
    "            dlc_gemm_ld(1, 0, K, P, Og, w + g * Og * K, K, dy + s * q->O * P + g * Og * P, P, 0,\n"
    "                        cs + g * K * P, P);\n"
    "        if (cs == xs) continue;\n"
    "        for (long i = 0; i < q->C * HW; i++) xs[i] = 0;\n"
    "        for (long c = 0; c < q->C; c++)\n"
    "            for (long i = 0; i < q->kh; i++)\n"
    "                for (long j = 0; j < q->kw; j++) {\n"
    "                    const real *r = col + ((c * q->kh + i) * q->kw + j) * P;\n"
    "                    for (long oh = 0; oh < q->OH; oh++) {\n"
    "                        const long ih = oh * q->sh - q->pt + i * q->dh;\n"
    "                        if (ih < 0 || ih >= q->H) continue;\n"
    "                        real *xr = xs + c * HW + ih * q->W;\n"
    "                        for (long ow = 0; ow < q->OW; ow++) {\n"
    "                            const long iw = ow * q->sw - q->pl + j * q->dw;\n"
    "                            if (iw >= 0 && iw < q->W) xr[iw] += r[oh * q->OW + ow];\n"
    "                        }\n"
    "                    }\n"
    "                }\n"
    "    }\n"
    "}\n\n";

static const char conv_weight_grad[] =
    "/* dw [O, C/groups, kh, kw] = sum over samples of dy col^T per group */\n"
    "static void dlc_conv_weight_grad(const dlc_conv *q, long n, const real *x, const real *dy,\n"
    "                                 real *dw, real *col) {\n"
    "    const long P = q->OH * q->OW, Og = q->O / q->groups, K = q->C / q->groups * q->kh * q->kw;\n"
    "    for (long i = 0; i < q->O * K; i++) dw[i] = 0;\n"
    "    for (long s = 0; s < n; s++) {\n"
    "        const real *cs = dlc_im2col(q, x + s * q->C * q->H * q->W, col);\n"
    "        for (long g = 0; g < q->groups; g++)\n"
    "            dlc_gemm_ld(0, 1, Og, K, P, dy + s * q->O * P + g * Og * P, P, cs + g * K * P, P, 1,\n"
    "                        dw + g * Og * K, K);\n"
    "    }\n"
    "}\n\n";

static const char conv_bias_grad[] =
    "/* db [O] = dy [n, O, P] summed over samples and pixels (in double) */\n"
    "static void dlc_conv_bias_grad(long n, long O, long P, const real *dy, real *db) {\n"
    "    for (long o = 0; o < O; o++) {\n"
    "        double acc = 0;\n"
    "        for (long s = 0; s < n; s++)\n"
    "            for (long p = 0; p < P; p++) acc += dy[(s * O + o) * P + p];\n"
    "        db[o] = (real)acc;\n"
    "    }\n"
    "}\n\n";

static int has_op(const ir_graph *g, ir_op op) {
    for (int id = 0; id < g->n_nodes; id++)
        if (g->nodes[id].op == op) return 1;
    return 0;
}

void cg_c_conv_prelude(cg_c *c) {
    const ir_graph *g = c->g;
    int fwd = has_op(g, IR_OP_conv2d), dx = has_op(g, IR_OP_conv2d_input_grad);
    int dw = has_op(g, IR_OP_conv2d_weight_grad);
    if (fwd || dx || dw) sb_puts(c->out, conv_common);
    if (fwd || dw) sb_puts(c->out, conv_im2col);
    if (fwd) sb_puts(c->out, conv_forward);
    if (dx) sb_puts(c->out, conv_input_grad);
    if (dw) sb_puts(c->out, conv_weight_grad);
    if (has_op(g, IR_OP_conv2d_bias_grad)) sb_puts(c->out, conv_bias_grad);
}

/* the conv2d node whose geometry a node has: itself, or the forward node of a gradient op
 * (x is input 0 of conv2d and weight_grad, input 2 of input_grad; w is 1, 2, 1) */
static void geometry(cg_c *c, int id, const ir_shape **x, const ir_shape **w, const ir_shape **y) {
    const ir_node *n = cg_c_node(c, id);
    const ir_shape *s[3];
    for (int i = 0; i < 3 && i < n->n_in; i++) s[i] = &cg_c_node(c, n->in[i])->shape;
    switch (n->op) {
    case IR_OP_conv2d_input_grad: *x = s[2], *w = s[1], *y = s[0]; return;
    case IR_OP_conv2d_weight_grad: *x = s[0], *w = s[2], *y = s[1]; return;
    default: *x = s[0], *w = s[1], *y = &n->shape; return;
    }
}

long long cg_c_conv_scratch(cg_c *c, int id) {
    ir_op op = cg_c_node(c, id)->op;
    if (op != IR_OP_conv2d && op != IR_OP_conv2d_input_grad && op != IR_OP_conv2d_weight_grad)
        return 0;
    const ir_shape *x, *w, *y;
    geometry(c, id, &x, &w, &y);
    return (long long)(x->dims[1] * w->dims[2] * w->dims[3] * y->dims[2] * y->dims[3]);
}

/* `static const dlc_conv q = {...};` for node id */
static void declare_geometry(cg_c *c, int id) {
    const ir_shape *x, *w, *y;
    geometry(c, id, &x, &w, &y);
    const int64_t *a = cg_c_node(c, id)->iattr;
    sb_printf(c->out, "    {\n        static const dlc_conv q = {%lld, %lld, %lld, %lld, %lld, %lld, "
                      "%lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld};\n",
              (long long)x->dims[1], (long long)x->dims[2], (long long)x->dims[3],
              (long long)w->dims[0], (long long)w->dims[2], (long long)w->dims[3],
              (long long)y->dims[2], (long long)y->dims[3], (long long)a[0], (long long)a[1],
              (long long)a[2], (long long)a[3], (long long)a[6], (long long)a[7], (long long)a[8]);
}

static const char *col(cg_c *c) { return arena_printf(c->a, "(real *)(A + %lld)", c->col_offset); }

void emit_conv2d(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    const ir_node *n = cg_c_node(c, id);
    declare_geometry(c, id);
    const char *bias = n->n_in == 3 ? arena_printf(c->a, "t%d", n->in[2]) : "NULL";
    sb_printf(c->out, "        dlc_conv_forward(&q, n, t%d, t%d, %s, t%d, %s);\n    }\n", n->in[0],
              n->in[1], bias, id, col(c));
}

void emit_conv2d_input_grad(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    const ir_node *n = cg_c_node(c, id);
    declare_geometry(c, id);
    sb_printf(c->out, "        dlc_conv_input_grad(&q, n, t%d, t%d, t%d, %s);\n    }\n", n->in[0],
              n->in[1], id, col(c));
}

void emit_conv2d_weight_grad(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    const ir_node *n = cg_c_node(c, id);
    declare_geometry(c, id);
    sb_printf(c->out, "        dlc_conv_weight_grad(&q, n, t%d, t%d, t%d, %s);\n    }\n", n->in[0],
              n->in[1], id, col(c));
}

void emit_conv2d_bias_grad(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    const ir_shape *dy = &cg_c_node(c, cg_c_node(c, id)->in[0])->shape;
    sb_printf(c->out, "    dlc_conv_bias_grad(n, %lld, %lld, t%d, t%d);\n", (long long)dy->dims[1],
              (long long)(dy->dims[2] * dy->dims[3]), cg_c_node(c, id)->in[0], id);
}

/* the same elements under other dims: the identity, fused into its neighbours' loop */
void emit_reshape(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)c, (void)id;
    sb_puts(e, a[0]);
}
