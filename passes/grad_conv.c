/*
 * grad_conv.c — gradient rules of conv2d and reshape (entries of the table in grad_rules.c).
 * conv2d's gradients are three ops with its attributes: the input's (col2im of w^T dy), the
 * weights' (dy against the im2col of x, summed over the batch) and the bias's (dy summed over
 * the batch and the pixels). reshape's gradient is dy reshaped back to the input's dims.
 */
#include "grad_conv.h"

/* a gradient op of conv2d node `fwd`, with its attributes and its shape inferred */
static int conv_grad_op(ir_graph *g, int grad, int fwd) {
    ir_node *n = ir_get(g, grad);
    const ir_node *f = ir_get(g, fwd);
    ir_copy_attrs(n, f);
    ir_infer_shape(g, grad, NULL);
    return grad;
}

void pass_grad_conv2d(ir_graph *g, int id, int dy, int *dx) {
    const ir_node *n = ir_get(g, id);
    int x = n->in[0], w = n->in[1], has_bias = n->n_in == 3;
    int dxi = ir_add3(g, IR_OP_conv2d_input_grad, dy, w, x);
    dx[0] = conv_grad_op(g, dxi, id);
    int dw = ir_add3(g, IR_OP_conv2d_weight_grad, x, dy, w);
    dx[1] = conv_grad_op(g, dw, id);
    if (has_bias) dx[2] = conv_grad_op(g, ir_add1(g, IR_OP_conv2d_bias_grad, dy), id);
}

void pass_grad_reshape(ir_graph *g, int id, int dy, int *dx) {
    const ir_shape *xs = &ir_get(g, ir_get(g, id)->in[0])->shape;
    int back = ir_add1(g, IR_OP_reshape, dy);
    ir_node *r = ir_get(g, back);
    ir_set_reshape_dims_count(r, xs->rank - xs->batched);
    for (int i = xs->batched; i < xs->rank; i++) ir_set_reshape_dims(r, i - xs->batched, xs->dims[i]);
    ir_infer_shape(g, back, NULL);
    dx[0] = back;
}
