/*
 * compare_inference.c — the two inference C files of one model, folded (dlc --weights, the
 * default) and unfolded (--no-fold), each compiled into a shared object, against each other
 * and against the exact outputs on DATA: "mnist" or "fashion-mnist", the whole test split of
 * that dataset (raw pixels, as the inference C takes them), or a count N of samples drawn
 * uniformly from [-2, 2) with a fixed seed. MODEL.dl and WEIGHTS (what the C files were
 * generated from) give both inference graphs, evaluated in double with a bound per output on
 * how far any f32 evaluation may lie from the exact value (error_bound.c: gamma(K) sum |w| |x|
 * through the layers, for any GEMM kernel; the folded tensors' own rounding included, so both
 * graphs' bounds are distances to the same exact function):
 *   - every output of A within its bound e_A of the folded graph's value, of B within e_B of
 *     the unfolded one's, so |a - b| <= e_A + e_B;
 *   - a predicted class (argmax) may differ only where the bound allows it: for classes i (A)
 *     and j (B), b_j - b_i <= (e_A + e_B)_i + (e_A + e_B)_j.
 * With REPEATS > 0 it also times PREFIX_predict over the whole split, REPEATS times each,
 * alternating A and B, and prints the median samples/s of each (bench/bench_fold.sh).
 *   compare_inference PREFIX A.so B.so MODEL.dl WEIGHTS DATA [REPEATS]
 * Exit status 0 when both checks hold.
 */
#include "../../driver/driver.h"
#include "error_bound.h"
#include "../../runtime/dlrt.h"
#include "../../runtime/dlrt_weights.h"
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

/* the folded (k = 0) and unfolded (k = 1) graphs' exact outputs and bounds */
typedef struct exact {
    dlrt_weights w; /* the weights file */
    dlc_unit u[2];  /* the inference graphs */
    double *v[2];   /* values */
    double *e[2];   /* bounds on |f32 - v| */
} exact;

static int evaluate(exact *x, const char *dl, const char *weights, const dlrt_dataset *ds) {
    char err[1024];
    long long cols;
    if (dlrt_weights_read(weights, &x->w, err, sizeof err))
        return fprintf(stderr, "compare_inference: %s\n", err), 1;
    for (int k = 0; k < 2; k++) {
        static dlc_options o;
        o.input = dl, o.quiet = 1, o.no_fold = k;
        if (dlc_compile_inference(&x->u[k], &o, &x->w))
            return fprintf(stderr, "compare_inference: cannot compile %s\n", dl), 1;
        size_t n = (size_t)(ds->n * eb_output_size(x->u[k].g));
        x->v[k] = malloc(sizeof(double) * n);
        x->e[k] = malloc(sizeof(double) * n);
        if (eb_evaluate(x->u[k].g, x->u[k].g->weights, ds->x, ds->n, x->v[k], x->e[k], &cols, err,
                        sizeof err))
            return fprintf(stderr, "compare_inference: %s\n", err), 1;
    }
    return 0;
}

/* what compare found */
typedef struct tally {
    double worst[2];    /* largest |a - v_A| / e_A, |b - v_B| / e_B */
    double worst_diff;  /* largest |a - b| / (e_A + e_B) */
    double at_bound;    /* e_A + e_B there */
    double worst_abs;   /* largest |a - b| */
    double largest;     /* largest |b| */
    long long beyond;   /* outputs beyond their bound */
    long long differ;   /* samples whose predicted classes differ */
    long long bad;      /* ... where the bound rules that out */
} tally;

static void compare_sample(const float *a, const float *b, const double *const v[2],
                           const double *const e[2], long cols, tally *t) {
    for (long j = 0; j < cols; j++) {
        double d = fabs((double)a[j] - b[j]), bound = e[0][j] + e[1][j];
        double ra = fabs((double)a[j] - v[0][j]) / e[0][j], rb = fabs((double)b[j] - v[1][j]) / e[1][j];
        t->beyond += !(ra <= 1) + !(rb <= 1);
        t->worst[0] = fmax(t->worst[0], ra);
        t->worst[1] = fmax(t->worst[1], rb);
        if (d / bound > t->worst_diff) t->worst_diff = d / bound, t->at_bound = bound;
        t->worst_abs = fmax(t->worst_abs, d);
        t->largest = fmax(t->largest, fabs((double)b[j]));
    }
    int i = argmax(a, cols), j = argmax(b, cols);
    if (i != j) {
        t->differ++;
        t->bad += !((double)b[j] - b[i] <= e[0][i] + e[1][i] + e[0][j] + e[1][j]);
    }
}

static int compare(const model *a, const model *b, const dlrt_dataset *ds, const exact *x) {
    long cols = a->out_size;
    tally t;
    memset(&t, 0, sizeof t);
    for (int64_t k = 0; k < ds->n; k++) {
        const double *v[2] = {x->v[0] + k * cols, x->v[1] + k * cols};
        const double *e[2] = {x->e[0] + k * cols, x->e[1] + k * cols};
        compare_sample(a->out + k * cols, b->out + k * cols, v, e, cols, &t);
    }
    printf("%lld samples: folded within %.3g of its bound, unfolded within %.3g of its bound;\n"
           "  |folded - unfolded| at most %.3g of the derived bound (at a bound of %.3g), largest "
           "%.3g absolute (largest |output| %.3g); %lld outputs beyond their bound, %lld "
           "predictions differ (%lld beyond the bound's margin)\n", (long long)ds->n, t.worst[0],
           t.worst[1], t.worst_diff, t.at_bound, t.worst_abs, t.largest, t.beyond, t.differ, t.bad);
    return t.beyond || t.bad;
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
    if (argc != 7 && argc != 8) {
        fprintf(stderr, "usage: compare_inference PREFIX A.so B.so MODEL.dl WEIGHTS DATA [REPEATS]\n");
        return 2;
    }
    model m[2];
    memset(m, 0, sizeof m);
    if (load(&m[0], argv[2], argv[1]) || load(&m[1], argv[3], argv[1])) return 1;
    if (m[0].out_size != m[1].out_size || m[0].in_size != m[1].in_size)
        return fprintf(stderr, "compare_inference: input or output sizes differ\n"), 1;
    dlrt_dataset test;
    exact x;
    memset(&x, 0, sizeof x);
    if (open_data(argv[6], m[0].in_size, &test) || evaluate(&x, argv[4], argv[5], &test)) return 1;
    for (int k = 0; k < 2; k++) {
        m[k].out = malloc(sizeof(float) * (size_t)(test.n * m[k].out_size));
        run(&m[k], &test);
    }
    int status = compare(&m[0], &m[1], &test, &x);
    if (argc == 8 && atoi(argv[7]) > 0) bench(m, &test, atoi(argv[7]));
    for (int k = 0; k < 2; k++) {
        free(m[k].out);
        free(x.v[k]);
        free(x.e[k]);
        dlc_unit_free(&x.u[k]);
    }
    dlrt_weights_free(&x.w);
    dlrt_dataset_free(&test);
    return status;
}
