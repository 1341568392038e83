/*
 * ir.h — the graph IR shared by every pass and both backends.
 *
 * A graph is an array of nodes addressed by integer id; inputs always have smaller ids than
 * their users, so id order is a valid schedule (passes append; nothing is reordered in place).
 * Every node carries the source location that created it; nodes a pass derives from another
 * inherit its location so errors can point at the user's line. All memory is the
 * compilation's arena.
 */
#ifndef DLC_IR_H
#define DLC_IR_H
#include "../support/arena.h"
#include "../support/diag.h"
#include <stdint.h>

typedef enum ir_op {
#define OP(name, n_in, flags, shape, grad, attrs, cuda) IR_OP_##name,
#include "ops.def"
#undef OP
    IR_OP_COUNT
} ir_op;

enum {
    OPF_LEAF = 1,     /* no inputs; owns storage (weights block or caller's buffer) */
    OPF_ELEM = 2,     /* elementwise over the broadcast output: fusable into one loop */
    OPF_SIDE = 4,     /* writes another node's storage; a root for dead-code elimination */
    OPF_WEIGHTS = 8,  /* a leaf that lives in the weights block (saved with the model) */
    OPF_RANDOM = 16,  /* draws from the (seed, step, stream) hash; identity in eval_step */
    OPF_GEMM = 32,    /* calls a GEMM (the C backend's dlc_gemm, CUDA's cuBLAS): a workspace */
    OPF_INPLACE = 64, /* may write its result into an input's buffer (the memory planner) */
    OPF_SAMPLE = 128, /* a sample (normal, uniform, bernoulli): draws from the same hash in every
                       * step function, train_step keyed by (seed, step), the others by (0, 0) */
};

/* How the CUDA backend runs an op (ops.def's cuda column). */
typedef enum ir_cuda_kind {
    IR_CUDA_NONE,   /* a leaf: storage only, no code */
    IR_CUDA_FUSED,  /* inside its fusion group's kernel, with the C backend's expression */
    IR_CUDA_GEMM,   /* cuBLAS GEMM launches (conv2d's: with its im2col / col2im kernels) */
    IR_CUDA_KERNEL, /* kernels of its own (cu_emit_NAME) */
} ir_cuda_kind;

enum { IR_MAX_RANK = 6, IR_MAX_IN = 4 };

/* The most elements one tensor may hold, the batch dim at its max included (docs/language.md,
 * "Limits"): 2^40, so every byte size (elements * 8 at most) and every sum of a graph's sizes
 * stays far from 2^63. IR_MAX_DIM bounds one written dim (and the batch): C's int. */
#define IR_MAX_ELEMENTS ((int64_t)1 << 40)
#define IR_MAX_ELEMENTS_TEXT "2^40"
#define IR_MAX_DIM ((int64_t)2147483647)

typedef enum ir_dtype { IR_F32, IR_I32 } ir_dtype;

typedef struct ir_shape {
    int rank;                 /* number of dims, including the batch dim when batched */
    int batched;              /* dims[0] is the batch: max batch at compile time, n at run time */
    int64_t dims[IR_MAX_RANK];/* sizes, outermost first */
} ir_shape;

typedef enum ir_init_kind {
    IR_INIT_ZEROS, IR_INIT_CONSTANT, IR_INIT_UNIFORM, IR_INIT_NORMAL,
    IR_INIT_XAVIER_UNIFORM, IR_INIT_XAVIER_NORMAL, IR_INIT_HE_UNIFORM, IR_INIT_HE_NORMAL,
    IR_INIT_LECUN_UNIFORM, IR_INIT_LECUN_NORMAL, IR_INIT_TORCH_DEFAULT, IR_INIT_COUNT
} ir_init_kind;

/* Canonical initializer names, as the runtime's tensor descriptors spell them ("he_normal"). */
extern const char *const ir_init_names[IR_INIT_COUNT];

typedef struct ir_init {
    ir_init_kind kind; /* distribution */
    double a;          /* constant: value; uniform: low; normal: mean */
    double b;          /* uniform: high; normal: std */
    int64_t fan_in;    /* for the fan-scaled kinds */
    int64_t fan_out;   /* for the fan-scaled kinds */
} ir_init;

typedef struct ir_node {
    ir_op op;                 /* what it computes */
    int n_in;                 /* number of inputs */
    int in[IR_MAX_IN];        /* input node ids (all smaller than this node's id) */
    ir_dtype dtype;           /* element type of the result */
    ir_shape shape;           /* result shape (set by shape inference) */
    int shape_known;          /* shape inference has run on this node */
    int64_t iattr[10];        /* integer attributes (per op; see ops.def) */
    double fattr[4];          /* float attributes (per op; see ops.def) */
    const char *name;         /* leaves: parameter/input/state name; others: NULL or a label */
    ir_init init;             /* param/state: how to initialise */
    src_loc loc;              /* where in the user's file this node comes from */
    const char *what;         /* the user-level construct that made it ("dense"), for errors */
    int grad;                 /* param: id of its gradient node (-1 until autodiff) */
    int phase;                /* IR_PHASE_*: which part of the step created it */
    int step;                 /* backward and update nodes: the training step (g->steps) they
                                 belong to; -1: the forward graph, which every step shares */
} ir_node;

enum { IR_PHASE_FORWARD = 0, IR_PHASE_BACKWARD = 1, IR_PHASE_UPDATE = 2 };

/* A training step: one generated step function, minimising its own loss over the parameters
 * it updates (the others stay frozen in it). A train block without `step` sections is one
 * step that updates every parameter. */
enum { IR_MAX_STEPS = 8 };
typedef struct ir_step {
    const char *name;          /* `step NAME`; NULL for a train block without steps */
    int loss;                  /* id of its scalar loss */
    const char *const *params; /* what it updates: full parameter names, or prefixes ending in
                                  '.' (an instance's "D."); NULL: every parameter */
    int n_params;              /* entries of params */
    const struct opt_config *opt; /* its optimizer (ir/train_config.h) */
    int *grad;                 /* autodiff: per node id below n_grad, a param's gradient in this
                                  step, or -1 (renumbered by dce) */
    int n_grad;                /* entries of grad */
} ir_step;
typedef struct ir_graph {
    arena *a;          /* owning arena */
    ir_node *nodes;    /* node table, indexed by id */
    int n_nodes;       /* live entries in nodes */
    int cap;           /* allocated entries in nodes */
    int loss;          /* id of the scalar loss, -1 if none */
    int outputs[64];    /* ids of named outputs (e.g. logits) read by the runtime */
    int n_outputs;     /* number of entries in outputs */
    int phase;         /* phase stamped on nodes added now */
    int cur_step;      /* step stamped on nodes added now (-1: the shared forward graph) */
    int n_steps;       /* training steps (0: no training) */
    ir_step steps[IR_MAX_STEPS]; /* the training steps; steps[0].loss is `loss` */
    src_loc cur_loc;   /* location stamped on nodes added now */
    const char *cur_what; /* user-level construct stamped on nodes added now */
    struct ir_weights *weights; /* trained values of the leaves (ir/weights.h; inference graphs),
                                   or NULL */
} ir_graph;

/* Per-op static facts generated from ops.def. */
extern const char *const ir_op_names[IR_OP_COUNT];
extern const int ir_op_arity[IR_OP_COUNT];
extern const int ir_op_flags[IR_OP_COUNT];
extern const int ir_op_differentiable[IR_OP_COUNT];
extern const unsigned ir_op_attr_groups[IR_OP_COUNT]; /* AG_* bits (ir_attrs.h) */
extern const ir_cuda_kind ir_op_cuda_kind[IR_OP_COUNT];

/* The op's OPF_* flags as predicates. */
static inline int ir_op_has(ir_op op, int flag) { return (ir_op_flags[op] & flag) != 0; }
static inline int ir_op_is_leaf(ir_op op) { return ir_op_has(op, OPF_LEAF); }
static inline int ir_op_in_weights(ir_op op) { return ir_op_has(op, OPF_WEIGHTS); }
static inline int ir_op_is_random(ir_op op) { return ir_op_has(op, OPF_RANDOM); }
static inline int ir_op_uses_gemm(ir_op op) { return ir_op_has(op, OPF_GEMM); }
static inline int ir_op_in_place(ir_op op) { return ir_op_has(op, OPF_INPLACE); }
static inline int ir_op_is_sample(ir_op op) { return ir_op_has(op, OPF_SAMPLE); }
/* an op with a stream of draws of its own (random.stream): OPF_RANDOM or OPF_SAMPLE */
static inline int ir_op_draws(ir_op op) { return ir_op_has(op, OPF_RANDOM | OPF_SAMPLE); }

/* Pooling's output size along one spatial dim: floor((in + 2 padding - kernel) / stride) + 1
 * (torch's, ceil_mode off); the kernel fits in the padded input. */
int64_t ir_pool_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding);

ir_graph *ir_graph_new(arena *a);
/* whether step st updates param node id (its name matches one of the step's entries) */
int ir_step_updates(const ir_step *st, const ir_node *param);
ir_node *ir_get(const ir_graph *g, int id);
int ir_add(ir_graph *g, ir_op op, int n_in, const int *in); /* node at g->cur_loc, g->phase */
int ir_add1(ir_graph *g, ir_op op, int a);
int ir_add2(ir_graph *g, ir_op op, int a, int b);
int ir_add3(ir_graph *g, ir_op op, int a, int b, int c);
int ir_const(ir_graph *g, double v);
int ir_leaf(ir_graph *g, ir_op op, const char *name, ir_dtype dt, const ir_shape *shape);
int ir_matmul(ir_graph *g, int a, int b, int trans_a, int trans_b);
/* matmul per sample of two batches of matrices (a [B,n,k], b [B,k,m]; per_sample set) */
int ir_bmm(ir_graph *g, int a, int b, int trans_a, int trans_b);
int ir_find_leaf(const ir_graph *g, ir_op op, const char *name);

/* Shapes */
int64_t ir_shape_numel(const ir_shape *s);      /* with the batch dim at its max */
int64_t ir_shape_inner(const ir_shape *s);      /* elements per sample (numel without batch) */
/* s holds at most IR_MAX_ELEMENTS elements (computed without overflow); then its numel and
 * inner counts are exact. */
int ir_shape_fits(const ir_shape *s);
int ir_shape_equal(const ir_shape *a, const ir_shape *b);
const char *ir_shape_str(arena *a, const ir_shape *s); /* "[B,784]", "[512]", "[]" */
ir_shape ir_shape_make(int batched, int rank, const int64_t *dims);

/* Shape inference for one node (its inputs must have shapes). Reports a user error at the
 * node's location and returns 0 on mismatch. The rules live in ir/shape_rules.c. */
int ir_infer_shape(ir_graph *g, int id, diag *d);

/* Every tensor of g (and conv2d's columns) stays within IR_MAX_ELEMENTS at batch `batch`, and
 * batch is in [1, IR_MAX_DIM]: the memory report plans at batches other than the compiled one. */
int ir_batch_fits(const ir_graph *g, int64_t batch);

/* Copies every attribute of src into dst (a gradient op keeps its forward op's attributes). */
void ir_copy_attrs(ir_node *dst, const ir_node *src);
/* Sets the op's float attributes, in attrs.def's order, to v[0], v[1], ... (the frontend's
 * numeric arguments); v holds at least as many values as the op has float attributes. */
void ir_set_float_attrs(ir_node *n, const double *v);

/* Stable text dump (golden tests diff it). */
void ir_dump(const ir_graph *g, FILE *out);

/* Structural checks between passes; internal error on violation. */
void ir_verify(const ir_graph *g);

#include "ir_attrs.h"

#endif
