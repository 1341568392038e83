/*
 * lower.h — from the syntax tree to the IR graph plus the training configuration.
 *
 * Lowering evaluates `param` items (after -D overrides), builds the model's forward graph
 * (inferring shapes node by node, so a layer like dense(x, 512) knows its fan-in), then reads
 * the train block: dataset binding, loss, optimizer, batch, epochs, seed, validation split and
 * metrics. Every bad name or value is a user error at its source location; unknown names get a
 * "did you mean" suggestion and out-of-range hyperparameters name their valid range.
 */
#ifndef DLC_LOWER_H
#define DLC_LOWER_H
#include "../passes/pass.h"
#include "ast.h"

typedef struct dlc_define {
    const char *name;  /* param name from -D name=value */
    const char *value; /* its value as text (a number) */
} dlc_define;

enum { DLC_METRIC_LOSS = 1, DLC_METRIC_ACCURACY = 2 };

typedef struct train_config {
    int present;             /* the file has a train block */
    const char *model;       /* name of the model trained (or the only model) */
    const char *dataset;     /* data directory name: "mnist" or "fashion-mnist" */
    const char *image_input; /* model input fed the dataset's images (NULL: none) */
    const char *label_input; /* model input fed the dataset's labels (NULL: none) */
    int normalize;           /* DLRT_NORM_*: image scaling computed on the training split */
    int64_t batch;           /* mini-batch size (also the compiled max batch) */
    int64_t epochs;          /* passes over the training split */
    int64_t seed;            /* seeds initialisation, shuffling and the split */
    double validation;       /* fraction of the training set held out for validation */
    int metrics;             /* DLC_METRIC_* bits reported each epoch */
    opt_config opt;          /* optimizer */
} train_config;

/* Returns the forward graph (loss set when there is a train block; outputs[0] is the model's
 * last value), or NULL after reporting errors. */
ir_graph *lower_file(const ast_file *f, const dlc_define *defs, int n_defs, arena *a, diag *d,
                     train_config *cfg);

#endif
