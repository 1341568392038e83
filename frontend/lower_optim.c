/*
 * lower_optim.c — the train block's optimization settings: `optimizer` (sgd, rmsprop, adagrad,
 * adam, adamw with torch.optim's hyperparameters and defaults), `schedule`, `warmup`,
 * `clip_norm`, `clip_value` and `regularize`. Every out-of-range value is an error naming the
 * optimizer, the parameter and its valid range. Regularizers become penalty terms added to the
 * loss in the IR (so autodiff differentiates them and the reported loss includes them); the
 * rest fills opt_config for the optimizer pass and the runtime's schedule.
 */
#include "lower_internal.h"
#include <string.h>

/* ---- optimizers ---- */

/* keyword arguments of each optimizer, in torch.optim's order */
static const char *const sgd_kwargs[] = {"lr", "momentum", "dampening", "nesterov",
                                         "weight_decay", NULL};
static const char *const rmsprop_kwargs[] = {"lr", "alpha", "eps", "weight_decay", "momentum",
                                             "centered", NULL};
static const char *const adagrad_kwargs[] = {"lr", "lr_decay", "weight_decay",
                                             "initial_accumulator_value", "eps", NULL};
static const char *const adam_kwargs[] = {"lr", "betas", "eps", "weight_decay", "amsgrad", NULL};
static const char *const *const opt_kwargs[OPT_COUNT] = {
    [OPT_SGD] = sgd_kwargs, [OPT_RMSPROP] = rmsprop_kwargs, [OPT_ADAGRAD] = adagrad_kwargs,
    [OPT_ADAM] = adam_kwargs, [OPT_ADAMW] = adam_kwargs,
};

/* torch.optim's defaults (torch >= 2.2, where SGD's lr defaults to 1e-3 too) */
void lower_opt_config_defaults(opt_kind kind, opt_config *o) {
    o->kind = kind;
    o->lr = 0, o->momentum = 0, o->dampening = 0, o->nesterov = 0, o->weight_decay = 0;
    o->alpha = 0.99, o->centered = 0, o->lr_decay = 0, o->initial_accumulator = 0;
    o->beta1 = 0.9, o->beta2 = 0.999, o->amsgrad = 0, o->eps = 1e-8;
    switch (kind) {
    case OPT_SGD: o->lr = 1e-3; return;
    case OPT_RMSPROP: o->lr = 0.01; return;
    case OPT_ADAGRAD: o->lr = 0.01, o->eps = 1e-10; return;
    case OPT_ADAM: o->lr = 1e-3; return;
    case OPT_ADAMW: o->lr = 1e-3, o->weight_decay = 0.01; return;
    case OPT_COUNT: return;
    }
}

/* a 0/1 switch such as nesterov = 1 */
static int eval_flag(lower_ctx *c, const ast_expr *e, const char *what, int *out) {
    double v;
    if (!lower_eval_number(c, e, &v)) return 0;
    if (v != 0 && v != 1) {
        diag_error(c->d, e->loc, "%s must be 0 or 1, got %g", what, v);
        return 0;
    }
    *out = v != 0;
    return 1;
}

static int lower_betas(lower_ctx *c, const ast_expr *e, const char *opt, opt_config *o) {
    if (e->kind != AST_LIST || e->n_args != 2) {
        diag_error(c->d, e->loc, "%s: betas must be a list of two numbers, e.g. [0.9, 0.999]", opt);
        return 0;
    }
    return lower_in_range(c, e->args[0].value, arena_printf(c->a, "%s: betas[0]", opt), 0, 1, 0, 1,
                          &o->beta1) &
           lower_in_range(c, e->args[1].value, arena_printf(c->a, "%s: betas[1]", opt), 0, 1, 0, 1,
                          &o->beta2);
}

/* one keyword argument `key = e` of optimizer `opt`, validated against its range */
static int lower_opt_kwarg(lower_ctx *c, const char *opt, const char *key, const ast_expr *e,
                           opt_config *o) {
    const char *what = arena_printf(c->a, "%s: %s", opt, key);
    if (!strcmp(key, "lr")) return lower_in_range(c, e, what, 0, 1e9, 1, 0, &o->lr);
    if (!strcmp(key, "momentum")) return lower_in_range(c, e, what, 0, 1, 0, 1, &o->momentum);
    if (!strcmp(key, "dampening")) return lower_in_range(c, e, what, 0, 1, 0, 0, &o->dampening);
    if (!strcmp(key, "nesterov")) return eval_flag(c, e, what, &o->nesterov);
    if (!strcmp(key, "weight_decay")) return lower_in_range(c, e, what, 0, 1e9, 0, 0, &o->weight_decay);
    if (!strcmp(key, "alpha")) return lower_in_range(c, e, what, 0, 1, 0, 1, &o->alpha);
    if (!strcmp(key, "eps")) return lower_in_range(c, e, what, 0, 1, 1, 0, &o->eps);
    if (!strcmp(key, "centered")) return eval_flag(c, e, what, &o->centered);
    if (!strcmp(key, "lr_decay")) return lower_in_range(c, e, what, 0, 1e9, 0, 0, &o->lr_decay);
    if (!strcmp(key, "initial_accumulator_value"))
        return lower_in_range(c, e, what, 0, 1e9, 0, 0, &o->initial_accumulator);
    if (!strcmp(key, "betas")) return lower_betas(c, e, opt, o);
    if (!strcmp(key, "amsgrad")) return eval_flag(c, e, what, &o->amsgrad);
    dlc_internal_error(__FILE__, __LINE__, "optimizer keyword '%s' has no rule", key);
}

static int find_opt_kind(lower_ctx *c, const ast_expr *e, opt_kind *kind) {
    const char *name = e->kind == AST_CALL || e->kind == AST_NAME ? e->str : NULL;
    for (int i = 0; name && i < OPT_COUNT; i++)
        if (!strcmp(name, ir_opt_names[i])) {
            *kind = (opt_kind)i;
            return 1;
        }
    if (!name) {
        diag_error(c->d, e->loc, "optimizer must be one of sgd(...), rmsprop(...), adagrad(...), "
                                 "adam(...), adamw(...)");
        return 0;
    }
    const char *best = diag_closest(name, ir_opt_names, OPT_COUNT);
    char hint[DIAG_HINT_SIZE];
    diag_error(c->d, e->loc, "unknown optimizer '%s'%s", name,
               diag_hint(hint, best, " (known: sgd, rmsprop, adagrad, adam, adamw)"));
    return 0;
}

/* the arguments of optimizer call `e`: lr may also be the one positional argument */
static int lower_opt_args(lower_ctx *c, const ast_expr *e, opt_config *o) {
    const char *opt = ir_opt_names[o->kind];
    if (!lower_check_call_args(c, e, 0, 1, opt_kwargs[o->kind])) return 0;
    int ok = 1;
    for (int i = 0; i < e->n_args; i++) {
        const ast_arg *arg = &e->args[i];
        if (!arg->name && lower_find_kwarg(e, "lr")) {
            diag_error(c->d, arg->value->loc, "%s: lr is given twice", opt);
            ok = 0;
            continue;
        }
        ok &= lower_opt_kwarg(c, opt, arg->name ? arg->name : "lr", arg->value, o);
    }
    return ok;
}

int lower_optimizer(lower_ctx *c, const ast_expr *e, opt_config *o) {
    opt_kind kind;
    if (!find_opt_kind(c, e, &kind)) return 0;
    opt_config fresh = *o; /* keeps the schedule and clipping set by other settings */
    lower_opt_config_defaults(kind, &fresh);
    fresh.loc = e->loc;
    if (e->kind == AST_CALL && !lower_opt_args(c, e, &fresh)) return 0;
    if (fresh.nesterov && (fresh.momentum == 0 || fresh.dampening != 0)) {
        diag_error(c->d, e->loc, "sgd: nesterov needs momentum > 0 and dampening = 0");
        return 0;
    }
    *o = fresh;
    return 1;
}

/* ---- learning-rate schedule ---- */

/* an integer in [min, IR_MAX_DIM] (a count of epochs, as `epochs` is) into *out, else an error
 * "WHAT must be an integer in [MIN, 2147483647], got V" */
static int named_int(lower_ctx *c, const ast_expr *e, const char *what, int64_t min, int64_t *out) {
    return lower_eval_count(c, e, what, min, IR_MAX_DIM, out);
}

/* schedule = constant | step(every = 1, gamma = 0.1) | exponential(gamma) | cosine(min_lr = 0) */
int lower_schedule(lower_ctx *c, const ast_expr *e, lr_schedule *s) {
    static const char *const kwargs[DLRT_SCHED_COUNT][3] = {
        [DLRT_SCHED_CONSTANT] = {NULL}, [DLRT_SCHED_STEP] = {"every", "gamma", NULL},
        [DLRT_SCHED_EXPONENTIAL] = {"gamma", NULL}, [DLRT_SCHED_COSINE] = {"min_lr", NULL}};
    const char *k = e->kind == AST_CALL || e->kind == AST_NAME ? e->str : NULL;
    int which = -1;
    for (int i = 0; k && i < DLRT_SCHED_COUNT; i++)
        if (strcmp(k, ir_sched_names[i]) == 0) which = i;
    if (which < 0) {
        const char *best = k ? diag_closest(k, ir_sched_names, DLRT_SCHED_COUNT) : NULL;
        char hint[DIAG_HINT_SIZE];
        diag_error(c->d, e->loc, "unknown schedule '%s'%s", k ? k : "?",
                   diag_hint(hint, best, " (known: constant, step, exponential, cosine)"));
        return 0;
    }
    s->kind = (sched_kind)which, s->every = 1, s->gamma = 0.1, s->min_lr = 0;
    if (e->kind == AST_NAME) return 1;
    if (!lower_check_call_args(c, e, 0, 0, kwargs[which])) return 0;
    const ast_expr *v;
    int ok = 1;
    const char *what = arena_printf(c->a, "%s: ", k);
    if ((v = lower_find_kwarg(e, "every")))
        ok &= named_int(c, v, arena_printf(c->a, "%severy", what), 1, &s->every);
    if ((v = lower_find_kwarg(e, "gamma")))
        ok &= lower_in_range(c, v, arena_printf(c->a, "%sgamma", what), 0, 1, 1, 0, &s->gamma);
    if ((v = lower_find_kwarg(e, "min_lr")))
        ok &= lower_in_range(c, v, arena_printf(c->a, "%smin_lr", what), 0, 1e9, 0, 0, &s->min_lr);
    return ok;
}

/* warmup = K | linear(K, start_factor = 1/K): the first K epochs run at lr * (s + (1 - s) * e / K)
 * before the schedule starts (torch SequentialLR([LinearLR(start_factor=s, total_iters=K),
 * schedule], milestones=[K])); the default s = 1/K makes epoch 0 run at lr / K */
int lower_warmup(lower_ctx *c, const ast_expr *e, lr_schedule *s) {
    static const char *const kwargs[] = {"start_factor", NULL};
    int ok;
    if (e->kind != AST_CALL) {
        ok = named_int(c, e, "warmup", 0, &s->warmup);
    } else if (strcmp(e->str, "linear") != 0) {
        diag_error(c->d, e->loc, "unknown warmup '%s' (known: linear(epochs, start_factor = "
                                 "1/epochs), or a number of epochs)", e->str);
        return 0;
    } else {
        if (!lower_check_call_args(c, e, 1, 1, kwargs)) return 0;
        ok = named_int(c, e->args[0].value, "warmup: epochs", 1, &s->warmup);
    }
    s->warmup_start = s->warmup > 0 ? 1.0 / (double)s->warmup : 1;
    const ast_expr *v = e->kind == AST_CALL ? lower_find_kwarg(e, "start_factor") : NULL;
    if (v) ok &= lower_in_range(c, v, "warmup: start_factor", 0, 1, 1, 0, &s->warmup_start);
    return ok;
}

/* ---- regularization ---- */

static int is_layer_param(const char *param, const char *layer) {
    size_t n = strlen(layer);
    return strncmp(param, layer, n) == 0 && param[n] == '.';
}

static void unknown_param(lower_ctx *c, const char *reg, const ast_expr *e) {
    int n = 0;
    const char **names = arena_alloc(c->a, sizeof(char *) * (size_t)(2 * c->g->n_nodes + 1));
    for (int id = 0; id < c->g->n_nodes; id++) {
        const ir_node *p = ir_get(c->g, id);
        if (p->op != IR_OP_param) continue;
        names[n++] = p->name;
        const char *dot = strrchr(p->name, '.');
        if (dot) names[n++] = arena_printf(c->a, "%.*s", (int)(dot - p->name), p->name);
    }
    const char *best = diag_closest(e->str, names, n);
    char hint[DIAG_HINT_SIZE];
    diag_error(c->d, e->loc, "%s: the model has no parameter or layer named '%s'%s", reg,
               e->str, diag_hint(hint, best, ""));
}

/* some parameter is `name` or belongs to layer `name` */
static int names_params(lower_ctx *c, const char *name) {
    for (int id = 0; id < c->g->n_nodes; id++) {
        const ir_node *p = ir_get(c->g, id);
        if (p->op == IR_OP_param && (!strcmp(p->name, name) || is_layer_param(p->name, name)))
            return 1;
    }
    return 0;
}

/* mark in `chosen` the params named by `e`: a parameter ("dense1.w") or a layer ("dense1") */
static int choose_params(lower_ctx *c, const char *reg, const ast_expr *e, char *chosen) {
    if (e->kind != AST_NAME) {
        diag_error(c->d, e->loc, "%s: expected a parameter or layer name, e.g. dense1.w or dense1",
                   reg);
        return 0;
    }
    int found = 0;
    for (int id = 0; id < c->g->n_nodes; id++) {
        const ir_node *p = ir_get(c->g, id);
        if (p->op != IR_OP_param) continue;
        if (strcmp(p->name, e->str) != 0 && !is_layer_param(p->name, e->str)) continue;
        if (chosen[id]) {
            diag_error(c->d, e->loc, "%s: parameter '%s' is named twice", reg, p->name);
            return 0;
        }
        chosen[id] = 1;
        found = 1;
    }
    if (!found) unknown_param(c, reg, e);
    return found;
}

/* one l1(c, names...) / l2(c, names...) term: c * sum over the params of sum|w| / sum w^2 */
static int lower_penalty(lower_ctx *c, const ast_expr *e) {
    static const char *const kinds[] = {"l1", "l2"};
    const char *k = e->kind == AST_CALL ? e->str : NULL;
    if (!k || (strcmp(k, "l1") != 0 && strcmp(k, "l2") != 0)) {
        const char *best = k ? diag_closest(k, kinds, 2) : NULL;
        char hint[DIAG_HINT_SIZE];
        diag_error(c->d, e->loc, "a regularizer is l1(coefficient, names...) or l2(coefficient, "
                   "names...)%s", diag_hint(hint, best, ""));
        return -1;
    }
    if (!lower_check_call_args(c, e, 1, 1 << 20, NULL)) return -1;
    const ast_expr *first = e->args[0].value;
    if (first->kind == AST_NAME && names_params(c, first->str)) {
        diag_error(c->d, first->loc, "%s: the first argument is the coefficient, e.g. "
                   "%s(0.0005, %s)", k, k, first->str);
        return -1;
    }
    double coef;
    if (!lower_in_range(c, e->args[0].value, arena_printf(c->a, "%s: coefficient", k), 0, 1e9, 0, 0,
                        &coef))
        return -1;
    char *chosen = arena_alloc(c->a, (size_t)c->g->n_nodes);
    for (int i = 1; i < e->n_args; i++)
        if (!choose_params(c, k, e->args[i].value, chosen)) return -1;
    ir_op op = k[1] == '2' ? IR_OP_sum_squares : IR_OP_sum_abs;
    int n_nodes = c->g->n_nodes, sum = -1;
    c->g->cur_loc = e->loc;
    c->g->cur_what = k;
    for (int id = 0; id < n_nodes; id++) {
        if (ir_get(c->g, id)->op != IR_OP_param || (e->n_args > 1 && !chosen[id])) continue;
        int term = lower_finish_node(c, ir_add1(c->g, op, id));
        sum = sum < 0 ? term : lower_finish_node(c, ir_add2(c->g, IR_OP_add, sum, term));
    }
    if (sum < 0) {
        diag_error(c->d, e->loc, "%s: the model has no parameters", k);
        return -1;
    }
    return lower_finish_node(c, ir_add2(c->g, IR_OP_mul, ir_const(c->g, coef), sum));
}

int lower_regularize(lower_ctx *c, const ast_expr *e) {
    if (e->kind != AST_LIST) {
        diag_error(c->d, e->loc, "regularize must be a list, e.g. [l2(0.0005), l1(1e-5, dense1)]");
        return 0;
    }
    int penalty = -1;
    for (int i = 0; i < e->n_args; i++) {
        int term = lower_penalty(c, e->args[i].value);
        if (term < 0) continue;
        c->g->cur_loc = e->loc;
        c->g->cur_what = "regularize";
        penalty = penalty < 0 ? term : lower_finish_node(c, ir_add2(c->g, IR_OP_add, penalty, term));
    }
    if (c->d->n_errors || penalty < 0) return c->d->n_errors == 0;
    c->g->cur_loc = e->loc;
    c->g->cur_what = "regularize";
    c->g->loss = lower_finish_node(c, ir_add2(c->g, IR_OP_add, c->g->loss, penalty));
    return 1;
}
