/*
 * grad_rules.c — local gradient rules, one per differentiable op (see grad_rules.h). Rules for
 * broadcasting binary ops reduce the incoming gradient back to each operand's shape.
 */
#include "grad_rules.h"
#include <stddef.h>

static ir_node *node(ir_graph *g, int id) { return ir_get(g, id); }
static int in(ir_graph *g, int id, int i) { return node(g, id)->in[i]; }

/* sum `dy` down to the shape of operand `x` when the op broadcast x */
static int unbroadcast(ir_graph *g, int dy, int x) {
    if (ir_shape_equal(&node(g, dy)->shape, &node(g, x)->shape)) return dy;
    return ir_add2(g, IR_OP_reduce_like, dy, x);
}

/* Shapes of freshly built nodes are needed by unbroadcast; infer as we go. Rules never fail. */
static int infer(ir_graph *g, int id) {
    ir_infer_shape(g, id, NULL);
    return id;
}
#define B1(op, a) infer(g, ir_add1(g, op, a))
#define B2(op, a, b) infer(g, ir_add2(g, op, a, b))
#define MM(a, b, ta, tb) infer(g, ir_matmul(g, a, b, ta, tb))

static void grad_matmul(ir_graph *g, int id, int dy, int *dx) {
    int a = in(g, id, 0), b = in(g, id, 1);
    int ta = (int)node(g, id)->iattr[0], tb = (int)node(g, id)->iattr[1];
    if (!ta) dx[0] = tb ? MM(dy, b, 0, 0) : MM(dy, b, 0, 1);
    else dx[0] = tb ? MM(b, dy, 1, 1) : MM(b, dy, 0, 1);
    if (!tb) dx[1] = ta ? MM(a, dy, 0, 0) : MM(a, dy, 1, 0);
    else dx[1] = ta ? MM(dy, a, 1, 1) : MM(dy, a, 1, 0);
}

static void grad_add(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = unbroadcast(g, dy, in(g, id, 0));
    dx[1] = unbroadcast(g, dy, in(g, id, 1));
}

static void grad_sub(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = unbroadcast(g, dy, in(g, id, 0));
    dx[1] = unbroadcast(g, B1(IR_OP_neg, dy), in(g, id, 1));
}

static void grad_mul(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = unbroadcast(g, B2(IR_OP_mul, dy, in(g, id, 1)), in(g, id, 0));
    dx[1] = unbroadcast(g, B2(IR_OP_mul, dy, in(g, id, 0)), in(g, id, 1));
}

static void grad_div(ir_graph *g, int id, int dy, int *dx) {
    int b = in(g, id, 1);
    dx[0] = unbroadcast(g, B2(IR_OP_div, dy, b), in(g, id, 0));
    int y_over_b = B2(IR_OP_div, id, b);
    dx[1] = unbroadcast(g, B1(IR_OP_neg, B2(IR_OP_mul, dy, y_over_b)), b);
}

static void grad_neg(ir_graph *g, int id, int dy, int *dx) {
    (void)id;
    dx[0] = B1(IR_OP_neg, dy);
}

static void grad_sqrt(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = B2(IR_OP_div, dy, B2(IR_OP_mul, infer(g, ir_const(g, 2.0)), id));
}

static void grad_exp(ir_graph *g, int id, int dy, int *dx) { dx[0] = B2(IR_OP_mul, dy, id); }
static void grad_log(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = B2(IR_OP_div, dy, in(g, id, 0));
}
static void grad_relu(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = B2(IR_OP_relu_grad, in(g, id, 0), dy);
}
static void grad_sigmoid(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = B2(IR_OP_sigmoid_grad, id, dy);
}
static void grad_tanh(ir_graph *g, int id, int dy, int *dx) { dx[0] = B2(IR_OP_tanh_grad, id, dy); }
static void grad_softmax(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = B2(IR_OP_softmax_grad, id, dy);
}

static void grad_cross_entropy(ir_graph *g, int id, int dy, int *dx) {
    int logits = in(g, id, 0), labels = in(g, id, 1);
    dx[0] = infer(g, ir_add3(g, IR_OP_cross_entropy_grad, logits, labels, dy));
    dx[1] = -1; /* labels are data */
}

static void grad_mse(ir_graph *g, int id, int dy, int *dx) {
    int d_pred = infer(g, ir_add3(g, IR_OP_mse_grad, in(g, id, 0), in(g, id, 1), dy));
    dx[0] = d_pred;
    dx[1] = B1(IR_OP_neg, d_pred);
}

/* ---- optimizer support ---- */
static void grad_sum_squares(ir_graph *g, int id, int dy, int *dx) {
    int x = in(g, id, 0);
    dx[0] = B2(IR_OP_mul, x, B2(IR_OP_mul, infer(g, ir_const(g, 2.0)), dy));
}

static void grad_sum_abs(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = B2(IR_OP_sum_abs_grad, in(g, id, 0), dy);
}

#define GRADFN_DIFF(name) grad_##name
#define GRADFN_NODIFF(name) NULL
const grad_fn grad_rules[IR_OP_COUNT] = {
#define OP(name, n_in, flags, grad) [IR_OP_##name] = GRADFN_##grad(name),
#include "../ir/ops.def"
#undef OP
};
