/*
 * dlrt_synth.c — synthetic datasets drawn from a seed, for regression and quick experiments.
 *
 * sine: x ~ U[low, high), y = sin(x) + noise * N(0, 1), one f32 each (shape [1], real targets).
 * The train and test splits come from two different streams of the same seed, so they are
 * independent draws of the same distribution and the same seed always gives the same data.
 */
#include "dlrt.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* stream constants: one per split, distinct from the loop's split and shuffle streams */
#define SINE_TRAIN_STREAM 0x73696e6574726e31ULL
#define SINE_TEST_STREAM 0x73696e6574737432ULL

static int check_sine(const dlrt_sine_opts *o, char *err, size_t errlen) {
    const char *bad = o->n < 1 ? "n must be >= 1"
                    : o->n_test < 1 ? "n_test must be >= 1"
                    : !isfinite(o->low) || !isfinite(o->high) ? "low and high must be finite"
                    : !(o->low < o->high) ? "low must be < high"
                    : !(o->noise >= 0) || !isfinite(o->noise) ? "noise must be finite and >= 0"
                                                              : NULL;
    if (bad) snprintf(err, errlen, "sine: %s (n %lld, n_test %lld, low %g, high %g, noise %g)", bad,
                      (long long)o->n, (long long)o->n_test, o->low, o->high, o->noise);
    return bad ? -1 : 0;
}

int dlrt_sine_make(const dlrt_sine_opts *o, uint64_t seed, const char *split, dlrt_dataset *out,
                   char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    int test = strcmp(split, "test") == 0;
    if (!test && strcmp(split, "train") != 0) {
        snprintf(err, errlen, "sine: unknown split '%s' (expected train or test)", split);
        return -1;
    }
    if (check_sine(o, err, errlen)) return -1;
    int64_t n = test ? o->n_test : o->n;
    out->x = malloc(sizeof(float) * (size_t)n);
    out->target = malloc(sizeof(float) * (size_t)n);
    if (!out->x || !out->target) {
        dlrt_dataset_free(out);
        snprintf(err, errlen, "sine: out of memory for %lld samples", (long long)n);
        return -1;
    }
    dlrt_rng r;
    dlrt_rng_seed(&r, seed ^ (test ? SINE_TEST_STREAM : SINE_TRAIN_STREAM));
    for (int64_t i = 0; i < n; i++) {
        double x = o->low + (o->high - o->low) * dlrt_rng_uniform(&r);
        out->x[i] = (float)x;
        out->target[i] = (float)(sin(x) + (o->noise > 0 ? o->noise * dlrt_rng_normal(&r) : 0));
    }
    out->n = n;
    out->rank = 1;
    out->shape[0] = 1;
    out->sample_size = 1;
    out->target_size = 1;
    return 0;
}
