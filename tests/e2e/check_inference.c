/*
 * check_inference.c — the inference C file reproduces the trained model. For MODEL.dl, its
 * weights file (dlc --run --save-weights) and the inference C compiled into a shared object
 * (dlc --weights ... -o), this program:
 *   - builds the model's training C as dlc --run does and loads the weights into a session;
 *   - evaluates the test split with eval_step on inputs normalised as the training run did
 *     (the statistics from the weights file), max_batch samples at a time;
 *   - runs PREFIX_predict of the inference C on the raw test split, all samples in one call;
 *   - checks every output within 1e-5 relative (|a - b| <= 1e-5 max(|b|, 1e-3)), the same
 *     predicted class for every sample, and the accuracy equal to EXPECTED (the training run's
 *     test accuracy, from its report).
 *   check_inference MODEL.dl WEIGHTS INFER.so EXPECTED_ACCURACY
 */
#include "../../codegen/cg_c.h"
#include "../../driver/driver.h"
#include "../../runtime/dlrt_weights.h"
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*predict_fn)(const float *input, int n, float *output);

/* everything the comparison reads */
typedef struct setup {
    dlc_unit u;                 /* the compiled model */
    const dlrt_model_desc *m;   /* its training C, loaded */
    dlrt_session s;             /* with the saved weights */
    dlrt_weights w;             /* the weights file */
    dlrt_dataset test;          /* the raw test split */
    predict_fn predict;         /* the inference C */
} setup;

static int fail(const char *what, const char *detail) {
    fprintf(stderr, "check_inference: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    return 1;
}

static int load(setup *st, char **argv) {
    static dlc_options o;
    o.input = argv[1];
    o.quiet = 1;
    char err[1024];
    if (dlc_compile(&st->u, &o, 0)) return fail("cannot compile", argv[1]);
    cg_c_options co = {.prefix = st->u.cfg.model, .has_train = 1};
    const char *src = cg_c_generate(st->u.g, &co, &st->u.a);
    void *handle = NULL, *infer = dlopen(argv[3], RTLD_NOW | RTLD_LOCAL);
    st->m = dlc_build_and_load(src, st->u.cfg.model, &o, &handle);
    if (!st->m || !infer) return fail("cannot load", infer ? argv[1] : dlerror());
    char sym[256];
    snprintf(sym, sizeof sym, "%s_predict", st->u.cfg.model);
    *(void **)&st->predict = dlsym(infer, sym);
    if (!st->predict) return fail("no symbol", sym);
    dlrt_data_spec data = {.name = st->u.cfg.dataset,
                           .dir = dlrt_data_dir(NULL, DLC_DEFAULT_DATA_DIR)};
    if (dlrt_weights_read(argv[2], &st->w, err, sizeof err) ||
        dlrt_session_init(&st->s, st->m, 1, err, sizeof err) ||
        dlrt_weights_apply(&st->w, &st->s, err, sizeof err) ||
        dlrt_dataset_open(&data, "test", &st->test, err, sizeof err))
        return fail(err, NULL);
    return 0;
}

/* eval_step's outputs for the whole test split, inputs normalised with the saved statistics */
static float *reference(setup *st) {
    const dlrt_model_desc *m = st->m;
    const dlrt_dataset *ds = &st->test;
    char name[256];
    const dlrt_weight *norm = dlrt_weights_find(
        &st->w, dlrt_normalize_tensor_name(st->u.cfg.feature_input, name, sizeof name));
    double shift = norm ? ((const double *)norm->data)[0] : 0, scale = norm ? ((const double *)norm->data)[1] : 1;
    const dlrt_tensor_desc *out = dlrt_find_tensor(m, DLRT_OUTPUT, NULL);
    const dlrt_tensor_desc *xin = dlrt_find_tensor(m, DLRT_INPUT, st->u.cfg.feature_input);
    const dlrt_tensor_desc *yin = dlrt_find_tensor(m, DLRT_INPUT, st->u.cfg.target_input);
    long long cols = out->dims[1], inner = ds->sample_size;
    float *result = malloc(sizeof(float) * (size_t)(ds->n * cols));
    float *x = malloc(sizeof(float) * (size_t)(m->max_batch * inner));
    const void *inputs[16] = {0};
    for (int64_t at = 0; at < ds->n; at += m->max_batch) {
        int bn = (int)(ds->n - at < m->max_batch ? ds->n - at : m->max_batch);
        for (long long i = 0; i < bn * inner; i++)
            x[i] = (float)((ds->x[at * inner + i] - shift) / scale); /* as dlrt_normalize */
        inputs[xin->index] = x;
        inputs[yin->index] = ds->y + at;
        double loss;
        m->eval_step(st->s.weights, st->s.arena, inputs, bn, &loss);
        memcpy(result + at * cols, (const char *)st->s.arena + out->offset,
               sizeof(float) * (size_t)(bn * cols));
    }
    free(x);
    return result;
}

static int argmax(const float *row, long long cols) {
    int best = 0;
    for (int j = 1; j < cols; j++)
        if (row[j] > row[best]) best = j;
    return best;
}

static int compare(const setup *st, const float *ref, const float *got, double expected) {
    const dlrt_dataset *ds = &st->test;
    long long cols = dlrt_find_tensor(st->m, DLRT_OUTPUT, NULL)->dims[1];
    double worst = 0;
    long long bad = 0, differ = 0, correct = 0;
    for (int64_t k = 0; k < ds->n; k++) {
        const float *a = got + k * cols, *b = ref + k * cols;
        for (long long j = 0; j < cols; j++) {
            double d = fabs((double)a[j] - b[j]) / fmax(fabs((double)b[j]), 1e-3);
            worst = fmax(worst, d);
            bad += !(d <= 1e-5);
        }
        differ += argmax(a, cols) != argmax(b, cols);
        correct += argmax(a, cols) == ds->y[k];
    }
    double acc = (double)correct / (double)ds->n;
    printf("%lld samples: largest relative difference %.3g, %lld outputs beyond 1e-5, %lld "
           "predictions differ; accuracy %.4f (training run: %.4f)\n", (long long)ds->n, worst,
           bad, differ, acc, expected);
    return bad || differ || fabs(acc - expected) > 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 5) return fail("usage", "check_inference MODEL.dl WEIGHTS INFER.so EXPECTED_ACCURACY");
    setup st;
    memset(&st, 0, sizeof st);
    if (load(&st, argv)) return 1;
    float *ref = reference(&st);
    long long cols = dlrt_find_tensor(st.m, DLRT_OUTPUT, NULL)->dims[1];
    float *got = malloc(sizeof(float) * (size_t)(st.test.n * cols));
    if (st.predict(st.test.x, (int)st.test.n, got) != 0) return fail("predict failed", NULL);
    int status = compare(&st, ref, got, atof(argv[4]));
    printf(status ? "0 passed, 1 failed\n" : "1 passed, 0 failed\n");
    free(ref);
    free(got);
    dlrt_dataset_free(&st.test);
    dlrt_weights_free(&st.w);
    dlrt_session_free(&st.s);
    dlc_unit_free(&st.u);
    return status;
}
