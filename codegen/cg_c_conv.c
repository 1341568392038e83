/*
 * cg_c_conv.c — the C backend's convolution: conv2d and its gradient ops lowered to im2col +
 * GEMM over chunks of the batch (the whole batch when it fits), and the support functions
 * they call (emitted into the generated file only when used: unused statics warn).
 *
 * For a chunk of m samples, with K = C/groups kH kW column rows per group and P = OH OW
 * pixels: col [C kH kW, m P] holds the chunk's columns side by side, and per group g
 *   forward        t_g [O/groups, m P] = w_g [O/groups, K] col_g, then t is scattered into y
 *                  [m, O, P] (plus the bias);
 *   weight grad    dw_g += dy_g col_g^T, dy gathered into the chunk layout [O, m P];
 *   input grad     dcol_g = w_g^T dy_g, then col2im adds the columns back into dx.
 * So each is one GEMM per group and chunk. The column buffer and the product of one chunk
 * live in the node's workspace in the arena (cg_c_workspace_reals sizes it, the memory
 * planner places it); the chunk is the whole batch unless that passes 32 MB.
 * Nothing is allocated in the step.
 */
#include "cg_c_internal.h"

static const char conv_common[] =
    "/* one convolution's geometry (torch.nn.Conv2d's arguments, per-side padding) and S, the\n"
    " * samples per chunk of the column buffer */\n"
    "typedef struct dlc_conv {\n"
    "    long C, H, W, O, kh, kw, OH, OW, sh, sw, pt, pl, dh, dw, groups, S;\n"
    "} dlc_conv;\n\n"
    "/* the output columns [lo, hi) whose input column ow sw + off lies inside the image */\n"
    "static void dlc_conv_cols(const dlc_conv *q, long off, long *lo, long *hi) {\n"
    "    *lo = off >= 0 ? 0 : (-off + q->sw - 1) / q->sw;\n"
    "    *hi = q->W - 1 - off < 0 ? 0 : (q->W - 1 - off) / q->sw + 1;\n"
    "    if (*lo > q->OW) *lo = q->OW;\n"
    "    if (*hi > q->OW) *hi = q->OW;\n"
    "    if (*hi < *lo) *hi = *lo;\n"
    "}\n\n";

static const char conv_gather[] =
    "/* dy of samples [0, m) [m, O, P] into the chunk layout [O, m P] */\n"
    "static void dlc_conv_gather(const dlc_conv *q, long m, const real *dy, real *t) {\n"
    "    const long P = q->OH * q->OW, ld = m * P;\n"
    "    for (long s = 0; s < m; s++)\n"
    "        for (long o = 0; o < q->O; o++) {\n"
    "            const real *src = dy + (s * q->O + o) * P;\n"
    "            real *dst = t + o * ld + s * P;\n"
    "            for (long p = 0; p < P; p++) dst[p] = src[p];\n"
    "        }\n"
    "}\n\n";

static const char conv_im2col[] =
    "/* col [C kh kw, m OH OW] of samples x [m, C, H, W]: row (c, i, j), column (s, oh, ow) holds\n"
    " * x[s, c, oh sh - pt + i dh, ow sw - pl + j dw], 0 outside the image */\n"
    "static void dlc_im2col(const dlc_conv *q, long m, const real *x, real *col) {\n"
    "    const long P = q->OH * q->OW, ld = m * P, HW = q->H * q->W;\n"
    "    for (long c = 0; c < q->C; c++)\n"
    "        for (long i = 0; i < q->kh; i++)\n"
    "            for (long j = 0; j < q->kw; j++) {\n"
    "                long lo, hi;\n"
    "                const long off = j * q->dw - q->pl;\n"
    "                dlc_conv_cols(q, off, &lo, &hi);\n"
    "                for (long s = 0; s < m; s++) {\n"
    "                    const real *xs = x + (s * q->C + c) * HW + off;\n"
    "                    real *r = col + ((c * q->kh + i) * q->kw + j) * ld + s * P;\n"
    "                    for (long oh = 0; oh < q->OH; oh++) {\n"
    "                        const long ih = oh * q->sh - q->pt + i * q->dh;\n"
    "                        real *ro = r + oh * q->OW;\n"
    "                        if (ih < 0 || ih >= q->H) {\n"
    "                            for (long ow = 0; ow < q->OW; ow++) ro[ow] = 0;\n"
    "                            continue;\n"
    "                        }\n"
    "                        const real *xr = xs + ih * q->W;\n"
    "                        for (long ow = 0; ow < lo; ow++) ro[ow] = 0;\n"
    "                        if (q->sw == 1)\n"
    "                            for (long ow = lo; ow < hi; ow++) ro[ow] = xr[ow];\n"
    "                        else\n"
    "                            for (long ow = lo; ow < hi; ow++) ro[ow] = xr[ow * q->sw];\n"
    "                        for (long ow = hi; ow < q->OW; ow++) ro[ow] = 0;\n"
    "                    }\n"
    "                }\n"
    "            }\n"
    "}\n\n";

static const char conv_forward[] =
    "/* y [n, O, OH, OW] = conv2d(x [n, C, H, W], w [O, C/groups, kh, kw]) + bias (or NULL), S\n"
    " * samples per GEMM: col [C kh kw, S P], then the product t [O, S P] */\n"
    "static void dlc_conv_forward(const dlc_conv *q, long n, const real *x, const real *w,\n"
    "                             const real *bias, real *y, real *col) {\n"
    "    const long P = q->OH * q->OW, Og = q->O / q->groups, K = q->C / q->groups * q->kh * q->kw;\n"
    "    real *t = col + q->C * q->kh * q->kw * q->S * P;\n"
    "    for (long s0 = 0; s0 < n; s0 += q->S) {\n"
    "        const long m = n - s0 < q->S ? n - s0 : q->S, ld = m * P;\n"
    "        dlc_im2col(q, m, x + s0 * q->C * q->H * q->W, col);\n"
    "        for (long g = 0; g < q->groups; g++)\n"
    "            dlc_gemm_ld(0, 0, Og, ld, K, w + g * Og * K, K, col + g * K * ld, ld, 0, t + g * Og * ld, ld);\n"
    "        for (long s = 0; s < m; s++)\n"
    "            for (long o = 0; o < q->O; o++) {\n"
    "                const real b = bias ? bias[o] : (real)0, *src = t + o * ld + s * P;\n"
    "                real *dst = y + ((s0 + s) * q->O + o) * P;\n"
    "                for (long p = 0; p < P; p++) dst[p] = src[p] + b;\n"
    "            }\n"
    "    }\n"
    "}\n\n";

static const char conv_input_grad[] =
    "/* dx [n, C, H, W] from dy [n, O, OH, OW]: dcol = w^T dy per group and chunk, added back\n"
    " * into dx by col2im */\n"
    "static void dlc_conv_input_grad(const dlc_conv *q, long n, const real *dy, const real *w,\n"
    "                                real *dx, real *col) {\n"
    "    const long P = q->OH * q->OW, Og = q->O / q->groups, K = q->C / q->groups * q->kh * q->kw;\n"
    "    const long HW = q->H * q->W;\n"
    "    real *t = col + q->C * q->kh * q->kw * q->S * P;\n"
    "    for (long s0 = 0; s0 < n; s0 += q->S) {\n"
    "        const long m = n - s0 < q->S ? n - s0 : q->S, ld = m * P;\n"
    "        real *xs = dx + s0 * q->C * HW;\n"
    "        dlc_conv_gather(q, m, dy + s0 * q->O * P, t);\n"
    "        for (long g = 0; g < q->groups; g++)\n"
    "            dlc_gemm_ld(1, 0, K, ld, Og, w + g * Og * K, K, t + g * Og * ld, ld, 0, col + g * K * ld, ld);\n"
    "        for (long i = 0; i < m * q->C * HW; i++) xs[i] = 0;\n"
    "        for (long c = 0; c < q->C; c++)\n"
    "            for (long i = 0; i < q->kh; i++)\n"
    "                for (long j = 0; j < q->kw; j++) {\n"
    "                    long lo, hi;\n"
    "                    const long off = j * q->dw - q->pl;\n"
    "                    dlc_conv_cols(q, off, &lo, &hi);\n"
    "                    for (long s = 0; s < m; s++) {\n"
    "                        const real *r = col + ((c * q->kh + i) * q->kw + j) * ld + s * P;\n"
    "                        real *xc = xs + (s * q->C + c) * HW + off;\n"
    "                        for (long oh = 0; oh < q->OH; oh++) {\n"
    "                            const long ih = oh * q->sh - q->pt + i * q->dh;\n"
    "                            if (ih < 0 || ih >= q->H) continue;\n"
    "                            real *xr = xc + ih * q->W;\n"
    "                            const real *ro = r + oh * q->OW;\n"
    "                            if (q->sw == 1)\n"
    "                                for (long ow = lo; ow < hi; ow++) xr[ow] += ro[ow];\n"
    "                            else\n"
    "                                for (long ow = lo; ow < hi; ow++) xr[ow * q->sw] += ro[ow];\n"
    "                        }\n"
    "                    }\n"
    "                }\n"
    "    }\n"
    "}\n\n";

static const char conv_weight_grad[] =
    "/* dw [O, C/groups, kh, kw] = dy col^T per group, summed over the chunks */\n"
    "static void dlc_conv_weight_grad(const dlc_conv *q, long n, const real *x, const real *dy,\n"
    "                                 real *dw, real *col) {\n"
    "    const long P = q->OH * q->OW, Og = q->O / q->groups, K = q->C / q->groups * q->kh * q->kw;\n"
    "    real *t = col + q->C * q->kh * q->kw * q->S * P;\n"
    "    for (long i = 0; i < q->O * K; i++) dw[i] = 0;\n"
    "    for (long s0 = 0; s0 < n; s0 += q->S) {\n"
    "        const long m = n - s0 < q->S ? n - s0 : q->S, ld = m * P;\n"
    "        dlc_im2col(q, m, x + s0 * q->C * q->H * q->W, col);\n"
    "        dlc_conv_gather(q, m, dy + s0 * q->O * P, t);\n"
    "        for (long g = 0; g < q->groups; g++)\n"
    "            dlc_gemm_ld(0, 1, Og, K, ld, t + g * Og * ld, ld, col + g * K * ld, ld, 1, dw + g * Og * K, K);\n"
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
    if (dx || dw) sb_puts(c->out, conv_gather);
    if (fwd) sb_puts(c->out, conv_forward);
    if (dx) sb_puts(c->out, conv_input_grad);
    if (dw) sb_puts(c->out, conv_weight_grad);
    if (has_op(g, IR_OP_conv2d_bias_grad)) sb_puts(c->out, conv_bias_grad);
}

/* the conv2d node whose geometry a node has: itself, or the forward node of a gradient op
 * (x is input 0 of conv2d and weight_grad, input 2 of input_grad; w is 1, 2, 1) */
static void geometry(const ir_graph *g, int id, const ir_shape **x, const ir_shape **w,
                     const ir_shape **y) {
    const ir_node *n = ir_get(g, id);
    const ir_shape *s[3];
    for (int i = 0; i < 3 && i < n->n_in; i++) s[i] = &ir_get(g, n->in[i])->shape;
    switch (n->op) {
    case IR_OP_conv2d_input_grad: *x = s[2], *w = s[1], *y = s[0]; return;
    case IR_OP_conv2d_weight_grad: *x = s[0], *w = s[2], *y = s[1]; return;
    default: *x = s[0], *w = s[1], *y = &n->shape; return;
    }
}

/* samples per chunk: the whole batch, unless its column buffer and product would pass
 * CHUNK_REALS (32 MB in f32); then as many as fit, at least one */
enum { CHUNK_REALS = 1 << 23 };
static long long chunk(const ir_shape *x, const ir_shape *w, const ir_shape *y, int64_t batch) {
    long long per_sample = (x->dims[1] * w->dims[2] * w->dims[3] + w->dims[0]) * y->dims[2] * y->dims[3];
    long long s = CHUNK_REALS / per_sample;
    return s < 1 ? 1 : s > batch ? batch : s;
}

int64_t cg_c_workspace_reals(const ir_graph *g, int id, int64_t batch) {
    ir_op op = ir_get(g, id)->op;
    if (op != IR_OP_conv2d && op != IR_OP_conv2d_input_grad && op != IR_OP_conv2d_weight_grad)
        return 0;
    const ir_shape *x, *w, *y;
    geometry(g, id, &x, &w, &y);
    long long per_sample = (x->dims[1] * w->dims[2] * w->dims[3] + w->dims[0]) * y->dims[2] * y->dims[3];
    return chunk(x, w, y, batch) * per_sample;
}

/* `static const dlc_conv q = {...};` for node id */
static void declare_geometry(cg_c *c, int id) {
    const ir_shape *x, *w, *y;
    geometry(c->g, id, &x, &w, &y);
    const int64_t *a = cg_c_node(c, id)->iattr;
    sb_printf(c->out, "    {\n        static const dlc_conv q = {%lld, %lld, %lld, %lld, %lld, %lld, "
                      "%lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld};\n",
              (long long)x->dims[1], (long long)x->dims[2], (long long)x->dims[3],
              (long long)w->dims[0], (long long)w->dims[2], (long long)w->dims[3],
              (long long)y->dims[2], (long long)y->dims[3], (long long)a[0], (long long)a[1],
              (long long)a[2], (long long)a[3], (long long)a[6], (long long)a[7], (long long)a[8],
              chunk(x, w, y, x->dims[0]));
}

/* node id's column buffer: its workspace in the memory plan */
static const char *col(cg_c *c, int id) {
    return arena_printf(c->a, "(real *)(A + %lld)", (long long)memplan_workspace_offset(c->fn, id));
}

void emit_conv2d(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    const ir_node *n = cg_c_node(c, id);
    declare_geometry(c, id);
    const char *bias = n->n_in == 3 ? arena_printf(c->a, "t%d", n->in[2]) : "NULL";
    sb_printf(c->out, "        dlc_conv_forward(&q, n, t%d, t%d, %s, t%d, %s);\n    }\n", n->in[0],
              n->in[1], bias, id, col(c, id));
}

/* a gradient op: `fn`(geometry, n, input 0, input 1, result, column scratch) */
static void emit_grad_call(cg_c *c, int id, const char *fn) {
    const ir_node *n = cg_c_node(c, id);
    declare_geometry(c, id);
    sb_printf(c->out, "        %s(&q, n, t%d, t%d, t%d, %s);\n    }\n", fn, n->in[0], n->in[1], id,
              col(c, id));
}

void emit_conv2d_input_grad(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    emit_grad_call(c, id, "dlc_conv_input_grad");
}

void emit_conv2d_weight_grad(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    emit_grad_call(c, id, "dlc_conv_weight_grad");
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
