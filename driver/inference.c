/*
 * inference.c — from trained weights to one deployable C file: `dlc MODEL.dl --weights FILE
 * -o model.c` reads the weights file (dlrt_weights.c checks it), converts it into the IR's
 * weights table (ir/weights.h) that the graph carries, compiles the model's forward graph
 * through the inference pipeline (which checks every tensor against the model) and generates
 * C with the weights embedded (codegen/cg_c_infer.c). Also lists the tensors a weights file
 * holds, for `--run --save-weights`. Nothing is written unless everything succeeded.
 */
#include "../codegen/cg_c.h"
#include "../runtime/dlrt_weights.h"
#include "driver.h"
#include <stdio.h>
#include <string.h>

/* the input leaves of g: how many, and the first one (or NULL) */
static int inputs(const ir_graph *g, const ir_node **first) {
    int n = 0;
    *first = NULL;
    for (int id = 0; id < g->n_nodes; id++)
        if (g->nodes[id].op == IR_OP_input && n++ == 0) *first = &g->nodes[id];
    return n;
}

/* the generated API maps one batched f32 input to one batched f32 output computed from it */
static int check_interface(const dlc_unit *u, const dlc_options *o) {
    const ir_graph *g = u->g;
    const ir_node *in, *out = g->n_outputs == 1 ? ir_get(g, g->outputs[0]) : NULL;
    int n_in = inputs(g, &in);
    const char *model = u->cfg.model ? u->cfg.model : "model";
    if (n_in != 1) {
        fprintf(stderr, "dlc: error: %s: the inference C takes one input; the %s of model "
                        "'%s' reads %d%s\n", o->input, o->value ? "value" : "output", model, n_in,
                o->value || n_in == 0 ? "" : " (--value NAME compiles a value computed from "
                                              "one input, e.g. an embedding)");
        return 1;
    }
    if (in->dtype != IR_F32 || !out || out->dtype != IR_F32 || !out->shape.batched ||
        (ir_op_flags[out->op] & OPF_LEAF)) {
        fprintf(stderr, "dlc: error: %s: the inference C maps one f32 input to one f32 output "
                        "computed from it; model '%s' does not\n", o->input, model);
        return 1;
    }
    return 0;
}

static int generate(dlc_unit *u, const dlc_options *o) {
    if (check_interface(u, o)) return 1;
    cg_c_options co = {.prefix = u->cfg.model ? u->cfg.model : "model"};
    const char *source = cg_c_generate(u->g, &co, u->plan[DLC_TARGET_C], &u->a);
    if (o->emit_c) fputs(source, stdout);
    if (o->output && dlc_write_file_atomic(o->output, source)) return 1;
    return 0;
}

static ir_weight_dtype dtype_of(int dtype) {
    return dtype == DLRT_F32 ? IR_WEIGHT_F32 : dtype == DLRT_I32 ? IR_WEIGHT_I32 : IR_WEIGHT_F64;
}

ir_weights *dlc_ir_weights(const dlrt_weights *w, const char *const *normalized,
                           int n_normalized, arena *a) {
    ir_weights *t = ir_weights_new(a, w->path, w->n);
    char name[512];
    for (int k = 0; k < n_normalized && k < 3; k++)
        t->normalize_names[k] =
            arena_strdup(a, dlrt_normalize_tensor_name(normalized[k], name, sizeof name));
    for (int k = 0; k < w->n; k++) {
        const dlrt_weight *s = &w->t[k];
        int64_t dims[IR_MAX_RANK];
        for (int i = 0; i < s->rank; i++) dims[i] = s->dims[i];
        ir_weights_add(t, a, s->name, dtype_of(s->dtype), s->rank, dims, s->data);
    }
    return t;
}

int dlc_inference(const dlc_options *o) {
    dlrt_weights w;
    char err[1024];
    if (dlrt_weights_read(o->weights, &w, err, sizeof err)) {
        fprintf(stderr, "dlc: error: %s\n", err);
        return 1;
    }
    dlc_unit u;
    int status = dlc_compile_inference(&u, o, &w);
    dlrt_weights_free(&w); /* the graph holds its own copy (u.g->weights) */
    if (status == 0 && !u.stopped) status = generate(&u, o);
    if (u.d.n_errors) status = 1;
    dlc_unit_free(&u);
    return status;
}

int dlc_inference_tensors(dlc_unit *u, const dlc_options *o, const char ***names, int *n) {
    dlc_options plain = *o;
    plain.dump_after = NULL;
    if (dlc_compile_inference(u, &plain, NULL) || u->d.n_errors) return 1;
    const ir_graph *g = u->g;
    *names = arena_alloc(&u->a, sizeof(char *) * (size_t)(g->n_nodes + 1));
    *n = 0;
    for (int id = 0; id < g->n_nodes; id++)
        if (ir_op_in_weights(g->nodes[id].op))
            (*names)[(*n)++] = g->nodes[id].name;
    return 0;
}
