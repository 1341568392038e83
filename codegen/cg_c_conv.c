/*
 * cg_c_conv.c — the C backend's convolution: conv2d and its gradient ops, and the support
 * functions they call (emitted into the generated file only when used: unused statics warn).
 *
 * Every sample's image is contiguous in NCHW, so the work goes one sample at a time, samples
 * spread over the threads (OpenMP, when the C is compiled with it; each thread calls the GEMM
 * on its own, see dlc_gemm_ld). With K = C/groups kh kw column rows per group and P = OH OW
 * pixels, per sample s and group g:
 *   forward        y_s,g [O/groups, P] = w_g [O/groups, K] col_s,g [K, P], written straight
 *                  into y (already NCHW), then the bias added;
 *   input grad     dcol_s,g = w_g^T dy_s,g, added back into dx_s by col2im;
 *   weight grad    dw_g += dy_s,g col_s,g^T, the threads splitting the rows of col (columns of
 *                  dw), so each element of dw is summed by one thread in sample order.
 * No value's order of summation depends on the number of threads (beyond the BLAS's own
 * blocking of one product). Each thread has its own slice of the node's workspace in the
 * arena (cg_c_workspace_reals sizes it, the memory planner places it; S in dlc_conv counts
 * the slices); nothing is allocated in the step.
 */
#include "cg_c_internal.h"

static const char conv_common[] =
    "/* one convolution's geometry (torch.nn.Conv2d's arguments, per-side padding) and S, the\n"
    " * threads it may use (each has its own slice of the scratch) */\n"
    "typedef struct dlc_conv {\n"
    "    long C, H, W, O, kh, kw, OH, OW, sh, sw, pt, pl, dh, dw, groups, S;\n"
    "} dlc_conv;\n\n"
    "#if defined(_OPENMP)\n"
    "/* threads for `items` independent items of `work` multiply-adds each: at most `limit` and\n"
    " * the OpenMP threads, one when the whole is too small to pay for waking them */\n"
    "static long dlc_team(long limit, long items, long work) {\n"
    "    long t = omp_get_max_threads();\n"
    "    if (t > limit) t = limit;\n"
    "    if (t > items) t = items;\n"
    "    if ((double)items * work < DLC_PARALLEL_MIN_WORK) t = 1;\n"
    "    return t < 1 ? 1 : t;\n"
    "}\n"
    "#define DLC_PARALLEL_TEAM(t) DLC_PRAGMA(omp parallel for schedule(static) num_threads(t))\n"
    "#define DLC_THREAD ((long)omp_get_thread_num())\n"
    "#else\n"
    "#define dlc_team(limit, items, work) 1L\n"
    "#define DLC_PARALLEL_TEAM(t)\n"
    "#define DLC_THREAD 0L\n"
    "#endif\n\n";

static const char conv_cols[] =
    "/* the output columns [lo, hi) whose input column ow sw + off lies inside the image */\n"
    "static void dlc_conv_cols(const dlc_conv *q, long off, long *lo, long *hi) {\n"
    "    *lo = off >= 0 ? 0 : (-off + q->sw - 1) / q->sw;\n"
    "    *hi = q->W - 1 - off < 0 ? 0 : (q->W - 1 - off) / q->sw + 1;\n"
    "    if (*lo > q->OW) *lo = q->OW;\n"
    "    if (*hi > q->OW) *hi = q->OW;\n"
    "    if (*hi < *lo) *hi = *lo;\n"
    "}\n\n";

static const char conv_im2col[] =
    "/* rows [r0, r1) of the columns col [C kh kw, OH OW] of one sample x [C, H, W]: row\n"
    " * (c, i, j), column (oh, ow) holds x[c, oh sh - pt + i dh, ow sw - pl + j dw], 0 outside\n"
    " * the image */\n"
    "static void dlc_im2col(const dlc_conv *q, const real *x, long r0, long r1, real *col) {\n"
    "    const long P = q->OH * q->OW, HW = q->H * q->W;\n"
    "    for (long r = r0; r < r1; r++) {\n"
    "        const long c = r / (q->kh * q->kw), i = r / q->kw % q->kh, j = r % q->kw;\n"
    "        const long off = j * q->dw - q->pl;\n"
    "        long lo, hi;\n"
    "        dlc_conv_cols(q, off, &lo, &hi);\n"
    "        const real *xc = x + c * HW + off;\n"
    "        for (long oh = 0; oh < q->OH; oh++) {\n"
    "            const long ih = oh * q->sh - q->pt + i * q->dh;\n"
    "            real *ro = col + r * P + oh * q->OW;\n"
    "            if (ih < 0 || ih >= q->H) {\n"
    "                for (long ow = 0; ow < q->OW; ow++) ro[ow] = 0;\n"
    "                continue;\n"
    "            }\n"
    "            const real *xr = xc + ih * q->W;\n"
    "            for (long ow = 0; ow < lo; ow++) ro[ow] = 0;\n"
    "            if (q->sw == 1)\n"
    "                for (long ow = lo; ow < hi; ow++) ro[ow] = xr[ow];\n"
    "            else\n"
    "                for (long ow = lo; ow < hi; ow++) ro[ow] = xr[ow * q->sw];\n"
    "            for (long ow = hi; ow < q->OW; ow++) ro[ow] = 0;\n"
    "        }\n"
    "    }\n"
    "}\n\n";

static const char conv_forward[] =
    "/* y [n, O, OH, OW] = conv2d(x [n, C, H, W], w [O, C/groups, kh, kw]) + bias (or NULL): per\n"
    " * sample, its columns [C kh kw, P] in the thread's slice of col, then one GEMM per group\n"
    " * writing y's sample */\n"
    "static void dlc_conv_forward(const dlc_conv *q, long n, const real *x, const real *w,\n"
    "                             const real *bias, real *y, real *col) {\n"
    "    const long P = q->OH * q->OW, Og = q->O / q->groups, K = q->C / q->groups * q->kh * q->kw;\n"
    "    dlc_blas_serial();\n"
    "    DLC_PARALLEL_TEAM(dlc_team(q->S, n, q->O * K * P))\n"
    "    for (long s = 0; s < n; s++) {\n"
    "        real *cs = col + DLC_THREAD * q->groups * K * P, *ys = y + s * q->O * P;\n"
    "        dlc_im2col(q, x + s * q->C * q->H * q->W, 0, q->groups * K, cs);\n"
    "        for (long g = 0; g < q->groups; g++)\n"
    "            dlc_gemm_ld(0, 0, Og, P, K, w + g * Og * K, K, cs + g * K * P, P, 0, ys + g * Og * P, P);\n"
    "        if (bias)\n"
    "            for (long o = 0; o < q->O; o++)\n"
    "                for (long p = 0; p < P; p++) ys[o * P + p] += bias[o];\n"
    "    }\n"
    "}\n\n";

static const char conv_col2im[] =
    "/* adds the columns col [C kh kw, OH OW] of one sample back into its image x [C, H, W] */\n"
    "static void dlc_col2im(const dlc_conv *q, const real *col, real *x) {\n"
    "    const long P = q->OH * q->OW, HW = q->H * q->W;\n"
    "    for (long r = 0; r < q->C * q->kh * q->kw; r++) {\n"
    "        const long c = r / (q->kh * q->kw), i = r / q->kw % q->kh, j = r % q->kw;\n"
    "        const long off = j * q->dw - q->pl;\n"
    "        long lo, hi;\n"
    "        dlc_conv_cols(q, off, &lo, &hi);\n"
    "        real *xc = x + c * HW + off;\n"
    "        for (long oh = 0; oh < q->OH; oh++) {\n"
    "            const long ih = oh * q->sh - q->pt + i * q->dh;\n"
    "            if (ih < 0 || ih >= q->H) continue;\n"
    "            real *xr = xc + ih * q->W;\n"
    "            const real *ro = col + r * P + oh * q->OW;\n"
    "            if (q->sw == 1)\n"
    "                for (long ow = lo; ow < hi; ow++) xr[ow] += ro[ow];\n"
    "            else\n"
    "                for (long ow = lo; ow < hi; ow++) xr[ow * q->sw] += ro[ow];\n"
    "        }\n"
    "    }\n"
    "}\n\n";

static const char conv_input_grad[] =
    "/* dx [n, C, H, W] from dy [n, O, OH, OW]: per sample, dcol = w^T dy per group in the\n"
    " * thread's slice of col, added back into dx by col2im */\n"
    "static void dlc_conv_input_grad(const dlc_conv *q, long n, const real *dy, const real *w,\n"
    "                                real *dx, real *col) {\n"
    "    const long P = q->OH * q->OW, Og = q->O / q->groups, K = q->C / q->groups * q->kh * q->kw;\n"
    "    const long CHW = q->C * q->H * q->W;\n"
    "    dlc_blas_serial();\n"
    "    DLC_PARALLEL_TEAM(dlc_team(q->S, n, q->O * K * P))\n"
    "    for (long s = 0; s < n; s++) {\n"
    "        real *cs = col + DLC_THREAD * q->groups * K * P, *xs = dx + s * CHW;\n"
    "        const real *dys = dy + s * q->O * P;\n"
    "        for (long g = 0; g < q->groups; g++)\n"
    "            dlc_gemm_ld(1, 0, K, P, Og, w + g * Og * K, K, dys + g * Og * P, P, 0, cs + g * K * P, P);\n"
    "        for (long i = 0; i < CHW; i++) xs[i] = 0;\n"
    "        dlc_col2im(q, cs, xs);\n"
    "    }\n"
    "}\n\n";

static const char conv_weight_grad[] =
    "/* dw [O, C/groups, kh, kw] = sum over samples of dy col^T per group: the threads split the\n"
    " * rows of the columns (one sample's, in col) and each adds its rows' part of dw per sample */\n"
    "static void dlc_conv_weight_grad(const dlc_conv *q, long n, const real *x, const real *dy,\n"
    "                                 real *dw, real *col) {\n"
    "    const long P = q->OH * q->OW, Og = q->O / q->groups, K = q->C / q->groups * q->kh * q->kw;\n"
    "    const long rows = q->groups * K, parts = dlc_team(q->S, rows, n * q->O * P);\n"
    "    dlc_blas_serial();\n"
    "    for (long i = 0; i < q->O * K; i++) dw[i] = 0;\n"
    "    DLC_PARALLEL_TEAM(parts)\n"
    "    for (long b = 0; b < parts; b++) {\n"
    "        const long r0 = rows * b / parts, r1 = rows * (b + 1) / parts;\n"
    "        for (long s = 0; s < n; s++) {\n"
    "            const real *dys = dy + s * q->O * P;\n"
    "            dlc_im2col(q, x + s * q->C * q->H * q->W, r0, r1, col);\n"
    "            for (long g = 0; g < q->groups; g++) {\n"
    "                const long a = r0 > g * K ? r0 : g * K, e = r1 < (g + 1) * K ? r1 : (g + 1) * K;\n"
    "                if (a < e)\n"
    "                    dlc_gemm_ld(0, 1, Og, e - a, P, dys + g * Og * P, P, col + a * P, P, 1,\n"
    "                                dw + g * Og * K + a - g * K, K);\n"
    "            }\n"
    "        }\n"
    "    }\n"
    "}\n\n";

static const char conv_bias_grad[] =
    "/* db [O] = dy [n, O, P] summed over samples and pixels, in double (8 partial sums, so the\n"
    " * loop vectorizes), one channel per item */\n"
    "static void dlc_conv_bias_grad(long n, long O, long P, const real *dy, real *db) {\n"
    "    DLC_PARALLEL_FOR(n * O * P)\n"
    "    for (long o = 0; o < O; o++) {\n"
    "        double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, t = 0;\n"
    "        for (long s = 0; s < n; s++) {\n"
    "            const real *d = dy + (s * O + o) * P;\n"
    "            long p = 0;\n"
    "            for (; p + 8 <= P; p += 8)\n"
    "                for (int l = 0; l < 8; l++) acc[l] += d[p + l];\n"
    "            for (; p < P; p++) acc[p % 8] += d[p];\n"
    "        }\n"
    "        for (int l = 0; l < 8; l++) t += acc[l];\n"
    "        db[o] = (real)t;\n"
    "    }\n"
    "}\n\n";

/* Scratch: at most MAX_THREADS slices, and no more than fit in SCRATCH_REALS (32 MB in f32)
 * unless one slice is larger. */
enum { MAX_THREADS = 32, SCRATCH_REALS = 1 << 23 };

/* what node id runs: its kind, the slices (S) of its scratch and their reals, and reals
 * shared by all threads before them */
typedef enum { CONV_NONE, CONV_FORWARD, CONV_INPUT_GRAD, CONV_WEIGHT_GRAD } conv_kind;
typedef struct conv_plan {
    conv_kind kind;     /* the support function it calls */
    long long slices;   /* threads it may use, each with its own slice (S in dlc_conv) */
    long long slice;    /* reals per slice */
    long long shared;   /* reals before the slices, shared by the threads */
} conv_plan;

/* up to `items` slices of `slice` reals (never more than MAX_THREADS, nor past SCRATCH_REALS
 * unless one slice is already larger) */
static long long slices(long long items, long long slice) {
    long long s = slice > 0 ? SCRATCH_REALS / slice : MAX_THREADS;
    if (s > MAX_THREADS) s = MAX_THREADS;
    if (s > items) s = items;
    return s < 1 ? 1 : s;
}

/* node id at batch size `batch` */
static conv_plan plan(const ir_graph *g, int id, int64_t batch) {
    conv_plan p = {CONV_NONE, 1, 0, 0};
    const ir_node *n = ir_get(g, id);
    if (n->op != IR_OP_conv2d && n->op != IR_OP_conv2d_input_grad && n->op != IR_OP_conv2d_weight_grad)
        return p;
    cg_conv_geom q = cg_conv_geometry(g, id); /* of itself, or of a gradient op's forward node */
    long long cols = q.CKK, P = q.P;
    if (n->op == IR_OP_conv2d || n->op == IR_OP_conv2d_input_grad) {
        p.kind = n->op == IR_OP_conv2d ? CONV_FORWARD : CONV_INPUT_GRAD, p.slice = cols * P;
        p.slices = slices(batch, p.slice);
    } else { /* the threads share one sample's columns, each filling its own rows */
        p.kind = CONV_WEIGHT_GRAD, p.slices = slices(cols, 0), p.shared = cols * P;
    }
    return p;
}

void cg_c_conv_prelude(cg_ctx *c) {
    int used[CONV_WEIGHT_GRAD + 1] = {0}, any = 0;
    for (int id = 0; id < c->g->n_nodes; id++) used[plan(c->g, id, 1).kind] = 1;
    for (int k = CONV_FORWARD; k <= CONV_WEIGHT_GRAD; k++) any |= used[k];
    if (any) sb_puts(c->out, conv_common), sb_puts(c->out, conv_cols);
    if (used[CONV_FORWARD] || used[CONV_WEIGHT_GRAD]) sb_puts(c->out, conv_im2col);
    if (used[CONV_FORWARD]) sb_puts(c->out, conv_forward);
    if (used[CONV_INPUT_GRAD]) sb_puts(c->out, conv_col2im), sb_puts(c->out, conv_input_grad);
    if (used[CONV_WEIGHT_GRAD]) sb_puts(c->out, conv_weight_grad);
    for (int id = 0; id < c->g->n_nodes; id++)
        if (c->g->nodes[id].op == IR_OP_conv2d_bias_grad) {
            sb_puts(c->out, conv_bias_grad);
            break;
        }
}

int64_t cg_c_workspace_reals(const ir_graph *g, int id, int64_t batch) {
    conv_plan p = plan(g, id, batch);
    return p.shared + p.slices * p.slice;
}

/* `static const dlc_conv q = {...};` for node id */
static void declare_geometry(cg_ctx *c, int id) {
    cg_conv_geom q = cg_conv_geometry(c->g, id);
    sb_printf(c->out, "    {\n        static const dlc_conv q = {%lld, %lld, %lld, %lld, %lld, %lld, "
                      "%lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld};\n",
              q.C, q.H, q.W, q.O, q.kh, q.kw, q.OH, q.OW, q.sh, q.sw, q.pt, q.pl, q.dh, q.dw, q.groups,
              plan(c->g, id, q.B).slices);
}

/* node id's scratch: its workspace in the memory plan */
static const char *col(cg_ctx *c, int id) {
    return arena_printf(c->a, "(real *)(A + %lld)", (long long)pass_memplan_workspace_offset(c->fn, id));
}

void cg_c_emit_conv2d(cg_ctx *c, int id) {
    const ir_node *n = cg_node(c, id);
    declare_geometry(c, id);
    const char *bias = n->n_in == 3 ? arena_printf(c->a, "t%d", n->in[2]) : "NULL";
    sb_printf(c->out, "        dlc_conv_forward(&q, n, t%d, t%d, %s, t%d, %s);\n    }\n", n->in[0],
              n->in[1], bias, id, col(c, id));
}

/* a gradient op: `fn`(geometry, n, input 0, input 1, result, scratch) */
static void emit_grad_call(cg_ctx *c, int id, const char *fn) {
    const ir_node *n = cg_node(c, id);
    declare_geometry(c, id);
    sb_printf(c->out, "        %s(&q, n, t%d, t%d, t%d, %s);\n    }\n", fn, n->in[0], n->in[1], id,
              col(c, id));
}

void cg_c_emit_conv2d_input_grad(cg_ctx *c, int id) {
    emit_grad_call(c, id, "dlc_conv_input_grad");
}

void cg_c_emit_conv2d_weight_grad(cg_ctx *c, int id) {
    emit_grad_call(c, id, "dlc_conv_weight_grad");
}

void cg_c_emit_conv2d_bias_grad(cg_ctx *c, int id) {
    const ir_shape *dy = &cg_node(c, cg_node(c, id)->in[0])->shape;
    sb_printf(c->out, "    dlc_conv_bias_grad(n, %lld, %lld, t%d, t%d);\n", (long long)dy->dims[1],
              (long long)(dy->dims[2] * dy->dims[3]), cg_node(c, id)->in[0], id);
}
