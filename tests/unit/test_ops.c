/*
 * test_ops.c — the op table's per-op tables are complete: every op has a name and an arity;
 * every differentiable op has a gradient rule and no other op has one; every op has a C
 * emitter; shape inference accepts well-formed nodes of each arithmetic kind.
 */
#include "codegen/cg_c_internal.h"
#include "passes/grad_rules.h"
#include <stdio.h>
#include <string.h>

static int passed, failed;

static void check(int cond, const char *what, const char *op) {
    if (cond) passed++;
    else {
        failed++;
        printf("FAIL: %s: %s\n", op, what);
    }
}

static void check_tables(void) {
    for (int op = 0; op < IR_OP_COUNT; op++) {
        const char *name = ir_op_names[op];
        check(name && *name, "has a name", name ? name : "?");
        check(ir_op_arity[op] >= -1 && ir_op_arity[op] <= IR_MAX_IN, "arity in range", name);
        check((pass_grad_rules[op] != NULL) == (ir_op_differentiable[op] != 0),
              "gradient rule present exactly when differentiable", name);
        check(cg_c_emitters[op] != NULL, "has a C emitter", name);
        int leaf = (ir_op_flags[op] & OPF_LEAF) != 0;
        check(!leaf || ir_op_arity[op] == 0, "leaves take no inputs", name);
    }
}

static void check_broadcast_shapes(void) {
    arena a = {0};
    diag d;
    diag_init(&d, "test", "");
    d.out = fopen("/dev/null", "w");
    ir_graph *g = ir_graph_new(&a);
    int64_t bd[2] = {8, 5}, vd[1] = {5}, wd[1] = {4};
    ir_shape batch = ir_shape_make(1, 2, bd), vec = ir_shape_make(0, 1, vd), bad = ir_shape_make(0, 1, wd);
    int x = ir_leaf(g, IR_OP_input, "x", IR_F32, &batch);
    int b = ir_leaf(g, IR_OP_param, "b", IR_F32, &vec);
    int w = ir_leaf(g, IR_OP_param, "w", IR_F32, &bad);
    int ok = ir_add2(g, IR_OP_add, x, b);
    check(ir_infer_shape(g, ok, &d) && ir_shape_equal(&ir_get(g, ok)->shape, &batch),
          "bias broadcast gives [B,5]", "add");
    int no = ir_add2(g, IR_OP_add, x, w);
    check(!ir_infer_shape(g, no, &d) && d.n_errors == 1, "[B,5] + [4] is an error", "add");
    int s = ir_add2(g, IR_OP_mul, x, ir_const(g, 2.0));
    check(ir_infer_shape(g, s, &d) && ir_shape_equal(&ir_get(g, s)->shape, &batch),
          "scalar broadcast", "mul");
    fclose(d.out);
    arena_free(&a);
}

/* the optimizer-support ops: whole-tensor reductions give a scalar, min/max broadcast */
static void check_optimizer_shapes(void) {
    arena a = {0};
    ir_graph *g = ir_graph_new(&a);
    int64_t bd[2] = {8, 5}, wd[2] = {5, 3};
    ir_shape batch = ir_shape_make(1, 2, bd), mat = ir_shape_make(0, 2, wd);
    int x = ir_leaf(g, IR_OP_input, "x", IR_F32, &batch);
    int w = ir_leaf(g, IR_OP_param, "w", IR_F32, &mat);
    static const ir_op reductions[] = {IR_OP_sum_squares, IR_OP_sum_abs};
    for (int i = 0; i < 2; i++) {
        int r = ir_add1(g, reductions[i], i ? w : x);
        check(ir_infer_shape(g, r, NULL) && ir_get(g, r)->shape.rank == 0 &&
              !ir_get(g, r)->shape.batched, "reduces to a scalar", ir_op_names[reductions[i]]);
    }
    int m = ir_add2(g, IR_OP_maximum, w, ir_const(g, -1.0));
    check(ir_infer_shape(g, m, NULL) && ir_shape_equal(&ir_get(g, m)->shape, &mat),
          "scalar broadcast", "maximum");
    int s = ir_add2(g, IR_OP_sum_abs_grad, x, ir_const(g, 2.0));
    check(ir_infer_shape(g, s, NULL) && ir_shape_equal(&ir_get(g, s)->shape, &batch),
          "takes the shape of x", "sum_abs_grad");
    arena_free(&a);
}

int main(void) {
    check_tables();
    check_broadcast_shapes();
    check_optimizer_shapes();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
