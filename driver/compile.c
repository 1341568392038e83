/*
 * compile.c — the front half shared by every mode: read the file (or take the text), parse,
 * lower, run the pass pipeline (verifying between passes), honouring --dump-after; and what
 * the modes read back from a compiled unit (where a gradient is exposed, the lr schedule).
 */
#include "../passes/pass.h"
#include "driver.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *read_file(const char *path) {
    char err[1024];
    size_t len;
    char *buf = (char *)dlrt_read_file_max(path, DLRT_SOURCE_MAX, "model source", &len, err,
                                             sizeof err);
    if (!buf) {
        fprintf(stderr, "dlc: error: %s\n", err);
        return NULL;
    }
    if (strlen(buf) != len) {
        fprintf(stderr, "dlc: error: %s: contains a NUL byte; is it a text file?\n", path);
        free(buf);
        return NULL;
    }
    return buf;
}

/* gradient checks read every parameter's gradient as an output and skip the update */
static void expose_gradients(ir_graph *g) {
    for (int id = 0; id < g->n_nodes; id++)
        if (g->nodes[id].op == IR_OP_param && g->nodes[id].grad >= 0 && g->n_outputs < 64)
            g->outputs[g->n_outputs++] = g->nodes[id].grad;
}

/* what a compilation is for: training (the default), gradient checks or inference */
typedef struct compile_mode {
    int for_gradcheck;               /* no update; gradients exposed as outputs */
    int inference;                   /* the forward-only inference pipeline */
    const struct dlrt_weights *weights; /* inference: the trained weights (or NULL) */
    int no_fold;                     /* inference: --no-fold */
} compile_mode;

static pass_ctx make_ctx(dlc_unit *u, const compile_mode *m) {
    pass_ctx pc = {.g = u->g, .d = &u->d, .opt = m->for_gradcheck ? NULL : &u->cfg.opt,
                   .with_backward = u->cfg.present};
    if (m->inference) {
        pc.opt = NULL;
        pc.with_backward = 0;
        pc.no_fold = m->no_fold;
        pc.normalized_input = u->cfg.normalize ? u->cfg.feature_input : NULL;
        u->g->weights = m->weights ? dlc_ir_weights(m->weights, pc.normalized_input, &u->a) : NULL;
    }
    return pc;
}

static int run_passes(dlc_unit *u, const dlc_options *o, const compile_mode *m) {
    pass_ctx pc = make_ctx(u, m);
    const pass_info *pipeline = m->inference ? pass_inference_pipeline : pass_pipeline;
    int len = m->inference ? pass_inference_pipeline_len : pass_pipeline_len;
    for (int i = 0; i < len; i++) {
        if (!pipeline[i].run(&pc)) return 1;
        ir_verify(u->g);
        if (m->for_gradcheck && !strcmp(pipeline[i].name, "autodiff")) expose_gradients(u->g);
        if (o->dump_after && !strcmp(o->dump_after, pipeline[i].name)) {
            ir_dump(u->g, stdout);
            u->stopped = 1;
            return 0;
        }
    }
    return 0;
}

static int compile_source(dlc_unit *u, const dlc_options *o, const compile_mode *m) {
    diag_init(&u->d, o->input, u->src);
    ast_file *f = parse_file(u->src, &u->a, &u->d);
    if (!f) return 1;
    if (o->dump_after && !strcmp(o->dump_after, "parse")) {
        ast_dump(f, stdout);
        u->stopped = 1;
        return 0;
    }
    u->g = lower_file(f, o->defines, o->n_defines, &u->a, &u->d, &u->cfg);
    if (!u->g) return 1;
    ir_verify(u->g);
    if (o->dump_after && !strcmp(o->dump_after, "lower")) {
        ir_dump(u->g, stdout);
        u->stopped = 1;
        return 0;
    }
    return run_passes(u, o, m);
}

const dlrt_tensor_desc *dlc_gradient_output(const ir_graph *g, const dlrt_model_desc *m,
                                            const char *param) {
    int id = ir_find_leaf(g, IR_OP_param, param);
    for (int k = 0; id >= 0 && k < g->n_outputs; k++)
        if (g->nodes[id].grad == g->outputs[k]) /* outputs are the last n_outputs rows */
            return &m->tensors[m->n_tensors - g->n_outputs + k];
    return NULL;
}

dlrt_schedule dlc_schedule(const train_config *cfg) {
    const lr_schedule *s = &cfg->opt.schedule;
    return (dlrt_schedule){.kind = (int)s->kind, .lr = cfg->opt.lr, .every = s->every,
                           .gamma = s->gamma, .min_lr = s->min_lr, .warmup = s->warmup,
                           .warmup_start = s->warmup_start};
}

int dlc_compile(dlc_unit *u, const dlc_options *o, int for_gradcheck) {
    memset(u, 0, sizeof *u);
    u->src = read_file(o->input);
    compile_mode m = {.for_gradcheck = for_gradcheck};
    return u->src ? compile_source(u, o, &m) : 1;
}

int dlc_compile_text(dlc_unit *u, const dlc_options *o, const char *text, int for_gradcheck) {
    memset(u, 0, sizeof *u);
    u->src = strdup(text);
    compile_mode m = {.for_gradcheck = for_gradcheck};
    return u->src ? compile_source(u, o, &m) : 1;
}

int dlc_compile_inference(dlc_unit *u, const dlc_options *o, const struct dlrt_weights *w) {
    memset(u, 0, sizeof *u);
    u->src = read_file(o->input);
    compile_mode m = {.inference = 1, .weights = w, .no_fold = o->no_fold};
    return u->src ? compile_source(u, o, &m) : 1;
}

void dlc_unit_free(dlc_unit *u) {
    arena_free(&u->a);
    free(u->src);
    u->src = NULL;
}
