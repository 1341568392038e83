/*
 * cg_c_pool.c — C emitters for pooling and concatenation over NCHW images (declared in
 * cg_c_internal.h, listed in the op table by cg_c_ops.c).
 *
 * A pooled image is a run of planes (batch x channels), each H x W, row-major. Every output
 * pixel's window is clipped to the image, so padding is never read: for max pooling it acts as
 * -inf, for average pooling as zeros counted in the divisor kernel^2 (torch's
 * count_include_pad; with ceil_mode off a window never reaches past the padding, so the
 * divisor is always kernel^2). Max pooling scans a window row by row and keeps the first
 * maximum (a NaN wins, as torch's `val > max || isnan(val)`); its gradient recomputes that
 * choice from x. Sums accumulate in double.
 */
#include "cg_c_internal.h"

#define OUT c->out

/* the number of H x W planes of a pooling node's input (batch x channels), as C text */
static const char *plane_count(cg_ctx *c, const cg_pool_geom *p) {
    return arena_printf(c->a, "(%s / %lld)", cg_count(c, &cg_node(c, p->x)->shape), p->H * p->W);
}

/* opens the loops over planes and output pixels: in the body, xp is the plane of x (when
 * reads_x), o the output pixel's index in its plane, and the window is rows [hs, he) x columns
 * [ws, we); `plane_setup` declares the body's other per-plane pointers */
static void open_windows(cg_ctx *c, const cg_pool_geom *p, int reads_x, const char *plane_setup) {
    cg_c_parallel(c, arena_printf(c->a, "%s * %lld", plane_count(c, p), p->H * p->W), p->numel);
    sb_printf(OUT, "    for (long p = 0; p < %s; p++) {\n%s%s"
                   "        for (long oh = 0; oh < %lld; oh++) {\n"
                   "            const long h0 = oh * %lld - %lld, hs = h0 > 0 ? h0 : 0;\n"
                   "            const long he = h0 + %lld < %lld ? h0 + %lld : %lld;\n"
                   "            for (long ow = 0; ow < %lld; ow++) {\n"
                   "                const long w0 = ow * %lld - %lld, ws = w0 > 0 ? w0 : 0;\n"
                   "                const long we = w0 + %lld < %lld ? w0 + %lld : %lld;\n"
                   "                const long o = oh * %lld + ow;\n",
              plane_count(c, p),
              reads_x ? arena_printf(c->a, "        const real *xp = t%d + p * %lld;\n", p->x,
                                     p->H * p->W) : "",
              plane_setup, p->OH, p->S, p->P, p->K, p->H, p->K,
              p->H, p->OW, p->S, p->P, p->K, p->W, p->K, p->W, p->OW);
}

static void close_windows(cg_ctx *c) { sb_puts(OUT, "            }\n        }\n    }\n"); }

/* the body's loop over the window, with `stmt` run for each element at index `h * W + w` */
static void for_window(cg_ctx *c, const cg_pool_geom *p, const char *stmt) {
    sb_printf(OUT, "                for (long h = hs; h < he; h++)\n"
                   "                    for (long w = ws; w < we; w++) {\n"
                   "                        const long j = h * %lld + w;\n"
                   "                        %s\n"
                   "                    }\n",
              p->W, stmt);
}

/* the first maximum of the window: its value m and index arg in the plane */
static void window_max(cg_ctx *c, const cg_pool_geom *p) {
    sb_printf(OUT, "                real m = -(real)INFINITY;\n"
                   "                long arg = hs * %lld + ws;\n", p->W);
    for_window(c, p, "if (xp[j] > m || isnan(xp[j])) { m = xp[j]; arg = j; }");
}

static const char *plane_out(cg_ctx *c, int id, long long size) {
    return arena_printf(c->a, "        real *yp = t%d + p * %lld;\n", id, size);
}

/* dy's plane and the gradient's plane, zeroed */
static const char *plane_grad(cg_ctx *c, int id, const cg_pool_geom *p) {
    return arena_printf(c->a, "        const real *dyp = t%d + p * %lld;\n"
                              "        real *gp = t%d + p * %lld;\n"
                              "        for (long j = 0; j < %lld; j++) gp[j] = 0;\n",
                        cg_node(c, id)->in[1], p->OH * p->OW, id, p->H * p->W, p->H * p->W);
}

/* Max pooling with non-overlapping windows and no padding (kernel = stride, the usual 2x2/2):
 * every window lies inside the image, so the loops need no clipping, and the gradient writes
 * each window once (dy at its maximum, zeros elsewhere, then zeros for the rows and columns no
 * window covers) instead of zeroing the plane and adding into it. Same choices as the general
 * loops: the first maximum, a NaN wins. */
static int tiles(const cg_pool_geom *p) { return p->P == 0 && p->K == p->S; }

/* opens the loops over planes and windows: xw is the window's first element in x (plane xp),
 * o the output pixel's index in its plane; `plane_setup` declares the other plane pointers */
static void open_tiles(cg_ctx *c, const cg_pool_geom *p, const char *plane_setup) {
    cg_c_parallel(c, arena_printf(c->a, "%s * %lld", plane_count(c, p), p->H * p->W), p->numel);
    sb_printf(OUT, "    for (long p = 0; p < %s; p++) {\n"
                   "        const real *xp = t%d + p * %lld;\n%s"
                   "        for (long oh = 0; oh < %lld; oh++)\n"
                   "            for (long ow = 0; ow < %lld; ow++) {\n"
                   "                const long o = oh * %lld + ow, w0 = oh * %lld + ow * %lld;\n"
                   "                const real *xw = xp + w0;\n"
                   "                real m = -(real)INFINITY;\n"
                   "                long arg = 0;\n"
                   "                for (long h = 0; h < %lld; h++)\n"
                   "                    for (long w = 0; w < %lld; w++) {\n"
                   "                        const real v = xw[h * %lld + w];\n"
                   "                        if (v > m || isnan(v)) { m = v; arg = h * %lld + w; }\n"
                   "                    }\n",
              plane_count(c, p), p->x, p->H * p->W, plane_setup, p->OH, p->OW, p->OW, p->K * p->W, p->K,
              p->K, p->K, p->W, p->W);
}

void cg_c_emit_max_pool2d(cg_ctx *c, int id) {
    cg_pool_geom p = cg_pool_geometry(c->g, id);
    if (tiles(&p)) {
        open_tiles(c, &p, plane_out(c, id, p.OH * p.OW));
        sb_puts(OUT, "                (void)arg;\n                yp[o] = m;\n            }\n    }\n");
        return;
    }
    open_windows(c, &p, 1, plane_out(c, id, p.OH * p.OW));
    window_max(c, &p);
    sb_puts(OUT, "                (void)arg;\n                yp[o] = m;\n");
    close_windows(c);
}

/* the gradient over tiles: each window's values, then the uncovered rows and columns */
static void max_pool_grad_tiles(cg_ctx *c, int id, const cg_pool_geom *p) {
    open_tiles(c, p, arena_printf(c->a, "        const real *dyp = t%d + p * %lld;\n"
                                        "        real *gp = t%d + p * %lld;\n",
                                  cg_node(c, id)->in[1], p->OH * p->OW, id, p->H * p->W));
    sb_printf(OUT, "                real *gw = gp + w0;\n"
                   "                for (long h = 0; h < %lld; h++)\n"
                   "                    for (long w = 0; w < %lld; w++) gw[h * %lld + w] = 0;\n"
                   "                gw[arg] += dyp[o];\n"
                   "            }\n",
              p->K, p->K, p->W);
    if (p->OW * p->K < p->W)
        sb_printf(OUT, "        for (long h = 0; h < %lld; h++)\n"
                       "            for (long w = %lld; w < %lld; w++) gp[h * %lld + w] = 0;\n",
                  p->OH * p->K, p->OW * p->K, p->W, p->W);
    if (p->OH * p->K < p->H)
        sb_printf(OUT, "        for (long j = %lld; j < %lld; j++) gp[j] = 0;\n",
                  p->OH * p->K * p->W, p->H * p->W);
    sb_puts(OUT, "    }\n");
}

void cg_c_emit_max_pool2d_grad(cg_ctx *c, int id) {
    cg_pool_geom p = cg_pool_geometry(c->g, id);
    if (tiles(&p)) {
        max_pool_grad_tiles(c, id, &p);
        return;
    }
    open_windows(c, &p, 1, plane_grad(c, id, &p));
    window_max(c, &p);
    sb_puts(OUT, "                gp[arg] += dyp[o];\n");
    close_windows(c);
}

void cg_c_emit_avg_pool2d(cg_ctx *c, int id) {
    cg_pool_geom p = cg_pool_geometry(c->g, id);
    open_windows(c, &p, 1, plane_out(c, id, p.OH * p.OW));
    sb_puts(OUT, "                double s = 0;\n");
    for_window(c, &p, "s += xp[j];");
    sb_printf(OUT, "                yp[o] = (real)(s / %lld);\n", p.K * p.K);
    close_windows(c);
}

void cg_c_emit_avg_pool2d_grad(cg_ctx *c, int id) {
    cg_pool_geom p = cg_pool_geometry(c->g, id);
    open_windows(c, &p, 0, plane_grad(c, id, &p));
    sb_printf(OUT, "                const real g = dyp[o] / (real)%lld;\n", p.K * p.K);
    for_window(c, &p, "gp[j] += g;");
    close_windows(c);
}

/* planes of x (input 0 of node id) and their size H W */
/* values of the input of node id at the compiled batch size */
static long long x_numel(cg_ctx *c, int id) {
    return ir_shape_numel(&cg_node(c, cg_node(c, id)->in[0])->shape);
}

static const char *planes_of(cg_ctx *c, int id, long long *hw) {
    const ir_shape *xs = &cg_node(c, cg_node(c, id)->in[0])->shape;
    *hw = xs->dims[2] * xs->dims[3];
    return arena_printf(c->a, "(%s / %lld)", cg_count(c, xs), *hw);
}

void cg_c_emit_global_avg_pool(cg_ctx *c, int id) {
    long long hw;
    const char *planes = planes_of(c, id, &hw);
    cg_c_parallel(c, arena_printf(c->a, "%s * %lld", planes, hw), x_numel(c, id));
    sb_printf(OUT, "    for (long p = 0; p < %s; p++) {\n"
                   "        const real *xp = t%d + p * %lld;\n"
                   "        double s = 0;\n"
                   "        for (long j = 0; j < %lld; j++) s += xp[j];\n"
                   "        t%d[p] = (real)(s / %lld);\n"
                   "    }\n",
              planes, cg_node(c, id)->in[0], hw, hw, id, hw);
}

void cg_c_emit_global_avg_pool_grad(cg_ctx *c, int id) {
    long long hw;
    const char *planes = planes_of(c, id, &hw);
    cg_c_parallel(c, arena_printf(c->a, "%s * %lld", planes, hw), x_numel(c, id));
    sb_printf(OUT, "    for (long p = 0; p < %s; p++) {\n"
                   "        const real g = t%d[p] / (real)%lld;\n"
                   "        for (long j = 0; j < %lld; j++) t%d[p * %lld + j] = g;\n"
                   "    }\n",
              planes, cg_node(c, id)->in[1], hw, hw, id, hw);
}

/* ---- concatenation: each value is rows (everything before the axis) of a contiguous stretch
 * (the axis and everything after it) ---- */

/* elements of one stretch of shape s from `axis` on */
static long long stretch(const ir_shape *s, int axis) {
    long long len = 1;
    for (int i = axis; i < s->rank; i++) len *= s->dims[i];
    return len;
}

void cg_c_emit_concat(cg_ctx *c, int id) {
    const ir_node *n = cg_node(c, id);
    int axis = (int)ir_concat_axis(n);
    long long total = stretch(&n->shape, axis), offset = 0;
    sb_printf(OUT, "    for (long r = 0; r < %s / %lld; r++) {\n", cg_count(c, &n->shape), total);
    for (int i = 0; i < n->n_in; i++) {
        long long len = stretch(&cg_node(c, n->in[i])->shape, axis);
        sb_printf(OUT, "        for (long j = 0; j < %lld; j++) t%d[r * %lld + %lld + j] = "
                       "t%d[r * %lld + j];\n", len, id, total, offset, n->in[i], len);
        offset += len;
    }
    sb_puts(OUT, "    }\n");
}

void cg_c_emit_slice(cg_ctx *c, int id) {
    const ir_node *n = cg_node(c, id), *src = cg_node(c, n->in[0]);
    int axis = (int)ir_slice_axis(n);
    long long len = stretch(&n->shape, axis), total = stretch(&src->shape, axis);
    long long offset = ir_slice_start(n) * (len / ir_slice_length(n));
    sb_printf(OUT, "    for (long r = 0; r < %s / %lld; r++)\n"
                   "        for (long j = 0; j < %lld; j++) t%d[r * %lld + j] = t%d[r * %lld + %lld + j];\n",
              cg_count(c, &n->shape), len, len, id, len, n->in[0], total, offset);
}
