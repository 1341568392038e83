/*
 * random_models.c — property tests of the memory planner on random models (ctest
 * memplan.random). Each seed writes a random model in the dlc language (a vector or image
 * input; dense/conv2d layers, activations, batchnorm, pooling, dropout, concat, residual sums;
 * a classification or regression loss; a random optimizer, maybe with clipping and l2) and
 * compiles its training graph. Then:
 *   1. at the model's batch and a random other one, in both step functions, no two values
 *      or workspaces whose lifetimes meet share a byte — checked here from the schedule alone
 *      (lifetimes from each value's step to its last reader's), not from the planner's own
 *      buffers; the one exception is an elementwise node writing over an input whose last
 *      reader it is (the in-place case), which must then be exactly that;
 *   2. for the first seeds, the model is built as C with the plan and with --no-reuse and
 *      both are run for a few training steps and an evaluation on the same random inputs:
 *      weights, outputs and losses must be equal bit for bit.
 * Prints one line per model and "N passed, M failed"; exit status 1 on any failure.
 *   random_models [SEEDS [RUN_SEEDS]]   (defaults 60 and 8)
 */
#include "../../codegen/cg_c.h"
#include "../../driver/driver.h"
#include "../../passes/memplan.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

/* ---- random models ---- */

typedef struct gen {
    unsigned long long s; /* xorshift state */
    char text[8192];      /* the model */
    size_t len;           /* used bytes of text */
} gen;

static unsigned rnd(gen *g, unsigned n) {
    g->s ^= g->s << 13, g->s ^= g->s >> 7, g->s ^= g->s << 17;
    return (unsigned)(g->s % n);
}

__attribute__((format(printf, 2, 3))) static void put(gen *g, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    g->len += (size_t)vsnprintf(g->text + g->len, sizeof g->text - g->len, fmt, ap);
    va_end(ap);
}

static const char *activation(gen *g) {
    static const char *const acts[] = {"relu", "tanh", "sigmoid", "silu", "elu", "gelu", "mish"};
    return acts[rnd(g, 7)];
}

/* image layers on h [c, hw, hw]; returns the channels */
static int image_layers(gen *g, int c, int *hw) {
    for (int k = 0, n = 2 + (int)rnd(g, 3); k < n; k++) {
        switch (rnd(g, 7)) {
        case 0: c = 2 + 2 * (int)rnd(g, 2); put(g, "  h = %s(conv2d(h, %d, 3, padding = same))\n", activation(g), c); break;
        case 1: put(g, "  h = relu(batchnorm(h))\n"); break;
        case 2: if (*hw % 2 == 0 && *hw >= 4) { put(g, "  h = max_pool2d(h, 2)\n"); *hw /= 2; } break;
        case 3: put(g, "  h = h + %s(h) * 0.5\n", activation(g)); break;
        case 4: put(g, "  h = concat(h, %s(h))\n", activation(g)); c *= 2; break;
        case 5: put(g, "  h = concat(%s(h), h * 2)\n", activation(g)); c *= 2; break;
        default: put(g, "  h = dropout(h, 0.25)\n"); break;
        }
    }
    put(g, "  h = flatten(h)\n");
    return c;
}

static void vector_layers(gen *g) {
    for (int k = 0, n = 2 + (int)rnd(g, 4); k < n; k++) {
        int units = 3 + (int)rnd(g, 6);
        switch (rnd(g, 7)) {
        case 0: put(g, "  h = %s(dense(h, %d))\n", activation(g), units); break;
        case 1: put(g, "  h = batchnorm(dense(h, %d))\n", units); break;
        case 2: put(g, "  h = h * sigmoid(h) + tanh(h)\n"); break;
        case 3: put(g, "  h = concat(h, %s(h))\n", activation(g)); break;
        case 6: put(g, "  h = concat(%s(h), h * 2)\n", activation(g)); break;
        case 4: put(g, "  h = dropout(%s(h), 0.2)\n", activation(g)); break;
        default: put(g, "  h = dense(h, %d)\n  h = h + %s(h)\n", units, activation(g)); break;
        }
    }
}

static void train_block(gen *g, int classes, int batch) {
    static const char *const opts[] = {"sgd(lr = 0.05, momentum = 0.9)", "adam(lr = 0.01)",
                                       "rmsprop(lr = 0.01, centered = 1)",
                                       "adamw(lr = 0.01, weight_decay = 0.1)",
                                       "adagrad(lr = 0.05)"};
    put(g, "train net {\n  loss = %s\n  optimizer = %s\n  batch = %d\n  seed = %u\n",
        classes ? "cross_entropy(logits, y)" : "mse(logits, t)", opts[rnd(g, 5)], batch,
        rnd(g, 1000));
    if (rnd(g, 3) == 0) put(g, "  clip_norm = 1.0\n");
    if (rnd(g, 3) == 0) put(g, "  regularize = [l2(0.001)]\n");
    put(g, "}\n");
}

static void random_model(gen *g, unsigned seed) {
    g->s = 0x9e3779b97f4a7c15ULL ^ ((unsigned long long)seed * 0x2545f4914f6cdd1dULL);
    g->len = 0;
    int classes = (int)rnd(g, 2), k = 2 + (int)rnd(g, 4), batch = 2 + (int)rnd(g, 8);
    put(g, "model net {\n");
    if (rnd(g, 2)) {
        int c = 1 + (int)rnd(g, 3), hw = 4 + 2 * (int)rnd(g, 3);
        put(g, "  input x: f32[%d, %d, %d]\n  h = x\n", c, hw, hw);
        image_layers(g, c, &hw);
    } else {
        put(g, "  input x: f32[%d]\n  h = x\n", 3 + (int)rnd(g, 6));
        vector_layers(g);
    }
    if (classes) put(g, "  input y: i32[]\n");
    else put(g, "  input t: f32[%d]\n", k);
    put(g, "  logits = dense(h, %d)\n}\n", k);
    train_block(g, classes, batch);
}

/* ---- 1. no overlap, from the schedule alone ---- */

typedef struct span {
    int node;            /* value or workspace owner */
    int workspace;       /* 1: the node's workspace */
    long long first, last; /* steps */
    long long lo, hi;    /* bytes [lo, hi) */
} span;

static long long value_bytes(const ir_node *n, long long batch) {
    long long numel = n->shape.batched ? batch * ir_shape_inner(&n->shape) : ir_shape_numel(&n->shape);
    return numel * 4;
}

static int is_input_of(const ir_graph *g, int x, int y) {
    for (int i = 0; i < g->nodes[y].n_in; i++)
        if (g->nodes[y].in[i] == x) return 1;
    return 0;
}

/* the in-place case: y elementwise, x one of its inputs, y x's last reader (in position) */
static int in_place(const mem_fn_plan *f, const int *last_pos, const span *a, const span *b) {
    const ir_graph *g = f->sched.g;
    const span *x = a->first <= b->first ? a : b, *y = x == a ? b : a;
    return !x->workspace && !y->workspace && is_input_of(g, x->node, y->node) &&
           pass_sched_fusable(&g->nodes[y->node]) && last_pos[x->node] == f->sched.pos[y->node] &&
           x->last == y->first && x->lo == y->lo;
}

static int collect_spans(const mem_fn_plan *f, const ir_graph *g, long long batch, span *sp,
                         int *last_pos) {
    const ir_sched *s = &f->sched;
    long long *last = calloc((size_t)g->n_nodes, sizeof *last);
    for (int id = 0; id < g->n_nodes; id++) last[id] = -1, last_pos[id] = -1;
    for (int k = 0; k < s->n; k++)
        for (int i = 0; i < g->nodes[s->list[k]].n_in; i++) {
            last[g->nodes[s->list[k]].in[i]] = s->step[s->list[k]];
            last_pos[g->nodes[s->list[k]].in[i]] = k;
        }
    int n = 0;
    for (int k = 0; k < s->n; k++) {
        int id = s->list[k];
        int pinned = id == g->loss;
        for (int i = 0; i < g->n_outputs; i++) pinned |= g->outputs[i] == id;
        if (s->stored[id]) {
            long long lo = pass_memplan_offset(f, id);
            sp[n++] = (span){id, 0, pinned ? 0 : s->step[id], pinned ? 1LL << 40 : last[id] < s->step[id] ? s->step[id] : last[id],
                             lo, lo + value_bytes(&g->nodes[id], batch)};
        }
        long long ws = cg_c_workspace_reals(g, id, batch);
        if (ws > 0) {
            long long lo = pass_memplan_workspace_offset(f, id);
            sp[n++] = (span){id, 1, s->step[id], s->step[id], lo, lo + ws * 4};
        }
    }
    free(last);
    return n;
}

static int check_no_overlap(const mem_fn_plan *f, const ir_graph *g, long long batch,
                            char *why, size_t len) {
    span *sp = calloc(2 * (size_t)g->n_nodes + 2, sizeof *sp);
    int *last_pos = calloc((size_t)g->n_nodes, sizeof *last_pos);
    int n = collect_spans(f, g, batch, sp, last_pos), bad = 0;
    for (int i = 0; i < n && !bad; i++)
        for (int j = i + 1; j < n && !bad; j++) {
            const span *a = &sp[i], *b = &sp[j];
            int meet = a->first <= b->last && b->first <= a->last;
            int share = a->lo < b->hi && b->lo < a->hi;
            if (meet && share && !in_place(f, last_pos, a, b)) {
                snprintf(why, len, "%%%d%s and %%%d%s share bytes while both live (batch %lld)",
                         a->node, a->workspace ? " workspace" : "", b->node,
                         b->workspace ? " workspace" : "", batch);
                bad = 1;
            }
        }
    free(sp);
    free(last_pos);
    return bad;
}

/* ---- 2. the same results with and without reuse ---- */

typedef struct run {
    void *handle;          /* loaded shared object */
    dlrt_session s;        /* weights and arena */
    double losses[8];      /* per step, then the evaluation's */
} run;

static void fill_inputs(const dlrt_model_desc *m, unsigned seed, void **bufs) {
    gen g = {.s = 0x1234567ULL + seed};
    for (int i = 0; i < m->n_tensors; i++) {
        const dlrt_tensor_desc *t = &m->tensors[i];
        if (t->kind != DLRT_INPUT) continue;
        long long count = m->max_batch;
        for (int d = 1; d < t->rank; d++) count *= t->dims[d];
        bufs[t->index] = malloc(4 * (size_t)count);
        for (long long j = 0; j < count; j++) {
            if (t->dtype == DLRT_I32) ((int *)bufs[t->index])[j] = (int)rnd(&g, (unsigned)2);
            else ((float *)bufs[t->index])[j] = (float)rnd(&g, 2001) / 1000.0f - 1.0f;
        }
    }
}

static int run_model(dlc_unit *u, const dlc_options *o, int no_reuse, unsigned seed, run *r) {
    cg_c_options co = {.prefix = "net", .has_train = 1, .no_reuse = no_reuse};
    mem_options mo = {.real_bytes = 4, .reuse = !no_reuse, .workspace = cg_c_workspace_reals};
    mem_plan plan; /* with and without reuse: the compilation's schedules, two plans */
    pass_memplan_build(u->g, &u->sched, &mo, &u->a, &plan);
    const dlrt_model_desc *m = dlc_build_and_load(cg_c_generate(u->g, &co, &plan, &u->a), "net", o,
                                                  &r->handle);
    char err[256];
    if (!m || dlrt_session_init(&r->s, m, 7, err, sizeof err)) return -1;
    void *inputs[16] = {0};
    fill_inputs(m, seed, inputs);
    double scalars[8];
    for (int step = 1; step <= 3; step++) {
        dlrt_step_scalars(m, 7, step, 0.01, scalars);
        m->train_step(r->s.weights, r->s.arena, (const void *const *)inputs, m->max_batch, scalars,
                      &r->losses[step - 1]);
    }
    m->eval_step(r->s.weights, r->s.arena, (const void *const *)inputs, m->max_batch, NULL, &r->losses[3]);
    for (int i = 0; i < 16; i++) free(inputs[i]);
    return 0;
}

static int same_results(const run *a, const run *b, char *why, size_t len) {
    const dlrt_model_desc *m = a->s.model;
    const dlrt_tensor_desc *oa = dlrt_find_tensor(m, DLRT_OUTPUT, NULL);
    const dlrt_tensor_desc *ob = dlrt_find_tensor(b->s.model, DLRT_OUTPUT, NULL);
    long long out = 4LL * m->max_batch * oa->dims[1];
    if (memcmp(a->losses, b->losses, sizeof a->losses))
        snprintf(why, len, "losses differ (%.9g vs %.9g)", a->losses[0], b->losses[0]);
    else if (memcmp(a->s.weights, b->s.weights, (size_t)(m->weights_count * 4)))
        snprintf(why, len, "weights differ after 3 steps");
    else if (memcmp((char *)a->s.arena + oa->offset, (char *)b->s.arena + ob->offset, (size_t)out))
        snprintf(why, len, "outputs differ");
    else return 0;
    return 1;
}

static int check_reuse_equal(dlc_unit *u, const dlc_options *o, unsigned seed, char *why, size_t len) {
    run with = {0}, without = {0};
    int bad = run_model(u, o, 0, seed, &with) || run_model(u, o, 1, seed, &without);
    if (bad) snprintf(why, len, "could not build or load the model");
    else bad = same_results(&with, &without, why, len);
    dlrt_session_free(&with.s);
    dlrt_session_free(&without.s);
    return bad;
}

/* ---- driver ---- */

static void check_model(unsigned seed, int run_it) {
    gen g;
    random_model(&g, seed);
    dlc_options o = {.input = "random.dl", .quiet = 1};
    dlc_unit u;
    char why[256] = "";
    int bad = dlc_compile_text(&u, &o, g.text, 0) != 0 || u.d.n_errors;
    if (bad) snprintf(why, sizeof why, "does not compile");
    long long batches[2] = {0, 1 + (long long)(seed * 37 % 300)};
    for (int b = 0; b < 2 && !bad; b++) {
        mem_options mo = {.batch = batches[b], .real_bytes = 4, .reuse = 1,
                          .workspace = cg_c_workspace_reals};
        mem_plan p;
        pass_memplan_build(u.g, &u.sched, &mo, &u.a, &p);
        bad = check_no_overlap(&p.train[0], u.g, p.batch, why, sizeof why) ||
              check_no_overlap(&p.eval, u.g, p.batch, why, sizeof why);
    }
    if (!bad && run_it) bad = check_reuse_equal(&u, &o, seed, why, sizeof why);
    printf("%s model %u (%d nodes)%s%s\n", bad ? "FAIL" : "ok  ", seed, u.g ? u.g->n_nodes : 0,
           bad ? ": " : "", why);
    if (bad) printf("%s", g.text);
    bad ? failed++ : passed++;
    dlc_unit_free(&u);
}

int main(int argc, char **argv) {
    int seeds = argc > 1 ? atoi(argv[1]) : 60, run_seeds = argc > 2 ? atoi(argv[2]) : 8;
    for (int s = 1; s <= seeds; s++) check_model((unsigned)s, s <= run_seeds);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
