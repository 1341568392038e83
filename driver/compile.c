/*
 * compile.c — the front half shared by every mode: read the file (or take the text) and run
 * the variant's rows of the pass table (passes/pipeline.c: parse, lower, the passes, the
 * schedule and memplan analyses), honouring --dump-after. The front end's stages are given to
 * the table as hooks; the memory options of each target the mode generates for are set here
 * from the chosen backend, and the unit keeps the plans. Also what the modes read back from a
 * compiled unit (where a gradient is exposed, the lr schedule).
 */
#include "../passes/pass.h"
#include "../codegen/cg_backend.h"
#include "../codegen/cg_c.h"
#include "../codegen/cg_cuda.h"
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

/* one compilation: what the front end's hooks and the pass setup read */
typedef struct compile_job {
    dlc_unit *u;                        /* the unit being compiled */
    const dlc_options *o;               /* its options */
    pass_variant v;                     /* the pipeline: training, gradient checks or inference */
    const struct dlrt_weights *weights; /* inference: the trained weights (or NULL) */
} compile_job;

/* the passes' inputs once lowering has read the train block */
static void setup_passes(const compile_job *j, pass_ctx *c) {
    dlc_unit *u = j->u;
    c->opt = j->v == PASS_TRAIN ? &u->cfg.opt : NULL;
    c->with_backward = j->v != PASS_INFERENCE && u->cfg.present;
    c->plan_train = j->v == PASS_TRAIN && u->cfg.present;
    if (j->v == PASS_INFERENCE) {
        c->no_fold = j->o->no_fold;
        c->n_normalized = ir_normalized_inputs(&u->cfg, c->normalized_inputs);
        u->g->weights = j->weights ? dlc_ir_weights(j->weights, c->normalized_inputs,
                                                    c->n_normalized, &u->a) : NULL;
    }
}

static int front_parse(pass_ctx *c) {
    compile_job *j = c->user;
    diag_init(&j->u->d, j->o->input, j->u->src);
    c->ast = parse_file(j->u->src, &j->u->a, &j->u->d);
    return c->ast != NULL;
}

static int front_lower(pass_ctx *c) {
    compile_job *j = c->user;
    dlc_unit *u = j->u;
    u->g = c->g = lower_file(c->ast, j->o->defines, j->o->n_defines, &u->a, &u->d, &u->cfg,
                                j->v == PASS_INFERENCE ? j->o->value : NULL);
    if (!u->g) return 0;
    if (j->v == PASS_INFERENCE) u->g->n_outputs = 1; /* few-shot embeddings: training runs only */
    setup_passes(j, c);
    return 1;
}

static void front_dump(const pass_ctx *c, FILE *out) { ast_dump(c->ast, out); }

static const pass_frontend frontend = {front_parse, front_lower, front_dump};

/* --mem-report plans the report's target at its batch and element type; an unknown --dtype
 * (reported by dlc_mem_report) or --fit (which plans at many batches itself) plans nothing */
static int report_options(const dlc_options *o, dlc_target t, mem_options *mo) {
    static const char *const dtypes[] = {"f32", "f16", "bf16", "f64"};
    static const int bytes[] = {4, 2, 2, 8};
    int cuda = o->target && !strcmp(o->target, "cuda");
    if (t != (cuda ? DLC_TARGET_CUDA : DLC_TARGET_C) || o->fit > 0) return 0;
    (cuda ? &cg_cuda_backend : &cg_c_backend)->mem_options(0, !o->no_reuse, mo);
    mo->batch = o->batch; /* the report's batch and element type, not the generator's */
    mo->real_bytes = 0;
    for (int i = 0; i < 4; i++)
        if (!strcmp(o->dtype ? o->dtype : "f32", dtypes[i])) mo->real_bytes = bytes[i];
    return mo->real_bytes != 0;
}

/* the memory options target t's generator plans with in this compilation (0: t is not
 * generated for): C for every mode (f64 for gradient checks and --f64; no reuse for
 * --no-reuse, --check-numerics and --check-cuda's reference build), CUDA with --target cuda
 * and --check-cuda (its own workspaces) */
static int target_options(const dlc_options *o, pass_variant v, dlc_target t, mem_options *mo) {
    if (o->mem_report) return report_options(o, t, mo);
    if (t == DLC_TARGET_CUDA) {
        if (!o->cuda || v != PASS_TRAIN) return 0;
        int plain = o->no_reuse || o->check_cuda || (o->check_numerics && !o->check_cuda);
        cg_cuda_backend.mem_options(0, !plain, mo);
        return 1;
    }
    int plain = o->no_reuse || o->check_cuda || (o->check_numerics && !o->cuda);
    cg_c_backend.mem_options(v == PASS_GRADCHECK || (v == PASS_TRAIN && o->f64),
                             v != PASS_TRAIN || !plain, mo);
    return 1;
}

/* the analyses' requests: a plan per target (none when the compilation only lists tensors) */
static void request_plans(const compile_job *j, int analyse, pass_ctx *c, dlc_target *which) {
    c->analyse = analyse;
    static const char *const names[DLC_TARGET_COUNT] = {"cpu", "cuda"};
    for (int t = 0; analyse && t < DLC_TARGET_COUNT; t++)
        if (target_options(j->o, j->v, (dlc_target)t, &c->mem[c->n_plans])) {
            c->target[c->n_plans] = names[t];
            which[c->n_plans++] = (dlc_target)t;
        }
}

/* the unit keeps the analyses' results */
static void keep_analyses(dlc_unit *u, const pass_ctx *c, const dlc_target *which) {
    u->sched = c->sched;
    for (int k = 0; k < c->n_plans; k++)
        if (c->planned[k]) {
            mem_plan *p = arena_alloc(&u->a, sizeof *p);
            *p = c->plans[k];
            u->plan[which[k]] = p;
        }
}

static int compile_source(compile_job *j, int analyse) {
    dlc_unit *u = j->u;
    pass_ctx pc = {.front = &frontend, .user = j, .d = &u->d, .a = &u->a};
    dlc_target which[PASS_MAX_PLANS];
    request_plans(j, analyse, &pc, which);
    int ok = pass_run_pipeline(&pc, j->v, j->o->dump_after, stdout, &u->stopped);
    if (ok && !u->stopped) keep_analyses(u, &pc, which);
    return !ok;
}

const dlrt_tensor_desc *dlc_gradient_output(const ir_graph *g, const dlrt_model_desc *m,
                                            const char *param) {
    int id = ir_find_leaf(g, IR_OP_param, param);
    for (int k = 0; id >= 0 && k < g->n_outputs; k++)
        if (g->nodes[id].grad == g->outputs[k]) /* outputs are the last n_outputs rows */
            return &m->tensors[m->n_tensors - g->n_outputs + k];
    return NULL;
}

dlrt_schedule dlc_schedule(const train_config *cfg) { return dlc_opt_schedule(&cfg->opt); }

dlrt_schedule dlc_opt_schedule(const opt_config *opt) {
    const lr_schedule *s = &opt->schedule;
    return (dlrt_schedule){.kind = (int)s->kind, .lr = opt->lr, .every = s->every,
                           .gamma = s->gamma, .min_lr = s->min_lr, .warmup = s->warmup,
                           .warmup_start = s->warmup_start};
}

int dlc_compile(dlc_unit *u, const dlc_options *o, int for_gradcheck) {
    memset(u, 0, sizeof *u);
    u->src = read_file(o->input);
    compile_job j = {.u = u, .o = o, .v = for_gradcheck ? PASS_GRADCHECK : PASS_TRAIN};
    return u->src ? compile_source(&j, 1) : 1;
}

int dlc_compile_text(dlc_unit *u, const dlc_options *o, const char *text, int for_gradcheck) {
    memset(u, 0, sizeof *u);
    u->src = strdup(text);
    compile_job j = {.u = u, .o = o, .v = for_gradcheck ? PASS_GRADCHECK : PASS_TRAIN};
    return u->src ? compile_source(&j, 1) : 1;
}

int dlc_compile_inference(dlc_unit *u, const dlc_options *o, const struct dlrt_weights *w) {
    memset(u, 0, sizeof *u);
    u->src = read_file(o->input);
    compile_job j = {.u = u, .o = o, .v = PASS_INFERENCE, .weights = w};
    return u->src ? compile_source(&j, w != NULL) : 1;
}

void dlc_unit_free(dlc_unit *u) {
    arena_free(&u->a);
    free(u->src);
    u->src = NULL;
}
