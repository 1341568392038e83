/*
 * cg_c_internal.h — state shared by the C generator's files: cg_c.c (storage plan, fusion
 * groups, functions, tables), cg_c_ops.c (one emitter per op), cg_c_pool.c (the emitters for
 * pooling and concatenation) and cg_c_prelude.c (fixed text).
 *
 * Naming in generated code: every materialised value of node %K is `tK` (a pointer: param,
 * state, input or arena buffer); a value computed inside a fused loop is the local `vK`; a
 * per-step scalar is `sK` (a real, or a long long for integer scalars such as the random seed
 * and the step); constants are inlined as literals.
 */
#ifndef DLC_CG_C_INTERNAL_H
#define DLC_CG_C_INTERNAL_H
#include "../passes/memplan.h"
#include "../support/strbuf.h"
#include "cg_c.h"

typedef struct cg_c {
    const ir_graph *g;        /* graph being emitted */
    const cg_c_options *o;    /* options */
    arena *a;                 /* compilation arena */
    strbuf *out;              /* generated text */
    mem_plan plan;            /* the memory plan: weights offsets, each function's arena */
    const mem_fn_plan *fn;    /* the function being emitted: its schedule and buffers */
    const int *group;         /* per node: fusion group in the function being emitted, or -1 */
    const char *stored;       /* per node: has a buffer in the function being emitted */
    long long *offset;        /* weights element offset (leaves) or arena byte offset (outputs:
                                 pinned, the same in both functions) */
    int *index;               /* input position in inputs[] / scalar position in scalars[] */
    long long arena_bytes;    /* total arena size */
    long long weights_count;  /* total reals in the weights block */
    int n_inputs;             /* entries of inputs[] */
    int n_scalars;            /* entries of scalars[] */
    int in_double;            /* emitting a rank-0 loop: its arithmetic is in double */
    int train;                /* emitting train_step (1: dropout and noise draw, batchnorm uses
                                 the batch's statistics) or eval_step (0) */
} cg_c;

typedef void (*cg_emit_fn)(cg_c *c, int id, const char *const *args, strbuf *expr);
extern const cg_emit_fn cg_c_emitters[IR_OP_COUNT];

/* A dimension as C text: "n" for the batch dim of a batched shape, else the number. */
const char *cg_c_dim(cg_c *c, const ir_shape *s, int i);
/* Element count as C text: "((long)n * INNER)" for batched shapes, else the number. */
const char *cg_c_count(cg_c *c, const ir_shape *s);
/* Marks the loop emitted next as parallel over its iterations (OpenMP, when the C is compiled
 * with it) when the elements it touches, `work` (a C expression) at run time and at most
 * `max_work`, are enough to pay for waking the threads. Its iterations must be independent. */
enum { CG_C_PARALLEL_MIN_WORK = 65536 };
void cg_c_parallel(cg_c *c, const char *work, long long max_work);
const ir_node *cg_c_node(cg_c *c, int id);
/* A rank-0 value as a C expression: a literal for constants (of type real, or double inside a
 * rank-0 loop), sK for step scalars, tK[0]. */
const char *cg_c_scalar(cg_c *c, int id);

/* Row ops (cg_c_ops.c): the loop body that computes row `r` of node id (softmax,
 * softmax_grad, log_softmax, log_softmax_grad), C being the row length as C text ("10", or a
 * variable's name); the CUDA backend runs the same bodies one thread per row. And the body's
 * common start: row r of tX's max `m` and `s` = sum(exp(x - m)). */
const char *cg_c_row_body(cg_c *c, int id, const char *C);
const char *cg_c_row_max_sum(cg_c *c, int x, const char *C);
/* batchnorm's per-channel `alpha` and `shift` lines from `mean` and `invstd` (cg_c_ops.c) */
const char *cg_c_batchnorm_affine(cg_c *c, int id);

/* cg_c_pool.c: pooling and concatenation over NCHW images */
void emit_max_pool2d(cg_c *c, int id, const char *const *a, strbuf *e);
void emit_max_pool2d_grad(cg_c *c, int id, const char *const *a, strbuf *e);
void emit_avg_pool2d(cg_c *c, int id, const char *const *a, strbuf *e);
void emit_avg_pool2d_grad(cg_c *c, int id, const char *const *a, strbuf *e);
void emit_global_avg_pool(cg_c *c, int id, const char *const *a, strbuf *e);
void emit_global_avg_pool_grad(cg_c *c, int id, const char *const *a, strbuf *e);
void emit_concat(cg_c *c, int id, const char *const *a, strbuf *e);
void emit_slice(cg_c *c, int id, const char *const *a, strbuf *e);

/* Inference C (cg_c_infer.c): the weights block as static const data, then the predict API
 * over PREFIX_forward (the evaluation function without a loss). */
void cg_c_infer_weights(cg_c *c);
void cg_c_infer_api(cg_c *c);

/* --check-numerics (cg_c_numerics.c): the record and its helpers, the test of a fused loop's
 * element `value` (with the node's operands `args`), the test of an unfused node's buffer, and
 * PREFIX_numerics; each emits nothing unless check_numerics is set and in the training step. */
void cg_c_numerics_prelude(cg_c *c);
void cg_c_numerics_element(cg_c *c, int id, const char *value, const char *const *args);
void cg_c_numerics_node(cg_c *c, int id);
void cg_c_numerics_api(cg_c *c);
/* Shared with the CUDA backend's check: "(!isfinite(ARG0) ? 0 : ... -1)", which of node id's
 * element operands args is not finite first (-1: none); and how input j of an unfused node is
 * tested as a whole: not at all (a literal, an i32, a value inside a fused loop), a per-step
 * scalar sJ, or a buffer tJ of its shape's count. */
const char *cg_c_numerics_inputs(cg_c *c, int id, const char *const *args);
enum cg_c_numerics_whole { CG_C_WHOLE_NONE, CG_C_WHOLE_SCALAR, CG_C_WHOLE_BUFFER };
int cg_c_numerics_whole(cg_c *c, int j);

extern const char cg_c_abi_text[];
void cg_c_prelude(cg_c *c);
/* The counter-based random functions for train_step's dropout and noise: dlc_key and
 * dlc_uniform, and dlc_normal when with_normal (only what is used: unused statics warn). */
void cg_c_random_prelude(cg_c *c, int with_normal);
/* their text (without includes): dlc_mix, dlc_key, dlc_uniform; dlc_normal */
extern const char cg_c_random_text[];
extern const char cg_c_normal_text[];
/* The term an element loss (mse, mae, smooth_l1, huber, bce, bce_with_logits, hinge) sums,
 * over the prediction `p` and the target `t` (the CUDA backend reduces the same term). */
const char *cg_c_elem_loss_term(cg_c *c, int id);

/* cg_c_conv.c: convolution (im2col + GEMM) and reshape */
void cg_c_conv_prelude(cg_c *c);          /* support functions of the conv ops in the graph */
void emit_conv2d(cg_c *c, int id, const char *const *a, strbuf *e);
void emit_conv2d_input_grad(cg_c *c, int id, const char *const *a, strbuf *e);
void emit_conv2d_weight_grad(cg_c *c, int id, const char *const *a, strbuf *e);
void emit_conv2d_bias_grad(cg_c *c, int id, const char *const *a, strbuf *e);
void emit_reshape(cg_c *c, int id, const char *const *a, strbuf *e);

#endif
