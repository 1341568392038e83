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

void cg_c_parallel(cg_ctx *c, const char *work, long long max_work) {
    if (max_work >= CG_C_PARALLEL_MIN_WORK && !c->check_numerics) sb_printf(c->out, "    DLC_PARALLEL_FOR(%s)\n", work);
}

static int is_leaf(const ir_node *n) { return pass_sched_is_leaf(n); }

/* ---- the backend interface (cg_backend.h) ---- */

static void c_mem_options(int f64, int reuse, mem_options *mo) {
    *mo = (mem_options){.real_bytes = f64 ? 8 : 4, .reuse = reuse, .workspace = cg_c_workspace_reals};
}

/* a fused loop: `for` over the space, parallel when large enough (a rank-0 loop never is) */
static void c_loop_open(cg_ctx *x, const ir_shape *sp) {
    const char *count = cg_count(x, sp);
    if (!x->in_double) cg_c_parallel(x, count, ir_shape_numel(sp));
    sb_printf(x->out, "    for (long i = 0; i < %s; i++) {\n", count);
}

const cg_backend cg_c_backend = {.mem_options = c_mem_options, .loop_open = c_loop_open,
                                 .element_check = cg_c_numerics_element};

/* ---- function bodies ---- */

static void declare(cg_c *c, int id) {
    const ir_node *n = cg_node(&c->x, id);
    const char *shape = ir_shape_str(c->x.a, &n->shape);
    const char *ty = n->dtype == IR_I32 ? "int" : "real";
    if (ir_op_in_weights(n->op)) {
        sb_printf(c->x.out, "    %sreal *restrict const t%d = (%sreal *)weights + %lld; /* %s %s */\n",
                  c->x.g->weights ? "const " : "", id, c->x.g->weights ? "const " : "", c->offset[id],
                  sb_c_comment(c->x.a, n->name), shape);
        return;
    }
    switch (n->op) {
    case IR_OP_input:
        sb_printf(c->x.out, "    const %s *restrict const t%d = (const %s *)inputs[%d]; /* %s %s */\n", ty, id,
                  ty, c->index[id], sb_c_comment(c->x.a, n->name), shape);
        return;
    case IR_OP_scalar_in: /* eval_step's may be NULL: zeros */
        if (c->x.g->weights) return; /* inference has none: its samples use key (0, 0) */
        sb_printf(c->x.out, "    const %s s%d = %s(%s)scalars[%d]; /* %s */\n%s",
                  n->dtype == IR_I32 ? "long long" : "real", id, c->x.train ? "" : "!scalars ? 0 : ",
                  n->dtype == IR_I32 ? "long long" : "real", c->index[id],
                  sb_c_comment(c->x.a, n->name),
                  c->x.train ? "" : arena_printf(c->x.a, "    (void)s%d; /* read by samples only */\n", id));
        return;
    default:
        if (!c->x.stored[id]) return;
        /* not restrict: the plan puts values whose lifetimes do not meet, and an elementwise
         * result over its input, at one offset */
        sb_printf(c->x.out, "    %s *const t%d = (%s *)(A + %lld); /* %%%d %s %s */\n", ty, id, ty,
                  (long long)pass_memplan_offset(c->x.fn, id), id, ir_op_names[n->op], shape);
        return;
    }
}

static void prologue(cg_c *c, const int *list, int n) {
    char *used = arena_alloc(c->x.a, (size_t)c->x.g->n_nodes);
    for (int k = 0; k < n; k++) {
        const ir_node *node = cg_node(&c->x, list[k]);
        if (is_leaf(node)) continue;
        used[list[k]] = 1;
        for (int i = 0; i < node->n_in; i++) used[node->in[i]] = 1;
    }
    sb_puts(c->x.out, "    unsigned char *const A = (unsigned char *)arena;\n"
                    "    (void)A, (void)weights, (void)inputs, (void)n;\n");
    for (int id = 0; id < c->x.g->n_nodes; id++)
        if (used[id] && cg_node(&c->x, id)->op != IR_OP_const) declare(c, id);
}

static void emit_body(cg_c *c, const int *list, int n) {
    prologue(c, list, n);
    for (int k = 0; k < n; k++) {
        const ir_node *node = cg_node(&c->x, list[k]);
        if (is_leaf(node)) continue;
        if (c->x.group[list[k]] >= 0) {
            cg_fused_loop(&c->x, list, n, &k);
            continue;
        }
        sb_printf(c->x.out, "    /* %%%d = %s %s */\n", list[k], ir_op_names[node->op],
                  ir_shape_str(c->x.a, &node->shape));
        cg_c_emitters[node->op](&c->x, list[k]);
        cg_c_numerics_node(c, list[k]);
    }
}

static int has_node(const int *list, int n, int id) {
    for (int k = 0; k < n; k++)
        if (list[k] == id) return 1;
    return 0;
}

/* PREFIX_train_step (a train block without steps), PREFIX_train_NAME for step NAME */
static const char *train_fn_name(cg_c *c, int k) {
    const char *name = c->x.g->steps[k].name;
    return name ? arena_printf(c->x.a, "%s_train_%s", c->o->prefix, name)
                : arena_printf(c->x.a, "%s_train_step", c->o->prefix);
}

static void emit_function(cg_c *c, const mem_fn_plan *f) {
    const char *p = c->o->prefix;
    const int train = f->sched.train, *list = f->sched.list, n = f->sched.n;
    c->x.train = train;
    c->x.fn = f;
    c->x.group = f->sched.group;
    c->x.stored = f->sched.stored;
    if (c->x.g->weights) { /* inference: read-only weights, no loss */
        sb_printf(c->x.out, "static void %s_forward(const void *weights, void *arena, const void "
                          "*const *inputs, int n) {\n", p);
        emit_body(c, list, n);
        sb_puts(c->x.out, "}\n\n");
        return;
    }
    if (train)
        sb_printf(c->x.out, "static void %s(void *weights, void *arena, const void *const "
                          "*inputs, int n,\n    const double *scalars, double *loss) {\n    (void)scalars;\n",
                  train_fn_name(c, f->sched.fn_step));
    else
        sb_printf(c->x.out, "static void %s_eval_step(void *weights, void *arena, const void *const "
                          "*inputs, int n,\n    const double *scalars, double *loss) {\n    (void)scalars;\n", p);
    emit_body(c, list, n);
    int loss = train ? c->x.g->steps[f->sched.fn_step].loss : c->x.g->loss;
    if (loss >= 0 && has_node(list, n, loss)) sb_printf(c->x.out, "    *loss = (double)t%d[0];\n", loss);
    else sb_puts(c->x.out, "    *loss = 0;\n");
    sb_puts(c->x.out, "}\n\n");
}

/* ---- descriptor tables ---- */

static void tensor_row(cg_c *c, int id, const char *kind, long long offset, int index) {
    const ir_node *n = cg_node(&c->x, id);
    int dtype = n->dtype == IR_I32 ? 1 : c->o->f64 ? 2 : 0;
    sb_printf(c->x.out, "    {\"%s\", %s, %d, %d, %d, {", sb_c_string(c->x.a, n->name ? n->name : "output"),
              kind, dtype,
              n->shape.rank, n->shape.batched);
    for (int i = 0; i < 6; i++)
        sb_printf(c->x.out, "%s%lld", i ? ", " : "", i < n->shape.rank ? (long long)n->shape.dims[i] : 0LL);
    sb_printf(c->x.out, "}, %lld, %d, \"%s\", %.17g, %.17g, %lld, %lld},\n", offset, index,
              ir_op_in_weights(n->op) ? ir_init_names[n->init.kind] : "zeros",
              n->init.a, n->init.b,
              (long long)n->init.fan_in, (long long)n->init.fan_out);
}

static int emit_tensor_table(cg_c *c) {
    const ir_graph *g = c->x.g;
    int rows = 0;
    sb_printf(c->x.out, "static const dlrt_tensor_desc %s_tensors[] = {\n", c->o->prefix);
    static const ir_op kinds[] = {IR_OP_param, IR_OP_buffer, IR_OP_state, IR_OP_input,
                                  IR_OP_scalar_in};
    static const char *const names[] = {"DLRT_PARAM", "DLRT_BUFFER", "DLRT_STATE", "DLRT_INPUT",
                                        "DLRT_SCALAR"};
    for (int k = 0; k < 5; k++)
        for (int id = 0; id < g->n_nodes; id++)
            if (g->nodes[id].op == kinds[k]) {
                tensor_row(c, id, names[k], ir_op_in_weights(kinds[k]) ? c->offset[id] : 0,
                           ir_op_in_weights(kinds[k]) ? 0 : c->index[id]);
                rows++;
            }
    for (int i = 0; i < g->n_outputs; i++, rows++)
        tensor_row(c, g->outputs[i], "DLRT_OUTPUT", c->offset[g->outputs[i]], i);
    sb_puts(c->x.out, "};\n\n");
    return rows;
}

/* the steps' table of a train block with steps (else nothing): "NULL" or its name */
static const char *emit_step_table(cg_c *c) {
    const ir_graph *g = c->x.g;
    if (!c->o->has_train || !g->steps[0].name) return "NULL";
    sb_printf(c->x.out, "static const dlrt_step_desc %s_steps[] = {\n", c->o->prefix);
    for (int k = 0; k < g->n_steps; k++) {
        int out = -1;
        for (int i = 0; i < g->n_outputs; i++)
            if (g->outputs[i] == g->steps[k].loss) out = i;
        sb_printf(c->x.out, "    {\"%s\", %s, %d},\n", g->steps[k].name, train_fn_name(c, k), out);
    }
    sb_puts(c->x.out, "};\n\n");
    return arena_printf(c->x.a, "%s_steps", c->o->prefix);
}

static void emit_descriptor(cg_c *c, int rows) {
    const char *p = c->o->prefix;
    const char *steps = emit_step_table(c);
    int n_steps = strcmp(steps, "NULL") ? c->x.g->n_steps : 0;
    int64_t max_batch = 1;
    for (int id = 0; id < c->x.g->n_nodes; id++)
        if (c->x.g->nodes[id].shape.batched) max_batch = c->x.g->nodes[id].shape.dims[0];
    sb_printf(c->x.out,
              "static const dlrt_model_desc %s_desc = {\n"
              "    DLRT_ABI_VERSION, \"%s\", %d, %lldLL, %lldLL, %lld, %d, %d, %d, %s_tensors,\n"
              "    %s, %s_eval_step, %d, %s};\n\n"
              "const dlrt_model_desc *%s_model(void);\n"
              "const dlrt_model_desc *%s_model(void) { return &%s_desc; }\n",
              p, p, c->o->f64 ? 8 : 4, c->weights_count, c->arena_bytes, (long long)max_batch,
              c->n_inputs, c->n_scalars, rows, p,
              c->o->has_train ? train_fn_name(c, 0) : "NULL", p, n_steps, steps, p, p, p);
}

/* gradient checks of a graph with a stop_gradient: dlc_hold and PREFIX_hold, and a buffer per
 * stop_gradient as large as the largest value (the fused loop's index runs over its group's
 * shape) */
static void hold_prelude(cg_c *c) {
    const ir_graph *g = c->x.g;
    int64_t most = 1, stops = 0;
    for (int id = 0; id < g->n_nodes; id++) {
        int64_t k = ir_shape_numel(&g->nodes[id].shape);
        most = k > most ? k : most;
        stops += g->nodes[id].op == IR_OP_stop_gradient;
    }
    if (!stops) return; /* the code stays as without the option */
    sb_printf(c->x.out, "static int dlc_hold; /* 1: each stop_gradient replays its recorded values */\n"
                        "void %s_hold(int on);\nvoid %s_hold(int on) { dlc_hold = on; }\n",
              c->o->prefix, c->o->prefix);
    for (int id = 0; id < g->n_nodes; id++)
        if (g->nodes[id].op == IR_OP_stop_gradient)
            sb_printf(c->x.out, "static double dlc_held%d[%lld];\n", id, (long long)most);
    sb_puts(c->x.out, "\n");
}

/* weights offsets of the leaves, and the arena offsets of the outputs (pinned: the same in
 * both functions) for the tables */
static void take_plan(cg_c *c) {
    const ir_graph *g = c->x.g;
    for (int id = 0; id < g->n_nodes; id++) {
        const ir_node *n = &g->nodes[id];
        if (ir_op_in_weights(n->op)) c->offset[id] = c->plan.weight_offset[id];
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
    cg_c c = {.x = {.g = g, .a = a, .out = &out, .be = &cg_c_backend, .batch_stats = o->batch_stats,
                    .check_numerics = o->check_numerics, .hold_stops = o->hold_stops},
              .o = o};
    c.x.target = &c;
    size_t nn = (size_t)g->n_nodes + 1;
    c.offset = arena_alloc(a, sizeof(long long) * nn);
    c.index = arena_alloc(a, sizeof(int) * nn);
    c.plan = *plan;
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
    cg_c_conv_prelude(&c.x);
    int with_normal = 0;
    if (cg_needs_random(g, o->has_train, &with_normal)) cg_c_random_prelude(&c, with_normal);
    if (o->has_train && o->check_numerics) cg_c_numerics_prelude(&c);
    if (o->hold_stops) hold_prelude(&c);
    for (int k = 0; o->has_train && k < c.plan.n_train; k++) emit_function(&c, &c.plan.train[k]);
    emit_function(&c, &c.plan.eval);
    if (g->weights) cg_c_infer_api(&c);
    else emit_descriptor(&c, emit_tensor_table(&c));
    if (o->has_train && o->check_numerics) cg_c_numerics_api(&c);
    return out.data;
}
