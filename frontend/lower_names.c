/*
 * lower_names.c — names of parameters and buffers while lowering: whether one is taken, and
 * automatic layer names ("dense1", "dense2", ...): the first BASE<k>, counted per base, that
 * names no parameter or buffer yet (no "BASE<k>." prefix).
 *
 * In time linear in the graph: hash sets hold every parameter name, every buffer name and the
 * first dotted segment of each of them that has a dot ("dense3" for "dense3.weight"), brought
 * up to date with the nodes added since the last question; each base keeps the k it stopped at
 * (names are only ever added, so a taken k stays taken and the first free one never moves
 * back).
 *
 * Inside a block call (c->frame) names are counted per call, below the instance's prefix:
 * the first dense of instance enc is enc.dense1 in every call of enc, and a later call finds
 * the parameters the first one made (lower_leaf_name) — that is how calls share weights.
 */
#include "lower_internal.h"
#include <string.h>

static uint64_t hash_text(const char *s, size_t len) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* the slot of `text` (len bytes) in the set: where it is, or the empty slot it would take */
static size_t find_slot(const name_set *s, const char *text, size_t len) {
    size_t i = (size_t)hash_text(text, len) & (s->cap - 1);
    while (s->slots[i] && !(strncmp(s->slots[i], text, len) == 0 && s->slots[i][len] == 0))
        i = (i + 1) & (s->cap - 1);
    return i;
}

static int set_has(const name_set *s, const char *text, size_t len) {
    return s->cap > 0 && s->slots[find_slot(s, text, len)] != NULL;
}

static void set_add(name_set *s, arena *a, const char *text, size_t len);

static void grow(name_set *s, arena *a) {
    const char **old = s->slots;
    size_t old_cap = s->cap;
    s->cap = old_cap ? old_cap * 2 : 64;
    s->slots = arena_alloc(a, sizeof *s->slots * s->cap);
    s->count = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i]) set_add(s, a, old[i], strlen(old[i]));
}

static void set_add(name_set *s, arena *a, const char *text, size_t len) {
    if (2 * (s->count + 1) > s->cap) grow(s, a);
    size_t i = find_slot(s, text, len);
    if (s->slots[i]) return;
    char *copy = arena_alloc(a, len + 1);
    memcpy(copy, text, len);
    s->slots[i] = copy;
    s->count++;
}

/* adds the parameters and buffers created since the last call */
static void index_new_nodes(lower_ctx *c) {
    lower_names *s = &c->names;
    for (; s->indexed < c->g->n_nodes; s->indexed++) {
        const ir_node *n = &c->g->nodes[s->indexed];
        if ((n->op != IR_OP_param && n->op != IR_OP_buffer) || !n->name) continue;
        set_add(n->op == IR_OP_param ? &s->params : &s->buffers, c->a, n->name, strlen(n->name));
        if (strchr(n->name, '.')) set_add(&s->prefixes, c->a, n->name, strcspn(n->name, "."));
    }
}

int lower_leaf_named(lower_ctx *c, ir_op op, const char *name) {
    DLC_ASSERT(op == IR_OP_param || op == IR_OP_buffer);
    index_new_nodes(c);
    return set_has(op == IR_OP_param ? &c->names.params : &c->names.buffers, name, strlen(name));
}

static int *base_cursor(lower_ctx *c, const char *base) {
    lower_names *s = &c->names;
    for (int i = 0; i < s->n_bases; i++)
        if (strcmp(s->bases[i], base) == 0) return &s->next_k[i];
    DLC_ASSERT(s->n_bases < LOWER_NAME_BASES);
    s->bases[s->n_bases] = base;
    s->next_k[s->n_bases] = 1;
    return &s->next_k[s->n_bases++];
}

int lower_set_has(const name_set *s, const char *text) { return set_has(s, text, strlen(text)); }
void lower_set_add(name_set *s, arena *a, const char *text) { set_add(s, a, text, strlen(text)); }

int lower_prefix_taken(lower_ctx *c, const char *name) {
    if (c->frame) return lower_set_has(&c->frame->taken, name);
    index_new_nodes(c);
    return lower_set_has(&c->names.prefixes, name) || lower_set_has(&c->top_instances, name);
}

void lower_take_prefix(lower_ctx *c, const char *name) {
    lower_set_add(c->frame ? &c->frame->taken : &c->top_instances, c->a, name);
}

/* inside a block call: the first BASE<k> this call has not used (the same k in every call of
 * an instance, so that its calls name, and so share, the same parameters) */
static const char *frame_loc_name(lower_ctx *c, const char *base) {
    for (int k = 1;; k++) {
        const char *name = arena_printf(c->a, "%s%d", base, k);
        if (!lower_set_has(&c->frame->taken, name)) {
            lower_set_add(&c->frame->taken, c->a, name);
            return name;
        }
    }
}

/* the leaf `full` made by an earlier call of the instance, checked against this call's shape */
static int shared_leaf(lower_ctx *c, ir_op op, const char *full) {
    int id = ir_find_leaf(c->g, op, full);
    DLC_ASSERT(id >= 0);
    if (op == IR_OP_buffer) {
        diag_error(c->d, c->g->cur_loc, "instance '%s' is called again, but its buffer '%s' "
                   "(batchnorm's running statistics) cannot be shared between calls; make one "
                   "instance per call", c->frame->inst->name, full);
        return -2;
    }
    return id;
}

const char *lower_leaf_name(lower_ctx *c, ir_op op, const char *name, int *reuse) {
    *reuse = -1;
    lower_frame *f = c->frame;
    if (!f) return name;
    const char *what = op == IR_OP_param ? "parameter" : "buffer";
    if (lower_set_has(&f->made, name)) {
        diag_error(c->d, c->g->cur_loc, "a %s named '%s' already exists in block '%s'", what,
                   name, f->inst->block->name);
        return NULL;
    }
    lower_set_add(&f->made, c->a, name);
    char *layer = arena_printf(c->a, "%s", name);
    layer[strcspn(layer, ".")] = 0;
    lower_set_add(&f->taken, c->a, layer);
    const char *full = arena_printf(c->a, "%s%s", f->inst->prefix, name);
    if (lower_set_has(&c->block_leaves, full)) {
        *reuse = shared_leaf(c, op, full);
        return *reuse == -2 ? NULL : full;
    }
    if (lower_leaf_named(c, op, full)) {
        diag_error(c->d, c->g->cur_loc, "a %s named '%s' already exists", what, full);
        return NULL;
    }
    lower_set_add(&c->block_leaves, c->a, full);
    return full;
}

const char *lower_loc_name(lower_ctx *c, const char *base) {
    if (c->frame) return frame_loc_name(c, base);
    index_new_nodes(c);
    int *k = base_cursor(c, base);
    for (;; ++*k) {
        const char *name = arena_printf(c->a, "%s%d", base, *k);
        if (!set_has(&c->names.prefixes, name, strlen(name))) return name;
    }
}
