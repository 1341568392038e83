/*
 * grad_rules.c — local gradient rules, one per differentiable op (see grad_rules.h). Rules for
 * broadcasting binary ops reduce the incoming gradient back to each operand's shape.
 */
#include "grad_rules.h"
#include "grad_conv.h"
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
/* a product of the forward's kind: per sample (ir_bmm) or of rows (ir_matmul) */
#define MM(a, b, ta, tb) infer(g, per_sample ? ir_bmm(g, a, b, ta, tb) : ir_matmul(g, a, b, ta, tb))

/* dA = dY B^T, dB = A^T dY (transposes folded into the flags); per_sample: the same per sample
 * (ir_bmm); a shared b of matrices [B,n,k]: A^T dY contracts every row, the batch included */
static void pass_grad_matmul(ir_graph *g, int id, int dy, int *dx) {
    int a = in(g, id, 0), b = in(g, id, 1), per_sample = (int)ir_matmul_per_sample(node(g, id));
    int ta = (int)ir_matmul_trans_a(node(g, id)), tb = (int)ir_matmul_trans_b(node(g, id));
    if (!ta) dx[0] = tb ? MM(dy, b, 0, 0) : MM(dy, b, 0, 1);
    else dx[0] = tb ? MM(b, dy, 1, 1) : MM(b, dy, 0, 1);
    if (!tb) dx[1] = ta ? MM(a, dy, 0, 0) : MM(a, dy, 1, 0);
    else dx[1] = ta ? MM(dy, a, 1, 1) : MM(dy, a, 1, 0);
}

static void pass_grad_add(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = unbroadcast(g, dy, in(g, id, 0));
    dx[1] = unbroadcast(g, dy, in(g, id, 1));
}

static void pass_grad_sub(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = unbroadcast(g, dy, in(g, id, 0));
    dx[1] = unbroadcast(g, B1(IR_OP_neg, dy), in(g, id, 1));
}

static void pass_grad_mul(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = unbroadcast(g, B2(IR_OP_mul, dy, in(g, id, 1)), in(g, id, 0));
    dx[1] = unbroadcast(g, B2(IR_OP_mul, dy, in(g, id, 0)), in(g, id, 1));
}

static void pass_grad_div(ir_graph *g, int id, int dy, int *dx) {
    int b = in(g, id, 1);
    dx[0] = unbroadcast(g, B2(IR_OP_div, dy, b), in(g, id, 0));
    int y_over_b = B2(IR_OP_div, id, b);
    dx[1] = unbroadcast(g, B1(IR_OP_neg, B2(IR_OP_mul, dy, y_over_b)), b);
}

static void pass_grad_neg(ir_graph *g, int id, int dy, int *dx) {
    (void)id;
    dx[0] = B1(IR_OP_neg, dy);
}

static void pass_grad_sqrt(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = B2(IR_OP_div, dy, B2(IR_OP_mul, infer(g, ir_const(g, 2.0)), id));
}

static void pass_grad_exp(ir_graph *g, int id, int dy, int *dx) { dx[0] = B2(IR_OP_mul, dy, id); }
static void pass_grad_log(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = B2(IR_OP_div, dy, in(g, id, 0));
}
/* a gradient node with the forward node's attributes (slope, p, reduction, ...) */
static int like_fwd(ir_graph *g, int grad, int fwd) {
    ir_copy_attrs(node(g, grad), node(g, fwd));
    return infer(g, grad);
}

/* (x, dy) -> local gradient op over the forward input */
static int on_input(ir_graph *g, ir_op op, int id, int dy) {
    return like_fwd(g, ir_add2(g, op, in(g, id, 0), dy), id);
}

static void pass_grad_relu(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = B2(IR_OP_relu_grad, in(g, id, 0), dy);
}
static void pass_grad_sigmoid(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = B2(IR_OP_sigmoid_grad, id, dy);
}
static void pass_grad_tanh(ir_graph *g, int id, int dy, int *dx) { dx[0] = B2(IR_OP_tanh_grad, id, dy); }
static void pass_grad_leaky_relu(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = on_input(g, IR_OP_leaky_relu_grad, id, dy);
}
static void pass_grad_prelu(ir_graph *g, int id, int dy, int *dx) {
    int x = in(g, id, 0), slope = in(g, id, 1);
    dx[0] = infer(g, ir_add3(g, IR_OP_prelu_grad, x, slope, dy));
    dx[1] = unbroadcast(g, B2(IR_OP_prelu_slope_grad, x, dy), slope);
}
static void pass_grad_elu(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = on_input(g, IR_OP_elu_grad, id, dy);
}
static void pass_grad_silu(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = on_input(g, IR_OP_silu_grad, id, dy);
}
static void pass_grad_mish(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = on_input(g, IR_OP_mish_grad, id, dy);
}
static void pass_grad_gelu(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = on_input(g, IR_OP_gelu_grad, id, dy);
}
static void pass_grad_softplus(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = on_input(g, IR_OP_softplus_grad, id, dy);
}
static void pass_grad_softmax(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = B2(IR_OP_softmax_grad, id, dy);
}
static void pass_grad_log_softmax(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = B2(IR_OP_log_softmax_grad, id, dy);
}

/* issue 13 ops1: abs (dy * sign(x), sign(0) = 0), square (2 x dy), clamp (dy inside the
 * closed interval) */
static void pass_grad_abs(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = B2(IR_OP_sum_abs_grad, in(g, id, 0), dy);
}
static void pass_grad_square(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = B2(IR_OP_mul, dy, B2(IR_OP_mul, in(g, id, 0), infer(g, ir_const(g, 2.0))));
}
static void pass_grad_clamp(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = on_input(g, IR_OP_clamp_grad, id, dy);
}

/* the same mask (same seed, step, stream and element index) applied to dy */
static void pass_grad_dropout(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = like_fwd(g, ir_add3(g, IR_OP_dropout_grad, dy, in(g, id, 1), in(g, id, 2)), id);
}
static void pass_grad_gaussian_noise(ir_graph *g, int id, int dy, int *dx) {
    (void)g, (void)id;
    dx[0] = dy;
}

static void pass_grad_sum(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = B2(IR_OP_broadcast, dy, in(g, id, 0));
}
static void pass_grad_mean(ir_graph *g, int id, int dy, int *dx) {
    int x = in(g, id, 0), b = ir_add2(g, IR_OP_broadcast, dy, x);
    ir_set_broadcast_mean(node(g, b), 1);
    dx[0] = infer(g, b);
}

/* a loss gradient op (input 0, input 1, dloss) for operand `wrt`, with the loss's attributes */
static int loss_grad(ir_graph *g, ir_op op, int id, int dy, int wrt) {
    int gid = like_fwd(g, ir_add3(g, op, in(g, id, 0), in(g, id, 1), dy), id);
    ir_set_loss_wrt_target(node(g, gid), wrt);
    return gid;
}

/* labels are data: no gradient flows to them */
static void pass_grad_cross_entropy(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = loss_grad(g, IR_OP_cross_entropy_grad, id, dy, 0);
    dx[1] = -1;
}
static void pass_grad_nll(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = loss_grad(g, IR_OP_nll_grad, id, dy, 0);
    dx[1] = -1;
}

/* losses of d = pred - target: the target's gradient is the prediction's, negated */
static void difference_loss(ir_graph *g, ir_op op, int id, int dy, int *dx) {
    dx[0] = loss_grad(g, op, id, dy, 0);
    dx[1] = B1(IR_OP_neg, dx[0]);
}
static void pass_grad_mse(ir_graph *g, int id, int dy, int *dx) {
    difference_loss(g, IR_OP_mse_grad, id, dy, dx);
}
static void pass_grad_mae(ir_graph *g, int id, int dy, int *dx) {
    difference_loss(g, IR_OP_mae_grad, id, dy, dx);
}
static void pass_grad_smooth_l1(ir_graph *g, int id, int dy, int *dx) {
    difference_loss(g, IR_OP_smooth_l1_grad, id, dy, dx);
}
static void pass_grad_huber(ir_graph *g, int id, int dy, int *dx) {
    difference_loss(g, IR_OP_huber_grad, id, dy, dx);
}

/* losses whose target gradient has its own formula */
static void two_sided_loss(ir_graph *g, ir_op op, int id, int dy, int *dx) {
    dx[0] = loss_grad(g, op, id, dy, 0);
    dx[1] = loss_grad(g, op, id, dy, 1);
}
static void pass_grad_bce(ir_graph *g, int id, int dy, int *dx) {
    two_sided_loss(g, IR_OP_bce_grad, id, dy, dx);
}
static void pass_grad_bce_with_logits(ir_graph *g, int id, int dy, int *dx) {
    two_sided_loss(g, IR_OP_bce_with_logits_grad, id, dy, dx);
}
static void pass_grad_hinge(ir_graph *g, int id, int dy, int *dx) {
    two_sided_loss(g, IR_OP_hinge_grad, id, dy, dx);
}

/* ---- optimizer support ---- */
static void pass_grad_sum_squares(ir_graph *g, int id, int dy, int *dx) {
    int x = in(g, id, 0);
    dx[0] = B2(IR_OP_mul, x, B2(IR_OP_mul, infer(g, ir_const(g, 2.0)), dy));
}

static void pass_grad_sum_abs(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = B2(IR_OP_sum_abs_grad, in(g, id, 0), dy);
}

/* ---- pooling and concatenation ---- */
static void pass_grad_max_pool2d(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = on_input(g, IR_OP_max_pool2d_grad, id, dy);
}
static void pass_grad_avg_pool2d(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = on_input(g, IR_OP_avg_pool2d_grad, id, dy);
}
static void pass_grad_global_avg_pool(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = on_input(g, IR_OP_global_avg_pool_grad, id, dy);
}

/* each input's gradient is its own stretch of dy along the axis */
static void pass_grad_concat(ir_graph *g, int id, int dy, int *dx) {
    int axis = (int)ir_concat_axis(node(g, id));
    int64_t start = 0;
    for (int i = 0; i < node(g, id)->n_in; i++) {
        int64_t len = node(g, in(g, id, i))->shape.dims[axis];
        int s = ir_add1(g, IR_OP_slice, dy);
        ir_set_slice_axis(node(g, s), axis);
        ir_set_slice_start(node(g, s), start);
        ir_set_slice_length(node(g, s), len);
        dx[i] = infer(g, s);
        start += len;
    }
}

/* issue 13 ops1: slice's gradient puts dy back into a zero tensor of x's shape; transpose's
 * is the same transpose */
static void pass_grad_slice(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = on_input(g, IR_OP_slice_grad, id, dy);
}
static void pass_grad_transpose(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = like_fwd(g, ir_add1(g, IR_OP_transpose, dy), id);
}

/* ---- batchnorm ---- */

/* batchnorm(x, stats[, gamma, beta]): stats are x's batch statistics (the rule is the training
 * one), so dx includes the paths through the mean and the variance and stats gets none */
static void pass_grad_batchnorm(ir_graph *g, int id, int dy, int *dx) {
    int ops[4] = {in(g, id, 0), in(g, id, 1), dy, node(g, id)->n_in == 4 ? in(g, id, 2) : -1};
    dx[0] = like_fwd(g, ir_add(g, IR_OP_batchnorm_grad, ops[3] >= 0 ? 4 : 3, ops), id);
    dx[1] = -1;
    if (node(g, id)->n_in != 4) return;
    for (int k = 0; k < 2; k++) {
        int pg = ir_add3(g, IR_OP_batchnorm_param_grad, ops[0], ops[1], dy);
        dx[2 + k] = like_fwd(g, pg, id);
        ir_set_bn_param_beta(node(g, pg), k);
    }
}

/* ---- issue 13 ops2: axis reductions and where ---- */

/* dy repeated along the axis (divided by its length for a mean) */
static void pass_grad_sum_axis(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = like_fwd(g, ir_add2(g, IR_OP_expand_axis, dy, in(g, id, 0)), id);
}
/* dy to the first maximum along the axis */
static void pass_grad_max_axis(ir_graph *g, int id, int dy, int *dx) {
    dx[0] = on_input(g, IR_OP_max_axis_grad, id, dy);
}
/* dy where cond holds to a, elsewhere to b (each reduced to its operand's shape); none to cond */
static void pass_grad_where(ir_graph *g, int id, int dy, int *dx) {
    int cond = in(g, id, 0), zero = infer(g, ir_const(g, 0.0));
    dx[0] = -1;
    dx[1] = unbroadcast(g, infer(g, ir_add3(g, IR_OP_where, cond, dy, zero)), in(g, id, 1));
    dx[2] = unbroadcast(g, infer(g, ir_add3(g, IR_OP_where, cond, zero, dy)), in(g, id, 2));
}

#define GRADFN_DIFF(name) pass_grad_##name
#define GRADFN_NODIFF(name) NULL
const grad_fn pass_grad_rules[IR_OP_COUNT] = {
#define OP(name, n_in, flags, shape, grad, attrs, cuda) [IR_OP_##name] = GRADFN_##grad(name),
#include "../ir/ops.def"
#undef OP
};
