/*
 * dlrt_cuda_program.h — what the CUDA code generator (codegen/cg_cuda.c) hands the CUDA runtime
 * (dlrt_cuda.c): one CUDA C translation unit of kernels and, per step function (each training
 * step of the train block, `step NAME` sections in order, and the evaluation step), the launch
 * table that runs it. Plain data: the generator fills it in its arena, `dlc --target cuda -o`
 * writes it out as C initialisers beside the kernel source.
 *
 * Device memory: one arena allocation (`arena_bytes`: the memory plan's arena, then the input
 * staging area, then the per-step scalars as doubles (DLRT_CUDA_SCALAR_SLOTS of them, or more
 * when the model has more), then with --check-numerics the 8-byte record of the first NaN or
 * Inf) and one weights allocation
 * (`weights_count` floats, the memory plan's weights block). Every kernel has the signature
 *     extern "C" __global__ void NAME(unsigned char *A, float *W, int n)
 * (A: the arena, W: the weights, n: the batch of this step); the offsets of what it reads and
 * writes are constants in its source. Sizes that follow the batch are linear in n.
 */
#ifndef DLRT_CUDA_PROGRAM_H
#define DLRT_CUDA_PROGRAM_H

/* a * n + b: a size, count or offset at batch n */
typedef struct dlrt_cuda_lin {
    long long a; /* per sample */
    long long b; /* constant part */
} dlrt_cuda_lin;

enum dlrt_cuda_launch_kind {
    DLRT_CUDA_KERNEL = 0, /* a kernel of the source */
    DLRT_CUDA_GEMM = 1    /* a cuBLAS sgemm */
};

enum dlrt_cuda_base { DLRT_CUDA_ARENA = 0, DLRT_CUDA_WEIGHTS = 1 };

/* a device pointer: base allocation and byte offset (linear in n) */
typedef struct dlrt_cuda_ptr {
    int base;           /* enum dlrt_cuda_base */
    dlrt_cuda_lin off;  /* bytes from the base */
} dlrt_cuda_ptr;

typedef struct dlrt_cuda_launch {
    int kind;           /* enum dlrt_cuda_launch_kind */
    int node;           /* the IR node it computes (messages, checks) */
    /* DLRT_CUDA_KERNEL */
    const char *kernel; /* its name in the source */
    dlrt_cuda_lin work; /* threads wanted at batch n */
    int block;          /* threads per block */
    int max_blocks;     /* at most this many blocks (the kernels loop over what is left) */
    /* DLRT_CUDA_GEMM: row-major C[M,N] = op(A)[M,K] op(B)[K,N] + beta C */
    int ta, tb;                 /* op transposes A / B */
    dlrt_cuda_lin m, n, k;      /* the product's dims */
    dlrt_cuda_lin lda, ldb, ldc;/* row strides in elements */
    dlrt_cuda_ptr a, b, c;      /* the operands */
    double beta;                /* 0: C is overwritten */
    long long ws_off, ws_bytes; /* cuBLAS's workspace in the arena */
} dlrt_cuda_launch;

typedef struct dlrt_cuda_fn {
    int n_launches;                   /* entries of launches */
    const dlrt_cuda_launch *launches; /* in order, one stream */
    long long loss_offset;            /* arena byte offset of the loss it reports (a float; a
                                         training step: its step's loss), -1: none */
    const char *name;                 /* a training step of a `step NAME` section: NAME; else
                                         NULL */
} dlrt_cuda_fn;

/* DLRT_CUDA_MAX_STEPS: training step functions at most (the compiler's IR_MAX_STEPS);
 * DLRT_CUDA_SCALAR_SLOTS: the scalars area holds at least this many doubles */
enum { DLRT_CUDA_MAX_INPUTS = 16, DLRT_CUDA_MAX_SCALARS = 64, DLRT_CUDA_SCALAR_SLOTS = 8,
       DLRT_CUDA_MAX_STEPS = 8 };
/* the function argument of dlrt_cuda_step and dlrt_cuda_run that picks the evaluation step
 * (training step k: k) */
enum { DLRT_CUDA_EVAL = -1 };

typedef struct dlrt_cuda_program {
    const char *name;            /* model name */
    const char *source;          /* CUDA C, one translation unit, no #include */
    long long arena_bytes;       /* the arena allocation (plan, inputs, scalars) */
    long long plan_bytes;        /* of which the memory plan's arena (outputs pinned first) */
    long long pinned_bytes;      /* the outputs and the loss at the arena's start */
    long long weights_count;     /* floats in the weights allocation */
    int max_batch;               /* the largest n */
    int n_inputs;                /* entries of input_offset */
    long long input_offset[DLRT_CUDA_MAX_INPUTS];     /* arena byte offset of input i */
    long long input_sample_bytes[DLRT_CUDA_MAX_INPUTS]; /* its bytes per sample (batched), or
                                                           its whole size */
    int input_batched[DLRT_CUDA_MAX_INPUTS];          /* it has a batch dim */
    int n_scalars;               /* per-step scalars (doubles) at scalars_offset */
    long long scalars_offset;    /* arena byte offset of the scalars */
    long long numerics_offset;   /* --check-numerics: arena byte offset of the 8-byte record
                                    (after the scalars; see codegen/cg_cuda_numerics.c), -1: off */
    int n_train;                 /* training step functions (0: no training) */
    dlrt_cuda_fn train[DLRT_CUDA_MAX_STEPS]; /* each: forward + backward + update of its
                                    parameters, in the train block's order */
    dlrt_cuda_fn eval;           /* forward (and loss) */
} dlrt_cuda_program;

#endif
