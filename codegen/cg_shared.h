/*
 * cg_shared.h — the target-neutral layer under the C and CUDA backends (cg_loop.c, cg_expr.c,
 * cg_geometry.c): the small context both emit through, the fused loop of an elementwise group,
 * the elementwise expressions (one per op, the same text in a C loop and in a CUDA kernel),
 * the row bodies and loss terms both run, the conv / pool / batchnorm geometry and
 * batchnorm's formulas. Each backend fills a cg_ctx, points it at its cg_backend
 * (cg_backend.h) and keeps its own state beside it; nothing here knows which target it is.
 *
 * Naming in generated code: every materialised value of node %K is `tK` (a pointer: param,
 * state, input or arena buffer); a value computed inside a fused loop is the local `vK`; a
 * per-step scalar is `sK` (a real, or a long long for integer scalars such as the random seed
 * and the step); constants are inlined as literals.
 */
#ifndef DLC_CG_SHARED_H
#define DLC_CG_SHARED_H
#include "../passes/memplan.h"
#include "../support/strbuf.h"
#include "cg_backend.h"

struct cg_ctx {
    const ir_graph *g;          /* graph being emitted */
    arena *a;                   /* compilation arena */
    strbuf *out;                /* generated text */
    const cg_backend *be;       /* the target's hooks (cg_backend.h) */
    void *target;               /* the backend's own state (cg_c, cg_cu), for its hooks */
    const mem_fn_plan *fn;      /* the function being emitted: its schedule and buffers */
    const int *group;           /* per node: fusion group in that function, or -1 */
    const char *stored;         /* per node: has a buffer in that function */
    int in_double;              /* emitting a rank-0 loop: its arithmetic is in double */
    int train;                  /* emitting train_step (1: dropout and noise draw, batchnorm uses
                                   the batch's statistics) or eval_step (0) */
    int batch_stats;            /* eval_step normalizes batchnorm with the batch's statistics */
    int check_numerics;         /* --check-numerics: values are tested, loops stay serial */
    int hold_stops;             /* gradcheck: stop_gradient records its values, or replays them
                                   while the generated dlc_hold is set (cg_c_options) */
};

/* an op's expression over its operands' expressions `args`, appended to `expr` */
typedef void (*cg_expr_fn)(cg_ctx *x, int id, const char *const *args, strbuf *expr);
/* per op of kind FUSED in ops.def, its expression (cg_expr.c): the elementwise ops, assign
 * (whose caller stores the value into its target) and reshape (the identity). Each sits in a
 * fusion group of passes/schedule.c and is emitted only by cg_fused_loop; the backends'
 * statement tables map these ops to a guard that reports an internal error (they never reach
 * a statement emitter). NULL for the ops that are statements of their backend. */
extern const cg_expr_fn cg_expr_emitters[IR_OP_COUNT];

const ir_node *cg_node(cg_ctx *x, int id);
/* A dimension as C text: "n" for the batch dim of a batched shape, else the number. */
const char *cg_dim(cg_ctx *x, const ir_shape *s, int i);
/* Element count as C text: "((long)n * INNER)" for batched shapes, else the number. */
const char *cg_count(cg_ctx *x, const ir_shape *s);
/* A rank-0 value as an expression: a literal for constants (of type real, or double inside a
 * rank-0 loop), sK for step scalars, tK[0]. */
const char *cg_scalar(cg_ctx *x, int id);

/* The fused loop of the group at list[*k] (list: the schedule, n entries): the backend's loop
 * header over the group's space (cg_backend.loop_open), for each member its value `vK` (also
 * stored to tK when it has a buffer) or, for an assign, the update of its target, each tested
 * by cg_backend.element_check; then the loop's end. *k is left on the group's last node. */
void cg_fused_loop(cg_ctx *x, const int *list, int n, int *k);

/* Row ops: the loop body that computes row `r` of node id (softmax, softmax_grad,
 * log_softmax, log_softmax_grad), C being the row length as text ("10", or a variable's
 * name); and the body's common start: row r of tX's max `m` and `s` = sum(exp(x - m)). */
const char *cg_row_body(cg_ctx *x, int id, const char *C);
const char *cg_row_max_sum(cg_ctx *x, int src, const char *C);
/* The term an element loss (mse, mae, smooth_l1, huber, bce, bce_with_logits, hinge) sums,
 * over the prediction `p` and the target `t` (NULL for other ops). */
const char *cg_elem_loss_term(cg_ctx *x, int id);

/* issue 13 ops2 — axis reductions (cg_axis.c): the statements that compute element `q` of
 * sum_axis, max_axis, expand_axis or max_axis_grad (q a long in [0, the count of
 * cg_axis_space)), the same in a C loop and a CUDA thread */
const char *cg_axis_body(cg_ctx *x, int id);
const ir_shape *cg_axis_space(cg_ctx *x, int id);

/* ---- geometry and formulas of the layer ops (cg_geometry.c) ---- */

/* batchnorm: channel c of x [B, C] or [B, C, H, W] is B runs of `inner` values */
typedef struct cg_bn_geom {
    const char *outer; /* the batch: "n" or a number */
    long long C;       /* channels, dims[1] */
    long long inner;   /* values per (sample, channel): H * W, or 1 */
    long long numel;   /* values of x at the compiled batch size */
} cg_bn_geom;
cg_bn_geom cg_bn_geometry(cg_ctx *x, int src);
/* Batchnorm's per-channel lines and values, in terms of channel `c`, element index `k`, the
 * channel's count `cnt` and (the gradients) its sums `sdy` and `dot` (of dy and of
 * (x - mean) dy): the line of `mean` and `invstd` from statistics tS; the running statistics
 * copied into node id's (evaluation); the lines of `alpha` and `shift` (y = x alpha + shift,
 * with gamma and beta when the node has them); batchnorm_grad's setup lines and the statement
 * of its element k; batchnorm_param_grad's value; batchnorm_running's value. */
const char *cg_bn_mean_invstd(cg_ctx *x, const cg_bn_geom *g, int stats, double eps);
const char *cg_bn_running_stats(cg_ctx *x, int id, const cg_bn_geom *g);
const char *cg_bn_affine(cg_ctx *x, int id);
const char *cg_bn_grad_setup(cg_ctx *x, int id);
const char *cg_bn_grad_value(cg_ctx *x, int id);
const char *cg_bn_param_grad_value(cg_ctx *x, int id);
const char *cg_bn_running_value(cg_ctx *x, int id, const cg_bn_geom *g);

/* a pooling node's input x [.., C, H, W] and output [.., C, OH, OW] (kernel K, stride S,
 * padding P); each backend spells the number of planes (batch x channels) its own way */
typedef struct cg_pool_geom {
    long long H, W;       /* input plane */
    long long OH, OW;     /* output plane */
    long long K, S, P;    /* kernel, stride, padding */
    int x;                /* id of the input x */
    long long numel;      /* values of x at the compiled batch size */
} cg_pool_geom;
cg_pool_geom cg_pool_geometry(const ir_graph *g, int fwd);

/* The shapes of x, w and y a conv2d (or conv gradient) node works with: x is input 0 of
 * conv2d and weight_grad, input 2 of input_grad; w is 1, 2, 1. */
void cg_conv_shapes(const ir_graph *g, int id, const ir_shape **x, const ir_shape **w,
                    const ir_shape **y);
/* its geometry: torch.nn.Conv2d's arguments (per-side padding) and what follows from them */
typedef struct cg_conv_geom {
    long long C, H, W, O, kh, kw, OH, OW, sh, sw, pt, pl, dh, dw, groups; /* torch's arguments */
    long long P, K, Og, CKK; /* pixels per plane, column rows per group, outputs per group, rows */
    long long B;             /* the compiled batch */
} cg_conv_geom;
cg_conv_geom cg_conv_geometry(const ir_graph *g, int id);

/* The counter-based random functions dropout and noise call (dlc_mix, dlc_key, dlc_uniform;
 * dlc_normal), as text without includes: C code and CUDA device code alike. */
extern const char cg_random_text[];
/* Whether a function of g draws: a random op (dropout, gaussian_noise) when train_step is
 * emitted, or a sample (normal, uniform, bernoulli: every step function); *with_normal: whether
 * one of them needs dlc_normal (cg_normal_text). */
int cg_needs_random(const ir_graph *g, int has_train, int *with_normal);
extern const char cg_normal_text[];

/* --check-numerics: "(!isfinite(ARG0) ? 0 : ... -1)", which of node id's element operands
 * args is not finite first (-1: none); and how input j of an unfused node is tested as a
 * whole: not at all (a literal, an i32, a value inside a fused loop), a per-step scalar sJ,
 * or a buffer tJ of its shape's count. */
const char *cg_numerics_inputs(cg_ctx *x, int id, const char *const *args);
enum cg_numerics_whole { CG_WHOLE_NONE, CG_WHOLE_SCALAR, CG_WHOLE_BUFFER };
int cg_numerics_whole(cg_ctx *x, int j);

/* ---- issue 13 ops1: tensor ops (cg_tensor.c) ---- */

/* The value of node id's element at linear index q (a C expression of type long) for
 * transpose, slice_grad, one_hot and fill: the same text in a C loop and in a CUDA kernel. */
const char *cg_transpose_value(cg_ctx *x, int id, const char *q);
const char *cg_slice_grad_value(cg_ctx *x, int id, const char *q);
const char *cg_one_hot_value(cg_ctx *x, int id, const char *q);
const char *cg_fill_value(cg_ctx *x, int id, const char *q);

#endif
