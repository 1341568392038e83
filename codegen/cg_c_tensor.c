/*
 * cg_c_tensor.c — C emitters for the tensor ops of issue 13 (ops1): transpose, slice's
 * gradient, one_hot and fill (declared in cg_c_internal.h, listed in the op table by cg_c_ops.c).
 * Each is one loop over the node's elements computing the shared layer's formula
 * (cg_tensor.c); the iterations are independent.
 */
#include "cg_c_internal.h"

/* t<id>[q] = value(q) for every element q of node id */
static void each_element(cg_ctx *c, int id, const char *value) {
    const ir_shape *s = &cg_node(c, id)->shape;
    cg_c_parallel(c, cg_count(c, s), ir_shape_numel(s));
    sb_printf(c->out, "    for (long q = 0; q < %s; q++) t%d[q] = %s;\n", cg_count(c, s), id, value);
}

void cg_c_emit_transpose(cg_ctx *c, int id) { each_element(c, id, cg_transpose_value(c, id, "q")); }
void cg_c_emit_slice_grad(cg_ctx *c, int id) { each_element(c, id, cg_slice_grad_value(c, id, "q")); }
void cg_c_emit_one_hot(cg_ctx *c, int id) { each_element(c, id, cg_one_hot_value(c, id, "q")); }
void cg_c_emit_fill(cg_ctx *c, int id) { each_element(c, id, cg_fill_value(c, id, "q")); }
