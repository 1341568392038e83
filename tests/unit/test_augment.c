/*
 * test_augment.c — train-only image augmentation (runtime/dlrt_augment.c) on small synthetic
 * images whose pixels are all different and never the fill value:
 *   - the building blocks, pixel by pixel: a translation (rows and columns moved in from
 *     outside are the fill value; a move by the whole size leaves only fill) and a horizontal
 *     mirror, on every channel;
 *   - each transform for a given draw: the draws replayed from the sample's stream give the
 *     exact expected image (shift: dy, dx in [-n, n]; crop: top, left in [0, 2 padding], the
 *     window moved by padding - top; hflip: u < p); every offset of the range occurs,
 *     including both ends, and none outside it; hflip(0) never and hflip(1) always flips;
 *   - a list applies in order (three transforms: the scratch/destination alternation);
 *   - zero strength (shift(0), crop(size, padding = 0), hflip(0)) is the identity;
 *   - determinism: the same (seed, epoch, sample) draws the same image; another epoch, sample
 *     or seed draws others;
 *   - dlrt_augmenter_init rejects what cannot be applied (non-images, shift or padding not
 *     below the image size, a crop window unlike the image, p outside [0, 1]).
 * Prints "N passed, M failed" last; exits non-zero on any failure.
 */
#include "dlrt.h"
#include <stdio.h>
#include <string.h>

enum { C = 2, H = 5, W = 5, SIZE = C * H * W };
static const float FILL = -7.0f;
static int passed, failed;

static void truth(int ok, const char *what) {
    if (ok) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "FAIL: %s\n", what);
}

static float src[SIZE]; /* pixel (c, y, x) = 100 c + 10 y + x + 1 */

static float px(int64_t c, int64_t y, int64_t x) { return (float)(100 * c + 10 * y + x + 1); }

/* translation by (dy, dx), written out pixel by pixel */
static void expected_translate(float *out, int64_t dy, int64_t dx) {
    for (int64_t c = 0; c < C; c++)
        for (int64_t y = 0; y < H; y++)
            for (int64_t x = 0; x < W; x++) {
                int64_t sy = y - dy, sx = x - dx;
                out[(c * H + y) * W + x] = sy >= 0 && sy < H && sx >= 0 && sx < W ? px(c, sy, sx) : FILL;
            }
}

static void test_translate(void) {
    float got[SIZE];
    dlrt_augment_translate(src, got, C, H, W, 1, -2, FILL);
    /* row 0 comes from outside; row y from row y - 1; column x from column x + 2 */
    truth(got[0] == FILL && got[W - 1] == FILL, "translate: the row moved in at the top is fill");
    truth(got[W] == px(0, 0, 2) && got[W + 2] == px(0, 0, 4), "translate: (1, 0) is (0, 2)");
    truth(got[W + 3] == FILL && got[W + 4] == FILL, "translate: the columns moved in at the right are fill");
    truth(got[H * W + 4 * W + 1] == px(1, 3, 3), "translate: channel 1 moves the same way");
    float want[SIZE];
    expected_translate(want, 1, -2);
    truth(!memcmp(got, want, sizeof got), "translate(1, -2): every pixel");
    dlrt_augment_translate(src, got, C, H, W, 0, 0, FILL);
    truth(!memcmp(got, src, sizeof got), "translate(0, 0) is a copy");
    dlrt_augment_translate(src, got, C, H, W, -(H - 1), W - 1, FILL);
    expected_translate(want, -(H - 1), W - 1);
    truth(!memcmp(got, want, sizeof got) && got[W - 1] == px(0, H - 1, 0),
          "translate by size - 1: one pixel of the image is left, in the corner");
    dlrt_augment_translate(src, got, C, H, W, 0, W, FILL);
    int all_fill = 1;
    for (int i = 0; i < SIZE; i++) all_fill &= got[i] == FILL;
    truth(all_fill, "translate by the whole width: only fill");
}

static void test_hflip(void) {
    float got[SIZE];
    dlrt_augment_hflip(src, got, C, H, W);
    int ok = 1;
    for (int64_t c = 0; c < C; c++)
        for (int64_t y = 0; y < H; y++)
            for (int64_t x = 0; x < W; x++) ok &= got[(c * H + y) * W + x] == px(c, y, W - 1 - x);
    truth(ok, "hflip: out[c][y][x] = in[c][y][W - 1 - x] on every channel");
}

static dlrt_dataset images(float *x, int64_t n) {
    dlrt_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.n = n, ds.rank = 3, ds.shape[0] = C, ds.shape[1] = H, ds.shape[2] = W;
    ds.sample_size = SIZE, ds.x = x;
    return ds;
}

static int start(dlrt_augmenter *a, const dlrt_augment *ops, int n, long long seed) {
    char err[256];
    dlrt_dataset ds = images(src, 1);
    if (dlrt_augmenter_init(a, ops, n, &ds, seed, FILL, err, sizeof err) == 0) return 1;
    fprintf(stderr, "FAIL: init: %s\n", err);
    failed++;
    return 0;
}

static int64_t draw(dlrt_rng *r, int64_t lo, int64_t hi) {
    return lo + (int64_t)(dlrt_rng_next(r) % (uint64_t)(hi - lo + 1));
}

/* shift(2) and crop(5, padding = 2), 400 samples: exact images, every offset in range seen */
static void test_moves(int kind) {
    dlrt_augment op = {.kind = kind, .n = 2, .size = H};
    dlrt_augmenter a;
    if (!start(&a, &op, 1, 11)) return;
    int seen[5][5] = {{0}}, exact = 1;
    for (int64_t s = 0; s < 400; s++) {
        float got[SIZE], want[SIZE];
        dlrt_augment_sample(&a, src, got, s, 3);
        dlrt_rng r;
        dlrt_augment_stream(&r, 11, 3, s);
        int64_t u = kind == DLRT_AUG_SHIFT ? draw(&r, -2, 2) : draw(&r, 0, 4);
        int64_t v = kind == DLRT_AUG_SHIFT ? draw(&r, -2, 2) : draw(&r, 0, 4);
        int64_t dy = kind == DLRT_AUG_SHIFT ? u : 2 - u, dx = kind == DLRT_AUG_SHIFT ? v : 2 - v;
        expected_translate(want, dy, dx);
        exact &= !memcmp(got, want, sizeof got);
        seen[dy + 2][dx + 2]++;
    }
    int all = 1;
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) all &= seen[i][j] > 0;
    truth(exact, kind == DLRT_AUG_SHIFT ? "shift(2): each sample is its drawn translation"
                                        : "crop(5, padding = 2): each sample is its drawn window");
    truth(all, kind == DLRT_AUG_SHIFT ? "shift(2): every move in [-2, 2]^2 occurs"
                                      : "crop(5, padding = 2): every window position occurs");
    dlrt_augmenter_free(&a);
}

static void test_flip_probability(void) {
    const double ps[] = {0, 1, 0.5};
    float flipped[SIZE];
    dlrt_augment_hflip(src, flipped, C, H, W);
    for (int i = 0; i < 3; i++) {
        dlrt_augment op = {.kind = DLRT_AUG_HFLIP, .p = ps[i]};
        dlrt_augmenter a;
        if (!start(&a, &op, 1, 5)) return;
        int flips = 0, exact = 1;
        for (int64_t s = 0; s < 1000; s++) {
            float got[SIZE];
            dlrt_augment_sample(&a, src, got, s, 1);
            dlrt_rng r;
            dlrt_augment_stream(&r, 5, 1, s);
            int flip = dlrt_rng_uniform(&r) < ps[i];
            exact &= !memcmp(got, flip ? flipped : src, sizeof got);
            flips += flip;
        }
        char what[96];
        snprintf(what, sizeof what, "hflip(%g): flipped exactly when the draw u < p", ps[i]);
        truth(exact, what);
        snprintf(what, sizeof what, "hflip(%g): flipped %d of 1000", ps[i], flips);
        truth(i == 0 ? flips == 0 : i == 1 ? flips == 1000 : flips > 440 && flips < 560, what);
        dlrt_augmenter_free(&a);
    }
}

/* [shift(1), crop(5, padding = 1), hflip(1)] = hflip(translate(translate(src))), and its first
 * two transforms alone (an even and an odd count: the scratch/destination alternation) */
static void test_list(int n) {
    const dlrt_augment ops[] = {{.kind = DLRT_AUG_SHIFT, .n = 1},
                                {.kind = DLRT_AUG_CROP, .n = 1, .size = H},
                                {.kind = DLRT_AUG_HFLIP, .p = 1}};
    dlrt_augmenter a;
    if (!start(&a, ops, n, 2)) return;
    int exact = 1;
    for (int64_t s = 0; s < 50; s++) {
        float got[SIZE], t1[SIZE], t2[SIZE], want[SIZE];
        dlrt_augment_sample(&a, src, got, s, 7);
        dlrt_rng r;
        dlrt_augment_stream(&r, 2, 7, s);
        int64_t dy = draw(&r, -1, 1), dx = draw(&r, -1, 1);
        int64_t top = draw(&r, 0, 2), left = draw(&r, 0, 2);
        dlrt_augment_translate(src, t1, C, H, W, dy, dx, FILL);
        dlrt_augment_translate(t1, t2, C, H, W, 1 - top, 1 - left, FILL);
        if (n == 3) dlrt_augment_hflip(t2, want, C, H, W);
        else memcpy(want, t2, sizeof want);
        exact &= !memcmp(got, want, sizeof got);
    }
    truth(exact, n == 3 ? "a list of three transforms applies them in order"
                        : "a list of two transforms applies them in order");
    dlrt_augmenter_free(&a);
}

static void test_identity_and_determinism(void) {
    const dlrt_augment zero[] = {{.kind = DLRT_AUG_SHIFT, .n = 0},
                                 {.kind = DLRT_AUG_CROP, .n = 0, .size = H},
                                 {.kind = DLRT_AUG_HFLIP, .p = 0}};
    dlrt_augmenter a;
    if (!start(&a, zero, 3, 1)) return;
    int same = 1;
    for (int64_t s = 0; s < 20; s++) {
        float got[SIZE];
        dlrt_augment_sample(&a, src, got, s, 1);
        same &= !memcmp(got, src, sizeof got);
    }
    truth(same, "shift(0), crop(size, padding = 0), hflip(0) leave images unchanged");
    dlrt_augmenter_free(&a);
    const dlrt_augment ops[] = {{.kind = DLRT_AUG_SHIFT, .n = 2}, {.kind = DLRT_AUG_HFLIP, .p = 0.5}};
    dlrt_augmenter b, c;
    if (!start(&b, ops, 2, 9) || !start(&c, ops, 2, 10)) return;
    int repeat = 1, epoch = 0, sample = 0, seed = 0;
    for (int64_t s = 0; s < 20; s++) {
        float x1[SIZE], x2[SIZE], x3[SIZE], x4[SIZE], x5[SIZE];
        dlrt_augment_sample(&b, src, x1, s, 4);
        dlrt_augment_sample(&b, src, x2, s, 4);
        dlrt_augment_sample(&b, src, x3, s, 5);
        dlrt_augment_sample(&b, src, x4, s + 1, 4);
        dlrt_augment_sample(&c, src, x5, s, 4);
        repeat &= !memcmp(x1, x2, sizeof x1);
        epoch += memcmp(x1, x3, sizeof x1) != 0;
        sample += memcmp(x1, x4, sizeof x1) != 0;
        seed += memcmp(x1, x5, sizeof x1) != 0;
    }
    truth(repeat, "the same (seed, epoch, sample) draws the same image");
    truth(epoch > 10 && sample > 10 && seed > 10,
          "another epoch, sample or seed draws another image (most of the time)");
    dlrt_augmenter_free(&b);
    dlrt_augmenter_free(&c);
}

static void expect_rejected(const dlrt_augment *op, const dlrt_dataset *ds, const char *what) {
    dlrt_augmenter a;
    char err[256] = "";
    int rc = dlrt_augmenter_init(&a, op, 1, ds, 0, 0, err, sizeof err);
    char msg[400];
    snprintf(msg, sizeof msg, "init rejects %s (%s)", what, err);
    truth(rc == -1 && err[0], msg);
    dlrt_augmenter_free(&a);
}

static void test_init_errors(void) {
    dlrt_dataset ds = images(src, 1);
    const dlrt_augment shift5 = {.kind = DLRT_AUG_SHIFT, .n = W}, crop_big = {.kind = DLRT_AUG_CROP, .n = 1, .size = H + 3},
                       crop_small = {.kind = DLRT_AUG_CROP, .n = 1, .size = H - 1},
                       pad = {.kind = DLRT_AUG_CROP, .n = H, .size = H}, p = {.kind = DLRT_AUG_HFLIP, .p = 1.5},
                       shift1 = {.kind = DLRT_AUG_SHIFT, .n = 1};
    expect_rejected(&shift5, &ds, "shift(W)");
    expect_rejected(&crop_big, &ds, "a crop larger than the padded image");
    expect_rejected(&crop_small, &ds, "a crop smaller than the image");
    expect_rejected(&pad, &ds, "padding H");
    expect_rejected(&p, &ds, "p = 1.5");
    dlrt_dataset flat = ds;
    flat.rank = 1, flat.shape[0] = SIZE;
    expect_rejected(&shift1, &flat, "samples that are no images");
}

int main(void) {
    for (int64_t c = 0; c < C; c++)
        for (int64_t y = 0; y < H; y++)
            for (int64_t x = 0; x < W; x++) src[(c * H + y) * W + x] = px(c, y, x);
    test_translate();
    test_hflip();
    test_moves(DLRT_AUG_SHIFT);
    test_moves(DLRT_AUG_CROP);
    test_flip_probability();
    test_list(2);
    test_list(3);
    test_identity_and_determinism();
    test_init_errors();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
