/*
 * ir_attrs.c — the attribute schema at run time (ir/attrs.def): ir_dump's attribute text,
 * walking each op's groups; the frontend's numeric arguments in schema order; the copy a
 * gradient op makes of its forward op's attributes; and the check that no op's groups share a
 * slot. The per-row checks of ops.def's columns are compile-time assertions here too.
 */
#include "ir.h"
#include <string.h>

enum { IR_SHAPE_LEAF, IR_SHAPE_SAME, IR_SHAPE_BCAST, IR_SHAPE_OWN }; /* ops.def's shape column */

/* ops.def's columns agree with each other (see its header) */
#define IR_FUSABLE(flags) ((((flags) & OPF_ELEM) && !((flags) & OPF_LEAF)) || ((flags) & OPF_SIDE))
#define OP(name, n_in, flags, shape, grad, attrs, cuda)                                                \
    _Static_assert(((flags) & OPF_LEAF) == 0 ? IR_CUDA_##cuda != IR_CUDA_NONE                  \
                                             : IR_CUDA_##cuda == IR_CUDA_NONE,                 \
                   #name ": cuda NONE exactly for leaves");                                    \
    _Static_assert((IR_FUSABLE(flags) != 0) == (IR_CUDA_##cuda == IR_CUDA_FUSED),             \
                   #name ": cuda FUSED exactly for fusable ops");                              \
    _Static_assert((((flags) & OPF_GEMM) != 0) == (IR_CUDA_##cuda == IR_CUDA_GEMM),           \
                   #name ": cuda GEMM exactly with OPF_GEMM");                                 \
    _Static_assert(!((flags) & OPF_INPLACE) || (((flags) & OPF_ELEM) && !((flags) & OPF_LEAF)), \
                   #name ": OPF_INPLACE only on fusable ops");                                 \
    _Static_assert(!((flags) & OPF_WEIGHTS) || ((flags) & OPF_LEAF),                           \
                   #name ": OPF_WEIGHTS only on leaves");                                      \
    _Static_assert((((flags) & OPF_LEAF) != 0) == (IR_SHAPE_##shape == IR_SHAPE_LEAF),         \
                   #name ": shape LEAF exactly for leaves");
#include "ops.def"
#undef OP

typedef struct attr_info {
    int group;               /* AG_* bit */
    const char *group_name;  /* for errors */
    ir_attr_kind kind;       /* how it is stored and shown */
    int slot;                /* index into iattr or fattr */
    const char *text;        /* dump text before the value (CHOICE: when 0) */
    const char *text_if_set; /* CHOICE: dump text when 1 */
} attr_info;

static const attr_info attrs[] = {
#define GROUP(g)
#define ATTR(g, f, kind, slot, text, text_if_set) {AG_##g, #g, IR_ATTR_##kind, slot, text, text_if_set},
#include "attrs.def"
#undef ATTR
#undef GROUP
};
enum { N_ATTRS = sizeof attrs / sizeof attrs[0], N_IATTR = 10, N_FATTR = 4 };
_Static_assert(IR_AG_COUNT <= 31, "attribute groups fit an int's bits");
_Static_assert(sizeof(((ir_node *)0)->iattr) == N_IATTR * sizeof(int64_t), "iattr slots");
_Static_assert(sizeof(((ir_node *)0)->fattr) == N_FATTR * sizeof(double), "fattr slots");

_Noreturn void ir_attr_missing(const ir_node *n, const char *group) {
    dlc_internal_error(__FILE__, __LINE__, "%s has no attribute group '%s'", ir_op_names[n->op],
                       group);
}

static void dump_attr(const ir_node *n, const attr_info *a, FILE *out) {
    switch (a->kind) {
    case IR_ATTR_INT: fprintf(out, "%s%lld", a->text, (long long)n->iattr[a->slot]); break;
    case IR_ATTR_FLOAT: fprintf(out, "%s%.9g", a->text, n->fattr[a->slot]); break;
    case IR_ATTR_FLOAT_NZ:
        if (n->fattr[a->slot] != 0) fprintf(out, "%s%.9g", a->text, n->fattr[a->slot]);
        break;
    case IR_ATTR_CHOICE: fputs(n->iattr[a->slot] ? a->text_if_set : a->text, out); break;
    case IR_ATTR_LIST:
        fprintf(out, "%s[", a->text);
        for (int i = 0; i < n->iattr[a->slot]; i++)
            fprintf(out, "%s%lld", i ? "," : "", (long long)n->iattr[a->slot + 1 + i]);
        fprintf(out, "]");
        break;
    case IR_ATTR_INIT:
        if (n->init.kind == IR_INIT_CONSTANT) fprintf(out, "%s%.9g", a->text, n->init.a);
        break;
    }
}

void ir_dump_attrs(const ir_node *n, FILE *out) {
    int groups = (int)ir_op_attr_groups[n->op];
    for (int i = 0; i < N_ATTRS; i++)
        if (attrs[i].group & groups) dump_attr(n, &attrs[i], out);
}

void ir_set_float_attrs(ir_node *n, const double *v) {
    int groups = (int)ir_op_attr_groups[n->op], k = 0;
    for (int i = 0; i < N_ATTRS; i++)
        if ((attrs[i].group & groups) &&
            (attrs[i].kind == IR_ATTR_FLOAT || attrs[i].kind == IR_ATTR_FLOAT_NZ))
            n->fattr[attrs[i].slot] = v[k++];
}

void ir_copy_attrs(ir_node *dst, const ir_node *src) {
    memcpy(dst->iattr, src->iattr, sizeof dst->iattr);
    memcpy(dst->fattr, src->fattr, sizeof dst->fattr);
}

/* the slots field a takes: bits 0-9 iattr, 10-13 fattr (a LIST takes the rest of iattr) */
static unsigned attr_slots(const attr_info *a) {
    switch (a->kind) {
    case IR_ATTR_INT: case IR_ATTR_CHOICE: return 1u << a->slot;
    case IR_ATTR_FLOAT: case IR_ATTR_FLOAT_NZ: return 1u << (N_IATTR + a->slot);
    case IR_ATTR_LIST: return ((1u << N_IATTR) - 1) & ~((1u << a->slot) - 1);
    case IR_ATTR_INIT: return 0;
    }
    return 0;
}

void ir_check_attr_table(void) {
    for (int op = 0; op < IR_OP_COUNT; op++) {
        unsigned used = 0;
        for (int i = 0; i < N_ATTRS; i++) {
            const attr_info *a = &attrs[i];
            if (!(a->group & (int)ir_op_attr_groups[op])) continue;
            DLC_ASSERT(a->slot >= 0 && a->slot < (a->kind == IR_ATTR_FLOAT ||
                                                  a->kind == IR_ATTR_FLOAT_NZ ? N_FATTR : N_IATTR));
            if (used & attr_slots(a))
                dlc_internal_error(__FILE__, __LINE__, "%s: attribute group '%s' reuses a slot",
                                   ir_op_names[op], a->group_name);
            used |= attr_slots(a);
        }
    }
}
