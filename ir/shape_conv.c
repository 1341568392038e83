/*
 * shape_conv.c — shape rules of conv2d, its gradient ops and reshape (see ops.def for the
 * attribute layout). conv2d's rule is where the user's shape errors are found: a kernel larger
 * than its padded input, a channel count that does not match the weights or the groups, and
 * an output size that is not an integer. Each error names the layer (the node's construct,
 * "conv2d 'conv1'"), the input and weight shapes, at the call's source line.
 */
#include "shape_conv.h"
#include "../support/checked.h"

static const char *construct(const ir_node *n) { return n->what ? n->what : ir_op_names[n->op]; }
static const ir_shape *in_shape(ir_graph *g, ir_node *n, int i) {
    return &ir_get(g, n->in[i])->shape;
}

int64_t ir_conv_extent(int64_t in, int64_t pad_begin, int64_t pad_end, int64_t k, int64_t dilation,
                       int64_t stride) {
    int64_t padded = in + pad_begin + pad_end, span = dilation * (k - 1) + 1;
    if (span > padded) return 0;
    if ((padded - span) % stride) return -1;
    return (padded - span) / stride + 1;
}

/* "input [B,1,4,4], weight [8,1,5,5]" */
static const char *both(ir_graph *g, ir_node *n) {
    return arena_printf(g->a, "input %s, weight %s", ir_shape_str(g->a, in_shape(g, n, 0)),
                        ir_shape_str(g->a, in_shape(g, n, 1)));
}

static int channels_ok(ir_graph *g, ir_node *n, diag *d) {
    const ir_shape *x = in_shape(g, n, 0), *w = in_shape(g, n, 1);
    int64_t groups = ir_conv_groups(n);
    if (x->dims[1] == w->dims[1] * groups && w->dims[0] % groups == 0) return 1;
    diag_error(d, n->loc, "%s: channel mismatch: the input has %lld channels, the weights expect "
               "%lld x %lld groups = %lld (and %lld groups must divide %lld output channels); %s",
               construct(n), (long long)x->dims[1], (long long)w->dims[1], (long long)groups,
               (long long)(w->dims[1] * groups), (long long)groups, (long long)w->dims[0], both(g, n));
    return 0;
}

/* output extent along axis a (0: height, 1: width), 0 after reporting an error */
static int64_t extent(ir_graph *g, ir_node *n, diag *d, int a) {
    const ir_shape *x = in_shape(g, n, 0), *w = in_shape(g, n, 1);
    int64_t begin = a ? ir_conv_pad_left(n) : ir_conv_pad_top(n);
    int64_t end = a ? ir_conv_pad_right(n) : ir_conv_pad_bottom(n);
    int64_t in = x->dims[2 + a], k = w->dims[2 + a], pad = begin + end;
    int64_t dil = a ? ir_conv_dilation_w(n) : ir_conv_dilation_h(n);
    int64_t stride = a ? ir_conv_stride_w(n) : ir_conv_stride_h(n);
    int64_t out = ir_conv_extent(in, begin, end, k, dil, stride);
    const char *axis = a ? "width" : "height";
    if (out == 0)
        diag_error(d, n->loc, "%s: the kernel spans %lld in %s (size %lld, dilation %lld), more "
                   "than the padded input's %lld; %s", construct(n), (long long)(dil * (k - 1) + 1),
                   axis, (long long)k, (long long)dil, (long long)(in + pad), both(g, n));
    if (out < 0)
        diag_error(d, n->loc, "%s: the output %s is not an integer: (%lld + %lld padding - %lld "
                   "kernel span) / stride %lld + 1 = %lld + %lld/%lld; %s", construct(n), axis,
                   (long long)in, (long long)pad, (long long)(dil * (k - 1) + 1), (long long)stride,
                   (long long)((in + pad - dil * (k - 1) - 1) / stride + 1),
                   (long long)((in + pad - dil * (k - 1) - 1) % stride), (long long)stride, both(g, n));
    return out > 0 ? out : 0;
}

int ir_conv_columns_fit(const ir_shape *x, const ir_shape *w, const ir_shape *y, int64_t batch) {
    int64_t n = 1;
    const int64_t f[] = {x->dims[1], w->dims[2], w->dims[3], y->dims[2], y->dims[3], batch};
    for (int i = 0; i < 6; i++)
        if (!ck_mul(n, f[i], &n) || n > IR_MAX_ELEMENTS) return 0;
    return 1;
}

int ir_infer_conv2d(ir_graph *g, ir_node *n, diag *d) {
    const ir_shape *x = in_shape(g, n, 0), *w = in_shape(g, n, 1);
    DLC_ASSERT(n->n_in == 2 || n->n_in == 3);
    if (x->rank != 4 || !x->batched || w->rank != 4 || w->batched) {
        diag_error(d, n->loc, "%s: expects images [B,C,H,W] and weights [O,C/groups,kH,kW]; %s",
                   construct(n), both(g, n));
        return 0;
    }
    if (!channels_ok(g, n, d)) return 0;
    if (n->n_in == 3) {
        const ir_shape *b = in_shape(g, n, 2);
        if (b->rank != 1 || b->batched || b->dims[0] != w->dims[0]) {
            diag_error(d, n->loc, "%s: the bias must be [%lld], got %s", construct(n),
                       (long long)w->dims[0], ir_shape_str(g->a, b));
            return 0;
        }
    }
    int64_t oh = extent(g, n, d, 0), ow = oh ? extent(g, n, d, 1) : 0;
    if (!oh || !ow) return 0;
    int64_t dims[4] = {x->dims[0], w->dims[0], oh, ow};
    n->shape = ir_shape_make(1, 4, dims);
    if (ir_conv_columns_fit(x, w, &n->shape, x->dims[0])) return 1;
    diag_error(d, n->loc, "%s: its im2col columns [C*kH*kW, B*OH*OW] at batch %lld hold more "
               "than " IR_MAX_ELEMENTS_TEXT " elements; a tensor may hold at most "
               IR_MAX_ELEMENTS_TEXT "; %s", construct(n), (long long)x->dims[0], both(g, n));
    return 0;
}

/* the gradient ops take the shape of the operand they are the gradient of */
int ir_infer_conv2d_input_grad(ir_graph *g, ir_node *n, diag *d) {
    (void)d;
    n->shape = *in_shape(g, n, 2);
    return 1;
}

int ir_infer_conv2d_weight_grad(ir_graph *g, ir_node *n, diag *d) {
    (void)d;
    n->shape = *in_shape(g, n, 2);
    return 1;
}

int ir_infer_conv2d_bias_grad(ir_graph *g, ir_node *n, diag *d) {
    (void)d;
    n->shape = ir_shape_make(0, 1, &in_shape(g, n, 0)->dims[1]);
    return 1;
}

int ir_infer_reshape(ir_graph *g, ir_node *n, diag *d) {
    const ir_shape *x = in_shape(g, n, 0);
    int rank = (int)ir_reshape_dims_count(n), b = x->batched;
    int64_t dims[IR_MAX_RANK] = {x->dims[0]}, count = 1;
    DLC_ASSERT(rank >= 0 && rank + b <= IR_MAX_RANK);
    for (int i = 0; i < rank; i++) count *= (dims[b + i] = ir_reshape_dims(n, i));
    ir_shape s = ir_shape_make(b, rank + b, dims);
    if (count != ir_shape_inner(x)) {
        diag_error(d, n->loc, "%s: %s has %lld elements per sample, %s has %lld", construct(n),
                   ir_shape_str(g->a, x), (long long)ir_shape_inner(x), ir_shape_str(g->a, &s),
                   (long long)count);
        return 0;
    }
    n->shape = s;
    return 1;
}
