/*
 * schedule.c — the step functions' schedules and fusion groups (see schedule.h).
 *
 * Fusion: within a function's schedule, a run of consecutive elementwise nodes (and assigns)
 * over the same iteration space becomes one group. Leaves and constants do not break a run.
 * A value whose consumers all sit in its own group is not stored.
 *
 * As the `schedule` analysis of the pass table: Requires: the final graph (after dce), shapes
 * known. Establishes: the evaluation step's schedule, and the training step's when the
 * compilation has one (sched_funcs); the graph is not changed.
 */
#include "pass.h"
#include "schedule.h"
#include <stdlib.h>
#include <string.h>

int pass_sched_is_leaf(const ir_node *n) { return (ir_op_flags[n->op] & OPF_LEAF) != 0; }

int pass_sched_fusable(const ir_node *n) {
    return n->op == IR_OP_assign || ((ir_op_flags[n->op] & OPF_ELEM) && !pass_sched_is_leaf(n));
}

const ir_shape *pass_sched_space(const ir_graph *g, int id) {
    const ir_node *n = ir_get(g, id);
    return n->op == IR_OP_assign ? &ir_get(g, n->in[0])->shape : &n->shape;
}

static int same_space(const ir_shape *a, const ir_shape *b) {
    return a->batched == b->batched && ir_shape_numel(a) == ir_shape_numel(b);
}

/* ---- the training step: each parameter's update as soon as it may run ---- */

typedef struct update_order {
    const ir_graph *g;
    char *done;        /* per node id: 1 in the list, 2 about to join it (try_chain), else 0 */
    int **access;      /* per leaf id: the nodes reading or assigning it, in id order */
    int *n_access;     /* per leaf id: entries of access */
    int *access_done;  /* per leaf id: the entries of access before this one have all run */
    int **writers;     /* per leaf id: the assigns writing it, in id order */
    int *n_writers;    /* per leaf id: entries of writers */
    int *writers_done; /* per leaf id: the entries of writers before this one have all run */
    int *need;         /* per update node id: the chains through it wait (at least) until every
                        * non-update node below this id has run */
    int *by_need;      /* the update assigns, by need */
    int n_assigns;     /* entries of by_need */
    int next_assign;   /* by_need[next_assign..] still wait for their need */
    int *active;       /* update assigns whose need is met and that have not run, by id */
    int n_active;      /* entries of active */
    int *chain;        /* scratch: the chain try_chain tries */
    int *stack;        /* scratch: mark_chain's work list */
} update_order;

static int is_update(const ir_node *n) { return n->phase == IR_PHASE_UPDATE && !pass_sched_is_leaf(n); }

static int writes(const ir_graph *g, int id, int leaf) {
    return g->nodes[id].op == IR_OP_assign && g->nodes[id].in[0] == leaf;
}

static int in_leaf_list(const ir_graph *g, int writers_only, int id, int leaf) {
    return pass_sched_is_leaf(&g->nodes[leaf]) && (!writers_only || writes(g, id, leaf));
}

/* per leaf: the nodes reading or assigning it (writers_only: assigning it), in id order */
static int **index_leaf_list(const ir_graph *g, arena *a, int writers_only, int **count) {
    size_t nn = (size_t)g->n_nodes + 1;
    int **list = arena_alloc(a, sizeof(int *) * nn), *n = arena_alloc(a, sizeof(int) * nn);
    for (int id = 0; id < g->n_nodes; id++)
        for (int i = 0; i < g->nodes[id].n_in; i++)
            if (in_leaf_list(g, writers_only, id, g->nodes[id].in[i])) n[g->nodes[id].in[i]]++;
    for (int leaf = 0; leaf < g->n_nodes; leaf++) {
        list[leaf] = arena_alloc(a, sizeof(int) * ((size_t)n[leaf] + 1));
        n[leaf] = 0;
    }
    for (int id = 0; id < g->n_nodes; id++)
        for (int i = 0; i < g->nodes[id].n_in; i++) {
            int leaf = g->nodes[id].in[i];
            if (in_leaf_list(g, writers_only, id, leaf)) list[leaf][n[leaf]++] = id;
        }
    *count = n;
    return list;
}

/* need[y] of update node y from its inputs, given, per leaf, the last non-update node below
 * y reading or assigning it (last_access) and assigning it (last_write), -1 if none */
static int need_of(const update_order *u, int y, const int *last_access, const int *last_write) {
    const ir_node *n = &u->g->nodes[y];
    int need = 0;
    for (int i = 0; i < n->n_in; i++) {
        int src = n->in[i], at;
        if (pass_sched_is_leaf(&u->g->nodes[src]))
            at = (writes(u->g, y, src) ? last_access[src] : last_write[src]) + 1;
        else at = is_update(&u->g->nodes[src]) ? u->need[src] : src + 1;
        if (at > need) need = at;
    }
    return need;
}

static const int *need_base;
static int by_need_then_id(const void *pa, const void *pb) {
    int a = *(const int *)pa, b = *(const int *)pb;
    return need_base[a] != need_base[b] ? need_base[a] - need_base[b] : a - b;
}
static int by_id(const void *pa, const void *pb) {
    int a = *(const int *)pa, b = *(const int *)pb;
    return (a > b) - (a < b);
}

/* need of every update node (one sweep in id order: inputs come first), and the update assigns
 * sorted by it */
static void compute_needs(update_order *u, arena *a) {
    const ir_graph *g = u->g;
    size_t nn = (size_t)g->n_nodes + 1;
    int *last_access = arena_alloc(a, sizeof(int) * nn), *last_write = arena_alloc(a, sizeof(int) * nn);
    for (size_t i = 0; i < nn; i++) last_access[i] = last_write[i] = -1;
    u->need = arena_alloc(a, sizeof(int) * nn);
    u->by_need = arena_alloc(a, sizeof(int) * nn);
    for (int id = 0; id < g->n_nodes; id++) {
        const ir_node *n = &g->nodes[id];
        if (is_update(n)) {
            u->need[id] = need_of(u, id, last_access, last_write);
            if (n->op == IR_OP_assign) u->by_need[u->n_assigns++] = id;
            continue;
        }
        for (int i = 0; i < n->n_in; i++) {
            last_access[n->in[i]] = id;
            if (writes(g, id, n->in[i])) last_write[n->in[i]] = id;
        }
    }
    need_base = u->need;
    qsort(u->by_need, (size_t)u->n_assigns, sizeof(int), by_need_then_id);
}

static void init_update_order(update_order *u, arena *a) {
    const ir_graph *g = u->g;
    size_t nn = (size_t)g->n_nodes + 1, edges = 1;
    for (int id = 0; id < g->n_nodes; id++) edges += (size_t)g->nodes[id].n_in;
    u->done = arena_alloc(a, nn);
    u->access = index_leaf_list(g, a, 0, &u->n_access);
    u->writers = index_leaf_list(g, a, 1, &u->n_writers);
    u->access_done = arena_alloc(a, sizeof(int) * nn);
    u->writers_done = arena_alloc(a, sizeof(int) * nn);
    u->active = arena_alloc(a, sizeof(int) * nn);
    u->chain = arena_alloc(a, sizeof(int) * nn);
    u->stack = arena_alloc(a, sizeof(int) * edges);
    compute_needs(u, a);
}

/* whether list[0..n) (ids in order) has a node below id that has not run and is not about
 * to; *cursor skips the prefix known to have run */
static int pending_before(const char *done, const int *list, int n, int *cursor, int id) {
    while (*cursor < n && done[list[*cursor]] == 1) ++*cursor;
    for (int k = *cursor; k < n && list[k] < id; k++)
        if (!done[list[k]]) return 1;
    return 0;
}

/* update node id may run once the nodes marked done (1, or 2: about to run before it) have:
 * its inputs are computed, and every earlier access to a leaf it assigns (or every earlier
 * assign of a leaf it reads) has run, so reads and writes of params and state keep their order */
static int ready(update_order *u, int id) {
    const ir_node *n = &u->g->nodes[id];
    for (int i = 0; i < n->n_in; i++) {
        int src = n->in[i];
        if (!pass_sched_is_leaf(&u->g->nodes[src])) {
            if (!u->done[src]) return 0;
        } else if (writes(u->g, id, src)) {
            if (pending_before(u->done, u->access[src], u->n_access[src], &u->access_done[src], id))
                return 0;
        } else if (pending_before(u->done, u->writers[src], u->n_writers[src],
                                  &u->writers_done[src], id)) {
            return 0;
        }
    }
    return 1;
}

static void take(ir_sched *s, update_order *u, int id) {
    s->pos[id] = s->n;
    s->list[s->n++] = id;
    u->done[id] = 1;
}

/* marks 2 on the update nodes assign `a` needs that have not run (itself included), lists them
 * in u->chain in id order and returns how many */
static int mark_chain(update_order *u, int a) {
    int n = 0, top = 0;
    u->stack[top++] = a;
    while (top > 0) {
        int id = u->stack[--top];
        const ir_node *node = &u->g->nodes[id];
        if (u->done[id] || !is_update(node)) continue;
        u->done[id] = 2;
        u->chain[n++] = id;
        for (int i = 0; i < node->n_in; i++) u->stack[top++] = node->in[i];
    }
    qsort(u->chain, (size_t)n, sizeof(int), by_id);
    return n;
}

/* runs the whole chain of assign `a` (in id order) if every node of it may run, else nothing */
static int try_chain(ir_sched *s, update_order *u, int a) {
    int n = mark_chain(u, a), ok = 1;
    for (int k = 0; k < n && ok; k++) ok = ready(u, u->chain[k]);
    for (int k = 0; k < n; k++) {
        u->done[u->chain[k]] = 0;
        if (ok) take(s, u, u->chain[k]);
    }
    return ok;
}

/* the update assigns whose need is met once the non-update nodes below `progress` have run
 * join the active list (kept in id order) */
static void activate(update_order *u, int progress) {
    int added = 0;
    while (u->next_assign < u->n_assigns && u->need[u->by_need[u->next_assign]] <= progress) {
        u->active[u->n_active++] = u->by_need[u->next_assign++];
        added = 1;
    }
    if (added) qsort(u->active, (size_t)u->n_active, sizeof(int), by_id);
}

/* every parameter (or state) update whose chain may run now, until none, trying them in id
 * order; the non-update nodes below `progress` have run. Only active assigns are tried: the
 * others' chains cannot be ready yet. */
static void flush_updates(ir_sched *s, update_order *u, int progress) {
    activate(u, progress);
    for (int again = u->n_active > 0; again;) {
        again = 0;
        int kept = 0;
        for (int k = 0; k < u->n_active; k++) {
            int id = u->active[k];
            if (u->done[id]) continue;
            if (try_chain(s, u, id)) again = 1;
            else u->active[kept++] = id;
        }
        u->n_active = kept;
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
static void order_train(const ir_graph *g, const char *member, arena *a, ir_sched *s) {
    update_order u = {.g = g};
    init_update_order(&u, a);
    int n_members = 0;
    for (int id = 0; id < g->n_nodes; id++) {
        if (member[id]) n_members++;
        else u.done[id] = 1; /* another step's: never taken, never waited for */
    }
    s->n = 0;
    for (int id = 0; id < g->n_nodes; id++) {
        const ir_node *n = &g->nodes[id];
        if (!member[id] || is_update(n)) continue;
        if (!pass_sched_is_leaf(n) && !pass_sched_fusable(n)) flush_updates(s, &u, id);
        take(s, &u, id);
    }
    flush_updates(s, &u, g->n_nodes);
    take_rest(s, &u);
    DLC_ASSERT(s->n == n_members);
}

/* need[] closed over inputs: every node a needed node reads */
static void close_over_inputs(const ir_graph *g, char *need) {
    for (int id = g->n_nodes - 1; id >= 0; id--)
        if (need[id])
            for (int i = 0; i < g->nodes[id].n_in; i++) need[g->nodes[id].in[i]] = 1;
}

/* the forward graph's side effects (a batchnorm's running statistics) computed from values the
 * step computes anyway (through forward nodes of no step's own): they run in it; returns
 * whether one was added. comp[id]: node id is needed, a leaf, or such a forward node over them */
static int add_forward_effects(const ir_graph *g, char *need, char *comp) {
    int added = 0;
    for (int id = 0; id < g->n_nodes; id++) {
        const ir_node *n = &g->nodes[id];
        int side = (ir_op_flags[n->op] & OPF_SIDE) != 0;
        comp[id] = need[id] || pass_sched_is_leaf(n);
        if (comp[id] || n->step >= 0) continue;
        int all = 1;
        for (int i = 0; i < n->n_in; i++) all &= comp[n->in[i]];
        comp[id] = all && !side;
        if (all && side) need[id] = added = 1;
    }
    return added;
}

/* training step k of several: its loss, its backward and update nodes, what they read */
static void select_step(const ir_graph *g, int k, char *need) {
    need[g->steps[k].loss] = 1;
    for (int id = 0; id < g->n_nodes; id++)
        if (g->nodes[id].step == k) need[id] = 1;
    char *comp = malloc((size_t)g->n_nodes + 1);
    DLC_ASSERT(comp != NULL);
    do close_over_inputs(g, need);
    while (add_forward_effects(g, need, comp));
    free(comp);
}

/* train: every node (one step) or step k's (several); eval: what the loss and the outputs
 * depend on (never the update) */
static void select_nodes(const ir_graph *g, int train, int k, arena *a, ir_sched *s) {
    char *need = arena_alloc(a, (size_t)g->n_nodes + 1);
    if (train && g->n_steps > 1) select_step(g, k, need);
    else if (train) memset(need, 1, (size_t)g->n_nodes);
    else {
        if (g->loss >= 0) need[g->loss] = 1;
        for (int i = 0; i < g->n_outputs; i++) need[g->outputs[i]] = 1;
        close_over_inputs(g, need);
    }
    s->n = 0;
    for (int id = 0; id < g->n_nodes; id++) s->pos[id] = -1;
    if (train) {
        order_train(g, need, a, s);
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
        if (pass_sched_is_leaf(node)) continue;
        if (!pass_sched_fusable(node)) {
            last = -1;
            continue;
        }
        if (last >= 0 && same_space(pass_sched_space(g, last), pass_sched_space(g, s->list[k])))
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
            if (pass_sched_is_leaf(&g->nodes[src])) continue;
            if (s->group[src] < 0 || s->group[src] != s->group[id]) s->stored[src] = 1;
        }
        if (!pass_sched_is_leaf(n) && !pass_sched_fusable(n)) s->stored[id] = 1;
    }
    if (g->loss >= 0 && s->pos[g->loss] >= 0) s->stored[g->loss] = 1;
    if (s->train && s->pos[g->steps[s->fn_step].loss] >= 0) s->stored[g->steps[s->fn_step].loss] = 1;
    for (int i = 0; i < g->n_outputs; i++)
        if (s->pos[g->outputs[i]] >= 0) s->stored[g->outputs[i]] = 1;
    for (int id = 0; id < g->n_nodes; id++)
        if (g->nodes[id].op == IR_OP_assign || pass_sched_is_leaf(&g->nodes[id])) s->stored[id] = 0;
}

/* one step per unfused node, one per fusion group */
static void number_steps(ir_sched *s) {
    int prev_group = -1;
    s->n_steps = 0;
    for (int id = 0; id < s->g->n_nodes; id++) s->step[id] = -1;
    for (int k = 0; k < s->n; k++) {
        int id = s->list[k];
        if (pass_sched_is_leaf(ir_get(s->g, id))) continue;
        if (s->group[id] < 0 || s->group[id] != prev_group) s->n_steps++;
        s->step[id] = s->n_steps - 1;
        prev_group = s->group[id];
    }
}

void pass_sched_build(const ir_graph *g, int train, int step, arena *a, ir_sched *s) {
    size_t nn = (size_t)g->n_nodes + 1;
    *s = (ir_sched){.g = g, .train = train, .fn_step = step};
    s->list = arena_alloc(a, sizeof(int) * nn);
    s->group = arena_alloc(a, sizeof(int) * nn);
    s->stored = arena_alloc(a, nn);
    s->step = arena_alloc(a, sizeof(int) * nn);
    s->pos = arena_alloc(a, sizeof(int) * nn);
    select_nodes(g, train, step, a, s);
    assign_groups(s);
    mark_stored(s);
    number_steps(s);
}

void pass_sched_build_funcs(const ir_graph *g, int has_train, arena *a, sched_funcs *s) {
    *s = (sched_funcs){.has_train = has_train, .n_train = has_train ? g->n_steps : 0};
    pass_sched_build(g, 0, 0, a, &s->eval);
    for (int k = 0; k < s->n_train; k++) pass_sched_build(g, 1, k, a, &s->train[k]);
}

/* one function: a header, then a line per scheduled node (leaves say so) */
static void dump_function(const ir_sched *s, const char *name, FILE *out) {
    int groups = 0;
    for (int k = 0; k < s->n; k++)
        if (s->group[s->list[k]] + 1 > groups) groups = s->group[s->list[k]] + 1;
    fprintf(out, "%s: %d nodes, %d steps, %d fusion groups\n", name, s->n, s->n_steps, groups);
    for (int k = 0; k < s->n; k++) {
        int id = s->list[k];
        const ir_node *n = ir_get(s->g, id);
        fprintf(out, "  %%%d = %s", id, ir_op_names[n->op]);
        if (pass_sched_is_leaf(n)) fprintf(out, "  leaf");
        else fprintf(out, "  step %d", s->step[id]);
        if (s->group[id] >= 0) fprintf(out, "  group %d", s->group[id]);
        if (s->stored[id]) fprintf(out, "  stored");
        fputc('\n', out);
    }
}

void pass_sched_dump(const sched_funcs *s, FILE *out) {
    for (int k = 0; k < s->n_train; k++) {
        const char *name = s->train[0].g->steps[k].name;
        char title[160];
        snprintf(title, sizeof title, "train_step%s%s", name ? " " : "", name ? name : "");
        dump_function(&s->train[k], title, out);
    }
    dump_function(&s->eval, "eval_step", out);
}

int pass_schedule(pass_ctx *c) {
    if (c->analyse) pass_sched_build_funcs(c->g, c->plan_train, c->a, &c->sched);
    return 1;
}
