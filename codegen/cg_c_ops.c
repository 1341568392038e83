/*
 * cg_c_ops.c — one C emitter per op (table generated from ops.def). Elementwise ops return an
 * expression over their operands' expressions (the caller fuses them into loops); the others
 * write whole statements that read their inputs `tK` and write their own buffer `tID`.
 * Reductions accumulate in double.
 */
#include "cg_c_internal.h"

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

static void emit_softmax(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    const char *rows;
    long long C;
    rows_cols(c, &cg_c_node(c, id)->shape, &rows, &C);
    int x = in_id(c, id, 0);
    sb_printf(OUT, "    for (long r = 0; r < %s; r++) {\n"
                   "        const real *xr = t%d + r * %lld;\n"
                   "        real *yr = t%d + r * %lld;\n"
                   "        real m = xr[0];\n"
                   "        for (long j = 1; j < %lld; j++) m = R_FMAX(m, xr[j]);\n"
                   "        double s = 0;\n"
                   "        for (long j = 0; j < %lld; j++) s += (yr[j] = R_EXP(xr[j] - m));\n"
                   "        for (long j = 0; j < %lld; j++) yr[j] = (real)(yr[j] / s);\n"
                   "    }\n",
              rows, x, C, id, C, C, C, C);
}

static void emit_softmax_grad(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    const char *rows;
    long long C;
    rows_cols(c, &cg_c_node(c, id)->shape, &rows, &C);
    sb_printf(OUT, "    for (long r = 0; r < %s; r++) {\n"
                   "        const real *yr = t%d + r * %lld, *dr = t%d + r * %lld;\n"
                   "        double s = 0;\n"
                   "        for (long j = 0; j < %lld; j++) s += (double)yr[j] * dr[j];\n"
                   "        for (long j = 0; j < %lld; j++) t%d[r * %lld + j] = (real)(yr[j] * (dr[j] - s));\n"
                   "    }\n",
              rows, in_id(c, id, 0), C, in_id(c, id, 1), C, C, C, id, C);
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
    sb_printf(OUT, "        const real *xr = t%d + r * %lld;\n"
                   "        real m = xr[0];\n"
                   "        for (long j = 1; j < %lld; j++) m = R_FMAX(m, xr[j]);\n"
                   "        double s = 0;\n"
                   "        for (long j = 0; j < %lld; j++) s += R_EXP(xr[j] - m);\n"
                   "        const double lse = m + log(s);\n",
              logits, C, C, C);
}

static void emit_cross_entropy(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    long long C = in_node(c, id, 0)->shape.dims[1];
    sb_puts(OUT, "    {\n    double total = 0;\n    for (long r = 0; r < n; r++) {\n");
    row_lse(c, in_id(c, id, 0), C);
    sb_printf(OUT, "        total += lse - xr[t%d[r]];\n    }\n    t%d[0] = (real)(total / n);\n    }\n",
              in_id(c, id, 1), id);
}

static void emit_cross_entropy_grad(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    long long C = in_node(c, id, 0)->shape.dims[1];
    sb_printf(OUT, "    for (long r = 0; r < n; r++) {\n");
    row_lse(c, in_id(c, id, 0), C);
    sb_printf(OUT, "        const real scale = %s / (real)n;\n"
                   "        real *gr = t%d + r * %lld;\n"
                   "        for (long j = 0; j < %lld; j++) gr[j] = (real)(exp(xr[j] - lse)) * scale;\n"
                   "        gr[t%d[r]] -= scale;\n"
                   "    }\n",
              cg_c_scalar(c, in_id(c, id, 2)), id, C, C, in_id(c, id, 1));
}

static void emit_mse(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    const char *count = cg_c_count(c, &in_node(c, id, 0)->shape);
    sb_printf(OUT, "    {\n"
                   "        double s = 0;\n"
                   "        for (long i = 0; i < %s; i++) {\n"
                   "            const double d = (double)t%d[i] - t%d[i];\n"
                   "            s += d * d;\n"
                   "        }\n"
                   "        t%d[0] = (real)(s / %s);\n"
                   "    }\n",
              count, in_id(c, id, 0), in_id(c, id, 1), id, count);
}

static void emit_mse_grad(cg_c *c, int id, const char *const *a, strbuf *e) {
    (void)a, (void)e;
    const char *count = cg_c_count(c, &in_node(c, id, 0)->shape);
    sb_printf(OUT, "    {\n"
                   "        const real scale = (real)2 * %s / (real)%s;\n"
                   "        for (long i = 0; i < %s; i++) t%d[i] = (t%d[i] - t%d[i]) * scale;\n"
                   "    }\n",
              cg_c_scalar(c, in_id(c, id, 2)), count, count, id, in_id(c, id, 0), in_id(c, id, 1));
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

const cg_emit_fn cg_c_emitters[IR_OP_COUNT] = {
#define OP(name, n_in, flags, grad) [IR_OP_##name] = emit_##name,
#include "../ir/ops.def"
#undef OP
};
