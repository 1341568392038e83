/*
 * cg_cuda.c — CUDA code generation (see cg_cuda.h): the memory plan with the CUDA target's
 * workspaces, the device arena's layout (plan, input staging, scalars), one kernel per fusion
 * group (a grid-stride loop over the group's iteration space: the shared layer's loop body,
 * cg_fused_loop, the same as the C backend's), the per-op emitters (cg_cuda_ops.c, cg_cuda_nn.c) for everything else, and the
 * launch tables of the step functions: each training step of the train block (one without
 * `step` sections has one), then the evaluation step (with --check-numerics, the checks of
 * cg_cuda_numerics.c after each value of the training steps).
 *
 * Invariants: a kernel reads and writes only what its node (or group) reads and writes in the
 * C backend, at the same planned offsets, so the plan's lifetimes hold on the device as they do
 * on the CPU (one stream: launches run in table order). Nothing here allocates device memory.
 */
#include "cg_cuda_internal.h"
#include <stdlib.h>
#include <string.h>

_Static_assert((int)DLRT_CUDA_MAX_STEPS == (int)IR_MAX_STEPS, "a program holds every training step");

const ir_node *cg_cu_node(cg_cu *c, int id) { return ir_get(c->x.g, id); }
int cg_cu_in(cg_cu *c, int id, int i) { return cg_cu_node(c, id)->in[i]; }
const ir_node *cg_cu_in_node(cg_cu *c, int id, int i) { return cg_cu_node(c, cg_cu_in(c, id, i)); }

const char *cg_cu_count(cg_cu *c, const ir_shape *s) {
    if (!s->batched) return arena_printf(c->x.a, "%lldL", (long long)ir_shape_numel(s));
    return arena_printf(c->x.a, "((long)n * %lld)", (long long)ir_shape_inner(s));
}

dlrt_cuda_lin cg_cu_lin(long long a, long long b) { return (dlrt_cuda_lin){a, b}; }

dlrt_cuda_lin cg_cu_count_lin(const ir_shape *s) {
    if (!s->batched) return cg_cu_lin(0, ir_shape_numel(s));
    return cg_cu_lin(ir_shape_inner(s), 0);
}

/* ---- workspaces ---- */

int64_t cg_cuda_workspace_reals(const ir_graph *g, int id, int64_t batch) {
    ir_op op = ir_get(g, id)->op;
    if (!ir_op_uses_gemm(op)) return 0; /* cuBLAS: matmul and the convolutions */
    int64_t reals = CG_CUDA_CUBLAS_WORKSPACE / 4;
    if (op == IR_OP_matmul) return ir_matmul_per_sample(ir_get(g, id)) ? 0 : reals; /* per_sample: a kernel */
    cg_conv_geom q = cg_conv_geometry(g, id);
    /* the columns [C kh kw, B P] and the product (or gathered dy) [O, B P] of the whole batch */
    return reals + (q.CKK + q.O) * batch * q.P;
}

static void cuda_mem_options(int f64, int reuse, mem_options *mo) {
    DLC_ASSERT(!f64); /* f32 only */
    *mo = (mem_options){.real_bytes = 4, .reuse = reuse, .workspace = cg_cuda_workspace_reals};
}

/* a fused loop: a grid-stride loop over the space */
static void cuda_loop_open(cg_ctx *x, const ir_shape *sp) {
    sb_printf(x->out, "    DLC_FOR(i, %s) {\n", cg_cu_count(x->target, sp));
}

const cg_backend cg_cuda_backend = {.mem_options = cuda_mem_options, .loop_open = cuda_loop_open,
                                    .element_check = cg_cu_numerics_element};

long long cg_cu_workspace_cols(cg_cu *c, int id) {
    return (long long)pass_memplan_workspace_offset(c->x.fn, id) + CG_CUDA_CUBLAS_WORKSPACE;
}

/* ---- kernels ---- */

void cg_cu_declare(cg_cu *c, int id) {
    if (c->declared[id]) return;
    c->declared[id] = 1;
    const ir_node *n = cg_cu_node(c, id);
    const char *ty = n->dtype == IR_I32 ? "int" : "real";
    const char *shape = ir_shape_str(c->x.a, &n->shape);
    if (ir_op_in_weights(n->op)) {
        sb_printf(c->x.out, "    real *const t%d = W + %lld; /* %s %s */\n", id,
                  (long long)c->plan.weight_offset[id], sb_c_comment(c->x.a, n->name), shape);
        return;
    }
    switch (n->op) {
    case IR_OP_const: return;
    case IR_OP_input:
        sb_printf(c->x.out, "    const %s *const t%d = (const %s *)(A + %lld); /* %s %s */\n", ty, id,
                  ty, c->input_offset[id], sb_c_comment(c->x.a, n->name), shape);
        return;
    case IR_OP_scalar_in:
        sb_printf(c->x.out, "    const %s s%d = (%s)S[%d]; /* %s */\n",
                  n->dtype == IR_I32 ? "long long" : "real", id,
                  n->dtype == IR_I32 ? "long long" : "real", c->index[id],
                  sb_c_comment(c->x.a, n->name));
        return;
    default:
        if (!c->x.fn->sched.stored[id]) return;
        sb_printf(c->x.out, "    %s *const t%d = (%s *)(A + %lld); /* %%%d %s %s */\n", ty, id, ty,
                  (long long)pass_memplan_offset(c->x.fn, id), id, ir_op_names[n->op], shape);
        return;
    }
}

const char *cg_cu_kernel_open(cg_cu *c, const int *ids, int n) {
    const char *name = arena_printf(c->x.a, "k%d", c->n_kernels++);
    memset(c->declared, 0, (size_t)c->x.g->n_nodes);
    sb_printf(c->x.out, "extern \"C\" __global__ void __launch_bounds__(DLC_BLOCK) %s(unsigned char *A, "
                      "real *W, int n) {\n"
                      "    const double *const S = (const double *)(A + %lldLL);\n"
                      "    (void)S, (void)W, (void)n;\n",
              name, c->scalars_offset);
    for (int i = 0; i < n; i++) cg_cu_declare(c, ids[i]);
    return name;
}

const char *cg_cu_kernel_open_node(cg_cu *c, int id) {
    const ir_node *n = cg_cu_node(c, id);
    int ids[IR_MAX_IN + 1];
    ids[0] = id;
    for (int i = 0; i < n->n_in; i++) ids[i + 1] = n->in[i];
    return cg_cu_kernel_open(c, ids, n->n_in + 1);
}

void cg_cu_kernel_close(cg_cu *c) { sb_puts(c->x.out, "}\n\n"); }

static dlrt_cuda_launch *new_launch(cg_cu *c, int node, int kind) {
    if (c->n_launches == c->cap_launches) {
        int cap = c->cap_launches ? 2 * c->cap_launches : 64;
        dlrt_cuda_launch *l = arena_alloc(c->x.a, sizeof *l * (size_t)cap);
        if (c->n_launches) memcpy(l, c->launches, sizeof *l * (size_t)c->n_launches);
        c->launches = l, c->cap_launches = cap;
    }
    dlrt_cuda_launch *l = &c->launches[c->n_launches++];
    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->node = node;
    return l;
}

void cg_cu_launch(cg_cu *c, int node, const char *kernel, dlrt_cuda_lin work, int block, int max_blocks) {
    dlrt_cuda_launch *l = new_launch(c, node, DLRT_CUDA_KERNEL);
    l->kernel = kernel;
    l->work = work;
    l->block = block;
    l->max_blocks = max_blocks;
}

dlrt_cuda_ptr cg_cu_ptr(cg_cu *c, int id, dlrt_cuda_lin extra) {
    const ir_node *n = cg_cu_node(c, id);
    if (ir_op_in_weights(n->op))
        return (dlrt_cuda_ptr){DLRT_CUDA_WEIGHTS,
                               cg_cu_lin(extra.a, extra.b + 4 * (long long)c->plan.weight_offset[id])};
    switch (n->op) {
    case IR_OP_input:
        return (dlrt_cuda_ptr){DLRT_CUDA_ARENA, cg_cu_lin(extra.a, extra.b + c->input_offset[id])};
    default:
        return (dlrt_cuda_ptr){DLRT_CUDA_ARENA,
                               cg_cu_lin(extra.a, extra.b + (long long)pass_memplan_offset(c->x.fn, id))};
    }
}

void cg_cu_gemm(cg_cu *c, int node, int ta, int tb, dlrt_cuda_lin m, dlrt_cuda_lin n, dlrt_cuda_lin k,
             dlrt_cuda_ptr a, dlrt_cuda_lin lda, dlrt_cuda_ptr b, dlrt_cuda_lin ldb, double beta,
             dlrt_cuda_ptr cc, dlrt_cuda_lin ldc) {
    dlrt_cuda_launch *l = new_launch(c, node, DLRT_CUDA_GEMM);
    l->ta = ta, l->tb = tb, l->m = m, l->n = n, l->k = k;
    l->a = a, l->b = b, l->c = cc, l->lda = lda, l->ldb = ldb, l->ldc = ldc, l->beta = beta;
    l->ws_off = (long long)pass_memplan_workspace_offset(c->x.fn, node);
    l->ws_bytes = CG_CUDA_CUBLAS_WORKSPACE;
}

/* ---- fused elementwise groups ---- */

/* the nodes of the group starting at list[k] (leaves skipped) and what they read */
static int group_members(cg_cu *c, const int *list, int n, int k, int *ids, int *n_ids) {
    const int *group = c->x.fn->sched.group;
    int gid = group[list[k]], end = k;
    *n_ids = 0;
    for (; end < n; end++) {
        const ir_node *node = cg_cu_node(c, list[end]);
        if (pass_sched_is_leaf(node)) continue;
        if (group[list[end]] != gid) break;
        ids[(*n_ids)++] = list[end];
        for (int i = 0; i < node->n_in; i++) ids[(*n_ids)++] = node->in[i];
    }
    return end;
}

/* one kernel for the group at list[*k] (the shared layer's loop); *k is left on its last node */
static void emit_group(cg_cu *c, const int *list, int n, int *k) {
    int first = list[*k];
    int *ids = arena_alloc(c->x.a, sizeof(int) * (size_t)(n + 1) * (IR_MAX_IN + 1));
    int n_ids, end = group_members(c, list, n, *k, ids, &n_ids);
    const char *name = cg_cu_kernel_open(c, ids, n_ids);
    cg_fused_loop(&c->x, list, end, k);
    cg_cu_kernel_close(c);
    cg_cu_launch(c, first, name, cg_cu_count_lin(pass_sched_space(c->x.g, first)), CU_BLOCK, CU_MAX_BLOCKS);
}

/* the C backend's name of training step k (PREFIX_train_step without steps, PREFIX_train_NAME
 * for step NAME), or PREFIX_eval_step for k < 0 */
static const char *function_name(cg_cu *c, int k) {
    const char *step = k >= 0 ? c->x.g->steps[k].name : NULL;
    return step ? arena_printf(c->x.a, "%s_train_%s", c->o->prefix, step)
                : arena_printf(c->x.a, "%s_%s", c->o->prefix, k >= 0 ? "train_step" : "eval_step");
}

/* the arena offset of the float that function f reports as its loss (-1: none) */
static long long loss_offset(cg_cu *c, const mem_fn_plan *f) {
    int loss = f->sched.train ? c->x.g->steps[f->sched.fn_step].loss : c->x.g->loss;
    return loss >= 0 && f->buffer_of[loss] >= 0 ? (long long)pass_memplan_offset(f, loss) : -1;
}

static dlrt_cuda_fn emit_function(cg_cu *c, const mem_fn_plan *f) {
    c->x.fn = f;
    c->x.train = f->sched.train;
    c->x.group = f->sched.group;
    c->x.stored = f->sched.stored;
    c->launches = NULL, c->n_launches = c->cap_launches = 0;
    sb_printf(c->x.out, "/* ---- %s ---- */\n\n", function_name(c, c->x.train ? f->sched.fn_step : -1));
    const int *list = f->sched.list;
    for (int k = 0; k < f->sched.n; k++) {
        const ir_node *node = cg_cu_node(c, list[k]);
        if (pass_sched_is_leaf(node)) continue;
        if (f->sched.group[list[k]] >= 0) {
            emit_group(c, list, f->sched.n, &k);
            continue;
        }
        sb_printf(c->x.out, "/* %%%d = %s %s */\n", list[k], ir_op_names[node->op],
                  ir_shape_str(c->x.a, &node->shape));
        cg_cu_emitters[node->op](c, list[k]);
        cg_cu_numerics_node(c, list[k], k);
    }
    return (dlrt_cuda_fn){c->n_launches, c->launches, loss_offset(c, f),
                          c->x.train ? c->x.g->steps[f->sched.fn_step].name : NULL};
}

/* ---- the device arena: plan, inputs, scalars ---- */

static long long round_up(long long v, long long to) { return (v + to - 1) / to * to; }

/* device bytes of an input's staging buffer for `batch` samples, 256-byte aligned */
static long long staging_bytes(const ir_node *n, int64_t batch) {
    int64_t numel = n->shape.batched ? batch * ir_shape_inner(&n->shape) : ir_shape_numel(&n->shape);
    return round_up(4 * numel, 256);
}

/* doubles in the scalars area: one per scalar, DLRT_CUDA_SCALAR_SLOTS at least */
static int scalar_slots(const ir_graph *g) {
    int n = 0;
    for (int id = 0; id < g->n_nodes; id++) n += g->nodes[id].op == IR_OP_scalar_in;
    DLC_ASSERT(n <= DLRT_CUDA_MAX_SCALARS);
    return n > DLRT_CUDA_SCALAR_SLOTS ? n : DLRT_CUDA_SCALAR_SLOTS;
}

int64_t cg_cuda_arena_bytes(const ir_graph *g, int64_t plan_bytes, int64_t batch) {
    long long at = round_up(plan_bytes, 256);
    for (int id = 0; id < g->n_nodes; id++)
        if (g->nodes[id].op == IR_OP_input) at += staging_bytes(&g->nodes[id], batch);
    return at + 8LL * scalar_slots(g);
}

static void layout(cg_cu *c, dlrt_cuda_program *p) {
    const ir_graph *g = c->x.g;
    long long at = round_up(c->plan.arena_bytes, 256);
    p->plan_bytes = c->plan.arena_bytes;
    p->pinned_bytes = c->plan.pinned_bytes;
    for (int id = 0; id < g->n_nodes; id++) {
        const ir_node *n = &g->nodes[id];
        if (n->op == IR_OP_input && p->n_inputs < DLRT_CUDA_MAX_INPUTS) {
            int i = p->n_inputs++;
            c->index[id] = i;
            c->input_offset[id] = at;
            p->input_offset[i] = at;
            p->input_batched[i] = n->shape.batched;
            p->input_sample_bytes[i] = 4 * (n->shape.batched ? ir_shape_inner(&n->shape)
                                                              : ir_shape_numel(&n->shape));
            at += staging_bytes(n, n->shape.batched ? n->shape.dims[0] : 1);
        }
        if (n->op == IR_OP_scalar_in) c->index[id] = p->n_scalars++;
    }
    c->scalars_offset = p->scalars_offset = at;
    p->arena_bytes = at + 8LL * scalar_slots(g);
    DLC_ASSERT(p->arena_bytes == cg_cuda_arena_bytes(g, c->plan.arena_bytes, c->plan.batch));
    c->numerics_offset = p->numerics_offset = -1;
    if (c->o->check_numerics && c->o->has_train) { /* the record, after the scalars */
        c->numerics_offset = p->numerics_offset = p->arena_bytes;
        p->arena_bytes += 8;
    }
    p->weights_count = c->plan.weights_count;
    for (int id = 0; id < g->n_nodes; id++)
        if (g->nodes[id].shape.batched) p->max_batch = (int)g->nodes[id].shape.dims[0];
    if (!p->max_batch) p->max_batch = 1;
}

const dlrt_cuda_program *cg_cuda_generate(const ir_graph *g, const cg_cuda_options *o,
                                          const mem_plan *plan, arena *a) {
    DLC_ASSERT(plan->real_bytes == 4 && plan->has_train == o->has_train);
    strbuf out;
    sb_init(&out, a);
    dlrt_cuda_program *p = arena_alloc(a, sizeof *p);
    cg_cu c = {.x = {.g = g, .a = a, .out = &out, .be = &cg_cuda_backend, .batch_stats = o->batch_stats,
                     .check_numerics = o->check_numerics},
               .o = o};
    c.x.target = &c;
    size_t nn = (size_t)g->n_nodes + 1;
    c.input_offset = arena_alloc(a, sizeof(long long) * nn);
    c.index = arena_alloc(a, sizeof(int) * nn);
    c.declared = arena_alloc(a, nn);
    c.plan = *plan;
    layout(&c, p);
    p->name = o->prefix;
    sb_printf(&out, "/* Generated by dlc: model '%s' for CUDA (f32), compiled by NVRTC. Do not edit.\n"
                    " * weights: %lld reals; arena: %lld bytes (plan %lld, inputs, scalars%s). */\n\n",
              o->prefix, p->weights_count, p->arena_bytes, p->plan_bytes,
              p->numerics_offset >= 0 ? ", the --check-numerics record" : "");
    cg_cu_prelude(&c);
    DLC_ASSERT(c.plan.n_train <= DLRT_CUDA_MAX_STEPS);
    for (int k = 0; o->has_train && k < c.plan.n_train; k++) p->train[p->n_train++] = emit_function(&c, &c.plan.train[k]);
    p->eval = emit_function(&c, &c.plan.eval);
    p->source = out.data;
    return p;
}
