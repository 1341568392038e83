/*
 * ir_attrs.h — named attribute accessors, generated from ir/attrs.def (included by ir.h).
 *
 * Each op carries the attribute groups its ops.def row names (ir_op_attr_groups, AG_* bits).
 * For every field of a group: ir_<group>_<field>(n) reads it and ir_set_<group>_<field>(n, v)
 * writes it; a LIST field has ir_<group>_<field>_count(n) / (n, i) and the setters to match.
 * Builds without NDEBUG check that n's op carries the group (an internal error otherwise).
 * These are the only places that index a node's iattr / fattr by slot.
 */
#ifndef DLC_IR_ATTRS_H
#define DLC_IR_ATTRS_H

enum ir_attr_group_bit {
#define GROUP(g) IR_AGBIT_##g,
#define ATTR(g, f, kind, slot, text, text_if_set)
#include "attrs.def"
#undef ATTR
#undef GROUP
    IR_AG_COUNT
};

/* the groups as bits, for the attrs column of ops.def (AG_none: no attributes) */
enum ir_attr_group {
    AG_none = 0,
#define GROUP(g) AG_##g = 1 << IR_AGBIT_##g,
#define ATTR(g, f, kind, slot, text, text_if_set)
#include "attrs.def"
#undef ATTR
#undef GROUP
};

/* attrs.def's kinds */
typedef enum ir_attr_kind {
    IR_ATTR_INT, IR_ATTR_FLOAT, IR_ATTR_FLOAT_NZ, IR_ATTR_CHOICE, IR_ATTR_LIST, IR_ATTR_INIT
} ir_attr_kind;

/* ir_dump's text for n's attributes (each group's fields in attrs.def's order) */
void ir_dump_attrs(const ir_node *n, FILE *out);
/* internal error if two fields of one op's groups share a slot (ir_graph_new runs it) */
void ir_check_attr_table(void);

/* internal error: node n's op does not carry attribute group `group` */
_Noreturn void ir_attr_missing(const ir_node *n, const char *group);

#ifdef NDEBUG
#define IR_ATTR_CHECK(n, g) ((void)0)
#else
#define IR_ATTR_CHECK(n, g) \
    ((ir_op_attr_groups[(n)->op] & AG_##g) ? (void)0 : ir_attr_missing((n), #g))
#endif

#define IR_ATTR_SCALAR(g, f, type, arr, slot)                                                  \
    static inline type ir_##g##_##f(const ir_node *n) {                                        \
        IR_ATTR_CHECK(n, g);                                                                   \
        return n->arr[slot];                                                                   \
    }                                                                                          \
    static inline void ir_set_##g##_##f(ir_node *n, type v) {                                  \
        IR_ATTR_CHECK(n, g);                                                                   \
        n->arr[slot] = v;                                                                      \
    }
#define IR_ATTR_GEN_INT(g, f, slot) IR_ATTR_SCALAR(g, f, int64_t, iattr, slot)
#define IR_ATTR_GEN_CHOICE(g, f, slot) IR_ATTR_SCALAR(g, f, int64_t, iattr, slot)
#define IR_ATTR_GEN_FLOAT(g, f, slot) IR_ATTR_SCALAR(g, f, double, fattr, slot)
#define IR_ATTR_GEN_FLOAT_NZ(g, f, slot) IR_ATTR_SCALAR(g, f, double, fattr, slot)
#define IR_ATTR_GEN_INIT(g, f, slot)
#define IR_ATTR_GEN_LIST(g, f, slot)                                                           \
    IR_ATTR_SCALAR(g, f##_count, int64_t, iattr, slot)                                         \
    static inline int64_t ir_##g##_##f(const ir_node *n, int i) {                              \
        IR_ATTR_CHECK(n, g);                                                                   \
        DLC_ASSERT(i >= 0 && (slot) + 1 + i < (int)(sizeof n->iattr / sizeof n->iattr[0]));    \
        return n->iattr[(slot) + 1 + i];                                                       \
    }                                                                                          \
    static inline void ir_set_##g##_##f(ir_node *n, int i, int64_t v) {                        \
        IR_ATTR_CHECK(n, g);                                                                   \
        DLC_ASSERT(i >= 0 && (slot) + 1 + i < (int)(sizeof n->iattr / sizeof n->iattr[0]));    \
        n->iattr[(slot) + 1 + i] = v;                                                          \
    }

#define GROUP(g)
#define ATTR(g, f, kind, slot, text, text_if_set) IR_ATTR_GEN_##kind(g, f, slot)
#include "attrs.def"
#undef ATTR
#undef GROUP

#endif
