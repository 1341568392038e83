/*
 * cg_cuda.h — CUDA code generation: the same IR and memory plan as the C backend, lowered to
 * one CUDA C translation unit (kernels compiled at run time by NVRTC, no #include) and a
 * launch table per step function (runtime/dlrt_cuda_program.h) that the CUDA runtime walks:
 * fused elementwise groups as one grid-stride kernel each, reductions as deterministic block
 * reductions (no float atomics), GEMMs (matmul, and conv2d as im2col + GEMM) through cuBLAS.
 * Every formula mirrors the C backend's (the reference), op by op.
 */
#ifndef DLC_CG_CUDA_H
#define DLC_CG_CUDA_H
#include "../ir/ir.h"
#include "../runtime/dlrt_cuda_program.h"

typedef struct cg_cuda_options {
    const char *prefix; /* the model name */
    int has_train;      /* emit the training step */
    int no_reuse;       /* memory plan without reuse: every stored value keeps its bytes for the
                           whole step, so each can be read back after it (--check-cuda) */
    int batch_stats;    /* eval_step normalizes batchnorm with the batch's statistics */
    int check_numerics; /* --check-numerics: the training step notes the first node that made a
                           NaN or an Inf in an 8-byte record after the scalars (numerics_offset;
                           cg_cuda_numerics.c); the plan has no reuse */
} cg_cuda_options;

/* Bytes of cuBLAS workspace each GEMM-calling node gets in its planned workspace. */
enum { CG_CUDA_CUBLAS_WORKSPACE = 4 << 20 };

/* The program: kernel source, launch tables and device memory layout (in the arena), laid out
 * by `plan`: the compilation's memory plan for the CUDA target (the memplan analysis, made
 * with cg_cuda_backend.mem_options, cg_backend.h). */
struct mem_plan;
const dlrt_cuda_program *cg_cuda_generate(const ir_graph *g, const cg_cuda_options *o,
                                          const struct mem_plan *plan, arena *a);

/* The memory plan's workspace function for the CUDA target: conv2d's column buffers over the
 * whole batch plus cuBLAS's workspace for every node that calls a GEMM (reals). */
int64_t cg_cuda_workspace_reals(const ir_graph *g, int id, int64_t batch);

/* The device arena's bytes (cuMemAlloc'd once) for a plan of plan_bytes at batch size `batch`:
 * the plan, then each input's staging buffer and the step's scalars (--mem-report). */
int64_t cg_cuda_arena_bytes(const ir_graph *g, int64_t plan_bytes, int64_t batch);

/* The program as C text (`dlc --target cuda -o`): the kernel source as a string and the
 * launch tables as initialisers of the structs of runtime/dlrt_cuda_program.h, behind
 * `const dlrt_cuda_program *PREFIX_cuda_program(void)`. */
const char *cg_cuda_host_text(const dlrt_cuda_program *p, const char *prefix, arena *a);

#endif
