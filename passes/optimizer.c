/*
 * optimizer.c — lowers the optimizer update into the IR, so every backend gets it for free and
 * code generation fuses each parameter's update into one loop.
 * Requires: autodiff ran (params have ->grad). Establishes: for every param with a gradient, an
 * UPDATE-phase chain ending in assign(param, new value), plus the optimizer state leaves it
 * needs (zero-initialised `state` nodes named "<param>.<slot>") and their assigns.
 * Semantics follow torch.optim: SGD (momentum, dampening 0, optional Nesterov) and Adam with
 * bias correction; weight_decay adds wd * param to the gradient. The learning rate is a
 * per-step scalar input ("lr") so the runtime can apply a schedule; "step" counts from 1.
 * Node order must not depend on the C compiler: never pass two node-creating calls as
 * arguments of one call (their evaluation order is unspecified); sequence them in statements.
 */
#include "pass.h"
#include <string.h>

typedef struct upd {
    ir_graph *g;            /* graph being extended */
    const opt_config *opt;  /* hyperparameters */
    int t;                  /* adam: scalar_in "step" (1-based) */
    int lr;                 /* scalar_in "lr": the scheduled learning rate of this step */
    int step_size;          /* adam: lr / (1 - beta1^t) */
    int inv_bc2_sqrt;       /* adam: 1 / sqrt(1 - beta2^t) */
} upd;

static int k(upd *u, double v) { return ir_const(u->g, v); }
static int add(upd *u, int a, int b) { return ir_add2(u->g, IR_OP_add, a, b); }
static int sub(upd *u, int a, int b) { return ir_add2(u->g, IR_OP_sub, a, b); }
static int mul(upd *u, int a, int b) { return ir_add2(u->g, IR_OP_mul, a, b); }
static int divide(upd *u, int a, int b) { return ir_add2(u->g, IR_OP_div, a, b); }

static int state_like(upd *u, int p, const char *slot) {
    const ir_node *pn = ir_get(u->g, p);
    const char *name = arena_printf(u->g->a, "%s.%s", pn->name, slot);
    return ir_leaf(u->g, IR_OP_state, name, IR_F32, &pn->shape); /* zero-initialised */
}

static void assign(upd *u, int target, int value) { ir_add2(u->g, IR_OP_assign, target, value); }

static int decayed_grad(upd *u, int p) {
    int grad = ir_get(u->g, p)->grad;
    if (u->opt->weight_decay == 0) return grad;
    return add(u, grad, mul(u, k(u, u->opt->weight_decay), p));
}

static void update_sgd(upd *u, int p) {
    int grad = decayed_grad(u, p);
    int step = grad;
    if (u->opt->momentum != 0) {
        int buf = state_like(u, p, "momentum");
        int nbuf = add(u, mul(u, k(u, u->opt->momentum), buf), grad);
        assign(u, buf, nbuf);
        step = nbuf;
        if (u->opt->nesterov) step = add(u, grad, mul(u, k(u, u->opt->momentum), nbuf));
    }
    assign(u, p, sub(u, p, mul(u, u->lr, step)));
}

/* scalars shared by every parameter's Adam update, computed once per step */
static void adam_scalars(upd *u) {
    const opt_config *o = u->opt;
    ir_shape scalar = ir_shape_make(0, 0, NULL);
    u->t = ir_leaf(u->g, IR_OP_scalar_in, "step", IR_F32, &scalar);
    int one = k(u, 1.0);
    int beta1_t = ir_add2(u->g, IR_OP_pow, k(u, o->beta1), u->t);
    int bc1 = sub(u, one, beta1_t);
    int beta2_t = ir_add2(u->g, IR_OP_pow, k(u, o->beta2), u->t);
    int bc2 = sub(u, one, beta2_t);
    u->step_size = divide(u, u->lr, bc1);
    int sqrt_bc2 = ir_add1(u->g, IR_OP_sqrt, bc2);
    u->inv_bc2_sqrt = divide(u, one, sqrt_bc2);
}

static void update_adam(upd *u, int p) {
    const opt_config *o = u->opt;
    int grad = decayed_grad(u, p);
    int m = state_like(u, p, "adam_m"), v = state_like(u, p, "adam_v");
    int m_decayed = mul(u, k(u, o->beta1), m);
    int nm = add(u, m_decayed, mul(u, k(u, 1 - o->beta1), grad));
    int v_decayed = mul(u, k(u, o->beta2), v);
    int grad_sq = mul(u, grad, grad);
    int nv = add(u, v_decayed, mul(u, k(u, 1 - o->beta2), grad_sq));
    assign(u, m, nm);
    assign(u, v, nv);
    int sqrt_v = ir_add1(u->g, IR_OP_sqrt, nv);
    int v_hat_sqrt = mul(u, sqrt_v, u->inv_bc2_sqrt);
    int denom = add(u, v_hat_sqrt, k(u, o->eps));
    assign(u, p, sub(u, p, mul(u, u->step_size, divide(u, nm, denom))));
}

int pass_optimizer(pass_ctx *c) {
    if (!c->opt || !c->with_backward) return 1;
    upd u = {.g = c->g, .opt = c->opt};
    c->g->phase = IR_PHASE_UPDATE;
    c->g->cur_loc = c->opt->loc;
    c->g->cur_what = c->opt->kind == OPT_ADAM ? "adam" : "sgd";
    ir_shape scalar = ir_shape_make(0, 0, NULL);
    u.lr = ir_leaf(c->g, IR_OP_scalar_in, "lr", IR_F32, &scalar);
    if (c->opt->kind == OPT_ADAM) adam_scalars(&u);
    int n_forward = c->g->n_nodes;
    for (int p = 0; p < n_forward; p++) {
        const ir_node *pn = ir_get(c->g, p);
        if (pn->op != IR_OP_param || pn->grad < 0) continue;
        if (c->opt->kind == OPT_ADAM) update_adam(&u, p);
        else update_sgd(&u, p);
    }
    return pass_shape(c);
}
