/*
 * cg_cuda_tensor.c — CUDA emitters for the tensor ops of issue 13 (ops1): transpose, slice's
 * gradient, one_hot and fill (listed in the op table of cg_cuda_ops.c), mirroring cg_c_tensor.c: one
 * kernel per node, a grid-stride loop with one thread per element computing the shared
 * layer's formula (cg_tensor.c). Each element is written once: no atomics, reproducible.
 */
#include "cg_cuda_internal.h"

/* t<id>[q] = value(q) for every element q of node id */
static void each_element(cg_cu *c, int id, const char *value) {
    const ir_shape *s = &cg_cu_node(c, id)->shape;
    const char *k = cg_cu_kernel_open_node(c, id);
    sb_printf(c->x.out, "    DLC_FOR(q, %s) t%d[q] = %s;\n", cg_cu_count(c, s), id, value);
    cg_cu_kernel_close(c);
    cg_cu_launch(c, id, k, cg_cu_count_lin(s), CU_BLOCK, CU_MAX_BLOCKS);
}

void cg_cu_emit_transpose(cg_cu *c, int id) { each_element(c, id, cg_transpose_value(&c->x, id, "q")); }
void cg_cu_emit_slice_grad(cg_cu *c, int id) { each_element(c, id, cg_slice_grad_value(&c->x, id, "q")); }
void cg_cu_emit_one_hot(cg_cu *c, int id) { each_element(c, id, cg_one_hot_value(&c->x, id, "q")); }
void cg_cu_emit_fill(cg_cu *c, int id) { each_element(c, id, cg_fill_value(&c->x, id, "q")); }
