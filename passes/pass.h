/*
 * pass.h — the pass pipeline. Each pass is one file with one exported entry point; each states
 * what it requires and what it establishes. The pipeline table (passes/pipeline.c) lists them
 * in order; the driver runs them with ir_verify between passes and stops after the one named
 * by --dump-after to print the IR.
 */
#ifndef DLC_PASS_H
#define DLC_PASS_H
#include "../ir/ir.h"

/* Optimizers, with torch.optim's update rules (see passes/optimizer.c). */
typedef enum opt_kind { OPT_SGD, OPT_RMSPROP, OPT_ADAGRAD, OPT_ADAM, OPT_ADAMW, OPT_COUNT } opt_kind;

/* Learning-rate schedules, applied per epoch by the runtime (as torch.optim.lr_scheduler
 * stepped once per epoch). Same order as DLRT_SCHED_*. */
typedef enum sched_kind { SCHED_CONSTANT, SCHED_STEP, SCHED_EXPONENTIAL, SCHED_COSINE } sched_kind;

typedef struct lr_schedule {
    sched_kind kind;       /* which schedule */
    int64_t every;         /* step: epochs between decays */
    double gamma;          /* step/exponential: decay factor */
    double min_lr;         /* cosine: final learning rate */
    int64_t warmup;        /* linear warmup epochs before the schedule (0: none) */
    double warmup_start;   /* warmup factor of epoch 0 (torch LinearLR's start_factor) */
} lr_schedule;

/* The optimizer as the train block configured it (validated by lowering). Fields an optimizer
 * does not use keep their defaults and are ignored. */
typedef struct opt_config {
    opt_kind kind;         /* which optimizer */
    double lr;             /* learning rate (before the schedule) */
    double momentum;       /* sgd, rmsprop: momentum factor (0 = none) */
    double dampening;      /* sgd: dampening of the momentum buffer's new gradient */
    int nesterov;          /* sgd: Nesterov momentum */
    double alpha;          /* rmsprop: smoothing constant of the squared-gradient average */
    int centered;          /* rmsprop: normalise by the gradient's estimated variance */
    double lr_decay;       /* adagrad: lr / (1 + (step - 1) * lr_decay) */
    double initial_accumulator; /* adagrad: start value of the squared-gradient sum */
    double beta1, beta2;   /* adam, adamw: moment decay rates */
    int amsgrad;           /* adam, adamw: use the running maximum of the second moment */
    double eps;            /* rmsprop, adagrad, adam, adamw: denominator epsilon */
    double weight_decay;   /* adamw: decoupled decay; others: wd * param added to the gradient */
    double clip_value;     /* clamp every gradient element to [-v, v] first (0: off) */
    double clip_norm;      /* then scale all gradients to a global L2 norm <= this (0: off) */
    lr_schedule schedule;  /* how lr changes from epoch to epoch */
    src_loc loc;           /* where the optimizer was written */
} opt_config;

extern const char *const opt_names[OPT_COUNT]; /* "sgd", "rmsprop", ... (optimizer.c) */

typedef struct pass_ctx {
    ir_graph *g;             /* the graph being transformed */
    diag *d;                 /* where user errors go */
    const opt_config *opt;   /* optimizer for the update pass (NULL: no update) */
    int with_backward;       /* run autodiff (0 for inference-only graphs) */
    const struct dlrt_weights *weights; /* inference: the trained weights (NULL: only list the
                                           tensors a weights file must hold); fold_batchnorm
                                           replaces it by a table with the folded tensors added */
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
