/*
 * test_pairs.c — unit tests for the pairs and triplets sampler (runtime/dlrt_pairs.c) and the
 * class filter and subsets of a labelled dataset (runtime/dlrt_data_subset.c).
 *
 * Balance: over N pairs the number S of same-class pairs is Binomial(N, same_share) (one
 * Bernoulli draw per pair decides; a different-class pair is always of two classes, a
 * same-class one always of one). Hoeffding's inequality, P(|S/N - p| >= t) <= 2 exp(-2 N t^2),
 * gives the bound t = sqrt(ln(2 / delta) / (2 N)); with delta = 1e-6 a correct sampler fails
 * the check for at most one seed in a million, whatever the seed. Seeding: the same key gives
 * identical tuples, a different key different ones. The real MNIST splits (from
 * $DLC_TEST_MNIST_DIR, as test_data.c) filtered to classes 0-4 hold only those classes, with
 * MNIST's per-class counts. Prints "N passed, M failed" last; exits non-zero on any failure.
 */
#include "dlrt_pairs.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

static void check(int ok, const char *what) {
    if (ok) passed++;
    else failed++, fprintf(stderr, "FAIL: %s\n", what);
}

enum { POOL = 997, CLASSES = 5, N_PAIRS = 20000 };

/* labels with unequal classes (class c holds about (c + 1) / 15 of the samples), and a pool
 * of every third sample */
static void make_labels(int32_t *labels, int64_t *pool, int64_t *n_pool) {
    for (int i = 0; i < 3 * POOL; i++) labels[i] = (int32_t)((i % 15 < 1) ? 0 : (i % 15 < 3) ? 1
                                                             : (i % 15 < 6) ? 2 : (i % 15 < 10) ? 3 : 4);
    *n_pool = 0;
    for (int i = 0; i < 3 * POOL; i += 3) pool[(*n_pool)++] = i;
}

static int in_pool(const int64_t *pool, int64_t n, int64_t k) {
    for (int64_t i = 0; i < n; i++)
        if (pool[i] == k) return 1;
    return 0;
}

static void test_balance(const dlrt_sampler *s, const int32_t *labels, const int64_t *pool,
                         int64_t n_pool, double share) {
    int64_t *t = malloc(sizeof(int64_t) * 2 * N_PAIRS);
    dlrt_sampler_draw(s, 2, share, dlrt_sampler_key(7, 1, 0), N_PAIRS, t);
    int64_t same = 0, members_ok = 1, distinct = 1;
    for (int k = 0; k < N_PAIRS; k++) {
        same += labels[t[2 * k]] == labels[t[2 * k + 1]];
        distinct &= t[2 * k] != t[2 * k + 1];
        if (k < 500) members_ok &= in_pool(pool, n_pool, t[2 * k]) && in_pool(pool, n_pool, t[2 * k + 1]);
    }
    double bound = sqrt(log(2 / 1e-6) / (2.0 * N_PAIRS));
    char what[160];
    snprintf(what, sizeof what, "same_share %g: %lld of %d pairs same-class, outside the bound %.4f",
             share, (long long)same, N_PAIRS, bound);
    check(fabs((double)same / N_PAIRS - share) <= bound, what);
    check(members_ok, "every pair's samples come from the pool");
    check(distinct, "no pair repeats a sample (every class holds more than one)");
    free(t);
}

static void test_seeding(const dlrt_sampler *s) {
    int64_t *a = malloc(sizeof(int64_t) * 2000), *b = malloc(sizeof(int64_t) * 2000);
    dlrt_sampler_draw(s, 2, 0.5, dlrt_sampler_key(3, 2, 0), 1000, a);
    dlrt_sampler_draw(s, 2, 0.5, dlrt_sampler_key(3, 2, 0), 1000, b);
    check(memcmp(a, b, sizeof(int64_t) * 2000) == 0, "the same seed gives identical pairs");
    dlrt_sampler_draw(s, 2, 0.5, dlrt_sampler_key(4, 2, 0), 1000, b);
    check(memcmp(a, b, sizeof(int64_t) * 2000) != 0, "a different seed gives different pairs");
    dlrt_sampler_draw(s, 2, 0.5, dlrt_sampler_key(3, 3, 0), 1000, b);
    check(memcmp(a, b, sizeof(int64_t) * 2000) != 0, "the next epoch draws different pairs");
    free(a), free(b);
}

static void test_triplets(const dlrt_sampler *s, const int32_t *labels) {
    int64_t *t = malloc(sizeof(int64_t) * 3 * 5000);
    dlrt_sampler_draw(s, 3, 0, dlrt_sampler_key(1, 1, 0), 5000, t);
    int ok = 1;
    for (int k = 0; k < 5000; k++)
        ok &= labels[t[3 * k]] == labels[t[3 * k + 1]] && t[3 * k] != t[3 * k + 1] &&
              labels[t[3 * k]] != labels[t[3 * k + 2]];
    check(ok, "triplets: the positive shares the anchor's class, the negative does not");
    free(t);
}

static void test_errors(const int32_t *labels) {
    dlrt_sampler s;
    char err[256];
    int64_t one_class[3] = {0, 15, 30}; /* labels[0] = labels[15] = labels[30] = 0 */
    check(dlrt_sampler_init(&s, labels, CLASSES, one_class, 3, 1, "pairs", err, sizeof err) != 0 &&
              strstr(err, "one class") != NULL, "a single-class pool cannot give different pairs");
    check(dlrt_sampler_init(&s, labels, CLASSES, one_class, 3, 0, "pairs", err, sizeof err) == 0,
          "a single-class pool gives same-class pairs");
    dlrt_sampler_free(&s);
    check(dlrt_sampler_init(&s, labels, CLASSES, one_class, 0, 0, "pairs", err, sizeof err) != 0,
          "an empty pool is an error");
}

/* a small labelled dataset: sample i holds the value i, label i % 10 */
static void test_subset(void) {
    dlrt_dataset ds = {.n = 50, .rank = 1, .shape = {2}, .sample_size = 2, .n_classes = 10};
    ds.x = malloc(sizeof(float) * 100), ds.y = malloc(sizeof(int32_t) * 50);
    for (int i = 0; i < 50; i++) ds.x[2 * i] = ds.x[2 * i + 1] = (float)i, ds.y[i] = i % 10;
    char err[256];
    int rc = dlrt_dataset_subset(&ds, "train", 1u << 3 | 1u << 7, 7, err, sizeof err);
    int ok = rc == 0 && ds.n == 7;
    for (int i = 0; ok && i < 7; i++) {
        int want = (i / 2) * 10 + (i % 2 ? 7 : 3);
        ok = ds.y[i] == want % 10 && ds.x[2 * i] == (float)want && ds.x[2 * i + 1] == (float)want;
    }
    check(ok, "classes {3, 7}, limit 7: the first 7 such samples in file order, labels unchanged");
    rc = dlrt_dataset_subset(&ds, "test", 1u << 5, 0, err, sizeof err);
    check(rc != 0 && strstr(err, "test split holds no sample of the classes {5}"), err);
    dlrt_dataset_free(&ds);
}

static void test_mnist(void) {
    const char *dir = getenv("DLC_TEST_MNIST_DIR");
    if (!dir) {
        printf("DLC_TEST_MNIST_DIR not set: skipping the real-MNIST class filter\n");
        return;
    }
    static const int64_t train_counts[5] = {5923, 6742, 5958, 6131, 5842};
    static const int64_t test_counts[5] = {980, 1135, 1032, 1010, 982};
    const char *splits[2] = {"train", "test"};
    for (int k = 0; k < 2; k++) {
        dlrt_data_spec spec = {.name = "mnist", .dir = dir, .classes = 0x1f};
        dlrt_dataset ds;
        char err[512];
        int64_t count[10] = {0};
        check(dlrt_dataset_open(&spec, splits[k], &ds, err, sizeof err) == 0, err);
        for (int64_t i = 0; i < ds.n; i++) count[ds.y[i]]++;
        int ok = 1;
        for (int c = 0; c < 10; c++) ok &= count[c] == (c < 5 ? (k ? test_counts : train_counts)[c] : 0);
        check(ok, "mnist classes [0..4]: only those classes, with MNIST's per-class counts");
        dlrt_dataset_free(&ds);
    }
}

int main(void) {
    int32_t labels[3 * POOL];
    int64_t pool[POOL], n_pool;
    make_labels(labels, pool, &n_pool);
    dlrt_sampler s;
    char err[256];
    check(dlrt_sampler_init(&s, labels, CLASSES, pool, n_pool, 1, "pairs", err, sizeof err) == 0, err);
    static const double shares[] = {0, 0.1, 0.5, 0.9, 1};
    for (int i = 0; i < 5; i++) test_balance(&s, labels, pool, n_pool, shares[i]);
    test_seeding(&s);
    test_triplets(&s, labels);
    dlrt_sampler_free(&s);
    test_errors(labels);
    test_subset();
    test_mnist();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
