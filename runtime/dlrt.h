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
#include "dlrt_data.h"
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
} dlrt_session;

int dlrt_session_init(dlrt_session *s, const dlrt_model_desc *m, uint64_t seed, char *err,
                      size_t errlen);
void dlrt_session_free(dlrt_session *s);
const dlrt_tensor_desc *dlrt_find_tensor(const dlrt_model_desc *m, int kind, const char *name);

enum { DLRT_METRIC_LOSS = 1, DLRT_METRIC_ACCURACY = 2 };

/* Input normalisation: statistics are computed on the training part of the split (never on
 * validation or test data) and then applied to every split. */
enum { DLRT_NORM_NONE = 0, DLRT_NORM_STANDARDIZE = 1, DLRT_NORM_MINMAX = 2 };

/* Learning-rate schedules, stepped once per epoch (as torch.optim.lr_scheduler). */
enum { DLRT_SCHED_CONSTANT = 0, DLRT_SCHED_STEP = 1, DLRT_SCHED_EXPONENTIAL = 2, DLRT_SCHED_COSINE = 3 };

typedef struct dlrt_schedule {
    int kind;        /* DLRT_SCHED_* */
    double lr;       /* base learning rate */
    long long every; /* step: epochs between decays */
    double gamma;    /* step/exponential: decay factor */
    double min_lr;   /* cosine: learning rate reached after the last epoch */
} dlrt_schedule;

/* Learning rate during epoch `epoch` (0-based) of `epochs`. */
double dlrt_schedule_lr(const dlrt_schedule *s, long long epoch, long long epochs);

/* The model's per-step scalars, by name: "step" (the 1-based optimizer step) and "lr". */
void dlrt_step_scalars(const dlrt_model_desc *m, long long step, double lr, double *scalars);

typedef struct dlrt_train_opts {
    const char *data_dir;    /* data directory (see dlrt_data_dir) */
    const char *dataset;     /* "mnist" or "fashion-mnist" */
    const char *image_input; /* model input fed images (NULL: none) */
    const char *label_input; /* model input fed labels (NULL: none) */
    int normalize;           /* DLRT_NORM_*: statistics from the training split only */
    long long epochs;        /* passes over the training split */
    long long seed;          /* initialisation, split and shuffling */
    double validation;       /* held-out fraction of the training set */
    int metrics;             /* DLRT_METRIC_* bits */
    dlrt_schedule schedule;  /* learning rate per epoch (fed to the model's "lr" scalar) */
    const char *report_path; /* JSON report file, or NULL */
    const char *source;      /* the .dl file, recorded in the report */
    int quiet;               /* no per-epoch lines */
} dlrt_train_opts;

/* Normalise `train` and `test` in place with statistics of train's samples train_idx[0..n);
 * reports the applied (x - shift) / scale. */
void dlrt_normalize(dlrt_dataset *train, dlrt_dataset *test, const int64_t *train_idx,
                    int64_t n_train, int kind, double *shift, double *scale);

/* Train, validate each epoch, then evaluate the test split once. */
int dlrt_train(const dlrt_model_desc *m, const dlrt_train_opts *o, char *err, size_t errlen);

#endif
