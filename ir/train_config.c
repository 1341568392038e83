/*
 * train_config.c — the names of the training configuration's enumerations, and what the
 * configuration implies (train_config.h).
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

int ir_normalized_inputs(const train_config *cfg, const char *names[3]) {
    if (!cfg->normalize) return 0;
    if (cfg->arity == 0) {
        names[0] = cfg->feature_input;
        return cfg->feature_input != NULL;
    }
    int n = 0;
    for (int k = 0; k < cfg->arity; k++)
        if (cfg->member_input[k]) names[n++] = cfg->member_input[k];
    return n;
}
