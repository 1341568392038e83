/*
 * dlrt_abi.h — the interface between generated model code and the runtime (or a user's
 * program). Generated C embeds this text verbatim, so a .c file from `dlc -o` compiles on its
 * own; the runtime includes the same header. Keep it plain C99 and bump DLRT_ABI_VERSION on
 * any change.
 *
 * Storage: one weights block (params, buffers, optimizer state, `weights_count` reals, each tensor
 * initialised by the caller as its row of the tensor table says) and one activation arena
 * (`arena_bytes`), both allocated once by the caller; the step functions allocate nothing.
 */
#ifndef DLRT_ABI_H
#define DLRT_ABI_H

#define DLRT_ABI_VERSION 4

enum dlrt_tensor_kind {
    DLRT_PARAM = 0,  /* trainable weight, in the weights block */
    DLRT_STATE = 1,  /* optimizer state, in the weights block, initialised like a PARAM */
    DLRT_INPUT = 2,  /* fed by the caller: inputs[index] points to n samples */
    DLRT_OUTPUT = 3, /* produced in the arena at byte `offset` (n samples) */
    DLRT_SCALAR = 4, /* per-step scalar: scalars[index] (e.g. "step", 1-based) */
    DLRT_BUFFER = 5  /* model tensor that is not trained (batchnorm's running statistics): in
                        the weights block, described and initialised as a STATE row is */
};

enum dlrt_dtype { DLRT_F32 = 0, DLRT_I32 = 1, DLRT_F64 = 2 };

typedef struct dlrt_tensor_desc {
    const char *name;     /* e.g. "dense1.w", "x", "dense1.w.adam_m" */
    int kind;             /* enum dlrt_tensor_kind */
    int dtype;            /* enum dlrt_dtype of the elements */
    int rank;             /* number of dims, batch included when batched */
    int batched;          /* dims[0] is the batch (max size; n at run time) */
    long long dims[6];    /* sizes, outermost first */
    long long offset;     /* PARAM/STATE: element offset in weights; OUTPUT: byte offset in arena */
    int index;            /* INPUT: position in inputs[]; SCALAR: position in scalars[] */
    const char *init;     /* PARAM/STATE: initializer name ("torch_default", "constant", ...) */
    double init_a;        /* PARAM/STATE: initializer argument (constant value / bound / mean) */
    double init_b;        /* PARAM/STATE: second initializer argument (std) */
    long long fan_in;     /* PARAM/STATE: fan-in used by scaled initializers */
    long long fan_out;    /* PARAM/STATE: fan-out used by scaled initializers */
} dlrt_tensor_desc;

typedef void (*dlrt_train_fn)(void *weights, void *arena, const void *const *inputs, int n,
                              const double *scalars, double *loss);
/* eval's scalars: "seed" and "step" key the random samples it draws (normal, uniform,
 * bernoulli; the runtime passes the run's seed and -(1 + the batch's index in the pass), so
 * each batch of a pass draws afresh and every pass draws the same); NULL: all zero */
typedef void (*dlrt_eval_fn)(void *weights, void *arena, const void *const *inputs, int n,
                             const double *scalars, double *loss);

/* A training step of a train block with `step` sections: one update of the parameters it
 * names, with its own loss and optimizer (a train block without steps has none of these and
 * trains through train_step alone). */
typedef struct dlrt_step_desc {
    const char *name;    /* the step's name ("discriminator") */
    dlrt_train_fn train; /* forward + backward + update of its parameters */
    int loss_output;     /* its loss: the OUTPUT row of that index (eval_step writes it) */
} dlrt_step_desc;

typedef struct dlrt_model_desc {
    int abi_version;                 /* DLRT_ABI_VERSION the code was generated for */
    const char *name;                /* model name */
    int real_size;                   /* bytes per real: 4 (f32) or 8 (f64) */
    long long weights_count;         /* reals in the weights block */
    long long arena_bytes;           /* bytes in the activation arena */
    int max_batch;                   /* largest n the step functions accept */
    int n_inputs;                    /* entries of inputs[] */
    int n_scalars;                   /* entries of scalars[] */
    int n_tensors;                   /* entries of tensors */
    const dlrt_tensor_desc *tensors; /* params, state, inputs, outputs, scalars */
    dlrt_train_fn train_step;        /* forward + backward + update; NULL without training */
    dlrt_eval_fn eval_step;          /* forward (and loss when there is one; else *loss = 0) */
    int n_steps;                     /* entries of steps (0: train_step is the only step) */
    const dlrt_step_desc *steps;     /* the steps, in order; train_step is steps[0].train */
} dlrt_model_desc;

#endif
