/*
 * train_config.c — the names of the training configuration's enumerations (train_config.h).
 */
#include "train_config.h"

const char *const ir_opt_names[OPT_COUNT] = {
    [OPT_SGD] = "sgd", [OPT_RMSPROP] = "rmsprop", [OPT_ADAGRAD] = "adagrad",
    [OPT_ADAM] = "adam", [OPT_ADAMW] = "adamw",
};

const char *const ir_sched_names[DLRT_SCHED_COUNT] = {
    [DLRT_SCHED_CONSTANT] = "constant", [DLRT_SCHED_STEP] = "step",
    [DLRT_SCHED_EXPONENTIAL] = "exponential", [DLRT_SCHED_COSINE] = "cosine",
};
