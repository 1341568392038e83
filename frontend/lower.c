/*
 * lower.c — lowering entry point: param items (with -D overrides), the block definitions
 * (lower_block.c), the model body (binding its names; expressions are lowered by layers.c),
 * then the train block (lower_train.c). See lower.h for the contract.
 */
#include "lower_internal.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- items ---- */

static int apply_define(lower_ctx *c, const dlc_define *def) {
    for (int i = 0; i < c->n_hypers; i++) {
        if (strcmp(c->hypers[i].name, def->name) != 0) continue;
        char *end;
        errno = 0;
        double v = strtod(def->value, &end);
        if (errno || end == def->value || *end || !isfinite(v)) {
            diag_plain_error(c->d, "-D %s=%s: value is not a number", def->name, def->value);
            return 0;
        }
        c->hypers[i].value = v;
        c->hypers[i].overridden = 1;
        return 1;
    }
    const char **names = arena_alloc(c->a, sizeof(char *) * (size_t)(c->n_hypers + 1));
    for (int i = 0; i < c->n_hypers; i++) names[i] = c->hypers[i].name;
    const char *best = diag_closest(def->name, names, c->n_hypers);
    char hint[DIAG_HINT_SIZE];
    diag_plain_error(c->d, "-D %s: the file has no param '%s'%s", def->name, def->name,
                     diag_hint(hint, best, ""));
    return 0;
}

static int lower_params(lower_ctx *c, const ast_file *f, const dlc_define *defs, int n_defs) {
    c->hypers = arena_alloc(c->a, sizeof(hyper) * (size_t)(f->n_items + 1));
    for (int i = 0; i < f->n_items; i++) {
        const ast_item *it = &f->items[i];
        if (it->kind != AST_ITEM_PARAM) continue;
        if (lower_lookup_hyper(c, it->name)) {
            diag_error(c->d, it->name_loc, "param '%s' is defined twice", it->name);
            continue;
        }
        hyper *h = &c->hypers[c->n_hypers++];
        h->name = it->name;
        h->failed = !lower_eval_number(c, it->value, &h->value);
    }
    int ok = c->d->n_errors == 0;
    for (int i = 0; i < n_defs; i++) ok &= apply_define(c, &defs[i]);
    return ok;
}

static int lower_input(lower_ctx *c, const ast_stmt *s) {
    const ast_type *t = &s->type;
    ir_dtype dt;
    if (strcmp(t->dtype, "f32") == 0) dt = IR_F32;
    else if (strcmp(t->dtype, "i32") == 0) dt = IR_I32;
    else {
        static const char *const dtypes[] = {"f32", "i32"};
        const char *best = diag_closest(t->dtype, dtypes, 2);
        char hint[DIAG_HINT_SIZE];
        diag_error(c->d, t->loc, "unknown element type '%s'%s", t->dtype,
                   diag_hint(hint, best, " (expected f32 or i32)"));
        return 0;
    }
    if (t->rank + 1 > IR_MAX_RANK) {
        diag_error(c->d, t->loc, "input '%s' has %d dimensions; at most %d are supported",
                   s->name, t->rank, IR_MAX_RANK - 1);
        return 0;
    }
    int64_t dims[IR_MAX_RANK] = {c->max_batch};
    for (int i = 0; i < t->rank; i++)
        if (!lower_eval_int(c, t->dims[i], &dims[i + 1], 1)) return 0;
    ir_shape shape = ir_shape_make(1, t->rank + 1, dims);
    if (!ir_shape_fits(&shape)) {
        diag_error(c->d, t->loc, "input '%s' %s at batch %lld holds more than "
                   IR_MAX_ELEMENTS_TEXT " elements; a tensor may hold at most "
                   IR_MAX_ELEMENTS_TEXT, s->name, ir_shape_str(c->a, &shape),
                   (long long)c->max_batch);
        return 0;
    }
    c->g->cur_loc = s->loc;
    c->g->cur_what = "input";
    lower_bind(c, s->name, ir_leaf(c->g, IR_OP_input, s->name, dt, &shape), NULL);
    return 1;
}

static int lower_model(lower_ctx *c, const ast_item *m) {
    c->last_value = -1;
    lower_instantiate_models(c);
    for (int i = 0; i < m->n_stmts; i++) {
        const ast_stmt *s = &m->stmts[i];
        if (s->kind == AST_STMT_INPUT) {
            if (lower_lookup_node(c, s->name) >= 0)
                diag_error(c->d, s->loc, "input '%s' is declared twice", s->name);
            else if (!lower_input(c, s)) lower_bind(c, s->name, NODE_FAILED, NULL); /* once */
            continue;
        }
        if (s->kind == AST_STMT_RETURN || s->kind == AST_STMT_SECTION)
            continue; /* reported by lower_collect_blocks */
        int node = lower_assign(c, s);
        if (node == NODE_INSTANCE) continue; /* bound to the instance */
        lower_bind(c, s->name, node < 0 ? NODE_FAILED : node, NULL);
        if (c->g->n_nodes > LOWER_MAX_NODES) {
            diag_error(c->d, s->loc, "model '%s' is too large: more than %d operations (the "
                       "compiler's limit; about %d layers such as relu(dense(h, 8)))", m->name,
                       LOWER_MAX_NODES, LOWER_MAX_NODES / 5);
            return 0;
        }
        if (node < 0) continue;
        c->last_value = node;
    }
    if (c->last_value < 0 && c->d->n_errors == 0)
        diag_error(c->d, m->name_loc, "model '%s' computes nothing", m->name);
    return c->d->n_errors == 0;
}

static const ast_item *find_item(const ast_file *f, ast_item_kind kind, lower_ctx *c) {
    const ast_item *found = NULL;
    for (int i = 0; i < f->n_items; i++) {
        if (f->items[i].kind != kind) continue;
        if (found)
            diag_error(c->d, f->items[i].loc, "only one train block per file is supported");
        else found = &f->items[i];
    }
    return found;
}

/* the model compiled: the one the train block names, else the file's last */
static const ast_item *trained_model(const ast_file *f, const ast_item *train, lower_ctx *c) {
    const ast_item *last = NULL;
    const char **names = arena_alloc(c->a, sizeof(char *) * ((size_t)f->n_items + 1));
    int n = 0;
    for (int i = 0; i < f->n_items; i++) {
        if (f->items[i].kind != AST_ITEM_MODEL) continue;
        last = &f->items[i];
        names[n++] = last->name;
        if (train && !strcmp(last->name, train->name)) return last;
    }
    if (!train || !last) return last;
    char hint[DIAG_HINT_SIZE];
    diag_error(c->d, train->name_loc, "train block names model '%s', but the file has no model "
               "of that name%s", train->name, diag_hint(hint, diag_closest(train->name, names, n), ""));
    return NULL;
}

static int64_t peek_batch(lower_ctx *c, const ast_item *train) {
    int64_t batch = 32;
    for (int i = 0; train && i < train->n_stmts; i++)
        if (train->stmts[i].kind == AST_STMT_ASSIGN && strcmp(train->stmts[i].name, "batch") == 0)
            if (!lower_eval_int(c, train->stmts[i].value, &batch, 1)) return -1;
    return batch;
}

/* The model's name prefixes the generated C's identifiers (mlp_train_step, mlp_model): no '.',
 * and not the runtime's or the generated code's own prefixes (dlrt_model_desc is a type). */
static int check_model_name(lower_ctx *c, const ast_item *m) {
    if (strchr(m->name, '.')) {
        diag_error(c->d, m->name_loc, "a model name cannot contain '.': it names the generated "
                   "C functions (e.g. %s_model)", m->name);
        return 0;
    }
    if (strncasecmp(m->name, "dlrt_", 5) == 0 || strncasecmp(m->name, "dlc_", 4) == 0) {
        diag_error(c->d, m->name_loc, "model names starting with '%.*s' are reserved for the "
                   "runtime and the generated code's own functions and types", m->name[2] == 'c'
                   || m->name[2] == 'C' ? 4 : 5, m->name);
        return 0;
    }
    return 1;
}

/* the node of model value `name` (dlc --value NAME), or -1 after an error */
static int output_value(lower_ctx *c, const char *name, const char *model) {
    int node = lower_lookup_node(c, name);
    if (node >= 0) return node;
    if (node == NODE_INSTANCE) {
        diag_plain_error(c->d, "%s: --value %s: '%s' is a block instance of model '%s', not a "
                         "value; name a value it computes (e.g. e = %s(x))", c->d->file, name,
                         name, model, name);
        return -1;
    }
    const char **names = arena_alloc(c->a, sizeof(char *) * (size_t)(c->n_env + 1));
    for (int i = 0; i < c->n_env; i++) names[i] = c->env[i].name;
    char hint[DIAG_HINT_SIZE];
    diag_plain_error(c->d, "%s: --value %s: model '%s' has no value named '%s'%s", c->d->file,
                     name, model, name, diag_hint(hint, diag_closest(name, names, c->n_env), ""));
    return -1;
}

ir_graph *lower_file(const ast_file *f, const dlc_define *defs, int n_defs, arena *a, diag *d,
                     train_config *cfg, const char *value) {
    lower_ctx c = {.a = a, .d = d, .g = ir_graph_new(a), .call_block = lower_block_call};
    lower_train_config_defaults(cfg);
    if (!lower_params(&c, f, defs, n_defs)) return NULL;
    c.globals = c.hypers;
    c.n_globals = c.n_hypers;
    if (!lower_collect_blocks(&c, f)) return NULL;
    const ast_item *train = find_item(f, AST_ITEM_TRAIN, &c);
    const ast_item *model = trained_model(f, train, &c);
    if (!model) {
        if (d->n_errors == 0) diag_plain_error(d, "%s: no model block", d->file);
        return NULL;
    }
    if (!check_model_name(&c, model) || !lower_collect_models(&c, f, model)) return NULL;
    c.max_batch = peek_batch(&c, train);
    if (c.max_batch < 0 || !lower_model(&c, model)) return NULL;
    cfg->model = model->name;
    int out = value ? output_value(&c, value, model->name) : c.last_value;
    if (out < 0) return NULL;
    c.g->outputs[c.g->n_outputs++] = out;
    if (train && !lower_train(&c, train, cfg)) return NULL;
    return d->n_errors ? NULL : c.g;
}
