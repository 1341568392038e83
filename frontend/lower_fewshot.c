/*
 * lower_fewshot.c — few-shot evaluation in a train block (issue 13):
 *   evaluate = [few_shot(embedding = e, image = x, n_way = 5, k_shot = 1, queries = 15,
 *                        episodes = 1000, classes = [5, 6, 7, 8, 9], metric = l2), ...]
 * `embedding` is a model value (or an expression of them) holding one vector per sample
 * [B, D]; it becomes an output of the graph, so the eval step stores it. `image` names the model
 * input fed each test image; it must be fed the dataset's images by data = ... (checked once
 * the whole block is read, lower_check_few_shot). The runtime draws the episodes
 * (runtime/dlrt_fewshot.h).
 */
#include "lower_internal.h"
#include <string.h>

enum { FEW_SHOT_N_CLASSES = 10 }; /* mnist's and fashion_mnist's */

/* whether input leaf `in` is reachable from node `id` (inputs have smaller ids) */
static int depends_on(lower_ctx *c, int id, int in) {
    char *reach = arena_alloc(c->a, (size_t)id + 1);
    memset(reach, 0, (size_t)id + 1);
    reach[id] = 1;
    for (int i = id; i >= in; i--) {
        if (!reach[i]) continue;
        if (i == in) return 1;
        const ir_node *n = ir_get(c->g, i);
        for (int k = 0; k < n->n_in; k++) reach[n->in[k]] = 1;
    }
    return 0;
}

/* input = NAME: an f32 input of the model */
static int few_shot_input(lower_ctx *c, const ast_expr *e, few_shot_config *fs, int *leaf) {
    const char *names[64];
    int n = 0;
    for (int id = 0; id < c->g->n_nodes && n < 64; id++)
        if (c->g->nodes[id].op == IR_OP_input) names[n++] = c->g->nodes[id].name;
    const char *name = e->kind == AST_NAME ? e->str : NULL;
    *leaf = name ? ir_find_leaf(c->g, IR_OP_input, name) : -1;
    fs->input = name, fs->input_loc = e->loc;
    if (*leaf >= 0 && ir_get(c->g, *leaf)->dtype == IR_F32) return 1;
    if (*leaf >= 0) {
        diag_error(c->d, e->loc, "few_shot: image = %s names an i32 input; it must be the f32 "
                   "input fed the images", name);
        return 0;
    }
    char hint[DIAG_HINT_SIZE];
    diag_error(c->d, e->loc, "few_shot: image must name an input of the model, got %s%s",
               name ? arena_printf(c->a, "'%s'", name) : "an expression",
               diag_hint(hint, name ? diag_closest(name, names, n) : NULL, ""));
    return 0;
}

/* embedding = VALUE: one vector per sample, computed from the input; its output index */
static int few_shot_embedding(lower_ctx *c, const ast_expr *e, int leaf, few_shot_config *fs) {
    int id = lower_expr(c, e);
    if (id < 0) return 0;
    const ir_node *n = ir_get(c->g, id);
    if (!n->shape.batched || n->shape.rank != 2 || n->dtype != IR_F32) {
        diag_error(c->d, e->loc, "few_shot: the embedding must be a vector per sample [B,D], got "
                   "%s", ir_shape_str(c->a, &n->shape));
        return 0;
    }
    if (ir_op_flags[n->op] & OPF_LEAF) {
        diag_error(c->d, e->loc, "few_shot: the embedding must be computed by the model, not an "
                   "input itself");
        return 0;
    }
    if (!depends_on(c, id, leaf)) {
        diag_error(c->d, e->loc, "few_shot: the embedding is not computed from input '%s'",
                   fs->input);
        return 0;
    }
    for (fs->output = 0; fs->output < c->g->n_outputs; fs->output++)
        if (c->g->outputs[fs->output] == id) return 1;
    if (c->g->n_outputs == (int)(sizeof c->g->outputs / sizeof *c->g->outputs)) {
        diag_error(c->d, e->loc, "few_shot: too many embeddings");
        return 0;
    }
    c->g->outputs[c->g->n_outputs++] = id;
    return 1;
}

/* n_way, k_shot, queries, episodes, classes, metric */
static int few_shot_settings(lower_ctx *c, const ast_expr *e, few_shot_config *fs) {
    const ast_expr *v;
    int ok = 1;
    if ((v = lower_find_kwarg(e, "n_way"))) ok &= lower_eval_count(c, v, "few_shot: n_way", 2, 32, &fs->n_way);
    if ((v = lower_find_kwarg(e, "k_shot"))) ok &= lower_eval_count(c, v, "few_shot: k_shot", 1, 10000, &fs->k_shot);
    if ((v = lower_find_kwarg(e, "queries"))) ok &= lower_eval_count(c, v, "few_shot: queries", 1, 10000, &fs->queries);
    if ((v = lower_find_kwarg(e, "episodes")))
        ok &= lower_eval_count(c, v, "few_shot: episodes", 1, 10000000, &fs->episodes);
    if ((v = lower_find_kwarg(e, "classes"))) ok &= lower_classes(c, v, "few_shot: the dataset", &fs->classes);
    if ((v = lower_find_kwarg(e, "metric"))) {
        const char *m = lower_eval_symbol(c, v, "a metric");
        if (m && (fs->cosine = !strcmp(m, "cosine"), !fs->cosine && strcmp(m, "l2"))) {
            diag_error(c->d, v->loc, "few_shot: unknown metric '%s' (known: l2, cosine)", m);
            m = NULL;
        }
        ok &= m != NULL;
    }
    int listed = __builtin_popcount(fs->classes);
    if (ok && fs->n_way > listed) {
        diag_error(c->d, e->loc, "few_shot: n_way = %lld but only %d classes are listed",
                   (long long)fs->n_way, listed);
        return 0;
    }
    return ok;
}

static int lower_few_shot(lower_ctx *c, const ast_expr *e, few_shot_config *fs) {
    static const char *const kw[] = {"embedding", "image", "n_way", "k_shot", "queries",
                                     "episodes", "classes", "metric", NULL};
    *fs = (few_shot_config){.n_way = 5, .k_shot = 1, .queries = 15, .episodes = 1000,
                            .classes = (1u << FEW_SHOT_N_CLASSES) - 1, .loc = e->loc};
    if (e->kind != AST_CALL || strcmp(e->str, "few_shot") != 0) {
        diag_error(c->d, e->loc, "evaluate lists few_shot(...) entries, e.g. few_shot(embedding = "
                   "e, image = x, n_way = 5, k_shot = 1)");
        return 0;
    }
    if (!lower_check_call_args(c, e, 0, 0, kw)) return 0;
    const ast_expr *emb = lower_find_kwarg(e, "embedding"), *in = lower_find_kwarg(e, "image");
    if (!emb || !in) {
        diag_error(c->d, e->loc, "few_shot needs embedding = VALUE (one vector per sample) and "
                   "image = INPUT (the input fed the images)");
        return 0;
    }
    int leaf;
    return few_shot_input(c, in, fs, &leaf) && few_shot_embedding(c, emb, leaf, fs) &&
           few_shot_settings(c, e, fs);
}

int lower_evaluate(lower_ctx *c, const ast_expr *e, train_config *cfg) {
    if (e->kind != AST_LIST || e->n_args == 0) {
        diag_error(c->d, e->loc, "evaluate must be a non-empty list, e.g. evaluate = "
                   "[few_shot(embedding = e, image = x)]");
        return 0;
    }
    cfg->n_few_shot = 0;
    for (int i = 0; i < e->n_args; i++) {
        if (i == DLC_MAX_FEW_SHOT) {
            diag_error(c->d, e->args[i].value->loc, "at most %d few_shot entries can be listed",
                       DLC_MAX_FEW_SHOT);
            return 0;
        }
        if (!lower_few_shot(c, e->args[i].value, &cfg->few_shot[i])) return 0;
        cfg->n_few_shot++;
    }
    return 1;
}

/* after the block: the input of each entry is fed the dataset's images */
int lower_check_few_shot(lower_ctx *c, const train_config *cfg) {
    for (int i = 0; i < cfg->n_few_shot; i++) {
        const few_shot_config *fs = &cfg->few_shot[i];
        if (cfg->image_hw[0] == 0) {
            diag_error(c->d, fs->loc, "few_shot needs a labelled image dataset (mnist or "
                       "fashion_mnist) in data = ...");
            return 0;
        }
        int fed = cfg->feature_input && !strcmp(cfg->feature_input, fs->input);
        for (int k = 0; k < 3; k++)
            fed |= cfg->member_input[k] && !strcmp(cfg->member_input[k], fs->input);
        if (fed) continue;
        diag_error(c->d, fs->input_loc, "few_shot: input '%s' is not fed the dataset's images by "
                   "data = ...", fs->input);
        return 0;
    }
    return 1;
}
