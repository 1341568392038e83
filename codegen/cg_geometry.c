/*
 * cg_geometry.c — the shared layer's geometry and formulas of the layer ops (cg_shared.h):
 * batchnorm's per-channel formulas, which the C backend runs in a loop per channel and the
 * CUDA backend in a block per channel.
 */
#include "cg_shared.h"

/* torch's CPU form: y = x * alpha + shift, alpha = invstd * gamma, shift = beta - mean * alpha */
const char *cg_bn_affine(cg_ctx *c, int id) {
    const ir_node *n = cg_node(c, id);
    if (n->n_in == 4)
        return arena_printf(c->a, "        const real alpha = (real)(invstd * t%d[c]);\n"
                                  "        const real shift = (real)(t%d[c] - mean * invstd * t%d[c]);\n",
                            n->in[2], n->in[3], n->in[2]);
    return "        const real alpha = (real)invstd, shift = (real)(-mean * invstd);\n";
}

