/*
 * ir.c — graph construction, op tables generated from ops.def, shape helpers, the stable text
 * dump and the verifier. Nodes are appended only; ids are a valid topological order.
 */
#include "ir.h"
#include "../support/checked.h"
#include <string.h>

const char *const ir_init_names[IR_INIT_COUNT] = {
    [IR_INIT_ZEROS] = "zeros", [IR_INIT_CONSTANT] = "constant", [IR_INIT_UNIFORM] = "uniform",
    [IR_INIT_NORMAL] = "normal", [IR_INIT_XAVIER_UNIFORM] = "xavier_uniform",
    [IR_INIT_XAVIER_NORMAL] = "xavier_normal", [IR_INIT_HE_UNIFORM] = "he_uniform",
    [IR_INIT_HE_NORMAL] = "he_normal", [IR_INIT_LECUN_UNIFORM] = "lecun_uniform",
    [IR_INIT_LECUN_NORMAL] = "lecun_normal", [IR_INIT_TORCH_DEFAULT] = "torch_default",
};

const char *const ir_op_names[IR_OP_COUNT] = {
#define OP(name, n_in, flags, shape, grad, attrs, cuda) #name,
#include "ops.def"
#undef OP
};
const int ir_op_arity[IR_OP_COUNT] = {
#define OP(name, n_in, flags, shape, grad, attrs, cuda) n_in,
#include "ops.def"
#undef OP
};
const int ir_op_flags[IR_OP_COUNT] = {
#define OP(name, n_in, flags, shape, grad, attrs, cuda) flags,
#include "ops.def"
#undef OP
};
#define IR_DIFF 1
#define IR_NODIFF 0
const int ir_op_differentiable[IR_OP_COUNT] = {
#define OP(name, n_in, flags, shape, grad, attrs, cuda) IR_##grad,
#include "ops.def"
#undef OP
};
const unsigned ir_op_attr_groups[IR_OP_COUNT] = {
#define OP(name, n_in, flags, shape, grad, attrs, cuda) (unsigned)(attrs),
#include "ops.def"
#undef OP
};
const ir_cuda_kind ir_op_cuda_kind[IR_OP_COUNT] = {
#define OP(name, n_in, flags, shape, grad, attrs, cuda) IR_CUDA_##cuda,
#include "ops.def"
#undef OP
};

ir_graph *ir_graph_new(arena *a) {
    ir_check_attr_table();
    ir_graph *g = arena_alloc(a, sizeof *g);
    g->a = a;
    g->loss = -1;
    g->cur_step = -1;
    return g;
}

int ir_step_updates(const ir_step *st, const ir_node *param) {
    if (!st->params) return 1;
    for (int i = 0; i < st->n_params; i++) {
        const char *e = st->params[i];
        size_t n = strlen(e);
        if (n > 0 && e[n - 1] == '.' ? !strncmp(param->name, e, n) : !strcmp(param->name, e))
            return 1;
    }
    return 0;
}

ir_node *ir_get(const ir_graph *g, int id) {
    DLC_ASSERT(id >= 0 && id < g->n_nodes);
    return &g->nodes[id];
}

int ir_add(ir_graph *g, ir_op op, int n_in, const int *in) {
    DLC_ASSERT(n_in <= IR_MAX_IN);
    DLC_ASSERT(ir_op_arity[op] < 0 || ir_op_arity[op] == n_in);
    if (g->n_nodes == g->cap) {
        int cap = g->cap ? g->cap * 2 : 64;
        g->nodes = arena_grow(g->a, g->nodes, sizeof(ir_node) * (size_t)g->cap,
                              sizeof(ir_node) * (size_t)cap);
        g->cap = cap;
    }
    int id = g->n_nodes++;
    ir_node *n = &g->nodes[id];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->n_in = n_in;
    for (int i = 0; i < n_in; i++) {
        DLC_ASSERT(in[i] >= 0 && in[i] < id);
        n->in[i] = in[i];
    }
    n->dtype = IR_F32;
    n->loc = g->cur_loc;
    n->what = g->cur_what;
    n->grad = -1;
    n->phase = g->phase;
    n->step = g->cur_step;
    return id;
}

int ir_add1(ir_graph *g, ir_op op, int a) { return ir_add(g, op, 1, &a); }
int ir_add2(ir_graph *g, ir_op op, int a, int b) {
    int in[2] = {a, b};
    return ir_add(g, op, 2, in);
}
int ir_add3(ir_graph *g, ir_op op, int a, int b, int c) {
    int in[3] = {a, b, c};
    return ir_add(g, op, 3, in);
}

int ir_const(ir_graph *g, double v) {
    int id = ir_add(g, IR_OP_const, 0, NULL);
    ir_node *n = ir_get(g, id);
    ir_set_const_value(n, v);
    n->shape_known = 1; /* rank 0, unbatched */
    return id;
}

int ir_leaf(ir_graph *g, ir_op op, const char *name, ir_dtype dt, const ir_shape *shape) {
    int id = ir_add(g, op, 0, NULL);
    ir_node *n = ir_get(g, id);
    n->name = name;
    n->dtype = dt;
    if (shape) {
        n->shape = *shape;
        n->shape_known = 1;
    }
    return id;
}

int ir_matmul(ir_graph *g, int a, int b, int trans_a, int trans_b) {
    int id = ir_add2(g, IR_OP_matmul, a, b);
    ir_set_matmul_trans_a(ir_get(g, id), trans_a);
    ir_set_matmul_trans_b(ir_get(g, id), trans_b);
    return id;
}

int ir_bmm(ir_graph *g, int a, int b, int trans_a, int trans_b) {
    int id = ir_matmul(g, a, b, trans_a, trans_b);
    ir_set_matmul_per_sample(ir_get(g, id), 1);
    return id;
}

int ir_find_leaf(const ir_graph *g, ir_op op, const char *name) {
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == op && g->nodes[i].name && strcmp(g->nodes[i].name, name) == 0)
            return i;
    return -1;
}

/* ---- shapes ---- */

ir_shape ir_shape_make(int batched, int rank, const int64_t *dims) {
    ir_shape s;
    memset(&s, 0, sizeof s);
    DLC_ASSERT(rank <= IR_MAX_RANK);
    s.rank = rank;
    s.batched = batched;
    for (int i = 0; i < rank; i++) s.dims[i] = dims[i];
    return s;
}

int64_t ir_shape_numel(const ir_shape *s) {
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= s->dims[i];
    return n;
}

int ir_shape_fits(const ir_shape *s) {
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++)
        if (s->dims[i] < 0 || !ck_mul(n, s->dims[i], &n) || n > IR_MAX_ELEMENTS) return 0;
    return 1;
}

int64_t ir_shape_inner(const ir_shape *s) {
    int64_t n = 1;
    for (int i = s->batched ? 1 : 0; i < s->rank; i++) n *= s->dims[i];
    return n;
}

int ir_shape_equal(const ir_shape *a, const ir_shape *b) {
    if (a->rank != b->rank || a->batched != b->batched) return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i]) return 0;
    return 1;
}

const char *ir_shape_str(arena *a, const ir_shape *s) {
    char buf[128];
    size_t k = 0;
    buf[k++] = '[';
    for (int i = 0; i < s->rank && k < sizeof buf - 24; i++) {
        if (i) buf[k++] = ',';
        if (i == 0 && s->batched)
            buf[k++] = 'B';
        else
            k += (size_t)snprintf(buf + k, sizeof buf - k, "%lld", (long long)s->dims[i]);
    }
    buf[k++] = ']';
    buf[k] = 0;
    return arena_strdup(a, buf);
}

/* ---- pooling ---- */

int64_t ir_pool_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding) {
    return (in + 2 * padding - kernel) / stride + 1;
}

/* ---- dump ---- */

static const char *const phase_names[] = {"forward", "backward", "update"};

static void dump_node(const ir_graph *g, int id, FILE *out) {
    const ir_node *n = &g->nodes[id];
    char shape[128];
    snprintf(shape, sizeof shape, "%s", n->shape_known ? ir_shape_str(g->a, &n->shape) : "?");
    fprintf(out, "  %%%d = %s", id, ir_op_names[n->op]);
    if (n->name) fprintf(out, " \"%s\"", n->name);
    for (int i = 0; i < n->n_in; i++) fprintf(out, "%s%%%d", i ? ", " : " ", n->in[i]);
    ir_dump_attrs(n, out);
    fprintf(out, " : %s%s", n->dtype == IR_I32 ? "i32" : "f32", shape);
    if (n->grad >= 0) fprintf(out, " grad=%%%d", n->grad);
    if (n->loc.line) fprintf(out, "  @%d:%d", n->loc.line, n->loc.col);
    fputc('\n', out);
}

void ir_dump(const ir_graph *g, FILE *out) {
    int phase = -1;
    for (int id = 0; id < g->n_nodes; id++) {
        if (g->nodes[id].phase != phase) {
            phase = g->nodes[id].phase;
            fprintf(out, "%s:\n", phase_names[phase]);
        }
        dump_node(g, id, out);
    }
    if (g->loss >= 0) fprintf(out, "loss %%%d\n", g->loss);
    for (int i = 0; i < g->n_outputs; i++) fprintf(out, "output %%%d\n", g->outputs[i]);
}

/* ---- verifier ---- */

void ir_verify(const ir_graph *g) {
    for (int id = 0; id < g->n_nodes; id++) {
        const ir_node *n = &g->nodes[id];
        if ((unsigned)n->op >= IR_OP_COUNT)
            dlc_internal_error(__FILE__, __LINE__, "node %%%d has bad op %d", id, n->op);
        if (ir_op_arity[n->op] >= 0 && ir_op_arity[n->op] != n->n_in)
            dlc_internal_error(__FILE__, __LINE__, "node %%%d (%s) has %d inputs, expected %d",
                               id, ir_op_names[n->op], n->n_in, ir_op_arity[n->op]);
        for (int i = 0; i < n->n_in; i++)
            if (n->in[i] < 0 || n->in[i] >= id)
                dlc_internal_error(__FILE__, __LINE__, "node %%%d input %d is %%%d (not earlier)",
                                   id, i, n->in[i]);
        if (n->shape.rank < 0 || n->shape.rank > IR_MAX_RANK || (n->shape.batched && !n->shape.rank))
            dlc_internal_error(__FILE__, __LINE__, "node %%%d has a malformed shape", id);
        if (n->op == IR_OP_assign) {
            const ir_node *t = &g->nodes[n->in[0]];
            if (!ir_op_in_weights(t->op))
                dlc_internal_error(__FILE__, __LINE__, "assign %%%d targets a non-leaf", id);
        }
        if (n->grad >= 0 && (n->op != IR_OP_param || n->grad >= g->n_nodes))
            dlc_internal_error(__FILE__, __LINE__, "node %%%d has a bad grad link", id);
    }
    if (g->loss >= g->n_nodes) dlc_internal_error(__FILE__, __LINE__, "loss id out of range");
}
