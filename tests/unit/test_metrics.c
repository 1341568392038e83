/*
 * test_metrics.c — the runtime's data discipline and metrics, on hand-made data:
 *   - metrics (dlrt_metrics.c) against values computed by hand with PyTorch's definitions:
 *     accuracy = (argmax(out, 1) == y).float().mean() (the first maximum wins ties, as
 *     torch.argmax), top_k = share of labels among torch.topk(out, k), mse / mae =
 *     F.mse_loss / F.l1_loss of the output against one_hot(y) (or the real targets), all
 *     accumulated over several batches of different sizes; a row holding a NaN or an Inf is
 *     never counted as a hit;
 *   - normalization (dlrt_normalize): statistics come from the training indices only, and the
 *     same shift and scale are applied to the validation part and to the test split; per
 *     feature (dlrt_norm_compute), each column's own statistics, scale 1 for a constant one;
 *   - the epoch shuffle: a permutation, the same for the same (seed, epoch), different across
 *     epochs and seeds;
 *   - the sine dataset: x in [low, high), y = sin(x) without noise, noise of the stated std,
 *     the same draws for the same seed, different draws for the test split.
 * Prints "N passed, M failed" last; exits non-zero on any failure.
 */
#include "dlrt.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

static void near(double got, double want, double tol, const char *what) {
    if (fabs(got - want) <= tol) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "FAIL: %s: got %.9g, want %.9g\n", what, got, want);
}

static void truth(int ok, const char *what) { near(ok ? 1 : 0, 1, 0, what); }

static void test_class_metrics(void) {
    const dlrt_metric m[] = {{DLRT_METRIC_LOSS, 1, NULL, 0}, {DLRT_METRIC_ACCURACY, 1, NULL, 0}, {DLRT_METRIC_TOP_K, 1, NULL, 0},
                             {DLRT_METRIC_TOP_K, 2, NULL, 0}, {DLRT_METRIC_MSE, 1, NULL, 0}, {DLRT_METRIC_MAE, 1, NULL, 0}};
    const float out1[] = {0.1f, 0.7f, 0.1f, 0.1f,  /* label 1: hit */
                          0.5f, 0.2f, 0.2f, 0.1f,  /* label 2: miss; in the top 2 (tie) */
                          0.3f, 0.3f, 0.2f, 0.2f}; /* label 1: argmax is 0 (first wins); top 2 */
    const int32_t y1[] = {1, 2, 1};
    const float out2[] = {0, 0, 0, 1};
    const int32_t y2[] = {3};
    dlrt_metric_sums s;
    dlrt_metrics_reset(&s);
    dlrt_metrics_add(&s, m, 6, &(dlrt_batch_view){out1, 4, y1, NULL, 3, 2.0, NULL});
    dlrt_metrics_add(&s, m, 6, &(dlrt_batch_view){out2, 4, y2, NULL, 1, 1.0, NULL});
    double v[6];
    dlrt_metrics_values(&s, 6, v);
    near(v[0], 7.0 / 4, 1e-12, "loss: batch means weighted by batch size");
    near(v[1], 2.0 / 4, 1e-12, "accuracy");
    near(v[2], 2.0 / 4, 1e-12, "top_1 equals accuracy");
    near(v[3], 4.0 / 4, 1e-12, "top_2");
    near(v[4], 1.72 / 16, 1e-7, "mse against one-hot labels");
    near(v[5], 3.6 / 16, 1e-7, "mae against one-hot labels");
    char name[32];
    truth(strcmp(dlrt_metric_name(&m[3], name, sizeof name), "top_2") == 0, "top_k's name");
    truth(dlrt_metric_higher_is_better(&m[1]) && dlrt_metric_higher_is_better(&m[3]) &&
              !dlrt_metric_higher_is_better(&m[0]) && !dlrt_metric_higher_is_better(&m[4]),
          "accuracy and top_k are maximised, loss and errors minimised");
}

/* a diverged model's rows (NaN everywhere, or one NaN or infinite score) are never hits; a NaN
 * compares false, so a row of NaN would otherwise have no score above its label's */
static void test_non_finite_rows(void) {
    const dlrt_metric m[] = {{DLRT_METRIC_ACCURACY, 1, NULL, 0}, {DLRT_METRIC_TOP_K, 2, NULL, 0}, {DLRT_METRIC_MSE, 1, NULL, 0}};
    const float out[] = {NAN, NAN, NAN,       /* label 0 */
                         0.9f, NAN, 0.1f,     /* label 0: highest of the finite, one NaN */
                         INFINITY, 0.f, 0.f,  /* label 0: +Inf is the label's score */
                         0.1f, 0.8f, 0.1f};   /* label 1: the one real hit */
    const int32_t y[] = {0, 0, 0, 1};
    dlrt_metric_sums s;
    dlrt_metrics_reset(&s);
    dlrt_metrics_add(&s, m, 3, &(dlrt_batch_view){out, 3, y, NULL, 4, NAN, NULL});
    double v[3];
    dlrt_metrics_values(&s, 3, v);
    near(v[0], 1.0 / 4, 0, "accuracy counts no row holding a NaN or an Inf");
    near(v[1], 1.0 / 4, 0, "top_2 counts no row holding a NaN or an Inf");
    truth(isnan(v[2]), "mse of NaN outputs is NaN");
}

static void test_regression_metrics(void) {
    const dlrt_metric m[] = {{DLRT_METRIC_MSE, 1, NULL, 0}, {DLRT_METRIC_MAE, 1, NULL, 0}};
    const float out[] = {1, 2, 3, 4}, target[] = {1, 1, 1, 1};
    dlrt_metric_sums s;
    dlrt_metrics_reset(&s);
    dlrt_metrics_add(&s, m, 2, &(dlrt_batch_view){out, 2, NULL, target, 2, 0, NULL});
    double v[2];
    dlrt_metrics_values(&s, 2, v);
    near(v[0], 14.0 / 4, 1e-12, "mse against real targets");
    near(v[1], 6.0 / 4, 1e-12, "mae against real targets");
    dlrt_metrics_reset(&s);
    dlrt_metrics_values(&s, 2, v);
    truth(isnan(v[0]), "a metric over no sample is NaN (null in the report)");
}

/* train: 6 samples of 2 values; indices 4, 1, 5 are the training part, 0, 2, 3 validation */
static void test_normalize(int kind) {
    float tx[12] = {1000, 1000, 1, 2, 1000, -1000, 500, 500, 3, 4, 5, 6};
    float sx[4] = {7, -7, 0, 100};
    const float orig_tx0 = tx[0], orig_sx3 = sx[3];
    dlrt_dataset train = {.n = 6, .rank = 1, .shape = {2}, .sample_size = 2, .x = tx};
    dlrt_dataset test = {.n = 2, .rank = 1, .shape = {2}, .sample_size = 2, .x = sx};
    const int64_t idx[] = {4, 1, 5, 0, 2, 3};
    dlrt_norm_stats st;
    char err[128];
    truth(dlrt_norm_compute(&st, &train, idx, 3, kind, 0, err, sizeof err) == 0, "scalar statistics");
    dlrt_norm_apply(&train, &st);
    dlrt_norm_apply(&test, &st);
    double shift = st.v[0], scale = st.v[1];
    dlrt_norm_free(&st);
    /* the training part holds 3, 4, 1, 2, 5, 6 */
    double want_shift = kind == DLRT_NORM_STANDARDIZE ? 3.5 : 1;
    double want_scale = kind == DLRT_NORM_STANDARDIZE ? sqrt(17.5 / 6) : 5;
    const char *k = kind == DLRT_NORM_STANDARDIZE ? "standardize" : "minmax";
    char what[96];
    snprintf(what, sizeof what, "%s: shift from the training part only", k);
    near(shift, want_shift, 1e-9, what);
    snprintf(what, sizeof what, "%s: scale from the training part only", k);
    near(scale, want_scale, 1e-9, what);
    snprintf(what, sizeof what, "%s: validation sample scaled with the training statistics", k);
    near(tx[0], (orig_tx0 - want_shift) / want_scale, 1e-3, what);
    snprintf(what, sizeof what, "%s: test sample scaled with the training statistics", k);
    near(sx[3], (orig_sx3 - want_shift) / want_scale, 1e-4, what);
    snprintf(what, sizeof what, "%s: training sample", k);
    near(tx[8], (3 - want_shift) / want_scale, 1e-6, what);
}

/* per feature: the same 6 samples of 2 values; the training part (4, 1, 5) holds column 0
 * = 3, 1000, 5 and column 1 = 4, -1000, 6; a constant column gets scale 1 */
static void test_normalize_features(int kind) {
    float tx[12] = {1000, 1000, 1000, -1000, 1000, -1000, 500, 500, 3, 4, 5, 6};
    float sx[4] = {7, -7, 0, 100};
    dlrt_dataset train = {.n = 6, .rank = 1, .shape = {2}, .sample_size = 2, .x = tx};
    dlrt_dataset test = {.n = 2, .rank = 1, .shape = {2}, .sample_size = 2, .x = sx};
    const int64_t idx[] = {4, 1, 5, 0, 2, 3};
    dlrt_norm_stats st;
    char err[128];
    truth(dlrt_norm_compute(&st, &train, idx, 3, kind, 1, err, sizeof err) == 0 &&
              st.per_feature && st.n == 2, "per feature: two statistics");
    double m0 = 1008.0 / 3, m1 = -990.0 / 3;
    double s0 = sqrt(((3 - m0) * (3 - m0) + (1000 - m0) * (1000 - m0) + (5 - m0) * (5 - m0)) / 3);
    double s1 = sqrt(((4 - m1) * (4 - m1) + (-1000 - m1) * (-1000 - m1) + (6 - m1) * (6 - m1)) / 3);
    double want[4] = {m0, m1, s0, s1};
    if (kind == DLRT_NORM_MINMAX) want[0] = 3, want[1] = -1000, want[2] = 997, want[3] = 1006;
    for (int k = 0; k < 4; k++) near(st.v[k], want[k], 1e-9 * fabs(want[k]), "per feature: statistic");
    dlrt_norm_apply(&test, &st);
    near(sx[3], (100 - want[1]) / want[3], 1e-5, "per feature: test value, column 1's statistics");
    dlrt_norm_free(&st);
    float cx[4] = {2, 1, 2, 3};
    dlrt_dataset flat = {.n = 2, .rank = 1, .shape = {2}, .sample_size = 2, .x = cx};
    truth(dlrt_norm_compute(&st, &flat, idx + 1, 1, kind, 1, err, sizeof err) == 0 &&
              st.v[2] == 1 && st.v[3] == 1, "per feature: a constant feature gets scale 1");
    dlrt_norm_free(&st);
}

static int is_permutation(const int64_t *v, int64_t n) {
    char seen[64] = {0};
    for (int64_t i = 0; i < n; i++) {
        if (v[i] < 0 || v[i] >= n || seen[v[i]]) return 0;
        seen[v[i]] = 1;
    }
    return 1;
}

static void shuffled(int64_t *v, long long seed, long long epoch) {
    for (int i = 0; i < 64; i++) v[i] = i;
    dlrt_epoch_shuffle(v, 64, seed, epoch);
}

static void test_shuffle(void) {
    int64_t a[64], b[64], c[64], d[64];
    shuffled(a, 7, 1);
    shuffled(b, 7, 1);
    shuffled(c, 7, 2);
    shuffled(d, 8, 1);
    truth(is_permutation(a, 64) && is_permutation(c, 64), "the epoch shuffle is a permutation");
    truth(memcmp(a, b, sizeof a) == 0, "same seed and epoch: same order");
    truth(memcmp(a, c, sizeof a) != 0, "another epoch: another order");
    truth(memcmp(a, d, sizeof a) != 0, "another seed: another order");
}

static void sine_stats(const dlrt_dataset *ds, double *max_resid, double *sd, int *in_range) {
    double s = 0, s2 = 0;
    *max_resid = 0;
    *in_range = 1;
    for (int64_t i = 0; i < ds->n; i++) {
        double r = ds->target[i] - sin(ds->x[i]);
        s += r, s2 += r * r;
        *max_resid = fmax(*max_resid, fabs(r));
        *in_range &= ds->x[i] >= -2 && ds->x[i] < 1;
    }
    *sd = sqrt(s2 / (double)ds->n - (s / (double)ds->n) * (s / (double)ds->n));
}

static void test_sine(void) {
    dlrt_sine_opts o = {.n = 4000, .n_test = 500, .low = -2, .high = 1, .noise = 0};
    dlrt_dataset a, b, t;
    char err[256];
    int ok = !dlrt_sine_make(&o, 5, "train", &a, err, sizeof err) &&
             !dlrt_sine_make(&o, 5, "train", &b, err, sizeof err) &&
             !dlrt_sine_make(&o, 5, "test", &t, err, sizeof err);
    truth(ok, "sine: splits are made");
    if (!ok) return;
    double resid, sd;
    int in_range;
    sine_stats(&a, &resid, &sd, &in_range);
    truth(in_range && a.n == 4000 && t.n == 500 && a.target_size == 1 && !a.y, "sine: x in [low, high)");
    near(resid, 0, 1e-6, "sine: y = sin(x) without noise");
    truth(memcmp(a.x, b.x, sizeof(float) * 4000) == 0, "sine: same seed, same draws");
    truth(memcmp(a.x, t.x, sizeof(float) * 500) != 0, "sine: the test split is another draw");
    dlrt_dataset_free(&a), dlrt_dataset_free(&b), dlrt_dataset_free(&t);
    o.noise = 0.1;
    truth(!dlrt_sine_make(&o, 5, "train", &a, err, sizeof err), "sine: noisy split is made");
    sine_stats(&a, &resid, &sd, &in_range);
    near(sd, 0.1, 0.005, "sine: noise has the stated standard deviation");
    dlrt_dataset_free(&a);
    o.n = 0;
    truth(dlrt_sine_make(&o, 5, "train", &a, err, sizeof err) == -1 && strstr(err, "n must be >= 1"),
          "sine: n < 1 is an error naming n");
    o.n = 10, o.low = -INFINITY, o.high = INFINITY; /* low < high, but every x would be NaN */
    truth(dlrt_sine_make(&o, 5, "train", &a, err, sizeof err) == -1 &&
              strstr(err, "low and high must be finite"), "sine: infinite bounds are an error");
    o.low = 0, o.high = 1, o.noise = INFINITY;
    truth(dlrt_sine_make(&o, 5, "train", &a, err, sizeof err) == -1 &&
              strstr(err, "noise must be finite"), "sine: infinite noise is an error");
}

/* a metric the model computes (mse(recon, image)): batch values weighted by batch size, under
 * its own name, lower is better */
static void test_value_metric(void) {
    const dlrt_metric m[] = {{DLRT_METRIC_LOSS, 1, NULL, 0}, {DLRT_METRIC_VALUE, 1, "recon_mse", 1}};
    const float out[] = {0, 0}, first = 0.5f, second = 2.0f;
    const float *v1[] = {NULL, &first}, *v2[] = {NULL, &second};
    dlrt_metric_sums s;
    dlrt_metrics_reset(&s);
    dlrt_metrics_add(&s, m, 2, &(dlrt_batch_view){out, 1, NULL, out, 3, 1.0, v1});
    dlrt_metrics_add(&s, m, 2, &(dlrt_batch_view){out, 1, NULL, out, 1, 1.0, v2});
    double v[2];
    dlrt_metrics_values(&s, 2, v);
    near(v[1], (3 * 0.5 + 2.0) / 4, 1e-12, "value metric: batch values weighted by batch size");
    char name[32];
    truth(strcmp(dlrt_metric_name(&m[1], name, sizeof name), "recon_mse") == 0, "value metric's name");
    truth(!dlrt_metric_higher_is_better(&m[1]), "a value metric is minimised");
}

int main(void) {
    test_class_metrics();
    test_value_metric();
    test_non_finite_rows();
    test_regression_metrics();
    test_normalize(DLRT_NORM_STANDARDIZE);
    test_normalize(DLRT_NORM_MINMAX);
    test_normalize_features(DLRT_NORM_STANDARDIZE);
    test_normalize_features(DLRT_NORM_MINMAX);
    test_shuffle();
    test_sine();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
