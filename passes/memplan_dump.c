/*
 * memplan_dump.c — the `memplan` analysis of the pass table and its dump.
 *
 * Requires: the schedule analysis (c->sched), and from the driver one set of memory options
 * per target the compilation generates for (c->mem: element size, batch, reuse, the backend's
 * workspace function). Establishes: one memory plan per target (c->plans), each checked by
 * pass_memplan_verify; a target whose batch would give a tensor over the element limit gets no plan
 * (c->planned[k] = 0: the driver reports it). The graph is not changed.
 *
 * The dump (--dump-after=memplan) is stable text: a line with the weights block's figures,
 * then per function (train_step, eval_step) its arena bytes, peak and each buffer in order.
 */
#include "pass.h"

int pass_memplan(pass_ctx *c) {
    for (int k = 0; k < c->n_plans; k++) {
        const mem_options *o = &c->mem[k];
        c->planned[k] = !(o->batch > 0 && !ir_batch_fits(c->g, o->batch));
        if (c->planned[k]) pass_memplan_build(c->g, &c->sched, o, c->a, &c->plans[k]);
    }
    return 1;
}

static void dump_buffer(const ir_graph *g, const mem_buffer *b, int i, FILE *out) {
    fprintf(out, "  buffer %d: %%%d %s, %s, %lld B at %lld, steps %d..%d\n", i, b->node,
            ir_op_names[ir_get(g, b->node)->op], b->workspace ? "workspace" : pass_memplan_class_names[b->cls],
            (long long)b->bytes, (long long)b->offset, b->first, b->last);
}

static void dump_function(const ir_graph *g, const mem_fn_plan *f, const char *name, FILE *out) {
    fprintf(out, "%s: %d buffers, %lld B (%lld B without reuse), peak %lld B at step %d\n",
            name, f->n_buffers, (long long)f->bytes, (long long)f->bytes_no_reuse,
            (long long)f->peak_live, f->peak_step);
    for (int i = 0; i < f->n_buffers; i++) dump_buffer(g, &f->buffers[i], i, out);
}

void pass_memplan_dump(const ir_graph *g, const mem_plan *p, FILE *out) {
    fprintf(out, "memory plan: batch %lld, %d-byte reals, weights %lld reals (params %lld, "
                 "buffers %lld, state %lld), pinned %lld B, arena %lld B (%lld B without reuse)\n",
            (long long)p->batch, p->real_bytes, (long long)p->weights_count, (long long)p->params,
            (long long)p->buffers, (long long)p->state, (long long)p->pinned_bytes,
            (long long)p->arena_bytes, (long long)p->arena_no_reuse);
    for (int k = 0; k < p->n_train; k++) {
        const char *name = g->steps[k].name;
        char title[160];
        snprintf(title, sizeof title, "train_step%s%s", name ? " " : "", name ? name : "");
        dump_function(g, &p->train[k], title, out);
    }
    dump_function(g, &p->eval, "eval_step", out);
}
