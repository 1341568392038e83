/*
 * autodiff.c — reverse-mode automatic differentiation.
 * Requires: shapes known; each training step's loss (g->steps) is a scalar. Establishes: per
 * step, steps[k].grad gives every param it updates that its loss depends on a node computing
 * d loss / d param (phase BACKWARD, stamped with the step, located at the forward node it
 * derives from); a param's ->grad is its gradient in step 0. Walks the forward graph in reverse id order, applies each op's
 * local rule (grad_rules.c) and sums gradients of values with several consumers.
 */
#include "grad_rules.h"
#include "pass.h"

/* requires[i]: node i depends on a param the step updates, so gradients must flow through it */
static char *mark_requires(ir_graph *g, const ir_step *st) {
    char *req = arena_alloc(g->a, (size_t)g->n_nodes);
    for (int id = 0; id < g->n_nodes; id++) {
        const ir_node *n = ir_get(g, id);
        req[id] = n->op == IR_OP_param && ir_step_updates(st, n);
        for (int i = 0; i < n->n_in; i++) req[id] |= req[n->in[i]];
        /* no gradient flows through an op without a rule (a comparison): the path stops */
        if (!(ir_op_flags[n->op] & OPF_LEAF) && !ir_op_differentiable[n->op]) req[id] = 0;
    }
    return req;
}

static void accumulate(ir_graph *g, int *acc, int target, int grad) {
    if (acc[target] < 0) {
        acc[target] = grad;
        return;
    }
    acc[target] = ir_add2(g, IR_OP_add, acc[target], grad);
    ir_infer_shape(g, acc[target], NULL);
}

static void backprop_node(ir_graph *g, int id, int *acc, const char *req) {
    const ir_node *n = ir_get(g, id);
    int dx[IR_MAX_IN] = {-1, -1, -1, -1};
    g->cur_loc = n->loc;
    g->cur_what = n->what;
    DLC_ASSERT(pass_grad_rules[n->op] != NULL);
    pass_grad_rules[n->op](g, id, acc[id], dx);
    n = ir_get(g, id); /* the rule may have grown the node table */
    for (int i = 0; i < n->n_in; i++)
        if (dx[i] >= 0 && req[n->in[i]]) accumulate(g, acc, n->in[i], dx[i]);
}

/* the backward graph of step k: its gradients in st->grad (one entry per node id) */
static void differentiate_step(ir_graph *g, int k) {
    ir_step *st = &g->steps[k];
    DLC_ASSERT(st->loss >= 0 && ir_get(g, st->loss)->shape.rank == 0);
    int n_nodes = g->n_nodes;
    char *req = mark_requires(g, st);
    int *acc = arena_alloc(g->a, sizeof(int) * (size_t)n_nodes);
    for (int i = 0; i < n_nodes; i++) acc[i] = -1;
    g->phase = IR_PHASE_BACKWARD;
    g->cur_step = k;
    g->cur_loc = ir_get(g, st->loss)->loc;
    acc[st->loss] = ir_const(g, 1.0);
    for (int id = st->loss; id >= 0; id--) {
        const ir_node *n = ir_get(g, id);
        if (acc[id] < 0 || !req[id] || (ir_op_flags[n->op] & OPF_LEAF)) continue;
        if (!ir_op_differentiable[n->op])
            dlc_internal_error(__FILE__, __LINE__, "gradient through %s", ir_op_names[n->op]);
        backprop_node(g, id, acc, req);
    }
    st->grad = arena_alloc(g->a, sizeof(int) * (size_t)n_nodes);
    st->n_grad = n_nodes;
    for (int id = 0; id < n_nodes; id++)
        st->grad[id] = ir_get(g, id)->op == IR_OP_param && req[id] ? acc[id] : -1;
    g->cur_step = -1;
}

/* a named step whose loss reaches none of the parameters it updates trains nothing */
static int check_step_trains(pass_ctx *c, int k) {
    const ir_step *st = &c->g->steps[k];
    if (!st->name) return 1;
    for (int id = 0; id < c->g->n_nodes && id <= st->loss; id++)
        if (st->grad[id] >= 0) return 1;
    diag_error(c->d, ir_get(c->g, st->loss)->loc, "step '%s': its loss does not depend on any "
               "parameter it updates (params = ...), so the step would train nothing", st->name);
    return 0;
}

int pass_autodiff(pass_ctx *c) {
    ir_graph *g = c->g;
    if (!c->with_backward) return 1;
    DLC_ASSERT(g->n_steps >= 1 && g->steps[0].loss == g->loss);
    int ok = 1;
    for (int k = 0; k < g->n_steps; k++) {
        differentiate_step(g, k);
        ok &= check_step_trains(c, k);
    }
    if (!ok) return 0;
    for (int id = 0; id < g->n_nodes; id++)
        if (ir_get(g, id)->op == IR_OP_param)
            ir_get(g, id)->grad = g->steps[0].grad[id]; /* params precede every step */
    return pass_shape(c);
}
