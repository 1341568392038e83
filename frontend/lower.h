/*
 * lower.h — from the syntax tree to the IR graph plus the training configuration.
 *
 * Lowering evaluates `param` items (after -D overrides), builds the model's forward graph
 * (inferring shapes node by node, so a layer like dense(x, 512) knows its fan-in), then reads
 * the train block: dataset binding, image augmentation, loss, optimizer, batch, epochs, seed,
 * validation split and metrics. Every bad name or value is a user error at its source location;
 * unknown names get a "did you mean" suggestion and out-of-range hyperparameters name their
 * valid range.
 */
#ifndef DLC_LOWER_H
#define DLC_LOWER_H
#include "../ir/train_config.h"
#include "ast.h"

typedef struct dlc_define {
    const char *name;  /* param name from -D name=value */
    const char *value; /* its value as text (a number) */
} dlc_define;

/* Returns the forward graph (loss set when there is a train block; outputs[0] is the model's
 * last value, or with output_value not NULL the model value of that name, as it is bound at
 * the end of the model: dlc --value), or NULL after reporting errors. */
ir_graph *lower_file(const ast_file *f, const dlc_define *defs, int n_defs, arena *a, diag *d,
                     train_config *cfg, const char *output_value);

#endif
