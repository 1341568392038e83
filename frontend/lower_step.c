/*
 * lower_step.c — a train block's `step` and `phase` sections (docs/language.md, "Steps and
 * phases"):
 *
 *   step discriminator {            # one alternating update, a step function of its own
 *     loss = bce_with_logits(real, one) + bce_with_logits(fake, zero)
 *     optimizer = adam(lr = 2e-4, betas = [0.5, 0.999])
 *     params = [D]                  # instances, parameter names or prefixes; default: all
 *     repeat = 1                    # calls per training iteration
 *   }
 *   phase classify { epochs = 5; loss = ...; params = [clf] }  # or steps inside
 *
 * A step takes the settings that say how to minimise (loss, optimizer, schedule, warmup,
 * clip_norm, clip_value, regularize) plus params and repeat; a train block with steps has none
 * of those itself. Each step's loss is lowered into the one graph (it may read any model
 * value) and becomes an output, so evaluation reports every step's loss.
 */
#include "lower_internal.h"
#include <string.h>

static const char *const step_keys[] = {"loss", "optimizer", "schedule", "warmup", "clip_norm",
                                        "clip_value", "regularize", "params", "repeat", NULL};

int lower_is_step_key(const char *key) {
    for (int i = 0; step_keys[i]; i++)
        if (!strcmp(key, step_keys[i])) return 1;
    return 0;
}

/* every parameter's name, for "did you mean" */
static const char **param_names(lower_ctx *c, int *n) {
    const char **names = arena_alloc(c->a, sizeof(char *) * ((size_t)c->g->n_nodes + 1));
    *n = 0;
    for (int id = 0; id < c->g->n_nodes; id++)
        if (c->g->nodes[id].op == IR_OP_param) names[(*n)++] = c->g->nodes[id].name;
    return names;
}

static int matches_a_param(lower_ctx *c, const char *entry) {
    ir_step probe = {.params = &entry, .n_params = 1};
    for (int id = 0; id < c->g->n_nodes; id++)
        if (c->g->nodes[id].op == IR_OP_param && ir_step_updates(&probe, &c->g->nodes[id])) return 1;
    return 0;
}

/* one entry of params = [...]: an instance (its prefix), a model value that is a parameter
 * (w = variable(...)), or a parameter's name or a prefix of names ("gen" for every "gen.*") */
static const char *lower_param_entry(lower_ctx *c, const ast_expr *e) {
    if (e->kind != AST_NAME && e->kind != AST_STR) {
        diag_error(c->d, e->loc, "params: expected an instance or a parameter name, e.g. "
                   "params = [D] or params = [\"dense1.w\"]");
        return NULL;
    }
    const lower_instance *in = e->kind == AST_NAME ? lower_lookup_instance(c, e->str) : NULL;
    if (in) return in->prefix;
    int node = e->kind == AST_NAME ? lower_lookup_node(c, e->str) : -1;
    if (node >= 0 && ir_get(c->g, node)->op == IR_OP_param) return ir_get(c->g, node)->name;
    const char *prefix = arena_printf(c->a, "%s.", e->str);
    if (matches_a_param(c, e->str)) return e->str;
    if (matches_a_param(c, prefix)) return prefix;
    int n;
    const char **names = param_names(c, &n);
    char hint[DIAG_HINT_SIZE];
    diag_error(c->d, e->loc, "params: '%s' names no instance and no parameter of the model%s",
               e->str, diag_hint(hint, diag_closest(e->str, names, n), ""));
    return NULL;
}

static int lower_params_setting(lower_ctx *c, const ast_expr *e, step_config *st) {
    const ast_expr *one = e;
    int n = e->kind == AST_LIST ? e->n_args : 1;
    if (n == 0) {
        diag_error(c->d, e->loc, "params: the list is empty; a step updates at least one "
                   "parameter");
        return 0;
    }
    st->params = arena_alloc(c->a, sizeof(char *) * (size_t)n);
    for (int i = 0; i < n; i++) {
        const char *p = lower_param_entry(c, e->kind == AST_LIST ? e->args[i].value : one);
        if (!p) return 0;
        st->params[st->n_params++] = p;
    }
    return 1;
}

static int lower_step_stmt(lower_ctx *c, const ast_stmt *s, step_config *st, const char *where) {
    if (s->kind == AST_STMT_SECTION) {
        diag_error(c->d, s->loc, "'%s %s { ... }' cannot be nested in %s", s->name, s->label,
                   where);
        return 0;
    }
    if (s->kind != AST_STMT_ASSIGN) return 0; /* reported by lower_collect_blocks */
    if (!strcmp(s->name, "params")) return lower_params_setting(c, s->value, st);
    if (!strcmp(s->name, "repeat"))
        return lower_eval_count(c, s->value, "repeat", 1, 1000000, &st->repeat);
    int done = lower_step_setting(c, s, &st->opt);
    if (done >= 0) return done;
    const char *best = diag_closest(s->name, step_keys, (int)(sizeof step_keys / sizeof *step_keys) - 1);
    char hint[DIAG_HINT_SIZE];
    diag_error(c->d, s->loc, "unknown step setting '%s'%s (a step sets loss, optimizer, "
               "schedule, warmup, clip_norm, clip_value, regularize, params, repeat)", s->name,
               diag_hint(hint, best, ""));
    return 0;
}

/* a step named `name` from body[0..n) (skipping the phase settings a phase body holds) */
static int lower_step_body(lower_ctx *c, const char *name, src_loc loc, const ast_stmt *body,
                           int n, train_config *cfg, int phase, const char *where) {
    for (int k = 0; k < cfg->n_steps; k++)
        if (!strcmp(cfg->steps[k].name, name)) {
            diag_error(c->d, loc, "a step named '%s' is already defined", name);
            return 0;
        }
    if (cfg->n_steps == DLC_MAX_STEPS) {
        diag_error(c->d, loc, "too many steps: at most %d", DLC_MAX_STEPS);
        return 0;
    }
    step_config *st = &cfg->steps[cfg->n_steps++];
    *st = (step_config){.name = name, .loc = loc, .repeat = 1, .phase = phase};
    lower_opt_config_defaults(OPT_SGD, &st->opt);
    int saved_loss = c->g->loss;
    const ast_expr *saved_reg = c->regularize;
    c->g->loss = -1;
    c->regularize = NULL;
    for (int i = 0; i < n; i++)
        if (body[i].kind != AST_STMT_ASSIGN || strcmp(body[i].name, "epochs"))
            lower_step_stmt(c, &body[i], st, where);
    if (!c->d->n_errors && c->g->loss < 0)
        diag_error(c->d, loc, "step '%s' has no loss = ...", name);
    if (!c->d->n_errors && c->regularize) lower_regularize(c, c->regularize);
    st->loss = c->g->loss;
    c->g->loss = saved_loss;
    c->regularize = saved_reg;
    return c->d->n_errors == 0;
}

int lower_step_section(lower_ctx *c, const ast_stmt *s, train_config *cfg, int phase) {
    return lower_step_body(c, s->label, s->label_loc, s->body, s->n_body, cfg, phase,
                           "a step");
}

/* phase NAME { epochs = E; step ... } or phase NAME { epochs = E; loss = ...; ... } */
int lower_phase_section(lower_ctx *c, const ast_stmt *s, train_config *cfg) {
    if (cfg->n_phases == DLC_MAX_PHASES) {
        diag_error(c->d, s->label_loc, "too many phases: at most %d", DLC_MAX_PHASES);
        return 0;
    }
    int index = cfg->n_phases++;
    phase_config *ph = &cfg->phases[index];
    *ph = (phase_config){.name = s->label, .loc = s->label_loc, .first_step = cfg->n_steps};
    int has_steps = 0;
    for (int i = 0; i < s->n_body; i++) {
        const ast_stmt *b = &s->body[i];
        if (b->kind == AST_STMT_SECTION && !strcmp(b->name, "step")) has_steps = 1;
        if (b->kind == AST_STMT_ASSIGN && !strcmp(b->name, "epochs"))
            lower_eval_int(c, b->value, &ph->epochs, 1);
    }
    if (!has_steps) {
        lower_step_body(c, s->label, s->label_loc, s->body, s->n_body, cfg, index, "a phase");
    } else {
        for (int i = 0; i < s->n_body; i++) {
            const ast_stmt *b = &s->body[i];
            if (b->kind == AST_STMT_SECTION && !strcmp(b->name, "step"))
                lower_step_section(c, b, cfg, index);
            else if (b->kind == AST_STMT_SECTION)
                diag_error(c->d, b->loc, "'%s %s { ... }' cannot be nested in a phase", b->name,
                           b->label);
            else if (b->kind == AST_STMT_ASSIGN && strcmp(b->name, "epochs"))
                diag_error(c->d, b->loc, "phase '%s' has steps: '%s' belongs in one of them "
                           "(a phase with steps sets only its epochs)", s->label, b->name);
        }
    }
    ph->n_steps = cfg->n_steps - ph->first_step;
    return c->d->n_errors == 0;
}

/* once the train block is read: every step's loss an output, the graph's steps set up (a
 * train block without steps: one step of its own, updating every parameter) */
int lower_finish_steps(lower_ctx *c, train_config *cfg) {
    ir_graph *g = c->g;
    for (int k = 0; k < cfg->n_phases; k++)
        if (cfg->phases[k].epochs == 0) cfg->phases[k].epochs = cfg->epochs;
    if (cfg->n_steps == 0) {
        g->n_steps = 1;
        g->steps[0] = (ir_step){.loss = g->loss, .opt = &cfg->opt};
        return 1;
    }
    if (g->n_outputs + cfg->n_steps > 64) {
        diag_error(c->d, cfg->steps[0].loc, "too many model outputs with the steps' losses");
        return 0;
    }
    g->n_steps = cfg->n_steps;
    g->loss = cfg->steps[0].loss;
    for (int k = 0; k < cfg->n_steps; k++) {
        step_config *st = &cfg->steps[k];
        st->loss_output = g->n_outputs;
        g->outputs[g->n_outputs++] = st->loss;
        g->steps[k] = (ir_step){.name = st->name, .loss = st->loss, .params = st->params,
                                .n_params = st->n_params, .opt = &st->opt};
    }
    return 1;
}
