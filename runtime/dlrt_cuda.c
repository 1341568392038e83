/*
 * dlrt_cuda.c — the CUDA runtime (see dlrt_cuda.h). The driver API, NVRTC and cuBLAS are
 * reached through function pointers looked up with dlopen/dlsym; the few types they take are
 * declared here (ABI-compatible with cuda.h, nvrtc.h and cublas_api.h), so building dlc needs
 * no CUDA headers and running it without CUDA is an ordinary error.
 */
#include "dlrt_cuda.h"
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;
typedef void *CUhandle; /* CUcontext, CUmodule, CUfunction, CUstream, CUgraph, CUgraphExec */

enum { CU_ATTR_CC_MAJOR = 75, CU_ATTR_CC_MINOR = 76, CU_CAPTURE_RELAXED = 2 };
enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 };

/* the driver functions used, by their exported names */
typedef struct cu_api {
    CUresult (*Init)(unsigned);
    CUresult (*DeviceGetCount)(int *);
    CUresult (*DeviceGet)(int *, int);
    CUresult (*DeviceGetAttribute)(int *, int, int);
    CUresult (*DeviceGetName)(char *, int, int);
    CUresult (*DevicePrimaryCtxRetain)(CUhandle *, int);
    CUresult (*DevicePrimaryCtxRelease)(int);
    CUresult (*CtxSetCurrent)(CUhandle);
    CUresult (*GetErrorString)(CUresult, const char **);
    CUresult (*ModuleLoadData)(CUhandle *, const void *);
    CUresult (*ModuleUnload)(CUhandle);
    CUresult (*ModuleGetFunction)(CUhandle *, CUhandle, const char *);
    CUresult (*MemAlloc)(CUdeviceptr *, size_t);
    CUresult (*MemFree)(CUdeviceptr);
    CUresult (*MemsetD8)(CUdeviceptr, unsigned char, size_t);
    CUresult (*MemcpyHtoD)(CUdeviceptr, const void *, size_t);
    CUresult (*MemcpyDtoH)(void *, CUdeviceptr, size_t);
    CUresult (*MemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUhandle);
    CUresult (*MemcpyDtoHAsync)(void *, CUdeviceptr, size_t, CUhandle);
    CUresult (*LaunchKernel)(CUhandle, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                             unsigned, CUhandle, void **, void **);
    CUresult (*StreamCreate)(CUhandle *, unsigned);
    CUresult (*StreamDestroy)(CUhandle);
    CUresult (*StreamSynchronize)(CUhandle);
    CUresult (*StreamBeginCapture)(CUhandle, int);
    CUresult (*StreamEndCapture)(CUhandle, CUhandle *);
    CUresult (*GraphInstantiateWithFlags)(CUhandle *, CUhandle, unsigned long long);
    CUresult (*GraphLaunch)(CUhandle, CUhandle);
    CUresult (*GraphDestroy)(CUhandle);
    CUresult (*GraphExecDestroy)(CUhandle);
} cu_api;

typedef struct cublas_api {
    int (*Create)(void **);
    int (*Destroy)(void *);
    int (*SetStream)(void *, CUhandle);
    int (*SetWorkspace)(void *, void *, size_t);
    int (*Sgemm)(void *, int, int, int, int, int, const float *, const float *, int, const float *,
                 int, const float *, float *, int);
} cublas_api;

typedef struct nvrtc_api {
    int (*Version)(int *, int *);
    int (*CreateProgram)(void **, const char *, const char *, int, const char *const *,
                         const char *const *);
    int (*CompileProgram)(void *, int, const char *const *);
    int (*GetProgramLogSize)(void *, size_t *);
    int (*GetProgramLog)(void *, char *);
    int (*GetCUBINSize)(void *, size_t *);
    int (*GetCUBIN)(void *, char *);
    int (*DestroyProgram)(void **);
    const char *(*GetErrorString)(int);
} nvrtc_api;

struct dlrt_cuda {
    void *libcuda, *libcublas;  /* dlopen handles */
    cu_api cu;                  /* driver entry points */
    cublas_api blas;            /* cuBLAS entry points */
    int device;                 /* the device used */
    char name[256];             /* its name */
    CUhandle ctx, stream;       /* primary context, the stream */
    void *cublas;               /* cuBLAS handle (NULL until a program with GEMMs loads) */
    CUhandle module;            /* the program's module */
    const dlrt_cuda_program *p; /* the program */
    CUhandle *train_fn[DLRT_CUDA_MAX_STEPS]; /* per training step, per launch: its CUfunction
                                   (NULL for GEMMs) */
    CUhandle *eval_fn;          /* the same for the evaluation step */
    CUdeviceptr arena, weights; /* the two allocations */
    CUhandle *graphs;           /* per training step k and batch size n (1..max_batch), at
                                   k * (max_batch + 1) + n: the step's graph */
    char *ran;                  /* the same: the step ran once at that batch without a graph */
    int use_graphs;             /* capture the training steps */
};

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void *open_first(const char *const *names) {
    for (int i = 0; names[i]; i++) {
        void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (h) return h;
    }
    return NULL;
}

/* dlsym into *slot; returns 0 or -1 naming the symbol */
static int sym(void *lib, const char *name, void *slot, char *err, size_t errlen) {
    void *f = dlsym(lib, name);
    if (!f) {
        set_err(err, errlen, "CUDA: %s not found in the library", name);
        return -1;
    }
    memcpy(slot, &f, sizeof f);
    return 0;
}

/* ---- NVRTC ---- */

static const char *const nvrtc_names[] = {"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12",
                                          "/usr/local/cuda/lib64/libnvrtc.so", NULL};
static nvrtc_api nvrtc;
static void *libnvrtc;

static int load_nvrtc(char *err, size_t errlen) {
    if (libnvrtc) return 0;
    void *h = open_first(nvrtc_names);
    if (!h) {
        set_err(err, errlen, "no NVRTC (libnvrtc.so not found; is the CUDA toolkit's lib64 on "
                             "LD_LIBRARY_PATH?)");
        return -1;
    }
    nvrtc_api a;
    if (sym(h, "nvrtcVersion", &a.Version, err, errlen) ||
        sym(h, "nvrtcCreateProgram", &a.CreateProgram, err, errlen) ||
        sym(h, "nvrtcCompileProgram", &a.CompileProgram, err, errlen) ||
        sym(h, "nvrtcGetProgramLogSize", &a.GetProgramLogSize, err, errlen) ||
        sym(h, "nvrtcGetProgramLog", &a.GetProgramLog, err, errlen) ||
        sym(h, "nvrtcGetCUBINSize", &a.GetCUBINSize, err, errlen) ||
        sym(h, "nvrtcGetCUBIN", &a.GetCUBIN, err, errlen) ||
        sym(h, "nvrtcDestroyProgram", &a.DestroyProgram, err, errlen) ||
        sym(h, "nvrtcGetErrorString", &a.GetErrorString, err, errlen)) {
        dlclose(h);
        return -1;
    }
    nvrtc = a;
    libnvrtc = h;
    return 0;
}

int dlrt_nvrtc_version(char *err, size_t errlen) {
    int major = 0, minor = 0;
    if (load_nvrtc(err, errlen)) return -1;
    nvrtc.Version(&major, &minor);
    return major * 1000 + minor * 10;
}

/* -default-device: functions without __device__ (the shared random functions) are device code */
static const char *const compile_options[] = {"-default-device", "--std=c++17",
                                              "-diag-suppress=177,550", NULL};

const char *dlrt_nvrtc_options(void) { return "-default-device --std=c++17 -diag-suppress=177,550"; }

int dlrt_nvrtc_compile(const char *source, const char *arch, void **cubin, size_t *size,
                       int *version, char *err, size_t errlen) {
    int v = dlrt_nvrtc_version(err, errlen);
    if (v < 0) return -1;
    if (version) *version = v;
    void *prog = NULL;
    int r = nvrtc.CreateProgram(&prog, source, "dlc_model.cu", 0, NULL, NULL);
    if (r) {
        set_err(err, errlen, "NVRTC: %s", nvrtc.GetErrorString(r));
        return -1;
    }
    char archopt[64];
    snprintf(archopt, sizeof archopt, "--gpu-architecture=%s", arch);
    const char *opts[8];
    int n = 0;
    opts[n++] = archopt;
    for (int i = 0; compile_options[i]; i++) opts[n++] = compile_options[i];
    r = nvrtc.CompileProgram(prog, n, opts);
    if (r) {
        size_t len = 0;
        nvrtc.GetProgramLogSize(prog, &len);
        char *log = malloc(len + 1);
        if (log) {
            log[0] = 0;
            nvrtc.GetProgramLog(prog, log);
        }
        set_err(err, errlen, "NVRTC cannot compile the generated CUDA for %s: %s\n%s", arch,
                nvrtc.GetErrorString(r), log ? log : "");
        free(log);
        nvrtc.DestroyProgram(&prog);
        return -1;
    }
    nvrtc.GetCUBINSize(prog, size);
    *cubin = malloc(*size ? *size : 1);
    if (*cubin) nvrtc.GetCUBIN(prog, *cubin);
    nvrtc.DestroyProgram(&prog);
    if (!*cubin) {
        set_err(err, errlen, "out of memory for the compiled CUDA module");
        return -1;
    }
    return 0;
}

/* ---- the driver ---- */

static int check(dlrt_cuda *c, CUresult r, const char *what, char *err, size_t errlen) {
    if (r == 0) return 0;
    const char *s = NULL;
    if (c->cu.GetErrorString) c->cu.GetErrorString(r, &s);
    set_err(err, errlen, "CUDA: %s failed: %s (error %d)", what, s ? s : "unknown error", r);
    return -1;
}

#define SYM(field, name) sym(c->libcuda, name, &c->cu.field, err, errlen)
static int load_driver(dlrt_cuda *c, char *err, size_t errlen) {
    return SYM(Init, "cuInit") || SYM(DeviceGetCount, "cuDeviceGetCount") ||
           SYM(DeviceGet, "cuDeviceGet") || SYM(DeviceGetAttribute, "cuDeviceGetAttribute") ||
           SYM(DeviceGetName, "cuDeviceGetName") ||
           SYM(DevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain") ||
           SYM(DevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2") ||
           SYM(CtxSetCurrent, "cuCtxSetCurrent") || SYM(GetErrorString, "cuGetErrorString") ||
           SYM(ModuleLoadData, "cuModuleLoadData") || SYM(ModuleUnload, "cuModuleUnload") ||
           SYM(ModuleGetFunction, "cuModuleGetFunction") || SYM(MemAlloc, "cuMemAlloc_v2") ||
           SYM(MemFree, "cuMemFree_v2") || SYM(MemsetD8, "cuMemsetD8_v2") ||
           SYM(MemcpyHtoD, "cuMemcpyHtoD_v2") || SYM(MemcpyDtoH, "cuMemcpyDtoH_v2") ||
           SYM(MemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2") ||
           SYM(MemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2") || SYM(LaunchKernel, "cuLaunchKernel") ||
           SYM(StreamCreate, "cuStreamCreate") || SYM(StreamDestroy, "cuStreamDestroy_v2") ||
           SYM(StreamSynchronize, "cuStreamSynchronize") ||
           SYM(StreamBeginCapture, "cuStreamBeginCapture_v2") ||
           SYM(StreamEndCapture, "cuStreamEndCapture") ||
           SYM(GraphInstantiateWithFlags, "cuGraphInstantiateWithFlags") ||
           SYM(GraphLaunch, "cuGraphLaunch") || SYM(GraphDestroy, "cuGraphDestroy") ||
           SYM(GraphExecDestroy, "cuGraphExecDestroy")
               ? -1 : 0;
}
#undef SYM

dlrt_cuda *dlrt_cuda_open(char *arch, size_t archlen, char *err, size_t errlen) {
    dlrt_cuda *c = calloc(1, sizeof *c);
    if (!c) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    c->use_graphs = 1;
    c->libcuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!c->libcuda) {
        set_err(err, errlen, "no CUDA driver (libcuda.so.1 not found)");
        free(c);
        return NULL;
    }
    int count = 0, major = 0, minor = 0;
    if (load_driver(c, err, errlen) || check(c, c->cu.Init(0), "cuInit", err, errlen) ||
        check(c, c->cu.DeviceGetCount(&count), "cuDeviceGetCount", err, errlen)) {
        if (strstr(err, "cuInit") || strstr(err, "cuDeviceGetCount"))
            set_err(err, errlen, "no CUDA device (%s)", err);
        dlrt_cuda_close(c);
        return NULL;
    }
    if (count < 1) {
        set_err(err, errlen, "no CUDA device");
        dlrt_cuda_close(c);
        return NULL;
    }
    if (check(c, c->cu.DeviceGet(&c->device, 0), "cuDeviceGet", err, errlen) ||
        check(c, c->cu.DeviceGetAttribute(&major, CU_ATTR_CC_MAJOR, c->device), "cuDeviceGetAttribute", err, errlen) ||
        check(c, c->cu.DeviceGetAttribute(&minor, CU_ATTR_CC_MINOR, c->device), "cuDeviceGetAttribute", err, errlen) ||
        check(c, c->cu.DevicePrimaryCtxRetain(&c->ctx, c->device), "cuDevicePrimaryCtxRetain", err, errlen) ||
        check(c, c->cu.CtxSetCurrent(c->ctx), "cuCtxSetCurrent", err, errlen) ||
        check(c, c->cu.StreamCreate(&c->stream, 0), "cuStreamCreate", err, errlen)) {
        dlrt_cuda_close(c);
        return NULL;
    }
    c->cu.DeviceGetName(c->name, (int)sizeof c->name, c->device);
    snprintf(arch, archlen, "sm_%d%d", major, minor);
    return c;
}

const char *dlrt_cuda_device_name(const dlrt_cuda *c) { return c->name; }

/* entries of graphs and ran */
static size_t n_graphs(const dlrt_cuda_program *p) {
    return (size_t)(p->max_batch + 1) * (size_t)(p->n_train > 0 ? p->n_train : 1);
}

static void free_graphs(dlrt_cuda *c) {
    for (size_t i = 0; c->graphs && c->p && i < n_graphs(c->p); i++)
        if (c->graphs[i]) c->cu.GraphExecDestroy(c->graphs[i]);
    free(c->graphs);
    c->graphs = NULL;
    free(c->ran);
    c->ran = NULL;
}

void dlrt_cuda_close(dlrt_cuda *c) {
    if (!c) return;
    free_graphs(c);
    if (c->ctx) {
        if (c->cublas) c->blas.Destroy(c->cublas);
        if (c->arena) c->cu.MemFree(c->arena);
        if (c->weights) c->cu.MemFree(c->weights);
        if (c->module) c->cu.ModuleUnload(c->module);
        if (c->stream) c->cu.StreamDestroy(c->stream);
        c->cu.DevicePrimaryCtxRelease(c->device);
    }
    for (int k = 0; k < DLRT_CUDA_MAX_STEPS; k++) free(c->train_fn[k]);
    free(c->eval_fn);
    if (c->libcublas) dlclose(c->libcublas);
    if (c->libcuda) dlclose(c->libcuda);
    free(c);
}

static int load_cublas(dlrt_cuda *c, char *err, size_t errlen) {
    static const char *const names[] = {"libcublas.so", "libcublas.so.13", "libcublas.so.12",
                                        "/usr/local/cuda/lib64/libcublas.so", NULL};
    c->libcublas = open_first(names);
    if (!c->libcublas) {
        set_err(err, errlen, "no cuBLAS (libcublas.so not found; is the CUDA toolkit's lib64 on "
                             "LD_LIBRARY_PATH?)");
        return -1;
    }
    void *l = c->libcublas;
    if (sym(l, "cublasCreate_v2", &c->blas.Create, err, errlen) ||
        sym(l, "cublasDestroy_v2", &c->blas.Destroy, err, errlen) ||
        sym(l, "cublasSetStream_v2", &c->blas.SetStream, err, errlen) ||
        sym(l, "cublasSetWorkspace_v2", &c->blas.SetWorkspace, err, errlen) ||
        sym(l, "cublasSgemm_v2", &c->blas.Sgemm, err, errlen))
        return -1;
    int r = c->blas.Create(&c->cublas);
    if (r == 0) r = c->blas.SetStream(c->cublas, c->stream);
    if (r) {
        set_err(err, errlen, "cuBLAS: cannot create a handle (status %d)", r);
        return -1;
    }
    return 0;
}

static int has_gemm(const dlrt_cuda_fn *f) {
    for (int i = 0; i < f->n_launches; i++)
        if (f->launches[i].kind == DLRT_CUDA_GEMM) return 1;
    return 0;
}

/* each kernel launch's CUfunction */
static CUhandle *resolve(dlrt_cuda *c, const dlrt_cuda_fn *f, char *err, size_t errlen) {
    CUhandle *fns = calloc((size_t)f->n_launches + 1, sizeof *fns);
    if (!fns) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    for (int i = 0; i < f->n_launches; i++)
        if (f->launches[i].kind == DLRT_CUDA_KERNEL &&
            check(c, c->cu.ModuleGetFunction(&fns[i], c->module, f->launches[i].kernel),
                  f->launches[i].kernel, err, errlen)) {
            free(fns);
            return NULL;
        }
    return fns;
}

int dlrt_cuda_load(dlrt_cuda *c, const dlrt_cuda_program *p, const void *cubin,
                   const float *weights, char *err, size_t errlen) {
    if (p->n_train < 0 || p->n_train > DLRT_CUDA_MAX_STEPS) {
        set_err(err, errlen, "CUDA: the program has %d training steps (at most %d)", p->n_train,
                DLRT_CUDA_MAX_STEPS);
        return -1;
    }
    c->p = p;
    size_t wbytes = (size_t)(p->weights_count > 0 ? p->weights_count : 1) * 4;
    if (check(c, c->cu.ModuleLoadData(&c->module, cubin), "cuModuleLoadData", err, errlen) ||
        check(c, c->cu.MemAlloc(&c->arena, (size_t)p->arena_bytes), "cuMemAlloc (arena)", err, errlen) ||
        check(c, c->cu.MemAlloc(&c->weights, wbytes), "cuMemAlloc (weights)", err, errlen) ||
        check(c, c->cu.MemsetD8(c->arena, 0, (size_t)p->arena_bytes), "cuMemsetD8", err, errlen))
        return -1;
    if (p->weights_count > 0 && dlrt_cuda_write_weights(c, weights, err, errlen)) return -1;
    int gemms = has_gemm(&p->eval);
    for (int k = 0; k < p->n_train; k++) gemms |= has_gemm(&p->train[k]);
    if (gemms && load_cublas(c, err, errlen)) return -1;
    c->eval_fn = resolve(c, &p->eval, err, errlen);
    if (!c->eval_fn) return -1;
    for (int k = 0; k < p->n_train; k++)
        if (!(c->train_fn[k] = resolve(c, &p->train[k], err, errlen))) return -1;
    c->graphs = calloc(n_graphs(p), sizeof *c->graphs);
    c->ran = calloc(n_graphs(p), 1);
    if (!c->graphs || !c->ran) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

void dlrt_cuda_use_graphs(dlrt_cuda *c, int on) { c->use_graphs = on; }

/* ---- running a function ---- */

static long long at(dlrt_cuda_lin l, int n) { return l.a * n + l.b; }

static CUdeviceptr ptr(dlrt_cuda *c, dlrt_cuda_ptr p, int n) {
    return (p.base == DLRT_CUDA_WEIGHTS ? c->weights : c->arena) + (CUdeviceptr)at(p.off, n);
}

/* C = op(A) op(B) + beta C row-major, as column-major C^T = op(B)^T op(A)^T */
static int gemm(dlrt_cuda *c, const dlrt_cuda_launch *l, int n, char *err, size_t errlen) {
    const float one = 1, beta = (float)l->beta;
    int r = c->blas.SetWorkspace(c->cublas, (void *)(c->arena + (CUdeviceptr)l->ws_off), (size_t)l->ws_bytes);
    if (!r)
        r = c->blas.Sgemm(c->cublas, l->tb ? CUBLAS_OP_T : CUBLAS_OP_N, l->ta ? CUBLAS_OP_T : CUBLAS_OP_N,
                          (int)at(l->n, n), (int)at(l->m, n), (int)at(l->k, n), &one,
                          (const float *)ptr(c, l->b, n), (int)at(l->ldb, n),
                          (const float *)ptr(c, l->a, n), (int)at(l->lda, n), &beta,
                          (float *)ptr(c, l->c, n), (int)at(l->ldc, n));
    if (r) set_err(err, errlen, "cuBLAS: sgemm of node %%%d failed (status %d)", l->node, r);
    return r ? -1 : 0;
}

/* launches [first, last) of f, in order, on the stream */
static int enqueue_range(dlrt_cuda *c, const dlrt_cuda_fn *f, CUhandle *fns, int n, int first,
                         int last, char *err, size_t errlen) {
    for (int i = first; i < last; i++) {
        const dlrt_cuda_launch *l = &f->launches[i];
        if (l->kind == DLRT_CUDA_GEMM) {
            if (gemm(c, l, n, err, errlen)) return -1;
            continue;
        }
        long long work = at(l->work, n), blocks = (work + l->block - 1) / l->block;
        if (l->max_blocks > 0 && blocks > l->max_blocks) blocks = l->max_blocks;
        if (blocks < 1) blocks = 1;
        void *args[] = {&c->arena, &c->weights, &n};
        if (check(c, c->cu.LaunchKernel(fns[i], (unsigned)blocks, 1, 1, (unsigned)l->block, 1, 1, 0,
                                        c->stream, args, NULL), l->kernel, err, errlen))
            return -1;
    }
    return 0;
}

static int enqueue(dlrt_cuda *c, const dlrt_cuda_fn *f, CUhandle *fns, int n, char *err, size_t errlen) {
    return enqueue_range(c, f, fns, n, 0, f->n_launches, err, errlen);
}

/* function fn's table and its CUfunctions; NULL after setting err when fn is not one */
static const dlrt_cuda_fn *function(dlrt_cuda *c, int fn, CUhandle **fns, char *err, size_t errlen) {
    if (fn == DLRT_CUDA_EVAL) {
        *fns = c->eval_fn;
        return &c->p->eval;
    }
    if (fn < 0 || fn >= c->p->n_train) {
        set_err(err, errlen, "CUDA: no training step %d (the program has %d)", fn, c->p->n_train);
        return NULL;
    }
    *fns = c->train_fn[fn];
    return &c->p->train[fn];
}

/* training step k at batch n as a graph, captured on first use */
static int train_graph(dlrt_cuda *c, int k, int n, char *err, size_t errlen) {
    CUhandle *exec = &c->graphs[(size_t)k * (size_t)(c->p->max_batch + 1) + (size_t)n];
    if (*exec) return 0;
    CUhandle graph = NULL;
    if (check(c, c->cu.StreamBeginCapture(c->stream, CU_CAPTURE_RELAXED), "cuStreamBeginCapture", err, errlen))
        return -1;
    int bad = enqueue(c, &c->p->train[k], c->train_fn[k], n, err, errlen);
    CUresult r = c->cu.StreamEndCapture(c->stream, &graph);
    if (bad) {
        if (graph) c->cu.GraphDestroy(graph);
        return -1;
    }
    if (check(c, r, "cuStreamEndCapture", err, errlen)) return -1;
    r = c->cu.GraphInstantiateWithFlags(exec, graph, 0);
    c->cu.GraphDestroy(graph);
    return check(c, r, "cuGraphInstantiate", err, errlen);
}

static int upload_inputs(dlrt_cuda *c, int n, const void *const *inputs, const double *scalars,
                         char *err, size_t errlen) {
    const dlrt_cuda_program *p = c->p;
    for (int i = 0; i < p->n_inputs; i++) {
        size_t bytes = (size_t)(p->input_sample_bytes[i] * (p->input_batched[i] ? n : 1));
        if (check(c, c->cu.MemcpyHtoDAsync(c->arena + (CUdeviceptr)p->input_offset[i], inputs[i],
                                           bytes, c->stream), "copying an input", err, errlen))
            return -1;
    }
    static const double zeros[DLRT_CUDA_MAX_SCALARS]; /* no scalars: all zero, as the C step's */
    if (!scalars) scalars = zeros;
    if (p->n_scalars > 0 &&
        check(c, c->cu.MemcpyHtoDAsync(c->arena + (CUdeviceptr)p->scalars_offset, scalars,
                                       sizeof(double) * (size_t)p->n_scalars, c->stream),
              "copying the scalars", err, errlen))
        return -1;
    return 0;
}

int dlrt_cuda_step(dlrt_cuda *c, int fn, int n, const void *const *inputs,
                   const double *scalars, double *loss, char *err, size_t errlen) {
    const dlrt_cuda_program *p = c->p;
    CUhandle *fns;
    const dlrt_cuda_fn *f = function(c, fn, &fns, err, errlen);
    if (!f) return -1;
    if (n < 1 || n > p->max_batch) {
        set_err(err, errlen, "CUDA step: batch %d outside 1..%d", n, p->max_batch);
        return -1;
    }
    if (upload_inputs(c, n, inputs, scalars, err, errlen)) return -1;
    /* a batch size's first training step runs directly: cuBLAS and the module finish loading
     * (lazily) outside any capture; the graph is captured at its second step */
    size_t g = fn >= 0 ? (size_t)fn * (size_t)(p->max_batch + 1) + (size_t)n : 0;
    if (fn >= 0 && c->use_graphs && c->ran[g]) {
        if (train_graph(c, fn, n, err, errlen) ||
            check(c, c->cu.GraphLaunch(c->graphs[g], c->stream), "cuGraphLaunch", err, errlen))
            return -1;
    } else if (enqueue(c, f, fns, n, err, errlen)) {
        return -1;
    }
    if (fn >= 0) c->ran[g] = 1;
    float l = 0;
    if (f->loss_offset >= 0 &&
        check(c, c->cu.MemcpyDtoHAsync(&l, c->arena + (CUdeviceptr)f->loss_offset, sizeof l, c->stream),
              "reading the loss", err, errlen))
        return -1;
    if (check(c, c->cu.StreamSynchronize(c->stream), "the step", err, errlen)) return -1;
    *loss = l;
    return 0;
}

int dlrt_cuda_stage(dlrt_cuda *c, int n, const void *const *inputs, const double *scalars,
                    char *err, size_t errlen) {
    return upload_inputs(c, n, inputs, scalars, err, errlen);
}

int dlrt_cuda_run(dlrt_cuda *c, int fn, int n, int first, int count, char *err, size_t errlen) {
    CUhandle *fns;
    const dlrt_cuda_fn *f = function(c, fn, &fns, err, errlen);
    if (!f) return -1;
    if (first < 0 || count < 0 || first + count > f->n_launches) {
        set_err(err, errlen, "CUDA: launches %d..%d outside the table", first, first + count);
        return -1;
    }
    if (enqueue_range(c, f, fns, n, first, first + count, err, errlen))
        return -1;
    return check(c, c->cu.StreamSynchronize(c->stream), "the launches", err, errlen);
}

int dlrt_cuda_write_arena(dlrt_cuda *c, long long offset, const void *src, long long bytes,
                          char *err, size_t errlen) {
    if (check(c, c->cu.StreamSynchronize(c->stream), "cuStreamSynchronize", err, errlen)) return -1;
    return check(c, c->cu.MemcpyHtoD(c->arena + (CUdeviceptr)offset, src, (size_t)bytes),
                 "writing the arena", err, errlen);
}

int dlrt_cuda_read_arena(dlrt_cuda *c, long long offset, void *dst, long long bytes, char *err,
                         size_t errlen) {
    if (check(c, c->cu.StreamSynchronize(c->stream), "cuStreamSynchronize", err, errlen)) return -1;
    return check(c, c->cu.MemcpyDtoH(dst, c->arena + (CUdeviceptr)offset, (size_t)bytes),
                 "reading the arena", err, errlen);
}

int dlrt_cuda_read_weights(dlrt_cuda *c, float *dst, char *err, size_t errlen) {
    if (check(c, c->cu.StreamSynchronize(c->stream), "cuStreamSynchronize", err, errlen)) return -1;
    return check(c, c->cu.MemcpyDtoH(dst, c->weights, (size_t)c->p->weights_count * 4),
                 "reading the weights", err, errlen);
}

int dlrt_cuda_write_weights(dlrt_cuda *c, const float *src, char *err, size_t errlen) {
    if (check(c, c->cu.StreamSynchronize(c->stream), "cuStreamSynchronize", err, errlen)) return -1;
    return check(c, c->cu.MemcpyHtoD(c->weights, src, (size_t)c->p->weights_count * 4),
                 "writing the weights", err, errlen);
}
