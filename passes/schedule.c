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

/* ---- the training step: each parameter's update as soon as it may run ---- */

typedef struct update_order {
    const ir_graph *g;
    char *done;      /* per node id: 1 in the list, 2 about to join it (try_chain), else 0 */
    int **access;    /* per leaf id: the nodes reading or assigning it, in id order */
    int *n_access;   /* per leaf id: entries of access */
} update_order;

static int is_update(const ir_node *n) { return n->phase == IR_PHASE_UPDATE && !sched_is_leaf(n); }

static void index_leaf_accesses(update_order *u, arena *a) {
    const ir_graph *g = u->g;
    size_t nn = (size_t)g->n_nodes + 1;
    u->access = arena_alloc(a, sizeof(int *) * nn);
    u->n_access = arena_alloc(a, sizeof(int) * nn);
    for (int id = 0; id < g->n_nodes; id++)
        for (int i = 0; i < g->nodes[id].n_in; i++)
            if (sched_is_leaf(&g->nodes[g->nodes[id].in[i]])) u->n_access[g->nodes[id].in[i]]++;
    for (int leaf = 0; leaf < g->n_nodes; leaf++) {
        u->access[leaf] = arena_alloc(a, sizeof(int) * ((size_t)u->n_access[leaf] + 1));
        u->n_access[leaf] = 0;
    }
    for (int id = 0; id < g->n_nodes; id++)
        for (int i = 0; i < g->nodes[id].n_in; i++) {
            int leaf = g->nodes[id].in[i];
            if (sched_is_leaf(&g->nodes[leaf])) u->access[leaf][u->n_access[leaf]++] = id;
        }
}

static int writes(const ir_graph *g, int id, int leaf) {
    return g->nodes[id].op == IR_OP_assign && g->nodes[id].in[0] == leaf;
}

/* update node id may run once the nodes marked done (1, or 2: about to run before it) have:
 * its inputs are computed, and every earlier access to a leaf it assigns (or every earlier
 * assign of a leaf it reads) has run, so reads and writes of params and state keep their order */
static int ready(const update_order *u, int id) {
    const ir_node *n = &u->g->nodes[id];
    for (int i = 0; i < n->n_in; i++) {
        int src = n->in[i];
        if (!sched_is_leaf(&u->g->nodes[src])) {
            if (!u->done[src]) return 0;
            continue;
        }
        for (int k = 0; k < u->n_access[src] && u->access[src][k] < id; k++) {
            int other = u->access[src][k];
            if (!u->done[other] && (writes(u->g, id, src) || writes(u->g, other, src))) return 0;
        }
    }
    return 1;
}

static void take(ir_sched *s, update_order *u, int id) {
    s->pos[id] = s->n;
    s->list[s->n++] = id;
    u->done[id] = 1;
}

/* marks 2 on the update nodes assign `a` needs that have not run (itself included) */
static void mark_chain(update_order *u, int id) {
    if (u->done[id] || !is_update(&u->g->nodes[id])) return;
    u->done[id] = 2;
    for (int i = 0; i < u->g->nodes[id].n_in; i++) mark_chain(u, u->g->nodes[id].in[i]);
}

/* runs the whole chain of assign `a` (in id order) if every node of it may run, else nothing */
static int try_chain(ir_sched *s, update_order *u, int a) {
    mark_chain(u, a);
    int ok = 1;
    for (int id = 0; id <= a && ok; id++)
        if (u->done[id] == 2) ok = ready(u, id);
    for (int id = 0; id <= a; id++)
        if (u->done[id] == 2) {
            u->done[id] = 0;
            if (ok) take(s, u, id);
        }
    return ok;
}

/* every parameter (or state) update whose chain may run now, until none */
static void flush_updates(ir_sched *s, update_order *u) {
    for (int progress = 1; progress;) {
        progress = 0;
        for (int id = 0; id < s->g->n_nodes; id++) {
            const ir_node *n = &s->g->nodes[id];
            if (!u->done[id] && is_update(n) && n->op == IR_OP_assign && try_chain(s, u, id))
                progress = 1;
        }
    }
}

/* what no assign needs, last, in id order */
static void take_rest(ir_sched *s, update_order *u) {
    for (int id = 0; id < s->g->n_nodes; id++)
        if (!u->done[id]) take(s, u, id);
}

/*
 * Forward and backward nodes in id order; the update nodes (optimizer.c appends them after the
 * backward pass) move up, each assign with the update nodes it needs, to run as soon as they
 * all may, at the boundaries before unfused nodes (so no elementwise run of the backward pass
 * is split): a parameter's gradient then dies right after its update instead of living to the
 * end of the step, and an update chain stays one fused loop. With clip_norm the
 * updates wait for the global norm, that is for every gradient, as they must.
 */
static void order_train(const ir_graph *g, arena *a, ir_sched *s) {
    update_order u = {.g = g, .done = arena_alloc(a, (size_t)g->n_nodes + 1)};
    index_leaf_accesses(&u, a);
    s->n = 0;
    for (int id = 0; id < g->n_nodes; id++) {
        const ir_node *n = &g->nodes[id];
        if (is_update(n)) continue;
        if (!sched_is_leaf(n) && !sched_fusable(n)) flush_updates(s, &u);
        take(s, &u, id);
    }
    flush_updates(s, &u);
    take_rest(s, &u);
    DLC_ASSERT(s->n == g->n_nodes);
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
    for (int id = 0; id < g->n_nodes; id++) s->pos[id] = -1;
    if (train) {
        order_train(g, a, s);
        return;
    }
    for (int id = 0; id < g->n_nodes; id++) {
        if (need[id]) {
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
