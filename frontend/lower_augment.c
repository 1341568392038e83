/*
 * lower_augment.c — the train block's `augment = [...]`: train-only image augmentation,
 *   augment = [shift(2), crop(28, padding = 4), hflip(0.5)]
 * applied in list order to every training sample with a fresh draw per sample and epoch, never
 * to validation or test batches (semantics and fill value in runtime/dlrt_augment.h):
 *   shift(pixels)          random translation by up to `pixels` in each direction, filling with
 *                          black;
 *   crop(size, padding=0)  torchvision RandomCrop(size, padding): a size x size window of the
 *                          image padded with black; size must be the image size;
 *   hflip(p=0.5)           torchvision RandomHorizontalFlip(p) (for images where a mirror image
 *                          is still the same class, as fashion_mnist; not for digits).
 * Names, argument counts and what does not depend on the dataset (integers, p in [0, 1]) are
 * checked where they are written; the ranges that depend on the image size, and that the
 * dataset has images at all, once the whole block is read (lower_check_augment).
 */
#include "lower_internal.h"
#include <math.h>
#include <string.h>

static const char *const augment_names[] = {"shift", "crop", "hflip"}; /* DLC_AUG_* order */
enum { N_AUGMENT_NAMES = 3 };

/* a whole number of either sign (the ranges are checked against the image later) */
static int eval_integer(lower_ctx *c, const ast_expr *e, const char *what, int64_t *out) {
    return lower_eval_count(c, e, what, -1000000000, 1000000000, out);
}

/* positional argument `pos` or keyword `kw` of a call (NULL when neither is written) */
static const ast_expr *arg_of(const ast_expr *e, int pos, const char *kw) {
    const ast_expr *v = lower_find_kwarg(e, kw);
    for (int i = 0, k = 0; !v && i < e->n_args; i++)
        if (!e->args[i].name && k++ == pos) v = e->args[i].value;
    return v;
}

/* shift(pixels) */
static int lower_shift(lower_ctx *c, const ast_expr *e, augment_config *a) {
    static const char *const kw[] = {"pixels", NULL};
    const ast_expr *v = e->kind == AST_CALL ? arg_of(e, 0, "pixels") : NULL;
    if (!v) {
        diag_error(c->d, e->loc, "shift needs the largest move in pixels, e.g. shift(2)");
        return 0;
    }
    if (!lower_check_call_args(c, e, lower_find_kwarg(e, "pixels") ? 0 : 1,
                               lower_find_kwarg(e, "pixels") ? 0 : 1, kw))
        return 0;
    a->n_loc = v->loc;
    return eval_integer(c, v, "shift: pixels", &a->n);
}

/* crop(size, padding = 0) */
static int lower_crop(lower_ctx *c, const ast_expr *e, augment_config *a) {
    static const char *const kw[] = {"size", "padding", NULL};
    const ast_expr *size = e->kind == AST_CALL ? arg_of(e, 0, "size") : NULL;
    if (!size) {
        diag_error(c->d, e->loc, "crop needs the window size, e.g. crop(28, padding = 4)");
        return 0;
    }
    int n_pos = lower_find_kwarg(e, "size") ? 0 : 1;
    if (!lower_check_call_args(c, e, n_pos, n_pos, kw)) return 0;
    const ast_expr *pad = lower_find_kwarg(e, "padding");
    a->n_loc = pad ? pad->loc : e->loc;
    return eval_integer(c, size, "crop: size", &a->size) &&
           (!pad || eval_integer(c, pad, "crop: padding", &a->n));
}

/* hflip, hflip(p) or hflip(p = 0.5) */
static int lower_hflip(lower_ctx *c, const ast_expr *e, augment_config *a) {
    static const char *const kw[] = {"p", NULL};
    a->p = 0.5; /* torchvision's default */
    if (e->kind != AST_CALL) return 1;
    const ast_expr *p = arg_of(e, 0, "p");
    if (!lower_check_call_args(c, e, 0, lower_find_kwarg(e, "p") ? 0 : 1, kw)) return 0;
    return !p || lower_in_range(c, p, "hflip: p", 0, 1, 0, 0, &a->p);
}

static int lower_one(lower_ctx *c, const ast_expr *e, augment_config *a) {
    const char *name = e->kind == AST_NAME || e->kind == AST_CALL ? e->str : NULL;
    *a = (augment_config){.kind = -1, .loc = e->loc, .n_loc = e->loc};
    for (int i = 0; name && i < N_AUGMENT_NAMES; i++)
        if (strcmp(name, augment_names[i]) == 0) a->kind = i;
    switch (a->kind) {
    case DLC_AUG_SHIFT: return lower_shift(c, e, a);
    case DLC_AUG_CROP: return lower_crop(c, e, a);
    case DLC_AUG_HFLIP: return lower_hflip(c, e, a);
    }
    const char *best = name ? diag_closest(name, augment_names, N_AUGMENT_NAMES) : NULL;
    char hint[DIAG_HINT_SIZE];
    diag_error(c->d, e->loc, "unknown augmentation '%s'%s", name ? name : "?",
               diag_hint(hint, best, " (known: shift(PIXELS), crop(SIZE, padding = P), hflip(P))"));
    return 0;
}

int lower_augment(lower_ctx *c, const ast_expr *e, train_config *cfg) {
    cfg->augment_loc = e->loc;
    cfg->n_augment = 0;
    if (e->kind != AST_LIST) {
        diag_error(c->d, e->loc, "augment must be a list, e.g. [shift(2), hflip(0.5)]");
        return 0;
    }
    for (int i = 0; i < e->n_args; i++) {
        augment_config a;
        if (!lower_one(c, e->args[i].value, &a)) return 0;
        if (cfg->n_augment == DLC_MAX_AUGMENTS) {
            diag_error(c->d, a.loc, "at most %d augmentations can be listed", DLC_MAX_AUGMENTS);
            return 0;
        }
        cfg->augment[cfg->n_augment++] = a;
    }
    return 1;
}

/* ---- after the whole block: does the dataset have images, and do the sizes fit them? ---- */

static int check_one(lower_ctx *c, const augment_config *a, int64_t h, int64_t w) {
    long long side = h < w ? h : w;
    const char *what = a->kind == DLC_AUG_SHIFT ? "shift: pixels" : "crop: padding";
    if (a->kind != DLC_AUG_HFLIP && (a->n < 0 || a->n >= side)) {
        diag_error(c->d, a->n_loc, "%s must be in [0, %lld] (the images are %lldx%lld), got %lld",
                   what, side - 1, (long long)h, (long long)w, (long long)a->n);
        return 0;
    }
    if (a->kind != DLC_AUG_CROP) return 1;
    if (a->size > h + 2 * a->n || a->size > w + 2 * a->n) {
        diag_error(c->d, a->loc, "crop: size %lld is larger than the padded image %lldx%lld "
                   "(%lldx%lld with padding %lld)", (long long)a->size, (long long)(h + 2 * a->n),
                   (long long)(w + 2 * a->n), (long long)h, (long long)w, (long long)a->n);
        return 0;
    }
    if (a->size == h && a->size == w) return 1;
    diag_error(c->d, a->loc, "crop: size must be the image size %lld (the crop is the model's "
               "%lldx%lld input), got %lld", (long long)h, (long long)h, (long long)w,
               (long long)a->size);
    return 0;
}

int lower_check_augment(lower_ctx *c, const train_config *cfg) {
    if (cfg->augment_loc.line == 0) return 1;
    if (!cfg->dataset) {
        diag_error(c->d, cfg->augment_loc, "augment needs a dataset of images: add data = "
                   "mnist(...) or fashion_mnist(...)");
        return 0;
    }
    if (cfg->image_hw[0] == 0) {
        diag_error(c->d, cfg->augment_loc, "augment needs a dataset of images (mnist, "
                   "fashion_mnist), but the samples of %s are not images", cfg->dataset);
        return 0;
    }
    if (cfg->normalize_per_feature) { /* a moved pixel would keep another pixel's statistics */
        diag_error(c->d, cfg->augment_loc, "augment needs the scalar normalization (normalize = "
                   "standardize or minmax): per_feature = 1 normalizes each pixel with its own "
                   "statistics, which a shift, crop or flip would move");
        return 0;
    }
    int ok = 1;
    for (int i = 0; i < cfg->n_augment; i++)
        ok &= check_one(c, &cfg->augment[i], cfg->image_hw[0], cfg->image_hw[1]);
    return ok;
}
