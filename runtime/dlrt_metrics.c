/*
 * dlrt_metrics.c — metrics distinct from the loss, accumulated batch by batch from the model's
 * output (its last value, n rows of `cols` reals) and the target: class labels or real targets.
 *
 *   loss      mean of the per-batch mean loss, weighted by batch size
 *   accuracy  share of rows whose highest score is the label (first index wins ties)
 *   top_k     share of rows whose label is among the k highest scores (ties counted in the
 *             label's favour only when strictly fewer than k scores are higher)
 *             A row holding a NaN or an infinite score is never a hit for either (a NaN
 *             compares false, so without this check a diverged model would score 1.0)
 *   mse, mae  mean squared / absolute difference over every element of output and target;
 *             with class labels the target is the one-hot row of the label
 *   VALUE     a scalar the model computes (mse(recon, image)): the mean of its per-batch
 *             values weighted by batch size, as the loss
 */
#include "dlrt.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

const char *dlrt_metric_name(const dlrt_metric *m, char *buf, size_t n) {
    static const char *const names[] = {"loss", "accuracy", "top_k", "mse", "mae"};
    if (m->kind == DLRT_METRIC_TOP_K) snprintf(buf, n, "top_%d", m->k);
    else if (m->kind == DLRT_METRIC_VALUE) snprintf(buf, n, "%s", m->name ? m->name : "?");
    else snprintf(buf, n, "%s", m->kind >= 0 && m->kind <= DLRT_METRIC_MAE ? names[m->kind] : "?");
    return buf;
}

int dlrt_metric_higher_is_better(const dlrt_metric *m) {
    return m->kind == DLRT_METRIC_ACCURACY || m->kind == DLRT_METRIC_TOP_K;
}

void dlrt_metrics_reset(dlrt_metric_sums *s) { memset(s, 0, sizeof *s); }

/* rows whose label has fewer than k strictly higher scores (k = 1: argmax, first index wins) */
static double hits(const dlrt_batch_view *b, int k) {
    double h = 0;
    for (int i = 0; i < b->n; i++) {
        const float *row = b->out + (size_t)i * (size_t)b->cols;
        int y = b->labels[i], above = 0, finite = 1;
        if (y < 0 || y >= b->cols) continue;
        for (long long j = 0; j < b->cols; j++) {
            finite &= isfinite(row[j]) != 0;
            above += row[j] > row[y] || (k == 1 && row[j] == row[y] && j < y);
        }
        h += finite && above < k;
    }
    return h;
}

/* summed |out - target|^p over every element (p = 1 or 2); the target of a label is one-hot */
static double error_sum(const dlrt_batch_view *b, int p) {
    double s = 0;
    for (int i = 0; i < b->n; i++)
        for (long long j = 0; j < b->cols; j++) {
            size_t at = (size_t)i * (size_t)b->cols + (size_t)j;
            double t = b->targets ? b->targets[at] : (double)(b->labels[i] == j);
            double d = fabs((double)b->out[at] - t);
            s += p == 2 ? d * d : d;
        }
    return s;
}

void dlrt_metrics_add(dlrt_metric_sums *s, const dlrt_metric *m, int n_metrics,
                      const dlrt_batch_view *b) {
    for (int i = 0; i < n_metrics && i < DLRT_MAX_METRICS; i++) {
        switch (m[i].kind) {
        case DLRT_METRIC_LOSS: s->sum[i] += b->loss * b->n; s->count[i] += b->n; break;
        case DLRT_METRIC_ACCURACY: s->sum[i] += hits(b, 1); s->count[i] += b->n; break;
        case DLRT_METRIC_TOP_K: s->sum[i] += hits(b, m[i].k); s->count[i] += b->n; break;
        case DLRT_METRIC_MSE: s->sum[i] += error_sum(b, 2); s->count[i] += (double)b->n * (double)b->cols; break;
        case DLRT_METRIC_MAE: s->sum[i] += error_sum(b, 1); s->count[i] += (double)b->n * (double)b->cols; break;
        case DLRT_METRIC_VALUE: s->sum[i] += (double)*b->value[i] * b->n; s->count[i] += b->n; break;
        }
    }
}

void dlrt_metrics_values(const dlrt_metric_sums *s, int n_metrics, double *values) {
    for (int i = 0; i < n_metrics && i < DLRT_MAX_METRICS; i++)
        values[i] = s->count[i] > 0 ? s->sum[i] / s->count[i] : NAN;
}
