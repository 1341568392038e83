/*
 * layers_random.c — issue 15's random sampling and stop-gradient in the language table of
 * layers.c: normal(dims..., mean = 0, std = 1) and uniform(dims..., low = 0, high = 1),
 * per-sample noise [B, dims...], and normal_like(x, ...) / uniform_like(x, ...) of a batched
 * x's shape; bernoulli(p), a 0/1 sample of p's shape; stop_gradient(x), the identity through
 * which no gradient flows. Every op that draws (these, dropout, gaussian_noise) reads
 * the per-step scalars "seed" and "step" and gets a stream number of its own (lower_draw), so
 * its draws are a hash of (seed, step, stream, element index) in both backends.
 */
#include "lower_internal.h"
#include <math.h>

/* an integer per-step scalar the runtime fills by name ("seed", "step"), shared by every use */
static int step_scalar(lower_ctx *c, const char *name) {
    int id = ir_find_leaf(c->g, IR_OP_scalar_in, name);
    if (id >= 0) return id;
    ir_shape scalar = ir_shape_make(0, 0, NULL);
    return ir_leaf(c->g, IR_OP_scalar_in, name, IR_I32, &scalar);
}

int lower_draw(lower_ctx *c, ir_op op, int x) {
    int stream = 0;
    for (int id = 0; id < c->g->n_nodes; id++)
        stream += ir_op_draws(c->g->nodes[id].op);
    int seed = step_scalar(c, "seed"), step = step_scalar(c, "step");
    int id = x >= 0 ? ir_add3(c->g, op, x, seed, step) : ir_add2(c->g, op, seed, step);
    ir_set_random_stream(ir_get(c->g, id), stream);
    return id;
}

/* keyword `name` of call as a finite number that fits f32, or def when absent */
static int number_kwarg(lower_ctx *c, const ast_expr *call, const char *name, double def, double *out) {
    const ast_expr *e = lower_find_kwarg(call, name);
    *out = def;
    if (!e) return 1;
    if (!lower_eval_number(c, e, out)) return 0;
    if (!isfinite(*out)) {
        diag_error(c->d, e->loc, "%s: %s must be finite, got %g", call->str, name, *out);
        return 0;
    }
    return lower_fits_f32(c, e->loc, *out, name);
}

/* the two numbers of a sample: normal's mean and std (std >= 0), uniform's low and high
 * (low <= high), as loc and scale */
static int sample_numbers(lower_ctx *c, const ast_expr *call, ir_op op, double *loc, double *scale) {
    int normal = op == IR_OP_normal;
    const char *a = normal ? "mean" : "low", *b = normal ? "std" : "high";
    double x, y;
    if (!number_kwarg(c, call, a, 0, &x) || !number_kwarg(c, call, b, 1, &y)) return 0;
    if (normal ? y < 0 : y < x) {
        const ast_expr *e = lower_find_kwarg(call, b);
        diag_error(c->d, e ? e->loc : call->loc, normal ? "%s: std must be >= 0, got %g"
                                                        : "%s: high must be >= low (%g), got %g",
                   call->str, normal ? y : x, y);
        return 0;
    }
    *loc = x;
    *scale = normal ? y : y - x;
    return 1;
}

/* a node of sample op of the given dims (the batch first), its numbers from the call */
static int sample_node(lower_ctx *c, const ast_expr *call, ir_op op, int rank, const int64_t *dims) {
    ir_shape shape = ir_shape_make(1, rank, dims);
    if (!ir_shape_fits(&shape)) {
        diag_error(c->d, call->loc, "%s: %s at batch %lld holds more than " IR_MAX_ELEMENTS_TEXT
                   " elements; a tensor may hold at most " IR_MAX_ELEMENTS_TEXT, call->str,
                   ir_shape_str(c->a, &shape), (long long)c->max_batch);
        return -1;
    }
    double loc, scale;
    if (!sample_numbers(c, call, op, &loc, &scale)) return -1;
    int id = lower_draw(c, op, -1);
    ir_node *n = ir_get(c->g, id);
    ir_set_sample_loc(n, loc);
    ir_set_sample_scale(n, scale);
    ir_set_sample_dims_count(n, rank);
    for (int i = 0; i < rank; i++) ir_set_sample_dims(n, i, dims[i]);
    return lower_finish_node(c, id);
}

/* normal(dims..., mean, std) / uniform(dims..., low, high): [B, dims...], fresh every batch */
int lower_build_sample(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    (void)args;
    int64_t dims[IR_MAX_RANK] = {c->max_batch};
    int rank = 1;
    for (int i = 0; i < call->n_args; i++)
        if (!call->args[i].name && !lower_eval_int(c, call->args[i].value, &dims[rank++], 1)) return -1;
    return sample_node(c, call, op, rank, dims);
}

/* normal_like(x, mean, std) / uniform_like(x, low, high): a sample of batched x's shape (x's
 * values are not read) */
int lower_build_sample_like(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    const ir_shape *x = &ir_get(c->g, args[0])->shape;
    if (!x->batched) {
        diag_error(c->d, call->loc, "%s: expects a batched value (the sample is drawn per sample), "
                   "got %s", call->str, ir_shape_str(c->a, x));
        return -1;
    }
    return sample_node(c, call, op, x->rank, x->dims);
}

/* bernoulli(p): 1 with probability p, elementwise; a sample, so no gradient reaches p */
int lower_build_bernoulli(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    if (ir_get(c->g, args[0])->dtype != IR_F32) {
        diag_error(c->d, call->loc, "%s: expects probabilities (f32), got integer labels",
                   call->str);
        return -1;
    }
    return lower_finish_node(c, lower_draw(c, op, args[0]));
}
