/*
 * lower_eval.c — what a train block measures and when it stops:
 *   metrics = [accuracy, top_k(5), mse, mae, loss]   (computed by the runtime, distinct from
 *                                                     the loss the optimizer minimises)
 *   metrics = [mse(recon, image), ...]   (any scalar over the model's values and inputs:
 *                                         lower_value_metric.c)
 *   early_stopping = val_loss(patience = 3, min_delta = 0)   (or val_accuracy, val_mse, val_mae)
 * Names are checked where they are written ("did you mean"); whether the model and the data
 * can provide what a metric compares is checked once the whole block is read
 * (lower_check_evaluation), as is early stopping's need for a validation split.
 */
#include "lower_internal.h"
#include <math.h>
#include <string.h>

static const char *const metric_names[] = {"loss", "accuracy", "top_k", "mse", "mae"};
enum { N_METRIC_NAMES = 5 };

static int metric_kind(const char *name) {
    for (int i = 0; i < N_METRIC_NAMES; i++)
        if (strcmp(name, metric_names[i]) == 0) return i; /* DLC_METRIC_* order */
    return -1;
}

/* top_k(5) or top_k(k = 5) */
static int lower_top_k(lower_ctx *c, const ast_expr *e, metric_config *m) {
    static const char *const kw[] = {"k", NULL};
    const ast_expr *v = lower_find_kwarg(e, "k");
    if (!lower_check_call_args(c, e, v ? 0 : 1, v ? 0 : 1, kw)) return 0;
    int64_t k;
    if (!lower_eval_count(c, v ? v : e->args[0].value, "top_k: k", 1, 1000000, &k)) return 0;
    m->k = (int)k;
    return 1;
}

static int lower_metric(lower_ctx *c, const ast_expr *e, metric_config *m) {
    const char *name = e->kind == AST_NAME || e->kind == AST_CALL ? e->str : NULL;
    int kind = name ? metric_kind(name) : -1;
    *m = (metric_config){.kind = kind, .k = 1, .loc = e->loc};
    if (e->kind == AST_CALL && (kind < 0 || kind == DLC_METRIC_MSE || kind == DLC_METRIC_MAE))
        return lower_value_metric(c, e, m); /* mse(recon, image), any scalar expression */
    if (kind < 0) {
        const char *best = name ? diag_closest(name, metric_names, N_METRIC_NAMES) : NULL;
        char hint[DIAG_HINT_SIZE];
        diag_error(c->d, e->loc, "unknown metric '%s'%s", name ? name : "?",
                   diag_hint(hint, best, " (known: loss, accuracy, top_k(K), mse, mae)"));
        return 0;
    }
    if (kind == DLC_METRIC_TOP_K) {
        if (e->kind == AST_CALL) return lower_top_k(c, e, m);
        diag_error(c->d, e->loc, "top_k needs k, e.g. top_k(5)");
        return 0;
    }
    if (e->kind == AST_CALL) {
        diag_error(c->d, e->loc, "metric %s takes no arguments", name);
        return 0;
    }
    return 1;
}

int lower_metrics(lower_ctx *c, const ast_expr *e, train_config *cfg) {
    if (e->kind != AST_LIST) {
        diag_error(c->d, e->loc, "metrics must be a list, e.g. [accuracy]");
        return 0;
    }
    cfg->n_metrics = 0;
    for (int i = 0; i < e->n_args; i++) {
        metric_config m;
        if (!lower_metric(c, e->args[i].value, &m)) return 0;
        for (int j = 0; j < cfg->n_metrics; j++)
            if (m.kind == DLC_METRIC_VALUE ? cfg->metrics[j].name && !strcmp(cfg->metrics[j].name, m.name)
                                           : cfg->metrics[j].kind == m.kind && cfg->metrics[j].k == m.k) {
                diag_error(c->d, m.loc, "metric '%s' is listed twice",
                           m.name ? m.name : metric_names[m.kind]);
                return 0;
            }
        if (cfg->n_metrics == DLC_MAX_METRICS) {
            diag_error(c->d, m.loc, "at most %d metrics can be listed", DLC_MAX_METRICS);
            return 0;
        }
        cfg->metrics[cfg->n_metrics++] = m;
    }
    return 1;
}

/* patience = integer >= 1, min_delta >= 0 */
static int lower_stop_args(lower_ctx *c, const ast_expr *e, early_stop_config *es) {
    static const char *const kw[] = {"patience", "min_delta", NULL};
    if (e->kind == AST_NAME) return 1;
    if (!lower_check_call_args(c, e, 0, 0, kw)) return 0;
    const ast_expr *p = lower_find_kwarg(e, "patience"), *d = lower_find_kwarg(e, "min_delta");
    if (p && !lower_eval_count(c, p, "early_stopping: patience", 1, 1000000000, &es->patience)) return 0;
    if (d) {
        if (!lower_eval_number(c, d, &es->min_delta)) return 0;
        if (!(es->min_delta >= 0)) {
            diag_error(c->d, d->loc, "early_stopping: min_delta must be >= 0, got %g", es->min_delta);
            return 0;
        }
    }
    return 1;
}

/* early_stopping = val_loss | val_accuracy | val_mse | val_mae, with (patience, min_delta) */
int lower_early_stopping(lower_ctx *c, const ast_expr *e, train_config *cfg) {
    static const char *const monitors[] = {"val_loss", "val_accuracy", "val_mse", "val_mae"};
    static const int kinds[] = {DLC_METRIC_LOSS, DLC_METRIC_ACCURACY, DLC_METRIC_MSE, DLC_METRIC_MAE};
    const char *name = e->kind == AST_NAME || e->kind == AST_CALL ? e->str : NULL;
    early_stop_config *es = &cfg->early_stop;
    *es = (early_stop_config){.enabled = 1, .patience = 3, .min_delta = 0, .loc = e->loc};
    for (int i = 0; name && i < 4; i++)
        if (strcmp(name, monitors[i]) == 0) {
            es->monitor = (metric_config){.kind = kinds[i], .k = 1, .loc = e->loc};
            return lower_stop_args(c, e, es);
        }
    const char *best = name ? diag_closest(name, monitors, 4) : NULL;
    char hint[DIAG_HINT_SIZE];
    diag_error(c->d, e->loc, "unknown early-stopping metric '%s'%s", name ? name : "?",
               diag_hint(hint, best, " (known: val_loss, val_accuracy, val_mse, val_mae)"));
    return 0;
}

/* ---- after the whole block: can the model and the data provide each metric? ---- */

static int check_metric(lower_ctx *c, const train_config *cfg, const metric_config *m) {
    if (m->kind == DLC_METRIC_LOSS || m->kind == DLC_METRIC_VALUE) return 1;
    const ir_node *out = ir_get(c->g, c->g->outputs[0]);
    int target = cfg->target_input ? ir_find_leaf(c->g, IR_OP_input, cfg->target_input) : -1;
    const ir_node *t = target >= 0 ? ir_get(c->g, target) : NULL;
    int labels = t && t->dtype == IR_I32, classes = out->shape.rank == 2;
    const char *name = metric_names[m->kind];
    if (m->kind == DLC_METRIC_ACCURACY || m->kind == DLC_METRIC_TOP_K) {
        if (labels && classes && m->k <= out->shape.dims[1]) return 1;
        if (!labels)
            diag_error(c->d, m->loc, "%s needs class labels: bind an i32[] input to the dataset's "
                       "labels in data = ... (%s)", name,
                       t ? "the bound target holds real values" : "no target input is bound");
        else if (!classes)
            diag_error(c->d, m->loc, "%s needs class scores [B,C] as the model's last value, got %s",
                       name, ir_shape_str(c->a, &out->shape));
        else
            diag_error(c->d, m->loc, "top_k: k = %d but the model's output has only %lld classes",
                       m->k, (long long)out->shape.dims[1]);
        return 0;
    }
    if (!t) {
        diag_error(c->d, m->loc, "%s compares the model's output with the target: bind an input to "
                   "the dataset's labels or targets in data = ...", name);
        return 0;
    }
    if (labels ? classes : ir_shape_inner(&out->shape) == ir_shape_inner(&t->shape)) return 1;
    diag_error(c->d, m->loc, "%s: the model's output %s does not match the target '%s' %s%s", name,
               ir_shape_str(c->a, &out->shape), cfg->target_input, ir_shape_str(c->a, &t->shape),
               labels ? " (class labels are compared one-hot with scores [B,C])" : "");
    return 0;
}

static int check_early_stop(lower_ctx *c, const train_config *cfg) {
    const early_stop_config *es = &cfg->early_stop;
    if (!es->enabled) return 1;
    if (cfg->validation <= 0) {
        diag_error(c->d, es->loc, "early_stopping needs a validation split: set validation to a "
                   "fraction in (0, 1), e.g. validation = 0.1");
        return 0;
    }
    if (es->monitor.kind == DLC_METRIC_LOSS) return 1;
    for (int i = 0; i < cfg->n_metrics; i++)
        if (cfg->metrics[i].kind == es->monitor.kind) return 1;
    diag_error(c->d, es->loc, "early_stopping on val_%s needs %s in the metrics list, e.g. "
               "metrics = [%s]", metric_names[es->monitor.kind], metric_names[es->monitor.kind],
               metric_names[es->monitor.kind]);
    return 0;
}

int lower_check_evaluation(lower_ctx *c, const train_config *cfg) {
    int ok = 1;
    for (int i = 0; i < cfg->n_metrics; i++) ok &= check_metric(c, cfg, &cfg->metrics[i]);
    return check_early_stop(c, cfg) && ok;
}
