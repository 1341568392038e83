/*
 * cg_c_prelude.c — the fixed text at the top of every generated file: includes, the embedded
 * ABI, the `real` type and its math functions, and the GEMM entry (OpenBLAS when compiled with
 * -DDLC_USE_CBLAS, else a portable kernel so embedded builds need only libm), and, for models
 * with dropout or noise, the counter-based random functions their training step uses.
 */
#include "cg_c_internal.h"

/* tgmath.h: the R_ functions follow their argument's type, so a rank-0 loop computing in
 * double (see cg_c.c) calls the double functions while float loops keep the float ones */
static const char prelude_math[] =
    "#include <tgmath.h>\n"
    "#include <stddef.h>\n"
    "#include <string.h>\n";

/* Elementwise loops over many elements run on every core when the file is compiled with
 * OpenMP (dlc --run does); without it the pragma is empty and the C stays plain C99 */
static const char prelude_parallel[] =
    "#if defined(_OPENMP)\n"
    "#include <omp.h>\n"
    "#define DLC_PRAGMA(x) _Pragma(#x)\n"
    "#define DLC_PARALLEL_FOR(count) DLC_PRAGMA(omp parallel for schedule(static) if((count) >= DLC_PARALLEL_MIN_WORK))\n"
    "#else\n"
    "#define DLC_PARALLEL_FOR(count)\n"
    "#endif\n";

static const char prelude_f32[] =
    "typedef float real;\n"
    "#define DLC_GEMM_BLAS cblas_sgemm\n";

static const char prelude_f64[] =
    "typedef double real;\n"
    "#define DLC_GEMM_BLAS cblas_dgemm\n";

static const char prelude_functions[] =
    "#define R_EXP exp\n#define R_LOG log\n#define R_SQRT sqrt\n#define R_TANH tanh\n"
    "#define R_POW pow\n#define R_FMAX fmax\n#define R_FMIN fmin\n#define R_FABS fabs\n"
    "#define R_LOG1P log1p\n#define R_EXPM1 expm1\n#define R_ERFC erfc\n";

/* One thread pool: compiled with OpenMP, the generated code runs its threads itself (a large
 * GEMM is split across them, the convolutions run samples on them, each calling the GEMM on
 * its own), so OpenBLAS, whose pthreads pool would compete with OpenMP's for the same cores,
 * is set to one thread before the first GEMM (process-wide: a program embedding this C with
 * -fopenmp gets the same). */
static const char prelude_gemm[] =
    "#ifdef DLC_USE_CBLAS\n"
    "#include <cblas.h>\n"
    "#endif\n\n"
    "/* OpenBLAS on one thread (once, outside parallel regions): the threads are OpenMP's */\n"
    "static void dlc_blas_serial(void) {\n"
    "#if defined(DLC_USE_CBLAS) && defined(_OPENMP) && defined(OPENBLAS_VERSION)\n"
    "    static int done;\n"
    "    if (!done && !omp_in_parallel()) {\n"
    "        openblas_set_num_threads(1);\n"
    "        done = 1;\n"
    "    }\n"
    "#endif\n"
    "}\n\n"
    "/* C[M,N] = op(A) op(B) + beta C on the calling thread, row-major with leading dimensions;\n"
    " * op transposes when ta/tb is set */\n"
    "static void dlc_gemm_1(int ta, int tb, long M, long N, long K, const real *A, long lda,\n"
    "                       const real *B, long ldb, real beta, real *C, long ldc) {\n"
    "#ifdef DLC_USE_CBLAS\n"
    "    DLC_GEMM_BLAS(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,\n"
    "                  (int)M, (int)N, (int)K, 1, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);\n"
    "#else\n"
    "    for (long i = 0; i < M; i++) {\n"
    "        real *c = C + i * ldc;\n"
    "        for (long j = 0; j < N; j++) c[j] = beta == 0 ? (real)0 : beta * c[j];\n"
    "        for (long k = 0; k < K; k++) {\n"
    "            const real a = ta ? A[k * lda + i] : A[i * lda + k];\n"
    "            if (tb) {\n"
    "                for (long j = 0; j < N; j++) c[j] += a * B[j * ldb + k];\n"
    "            } else {\n"
    "                const real *b = B + k * ldb;\n"
    "                for (long j = 0; j < N; j++) c[j] += a * b[j];\n"
    "            }\n"
    "        }\n"
    "    }\n"
    "#endif\n"
    "}\n\n"
    "/* dlc_gemm_1 on every thread: a product of at least DLC_GEMM_PARALLEL_MIN multiply-adds,\n"
    " * called outside a parallel region, is cut into blocks of rows of C (or of columns, when\n"
    " * wider than tall), one per thread; each element is computed as on one thread. dlc_gemm:\n"
    " * the dense case (beta 0, no padding between rows). */\n"
    "#define DLC_GEMM_PARALLEL_MIN 262144.0\n"
    "static void dlc_gemm_ld(int ta, int tb, long M, long N, long K, const real *A, long lda,\n"
    "                        const real *B, long ldb, real beta, real *C, long ldc) {\n"
    "    dlc_blas_serial();\n"
    "#if defined(_OPENMP)\n"
    "    const long T = omp_get_max_threads(), rows = M >= N, len = rows ? M : N;\n"
    "    if (T > 1 && len > 16 && !omp_in_parallel() && (double)M * N * K >= DLC_GEMM_PARALLEL_MIN) {\n"
    "        const long block = ((len + T - 1) / T + 15) / 16 * 16, parts = (len + block - 1) / block;\n"
    "#pragma omp parallel for schedule(static) num_threads(parts)\n"
    "        for (long p = 0; p < parts; p++) {\n"
    "            const long lo = p * block, m = len - lo < block ? len - lo : block;\n"
    "            if (rows)\n"
    "                dlc_gemm_1(ta, tb, m, N, K, ta ? A + lo : A + lo * lda, lda, B, ldb, beta,\n"
    "                           C + lo * ldc, ldc);\n"
    "            else\n"
    "                dlc_gemm_1(ta, tb, M, m, K, A, lda, tb ? B + lo * ldb : B + lo, ldb, beta,\n"
    "                           C + lo, ldc);\n"
    "        }\n"
    "        return;\n"
    "    }\n"
    "#endif\n"
    "    dlc_gemm_1(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);\n"
    "}\n"
    "#define dlc_gemm(ta, tb, M, N, K, A, B, C) \\\n"
    "    dlc_gemm_ld(ta, tb, M, N, K, A, (ta) ? (M) : (K), B, (tb) ? (K) : (N), 0, C, N)\n\n";

static const char prelude_stdint[] = "#include <stdint.h>\n\n";

/* shared with the CUDA backend (cg_cuda_prelude.c), which compiles it as device code */
void cg_c_random_prelude(cg_c *c, int with_normal) {
    sb_puts(c->x.out, prelude_stdint);
    sb_puts(c->x.out, cg_random_text);
    if (with_normal) sb_puts(c->x.out, cg_normal_text);
}

/* an op that calls dlc_gemm (OPF_GEMM: matmul, a convolution and its input and weight
 * gradients) */
static int uses_gemm(const ir_graph *g) {
    for (int id = 0; id < g->n_nodes; id++)
        if (ir_op_uses_gemm(g->nodes[id].op)) return 1;
    return 0;
}

void cg_c_prelude(cg_c *c) {
    sb_puts(c->x.out, prelude_math);
    sb_puts(c->x.out, "\n");
    if (!c->x.g->weights) { /* inference C has no descriptor: it needs none of the ABI */
        sb_puts(c->x.out, cg_c_abi_text);
        sb_puts(c->x.out, "\n");
    }
    sb_puts(c->x.out, c->o->f64 ? prelude_f64 : prelude_f32);
    sb_puts(c->x.out, prelude_functions);
    sb_printf(c->x.out, "#define DLC_PARALLEL_MIN_WORK %dL\n", CG_C_PARALLEL_MIN_WORK);
    sb_puts(c->x.out, prelude_parallel);
    if (uses_gemm(c->x.g)) sb_puts(c->x.out, prelude_gemm); /* only where called: unused statics warn */
    else sb_puts(c->x.out, "#ifdef DLC_USE_CBLAS\n#include <cblas.h>\n#endif\n\n");
}
