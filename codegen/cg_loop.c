/*
 * cg_loop.c — the shared layer's values and fused loops (cg_shared.h): how a node's value is
 * named as an operand (a literal, sK, vK inside its own loop, tK indexed by the loop's `i`,
 * repeated when it broadcasts), the body of a fused elementwise group, which is the same text
 * in a C loop and in a CUDA grid-stride kernel, and the --check-numerics tests of its inputs.
 */
#include "cg_shared.h"

const ir_node *cg_node(cg_ctx *x, int id) { return ir_get(x->g, id); }

const char *cg_dim(cg_ctx *x, const ir_shape *s, int i) {
    if (s->batched && i == 0) return "n";
    return arena_printf(x->a, "%lld", (long long)s->dims[i]);
}

const char *cg_count(cg_ctx *x, const ir_shape *s) {
    if (!s->batched) return arena_printf(x->a, "%lld", (long long)ir_shape_numel(s));
    return arena_printf(x->a, "((long)n * %lld)", (long long)ir_shape_inner(s));
}

const char *cg_scalar(cg_ctx *x, int id) {
    const ir_node *n = cg_node(x, id);
    if (n->op == IR_OP_const)
        return arena_printf(x->a, "((%s)%.17g)", x->in_double ? "double" : "real",
                            ir_const_value(n));
    if (n->op == IR_OP_scalar_in) return arena_printf(x->a, "s%d", id);
    return arena_printf(x->a, "t%d[0]", id);
}

/* node src as an operand of the loop of group gid over space sp */
static const char *operand(cg_ctx *x, int src, int gid, const ir_shape *sp) {
    const ir_node *n = cg_node(x, src);
    if (n->op == IR_OP_const || n->op == IR_OP_scalar_in) return cg_scalar(x, src);
    if (gid >= 0 && x->group[src] == gid && !pass_sched_is_leaf(n)) return arena_printf(x->a, "v%d", src);
    int64_t numel = ir_shape_numel(&n->shape);
    if (n->shape.rank == 0) return arena_printf(x->a, "t%d[0]", src);
    if (n->shape.batched == sp->batched && numel == ir_shape_numel(sp))
        return arena_printf(x->a, "t%d[i]", src);
    return arena_printf(x->a, "t%d[i %% %lld]", src, (long long)ir_shape_inner(&n->shape));
}

/* one member of the loop: its value (or an assign's update), stored and checked */
static void member(cg_ctx *x, int id, int pos, int gid, const ir_shape *sp) {
    const ir_node *node = cg_node(x, id);
    const char *args[IR_MAX_IN];
    for (int i = 0; i < node->n_in; i++) args[i] = operand(x, node->in[i], gid, sp);
    strbuf e;
    sb_init(&e, x->a);
    cg_expr_emitters[node->op](x, id, args, &e);
    if (node->op == IR_OP_assign) {
        sb_printf(x->out, "        t%d[i] = %s; /* update %s */\n", node->in[0], e.data,
                  sb_c_comment(x->a, cg_node(x, node->in[0])->name));
        x->be->element_check(x, id, pos, arena_printf(x->a, "t%d[i]", node->in[0]), args);
        return;
    }
    sb_printf(x->out, "        const %s v%d = %s; /* %%%d %s */\n", x->in_double ? "double" : "real",
              id, e.data, id, ir_op_names[node->op]);
    if (x->stored[id]) sb_printf(x->out, "        t%d[i] = v%d;\n", id, id);
    x->be->element_check(x, id, pos, arena_printf(x->a, "v%d", id), args);
}

/*
 * A rank-0 loop is arithmetic on scalars, such as an optimizer's bias corrections from its
 * hyperparameters and the step: it runs in double, as PyTorch computes those in Python floats.
 * In float, 1 - 0.999^t would lose three digits to the rounding of 0.999 (1.3e-5 relative).
 */
void cg_fused_loop(cg_ctx *x, const int *list, int n, int *k) {
    int gid = x->group[list[*k]];
    const ir_shape *sp = pass_sched_space(x->g, list[*k]);
    x->in_double = sp->rank == 0 && !sp->batched;
    x->be->loop_open(x, sp);
    for (; *k < n; ++*k) {
        int id = list[*k];
        if (pass_sched_is_leaf(cg_node(x, id))) continue;
        if (x->group[id] != gid) break;
        member(x, id, *k, gid, sp);
    }
    --*k;
    x->in_double = 0;
    sb_puts(x->out, "    }\n");
}

/* ---- --check-numerics: which inputs can be tested ---- */

/* whether input j of a node can be tested: a real value that is not a literal */
static int testable(cg_ctx *x, int j) {
    const ir_node *n = cg_node(x, j);
    return n->op != IR_OP_const && n->dtype != IR_I32;
}

/* "(!isfinite(A0) ? 0 : !isfinite(A1) ? 1 : -1)" over the node's element operands */
const char *cg_numerics_inputs(cg_ctx *x, int id, const char *const *args) {
    const ir_node *n = cg_node(x, id);
    strbuf e;
    sb_init(&e, x->a);
    sb_puts(&e, "(");
    for (int i = 0; i < n->n_in; i++) /* an assign's target (input 0) now holds the result */
        if (testable(x, n->in[i]) && !(n->op == IR_OP_assign && i == 0))
            sb_printf(&e, "!isfinite(%s) ? %d : ", args[i], i);
    sb_puts(&e, "-1)");
    return e.data;
}

int cg_numerics_whole(cg_ctx *x, int j) {
    const ir_node *n = cg_node(x, j);
    if (!testable(x, j)) return CG_WHOLE_NONE;
    if (n->op == IR_OP_scalar_in) return CG_WHOLE_SCALAR;
    int pointer = ir_op_in_weights(n->op) || n->op == IR_OP_input ||
                  (!pass_sched_is_leaf(n) && x->stored[j]);
    return pointer ? CG_WHOLE_BUFFER : CG_WHOLE_NONE;
}
