/*
 * lower_value_metric.c — metrics computed on any model value and any input (issue 14):
 *   metrics = [accuracy, mse(recon, image), mae(recon, image, name = "recon_l1"),
 *              mean(equal(greater(logit, 0), is7), name = "acc7")]
 * An entry that is a call other than top_k(K) is a scalar expression over the model's values
 * and inputs (usually a loss function: mse, mae, bce, bce_with_logits, ...). It is lowered like
 * the loss and becomes an output of the graph, so both steps compute it; the runtime averages
 * it over each pass's batches weighted by their sizes, as it does the loss. Its name (in the
 * progress lines, val_NAME, and the report's metrics and test.NAME) is name = "..." or, when
 * the first argument is a bare name, FIRST_FUNCTION (mse(reconstruction, image):
 * reconstruction_mse); names are identifiers of at most 31 characters, distinct from each
 * other and from the built-in metrics.
 */
#include "lower_internal.h"
#include <ctype.h>
#include <string.h>

enum { VALUE_METRIC_NAME_MAX = 31 };

static const char *const reserved[] = {"loss", "accuracy", "top_k", "mse", "mae", "few_shot"};

/* the metric's name: name = "..." or FIRST_FUNCTION; NULL after an error */
static const char *value_metric_name(lower_ctx *c, const ast_expr *e, const ast_expr *named) {
    const ast_expr *first = e->n_args > 0 && !e->args[0].name ? e->args[0].value : NULL;
    if (named && named->kind != AST_STR) {
        diag_error(c->d, named->loc, "metric: name must be a string, e.g. name = \"recon_mse\"");
        return NULL;
    }
    if (!named && (!first || first->kind != AST_NAME)) {
        diag_error(c->d, e->loc, "metric %s(...) needs a name: its first argument is not a value's "
                   "name, so write name = \"...\", e.g. %s(..., name = \"my_metric\")", e->str, e->str);
        return NULL;
    }
    const char *name = named ? named->str : arena_printf(c->a, "%s_%s", first->str, e->str);
    int ok = name[0] && strlen(name) <= VALUE_METRIC_NAME_MAX && !isdigit((unsigned char)name[0]);
    for (const char *p = name; *p && ok; p++) ok = isalnum((unsigned char)*p) || *p == '_';
    for (int i = 0; ok && i < (int)(sizeof reserved / sizeof *reserved); i++) ok = strcmp(name, reserved[i]) != 0;
    if (ok) return name;
    diag_error(c->d, named ? named->loc : e->loc, "metric name '%s' is not valid: it must be an "
               "identifier (letters, digits, _) of at most %d characters, other than loss, "
               "accuracy, top_k, mse, mae and few_shot", name, VALUE_METRIC_NAME_MAX);
    return NULL;
}

/* the call without its name = "..." argument */
static ast_expr *without_name(lower_ctx *c, const ast_expr *e) {
    ast_expr *copy = arena_alloc(c->a, sizeof *copy);
    *copy = *e;
    copy->args = arena_alloc(c->a, sizeof(ast_arg) * (size_t)(e->n_args > 0 ? e->n_args : 1));
    copy->n_args = 0;
    for (int i = 0; i < e->n_args; i++)
        if (!e->args[i].name || strcmp(e->args[i].name, "name") != 0) copy->args[copy->n_args++] = e->args[i];
    return copy;
}

/* the output index of node id (added to the graph's outputs when it is not one yet) */
static int output_of(lower_ctx *c, const ast_expr *e, int id) {
    for (int i = 0; i < c->g->n_outputs; i++)
        if (c->g->outputs[i] == id) return i;
    if (c->g->n_outputs == (int)(sizeof c->g->outputs / sizeof *c->g->outputs)) {
        diag_error(c->d, e->loc, "metric: too many values computed for metrics and evaluations");
        return -1;
    }
    c->g->outputs[c->g->n_outputs] = id;
    return c->g->n_outputs++;
}

int lower_value_metric(lower_ctx *c, const ast_expr *e, metric_config *m) {
    int id = lower_expr(c, without_name(c, e));
    if (id < 0) return 0;
    const ir_node *n = ir_get(c->g, id);
    if (n->shape.rank != 0 || n->dtype != IR_F32) {
        diag_error(c->d, e->loc, "metric %s(...) must be a scalar (e.g. mse(recon, image), a mean "
                   "over the batch), got %s%s", e->str, n->dtype == IR_F32 ? "" : "i32 ",
                   ir_shape_str(c->a, &n->shape));
        return 0;
    }
    if (ir_op_flags[n->op] & OPF_LEAF) {
        diag_error(c->d, e->loc, "metric %s(...) is a constant: compute it from the model's values",
                   e->str);
        return 0;
    }
    const char *name = value_metric_name(c, e, lower_find_kwarg(e, "name"));
    if (!name) return 0;
    m->kind = DLC_METRIC_VALUE;
    m->name = name;
    m->output = output_of(c, e, id);
    return m->output >= 0;
}
