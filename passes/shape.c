/*
 * shape.c — shape inference over the whole graph.
 * Requires: leaves carry shapes. Establishes: every node has dtype and shape, or user errors
 * were reported (a mismatch names the construct, both shapes and the source line). Idempotent:
 * later passes that add nodes call it again for the new ones.
 */
#include "pass.h"

int pass_shape(pass_ctx *c) {
    int ok = 1;
    for (int id = 0; id < c->g->n_nodes; id++)
        if (!ir_infer_shape(c->g, id, c->d)) ok = 0;
    return ok && c->d->n_errors == 0;
}
