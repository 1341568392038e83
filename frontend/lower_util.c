/*
 * lower_util.c — the bottom layer of the lowering files: the helpers every lower_*.c and
 * layers*.c file uses, and that call no other lowering file but lower_names.c: looking up
 * names (model values and params), evaluating numbers (with their range checks and the
 * messages naming the setting), finishing a node (shape inference), checking a call's
 * arguments, and making a trainable parameter. The call graph among the frontend's files has
 * no cycle (A -> B: A calls B):
 *   lower.c (entry) -> lower_train.c, lower_block.c, layers.c, lower_util.c
 *   lower_block.c (blocks and instances) -> layers.c (which reaches lower_block_call back only
 *     through the c->call_block hook lower.c sets: a block's body holds expressions again)
 *   lower_train.c -> lower_data.c, lower_augment.c, lower_eval.c, lower_optim.c, layers.c
 *   lower_data.c -> lower_table.c (data = csv(...))
 *   layers.c (expressions, the layer table) -> layers_conv.c, lower_pool.c, lower_init.c
 *   every lowering file -> lower_util.c -> lower_names.c
 */
#include "lower_internal.h"
#include <float.h>
#include <math.h>
#include <string.h>

/* ---- names ---- */

int lower_lookup_node(const lower_ctx *c, const char *name) {
    for (int i = c->n_env - 1; i >= 0; i--)
        if (strcmp(c->env[i].name, name) == 0) return c->env[i].node;
    return -1;
}

lower_instance *lower_lookup_instance(const lower_ctx *c, const char *name) {
    for (int i = c->n_env - 1; i >= 0; i--)
        if (strcmp(c->env[i].name, name) == 0) return c->env[i].inst;
    return NULL;
}

/* a name bound again takes the new node in its old entry: one entry per name, so that looking
 * names up (and suggesting them) costs the number of names, not of statements */
void lower_bind(lower_ctx *c, const char *name, int node, lower_instance *inst) {
    for (int i = c->n_env - 1; i >= 0; i--)
        if (strcmp(c->env[i].name, name) == 0) {
            c->env[i].node = node;
            c->env[i].inst = inst;
            return;
        }
    if (c->n_env == c->cap_env) {
        int cap = c->cap_env ? c->cap_env * 2 : 32;
        c->env = arena_grow(c->a, c->env, sizeof(binding) * (size_t)c->cap_env,
                            sizeof(binding) * (size_t)cap);
        c->cap_env = cap;
    }
    c->env[c->n_env++] = (binding){name, node, inst};
}

/* "'enc' is an instance of block 'encoder'", for a use of it where a value is expected */
static void instance_as_value(lower_ctx *c, const ast_expr *e, const char *expected) {
    const lower_instance *in = lower_lookup_instance(c, e->str);
    diag_error(c->d, e->loc, "expected %s, but '%s' is an instance of block '%s' (call it to "
               "get a tensor: %s(...))", expected, e->str, in->block->name, e->str);
}

void lower_instance_as_value(lower_ctx *c, const ast_expr *e) {
    instance_as_value(c, e, "a tensor");
}

const hyper *lower_lookup_hyper(const lower_ctx *c, const char *name) {
    for (int i = 0; i < c->n_hypers; i++)
        if (strcmp(c->hypers[i].name, name) == 0) return &c->hypers[i];
    return NULL;
}

void lower_unknown_name(lower_ctx *c, const ast_expr *e) {
    const char **cands = arena_alloc(c->a, sizeof(char *) * (size_t)(c->n_env + c->n_hypers + 1));
    int n = 0;
    for (int i = 0; i < c->n_env; i++) cands[n++] = c->env[i].name;
    for (int i = 0; i < c->n_hypers; i++) cands[n++] = c->hypers[i].name;
    const char *best = diag_closest(e->str, cands, n);
    if (best) diag_error(c->d, e->loc, "unknown name '%s'; did you mean '%s'?", e->str, best);
    else diag_error(c->d, e->loc, "unknown name '%s'", e->str);
}

/* ---- numbers ---- */

/* "2147483648" for whole numbers (exactly, as far as a double holds them), else "%g" */
const char *lower_num_text(lower_ctx *c, double v) {
    if (v == floor(v) && fabs(v) < 1e18) return arena_printf(c->a, "%.0f", v);
    return arena_printf(c->a, "%g", v);
}

/* The numbers of the language are doubles that must stay finite: an infinity or a NaN would
 * reach the generated code as a constant C cannot spell. a op b gave v. */
static int check_finite(lower_ctx *c, const ast_expr *e, double a, double b, double v) {
    if (isfinite(v)) return 1;
    diag_error(c->d, e->loc, "the value of this expression is not finite (%g %c %g overflows a "
               "double, whose largest value is about 1.8e308)", a, e->op, b);
    return 0;
}

int lower_eval_number(lower_ctx *c, const ast_expr *e, double *out) {
    double a, b;
    switch (e->kind) {
    case AST_NUM: *out = e->num; return 1;
    case AST_NAME: {
        const hyper *h = lower_lookup_hyper(c, e->str);
        if (h && h->failed) return 0; /* reported where it is defined */
        if (h) { *out = h->value; return 1; }
        int node = lower_lookup_node(c, e->str);
        if (node == NODE_FAILED) return 0;
        if (node == NODE_INSTANCE) instance_as_value(c, e, "a number");
        else if (node >= 0)
            diag_error(c->d, e->loc, "expected a number, but '%s' is a tensor", e->str);
        else lower_unknown_name(c, e);
        return 0;
    }
    case AST_NEG:
        if (!lower_eval_number(c, e->lhs, &a)) return 0;
        *out = -a;
        return 1;
    case AST_BINOP:
        if (!lower_eval_number(c, e->lhs, &a) || !lower_eval_number(c, e->rhs, &b)) return 0;
        if (e->op == '/' && b == 0) {
            diag_error(c->d, e->loc, "division by zero");
            return 0;
        }
        *out = e->op == '+' ? a + b : e->op == '-' ? a - b : e->op == '*' ? a * b : a / b;
        return check_finite(c, e, a, b, *out);
    case AST_STR: case AST_CALL: case AST_LIST: break;
    }
    diag_error(c->d, e->loc, "expected a number");
    return 0;
}

int lower_eval_int(lower_ctx *c, const ast_expr *e, int64_t *out, int64_t min) {
    double v;
    if (!lower_eval_number(c, e, &v)) return 0;
    if (v != floor(v)) {
        diag_error(c->d, e->loc, "expected an integer, got %g (not a whole number)", v);
        return 0;
    }
    if (v < (double)min || v > (double)IR_MAX_DIM) {
        diag_error(c->d, e->loc, "expected an integer in [%lld, %lld], got %s", (long long)min,
                   (long long)IR_MAX_DIM, lower_num_text(c, v));
        return 0;
    }
    *out = (int64_t)v;
    return 1;
}

const char *lower_eval_symbol(lower_ctx *c, const ast_expr *e, const char *what) {
    if (e->kind == AST_NAME || e->kind == AST_STR) return e->str;
    diag_error(c->d, e->loc, "expected %s name", what);
    return NULL;
}

int lower_eval_count(lower_ctx *c, const ast_expr *e, const char *what, int64_t min, int64_t max,
                     int64_t *out) {
    double v;
    if (!lower_eval_number(c, e, &v)) return 0;
    if (v != floor(v)) {
        diag_error(c->d, e->loc, "%s must be an integer, got %g (not a whole number)", what, v);
        return 0;
    }
    if (v < (double)min || v > (double)max) {
        diag_error(c->d, e->loc, "%s must be an integer in [%lld, %lld], got %s", what,
                   (long long)min, (long long)max, lower_num_text(c, v));
        return 0;
    }
    *out = (int64_t)v;
    return 1;
}

/* value in [lo, hi] (or [lo, hi) when hi_open), else an error naming the parameter */
int lower_in_range(lower_ctx *c, const ast_expr *e, const char *what, double lo, double hi,
                   int lo_open, int hi_open, double *out) {
    if (!lower_eval_number(c, e, out)) return 0;
    int ok = (lo_open ? *out > lo : *out >= lo) && (hi_open ? *out < hi : *out <= hi);
    if (!ok)
        diag_error(c->d, e->loc, "%s must be in %c%g, %g%c, got %g", what, lo_open ? '(' : '[',
                   lo, hi, hi_open ? ')' : ']', *out);
    return ok;
}

/* ---- tensors ---- */

int lower_fits_f32(lower_ctx *c, src_loc loc, double v, const char *what) {
    if (fabs(v) <= FLT_MAX) return 1;
    diag_error(c->d, loc, "%s %g is not finite as an f32 (the largest f32 is about %g)", what, v,
               (double)FLT_MAX);
    return 0;
}

int lower_finish_node(lower_ctx *c, int id) { return ir_infer_shape(c->g, id, c->d) ? id : -1; }

/* a parameter an earlier call of the block instance made: this call must want its shape */
static int shared_param(lower_ctx *c, int id, const ir_shape *shape) {
    const ir_node *n = ir_get(c->g, id);
    if (ir_shape_equal(&n->shape, shape)) return id;
    diag_error(c->d, c->g->cur_loc, "parameter '%s' is shared by every call of instance '%s': "
               "its first call made it %s, this one needs %s (the calls' inputs differ in "
               "shape)", n->name, c->frame->inst->name, ir_shape_str(c->a, &n->shape),
               ir_shape_str(c->a, shape));
    return -1;
}

int lower_make_param(lower_ctx *c, const char *name, int rank, const int64_t *dims,
                     const ir_init *init) {
    ir_shape shape = ir_shape_make(0, rank, dims);
    if (!ir_shape_fits(&shape)) {
        diag_error(c->d, c->g->cur_loc, "parameter '%s' %s holds more than " IR_MAX_ELEMENTS_TEXT
                   " elements; a tensor may hold at most " IR_MAX_ELEMENTS_TEXT, name,
                   ir_shape_str(c->a, &shape));
        return -1;
    }
    int reuse;
    name = lower_leaf_name(c, IR_OP_param, name, &reuse);
    if (!name) return -1;
    if (reuse >= 0) return shared_param(c, reuse, &shape);
    if (lower_leaf_named(c, IR_OP_param, name)) {
        diag_error(c->d, c->g->cur_loc, "a parameter named '%s' already exists", name);
        return -1;
    }
    int id = ir_leaf(c->g, IR_OP_param, name, IR_F32, &shape);
    ir_get(c->g, id)->init = *init;
    return id;
}

/* ---- call argument helpers ---- */

const ast_expr *lower_find_kwarg(const ast_expr *call, const char *name) {
    for (int i = 0; i < call->n_args; i++)
        if (call->args[i].name && strcmp(call->args[i].name, name) == 0) return call->args[i].value;
    return NULL;
}

int lower_check_call_args(lower_ctx *c, const ast_expr *call, int min_pos, int max_pos,
                          const char *const *kwargs) {
    int n_pos = 0, ok = 1;
    for (int i = 0; i < call->n_args; i++) {
        const ast_arg *arg = &call->args[i];
        if (!arg->name) { n_pos++; continue; }
        int n_kw = 0, known = 0;
        while (kwargs && kwargs[n_kw]) known |= strcmp(kwargs[n_kw++], arg->name) == 0;
        if (known) continue;
        const char *best = diag_closest(arg->name, kwargs, n_kw);
        if (best)
            diag_error(c->d, arg->name_loc, "%s has no argument '%s'; did you mean '%s'?",
                       call->str, arg->name, best);
        else
            diag_error(c->d, arg->name_loc, "%s has no argument '%s'", call->str, arg->name);
        ok = 0;
    }
    if (n_pos < min_pos || n_pos > max_pos) {
        if (min_pos == max_pos)
            diag_error(c->d, call->loc, "%s takes %d positional argument%s, got %d", call->str,
                       min_pos, min_pos == 1 ? "" : "s", n_pos);
        else
            diag_error(c->d, call->loc, "%s takes %d to %d positional arguments, got %d",
                       call->str, min_pos, max_pos, n_pos);
        ok = 0;
    }
    return ok;
}
