/*
 * autodiff.c — reverse-mode automatic differentiation.
 * Requires: shapes known; g->loss is a scalar. Establishes: every param that the loss depends
 * on has ->grad set to a node computing d loss / d param (phase BACKWARD, located at the
 * forward node it derives from). Walks the forward graph in reverse id order, applies each op's
 * local rule (grad_rules.c) and sums gradients of values with several consumers.
 */
#include "grad_rules.h"
#include "pass.h"

/* requires[i]: node i depends on some param, so gradients must flow through it */
static char *mark_requires(ir_graph *g) {
    char *req = arena_alloc(g->a, (size_t)g->n_nodes);
    for (int id = 0; id < g->n_nodes; id++) {
        const ir_node *n = ir_get(g, id);
        req[id] = n->op == IR_OP_param;
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

int pass_autodiff(pass_ctx *c) {
    ir_graph *g = c->g;
    if (!c->with_backward) return 1;
    DLC_ASSERT(g->loss >= 0 && ir_get(g, g->loss)->shape.rank == 0);
    int n_forward = g->n_nodes;
    char *req = mark_requires(g);
    int *acc = arena_alloc(g->a, sizeof(int) * (size_t)n_forward);
    for (int i = 0; i < n_forward; i++) acc[i] = -1;
    g->phase = IR_PHASE_BACKWARD;
    g->cur_loc = ir_get(g, g->loss)->loc;
    acc[g->loss] = ir_const(g, 1.0);
    for (int id = g->loss; id >= 0; id--) {
        const ir_node *n = ir_get(g, id);
        if (acc[id] < 0 || !req[id] || (ir_op_flags[n->op] & OPF_LEAF)) continue;
        if (!ir_op_differentiable[n->op])
            dlc_internal_error(__FILE__, __LINE__, "gradient through %s", ir_op_names[n->op]);
        backprop_node(g, id, acc, req);
    }
    for (int id = 0; id < n_forward; id++)
        if (ir_get(g, id)->op == IR_OP_param) ir_get(g, id)->grad = acc[id];
    return pass_shape(c);
}
