/*
 * test_fewshot.c — the episodes of few-shot evaluation (runtime/dlrt_fewshot.c) on hand-made
 * embeddings whose answers are known:
 *   - well separated classes (each class a tight cluster): every query is right, with L2 and
 *     with cosine; the interval of identical episode accuracies is 0;
 *   - prototypes are the mean of the K shots: a set where only the mean gives exactly 50%;
 *   - cosine ignores the length: a class on a ray far out and one near the origin at an angle;
 *   - the interval: 1.96 * sample std / sqrt(n) on given accuracies, NAN for one episode;
 *   - seeding: the same seed gives identical results, another seed other draws;
 *   - errors: fewer classes present than n_way, a class with fewer than k_shot + queries images.
 * Prints "N passed, M failed" last; exits non-zero on any failure.
 */
#include "dlrt.h"
#include <math.h>
#include <stdio.h>
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

/* 5 classes (labels 3..7), 20 samples each, 2-d: class c around (10c, 0) within 0.1 */
static void clusters(float *emb, int32_t *y, int n) {
    for (int i = 0; i < n; i++) {
        y[i] = 3 + i % 5;
        emb[2 * i] = 10.0f * (float)(i % 5) + 0.01f * (float)(i % 7);
        emb[2 * i + 1] = 0.01f * (float)(i % 3) + 1.0f; /* off the origin: cosine is defined */
    }
}

static dlrt_few_shot setting(int n_way, int k_shot, int queries, long long episodes, int metric) {
    return (dlrt_few_shot){.n_way = n_way, .k_shot = k_shot, .queries = queries,
                           .episodes = episodes, .classes = 0xF8u, .metric = metric};
}

static void test_separated(void) {
    float emb[200];
    int32_t y[100];
    char err[256];
    clusters(emb, y, 100);
    dlrt_few_shot fs = setting(5, 1, 5, 200, DLRT_FEW_SHOT_L2);
    dlrt_few_shot_result r;
    truth(dlrt_few_shot_episodes(emb, 2, y, 100, &fs, 1, &r, err, sizeof err) == 0, "l2 runs");
    near(r.accuracy, 1, 0, "separated clusters, l2: every query right");
    near(r.ci95, 0, 0, "identical episodes: interval 0");
    truth(r.queries == 200 * 25, "queries = episodes * n_way * queries");
    fs = setting(3, 2, 4, 100, DLRT_FEW_SHOT_L2);
    truth(dlrt_few_shot_episodes(emb, 2, y, 100, &fs, 1, &r, err, sizeof err) == 0, "3-way runs");
    near(r.accuracy, 1, 0, "3-way 2-shot: every query right");
    /* only classes 3 and 4 may be drawn: a 2-way episode over them */
    fs = setting(2, 1, 3, 50, DLRT_FEW_SHOT_L2);
    fs.classes = 0x18u;
    truth(dlrt_few_shot_episodes(emb, 2, y, 100, &fs, 1, &r, err, sizeof err) == 0, "2 classes");
    near(r.accuracy, 1, 0, "2-way over the listed classes");
}

/* The prototype is the mean of the shots: class A (label 0) has samples at x = 0, 0, 10, 10,
 * class B (label 1) four at x = 4 (y = 1 for all). With k_shot = 3 and one query, A's query is
 * the sample left out: at 0 its prototype is (0 + 10 + 10) / 3 = 6.67, farther than B's 4; at 10
 * it is 10 / 3 = 3.33, farther (6.67) than B's (6). Every A query is wrong, every B query right:
 * exactly 50%, which neither one shot nor a median would give. */
static void test_prototype_mean(void) {
    const float e[] = {0, 1, 0, 1, 10, 1, 10, 1, 4, 1, 4, 1, 4, 1, 4, 1};
    const int32_t y[] = {0, 0, 0, 0, 1, 1, 1, 1};
    char err[256];
    dlrt_few_shot_result r;
    dlrt_few_shot fs = {.n_way = 2, .k_shot = 3, .queries = 1, .episodes = 64, .classes = 3u,
                        .metric = DLRT_FEW_SHOT_L2};
    truth(dlrt_few_shot_episodes(e, 2, y, 8, &fs, 7, &r, err, sizeof err) == 0, "mean runs");
    near(r.accuracy, 0.5, 0, "3-shot prototypes are the means: A's queries all wrong");
}

/* cosine: class 0 along (1, 0) at lengths 1 and 100, class 1 along (0.6, 0.8) at lengths 3 and
 * 4: by angle every query is right; by L2 the far class-0 samples are nearer class 1's */
static void test_cosine(void) {
    float e[16];
    int32_t y[8];
    for (int i = 0; i < 4; i++) {
        float len = i % 2 ? 100.0f : 1.0f;
        e[2 * i] = len, e[2 * i + 1] = 0, y[i] = 0;
        float l1 = i % 2 ? 4.0f : 3.0f;
        e[8 + 2 * i] = 0.6f * l1, e[8 + 2 * i + 1] = 0.8f * l1, y[4 + i] = 1;
    }
    char err[256];
    dlrt_few_shot_result rc, rl;
    dlrt_few_shot fs = {.n_way = 2, .k_shot = 1, .queries = 3, .episodes = 100, .classes = 3u,
                        .metric = DLRT_FEW_SHOT_COSINE};
    truth(dlrt_few_shot_episodes(e, 2, y, 8, &fs, 3, &rc, err, sizeof err) == 0, "cosine runs");
    near(rc.accuracy, 1, 0, "cosine: the angle decides");
    fs.metric = DLRT_FEW_SHOT_L2;
    truth(dlrt_few_shot_episodes(e, 2, y, 8, &fs, 3, &rl, err, sizeof err) == 0, "l2 runs");
    truth(rl.accuracy < 1, "l2 on the same set errs (lengths matter)");
}

static void test_interval(void) {
    const double acc[] = {0.5, 0.7, 0.6, 0.8};
    double mean, ci = dlrt_few_shot_ci95(acc, 4, &mean);
    double sd = sqrt(((0.15 * 0.15) + (0.05 * 0.05) * 2 + (0.15 * 0.15)) / 3); /* sample std */
    near(mean, 0.65, 1e-15, "interval: the mean");
    near(ci, 1.96 * sd / 2, 1e-15, "interval: 1.96 * sample std / sqrt(n)");
    truth(isnan(dlrt_few_shot_ci95(acc, 1, &mean)) && mean == 0.5, "one episode: no interval");
}

/* noisy clusters: decisions that depend on the draws */
static void noisy(float *e, int32_t *y, int n) {
    dlrt_rng r;
    dlrt_rng_seed(&r, 99);
    for (int i = 0; i < n; i++) {
        y[i] = i % 4;
        e[2 * i] = (float)(y[i] % 2) + (float)dlrt_rng_normal(&r);
        e[2 * i + 1] = (float)(y[i] / 2) + (float)dlrt_rng_normal(&r);
    }
}

static void test_seeding(void) {
    static float e[2 * 400];
    static int32_t y[400];
    noisy(e, y, 400);
    char err[256];
    dlrt_few_shot fs = {.n_way = 3, .k_shot = 2, .queries = 5, .episodes = 300, .classes = 15u};
    dlrt_few_shot_result a, b, c;
    dlrt_few_shot_episodes(e, 2, y, 400, &fs, dlrt_few_shot_seed(5, 0), &a, err, sizeof err);
    dlrt_few_shot_episodes(e, 2, y, 400, &fs, dlrt_few_shot_seed(5, 0), &b, err, sizeof err);
    dlrt_few_shot_episodes(e, 2, y, 400, &fs, dlrt_few_shot_seed(6, 0), &c, err, sizeof err);
    truth(a.accuracy == b.accuracy && a.ci95 == b.ci95, "the same seed: identical results");
    truth(a.accuracy != c.accuracy, "another seed: other episodes");
    truth(a.accuracy > 0.4 && a.accuracy < 0.95 && a.ci95 > 0, "noisy: between chance and 1");
    truth(dlrt_few_shot_seed(5, 0) != dlrt_few_shot_seed(5, 1), "entries have their own streams");
}

static void test_errors(void) {
    float emb[200];
    int32_t y[100];
    char err[256];
    clusters(emb, y, 100);
    dlrt_few_shot_result r;
    dlrt_few_shot fs = setting(5, 1, 20, 10, DLRT_FEW_SHOT_L2); /* 21 per class; 20 held */
    truth(dlrt_few_shot_episodes(emb, 2, y, 100, &fs, 1, &r, err, sizeof err) == -1 &&
              strstr(err, "class 3 has 20 test images, fewer than k_shot + queries = 21"),
          "too few images in a class");
    fs = setting(5, 1, 5, 10, DLRT_FEW_SHOT_L2);
    fs.classes = 0xF8u | 1u << 9; /* class 9 has no image: 5 of the 6 classes are present */
    truth(dlrt_few_shot_episodes(emb, 2, y, 100, &fs, 1, &r, err, sizeof err) == -1 &&
              strstr(err, "class 9 has 0 test images"), "a listed class without images");
    fs = setting(6, 1, 5, 10, DLRT_FEW_SHOT_L2);
    truth(dlrt_few_shot_episodes(emb, 2, y, 100, &fs, 1, &r, err, sizeof err) == -1 &&
              strstr(err, "images of 5 of the classes, fewer than n_way = 6"),
          "fewer classes than n_way");
    fs = setting(5, 1, 20, 10, DLRT_FEW_SHOT_L2);
    truth(dlrt_few_shot_check(y, 100, &fs, err, sizeof err) == -1 && strstr(err, "class 3 has 20"),
          "the check before training finds it too");
    fs.queries = 19;
    truth(dlrt_few_shot_check(y, 100, &fs, err, sizeof err) == 0, "20 images: enough for 1 + 19");
    char name[64];
    fs = setting(5, 1, 5, 10, DLRT_FEW_SHOT_COSINE);
    truth(!strcmp(dlrt_few_shot_name(&fs, name, sizeof name), "5-way 1-shot cosine classes [3..7]"),
          "the setting's name");
    fs.classes = 0x15u, fs.metric = DLRT_FEW_SHOT_L2;
    truth(!strcmp(dlrt_few_shot_name(&fs, name, sizeof name), "5-way 1-shot classes [0, 2, 4]"),
          "a class list with gaps");
}

int main(void) {
    test_separated();
    test_prototype_mean();
    test_cosine();
    test_interval();
    test_seeding();
    test_errors();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
