/*
 * test_init.c — parameter initializers (runtime/dlrt_session.c) against torch.nn.init's
 * formulas. Each initializer fills a large [fan_in, fan_out] tensor through dlrt_session_init;
 * the sample mean, standard deviation, bounds and (for normal laws) the share within one
 * standard deviation must match the law the formula defines. The same seed must give identical
 * weights, another seed different ones; every name the compiler can emit (ir_init_names) must
 * be known to the runtime. Prints "N passed, M failed" last; exits non-zero on any failure.
 */
#include "dlrt.h"
#include "ir/ir.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FAN_IN = 500, FAN_OUT = 300, N = FAN_IN * FAN_OUT };

typedef struct expect {
    const char *init; /* initializer name */
    double a, b;      /* its arguments (init_a, init_b) */
    int law;          /* 0 constant, 1 uniform, 2 normal */
    double mean;      /* expected mean (the constant for law 0) */
    double spread;    /* uniform: half-width; normal: std */
} expect;

static int passed, failed;

static void check(int ok, const char *what, const char *init, double got, double want) {
    if (ok) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "FAIL: %s: %s: got %.6g, want %.6g\n", init, what, got, want);
}

static dlrt_model_desc one_tensor(dlrt_tensor_desc *t, const expect *e) {
    *t = (dlrt_tensor_desc){.name = "w", .kind = DLRT_PARAM, .dtype = DLRT_F32, .rank = 2,
                            .dims = {FAN_IN, FAN_OUT}, .init = e->init, .init_a = e->a,
                            .init_b = e->b, .fan_in = FAN_IN, .fan_out = FAN_OUT};
    return (dlrt_model_desc){.abi_version = DLRT_ABI_VERSION, .name = "t", .real_size = 4,
                             .weights_count = N, .arena_bytes = 0, .max_batch = 1,
                             .n_tensors = 1, .tensors = t};
}

/* fills a session for e with seed; returns its weights (caller frees the session) */
static const float *fill(dlrt_session *s, dlrt_model_desc *m, uint64_t seed) {
    char err[256];
    if (dlrt_session_init(s, m, seed, err, sizeof err)) {
        fprintf(stderr, "FAIL: %s\n", err);
        failed++;
        return NULL;
    }
    return s->weights;
}

static void check_stats(const expect *e, const float *w) {
    double sum = 0, sq = 0, lo = INFINITY, hi = -INFINITY;
    long within = 0;
    for (int i = 0; i < N; i++) sum += w[i];
    double mean = sum / N;
    for (int i = 0; i < N; i++) {
        sq += (w[i] - mean) * (w[i] - mean);
        lo = fmin(lo, w[i]);
        hi = fmax(hi, w[i]);
    }
    double sd = sqrt(sq / N);
    if (e->law == 0) {
        check(lo == (float)e->mean && hi == (float)e->mean, "every value the constant", e->init, lo, e->mean);
        return;
    }
    double want_sd = e->law == 1 ? e->spread / sqrt(3.0) : e->spread;
    for (int i = 0; i < N; i++) within += fabs(w[i] - e->mean) <= want_sd;
    check(fabs(mean - e->mean) < 5 * want_sd / sqrt((double)N), "mean", e->init, mean, e->mean);
    check(fabs(sd / want_sd - 1) < 0.01, "std", e->init, sd, want_sd);
    if (e->law == 1) {
        double a = e->mean - e->spread, b = e->mean + e->spread;
        check(lo >= (float)a && hi <= (float)b, "inside the bounds", e->init, hi, b);
        check(lo < a + 0.001 * (b - a) && hi > b - 0.001 * (b - a), "reaches the bounds", e->init, hi, b);
        check(fabs((double)within / N - 1 / sqrt(3.0)) < 0.01, "share within 1 std", e->init,
              (double)within / N, 1 / sqrt(3.0));
    } else {
        check(fabs((double)within / N - 0.682689) < 0.01, "share within 1 std (normal)", e->init,
              (double)within / N, 0.682689);
    }
}

static void check_seeds(const expect *e, dlrt_model_desc *m, const float *w1) {
    dlrt_session s2, s3;
    const float *w2 = fill(&s2, m, 7), *w3 = fill(&s3, m, 8);
    if (w2 && w3) {
        check(memcmp(w1, w2, sizeof(float) * N) == 0, "same seed, same weights", e->init, 0, 0);
        if (e->law) check(memcmp(w1, w3, sizeof(float) * N) != 0, "another seed, other weights", e->init, 0, 0);
    }
    dlrt_session_free(&s2);
    dlrt_session_free(&s3);
}

static void test_initializers(void) {
    const double fi = FAN_IN, fo = FAN_OUT;
    const expect cases[] = {
        {"zeros", 0, 0, 0, 0, 0},
        {"constant", 0.1, 0, 0, 0.1, 0},
        {"uniform", -0.5, 1.5, 1, 0.5, 1.0},
        {"normal", 0.3, 0.02, 2, 0.3, 0.02},
        {"xavier_uniform", 0, 0, 1, 0, sqrt(6 / (fi + fo))},
        {"xavier_normal", 0, 0, 2, 0, sqrt(2 / (fi + fo))},
        {"he_uniform", 0, 0, 1, 0, sqrt(6 / fi)},
        {"he_normal", 0, 0, 2, 0, sqrt(2 / fi)},
        {"lecun_uniform", 0, 0, 1, 0, sqrt(3 / fi)},
        {"lecun_normal", 0, 0, 2, 0, sqrt(1 / fi)},
        {"torch_default", 0, 0, 1, 0, 1 / sqrt(fi)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dlrt_tensor_desc t;
        dlrt_model_desc m = one_tensor(&t, &cases[i]);
        dlrt_session s;
        const float *w = fill(&s, &m, 7);
        if (w) {
            check_stats(&cases[i], w);
            check_seeds(&cases[i], &m, w);
        }
        dlrt_session_free(&s);
    }
}

/* every initializer the compiler can name is one the runtime knows; an unknown one fails */
static void test_names_agree(void) {
    for (int k = 0; k < IR_INIT_COUNT; k++) {
        expect e = {ir_init_names[k], 0, 1, 0, 0, 0};
        dlrt_tensor_desc t;
        dlrt_model_desc m = one_tensor(&t, &e);
        dlrt_session s;
        char err[256];
        int rc = dlrt_session_init(&s, &m, 1, err, sizeof err);
        check(rc == 0, "known to the runtime", ir_init_names[k], rc, 0);
        dlrt_session_free(&s);
    }
    expect bad = {"he_nromal", 0, 1, 0, 0, 0};
    dlrt_tensor_desc t;
    dlrt_model_desc m = one_tensor(&t, &bad);
    dlrt_session s;
    char err[256] = "";
    int rc = dlrt_session_init(&s, &m, 1, err, sizeof err);
    check(rc != 0 && strstr(err, "unknown initializer 'he_nromal'"), "rejected with a message",
          bad.init, rc, -1);
    dlrt_session_free(&s);
}

int main(void) {
    test_initializers();
    test_names_agree();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
