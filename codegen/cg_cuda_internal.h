/*
 * cg_cuda_internal.h — state shared by the CUDA generator's files: cg_cuda.c (plan, fusion
 * groups, kernels of each function, launch tables), cg_cuda_ops.c and cg_cuda_nn.c (one emitter
 * per op), cg_cuda_prelude.c (fixed device code), cg_cuda_numerics.c (--check-numerics) and
 * cg_cuda_host.c (the program as C text).
 *
 * Naming in kernels, as in the C backend: a stored value of node %K is `tK` (a pointer into the
 * arena or the weights), a value computed inside a fused kernel is the local `vK`, a per-step
 * scalar `sK`. Fused groups are the shared layer's loops and expressions (cg_shared.h), so
 * both backends compute the same expressions.
 */
#ifndef DLC_CG_CUDA_INTERNAL_H
#define DLC_CG_CUDA_INTERNAL_H
#include "cg_cuda.h"
#include "cg_shared.h"

typedef struct cg_cu {
    cg_ctx x;                   /* the shared layer's context: graph, arena, the kernel source,
                                   the function being emitted */
    const cg_cuda_options *o;   /* options */
    mem_plan plan;              /* the memory plan (CUDA workspaces) */
    long long *input_offset;    /* per node id: arena byte offset of an input leaf */
    int *index;                 /* per node id: input / scalar position */
    long long scalars_offset;   /* arena byte offset of the scalars */
    int n_kernels;              /* kernels emitted so far (names k0, k1, ...) */
    dlrt_cuda_launch *launches; /* the current function's table */
    int n_launches, cap_launches; /* its entries and capacity */
    char *declared;             /* per node id: declared in the kernel being written */
    long long numerics_offset;  /* --check-numerics: arena byte offset of the record, -1: off */
} cg_cu;

typedef void (*cg_cu_emit_fn)(cg_cu *c, int id);
/* per op: NULL-free; elementwise ops go through cg_cu_elementwise (fused groups) */
extern const cg_cu_emit_fn cg_cu_emitters[IR_OP_COUNT];

const ir_node *cg_cu_node(cg_cu *c, int id);
int cg_cu_in(cg_cu *c, int id, int i);
const ir_node *cg_cu_in_node(cg_cu *c, int id, int i);
/* A count as C text in n (like cg_count, with an L suffix) and as a linear function of n. */
const char *cg_cu_count(cg_cu *c, const ir_shape *s);
dlrt_cuda_lin cg_cu_count_lin(const ir_shape *s);
dlrt_cuda_lin cg_cu_lin(long long a, long long b);

/* Opens a kernel (its name is returned) and declares tK / sK for node ids ids[0..n) that it
 * reads or writes; cg_cu_declare adds one more. */
const char *cg_cu_kernel_open(cg_cu *c, const int *ids, int n);
/* cg_cu_kernel_open over node id and its inputs */
const char *cg_cu_kernel_open_node(cg_cu *c, int id);
void cg_cu_declare(cg_cu *c, int id);
void cg_cu_kernel_close(cg_cu *c);
/* Appends a kernel launch of `work` threads (blocks of `block`, at most max_blocks blocks;
 * 0: no cap beyond the grid's). */
void cg_cu_launch(cg_cu *c, int node, const char *kernel, dlrt_cuda_lin work, int block,
               int max_blocks);
/* A device pointer to node id's values (weights, input staging or its planned buffer), plus
 * `extra` bytes. */
dlrt_cuda_ptr cg_cu_ptr(cg_cu *c, int id, dlrt_cuda_lin extra);
/* Appends a GEMM launch (row-major, see dlrt_cuda_launch) for node `node`, with cuBLAS's
 * workspace at the start of node's planned workspace. */
void cg_cu_gemm(cg_cu *c, int node, int ta, int tb, dlrt_cuda_lin m, dlrt_cuda_lin n,
             dlrt_cuda_lin k, dlrt_cuda_ptr a, dlrt_cuda_lin lda, dlrt_cuda_ptr b,
             dlrt_cuda_lin ldb, double beta, dlrt_cuda_ptr cc, dlrt_cuda_lin ldc);
/* The arena byte offset of node id's workspace past cuBLAS's part (conv columns). */
long long cg_cu_workspace_cols(cg_cu *c, int id);

/* The fixed device code (math overloads, random functions, block sums). */
void cg_cu_prelude(cg_cu *c);

/* cg_cuda_nn.c: pooling, concatenation, batchnorm, convolution */
void cg_cu_emit_max_pool2d(cg_cu *c, int id);
void cg_cu_emit_max_pool2d_grad(cg_cu *c, int id);
void cg_cu_emit_avg_pool2d(cg_cu *c, int id);
void cg_cu_emit_avg_pool2d_grad(cg_cu *c, int id);
void cg_cu_emit_global_avg_pool(cg_cu *c, int id);
void cg_cu_emit_global_avg_pool_grad(cg_cu *c, int id);
void cg_cu_emit_concat(cg_cu *c, int id);
void cg_cu_emit_slice(cg_cu *c, int id);
/* cg_cuda_tensor.c: issue 13 ops1's tensor ops */
void cg_cu_emit_transpose(cg_cu *c, int id);
void cg_cu_emit_slice_grad(cg_cu *c, int id);
void cg_cu_emit_one_hot(cg_cu *c, int id);
void cg_cu_emit_fill(cg_cu *c, int id);
void cg_cu_emit_batchnorm_stats(cg_cu *c, int id);
void cg_cu_emit_batchnorm(cg_cu *c, int id);
void cg_cu_emit_batchnorm_grad(cg_cu *c, int id);
void cg_cu_emit_batchnorm_param_grad(cg_cu *c, int id);
void cg_cu_emit_batchnorm_running(cg_cu *c, int id);
void cg_cu_emit_conv2d(cg_cu *c, int id);
void cg_cu_emit_conv2d_input_grad(cg_cu *c, int id);
void cg_cu_emit_conv2d_weight_grad(cg_cu *c, int id);
void cg_cu_emit_conv2d_bias_grad(cg_cu *c, int id);

/* --check-numerics (cg_cuda_numerics.c), nothing unless the record is on and in the training
 * step: the record's device functions (prelude), the test of a value `value` of node id at
 * schedule position pos in a fused kernel (args: its element operands), and the two check
 * kernels after an unfused node's launches. */
void cg_cu_numerics_prelude(cg_cu *c);
void cg_cu_numerics_element(cg_ctx *x, int id, int pos, const char *value, const char *const *args);
void cg_cu_numerics_node(cg_cu *c, int id, int pos);

/* threads per block of the kernels (reductions included: the block sums assume it) */
enum { CU_BLOCK = 256, CU_MAX_BLOCKS = 8192 };

#endif
