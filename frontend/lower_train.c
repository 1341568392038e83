/*
 * lower_train.c — the train block: the loss, the optimizer and the loop settings (the data
 * binding is in lower_data.c, metrics and early stopping in lower_eval.c). Each setting is
 * validated where it is written; out-of-range values name the parameter and its valid range.
 */
#include "lower_internal.h"
#include <string.h>

void train_config_defaults(train_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->batch = 32;
    cfg->epochs = 1;
    cfg->seed = 0;
    cfg->validation = 0;
    cfg->metrics[0] = (metric_config){.kind = DLC_METRIC_LOSS, .k = 1};
    cfg->n_metrics = 1;
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
                                       "seed", "validation", "metrics", "early_stopping", NULL};

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
    if (!strcmp(k, "early_stopping")) return lower_early_stopping(c, s->value, cfg);
    const char *best = diag_closest(k, settings, 10);
    diag_error(c->d, s->loc, "unknown train setting '%s'%s%s%s", k, best ? "; did you mean '" : "",
               best ? best : "", best ? "'?" : "");
    return 0;
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
    return check_evaluation(c, cfg);
}
