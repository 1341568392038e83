/*
 * dlrt_normalize.c — input normalisation from training statistics. The mean and standard
 * deviation (standardize) or minimum and maximum (minmax) are computed over the training part
 * of the split only — the samples listed in `train_idx` — and then applied to every split, so
 * no statistic ever leaks from validation or test data into training. The scalar form has one
 * shift and scale for every value of a sample; the per-feature form one for each element of
 * a sample (a CSV column, a pixel), in double, a constant feature getting scale 1.
 */
#include "dlrt.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- per feature (normalize = standardize(per_feature = 1), minmax(per_feature = 1)) ---- */

/* feature j's statistics over the training rows, in double: the mean and the population
 * standard deviation (two passes: no cancellation when a feature's values are large), or the
 * minimum and the range; a constant feature gets scale 1 (as scikit-learn's scalers) */
static void feature_stats(const dlrt_dataset *ds, const int64_t *idx, int64_t n, int kind,
                          int64_t j, double *shift, double *scale) {
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    for (int64_t k = 0; k < n; k++) {
        double v = ds->x[idx[k] * ds->sample_size + j];
        sum += v, lo = fmin(lo, v), hi = fmax(hi, v);
    }
    *shift = 0, *scale = 1;
    if (n == 0) return;
    if (kind == DLRT_NORM_MINMAX) {
        *shift = lo;
        *scale = hi > lo ? hi - lo : 1;
        return;
    }
    double mean = sum / (double)n, m2 = 0;
    for (int64_t k = 0; k < n; k++) {
        double d = ds->x[idx[k] * ds->sample_size + j] - mean;
        m2 += d * d;
    }
    *shift = mean;
    *scale = m2 > 0 ? sqrt(m2 / (double)n) : 1;
}

void dlrt_norm_apply(dlrt_dataset *ds, const dlrt_norm_stats *s) {
    if (s->kind == DLRT_NORM_NONE) return;
    const double *shift = s->v, *scale = s->v + s->n;
    for (int64_t r = 0; r < ds->n; r++) {
        float *x = ds->x + r * ds->sample_size;
        for (int64_t j = 0; j < ds->sample_size; j++) {
            int64_t f = s->per_feature ? j : 0;
            x[j] = (float)((x[j] - shift[f]) / scale[f]);
        }
    }
}

int dlrt_norm_compute(dlrt_norm_stats *s, const dlrt_dataset *train, const int64_t *train_idx,
                      int64_t n_train, int kind, int per_feature, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->per_feature = per_feature && kind != DLRT_NORM_NONE;
    s->n = s->per_feature ? train->sample_size : 1;
    s->v = malloc(sizeof(double) * 2 * (size_t)(s->n > 0 ? s->n : 1));
    if (!s->v) {
        snprintf(err, errlen, "out of memory for the normalization statistics");
        return -1;
    }
    if (!s->per_feature) {
        norm_stats one = compute(train, train_idx, n_train, kind);
        s->v[0] = one.shift, s->v[1] = one.scale;
        return 0;
    }
    for (int64_t j = 0; j < s->n; j++)
        feature_stats(train, train_idx, n_train, kind, j, &s->v[j], &s->v[s->n + j]);
    return 0;
}

void dlrt_norm_free(dlrt_norm_stats *s) {
    free(s->v);
    memset(s, 0, sizeof *s);
}
