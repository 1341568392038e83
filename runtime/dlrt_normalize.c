/*
 * dlrt_normalize.c — input normalisation from training statistics. The mean and standard
 * deviation (standardize) or minimum and maximum (minmax) are computed over the training part
 * of the split only — the samples listed in `train_idx` — and then applied to every split, so
 * no statistic ever leaks from validation or test data into training.
 */
#include "dlrt.h"
#include <math.h>

typedef struct norm_stats {
    double shift; /* subtracted from every value */
    double scale; /* then divided by this */
} norm_stats;

static norm_stats compute(const dlrt_dataset *ds, const int64_t *train_idx, int64_t n, int kind) {
    double sum = 0, sq = 0, lo = INFINITY, hi = -INFINITY;
    for (int64_t k = 0; k < n; k++) {
        const float *x = ds->x + train_idx[k] * ds->sample_size;
        for (int64_t j = 0; j < ds->sample_size; j++) {
            sum += x[j];
            sq += (double)x[j] * x[j];
            lo = fmin(lo, x[j]);
            hi = fmax(hi, x[j]);
        }
    }
    double count = (double)n * (double)ds->sample_size;
    norm_stats s = {0, 1};
    if (kind == DLRT_NORM_STANDARDIZE && count > 0) {
        s.shift = sum / count;
        double var = sq / count - s.shift * s.shift;
        s.scale = var > 1e-12 ? sqrt(var) : 1;
    } else if (kind == DLRT_NORM_MINMAX && count > 0) {
        s.shift = lo;
        s.scale = hi - lo > 1e-12 ? hi - lo : 1;
    }
    return s;
}

static void apply(dlrt_dataset *ds, norm_stats s) {
    int64_t total = ds->n * ds->sample_size;
    for (int64_t i = 0; i < total; i++) ds->x[i] = (float)((ds->x[i] - s.shift) / s.scale);
}

void dlrt_normalize(dlrt_dataset *train, dlrt_dataset *test, const int64_t *train_idx,
                    int64_t n_train, int kind, double *shift, double *scale) {
    norm_stats s = compute(train, train_idx, n_train, kind);
    if (kind != DLRT_NORM_NONE) {
        apply(train, s);
        apply(test, s);
    }
    *shift = s.shift;
    *scale = s.scale;
}
