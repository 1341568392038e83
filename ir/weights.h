/*
 * weights.h — trained tensors owned by the IR: the values an inference graph's param, buffer
 * and state leaves take (matched by name), and the statistics of the input the runtime
 * normalised. A graph holds its table in g->weights (NULL: no trained values, as in training
 * graphs). The driver fills it from a weights file (driver/inference.c converts the runtime's
 * format); the inference pass checks it against the graph (passes/inference.c), BatchNorm
 * folding adds the folded tensors (passes/fold_batchnorm.c) and the C backend embeds the
 * values (codegen/cg_c_infer.c). Names and data live in the compilation's arena.
 */
#ifndef DLC_IR_WEIGHTS_H
#define DLC_IR_WEIGHTS_H
#include "ir.h"

/* element type of a stored tensor: a leaf's f32 or i32, or f64 (the normalisation statistics) */
typedef enum ir_weight_dtype { IR_WEIGHT_F32, IR_WEIGHT_I32, IR_WEIGHT_F64 } ir_weight_dtype;

typedef struct ir_weight {
    const char *name;          /* a leaf's name ("dense1.w", "bn1.running_var") or normalize_name */
    ir_weight_dtype dtype;     /* element type of data */
    int rank;                  /* number of dims (0..IR_MAX_RANK) */
    int64_t dims[IR_MAX_RANK]; /* sizes, outermost first */
    const void *data;          /* numel elements of dtype, in host byte order */
} ir_weight;

typedef struct ir_weights {
    const char *source;         /* where the tensors come from, for messages (the weights file) */
    const char *normalize_names[3]; /* per normalised input (pass_ctx's normalized_inputs, in
                                       order): its f64[2] tensor {shift, scale}, or per
                                       feature f64[2, F] (F shifts, then F scales) */
    int n;                      /* entries of t, in the order of the source */
    int cap;                    /* allocated entries of t */
    ir_weight *t;               /* the tensors */
} ir_weights;

/* An empty table with room for cap tensors (it grows as tensors are added). */
ir_weights *ir_weights_new(arena *a, const char *source, int cap);
/* Appends a copy of the tensor (name and data copied into a); returns the new entry. */
const ir_weight *ir_weights_add(ir_weights *w, arena *a, const char *name, ir_weight_dtype dtype,
                                int rank, const int64_t *dims, const void *data);
/* The first tensor named `name`, or NULL. */
const ir_weight *ir_weights_find(const ir_weights *w, const char *name);
int64_t ir_weight_numel(const ir_weight *t);
/* "f32", "i32", "f64" */
const char *ir_weight_dtype_name(ir_weight_dtype dtype);

#endif
