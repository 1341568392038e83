/*
 * numerics.c — --check-numerics on the driver's side: finds the generated PREFIX_numerics in
 * the loaded model (codegen/cg_c_numerics.c) and, when a training step made a NaN or an Inf,
 * names the op that made the first one at its source line, with the caret (support/diag.c),
 * the step, the part of the step (forward, gradient, update) and which input already held one.
 * With --target cuda the record is the device's (driver/cuda.c), the report the same.
 */
#include "driver.h"
#include <dlfcn.h>
#include <stdio.h>

static const char *part(const ir_node *n) {
    return n->phase == IR_PHASE_BACKWARD ? "the backward pass (a gradient)"
         : n->phase == IR_PHASE_UPDATE   ? "the optimizer update"
                                         : "the forward pass";
}

/* "input 1 (%7 param 'dense1.w')" into buf */
static const char *describe_input(const ir_graph *g, const ir_node *n, int input, char *buf,
                                  size_t len) {
    int j = n->in[input];
    const ir_node *in = ir_get(g, j);
    if (in->name) snprintf(buf, len, "input %d (%%%d %s '%s')", input, j, ir_op_names[in->op], in->name);
    else snprintf(buf, len, "input %d (%%%d %s)", input, j, ir_op_names[in->op]);
    return buf;
}

static void report(void *ctx, int node, int input, long long epoch, long long step) {
    dlc_unit *u = ctx;
    const ir_node *n = ir_get(u->g, node);
    char in[256];
    diag_error(&u->d, n->loc, "--check-numerics: %s (node %%%d) in %s%s%s, made the first NaN or Inf "
               "of training step %lld (epoch %lld)", ir_op_names[n->op], node, part(n),
               n->what ? ", from " : "", n->what ? n->what : "", step, epoch);
    if (input >= 0)
        diag_note(&u->d, n->loc, "its %s already held a NaN or an Inf",
                  describe_input(u->g, n, input, in, sizeof in));
    else
        diag_note(&u->d, n->loc, "every input of %s was finite: the first NaN or Inf comes from "
                  "this op", ir_op_names[n->op]);
}

void dlc_numerics_report(dlc_unit *u, dlrt_train_opts *t) {
    t->numerics_report = report;
    t->numerics_ctx = u;
}

int dlc_numerics_hook(dlc_unit *u, void *handle, dlrt_train_opts *t) {
    char sym[256];
    snprintf(sym, sizeof sym, "%s_numerics", u->cfg.model);
    *(void **)&t->numerics = handle ? dlsym(handle, sym) : NULL;
    if (!t->numerics) {
        fprintf(stderr, "dlc: error: --check-numerics: the compiled model has no %s\n", sym);
        return 1;
    }
    dlc_numerics_report(u, t);
    return 0;
}
