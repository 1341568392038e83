/*
 * lower_init.c — parameter initializers written in a layer call: `init = he_normal`,
 * `init = normal(0, 0.02)`, `bias_init = constant(0.1)`. Names and formulas follow
 * torch.nn.init; glorot_* and kaiming_* are aliases of xavier_* and he_*. The fan-scaled kinds
 * take no arguments; zeros takes none, constant(value) needs one, uniform(low = -1, high = 1) and
 * normal(mean = 0, std = 1) take up to two, positionally or by name. Bad arguments are errors
 * naming the argument (`normal: std must be > 0, got 0`).
 */
#include "lower_internal.h"
#include <string.h>

typedef struct init_alias {
    const char *name;  /* spelling accepted in the language */
    ir_init_kind kind; /* what it means */
} init_alias;

static const init_alias aliases[] = {
    {"glorot_uniform", IR_INIT_XAVIER_UNIFORM}, {"glorot_normal", IR_INIT_XAVIER_NORMAL},
    {"kaiming_uniform", IR_INIT_HE_UNIFORM},    {"kaiming_normal", IR_INIT_HE_NORMAL},
};
enum { N_ALIASES = (int)(sizeof aliases / sizeof aliases[0]) };

/* the kind named `name`, or -1 after an error with a suggestion */
static int find_kind(lower_ctx *c, const ast_expr *e, const char *name) {
    const char *all[IR_INIT_COUNT + N_ALIASES];
    for (int k = 0; k < IR_INIT_COUNT; k++) {
        all[k] = ir_init_names[k];
        if (strcmp(name, ir_init_names[k]) == 0) return k;
    }
    for (int i = 0; i < N_ALIASES; i++) {
        all[IR_INIT_COUNT + i] = aliases[i].name;
        if (strcmp(name, aliases[i].name) == 0) return (int)aliases[i].kind;
    }
    const char *best = diag_closest(name, all, IR_INIT_COUNT + N_ALIASES);
    char hint[DIAG_HINT_SIZE];
    diag_error(c->d, e->loc, "unknown initializer '%s'%s", name,
               diag_hint(hint, best, ""));
    return -1;
}

/* argument `i` (positional) or `key` (keyword) of call e; NULL when absent */
static const ast_expr *init_arg(const ast_expr *e, int i, const char *key) {
    if (e->kind != AST_CALL) return NULL;
    const ast_expr *v = lower_find_kwarg(e, key);
    for (int j = 0, pos = 0; !v && j < e->n_args; j++)
        if (!e->args[j].name && pos++ == i) v = e->args[j].value;
    return v;
}

/* the arguments an initializer takes, in positional order */
static const char *const *init_kwargs(ir_init_kind kind) {
    static const char *const none[] = {NULL}, *const constant[] = {"value", NULL},
                             *const uniform[] = {"low", "high", NULL},
                             *const normal[] = {"mean", "std", NULL};
    return kind == IR_INIT_CONSTANT ? constant : kind == IR_INIT_UNIFORM ? uniform
         : kind == IR_INIT_NORMAL ? normal : none;
}

/* argument count and names; an argument given both by position and by name is an error */
static int check_args(lower_ctx *c, const ast_expr *e, const char *const *kw, const ir_init *out) {
    int n_kw = 0, n_pos = 0;
    while (kw[n_kw]) n_kw++;
    int need_value = out->kind == IR_INIT_CONSTANT &&
                     !(e->kind == AST_CALL && lower_find_kwarg(e, "value"));
    if (e->kind == AST_NAME) {
        if (need_value) diag_error(c->d, e->loc, "constant needs a value, e.g. constant(0.1)");
        return !need_value;
    }
    if (!kw[0] && e->n_args > 0) {
        diag_error(c->d, e->loc, "%s takes no arguments%s", e->str, out->kind == IR_INIT_ZEROS ? ""
                   : " (its scale comes from the layer's fan-in and fan-out)");
        return 0;
    }
    for (int j = 0; j < e->n_args; j++) n_pos += e->args[j].name == NULL;
    for (int j = 0; j < n_pos && j < n_kw; j++)
        if (lower_find_kwarg(e, kw[j])) {
            diag_error(c->d, e->loc, "%s: '%s' is given twice (by position and by name)", e->str, kw[j]);
            return 0;
        }
    return lower_check_call_args(c, e, need_value, n_kw, kw);
}

/* reads the arguments named in kw (at most two) into out->a, out->b; checks their range */
static int read_values(lower_ctx *c, const ast_expr *e, const char *const *kw, ir_init *out) {
    const ast_expr *va = kw[0] ? init_arg(e, 0, kw[0]) : NULL;
    const ast_expr *vb = kw[0] && kw[1] ? init_arg(e, 1, kw[1]) : NULL;
    if ((va && !lower_eval_number(c, va, &out->a)) || (vb && !lower_eval_number(c, vb, &out->b)))
        return 0;
    const char *name = e->kind == AST_CALL ? e->str : "";
    if ((va && !lower_fits_f32(c, va->loc, out->a, arena_printf(c->a, "%s: %s", name, kw[0]))) ||
        (vb && !lower_fits_f32(c, vb->loc, out->b, arena_printf(c->a, "%s: %s", name, kw[1]))))
        return 0; /* the values become f32 weights */
    if (out->kind == IR_INIT_UNIFORM && !(out->a < out->b)) {
        diag_error(c->d, vb ? vb->loc : va ? va->loc : e->loc,
                   "uniform: low must be < high, got low = %g, high = %g", out->a, out->b);
        return 0;
    }
    if (out->kind == IR_INIT_NORMAL && !(out->b > 0)) {
        diag_error(c->d, vb ? vb->loc : e->loc, "normal: std must be > 0, got %g", out->b);
        return 0;
    }
    return 1;
}

int lower_init(lower_ctx *c, const ast_expr *e, ir_init *out) {
    if (e->kind != AST_NAME && e->kind != AST_CALL) {
        diag_error(c->d, e->loc, "expected an initializer, e.g. he_normal or normal(0, 0.02)");
        return 0;
    }
    int kind = find_kind(c, e, e->str);
    if (kind < 0) return 0;
    out->kind = (ir_init_kind)kind;
    out->a = kind == IR_INIT_UNIFORM ? -1 : 0;
    out->b = kind == IR_INIT_UNIFORM || kind == IR_INIT_NORMAL ? 1 : 0;
    const char *const *kw = init_kwargs(out->kind);
    return check_args(c, e, kw, out) && read_values(c, e, kw, out);
}
