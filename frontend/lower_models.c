/*
 * lower_models.c — several models in one file (docs/language.md, "Several models"). The train
 * block names the model it trains (without a train block: the file's last model); every other
 * model is callable from it like a block instance named after the model:
 *
 *   model generator { z = normal(100); ...; image = tanh(dense(h, 784)) }
 *   model discriminator { input image: f32[784]; ...; logit = dense(h, 1) }
 *   model gan { input image: f32[784]; fake = generator(); d_real = discriminator(image) ... }
 *
 * A called model's inputs are its parameters, in the order declared (or by name), and its last
 * value is the call's result; its weights are named MODEL.<layer>.<param> and shared by every
 * call (a model is one network, however often it is applied). Each tensor passed must have the
 * dtype and per-sample shape of the input it binds.
 */
#include "lower_internal.h"
#include <string.h>

/* model m as a block: its inputs the parameters, its other statements the body, returning
 * its last statement's value; NULL (reported) when it computes nothing */
static const ast_item *as_block(lower_ctx *c, const ast_item *m) {
    ast_item *b = arena_alloc(c->a, sizeof *b);
    *b = *m;
    b->kind = AST_ITEM_BLOCK;
    b->params = arena_alloc(c->a, sizeof(ast_arg) * ((size_t)m->n_stmts + 1));
    b->stmts = arena_alloc(c->a, sizeof(ast_stmt) * ((size_t)m->n_stmts + 1));
    b->n_params = b->n_stmts = 0;
    const ast_stmt *last = NULL;
    for (int i = 0; i < m->n_stmts; i++) {
        const ast_stmt *s = &m->stmts[i];
        if (s->kind == AST_STMT_INPUT)
            b->params[b->n_params++] = (ast_arg){.name = s->name, .name_loc = s->loc};
        else if (s->kind == AST_STMT_ASSIGN)
            b->stmts[b->n_stmts++] = *s, last = s;
    }
    if (!last) {
        diag_error(c->d, m->name_loc, "model '%s' computes nothing", m->name);
        return NULL;
    }
    ast_expr *result = arena_alloc(c->a, sizeof *result);
    *result = (ast_expr){.kind = AST_NAME, .loc = last->loc, .str = last->name, .depth = 1};
    b->stmts[b->n_stmts++] = (ast_stmt){.kind = AST_STMT_RETURN, .loc = last->loc, .value = result};
    return b;
}

static int named_twice(lower_ctx *c, const ast_item *m) {
    for (int i = 0; i < c->n_blocks; i++)
        if (!strcmp(c->blocks[i]->name, m->name)) {
            diag_error(c->d, m->name_loc, "'%s' names both a model and a block", m->name);
            return 1;
        }
    return 0;
}

int lower_collect_models(lower_ctx *c, const ast_file *f, const ast_item *trained) {
    c->model_blocks = arena_alloc(c->a, sizeof(ast_item *) * ((size_t)f->n_items + 1));
    c->model_items = arena_alloc(c->a, sizeof(ast_item *) * ((size_t)f->n_items + 1));
    for (int i = 0; i < f->n_items; i++) {
        const ast_item *m = &f->items[i];
        if (m->kind != AST_ITEM_MODEL || m == trained) continue;
        if (strchr(m->name, '.')) {
            diag_error(c->d, m->name_loc, "a model name cannot contain '.': it prefixes the "
                       "model's parameters (%s.dense1.w)", m->name);
            continue;
        }
        if (named_twice(c, m) || !strcmp(m->name, trained->name)) {
            if (!strcmp(m->name, trained->name))
                diag_error(c->d, m->name_loc, "model '%s' is defined twice", m->name);
            continue;
        }
        const ast_item *b = as_block(c, m);
        if (!b) continue;
        c->blocks[c->n_blocks++] = b;
        c->model_blocks[c->n_models] = b;
        c->model_items[c->n_models++] = m;
    }
    return c->d->n_errors == 0;
}

void lower_instantiate_models(lower_ctx *c) {
    for (int k = 0; k < c->n_models; k++)
        lower_make_named_instance(c, c->model_blocks[k], c->model_items[k]->name_loc);
}

/* the tensor bound to input s of model m matches its declared type */
static int check_input(lower_ctx *c, const ast_item *m, const ast_stmt *s, int node,
                       const ast_expr *call) {
    const ir_node *n = ir_get(c->g, node);
    const ast_type *t = &s->type;
    int ok = n->shape.batched && n->shape.rank == t->rank + 1 &&
             (n->dtype == IR_I32) == !strcmp(t->dtype, "i32");
    for (int i = 0; ok && i < t->rank; i++) {
        int64_t d;
        if (!lower_eval_int(c, t->dims[i], &d, 1)) return 0;
        ok = n->shape.dims[i + 1] == d;
    }
    if (ok) return 1;
    ir_shape want = n->shape;
    want.rank = t->rank + 1;
    want.batched = 1;
    for (int i = 0; i < t->rank; i++) lower_eval_int(c, t->dims[i], &want.dims[i + 1], 1);
    diag_error(c->d, call->loc, "%s: input '%s' is %s %s, got %s %s", m->name, s->name, t->dtype,
               ir_shape_str(c->a, &want), n->dtype == IR_I32 ? "i32" : "f32",
               ir_shape_str(c->a, &n->shape));
    return 0;
}

int lower_is_model_block(const lower_ctx *c, const ast_item *b) {
    for (int k = 0; k < c->n_models; k++)
        if (c->model_blocks[k] == b) return 1;
    return 0;
}

int lower_check_model_call(lower_ctx *c, const lower_instance *in, const ast_expr *call) {
    for (int k = 0; k < c->n_models; k++) {
        if (c->model_blocks[k] != in->block) continue;
        const ast_item *m = c->model_items[k];
        int p = 0, ok = 1;
        for (int i = 0; i < m->n_stmts; i++)
            if (m->stmts[i].kind == AST_STMT_INPUT) {
                if (in->bound[p] != 't') {
                    diag_error(c->d, call->loc, "%s: input '%s' must be a tensor", m->name,
                               m->stmts[i].name);
                    return 0;
                }
                ok &= check_input(c, m, &m->stmts[i], in->node[p++], call);
            }
        return ok;
    }
    return 1;
}
