/*
 * cuda_emulate.c — the emulated CUDA device of cuda_device.h. The kernel source is prefixed
 * with a shim (the CUDA keywords as no-ops, one block of one thread, the math functions of
 * <cmath>), compiled by the C++ compiler into a shared object in the model cache (built under
 * a temporary name and renamed, as the C builds are: dlc_run_into) and loaded; each launch of
 * a function (every training step's, the evaluation step's) calls its kernel once (every
 * kernel loops over its whole range whatever the grid: grid-stride loops, per-channel block
 * loops, DLC_BLOCK = 1 for the block sums; one thread, so atomicMin is a plain compare and
 * store), and each GEMM is a plain row-major loop on the host arena and weights.
 */
#include "cuda_device.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void (*emu_kernel)(unsigned char *A, float *W, int n);

typedef struct emu {
    const dlrt_cuda_program *p; /* the program */
    void *so;                   /* the compiled kernels */
    unsigned char *arena;       /* arena_bytes */
    float *weights;             /* weights_count */
    emu_kernel *train[DLRT_CUDA_MAX_STEPS]; /* per training step, per launch: its kernel (NULL
                                   for GEMMs) */
    emu_kernel *eval;           /* the same for the evaluation step */
} emu;

static const char shim[] =
    "#include <cmath>\n#include <cstring>\n#include <cstdint>\n"
    "struct dlc_dim3 { unsigned x, y, z; };\n"
    "static const dlc_dim3 blockIdx = {0, 0, 0}, threadIdx = {0, 0, 0}, blockDim = {1, 1, 1},\n"
    "                      gridDim = {1, 1, 1};\n"
    "#define __global__\n#define __launch_bounds__(x)\n#define __shared__ static\n"
    "#define __syncthreads()\n"
    "static inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }\n"
    "using std::exp; using std::log; using std::sqrt; using std::tanh; using std::fabs;\n"
    "using std::log1p; using std::expm1; using std::erfc; using std::pow; using std::fmax;\n"
    "using std::fmin; using std::isnan; using std::isfinite; using std::cos;\n"
    "static inline unsigned long long atomicMin(unsigned long long *a, unsigned long long v) {\n"
    "    unsigned long long old = *a;\n"
    "    if (v < old) *a = v;\n"
    "    return old;\n"
    "}\n";

/* the source for the CPU: the shim, DLC_BLOCK 1, <cstdint>'s uint64_t */
static char *cpu_source(const char *src) {
    size_t len = strlen(shim) + strlen(src) + 1;
    char *out = malloc(len), *w = out;
    if (!out) return NULL;
    w += sprintf(w, "%s", shim);
    for (const char *line = src; *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line + 1) : strlen(line);
        if (!strncmp(line, "typedef unsigned long long uint64_t;", 36)) ;
        else if (!strncmp(line, "#define DLC_BLOCK ", 18)) w += sprintf(w, "#define DLC_BLOCK 1\n");
        else memcpy(w, line, n), w += n;
        line += n;
    }
    *w = 0;
    return out;
}

/* compiles the kernels into the cache (or reuses them) and loads them */
static void *build(const char *src, const dlc_options *o) {
    char dir[3072], cpp[4096], so[4096];
    uint64_t h = dlc_cache_hash(dlc_cache_hash(0, src), "emulate c++ -std=c++17 -O1");
    if (!dlc_cache_dir(o, dir, sizeof dir) ||
        dlc_path(cpp, sizeof cpp, "%s/%016llx-emulate.cpp", dir, (unsigned long long)h) ||
        dlc_path(so, sizeof so, "%s/%016llx-emulate.so", dir, (unsigned long long)h))
        return NULL;
    if (access(so, R_OK) != 0) {
        char tmp[sizeof so + 32]; /* never truncated: so fits in sizeof so */
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", so, (long)getpid());
        char *argv[] = {"c++", "-std=c++17", "-O1", "-fPIC", "-shared", "-w", "-o", tmp, cpp, NULL};
        if (dlc_mkdir_p(dir) || dlc_write_file_atomic(cpp, src) || dlc_run_into(argv, tmp, so)) {
            fprintf(stderr, "dlc: error: the C++ compiler failed on the emulated CUDA %s\n", cpp);
            return NULL;
        }
    }
    void *h_so = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!h_so) fprintf(stderr, "dlc: error: %s: %s\n", so, dlerror());
    return h_so;
}

static emu_kernel *resolve(emu *e, const dlrt_cuda_fn *f) {
    emu_kernel *k = calloc((size_t)f->n_launches + 1, sizeof *k);
    for (int i = 0; k && i < f->n_launches; i++) {
        if (f->launches[i].kind != DLRT_CUDA_KERNEL) continue;
        void *s = dlsym(e->so, f->launches[i].kernel);
        if (!s) {
            fprintf(stderr, "dlc: error: emulated CUDA: no kernel %s\n", f->launches[i].kernel);
            free(k);
            return NULL;
        }
        memcpy(&k[i], &s, sizeof s);
    }
    return k;
}

static long long at(dlrt_cuda_lin l, int n) { return l.a * n + l.b; }

static float *ptr(emu *e, dlrt_cuda_ptr p, int n) {
    return (float *)((p.base == DLRT_CUDA_WEIGHTS ? (unsigned char *)e->weights : e->arena) + at(p.off, n));
}

/* C[M,N] = op(A) op(B) + beta C, row-major, in double per entry */
static void gemm(emu *e, const dlrt_cuda_launch *l, int n) {
    long long M = at(l->m, n), N = at(l->n, n), K = at(l->k, n);
    long long lda = at(l->lda, n), ldb = at(l->ldb, n), ldc = at(l->ldc, n);
    const float *A = ptr(e, l->a, n), *B = ptr(e, l->b, n);
    float *C = ptr(e, l->c, n);
    for (long long i = 0; i < M; i++)
        for (long long j = 0; j < N; j++) {
            double s = 0;
            for (long long k = 0; k < K; k++)
                s += (double)(l->ta ? A[k * lda + i] : A[i * lda + k]) * (l->tb ? B[j * ldb + k] : B[k * ldb + j]);
            C[i * ldc + j] = (float)(s + (l->beta != 0 ? l->beta * C[i * ldc + j] : 0));
        }
}

static emu *E(cuda_device *d) { return d->impl; }

static int emu_stage(cuda_device *d, int n, const void *const *inputs, const double *scalars,
                     char *err, size_t errlen) {
    emu *e = E(d);
    const dlrt_cuda_program *p = e->p;
    (void)err, (void)errlen;
    for (int i = 0; i < p->n_inputs; i++)
        memcpy(e->arena + p->input_offset[i], inputs[i],
               (size_t)(p->input_sample_bytes[i] * (p->input_batched[i] ? n : 1)));
    if (scalars) memcpy(e->arena + p->scalars_offset, scalars, sizeof(double) * (size_t)p->n_scalars);
    else memset(e->arena + p->scalars_offset, 0, sizeof(double) * (size_t)p->n_scalars);
    return 0;
}

/* function fn's table and kernels; NULL after setting err when fn is not one */
static const dlrt_cuda_fn *function(emu *e, int fn, emu_kernel **k, char *err, size_t errlen) {
    if (fn == DLRT_CUDA_EVAL) {
        *k = e->eval;
        return &e->p->eval;
    }
    if (fn < 0 || fn >= e->p->n_train) {
        snprintf(err, errlen, "emulated CUDA: no training step %d (the program has %d)", fn,
                 e->p->n_train);
        return NULL;
    }
    *k = e->train[fn];
    return &e->p->train[fn];
}

static int emu_run(cuda_device *d, int fn, int n, int first, int count, char *err, size_t errlen) {
    emu *e = E(d);
    emu_kernel *k;
    const dlrt_cuda_fn *f = function(e, fn, &k, err, errlen);
    if (!f) return -1;
    for (int i = first; i < first + count && i < f->n_launches; i++) {
        if (f->launches[i].kind == DLRT_CUDA_GEMM) gemm(e, &f->launches[i], n);
        else k[i](e->arena, e->weights, n);
    }
    return 0;
}

static int emu_write_arena(cuda_device *d, long long offset, const void *src, long long bytes,
                           char *err, size_t errlen) {
    (void)err, (void)errlen;
    memcpy(E(d)->arena + offset, src, (size_t)bytes);
    return 0;
}

static int emu_step(cuda_device *d, int fn, int n, const void *const *inputs,
                    const double *scalars, double *loss, char *err, size_t errlen) {
    emu *e = E(d);
    emu_kernel *k;
    const dlrt_cuda_fn *f = function(e, fn, &k, err, errlen);
    if (!f) return -1;
    if (n < 1 || n > e->p->max_batch) {
        snprintf(err, errlen, "emulated CUDA step: batch %d outside 1..%d", n, e->p->max_batch);
        return -1;
    }
    emu_stage(d, n, inputs, scalars, err, errlen);
    emu_run(d, fn, n, 0, f->n_launches, err, errlen);
    float l = 0;
    if (f->loss_offset >= 0) memcpy(&l, e->arena + f->loss_offset, sizeof l);
    *loss = l;
    return 0;
}

static int emu_write_weights(cuda_device *d, const float *w, char *err, size_t errlen) {
    (void)err, (void)errlen;
    memcpy(E(d)->weights, w, 4 * (size_t)E(d)->p->weights_count);
    return 0;
}

static int emu_read_weights(cuda_device *d, float *w, char *err, size_t errlen) {
    (void)err, (void)errlen;
    memcpy(w, E(d)->weights, 4 * (size_t)E(d)->p->weights_count);
    return 0;
}

static int emu_read_arena(cuda_device *d, long long offset, void *dst, long long bytes, char *err,
                          size_t errlen) {
    (void)err, (void)errlen;
    memcpy(dst, E(d)->arena + offset, (size_t)bytes);
    return 0;
}

static void emu_close(cuda_device *d) {
    emu *e = E(d);
    if (!e) return;
    free(e->arena);
    free(e->weights);
    for (int k = 0; k < DLRT_CUDA_MAX_STEPS; k++) free(e->train[k]);
    free(e->eval);
    if (e->so) dlclose(e->so);
    free(e);
    d->impl = NULL;
}

int dlc_cuda_emulate_open(cuda_device *d, const dlrt_cuda_program *p, const float *weights,
                      const dlc_options *o) {
    emu *e = calloc(1, sizeof *e);
    *d = (cuda_device){e, emu_write_weights, emu_step, emu_read_arena, emu_read_weights,
                       emu_stage, emu_run, emu_write_arena, emu_close};
    if (!e) return -1;
    e->p = p;
    char *src = cpu_source(p->source);
    e->arena = calloc((size_t)p->arena_bytes + 1, 1);
    e->weights = calloc((size_t)p->weights_count + 1, 4);
    int ok = src && e->arena && e->weights && p->n_train <= DLRT_CUDA_MAX_STEPS &&
             (e->so = build(src, o)) && (e->eval = resolve(e, &p->eval));
    for (int k = 0; ok && k < p->n_train; k++) ok = (e->train[k] = resolve(e, &p->train[k])) != NULL;
    if (!ok) {
        free(src);
        emu_close(d);
        return -1;
    }
    free(src);
    memcpy(e->weights, weights, 4 * (size_t)p->weights_count);
    if (!o->quiet) fprintf(stderr, "dlc: CUDA emulated on the CPU (DLC_CUDA_EMULATE)\n");
    return 0;
}
