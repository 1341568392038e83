/*
 * lower_block.c — blocks: `block NAME(params) { statements; return EXPR }` at file level, their
 * instances and calls (docs/language.md, "Blocks").
 *
 * An instance is a block, the arguments fixed when it was made and a name that prefixes its
 * parameters: `enc = encoder(width = 64)` (a statement whose right-hand side calls a block and
 * leaves a parameter without a default free) makes instance enc; each call `enc(x)` binds the
 * free parameters, lowers the body again and shares every parameter (lower_leaf_name finds
 * the ones the first call made: enc.dense1.w). A call that binds every parameter,
 * `encoder(x, width = 64)`, is a one-off instance: fresh parameters, named after the block
 * (encoder1, encoder2, ...) or name = "...". A call's arguments are evaluated where it is
 * written; a number binds a numeric parameter (a width), anything else is lowered as a
 * tensor. The body sees its parameters and the file's params, nothing of its caller.
 *
 * A call's name resolves to an instance of the current scope, then a block, then a built-in:
 * a user's names never change meaning when a built-in of the same name is added. While a body
 * is lowered every error gets a note per enclosing call ("in block 'encoder' called here").
 */
#include "lower_internal.h"
#include <string.h>

static const ast_item *find_block(const lower_ctx *c, const char *name) {
    for (int i = 0; i < c->n_blocks; i++)
        if (strcmp(c->blocks[i]->name, name) == 0) return c->blocks[i];
    return NULL;
}

static int param_index(const ast_item *b, const char *name) {
    for (int i = 0; i < b->n_params; i++)
        if (strcmp(b->params[i].name, name) == 0) return i;
    return -1;
}

/* a parameter's default: a number, evaluated among the file's params */
static int eval_default(lower_ctx *c, const ast_expr *e, double *out) {
    hyper *hypers = c->hypers;
    int n = c->n_hypers;
    c->hypers = c->globals;
    c->n_hypers = c->n_globals;
    int ok = lower_eval_number(c, e, out);
    c->hypers = hypers;
    c->n_hypers = n;
    return ok;
}

/* ---- definitions ---- */

static int check_params(lower_ctx *c, const ast_item *b) {
    int ok = 1;
    for (int i = 0; i < b->n_params; i++) {
        const ast_arg *p = &b->params[i];
        double v;
        if (param_index(b, p->name) != i) {
            diag_error(c->d, p->name_loc, "block '%s' has two parameters named '%s'", b->name,
                       p->name);
            ok = 0;
        } else if (strcmp(p->name, "name") == 0) {
            diag_error(c->d, p->name_loc, "a block parameter cannot be called 'name': name = "
                       "\"...\" names a call's instance");
            ok = 0;
        } else if (p->value && !eval_default(c, p->value, &v)) {
            ok = 0;
        }
    }
    return ok;
}

static int check_body(lower_ctx *c, const ast_item *b) {
    int ok = 1;
    for (int i = 0; i < b->n_stmts; i++) {
        const ast_stmt *s = &b->stmts[i];
        if (s->kind == AST_STMT_INPUT) {
            diag_error(c->d, s->loc, "a block takes its inputs as parameters: block %s(x, ...); "
                       "'input' belongs in the model", b->name);
            ok = 0;
        } else if (s->kind == AST_STMT_SECTION) {
            lower_reject_section(c, s, "a block");
            ok = 0;
        } else if (i > 0 && b->stmts[i - 1].kind == AST_STMT_RETURN) {
            diag_error(c->d, s->loc, "statement after return: a block ends with its return");
            return 0;
        }
    }
    if (b->n_stmts == 0 || b->stmts[b->n_stmts - 1].kind != AST_STMT_RETURN) {
        diag_error(c->d, b->name_loc, "block '%s' has no return statement: end it with "
                   "return VALUE", b->name);
        ok = 0;
    }
    return ok;
}

void lower_reject_section(lower_ctx *c, const ast_stmt *s, const char *where) {
    diag_error(c->d, s->loc, "'%s %s { ... }' is not allowed in %s: step and phase sections "
               "belong in a train block", s->name, s->label, where);
}

static void check_no_return(lower_ctx *c, const ast_item *it) {
    for (int i = 0; i < it->n_stmts; i++)
        if (it->stmts[i].kind == AST_STMT_SECTION && it->kind == AST_ITEM_MODEL)
            lower_reject_section(c, &it->stmts[i], "a model");
        else if (it->stmts[i].kind == AST_STMT_RETURN)
            diag_error(c->d, it->stmts[i].loc, "'return' is only allowed at the end of a block, "
                       "not in a %s", it->kind == AST_ITEM_MODEL ? "model" : "train block");
}

int lower_collect_blocks(lower_ctx *c, const ast_file *f) {
    c->blocks = arena_alloc(c->a, sizeof *c->blocks * (size_t)(f->n_items + 1));
    for (int i = 0; i < f->n_items; i++) {
        const ast_item *it = &f->items[i];
        if (it->kind == AST_ITEM_MODEL || it->kind == AST_ITEM_TRAIN) check_no_return(c, it);
        if (it->kind != AST_ITEM_BLOCK) continue;
        if (find_block(c, it->name)) {
            diag_error(c->d, it->name_loc, "block '%s' is defined twice", it->name);
            continue;
        }
        check_params(c, it);
        check_body(c, it);
        c->blocks[c->n_blocks++] = it;
    }
    return c->d->n_errors == 0;
}

/* ---- instances and their arguments ---- */

static lower_instance *new_instance(lower_ctx *c, const ast_item *b, const char *name,
                                    src_loc at) {
    lower_instance *in = arena_alloc(c->a, sizeof *in);
    size_t n = (size_t)b->n_params + 1;
    in->name = name;
    in->prefix = arena_printf(c->a, "%s%s.", c->frame ? c->frame->inst->prefix : "", name);
    in->block = b;
    in->made = at;
    in->bound = arena_alloc(c->a, n);
    in->num = arena_alloc(c->a, sizeof *in->num * n);
    in->node = arena_alloc(c->a, sizeof *in->node * n);
    return in;
}

void lower_make_named_instance(lower_ctx *c, const ast_item *b, src_loc at) {
    lower_take_prefix(c, b->name);
    lower_bind(c, b->name, NODE_INSTANCE, new_instance(c, b, b->name, at));
}

/* the instance's fixed arguments, copied for one call to add its own */
static lower_instance *call_view(lower_ctx *c, const lower_instance *in) {
    lower_instance *v = new_instance(c, in->block, in->name, in->made);
    v->prefix = in->prefix;
    size_t n = (size_t)in->block->n_params;
    memcpy(v->bound, in->bound, n);
    memcpy(v->num, in->num, sizeof *v->num * n);
    memcpy(v->node, in->node, sizeof *v->node * n);
    return v;
}

/* numbers bind numeric parameters: literals, params and arithmetic on them */
static int is_numeric(const lower_ctx *c, const ast_expr *e) {
    switch (e->kind) {
    case AST_NUM: return 1;
    case AST_NAME: return lower_lookup_node(c, e->str) == -1 && lower_lookup_hyper(c, e->str);
    case AST_NEG: return is_numeric(c, e->lhs);
    case AST_BINOP: return is_numeric(c, e->lhs) && is_numeric(c, e->rhs);
    case AST_STR: case AST_CALL: case AST_LIST: break;
    }
    return 0;
}

static int bind_value(lower_ctx *c, lower_instance *in, int k, const ast_expr *e) {
    if (is_numeric(c, e)) {
        in->bound[k] = 'n';
        return lower_eval_number(c, e, &in->num[k]);
    }
    in->bound[k] = 't';
    in->node[k] = lower_expr(c, e);
    return in->node[k] >= 0;
}

/* "x, y": the parameters not fixed in `fixed` */
static const char *free_list(lower_ctx *c, const ast_item *b, const char *fixed, int *n_free) {
    const char *list = "";
    *n_free = 0;
    for (int i = 0; i < b->n_params; i++)
        if (!fixed[i])
            list = arena_printf(c->a, "%s%s%s", list, (*n_free)++ ? ", " : "", b->params[i].name);
    return list;
}

static int check_positional(lower_ctx *c, const lower_instance *in, const char *fixed,
                            const ast_expr *call) {
    int n_pos = 0, n_free;
    for (int i = 0; i < call->n_args; i++) n_pos += !call->args[i].name;
    const char *list = free_list(c, in->block, fixed, &n_free);
    if (n_pos <= n_free) return 1;
    diag_error(c->d, call->loc, "%s takes %d positional argument%s%s%s%s, got %d", call->str,
               n_free, n_free == 1 ? "" : "s", n_free ? " (" : "", list, n_free ? ")" : "",
               n_pos);
    return 0;
}

static int bind_keyword(lower_ctx *c, lower_instance *in, const char *fixed, const ast_arg *a,
                        const ast_expr *call) {
    const ast_item *b = in->block;
    int k = param_index(b, a->name);
    if (k < 0) {
        const char **names = arena_alloc(c->a, sizeof(char *) * (size_t)(b->n_params + 1));
        for (int i = 0; i < b->n_params; i++) names[i] = b->params[i].name;
        char hint[DIAG_HINT_SIZE];
        diag_error(c->d, a->name_loc, "%s has no argument '%s'%s", call->str, a->name,
                   diag_hint(hint, diag_closest(a->name, names, b->n_params), ""));
        return 0;
    }
    if (fixed[k]) {
        diag_error(c->d, a->name_loc, "argument '%s' of instance '%s' was fixed when it was "
                   "made (line %d)", a->name, in->name, in->made.line);
        return 0;
    }
    if (in->bound[k]) {
        diag_error(c->d, a->name_loc, "%s: argument '%s' is given twice", call->str, a->name);
        return 0;
    }
    return bind_value(c, in, k, a->value);
}

/* the call's arguments to the parameters `fixed` leaves free: positional ones in order,
 * keyword ones by name (name = "..." is the caller's) */
static int bind_args(lower_ctx *c, lower_instance *in, const char *fixed, const ast_expr *call) {
    if (!check_positional(c, in, fixed, call)) return 0;
    int next = 0, ok = 1;
    for (int i = 0; i < call->n_args; i++) {
        const ast_arg *a = &call->args[i];
        if (a->name && strcmp(a->name, "name") == 0) continue;
        if (a->name) {
            ok &= bind_keyword(c, in, fixed, a, call);
            continue;
        }
        while (fixed[next]) next++;
        ok &= bind_value(c, in, next++, a->value);
    }
    return ok;
}

/* defaults for the parameters still free; an error for each one without a default */
static int finish_args(lower_ctx *c, lower_instance *in, const ast_expr *call) {
    int ok = 1;
    for (int i = 0; i < in->block->n_params; i++) {
        const ast_arg *p = &in->block->params[i];
        if (in->bound[i]) continue;
        if (p->value) {
            in->bound[i] = 'n';
            ok &= eval_default(c, p->value, &in->num[i]);
        } else {
            int one_off = strcmp(call->str, in->block->name) == 0;
            diag_error(c->d, call->loc, "%s: missing argument '%s'%s", call->str, p->name,
                       one_off ? " (a call leaving it free makes an instance only as a "
                       "statement of its own: NAME = BLOCK(...))" : "");
            ok = 0;
        }
    }
    return ok;
}

/* ---- calls ---- */

static void note_calls(void *arg) {
    lower_ctx *c = arg;
    for (const lower_frame *f = c->frame; f; f = f->up) {
        const char *block = f->inst->block->name;
        if (lower_is_model_block(c, f->inst->block))
            diag_note(c->d, f->call->loc, "in model '%s' called here", block);
        else if (strcmp(f->call->str, block) != 0)
            diag_note(c->d, f->call->loc, "in block '%s' (instance '%s') called here", block,
                      f->inst->name);
        else diag_note(c->d, f->call->loc, "in block '%s' called here", block);
    }
}

static int may_enter(lower_ctx *c, const ast_item *b, const ast_expr *call) {
    for (const lower_frame *f = c->frame; f; f = f->up)
        if (f->inst->block == b) {
            diag_error(c->d, call->loc, "block '%s' calls itself%s: recursion is not supported "
                       "(a block is expanded where it is called)", b->name,
                       f == c->frame ? "" : " (through the blocks it calls)");
            return 0;
        }
    if (c->depth < LOWER_MAX_BLOCK_DEPTH) return 1;
    diag_error(c->d, call->loc, "blocks nest too deeply: more than %d block calls inside each "
               "other", LOWER_MAX_BLOCK_DEPTH);
    return 0;
}

/* the body's scope: its tensor parameters, its numbers, then the file's params */
static void enter_scope(lower_ctx *c, const lower_instance *vals) {
    const ast_item *b = vals->block;
    c->env = NULL;
    c->n_env = c->cap_env = 0;
    c->hypers = arena_alloc(c->a, sizeof(hyper) * (size_t)(b->n_params + c->n_globals + 1));
    c->n_hypers = 0;
    for (int i = 0; i < b->n_params; i++) {
        if (vals->bound[i] == 't') lower_bind(c, b->params[i].name, vals->node[i], NULL);
        else c->hypers[c->n_hypers++] = (hyper){.name = b->params[i].name, .value = vals->num[i]};
    }
    for (int i = 0; i < c->n_globals; i++)
        if (param_index(b, c->globals[i].name) < 0) c->hypers[c->n_hypers++] = c->globals[i];
}

static int lower_body(lower_ctx *c, const ast_item *b) {
    for (int i = 0; i < b->n_stmts; i++) {
        const ast_stmt *s = &b->stmts[i];
        if (s->kind == AST_STMT_RETURN) return lower_expr(c, s->value);
        if (s->kind != AST_STMT_ASSIGN) continue; /* reported by check_body */
        int node = lower_assign(c, s);
        if (node != NODE_INSTANCE) lower_bind(c, s->name, node < 0 ? NODE_FAILED : node, NULL);
    }
    return -1; /* no return: reported by check_body */
}

/* lower instance in's body with the arguments vals (a call of `call`) */
static int run_block(lower_ctx *c, lower_instance *in, const lower_instance *vals,
                     const ast_expr *call) {
    if (!may_enter(c, in->block, call)) return -1;
    int errors_before = c->d->n_errors;
    lower_ctx saved = *c;
    lower_frame f = {.inst = in, .call = call, .up = c->frame};
    enter_scope(c, vals);
    c->frame = &f;
    c->depth++;
    c->d->context = note_calls;
    c->d->context_arg = c;
    c->g->cur_loc = call->loc;
    c->g->cur_what = in->block->name;
    int result = lower_body(c, in->block);
    c->env = saved.env, c->n_env = saved.n_env, c->cap_env = saved.cap_env;
    c->hypers = saved.hypers, c->n_hypers = saved.n_hypers;
    c->frame = f.up;
    c->depth--;
    if (!c->frame) c->d->context = NULL;
    c->g->cur_loc = call->loc; /* the site of what the caller makes next, e.g. a constant */
    c->g->cur_what = in->block->name;
    in->n_calls++;
    if (result >= 0 && c->d->n_errors == errors_before) return result;
    in->failed = 1;
    return -1;
}

static int call_instance(lower_ctx *c, lower_instance *in, const ast_expr *call) {
    if (in->failed) return -1; /* its first failure is reported */
    const ast_expr *name_e = lower_find_kwarg(call, "name");
    if (name_e) {
        diag_error(c->d, name_e->loc, "instance '%s' is named already: name = \"...\" names a "
                   "call of a block", in->name);
        return -1;
    }
    lower_instance *vals = call_view(c, in);
    if (!bind_args(c, vals, in->bound, call) || !finish_args(c, vals, call) ||
        !lower_check_model_call(c, vals, call))
        return -1;
    return run_block(c, in, vals, call);
}

/* a one-off instance's name: name = "...", else the block's name and the first free k */
static const char *one_off_name(lower_ctx *c, const ast_item *b, const ast_expr *call) {
    const ast_expr *name_e = lower_find_kwarg(call, "name");
    if (!name_e) {
        for (int k = 1;; k++) {
            const char *name = arena_printf(c->a, "%s%d", b->name, k);
            if (!lower_prefix_taken(c, name)) return name;
        }
    }
    const char *name = lower_eval_symbol(c, name_e, "an instance");
    if (name && lower_prefix_taken(c, name)) {
        diag_error(c->d, name_e->loc, "'%s' already names a layer or an instance", name);
        return NULL;
    }
    return name;
}

static int call_one_off(lower_ctx *c, const ast_item *b, const ast_expr *call) {
    const char *name = one_off_name(c, b, call);
    if (!name) return -1;
    lower_take_prefix(c, name);
    lower_instance *in = new_instance(c, b, name, call->loc);
    char *none = arena_alloc(c->a, (size_t)b->n_params + 1);
    if (!bind_args(c, in, none, call) || !finish_args(c, in, call)) return -1;
    return run_block(c, in, in, call);
}

int lower_block_call(lower_ctx *c, const ast_expr *call) {
    if (c->n_blocks == 0) return LOWER_NOT_BLOCK;
    lower_instance *in = lower_lookup_instance(c, call->str);
    if (in) return call_instance(c, in, call);
    const ast_item *b = find_block(c, call->str);
    return b ? call_one_off(c, b, call) : LOWER_NOT_BLOCK;
}

/* ---- statements ---- */

/* the call leaves a parameter without a default unbound: it makes an instance */
static int leaves_free(const ast_item *b, const ast_expr *call) {
    int n_pos = 0;
    for (int i = 0; i < call->n_args; i++) n_pos += !call->args[i].name;
    for (int k = n_pos; k < b->n_params; k++)
        if (!b->params[k].value && !lower_find_kwarg(call, b->params[k].name)) return 1;
    return 0;
}

static int make_instance(lower_ctx *c, const ast_stmt *s, const ast_item *b) {
    const ast_expr *call = s->value, *name_e = lower_find_kwarg(call, "name");
    if (name_e) {
        diag_error(c->d, name_e->loc, "an instance is named by the value it is assigned to "
                   "('%s'): drop name = \"...\"", s->name);
    } else if (lower_prefix_taken(c, s->name)) {
        diag_error(c->d, s->loc, "'%s' already names a layer or an instance: an instance's name "
                   "prefixes its parameters, so each must be new", s->name);
        if (lower_lookup_instance(c, s->name)) return NODE_INSTANCE; /* it keeps the first */
    } else {
        lower_take_prefix(c, s->name);
        lower_instance *in = new_instance(c, b, s->name, s->loc);
        char *none = arena_alloc(c->a, (size_t)b->n_params + 1);
        if (bind_args(c, in, none, call)) {
            lower_bind(c, s->name, NODE_INSTANCE, in);
            return NODE_INSTANCE;
        }
    }
    lower_bind(c, s->name, NODE_FAILED, NULL);
    return NODE_INSTANCE;
}

int lower_assign(lower_ctx *c, const ast_stmt *s) {
    const ast_expr *e = s->value;
    const ast_item *b = NULL;
    if (e->kind == AST_CALL && c->n_blocks > 0 && !lower_lookup_instance(c, e->str))
        b = find_block(c, e->str);
    if (!b || !leaves_free(b, e)) return lower_expr(c, e);
    return make_instance(c, s, b);
}
