/*
 * cg_cuda_nn.c — CUDA emitters for pooling, concatenation, batchnorm and convolution (listed in
 * the op table of cg_cuda_ops.c), mirroring cg_c_pool.c, cg_c_ops.c and cg_c_conv.c.
 *
 * Pooling: one thread per output pixel; the gradients gather instead of scatter (one thread per
 * input pixel, visiting the windows that hold it in the order the C loop adds them, so each
 * sum is the CPU's, term for term). Batchnorm: one block per channel, its sums in double by
 * dlc_block_sum. Convolution: im2col over the whole batch into the node's workspace (columns
 * [C kh kw, n P], then the product [O, n P]), one cuBLAS GEMM per group, then a scatter (with
 * the bias) into [n, O, OH, OW]; the input gradient's col2im gathers too. No float atomics:
 * every result is reproducible.
 */
#include "cg_cuda_internal.h"

#define OUT c->x.out


static void close_launch(cg_cu *c, int id, const char *k, dlrt_cuda_lin work) {
    cg_cu_kernel_close(c);
    cg_cu_launch(c, id, k, work, CU_BLOCK, CU_MAX_BLOCKS);
}

/* ---- pooling ---- */

/* the planes of a pooling node's input (batch x channels) as a function of n, and as text */
static dlrt_cuda_lin pool_planes(cg_cu *c, const cg_pool_geom *p) {
    dlrt_cuda_lin cnt = cg_cu_count_lin(&cg_cu_node(c, p->x)->shape);
    return cg_cu_lin(cnt.a / (p->H * p->W), cnt.b / (p->H * p->W));
}
static const char *pool_nplanes(cg_cu *c, const cg_pool_geom *p) {
    return arena_printf(c->x.a, "(%s / %lld)", cg_cu_count(c, &cg_cu_node(c, p->x)->shape), p->H * p->W);
}

static dlrt_cuda_lin scale(dlrt_cuda_lin l, long long k) { return cg_cu_lin(l.a * k, l.b * k); }

/* the window of output pixel (oh, ow) clipped to the image: rows [hs, he), columns [ws, we) */
static const char *window(cg_cu *c, const cg_pool_geom *p, const char *ind) {
    return arena_printf(c->x.a,
        "%s const long h0 = oh * %lld - %lld, hs = h0 > 0 ? h0 : 0;\n"
        "%s const long he = h0 + %lld < %lld ? h0 + %lld : %lld;\n"
        "%s const long w0 = ow * %lld - %lld, ws = w0 > 0 ? w0 : 0;\n"
        "%s const long we = w0 + %lld < %lld ? w0 + %lld : %lld;\n",
        ind, p->S, p->P, ind, p->K, p->H, p->K, p->H, ind, p->S, p->P, ind, p->K, p->W, p->K, p->W);
}

/* the first maximum of the window of xp: m and its index arg (a NaN wins, as torch) */
static const char *window_max(cg_cu *c, const cg_pool_geom *p, const char *ind) {
    return arena_printf(c->x.a,
        "%s real m = -DLC_INF;\n"
        "%s long arg = hs * %lld + ws;\n"
        "%s for (long h = hs; h < he; h++)\n"
        "%s     for (long w = ws; w < we; w++) {\n"
        "%s         const long j = h * %lld + w;\n"
        "%s         if (xp[j] > m || isnan(xp[j])) { m = xp[j]; arg = j; }\n"
        "%s     }\n", ind, ind, p->W, ind, ind, ind, p->W, ind, ind);
}

/* a thread per output pixel q: plane p, pixel (oh, ow) */
static void open_outputs(cg_cu *c, const cg_pool_geom *p) {
    sb_printf(OUT, "    DLC_FOR(q, %s * %lld) {\n"
                   "        const long p = q / %lld, oh = q %% %lld / %lld, ow = q %% %lld;\n"
                   "        const real *xp = t%d + p * %lld;\n%s",
              pool_nplanes(c, p), p->OH * p->OW, p->OH * p->OW, p->OH * p->OW, p->OW, p->OW, p->x,
              p->H * p->W, window(c, p, "       "));
}

void cg_cu_emit_max_pool2d(cg_cu *c, int id) {
    cg_pool_geom p = cg_pool_geometry(c->x.g, id);
    const char *k = cg_cu_kernel_open_node(c, id);
    open_outputs(c, &p);
    sb_printf(OUT, "%s        (void)arg;\n        t%d[q] = m;\n    }\n", window_max(c, &p, "       "), id);
    close_launch(c, id, k, scale(pool_planes(c, &p), p.OH * p.OW));
}

void cg_cu_emit_avg_pool2d(cg_cu *c, int id) {
    cg_pool_geom p = cg_pool_geometry(c->x.g, id);
    const char *k = cg_cu_kernel_open_node(c, id);
    open_outputs(c, &p);
    sb_printf(OUT, "        double s = 0;\n"
                   "        for (long h = hs; h < he; h++)\n"
                   "            for (long w = ws; w < we; w++) s += xp[h * %lld + w];\n"
                   "        t%d[q] = (real)(s / %lld);\n    }\n", p.W, id, p.K * p.K);
    close_launch(c, id, k, scale(pool_planes(c, &p), p.OH * p.OW));
}

/* a thread per input pixel q (plane p, index jq = (h, w) in it) visiting the windows that hold
 * it in the C loop's order (oh, then ow); `body` runs per window with dyp[o] its gradient */
static void gather_windows(cg_cu *c, int id, const cg_pool_geom *p, const char *body) {
    const char *k = cg_cu_kernel_open_node(c, id);
    sb_printf(OUT, "    DLC_FOR(q, %s * %lld) {\n"
                   "        const long p = q / %lld, jq = q %% %lld, hq = jq / %lld, wq = jq %% %lld;\n"
                   "        const real *xp = t%d + p * %lld;\n"
                   "        const real *dyp = t%d + p * %lld;\n"
                   "        (void)xp;\n"
                   "        real acc = 0;\n"
                   "        const long ohl = hq + %lld - %lld + 1 > 0 ? (hq + %lld - %lld + %lld) / %lld : 0;\n"
                   "        const long owl = wq + %lld - %lld + 1 > 0 ? (wq + %lld - %lld + %lld) / %lld : 0;\n"
                   "        for (long oh = ohl; oh < %lld && oh * %lld - %lld <= hq; oh++)\n"
                   "            for (long ow = owl; ow < %lld && ow * %lld - %lld <= wq; ow++) {\n"
                   "                const long o = oh * %lld + ow;\n%s%s"
                   "            }\n"
                   "        t%d[q] = acc;\n"
                   "    }\n",
              pool_nplanes(c, p), p->H * p->W, p->H * p->W, p->H * p->W, p->W, p->W, p->x, p->H * p->W,
              cg_cu_in(c, id, 1), p->OH * p->OW,
              p->P, p->K, p->P, p->K, p->S, p->S, p->P, p->K, p->P, p->K, p->S, p->S,
              p->OH, p->S, p->P, p->OW, p->S, p->P, p->OW, window(c, p, "               "), body, id);
    close_launch(c, id, k, scale(pool_planes(c, p), p->H * p->W));
}

void cg_cu_emit_max_pool2d_grad(cg_cu *c, int id) {
    cg_pool_geom p = cg_pool_geometry(c->x.g, id);
    gather_windows(c, id, &p, arena_printf(c->x.a, "%s"
                   "                if (arg == jq) acc += dyp[o];\n", window_max(c, &p, "               ")));
}

void cg_cu_emit_avg_pool2d_grad(cg_cu *c, int id) {
    cg_pool_geom p = cg_pool_geometry(c->x.g, id);
    gather_windows(c, id, &p, arena_printf(c->x.a,
                   "                (void)he, (void)we;\n"
                   "                const real g = dyp[o] / (real)%lld;\n"
                   "                acc += g;\n", p.K * p.K));
}

/* planes of x (input 0 of node id) and their size */
static const char *planes_of(cg_cu *c, int id, long long *hw, dlrt_cuda_lin *planes) {
    const ir_shape *xs = &cg_cu_in_node(c, id, 0)->shape;
    *hw = xs->dims[2] * xs->dims[3];
    dlrt_cuda_lin cnt = cg_cu_count_lin(xs);
    *planes = cg_cu_lin(cnt.a / *hw, cnt.b / *hw);
    return arena_printf(c->x.a, "(%s / %lld)", cg_cu_count(c, xs), *hw);
}

void cg_cu_emit_global_avg_pool(cg_cu *c, int id) {
    long long hw;
    dlrt_cuda_lin planes;
    const char *np = planes_of(c, id, &hw, &planes);
    const char *k = cg_cu_kernel_open_node(c, id);
    sb_printf(OUT, "    DLC_FOR(p, %s) {\n"
                   "        const real *xp = t%d + p * %lld;\n"
                   "        double s = 0;\n"
                   "        for (long j = 0; j < %lld; j++) s += xp[j];\n"
                   "        t%d[p] = (real)(s / %lld);\n"
                   "    }\n",
              np, cg_cu_in(c, id, 0), hw, hw, id, hw);
    close_launch(c, id, k, planes);
}

void cg_cu_emit_global_avg_pool_grad(cg_cu *c, int id) {
    long long hw;
    dlrt_cuda_lin planes;
    const char *np = planes_of(c, id, &hw, &planes);
    const char *k = cg_cu_kernel_open_node(c, id);
    sb_printf(OUT, "    DLC_FOR(q, %s * %lld) {\n"
                   "        const real g = t%d[q / %lld] / (real)%lld;\n"
                   "        t%d[q] = g;\n"
                   "    }\n",
              np, hw, cg_cu_in(c, id, 1), hw, hw, id);
    close_launch(c, id, k, scale(planes, hw));
}

/* ---- concatenation ---- */

static long long stretch(const ir_shape *s, int axis) {
    long long len = 1;
    for (int i = axis; i < s->rank; i++) len *= s->dims[i];
    return len;
}

void cg_cu_emit_concat(cg_cu *c, int id) {
    const ir_node *n = cg_cu_node(c, id);
    int axis = (int)ir_concat_axis(n);
    long long total = stretch(&n->shape, axis), offset = 0;
    const char *k = cg_cu_kernel_open_node(c, id);
    sb_printf(OUT, "    DLC_FOR(q, %s) {\n"
                   "        const long r = q / %lld, j = q %% %lld;\n",
              cg_cu_count(c, &n->shape), total, total);
    for (int i = 0; i < n->n_in; i++) {
        long long len = stretch(&cg_cu_node(c, n->in[i])->shape, axis);
        sb_printf(OUT, "        %sif (j < %lld) t%d[q] = t%d[r * %lld + j - %lld];\n", i ? "else " : "",
                  offset + len, id, n->in[i], len, offset);
        offset += len;
    }
    sb_puts(OUT, "    }\n");
    close_launch(c, id, k, cg_cu_count_lin(&n->shape));
}

void cg_cu_emit_slice(cg_cu *c, int id) {
    const ir_node *n = cg_cu_node(c, id), *src = cg_cu_node(c, n->in[0]);
    int axis = (int)ir_slice_axis(n);
    long long len = stretch(&n->shape, axis), total = stretch(&src->shape, axis);
    long long offset = ir_slice_start(n) * (len / ir_slice_length(n));
    const char *k = cg_cu_kernel_open_node(c, id);
    sb_printf(OUT, "    DLC_FOR(q, %s) t%d[q] = t%d[q / %lld * %lld + %lld + q %% %lld];\n",
              cg_cu_count(c, &n->shape), id, n->in[0], len, total, offset, len);
    close_launch(c, id, k, cg_cu_count_lin(&n->shape));
}

/* ---- batchnorm: channel c of x [B, C] or [B, C, H, W] is B runs of `inner` values ---- */

/* a block per channel c: cnt, and (with stats) mean and invstd in double; the block's threads
 * share the channel's values: DLC_CHANNEL(k) visits their indices k */
static const char *open_channels(cg_cu *c, int id, const cg_bn_geom *g, int stats, double eps) {
    const char *k = cg_cu_kernel_open_node(c, id);
    sb_printf(OUT, "    for (long c = blockIdx.x; c < %lld; c += gridDim.x) {\n"
                   "        const double cnt = (double)%s * %lld;\n",
              g->C, g->outer, g->inner);
    if (stats >= 0)
        sb_printf(OUT, "%s        (void)cnt, (void)invstd;\n", cg_bn_mean_invstd(&c->x, g, stats, eps));
    return k;
}

/* the channel loop over its values: `stmt` with k the index in x-shaped buffers */
static void channel_loop(cg_cu *c, const cg_bn_geom *g, const char *stmt) {
    sb_printf(OUT, "        DLC_BLOCK_FOR(e, (long)%s * %lld) {\n"
                   "            const long k = (e / %lld * %lld + c) * %lld + e %% %lld;\n"
                   "            %s\n"
                   "        }\n",
              g->outer, g->inner, g->inner, g->C, g->inner, g->inner, stmt);
}

static void close_channels(cg_cu *c, int id, const char *k, const cg_bn_geom *g) {
    sb_puts(OUT, "    }\n");
    cg_cu_kernel_close(c);
    cg_cu_launch(c, id, k, cg_cu_lin(0, g->C * CU_BLOCK), CU_BLOCK, CU_MAX_BLOCKS);
}

void cg_cu_emit_batchnorm_stats(cg_cu *c, int id) {
    int x = cg_cu_in(c, id, 0);
    cg_bn_geom g = cg_bn_geometry(&c->x, x);
    if (!c->x.train && !c->o->batch_stats) { /* the running statistics */
        const char *k = cg_cu_kernel_open_node(c, id);
        sb_printf(OUT, "    DLC_FOR(c, %lld) {\n%s    }\n", g.C, cg_bn_running_stats(&c->x, id, &g));
        close_launch(c, id, k, cg_cu_lin(0, g.C));
        return;
    }
    const char *k = open_channels(c, id, &g, -1, 0);
    sb_puts(OUT, "        double s = 0, v = 0;\n");
    channel_loop(c, &g, arena_printf(c->x.a, "s += t%d[k];", x));
    sb_puts(OUT, "        s = dlc_block_sum(s);\n        const double mean = s / cnt;\n");
    channel_loop(c, &g, arena_printf(c->x.a, "v += (t%d[k] - mean) * (t%d[k] - mean);", x, x));
    sb_printf(OUT, "        v = dlc_block_sum(v);\n"
                   "        if (threadIdx.x == 0) {\n"
                   "            t%d[c] = (real)mean;\n            t%d[%lld + c] = (real)(v / cnt);\n"
                   "        }\n", id, id, g.C);
    close_channels(c, id, k, &g);
}

/* y = x * alpha + shift per element (torch's CPU form, as the C backend) */
void cg_cu_emit_batchnorm(cg_cu *c, int id) {
    const ir_node *n = cg_cu_node(c, id);
    int x = n->in[0], st = n->in[1];
    cg_bn_geom g = cg_bn_geometry(&c->x, x);
    const char *k = cg_cu_kernel_open_node(c, id);
    sb_printf(OUT, "    DLC_FOR(k, (long)%s * %lld) {\n"
                   "        const long c = k / %lld %% %lld;\n%s",
              g.outer, g.C * g.inner, g.inner, g.C, cg_bn_mean_invstd(&c->x, &g, st, ir_bn_eps(n)));
    sb_puts(OUT, cg_bn_affine(&c->x, id));
    sb_printf(OUT, "        t%d[k] = t%d[k] * alpha + shift;\n    }\n", id, x);
    close_launch(c, id, k, cg_cu_count_lin(&cg_cu_node(c, x)->shape));
}

/* per channel: sdy = sum dy, dot = sum (x - mean) dy, in double, to every thread */
static void channel_sums(cg_cu *c, const cg_bn_geom *g, int x, int dy) {
    sb_puts(OUT, "        double sdy = 0, dot = 0;\n");
    channel_loop(c, g, arena_printf(c->x.a, "sdy += t%d[k]; dot += (t%d[k] - mean) * t%d[k];", dy, x, dy));
    sb_puts(OUT, "        sdy = dlc_block_sum(sdy);\n        dot = dlc_block_sum(dot);\n");
}

void cg_cu_emit_batchnorm_grad(cg_cu *c, int id) {
    const ir_node *n = cg_cu_node(c, id);
    int x = n->in[0], dy = n->in[2];
    cg_bn_geom g = cg_bn_geometry(&c->x, x);
    const char *k = open_channels(c, id, &g, n->in[1], ir_bn_eps(n));
    channel_sums(c, &g, x, dy);
    sb_puts(OUT, cg_bn_grad_setup(&c->x, id));
    channel_loop(c, &g, cg_bn_grad_value(&c->x, id));
    close_channels(c, id, k, &g);
}

void cg_cu_emit_batchnorm_param_grad(cg_cu *c, int id) {
    const ir_node *n = cg_cu_node(c, id);
    cg_bn_geom g = cg_bn_geometry(&c->x, n->in[0]);
    const char *k = open_channels(c, id, &g, n->in[1], ir_bn_eps(n));
    channel_sums(c, &g, n->in[0], n->in[2]);
    sb_printf(OUT, "        if (threadIdx.x == 0) t%d[c] = (real)%s;\n", id, cg_bn_param_grad_value(&c->x, id));
    close_channels(c, id, k, &g);
}

void cg_cu_emit_batchnorm_running(cg_cu *c, int id) {
    const ir_node *n = cg_cu_node(c, id);
    cg_bn_geom g = cg_bn_geometry(&c->x, n->in[2]);
    const char *k = cg_cu_kernel_open_node(c, id);
    sb_printf(OUT, "    const double cnt = (double)%s * %lld;\n"
                   "    DLC_FOR(c, %lld)\n"
                   "        t%d[c] = %s;\n",
              g.outer, g.inner, g.C, id, cg_bn_running_value(&c->x, id, &g));
    close_launch(c, id, k, cg_cu_lin(0, g.C));
}

/* ---- convolution: im2col + cuBLAS over the whole batch ---- */

/* the arena byte offsets of node id's columns [CKK, n P] and product [O, n P] */
static long long cols_at(cg_cu *c, int id) { return cg_cu_workspace_cols(c, id); }
static long long prod_at(cg_cu *c, int id, const cg_conv_geom *q) {
    return cols_at(c, id) + 4 * q->CKK * q->B * q->P;
}

static dlrt_cuda_ptr arena_at(long long a, long long b) {
    return (dlrt_cuda_ptr){DLRT_CUDA_ARENA, cg_cu_lin(a, b)};
}

/* columns of x (node xid): row (c, i, j), column (s, oh, ow) = x[s, c, oh sh - pt + i dh,
 * ow sw - pl + j dw], 0 outside the image (dlc_im2col) */
static void im2col(cg_cu *c, int id, int xid, const cg_conv_geom *q) {
    const char *k = cg_cu_kernel_open(c, &xid, 1);
    sb_printf(OUT, "    real *const col = (real *)(A + %lldLL);\n"
                   "    const long nP = (long)n * %lld;\n"
                   "    DLC_FOR(e, %lld * nP) {\n"
                   "        const long row = e / nP, s = e %% nP / %lld, p = e %% %lld;\n"
                   "        const long ch = row / %lld, i = row / %lld %% %lld, j = row %% %lld;\n"
                   "        const long ih = p / %lld * %lld - %lld + i * %lld, iw = p %% %lld * %lld - %lld + j * %lld;\n"
                   "        col[e] = ih >= 0 && ih < %lld && iw >= 0 && iw < %lld\n"
                   "                     ? t%d[((s * %lld + ch) * %lld + ih) * %lld + iw] : (real)0;\n"
                   "    }\n",
              cols_at(c, id), q->P, q->CKK, q->P, q->P, q->kh * q->kw, q->kw, q->kh, q->kw,
              q->OW, q->sh, q->pt, q->dh, q->OW, q->sw, q->pl, q->dw, q->H, q->W,
              xid, q->C, q->H, q->W);
    close_launch(c, id, k, cg_cu_lin(q->CKK * q->P, 0));
}

/* dy [n, O, P] into the product's layout [O, n P] (dlc_conv_gather) */
static void gather_dy(cg_cu *c, int id, int dy, const cg_conv_geom *q) {
    const char *k = cg_cu_kernel_open(c, &dy, 1);
    sb_printf(OUT, "    real *const t = (real *)(A + %lldLL);\n"
                   "    const long nP = (long)n * %lld;\n"
                   "    DLC_FOR(e, %lld * nP) {\n"
                   "        const long o = e / nP, s = e %% nP / %lld, p = e %% %lld;\n"
                   "        t[e] = t%d[(s * %lld + o) * %lld + p];\n"
                   "    }\n",
              prod_at(c, id, q), q->P, q->O, q->P, q->P, dy, q->O, q->P);
    close_launch(c, id, k, cg_cu_lin(q->O * q->P, 0));
}

void cg_cu_emit_conv2d(cg_cu *c, int id) {
    const ir_node *n = cg_cu_node(c, id);
    cg_conv_geom q = cg_conv_geometry(c->x.g, id);
    dlrt_cuda_lin nP = cg_cu_lin(q.P, 0);
    im2col(c, id, n->in[0], &q);
    for (long long g = 0; g < q.groups; g++)
        cg_cu_gemm(c, id, 0, 0, cg_cu_lin(0, q.Og), nP, cg_cu_lin(0, q.K),
                cg_cu_ptr(c, n->in[1], cg_cu_lin(0, 4 * g * q.Og * q.K)), cg_cu_lin(0, q.K),
                arena_at(4 * g * q.K * q.P, cols_at(c, id)), nP, 0, arena_at(4 * g * q.Og * q.P, prod_at(c, id, &q)), nP);
    const char *k = cg_cu_kernel_open_node(c, id);
    sb_printf(OUT, "    const real *const t = (const real *)(A + %lldLL);\n"
                   "    const long nP = (long)n * %lld;\n"
                   "    DLC_FOR(e, (long)n * %lld) {\n"
                   "        const long s = e / %lld, o = e / %lld %% %lld, p = e %% %lld;\n"
                   "        const real b = %s;\n"
                   "        t%d[e] = t[o * nP + s * %lld + p] + b;\n"
                   "    }\n",
              prod_at(c, id, &q), q.P, q.O * q.P, q.O * q.P, q.P, q.O, q.P,
              n->n_in == 3 ? arena_printf(c->x.a, "t%d[o]", n->in[2]) : "(real)0", id, q.P);
    close_launch(c, id, k, cg_cu_lin(q.O * q.P, 0));
}

/* dw [O, C/groups, kh, kw] = dy col^T per group (inputs: x, dy, w) */
void cg_cu_emit_conv2d_weight_grad(cg_cu *c, int id) {
    const ir_node *n = cg_cu_node(c, id);
    cg_conv_geom q = cg_conv_geometry(c->x.g, id);
    dlrt_cuda_lin nP = cg_cu_lin(q.P, 0);
    im2col(c, id, n->in[0], &q);
    gather_dy(c, id, n->in[1], &q);
    for (long long g = 0; g < q.groups; g++)
        cg_cu_gemm(c, id, 0, 1, cg_cu_lin(0, q.Og), cg_cu_lin(0, q.K), nP,
                arena_at(4 * g * q.Og * q.P, prod_at(c, id, &q)), nP, arena_at(4 * g * q.K * q.P, cols_at(c, id)), nP, 0,
                cg_cu_ptr(c, id, cg_cu_lin(0, 4 * g * q.Og * q.K)), cg_cu_lin(0, q.K));
}

/* dx [n, C, H, W]: dcol = w^T dy per group, then col2im gathers each pixel's columns in the
 * C loop's order (i, then j) (inputs: dy, w, x) */
void cg_cu_emit_conv2d_input_grad(cg_cu *c, int id) {
    const ir_node *n = cg_cu_node(c, id);
    cg_conv_geom q = cg_conv_geometry(c->x.g, id);
    dlrt_cuda_lin nP = cg_cu_lin(q.P, 0);
    gather_dy(c, id, n->in[0], &q);
    for (long long g = 0; g < q.groups; g++)
        cg_cu_gemm(c, id, 1, 0, cg_cu_lin(0, q.K), nP, cg_cu_lin(0, q.Og),
                cg_cu_ptr(c, n->in[1], cg_cu_lin(0, 4 * g * q.Og * q.K)), cg_cu_lin(0, q.K),
                arena_at(4 * g * q.Og * q.P, prod_at(c, id, &q)), nP, 0, arena_at(4 * g * q.K * q.P, cols_at(c, id)), nP);
    const char *k = cg_cu_kernel_open(c, &id, 1);
    sb_printf(OUT, "    const real *const col = (const real *)(A + %lldLL);\n"
                   "    const long nP = (long)n * %lld;\n"
                   "    DLC_FOR(e, (long)n * %lld) {\n"
                   "        const long s = e / %lld, ch = e / %lld %% %lld, h = e / %lld %% %lld, w = e %% %lld;\n"
                   "        real acc = 0;\n"
                   "        for (long i = 0; i < %lld; i++) {\n"
                   "            const long hh = h + %lld - i * %lld;\n"
                   "            if (hh < 0 || hh %% %lld || hh / %lld >= %lld) continue;\n"
                   "            for (long j = 0; j < %lld; j++) {\n"
                   "                const long ww = w + %lld - j * %lld;\n"
                   "                if (ww < 0 || ww %% %lld || ww / %lld >= %lld) continue;\n"
                   "                acc += col[((ch * %lld + i) * %lld + j) * nP + s * %lld + hh / %lld * %lld + ww / %lld];\n"
                   "            }\n"
                   "        }\n"
                   "        t%d[e] = acc;\n"
                   "    }\n",
              cols_at(c, id), q.P, q.C * q.H * q.W, q.C * q.H * q.W, q.H * q.W, q.C, q.W, q.H, q.W,
              q.kh, q.pt, q.dh, q.sh, q.sh, q.OH, q.kw, q.pl, q.dw, q.sw, q.sw, q.OW,
              q.kh, q.kw, q.P, q.sh, q.OW, q.sw, id);
    close_launch(c, id, k, cg_cu_lin(q.C * q.H * q.W, 0));
}

/* db [O] = dy summed over samples and pixels in double: a block per channel */
void cg_cu_emit_conv2d_bias_grad(cg_cu *c, int id) {
    const ir_shape *dy = &cg_cu_in_node(c, id, 0)->shape;
    long long O = dy->dims[1], P = dy->dims[2] * dy->dims[3];
    const char *k = cg_cu_kernel_open_node(c, id);
    sb_printf(OUT, "    for (long o = blockIdx.x; o < %lld; o += gridDim.x) {\n"
                   "        double acc = 0;\n"
                   "        DLC_BLOCK_FOR(e, (long)n * %lld) acc += t%d[(e / %lld * %lld + o) * %lld + e %% %lld];\n"
                   "        acc = dlc_block_sum(acc);\n"
                   "        if (threadIdx.x == 0) t%d[o] = (real)acc;\n"
                   "    }\n",
              O, P, cg_cu_in(c, id, 0), P, O, P, P, id);
    cg_cu_kernel_close(c);
    cg_cu_launch(c, id, k, cg_cu_lin(0, O * CU_BLOCK), CU_BLOCK, CU_MAX_BLOCKS);
}
