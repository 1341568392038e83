/*
 * pipeline.c — the pass table and the loop that runs it (see pass.h). Every stage of a
 * compilation is a row: the front end's parse and lower (run through the driver's hooks), the
 * passes, and the analyses schedule and memplan; each row says which pipelines it is in. The
 * runner verifies the IR after every row that changes the graph (ir_verify aborts with an
 * internal error if a pass broke an invariant) and stops after the row --dump-after names.
 */
#include "pass.h"
#include <string.h>

enum {
    TRAIN = 1u << PASS_TRAIN,
    GRADCHECK = 1u << PASS_GRADCHECK,
    INFERENCE = 1u << PASS_INFERENCE,
    ALL = TRAIN | GRADCHECK | INFERENCE
};

static int run_parse(pass_ctx *c) { return c->front->parse(c); }
static int run_lower(pass_ctx *c) { return c->front->lower(c); }
static void dump_ast(const pass_ctx *c, FILE *out) { c->front->dump_ast(c, out); }
static void dump_ir(const pass_ctx *c, FILE *out) { ir_dump(c->g, out); }
static void dump_schedule(const pass_ctx *c, FILE *out) { pass_sched_dump(&c->sched, out); }

static void dump_memplan(const pass_ctx *c, FILE *out) {
    for (int k = 0; k < c->n_plans; k++)
        if (c->planned[k]) {
            fprintf(out, "target %s\n", c->target[k]);
            pass_memplan_dump(c->g, &c->plans[k], out);
        }
}

/* gradient checks read every parameter's gradient as an output and skip the update */
static int autodiff_exposing_gradients(pass_ctx *c) {
    if (!pass_autodiff(c)) return 0;
    ir_graph *g = c->g;
    for (int id = 0; id < g->n_nodes; id++)
        if (g->nodes[id].op == IR_OP_param && g->nodes[id].grad >= 0 && g->n_outputs < 64)
            g->outputs[g->n_outputs++] = g->nodes[id].grad;
    return 1;
}

const pass_info pass_table[] = {
    {"parse", run_parse, "the source's syntax tree", ALL, 0, dump_ast},
    {"lower", run_lower, "the graph as the file wrote it", ALL, 1, dump_ir},
    {"shape", pass_shape, "every value's dtype and shape", ALL, 1, dump_ir},
    {"autodiff", pass_autodiff, "the backward graph", TRAIN, 1, dump_ir},
    {"autodiff", autodiff_exposing_gradients,
     "the backward graph, every parameter's gradient an output", GRADCHECK, 1, dump_ir},
    {"optimizer", pass_optimizer, "the optimizer's update (none for gradient checks)",
     TRAIN | GRADCHECK, 1, dump_ir},
    {"inference", pass_inference, "the forward graph in evaluation mode, trained weights read",
     INFERENCE, 1, dump_ir},
    {"fold_batchnorm", pass_fold_batchnorm, "batchnorm folded into the layer before it",
     INFERENCE, 1, dump_ir},
    {"dce", pass_dce, "dead nodes dropped, ids renumbered", ALL, 1, dump_ir},
    {"schedule", pass_schedule, "analysis: the step functions' order and fusion groups", ALL, 0,
     dump_schedule},
    {"memplan", pass_memplan, "analysis: each target's buffers and their arena offsets", ALL, 0,
     dump_memplan},
};
const int pass_table_len = (int)(sizeof pass_table / sizeof pass_table[0]);

int pass_in_variant(const pass_info *p, pass_variant v) { return (p->variants >> v) & 1u; }

const pass_info *pass_find(const char *name, pass_variant v) {
    for (int i = 0; i < pass_table_len; i++)
        if (pass_in_variant(&pass_table[i], v) && !strcmp(pass_table[i].name, name))
            return &pass_table[i];
    return NULL;
}

int pass_run_pipeline(pass_ctx *c, pass_variant v, const char *stop_after, FILE *out,
                      int *stopped) {
    *stopped = 0;
    for (int i = 0; i < pass_table_len; i++) {
        const pass_info *p = &pass_table[i];
        if (!pass_in_variant(p, v)) continue;
        if (!p->run(c)) return 0;
        if (p->changes_graph) ir_verify(c->g);
        if (stop_after && !strcmp(stop_after, p->name)) {
            p->dump(c, out);
            *stopped = 1;
            return 1;
        }
    }
    return 1;
}
