/*
 * dlrt_report.h — what a training run measured, and its JSON form (--report FILE):
 *   { "model", "source", "dataset", "seed", "batch", "epochs_planned",
 *     "split": {"train", "validation", "test"},
 *     "epochs": [ {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
 *                  "seconds", "samples_per_sec"} ],
 *     "train": {"samples_per_sec", "seconds", "samples"},
 *     "test": {"loss", "accuracy"} }
 * Metrics that were not measured are null. The file is written to FILE.tmp and renamed, so a
 * failed write never leaves a partial report behind.
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
} dlrt_epoch_record;

typedef struct dlrt_report {
    const dlrt_model_desc *model;  /* what was trained */
    const dlrt_train_opts *opts;   /* how */
    long long n_train, n_val, n_test; /* split sizes */
    dlrt_epoch_record *epochs;     /* malloc'd, n_epochs entries */
    int n_epochs;                  /* epochs recorded */
    double test_loss;              /* evaluated once at the end */
    double test_accuracy;          /* NAN when not measured */
} dlrt_report;

void dlrt_report_begin(dlrt_report *r, const dlrt_model_desc *m, const dlrt_train_opts *o,
                       long long n_train, long long n_val, long long n_test);
void dlrt_report_add_epoch(dlrt_report *r, const dlrt_epoch_record *e);
int dlrt_report_write(const dlrt_report *r, const char *path, char *err, size_t errlen);
void dlrt_report_free(dlrt_report *r);

#endif
