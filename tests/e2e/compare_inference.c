/*
 * compare_inference.c — two inference C files of one model (dlc --weights, e.g. with and
 * without --no-fold), each compiled into a shared object, against each other on DATA: "mnist"
 * or "fashion-mnist", the whole test split of that dataset (raw pixels, as the inference C
 * takes them), or a count N of
 * samples drawn uniformly from [-2, 2) with a fixed seed:
 *   - every output of A within 1e-5 relative of B's: |a - b| <= 1e-5 max(|b|, FLOOR);
 *   - the same predicted class (argmax) for every sample.
 * With REPEATS > 0 it also times PREFIX_predict over the whole split, REPEATS times each,
 * alternating A and B, and prints the median samples/s of each (bench/bench_fold.sh).
 *   compare_inference PREFIX A.so B.so FLOOR DATA [REPEATS]
 * Exit status 0 when both checks hold.
 */
#include "../../runtime/dlrt.h"
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int (*predict_fn)(const float *input, int n, float *output);
typedef long (*size_fn)(void);

/* one inference C file, loaded */
typedef struct model {
    const char *path;    /* the shared object */
    predict_fn predict;  /* PREFIX_predict */
    long in_size;        /* PREFIX_input_size() */
    long out_size;       /* PREFIX_output_size() */
    float *out;          /* its outputs for the whole split */
} model;

static int load(model *m, const char *path, const char *prefix) {
    char sym[256];
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) return fprintf(stderr, "compare_inference: %s\n", dlerror()), 1;
    snprintf(sym, sizeof sym, "%s_predict", prefix);
    *(void **)&m->predict = dlsym(h, sym);
    snprintf(sym, sizeof sym, "%s_output_size", prefix);
    size_fn out_size, in_size;
    *(void **)&out_size = dlsym(h, sym);
    snprintf(sym, sizeof sym, "%s_input_size", prefix);
    *(void **)&in_size = dlsym(h, sym);
    if (!m->predict || !out_size || !in_size)
        return fprintf(stderr, "compare_inference: %s: no %s_predict\n", path, prefix), 1;
    m->path = path;
    m->in_size = in_size();
    m->out_size = out_size();
    return 0;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* runs predict over the split, timed; returns samples/s */
static double run(model *m, const dlrt_dataset *ds) {
    double t0 = now();
    if (m->predict(ds->x, (int)ds->n, m->out) != 0) {
        fprintf(stderr, "compare_inference: %s: predict failed\n", m->path);
        exit(1);
    }
    return (double)ds->n / (now() - t0);
}

static int argmax(const float *row, long cols) {
    int best = 0;
    for (int j = 1; j < cols; j++)
        if (row[j] > row[best]) best = j;
    return best;
}

static int compare(const model *a, const model *b, const dlrt_dataset *ds, double floor_) {
    long cols = a->out_size;
    double worst = 0, worst_abs = 0, at_value = 0, largest = 0;
    long long bad = 0, differ = 0;
    for (int64_t k = 0; k < ds->n; k++) {
        const float *x = a->out + k * cols, *y = b->out + k * cols;
        for (long j = 0; j < cols; j++) {
            double d = fabs((double)x[j] - y[j]) / fmax(fabs((double)y[j]), floor_);
            if (d > worst) worst = d, at_value = y[j];
            worst_abs = fmax(worst_abs, fabs((double)x[j] - y[j]));
            largest = fmax(largest, fabs((double)y[j]));
            bad += !(d <= 1e-5);
        }
        differ += argmax(x, cols) != argmax(y, cols);
    }
    printf("%lld samples: largest relative difference %.3g (floor %g; at an output of %.3g), "
           "largest absolute difference %.3g (largest |output| %.3g), %lld outputs beyond 1e-5, "
           "%lld predictions differ\n", (long long)ds->n, worst, floor_, at_value, worst_abs,
           largest, bad, differ);
    return bad || differ;
}

/* REPEATS timed passes of each, alternating; prints the medians */
static void bench(model *m, const dlrt_dataset *ds, int repeats) {
    double *t[2] = {malloc(sizeof(double) * (size_t)repeats), malloc(sizeof(double) * (size_t)repeats)};
    for (int r = 0; r < repeats; r++)
        for (int k = 0; k < 2; k++) t[k][r] = run(&m[k], ds);
    for (int k = 0; k < 2; k++) {
        qsort(t[k], (size_t)repeats, sizeof(double), cmp_double);
        printf("%s: median %.0f samples/s (min %.0f, max %.0f) over %d passes of %lld samples\n",
               m[k].path, t[k][repeats / 2], t[k][0], t[k][repeats - 1], repeats,
               (long long)ds->n);
        free(t[k]);
    }
}

/* N samples of `size` values from [-2, 2) (a 64-bit LCG, fixed seed) */
static void random_data(dlrt_dataset *ds, int64_t n, long size) {
    memset(ds, 0, sizeof *ds);
    ds->n = n;
    ds->sample_size = size;
    ds->x = malloc(sizeof(float) * (size_t)(n * size + 1));
    uint64_t state = 42;
    for (int64_t i = 0; i < n * size; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        ds->x[i] = (float)((double)(state >> 11) / 9007199254740992.0 * 4 - 2);
    }
}

static int open_data(const char *data, long in_size, dlrt_dataset *ds) {
    char err[1024];
    if (strcmp(data, "mnist") != 0 && strcmp(data, "fashion-mnist") != 0) {
        random_data(ds, atoll(data), in_size);
        return ds->n > 0 ? 0 : (fprintf(stderr, "compare_inference: bad DATA '%s'\n", data), 1);
    }
    dlrt_data_spec spec = {.name = data, .dir = dlrt_data_dir(NULL, DLC_DEFAULT_DATA_DIR)};
    if (dlrt_dataset_open(&spec, "test", ds, err, sizeof err))
        return fprintf(stderr, "compare_inference: %s\n", err), 1;
    if (ds->sample_size != in_size)
        return fprintf(stderr, "compare_inference: the model does not read %s images\n", data), 1;
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: compare_inference PREFIX A.so B.so FLOOR DATA [REPEATS]\n");
        return 2;
    }
    model m[2];
    memset(m, 0, sizeof m);
    if (load(&m[0], argv[2], argv[1]) || load(&m[1], argv[3], argv[1])) return 1;
    if (m[0].out_size != m[1].out_size || m[0].in_size != m[1].in_size)
        return fprintf(stderr, "compare_inference: input or output sizes differ\n"), 1;
    dlrt_dataset test;
    if (open_data(argv[5], m[0].in_size, &test)) return 1;
    for (int k = 0; k < 2; k++) {
        m[k].out = malloc(sizeof(float) * (size_t)(test.n * m[k].out_size));
        run(&m[k], &test);
    }
    int status = compare(&m[0], &m[1], &test, atof(argv[4]));
    if (argc == 7 && atoi(argv[6]) > 0) bench(m, &test, atoi(argv[6]));
    for (int k = 0; k < 2; k++) free(m[k].out);
    dlrt_dataset_free(&test);
    return status;
}
