/*
 * dlrt_train_internal.h — what the training loop (dlrt_train.c) shares with the loop over
 * steps and phases (dlrt_steps.c): the batcher, a pass's totals, the run's state, and the
 * helpers both loops call. Not part of the runtime's interface.
 */
#ifndef DLRT_TRAIN_INTERNAL_H
#define DLRT_TRAIN_INTERNAL_H
#include "dlrt.h"
#include "dlrt_pairs.h"
#include "dlrt_report.h"

typedef struct batcher {
    const dlrt_model_desc *m;    /* model being fed */
    const dlrt_dataset *ds;      /* source samples */
    float *x;                    /* max_batch samples per tuple member (NULL: no feature input) */
    int arity;                   /* samples per batch row: 1, or 2 (pairs), 3 (triplets) */
    long long tsize;             /* reals per real target */
    int32_t *y;                  /* max_batch labels (NULL: the dataset has real targets) */
    float *t;                    /* max_batch real targets (NULL: the dataset has labels) */
    const void *inputs[16];      /* what the step reads */
    long long bytes;             /* bytes this batcher allocated (0 when it shares another's) */
    const float *out;            /* the model's first output, in the arena */
    long long cols;              /* reals per output row */
    const float *value[DLRT_MAX_METRICS]; /* VALUE metrics: their scalar outputs, in the arena */
} batcher;

/* What one pass over some samples measured. */
typedef struct totals {
    dlrt_metric_sums sums; /* per entry of the metrics list */
    double loss;           /* sum of per-batch mean loss times batch size */
    long long n;           /* samples */
    double step_loss[DLRT_MAX_STEPS]; /* with steps: each step's loss, summed as `loss` is */
} totals;

typedef struct run_state {
    dlrt_dataset train, test;     /* loaded splits */
    dlrt_session sess;            /* the model instance */
    batcher train_b, test_b;      /* batches of each split (test_b shares train_b's buffers) */
    dlrt_augmenter aug;           /* the training batches' augmentation (n_ops 0: none) */
    int64_t *order;               /* permutation of the training split */
    dlrt_sampler pool[3];         /* pairs, triplets: the train part, validation part, test split */
    int64_t *tuples[3];           /* their tuples (the train part's redrawn every epoch) */
    int64_t n_tuples[3];          /* tuples in each */
    void *best_weights;           /* early stopping: the weights block of the best epoch */
    long long since_best;         /* early stopping: epochs since the last improvement */
    dlrt_report report;           /* what the run measured */
    dlrt_norm_stats norm;         /* the inputs' normalisation (training part's statistics) */
    const char *failed;           /* an epoch's image grid could not be written: why (the run
                                     stops; points into fail_text) */
    char fail_text[1024];         /* its message */
} run_state;

/* the datasets, the session and the batchers of a run (dlrt_train.c); _free releases them */
int dlrt_tr_setup(run_state *r, const dlrt_model_desc *m, const dlrt_train_opts *o, char *err,
                  size_t errlen);
void dlrt_tr_free(run_state *r);

double dlrt_tr_now(void);
int64_t *dlrt_tr_iota(int64_t n);
/* batch rows idx[0..n) into b's buffers (aug: training augmentation, else NULL) */
void dlrt_tr_gather(batcher *b, const int64_t *idx, int n, const dlrt_augmenter *aug,
                    long long epoch);
void dlrt_tr_add_batch(totals *t, const batcher *b, const dlrt_train_opts *o, double loss, int n);
/* the eval step over rows idx[0..n) */
totals dlrt_tr_evaluate(dlrt_session *s, batcher *b, const dlrt_train_opts *o, const int64_t *idx,
                        int64_t n);
void dlrt_tr_progress(const dlrt_train_opts *o, long long epoch, int64_t done, int64_t total);
void dlrt_tr_diverge(dlrt_report *r, long long epoch, long long step, double loss);
int dlrt_tr_numerics_found(const dlrt_train_opts *o, dlrt_report *r, long long epoch,
                           long long step);
int64_t *dlrt_tr_part_rows(run_state *r, int k, int64_t n_val, int64_t *n);
double dlrt_tr_metric_values(const dlrt_train_opts *o, const totals *t, double *values);
void dlrt_tr_print_value(const char *prefix, const char *name, double v);
void dlrt_tr_print_metrics(const dlrt_train_opts *o, const char *prefix, const double *values,
                           int short_acc);

/* dlrt_steps.c: the epochs of a train block with steps, phase after phase (each phase's test
 * split into r->report.phase_test); dlrt_tr_steps_test: the test split's step losses */
void dlrt_tr_run_steps(run_state *r, const dlrt_train_opts *o, int64_t n_val);
/* the eval step over the test split (its samples, or its tuples) */
totals dlrt_tr_test_totals(run_state *r, const dlrt_train_opts *o);
/* "  d_loss 0.6931  g_loss 0.6931" for the steps of phase ph */
void dlrt_tr_print_step_losses(const dlrt_train_opts *o, const dlrt_phase_opts *ph,
                               const char *prefix, const double *loss);
/* each step's loss in the arena after an eval step (the OUTPUT rows steps[k].loss_output) */
void dlrt_tr_step_losses(const dlrt_session *s, double *loss);

/* dlrt_samples.c: the image grids through the eval step from the first test samples, after
 * the test split (epoch 0: DIR/NAME.png) or after epoch `epoch` (the grids with `every` that
 * divides it: DIR/NAME-epochEEE.png); --samples FILE's path checked before training and the
 * samples written after the test split. 0, or -1 with the message in err. */
int dlrt_tr_write_grids(run_state *r, const dlrt_train_opts *o, long long epoch, char *err,
                        size_t errlen);
/* after epoch `epoch`: its grids; 1 when one could not be written (r->failed says why) */
int dlrt_tr_epoch_grids(run_state *r, const dlrt_train_opts *o, long long epoch);
int dlrt_tr_samples_check(const dlrt_train_opts *o, char *err, size_t errlen);
int dlrt_tr_write_samples(run_state *r, const dlrt_train_opts *o, char *err, size_t errlen);

#endif
