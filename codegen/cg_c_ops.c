/*
 * cg_c_ops.c — one C emitter per op (table generated from ops.def). Elementwise ops return an
 * expression over their operands' expressions (the caller fuses them into loops); the others
 * write whole statements that read their inputs `tK` and write their own buffer `tID`.
 * Reductions accumulate in double. Formulas follow PyTorch's CPU kernels term by term (which
 * side of a kink gets which derivative, clamps, the stable forms), so results agree to rounding.
 * Elementwise formulas are templates in which $0..$3 stand for the operand expressions.
 */
#include "cg_c_internal.h"
#include <string.h>

#define OUT c->out
static const ir_node *in_node(cg_c *c, int id, int i) { return cg_c_node(c, cg_c_node(c, id)->in[i]); }
static int in_id(cg_c *c, int id, int i) { return cg_c_node(c, id)->in[i]; }

/* ---- leaves: storage is bound by the function prologue, nothing to emit ---- */
static void emit_leaf(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)c, (void)id, (void)a, (void)e;
}
#define emit_input emit_leaf
#define emit_param emit_leaf
#define emit_state emit_leaf
#define emit_scalar_in emit_leaf
#define emit_const emit_leaf

/* `tmpl` with each $K replaced by the operand expression a[K] */
static void expand(strbuf *e, const char *tmpl, const char *const *a) {
    for (const char *p = tmpl; *p;) {
        const char *dollar = strchr(p, '$');
        if (!dollar) {
            sb_puts(e, p);
            return;
        }
        sb_printf(e, "%.*s%s", (int)(dollar - p), p, a[dollar[1] - '0']);
        p = dollar + 2;
    }
}

/* a number as a literal of the generated code's real type */
static const char *lit(cg_c *c, double v) { return arena_printf(c->a, "((real)%.17g)", v); }

/* an elementwise op whose formula is a template over its operands */
#define ETMPL(name, tmpl) \
    static void emit_##name(cg_c *c, int id, const char *const *a, strbuf *e) { \
        (void)c, (void)id;                                                      \
        expand(e, tmpl, a);                                                     \
    }

/* ---- elementwise ---- */
#define EX2(name, fmt) \
    static void emit_##name(cg_c *c, int id, const char *const *a, strbuf *e) { \
        (void)c, (void)id;                                                      \
        sb_printf(e, fmt, a[0], a[1]);                                          \
    }
#define EX1(name, fmt) \
    static void emit_##name(cg_c *c, int id, const char *const *a, strbuf *e) { \
        (void)c, (void)id;                                                      \
        sb_printf(e, fmt, a[0]);                                                \
    }
EX2(add, "(%s + %s)")
EX2(sub, "(%s - %s)")
EX2(mul, "(%s * %s)")
EX2(div, "(%s / %s)")
EX2(pow, "R_POW(%s, %s)")
EX1(neg, "(-%s)")
EX1(sqrt, "R_SQRT(%s)")
EX1(exp, "R_EXP(%s)")
EX1(log, "R_LOG(%s)")
EX1(relu, "R_FMAX(%s, (real)0)")
EX1(sigmoid, "((real)1 / ((real)1 + R_EXP(-%s)))")
EX1(tanh, "R_TANH(%s)")
EX2(relu_grad, "(%s > (real)0 ? %s : (real)0)")
static void emit_sigmoid_grad(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)c, (void)id;
    sb_printf(e, "(%s * %s * ((real)1 - %s))", a[1], a[0], a[0]);
}
static void emit_tanh_grad(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)c, (void)id;
    sb_printf(e, "(%s * ((real)1 - %s * %s))", a[1], a[0], a[0]);
}
/* torch: x > 0 ? x : x * slope; backward x > 0 ? dy : dy * slope */
static void emit_leaky_relu(cg_c *c, int id, const char *const *a, strbuf *e) {
    sb_printf(e, "(%s > (real)0 ? %s : %s * %s)", a[0], a[0], a[0], lit(c, cg_c_node(c, id)->fattr[0]));
}
static void emit_leaky_relu_grad(cg_c *c, int id, const char *const *a, strbuf *e) {
    sb_printf(e, "(%s > (real)0 ? %s : %s * %s)", a[0], a[1], a[1], lit(c, cg_c_node(c, id)->fattr[0]));
}
ETMPL(prelu, "($0 > (real)0 ? $0 : $1 * $0)")
ETMPL(prelu_grad, "($0 > (real)0 ? $2 : $1 * $2)")
ETMPL(prelu_slope_grad, "($0 > (real)0 ? (real)0 : $0 * $1)")

/* torch: x <= 0 ? expm1(x) * alpha * scale : x * scale; backward x <= 0 ? dy * alpha * scale *
 * exp(x) : dy * scale */
static void emit_elu(cg_c *c, int id, const char *const *a, strbuf *e) {
    const ir_node *n = cg_c_node(c, id);
    sb_printf(e, "(%s <= (real)0 ? R_EXPM1(%s) * %s : %s * %s)", a[0], a[0],
              lit(c, n->fattr[0] * n->fattr[1]), a[0], lit(c, n->fattr[1]));
}
static void emit_elu_grad(cg_c *c, int id, const char *const *a, strbuf *e) {
    const ir_node *n = cg_c_node(c, id);
    sb_printf(e, "(%s <= (real)0 ? %s * %s * R_EXP(%s) : %s * %s)", a[0], a[1],
              lit(c, n->fattr[0] * n->fattr[1]), a[0], a[1], lit(c, n->fattr[1]));
}

#define SIGMOID(x) "((real)1 / ((real)1 + R_EXP(-" x ")))"
#define TANH_SOFTPLUS(x) "R_TANH(R_LOG1P(R_EXP(" x ")))"
ETMPL(silu, "($0 / ((real)1 + R_EXP(-$0)))")
ETMPL(silu_grad, "($1 * " SIGMOID("$0") " * ((real)1 + $0 * ((real)1 - " SIGMOID("$0") ")))")
ETMPL(mish, "($0 * " TANH_SOFTPLUS("$0") ")")
ETMPL(mish_grad, "($1 * (" TANH_SOFTPLUS("$0") " + $0 * " SIGMOID("$0") " * ((real)1 - "
                 TANH_SOFTPLUS("$0") " * " TANH_SOFTPLUS("$0") ")))")
/* torch: x * Phi(x) with Phi(x) = (1 + erf(x / sqrt 2)) / 2, written erfc(-x / sqrt 2) / 2 (the
 * same function, without 1 + erf's cancellation for negative x); phi(x) = exp(-x^2 / 2) /
 * sqrt(2 pi) */
ETMPL(gelu, "($0 * (real)0.5 * R_ERFC($0 * (real)-0.70710678118654752))")
ETMPL(gelu_grad, "($1 * ((real)0.5 * R_ERFC($0 * (real)-0.70710678118654752) + $0 * "
                 "(real)0.39894228040143268 * R_EXP($0 * $0 * (real)-0.5)))")

/* torch: x * beta > threshold ? x : log1p(exp(x * beta)) / beta; backward with z = exp(x * beta):
 * x * beta > threshold ? dy : dy * z / (z + 1) */
static void emit_softplus(cg_c *c, int id, const char *const *a, strbuf *e) {
    const ir_node *n = cg_c_node(c, id);
    const char *beta = lit(c, n->fattr[0]);
    sb_printf(e, "(%s * %s > %s ? %s : R_LOG1P(R_EXP(%s * %s)) / %s)", a[0], beta,
              lit(c, n->fattr[1]), a[0], a[0], beta, beta);
}
static void emit_softplus_grad(cg_c *c, int id, const char *const *a, strbuf *e) {
    const ir_node *n = cg_c_node(c, id);
    const char *beta = lit(c, n->fattr[0]);
    sb_printf(e, "(%s * %s > %s ? %s : %s * R_EXP(%s * %s) / (R_EXP(%s * %s) + (real)1))", a[0],
              beta, lit(c, n->fattr[1]), a[1], a[1], a[0], beta, a[0], beta);
}

static void emit_assign(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)c, (void)id;
    sb_printf(e, "%s", a[1]); /* the caller stores it into the target */
}

/* ---- matrix product ---- */
static void emit_matmul(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    const ir_node *n = cg_c_node(c, id), *x = in_node(c, id, 0);
    int ta = (int)n->iattr[0], tb = (int)n->iattr[1];
    sb_printf(OUT, "    dlc_gemm(%d, %d, %s, %s, %s, t%d, t%d, t%d);\n", ta, tb,
              cg_c_dim(c, &n->shape, 0), cg_c_dim(c, &n->shape, 1),
              cg_c_dim(c, &x->shape, ta ? 0 : 1), in_id(c, id, 0), in_id(c, id, 1), id);
}

/* rows x cols view of a value whose last dim is cols */
static void rows_cols(cg_c *c, const ir_shape *s, const char **rows, long long *cols) {
    *cols = s->dims[s->rank - 1];
    *rows = arena_printf(c->a, "(%s / %lld)", cg_c_count(c, s), *cols);
}

/* ---- row ops: one loop body per row, shared with the CUDA backend (cg_c_row_body) ---- */

const char *cg_c_row_max_sum(cg_c *c, int x, const char *C) {
    return arena_printf(c->a, "        const real *xr = t%d + r * %s;\n"
                              "        real m = xr[0];\n"
                              "        for (long j = 1; j < %s; j++) m = R_FMAX(m, xr[j]);\n"
                              "        double s = 0;\n"
                              "        for (long j = 0; j < %s; j++) s += R_EXP(xr[j] - m);\n",
                        x, C, C, C);
}

static const char *softmax_body(cg_c *c, int id, const char *C) {
    return arena_printf(c->a, "        const real *xr = t%d + r * %s;\n"
                              "        real *yr = t%d + r * %s;\n"
                              "        real m = xr[0];\n"
                              "        for (long j = 1; j < %s; j++) m = R_FMAX(m, xr[j]);\n"
                              "        double s = 0;\n"
                              "        for (long j = 0; j < %s; j++) s += (yr[j] = R_EXP(xr[j] - m));\n"
                              "        for (long j = 0; j < %s; j++) yr[j] = (real)(yr[j] / s);\n",
                        in_id(c, id, 0), C, id, C, C, C, C);
}

static const char *softmax_grad_body(cg_c *c, int id, const char *C) {
    return arena_printf(c->a, "        const real *yr = t%d + r * %s, *dr = t%d + r * %s;\n"
                              "        double s = 0;\n"
                              "        for (long j = 0; j < %s; j++) s += (double)yr[j] * dr[j];\n"
                              "        for (long j = 0; j < %s; j++) t%d[r * %s + j] = (real)(yr[j] * (dr[j] - s));\n",
                        in_id(c, id, 0), C, in_id(c, id, 1), C, C, C, id, C);
}

static const char *log_softmax_body(cg_c *c, int id, const char *C) {
    return arena_printf(c->a, "%s        const real ls = (real)log(s);\n"
                              "        for (long j = 0; j < %s; j++) t%d[r * %s + j] = (xr[j] - m) - ls;\n",
                        cg_c_row_max_sum(c, in_id(c, id, 0), C), C, id, C);
}

static const char *log_softmax_grad_body(cg_c *c, int id, const char *C) {
    return arena_printf(c->a, "        const real *yr = t%d + r * %s, *dr = t%d + r * %s;\n"
                              "        double s = 0;\n"
                              "        for (long j = 0; j < %s; j++) s += dr[j];\n"
                              "        for (long j = 0; j < %s; j++) t%d[r * %s + j] = dr[j] - R_EXP(yr[j]) * (real)s;\n",
                        in_id(c, id, 0), C, in_id(c, id, 1), C, C, C, id, C);
}

const char *cg_c_row_body(cg_c *c, int id, const char *C) {
    switch (cg_c_node(c, id)->op) {
    case IR_OP_softmax: return softmax_body(c, id, C);
    case IR_OP_softmax_grad: return softmax_grad_body(c, id, C);
    case IR_OP_log_softmax: return log_softmax_body(c, id, C);
    case IR_OP_log_softmax_grad: return log_softmax_grad_body(c, id, C);
    default: DLC_ASSERT(!"a row op");
    }
    return NULL;
}

/* for every row of node id's shape (its last dim long), the op's row body */
static void emit_row_op(cg_c *c, int id) {
    const char *rows;
    long long C;
    rows_cols(c, &cg_c_node(c, id)->shape, &rows, &C);
    sb_printf(OUT, "    for (long r = 0; r < %s; r++) {\n%s    }\n", rows,
              cg_c_row_body(c, id, arena_printf(c->a, "%lld", C)));
}

static void emit_softmax(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    emit_row_op(c, id);
}

static void emit_softmax_grad(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    emit_row_op(c, id);
}

static void emit_reduce_like(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    const ir_node *n = cg_c_node(c, id);
    long long L = ir_shape_numel(&n->shape);
    /* row by row, so the inner loop is contiguous and vectorises */
    sb_printf(OUT, "    {\n"
                   "        const long rows = %s / %lld;\n"
                   "        for (long j = 0; j < %lld; j++) t%d[j] = 0;\n"
                   "        for (long r = 0; r < rows; r++)\n"
                   "            for (long j = 0; j < %lld; j++) t%d[j] += t%d[r * %lld + j];\n"
                   "    }\n",
              cg_c_count(c, &in_node(c, id, 0)->shape), L, L, id, L, id, in_id(c, id, 0), L);
}

/* log-sum-exp of row r of logits tL with C classes, into `lse` (shared by loss and grad) */
static void row_lse(cg_c *c, int logits, long long C) {
    sb_puts(OUT, cg_c_row_max_sum(c, logits, arena_printf(c->a, "%lld", C)));
    sb_puts(OUT, "        const double lse = m + log(s);\n");
}

/* ---- log-softmax ---- */

static void emit_log_softmax(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    emit_row_op(c, id);
}

static void emit_log_softmax_grad(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    emit_row_op(c, id);
}

/* ---- dropout and noise: random in train_step, the identity in eval_step ---- */

static const char *rand_key(cg_c *c, int id, const char *const *a) {
    return arena_printf(c->a, "dlc_key(%s, %s, %d)", a[1], a[2], (int)cg_c_node(c, id)->iattr[0]);
}

/* x * keep / (1 - p): keep when the element's uniform draw is >= p (probability 1 - p) */
static void emit_dropout(cg_c *c, int id, const char *const *a, strbuf *e) {
    double p = cg_c_node(c, id)->fattr[0];
    if (!c->train) {
        sb_puts(e, a[0]);
        return;
    }
    sb_printf(e, "(dlc_uniform(%s, i) >= %.17g ? %s * %s : (real)0)", rand_key(c, id, a), p, a[0],
              lit(c, 1 / (1 - p)));
}
#define emit_dropout_grad emit_dropout /* the same mask on dy: same key, same element index */

static void emit_gaussian_noise(cg_c *c, int id, const char *const *a, strbuf *e) {
    if (!c->train) {
        sb_puts(e, a[0]);
        return;
    }
    sb_printf(e, "(%s + (real)(%.17g * dlc_normal(%s, i)))", a[0], cg_c_node(c, id)->fattr[0],
              rand_key(c, id, a));
}

/* ---- reductions to a scalar ---- */

static void reduce_all(cg_c *c, int id, int mean) {
    const char *count = cg_c_count(c, &in_node(c, id, 0)->shape);
    sb_printf(OUT, "    {\n"
                   "        double s = 0;\n"
                   "        for (long i = 0; i < %s; i++) s += t%d[i];\n"
                   "        t%d[0] = (real)(s%s%s);\n"
                   "    }\n",
              count, in_id(c, id, 0), id, mean ? " / (double)" : "", mean ? count : "");
}
static void emit_sum(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    reduce_all(c, id, 0);
}
static void emit_mean(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    reduce_all(c, id, 1);
}
static void emit_broadcast(cg_c *c, int id, const char *const *a, strbuf *e) {
    if (!cg_c_node(c, id)->iattr[0]) sb_puts(e, a[0]);
    else sb_printf(e, "(%s / (real)%s)", a[0], cg_c_count(c, &cg_c_node(c, id)->shape));
}

/* ---- losses over class labels: rows of scores [B,C] and labels [B] ---- */

static int sums(cg_c *c, int id) { return cg_c_node(c, id)->iattr[0] != 0; }

/* dloss, divided by the batch for reduction=mean */
static const char *row_scale(cg_c *c, int id) {
    const char *dloss = cg_c_scalar(c, in_id(c, id, 2));
    return sums(c, id) ? dloss : arena_printf(c->a, "%s / (real)n", dloss);
}

static void emit_cross_entropy(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    long long C = in_node(c, id, 0)->shape.dims[1];
    double eps = cg_c_node(c, id)->fattr[0];
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

static void emit_cross_entropy_grad(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    long long C = in_node(c, id, 0)->shape.dims[1];
    double eps = cg_c_node(c, id)->fattr[0];
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

static void emit_nll(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    long long C = in_node(c, id, 0)->shape.dims[1];
    sb_printf(OUT, "    {\n"
                   "        double total = 0;\n"
                   "        for (long r = 0; r < n; r++) total -= t%d[r * %lld + t%d[r]];\n"
                   "        t%d[0] = (real)(total%s);\n"
                   "    }\n",
              in_id(c, id, 0), C, in_id(c, id, 1), id, sums(c, id) ? "" : " / n");
}

static void emit_nll_grad(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    long long C = in_node(c, id, 0)->shape.dims[1];
    sb_printf(OUT, "    for (long r = 0; r < n; r++) {\n"
                   "        real *gr = t%d + r * %lld;\n"
                   "        for (long j = 0; j < %lld; j++) gr[j] = 0;\n"
                   "        gr[t%d[r]] = -(%s);\n"
                   "    }\n",
              id, C, C, in_id(c, id, 1), row_scale(c, id));
}

/* ---- losses over elements: prediction $0 and target $1 of equal shapes ---- */

/* the sum of `tmpl` over all elements, divided by their count for reduction=mean */
static void elem_loss(cg_c *c, int id, const char *tmpl) {
    static const char *const pt[] = {"p", "t"};
    const char *count = cg_c_count(c, &in_node(c, id, 0)->shape);
    strbuf term;
    sb_init(&term, c->a);
    expand(&term, tmpl, pt);
    sb_printf(OUT, "    {\n"
                   "        double s = 0;\n"
                   "        for (long i = 0; i < %s; i++) {\n"
                   "            const real p = t%d[i], t = t%d[i];\n"
                   "            s += (double)(%s);\n"
                   "        }\n"
                   "        t%d[0] = (real)(s%s%s);\n"
                   "    }\n",
              count, in_id(c, id, 0), in_id(c, id, 1), term.data, id,
              sums(c, id) ? "" : " / (double)", sums(c, id) ? "" : count);
}

/* elementwise gradient: the derivative template (for the target when iattr[1]) times dloss $2,
 * divided by the element count for reduction=mean */
static void elem_loss_grad(cg_c *c, int id, const char *const *a, strbuf *e, const char *d_pred,
                           const char *d_target) {
    const ir_node *n = cg_c_node(c, id);
    sb_puts(e, "((");
    expand(e, n->iattr[1] ? d_target : d_pred, a);
    if (sums(c, id)) sb_printf(e, ") * %s)", a[2]);
    else sb_printf(e, ") * (%s / (real)%s))", a[2], cg_c_count(c, &n->shape));
}

static const char *smooth_l1_term(cg_c *c, int id) {
    double beta = cg_c_node(c, id)->fattr[0];
    const char *B = lit(c, beta);
    return beta == 0 ? "R_FABS($0 - $1)" : arena_printf(c->a,
              "(R_FABS($0 - $1) < %s ? (real)0.5 * ($0 - $1) * ($0 - $1) / %s "
              ": R_FABS($0 - $1) - (real)0.5 * %s)", B, B, B);
}
static const char *huber_term(cg_c *c, int id) {
    const char *D = lit(c, cg_c_node(c, id)->fattr[0]);
    return arena_printf(c->a, "(R_FABS($0 - $1) < %s ? (real)0.5 * ($0 - $1) * ($0 - $1) "
                              ": %s * (R_FABS($0 - $1) - (real)0.5 * %s))", D, D, D);
}

#define ELOSS(name, tmpl) \
    static const char *term_##name(cg_c *c, int id) {                          \
        (void)c, (void)id;                                                      \
        return tmpl;                                                            \
    }                                                                           \
    static void emit_##name(cg_c *c, int id, const char *const *a, strbuf *e) { \
        (void)a, (void)e;                                                       \
        elem_loss(c, id, term_##name(c, id));                                   \
    }
#define ELOSS_GRAD(name, d_pred, d_target) \
    static void emit_##name(cg_c *c, int id, const char *const *a, strbuf *e) { \
        elem_loss_grad(c, id, a, e, d_pred, d_target);                          \
    }

ELOSS(mse, "($0 - $1) * ($0 - $1)")
ELOSS_GRAD(mse_grad, "(real)2 * ($0 - $1)", NULL)
ELOSS(mae, "R_FABS($0 - $1)")
ELOSS_GRAD(mae_grad, "(real)(($0 > $1) - ($0 < $1))", NULL)
ELOSS(bce, "($1 - (real)1) * R_FMAX(R_LOG1P(-$0), (real)-100) - $1 * R_FMAX(R_LOG($0), (real)-100)")
ELOSS_GRAD(bce_grad, "($0 - $1) / R_FMAX(((real)1 - $0) * $0, (real)1e-12)",
           "-R_LOG($0 / ((real)1 - $0))")
ELOSS(bce_with_logits, "((real)1 - $1) * $0 - (R_FMIN($0, (real)0) - R_LOG1P(R_EXP(-R_FABS($0))))")
ELOSS_GRAD(bce_with_logits_grad, "(real)1 / ((real)1 + R_EXP(-$0)) - $1", "-$0")
ELOSS(hinge, "R_FMAX((real)1 - $1 * $0, (real)0)")
ELOSS_GRAD(hinge_grad, "((real)1 - $1 * $0 > (real)0 ? -$1 : (real)0)",
           "((real)1 - $1 * $0 > (real)0 ? -$0 : (real)0)")

/* smooth L1 with beta B; beta = 0 is the L1 loss, as torch */
ELOSS(smooth_l1, smooth_l1_term(c, id))
static void emit_smooth_l1_grad(cg_c *c, int id, const char *const *a, strbuf *e) {
    double beta = cg_c_node(c, id)->fattr[0];
    const char *B = lit(c, beta);
    elem_loss_grad(c, id, a, e, beta == 0 ? "(real)(($0 > $1) - ($0 < $1))" : arena_printf(c->a,
                   "(($0 - $1) <= -%s ? (real)-1 : ($0 - $1) >= %s ? (real)1 : ($0 - $1) / %s)",
                   B, B, B), NULL);
}

ELOSS(huber, huber_term(c, id))
static void emit_huber_grad(cg_c *c, int id, const char *const *a, strbuf *e) {
    const char *D = lit(c, cg_c_node(c, id)->fattr[0]);
    elem_loss_grad(c, id, a, e, arena_printf(c->a, "(($0 - $1) <= -%s ? -%s : ($0 - $1) >= %s ? %s "
                                                   ": ($0 - $1))", D, D, D, D), NULL);
}

const char *cg_c_elem_loss_term(cg_c *c, int id) {
    static const char *const pt[] = {"p", "t"};
    const char *tmpl = NULL;
    switch (cg_c_node(c, id)->op) {
    case IR_OP_mse: tmpl = term_mse(c, id); break;
    case IR_OP_mae: tmpl = term_mae(c, id); break;
    case IR_OP_smooth_l1: tmpl = term_smooth_l1(c, id); break;
    case IR_OP_huber: tmpl = term_huber(c, id); break;
    case IR_OP_bce: tmpl = term_bce(c, id); break;
    case IR_OP_bce_with_logits: tmpl = term_bce_with_logits(c, id); break;
    case IR_OP_hinge: tmpl = term_hinge(c, id); break;
    default: return NULL;
    }
    strbuf term;
    sb_init(&term, c->a);
    expand(&term, tmpl, pt);
    return term.data;
}

/* ---- optimizer support ---- */
EX2(maximum, "R_FMAX(%s, %s)")
static void emit_minimum(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)c, (void)id;
    sb_printf(e, "(%s < %s ? %s : %s)", a[0], a[1], a[0], a[1]);
}
static void emit_sum_abs_grad(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)c, (void)id;
    sb_printf(e, "(%s > (real)0 ? %s : %s < (real)0 ? -%s : (real)0)", a[0], a[1], a[0], a[1]);
}

/* sum of f(x) over every element of input 0 into the scalar tID; f is `fx` over `x` */
static void emit_sum_of(cg_c *c, int id, const char *fx) {
    sb_printf(OUT, "    {\n"
                   "        double s = 0;\n"
                   "        for (long i = 0; i < %s; i++) {\n"
                   "            const double x = t%d[i];\n"
                   "            s += %s;\n"
                   "        }\n"
                   "        t%d[0] = (real)s;\n"
                   "    }\n",
              cg_c_count(c, &in_node(c, id, 0)->shape), in_id(c, id, 0), fx, id);
}
static void emit_sum_squares(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    emit_sum_of(c, id, "x * x");
}
static void emit_sum_abs(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    emit_sum_of(c, id, "fabs(x)");
}

/* ---- inference ---- */

/* (x - shift) / scale in double, rounded once: bit for bit what dlrt_normalize feeds training */
static void emit_normalize(cg_c *c, int id, const char *const *a, strbuf *e) {
    const ir_node *n = cg_c_node(c, id);
    sb_printf(e, "(real)(((double)%s - %.17g) / %.17g)", a[0], n->fattr[0], n->fattr[1]);
}

/* ---- batchnorm: channel c of x [B, C] or [B, C, H, W] is B runs of `inner` values ---- */

typedef struct bn_geom {
    const char *outer; /* the batch: "n" or a number */
    long long C;       /* channels, dims[1] */
    long long inner;   /* values per (sample, channel): H * W, or 1 */
    long long numel;   /* values of x at the compiled batch size */
} bn_geom;

static bn_geom geom_of(cg_c *c, int x) {
    const ir_shape *s = &cg_c_node(c, x)->shape;
    bn_geom g = {cg_c_dim(c, s, 0), s->dims[1], 1, ir_shape_numel(s)};
    for (int i = 2; i < s->rank; i++) g.inner *= s->dims[i];
    return g;
}

/* `body` once per value of channel c, at index k of x-shaped buffers */
static void channel_loop(cg_c *c, const bn_geom *g, const char *body) {
    sb_printf(OUT, "        for (long b = 0; b < %s; b++)\n"
                   "            for (long k = (b * %lld + c) * %lld; k < (b * %lld + c + 1) * %lld; k++) %s\n",
              g->outer, g->C, g->inner, g->C, g->inner, body);
}

/* `body` once per value of channel c, at index k, with l = k's lane among 8: sums over a
 * channel go into 8 partial sums (lane l), so their loop vectorizes instead of waiting on one
 * running sum (with fewer than 8 values per sample, all in lane 0); the order is fixed, so the
 * results do not depend on the threads */
static void channel_lanes(cg_c *c, const bn_geom *g, const char *body) {
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
static void channel_open(cg_c *c, const bn_geom *g, int stats, double eps) {
    cg_c_parallel(c, arena_printf(c->a, "(long)%s * %lld", g->outer, g->C * g->inner), g->numel);
    sb_printf(OUT, "    for (long c = 0; c < %lld; c++) {\n"
                   "        const double cnt = (double)%s * %lld;\n"
                   "        const double mean = t%d[c], invstd = 1.0 / sqrt((double)t%d[%lld + c] + %.17g);\n"
                   "        (void)cnt, (void)invstd;\n",
              g->C, g->outer, g->inner, stats, stats, g->C, eps);
}

/* training (and --gradcheck): the batch's mean and biased variance, in double; evaluation:
 * the running statistics */
static void emit_batchnorm_stats(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    int x = in_id(c, id, 0);
    bn_geom g = geom_of(c, x);
    if (!c->train && !c->o->batch_stats) {
        sb_printf(OUT, "    for (long c = 0; c < %lld; c++) {\n"
                       "        t%d[c] = t%d[c];\n        t%d[%lld + c] = t%d[c];\n    }\n",
                  g.C, id, in_id(c, id, 1), id, g.C, in_id(c, id, 2));
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

/* torch's CPU form: y = x * alpha + shift, alpha = invstd * gamma, shift = beta - mean * alpha */
/* batchnorm's per-channel `alpha` and `shift` (y = x alpha + shift) from the channel's `mean`
 * and `invstd`, with gamma and beta when node id has them; shared with the CUDA backend */
const char *cg_c_batchnorm_affine(cg_c *c, int id) {
    const ir_node *n = cg_c_node(c, id);
    if (n->n_in == 4)
        return arena_printf(c->a, "        const real alpha = (real)(invstd * t%d[c]);\n"
                                  "        const real shift = (real)(t%d[c] - mean * invstd * t%d[c]);\n",
                            n->in[2], n->in[3], n->in[2]);
    return "        const real alpha = (real)invstd, shift = (real)(-mean * invstd);\n";
}

static void emit_batchnorm(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    const ir_node *n = cg_c_node(c, id);
    int x = n->in[0];
    bn_geom g = geom_of(c, x);
    channel_open(c, &g, n->in[1], n->fattr[0]);
    sb_puts(OUT, cg_c_batchnorm_affine(c, id));
    channel_loop(c, &g, arena_printf(c->a, "t%d[k] = t%d[k] * alpha + shift;", id, x));
    sb_puts(OUT, "    }\n");
}

/* per channel: sdy = sum dy, dot = sum (x - mean) dy (in 8 lanes each) */
static void channel_sums(cg_c *c, const bn_geom *g, int x, int dy) {
    sb_puts(OUT, "        double sdy = 0, dot = 0, ls[8] = {0}, ld[8] = {0};\n");
    channel_lanes(c, g, arena_printf(c->a, "ls[l] += t%d[k]; ld[l] += (t%d[k] - mean) * t%d[k];",
                                     dy, x, dy));
    sb_puts(OUT, "        for (int l = 0; l < 8; l++) sdy += ls[l], dot += ld[l];\n"
                 "        (void)sdy, (void)dot;\n");
}

/* torch's batch-statistics backward: dx = (dy - sdy / N - (x - mean) invstd^2 dot / N) invstd gamma */
static void emit_batchnorm_grad(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    const ir_node *n = cg_c_node(c, id);
    int x = n->in[0], dy = n->in[2];
    bn_geom g = geom_of(c, x);
    channel_open(c, &g, n->in[1], n->fattr[0]);
    channel_sums(c, &g, x, dy);
    sb_printf(OUT, "        const double proj = dot * invstd * invstd / cnt, mdy = sdy / cnt;\n"
                   "        const double w = invstd%s;\n",
              n->n_in == 4 ? arena_printf(c->a, " * t%d[c]", n->in[3]) : "");
    channel_loop(c, &g, arena_printf(c->a, "t%d[k] = (real)((t%d[k] - mdy - (t%d[k] - mean) * proj) * w);",
                                     id, dy, x));
    sb_puts(OUT, "    }\n");
}

/* dgamma = dot * invstd (the sum of dy * xhat), dbeta = sdy */
static void emit_batchnorm_param_grad(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    const ir_node *n = cg_c_node(c, id);
    bn_geom g = geom_of(c, n->in[0]);
    channel_open(c, &g, n->in[1], n->fattr[0]);
    channel_sums(c, &g, n->in[0], n->in[2]);
    sb_printf(OUT, "        t%d[c] = (real)%s;\n    }\n", id, n->iattr[0] ? "sdy" : "(dot * invstd)");
}

/* torch: running = momentum * stat + (1 - momentum) * running, the variance unbiased */
static void emit_batchnorm_running(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    const ir_node *n = cg_c_node(c, id);
    bn_geom g = geom_of(c, n->in[2]);
    int row = (int)n->iattr[0];
    double m = n->fattr[0];
    sb_printf(OUT, "    {\n        const double cnt = (double)%s * %lld;\n"
                   "        for (long c = 0; c < %lld; c++)\n"
                   "            t%d[c] = cnt > 1 ? (real)(%.17g * t%d[%lld + c]%s + %.17g * t%d[c]) : t%d[c];\n"
                   "    }\n",
              g.outer, g.inner, g.C, id, m, n->in[1], row * g.C, row ? " * (cnt / (cnt - 1))" : "",
              1 - m, n->in[0], n->in[0]);
}
#define emit_buffer emit_leaf

const cg_emit_fn cg_c_emitters[IR_OP_COUNT] = {
#define OP(name, n_in, flags, shape, grad, attrs, cuda) [IR_OP_##name] = emit_##name,
#include "../ir/ops.def"
#undef OP
};
