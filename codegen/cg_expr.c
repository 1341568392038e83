/*
 * cg_expr.c — the elementwise expressions of the shared layer (cg_shared.h), one per op (the
 * table at the end): each returns an expression over its operands' expressions, which the
 * fused loop (cg_loop.c) places in a C loop or a CUDA kernel alike; with them the row bodies
 * of softmax and log-softmax and the terms the element losses sum, which both backends run.
 * Formulas follow PyTorch's CPU kernels term by term (which side of a kink gets which
 * derivative, clamps, the stable forms), so results agree to rounding. Elementwise formulas
 * are templates in which $0..$3 stand for the operand expressions; R_EXP and the other R_
 * names are each target's math functions of type real (the preludes define them).
 */
#include "cg_shared.h"
#include <math.h>
#include <string.h>

static int in_id(cg_ctx *c, int id, int i) { return cg_node(c, id)->in[i]; }
static int sums(cg_ctx *c, int id) { return ir_loss_sum(cg_node(c, id)) != 0; }

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
static const char *lit(cg_ctx *c, double v) { return arena_printf(c->a, "((real)%.17g)", v); }

/* an elementwise op whose formula is a template over its operands */
#define ETMPL(name, tmpl) \
    static void emit_##name(cg_ctx *c, int id, const char *const *a, strbuf *e) { \
        (void)c, (void)id;                                                      \
        expand(e, tmpl, a);                                                     \
    }

/* ---- elementwise ---- */
#define EX2(name, fmt) \
    static void emit_##name(cg_ctx *c, int id, const char *const *a, strbuf *e) { \
        (void)c, (void)id;                                                      \
        sb_printf(e, fmt, a[0], a[1]);                                          \
    }
#define EX1(name, fmt) \
    static void emit_##name(cg_ctx *c, int id, const char *const *a, strbuf *e) { \
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
static void emit_sigmoid_grad(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    (void)c, (void)id;
    sb_printf(e, "(%s * %s * ((real)1 - %s))", a[1], a[0], a[0]);
}
static void emit_tanh_grad(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    (void)c, (void)id;
    sb_printf(e, "(%s * ((real)1 - %s * %s))", a[1], a[0], a[0]);
}
/* torch: x > 0 ? x : x * slope; backward x > 0 ? dy : dy * slope */
static void emit_leaky_relu(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    sb_printf(e, "(%s > (real)0 ? %s : %s * %s)", a[0], a[0], a[0], lit(c, ir_leaky_slope(cg_node(c, id))));
}
static void emit_leaky_relu_grad(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    sb_printf(e, "(%s > (real)0 ? %s : %s * %s)", a[0], a[1], a[1], lit(c, ir_leaky_slope(cg_node(c, id))));
}
ETMPL(prelu, "($0 > (real)0 ? $0 : $1 * $0)")
ETMPL(prelu_grad, "($0 > (real)0 ? $2 : $1 * $2)")
ETMPL(prelu_slope_grad, "($0 > (real)0 ? (real)0 : $0 * $1)")

/* torch: x <= 0 ? expm1(x) * alpha * scale : x * scale; backward x <= 0 ? dy * alpha * scale *
 * exp(x) : dy * scale */
static void emit_elu(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    const ir_node *n = cg_node(c, id);
    sb_printf(e, "(%s <= (real)0 ? R_EXPM1(%s) * %s : %s * %s)", a[0], a[0],
              lit(c, ir_elu_alpha(n) * ir_elu_scale(n)), a[0], lit(c, ir_elu_scale(n)));
}
static void emit_elu_grad(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    const ir_node *n = cg_node(c, id);
    sb_printf(e, "(%s <= (real)0 ? %s * %s * R_EXP(%s) : %s * %s)", a[0], a[1],
              lit(c, ir_elu_alpha(n) * ir_elu_scale(n)), a[0], a[1], lit(c, ir_elu_scale(n)));
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
static void emit_softplus(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    const ir_node *n = cg_node(c, id);
    const char *beta = lit(c, ir_softplus_beta(n));
    sb_printf(e, "(%s * %s > %s ? %s : R_LOG1P(R_EXP(%s * %s)) / %s)", a[0], beta,
              lit(c, ir_softplus_threshold(n)), a[0], a[0], beta, beta);
}
static void emit_softplus_grad(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    const ir_node *n = cg_node(c, id);
    const char *beta = lit(c, ir_softplus_beta(n));
    sb_printf(e, "(%s * %s > %s ? %s : %s * R_EXP(%s * %s) / (R_EXP(%s * %s) + (real)1))", a[0],
              beta, lit(c, ir_softplus_threshold(n)), a[1], a[1], a[0], beta, a[0], beta);
}

/* issue 13 ops1: abs, square, clamp. torch.clamp is min(max(x, lo), hi) (a NaN stays NaN);
 * its gradient passes dy where lo <= x <= hi, the bounds included; an infinite bound (absent in
 * the call) is left out of the formula */
ETMPL(abs, "R_FABS($0)")
ETMPL(square, "($0 * $0)")
static void emit_clamp(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    const ir_node *n = cg_node(c, id);
    double lo = ir_clamp_min(n), hi = ir_clamp_max(n);
    const char *x = a[0];
    if (!isinf(lo)) x = arena_printf(c->a, "(%s < %s ? %s : %s)", x, lit(c, lo), lit(c, lo), x);
    if (!isinf(hi)) x = arena_printf(c->a, "(%s > %s ? %s : %s)", x, lit(c, hi), lit(c, hi), x);
    sb_puts(e, x);
}
static void emit_clamp_grad(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    const ir_node *n = cg_node(c, id);
    double lo = ir_clamp_min(n), hi = ir_clamp_max(n);
    const char *in_lo = isinf(lo) ? "1" : arena_printf(c->a, "%s >= %s", a[0], lit(c, lo));
    const char *in_hi = isinf(hi) ? "1" : arena_printf(c->a, "%s <= %s", a[0], lit(c, hi));
    sb_printf(e, "((%s && %s) ? %s : (real)0)", in_lo, in_hi, a[1]);
}

/* issue 13 ops2: comparisons (1 or 0; false where an operand is NaN but for not_equal, as
 * torch's) and where (cond != 0 picks a) */
ETMPL(greater, "(real)($0 > $1)")
ETMPL(less, "(real)($0 < $1)")
ETMPL(greater_equal, "(real)($0 >= $1)")
ETMPL(less_equal, "(real)($0 <= $1)")
ETMPL(equal, "(real)($0 == $1)")
ETMPL(not_equal, "(real)($0 != $1)")
ETMPL(where, "($0 != (real)0 ? $1 : $2)")

static void emit_assign(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    (void)c, (void)id;
    sb_printf(e, "%s", a[1]); /* the caller stores it into the target */
}

/* ---- row ops: one loop body per row (a C loop over rows, a CUDA thread per row) ---- */

const char *cg_row_max_sum(cg_ctx *c, int x, const char *C) {
    return arena_printf(c->a, "        const real *xr = t%d + r * %s;\n"
                              "        real m = xr[0];\n"
                              "        for (long j = 1; j < %s; j++) m = R_FMAX(m, xr[j]);\n"
                              "        double s = 0;\n"
                              "        for (long j = 0; j < %s; j++) s += R_EXP(xr[j] - m);\n",
                        x, C, C, C);
}

static const char *softmax_body(cg_ctx *c, int id, const char *C) {
    return arena_printf(c->a, "        const real *xr = t%d + r * %s;\n"
                              "        real *yr = t%d + r * %s;\n"
                              "        real m = xr[0];\n"
                              "        for (long j = 1; j < %s; j++) m = R_FMAX(m, xr[j]);\n"
                              "        double s = 0;\n"
                              "        for (long j = 0; j < %s; j++) s += (yr[j] = R_EXP(xr[j] - m));\n"
                              "        for (long j = 0; j < %s; j++) yr[j] = (real)(yr[j] / s);\n",
                        in_id(c, id, 0), C, id, C, C, C, C);
}

static const char *softmax_grad_body(cg_ctx *c, int id, const char *C) {
    return arena_printf(c->a, "        const real *yr = t%d + r * %s, *dr = t%d + r * %s;\n"
                              "        double s = 0;\n"
                              "        for (long j = 0; j < %s; j++) s += (double)yr[j] * dr[j];\n"
                              "        for (long j = 0; j < %s; j++) t%d[r * %s + j] = (real)(yr[j] * (dr[j] - s));\n",
                        in_id(c, id, 0), C, in_id(c, id, 1), C, C, C, id, C);
}

static const char *log_softmax_body(cg_ctx *c, int id, const char *C) {
    return arena_printf(c->a, "%s        const real ls = (real)log(s);\n"
                              "        for (long j = 0; j < %s; j++) t%d[r * %s + j] = (xr[j] - m) - ls;\n",
                        cg_row_max_sum(c, in_id(c, id, 0), C), C, id, C);
}

static const char *log_softmax_grad_body(cg_ctx *c, int id, const char *C) {
    return arena_printf(c->a, "        const real *yr = t%d + r * %s, *dr = t%d + r * %s;\n"
                              "        double s = 0;\n"
                              "        for (long j = 0; j < %s; j++) s += dr[j];\n"
                              "        for (long j = 0; j < %s; j++) t%d[r * %s + j] = dr[j] - R_EXP(yr[j]) * (real)s;\n",
                        in_id(c, id, 0), C, in_id(c, id, 1), C, C, C, id, C);
}

const char *cg_row_body(cg_ctx *c, int id, const char *C) {
    switch (cg_node(c, id)->op) {
    case IR_OP_softmax: return softmax_body(c, id, C);
    case IR_OP_softmax_grad: return softmax_grad_body(c, id, C);
    case IR_OP_log_softmax: return log_softmax_body(c, id, C);
    case IR_OP_log_softmax_grad: return log_softmax_grad_body(c, id, C);
    default: DLC_ASSERT(!"a row op");
    }
    return NULL;
}

/* ---- dropout and noise: random in train_step, the identity in eval_step ---- */

const char cg_random_text[] =
    "/* Counter-based random numbers for dropout and noise: a stateless hash (splitmix64 mixing)\n"
    " * of (seed, step, stream, element index), so the backward pass recomputes the forward\n"
    " * pass's draws instead of storing them. */\n"
    "static uint64_t dlc_mix(uint64_t z) {\n"
    "    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;\n"
    "    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;\n"
    "    return z ^ (z >> 31);\n"
    "}\n\n"
    "static uint64_t dlc_key(long long seed, long long step, int stream) {\n"
    "    uint64_t h = dlc_mix((uint64_t)seed * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL);\n"
    "    h = dlc_mix(h ^ ((uint64_t)step * 0xd1b54a32d192ed03ULL));\n"
    "    return dlc_mix(h ^ ((uint64_t)stream * 0x8cb92ba72f3d8dd7ULL));\n"
    "}\n\n"
    "/* uniform in [0, 1): draw number i of the stream `key` */\n"
    "static double dlc_uniform(uint64_t key, long i) {\n"
    "    return (double)(dlc_mix(key + (uint64_t)i * 0x9e3779b97f4a7c15ULL) >> 11) * 0x1.0p-53;\n"
    "}\n\n";

const char cg_normal_text[] =
    "/* standard normal (Box-Muller over draws 2i and 2i + 1) */\n"
    "static double dlc_normal(uint64_t key, long i) {\n"
    "    const double u1 = dlc_uniform(key, 2 * i), u2 = dlc_uniform(key, 2 * i + 1);\n"
    "    return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);\n"
    "}\n\n";

int cg_needs_random(const ir_graph *g, int has_train, int *with_normal) {
    int any = 0;
    *with_normal = 0;
    for (int id = 0; id < g->n_nodes; id++) {
        ir_op op = g->nodes[id].op;
        int draws = ir_op_is_sample(op) || (has_train && ir_op_is_random(op));
        any |= draws;
        *with_normal |= draws && (op == IR_OP_gaussian_noise || op == IR_OP_normal);
    }
    return any;
}

static const char *rand_key(cg_ctx *c, int id, const char *const *a) {
    return arena_printf(c->a, "dlc_key(%s, %s, %d)", a[1], a[2], (int)ir_random_stream(cg_node(c, id)));
}

/* x * keep / (1 - p): keep when the element's uniform draw is >= p (probability 1 - p) */
static void emit_dropout(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    double p = ir_dropout_p(cg_node(c, id));
    if (!c->train) {
        sb_puts(e, a[0]);
        return;
    }
    sb_printf(e, "(dlc_uniform(%s, i) >= %.17g ? %s * %s : (real)0)", rand_key(c, id, a), p, a[0],
              lit(c, 1 / (1 - p)));
}
#define emit_dropout_grad emit_dropout /* the same mask on dy: same key, same element index */

static void emit_gaussian_noise(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    if (!c->train) {
        sb_puts(e, a[0]);
        return;
    }
    sb_printf(e, "(%s + (real)(%.17g * dlc_normal(%s, i)))", a[0], ir_noise_std(cg_node(c, id)),
              rand_key(c, id, a));
}
/* ---- issue 15: samples, drawn in every step function, and stop-gradient ---- */

/* the key of a sample whose seed and step are operands k and k + 1: the step function's
 * scalars (eval_step's are the runtime's per batch, or zeros), or (0, 0) in inference C, which
 * has none */
static const char *sample_key(cg_ctx *c, int id, const char *const *a, int k) {
    int stream = (int)ir_random_stream(cg_node(c, id));
    if (c->g->weights) return arena_printf(c->a, "dlc_key(0, 0, %d)", stream);
    return arena_printf(c->a, "dlc_key(%s, %s, %d)", a[k], a[k + 1], stream);
}
/* loc + scale * N(0, 1), in double, rounded once */
static void emit_normal(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    const ir_node *n = cg_node(c, id);
    sb_printf(e, "(real)(%.17g + %.17g * dlc_normal(%s, i))", ir_sample_loc(n), ir_sample_scale(n),
              sample_key(c, id, a, 0));
}
/* loc + scale * U[0, 1) (loc = low, scale = high - low), in double, rounded once */
static void emit_uniform(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    const ir_node *n = cg_node(c, id);
    sb_printf(e, "(real)(%.17g + %.17g * dlc_uniform(%s, i))", ir_sample_loc(n), ir_sample_scale(n),
              sample_key(c, id, a, 0));
}
/* 1 where the element's uniform draw is below p (so P(1) = p), else 0 */
static void emit_bernoulli(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    sb_printf(e, "(dlc_uniform(%s, i) < (double)%s ? (real)1 : (real)0)", sample_key(c, id, a, 1), a[0]);
}
/* the identity; autodiff sends nothing back through it. A gradient check's code records the
 * values, or replays them while dlc_hold is set (cg_ctx.hold_stops) */
static void emit_stop_gradient(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    if (!c->hold_stops) sb_puts(e, a[0]);
    else sb_printf(e, "(dlc_hold ? (real)dlc_held%d[i] : (real)(dlc_held%d[i] = (double)%s))", id, id, a[0]);
}
static void emit_broadcast(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    if (!ir_broadcast_mean(cg_node(c, id))) sb_puts(e, a[0]);
    else sb_printf(e, "(%s / (real)%s)", a[0], cg_count(c, &cg_node(c, id)->shape));
}

/* elementwise gradient: the derivative template (for the target when loss.wrt_target) times dloss $2,
 * divided by the element count for reduction=mean */
static void elem_loss_grad(cg_ctx *c, int id, const char *const *a, strbuf *e, const char *d_pred,
                           const char *d_target) {
    const ir_node *n = cg_node(c, id);
    sb_puts(e, "((");
    expand(e, ir_loss_wrt_target(n) ? d_target : d_pred, a);
    if (sums(c, id)) sb_printf(e, ") * %s)", a[2]);
    else sb_printf(e, ") * (%s / (real)%s))", a[2], cg_count(c, &n->shape));
}

static const char *smooth_l1_term(cg_ctx *c, int id) {
    double beta = ir_smooth_l1_beta(cg_node(c, id));
    const char *B = lit(c, beta);
    return beta == 0 ? "R_FABS($0 - $1)" : arena_printf(c->a,
              "(R_FABS($0 - $1) < %s ? (real)0.5 * ($0 - $1) * ($0 - $1) / %s "
              ": R_FABS($0 - $1) - (real)0.5 * %s)", B, B, B);
}
static const char *huber_term(cg_ctx *c, int id) {
    const char *D = lit(c, ir_huber_delta(cg_node(c, id)));
    return arena_printf(c->a, "(R_FABS($0 - $1) < %s ? (real)0.5 * ($0 - $1) * ($0 - $1) "
                              ": %s * (R_FABS($0 - $1) - (real)0.5 * %s))", D, D, D);
}

/* the term an element loss sums (its statement is the backend's) */
#define ELOSS(name, tmpl) \
    static const char *term_##name(cg_ctx *c, int id) {                          \
        (void)c, (void)id;                                                      \
        return tmpl;                                                            \
    }
#define ELOSS_GRAD(name, d_pred, d_target) \
    static void emit_##name(cg_ctx *c, int id, const char *const *a, strbuf *e) { \
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
static void emit_smooth_l1_grad(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    double beta = ir_smooth_l1_beta(cg_node(c, id));
    const char *B = lit(c, beta);
    elem_loss_grad(c, id, a, e, beta == 0 ? "(real)(($0 > $1) - ($0 < $1))" : arena_printf(c->a,
                   "(($0 - $1) <= -%s ? (real)-1 : ($0 - $1) >= %s ? (real)1 : ($0 - $1) / %s)",
                   B, B, B), NULL);
}

ELOSS(huber, huber_term(c, id))
static void emit_huber_grad(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    const char *D = lit(c, ir_huber_delta(cg_node(c, id)));
    elem_loss_grad(c, id, a, e, arena_printf(c->a, "(($0 - $1) <= -%s ? -%s : ($0 - $1) >= %s ? %s "
                                                   ": ($0 - $1))", D, D, D, D), NULL);
}

const char *cg_elem_loss_term(cg_ctx *c, int id) {
    static const char *const pt[] = {"p", "t"};
    const char *tmpl = NULL;
    switch (cg_node(c, id)->op) {
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
static void emit_minimum(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    (void)c, (void)id;
    sb_printf(e, "(%s < %s ? %s : %s)", a[0], a[1], a[0], a[1]);
}
static void emit_sum_abs_grad(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    (void)c, (void)id;
    sb_printf(e, "(%s > (real)0 ? %s : %s < (real)0 ? -%s : (real)0)", a[0], a[1], a[0], a[1]);
}

/* ---- inference ---- */

/* (x - shift) / scale in double, rounded once: bit for bit what dlrt_normalize feeds training */
static void emit_normalize(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    const ir_node *n = cg_node(c, id);
    sb_printf(e, "(real)(((double)%s - %.17g) / %.17g)", a[0], ir_normalize_shift(n),
              ir_normalize_scale(n));
}

/* per feature: (x - shift[f]) / scale[f] in double, rounded once, f = i % F the element of
 * the sample (the loop's space is the node's shape); nrmK (cg_c_infer.c) holds node %K's F
 * shifts, then its F scales */
static void emit_normalize_features(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    long long F = (long long)ir_shape_inner(&cg_node(c, id)->shape);
    sb_printf(e, "(real)(((double)%s - nrm%d[i %% %lld]) / nrm%d[%lld + i %% %lld])", a[0], id, F,
              id, F, F);
}

/* the same elements under other dims: the identity, fused into its neighbours' loop */
static void emit_reshape(cg_ctx *c, int id, const char *const *a, strbuf *e) {
    (void)c, (void)id;
    sb_puts(e, a[0]);
}

/* an entry for each op of kind FUSED in ops.def (a FUSED op without its emit_NAME here is a
 * compile error); the others are their backends' statements */
#define EXPR_NONE(name)
#define EXPR_FUSED(name) [IR_OP_##name] = emit_##name,
#define EXPR_GEMM(name)
#define EXPR_KERNEL(name)
const cg_expr_fn cg_expr_emitters[IR_OP_COUNT] = {
#define OP(name, n_in, flags, shape, grad, attrs, cuda) EXPR_##cuda(name)
#include "../ir/ops.def"
#undef OP
};
