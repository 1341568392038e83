/*
 * cg_c.c — C code generation: the storage plan, fusion into loops, the step functions and the
 * descriptor tables (see cg_c.h, cg_c_internal.h).
 *
 * Fusion: within a function's schedule, a run of consecutive elementwise nodes (and assigns)
 * over the same iteration space becomes one loop; a value whose consumers all sit in its own
 * loop lives in a register (`vK`) and never touches memory. Leaves and constants do not break
 * a run (passes/schedule.c decides the groups). Storage is the memory plan's
 * (passes/memplan.h): params, model buffers and optimizer state in one weights block, every
 * materialised value and workspace at its planned offset in one arena.
 */
#include "cg_c_internal.h"
#include <string.h>

const ir_node *cg_c_node(cg_c *c, int id) { return ir_get(c->g, id); }

const char *cg_c_dim(cg_c *c, const ir_shape *s, int i) {
    if (s->batched && i == 0) return "n";
    return arena_printf(c->a, "%lld", (long long)s->dims[i]);
}

const char *cg_c_count(cg_c *c, const ir_shape *s) {
    if (!s->batched) return arena_printf(c->a, "%lld", (long long)ir_shape_numel(s));
    return arena_printf(c->a, "((long)n * %lld)", (long long)ir_shape_inner(s));
}

void cg_c_parallel(cg_c *c, const char *work, long long max_work) {
    if (max_work >= CG_C_PARALLEL_MIN_WORK && !c->o->check_numerics) sb_printf(c->out, "    DLC_PARALLEL_FOR(%s)\n", work);
}

const char *cg_c_scalar(cg_c *c, int id) {
    const ir_node *n = cg_c_node(c, id);
    if (n->op == IR_OP_const)
        return arena_printf(c->a, "((%s)%.17g)", c->in_double ? "double" : "real", n->fattr[0]);
    if (n->op == IR_OP_scalar_in) return arena_printf(c->a, "s%d", id);
    return arena_printf(c->a, "t%d[0]", id);
}

static int is_leaf(const ir_node *n) { return pass_sched_is_leaf(n); }
static const ir_shape *space(cg_c *c, int id) { return pass_sched_space(c->g, id); }

/* ---- function bodies ---- */

static const char *operand(cg_c *c, int src, int gid, const ir_shape *sp) {
    const ir_node *n = cg_c_node(c, src);
    if (n->op == IR_OP_const || n->op == IR_OP_scalar_in) return cg_c_scalar(c, src);
    if (gid >= 0 && c->group[src] == gid && !is_leaf(n)) return arena_printf(c->a, "v%d", src);
    int64_t numel = ir_shape_numel(&n->shape);
    if (n->shape.rank == 0) return arena_printf(c->a, "t%d[0]", src);
    if (n->shape.batched == sp->batched && numel == ir_shape_numel(sp))
        return arena_printf(c->a, "t%d[i]", src);
    return arena_printf(c->a, "t%d[i %% %lld]", src, (long long)ir_shape_inner(&n->shape));
}

/*
 * A rank-0 loop is arithmetic on scalars, such as an optimizer's bias corrections from its
 * hyperparameters and the step: it runs in double, as PyTorch computes those in Python floats.
 * In float, 1 - 0.999^t would lose three digits to the rounding of 0.999 (1.3e-5 relative).
 */
static int in_double(const ir_shape *sp) { return sp->rank == 0 && !sp->batched; }

static void emit_group(cg_c *c, const int *list, int n, int *k) {
    int gid = c->group[list[*k]];
    const ir_shape *sp = space(c, list[*k]);
    c->in_double = in_double(sp);
    const char *count = cg_c_count(c, sp);
    if (!in_double(sp)) cg_c_parallel(c, count, ir_shape_numel(sp));
    sb_printf(c->out, "    for (long i = 0; i < %s; i++) {\n", count);
    for (; *k < n; ++*k) {
        int id = list[*k];
        const ir_node *node = cg_c_node(c, id);
        if (is_leaf(node)) continue;
        if (c->group[id] != gid) break;
        const char *args[IR_MAX_IN];
        for (int i = 0; i < node->n_in; i++) args[i] = operand(c, node->in[i], gid, sp);
        strbuf e;
        sb_init(&e, c->a);
        cg_c_emitters[node->op](c, id, args, &e);
        if (node->op == IR_OP_assign) {
            sb_printf(c->out, "        t%d[i] = %s; /* update %s */\n", node->in[0], e.data,
                      sb_c_comment(c->a, cg_c_node(c, node->in[0])->name));
            cg_c_numerics_element(c, id, arena_printf(c->a, "t%d[i]", node->in[0]), args);
            continue;
        }
        sb_printf(c->out, "        const %s v%d = %s; /* %%%d %s */\n",
                  c->in_double ? "double" : "real", id, e.data, id, ir_op_names[node->op]);
        if (c->stored[id]) sb_printf(c->out, "        t%d[i] = v%d;\n", id, id);
        cg_c_numerics_element(c, id, arena_printf(c->a, "v%d", id), args);
    }
    --*k;
    c->in_double = 0;
    sb_puts(c->out, "    }\n");
}

static void declare(cg_c *c, int id) {
    const ir_node *n = cg_c_node(c, id);
    const char *shape = ir_shape_str(c->a, &n->shape);
    const char *ty = n->dtype == IR_I32 ? "int" : "real";
    switch (n->op) {
    case IR_OP_param: case IR_OP_state: case IR_OP_buffer:
        sb_printf(c->out, "    %sreal *restrict const t%d = (%sreal *)weights + %lld; /* %s %s */\n",
                  c->g->weights ? "const " : "", id, c->g->weights ? "const " : "", c->offset[id],
                  sb_c_comment(c->a, n->name), shape);
        return;
    case IR_OP_input:
        sb_printf(c->out, "    const %s *restrict const t%d = (const %s *)inputs[%d]; /* %s %s */\n", ty, id,
                  ty, c->index[id], sb_c_comment(c->a, n->name), shape);
        return;
    case IR_OP_scalar_in: /* eval_step has no scalars: only train-mode ops read them */
        if (c->train)
            sb_printf(c->out, "    const %s s%d = (%s)scalars[%d]; /* %s */\n",
                      n->dtype == IR_I32 ? "long long" : "real", id,
                      n->dtype == IR_I32 ? "long long" : "real", c->index[id],
                      sb_c_comment(c->a, n->name));
        return;
    default:
        if (!c->stored[id]) return;
        /* not restrict: the plan puts values whose lifetimes do not meet, and an elementwise
         * result over its input, at one offset */
        sb_printf(c->out, "    %s *const t%d = (%s *)(A + %lld); /* %%%d %s %s */\n", ty, id, ty,
                  (long long)pass_memplan_offset(c->fn, id), id, ir_op_names[n->op], shape);
        return;
    }
}

static void prologue(cg_c *c, const int *list, int n) {
    char *used = arena_alloc(c->a, (size_t)c->g->n_nodes);
    for (int k = 0; k < n; k++) {
        const ir_node *node = cg_c_node(c, list[k]);
        if (is_leaf(node)) continue;
        used[list[k]] = 1;
        for (int i = 0; i < node->n_in; i++) used[node->in[i]] = 1;
    }
    sb_puts(c->out, "    unsigned char *const A = (unsigned char *)arena;\n"
                    "    (void)A, (void)weights, (void)inputs, (void)n;\n");
    for (int id = 0; id < c->g->n_nodes; id++)
        if (used[id] && cg_c_node(c, id)->op != IR_OP_const) declare(c, id);
}

static void emit_body(cg_c *c, const int *list, int n) {
    prologue(c, list, n);
    for (int k = 0; k < n; k++) {
        const ir_node *node = cg_c_node(c, list[k]);
        if (is_leaf(node)) continue;
        if (c->group[list[k]] >= 0) {
            emit_group(c, list, n, &k);
            continue;
        }
        sb_printf(c->out, "    /* %%%d = %s %s */\n", list[k], ir_op_names[node->op],
                  ir_shape_str(c->a, &node->shape));
        cg_c_emitters[node->op](c, list[k], NULL, NULL);
        cg_c_numerics_node(c, list[k]);
    }
}

static int has_node(const int *list, int n, int id) {
    for (int k = 0; k < n; k++)
        if (list[k] == id) return 1;
    return 0;
}

static void emit_function(cg_c *c, const mem_fn_plan *f) {
    const char *p = c->o->prefix;
    const int train = f->sched.train, *list = f->sched.list, n = f->sched.n;
    c->train = train;
    c->fn = f;
    c->group = f->sched.group;
    c->stored = f->sched.stored;
    if (c->g->weights) { /* inference: read-only weights, no loss */
        sb_printf(c->out, "static void %s_forward(const void *weights, void *arena, const void "
                          "*const *inputs, int n) {\n", p);
        emit_body(c, list, n);
        sb_puts(c->out, "}\n\n");
        return;
    }
    if (train)
        sb_printf(c->out, "static void %s_train_step(void *weights, void *arena, const void *const "
                          "*inputs, int n,\n    const double *scalars, double *loss) {\n    (void)scalars;\n", p);
    else
        sb_printf(c->out, "static void %s_eval_step(void *weights, void *arena, const void *const "
                          "*inputs, int n,\n    double *loss) {\n", p);
    emit_body(c, list, n);
    int loss = c->g->loss;
    if (loss >= 0 && has_node(list, n, loss)) sb_printf(c->out, "    *loss = (double)t%d[0];\n", loss);
    else sb_puts(c->out, "    *loss = 0;\n");
    sb_puts(c->out, "}\n\n");
}

static int has_op(const ir_graph *g, ir_op op) {
    for (int id = 0; id < g->n_nodes; id++)
        if (g->nodes[id].op == op) return 1;
    return 0;
}

/* ---- descriptor tables ---- */

static void tensor_row(cg_c *c, int id, const char *kind, long long offset, int index) {
    const ir_node *n = cg_c_node(c, id);
    int dtype = n->dtype == IR_I32 ? 1 : c->o->f64 ? 2 : 0;
    sb_printf(c->out, "    {\"%s\", %s, %d, %d, %d, {", sb_c_string(c->a, n->name ? n->name : "output"),
              kind, dtype,
              n->shape.rank, n->shape.batched);
    for (int i = 0; i < 6; i++)
        sb_printf(c->out, "%s%lld", i ? ", " : "", i < n->shape.rank ? (long long)n->shape.dims[i] : 0LL);
    sb_printf(c->out, "}, %lld, %d, \"%s\", %.17g, %.17g, %lld, %lld},\n", offset, index,
              n->op == IR_OP_param || n->op == IR_OP_state || n->op == IR_OP_buffer ? ir_init_names[n->init.kind] : "zeros",
              n->init.a, n->init.b,
              (long long)n->init.fan_in, (long long)n->init.fan_out);
}

static int emit_tensor_table(cg_c *c) {
    const ir_graph *g = c->g;
    int rows = 0;
    sb_printf(c->out, "static const dlrt_tensor_desc %s_tensors[] = {\n", c->o->prefix);
    static const ir_op kinds[] = {IR_OP_param, IR_OP_buffer, IR_OP_state, IR_OP_input,
                                  IR_OP_scalar_in};
    static const char *const names[] = {"DLRT_PARAM", "DLRT_BUFFER", "DLRT_STATE", "DLRT_INPUT",
                                        "DLRT_SCALAR"};
    for (int k = 0; k < 5; k++)
        for (int id = 0; id < g->n_nodes; id++)
            if (g->nodes[id].op == kinds[k]) {
                tensor_row(c, id, names[k], k < 3 ? c->offset[id] : 0, k < 3 ? 0 : c->index[id]);
                rows++;
            }
    for (int i = 0; i < g->n_outputs; i++, rows++)
        tensor_row(c, g->outputs[i], "DLRT_OUTPUT", c->offset[g->outputs[i]], i);
    sb_puts(c->out, "};\n\n");
    return rows;
}

static void emit_descriptor(cg_c *c, int rows) {
    const char *p = c->o->prefix;
    int64_t max_batch = 1;
    for (int id = 0; id < c->g->n_nodes; id++)
        if (c->g->nodes[id].shape.batched) max_batch = c->g->nodes[id].shape.dims[0];
    sb_printf(c->out,
              "static const dlrt_model_desc %s_desc = {\n"
              "    DLRT_ABI_VERSION, \"%s\", %d, %lldLL, %lldLL, %lld, %d, %d, %d, %s_tensors,\n"
              "    %s, %s_eval_step};\n\n"
              "const dlrt_model_desc *%s_model(void);\n"
              "const dlrt_model_desc *%s_model(void) { return &%s_desc; }\n",
              p, p, c->o->f64 ? 8 : 4, c->weights_count, c->arena_bytes, (long long)max_batch,
              c->n_inputs, c->n_scalars, rows, p,
              c->o->has_train ? arena_printf(c->a, "%s_train_step", p) : "NULL", p, p, p, p);
}

/* weights offsets of the leaves, and the arena offsets of the outputs (pinned: the same in
 * both functions) for the tables */
static void take_plan(cg_c *c) {
    const ir_graph *g = c->g;
    for (int id = 0; id < g->n_nodes; id++) {
        const ir_node *n = &g->nodes[id];
        if (n->op == IR_OP_param || n->op == IR_OP_buffer || n->op == IR_OP_state)
            c->offset[id] = c->plan.weight_offset[id];
        if (n->op == IR_OP_input) c->index[id] = c->n_inputs++;
        if (n->op == IR_OP_scalar_in) c->index[id] = c->n_scalars++;
    }
    for (int i = 0; i < g->n_outputs; i++)
        if (!is_leaf(&g->nodes[g->outputs[i]]))
            c->offset[g->outputs[i]] = pass_memplan_offset(&c->plan.eval, g->outputs[i]);
    c->weights_count = c->plan.weights_count;
    c->arena_bytes = c->plan.arena_bytes;
}

const char *cg_c_generate(const ir_graph *g, const cg_c_options *o, const mem_plan *plan,
                          arena *a) {
    DLC_ASSERT(plan->real_bytes == (o->f64 ? 8 : 4) && plan->has_train == o->has_train);
    strbuf out;
    sb_init(&out, a);
    cg_c c = {.g = g, .o = o, .a = a, .out = &out, .plan = *plan};
    size_t nn = (size_t)g->n_nodes + 1;
    c.offset = arena_alloc(a, sizeof(long long) * nn);
    c.index = arena_alloc(a, sizeof(int) * nn);
    take_plan(&c);

    if (g->weights)
        sb_printf(&out, "/* Generated by dlc: model '%s' for inference, with its trained weights. "
                        "Do not edit.\n * weights: %lld reals; workspace: %lld bytes; API at the "
                        "end of the file (docs/cli.md). */\n",
                  o->prefix, c.weights_count, c.arena_bytes);
    else
        sb_printf(&out, "/* Generated by dlc: model '%s' (%s). Do not edit.\n"
                        " * weights: %lld reals; arena: %lld bytes; no allocation in the step. */\n",
                  o->prefix, o->f64 ? "f64" : "f32", c.weights_count, c.arena_bytes);
    cg_c_prelude(&c);
    if (g->weights) cg_c_infer_weights(&c);
    cg_c_conv_prelude(&c);
    if (o->has_train && (has_op(g, IR_OP_dropout) || has_op(g, IR_OP_gaussian_noise)))
        cg_c_random_prelude(&c, has_op(g, IR_OP_gaussian_noise));
    if (o->has_train && o->check_numerics) cg_c_numerics_prelude(&c);
    if (o->has_train) emit_function(&c, &c.plan.train);
    emit_function(&c, &c.plan.eval);
    if (g->weights) cg_c_infer_api(&c);
    else emit_descriptor(&c, emit_tensor_table(&c));
    if (o->has_train && o->check_numerics) cg_c_numerics_api(&c);
    return out.data;
}
