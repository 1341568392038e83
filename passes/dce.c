/*
 * dce.c — dead-code elimination with renumbering.
 * Requires: shapes known. Establishes: only nodes that reach a root (the loss, a named output,
 * an assign) remain, in the same relative order, with ids renumbered densely; param grad
 * links, the loss, the steps' losses and outputs are remapped. Gradient nodes of params that nothing updates are
 * dropped (their grad link becomes -1).
 */
#include "pass.h"
#include <string.h>

static char *mark_live(const ir_graph *g, const char *retired) {
    char *live = arena_alloc(g->a, (size_t)g->n_nodes);
    if (g->loss >= 0) live[g->loss] = 1;
    for (int i = 0; i < g->n_outputs; i++) live[g->outputs[i]] = 1;
    for (int id = g->n_nodes - 1; id >= 0; id--) {
        const ir_node *n = ir_get(g, id);
        if (ir_op_flags[n->op] & OPF_SIDE) live[id] = 1;
        /* params are the model: kept, unless a pass replaced them */
        if (n->op == IR_OP_param && !(retired && retired[id])) live[id] = 1;
        if (!live[id]) continue;
        for (int i = 0; i < n->n_in; i++) live[n->in[i]] = 1;
    }
    return live;
}

/* a step's loss and gradients by the new ids (a gradient nothing reads any more: -1) */
static void remap_step(ir_step *st, const int *remap, int n_nodes, arena *a) {
    if (st->loss >= 0) st->loss = remap[st->loss];
    if (!st->grad) return;
    int *grad = arena_alloc(a, sizeof(int) * ((size_t)n_nodes + 1));
    for (int id = 0; id < n_nodes; id++) grad[id] = -1;
    for (int id = 0; id < st->n_grad; id++)
        if (remap[id] >= 0 && st->grad[id] >= 0) grad[remap[id]] = remap[st->grad[id]];
    st->grad = grad;
    st->n_grad = n_nodes;
}

int pass_dce(pass_ctx *c) {
    pass_dce_remove_dead(c->g, NULL);
    return 1;
}

void pass_dce_remove_dead(ir_graph *g, const char *retired) {
    char *live = mark_live(g, retired);
    int *remap = arena_alloc(g->a, sizeof(int) * (size_t)g->n_nodes);
    int n = 0;
    for (int id = 0; id < g->n_nodes; id++) {
        remap[id] = live[id] ? n : -1;
        if (!live[id]) continue;
        ir_node moved = g->nodes[id];
        for (int i = 0; i < moved.n_in; i++) moved.in[i] = remap[moved.in[i]];
        g->nodes[n++] = moved;
    }
    g->n_nodes = n;
    for (int id = 0; id < n; id++) {
        ir_node *node = &g->nodes[id];
        if (node->grad >= 0) node->grad = remap[node->grad];
    }
    if (g->loss >= 0) g->loss = remap[g->loss];
    for (int k = 0; k < g->n_steps; k++) remap_step(&g->steps[k], remap, n, g->a);
    for (int i = 0; i < g->n_outputs; i++) g->outputs[i] = remap[g->outputs[i]];
}
