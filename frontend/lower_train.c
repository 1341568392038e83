/*
 * lower_train.c — the train block: which data feeds which input, the loss, the optimizer and
 * the loop settings. Each setting is validated where it is written; out-of-range values name
 * the parameter and its valid range.
 */
#include "lower_internal.h"
#include <string.h>

void train_config_defaults(train_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->batch = 32;
    cfg->epochs = 1;
    cfg->seed = 0;
    cfg->validation = 0;
    cfg->metrics = DLC_METRIC_LOSS;
    cfg->opt = (opt_config){.kind = OPT_SGD, .lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
}

/* value in [lo, hi] (or [lo, hi) when hi_open), else an error naming the parameter */
static int in_range(lower_ctx *c, const ast_expr *e, const char *what, double lo, double hi,
                    int lo_open, int hi_open, double *out) {
    if (!eval_number(c, e, out)) return 0;
    int ok = (lo_open ? *out > lo : *out >= lo) && (hi_open ? *out < hi : *out <= hi);
    if (!ok)
        diag_error(c->d, e->loc, "%s must be in %c%g, %g%c, got %g", what, lo_open ? '(' : '[',
                   lo, hi, hi_open ? ')' : ']', *out);
    return ok;
}

static const char *const sgd_kwargs[] = {"lr", "momentum", "nesterov", "weight_decay", NULL};
static const char *const adam_kwargs[] = {"lr", "betas", "eps", "weight_decay", NULL};

static int lower_betas(lower_ctx *c, const ast_expr *e, opt_config *o) {
    if (e->kind != AST_LIST || e->n_args != 2) {
        diag_error(c->d, e->loc, "adam: betas must be a list of two numbers, e.g. [0.9, 0.999]");
        return 0;
    }
    return in_range(c, e->args[0].value, "adam: betas[0]", 0, 1, 0, 1, &o->beta1) &
           in_range(c, e->args[1].value, "adam: betas[1]", 0, 1, 0, 1, &o->beta2);
}

static int lower_optimizer(lower_ctx *c, const ast_expr *e, opt_config *o) {
    static const char *const kinds[] = {"sgd", "adam"};
    if (e->kind != AST_CALL && e->kind != AST_NAME) {
        diag_error(c->d, e->loc, "optimizer must be sgd(...) or adam(...)");
        return 0;
    }
    o->loc = e->loc;
    int adam = strcmp(e->str, "adam") == 0;
    if (!adam && strcmp(e->str, "sgd") != 0) {
        const char *best = diag_closest(e->str, kinds, 2);
        diag_error(c->d, e->loc, "unknown optimizer '%s'%s%s%s", e->str,
                   best ? "; did you mean '" : " (expected sgd or adam)", best ? best : "",
                   best ? "'?" : "");
        return 0;
    }
    o->kind = adam ? OPT_ADAM : OPT_SGD;
    o->lr = adam ? 1e-3 : 0.01;
    if (e->kind == AST_NAME) return 1;
    if (!check_call_args(c, e, 0, 0, adam ? adam_kwargs : sgd_kwargs)) return 0;
    int ok = 1;
    const ast_expr *v;
    double nesterov = 0;
    if ((v = find_kwarg(e, "lr"))) ok &= in_range(c, v, "lr", 0, 1e9, 1, 0, &o->lr);
    if ((v = find_kwarg(e, "weight_decay")))
        ok &= in_range(c, v, "weight_decay", 0, 1e9, 0, 0, &o->weight_decay);
    if ((v = find_kwarg(e, "momentum"))) ok &= in_range(c, v, "momentum", 0, 1, 0, 1, &o->momentum);
    if ((v = find_kwarg(e, "nesterov"))) ok &= in_range(c, v, "nesterov", 0, 1, 0, 0, &nesterov);
    if ((v = find_kwarg(e, "betas"))) ok &= lower_betas(c, v, o);
    if ((v = find_kwarg(e, "eps"))) ok &= in_range(c, v, "eps", 0, 1, 1, 0, &o->eps);
    o->nesterov = nesterov != 0;
    if (ok && o->nesterov && o->momentum == 0) {
        diag_error(c->d, e->loc, "sgd: nesterov needs momentum > 0");
        ok = 0;
    }
    return ok;
}

/* normalize = none | standardize | minmax (statistics from the training split only) */
static int lower_normalize(lower_ctx *c, const ast_expr *e, train_config *cfg) {
    static const char *const kinds[] = {"none", "standardize", "minmax"};
    const char *k = eval_symbol(c, e, "a normalization");
    if (!k) return 0;
    for (int i = 0; i < 3; i++)
        if (strcmp(k, kinds[i]) == 0) {
            cfg->normalize = i; /* same order as DLRT_NORM_* */
            return 1;
        }
    const char *best = diag_closest(k, kinds, 3);
    diag_error(c->d, e->loc, "unknown normalization '%s'%s%s%s", k,
               best ? "; did you mean '" : " (known: none, standardize, minmax)",
               best ? best : "", best ? "'?" : "");
    return 0;
}

/* data = mnist(x = image, y = label): bind model inputs to the dataset's fields */
static int lower_data(lower_ctx *c, const ast_expr *e, train_config *cfg) {
    static const char *const sets[] = {"mnist", "fashion_mnist"};
    static const char *const fields[] = {"image", "label"};
    if (e->kind != AST_CALL) {
        diag_error(c->d, e->loc, "data must name a dataset and bind inputs: mnist(x = image, y = label)");
        return 0;
    }
    int which = strcmp(e->str, "mnist") == 0 ? 0 : strcmp(e->str, "fashion_mnist") == 0 ? 1 : -1;
    if (which < 0) {
        const char *best = diag_closest(e->str, sets, 2);
        diag_error(c->d, e->loc, "unknown dataset '%s'%s%s%s", e->str,
                   best ? "; did you mean '" : " (known: mnist, fashion_mnist)", best ? best : "",
                   best ? "'?" : "");
        return 0;
    }
    cfg->dataset = which ? "fashion-mnist" : "mnist";
    for (int i = 0; i < e->n_args; i++) {
        const ast_arg *arg = &e->args[i];
        if (arg->name && strcmp(arg->name, "normalize") == 0) {
            if (!lower_normalize(c, arg->value, cfg)) return 0;
            continue;
        }
        if (!arg->name) {
            diag_error(c->d, arg->value->loc, "bind inputs by name: %s(x = image, y = label)", e->str);
            return 0;
        }
        int node = ir_find_leaf(c->g, IR_OP_input, arg->name);
        if (node < 0) {
            diag_error(c->d, arg->name_loc, "model '%s' has no input '%s'", cfg->model, arg->name);
            return 0;
        }
        const char *field = eval_symbol(c, arg->value, "a dataset field");
        if (!field) return 0;
        const ir_node *in = ir_get(c->g, node);
        if (strcmp(field, "image") == 0) {
            if (in->dtype != IR_F32 || ir_shape_inner(&in->shape) != 28 * 28) {
                diag_error(c->d, arg->name_loc, "input '%s' is %s%s but %s images are 28x28 = 784 "
                           "f32 values", arg->name, in->dtype == IR_I32 ? "i32" : "f32",
                           ir_shape_str(c->a, &in->shape), e->str);
                return 0;
            }
            cfg->image_input = arg->name;
        } else if (strcmp(field, "label") == 0) {
            if (in->dtype != IR_I32 || in->shape.rank != 1) {
                diag_error(c->d, arg->name_loc, "input '%s' must be declared i32[] to hold a class label",
                           arg->name);
                return 0;
            }
            cfg->label_input = arg->name;
        } else {
            const char *best = diag_closest(field, fields, 2);
            diag_error(c->d, arg->value->loc, "%s has no field '%s'%s%s%s", e->str, field,
                       best ? "; did you mean '" : " (fields: image, label)", best ? best : "",
                       best ? "'?" : "");
            return 0;
        }
    }
    return 1;
}

static int lower_metrics(lower_ctx *c, const ast_expr *e, train_config *cfg) {
    static const char *const metrics[] = {"accuracy", "loss"};
    if (e->kind != AST_LIST) {
        diag_error(c->d, e->loc, "metrics must be a list, e.g. [accuracy]");
        return 0;
    }
    for (int i = 0; i < e->n_args; i++) {
        const char *m = eval_symbol(c, e->args[i].value, "a metric");
        if (!m) return 0;
        if (strcmp(m, "accuracy") == 0) cfg->metrics |= DLC_METRIC_ACCURACY;
        else if (strcmp(m, "loss") != 0) {
            const char *best = diag_closest(m, metrics, 2);
            diag_error(c->d, e->args[i].value->loc, "unknown metric '%s'%s%s%s", m,
                       best ? "; did you mean '" : " (known: accuracy, loss)", best ? best : "",
                       best ? "'?" : "");
            return 0;
        }
    }
    return 1;
}

static int lower_loss(lower_ctx *c, const ast_stmt *s) {
    int loss = lower_expr(c, s->value);
    if (loss < 0) return 0;
    const ir_node *n = ir_get(c->g, loss);
    if (n->shape.rank != 0) {
        diag_error(c->d, s->value->loc, "loss must be a scalar, got %s",
                   ir_shape_str(c->a, &n->shape));
        return 0;
    }
    c->g->loss = loss;
    return 1;
}

/* schedule = constant | step(every = 1, gamma = 0.1) | exponential(gamma) | cosine(min_lr = 0) */
static int lower_schedule(lower_ctx *c, const ast_expr *e, lr_schedule *s) {
    static const char *const kinds[] = {"constant", "step", "exponential", "cosine"};
    static const char *const kwargs[4][3] = {{NULL}, {"every", "gamma", NULL}, {"gamma", NULL}, {"min_lr", NULL}};
    const char *k = e->kind == AST_CALL || e->kind == AST_NAME ? e->str : NULL;
    int which = -1;
    for (int i = 0; k && i < 4; i++)
        if (strcmp(k, kinds[i]) == 0) which = i;
    if (which < 0) {
        const char *best = k ? diag_closest(k, kinds, 4) : NULL;
        diag_error(c->d, e->loc, "unknown schedule '%s'%s%s%s", k ? k : "?",
                   best ? "; did you mean '" : " (known: constant, step, exponential, cosine)",
                   best ? best : "", best ? "'?" : "");
        return 0;
    }
    *s = (lr_schedule){.kind = (sched_kind)which, .every = 1, .gamma = 0.1, .min_lr = 0};
    if (e->kind == AST_NAME) return 1;
    if (!check_call_args(c, e, 0, 0, kwargs[which])) return 0;
    const ast_expr *v;
    int ok = 1;
    if ((v = find_kwarg(e, "every"))) ok &= eval_int(c, v, &s->every, 1);
    if ((v = find_kwarg(e, "gamma"))) ok &= in_range(c, v, "gamma", 0, 1, 1, 0, &s->gamma);
    if ((v = find_kwarg(e, "min_lr"))) ok &= in_range(c, v, "min_lr", 0, 1e9, 0, 0, &s->min_lr);
    return ok;
}

static const char *const settings[] = {"data", "loss", "optimizer", "schedule", "batch", "epochs",
                                       "seed", "validation", "metrics", NULL};

static int lower_setting(lower_ctx *c, const ast_stmt *s, train_config *cfg) {
    const char *k = s->name;
    if (s->kind != AST_STMT_ASSIGN) {
        diag_error(c->d, s->loc, "inputs are declared in the model block, not in train");
        return 0;
    }
    if (!strcmp(k, "data")) return lower_data(c, s->value, cfg);
    if (!strcmp(k, "loss")) return lower_loss(c, s);
    if (!strcmp(k, "optimizer")) return lower_optimizer(c, s->value, &cfg->opt);
    if (!strcmp(k, "schedule")) return lower_schedule(c, s->value, &cfg->opt.schedule);
    if (!strcmp(k, "batch")) return eval_int(c, s->value, &cfg->batch, 1);
    if (!strcmp(k, "epochs")) return eval_int(c, s->value, &cfg->epochs, 1);
    if (!strcmp(k, "seed")) return eval_int(c, s->value, &cfg->seed, 0);
    if (!strcmp(k, "validation"))
        return in_range(c, s->value, "validation", 0, 1, 0, 1, &cfg->validation);
    if (!strcmp(k, "metrics")) return lower_metrics(c, s->value, cfg);
    const char *best = diag_closest(k, settings, 9);
    diag_error(c->d, s->loc, "unknown train setting '%s'%s%s%s", k, best ? "; did you mean '" : "",
               best ? best : "", best ? "'?" : "");
    return 0;
}

static int check_accuracy(lower_ctx *c, const ast_item *item, train_config *cfg) {
    if (!(cfg->metrics & DLC_METRIC_ACCURACY)) return 1;
    const ir_node *out = ir_get(c->g, c->g->outputs[0]);
    if (!cfg->label_input || out->shape.rank != 2) {
        diag_error(c->d, item->loc, "accuracy needs class scores [B,C] as the model's last value "
                   "and a label input bound to the dataset's labels");
        return 0;
    }
    return 1;
}

int lower_train(lower_ctx *c, const ast_item *item, train_config *cfg) {
    cfg->present = 1;
    if (strcmp(item->name, cfg->model) != 0) {
        diag_error(c->d, item->name_loc, "train block names model '%s', but the model is '%s'",
                   item->name, cfg->model);
        return 0;
    }
    for (int i = 0; i < item->n_stmts; i++) lower_setting(c, &item->stmts[i], cfg);
    if (c->d->n_errors) return 0;
    if (c->g->loss < 0) diag_error(c->d, item->loc, "train block has no loss = ...");
    if (c->d->n_errors) return 0;
    return check_accuracy(c, item, cfg);
}
