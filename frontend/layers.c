/*
 * layers.c — the table of names callable in a model: layers (dense), free trainable tensors
 * (variable), activations and elementwise functions, and losses. Each entry states its
 * positional-argument range, its keyword arguments and its lowering function; an unknown name
 * gets a "did you mean".
 * Adding a layer = one row here + its lowering function.
 */
#include "lower_internal.h"
#include <math.h>
#include <string.h>

typedef int (*layer_fn)(lower_ctx *c, const ast_expr *call, const int *args, ir_op op);

typedef struct layer_info {
    const char *name;              /* callee name in the language */
    int min_pos, max_pos;          /* positional arguments accepted */
    int n_tensor;                  /* leading positional args lowered as tensors */
    const char *const *kwargs;     /* keyword arguments accepted (NULL-terminated) */
    layer_fn lower;                /* builds the IR */
    ir_op op;                      /* op for the generic unary/binary builders */
} layer_info;

static const char *const no_kwargs[] = {NULL};
static const char *const dense_kwargs[] = {"init", "bias_init", "bias", "name", NULL};
static const char *const variable_kwargs[] = {"name", NULL};

static int build_unary(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    (void)call;
    return finish_node(c, ir_add1(c->g, op, args[0]));
}

static int build_binary(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    (void)call;
    return finish_node(c, ir_add2(c->g, op, args[0], args[1]));
}

static int make_param(lower_ctx *c, const char *name, int rank, const int64_t *dims,
                      const ir_init *init) {
    ir_shape shape = ir_shape_make(0, rank, dims);
    if (ir_find_leaf(c->g, IR_OP_param, name) >= 0) {
        diag_error(c->d, c->g->cur_loc, "a parameter named '%s' already exists", name);
        return -1;
    }
    int id = ir_leaf(c->g, IR_OP_param, name, IR_F32, &shape);
    ir_get(c->g, id)->init = *init;
    return id;
}

/* dense(x, units, init=torch_default, bias_init=..., bias=1, name="denseN"): x @ W + b,
 * W [in, units]. The bias follows torch_default when the weights do, else starts at zero,
 * unless bias_init says otherwise; fan-scaled bias initializers use the layer's fans. */
static int build_dense(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    (void)op;
    const ir_shape *xs = &ir_get(c->g, args[0])->shape;
    int64_t units;
    if (!eval_int(c, call->args[1].value, &units, 1)) return -1;
    if (xs->rank != 2) {
        diag_error(c->d, call->loc, "dense: expects a [batch, features] input, got %s",
                   ir_shape_str(c->a, xs));
        return -1;
    }
    const ast_expr *init_e = find_kwarg(call, "init"), *bias_e = find_kwarg(call, "bias");
    const ast_expr *binit_e = find_kwarg(call, "bias_init"), *name_e = find_kwarg(call, "name");
    ir_init init = {.kind = IR_INIT_TORCH_DEFAULT, .fan_in = xs->dims[1], .fan_out = units};
    double use_bias = 1;
    if (init_e && !lower_init(c, init_e, &init)) return -1;
    ir_init binit = init;
    if (init.kind != IR_INIT_TORCH_DEFAULT) binit.kind = IR_INIT_ZEROS;
    if (binit_e && !lower_init(c, binit_e, &binit)) return -1;
    if (bias_e && !eval_number(c, bias_e, &use_bias)) return -1;
    if (binit_e && !use_bias) {
        diag_error(c->d, binit_e->loc, "dense: bias_init is given but bias = 0 drops the bias");
        return -1;
    }
    const char *layer = name_e ? eval_symbol(c, name_e, "a layer") : loc_name(c, "dense");
    if (!layer) return -1;
    int64_t wdims[2] = {xs->dims[1], units};
    int w = make_param(c, arena_printf(c->a, "%s.w", layer), 2, wdims, &init);
    if (w < 0) return -1;
    int y = finish_node(c, ir_matmul(c->g, args[0], w, 0, 0));
    if (y < 0 || !use_bias) return y;
    int b = make_param(c, arena_printf(c->a, "%s.b", layer), 1, &units, &binit);
    return b < 0 ? -1 : finish_node(c, ir_add2(c->g, IR_OP_add, y, b));
}

/* variable(d0, d1, ..., name="variableN"): a trainable tensor of that shape (no dims: a
 * scalar), not batched, starting at zero */
static int build_variable(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    (void)args, (void)op;
    int64_t dims[IR_MAX_RANK];
    int rank = 0;
    for (int i = 0; i < call->n_args; i++)
        if (!call->args[i].name && !eval_int(c, call->args[i].value, &dims[rank++], 1)) return -1;
    const ast_expr *name_e = find_kwarg(call, "name");
    const char *name = name_e ? eval_symbol(c, name_e, "a variable")
                              : arena_printf(c->a, "variable%d", ++c->n_variable);
    if (!name) return -1;
    ir_init init = {.kind = IR_INIT_ZEROS};
    return make_param(c, name, rank, dims, &init);
}

const char *loc_name(lower_ctx *c, const char *base) {
    return arena_printf(c->a, "%s%d", base, ++c->n_dense);
}

static const layer_info layers[] = {
    {"dense", 2, 2, 1, dense_kwargs, build_dense, IR_OP_matmul},
    {"variable", 0, IR_MAX_RANK, 0, variable_kwargs, build_variable, IR_OP_param},
    {"relu", 1, 1, 1, no_kwargs, build_unary, IR_OP_relu},
    {"sigmoid", 1, 1, 1, no_kwargs, build_unary, IR_OP_sigmoid},
    {"tanh", 1, 1, 1, no_kwargs, build_unary, IR_OP_tanh},
    {"softmax", 1, 1, 1, no_kwargs, build_unary, IR_OP_softmax},
    {"exp", 1, 1, 1, no_kwargs, build_unary, IR_OP_exp},
    {"log", 1, 1, 1, no_kwargs, build_unary, IR_OP_log},
    {"sqrt", 1, 1, 1, no_kwargs, build_unary, IR_OP_sqrt},
    {"cross_entropy", 2, 2, 2, no_kwargs, build_binary, IR_OP_cross_entropy},
    {"mse", 2, 2, 2, no_kwargs, build_binary, IR_OP_mse},
};
enum { N_LAYERS = (int)(sizeof layers / sizeof layers[0]) };

static const layer_info *find_layer(lower_ctx *c, const ast_expr *call) {
    const char *names[N_LAYERS];
    for (int i = 0; i < N_LAYERS; i++) {
        names[i] = layers[i].name;
        if (strcmp(layers[i].name, call->str) == 0) return &layers[i];
    }
    const char *best = diag_closest(call->str, names, N_LAYERS);
    if (best) diag_error(c->d, call->loc, "unknown function '%s'; did you mean '%s'?", call->str, best);
    else diag_error(c->d, call->loc, "unknown function '%s'", call->str);
    return NULL;
}

int lower_call(lower_ctx *c, const ast_expr *call) {
    const layer_info *L = find_layer(c, call);
    if (!L || !check_call_args(c, call, L->min_pos, L->max_pos, L->kwargs)) return -1;
    int args[IR_MAX_IN];
    for (int i = 0; i < L->n_tensor; i++)
        if ((args[i] = lower_expr(c, call->args[i].value)) < 0) return -1;
    c->g->cur_loc = call->loc;
    c->g->cur_what = L->name;
    return L->lower(c, call, args, L->op);
}
