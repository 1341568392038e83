/*
 * schedule.c — the step functions' schedules and fusion groups (see schedule.h).
 *
 * Fusion: within a function's schedule, a run of consecutive elementwise nodes (and assigns)
 * over the same iteration space becomes one group. Leaves and constants do not break a run.
 * A value whose consumers all sit in its own group is not stored.
 */
#include "schedule.h"

int sched_is_leaf(const ir_node *n) { return (ir_op_flags[n->op] & OPF_LEAF) != 0; }

int sched_fusable(const ir_node *n) {
    return n->op == IR_OP_assign || ((ir_op_flags[n->op] & OPF_ELEM) && !sched_is_leaf(n));
}

const ir_shape *sched_space(const ir_graph *g, int id) {
    const ir_node *n = ir_get(g, id);
    return n->op == IR_OP_assign ? &ir_get(g, n->in[0])->shape : &n->shape;
}

static int same_space(const ir_shape *a, const ir_shape *b) {
    return a->batched == b->batched && ir_shape_numel(a) == ir_shape_numel(b);
}

/* train: every node; eval: what the loss and the outputs depend on (never the update) */
static void select_nodes(const ir_graph *g, int train, arena *a, ir_sched *s) {
    char *need = arena_alloc(a, (size_t)g->n_nodes + 1);
    if (!train) {
        if (g->loss >= 0) need[g->loss] = 1;
        for (int i = 0; i < g->n_outputs; i++) need[g->outputs[i]] = 1;
        for (int id = g->n_nodes - 1; id >= 0; id--)
            if (need[id])
                for (int i = 0; i < g->nodes[id].n_in; i++) need[g->nodes[id].in[i]] = 1;
    }
    s->n = 0;
    for (int id = 0; id < g->n_nodes; id++) {
        s->pos[id] = -1;
        if (train || need[id]) {
            s->pos[id] = s->n;
            s->list[s->n++] = id;
        }
    }
}

static void assign_groups(ir_sched *s) {
    const ir_graph *g = s->g;
    for (int id = 0; id < g->n_nodes; id++) s->group[id] = -1;
    int last = -1, n_groups = 0;
    for (int k = 0; k < s->n; k++) {
        const ir_node *node = ir_get(g, s->list[k]);
        if (sched_is_leaf(node)) continue;
        if (!sched_fusable(node)) {
            last = -1;
            continue;
        }
        if (last >= 0 && same_space(sched_space(g, last), sched_space(g, s->list[k])))
            s->group[s->list[k]] = s->group[last];
        else s->group[s->list[k]] = n_groups++;
        last = s->list[k];
    }
}

/* a value needs memory unless every consumer in this schedule reads it inside its own group */
static void mark_stored(ir_sched *s) {
    const ir_graph *g = s->g;
    for (int k = 0; k < s->n; k++) {
        int id = s->list[k];
        const ir_node *n = &g->nodes[id];
        for (int i = 0; i < n->n_in; i++) {
            int src = n->in[i];
            if (sched_is_leaf(&g->nodes[src])) continue;
            if (s->group[src] < 0 || s->group[src] != s->group[id]) s->stored[src] = 1;
        }
        if (!sched_is_leaf(n) && !sched_fusable(n)) s->stored[id] = 1;
    }
    if (g->loss >= 0 && s->pos[g->loss] >= 0) s->stored[g->loss] = 1;
    for (int i = 0; i < g->n_outputs; i++)
        if (s->pos[g->outputs[i]] >= 0) s->stored[g->outputs[i]] = 1;
    for (int id = 0; id < g->n_nodes; id++)
        if (g->nodes[id].op == IR_OP_assign || sched_is_leaf(&g->nodes[id])) s->stored[id] = 0;
}

/* one step per unfused node, one per fusion group */
static void number_steps(ir_sched *s) {
    int prev_group = -1;
    s->n_steps = 0;
    for (int id = 0; id < s->g->n_nodes; id++) s->step[id] = -1;
    for (int k = 0; k < s->n; k++) {
        int id = s->list[k];
        if (sched_is_leaf(ir_get(s->g, id))) continue;
        if (s->group[id] < 0 || s->group[id] != prev_group) s->n_steps++;
        s->step[id] = s->n_steps - 1;
        prev_group = s->group[id];
    }
}

void sched_build(const ir_graph *g, int train, arena *a, ir_sched *s) {
    size_t nn = (size_t)g->n_nodes + 1;
    *s = (ir_sched){.g = g, .train = train};
    s->list = arena_alloc(a, sizeof(int) * nn);
    s->group = arena_alloc(a, sizeof(int) * nn);
    s->stored = arena_alloc(a, nn);
    s->step = arena_alloc(a, sizeof(int) * nn);
    s->pos = arena_alloc(a, sizeof(int) * nn);
    select_nodes(g, train, a, s);
    assign_groups(s);
    mark_stored(s);
    number_steps(s);
}
