/*
 * pass.h — the pass pipeline. Each pass is one file with one exported entry point; each states
 * what it requires and what it establishes. The pipeline table (passes/pipeline.c) lists them
 * in order; the driver runs them with ir_verify between passes and stops after the one named
 * by --dump-after to print the IR.
 */
#ifndef DLC_PASS_H
#define DLC_PASS_H
#include "../ir/ir.h"
#include "../ir/train_config.h"

typedef struct pass_ctx {
    ir_graph *g;             /* the graph being transformed */
    diag *d;                 /* where user errors go */
    const opt_config *opt;   /* optimizer for the update pass (NULL: no update) */
    int with_backward;       /* run autodiff (0 for inference-only graphs) */
    int no_fold;                        /* inference: leave batchnorm unfolded (--no-fold) */
    const char *normalized_input;       /* inference: the input the runtime normalised, or NULL */
} pass_ctx;

typedef int (*pass_fn)(pass_ctx *c); /* returns 0 after reporting user errors */

typedef struct pass_info {
    const char *name; /* name for --dump-after */
    pass_fn run;      /* entry point */
} pass_info;

int pass_shape(pass_ctx *c);
int pass_autodiff(pass_ctx *c);
int pass_optimizer(pass_ctx *c);
int pass_dce(pass_ctx *c);
/* dce's work on a graph: drops every node that reaches no root (loss, outputs, side effects,
 * params), renumbering the rest; a param whose retired[id] is set (retired may be NULL) is no
 * root, so a pass that replaced it (fold_batchnorm) lets it go when nothing reads it. */
void dce_remove_dead(ir_graph *g, const char *retired);
int pass_inference(pass_ctx *c);
int pass_fold_batchnorm(pass_ctx *c);

extern const pass_info pass_pipeline[];
extern const int pass_pipeline_len;
/* The forward-only graph compiled with trained weights (`dlc --weights`): shape, inference,
 * fold_batchnorm, dce. Passes rewriting the inference graph go after "inference". */
extern const pass_info pass_inference_pipeline[];
extern const int pass_inference_pipeline_len;

/* Run the pipeline; if stop_after names a pass, stop after it (returns 1 and sets *stopped). */
int pass_run_pipeline(pass_ctx *c, const char *stop_after, int *stopped);
int pass_known(const char *name);

#endif
