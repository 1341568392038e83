/*
 * dlrt.h — the dlc runtime library (libdlrt): sessions over a generated model (weights block
 * and arena allocated once, parameters initialised from a seed), the training loop with
 * train/validation/test discipline, metrics, progress and the JSON run report.
 * Everything public is dlrt_-prefixed: this library is linked into users' programs.
 * Functions that can fail return 0 on success and -1 with a message in err[errlen].
 */
#ifndef DLRT_H
#define DLRT_H
#include "dlrt_abi.h"
#include "dlrt_augment.h"
#include "dlrt_data.h"
#include "dlrt_sched_kind.h"
#include "dlrt_file.h" /* dlrt_read_file, dlrt_write_file */
#include "dlrt_fewshot.h"
#include "dlrt_images.h"
#include <stddef.h>
#include <stdint.h>

/* A deterministic random stream (xoshiro256**, seeded through splitmix64). */
typedef struct dlrt_rng {
    uint64_t s[4]; /* generator state */
} dlrt_rng;

void dlrt_rng_seed(dlrt_rng *r, uint64_t seed);
uint64_t dlrt_rng_next(dlrt_rng *r);
double dlrt_rng_uniform(dlrt_rng *r); /* [0, 1) */
double dlrt_rng_normal(dlrt_rng *r);  /* standard normal */
void dlrt_rng_shuffle(dlrt_rng *r, int64_t *v, int64_t n);

/* A model instance: its storage, allocated once. */
typedef struct dlrt_session {
    const dlrt_model_desc *model; /* the generated model */
    void *weights;                /* weights_count reals: params then optimizer state */
    void *arena;                  /* arena_bytes of activations */
    long long step;               /* optimizer steps taken (the next one is step + 1) */
    long long weights_bytes;      /* bytes allocated for weights (what malloc was asked for) */
    long long arena_bytes;        /* bytes allocated for the arena */
} dlrt_session;

int dlrt_session_init(dlrt_session *s, const dlrt_model_desc *m, uint64_t seed, char *err,
                      size_t errlen);
void dlrt_session_free(dlrt_session *s);
const dlrt_tensor_desc *dlrt_find_tensor(const dlrt_model_desc *m, int kind, const char *name);

/* Metrics distinct from the loss (see dlrt_metrics.c for their exact definitions), computed
 * from the model's output and the target input over each epoch's training batches, over the
 * validation part and over the test split. */
enum {
    DLRT_METRIC_LOSS = 0,     /* the training loss, as the model computes it */
    DLRT_METRIC_ACCURACY = 1, /* share of argmax predictions equal to the label */
    DLRT_METRIC_TOP_K = 2,    /* share of labels among the k highest scores */
    DLRT_METRIC_MSE = 3,      /* mean squared error of output vs target (one-hot for labels) */
    DLRT_METRIC_MAE = 4,      /* mean absolute error of output vs target (one-hot for labels) */
    DLRT_METRIC_VALUE = 5     /* a scalar the model computes each step (mse(recon, image)) */
};
enum { DLRT_MAX_METRICS = 8 };

typedef struct dlrt_metric {
    int kind; /* DLRT_METRIC_* */
    int k;    /* top_k: how many of the highest scores count */
    const char *name; /* VALUE: the name it is reported under */
    int output;       /* VALUE: the scalar model output (DLRT_OUTPUT) of this index */
} dlrt_metric;

/* What one batch gives the metrics: output rows and their targets. */
typedef struct dlrt_batch_view {
    const float *out;       /* the model's output: n rows of cols reals */
    long long cols;         /* reals per output row */
    const int32_t *labels;  /* class labels (n), or NULL when targets are real */
    const float *targets;   /* real targets (n rows of cols), or NULL when labels are given */
    int n;                  /* rows in the batch */
    double loss;            /* the batch's mean loss */
    const float *const *value; /* per entry of the metrics list: a VALUE metric's scalar */
} dlrt_batch_view;

/* Running sums over batches, one slot per metric in the list. */
typedef struct dlrt_metric_sums {
    double sum[DLRT_MAX_METRICS];   /* summed hits, errors or loss * rows */
    double count[DLRT_MAX_METRICS]; /* what the sum is divided by */
} dlrt_metric_sums;

void dlrt_metrics_reset(dlrt_metric_sums *s);
void dlrt_metrics_add(dlrt_metric_sums *s, const dlrt_metric *m, int n_metrics,
                      const dlrt_batch_view *b);
/* values[i] = sum / count (NAN when nothing was counted) */
void dlrt_metrics_values(const dlrt_metric_sums *s, int n_metrics, double *values);
/* "loss", "accuracy", "top_5", "mse", "mae", a VALUE metric's name (written into buf, which is
 * returned) */
const char *dlrt_metric_name(const dlrt_metric *m, char *buf, size_t n);
int dlrt_metric_higher_is_better(const dlrt_metric *m);

/* Early stopping: after each epoch the monitored validation metric is compared with the best
 * so far; an improvement is a decrease (loss, mse, mae) or increase (accuracy) by more than
 * min_delta. After `patience` epochs without one, training stops; either way the weights of
 * the best epoch are restored before the test split is evaluated. */
typedef struct dlrt_early_stop {
    int enabled;        /* early stopping is on (needs a validation split) */
    dlrt_metric monitor; /* the validation metric watched */
    long long patience; /* epochs without improvement before stopping (>= 1) */
    double min_delta;   /* smallest change that counts as an improvement (>= 0) */
} dlrt_early_stop;

/* Input normalisation: statistics are computed on the training part of the split (never on
 * validation or test data) and then applied to every split. */
enum { DLRT_NORM_NONE = 0, DLRT_NORM_STANDARDIZE = 1, DLRT_NORM_MINMAX = 2 };

/* The normalisation a run applies, x' = (x - shift) / scale: one shift and scale for every
 * value of a sample, or (per_feature) one for each element of a sample (a CSV column, a
 * pixel). Saved with the weights as normalize:INPUT, f64[2] or f64[2, n] (dlrt_weights.h). */
typedef struct dlrt_norm_stats {
    int kind;         /* DLRT_NORM_* (NONE: shift 0, scale 1, nothing applied) */
    int per_feature;  /* statistics per element of a sample */
    int64_t n;        /* statistics: 1, or per feature the sample size */
    double *v;        /* 2 n doubles: the n shifts, then the n scales (malloc'd) */
} dlrt_norm_stats;

/* Learning-rate schedules: DLRT_SCHED_* (dlrt_sched_kind.h, shared with the compiler). */

typedef struct dlrt_schedule {
    int kind;        /* DLRT_SCHED_* */
    double lr;       /* base learning rate */
    long long every; /* step: epochs between decays */
    double gamma;    /* step/exponential: decay factor */
    double min_lr;   /* cosine: learning rate reached after the last epoch */
    long long warmup;     /* linear warmup epochs before the schedule (0: none) */
    double warmup_start;  /* warmup factor at epoch 0 (torch LinearLR's start_factor) */
} dlrt_schedule;

/* Learning rate during epoch `epoch` (0-based) of `epochs`: during the first `warmup` epochs
 * lr * (start + (1 - start) * epoch / warmup), then the schedule at epoch - warmup of
 * epochs - warmup (torch's SequentialLR of LinearLR and the schedule). */
double dlrt_schedule_lr(const dlrt_schedule *s, long long epoch, long long epochs);

/* eval_step's scalars (at most 64) for batch `batch` of a pass: "seed" the run's seed, "step"
 * -(1 + batch), so a pass's batches draw different samples and every pass the same ones (the
 * first test batch: a fixed noise batch); the others 0 */
void dlrt_eval_scalars(const dlrt_model_desc *m, long long seed, long long batch, double *scalars);
/* The model's per-step scalars, by name: "step" (the 1-based optimizer step), "lr" and "seed"
 * (the run's seed; with the step it keys dropout's and noise's draws). */
void dlrt_step_scalars(const dlrt_model_desc *m, long long seed, long long step, double lr,
                       double *scalars);

/* data = pairs(...) / triplets(...): each step is fed tuples of samples drawn afresh every
 * epoch by the sampler (dlrt_pairs.h) instead of single samples; validation and test tuples are
 * drawn once. A pair's target (target_input) is 1 when both samples share a class, else 0. */
typedef struct dlrt_tuples {
    int arity;                   /* 0: single samples; 2: pairs; 3: triplets */
    double same_share;           /* pairs: probability that a pair is of one class */
    long long n;                 /* tuples per training epoch (0: the training part's samples) */
    long long n_test;            /* tuples of the test split (0: its samples) */
    const char *member_input[3]; /* the inputs fed the tuple's samples, in order */
} dlrt_tuples;

/* Steps and phases of a train block with `step` / `phase` sections (docs/language.md, "Steps
 * and phases"); runtime/dlrt_steps.c runs them. An iteration gathers one batch and calls every
 * step of the phase in order, each `repeat` times, on that batch. */
enum { DLRT_MAX_STEPS = 8, DLRT_MAX_PHASES = 4 };

typedef struct dlrt_step_opts {
    const char *name;        /* the model's step of that name (dlrt_step_desc) */
    dlrt_schedule schedule;  /* its learning rate per epoch of its phase (its "NAME.lr") */
    long long repeat;        /* calls per iteration (>= 1) */
} dlrt_step_opts;

typedef struct dlrt_phase_opts {
    const char *name;        /* phase NAME (NULL: the train block's steps, one phase) */
    long long epochs;        /* its passes over the training part */
    int first_step, n_steps; /* its steps: steps[first_step .. first_step + n_steps) */
} dlrt_phase_opts;

typedef struct dlrt_train_opts {
    dlrt_data_spec data;     /* the dataset (its seed is set from `seed` by dlrt_train) */
    const char *feature_input; /* model input fed the samples (images, x; NULL: none) */
    const char *target_input;  /* model input fed the labels or real targets (NULL: none) */
    int normalize;           /* DLRT_NORM_*: statistics from the training split only */
    int normalize_per_feature; /* one shift and scale per element of a sample */
    dlrt_tuples tuples;      /* pairs or triplets instead of single samples (arity 0: off) */
    dlrt_augment augment[DLRT_MAX_AUGMENTS]; /* applied to training batches only, in order */
    int n_augment;           /* entries in augment (0: none) */
    long long epochs;        /* passes over the training split */
    long long seed;          /* initialisation, split and shuffling */
    double validation;       /* held-out fraction of the training set */
    dlrt_metric metrics[DLRT_MAX_METRICS]; /* reported each epoch and for the test split */
    int n_metrics;           /* entries in metrics */
    dlrt_early_stop early_stop; /* stop on a validation metric, restore the best weights */
    dlrt_few_shot few_shot[DLRT_MAX_FEW_SHOT]; /* few-shot evaluations after the test split */
    int n_few_shot;          /* entries in few_shot (0: none) */
    dlrt_image images[DLRT_MAX_IMAGES]; /* image grids of test samples (dlrt_images.h) */
    int n_images;            /* entries in images */
    const char *images_dir;  /* --images DIR: where they are written after the test split
                                (NULL: not written) */
    dlrt_samples samples;    /* samples = sample(...): the value --samples writes */
    int has_samples;         /* the train block has samples = ... */
    const char *samples_path;  /* --samples FILE: after the test split (NULL: not written) */
    long long samples_count;   /* --samples-count N: samples written (>= 1) */
    const char *const *sample_names; /* the PARAM/BUFFER tensors the samples value reads
                                        (dlrt_sample_saved needs them in the weights file) */
    int n_sample_names;      /* entries of sample_names */
    dlrt_schedule schedule;  /* learning rate per epoch (fed to the model's "lr" scalar) */
    dlrt_step_opts steps[DLRT_MAX_STEPS]; /* the steps (n_steps 0: train_step alone, above) */
    int n_steps;             /* entries of steps */
    dlrt_phase_opts phases[DLRT_MAX_PHASES]; /* with steps: the phases, in order (at least one) */
    int n_phases;            /* entries of phases */
    const char *report_path; /* JSON report file, or NULL */
    const char *save_weights;      /* after training and the restore: the weights file, or NULL */
    const char *const *save_names; /* the PARAM/STATE tensors it holds (what inference reads) */
    int n_save_names;              /* entries of save_names */
    const char *source;      /* the .dl file, recorded in the report */
    int (*numerics)(int *input); /* --check-numerics: the model's PREFIX_numerics, read after
                                    each training step (NULL: off; see codegen/cg_c.h) */
    void (*numerics_report)(void *ctx, int node, int input, long long epoch, long long step);
                             /* prints which node made the first NaN or Inf (with numerics) */
    void *numerics_ctx;      /* numerics_report's first argument */
    int quiet;               /* no per-epoch lines */
} dlrt_train_opts;

/* The statistics of kind (per feature or not) of train's samples train_idx[0..n) into *s
 * (dlrt_norm_free releases them); _apply normalises ds in place with them (each value in
 * double, rounded once to f32). */
int dlrt_norm_compute(dlrt_norm_stats *s, const dlrt_dataset *train, const int64_t *train_idx,
                      int64_t n_train, int kind, int per_feature, char *err, size_t errlen);
void dlrt_norm_apply(dlrt_dataset *ds, const dlrt_norm_stats *s);
void dlrt_norm_free(dlrt_norm_stats *s);

/* The order the training part is visited in epoch `epoch`: a seeded shuffle of `idx` (the
 * previous epoch's order) from a stream of (seed, epoch), so every epoch's order differs and
 * the same seed gives the same sequence of orders. */
void dlrt_epoch_shuffle(int64_t *idx, int64_t n, long long seed, long long epoch);

/* Train, validate each epoch, then evaluate the test split once; with save_weights, then write
 * the weights file (runtime/dlrt_weights.h) with save_names and the input normalisation. */
int dlrt_train(const dlrt_model_desc *m, const dlrt_train_opts *o, char *err, size_t errlen);

/* --samples FILE from a saved model (dlc MODEL --weights W --samples FILE, no training): the
 * session's weights from the weights file `weights` (every tensor it holds that the model has;
 * each of o->sample_names must be there), the test split normalised with the file's statistics
 * as training's was, then o->samples_count samples through the eval step into
 * o->samples_path, byte for byte what the training run that saved `weights` wrote
 * (runtime/dlrt_samples.c). */
int dlrt_sample_saved(const dlrt_model_desc *m, const dlrt_train_opts *o, const char *weights,
                      char *err, size_t errlen);

/* The few-shot evaluations o->few_shot (dlrt_fewshot.h, runtime/dlrt_fewshot_run.c).
 * Before training, _prepare checks that each entry's classes have enough test images (a run
 * does not train in vain); after the test split, _run evaluates them on session s's weights,
 * the test images normalized with `norm` as training's inputs were: res[i] per entry,
 * printed after the test line unless o->quiet. */
int dlrt_few_shot_prepare(const dlrt_train_opts *o, char *err, size_t errlen);
int dlrt_few_shot_run(dlrt_session *s, const dlrt_train_opts *o, const dlrt_norm_stats *norm,
                      dlrt_few_shot_result *res, char *err, size_t errlen);

#endif
