/*
 * cg_cuda_prelude.c — the fixed device code at the top of every CUDA translation unit. NVRTC
 * compiles it alone (no #include) with -default-device, so functions without an execution
 * space are device functions: the counter-based random functions (dlc_key, dlc_uniform,
 * dlc_normal; cg_expr.c) are compiled from the very same text as in the C backend, and dropout
 * masks and the samples (normal, uniform, bernoulli) match the CPU's bit for bit. The R_ math names map to the overloaded CUDA math functions, which follow
 * their argument's type as tgmath.h does in the generated C.
 */
#include "cg_cuda_internal.h"

static const char prelude_types[] =
    "typedef float real;\n"
    "typedef unsigned long long uint64_t;\n"
    "#define R_EXP exp\n#define R_LOG log\n#define R_SQRT sqrt\n#define R_TANH tanh\n"
    "#define R_FABS fabs\n"
    "#define R_LOG1P log1p\n#define R_EXPM1 expm1\n#define R_ERFC erfc\n"
    "#define DLC_INF __int_as_float(0x7f800000)\n"
    "/* binary functions as tgmath.h types them: float only when both arguments are float */\n"
    "#define DLC_BINARY(name, f, d) \\\n"
    "    static float name(float a, float b) { return f(a, b); } \\\n"
    "    static double name(double a, double b) { return d(a, b); } \\\n"
    "    static double name(float a, double b) { return d((double)a, b); } \\\n"
    "    static double name(double a, float b) { return d(a, (double)b); }\n"
    "DLC_BINARY(R_POW, powf, pow)\nDLC_BINARY(R_FMAX, fmaxf, fmax)\nDLC_BINARY(R_FMIN, fminf, fmin)\n\n";

static const char prelude_loops[] =
    "/* v over [0, count) spread over the whole grid */\n"
    "#define DLC_FOR(v, count) \\\n"
    "    for (long v = (long)blockIdx.x * blockDim.x + threadIdx.x; v < (long)(count); \\\n"
    "         v += (long)gridDim.x * blockDim.x)\n"
    "/* v over [0, count) spread over the block's threads */\n"
    "#define DLC_BLOCK_FOR(v, count) for (long v = threadIdx.x; v < (long)(count); v += blockDim.x)\n\n"
    "/* the sum of every thread's v, in a fixed order (reproducible: no atomics), to every thread\n"
    " * of the block; blockDim.x must be DLC_BLOCK */\n"
    "static double dlc_block_sum(double v) {\n"
    "    __shared__ double s[DLC_BLOCK];\n"
    "    __syncthreads();\n"
    "    s[threadIdx.x] = v;\n"
    "    __syncthreads();\n"
    "    for (int h = DLC_BLOCK / 2; h > 0; h >>= 1) {\n"
    "        if (threadIdx.x < h) s[threadIdx.x] += s[threadIdx.x + h];\n"
    "        __syncthreads();\n"
    "    }\n"
    "    const double r = s[0];\n"
    "    __syncthreads();\n"
    "    return r;\n"
    "}\n\n";

void cg_cu_prelude(cg_cu *c) {
    sb_puts(c->x.out, prelude_types);
    sb_printf(c->x.out, "#define DLC_BLOCK %d\n", CU_BLOCK);
    sb_puts(c->x.out, prelude_loops);
    cg_cu_numerics_prelude(c);
    int with_normal = 0;
    if (cg_needs_random(c->x.g, c->o->has_train, &with_normal)) {
        sb_puts(c->x.out, cg_random_text);
        if (with_normal) sb_puts(c->x.out, cg_normal_text);
    }
}
