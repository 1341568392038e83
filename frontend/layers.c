/*
 * layers.c — tensor expressions (lower_expr: names, constants, operators and calls; the
 * recursion through nested calls stays in this file: a call's tensor arguments reach its
 * lowering function already lowered) and the table of names callable in a model: layers
 * (dense, prelu, batchnorm), free trainable tensors (variable), convolution and reshaping
 * (layers_conv.c), activations and
 * elementwise functions, train-only noise (dropout, gaussian_noise), samples and stop_gradient
 * (issue 15, built in layers_random.c), reductions, pooling and
 * concatenation (built in lower_pool.c), losses, and issue 13 ops1's tensor ops and constants
 * (abs, square, clamp, matmul here; transpose, slice, one_hot, constant, full and literal lists
 * in layers_tensor.c).
 * Each entry states its positional-argument range, its keyword arguments, its numeric
 * arguments (given by position after the tensors or by name, each with a default and a valid
 * range, stored in the op's float attributes in attrs.def's order) and its lowering function. An unknown name gets
 * a "did you mean"; a numeric argument out of range is an error naming it and its range.
 * Adding a layer = one row here + its lowering function (often a generic one).
 */
#include "lower_internal.h"
#include <math.h>
#include <string.h>

typedef int (*layer_fn)(lower_ctx *c, const ast_expr *call, const int *args, ir_op op);

/* A numeric argument: its value lands in c->num[k] for the k-th entry of a row's list. */
typedef struct num_arg {
    const char *name;      /* keyword; NULL ends a list */
    double def;            /* default; NAN: the argument is required */
    double lo, hi;         /* valid range (hi may be INFINITY) */
    int lo_open, hi_open;  /* the bound itself is excluded */
} num_arg;

typedef struct layer_info {
    const char *name;              /* callee name in the language */
    int min_pos, max_pos;          /* positional arguments accepted */
    int n_tensor;                  /* leading positional args lowered as tensors (or
                                      ALL_POSITIONAL), before the row's function is called */
    const char *const *kwargs;     /* other keyword arguments accepted (NULL-terminated) */
    layer_fn lower;                /* builds the IR */
    ir_op op;                      /* op for the generic builders */
    const num_arg *nums;           /* numeric arguments after the tensors (NULL: none) */
} layer_info;

/* n_tensor of a row whose positional arguments are all tensors, any number of them (concat) */
enum { ALL_POSITIONAL = -1 };

static const char *const no_kwargs[] = {NULL};
static const char *const dense_kwargs[] = {"init", "bias_init", "bias", "name", NULL};
static const char *const name_kwargs[] = {"name", NULL};
static const char *const variable_kwargs[] = {"name", "init", NULL};
static const char *const conv_kwargs[] = {"stride", "padding", "dilation", "groups", "init",
                                          "bias_init", "bias", "name", NULL};
static const char *const loss_kwargs[] = {"reduction", NULL};

#define INF INFINITY
static const num_arg slope_arg[] = {{"slope", 0.01, 0, INF, 0, 1}, {NULL, 0, 0, 0, 0, 0}};
static const num_arg alpha_arg[] = {{"alpha", 1, 0, INF, 0, 1}, {NULL, 0, 0, 0, 0, 0}};
static const num_arg softplus_args[] = {{"beta", 1, 0, INF, 1, 1}, {"threshold", 20, 0, INF, 1, 1},
                                        {NULL, 0, 0, 0, 0, 0}};
static const num_arg p_arg[] = {{"p", 0.5, 0, 1, 0, 1}, {NULL, 0, 0, 0, 0, 0}};
static const num_arg std_arg[] = {{"std", NAN, 0, INF, 0, 1}, {NULL, 0, 0, 0, 0, 0}};
static const num_arg beta_arg[] = {{"beta", 1, 0, INF, 0, 1}, {NULL, 0, 0, 0, 0, 0}};
static const num_arg delta_arg[] = {{"delta", 1, 0, INF, 1, 1}, {NULL, 0, 0, 0, 0, 0}};
static const num_arg prelu_arg[] = {{"init", 0.25, -INF, INF, 0, 0}, {NULL, 0, 0, 0, 0, 0}};
static const char *const axis_kwargs[] = {"axis", NULL};
static const char *const normal_kwargs[] = {"mean", "std", NULL};
static const char *const uniform_kwargs[] = {"low", "high", NULL};
/* issue 13 ops2 (lower_metric.c) */
static const num_arg pd_eps_arg[] = {{"eps", 1e-6, 0, INF, 0, 1}, {NULL, 0, 0, 0, 0, 0}};
static const num_arg cos_eps_arg[] = {{"eps", 1e-8, 0, INF, 1, 1}, {NULL, 0, 0, 0, 0, 0}};
static const num_arg margin_arg[] = {{"margin", 1, 0, INF, 0, 1}, {NULL, 0, 0, 0, 0, 0}};
static const num_arg triplet_args[] = {{"margin", 1, 0, INF, 0, 1}, {"eps", 1e-6, 0, INF, 0, 1},
                                       {NULL, 0, 0, 0, 0, 0}};
/* stride 0 stands for "the kernel" (never accepted from the user: the range starts at 1) */
static const num_arg pool_args[] = {{"kernel", NAN, 1, INF, 0, 1}, {"stride", 0, 1, INF, 0, 1},
                                    {"padding", 0, 0, INF, 0, 1}, {NULL, 0, 0, 0, 0, 0}};
static const num_arg smoothing_arg[] = {{"label_smoothing", 0, 0, 1, 0, 0}, {NULL, 0, 0, 0, 0, 0}};
static const num_arg batchnorm_args[] = {{"momentum", 0.1, 0, 1, 0, 0}, {"eps", 1e-5, 0, INF, 1, 1},
                                         {"affine", 1, 0, 1, 0, 0}, {NULL, 0, 0, 0, 0, 0}};

/* the call's numeric arguments (c->num) become the node's float attributes */
static int with_nums(lower_ctx *c, int id) {
    ir_set_float_attrs(ir_get(c->g, id), c->num);
    return lower_finish_node(c, id);
}

static int build_unary(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    (void)call;
    return with_nums(c, ir_add1(c->g, op, args[0]));
}

/* elu(x, alpha): scale 1 */
static int build_elu(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    (void)call;
    int id = ir_add1(c->g, op, args[0]);
    ir_set_elu_alpha(ir_get(c->g, id), c->num[0]);
    ir_set_elu_scale(ir_get(c->g, id), 1);
    return lower_finish_node(c, id);
}

/* selu(x) = elu with torch's fixed alpha and scale (self-normalizing networks) */
static int build_selu(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    (void)call;
    int id = ir_add1(c->g, op, args[0]);
    ir_set_elu_alpha(ir_get(c->g, id), 1.6732632423543772848170429916717);
    ir_set_elu_scale(ir_get(c->g, id), 1.0507009873554804934193349852946);
    return lower_finish_node(c, id);
}

/* dropout / gaussian_noise: (x, seed, step), a stream number of its own, p or std */
static int build_random(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    (void)call;
    return with_nums(c, lower_draw(c, op, args[0]));
}

/* reduction = mean | sum (torch's reduction=; "none" has no scalar to train on) */
static int parse_reduction(lower_ctx *c, const ast_expr *call, int64_t *out) {
    static const char *const kinds[] = {"mean", "sum"};
    const ast_expr *e = lower_find_kwarg(call, "reduction");
    *out = 0;
    if (!e) return 1;
    const char *k = lower_eval_symbol(c, e, "a reduction");
    if (!k) return 0;
    for (int i = 0; i < 2; i++)
        if (strcmp(k, kinds[i]) == 0) {
            *out = i;
            return 1;
        }
    if (strcmp(k, "none") == 0) {
        diag_error(c->d, e->loc, "%s: reduction 'none' leaves no scalar to train on (expected mean "
                   "or sum)", call->str);
        return 0;
    }
    const char *best = diag_closest(k, kinds, 2);
    char hint[DIAG_HINT_SIZE];
    diag_error(c->d, e->loc, "%s: unknown reduction '%s'%s", call->str, k,
               diag_hint(hint, best, " (expected mean or sum)"));
    return 0;
}

/* a loss: (prediction or scores, target or labels), numeric arguments and the reduction */
static int build_loss(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    int64_t reduction;
    if (!parse_reduction(c, call, &reduction)) return -1;
    int target = args[1];
    const ir_node *t = ir_get(c->g, target);
    if (t->shape.rank == 0 && t->op == IR_OP_const && ir_get(c->g, args[0])->shape.rank > 0)
        target = lower_finish_node(c, ir_add2(c->g, IR_OP_broadcast, target, args[0])); /* a number: every element's */
    if (target < 0) return -1;
    int id = ir_add2(c->g, op, args[0], target);
    ir_set_loss_sum(ir_get(c->g, id), reduction);
    return with_nums(c, id);
}

/* dense(x, units, init=torch_default, bias_init=..., bias=1, name="denseN"): x @ W + b,
 * W [in, units]. The bias follows torch_default when the weights do, else starts at zero,
 * unless bias_init says otherwise; fan-scaled bias initializers use the layer's fans. */
static int build_dense(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    (void)op;
    const ir_shape *xs = &ir_get(c->g, args[0])->shape;
    int64_t units;
    if (!lower_eval_int(c, call->args[1].value, &units, 1)) return -1;
    if (xs->rank != 2) {
        diag_error(c->d, call->loc, "dense: expects a [batch, features] input, got %s",
                   ir_shape_str(c->a, xs));
        return -1;
    }
    const ast_expr *init_e = lower_find_kwarg(call, "init"), *bias_e = lower_find_kwarg(call, "bias");
    const ast_expr *binit_e = lower_find_kwarg(call, "bias_init");
    const ast_expr *name_e = lower_find_kwarg(call, "name");
    ir_init init = {.kind = IR_INIT_TORCH_DEFAULT, .fan_in = xs->dims[1], .fan_out = units};
    double use_bias = 1;
    if (init_e && !lower_init(c, init_e, &init)) return -1;
    ir_init binit = init;
    if (init.kind != IR_INIT_TORCH_DEFAULT) binit.kind = IR_INIT_ZEROS;
    if (binit_e && !lower_init(c, binit_e, &binit)) return -1;
    if (bias_e && !lower_eval_number(c, bias_e, &use_bias)) return -1;
    if (binit_e && !use_bias) {
        diag_error(c->d, binit_e->loc, "dense: bias_init is given but bias = 0 drops the bias");
        return -1;
    }
    const char *layer = name_e ? lower_eval_symbol(c, name_e, "a layer") : lower_loc_name(c, "dense");
    if (!layer) return -1;
    int64_t wdims[2] = {xs->dims[1], units};
    int w = lower_make_param(c, arena_printf(c->a, "%s.w", layer), 2, wdims, &init);
    if (w < 0) return -1;
    int y = lower_finish_node(c, ir_matmul(c->g, args[0], w, 0, 0));
    if (y < 0 || !use_bias) return y;
    int b = lower_make_param(c, arena_printf(c->a, "%s.b", layer), 1, &units, &binit);
    return b < 0 ? -1 : lower_finish_node(c, ir_add2(c->g, IR_OP_add, y, b));
}

/* variable(d0, d1, ..., name="variableN", init = zeros): a trainable tensor of that shape (no
 * dims: a scalar), not batched, drawn by `init` (lower_init.c). A matrix [d0, d1] is read as
 * matmul(x, W)'s right operand, dense's layout: fan_in = d0, fan_out = d1; the fan-scaled kinds
 * need such a matrix (another rank has no fans to scale by). */
static int build_variable(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    (void)args, (void)op;
    int64_t dims[IR_MAX_RANK];
    int rank = 0;
    for (int i = 0; i < call->n_args; i++)
        if (!call->args[i].name && !lower_eval_int(c, call->args[i].value, &dims[rank++], 1)) return -1;
    const ast_expr *name_e = lower_find_kwarg(call, "name"), *init_e = lower_find_kwarg(call, "init");
    ir_init init = {.kind = IR_INIT_ZEROS, .fan_in = rank == 2 ? dims[0] : 0,
                    .fan_out = rank == 2 ? dims[1] : 0};
    if (init_e && !lower_init(c, init_e, &init)) return -1;
    int fan_scaled = init.kind != IR_INIT_ZEROS && init.kind != IR_INIT_CONSTANT &&
                     init.kind != IR_INIT_UNIFORM && init.kind != IR_INIT_NORMAL;
    if (fan_scaled && rank != 2) {
        diag_error(c->d, init_e->loc, "variable: %s scales by fan-in and fan-out, which only a "
                   "matrix variable [fan_in, fan_out] has; this one has rank %d", init_e->str, rank);
        return -1;
    }
    const char *name = name_e ? lower_eval_symbol(c, name_e, "a variable")
                     : c->frame ? lower_loc_name(c, "variable") /* counted per block call */
                              : arena_printf(c->a, "variable%d", ++c->n_variable);
    if (!name) return -1;
    return lower_make_param(c, name, rank, dims, &init);
}

/* prelu(x, init = 0.25, name = "preluN"): x [B, C], one learned slope per feature C, named
 * NAME.slope and initialised to init (torch.nn.PReLU(num_parameters = C, init = 0.25), whose
 * channel axis is dim 1) */
static int build_prelu(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    const ir_shape *xs = &ir_get(c->g, args[0])->shape;
    if (xs->rank != 2 || !xs->batched) {
        diag_error(c->d, call->loc, "prelu: expects features [B,C] (one slope per C), got %s",
                   ir_shape_str(c->a, xs));
        return -1;
    }
    const ast_expr *name_e = lower_find_kwarg(call, "name");
    const char *layer = name_e ? lower_eval_symbol(c, name_e, "a layer") : lower_loc_name(c, "prelu");
    if (!layer) return -1;
    int64_t channels = xs->dims[xs->rank - 1];
    ir_init init = {.kind = IR_INIT_CONSTANT, .a = c->num[0]};
    int slope = lower_make_param(c, arena_printf(c->a, "%s.slope", layer), 1, &channels, &init);
    return slope < 0 ? -1 : lower_finish_node(c, ir_add2(c->g, op, args[0], slope));
}

/* batchnorm's running statistics: a model buffer [C] starting at `start` */
static int make_buffer(lower_ctx *c, const char *layer, const char *what, int64_t channels,
                       double start) {
    int reuse;
    const char *name = lower_leaf_name(c, IR_OP_buffer, arena_printf(c->a, "%s.%s", layer, what),
                                       &reuse);
    if (!name) return -1;
    if (lower_leaf_named(c, IR_OP_buffer, name)) {
        diag_error(c->d, c->g->cur_loc, "a buffer named '%s' already exists", name);
        return -1;
    }
    ir_shape shape = ir_shape_make(0, 1, &channels);
    int id = ir_leaf(c->g, IR_OP_buffer, name, IR_F32, &shape);
    ir_get(c->g, id)->init = (ir_init){.kind = start ? IR_INIT_CONSTANT : IR_INIT_ZEROS, .a = start};
    return id;
}

/* assign(running, batchnorm_running(running, stats, x)): the training step's update of a
 * running statistic (row 0 the mean, 1 the variance) */
static void update_running(lower_ctx *c, int running, int stats, int x, int row) {
    int in[3] = {running, stats, x};
    int r = ir_add(c->g, IR_OP_batchnorm_running, 3, in);
    ir_set_bn_running_var(ir_get(c->g, r), row);
    ir_set_bn_running_momentum(ir_get(c->g, r), c->num[0]);
    if (lower_finish_node(c, r) >= 0) lower_finish_node(c, ir_add2(c->g, IR_OP_assign, running, r));
}

/* batchnorm(x, momentum = 0.1, eps = 1e-5, affine = 1, name = "batchnormN"): torch's
 * BatchNorm1d over features [B, C] or BatchNorm2d over feature maps [B, C, H, W]. Parameters
 * NAME.weight (gamma, 1) and NAME.bias (beta, 0) when affine; buffers NAME.running_mean (0) and
 * NAME.running_var (1), updated by the training step */
static int build_batchnorm(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    const ir_shape *xs = &ir_get(c->g, args[0])->shape;
    if (xs->rank != 2 && xs->rank != 4) {
        diag_error(c->d, call->loc, "batchnorm: expects features [B,C] or feature maps [B,C,H,W], "
                   "got %s", ir_shape_str(c->a, xs));
        return -1;
    }
    if (c->num[2] != 0 && c->num[2] != 1) {
        diag_error(c->d, lower_find_kwarg(call, "affine")->loc,
                   "batchnorm: affine must be 0 or 1, got %g",
                   c->num[2]);
        return -1;
    }
    const ast_expr *name_e = lower_find_kwarg(call, "name");
    const char *layer = name_e ? lower_eval_symbol(c, name_e, "a layer")
                               : lower_loc_name(c, "batchnorm");
    if (!layer) return -1;
    int64_t C = xs->dims[1];
    int in[4] = {args[0], -1, -1, -1};
    if (c->num[2]) {
        ir_init one = {.kind = IR_INIT_CONSTANT, .a = 1}, zero = {.kind = IR_INIT_ZEROS};
        in[2] = lower_make_param(c, arena_printf(c->a, "%s.weight", layer), 1, &C, &one);
        in[3] = in[2] < 0 ? -1 : lower_make_param(c, arena_printf(c->a, "%s.bias", layer), 1, &C, &zero);
        if (in[3] < 0) return -1;
    }
    int mean = make_buffer(c, layer, "running_mean", C, 0);
    int var = mean < 0 ? -1 : make_buffer(c, layer, "running_var", C, 1);
    if (var < 0) return -1;
    in[1] = lower_finish_node(c, ir_add3(c->g, IR_OP_batchnorm_stats, args[0], mean, var));
    if (in[1] < 0) return -1;
    int y = ir_add(c->g, op, c->num[2] ? 4 : 2, in);
    ir_set_bn_eps(ir_get(c->g, y), c->num[1]);
    if (lower_finish_node(c, y) < 0) return -1;
    update_running(c, mean, in[1], args[0], 0);
    update_running(c, var, in[1], args[0], 1);
    return y;
}

/* issue 13 ops1 */
/* clamp(x, min = -inf, max = inf): torch.clamp; at least one bound, and min <= max */
static const num_arg clamp_args[] = {{"min", -INF, -INF, INF, 0, 0}, {"max", INF, -INF, INF, 0, 0},
                                     {NULL, 0, 0, 0, 0, 0}};
static int build_clamp(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    if (isinf(c->num[0]) && isinf(c->num[1])) {
        diag_error(c->d, call->loc, "clamp: expects a bound (min = ..., max = ... or both)");
        return -1;
    }
    if (c->num[0] > c->num[1]) {
        diag_error(c->d, call->loc, "clamp: min (%g) is greater than max (%g)", c->num[0], c->num[1]);
        return -1;
    }
    return with_nums(c, ir_add1(c->g, op, args[0]));
}

/* transpose, slice, one_hot (layers_tensor.c): required numeric arguments, checked there */
static const num_arg transpose_args[] = {{"dim0", NAN, -INF, INF, 0, 0}, {"dim1", NAN, -INF, INF, 0, 0},
                                         {NULL, 0, 0, 0, 0, 0}};
static const num_arg slice_args[] = {{"axis", NAN, -INF, INF, 0, 0}, {"start", NAN, -INF, INF, 0, 0},
                                     {"length", NAN, -INF, INF, 0, 0}, {NULL, 0, 0, 0, 0, 0}};
static const num_arg one_hot_args[] = {{"classes", NAN, 1, INF, 0, 1}, {NULL, 0, 0, 0, 0, 0}};
static const num_arg value_arg[] = {{"value", NAN, -INF, INF, 0, 0}, {NULL, 0, 0, 0, 0, 0}};

/* matmul(a, b): torch.matmul of a matrix a [B, k] (batched) or [n, k], or of matrices a
 * [B, n, k] or [p, n, k] (their rows: one product), times a matrix b [k, m] that is not batched;
 * or of two batches of matrices a [B, n, k] and b [B, k, m], sample by sample (ir_bmm) */
static int build_matmul(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    (void)op;
    const ir_shape *a = &ir_get(c->g, args[0])->shape, *b = &ir_get(c->g, args[1])->shape;
    if (a->rank == 3 && b->rank == 3 && a->batched && b->batched)
        return lower_finish_node(c, ir_bmm(c->g, args[0], args[1], 0, 0));
    if ((a->rank != 2 && a->rank != 3) || b->rank != 2 || b->batched) {
        diag_error(c->d, call->loc, "matmul: expects a matrix [B,k] or [n,k] or matrices [B,n,k] "
                   "or [p,n,k] times a matrix [k,m] that is not batched, or matrices [B,n,k] times "
                   "[B,k,m], got %s and %s", ir_shape_str(c->a, a), ir_shape_str(c->a, b));
        return -1;
    }
    return lower_finish_node(c, ir_matmul(c->g, args[0], args[1], 0, 0));
}

static const layer_info layers[] = {
    {"dense", 2, 2, 1, dense_kwargs, build_dense, IR_OP_matmul, NULL},
    {"variable", 0, IR_MAX_RANK, 0, variable_kwargs, build_variable, IR_OP_param, NULL},
    {"prelu", 1, 2, 1, name_kwargs, build_prelu, IR_OP_prelu, prelu_arg},
    {"batchnorm", 1, 1, 1, name_kwargs, build_batchnorm, IR_OP_batchnorm, batchnorm_args},
    /* convolution and reshaping (layers_conv.c) */
    {"conv2d", 3, 3, 1, conv_kwargs, lower_build_conv2d, IR_OP_conv2d, NULL},
    {"flatten", 1, 1, 1, no_kwargs, lower_build_flatten, IR_OP_reshape, NULL},
    {"reshape", 2, IR_MAX_RANK, 1, no_kwargs, lower_build_reshape, IR_OP_reshape, NULL},
    /* activations */
    {"relu", 1, 1, 1, no_kwargs, build_unary, IR_OP_relu, NULL},
    {"sigmoid", 1, 1, 1, no_kwargs, build_unary, IR_OP_sigmoid, NULL},
    {"tanh", 1, 1, 1, no_kwargs, build_unary, IR_OP_tanh, NULL},
    {"leaky_relu", 1, 2, 1, no_kwargs, build_unary, IR_OP_leaky_relu, slope_arg},
    {"elu", 1, 2, 1, no_kwargs, build_elu, IR_OP_elu, alpha_arg},
    {"selu", 1, 1, 1, no_kwargs, build_selu, IR_OP_elu, NULL},
    {"swish", 1, 1, 1, no_kwargs, build_unary, IR_OP_silu, NULL},
    {"silu", 1, 1, 1, no_kwargs, build_unary, IR_OP_silu, NULL},
    {"mish", 1, 1, 1, no_kwargs, build_unary, IR_OP_mish, NULL},
    {"gelu", 1, 1, 1, no_kwargs, build_unary, IR_OP_gelu, NULL},
    {"softplus", 1, 3, 1, no_kwargs, build_unary, IR_OP_softplus, softplus_args},
    {"softmax", 1, 1, 1, no_kwargs, build_unary, IR_OP_softmax, NULL},
    {"log_softmax", 1, 1, 1, no_kwargs, build_unary, IR_OP_log_softmax, NULL},
    /* elementwise functions */
    {"exp", 1, 1, 1, no_kwargs, build_unary, IR_OP_exp, NULL},
    {"log", 1, 1, 1, no_kwargs, build_unary, IR_OP_log, NULL},
    {"sqrt", 1, 1, 1, no_kwargs, build_unary, IR_OP_sqrt, NULL},
    /* issue 13 ops1: tensor ops */
    {"abs", 1, 1, 1, no_kwargs, build_unary, IR_OP_abs, NULL},
    {"square", 1, 1, 1, no_kwargs, build_unary, IR_OP_square, NULL},
    {"clamp", 1, 3, 1, no_kwargs, build_clamp, IR_OP_clamp, clamp_args},
    {"matmul", 2, 2, 2, no_kwargs, build_matmul, IR_OP_matmul, NULL},
    {"transpose", 1, 3, 1, no_kwargs, lower_build_transpose, IR_OP_transpose, transpose_args},
    {"slice", 1, 4, 1, no_kwargs, lower_build_slice, IR_OP_slice, slice_args},
    {"one_hot", 1, 2, 1, no_kwargs, lower_build_one_hot, IR_OP_one_hot, one_hot_args},
    {"constant", 1, 1, 0, no_kwargs, lower_build_constant, IR_OP_const, value_arg},
    {"full", 2, 2, 0, no_kwargs, lower_build_full, IR_OP_fill, NULL},
    /* train-only noise */
    {"dropout", 1, 2, 1, no_kwargs, build_random, IR_OP_dropout, p_arg},
    {"gaussian_noise", 1, 2, 1, no_kwargs, build_random, IR_OP_gaussian_noise, std_arg},
    /* issue 15: samples and stop-gradient (layers_random.c) */
    {"normal", 1, IR_MAX_RANK - 1, 0, normal_kwargs, lower_build_sample, IR_OP_normal, NULL},
    {"uniform", 1, IR_MAX_RANK - 1, 0, uniform_kwargs, lower_build_sample, IR_OP_uniform, NULL},
    {"normal_like", 1, 1, 1, normal_kwargs, lower_build_sample_like, IR_OP_normal, NULL},
    {"uniform_like", 1, 1, 1, uniform_kwargs, lower_build_sample_like, IR_OP_uniform, NULL},
    {"bernoulli", 1, 1, 1, no_kwargs, lower_build_bernoulli, IR_OP_bernoulli, NULL},
    {"stop_gradient", 1, 1, 1, no_kwargs, build_unary, IR_OP_stop_gradient, NULL},
    /* reductions */
    /* issue 13 ops2: an axis (lower_metric.c); without one, every element as before */
    {"sum", 1, 2, 1, axis_kwargs, lower_build_reduce, IR_OP_sum, NULL},
    {"mean", 1, 2, 1, axis_kwargs, lower_build_reduce, IR_OP_mean, NULL},
    {"max", 1, 2, 1, axis_kwargs, lower_build_reduce, IR_OP_max_axis, NULL},
    /* pooling and concatenation over NCHW images (lower_pool.c) */
    {"max_pool2d", 1, 4, 1, no_kwargs, lower_build_pool, IR_OP_max_pool2d, pool_args},
    {"avg_pool2d", 1, 4, 1, no_kwargs, lower_build_pool, IR_OP_avg_pool2d, pool_args},
    {"global_avg_pool", 1, 1, 1, no_kwargs, build_unary, IR_OP_global_avg_pool, NULL},
    {"concat", 2, CONCAT_MAX_INPUTS, ALL_POSITIONAL, axis_kwargs, lower_build_concat, IR_OP_concat, NULL},
    /* losses */
    {"cross_entropy", 2, 3, 2, loss_kwargs, build_loss, IR_OP_cross_entropy, smoothing_arg},
    {"nll", 2, 2, 2, loss_kwargs, build_loss, IR_OP_nll, NULL},
    {"mse", 2, 2, 2, loss_kwargs, build_loss, IR_OP_mse, NULL},
    {"mae", 2, 2, 2, loss_kwargs, build_loss, IR_OP_mae, NULL},
    {"l1", 2, 2, 2, loss_kwargs, build_loss, IR_OP_mae, NULL},
    {"smooth_l1", 2, 3, 2, loss_kwargs, build_loss, IR_OP_smooth_l1, beta_arg},
    {"huber", 2, 3, 2, loss_kwargs, build_loss, IR_OP_huber, delta_arg},
    /* before bce, so that a misspelt "bce_with_logit" is not offered "bce" */
    {"bce_with_logits", 2, 2, 2, loss_kwargs, build_loss, IR_OP_bce_with_logits, NULL},
    {"bce", 2, 2, 2, loss_kwargs, build_loss, IR_OP_bce, NULL},
    {"hinge", 2, 2, 2, loss_kwargs, build_loss, IR_OP_hinge, NULL},
    /* issue 13 ops2: distances, comparisons and where, metric-learning losses (lower_metric.c) */
    {"norm", 1, 1, 1, no_kwargs, lower_build_norm, IR_OP_sum_axis, NULL},
    {"pairwise_distance", 2, 3, 2, no_kwargs, lower_build_pairwise_distance, IR_OP_sum_axis, pd_eps_arg},
    {"cosine_similarity", 2, 3, 2, no_kwargs, lower_build_cosine_similarity, IR_OP_sum_axis, cos_eps_arg},
    {"greater", 2, 2, 2, no_kwargs, lower_build_select, IR_OP_greater, NULL},
    {"less", 2, 2, 2, no_kwargs, lower_build_select, IR_OP_less, NULL},
    {"greater_equal", 2, 2, 2, no_kwargs, lower_build_select, IR_OP_greater_equal, NULL},
    {"less_equal", 2, 2, 2, no_kwargs, lower_build_select, IR_OP_less_equal, NULL},
    {"equal", 2, 2, 2, no_kwargs, lower_build_select, IR_OP_equal, NULL},
    {"not_equal", 2, 2, 2, no_kwargs, lower_build_select, IR_OP_not_equal, NULL},
    {"where", 3, 3, 3, no_kwargs, lower_build_select, IR_OP_where, NULL},
    {"contrastive", 2, 3, 2, no_kwargs, lower_build_contrastive, IR_OP_mean, margin_arg},
    {"triplet", 3, 5, 3, no_kwargs, lower_build_triplet, IR_OP_mean, triplet_args},
};
enum { N_LAYERS = (int)(sizeof layers / sizeof layers[0]) };

/* the built-in the call names; else "unknown function" with the closest built-in, block or
 * instance */
static const layer_info *find_layer(lower_ctx *c, const ast_expr *call) {
    const char **names = arena_alloc(c->a, sizeof(char *) * (size_t)(N_LAYERS + c->n_blocks +
                                                                     c->n_env + 1));
    int n = 0;
    for (int i = 0; i < N_LAYERS; i++) {
        names[n++] = layers[i].name;
        if (strcmp(layers[i].name, call->str) == 0) return &layers[i];
    }
    for (int i = 0; i < c->n_blocks; i++) names[n++] = c->blocks[i]->name;
    for (int i = 0; i < c->n_env; i++)
        if (c->env[i].inst) names[n++] = c->env[i].name;
    const char *best = diag_closest(call->str, names, n);
    if (best) diag_error(c->d, call->loc, "unknown function '%s'; did you mean '%s'?", call->str, best);
    else diag_error(c->d, call->loc, "unknown function '%s'", call->str);
    return NULL;
}

/* the row's keyword arguments: its numeric ones, then the others (NULL-terminated) */
static const char *const *all_kwargs(lower_ctx *c, const layer_info *L) {
    int n_num = 0, n_kw = 0;
    while (L->nums && L->nums[n_num].name) n_num++;
    while (L->kwargs[n_kw]) n_kw++;
    const char **all = arena_alloc(c->a, sizeof(char *) * (size_t)(n_num + n_kw + 1));
    for (int i = 0; i < n_num; i++) all[i] = L->nums[i].name;
    for (int i = 0; i < n_kw; i++) all[n_num + i] = L->kwargs[i];
    return all;
}

static const ast_expr *positional(const ast_expr *call, int i) {
    return i < call->n_args && !call->args[i].name ? call->args[i].value : NULL;
}

static const char *bound(double v) {
    static char buf[2][32];
    static int which;
    which ^= 1;
    if (isinf(v)) return "inf";
    snprintf(buf[which], sizeof buf[which], "%g", v);
    return buf[which];
}

/* a numeric argument's value, checked against its range; errors name the function, the
 * argument and the range */
static int eval_num(lower_ctx *c, const ast_expr *call, const num_arg *na, const ast_expr *e,
                    double *out) {
    if (!lower_eval_number(c, e, out)) return 0;
    if (!lower_fits_f32(c, e->loc, *out, arena_printf(c->a, "%s: %s", call->str, na->name)))
        return 0; /* the generated code computes with it in f32 */
    int ok = (na->lo_open ? *out > na->lo : *out >= na->lo) &&
             (na->hi_open ? *out < na->hi : *out <= na->hi);
    if (!ok) {
        const char *lo = bound(na->lo), *hi = bound(na->hi);
        diag_error(c->d, e->loc, "%s: %s must be in %c%s, %s%c, got %g", call->str, na->name,
                   na->lo_open ? '(' : '[', lo, hi, na->hi_open ? ')' : ']', *out);
    }
    return ok;
}

/* fill c->num from the call (by position after the tensors, or by name) or the defaults */
static int eval_nums(lower_ctx *c, const ast_expr *call, const layer_info *L) {
    int ok = 1;
    for (int k = 0; k < 4; k++) c->num[k] = 0;
    for (int k = 0; L->nums && L->nums[k].name; k++) {
        const num_arg *na = &L->nums[k];
        const ast_expr *pos = positional(call, L->n_tensor + k), *kw = lower_find_kwarg(call, na->name);
        if (pos && kw) {
            diag_error(c->d, kw->loc, "%s: argument '%s' is given twice", call->str, na->name);
            ok = 0;
        } else if (pos || kw) {
            ok &= eval_num(c, call, na, pos ? pos : kw, &c->num[k]);
        } else if (isnan(na->def)) {
            diag_error(c->d, call->loc, "%s: missing argument '%s'", call->str, na->name);
            ok = 0;
        } else {
            c->num[k] = na->def;
        }
    }
    return ok;
}

/* the row's tensor arguments into args (0 after an error): the builders get them lowered, so
 * that only this file recurses into expressions */
static int lower_tensor_args(lower_ctx *c, const ast_expr *call, const layer_info *L, int *args) {
    if (L->n_tensor != ALL_POSITIONAL) {
        for (int i = 0; i < L->n_tensor; i++)
            if ((args[i] = lower_expr(c, call->args[i].value)) < 0) return 0;
        return 1;
    }
    c->g->cur_loc = call->loc; /* the site of constants made on the way, e.g. the 3 in a * 3 */
    c->g->cur_what = L->name;
    int n = 0;
    for (int i = 0; i < call->n_args; i++)
        if (!call->args[i].name && (args[n++] = lower_expr(c, call->args[i].value)) < 0) return 0;
    return 1;
}

/* A call: of a block or an instance when the name is one (user names come first, so that a
 * built-in added later never changes what a file means), else of a built-in. */
int lower_call(lower_ctx *c, const ast_expr *call) {
    if (c->call_block) {
        int r = c->call_block(c, call);
        if (r != LOWER_NOT_BLOCK) return r;
    }
    const layer_info *L = find_layer(c, call);
    if (!L || !lower_check_call_args(c, call, L->min_pos, L->max_pos, all_kwargs(c, L))) return -1;
    int args[(int)CONCAT_MAX_INPUTS > (int)IR_MAX_IN ? (int)CONCAT_MAX_INPUTS : (int)IR_MAX_IN];
    if (!lower_tensor_args(c, call, L, args)) return -1;
    if (!eval_nums(c, call, L)) return -1;
    c->g->cur_loc = call->loc;
    c->g->cur_what = L->name;
    return L->lower(c, call, args, L->op);
}

/* ---- tensor expressions: names, constants, operators and calls ---- */

static int lower_binop(lower_ctx *c, const ast_expr *e) {
    int a = lower_expr(c, e->lhs), b = lower_expr(c, e->rhs);
    if (a < 0 || b < 0) return -1;
    ir_op op = e->op == '+' ? IR_OP_add : e->op == '-' ? IR_OP_sub
             : e->op == '*' ? IR_OP_mul : IR_OP_div;
    c->g->cur_loc = e->loc;
    c->g->cur_what = e->op == '+' ? "'+'" : e->op == '-' ? "'-'" : e->op == '*' ? "'*'" : "'/'";
    return lower_finish_node(c, ir_add2(c->g, op, a, b));
}

int lower_expr(lower_ctx *c, const ast_expr *e) {
    switch (e->kind) {
    case AST_NUM: return lower_fits_f32(c, e->loc, e->num, "constant") ? ir_const(c->g, e->num) : -1;
    case AST_NAME: {
        int node = lower_lookup_node(c, e->str);
        if (node >= 0) return node;
        if (node == NODE_FAILED) return -1;
        if (node == NODE_INSTANCE) {
            lower_instance_as_value(c, e);
            return -1;
        }
        const hyper *h = lower_lookup_hyper(c, e->str);
        if (h && h->failed) return -1;
        if (h) return lower_fits_f32(c, e->loc, h->value, "constant") ? ir_const(c->g, h->value) : -1;
        lower_unknown_name(c, e);
        return -1;
    }
    case AST_NEG: {
        int x = lower_expr(c, e->lhs);
        if (x < 0) return -1;
        c->g->cur_loc = e->loc;
        c->g->cur_what = "'-'";
        return lower_finish_node(c, ir_add1(c->g, IR_OP_neg, x));
    }
    case AST_BINOP: return lower_binop(c, e);
    case AST_CALL: return lower_call(c, e);
    case AST_LIST: return lower_tensor_literal(c, e); /* issue 13 ops1: a constant tensor */
    case AST_STR: break;
    }
    diag_error(c->d, e->loc, "expected a tensor expression");
    return -1;
}
