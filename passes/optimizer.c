/*
 * optimizer.c — lowers gradient clipping and the optimizer update into the IR, so every backend
 * gets them for free and code generation fuses each parameter's update into one loop.
 * Requires: autodiff ran (each step's grad). Establishes: per training step (g->steps, each
 * with its own optimizer), for every param with a gradient in it, an UPDATE-phase chain
 * stamped with the step ending in assign(param, new value), plus the optimizer state leaves it
 * needs (`state` nodes named "<param>.<slot>", slots named as torch.optim's state keys, with
 * their initial value in ->init) and their assigns.
 *
 * Semantics are torch.optim's single-tensor update rules, term for term (g is the gradient
 * after clipping, wd the weight decay, t the 1-based step, lr the scheduled learning rate):
 *   sgd      g += wd p; buf = mu buf + (1 - dampening) g (buf = g on step 1);
 *            step = nesterov ? g + mu buf : buf (plain g without momentum); p -= lr step
 *   rmsprop  g += wd p; sq = alpha sq + (1 - alpha) g^2; centered: ga = alpha ga + (1 - alpha) g,
 *            avg = sqrt(sq - ga^2) + eps, else avg = sqrt(sq) + eps; momentum:
 *            buf = mu buf + g / avg, p -= lr buf; else p -= lr g / avg
 *   adagrad  g += wd p; clr = lr / (1 + (t - 1) lr_decay); sum += g^2 (sum starts at
 *            initial_accumulator_value); p -= clr g / (sqrt(sum) + eps)
 *   adam     g += wd p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; amsgrad: vmax =
 *            max(vmax, v), used for v; p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *   adamw    as adam with the decay decoupled: p *= 1 - lr wd first, g unchanged
 * Clipping happens before all of these, on the gradients alone (as torch.nn.utils): clip_value
 * clamps each element to [-v, v] (clip_grad_value_), then clip_norm multiplies every gradient
 * by min(1, max_norm / (total_norm + 1e-6)), total_norm being the L2 norm of all gradients
 * together (clip_grad_norm_). The learning rate is a per-step scalar input ("lr") so the
 * runtime can apply a schedule; "step" counts from 1.
 * Node order must not depend on the C compiler: never pass two node-creating calls as
 * arguments of one call (their evaluation order is unspecified); sequence them in statements.
 */
#include "pass.h"
#include <string.h>

typedef struct upd {
    ir_graph *g;            /* graph being extended */
    const opt_config *opt;  /* hyperparameters */
    int lr;                 /* scalar_in "lr": the scheduled learning rate of this step */
    int t;                  /* scalar_in "step" (1-based), -1 until an update rule needs it */
    int first_coef;         /* sgd with dampening: 1 on step 1, else 1 - dampening */
    int clr;                /* adagrad: lr / (1 + (t - 1) * lr_decay) */
    int step_size;          /* adam(w): lr / (1 - beta1^t) */
    int bc2_sqrt;           /* adam(w): sqrt(1 - beta2^t) */
    int decay;              /* adamw: 1 - lr * weight_decay */
} upd;

static int k(upd *u, double v) { return ir_const(u->g, v); }
static int add(upd *u, int a, int b) { return ir_add2(u->g, IR_OP_add, a, b); }
static int sub(upd *u, int a, int b) { return ir_add2(u->g, IR_OP_sub, a, b); }
static int mul(upd *u, int a, int b) { return ir_add2(u->g, IR_OP_mul, a, b); }
static int divide(upd *u, int a, int b) { return ir_add2(u->g, IR_OP_div, a, b); }
static int root(upd *u, int a) { return ir_add1(u->g, IR_OP_sqrt, a); }
/* node `a OP constant` / `constant OP a` (helpers create at most one node per argument, so
 * node order, and with it the IR dump, does not depend on argument evaluation order) */
static int opk(upd *u, ir_op op, int a, double v) {
    int kv = k(u, v);
    return ir_add2(u->g, op, a, kv);
}
static int kop(upd *u, ir_op op, double v, int a) {
    int kv = k(u, v);
    return ir_add2(u->g, op, kv, a);
}
static int kmul(upd *u, double v, int a) { return kop(u, IR_OP_mul, v, a); }
static int addk(upd *u, int a, double v) { return opk(u, IR_OP_add, a, v); }

/* state leaf shaped like param p, starting at `init` everywhere */
static int state_like(upd *u, int p, const char *slot, double init) {
    const ir_node *pn = ir_get(u->g, p);
    const char *name = arena_printf(u->g->a, "%s.%s", pn->name, slot);
    int id = ir_leaf(u->g, IR_OP_state, name, IR_F32, &pn->shape);
    if (init != 0) ir_get(u->g, id)->init = (ir_init){.kind = IR_INIT_CONSTANT, .a = init};
    return id;
}

static void assign(upd *u, int target, int value) { ir_add2(u->g, IR_OP_assign, target, value); }

static int step_scalar(upd *u) {
    if (u->t < 0) {
        ir_shape scalar = ir_shape_make(0, 0, NULL);
        u->t = ir_leaf(u->g, IR_OP_scalar_in, "step", IR_F32, &scalar);
    }
    return u->t;
}

/* L2 weight decay folded into the gradient (every optimizer but adamw) */
static int decayed_grad(upd *u, int p, int grad) {
    if (u->opt->weight_decay == 0) return grad;
    return add(u, grad, kmul(u, u->opt->weight_decay, p));
}

/* ---- per-step scalars, computed once for all parameters ---- */

static void sgd_scalars(upd *u) {
    double d = u->opt->dampening;
    if (u->opt->momentum == 0 || d == 0) return;
    /* 0^(t-1) is 1 on the first step and 0 after it (C99 pow: pow(0, 0) = 1) */
    int t = step_scalar(u);
    int first = kop(u, IR_OP_pow, 0.0, opk(u, IR_OP_sub, t, 1.0));
    u->first_coef = addk(u, kmul(u, d, first), 1 - d);
}

static void adagrad_scalars(upd *u) {
    if (u->opt->lr_decay == 0) {
        u->clr = u->lr;
        return;
    }
    int t = step_scalar(u);
    int decays = kmul(u, u->opt->lr_decay, opk(u, IR_OP_sub, t, 1.0));
    u->clr = divide(u, u->lr, addk(u, decays, 1.0));
}

static void adam_scalars(upd *u) {
    const opt_config *o = u->opt;
    int t = step_scalar(u);
    int bc1 = kop(u, IR_OP_sub, 1.0, kop(u, IR_OP_pow, o->beta1, t));
    int bc2 = kop(u, IR_OP_sub, 1.0, kop(u, IR_OP_pow, o->beta2, t));
    u->step_size = divide(u, u->lr, bc1);
    u->bc2_sqrt = root(u, bc2);
    if (o->kind == OPT_ADAMW && o->weight_decay != 0)
        u->decay = kop(u, IR_OP_sub, 1.0, kmul(u, o->weight_decay, u->lr));
}

static void make_scalars(upd *u) {
    switch (u->opt->kind) {
    case OPT_SGD: sgd_scalars(u); return;
    case OPT_ADAGRAD: adagrad_scalars(u); return;
    case OPT_ADAM: case OPT_ADAMW: adam_scalars(u); return;
    case OPT_RMSPROP: case OPT_COUNT: return;
    }
}

/* ---- update rules ---- */

/* buf = mu * buf + value; returns the new buffer */
static int momentum_buffer(upd *u, int p, int value) {
    int buf = state_like(u, p, "momentum_buffer", 0);
    int nbuf = add(u, kmul(u, u->opt->momentum, buf), value);
    assign(u, buf, nbuf);
    return nbuf;
}

static void update_sgd(upd *u, int p, int grad) {
    const opt_config *o = u->opt;
    int g = decayed_grad(u, p, grad), step = g;
    if (o->momentum != 0) {
        /* the zero-initialised buffer makes step 1 give buf = g when dampening is 0 */
        int nbuf = momentum_buffer(u, p, o->dampening != 0 ? mul(u, u->first_coef, g) : g);
        step = o->nesterov ? add(u, g, kmul(u, o->momentum, nbuf)) : nbuf;
    }
    assign(u, p, sub(u, p, mul(u, u->lr, step)));
}

/* Running averages in torch.optim's operation order (as the reference values' torch 1.13
 * writes them; torch 2 computes the first moment as lerp_, equal up to one rounding), so float
 * roundings match where they are amplified, e.g. by centered rmsprop's sq - ga^2. */

/* state s <- s * beta + (1 - beta) * g (mul_(beta).add_(g, alpha=1 - beta)) */
static int moving_avg(upd *u, int p, const char *slot, double beta, int g) {
    int s = state_like(u, p, slot, 0);
    int old = opk(u, IR_OP_mul, s, beta);
    int ns = add(u, old, kmul(u, 1 - beta, g));
    assign(u, s, ns);
    return ns;
}

/* state s <- s * beta + ((1 - beta) * g) * g (mul_(beta).addcmul_(g, g, value=1 - beta)) */
static int square_avg(upd *u, int p, const char *slot, double beta, int g) {
    int s = state_like(u, p, slot, 0);
    int old = opk(u, IR_OP_mul, s, beta);
    int ng = kmul(u, 1 - beta, g);
    int ns = add(u, old, mul(u, ng, g));
    assign(u, s, ns);
    return ns;
}

static void update_rmsprop(upd *u, int p, int grad) {
    const opt_config *o = u->opt;
    int g = decayed_grad(u, p, grad);
    int sq = square_avg(u, p, "square_avg", o->alpha, g);
    if (o->centered) {
        int ga = moving_avg(u, p, "grad_avg", o->alpha, g);
        sq = sub(u, sq, mul(u, ga, ga));
    }
    int avg = addk(u, root(u, sq), o->eps);
    int step = divide(u, g, avg);
    if (o->momentum != 0) step = momentum_buffer(u, p, step);
    assign(u, p, sub(u, p, mul(u, u->lr, step)));
}

static void update_adagrad(upd *u, int p, int grad) {
    const opt_config *o = u->opt;
    int g = decayed_grad(u, p, grad);
    int sum = state_like(u, p, "sum", o->initial_accumulator);
    int nsum = add(u, sum, mul(u, g, g));
    assign(u, sum, nsum);
    int std = addk(u, root(u, nsum), o->eps);
    assign(u, p, sub(u, p, mul(u, u->clr, divide(u, g, std))));
}

static void update_adam(upd *u, int p, int grad) {
    const opt_config *o = u->opt;
    int adamw = o->kind == OPT_ADAMW, g = adamw ? grad : decayed_grad(u, p, grad);
    int nm = moving_avg(u, p, "exp_avg", o->beta1, g);
    int nv = square_avg(u, p, "exp_avg_sq", o->beta2, g);
    if (o->amsgrad) {
        int vmax = state_like(u, p, "max_exp_avg_sq", 0);
        int nvmax = ir_add2(u->g, IR_OP_maximum, vmax, nv);
        assign(u, vmax, nvmax);
        nv = nvmax;
    }
    int denom = addk(u, divide(u, root(u, nv), u->bc2_sqrt), o->eps);
    int base = adamw && o->weight_decay != 0 ? mul(u, p, u->decay) : p;
    assign(u, p, sub(u, base, mul(u, u->step_size, divide(u, nm, denom))));
}

static void update_param(upd *u, int p, int grad) {
    switch (u->opt->kind) {
    case OPT_SGD: update_sgd(u, p, grad); return;
    case OPT_RMSPROP: update_rmsprop(u, p, grad); return;
    case OPT_ADAGRAD: update_adagrad(u, p, grad); return;
    case OPT_ADAM: case OPT_ADAMW: update_adam(u, p, grad); return;
    case OPT_COUNT: break;
    }
    dlc_internal_error(__FILE__, __LINE__, "optimizer kind %d", (int)u->opt->kind);
}

/* ---- gradient clipping ---- */

/* every gradient grads[0..n) replaced by its clipped value */
static void clip_gradients(upd *u, int *grads, int n) {
    double v = u->opt->clip_value, max_norm = u->opt->clip_norm;
    for (int i = 0; v != 0 && i < n; i++)
        grads[i] = opk(u, IR_OP_minimum, opk(u, IR_OP_maximum, grads[i], -v), v);
    if (max_norm == 0 || n == 0) return;
    int total = -1;
    for (int i = 0; i < n; i++) {
        int sq = ir_add1(u->g, IR_OP_sum_squares, grads[i]);
        total = total < 0 ? sq : add(u, total, sq);
    }
    int coef = kop(u, IR_OP_div, max_norm, addk(u, root(u, total), 1e-6));
    int scale = opk(u, IR_OP_minimum, coef, 1.0);
    for (int i = 0; i < n; i++) grads[i] = mul(u, grads[i], scale);
}

/* the per-step scalar `what` ("lr", "step") of step st: its own name when the train block
 * has named steps ("discriminator.lr"), so each step has its schedule and its count */
static int step_scalar_named(ir_graph *g, const ir_step *st, const char *what) {
    ir_shape scalar = ir_shape_make(0, 0, NULL);
    const char *name = st->name ? arena_printf(g->a, "%s.%s", st->name, what) : what;
    return ir_leaf(g, IR_OP_scalar_in, name, IR_F32, &scalar);
}

/* step k's update: clipping, then each of its params' update */
static void update_step(ir_graph *g, int k) {
    const ir_step *st = &g->steps[k];
    upd u = {.g = g, .opt = st->opt, .t = -1};
    g->phase = IR_PHASE_UPDATE;
    g->cur_step = k;
    g->cur_loc = st->opt->loc;
    g->cur_what = ir_opt_names[st->opt->kind];
    int n_forward = g->n_nodes, n = 0;
    int *params = arena_alloc(g->a, sizeof(int) * (size_t)n_forward);
    int *grads = arena_alloc(g->a, sizeof(int) * (size_t)n_forward);
    for (int p = 0; p < n_forward; p++) {
        const ir_node *pn = ir_get(g, p);
        if (pn->op != IR_OP_param || st->grad[p] < 0) continue;
        params[n] = p;
        grads[n++] = st->grad[p];
    }
    clip_gradients(&u, grads, n);
    u.lr = step_scalar_named(g, st, "lr");
    if (st->name) u.t = step_scalar_named(g, st, "step");
    make_scalars(&u);
    for (int i = 0; i < n; i++) update_param(&u, params[i], grads[i]);
    g->cur_step = -1;
}

int pass_optimizer(pass_ctx *c) {
    if (!c->opt || !c->with_backward) return 1;
    for (int k = 0; k < c->g->n_steps; k++) update_step(c->g, k);
    return pass_shape(c);
}
