/*
 * dlrt_report.h — what a training run measured, and its JSON form (--report FILE):
 *   { "model", "source", "dataset", "seed", "batch", "epochs_planned",
 *     "split": {"train", "validation", "test"},
 *     "epochs": [ {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
 *                  "seconds", "samples_per_sec",
 *                  "metrics": {"train": {NAME: value, ...}, "val": {NAME: value, ...}}} ],
 *     "train": {"samples_per_sec", "seconds", "samples"},
 *     "early_stopping": {"monitor", "mode", "patience", "min_delta", "values", "best_epoch",
 *                        "best", "stopped_epoch", "weights_restored", "restored_value"},
 *     "test": {"loss", "accuracy", "metrics": {NAME: value, ...}, VALUE_NAME: value, ...,
 *              "few_shot": [{"n_way", "k_shot", "queries", "classes", "metric", "episodes",
 *                            "accuracy", "ci95"}]},
 *     "memory": {"weights", "arena", "inputs", "early_stopping_copy", "total"},
 *     "diverged": {"epoch", "step", "loss"} }
 * NAME is each entry of the train block's metrics list ("accuracy", "top_5", "mse", "mae",
 * "loss", or a value metric's name such as "reconstruction_mse"); a value metric (computed by the
 * model: mse(reconstruction, image)) is also at test.VALUE_NAME (test.reconstruction_mse).
 * Metrics that were not measured are null; "val" is null without a validation split.
 * Without early stopping "early_stopping" is null. With it, "values" is the monitored
 * validation metric of every epoch run, "stopped_epoch" is null when every planned epoch ran,
 * and "restored_value" is the monitored metric re-measured on the validation part after the
 * best epoch's weights were put back (it equals "best"); the test split is evaluated after.
 * "memory" is what the run allocated for the model, in bytes, as asked of the allocator: the
 * weights block, the activation arena, the batch input buffers, the copy of the best weights
 * early stopping keeps (0 without it); the datasets themselves are not counted. `dlc
 * --mem-report` predicts the same total before anything runs.
 * "diverged" is null unless a training step's loss was not finite: then the epoch and step of
 * the first such step and its loss as the string "nan", "inf" or "-inf"; the epoch is not in
 * "epochs" and "test" holds nulls (the test split is not evaluated). With --check-numerics a
 * step that made any NaN or Inf stops the run the same way, its loss a number when it was
 * finite, and "node" the IR node id that made the first one.
 * "few_shot" is there only when the train block lists few-shot evaluations: one entry each,
 * "classes" a list of integers, "metric" "l2" or "cosine", "accuracy" and "ci95" fractions
 * (null when not measured: a run that diverged, or ci95 with one episode).
 * The file is written with dlrt_write_file, so a failed write never leaves a partial report.
 */
#ifndef DLRT_REPORT_H
#define DLRT_REPORT_H
#include "dlrt.h"

typedef struct dlrt_epoch_record {
    long long epoch;        /* 1-based */
    double train_loss;      /* mean over the epoch's samples */
    double train_accuracy;  /* NAN when not measured */
    double val_loss;        /* NAN without a validation split */
    double val_accuracy;    /* NAN when not measured */
    double seconds;         /* training time of the epoch (validation excluded) */
    double samples_per_sec; /* training samples / seconds */
    double train_metrics[DLRT_MAX_METRICS]; /* per entry of the metrics list */
    double val_metrics[DLRT_MAX_METRICS];   /* per entry; NAN without a validation split */
    int phase;              /* with steps: the phase it belongs to */
    double step_loss[DLRT_MAX_STEPS];     /* with steps: each step's mean training loss (NAN:
                                             not in this phase) */
    double val_step_loss[DLRT_MAX_STEPS]; /* each step's validation loss (NAN: none) */
} dlrt_epoch_record;

/* With phases: the test split evaluated at the end of each phase. */
typedef struct dlrt_phase_test {
    double loss;                          /* the first step's loss (the test line's) */
    double metrics[DLRT_MAX_METRICS];     /* per entry of the metrics list */
    double accuracy;                      /* the accuracy among them (NAN if not listed) */
    double step_loss[DLRT_MAX_STEPS];     /* each step's loss */
} dlrt_phase_test;

/* What a run allocated for the model, in bytes. */
typedef struct dlrt_memory {
    long long weights;             /* the weights block */
    long long arena;               /* the activation arena */
    long long inputs;              /* the batch input buffers */
    long long early_stopping_copy; /* early stopping's copy of the best weights (0: none) */
} dlrt_memory;

typedef struct dlrt_report {
    const dlrt_model_desc *model;  /* what was trained */
    const dlrt_train_opts *opts;   /* how */
    long long n_train, n_val, n_test; /* split sizes */
    dlrt_epoch_record *epochs;     /* malloc'd, n_epochs entries */
    int n_epochs;                  /* epochs recorded */
    double test_loss;              /* evaluated once at the end */
    double test_accuracy;          /* NAN when not measured */
    double test_metrics[DLRT_MAX_METRICS]; /* per entry of the metrics list */
    double test_step_loss[DLRT_MAX_STEPS]; /* with steps: each step's test loss */
    dlrt_phase_test phase_test[DLRT_MAX_PHASES]; /* with phases: each phase's test split */
    long long best_epoch;          /* early stopping: epoch whose weights were kept (0: off) */
    long long stopped_epoch;       /* early stopping: last epoch when it stopped early, else 0 */
    double best;                   /* early stopping: the monitored value at best_epoch */
    double restored;               /* early stopping: that value re-measured after restoring */
    dlrt_memory memory;            /* what the run allocated for the model */
    dlrt_few_shot_result few_shot[DLRT_MAX_FEW_SHOT]; /* per entry of opts->few_shot */
    long long diverged_epoch;      /* the epoch of the first non-finite training loss (0: none) */
    long long diverged_step;       /* its optimizer step, 1-based over the run (0: none) */
    double diverged_loss;          /* that loss: NaN, +Inf or -Inf (finite when --check-numerics
                                      stopped the step) */
    int numerics_node;             /* --check-numerics: the node that made the first NaN or Inf
                                      (-1: none, or not checked) */
} dlrt_report;

void dlrt_report_begin(dlrt_report *r, const dlrt_model_desc *m, const dlrt_train_opts *o,
                       long long n_train, long long n_val, long long n_test);
void dlrt_report_add_epoch(dlrt_report *r, const dlrt_epoch_record *e);
int dlrt_report_write(const dlrt_report *r, const char *path, char *err, size_t errlen);
void dlrt_report_free(dlrt_report *r);
/* The validation value of metric m in epoch e: val_loss for the loss, else the slot of the
 * metrics list holding m (NAN if m is not listed). */
double dlrt_report_val_metric(const dlrt_report *r, const dlrt_epoch_record *e, const dlrt_metric *m);

#endif
