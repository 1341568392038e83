/*
 * cg_c_numerics.c — the C backend's --check-numerics hook (cg_c_options.check_numerics).
 *
 * Only the training step is instrumented. After every node it computes, the step tests the
 * node's value for NaN and Inf: inside a fused loop each element as it is computed (`vK`, and
 * the value an update assigns), after an unfused node its whole buffer. The first node found
 * is recorded with the first of its inputs that already held a NaN or an Inf (-1: none, so
 * this node made the first one); later nodes are not scanned once one is recorded. The
 * runtime reads and clears the record after each step through
 *     int PREFIX_numerics(int *input);   returns the node id (-1: none), sets *input
 * Nodes run in schedule order and the check mode plans memory without reuse, so an input's
 * buffer still holds its value when its consumer is checked; loops are not parallel in this
 * mode, so "first" is the schedule's order (and, in a fused loop, the first element's).
 * The CUDA backend's check (cg_cuda_numerics.c) tests the same values with the same two
 * helpers for the inputs (cg_numerics_inputs, cg_numerics_whole in cg_loop.c).
 */
#include "cg_c_internal.h"

/* the record, its setter and the buffer scan (before the step functions) */
void cg_c_numerics_prelude(cg_c *c) {
    sb_puts(c->x.out,
            "/* --check-numerics: the first node of the training step whose value was not\n"
            " * finite, and the first of its inputs that already was not (-1: none) */\n"
            "static int dlc_bad_node = -1, dlc_bad_input = -1;\n"
            "static void dlc_note(int node, int input) {\n"
            "    if (dlc_bad_node < 0) dlc_bad_node = node, dlc_bad_input = input;\n"
            "}\n"
            "static int dlc_finite(const real *p, long n) {\n"
            "    for (long i = 0; i < n; i++)\n"
            "        if (!isfinite(p[i])) return 0;\n"
            "    return 1;\n"
            "}\n\n");
}

/* inside a fused loop, after `value` (vK, or what an assign stores) is computed */
void cg_c_numerics_element(cg_ctx *x, int id, int pos, const char *value, const char *const *args) {
    (void)pos;
    if (!x->check_numerics || !x->train || cg_node(x, id)->dtype == IR_I32) return;
    sb_printf(x->out, "        if (!isfinite(%s)) dlc_note(%d, %s);\n", value, id,
              cg_numerics_inputs(x, id, args));
}

/* input j as a whole: "!dlc_finite(tJ, COUNT)", "!isfinite(sJ)", or NULL (nothing to test) */
static const char *whole_input(cg_c *c, int j) {
    switch (cg_numerics_whole(&c->x, j)) {
    case CG_WHOLE_SCALAR: return arena_printf(c->x.a, "!isfinite(s%d)", j);
    case CG_WHOLE_BUFFER:
        return arena_printf(c->x.a, "!dlc_finite(t%d, %s)", j, cg_count(&c->x, &cg_node(&c->x, j)->shape));
    }
    return NULL;
}

/* after an unfused node: its whole buffer, then (when it is not finite) its inputs' */
void cg_c_numerics_node(cg_c *c, int id) {
    const ir_node *n = cg_node(&c->x, id);
    if (!c->o->check_numerics || !c->x.train || n->dtype == IR_I32 || !c->x.stored[id]) return;
    strbuf e;
    sb_init(&e, c->x.a);
    for (int i = 0; i < n->n_in; i++) {
        const char *t = whole_input(c, n->in[i]);
        if (t) sb_printf(&e, "%s ? %d : ", t, i);
    }
    sb_printf(c->x.out, "    if (dlc_bad_node < 0 && !dlc_finite(t%d, %s)) dlc_note(%d, %s-1);\n", id,
              cg_count(&c->x, &n->shape), id, e.data ? e.data : "");
}

/* PREFIX_numerics: reads and clears the record (after the descriptor) */
void cg_c_numerics_api(cg_c *c) {
    const char *p = c->o->prefix;
    sb_printf(c->x.out,
              "\n/* --check-numerics: the node id of the last training step's first value that\n"
              " * was not finite (-1: none), and in *input which of that node's inputs already\n"
              " * was not (-1: none); clears the record for the next step */\n"
              "int %s_numerics(int *input);\n"
              "int %s_numerics(int *input) {\n"
              "    int node = dlc_bad_node;\n"
              "    *input = dlc_bad_input;\n"
              "    dlc_bad_node = dlc_bad_input = -1;\n"
              "    return node;\n"
              "}\n", p, p);
}
