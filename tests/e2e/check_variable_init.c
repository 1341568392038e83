/*
 * check_variable_init.c — `variable(..., init = ...)` end to end: the generated model's tensor
 * table (from `dlc -o`, compiled into MODEL.so) drives the runtime's dlrt_session_init, and the
 * weights it draws must follow each variable's law. variable_init.sh writes the model:
 *   W = variable(784, 500, init = normal(std = 0.01))      N(0, 0.01^2)
 *   U = variable(300, 200, init = uniform(-0.5, 1.5))       U(-0.5, 1.5)
 *   G = variable(400, 300, init = xavier_normal)            N(0, 2 / (400 + 300))
 *   K = variable(3, 5, init = constant(0.25)), Z = variable(10) (zeros)
 * Each sample mean must lie within 6 standard errors of the law's mean (6 sqrt(var / n)), each
 * sample variance within 6 standard errors of the law's variance (6 sqrt((mu4 - var^2) / n),
 * mu4 the fourth central moment): a false failure has odds below 1e-8 per check. Uniform draws
 * must lie in [low, high]; constants are exact. The same seed gives the same weights, another
 * seed other ones.
 *   check_variable_init MODEL.so
 */
#include "dlrt.h"
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures; /* checks that failed so far */

static void expect(int ok, const char *what) {
    printf("%s: %s\n", ok ? "ok" : "FAIL", what);
    failures += !ok;
}

/* the f32 elements of parameter `name` in session s, and their count */
static const float *param(const dlrt_session *s, const char *name, long long *n) {
    const dlrt_tensor_desc *t = dlrt_find_tensor(s->model, DLRT_PARAM, name);
    if (!t) {
        fprintf(stderr, "check_variable_init: no parameter '%s'\n", name);
        exit(2);
    }
    *n = 1;
    for (int d = 0; d < t->rank; d++) *n *= t->dims[d];
    return (const float *)s->weights + t->offset;
}

/* mean and variance of parameter `name` against its law's mean, variance and 4th central moment */
static void moments(const dlrt_session *s, const char *name, double mu, double var, double mu4) {
    long long n;
    const float *w = param(s, name, &n);
    double sum = 0, sq = 0;
    for (long long i = 0; i < n; i++) sum += w[i];
    double mean = sum / (double)n;
    for (long long i = 0; i < n; i++) sq += (w[i] - mean) * (w[i] - mean);
    double v = sq / (double)(n - 1), se_m = sqrt(var / (double)n);
    double se_v = sqrt((mu4 - var * var) / (double)n);
    char msg[200];
    printf("%s: mean %.6g (law %.6g, 6 SE %.3g), variance %.6g (law %.6g, 6 SE %.3g)\n", name, mean,
           mu, 6 * se_m, v, var, 6 * se_v);
    snprintf(msg, sizeof msg, "%s: mean within 6 standard errors", name);
    expect(fabs(mean - mu) <= 6 * se_m, msg);
    snprintf(msg, sizeof msg, "%s: variance within 6 standard errors", name);
    expect(fabs(v - var) <= 6 * se_v, msg);
}

/* every element of `name` in [lo, hi] */
static void within(const dlrt_session *s, const char *name, double lo, double hi) {
    long long n;
    const float *w = param(s, name, &n);
    int ok = 1;
    for (long long i = 0; i < n; i++) ok &= w[i] >= lo && w[i] <= hi;
    char msg[200];
    snprintf(msg, sizeof msg, "%s: every element in [%g, %g]", name, lo, hi);
    expect(ok, msg);
}

static void session(dlrt_session *s, const dlrt_model_desc *m, uint64_t seed) {
    char err[256];
    if (dlrt_session_init(s, m, seed, err, sizeof err)) {
        fprintf(stderr, "check_variable_init: %s\n", err);
        exit(2);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: check_variable_init MODEL.so\n");
        return 2;
    }
    void *so = dlopen(argv[1], RTLD_NOW);
    const dlrt_model_desc *(*model)(void) = so ? (const dlrt_model_desc *(*)(void))dlsym(so, "vinit_model") : NULL;
    if (!model) {
        fprintf(stderr, "check_variable_init: %s\n", dlerror());
        return 2;
    }
    dlrt_session a, b;
    session(&a, model(), 1);
    double s2 = 1e-4, g2 = 2.0 / 700, u2 = 4.0 / 12;
    moments(&a, "W", 0, s2, 3 * s2 * s2);
    moments(&a, "U", 0.5, u2, 16.0 / 80);
    within(&a, "U", -0.5, 1.5);
    moments(&a, "G", 0, g2, 3 * g2 * g2);
    within(&a, "K", 0.25, 0.25);
    within(&a, "Z", 0, 0);
    long long n;
    const float *w1 = param(&a, "W", &n);
    session(&b, model(), 1);
    expect(!memcmp(w1, param(&b, "W", &n), sizeof(float) * (size_t)n), "the same seed draws the same W");
    dlrt_session_free(&b);
    session(&b, model(), 2);
    expect(memcmp(w1, param(&b, "W", &n), sizeof(float) * (size_t)n) != 0, "another seed draws another W");
    dlrt_session_free(&b);
    dlrt_session_free(&a);
    printf("%d failed\n", failures);
    return failures != 0;
}
