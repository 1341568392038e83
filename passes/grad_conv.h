/*
 * grad_conv.h — gradient rules of conv2d and reshape (passes/grad_conv.c), entries of the
 * table in passes/grad_rules.c.
 */
#ifndef DLC_GRAD_CONV_H
#define DLC_GRAD_CONV_H
#include "../ir/ir.h"

void pass_grad_conv2d(ir_graph *g, int id, int dy, int *dx);
void pass_grad_reshape(ir_graph *g, int id, int dy, int *dx);

#endif
