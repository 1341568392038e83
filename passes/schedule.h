/*
 * schedule.h — the final schedule of a step function and its fusion groups, shared by both
 * backends and the memory planner (passes/memplan.h).
 *
 * A schedule is the node order of one function: the training step (every node: forward,
 * backward, update) or the evaluation step (what the loss and the outputs depend on). A run of
 * consecutive elementwise nodes over the same iteration space is one fusion group: one loop
 * (C) or one kernel (CUDA). A value is *stored* (has a buffer) unless every consumer in the
 * function reads it inside its own group, where it lives in a register. Leaves (params,
 * state, inputs, scalars, constants) and assigns are never stored: they own or write other
 * storage.
 *
 * Steps: the schedule seen by the memory planner. Each unfused node is one step; a whole
 * fusion group is one step (its loop reads every operand and writes every result while it
 * runs). Leaves take no step.
 */
#ifndef DLC_SCHEDULE_H
#define DLC_SCHEDULE_H
#include "../ir/ir.h"
#include <stdio.h>

typedef struct ir_sched {
    const ir_graph *g; /* the graph scheduled */
    int train;         /* 1: a training step; 0: the evaluation step */
    int fn_step;       /* a training step: which of g->steps */
    int n;             /* entries of list */
    int *list;         /* node ids in execution order (leaves included) */
    int *group;        /* per node id: fusion group, or -1 (leaves, unfused nodes, unscheduled) */
    char *stored;      /* per node id: the value is materialised in a buffer */
    int *step;         /* per node id: its step (see above), or -1 for leaves and unscheduled */
    int *pos;          /* per node id: its index in list, or -1 when not scheduled */
    int n_steps;       /* steps in the function */
} ir_sched;

/* Builds the schedule of training step `step` (train = 1) or the evaluation step (train = 0).
 * With one step, the training step is every node; with several, step k is what its loss and
 * its updates need (the forward nodes it reads, its own backward and update nodes) plus the
 * forward graph's side effects (batchnorm's running statistics) over values it computes. */
void pass_sched_build(const ir_graph *g, int train, int step, arena *a, ir_sched *s);

/* The schedules of a compilation's step functions: the `schedule` analysis of the pass table
 * (passes/pipeline.c), built once and read by the memory plans of every target. */
typedef struct sched_funcs {
    int has_train;  /* the training steps are scheduled (else only the evaluation step) */
    int n_train;    /* training steps scheduled: g->n_steps when has_train, else 0 */
    ir_sched train[IR_MAX_STEPS]; /* each training step's schedule */
    ir_sched eval;  /* the evaluation step's schedule */
} sched_funcs;

/* Schedules the evaluation step, and every training step when has_train. */
void pass_sched_build_funcs(const ir_graph *g, int has_train, arena *a, sched_funcs *s);

/* --dump-after=schedule: each function's nodes in order with their steps, fusion groups and
 * whether they are stored; a stable text format (tests/golden/analysis). */
void pass_sched_dump(const sched_funcs *s, FILE *out);

/* Whether node n is a leaf, and whether it fuses into an elementwise loop (assign included). */
int pass_sched_is_leaf(const ir_node *n);
int pass_sched_fusable(const ir_node *n);
/* The iteration space of a fusable node: its shape, or the target's for an assign. */
const ir_shape *pass_sched_space(const ir_graph *g, int id);

#endif
