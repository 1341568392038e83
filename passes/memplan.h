/*
 * memplan.h — memory planning: where every tensor of the step functions lives, and what that
 * costs, before anything runs.
 *
 * Storage: one weights block (params, model buffers such as batchnorm's running statistics,
 * then optimizer state, each padded to 16 elements) and one arena per device. The arena
 * serves both step functions (they never run at once): the model's outputs and its loss are
 * pinned at its start (the runtime reads them after either function), and each function's
 * other stored values and workspaces are placed after them by lifetime over the function's
 * steps (passes/schedule.h): two buffers whose lifetimes meet never overlap; an elementwise
 * result may take over an input's buffer in place when that read is the input's last. The
 * arena is the larger of the two functions' plans. Sizes are at a chosen batch (the model's
 * own by default) and element size (4 for f32; 2 for f16/bf16 predictions; 8 for f64), every
 * buffer rounded up to 64 bytes.
 */
#ifndef DLC_MEMPLAN_H
#define DLC_MEMPLAN_H
#include "schedule.h"

/* What a buffer holds, for the memory report. */
typedef enum mem_class {
    MEM_OUTPUT,    /* a model output or the loss: pinned, alive across both functions */
    MEM_SAVED,     /* a forward value read by the backward pass (a saved activation) */
    MEM_GRADIENT,  /* a parameter's gradient */
    MEM_TRANSIENT, /* any other intermediate value */
    MEM_WORKSPACE, /* an op's scratch memory (the convolutions' column buffer) */
    MEM_CLASS_COUNT
} mem_class;

extern const char *const pass_memplan_class_names[MEM_CLASS_COUNT];

/* Reals of scratch memory node `id` needs at batch size `batch` (0: none); the backend's. */
typedef int64_t (*mem_workspace_fn)(const ir_graph *g, int id, int64_t batch);

typedef struct mem_options {
    int64_t batch;              /* batch size to plan for (0: the model's own) */
    int real_bytes;             /* bytes per real element (4 f32, 8 f64, 2 f16/bf16) */
    int reuse;                  /* 0: every buffer its own bytes for the whole step (debugging) */
    mem_workspace_fn workspace; /* the backend's scratch sizes (NULL: none) */
} mem_options;

typedef struct mem_buffer {
    int node;         /* the node it first holds (the head of an in-place chain) */
    int workspace;    /* 1: node's scratch memory rather than its value */
    mem_class cls;    /* what it holds (its head's class) */
    int64_t bytes;    /* size, rounded up to 64 */
    int first, last;  /* lifetime: the steps from its definition to its last read, inclusive */
    int64_t offset;   /* byte offset in the arena */
} mem_buffer;

typedef struct mem_fn_plan {
    ir_sched sched;     /* the function's schedule */
    int n_buffers;      /* entries of buffers */
    mem_buffer *buffers;/* every buffer of the function (pinned ones included) */
    int *buffer_of;     /* per node id: index of the buffer holding its value, or -1 */
    int *workspace_of;  /* per node id: index of its scratch buffer, or -1 */
    int64_t bytes;      /* arena bytes this function needs (the highest buffer end) */
    int64_t bytes_no_reuse; /* ... if every value and workspace had bytes of its own */
    int peak_step;      /* the step where the most bytes are live */
    int64_t peak_live;  /* bytes live at that step */
    int64_t live_by_class[MEM_CLASS_COUNT]; /* of peak_live, by class */
} mem_fn_plan;

typedef struct mem_plan {
    int64_t batch;          /* batch size planned for */
    int real_bytes;         /* bytes per real */
    int has_train;          /* the training steps were planned */
    int n_train;            /* training step functions planned (g->n_steps, or 0) */
    mem_fn_plan train[IR_MAX_STEPS]; /* each training step's plan */
    mem_fn_plan eval;       /* the evaluation step's plan */
    int64_t *weight_offset; /* per node id: element offset of a param/buffer/state leaf */
    int64_t weights_count;  /* reals in the weights block */
    int64_t params, buffers, state; /* reals in the weights block per kind (padded) */
    int64_t pinned_bytes;   /* arena bytes of the pinned outputs and loss */
    int64_t arena_bytes;    /* the arena: the larger function plan */
    int64_t arena_no_reuse; /* the arena if nothing were reused (each buffer its own bytes) */
} mem_plan;

/* Plans the evaluation step, and the training step when s has it, over the schedules s (the
 * schedule analysis's; the plan's functions share them). */
void pass_memplan_build(const ir_graph *g, const sched_funcs *s, const mem_options *o, arena *a,
                   mem_plan *p);

/* --dump-after=memplan: the weights block, then per function its buffers with their classes,
 * sizes, lifetimes and offsets; a stable text format (tests/golden/analysis). */
void pass_memplan_dump(const ir_graph *g, const mem_plan *p, FILE *out);

/* Checks that no two buffers of a function whose lifetimes meet overlap in the arena (an
 * in-place pair excepted: they are one buffer); an internal error if they do. */
void pass_memplan_verify(const mem_plan *p);

/* The buffer's byte offset of node id's value in function plan f (it must be stored). */
int64_t pass_memplan_offset(const mem_fn_plan *f, int id);
/* The byte offset of node id's workspace in f (it must have one). */
int64_t pass_memplan_workspace_offset(const mem_fn_plan *f, int id);

#endif
