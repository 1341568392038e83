/*
 * layers_conv.c — convolution and reshaping in a model (rows of the table in layers.c):
 *   conv2d(x, out_channels, kernel, stride = 1, padding = 0, dilation = 1, groups = 1,
 *          init = torch_default, bias_init = ..., bias = 1, name = "convN")
 *     torch.nn.Conv2d over images x [B, C, H, W]: weights NAME.w [O, C/groups, kH, kW] and
 *     bias NAME.b [O]; kernel, stride, padding and dilation are an integer or a pair [h, w];
 *     padding = same pads dilation (k - 1) in total per axis, the extra one at the bottom/right
 *     as torch (stride 1 only, as torch); padding = valid is 0.
 *   flatten(x): [B, d1, d2, ...] -> [B, d1 d2 ...] (torch.nn.Flatten)
 *   reshape(x, d1, d2, ...): the same elements per sample under dims d1, d2, ... (one of them
 *     may be -1: inferred); an unbatched x is reshaped as a whole.
 * Channel counts are checked here (the weights' shape needs them); the kernel against the
 * padded input and the output size are checked by conv2d's shape rule (ir/shape_conv.c).
 */
#include "lower_internal.h"
#include <math.h>
#include <string.h>

/* an integer in [min, IR_MAX_DIM]; errors name the call, the argument and the range */
static int eval_at_least(lower_ctx *c, const ast_expr *call, const char *what, const ast_expr *e,
                         int64_t min, int64_t *out) {
    return lower_eval_count(c, e, arena_printf(c->a, "%s: %s", call->str, what), min, IR_MAX_DIM, out);
}

/* an integer >= min, or a pair [h, w] of them (the same integer twice) */
static int eval_pair(lower_ctx *c, const ast_expr *call, const char *what, const ast_expr *e,
                     int64_t min, int64_t *out) {
    if (e->kind == AST_LIST) {
        if (e->n_args != 2) {
            diag_error(c->d, e->loc, "%s: %s must be an integer or a pair [h, w], got %d values",
                       call->str, what, e->n_args);
            return 0;
        }
        return eval_at_least(c, call, what, e->args[0].value, min, &out[0]) &&
               eval_at_least(c, call, what, e->args[1].value, min, &out[1]);
    }
    if (!eval_at_least(c, call, what, e, min, &out[0])) return 0;
    out[1] = out[0];
    return 1;
}

/* conv2d, flatten and reshape compute on reals: an integer tensor (labels) is an error */
static int real_input(lower_ctx *c, const ast_expr *call, int x) {
    const ir_node *n = ir_get(c->g, x);
    if (n->dtype == IR_F32) return 1;
    diag_error(c->d, call->loc, "%s: expects f32 values, got i32 %s", call->str,
               ir_shape_str(c->a, &n->shape));
    return 0;
}

/* `name = value` of the call, or `def` for both axes */
static int pair_arg(lower_ctx *c, const ast_expr *call, const char *name, int64_t def, int64_t min,
                    int64_t *out) {
    const ast_expr *e = lower_find_kwarg(call, name);
    out[0] = out[1] = def;
    return !e || eval_pair(c, call, name, e, min, out);
}

/* a symbolic padding, `same` or `valid` (a name that is no param, or a string); NULL if e is
 * not a symbol */
static const char *padding_symbol(lower_ctx *c, const ast_expr *e) {
    if (e->kind == AST_STR) return e->str;
    if (e->kind != AST_NAME) return NULL;
    for (int i = 0; i < c->n_hypers; i++)
        if (strcmp(c->hypers[i].name, e->str) == 0) return NULL;
    return e->str;
}

/* padding = p | [ph, pw] | same | valid into pad[4] = top, left, bottom, right */
static int padding_arg(lower_ctx *c, const ast_expr *call, const int64_t *k, const int64_t *stride,
                       const int64_t *dil, int64_t *pad) {
    const ast_expr *e = lower_find_kwarg(call, "padding");
    const char *sym = e ? padding_symbol(c, e) : NULL;
    int64_t p[2] = {0, 0};
    if (!sym) {
        if (e && !eval_pair(c, call, "padding", e, 0, p)) return 0;
        pad[0] = pad[2] = p[0], pad[1] = pad[3] = p[1];
        return 1;
    }
    static const char *const kinds[] = {"same", "valid"};
    if (strcmp(sym, "valid") == 0) {
        pad[0] = pad[1] = pad[2] = pad[3] = 0;
        return 1;
    }
    if (strcmp(sym, "same") != 0) {
        const char *best = diag_closest(sym, kinds, 2);
        char hint[DIAG_HINT_SIZE];
        diag_error(c->d, e->loc, "%s: unknown padding '%s'%s", call->str, sym,
                   diag_hint(hint, best, " (expected a number, a pair [h, w], same or valid)"));
        return 0;
    }
    if (stride[0] != 1 || stride[1] != 1) {
        diag_error(c->d, e->loc, "%s: padding = same needs stride 1 (as torch), got stride %lldx%lld",
                   call->str, (long long)stride[0], (long long)stride[1]);
        return 0;
    }
    for (int a = 0; a < 2; a++) {
        int64_t total = dil[a] * (k[a] - 1);
        pad[a] = total / 2;
        pad[2 + a] = total - total / 2;
    }
    return 1;
}

/* torch.nn.Conv2d's parameters: weights (then bias, unless bias = 0) as dense's, with conv
 * fans fan_in = C/groups kH kW, fan_out = O kH kW */
static int conv_params(lower_ctx *c, const ast_expr *call, const char *layer, const int64_t *wdims,
                       int *w, int *b) {
    const ast_expr *init_e = lower_find_kwarg(call, "init"), *bias_e = lower_find_kwarg(call, "bias");
    const ast_expr *binit_e = lower_find_kwarg(call, "bias_init");
    int64_t receptive = wdims[2] * wdims[3];
    ir_init init = {.kind = IR_INIT_TORCH_DEFAULT, .fan_in = wdims[1] * receptive,
                    .fan_out = wdims[0] * receptive};
    double use_bias = 1;
    if (init_e && !lower_init(c, init_e, &init)) return 0;
    ir_init binit = init;
    if (init.kind != IR_INIT_TORCH_DEFAULT) binit.kind = IR_INIT_ZEROS;
    if (binit_e && !lower_init(c, binit_e, &binit)) return 0;
    if (bias_e && !lower_eval_number(c, bias_e, &use_bias)) return 0;
    if (binit_e && !use_bias) {
        diag_error(c->d, binit_e->loc, "conv2d: bias_init is given but bias = 0 drops the bias");
        return 0;
    }
    *w = lower_make_param(c, arena_printf(c->a, "%s.w", layer), 4, wdims, &init);
    *b = -1;
    if (*w >= 0 && use_bias)
        *b = lower_make_param(c, arena_printf(c->a, "%s.b", layer), 1, wdims, &binit);
    return *w >= 0 && (!use_bias || *b >= 0);
}

/* groups must divide the input's and the output's channels (the weights need C / groups) */
static int check_groups(lower_ctx *c, const ast_expr *call, const char *what, const ir_shape *xs,
                        int64_t out, int64_t groups, const int64_t *k) {
    if (xs->dims[1] % groups == 0 && out % groups == 0) return 1;
    diag_error(c->d, call->loc, "%s: channel mismatch: groups = %lld must divide the input's %lld "
               "channels and the %lld output channels; input %s, weight [%lld,%lld/%lld,%lld,%lld]",
               what, (long long)groups, (long long)xs->dims[1], (long long)out,
               ir_shape_str(c->a, xs), (long long)out, (long long)xs->dims[1], (long long)groups,
               (long long)k[0], (long long)k[1]);
    return 0;
}

int lower_build_conv2d(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    const ir_shape *xs = &ir_get(c->g, args[0])->shape;
    const ast_expr *name_e = lower_find_kwarg(call, "name");
    const char *layer = name_e ? lower_eval_symbol(c, name_e, "a layer") : lower_loc_name(c, "conv");
    if (!layer) return -1;
    const char *what = arena_printf(c->a, "conv2d '%s'", layer);
    int64_t out, k[2], stride[2], dil[2], groups = 1, pad[4];
    if (!real_input(c, call, args[0]) ||
        !eval_at_least(c, call, "out_channels", call->args[1].value, 1, &out) ||
        !eval_pair(c, call, "kernel", call->args[2].value, 1, k) ||
        !pair_arg(c, call, "stride", 1, 1, stride) || !pair_arg(c, call, "dilation", 1, 1, dil) ||
        (lower_find_kwarg(call, "groups") &&
         !eval_at_least(c, call, "groups", lower_find_kwarg(call, "groups"), 1, &groups)) ||
        !padding_arg(c, call, k, stride, dil, pad))
        return -1;
    if (xs->rank != 4 || !xs->batched) {
        diag_error(c->d, call->loc, "%s: expects images [B,C,H,W], got %s", what, ir_shape_str(c->a, xs));
        return -1;
    }
    if (!check_groups(c, call, what, xs, out, groups, k)) return -1;
    int64_t wdims[4] = {out, xs->dims[1] / groups, k[0], k[1]};
    int w, b;
    if (!conv_params(c, call, layer, wdims, &w, &b)) return -1;
    int in[3] = {args[0], w, b};
    c->g->cur_what = what;
    int id = ir_add(c->g, op, b >= 0 ? 3 : 2, in);
    ir_node *n = ir_get(c->g, id);
    ir_set_conv_stride_h(n, stride[0]), ir_set_conv_stride_w(n, stride[1]);
    ir_set_conv_pad_top(n, pad[0]), ir_set_conv_pad_left(n, pad[1]);
    ir_set_conv_pad_bottom(n, pad[2]), ir_set_conv_pad_right(n, pad[3]);
    ir_set_conv_dilation_h(n, dil[0]), ir_set_conv_dilation_w(n, dil[1]);
    ir_set_conv_groups(n, groups);
    return lower_finish_node(c, id);
}

/* a reshape node to dims[0..rank) (after the batch dim when x is batched) */
static int reshape_to(lower_ctx *c, int x, int rank, const int64_t *dims) {
    int id = ir_add1(c->g, IR_OP_reshape, x);
    ir_node *n = ir_get(c->g, id);
    ir_set_reshape_dims_count(n, rank);
    for (int i = 0; i < rank; i++) ir_set_reshape_dims(n, i, dims[i]);
    return lower_finish_node(c, id);
}

int lower_build_flatten(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    (void)op;
    const ir_shape *xs = &ir_get(c->g, args[0])->shape;
    if (!real_input(c, call, args[0])) return -1;
    if (xs->rank < 2) {
        diag_error(c->d, call->loc, "flatten: expects [B, ...] with at least one dim after the "
                   "first, got %s", ir_shape_str(c->a, xs));
        return -1;
    }
    int64_t dims[2] = {xs->dims[0], 1};
    for (int i = 1; i < xs->rank; i++) dims[1] *= xs->dims[i];
    return xs->batched ? reshape_to(c, args[0], 1, &dims[1]) : reshape_to(c, args[0], 2, dims);
}

/* "[8,-1,25]": the dims as the call wrote them */
static const char *dims_str(lower_ctx *c, int rank, const int64_t *dims) {
    const char *s = "[";
    for (int i = 0; i < rank; i++) s = arena_printf(c->a, "%s%s%lld", s, i ? "," : "", (long long)dims[i]);
    return arena_printf(c->a, "%s]", s);
}

/* the -1 dim (at most one) gets what the others leave of `count` elements; dims whose product
 * passes `count` are an error here (before the product could overflow) */
static int infer_dim(lower_ctx *c, const ast_expr *call, const ir_shape *xs, int rank,
                     int64_t *dims) {
    int64_t count = ir_shape_inner(xs), known = 1;
    int free_at = -1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] != -1) {
            if (dims[i] > count / known) {
                diag_error(c->d, call->loc, "reshape: %s has %lld elements per sample, fewer than "
                           "dims %s hold", ir_shape_str(c->a, xs), (long long)count,
                           dims_str(c, rank, dims));
                return 0;
            }
            known *= dims[i];
            continue;
        }
        if (free_at >= 0) {
            diag_error(c->d, call->loc, "reshape: at most one dim can be -1");
            return 0;
        }
        free_at = i;
    }
    if (free_at < 0) return 1; /* the shape rule compares the counts */
    if (count % known) {
        diag_error(c->d, call->loc, "reshape: %s has %lld elements per sample, not a multiple of "
                   "the %lld that dims %s fix", ir_shape_str(c->a, xs), (long long)count,
                   (long long)known, dims_str(c, rank, dims));
        return 0;
    }
    dims[free_at] = count / known;
    return 1;
}

int lower_build_reshape(lower_ctx *c, const ast_expr *call, const int *args, ir_op op) {
    (void)op;
    const ir_shape *xs = &ir_get(c->g, args[0])->shape;
    int64_t dims[IR_MAX_RANK];
    int rank = 0;
    if (!real_input(c, call, args[0])) return -1;
    for (int i = 1; i < call->n_args; i++) {
        if (call->args[i].name) continue;
        if (!lower_eval_int(c, call->args[i].value, &dims[rank], -1)) return -1;
        if (dims[rank++] == 0) {
            diag_error(c->d, call->args[i].value->loc, "reshape: a dim must be >= 1 (or -1), got 0");
            return -1;
        }
    }
    if (rank + xs->batched > IR_MAX_RANK) {
        diag_error(c->d, call->loc, "reshape: at most %d dims after the batch", IR_MAX_RANK - 1);
        return -1;
    }
    if (!infer_dim(c, call, xs, rank, dims)) return -1;
    return reshape_to(c, args[0], rank, dims);
}
