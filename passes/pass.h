/*
 * pass.h — the pass pipeline. Each pass is one file with one exported entry point; each states
 * what it requires and what it establishes. One pass table (passes/pipeline.c) lists every
 * stage in order — the front end's parse and lower, the passes, and the analyses schedule and
 * memplan — with the pipelines (variants) each belongs to, its --dump-after name, help line
 * and dump. pass_run_pipeline runs a variant's entries with ir_verify after each stage that
 * changes the graph and stops after the one named by --dump-after, printing its dump; the
 * driver's options take the names, the help text and the check of --dump-after from the table.
 */
#ifndef DLC_PASS_H
#define DLC_PASS_H
#include "../ir/ir.h"
#include "../ir/train_config.h"
#include "memplan.h"
#include <stdio.h>

/* The pipelines of the pass table: a training compilation (the default), gradient checks (no
 * update; every parameter's gradient exposed as an output) and inference with trained weights
 * (the forward graph, batchnorm folded). */
typedef enum pass_variant { PASS_TRAIN, PASS_GRADCHECK, PASS_INFERENCE, PASS_VARIANT_COUNT } pass_variant;

/* The memory plans one compilation can make: one per target it generates code for. */
enum { PASS_MAX_PLANS = 2 };

struct pass_ctx;
struct ast_file;

/* The front end's stages, given by the driver (passes/ does not include the frontend): parse
 * the source into ast, lower ast into g (setting up the ctx for the passes), dump the AST. */
typedef struct pass_frontend {
    int (*parse)(struct pass_ctx *c);                    /* 0 after user errors */
    int (*lower)(struct pass_ctx *c);                    /* 0 after user errors */
    void (*dump_ast)(const struct pass_ctx *c, FILE *out); /* --dump-after=parse */
} pass_frontend;

typedef struct pass_ctx {
    const pass_frontend *front; /* parse and lower */
    void *user;                 /* the driver's compilation (for front) */
    struct ast_file *ast;       /* parse: the AST */
    ir_graph *g;             /* the graph being transformed */
    diag *d;                 /* where user errors go */
    const opt_config *opt;   /* optimizer for the update pass (NULL: no update) */
    int with_backward;       /* run autodiff (0 for inference-only graphs) */
    int no_fold;                        /* inference: leave batchnorm unfolded (--no-fold) */
    const char *normalized_inputs[3];   /* inference: the inputs the runtime normalised (the
                                           feature input, or each member of a tuple) */
    int n_normalized;                   /* how many */
    arena *a;                /* where the analyses' results live (the compilation's arena) */
    int analyse;             /* run the analyses (the mode generates code or plans memory) */
    int plan_train;          /* schedule and plan the training step too */
    int n_plans;             /* memplan: plans to make, one per target (0: none) */
    mem_options mem[PASS_MAX_PLANS]; /* memplan: each target's memory options (the driver's,
                                        from the backend: element size, batch, reuse, workspace) */
    const char *target[PASS_MAX_PLANS]; /* memplan: each target's name, for the dump */
    sched_funcs sched;       /* schedule: the step functions' schedules */
    int planned[PASS_MAX_PLANS];     /* memplan: plan k was made (not when its batch is too big) */
    mem_plan plans[PASS_MAX_PLANS];  /* memplan: each target's plan */
} pass_ctx;

typedef int (*pass_fn)(pass_ctx *c); /* returns 0 after reporting user errors */

/* A row of the pass table. */
typedef struct pass_info {
    const char *name;   /* name for --dump-after */
    pass_fn run;        /* entry point */
    const char *help;   /* what it does, one line (docs/cli.md) */
    unsigned variants;  /* the pipelines it is in: bits 1 << pass_variant */
    int changes_graph;  /* ir_verify runs after it */
    void (*dump)(const pass_ctx *c, FILE *out); /* --dump-after's print: the AST (parse), the IR
                                                   (lower and the passes) or an analysis's own */
} pass_info;

/* The pass table, in order (passes/pipeline.c). */
extern const pass_info pass_table[];
extern const int pass_table_len;
int pass_in_variant(const pass_info *p, pass_variant v);
/* The entry named `name` in variant v, or NULL. */
const pass_info *pass_find(const char *name, pass_variant v);

/* The analyses (schedule.c, memplan_dump.c): the step functions' schedules, then a memory
 * plan per requested target over them; both do nothing unless c->analyse. */
int pass_schedule(pass_ctx *c);
int pass_memplan(pass_ctx *c);

int pass_shape(pass_ctx *c);
int pass_autodiff(pass_ctx *c);
int pass_optimizer(pass_ctx *c);
int pass_dce(pass_ctx *c);
/* dce's work on a graph: drops every node that reaches no root (loss, outputs, side effects,
 * params), renumbering the rest; a param whose retired[id] is set (retired may be NULL) is no
 * root, so a pass that replaced it (fold_batchnorm) lets it go when nothing reads it. */
void pass_dce_remove_dead(ir_graph *g, const char *retired);
int pass_inference(pass_ctx *c);
int pass_fold_batchnorm(pass_ctx *c);

/* Runs variant v's entries in order; if stop_after names one, stops after it, printing its
 * dump to out, and sets *stopped. Returns 0 after user errors, else 1. */
int pass_run_pipeline(pass_ctx *c, pass_variant v, const char *stop_after, FILE *out,
                      int *stopped);

#endif
