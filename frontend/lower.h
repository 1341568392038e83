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
#include "../passes/pass.h"
#include "ast.h"

typedef struct dlc_define {
    const char *name;  /* param name from -D name=value */
    const char *value; /* its value as text (a number) */
} dlc_define;

/* metrics = [...] entries; the same order as the runtime's DLRT_METRIC_* */
enum { DLC_METRIC_LOSS, DLC_METRIC_ACCURACY, DLC_METRIC_TOP_K, DLC_METRIC_MSE, DLC_METRIC_MAE };
enum { DLC_MAX_METRICS = 8 };

typedef struct metric_config {
    int kind;    /* DLC_METRIC_* */
    int k;       /* top_k: how many of the highest scores count */
    src_loc loc; /* where it is written */
} metric_config;

/* early_stopping = val_loss(patience = 3, min_delta = 0) */
typedef struct early_stop_config {
    int enabled;           /* the setting is present */
    metric_config monitor; /* the validation metric watched (loss, accuracy, mse or mae) */
    int64_t patience;      /* epochs without improvement before stopping (>= 1) */
    double min_delta;      /* smallest change that counts as an improvement (>= 0) */
    src_loc loc;           /* where it is written */
} early_stop_config;

/* data = sine(n = 2048, n_test = 1024, low = -pi, high = pi, noise = 0): the defaults */
typedef struct sine_config {
    int64_t n;      /* training samples */
    int64_t n_test; /* test samples */
    double low;     /* smallest x */
    double high;    /* x stays below this */
    double noise;   /* std of the Gaussian noise added to y */
} sine_config;

/* augment = [shift(2), crop(28, padding = 4), hflip(0.5)]: the same order as the runtime's
 * DLRT_AUG_* (semantics in runtime/dlrt_augment.h) */
enum { DLC_AUG_SHIFT, DLC_AUG_CROP, DLC_AUG_HFLIP };
enum { DLC_MAX_AUGMENTS = 8 };

typedef struct augment_config {
    int kind;       /* DLC_AUG_* */
    int64_t n;      /* shift: largest move in pixels; crop: padding */
    int64_t size;   /* crop: window size */
    double p;       /* hflip: probability */
    src_loc loc;    /* where it is written */
    src_loc n_loc;  /* where shift's n or crop's padding is written (range errors) */
} augment_config;

typedef struct train_config {
    int present;             /* the file has a train block */
    const char *model;       /* name of the model trained (or the only model) */
    const char *dataset;     /* runtime dataset name: "mnist", "fashion-mnist" or "sine" */
    const char *feature_input; /* model input fed the dataset's samples (images, x; NULL: none) */
    const char *target_input;  /* model input fed its labels or real targets (NULL: none) */
    sine_config sine;        /* the sine dataset's parameters */
    int normalize;           /* DLRT_NORM_*: input scaling computed on the training split */
    int64_t image_hw[2];     /* the dataset's image height and width (0, 0: no images) */
    augment_config augment[DLC_MAX_AUGMENTS]; /* training-batch augmentation, in order */
    int n_augment;           /* entries in augment */
    src_loc augment_loc;     /* where augment = ... is written (0 line: absent) */
    int64_t batch;           /* mini-batch size (also the compiled max batch) */
    int64_t epochs;          /* passes over the training split */
    int64_t seed;            /* seeds initialisation, shuffling and the split */
    double validation;       /* fraction of the training set held out for validation */
    metric_config metrics[DLC_MAX_METRICS]; /* reported each epoch and for the test split */
    int n_metrics;           /* entries in metrics */
    early_stop_config early_stop; /* stop on a validation metric */
    opt_config opt;          /* optimizer */
} train_config;

/* Returns the forward graph (loss set when there is a train block; outputs[0] is the model's
 * last value), or NULL after reporting errors. */
ir_graph *lower_file(const ast_file *f, const dlc_define *defs, int n_defs, arena *a, diag *d,
                     train_config *cfg);

#endif
