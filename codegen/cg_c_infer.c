/*
 * cg_c_infer.c — the parts of an inference C file (dlc --weights) that a training model has
 * not: the weights block as static const data (and each per-feature normalisation's
 * statistics, nrmK), and the predict API over PREFIX_forward.
 *
 * The graph comes from passes/inference.c: one batched f32 input, one batched f32 output
 * computed by a non-leaf node (the driver checks), and a tensor of its weights table
 * (g->weights: the file's, with fold_batchnorm's) for every param, buffer and state leaf. The
 * API (docs/cli.md):
 *     int PREFIX_predict(const float *input, int n, float *output);
 *     int PREFIX_predict_ws(const float *input, int n, float *output, void *workspace);
 *     long PREFIX_input_size(void), PREFIX_output_size(void), PREFIX_workspace_bytes(void);
 * predict runs any n >= 0 samples, max_batch at a time, through a static workspace (not
 * reentrant); predict_ws uses the caller's (PREFIX_workspace_bytes, aligned as malloc's).
 */
#include "../ir/weights.h"
#include "cg_c_internal.h"
#include <stdio.h>
#include <string.h>

/* a float literal that reads back as exactly v (9 significant digits round-trip) */
static const char *literal(char *buf, size_t n, float v) {
    if (v != v) return "NAN";
    if (v > 3.4e38f || v < -3.4e38f) return v > 0 ? "INFINITY" : "-INFINITY";
    snprintf(buf, n, "%.9g", (double)v);
    if (strpbrk(buf, ".e")) strcat(buf, "f");
    return buf;
}

/* nrmK: the statistics of normalize_features node %K, its tensor's F shifts then F scales,
 * as doubles that read back exactly */
static void normalize_stats(cg_c *c, int id) {
    const ir_node *n = ir_get(c->x.g, id);
    const ir_weight *t = ir_weights_find(c->x.g->weights, n->name);
    DLC_ASSERT(t && t->dtype == IR_WEIGHT_F64 && t->rank == 2 && t->dims[0] == 2);
    const double *v = t->data;
    sb_printf(c->x.out, "/* the per-feature normalisation of \"%s\" (%s): %lld shifts, then "
                        "%lld scales */\nstatic const double nrm%d[%lld] = {",
              sb_c_comment(c->x.a, ir_get(c->x.g, n->in[0])->name), sb_c_comment(c->x.a, n->name),
              (long long)t->dims[1], (long long)t->dims[1], id, (long long)(2 * t->dims[1]));
    for (int64_t i = 0; i < 2 * t->dims[1]; i++)
        sb_printf(c->x.out, "%s%s%.17g", i ? "," : "", i % 4 ? " " : "\n    ", v[i]);
    sb_puts(c->x.out, "\n};\n\n");
}

void cg_c_infer_weights(cg_c *c) {
    const ir_graph *g = c->x.g;
    float *block = arena_alloc(c->x.a, sizeof(float) * (size_t)(c->weights_count + 1));
    for (int id = 0; id < g->n_nodes; id++) {
        const ir_node *n = &g->nodes[id];
        if (!ir_op_in_weights(n->op)) continue;
        const ir_weight *t = ir_weights_find(g->weights, n->name);
        DLC_ASSERT(t && t->dtype == IR_WEIGHT_F32 && ir_weight_numel(t) == ir_shape_numel(&n->shape));
        memcpy(block + c->offset[id], t->data, sizeof(float) * (size_t)ir_weight_numel(t));
    }
    sb_printf(c->x.out, "/* the trained weights: every parameter at its offset (see %s_forward) */\n"
                      "static const real %s_weights[%lld] = {", c->o->prefix, c->o->prefix,
              c->weights_count > 0 ? c->weights_count : 1);
    char buf[48];
    for (long long i = 0; i < c->weights_count; i++)
        sb_printf(c->x.out, "%s%s%s", i ? "," : "", i % 8 ? " " : "\n    ",
                  literal(buf, sizeof buf, block[i]));
    sb_puts(c->x.out, c->weights_count > 0 ? "\n};\n\n" : "0};\n\n");
    for (int id = 0; id < g->n_nodes; id++)
        if (g->nodes[id].op == IR_OP_normalize_features) normalize_stats(c, id);
}

static int find_op(const ir_graph *g, ir_op op) {
    for (int id = 0; id < g->n_nodes; id++)
        if (g->nodes[id].op == op) return id;
    return -1;
}

void cg_c_infer_api(cg_c *c) {
    const ir_graph *g = c->x.g;
    const char *p = c->o->prefix;
    const ir_node *in = ir_get(g, find_op(g, IR_OP_input)), *out = ir_get(g, g->outputs[0]);
    long long in_size = ir_shape_inner(&in->shape), out_size = ir_shape_inner(&out->shape);
    long long max_batch = in->shape.dims[0], ws = c->arena_bytes > 0 ? c->arena_bytes : 8;
    sb_printf(c->x.out,
              "/* ---- API (docs/cli.md) ----\n"
              " * input: n samples of %lld reals (\"%s\" %s), as the training data gave them;\n"
              " * output: n rows of %lld reals (%s); %lld samples per pass through the network. */\n"
              "long %s_input_size(void);\nlong %s_output_size(void);\nlong %s_workspace_bytes(void);\n"
              "int %s_predict_ws(const float *input, int n, float *output, void *workspace);\n"
              "int %s_predict(const float *input, int n, float *output);\n\n"
              "long %s_input_size(void) { return %lld; }\n"
              "long %s_output_size(void) { return %lld; }\n"
              "long %s_workspace_bytes(void) { return %lld; }\n\n",
              in_size, sb_c_comment(c->x.a, in->name), ir_shape_str(c->x.a, &in->shape), out_size,
              ir_shape_str(c->x.a, &out->shape), max_batch, p, p, p, p, p, p, in_size, p, out_size, p,
              ws);
    sb_printf(c->x.out,
              "/* 0 on success; -1 when n < 0 or a pointer is NULL */\n"
              "int %s_predict_ws(const float *input, int n, float *output, void *workspace) {\n"
              "    if (n < 0 || (n > 0 && (!input || !output || !workspace))) return -1;\n"
              "    for (int at = 0; at < n; at += %lld) {\n"
              "        const int m = n - at < %lld ? n - at : %lld;\n"
              "        const void *const inputs[1] = {input + (long)at * %lld};\n"
              "        %s_forward(%s_weights, workspace, inputs, m);\n"
              "        memcpy(output + (long)at * %lld, (const unsigned char *)workspace + %lld,\n"
              "               sizeof(float) * (size_t)m * %lld);\n"
              "    }\n"
              "    return 0;\n"
              "}\n\n",
              p, max_batch, max_batch, max_batch, in_size, p, p, out_size, c->offset[g->outputs[0]],
              out_size);
    sb_printf(c->x.out,
              "/* the workspace of predict: static, so predict is not reentrant (predict_ws is) */\n"
              "static double %s_workspace[%lld];\n\n"
              "int %s_predict(const float *input, int n, float *output) {\n"
              "    return %s_predict_ws(input, n, output, %s_workspace);\n"
              "}\n",
              p, (ws + 7) / 8, p, p, p);
}
