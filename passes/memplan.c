/*
 * memplan.c — the memory planner (see memplan.h).
 *
 * Per function: every stored value becomes a buffer alive from its step to the step of its
 * last reader; an elementwise node whose input's last read is its own (and whose input is
 * neither pinned nor already handed on) writes into that input's buffer, extending it; each
 * node with scratch memory gets a buffer alive for its own step. Buffers are placed one by one
 * at the lowest offset where they overlap no placed buffer alive at the same time, after the
 * pinned outputs and loss, in three orders (largest first, as TFLite's greedy-by-size planner;
 * most bytes x steps first; first defined first); the smallest arena wins. The lowest fit is
 * found through memplan_fit.c's index of the placed buffers (about log(steps) per occupied
 * region below the answer), and an order stops as soon as it cannot beat the best one, so
 * planning is about linear in the number of buffers; the peak is one sweep over the steps.
 */
#include "memplan.h"
#include "memplan_fit.h"
#include <stdlib.h>

const char *const pass_memplan_class_names[MEM_CLASS_COUNT] = {"outputs", "saved activations",
                                                      "gradients", "transient", "workspaces"};

static int64_t round64(int64_t bytes) { return (bytes + 63) & ~63LL; }

/* a value's bytes at the plan's batch; the callers keep every tensor within IR_MAX_ELEMENTS
 * (shape inference at the compiled batch, ir_batch_fits at another), so nothing wraps */
static int64_t value_bytes(const mem_plan *p, const ir_node *n) {
    int64_t numel = n->shape.batched ? p->batch * ir_shape_inner(&n->shape) : ir_shape_numel(&n->shape);
    DLC_ASSERT(numel >= 0 && numel <= IR_MAX_ELEMENTS);
    return round64(numel * (n->dtype == IR_I32 ? 4 : p->real_bytes));
}

/* ---- the weights block ---- */

static void plan_weights(const ir_graph *g, arena *a, mem_plan *p) {
    static const ir_op order[] = {IR_OP_param, IR_OP_buffer, IR_OP_state};
    int64_t *per_kind[] = {&p->params, &p->buffers, &p->state};
    p->weight_offset = arena_alloc(a, sizeof(int64_t) * ((size_t)g->n_nodes + 1));
    for (int k = 0; k < 3; k++) /* params, model buffers, then optimizer state */
        for (int id = 0; id < g->n_nodes; id++) {
            const ir_node *n = &g->nodes[id];
            if (n->op != order[k]) continue;
            int64_t count = (ir_shape_numel(&n->shape) + 15) & ~15LL;
            p->weight_offset[id] = p->weights_count;
            p->weights_count += count;
            *per_kind[k] += count;
        }
}

/* ---- lifetimes ---- */

typedef struct planner {
    const mem_plan *p;     /* sizes */
    const mem_options *o;  /* options */
    mem_fn_plan *f;        /* the function being planned */
    char *pinned;          /* per node id: an output or the loss */
    int *last_pos;         /* per node id: schedule position of its last reader, or -1 */
    int *last_step;        /* per node id: step of its last reader, or -1 */
    int *holder;           /* per buffer: the node whose value it holds now (in-place chains) */
    char *is_grad;         /* per node id: some parameter's gradient */
    int *next_holder;      /* per node id: the node that took its buffer over in place, or -1 */
} planner;

static void find_last_reads(planner *pl) {
    const ir_sched *s = &pl->f->sched;
    for (int id = 0; id < s->g->n_nodes; id++) pl->last_pos[id] = pl->last_step[id] = -1;
    for (int k = 0; k < s->n; k++) {
        const ir_node *n = ir_get(s->g, s->list[k]);
        for (int i = 0; i < n->n_in; i++) {
            pl->last_pos[n->in[i]] = k;
            pl->last_step[n->in[i]] = s->step[s->list[k]];
        }
    }
}

static mem_class class_of(const planner *pl, int id) {
    const ir_sched *s = &pl->f->sched;
    const ir_node *n = ir_get(s->g, id);
    if (pl->pinned[id]) return MEM_OUTPUT;
    if (pl->is_grad[id]) return MEM_GRADIENT;
    if (s->train && n->phase == IR_PHASE_FORWARD && pl->last_pos[id] >= 0 &&
        ir_get(s->g, s->list[pl->last_pos[id]])->phase != IR_PHASE_FORWARD)
        return MEM_SAVED;
    return MEM_TRANSIENT;
}

static int add_buffer(mem_fn_plan *f, int node, int workspace, mem_class cls, int64_t bytes,
                      int first, int last) {
    mem_buffer *b = &f->buffers[f->n_buffers];
    *b = (mem_buffer){.node = node, .workspace = workspace, .cls = cls, .bytes = bytes,
                      .first = first, .last = last < first ? first : last, .offset = -1};
    return f->n_buffers++;
}

/* node y may write into the buffer of its input x: the same bytes read at the same index
 * (same batching and element count), x's last read is y's, and nobody else took it */
static int can_take_over(const planner *pl, int y, int x) {
    const ir_sched *s = &pl->f->sched;
    const ir_node *nx = ir_get(s->g, x), *ny = ir_get(s->g, y);
    int b = pl->f->buffer_of[x];
    return b >= 0 && !pl->pinned[x] && pl->holder[b] == x && nx->dtype == ny->dtype &&
           nx->shape.batched == ny->shape.batched &&
           ir_shape_numel(&nx->shape) == ir_shape_numel(&ny->shape) &&
           pl->last_pos[x] == s->pos[y] && s->step[x] < s->step[y];
}

static int in_place_source(const planner *pl, int y) {
    const ir_sched *s = &pl->f->sched;
    const ir_node *n = ir_get(s->g, y);
    if (!pl->o->reuse || pl->pinned[y] || !ir_op_in_place(n->op)) return -1;
    for (int i = 0; i < n->n_in; i++)
        if (can_take_over(pl, y, n->in[i])) return n->in[i];
    return -1;
}

static void collect_buffers(planner *pl) {
    mem_fn_plan *f = pl->f;
    const ir_sched *s = &f->sched;
    for (int k = 0; k < s->n; k++) {
        int id = s->list[k];
        const ir_node *n = ir_get(s->g, id);
        int64_t ws = pl->o->workspace ? pl->o->workspace(s->g, id, pl->p->batch) : 0;
        if (ws > 0) f->bytes_no_reuse += round64(ws * pl->p->real_bytes);
        if (ws > 0)
            f->workspace_of[id] = add_buffer(f, id, 1, MEM_WORKSPACE, round64(ws * pl->p->real_bytes),
                                             s->step[id], s->step[id]);
        if (!s->stored[id]) continue;
        f->bytes_no_reuse += value_bytes(pl->p, n);
        int x = in_place_source(pl, id);
        if (x >= 0) {
            int b = f->buffer_of[x];
            f->buffer_of[id] = b;
            pl->next_holder[x] = id;
            pl->holder[b] = id;
            if (pl->last_step[id] > f->buffers[b].last) f->buffers[b].last = pl->last_step[id];
            continue;
        }
        int first = pl->pinned[id] ? 0 : s->step[id];
        int last = pl->pinned[id] ? s->n_steps : pl->last_step[id];
        f->buffer_of[id] = add_buffer(f, id, 0, class_of(pl, id), value_bytes(pl->p, n), first, last);
        pl->holder[f->buffer_of[id]] = id;
    }
}

/* ---- placement ---- */

static int overlap_in_time(const mem_buffer *a, const mem_buffer *b) {
    return a->first <= b->last && b->first <= a->last;
}

/* orders buffers are placed in: the planner tries each and keeps the smallest arena */
static const mem_buffer *sort_base;
static int tie(const mem_buffer *a, const mem_buffer *b, int ia, int ib) {
    if (a->bytes != b->bytes) return a->bytes > b->bytes ? -1 : 1;
    if (a->first != b->first) return a->first - b->first;
    return ia - ib;
}
static int by_size(const void *pa, const void *pb) { /* largest first */
    int ia = *(const int *)pa, ib = *(const int *)pb;
    return tie(&sort_base[ia], &sort_base[ib], ia, ib);
}
static int by_area(const void *pa, const void *pb) { /* most bytes x steps first */
    int ia = *(const int *)pa, ib = *(const int *)pb;
    const mem_buffer *a = &sort_base[ia], *b = &sort_base[ib];
    double xa = (double)a->bytes * (a->last - a->first + 1), xb = (double)b->bytes * (b->last - b->first + 1);
    return xa != xb ? (xa > xb ? -1 : 1) : tie(a, b, ia, ib);
}
static int by_start(const void *pa, const void *pb) { /* in the order they are defined */
    int ia = *(const int *)pa, ib = *(const int *)pb;
    const mem_buffer *a = &sort_base[ia], *b = &sort_base[ib];
    return a->first != b->first ? a->first - b->first : tie(a, b, ia, ib);
}

/* places order[0..n) one after the other (each at the lowest offset where it overlaps no
 * placed buffer alive at the same time, or end to end without reuse) and returns the arena's
 * end, or stops as soon as the end reaches `give_up` (another order did as well) and returns
 * it. The pinned buffers lie below base and never matter. */
static int64_t place_in_order(mem_fn_plan *f, fit_index *fit, const int *order, int n,
                              int64_t base, int reuse, int64_t give_up) {
    int64_t end = base;
    pass_memplan_fit_clear(fit);
    for (int k = 0; k < n; k++) f->buffers[order[k]].offset = -1;
    for (int k = 0; k < n && end < give_up; k++) {
        mem_buffer *b = &f->buffers[order[k]];
        if (reuse) {
            b->offset = pass_memplan_fit_lowest(fit, b->first, b->last, b->bytes, base);
            pass_memplan_fit_add(fit, b->first, b->last, b->offset, b->offset + b->bytes);
        } else {
            b->offset = end;
        }
        if (b->offset + b->bytes > end) end = b->offset + b->bytes;
    }
    return end;
}

static void place(planner *pl, arena *a, const int64_t *pinned_offset) {
    mem_fn_plan *f = pl->f;
    int64_t base = pl->p->pinned_bytes;
    int *order = arena_alloc(a, sizeof(int) * ((size_t)f->n_buffers + 1));
    int64_t *best = arena_alloc(a, sizeof(int64_t) * ((size_t)f->n_buffers + 1));
    fit_index *fit = pass_memplan_fit_new(a, f->sched.n_steps);
    int n = 0;
    for (int i = 0; i < f->n_buffers; i++) {
        mem_buffer *b = &f->buffers[i];
        if (b->cls == MEM_OUTPUT) b->offset = pinned_offset[b->node];
        else order[n++] = i;
    }
    sort_base = f->buffers;
    int (*const orders[])(const void *, const void *) = {by_size, by_area, by_start};
    f->bytes = -1;
    for (int k = 0; k < (pl->o->reuse ? 3 : 1); k++) {
        if (pl->o->reuse) qsort(order, (size_t)n, sizeof *order, orders[k]);
        int64_t end = place_in_order(f, fit, order, n, base, pl->o->reuse,
                                     f->bytes >= 0 ? f->bytes : INT64_MAX);
        if (f->bytes >= 0 && end >= f->bytes) continue;
        f->bytes = end;
        for (int i = 0; i < f->n_buffers; i++) best[i] = f->buffers[i].offset;
    }
    for (int i = 0; i < f->n_buffers; i++) f->buffers[i].offset = best[i];
}

/* the class of what buffer b holds at step t: an in-place chain's value at that step */
static mem_class class_at(const planner *pl, const mem_buffer *b, int t) {
    if (b->workspace) return MEM_WORKSPACE;
    int id = b->node;
    while (pl->next_holder[id] >= 0 && pl->f->sched.step[pl->next_holder[id]] <= t)
        id = pl->next_holder[id];
    return class_of(pl, id);
}

/* the step with the most bytes live (the first such), and what they are: one sweep over the
 * steps with the bytes each buffer adds at its first step and frees after its last */
static void find_peak(const planner *pl, arena *a) {
    mem_fn_plan *f = pl->f;
    int n_steps = f->sched.n_steps;
    int64_t *delta = arena_alloc(a, sizeof(int64_t) * ((size_t)n_steps + 2));
    for (int i = 0; i < f->n_buffers; i++) {
        delta[f->buffers[i].first] += f->buffers[i].bytes;
        delta[f->buffers[i].last + 1] -= f->buffers[i].bytes;
    }
    f->peak_live = -1;
    int64_t live = 0;
    for (int t = 0; t <= n_steps; t++) {
        live += delta[t];
        if (live <= f->peak_live) continue;
        f->peak_live = live;
        f->peak_step = t;
    }
    for (int c = 0; c < MEM_CLASS_COUNT; c++) f->live_by_class[c] = 0;
    for (int i = 0; i < f->n_buffers; i++) {
        const mem_buffer *b = &f->buffers[i];
        if (b->first <= f->peak_step && f->peak_step <= b->last)
            f->live_by_class[class_at(pl, b, f->peak_step)] += b->bytes;
    }
}

/* the parameters' gradients in training step s (for the report's classes) */
static void mark_gradients(const ir_graph *g, const ir_sched *s, char *is_grad) {
    const ir_step *st = s->train && s->fn_step < g->n_steps ? &g->steps[s->fn_step] : NULL;
    for (int id = 0; id < g->n_nodes; id++) {
        if (g->nodes[id].op != IR_OP_param) continue;
        int grad = st && st->grad && id < st->n_grad ? st->grad[id] : g->nodes[id].grad;
        if (grad >= 0) is_grad[grad] = 1;
    }
}

static void plan_function(const ir_graph *g, const ir_sched *s, const mem_options *o, arena *a,
                          mem_plan *p, char *pinned, const int64_t *pinned_offset,
                          mem_fn_plan *f) {
    size_t nn = (size_t)g->n_nodes + 1;
    f->sched = *s; /* the schedule analysis's: shared by every plan, never changed */
    f->buffers = arena_alloc(a, sizeof(mem_buffer) * 2 * nn);
    f->buffer_of = arena_alloc(a, sizeof(int) * nn);
    f->workspace_of = arena_alloc(a, sizeof(int) * nn);
    for (size_t i = 0; i < nn; i++) f->buffer_of[i] = f->workspace_of[i] = -1;
    planner pl = {.p = p, .o = o, .f = f, .pinned = pinned,
                  .last_pos = arena_alloc(a, sizeof(int) * nn),
                  .last_step = arena_alloc(a, sizeof(int) * nn),
                  .holder = arena_alloc(a, sizeof(int) * 2 * nn), .is_grad = arena_alloc(a, nn),
                  .next_holder = arena_alloc(a, sizeof(int) * nn)};
    for (size_t i = 0; i < nn; i++) pl.next_holder[i] = -1;
    mark_gradients(g, s, pl.is_grad);
    find_last_reads(&pl);
    collect_buffers(&pl);
    place(&pl, a, pinned_offset);
    find_peak(&pl, a);
}

/* outputs and the loss at the arena's start, the same in both functions */
static void pin_outputs(const ir_graph *g, mem_plan *p, char *pinned, int64_t *offset) {
    for (int i = 0; i <= g->n_outputs; i++) {
        int id = i < g->n_outputs ? g->outputs[i] : g->loss;
        if (id < 0 || pinned[id] || (ir_op_flags[g->nodes[id].op] & OPF_LEAF)) continue;
        pinned[id] = 1;
        offset[id] = p->pinned_bytes;
        p->pinned_bytes += value_bytes(p, &g->nodes[id]);
    }
}

void pass_memplan_build(const ir_graph *g, const sched_funcs *s, const mem_options *o, arena *a,
                   mem_plan *p) {
    int has_train = s->has_train;
    int64_t model_batch = 1;
    for (int id = 0; id < g->n_nodes; id++)
        if (g->nodes[id].shape.batched) model_batch = g->nodes[id].shape.dims[0];
    *p = (mem_plan){.batch = o->batch > 0 ? o->batch : model_batch, .real_bytes = o->real_bytes,
                    .has_train = has_train, .n_train = s->n_train};
    plan_weights(g, a, p);
    char *pinned = arena_alloc(a, (size_t)g->n_nodes + 1);
    int64_t *pinned_offset = arena_alloc(a, sizeof(int64_t) * ((size_t)g->n_nodes + 1));
    pin_outputs(g, p, pinned, pinned_offset);
    plan_function(g, &s->eval, o, a, p, pinned, pinned_offset, &p->eval);
    p->arena_bytes = p->eval.bytes > p->pinned_bytes ? p->eval.bytes : p->pinned_bytes;
    p->arena_no_reuse = p->eval.bytes_no_reuse;
    for (int k = 0; k < p->n_train; k++) {
        mem_fn_plan *f = &p->train[k];
        plan_function(g, &s->train[k], o, a, p, pinned, pinned_offset, f);
        if (f->bytes > p->arena_bytes) p->arena_bytes = f->bytes;
        if (f->bytes_no_reuse > p->arena_no_reuse) p->arena_no_reuse = f->bytes_no_reuse;
    }
    pass_memplan_verify(p);
}

/* ---- checks and lookups ---- */

/* pairwise, naming both buffers, up to this many buffers (every model in the tree and the
 * random models of tests/memplan); beyond, through a fit index (same check, one name) */
enum { VERIFY_PAIRS_MAX = 4000 };

static void overlap_error(int a, int b) {
    dlc_internal_error(__FILE__, __LINE__,
                       "memory plan: buffers of %%%d and %%%d overlap while both live", a, b);
}

/* each buffer's bytes must be free, over its lifetime, of the buffers checked before it */
static void verify_indexed(const mem_fn_plan *f) {
    arena a = {0};
    fit_index *fit = pass_memplan_fit_new(&a, f->sched.n_steps);
    for (int i = 0; i < f->n_buffers; i++) {
        const mem_buffer *b = &f->buffers[i];
        if (pass_memplan_fit_lowest(fit, b->first, b->last, b->bytes, b->offset) != b->offset)
            dlc_internal_error(__FILE__, __LINE__, "memory plan: the buffer of %%%d overlaps "
                               "another one while both live", b->node);
        pass_memplan_fit_add(fit, b->first, b->last, b->offset, b->offset + b->bytes);
    }
    arena_free(&a);
}

static void verify_function(const mem_fn_plan *f) {
    for (int i = 0; i < f->n_buffers; i++) {
        const mem_buffer *a = &f->buffers[i];
        DLC_ASSERT(a->offset >= 0 && a->offset % 64 == 0 && a->offset + a->bytes <= f->bytes);
    }
    if (f->n_buffers > VERIFY_PAIRS_MAX) {
        verify_indexed(f);
        return;
    }
    for (int i = 0; i < f->n_buffers; i++)
        for (int j = i + 1; j < f->n_buffers; j++) {
            const mem_buffer *a = &f->buffers[i], *b = &f->buffers[j];
            if (overlap_in_time(a, b) && a->offset < b->offset + b->bytes &&
                b->offset < a->offset + a->bytes)
                overlap_error(a->node, b->node);
        }
}

void pass_memplan_verify(const mem_plan *p) {
    verify_function(&p->eval);
    for (int k = 0; k < p->n_train; k++) verify_function(&p->train[k]);
}

int64_t pass_memplan_offset(const mem_fn_plan *f, int id) {
    DLC_ASSERT(f->buffer_of[id] >= 0);
    return f->buffers[f->buffer_of[id]].offset;
}

int64_t pass_memplan_workspace_offset(const mem_fn_plan *f, int id) {
    DLC_ASSERT(f->workspace_of[id] >= 0);
    return f->buffers[f->workspace_of[id]].offset;
}
