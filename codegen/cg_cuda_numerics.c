/*
 * cg_cuda_numerics.c — the CUDA backend's --check-numerics (cg_cuda_options.check_numerics):
 * the training step notes the first node whose value is not finite in an 8-byte record in the
 * device arena (after the scalars, at dlrt_cuda_program.numerics_offset), as the C backend's
 * check does on the CPU (cg_c_numerics.c; both name the inputs tested with the shared
 * helpers of cg_loop.c).
 *
 * The record is one unsigned 64-bit key, all ones when nothing was found:
 *     key = schedule position << 40 | input << 32 | node id
 * (input: the first input that already held a NaN or an Inf, 0xFF for none). Kernels note
 * with atomicMin, so however the threads interleave the earliest node in schedule order wins,
 * then the smallest input index: the result is deterministic. A fused kernel tests each value
 * as it computes it (vK, or what an assign stores) and its element operands. After an unfused
 * node two kernels follow its launches: the first scans its output, the second, only when the
 * record holds this node's position, scans its testable inputs (one stream: it sees the
 * first's note). The plan has no reuse in this mode, so an input's buffer still holds its value.
 * The host reads and resets the record after each training step (driver/cuda.c).
 */
#include "cg_cuda_internal.h"

void cg_cu_numerics_prelude(cg_cu *c) {
    if (c->numerics_offset < 0) return;
    sb_printf(c->x.out,
              "/* --check-numerics: the record of the training step's first NaN or Inf,\n"
              " * position << 40 | input << 32 | node (all ones: none); the smallest key wins */\n"
              "static void dlc_note(unsigned char *A, unsigned long long pos, int input, int node) {\n"
              "    atomicMin((unsigned long long *)(A + %lldLL),\n"
              "              pos << 40 | (unsigned long long)(input < 0 ? 0xFF : input) << 32 |\n"
              "                  (unsigned long long)(unsigned)node);\n"
              "}\n"
              "static unsigned long long dlc_record(const unsigned char *A) {\n"
              "    return *(volatile const unsigned long long *)(A + %lldLL);\n"
              "}\n\n",
              c->numerics_offset, c->numerics_offset);
}

static int checked(cg_cu *c, int id) {
    return c->numerics_offset >= 0 && c->x.train && cg_cu_node(c, id)->dtype != IR_I32;
}

void cg_cu_numerics_element(cg_ctx *x, int id, int pos, const char *value, const char *const *args) {
    cg_cu *c = x->target;
    if (!checked(c, id)) return;
    DLC_ASSERT(pos < 1 << 24); /* the key's 24 bits of position */
    sb_printf(c->x.out, "        if (!isfinite(%s)) dlc_note(A, %dULL, %s, %d);\n", value, pos,
              cg_numerics_inputs(&c->x, id, args), id);
}

/* the kernel that scans node id's testable inputs when the record holds its position */
static void inputs_kernel(cg_cu *c, int id, int pos) {
    const ir_node *n = cg_cu_node(c, id);
    int ids[IR_MAX_IN], kind[IR_MAX_IN], k = 0;
    for (int i = 0; i < n->n_in; i++)
        if ((kind[i] = cg_numerics_whole(&c->x, n->in[i])) != CG_WHOLE_NONE) ids[k++] = n->in[i];
    if (!k) return;
    const char *name = cg_cu_kernel_open(c, ids, k);
    sb_printf(c->x.out, "    if ((dlc_record(A) >> 40) != %dULL) return;\n", pos);
    for (int i = 0; i < n->n_in; i++) {
        int j = n->in[i];
        if (kind[i] == CG_WHOLE_SCALAR)
            sb_printf(c->x.out, "    if (!isfinite(s%d)) dlc_note(A, %dULL, %d, %d);\n", j, pos, i, id);
        else if (kind[i] == CG_WHOLE_BUFFER)
            sb_printf(c->x.out, "    DLC_FOR(i, %s) if (!isfinite(t%d[i])) dlc_note(A, %dULL, %d, %d);\n",
                      cg_cu_count(c, &cg_cu_node(c, j)->shape), j, pos, i, id);
    }
    cg_cu_kernel_close(c);
    cg_cu_launch(c, id, name, cg_cu_count_lin(&n->shape), CU_BLOCK, CU_MAX_BLOCKS);
}

void cg_cu_numerics_node(cg_cu *c, int id, int pos) {
    const ir_node *n = cg_cu_node(c, id);
    if (!checked(c, id) || !c->x.fn->sched.stored[id]) return;
    DLC_ASSERT(pos < 1 << 24);
    const char *name = cg_cu_kernel_open(c, &id, 1);
    sb_printf(c->x.out, "    DLC_FOR(i, %s) if (!isfinite(t%d[i])) dlc_note(A, %dULL, -1, %d);\n",
              cg_cu_count(c, &n->shape), id, pos, id);
    cg_cu_kernel_close(c);
    cg_cu_launch(c, id, name, cg_cu_count_lin(&n->shape), CU_BLOCK, CU_MAX_BLOCKS);
    inputs_kernel(c, id, pos);
}
