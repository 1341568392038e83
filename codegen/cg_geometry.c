/*
 * cg_geometry.c — the shared layer's geometry and formulas of the layer ops (cg_shared.h):
 * batchnorm's channels and per-channel formulas (the C backend runs them in a loop per
 * channel, the CUDA backend in a block per channel), the pooling window and output size, and
 * a convolution's shapes and torch arguments (from which each backend sizes its workspace).
 */
#include "cg_shared.h"

/* torch's CPU form: y = x * alpha + shift, alpha = invstd * gamma, shift = beta - mean * alpha */
const char *cg_bn_affine(cg_ctx *c, int id) {
    const ir_node *n = cg_node(c, id);
    if (n->n_in == 4)
        return arena_printf(c->a, "        const real alpha = (real)(invstd * t%d[c]);\n"
                                  "        const real shift = (real)(t%d[c] - mean * invstd * t%d[c]);\n",
                            n->in[2], n->in[3], n->in[2]);
    return "        const real alpha = (real)invstd, shift = (real)(-mean * invstd);\n";
}


/* ---- batchnorm: channel c of x [B, C] or [B, C, H, W] is B runs of `inner` values ---- */

cg_bn_geom cg_bn_geometry(cg_ctx *x, int src) {
    const ir_shape *s = &cg_node(x, src)->shape;
    cg_bn_geom g = {cg_dim(x, s, 0), s->dims[1], 1, ir_shape_numel(s)};
    for (int i = 2; i < s->rank; i++) g.inner *= s->dims[i];
    return g;
}

const char *cg_bn_mean_invstd(cg_ctx *x, const cg_bn_geom *g, int stats, double eps) {
    return arena_printf(x->a, "        const double mean = t%d[c], invstd = 1.0 / sqrt((double)t%d[%lld + c] + %.17g);\n",
                        stats, stats, g->C, eps);
}

/* evaluation without batch statistics: the running ones, mean (input 1) and variance (2) */
const char *cg_bn_running_stats(cg_ctx *x, int id, const cg_bn_geom *g) {
    const ir_node *n = cg_node(x, id);
    return arena_printf(x->a, "        t%d[c] = t%d[c];\n        t%d[%lld + c] = t%d[c];\n", id, n->in[1],
                        id, g->C, n->in[2]);
}

/* torch's batch-statistics backward: dx = (dy - sdy / N - (x - mean) invstd^2 dot / N) invstd gamma */
const char *cg_bn_grad_setup(cg_ctx *x, int id) {
    const ir_node *n = cg_node(x, id);
    return arena_printf(x->a, "        const double proj = dot * invstd * invstd / cnt, mdy = sdy / cnt;\n"
                              "        const double w = invstd%s;\n",
                        n->n_in == 4 ? arena_printf(x->a, " * t%d[c]", n->in[3]) : "");
}

const char *cg_bn_grad_value(cg_ctx *x, int id) {
    const ir_node *n = cg_node(x, id);
    return arena_printf(x->a, "t%d[k] = (real)((t%d[k] - mdy - (t%d[k] - mean) * proj) * w);", id,
                        n->in[2], n->in[0]);
}

/* dgamma = dot * invstd (the sum of dy * xhat), dbeta = sdy */
const char *cg_bn_param_grad_value(cg_ctx *x, int id) {
    return ir_bn_param_beta(cg_node(x, id)) ? "sdy" : "(dot * invstd)";
}

/* torch: running = momentum * stat + (1 - momentum) * running, the variance unbiased */
const char *cg_bn_running_value(cg_ctx *x, int id, const cg_bn_geom *g) {
    const ir_node *n = cg_node(x, id);
    int row = (int)ir_bn_running_var(n);
    double m = ir_bn_running_momentum(n);
    return arena_printf(x->a, "cnt > 1 ? (real)(%.17g * t%d[%lld + c]%s + %.17g * t%d[c]) : t%d[c]", m,
                        n->in[1], row * g->C, row ? " * (cnt / (cnt - 1))" : "", 1 - m, n->in[0],
                        n->in[0]);
}

/* ---- pooling ---- */

cg_pool_geom cg_pool_geometry(const ir_graph *g, int fwd) {
    const ir_node *n = ir_get(g, fwd);
    const ir_shape *xs = &ir_get(g, n->in[0])->shape;
    cg_pool_geom p = {.H = xs->dims[2], .W = xs->dims[3], .K = ir_pool_kernel(n),
                      .S = ir_pool_stride(n), .P = ir_pool_padding(n), .x = n->in[0],
                      .numel = ir_shape_numel(xs)};
    p.OH = ir_pool_out_size(p.H, p.K, p.S, p.P);
    p.OW = ir_pool_out_size(p.W, p.K, p.S, p.P);
    return p;
}

/* ---- convolution ---- */

void cg_conv_shapes(const ir_graph *g, int id, const ir_shape **x, const ir_shape **w,
                    const ir_shape **y) {
    const ir_node *n = ir_get(g, id);
    const ir_shape *s[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 3 && i < n->n_in; i++) s[i] = &ir_get(g, n->in[i])->shape;
    if (n->op == IR_OP_conv2d_input_grad) *x = s[2], *w = s[1], *y = s[0];
    else if (n->op == IR_OP_conv2d_weight_grad) *x = s[0], *w = s[2], *y = s[1];
    else *x = s[0], *w = s[1], *y = &n->shape;
}

cg_conv_geom cg_conv_geometry(const ir_graph *g, int id) {
    const ir_shape *x, *w, *y;
    cg_conv_shapes(g, id, &x, &w, &y);
    const ir_node *n = ir_get(g, id);
    cg_conv_geom q = {x->dims[1], x->dims[2], x->dims[3], w->dims[0], w->dims[2], w->dims[3],
                      y->dims[2], y->dims[3], ir_conv_stride_h(n), ir_conv_stride_w(n),
                      ir_conv_pad_top(n), ir_conv_pad_left(n), ir_conv_dilation_h(n),
                      ir_conv_dilation_w(n), ir_conv_groups(n), 0, 0, 0, 0, 0};
    q.P = q.OH * q.OW;
    q.K = q.C / q.groups * q.kh * q.kw;
    q.Og = q.O / q.groups;
    q.CKK = q.C * q.kh * q.kw;
    q.B = x->dims[0];
    return q;
}
