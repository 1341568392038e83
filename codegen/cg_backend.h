/*
 * cg_backend.h — the backend interface: what a code generation target tells the shared layer
 * (cg_shared.h) and the driver. One descriptor per target (cg_c_backend in cg_c.c,
 * cg_cuda_backend in cg_cuda.c), in the manner of QBE's Target: the memory options it plans
 * with (the bytes of a real, its workspaces; the driver plans through them too), and how it
 * spells what the shared layer emits for it: the header of a fused loop and the test of a
 * fused element. Each target's entry point (cg_c_generate, cg_cuda_generate) stays its own,
 * as their outputs differ (C source; a dlrt_cuda_program of kernels and launch tables).
 */
#ifndef DLC_CG_BACKEND_H
#define DLC_CG_BACKEND_H
#include "../ir/ir.h"

struct mem_options;
typedef struct cg_ctx cg_ctx; /* the shared layer's context (cg_shared.h) */

typedef struct cg_backend {
    /* The memory options the target plans with: 8-byte reals when f64 (the C backend's
     * gradient checks; the CUDA backend is f32 only), values sharing bytes when reuse, and
     * the target's workspace function (cg_c_workspace_reals, cg_cuda_workspace_reals). */
    void (*mem_options)(int f64, int reuse, struct mem_options *mo);
    /* Opens the loop of a fused group over space `sp` (its index `i`), through the line that
     * opens its body; the shared layer writes the body and the closing "    }". */
    void (*loop_open)(cg_ctx *x, const ir_shape *sp);
    /* --check-numerics inside a fused loop: after node id's `value` (vK, or what an assign
     * stores) at schedule position pos is computed, with the node's element operands args. */
    void (*element_check)(cg_ctx *x, int id, int pos, const char *value, const char *const *args);
} cg_backend;

extern const cg_backend cg_c_backend, cg_cuda_backend;

#endif
