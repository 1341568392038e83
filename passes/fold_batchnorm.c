/*
 * fold_batchnorm.c — BatchNorm folding for inference graphs (`dlc --weights`; off with
 * --no-fold). In evaluation batchnorm is an affine map per channel c,
 *     y = (x - mean_c) * s_c + beta_c,   s_c = gamma_c / sqrt(var_c + eps)
 * (gamma 1 and beta 0 without affine), so when x is the output of a linear layer it folds into
 * that layer's weights: W' = W * s_c on output channel c, b' = (b - mean_c) * s_c + beta_c
 * (b 0 when the layer has no bias, which then gets one).
 * Requires: an inference graph (passes/inference.c): batchnorm_stats reads the running
 * statistics, and every param and buffer leaf has its f32 tensor in g->weights (ir/weights.h).
 * Establishes:
 *   - every batchnorm whose input x is computed by
 *       a dense layer: matmul(h, W) with W a param [K, C], or add(matmul(h, W), b), b a param
 *       [C] (the matmul read by nothing but the add), or
 *       a convolution: conv2d(h, W[, b]) with W a param [C, C_in / groups, kH, kW], b a
 *       param [C],
 *     and read by nothing but that batchnorm and its statistics node, is gone: its users read
 *     the layer recomputed from the new params "W+BN" and "B+BN" (W's and b's names, b's
 *     being W's with ".w" replaced by ".b" when there was none, BN the batchnorm's layer
 *     name). Their values are computed here in double and rounded once to f32, and added to
 *     g->weights after the file's tensors (the C emitter embeds them);
 *   - a batchnorm that cannot be folded (its input is not such a layer, or something else
 *     reads it) stays, evaluated with the running statistics;
 *   - the params and buffers the folds replaced are gone when nothing else reads them; dead
 *     nodes are removed, ids dense and in order.
 * Without weights (g->weights NULL: listing a weights file's tensors) or with c->no_fold the
 * graph is left as it is.
 */
#include "../ir/weights.h"
#include "pass.h"
#include <math.h>
#include <string.h>

/* one batchnorm to fold and the layer it folds into */
typedef struct fold {
    int bn;            /* the batchnorm node */
    int layer;         /* the matmul or conv2d computing its input (without dense's bias add) */
    int w;             /* the layer's weights param */
    int b;             /* the layer's bias param, or -1 */
    int add;           /* dense with bias: the add of b, or -1 */
    const char *w_name; /* name of the folded weights */
    const char *b_name; /* name of the folded bias */
    float *w_data;     /* folded weights (W's numel) */
    float *b_data;     /* folded bias [C] */
} fold;

/* everything the pass reads while it plans */
typedef struct planner {
    pass_ctx *c;       /* the pass */
    int *users;        /* per node: how many inputs of other nodes and outputs read it */
    char *retired;     /* per node: a param or buffer a fold replaced */
    fold *folds;       /* the folds found */
    int n_folds;       /* entries of folds */
} planner;

static int *count_users(const ir_graph *g) {
    int *users = arena_alloc(g->a, sizeof(int) * (size_t)(g->n_nodes + 1));
    for (int id = 0; id < g->n_nodes; id++)
        for (int i = 0; i < g->nodes[id].n_in; i++) users[g->nodes[id].in[i]]++;
    for (int i = 0; i < g->n_outputs; i++) users[g->outputs[i]]++;
    return users;
}

/* the f32 data of leaf `id` of kind `op` holding `numel` values, or NULL */
static const float *leaf_data(const pass_ctx *c, int id, ir_op op, int64_t numel) {
    const ir_node *n = ir_get(c->g, id);
    if (n->op != op || n->shape.batched) return NULL;
    const ir_weight *t = ir_weights_find(c->g->weights, n->name);
    if (!t || t->dtype != IR_WEIGHT_F32 || ir_weight_numel(t) != numel) return NULL;
    return t->data;
}

/* the bias param of `add` (its other input being `layer`): a param [C], or -1 */
static int bias_of(const pass_ctx *c, int add, int layer, int64_t C) {
    const ir_node *a = ir_get(c->g, add);
    int other = a->in[0] == layer ? a->in[1] : a->in[0];
    const ir_node *b = ir_get(c->g, other);
    if (a->in[0] != layer && a->in[1] != layer) return -1;
    if (b->shape.rank != 1 || b->shape.dims[0] != C || !leaf_data(c, other, IR_OP_param, C))
        return -1;
    return other;
}

/* dense: x = matmul(h, W) or add(matmul(h, W), b), W [K, C]; fills f's layer, w, b, add */
static int dense_layer(const planner *p, int x, int64_t C, fold *f) {
    const ir_graph *g = p->c->g;
    const ir_node *n = ir_get(g, x);
    f->add = -1;
    f->b = -1;
    if (n->op == IR_OP_add) {
        int m = ir_get(g, n->in[0])->op == IR_OP_matmul ? n->in[0] : n->in[1];
        if (ir_get(g, m)->op != IR_OP_matmul || p->users[m] != 1) return 0;
        f->b = bias_of(p->c, x, m, C);
        if (f->b < 0) return 0;
        f->add = x;
        x = m;
        n = ir_get(g, x);
    }
    if (n->op != IR_OP_matmul || ir_matmul_trans_a(n) || ir_matmul_trans_b(n) || n->shape.rank != 2)
        return 0;
    const ir_node *w = ir_get(g, n->in[1]);
    if (w->shape.rank != 2 || w->shape.dims[1] != C ||
        !leaf_data(p->c, n->in[1], IR_OP_param, w->shape.dims[0] * C))
        return 0;
    f->layer = x;
    f->w = n->in[1];
    return 1;
}

/* conv: x = conv2d(h, W[, b]), W [C, ...]; fills f's layer, w, b (add -1) */
static int conv_layer(const planner *p, int x, int64_t C, fold *f) {
    const ir_node *n = ir_get(p->c->g, x);
    if (n->op != IR_OP_conv2d) return 0;
    f->add = -1;
    f->layer = x;
    f->w = n->in[1];
    f->b = n->n_in == 3 ? n->in[2] : -1;
    const ir_node *w = ir_get(p->c->g, f->w);
    if (w->shape.rank != 4 || w->shape.dims[0] != C ||
        !leaf_data(p->c, f->w, IR_OP_param, ir_shape_numel(&w->shape)))
        return 0;
    return f->b < 0 || leaf_data(p->c, f->b, IR_OP_param, C) != NULL;
}

/* "dense1.w" -> "dense1.b"; other names get ".b" appended */
static const char *bias_name(arena *a, const char *w) {
    size_t n = strlen(w);
    if (n > 2 && strcmp(w + n - 2, ".w") == 0) return arena_printf(a, "%.*s.b", (int)(n - 2), w);
    return arena_printf(a, "%s.b", w);
}

/* the batchnorm's layer name: its running mean "NAME.running_mean" without the suffix */
static const char *bn_name(arena *a, const char *running_mean) {
    const char *dot = strrchr(running_mean, '.');
    return dot ? arena_printf(a, "%.*s", (int)(dot - running_mean), running_mean) : running_mean;
}

/* W' = W * s per output channel (channel of element i: (i / inner) % C), b' = (b - mean) s +
 * beta, s = gamma / sqrt(var + eps); in double, rounded once */
static void compute(const pass_ctx *c, fold *f, int64_t C, int64_t inner) {
    const ir_graph *g = c->g;
    const ir_node *bn = ir_get(g, f->bn), *stats = ir_get(g, bn->in[1]);
    const ir_node *w = ir_get(g, f->w);
    int64_t numel = ir_shape_numel(&w->shape);
    const float *mean = leaf_data(c, stats->in[1], IR_OP_buffer, C);
    const float *var = leaf_data(c, stats->in[2], IR_OP_buffer, C);
    const float *gamma = bn->n_in == 4 ? leaf_data(c, bn->in[2], IR_OP_param, C) : NULL;
    const float *beta = bn->n_in == 4 ? leaf_data(c, bn->in[3], IR_OP_param, C) : NULL;
    const float *wd = leaf_data(c, f->w, IR_OP_param, numel);
    const float *bd = f->b >= 0 ? leaf_data(c, f->b, IR_OP_param, C) : NULL;
    double *s = arena_alloc(g->a, sizeof(double) * (size_t)C);
    f->w_data = arena_alloc(g->a, sizeof(float) * (size_t)numel);
    f->b_data = arena_alloc(g->a, sizeof(float) * (size_t)C);
    for (int64_t k = 0; k < C; k++) {
        s[k] = (gamma ? (double)gamma[k] : 1.0) / sqrt((double)var[k] + ir_bn_eps(bn));
        double b = bd ? (double)bd[k] : 0.0;
        f->b_data[k] = (float)((b - (double)mean[k]) * s[k] + (beta ? (double)beta[k] : 0.0));
    }
    for (int64_t i = 0; i < numel; i++)
        f->w_data[i] = (float)((double)wd[i] * s[(i / inner) % C]);
    const char *layer = bn_name(g->a, ir_get(g, stats->in[1])->name);
    const char *w_name = w->name, *b_name = f->b >= 0 ? ir_get(g, f->b)->name : bias_name(g->a, w_name);
    f->w_name = arena_printf(g->a, "%s+%s", w_name, layer);
    f->b_name = arena_printf(g->a, "%s+%s", b_name, layer);
}

static void retire(planner *p, const fold *f) {
    const ir_node *bn = ir_get(p->c->g, f->bn), *stats = ir_get(p->c->g, bn->in[1]);
    p->retired[f->w] = 1;
    if (f->b >= 0) p->retired[f->b] = 1;
    for (int i = 2; i < bn->n_in; i++) p->retired[bn->in[i]] = 1;
    p->retired[stats->in[1]] = p->retired[stats->in[2]] = 1;
}

/* batchnorm `id` folds when its statistics are running statistics it alone reads and its input
 * x, read by nothing but it and its statistics, is a layer folding can rewrite */
static void consider(planner *p, int id) {
    const pass_ctx *c = p->c;
    const ir_node *bn = ir_get(c->g, id), *stats = ir_get(c->g, bn->in[1]);
    int x = bn->in[0];
    const ir_shape *xs = &ir_get(c->g, x)->shape;
    int64_t C = xs->dims[1];
    if (stats->op != IR_OP_batchnorm_stats || stats->in[0] != x || p->users[bn->in[1]] != 1 ||
        p->users[x] != 2 || !leaf_data(c, stats->in[1], IR_OP_buffer, C) ||
        !leaf_data(c, stats->in[2], IR_OP_buffer, C))
        return;
    for (int i = 2; i < bn->n_in; i++)
        if (!leaf_data(c, bn->in[i], IR_OP_param, C)) return;
    fold f = {.bn = id};
    int dense = xs->rank == 2 && dense_layer(p, x, C, &f);
    if (!dense && !(xs->rank == 4 && conv_layer(p, x, C, &f))) return;
    /* dense W [K, C]: channel i % C; conv W [C, ...]: channel i / (numel / C) */
    compute(c, &f, C, dense ? 1 : ir_shape_numel(&ir_get(c->g, f.w)->shape) / C);
    retire(p, &f);
    p->folds[p->n_folds++] = f;
}

/* ---- the rewrite ---- */

/* the new graph being built: old nodes copied in order, each folded batchnorm replaced */
typedef struct builder {
    ir_node *nodes;    /* the new node table */
    int n;             /* entries in nodes */
    int *remap;        /* old id -> new id */
} builder;

static int emit(builder *b, ir_node n) {
    b->nodes[b->n] = n;
    return b->n++;
}

/* a copy of param `from` named `name` with shape [C] when rank1 */
static int emit_param(builder *b, const ir_node *from, const char *name, int64_t C, int rank1) {
    ir_node n = *from;
    n.name = name;
    n.grad = -1;
    if (rank1) n.shape = ir_shape_make(0, 1, &C);
    return emit(b, n);
}

/* the folded layer: new W and b, then the conv2d reading both, or the matmul reading W and
 * the add of b */
static int emit_fold(builder *b, const ir_graph *g, const fold *f) {
    const ir_node *layer = ir_get(g, f->layer);
    int64_t C = layer->shape.dims[1];
    int w = emit_param(b, ir_get(g, f->w), f->w_name, C, 0);
    int conv = layer->op == IR_OP_conv2d;
    int bias = conv ? emit_param(b, ir_get(g, f->b >= 0 ? f->b : f->w), f->b_name, C, 1) : -1;
    ir_node l = *layer;
    l.in[0] = b->remap[layer->in[0]];
    l.in[1] = w;
    if (conv) {
        l.n_in = 3;
        l.in[2] = bias;
        return emit(b, l);
    }
    int lid = emit(b, l);
    bias = emit_param(b, ir_get(g, f->b >= 0 ? f->b : f->w), f->b_name, C, 1);
    ir_node add = f->add >= 0 ? *ir_get(g, f->add) : l;
    if (f->add < 0) {
        add.op = IR_OP_add;
        memset(add.iattr, 0, sizeof add.iattr);
        memset(add.fattr, 0, sizeof add.fattr);
    }
    add.n_in = 2;
    add.in[0] = lid;
    add.in[1] = bias;
    return emit(b, add);
}

static const fold *fold_of(const planner *p, int bn) {
    for (int k = 0; k < p->n_folds; k++)
        if (p->folds[k].bn == bn) return &p->folds[k];
    return NULL;
}

static char *rebuild(planner *p) {
    ir_graph *g = p->c->g;
    int n_old = g->n_nodes, cap = n_old + 4 * p->n_folds;
    builder b = {arena_alloc(g->a, sizeof(ir_node) * (size_t)cap), 0,
                 arena_alloc(g->a, sizeof(int) * (size_t)n_old)};
    char *retired = arena_alloc(g->a, (size_t)cap);
    for (int id = 0; id < n_old; id++) {
        const fold *f = fold_of(p, id);
        if (f) {
            b.remap[id] = emit_fold(&b, g, f);
            continue;
        }
        ir_node moved = g->nodes[id];
        for (int i = 0; i < moved.n_in; i++) moved.in[i] = b.remap[moved.in[i]];
        retired[b.n] = p->retired[id];
        b.remap[id] = emit(&b, moved);
    }
    for (int i = 0; i < g->n_outputs; i++) g->outputs[i] = b.remap[g->outputs[i]];
    g->nodes = b.nodes;
    g->n_nodes = b.n;
    g->cap = cap;
    return retired;
}

/* the folded tensors, added to the graph's weights after the file's */
static void extend_weights(pass_ctx *c, const planner *p) {
    ir_graph *g = c->g;
    for (int k = 0; k < p->n_folds; k++) {
        const fold *f = &p->folds[k];
        const ir_shape *ws = &ir_get(g, f->w)->shape;
        int64_t C = ir_get(g, f->layer)->shape.dims[1];
        ir_weights_add(g->weights, g->a, f->w_name, IR_WEIGHT_F32, ws->rank, ws->dims, f->w_data);
        ir_weights_add(g->weights, g->a, f->b_name, IR_WEIGHT_F32, 1, &C, f->b_data);
    }
}

int pass_fold_batchnorm(pass_ctx *c) {
    ir_graph *g = c->g;
    if (!g->weights || c->no_fold) return 1;
    planner p = {c, count_users(g), arena_alloc(g->a, (size_t)g->n_nodes + 1),
                 arena_alloc(g->a, sizeof(fold) * (size_t)(g->n_nodes + 1)), 0};
    for (int id = 0; id < g->n_nodes; id++)
        if (g->nodes[id].op == IR_OP_batchnorm) consider(&p, id);
    if (p.n_folds == 0) return 1;
    extend_weights(c, &p);
    pass_dce_remove_dead(g, rebuild(&p));
    return 1;
}
