/*
 * dlrt_augment.h — train-only image augmentation (torchvision's semantics), applied while a
 * training batch is gathered, straight into the preallocated batch buffer; validation and test
 * batches are never augmented.
 *
 * A list of transforms is applied in order to every training sample, with a fresh random draw
 * per sample and per epoch from a stream keyed by (seed, epoch, sample index), so a run is
 * reproducible from its seed and independent of batch size and visiting order:
 *   shift(n)             translate by dy, dx drawn uniformly from the integers in [-n, n]
 *                        (independently): out[y][x] = in[y - dy][x - dx], or the fill value
 *                        where that falls outside the image;
 *   crop(size, padding)  torchvision RandomCrop(size, padding): pad every side with `padding`
 *                        fill pixels, then cut a size x size window at top, left drawn
 *                        uniformly from [0, H + 2 padding - size] and [0, W + 2 padding - size];
 *                        size must equal the image's height and width (the crop is the
 *                        model's input), so the window is the image moved by up to `padding`;
 *   hflip(p)             torchvision RandomHorizontalFlip(p): with probability p (a uniform
 *                        draw u < p), out[y][x] = in[y][W - 1 - x].
 * Every channel of a sample gets the same draw. Draws per transform, in list order: shift: dy
 * then dx; crop: top then left; hflip: u. An integer in [lo, hi] is lo + next % (hi - lo + 1).
 *
 * The fill value is black: the value a 0 pixel has after the dataset's normalization, so
 * augmenting the normalized images is exactly augmenting the raw ones (pixels in [0, 1]) and
 * normalizing afterwards (torchvision's Compose([RandomCrop(...), ToTensor(), Normalize(...)])).
 * Normalization statistics come from the unaugmented training images.
 */
#ifndef DLRT_AUGMENT_H
#define DLRT_AUGMENT_H
#include "dlrt_data.h"
#include <stddef.h>
#include <stdint.h>

enum { DLRT_AUG_SHIFT = 0, DLRT_AUG_CROP = 1, DLRT_AUG_HFLIP = 2 };
enum { DLRT_MAX_AUGMENTS = 8 };

/* One transform of the list. */
typedef struct dlrt_augment {
    int kind;       /* DLRT_AUG_* */
    long long n;    /* shift: largest move in pixels; crop: padding on every side */
    long long size; /* crop: the window's height and width (the image's) */
    double p;       /* hflip: probability of flipping */
} dlrt_augment;

/* A list bound to a dataset's image shape, with its scratch image (allocated once). */
typedef struct dlrt_augmenter {
    const dlrt_augment *ops; /* the transforms, in order */
    int n_ops;               /* entries in ops */
    int64_t c, h, w;         /* image shape [C, H, W] of every sample */
    float fill;              /* value of pixels moved in from outside the image */
    uint64_t seed;           /* the run's seed (with epoch and sample it keys the draws) */
    float *scratch;          /* one image: the intermediate result between transforms */
} dlrt_augmenter;

/* Checks the list against the dataset (images of rank 3 [C, H, W]; shift and padding below
 * min(H, W); the crop window within the padded image and equal to it in size; p in [0, 1])
 * and allocates the scratch image. 0 on success, -1 with a message in err. */
int dlrt_augmenter_init(dlrt_augmenter *a, const dlrt_augment *ops, int n_ops,
                        const dlrt_dataset *ds, long long seed, float fill, char *err,
                        size_t errlen);
void dlrt_augmenter_free(dlrt_augmenter *a);

/* dst = the list applied to src (one sample, C*H*W floats; src and dst must not overlap),
 * drawn from the stream of (seed, epoch, sample). Allocates nothing. */
void dlrt_augment_sample(const dlrt_augmenter *a, const float *src, float *dst, int64_t sample,
                         long long epoch);

/* Seeds *r with the stream of (seed, epoch, sample) that dlrt_augment_sample draws from. */
struct dlrt_rng;
void dlrt_augment_stream(struct dlrt_rng *r, uint64_t seed, long long epoch, int64_t sample);

/* The building blocks, exposed for tests: a translation (out[y][x] = in[y - dy][x - dx], fill
 * outside) and a horizontal mirror of a [C, H, W] image into another. */
void dlrt_augment_translate(const float *src, float *dst, int64_t c, int64_t h, int64_t w,
                            int64_t dy, int64_t dx, float fill);
void dlrt_augment_hflip(const float *src, float *dst, int64_t c, int64_t h, int64_t w);

/* "shift(2)", "crop(28, padding = 4)", "hflip(0.5)" (written into buf, which is returned) */
const char *dlrt_augment_name(const dlrt_augment *a, char *buf, size_t n);

#endif
