/*
 * train_config.h — the training configuration a compilation carries beside its graph: what the
 * train block says (dataset binding, augmentation, batch, epochs, seed, validation split,
 * metrics, early stopping) and the optimizer with its learning-rate schedule. Lowering fills it
 * in (frontend/lower.c); the optimizer pass lowers the update from opt_config
 * (passes/optimizer.c); the driver hands the rest to the runtime.
 */
#ifndef DLC_TRAIN_CONFIG_H
#define DLC_TRAIN_CONFIG_H
#include "../runtime/dlrt_sched_kind.h"
#include "ir.h"

/* Optimizers, with torch.optim's update rules (see passes/optimizer.c). */
typedef enum opt_kind { OPT_SGD, OPT_RMSPROP, OPT_ADAGRAD, OPT_ADAM, OPT_ADAMW, OPT_COUNT } opt_kind;

/* Learning-rate schedules, applied per epoch by the runtime (as torch.optim.lr_scheduler
 * stepped once per epoch): the runtime's own DLRT_SCHED_* values, defined once in
 * runtime/dlrt_sched_kind.h (plain data; nothing of the runtime is linked). */
typedef enum dlrt_sched_kind sched_kind;

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

extern const char *const ir_opt_names[OPT_COUNT];        /* "sgd", "rmsprop", ... */
extern const char *const ir_sched_names[DLRT_SCHED_COUNT]; /* "constant", "step", ... */

/* metrics = [...] entries; the same order as the runtime's DLRT_METRIC_* */
enum { DLC_METRIC_LOSS, DLC_METRIC_ACCURACY, DLC_METRIC_TOP_K, DLC_METRIC_MSE, DLC_METRIC_MAE,
       DLC_METRIC_VALUE /* a scalar expression over any model value and input: mse(recon, image) */ };
enum { DLC_MAX_METRICS = 8 };

typedef struct metric_config {
    int kind;    /* DLC_METRIC_* */
    int k;       /* top_k: how many of the highest scores count */
    const char *name; /* value metrics: the name it is reported under (else NULL) */
    int output;  /* value metrics: the scalar's index in the graph's outputs */
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

/* evaluate = [few_shot(embedding = e, image = x, n_way = 5, k_shot = 1, queries = 15,
 * episodes = 1000, classes = [5, 6, 7, 8, 9], metric = cosine)]: after the test split
 * (runtime/dlrt_fewshot.h) */
enum { DLC_MAX_FEW_SHOT = 8 };

typedef struct few_shot_config {
    int output;        /* the embedding: index in the graph's outputs */
    const char *input; /* the model input fed each test image */
    int64_t n_way, k_shot, queries, episodes; /* classes, shots and queries per episode */
    unsigned classes;  /* bit c: class c may be drawn */
    int cosine;        /* metric cosine (else l2) */
    src_loc loc;       /* where it is written */
    src_loc input_loc; /* where image = ... is written */
} few_shot_config;

/* data = csv("iris.csv", x = [...], y = "species", test = 0.2, ...): the user's table, as
 * written (paths relative to the .dl file; the driver resolves them; runtime/dlrt_table.h) */
typedef struct table_config {
    int format;              /* 0: none (a named dataset); 1: csv (DLRT_TABLE_*) */
    const char *file;        /* the training file (or the one file split) */
    const char *test_file;   /* test_file = "...", or NULL: the test split is `test` of file */
    const char **x_cols;     /* feature columns, or NULL with a range */
    int n_x;                 /* entries of x_cols */
    const char *x_first, *x_last; /* range("first", "last") of header columns */
    const char **y_cols;     /* target columns (one for labels) */
    int n_y;                 /* entries of y_cols */
    int labels;              /* the target input is i32[]: class indices */
    int64_t classes;         /* classes = N: labels must be < N (0: not given) */
    const char *group;       /* group = "column": no group in two splits (NULL: none) */
    char delimiter;          /* delimiter = ";" (default ',') */
    double test;             /* test = 0.2: the test share of file */
    int stratify;            /* stratify = 1: each class's share kept in every split */
} table_config;
/* images = [grid(reconstruction, image, count = 32, columns = 8, name = "..."), ...]: PNG
 * grids of test samples written after the test split with --images DIR (runtime/dlrt_images.h) */
enum { DLC_MAX_IMAGES = 8, DLC_MAX_IMAGE_PARTS = 4 };

typedef struct image_config {
    const char *name;                       /* the file is DIR/NAME.png */
    int n_parts;                            /* values shown side by side per sample */
    int output[DLC_MAX_IMAGE_PARTS];        /* a model value: its index in the graph's outputs; -1: an input */
    const char *input[DLC_MAX_IMAGE_PARTS]; /* an input shown as it is fed (else NULL) */
    int node[DLC_MAX_IMAGE_PARTS];          /* the value's node (for the shape check) */
    int64_t h, w;                           /* each part's image height and width */
    int64_t count, columns;                 /* samples shown, samples per row of the grid */
    double low, high;                       /* the values shown black and white (default 0, 1) */
    int64_t every;                          /* also written after every `every` epochs (0: only
                                               after the test split) */
    src_loc loc;                            /* where it is written */
    src_loc part_loc[DLC_MAX_IMAGE_PARTS];  /* where each part is written */
} image_config;

/* samples = sample(fake, low = -1, high = 1): the value --samples FILE writes as u8 IDX images
 * (frontend/lower_images.c; runtime/dlrt_samples.c) */
typedef struct samples_config {
    int present;           /* the setting is written */
    int output;            /* a model value: its index in the graph's outputs; -1: an input */
    const char *input;     /* an input, written as it is fed (else NULL) */
    int node;              /* the value's node (shape check, the weights it reads) */
    int64_t h, w;          /* each sample's image height and width */
    double low, high;      /* the values written as 0 and 255 (low < high) */
    src_loc loc;           /* where sample(...) is written */
    src_loc value_loc;     /* where its value is written */
} samples_config;

/* step NAME { loss = ...; optimizer = ...; params = [...]; repeat = k } in a train block (or
 * in a phase): one alternating update (frontend/lower_step.c). A train block without steps is
 * one step (n_steps 0 in train_config: its own loss and opt). */
enum { DLC_MAX_STEPS = IR_MAX_STEPS, DLC_MAX_PHASES = 4 };

typedef struct step_config {
    const char *name;      /* step NAME */
    src_loc loc;           /* where NAME is written */
    int loss;              /* its loss node */
    int loss_output;       /* the loss's index in the graph's outputs (evaluation reads it) */
    opt_config opt;        /* its optimizer, clipping and learning-rate schedule */
    int64_t repeat;        /* calls per training iteration (>= 1) */
    const char **params;   /* params = [...]: full parameter names or prefixes ending in '.' */
    int n_params;          /* entries of params (0: every parameter) */
    int phase;             /* the phase it belongs to */
} step_config;

/* phase NAME { epochs = E; step ... { } ... } (or the step settings themselves): phases run one
 * after another, each over its own epochs; a train block without phases is one phase. */
typedef struct phase_config {
    const char *name;      /* phase NAME (NULL: the train block's single implicit phase) */
    src_loc loc;           /* where NAME is written */
    int64_t epochs;        /* its passes over the training split */
    int first_step;        /* its steps: steps[first_step .. first_step + n_steps) */
    int n_steps;           /* entries */
} phase_config;

typedef struct train_config {
    int present;             /* the file has a train block */
    const char *model;       /* name of the model trained (or the only model) */
    const char *dataset;     /* runtime dataset name: "mnist", "fashion-mnist" or "sine" */
    const char *feature_input; /* model input fed the dataset's samples (images, x; NULL: none) */
    const char *target_input;  /* model input fed its labels or real targets (NULL: none) */
    sine_config sine;        /* the sine dataset's parameters */
    table_config table;      /* data = csv(...): the user's file */
    int normalize;           /* DLRT_NORM_*: input scaling computed on the training split */
    int normalize_per_feature; /* normalize = standardize(per_feature = 1): per sample element */
    unsigned classes;        /* classes = [...]: bit c keeps class c (0: every class) */
    int64_t limit;           /* limit = N: the training split's first N samples (0: all) */
    int64_t test_limit;      /* test_limit = N: the test split's first N samples (0: all) */
    int arity;               /* data = pairs(...): 2, triplets(...): 3, else 0 */
    double same_share;       /* pairs: the probability that a pair is of one class */
    int64_t tuples;          /* pairs, triplets: per training epoch (0: the training part's size) */
    int64_t test_tuples;     /* pairs, triplets: drawn from the test split (0: its size) */
    const char *member_input[3]; /* pairs, triplets: the inputs fed each sample of a tuple */
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
    few_shot_config few_shot[DLC_MAX_FEW_SHOT]; /* evaluate = [few_shot(...), ...] */
    int n_few_shot;          /* entries in few_shot */
    image_config images[DLC_MAX_IMAGES]; /* images = [grid(...), ...] */
    int n_images;            /* entries in images */
    samples_config samples;  /* samples = sample(...) (present 0: none) */
    opt_config opt;          /* optimizer (of a train block without steps) */
    step_config steps[DLC_MAX_STEPS]; /* step sections, in order (phases' steps included) */
    int n_steps;             /* entries (0: the train block is one step of its own) */
    phase_config phases[DLC_MAX_PHASES]; /* phase sections, in order */
    int n_phases;            /* entries (0: one phase, the train block's epochs) */
} train_config;

/* The inputs the runtime feeds normalised samples (none unless cfg->normalize): the feature
 * input, or each member input of a pair or triplet (all fed the same normalised samples), in
 * order, into names. Returns how many. */
int ir_normalized_inputs(const train_config *cfg, const char *names[3]);

#endif
