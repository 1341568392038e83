/*
 * error_bound.c — evaluates an inference graph in double and carries, beside each value v, a
 * bound e on |f32 result - v| that holds for any f32 evaluation of the graph: any summation
 * order and blocking of the GEMMs (OpenBLAS picks them per CPU; the generated C's built-in
 * kernel has its own), with or without fused multiply-adds. u = 2^-24 is f32's unit roundoff
 * and gamma(n) = n u / (1 - n u) bounds the relative error of n rounded operations
 * (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., sections 2.2 and 3.1):
 *   - input: the caller's floats, exact (e = 0). normalize (normalize_features: per feature,
 *     the statistics from the weights table): computed in double and rounded once
 *     (ops.def), e = u |v|.
 *   - param/buffer: the weights file's floats, exact (e = 0); a tensor fold_batchnorm made (its
 *     name has a '+', e.g. "dense1.w+batchnorm1") is W s computed in double and rounded once,
 *     e = u |w| from the exact product it stands for.
 *   - matmul y = x W over K terms: a dot product of K terms in any order has
 *     |fl(x^ W^) - x^ W^| <= gamma(K) |x^| |W^| (FMA rounds less, never more). With
 *     |x^ - x| <= e_x and |W^ - W| <= e_W this gives
 *       e_y = (gamma(K+1) (|x| + e_x) + e_x) (|W| + e_W) + |x| e_W
 *     (K+1: room for a C = beta C + AB update). conv2d is the same per output over its
 *     K = C/groups kh kw window, gamma(K+2) to cover a bias summed into the accumulator or
 *     added after (one more rounding of a sum bounded by the same magnitudes).
 *   - add (a bias or a residual): one rounding, e = e_a + e_b + u (|a| + e_a + |b| + e_b).
 *   - batchnorm with running statistics, y = (x - m) s + beta, s = gamma / sqrt(var + eps):
 *     the C backend computes alpha = s and shift = beta - m s in double, rounds each once,
 *     then x alpha + shift in f32 (3 roundings after the double ones); a direct f32 form
 *     (x - m) * s + beta with s rounded has 4. Both within
 *       e_y = (1 + gamma(4)) |s| e_x + gamma(4) (|s| (|x| + |m|) + |beta|).
 *   - relu and max_pool2d are 1-Lipschitz in the max norm and exact in f32: e_y = e_x (the
 *     window's largest for a pool). tanh: 1-Lipschitz, computed in double and rounded once
 *     (R_TANH is tanh): e_y = e_x + 2 u (|y| + e_x). reshape/flatten: the same values.
 * The double evaluation's own error is below 2^-29 of these bounds (the same expressions with
 * 2^-53 for u): every bound is scaled by 1 + 2^-20 to cover it. Any other op is an error
 * naming it, so a new op in a checked model asks for its rule here instead of passing blindly.
 * The GEMMs here run through OpenBLAS in double (cblas_dgemm).
 */
#include "error_bound.h"
#include "../../ir/ir_attrs.h"
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EB_U (1.0 / 16777216.0) /* f32 unit roundoff, 2^-24 */
#define EB_CHUNK 64             /* samples evaluated at a time (bounds the memory) */

/* one node's values for the samples of a chunk */
typedef struct eb_tensor {
    double *v;     /* values, rows * inner */
    double *e;     /* bounds on |f32 - v|, rows * inner */
    int64_t rows;  /* samples (1 when the node is not batched) */
    int64_t inner; /* elements per row */
    int owned;     /* v and e are this node's (not a reshape's view) */
} eb_tensor;

/* the evaluation of one chunk */
typedef struct eb_ctx {
    const ir_graph *g;      /* the inference graph */
    const ir_weights *w;    /* the tensors its leaves read */
    eb_tensor *t;           /* one per node */
    int64_t n;              /* samples in the chunk */
    char *err;              /* message buffer */
    size_t errlen;          /* its size */
} eb_ctx;

static double gamma_n(double k) { return k * EB_U / (1 - k * EB_U); }

static int eb_alloc(eb_tensor *t, int64_t rows, int64_t inner) {
    t->rows = rows;
    t->inner = inner;
    t->owned = 1;
    t->v = calloc((size_t)(rows * inner) + 1, sizeof(double));
    t->e = calloc((size_t)(rows * inner) + 1, sizeof(double));
    return t->v && t->e ? 0 : -1;
}

static int eb_fail(eb_ctx *c, int id, const char *why) {
    const ir_node *nd = ir_get(c->g, id);
    snprintf(c->err, c->errlen, "error bound: %%%d %s: %s", id, ir_op_names[nd->op], why);
    return -1;
}

static int eb_leaf(eb_ctx *c, int id) {
    const ir_node *nd = ir_get(c->g, id);
    const ir_weight *wt = ir_weights_find(c->w, nd->name);
    int64_t numel = ir_shape_numel(&nd->shape);
    if (!wt || wt->dtype != IR_WEIGHT_F32) return eb_fail(c, id, "no f32 tensor of that name");
    if (eb_alloc(&c->t[id], 1, numel)) return eb_fail(c, id, "out of memory");
    const float *d = wt->data;
    double rel = strchr(nd->name, '+') ? EB_U : 0; /* fold_batchnorm's, rounded once */
    for (int64_t i = 0; i < numel; i++) {
        c->t[id].v[i] = d[i];
        c->t[id].e[i] = rel * fabs((double)d[i]);
    }
    return 0;
}

static int eb_input(eb_ctx *c, int id, const float *x) {
    const ir_node *nd = ir_get(c->g, id);
    int64_t inner = ir_shape_inner(&nd->shape);
    if (eb_alloc(&c->t[id], c->n, inner)) return eb_fail(c, id, "out of memory");
    for (int64_t i = 0; i < c->n * inner; i++) c->t[id].v[i] = x[i];
    return 0;
}

static void eb_normalize(eb_ctx *c, const ir_node *nd, eb_tensor *y) {
    const eb_tensor *x = &c->t[nd->in[0]];
    for (int64_t i = 0; i < y->rows * y->inner; i++) {
        y->v[i] = (x->v[i] - ir_normalize_shift(nd)) / ir_normalize_scale(nd);
        y->e[i] = x->e[i] / fabs(ir_normalize_scale(nd)) + EB_U * fabs(y->v[i]);
    }
}

/* per feature f = i % inner: the tensor named by the node, F shifts then F scales */
static void eb_normalize_features(eb_ctx *c, const ir_node *nd, eb_tensor *y) {
    const eb_tensor *x = &c->t[nd->in[0]];
    const double *st = ir_weights_find(c->w, nd->name)->data;
    for (int64_t i = 0; i < y->rows * y->inner; i++) {
        double scale = st[y->inner + i % y->inner];
        y->v[i] = (x->v[i] - st[i % y->inner]) / scale;
        y->e[i] = x->e[i] / fabs(scale) + EB_U * fabs(y->v[i]);
    }
}

/* y (rows x m) = x (rows x k) W (k x m) with its bound (the header's matmul rule) */
static int eb_product(const double *xv, const double *xe, const double *wv, const double *we,
                      int64_t rows, int64_t k, int64_t m, double gam, double *yv, double *ye) {
    double *t = malloc(sizeof(double) * (size_t)(rows * k + k * m + rows * k + 1));
    if (!t) return -1;
    double *wm = t + rows * k, *xa = wm + k * m;
    int any_we = 0;
    for (int64_t i = 0; i < rows * k; i++) {
        xa[i] = fabs(xv[i]);
        t[i] = gam * (xa[i] + xe[i]) + xe[i];
    }
    for (int64_t i = 0; i < k * m; i++) {
        wm[i] = fabs(wv[i]) + we[i];
        any_we |= we[i] != 0;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)m, (int)k, 1, xv,
                (int)k, wv, (int)m, 0, yv, (int)m);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)m, (int)k, 1, t,
                (int)k, wm, (int)m, 0, ye, (int)m);
    if (any_we)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)m, (int)k, 1, xa,
                    (int)k, we, (int)m, 1, ye, (int)m);
    free(t);
    return 0;
}

static int eb_matmul(eb_ctx *c, int id, eb_tensor *y) {
    const ir_node *nd = ir_get(c->g, id);
    const eb_tensor *x = &c->t[nd->in[0]], *w = &c->t[nd->in[1]];
    const ir_node *wn = ir_get(c->g, nd->in[1]);
    if (ir_matmul_trans_a(nd) || ir_matmul_trans_b(nd) || wn->shape.batched || wn->shape.rank != 2 ||
        nd->shape.rank != 2)
        return eb_fail(c, id, "only x [B,k] times W [k,m] is covered");
    int64_t k = wn->shape.dims[0], m = wn->shape.dims[1];
    if (eb_product(x->v, x->e, w->v, w->e, x->rows, k, m, gamma_n((double)k + 1), y->v, y->e))
        return eb_fail(c, id, "out of memory");
    return 0;
}

static void eb_add(eb_ctx *c, const ir_node *nd, eb_tensor *y) {
    const eb_tensor *a = &c->t[nd->in[0]], *b = &c->t[nd->in[1]];
    int64_t na = a->rows * a->inner, nb = b->rows * b->inner;
    for (int64_t i = 0; i < y->rows * y->inner; i++) {
        double av = a->v[i % na], ae = a->e[i % na], bv = b->v[i % nb], be = b->e[i % nb];
        y->v[i] = av + bv;
        y->e[i] = ae + be + EB_U * (fabs(av) + ae + fabs(bv) + be);
    }
}

static void eb_batchnorm(eb_ctx *c, const ir_node *nd, eb_tensor *y) {
    const eb_tensor *x = &c->t[nd->in[0]], *st = &c->t[nd->in[1]];
    const eb_tensor *ga = nd->n_in == 4 ? &c->t[nd->in[2]] : NULL;
    const eb_tensor *be = nd->n_in == 4 ? &c->t[nd->in[3]] : NULL;
    int64_t C = ir_get(c->g, nd->in[0])->shape.dims[1], plane = y->inner / C;
    double g4 = gamma_n(4);
    for (int64_t i = 0; i < y->rows * y->inner; i++) {
        int64_t ch = (i / plane) % C;
        double m = st->v[ch], s = (ga ? ga->v[ch] : 1) / sqrt(st->v[C + ch] + ir_bn_eps(nd));
        double beta = be ? be->v[ch] : 0;
        y->v[i] = (x->v[i] - m) * s + beta;
        y->e[i] = (1 + g4) * fabs(s) * x->e[i] + g4 * (fabs(s) * (fabs(x->v[i]) + fabs(m)) + fabs(beta));
    }
}

/* one sample's im2col of one group: col [K, OH*OW] of values and of the matmul rule's
 * per-input term gam (|x| + e) + e (padding: zeros, exact) */
static void eb_im2col(const ir_node *nd, const ir_shape *xs, const ir_shape *ys, int64_t kh,
                      int64_t kw, const double *xv, const double *xe, double gam, double *cv,
                      double *ct, double *ca) {
    int64_t cg = xs->dims[1] / ir_conv_groups(nd), H = xs->dims[2], W = xs->dims[3];
    int64_t OH = ys->dims[2], OW = ys->dims[3];
    for (int64_t ci = 0; ci < cg; ci++)
        for (int64_t p = 0; p < kh * kw; p++)
            for (int64_t o = 0; o < OH * OW; o++) {
                int64_t r = (ci * kh * kw + p) * OH * OW + o;
                int64_t ih = (o / OW) * ir_conv_stride_h(nd) - ir_conv_pad_top(nd) + (p / kw) * ir_conv_dilation_h(nd);
                int64_t iw = (o % OW) * ir_conv_stride_w(nd) - ir_conv_pad_left(nd) + (p % kw) * ir_conv_dilation_w(nd);
                int in = ih >= 0 && ih < H && iw >= 0 && iw < W;
                int64_t at = (ci * H + (in ? ih : 0)) * W + (in ? iw : 0);
                cv[r] = in ? xv[at] : 0;
                ca[r] = fabs(cv[r]);
                ct[r] = in ? gam * (ca[r] + xe[at]) + xe[at] : 0;
            }
}

/* y = W_g col for one sample and group, with the matmul rule: weights [og, K] times [K, P] */
static void eb_conv_gemm(const double *wv, const double *wm, const double *we, int any_we,
                         int64_t og, int64_t K, int64_t P, const double *cv, const double *ct,
                         const double *ca, double *yv, double *ye) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)og, (int)P, (int)K, 1, wv,
                (int)K, cv, (int)P, 0, yv, (int)P);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)og, (int)P, (int)K, 1, wm,
                (int)K, ct, (int)P, 0, ye, (int)P);
    if (any_we)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)og, (int)P, (int)K, 1, we,
                    (int)K, ca, (int)P, 1, ye, (int)P);
}

/* the bias: one more rounding under gamma(K + 2) (the header's conv2d rule) */
static void eb_conv_bias(const eb_tensor *b, int64_t O, int64_t P, double gam, double *yv,
                         double *ye) {
    for (int64_t o = 0; o < O; o++)
        for (int64_t p = 0; p < P; p++) {
            yv[o * P + p] += b->v[o];
            ye[o * P + p] += b->e[o] + gam * (fabs(b->v[o]) + b->e[o]);
        }
}

static int eb_conv2d(eb_ctx *c, int id, eb_tensor *y) {
    const ir_node *nd = ir_get(c->g, id);
    const ir_shape *xs = &ir_get(c->g, nd->in[0])->shape, *ws = &ir_get(c->g, nd->in[1])->shape;
    const eb_tensor *x = &c->t[nd->in[0]], *w = &c->t[nd->in[1]];
    int64_t G = ir_conv_groups(nd), O = ws->dims[0], og = O / G, K = ws->dims[1] * ws->dims[2] * ws->dims[3];
    int64_t P = y->inner / O;
    double gam = gamma_n((double)K + 2);
    double *buf = malloc(sizeof(double) * (size_t)(3 * K * P + O * K + 1));
    if (!buf) return eb_fail(c, id, "out of memory");
    double *cv = buf, *ct = cv + K * P, *ca = ct + K * P, *wm = ca + K * P;
    int any_we = 0;
    for (int64_t i = 0; i < O * K; i++) wm[i] = fabs(w->v[i]) + w->e[i], any_we |= w->e[i] != 0;
    for (int64_t s = 0; s < y->rows; s++)
        for (int64_t gi = 0; gi < G; gi++) {
            int64_t xoff = s * x->inner + gi * (xs->dims[1] / G) * xs->dims[2] * xs->dims[3];
            eb_im2col(nd, xs, &nd->shape, ws->dims[2], ws->dims[3], x->v + xoff, x->e + xoff,
                      gam, cv, ct, ca);
            int64_t yoff = s * y->inner + gi * og * P;
            eb_conv_gemm(w->v + gi * og * K, wm + gi * og * K, w->e + gi * og * K, any_we, og,
                         K, P, cv, ct, ca, y->v + yoff, y->e + yoff);
        }
    if (nd->n_in == 3)
        for (int64_t s = 0; s < y->rows; s++)
            eb_conv_bias(&c->t[nd->in[2]], O, P, gam, y->v + s * y->inner, y->e + s * y->inner);
    free(buf);
    return 0;
}

static void eb_max_pool(eb_ctx *c, const ir_node *nd, eb_tensor *y) {
    const ir_shape *xs = &ir_get(c->g, nd->in[0])->shape;
    const eb_tensor *x = &c->t[nd->in[0]];
    int64_t k = ir_pool_kernel(nd), st = ir_pool_stride(nd), pad = ir_pool_padding(nd);
    int64_t H = xs->dims[2], W = xs->dims[3], OH = nd->shape.dims[2], OW = nd->shape.dims[3];
    for (int64_t i = 0; i < y->rows * y->inner; i++) {
        int64_t plane = i / (OH * OW), oh = (i / OW) % OH, ow = i % OW;
        double best = -INFINITY, worst_e = 0;
        for (int64_t p = 0; p < k * k; p++) {
            int64_t ih = oh * st - pad + p / k, iw = ow * st - pad + p % k;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            int64_t at = (plane * H + ih) * W + iw;
            best = fmax(best, x->v[at]);
            worst_e = fmax(worst_e, x->e[at]);
        }
        y->v[i] = best;
        y->e[i] = worst_e;
    }
}

static void eb_unary(eb_ctx *c, const ir_node *nd, eb_tensor *y) {
    const eb_tensor *x = &c->t[nd->in[0]];
    for (int64_t i = 0; i < y->rows * y->inner; i++) {
        if (nd->op == IR_OP_relu) {
            y->v[i] = fmax(x->v[i], 0);
            y->e[i] = x->e[i];
        } else { /* tanh */
            y->v[i] = tanh(x->v[i]);
            y->e[i] = x->e[i] + 2 * EB_U * (fabs(y->v[i]) + x->e[i]);
        }
    }
}

static int eb_computed(eb_ctx *c, int id) {
    const ir_node *nd = ir_get(c->g, id);
    eb_tensor *y = &c->t[id];
    if (nd->op == IR_OP_reshape) {
        *y = c->t[nd->in[0]];
        y->owned = 0;
        return 0;
    }
    if (eb_alloc(y, nd->shape.batched ? c->n : 1, ir_shape_inner(&nd->shape)))
        return eb_fail(c, id, "out of memory");
    if (nd->op == IR_OP_normalize) return eb_normalize(c, nd, y), 0;
    if (nd->op == IR_OP_normalize_features) return eb_normalize_features(c, nd, y), 0;
    if (nd->op == IR_OP_matmul) return eb_matmul(c, id, y);
    if (nd->op == IR_OP_add) return eb_add(c, nd, y), 0;
    if (nd->op == IR_OP_batchnorm_stats) { /* inference: the running statistics, copied */
        memcpy(y->v, c->t[nd->in[1]].v, sizeof(double) * (size_t)(y->inner / 2));
        memcpy(y->v + y->inner / 2, c->t[nd->in[2]].v, sizeof(double) * (size_t)(y->inner / 2));
        return 0;
    }
    if (nd->op == IR_OP_batchnorm) return eb_batchnorm(c, nd, y), 0;
    if (nd->op == IR_OP_conv2d) return eb_conv2d(c, id, y);
    if (nd->op == IR_OP_max_pool2d) return eb_max_pool(c, nd, y), 0;
    if (nd->op == IR_OP_relu || nd->op == IR_OP_tanh) return eb_unary(c, nd, y), 0;
    return eb_fail(c, id, "no error bound derived for this op (tests/e2e/error_bound.c)");
}

static int eb_node(eb_ctx *c, int id, const float *x) {
    const ir_node *nd = ir_get(c->g, id);
    if (nd->op == IR_OP_input) return eb_input(c, id, x);
    if (nd->op == IR_OP_param || nd->op == IR_OP_buffer) return eb_leaf(c, id);
    return eb_computed(c, id);
}

long long eb_output_size(const ir_graph *g) {
    return (long long)ir_shape_inner(&ir_get(g, g->outputs[0])->shape);
}

static void eb_free(eb_ctx *c) {
    for (int i = 0; i < c->g->n_nodes; i++)
        if (c->t[i].owned) free(c->t[i].v), free(c->t[i].e);
    memset(c->t, 0, sizeof(eb_tensor) * (size_t)c->g->n_nodes);
}

/* one chunk of samples: every node in id order (a valid schedule), then the output copied */
static int eb_chunk(eb_ctx *c, const float *x, double *value, double *bound) {
    int rc = 0;
    for (int id = 0; id < c->g->n_nodes && rc == 0; id++) rc = eb_node(c, id, x);
    if (rc == 0) {
        const eb_tensor *out = &c->t[c->g->outputs[0]];
        const double slack = 1 + 1.0 / 1048576; /* the double evaluation's own error */
        for (int64_t i = 0; i < c->n * out->inner; i++) {
            value[i] = out->v[i];
            bound[i] = out->e[i] * slack;
        }
    }
    eb_free(c);
    return rc;
}

int eb_evaluate(const ir_graph *g, const ir_weights *w, const float *x, int64_t n,
                double *value, double *bound, long long *cols, char *err, size_t errlen) {
    const ir_node *in0 = NULL;
    for (int i = 0; i < g->n_nodes && !in0; i++)
        if (ir_get(g, i)->op == IR_OP_input) in0 = ir_get(g, i);
    if (!in0 || g->n_outputs < 1)
        return snprintf(err, errlen, "error bound: the graph has no input or no output"), -1;
    eb_ctx c = {.g = g, .w = w, .err = err, .errlen = errlen};
    c.t = calloc((size_t)g->n_nodes, sizeof(eb_tensor));
    int64_t inner = ir_shape_inner(&in0->shape);
    *cols = eb_output_size(g);
    int rc = c.t ? 0 : -1;
    int threads = openblas_get_num_threads();
    openblas_set_num_threads(1); /* the tests run beside others on few cores */
    for (int64_t at = 0; at < n && rc == 0; at += EB_CHUNK) {
        c.n = n - at < EB_CHUNK ? n - at : EB_CHUNK;
        rc = eb_chunk(&c, x + at * inner, value + at * *cols, bound + at * *cols);
    }
    free(c.t);
    openblas_set_num_threads(threads); /* as the caller had it (bench_fold.sh times with it) */
    return rc;
}
