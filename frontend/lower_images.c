/*
 * lower_images.c — the images a run writes (issue 14), in a train block:
 *   images = [grid(reconstruction, image, count = 32, columns = 8, name = "digits")]
 * A grid shows the first `count` samples of the test split, `columns` per row; each sample is
 * its values side by side (here the reconstruction, then the image). A value is a model value
 * (an expression of them: it becomes an output of the graph, so the eval step stores it) or an
 * input (shown as the step is fed it). Each must be image-shaped per sample: [H, W], [1, H, W],
 * or a flat vector of the dataset's image size (784 for 28x28 digits); all of one grid the
 * same size. The file is DIR/NAME.png with --images DIR (runtime/dlrt_images.c), NAME given by
 * name = "..." or, when the first value is a bare name, FIRST_grid (reconstruction_grid).
 * low = L, high = H (default 0, 1) are the values shown black and white (a tanh generator's
 * -1 and 1); every = N also writes the grid after every N epochs as DIR/NAME-epochEEE.png.
 * samples = sample(fake, low = -1, high = 1) names the value --samples FILE writes as u8 IDX
 * images (low the background, 0); the same shapes as a grid's part.
 * Shapes are checked once the whole block is read (lower_check_images: the dataset gives the
 * image size of flat vectors).
 */
#include "lower_internal.h"
#include <ctype.h>
#include <string.h>

/* the output index of node id (added to the graph's outputs when it is not one yet) */
static int image_output(lower_ctx *c, const ast_expr *e, int id) {
    for (int i = 0; i < c->g->n_outputs; i++)
        if (c->g->outputs[i] == id) return i;
    if (c->g->n_outputs == (int)(sizeof c->g->outputs / sizeof *c->g->outputs)) {
        diag_error(c->d, e->loc, "grid: too many values computed for metrics, evaluations and images");
        return -1;
    }
    c->g->outputs[c->g->n_outputs] = id;
    return c->g->n_outputs++;
}

/* one value per sample (`what`: "grid", "sample"): an input by name (into *input), or a model
 * value (an output, into *output); its node into *node */
static int value_part(lower_ctx *c, const ast_expr *e, const char *what, int *node,
                      const char **input, int *output) {
    int id = lower_expr(c, e);
    if (id < 0) return 0;
    const ir_node *n = ir_get(c->g, id);
    *node = id, *input = NULL, *output = -1;
    if (n->op == IR_OP_input) *input = n->name;
    else if (!n->shape.batched || (ir_op_flags[n->op] & OPF_LEAF)) {
        diag_error(c->d, e->loc, "%s: %s values computed for each sample (a model value or an "
                   "input), got %s", what, !strcmp(what, "grid") ? "shows" : "writes",
                   ir_shape_str(c->a, &n->shape));
        return 0;
    } else if ((*output = image_output(c, e, id)) < 0) return 0;
    return 1;
}

static int image_part(lower_ctx *c, const ast_expr *e, image_config *im) {
    int k = im->n_parts;
    im->part_loc[k] = e->loc;
    if (!value_part(c, e, "grid", &im->node[k], &im->input[k], &im->output[k])) return 0;
    im->n_parts++;
    return 1;
}

/* low = L, high = H: finite, low < high (what: "grid", "sample") */
static int value_range(lower_ctx *c, const ast_expr *e, const char *what, double *low,
                       double *high) {
    const ast_expr *lo = lower_find_kwarg(e, "low"), *hi = lower_find_kwarg(e, "high");
    *low = 0, *high = 1;
    if (lo && (!lower_eval_number(c, lo, low) || !lower_fits_f32(c, lo->loc, *low, "low")))
        return 0;
    if (hi && (!lower_eval_number(c, hi, high) || !lower_fits_f32(c, hi->loc, *high, "high")))
        return 0;
    if (*low < *high) return 1;
    diag_error(c->d, hi ? hi->loc : lo->loc, "%s: low must be below high (the values %s), got "
               "low = %s, high = %s", what, !strcmp(what, "grid") ? "shown black and white"
               : "written as 0 and 255", lower_num_text(c, *low), lower_num_text(c, *high));
    return 0;
}

static int image_name(lower_ctx *c, const ast_expr *e, image_config *im) {
    const ast_expr *named = lower_find_kwarg(e, "name"), *first = e->args[0].value;
    if (named && named->kind != AST_STR) {
        diag_error(c->d, named->loc, "grid: name must be a string, e.g. name = \"digits\"");
        return 0;
    }
    if (!named && first->kind != AST_NAME) {
        diag_error(c->d, e->loc, "grid: its first value is not a name, so write name = \"...\" "
                   "(the file is DIR/NAME.png)");
        return 0;
    }
    im->name = named ? named->str : arena_printf(c->a, "%s_grid", first->str);
    int ok = im->name[0] && strlen(im->name) <= 64;
    for (const char *p = im->name; *p && ok; p++) ok = isalnum((unsigned char)*p) || *p == '_' || *p == '-';
    if (!ok)
        diag_error(c->d, named ? named->loc : e->loc, "grid: name '%s' is not a file name: letters, "
                   "digits, _ and - only, at most 64", im->name);
    return ok;
}

static int lower_grid(lower_ctx *c, const ast_expr *e, image_config *im) {
    static const char *const kw[] = {"count", "columns", "name", "low", "high", "every", NULL};
    *im = (image_config){.count = 32, .columns = 8, .loc = e->loc};
    if (e->kind != AST_CALL || strcmp(e->str, "grid") != 0) {
        diag_error(c->d, e->loc, "images lists grid(...) entries, e.g. images = [grid(recon, "
                   "image, count = 32)]");
        return 0;
    }
    if (!lower_check_call_args(c, e, 1, DLC_MAX_IMAGE_PARTS, kw)) return 0;
    const ast_expr *v;
    if ((v = lower_find_kwarg(e, "count")) && !lower_eval_count(c, v, "grid: count", 1, 1024, &im->count))
        return 0;
    if ((v = lower_find_kwarg(e, "columns")) &&
        !lower_eval_count(c, v, "grid: columns", 1, 64, &im->columns))
        return 0;
    if ((v = lower_find_kwarg(e, "every")) && !lower_eval_count(c, v, "grid: every", 0, 1000000, &im->every))
        return 0;
    if (!value_range(c, e, "grid", &im->low, &im->high)) return 0;
    if (!image_name(c, e, im)) return 0;
    for (int i = 0; i < e->n_args; i++)
        if (!e->args[i].name && !image_part(c, e->args[i].value, im)) return 0;
    return 1;
}

int lower_images(lower_ctx *c, const ast_expr *e, train_config *cfg) {
    if (e->kind != AST_LIST || e->n_args == 0) {
        diag_error(c->d, e->loc, "images must be a non-empty list, e.g. images = [grid(recon, image)]");
        return 0;
    }
    cfg->n_images = 0;
    for (int i = 0; i < e->n_args; i++) {
        if (i == DLC_MAX_IMAGES) {
            diag_error(c->d, e->args[i].value->loc, "at most %d images can be listed", DLC_MAX_IMAGES);
            return 0;
        }
        if (!lower_grid(c, e->args[i].value, &cfg->images[i])) return 0;
        for (int j = 0; j < i; j++)
            if (!strcmp(cfg->images[j].name, cfg->images[i].name)) {
                diag_error(c->d, e->args[i].value->loc, "grid: a second image named '%s'",
                           cfg->images[i].name);
                return 0;
            }
        cfg->n_images++;
    }
    return 1;
}

/* a value's image height and width: [H, W], [1, H, W], or the dataset's image as a flat vector
 * (what: "grid", "sample") */
static int value_hw(lower_ctx *c, const train_config *cfg, int node, src_loc loc, const char *what,
                    int64_t *hw) {
    const ir_shape *s = &ir_get(c->g, node)->shape;
    int per = s->rank - 1;
    const int64_t *d = s->dims + 1;
    if (ir_get(c->g, node)->dtype == IR_F32) {
        if (per == 2) return hw[0] = d[0], hw[1] = d[1], 1;
        if (per == 3 && d[0] == 1) return hw[0] = d[1], hw[1] = d[2], 1;
        if (per == 1 && cfg->image_hw[0] > 0 && d[0] == cfg->image_hw[0] * cfg->image_hw[1])
            return hw[0] = cfg->image_hw[0], hw[1] = cfg->image_hw[1], 1;
    }
    diag_error(c->d, loc, "%s: %s%s is not image-shaped: %s f32 values of [B,H,W], [B,1,H,W] or "
               "[B,N] with N the dataset's image size%s", what,
               ir_get(c->g, node)->dtype == IR_F32 ? "" : "i32 ", ir_shape_str(c->a, s),
               !strcmp(what, "grid") ? "a grid shows" : "samples are",
               cfg->image_hw[0] > 0 ? arena_printf(c->a, " (%lld for %lldx%lld)",
                   (long long)(cfg->image_hw[0] * cfg->image_hw[1]), (long long)cfg->image_hw[0],
                   (long long)cfg->image_hw[1]) : "");
    return 0;
}

int lower_samples(lower_ctx *c, const ast_expr *e, train_config *cfg) {
    static const char *const kw[] = {"low", "high", NULL};
    samples_config *sc = &cfg->samples;
    if (e->kind != AST_CALL || strcmp(e->str, "sample")) {
        diag_error(c->d, e->loc, "samples is sample(VALUE, low = L, high = H), e.g. samples = "
                   "sample(fake, low = -1, high = 1)");
        return 0;
    }
    if (!lower_check_call_args(c, e, 1, 1, kw)) return 0;
    *sc = (samples_config){.loc = e->loc, .value_loc = e->args[0].value->loc};
    for (int i = 0; i < e->n_args; i++)
        if (!e->args[i].name && !value_part(c, e->args[i].value, "sample", &sc->node, &sc->input,
                                            &sc->output))
            return 0;
    if (!value_range(c, e, "sample", &sc->low, &sc->high)) return 0;
    return sc->present = 1;
}

int lower_check_images(lower_ctx *c, train_config *cfg) {
    samples_config *sc = &cfg->samples;
    int64_t shw[2];
    if (sc->present && cfg->arity > 1) {
        diag_error(c->d, sc->loc, "sample: samples of pairs and triplets are not supported");
        return 0;
    }
    if (sc->present && !value_hw(c, cfg, sc->node, sc->value_loc, "sample", shw)) return 0;
    if (sc->present) sc->h = shw[0], sc->w = shw[1];
    for (int i = 0; i < cfg->n_images; i++) {
        image_config *im = &cfg->images[i];
        if (cfg->arity > 1) {
            diag_error(c->d, im->loc, "grid: images of pairs and triplets are not supported yet");
            return 0;
        }
        for (int k = 0; k < im->n_parts; k++) {
            int64_t hw[2];
            if (!value_hw(c, cfg, im->node[k], im->part_loc[k], "grid", hw)) return 0;
            if (k > 0 && (hw[0] != im->h || hw[1] != im->w)) {
                diag_error(c->d, im->part_loc[k], "grid: this value's images are %lldx%lld, the "
                           "first's %lldx%lld: the values of a grid must be one size",
                           (long long)hw[0], (long long)hw[1], (long long)im->h, (long long)im->w);
                return 0;
            }
            im->h = hw[0], im->w = hw[1];
        }
    }
    return 1;
}
