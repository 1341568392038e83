/*
 * grad_rules.h — per-op local gradient rules (table generated from ops.def).
 * A rule gets the node and the id of the gradient flowing into its output (dy), and writes
 * into dx[i] the id of the gradient for input i, or -1 when none flows there. Rules build
 * nodes with the ordinary IR builders; shapes are inferred by the caller.
 */
#ifndef DLC_GRAD_RULES_H
#define DLC_GRAD_RULES_H
#include "../ir/ir.h"

typedef void (*grad_fn)(ir_graph *g, int id, int dy, int *dx);
extern const grad_fn pass_grad_rules[IR_OP_COUNT];

#endif
