/*
 * dlrt_augment.c — train-only image augmentation: shift, crop and hflip (semantics, draw order
 * and fill value in dlrt_augment.h). A sample's transforms run one after another, alternating
 * between the scratch image and the destination so that the last one writes the destination;
 * nothing is allocated per sample. Each sample's draws come from a stream of its own, keyed by
 * (seed, epoch, sample index).
 */
#include "dlrt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUGMENT_STREAM 0x6175676d656eULL /* keeps the augmentation streams apart from others */

void dlrt_augment_translate(const float *src, float *dst, int64_t c, int64_t h, int64_t w,
                            int64_t dy, int64_t dx, float fill) {
    for (int64_t ch = 0; ch < c; ch++)
        for (int64_t y = 0; y < h; y++) {
            float *out = dst + (ch * h + y) * w;
            int64_t sy = y - dy;
            if (sy < 0 || sy >= h) {
                for (int64_t x = 0; x < w; x++) out[x] = fill;
                continue;
            }
            const float *in = src + (ch * h + sy) * w;
            for (int64_t x = 0; x < w; x++) {
                int64_t sx = x - dx;
                out[x] = sx >= 0 && sx < w ? in[sx] : fill;
            }
        }
}

void dlrt_augment_hflip(const float *src, float *dst, int64_t c, int64_t h, int64_t w) {
    for (int64_t row = 0; row < c * h; row++)
        for (int64_t x = 0; x < w; x++) dst[row * w + x] = src[row * w + (w - 1 - x)];
}

/* an integer drawn uniformly from [lo, hi] */
static int64_t draw_int(dlrt_rng *r, int64_t lo, int64_t hi) {
    return lo + (int64_t)(dlrt_rng_next(r) % (uint64_t)(hi - lo + 1));
}

/* one transform, src -> dst, with its draws from r */
static void apply_one(const dlrt_augmenter *a, const dlrt_augment *op, const float *src, float *dst,
                      dlrt_rng *r) {
    switch (op->kind) {
    case DLRT_AUG_SHIFT: {
        int64_t dy = draw_int(r, -op->n, op->n);
        int64_t dx = draw_int(r, -op->n, op->n);
        dlrt_augment_translate(src, dst, a->c, a->h, a->w, dy, dx, a->fill);
        return;
    }
    case DLRT_AUG_CROP: { /* window row y of the padded image is image row top + y - padding */
        int64_t top = draw_int(r, 0, a->h + 2 * op->n - op->size);
        int64_t left = draw_int(r, 0, a->w + 2 * op->n - op->size);
        dlrt_augment_translate(src, dst, a->c, a->h, a->w, op->n - top, op->n - left, a->fill);
        return;
    }
    case DLRT_AUG_HFLIP:
        if (dlrt_rng_uniform(r) < op->p) dlrt_augment_hflip(src, dst, a->c, a->h, a->w);
        else memcpy(dst, src, sizeof(float) * (size_t)(a->c * a->h * a->w));
        return;
    }
}

void dlrt_augment_stream(struct dlrt_rng *r, uint64_t seed, long long epoch, int64_t sample) {
    uint64_t key = seed * 0x9e3779b97f4a7c15ULL + (uint64_t)epoch * 1000003ULL;
    dlrt_rng_seed(r, (key + (uint64_t)sample * 0xbf58476d1ce4e5b9ULL) ^ AUGMENT_STREAM);
}

void dlrt_augment_sample(const dlrt_augmenter *a, const float *src, float *dst, int64_t sample,
                         long long epoch) {
    if (a->n_ops == 0) {
        memcpy(dst, src, sizeof(float) * (size_t)(a->c * a->h * a->w));
        return;
    }
    dlrt_rng r;
    dlrt_augment_stream(&r, a->seed, epoch, sample);
    const float *in = src;
    for (int i = 0; i < a->n_ops; i++) {
        /* the last transform writes dst; the ones before alternate so no step reads its output */
        float *out = (a->n_ops - 1 - i) % 2 == 0 ? dst : a->scratch;
        apply_one(a, &a->ops[i], in, out, &r);
        in = out;
    }
}

/* the first reason `op` cannot be applied to [C, h, w] images (written into why), or NULL */
static const char *check_op(const dlrt_augment *op, int64_t h, int64_t w, char *why, size_t n) {
    long long side = h < w ? h : w;
    if (op->kind == DLRT_AUG_SHIFT && (op->n < 0 || op->n >= side))
        snprintf(why, n, "shift must be in [0, %lld] pixels, got %lld", side - 1, op->n);
    else if (op->kind == DLRT_AUG_CROP && (op->n < 0 || op->n >= side))
        snprintf(why, n, "crop: padding must be in [0, %lld], got %lld", side - 1, op->n);
    else if (op->kind == DLRT_AUG_CROP && (op->size > h + 2 * op->n || op->size > w + 2 * op->n))
        snprintf(why, n, "crop: size %lld is larger than the padded image %lldx%lld", op->size,
                 (long long)(h + 2 * op->n), (long long)(w + 2 * op->n));
    else if (op->kind == DLRT_AUG_CROP && (op->size != h || op->size != w))
        snprintf(why, n, "crop: size %lld is not the image size %lldx%lld", op->size,
                 (long long)h, (long long)w);
    else if (op->kind == DLRT_AUG_HFLIP && !(op->p >= 0 && op->p <= 1))
        snprintf(why, n, "hflip: p must be in [0, 1], got %g", op->p);
    else if (op->kind != DLRT_AUG_SHIFT && op->kind != DLRT_AUG_CROP && op->kind != DLRT_AUG_HFLIP)
        snprintf(why, n, "unknown augmentation kind %d", op->kind);
    else return NULL;
    return why;
}

int dlrt_augmenter_init(dlrt_augmenter *a, const dlrt_augment *ops, int n_ops,
                        const dlrt_dataset *ds, long long seed, float fill, char *err,
                        size_t errlen) {
    memset(a, 0, sizeof *a);
    if (n_ops > 0 && ds->rank != 3) {
        snprintf(err, errlen, "augmentation needs images [C, H, W], but the dataset's samples have "
                 "rank %d", ds->rank);
        return -1;
    }
    char why[160];
    for (int i = 0; i < n_ops; i++)
        if (check_op(&ops[i], ds->shape[1], ds->shape[2], why, sizeof why)) {
            snprintf(err, errlen, "augmentation: %s", why);
            return -1;
        }
    *a = (dlrt_augmenter){.ops = ops, .n_ops = n_ops, .c = 1, .h = 1, .w = ds->sample_size,
                          .fill = fill, .seed = (uint64_t)seed};
    if (n_ops == 0) return 0; /* dlrt_augment_sample copies samples as they are */
    a->c = ds->shape[0], a->h = ds->shape[1], a->w = ds->shape[2];
    a->scratch = malloc(sizeof(float) * (size_t)ds->sample_size);
    if (a->scratch) return 0;
    snprintf(err, errlen, "out of memory for the augmentation's scratch image");
    return -1;
}

void dlrt_augmenter_free(dlrt_augmenter *a) {
    free(a->scratch);
    a->scratch = NULL;
}

const char *dlrt_augment_name(const dlrt_augment *a, char *buf, size_t n) {
    switch (a->kind) {
    case DLRT_AUG_SHIFT: snprintf(buf, n, "shift(%lld)", a->n); return buf;
    case DLRT_AUG_CROP: snprintf(buf, n, "crop(%lld, padding = %lld)", a->size, a->n); return buf;
    case DLRT_AUG_HFLIP: snprintf(buf, n, "hflip(%g)", a->p); return buf;
    }
    snprintf(buf, n, "?");
    return buf;
}
