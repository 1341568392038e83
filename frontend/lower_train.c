/*
 * lower_train.c — the train block: the loss and the loop settings (the data binding is in
 * lower_data.c, metrics and early stopping in lower_eval.c, the optimization settings in
 * lower_optim.c, the image augmentation in lower_augment.c, few-shot evaluation in
 * lower_fewshot.c, image grids in lower_images.c). Each setting is validated where it is written; out-of-range values name
 * the parameter and its valid range.
 */
#include "lower_internal.h"
#include <string.h>

void lower_train_config_defaults(train_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->batch = 32;
    cfg->epochs = 1;
    cfg->seed = 0;
    cfg->validation = 0;
    cfg->metrics[0] = (metric_config){.kind = DLC_METRIC_LOSS, .k = 1};
    cfg->n_metrics = 1;
    lower_opt_config_defaults(OPT_SGD, &cfg->opt); /* no optimizer setting: sgd() as torch */
}

/* node `id` depends on a leaf other than a constant: an input or a parameter (inputs of a
 * node have smaller ids than the node) */
static int is_variable(lower_ctx *c, int id) {
    char *reach = arena_alloc(c->a, (size_t)id + 1);
    memset(reach, 0, (size_t)id + 1);
    reach[id] = 1;
    for (int i = id; i >= 0; i--) {
        if (!reach[i]) continue;
        const ir_node *n = ir_get(c->g, i);
        if ((ir_op_flags[n->op] & OPF_LEAF) && n->op != IR_OP_const) return 1;
        for (int k = 0; k < n->n_in; k++) reach[n->in[k]] = 1;
    }
    return 0;
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
    if (!is_variable(c, loss)) {
        diag_error(c->d, s->value->loc, "the loss is a constant: it must be computed from the "
                   "model's values, e.g. loss = mse(out, target)");
        return 0;
    }
    c->g->loss = loss;
    return 1;
}

static const char *const settings[] = {"data", "loss", "optimizer", "schedule", "warmup",
                                       "clip_norm", "clip_value", "regularize", "batch",
                                       "epochs", "seed", "validation", "metrics",
                                       "early_stopping", "augment", "evaluate", "images", "samples", NULL};

/* a setting of how to minimise (the train block's own, or a step's): 1 done, 0 after an
 * error, -1 when `s` is not one of them */
int lower_step_setting(lower_ctx *c, const ast_stmt *s, opt_config *opt) {
    const char *k = s->name;
    if (!strcmp(k, "loss")) return lower_loss(c, s);
    if (!strcmp(k, "optimizer")) return lower_optimizer(c, s->value, opt);
    if (!strcmp(k, "schedule")) return lower_schedule(c, s->value, &opt->schedule);
    if (!strcmp(k, "warmup")) return lower_warmup(c, s->value, &opt->schedule);
    if (!strcmp(k, "clip_norm"))
        return lower_in_range(c, s->value, "clip_norm", 0, 1e9, 1, 0, &opt->clip_norm);
    if (!strcmp(k, "clip_value"))
        return lower_in_range(c, s->value, "clip_value", 0, 1e9, 1, 0, &opt->clip_value);
    if (!strcmp(k, "regularize")) {
        c->regularize = s->value; /* lowered once the loss is known */
        return 1;
    }
    return -1;
}

static int lower_section(lower_ctx *c, const ast_stmt *s, train_config *cfg) {
    if (!strcmp(s->name, "step")) {
        if (cfg->n_phases) {
            diag_error(c->d, s->loc, "step '%s' is outside the phases: with phases, every step "
                       "belongs in one", s->label);
            return 0;
        }
        return lower_step_section(c, s, cfg, 0);
    }
    if (!strcmp(s->name, "phase")) {
        if (cfg->n_steps && !cfg->n_phases) {
            diag_error(c->d, s->loc, "phase '%s' follows steps outside any phase: with phases, "
                       "every step belongs in one", s->label);
            return 0;
        }
        return lower_phase_section(c, s, cfg);
    }
    static const char *const kinds[] = {"step", "phase"};
    char hint[DIAG_HINT_SIZE];
    diag_error(c->d, s->loc, "unknown section '%s %s { ... }'%s (a train block holds step and "
               "phase sections)", s->name, s->label,
               diag_hint(hint, diag_closest(s->name, kinds, 2), ""));
    return 0;
}

static int lower_setting(lower_ctx *c, const ast_stmt *s, train_config *cfg) {
    const char *k = s->name;
    if (s->kind == AST_STMT_RETURN) return 0; /* reported by lower_collect_blocks */
    if (s->kind == AST_STMT_SECTION) return lower_section(c, s, cfg);
    if (s->kind != AST_STMT_ASSIGN) {
        diag_error(c->d, s->loc, "inputs are declared in the model block, not in train");
        return 0;
    }
    if (!strcmp(k, "data")) return lower_data(c, s->value, cfg);
    int done = lower_step_setting(c, s, &cfg->opt);
    if (done >= 0) return done;
    if (!strcmp(k, "batch")) return lower_eval_int(c, s->value, &cfg->batch, 1);
    if (!strcmp(k, "epochs")) return lower_eval_int(c, s->value, &cfg->epochs, 1);
    if (!strcmp(k, "seed")) return lower_eval_int(c, s->value, &cfg->seed, 0);
    if (!strcmp(k, "validation"))
        return lower_in_range(c, s->value, "validation", 0, 1, 0, 1, &cfg->validation);
    if (!strcmp(k, "metrics")) return lower_metrics(c, s->value, cfg);
    if (!strcmp(k, "early_stopping")) return lower_early_stopping(c, s->value, cfg);
    if (!strcmp(k, "augment")) return lower_augment(c, s->value, cfg);
    if (!strcmp(k, "evaluate")) return lower_evaluate(c, s->value, cfg);
    if (!strcmp(k, "images")) return lower_images(c, s->value, cfg);
    if (!strcmp(k, "samples")) return lower_samples(c, s->value, cfg);
    const char *best = diag_closest(k, settings, (int)(sizeof settings / sizeof *settings) - 1);
    char hint[DIAG_HINT_SIZE];
    diag_error(c->d, s->loc, "unknown train setting '%s'%s", k, diag_hint(hint, best, ""));
    return 0;
}

/* with steps, the settings of how to minimise belong to each step */
static int check_no_step_keys(lower_ctx *c, const ast_item *item, const train_config *cfg) {
    if (!cfg->n_steps) return 1;
    for (int i = 0; i < item->n_stmts; i++) {
        const ast_stmt *s = &item->stmts[i];
        if (s->kind == AST_STMT_ASSIGN && lower_is_step_key(s->name))
            diag_error(c->d, s->loc, "'%s' is set per step when the train block has %s: move "
                       "it into each step that needs it", s->name,
                       cfg->n_phases ? "phases" : "steps");
    }
    if (cfg->early_stop.enabled)
        diag_error(c->d, cfg->early_stop.loc, "early_stopping watches one loss: it is not "
                   "available with steps or phases");
    return c->d->n_errors == 0;
}

int lower_train(lower_ctx *c, const ast_item *item, train_config *cfg) {
    cfg->present = 1;
    if (strcmp(item->name, cfg->model) != 0) {
        diag_error(c->d, item->name_loc, "train block names model '%s', but the model is '%s'",
                   item->name, cfg->model);
        return 0;
    }
    for (int i = 0; i < item->n_stmts; i++) lower_setting(c, &item->stmts[i], cfg);
    if (c->d->n_errors || !check_no_step_keys(c, item, cfg)) return 0;
    if (c->g->loss < 0 && !cfg->n_steps) diag_error(c->d, item->loc, "train block has no loss = ...");
    if (c->d->n_errors) return 0;
    if (c->regularize && !lower_regularize(c, c->regularize)) return 0;
    if (!lower_finish_steps(c, cfg)) return 0;
    int augment_ok = lower_check_augment(c, cfg), few_shot_ok = lower_check_few_shot(c, cfg);
    int images_ok = lower_check_images(c, cfg);
    return lower_check_evaluation(c, cfg) && augment_ok && few_shot_ok && images_ok;
}
