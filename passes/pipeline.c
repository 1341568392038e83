/*
 * pipeline.c — the ordered pass table and the loop that runs it, verifying the IR between
 * passes (ir_verify aborts with an internal error if a pass broke an invariant).
 */
#include "pass.h"
#include <string.h>

const pass_info pass_pipeline[] = {
    {"shape", pass_shape},
    {"autodiff", pass_autodiff},
    {"optimizer", pass_optimizer},
    {"dce", pass_dce},
};
const int pass_pipeline_len = (int)(sizeof pass_pipeline / sizeof pass_pipeline[0]);

const pass_info pass_inference_pipeline[] = {
    {"shape", pass_shape},
    {"inference", pass_inference},
    {"fold_batchnorm", pass_fold_batchnorm},
    {"dce", pass_dce},
};
const int pass_inference_pipeline_len =
    (int)(sizeof pass_inference_pipeline / sizeof pass_inference_pipeline[0]);

int pass_known(const char *name) {
    for (int i = 0; i < pass_pipeline_len; i++)
        if (strcmp(pass_pipeline[i].name, name) == 0) return 1;
    return 0;
}

int pass_run_pipeline(pass_ctx *c, const char *stop_after, int *stopped) {
    *stopped = 0;
    for (int i = 0; i < pass_pipeline_len; i++) {
        if (!pass_pipeline[i].run(c)) return 0;
        ir_verify(c->g);
        if (stop_after && strcmp(stop_after, pass_pipeline[i].name) == 0) {
            *stopped = 1;
            return 1;
        }
    }
    return 1;
}
