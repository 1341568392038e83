/*
 * inference.c — the forward-only inference graph that `dlc --weights FILE` compiles.
 * Requires: shapes known; no backward or update nodes (the inference pipeline runs neither
 * autodiff nor the optimizer).
 * Establishes:
 *   - no loss: what remains computes the model's outputs from its inputs;
 *   - dropout and gaussian_noise, the identity in evaluation, are gone (their users read
 *     their input), and so are the training step's assigns (batchnorm's running-statistics
 *     updates); batchnorm reads the running statistics, as the evaluation step does;
 *   - each input the train block normalised (the feature input, or every member input of a pair
 *     or triplet) is followed by a normalize node holding the training statistics (shift,
 *     scale) from the weights file (an f64[2] tensor), or, for statistics per feature (an
 *     f64[2, F] tensor, F the input's sample size), a normalize_features node named after that
 *     tensor, so the graph takes raw samples;
 *   - every param, buffer and state leaf left has a tensor of the same name, dtype (f32) and shape in
 *     the graph's weights table (g->weights, ir/weights.h: the weights file's tensors), and the
 *     table holds nothing else: otherwise user errors name the file and the tensor (missing,
 *     wrong dtype, wrong shape, extra);
 *   - dead nodes are removed (pass_dce), ids dense and in order.
 * Without weights (g->weights NULL, used to list what a weights file must hold) nothing is
 * checked and normalize's statistics are NaN; no code is generated from such a graph.
 * Passes after this one (BatchNorm folding) may rewrite leaves and their weights.
 */
#include "../ir/weights.h"
#include "pass.h"
#include <math.h>
#include <string.h>

static int is_eval_identity(ir_op op) { return ir_op_is_random(op); }

/* one normalised input: the scalar statistics, or the per-feature tensor */
typedef struct norm_input {
    int leaf;                /* the input leaf */
    double stats[2];         /* scalar: shift, scale (NaN without weights) */
    const ir_weight *per;    /* per feature: the f64[2, F] tensor (NULL: scalar) */
} norm_input;

/* the normalize (or normalize_features) node read by the users of input leaf `leaf` */
static ir_node normalize_node(const ir_node *leaf, int leaf_id, const norm_input *in) {
    ir_node n;
    memset(&n, 0, sizeof n);
    n.op = in->per ? IR_OP_normalize_features : IR_OP_normalize;
    n.n_in = 1;
    n.in[0] = leaf_id;
    n.dtype = IR_F32;
    n.shape = leaf->shape;
    n.shape_known = 1;
    if (in->per) n.name = in->per->name;
    else {
        ir_set_normalize_shift(&n, in->stats[0]);
        ir_set_normalize_scale(&n, in->stats[1]);
    }
    n.loc = leaf->loc;
    n.what = "normalize";
    n.grad = -1;
    n.phase = IR_PHASE_FORWARD;
    return n;
}

/* the index in norm[0..n_norm) of leaf id, or -1 */
static int normalized_index(int id, const norm_input *norm, int n_norm) {
    for (int k = 0; k < n_norm; k++)
        if (norm[k].leaf == id) return k;
    return -1;
}

/* Copies the graph in order, bypassing the eval identities and inserting after each input leaf
 * norm[k].leaf its normalize node. */
static void rebuild(ir_graph *g, const norm_input *norm, int n_norm) {
    int n_old = g->n_nodes;
    ir_node *old = g->nodes,
            *nodes = arena_alloc(g->a, sizeof(ir_node) * (size_t)(n_old + n_norm));
    int *remap = arena_alloc(g->a, sizeof(int) * (size_t)n_old);
    int n = 0;
    for (int id = 0; id < n_old; id++) {
        ir_node moved = old[id];
        for (int i = 0; i < moved.n_in; i++) moved.in[i] = remap[moved.in[i]];
        if (is_eval_identity(moved.op)) {
            remap[id] = moved.in[0];
            continue;
        }
        if (moved.op == IR_OP_assign) { /* a training-step update: nothing reads it */
            remap[id] = -1;
            continue;
        }
        nodes[n] = moved;
        remap[id] = n++;
        int k = normalized_index(id, norm, n_norm);
        if (k >= 0) {
            nodes[n] = normalize_node(&moved, n - 1, &norm[k]);
            remap[id] = n++;
        }
    }
    g->nodes = nodes;
    g->n_nodes = n;
    g->cap = n_old + n_norm;
    g->loss = -1;
    for (int i = 0; i < g->n_outputs; i++) g->outputs[i] = remap[g->outputs[i]];
}

/* ---- the weights file against the graph ---- */

static const char *file_shape(pass_ctx *c, const ir_weight *t) {
    char buf[160];
    size_t k = (size_t)snprintf(buf, sizeof buf, "%s[", ir_weight_dtype_name(t->dtype));
    for (int i = 0; i < t->rank && k < sizeof buf - 24; i++)
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%lld", i ? "," : "", (long long)t->dims[i]);
    snprintf(buf + k, sizeof buf - k, "]");
    return arena_strdup(c->g->a, buf);
}

/* the tensor `name` as dtype[dims]; reports what differs. Returns it, or NULL */
static const ir_weight *expect(pass_ctx *c, const char *name, ir_weight_dtype dtype, int rank,
                               const int64_t *dims, char *used) {
    const ir_weights *w = c->g->weights;
    ir_weight want = {.name = name, .dtype = dtype, .rank = rank};
    for (int i = 0; i < rank; i++) want.dims[i] = dims[i];
    const char *shape = file_shape(c, &want);
    const ir_weight *t = ir_weights_find(w, name);
    if (!t) {
        diag_plain_error(c->d, "%s: missing tensor '%s' (the model needs %s)", w->source, name, shape);
        return NULL;
    }
    used[t - w->t] = 1;
    if (t->dtype != dtype) {
        diag_plain_error(c->d, "%s: tensor '%s' has dtype %s; the model needs %s", w->source, name,
                         ir_weight_dtype_name(t->dtype), shape);
        return NULL;
    }
    int same = t->rank == rank;
    for (int i = 0; same && i < rank; i++) same = t->dims[i] == dims[i];
    if (!same) {
        diag_plain_error(c->d, "%s: tensor '%s' has shape %s; the model needs %s", w->source, name,
                         file_shape(c, t), shape);
        return NULL;
    }
    return t;
}

/* the statistics of normalised input k: f64[2] {shift, scale} (NaN without weights or when
 * they do not match), or per feature f64[2, F] with F the input's sample size */
static void normalization(pass_ctx *c, int k, norm_input *in, char *used) {
    in->stats[0] = in->stats[1] = NAN;
    in->per = NULL;
    if (!c->g->weights) return;
    const char *name = c->g->weights->normalize_names[k];
    const ir_weight *t = ir_weights_find(c->g->weights, name);
    if (t && t->dtype == IR_WEIGHT_F64 && t->rank == 2 && in->leaf >= 0) {
        const int64_t dims[2] = {2, ir_shape_inner(&ir_get(c->g, in->leaf)->shape)};
        in->per = expect(c, name, IR_WEIGHT_F64, 2, dims, used);
        return;
    }
    const int64_t two = 2;
    t = expect(c, name, IR_WEIGHT_F64, 1, &two, used);
    if (t) memcpy(in->stats, t->data, 2 * sizeof(double));
}

static void check_leaves(pass_ctx *c, char *used) {
    const ir_graph *g = c->g;
    for (int id = 0; id < g->n_nodes; id++) {
        const ir_node *n = ir_get(g, id);
        if (!ir_op_in_weights(n->op)) continue;
        expect(c, n->name, n->dtype == IR_I32 ? IR_WEIGHT_I32 : IR_WEIGHT_F32, n->shape.rank,
               n->shape.dims, used);
    }
    const ir_weights *w = g->weights;
    for (int k = 0; k < w->n; k++)
        if (!used[k])
            diag_plain_error(c->d, "%s: extra tensor '%s' (%s): the model has no such tensor",
                             w->source, w->t[k].name, file_shape(c, &w->t[k]));
}

int pass_inference(pass_ctx *c) {
    ir_graph *g = c->g;
    char *used = g->weights ? arena_alloc(g->a, (size_t)g->weights->n + 1) : NULL;
    int errors = c->d->n_errors;
    norm_input norm[3];
    for (int k = 0; k < c->n_normalized; k++) {
        norm[k].leaf = ir_find_leaf(g, IR_OP_input, c->normalized_inputs[k]);
        normalization(c, k, &norm[k], used);
    }
    rebuild(g, norm, c->n_normalized);
    if (!pass_dce(c)) return 0;
    if (g->weights) check_leaves(c, used);
    return c->d->n_errors == errors;
}
