/*
 * shape_conv.h — shape rules of the convolution and reshaping ops (ir/shape_conv.c), entries
 * of the shape rule table in ir/shape_rules.c.
 */
#ifndef DLC_SHAPE_CONV_H
#define DLC_SHAPE_CONV_H
#include "ir.h"

int ir_infer_conv2d(ir_graph *g, ir_node *n, diag *d);
int ir_infer_conv2d_input_grad(ir_graph *g, ir_node *n, diag *d);
int ir_infer_conv2d_weight_grad(ir_graph *g, ir_node *n, diag *d);
int ir_infer_conv2d_bias_grad(ir_graph *g, ir_node *n, diag *d);
int ir_infer_reshape(ir_graph *g, ir_node *n, diag *d);

/* conv2d's output size along one spatial axis: (in + pad_begin + pad_end - dilation (k - 1)
 * - 1) / stride + 1. Returns 0 when the dilated kernel is larger than the padded input, -1
 * when the division is not exact (torch floors it; dlc reports it). */
/* conv2d's im2col columns (C kH kW x OH OW per sample, as both backends lay them out) for `batch` samples hold at most
 * IR_MAX_ELEMENTS (x, w, y: input, weights, output); the backends' workspaces are these */
int ir_conv_columns_fit(const ir_shape *x, const ir_shape *w, const ir_shape *y, int64_t batch);

int64_t ir_conv_extent(int64_t in, int64_t pad_begin, int64_t pad_end, int64_t k, int64_t dilation,
                       int64_t stride);

#endif
