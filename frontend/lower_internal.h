/*
 * lower_internal.h — state shared by the lowering files (lower.c: the entry point, items and
 * params; lower_util.c: the helpers all of them use; layers.c: expressions and the table of
 * callable layers/ops; lower_init.c: initializers; lower_train.c: the
 * train block; lower_data.c: its dataset binding; lower_augment.c: its image augmentation;
 * lower_eval.c: its metrics and early stopping; lower_optim.c: its optimization settings;
 * lower_pool.c: pooling and concatenation; lower_block.c: blocks and their instances).
 */
#ifndef DLC_LOWER_INTERNAL_H
#define DLC_LOWER_INTERNAL_H
#include "lower.h"

typedef struct lower_instance lower_instance; /* a block instance (lower_block.c) */

typedef struct binding {
    const char *name;     /* name in the model (inputs and assigned values) */
    int node;             /* IR node it refers to (NODE_INSTANCE: an instance) */
    lower_instance *inst; /* the block instance the name holds, or NULL */
} binding;

typedef struct hyper {
    const char *name; /* param item name */
    double value;     /* its evaluated value */
    int overridden;   /* set from -D */
    int failed;       /* its value had an error (reported once; uses fail quietly) */
} hyper;

/* The most nodes a model's graph may have when lowered (docs/language.md, "Limits"): autodiff
 * and the optimizer about triple it, and planning memory grows with its square. */
enum { LOWER_MAX_NODES = 60000 };

enum { LOWER_NAME_BASES = 8 }; /* bases of automatic layer names ("dense", "conv", ...) */

/* A hash set of names (lower_names.c). */
typedef struct name_set {
    const char **slots; /* open addressing: arena copies of the names, or NULL */
    size_t cap;         /* entries of slots (a power of two, or 0) */
    size_t count;       /* used entries of slots */
} name_set;

/* The parameter and buffer names taken so far (lower_names.c). */
typedef struct lower_names {
    name_set params;    /* every parameter's name */
    name_set buffers;   /* every model buffer's name */
    name_set prefixes;  /* the first dotted segment of each of those names that has a dot */
    int indexed;        /* nodes below this id are in the sets */
    int n_bases;        /* entries of bases and next_k */
    const char *bases[LOWER_NAME_BASES]; /* the bases of automatic names asked for so far */
    int next_k[LOWER_NAME_BASES];        /* per base: no k below this is free */
} lower_names;

/* A block instance: a block, the arguments fixed when it was made, and the prefix its
 * parameters are named with; every call of it shares them (lower_block.c). */
struct lower_instance {
    const char *name;       /* as the user named it ("enc"), or automatic ("encoder1") */
    const char *prefix;     /* its parameters' prefix: "enc." ("outer.enc." when nested) */
    const ast_item *block;  /* the block it instantiates */
    src_loc made;           /* where it was made */
    char *bound;            /* per block parameter: 0 free, 'n' a number, 't' a tensor */
    double *num;            /* per block parameter: its number ('n') */
    int *node;              /* per block parameter: its tensor ('t') */
    int n_calls;            /* calls lowered so far */
    int failed;             /* a call failed (reported): later calls fail quietly */
};

/* A block call being lowered (lower_block.c): its own names, numbers and layer names. */
typedef struct lower_frame lower_frame;
struct lower_frame {
    lower_instance *inst;   /* the instance called */
    const ast_expr *call;   /* the call site */
    lower_frame *up;        /* the caller's frame; NULL: the model */
    name_set taken;         /* layer and instance names used in this call, below the prefix */
    name_set made;          /* parameter and buffer names made in this call, below the prefix */
};

enum { LOWER_MAX_BLOCK_DEPTH = 64 }; /* block calls inside block calls at once */

typedef struct lower_ctx {
    arena *a;           /* compilation arena */
    diag *d;            /* user errors */
    ir_graph *g;        /* graph being built */
    hyper *hypers;      /* evaluated param items */
    int n_hypers;       /* entries in hypers */
    binding *env;       /* model names, one entry each: its latest binding */
    int n_env;          /* entries in env */
    int cap_env;        /* capacity of env */
    int64_t max_batch;  /* the compiled batch dimension */
    int n_variable;     /* unnamed variables so far, for automatic names */
    lower_names names;  /* taken layer names, for automatic ones (lower_names.c) */
    int last_value;     /* node of the model's last statement (the output) */
    const ast_expr *regularize; /* train block's `regularize = [...]`, lowered after the loss */
    double num[4];      /* numeric arguments of the call being lowered (layers.c), in the
                           order of its row's list; the generic builders copy them to the
                           op's float attributes (ir_set_float_attrs) */
    /* blocks (lower_block.c) */
    const ast_item **blocks; /* the file's block items */
    int n_blocks;            /* entries in blocks */
    hyper *globals;          /* the param items (c->hypers outside block calls) */
    int n_globals;           /* entries in globals */
    lower_frame *frame;      /* the innermost block call being lowered; NULL: the model */
    int depth;               /* block calls being lowered */
    name_set block_leaves;   /* full names of the parameters and buffers block calls made */
    name_set top_instances;  /* instance names made in the model */
    const ast_item **model_blocks; /* the other models of the file, each as a block ... */
    const ast_item **model_items;  /* ... and as written (its inputs' types) */
    int n_models;                  /* entries of both */
    /* the block hook: lower_block_call, set by lower.c (layers.c reaches blocks through it:
     * their bodies are expressions again, and the files' call graph has no cycle) */
    int (*call_block)(struct lower_ctx *c, const ast_expr *call);
} lower_ctx;

/* What a name is bound to when its definition failed: the error is already reported, so a use
 * of the name fails quietly instead of adding "unknown name" errors that are not the cause. */
enum { NODE_FAILED = -2 };
/* What lower_lookup_node returns for a name bound to a block instance (lower_lookup_instance) */
enum { NODE_INSTANCE = -3 };
/* What c->call_block returns when the callee names no block or instance (a built-in) */
enum { LOWER_NOT_BLOCK = -4 };

/* lower_util.c: names. The node a model name is bound to (NODE_FAILED; -1: none) */
int lower_lookup_node(const lower_ctx *c, const char *name);
const hyper *lower_lookup_hyper(const lower_ctx *c, const char *name); /* param item, or NULL */
lower_instance *lower_lookup_instance(const lower_ctx *c, const char *name); /* or NULL */
/* bind name (in the current scope) to node, or to an instance (node NODE_INSTANCE) */
void lower_bind(lower_ctx *c, const char *name, int node, lower_instance *inst);
/* "expected a tensor, but 'enc' is an instance of block 'encoder'" */
void lower_instance_as_value(lower_ctx *c, const ast_expr *e);
/* "unknown name 'x'; did you mean 'y'?" over the model names and params */
void lower_unknown_name(lower_ctx *c, const ast_expr *e);
/* lower_util.c: numbers */
int lower_eval_number(lower_ctx *c, const ast_expr *e, double *out); /* 0 after an error */
/* a whole number in [min, IR_MAX_DIM] (dims, units, batch, epochs, seed) */
int lower_eval_int(lower_ctx *c, const ast_expr *e, int64_t *out, int64_t min);
const char *lower_num_text(lower_ctx *c, double v); /* "2147483648" (whole numbers), else "%g" */
const char *lower_eval_symbol(lower_ctx *c, const ast_expr *e, const char *what);
/* an integer setting in [min, max]; errors name it: "WHAT must be an integer in [1, 1000000], got 0" */
int lower_eval_count(lower_ctx *c, const ast_expr *e, const char *what, int64_t min, int64_t max,
                     int64_t *out);
/* number in [lo, hi] (ends excluded when lo_open / hi_open) into *out, else an error
 * "WHAT must be in [lo, hi), got V" */
int lower_in_range(lower_ctx *c, const ast_expr *e, const char *what, double lo, double hi,
                   int lo_open, int hi_open, double *out);
/* lower_util.c: tensors and calls */
/* v is finite as an f32 (it becomes a tensor element), else "WHAT V is not finite as an f32" */
int lower_fits_f32(lower_ctx *c, src_loc loc, double v, const char *what);
int lower_finish_node(lower_ctx *c, int id);                  /* infer shape; -1 on error */
/* error: section s (`step NAME { ... }`) written where none is allowed (`where`: "a model") */
void lower_reject_section(lower_ctx *c, const ast_stmt *s, const char *where);

/* a trainable parameter (error when the name is taken) */
int lower_make_param(lower_ctx *c, const char *name, int rank, const int64_t *dims, const ir_init *init);
const ast_expr *lower_find_kwarg(const ast_expr *call, const char *name);
int lower_check_call_args(lower_ctx *c, const ast_expr *call, int min_pos, int max_pos,
                          const char *const *kwargs);

/* lower_names.c */
const char *lower_loc_name(lower_ctx *c, const char *base); /* "dense1": first unused BASE<k> */
/* Whether a parameter (op IR_OP_param) or buffer (IR_OP_buffer) of that name exists. */
int lower_leaf_named(lower_ctx *c, ir_op op, const char *name);
/* The full name of a parameter or buffer `name` made now: inside a block call, the instance's
 * prefix + name; *reuse is the leaf to share (an earlier call of the instance made it) or -1.
 * NULL after an error (the name is taken). */
const char *lower_leaf_name(lower_ctx *c, ir_op op, const char *name, int *reuse);
/* Whether a prefix (a layer or instance name) is taken in the current scope; take marks it */
int lower_prefix_taken(lower_ctx *c, const char *name);
void lower_take_prefix(lower_ctx *c, const char *name);
int lower_set_has(const name_set *s, const char *text);
void lower_set_add(name_set *s, arena *a, const char *text);

/* lower_init.c: an initializer expression (kind and arguments; the caller sets the fans) */
int lower_init(lower_ctx *c, const ast_expr *e, ir_init *out);

/* lower_block.c: block definitions (checked once), a statement NAME = EXPR of the model or a
 * block (EXPR may make an instance: then NODE_INSTANCE), the block hook (c->call_block) */
int lower_collect_blocks(lower_ctx *c, const ast_file *f);
/* lower_models.c: the file's models other than `trained`, callable from it as blocks with one
 * instance each (named after the model); the instances are made as the model's lowering
 * starts; a call's tensors are checked against the called model's input types */
int lower_collect_models(lower_ctx *c, const ast_file *f, const ast_item *trained);
void lower_instantiate_models(lower_ctx *c);
int lower_check_model_call(lower_ctx *c, const lower_instance *in, const ast_expr *call);
int lower_is_model_block(const lower_ctx *c, const ast_item *b);
/* lower_block.c: an instance of block b named like it, bound in the current scope */
void lower_make_named_instance(lower_ctx *c, const ast_item *b, src_loc at);
int lower_assign(lower_ctx *c, const ast_stmt *s);
int lower_block_call(lower_ctx *c, const ast_expr *call);

/* layers.c: a tensor expression (-1 after an error); a call of a layer or op */
int lower_expr(lower_ctx *c, const ast_expr *e);
int lower_call(lower_ctx *c, const ast_expr *call);

/* lower_pool.c: pooling and concatenation (layer-table builders) */
enum { CONCAT_MAX_INPUTS = 32 }; /* tensors one concat call takes */
int lower_build_pool(lower_ctx *c, const ast_expr *call, const int *args, ir_op op);
int lower_build_concat(lower_ctx *c, const ast_expr *call, const int *args, ir_op op);

/* layers_conv.c: conv2d, flatten, reshape (rows of the table in layers.c) */
int lower_build_conv2d(lower_ctx *c, const ast_expr *call, const int *args, ir_op op);
int lower_build_flatten(lower_ctx *c, const ast_expr *call, const int *args, ir_op op);
int lower_build_reshape(lower_ctx *c, const ast_expr *call, const int *args, ir_op op);

/* layers_tensor.c: issue 13 ops1's transpose, slice, one_hot (rows of the table in layers.c) */
int lower_build_transpose(lower_ctx *c, const ast_expr *call, const int *args, ir_op op);
int lower_build_slice(lower_ctx *c, const ast_expr *call, const int *args, ir_op op);
int lower_build_one_hot(lower_ctx *c, const ast_expr *call, const int *args, ir_op op);
/* constant(v), full(dims, v), and a literal list as a tensor ([1, 2], [[1, 2], [3, 4]]) */
int lower_build_constant(lower_ctx *c, const ast_expr *call, const int *args, ir_op op);
int lower_build_full(lower_ctx *c, const ast_expr *call, const int *args, ir_op op);
int lower_tensor_literal(lower_ctx *c, const ast_expr *e);
/* layers_random.c (issue 15): a node of op that draws, (x, seed, step) or (seed, step) when
 * x < 0, with the next stream number (shape not inferred yet); normal and uniform, bernoulli */
int lower_draw(lower_ctx *c, ir_op op, int x);
int lower_build_sample(lower_ctx *c, const ast_expr *call, const int *args, ir_op op);
int lower_build_sample_like(lower_ctx *c, const ast_expr *call, const int *args, ir_op op);
int lower_build_bernoulli(lower_ctx *c, const ast_expr *call, const int *args, ir_op op);
/* lower_metric.c (issue 13 ops2): axis reductions, distances, comparisons and where, the
 * contrastive and triplet losses (rows of the table in layers.c) */
int lower_build_reduce(lower_ctx *c, const ast_expr *call, const int *args, ir_op op);
int lower_build_norm(lower_ctx *c, const ast_expr *call, const int *args, ir_op op);
int lower_build_pairwise_distance(lower_ctx *c, const ast_expr *call, const int *args, ir_op op);
int lower_build_cosine_similarity(lower_ctx *c, const ast_expr *call, const int *args, ir_op op);
int lower_build_select(lower_ctx *c, const ast_expr *call, const int *args, ir_op op);
int lower_build_contrastive(lower_ctx *c, const ast_expr *call, const int *args, ir_op op);
int lower_build_triplet(lower_ctx *c, const ast_expr *call, const int *args, ir_op op);

/* lower_data.c: data = DATASET(...) */
int lower_data(lower_ctx *c, const ast_expr *e, train_config *cfg);
/* lower_table.c: data = csv("file.csv", INPUT = COLUMNS, ...) (lower_data.c calls these: the
 * file, then each argument after it except normalize, then the checks of them together) */
int lower_table_start(lower_ctx *c, const ast_expr *e, train_config *cfg);
int lower_table_arg(lower_ctx *c, const ast_arg *arg, train_config *cfg);
int lower_table_finish(lower_ctx *c, const ast_expr *e, train_config *cfg);

/* lower_augment.c: augment = [...], and its check against the dataset after the block */
int lower_augment(lower_ctx *c, const ast_expr *e, train_config *cfg);
int lower_check_augment(lower_ctx *c, const train_config *cfg);

/* lower_eval.c: metrics = [...], early_stopping = ..., and their checks after the block */
int lower_metrics(lower_ctx *c, const ast_expr *e, train_config *cfg);
/* lower_value_metric.c: a metric computed from any model value and input (mse(recon, image)) */
int lower_value_metric(lower_ctx *c, const ast_expr *e, metric_config *m);
int lower_early_stopping(lower_ctx *c, const ast_expr *e, train_config *cfg);
int lower_check_evaluation(lower_ctx *c, const train_config *cfg);

/* lower_data.c: classes = [0, 1, 2] into a mask of the dataset's classes */
int lower_classes(lower_ctx *c, const ast_expr *e, const char *ds, unsigned *mask);

/* lower_fewshot.c: evaluate = [few_shot(...), ...], and its check against the data binding */
int lower_evaluate(lower_ctx *c, const ast_expr *e, train_config *cfg);
int lower_check_few_shot(lower_ctx *c, const train_config *cfg);
/* lower_images.c: images = [grid(a, b, count = 32, columns = 8)] */
int lower_images(lower_ctx *c, const ast_expr *e, train_config *cfg);
int lower_check_images(lower_ctx *c, train_config *cfg);
/* samples = sample(fake, low = -1, high = 1) (shape checked by lower_check_images) */
int lower_samples(lower_ctx *c, const ast_expr *e, train_config *cfg);

/* lower_train.c */
int lower_train(lower_ctx *c, const ast_item *item, train_config *cfg);
void lower_train_config_defaults(train_config *cfg);

/* lower_optim.c: optimizer, schedule, warmup, regularize settings (0 after an error) */
/* lower_train.c / lower_step.c: steps and phases. lower_step_setting lowers a setting of how to
 * minimise (loss, optimizer, schedule, ...) into opt and c->g->loss: 1 done, 0 after an error,
 * -1 when s is none of them */
int lower_step_setting(lower_ctx *c, const ast_stmt *s, opt_config *opt);
int lower_is_step_key(const char *key);
int lower_step_section(lower_ctx *c, const ast_stmt *s, train_config *cfg, int phase);
int lower_phase_section(lower_ctx *c, const ast_stmt *s, train_config *cfg);
int lower_finish_steps(lower_ctx *c, train_config *cfg);
void lower_opt_config_defaults(opt_kind kind, opt_config *o); /* torch.optim's defaults for `kind` */
int lower_optimizer(lower_ctx *c, const ast_expr *e, opt_config *o);
int lower_schedule(lower_ctx *c, const ast_expr *e, lr_schedule *s);
int lower_warmup(lower_ctx *c, const ast_expr *e, lr_schedule *s);
int lower_regularize(lower_ctx *c, const ast_expr *e); /* adds the penalty to g->loss */

#endif
