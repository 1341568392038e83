/*
 * cg_c.h — C code generation. The output is portable C99 that compiles on its own
 * (`cc -std=c99 -Wall -Wextra -Werror -c`): it embeds the runtime ABI (runtime/dlrt_abi.h),
 * calls cblas_?gemm when compiled with -DDLC_USE_CBLAS and otherwise a built-in kernel, fuses
 * runs of elementwise ops into single loops, and exposes one function:
 *     const dlrt_model_desc *PREFIX_model(void);
 * For a graph holding trained weights (g->weights: an inference graph from passes/inference.c)
 * it is instead a forward-only model with its weights as static data and PREFIX_predict
 * (docs/cli.md, cg_c_infer.c).
 */
#ifndef DLC_CG_C_H
#define DLC_CG_C_H
#include "../ir/ir.h"

typedef struct cg_c_options {
    const char *prefix; /* symbol prefix (the model name) */
    int f64;            /* generate double-precision code (gradient checks) */
    int has_train;      /* emit the training step (the graph has backward and update) */
    int no_reuse;       /* memory plan without reuse: every value its own bytes (--no-reuse) */
    int check_numerics; /* --check-numerics: the training step tests every value it computes
                           for NaN and Inf and exports PREFIX_numerics (cg_c_numerics.c);
                           memory is planned without reuse and no loop is parallel */
    int batch_stats;    /* eval_step normalizes batchnorm with the batch's statistics, as
                           train_step does (gradient checks: its gradients are the training ones) */
    int hold_stops;     /* gradient checks: each stop_gradient records its values into a static
                           buffer, or replays them after PREFIX_hold(1), so that finite
                           differences see the stopped path held constant */
} cg_c_options;

/* Reals of scratch memory node id needs in the C backend at batch size `batch` (0: none): the
 * convolutions' column buffers. The memory planner's workspace_fn for the CPU target. */
int64_t cg_c_workspace_reals(const ir_graph *g, int id, int64_t batch);

/* Returns the generated C source (in the arena), laid out by `plan`: the compilation's memory
 * plan for the C target (the memplan analysis, made with cg_c_workspace_reals, o's element
 * size, and reuse unless o->no_reuse or o->check_numerics). */
struct mem_plan;
const char *cg_c_generate(const ir_graph *g, const cg_c_options *o, const struct mem_plan *plan,
                          arena *a);

#endif
