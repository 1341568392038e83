/*
 * cg_c_internal.h — state shared by the C generator's files: cg_c.c (storage plan, fusion
 * groups, functions, tables), cg_c_ops.c (one statement emitter per op), cg_c_pool.c (the
 * emitters for pooling and concatenation), cg_c_conv.c, cg_c_numerics.c, cg_c_infer.c and
 * cg_c_prelude.c (fixed text). The op emitters work on the shared layer's context
 * (cg_shared.h: naming of values, fused loops, elementwise expressions); the rest of the C
 * backend's state (options, weights offsets, the tables' positions) sits beside it in cg_c.
 */
#ifndef DLC_CG_C_INTERNAL_H
#define DLC_CG_C_INTERNAL_H
#include "cg_c.h"
#include "cg_shared.h"

typedef struct cg_c {
    cg_ctx x;                 /* the shared layer's context: graph, arena, text, function */
    const cg_c_options *o;    /* options */
    mem_plan plan;            /* the memory plan: weights offsets, each function's arena */
    long long *offset;        /* weights element offset (leaves) or arena byte offset (outputs:
                                 pinned, the same in both functions) */
    int *index;               /* input position in inputs[] / scalar position in scalars[] */
    long long arena_bytes;    /* total arena size */
    long long weights_count;  /* total reals in the weights block */
    int n_inputs;             /* entries of inputs[] */
    int n_scalars;            /* entries of scalars[] */
} cg_c;

/* per op: the statements of an unfused node (ops with an expression get a stub: they are
 * emitted by cg_fused_loop) */
typedef void (*cg_c_emit_fn)(cg_ctx *c, int id);
extern const cg_c_emit_fn cg_c_emitters[IR_OP_COUNT];

/* Marks the loop emitted next as parallel over its iterations (OpenMP, when the C is compiled
 * with it) when the elements it touches, `work` (a C expression) at run time and at most
 * `max_work`, are enough to pay for waking the threads. Its iterations must be independent. */
enum { CG_C_PARALLEL_MIN_WORK = 65536 };
void cg_c_parallel(cg_ctx *c, const char *work, long long max_work);

/* cg_c_pool.c: pooling and concatenation over NCHW images */
void cg_c_emit_max_pool2d(cg_ctx *c, int id);
void cg_c_emit_max_pool2d_grad(cg_ctx *c, int id);
void cg_c_emit_avg_pool2d(cg_ctx *c, int id);
void cg_c_emit_avg_pool2d_grad(cg_ctx *c, int id);
void cg_c_emit_global_avg_pool(cg_ctx *c, int id);
void cg_c_emit_global_avg_pool_grad(cg_ctx *c, int id);
void cg_c_emit_concat(cg_ctx *c, int id);
void cg_c_emit_slice(cg_ctx *c, int id);
/* cg_c_tensor.c: issue 13 ops1's tensor ops */
void cg_c_emit_transpose(cg_ctx *c, int id);
void cg_c_emit_slice_grad(cg_ctx *c, int id);
void cg_c_emit_one_hot(cg_ctx *c, int id);
void cg_c_emit_fill(cg_ctx *c, int id);

/* Inference C (cg_c_infer.c): the weights block as static const data, then the predict API
 * over PREFIX_forward (the evaluation function without a loss). */
void cg_c_infer_weights(cg_c *c);
void cg_c_infer_api(cg_c *c);

/* --check-numerics (cg_c_numerics.c): the record and its helpers, the test of a fused loop's
 * element (cg_c_backend.element_check), the test of an unfused node's buffer, and
 * PREFIX_numerics; each emits nothing unless check_numerics is set and in the training step. */
void cg_c_numerics_prelude(cg_c *c);
void cg_c_numerics_element(cg_ctx *x, int id, int pos, const char *value, const char *const *args);
void cg_c_numerics_node(cg_c *c, int id);
void cg_c_numerics_api(cg_c *c);

extern const char cg_c_abi_text[];
void cg_c_prelude(cg_c *c);
/* The counter-based random functions for train_step's dropout and noise and every step's
 * samples (normal, uniform, bernoulli; cg_needs_random): dlc_key and dlc_uniform, and
 * dlc_normal when with_normal (only what is used: unused statics warn). */
void cg_c_random_prelude(cg_c *c, int with_normal);

/* cg_c_conv.c: convolution (im2col + GEMM) */
void cg_c_conv_prelude(cg_ctx *c);          /* support functions of the conv ops in the graph */
void cg_c_emit_conv2d(cg_ctx *c, int id);
void cg_c_emit_conv2d_input_grad(cg_ctx *c, int id);
void cg_c_emit_conv2d_weight_grad(cg_ctx *c, int id);
void cg_c_emit_conv2d_bias_grad(cg_ctx *c, int id);

#endif
