/*
 * check_inference.c — the inference C file reproduces the trained model. For MODEL.dl, its
 * weights file (dlc --run --save-weights) and the inference C compiled into a shared object
 * (dlc --weights ... -o), this program:
 *   - builds the model's training C as dlc --run does and loads the weights into a session;
 *   - evaluates the test split (of a built-in dataset or the model's csv/npy/npz files) with
 *     eval_step on inputs normalised as the training run did (the statistics from the weights
 *     file: scalar or per feature), max_batch samples at a time;
 *   - runs PREFIX_predict of the inference C on the raw test split, all samples in one call;
 *   - evaluates the model's inference graph in double with, per output, a bound on how far any
 *     f32 evaluation may lie from it (error_bound.c: gamma(K) sum |w| |x| through the layers,
 *     for whatever kernels OpenBLAS picks on this CPU, or the built-in GEMM): the unfolded
 *     graph, which eval_step computes, and the graph INFER.so was generated from (folded
 *     unless --no-fold is given, as for dlc --weights);
 *   - checks every eval_step output within its bound e_U of the unfolded graph's value, every
 *     predict output within its bound e_A of its graph's, so |predict - eval_step| <= D = e_A +
 *     e_U (both bound the distance to the same exact function);
 *   - a predicted class may differ only where it can: on a sample whose predicted classes
 *     i (predict) and j (eval_step) differ, eval_step's margin b_j - b_i must be within
 *     D_i + D_j (predict's a_i >= a_j and |a - b| <= D allow no more); such samples, and every
 *     sample whose top two eval_step outputs are that close (a near-tie), are counted;
 *   - predict's test accuracy equal to EXPECTED (the training run's, from its report) within
 *     the near-ties: |correct - EXPECTED n| <= near-ties.
 *   check_inference MODEL.dl WEIGHTS INFER.so EXPECTED_ACCURACY [--no-fold]
 */
#include "../../codegen/cg_c.h"
#include "../../driver/driver.h"
#include "../../runtime/dlrt_weights.h"
#include "error_bound.h"
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
    dlc_unit iu[2];             /* inference graphs: [0] unfolded (eval_step's), [1] INFER.so's */
    int folded;                 /* INFER.so comes from the folded graph (no --no-fold) */
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
    const char *src = cg_c_generate(st->u.g, &co, st->u.plan[DLC_TARGET_C], &st->u.a);
    void *handle = NULL, *infer = dlopen(argv[3], RTLD_NOW | RTLD_LOCAL);
    st->m = dlc_build_and_load(src, st->u.cfg.model, &o, &handle);
    if (!st->m || !infer) return fail("cannot load", infer ? argv[1] : dlerror());
    char sym[256];
    snprintf(sym, sizeof sym, "%s_predict", st->u.cfg.model);
    *(void **)&st->predict = dlsym(infer, sym);
    if (!st->predict) return fail("no symbol", sym);
    dlrt_data_spec data = {.name = st->u.cfg.dataset, .seed = (uint64_t)st->u.cfg.seed,
                           .dir = dlrt_data_dir(NULL, DLC_DEFAULT_DATA_DIR)};
    dlc_table_spec(&st->u, argv[1], &data.table); /* csv, npy, npz: the model's files */
    if (dlrt_weights_read(argv[2], &st->w, err, sizeof err) ||
        dlrt_session_init(&st->s, st->m, 1, err, sizeof err) ||
        dlrt_weights_apply(&st->w, &st->s, err, sizeof err) ||
        dlrt_dataset_open(&data, "test", &st->test, err, sizeof err))
        return fail(err, NULL);
    for (int k = 0; k < 1 + st->folded; k++) {
        static dlc_options io;
        io = o;
        io.no_fold = k == 0;
        if (dlc_compile_inference(&st->iu[k], &io, &st->w))
            return fail("cannot compile the inference graph", argv[1]);
    }
    return 0;
}

/* eval_step's outputs for the whole test split, inputs normalised with the saved statistics */
static float *reference(setup *st) {
    const dlrt_model_desc *m = st->m;
    const dlrt_dataset *ds = &st->test;
    char name[256];
    const dlrt_weight *norm = dlrt_weights_find(
        &st->w, dlrt_normalize_tensor_name(st->u.cfg.feature_input, name, sizeof name));
    const double none[2] = {0, 1}, *stats = norm ? norm->data : none;
    long long per = norm && norm->rank == 2 ? norm->dims[1] : 0; /* per feature: F statistics */
    const dlrt_tensor_desc *out = dlrt_find_tensor(m, DLRT_OUTPUT, NULL);
    const dlrt_tensor_desc *xin = dlrt_find_tensor(m, DLRT_INPUT, st->u.cfg.feature_input);
    const dlrt_tensor_desc *yin = dlrt_find_tensor(m, DLRT_INPUT, st->u.cfg.target_input);
    long long cols = out->dims[1], inner = ds->sample_size;
    float *result = malloc(sizeof(float) * (size_t)(ds->n * cols));
    float *x = malloc(sizeof(float) * (size_t)(m->max_batch * inner));
    const void *inputs[16] = {0};
    for (int64_t at = 0; at < ds->n; at += m->max_batch) {
        int bn = (int)(ds->n - at < m->max_batch ? ds->n - at : m->max_batch);
        for (long long i = 0; i < bn * inner; i++) { /* as dlrt_norm_apply */
            long long f = per ? i % inner : 0;
            x[i] = (float)((ds->x[at * inner + i] - stats[f]) / stats[(per ? per : 1) + f]);
        }
        inputs[xin->index] = x;
        inputs[yin->index] = ds->y + at;
        double loss;
        m->eval_step(st->s.weights, st->s.arena, inputs, bn, NULL, &loss);
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

/* the exact values and bounds of graph k for the whole test split */
typedef struct bounds {
    double *v[2]; /* values: [0] unfolded graph, [1] INFER.so's graph */
    double *e[2]; /* bounds on |f32 - v| */
} bounds;

static int evaluate(setup *st, bounds *b) {
    char err[1024];
    long long cols;
    for (int k = 0; k < 2; k++) {
        if (k == 1 && !st->folded) {
            b->v[1] = b->v[0], b->e[1] = b->e[0];
            break;
        }
        size_t n = (size_t)(st->test.n * eb_output_size(st->iu[k].g));
        b->v[k] = malloc(sizeof(double) * n);
        b->e[k] = malloc(sizeof(double) * n);
        if (eb_evaluate(st->iu[k].g, st->iu[k].g->weights, st->test.x, st->test.n, b->v[k], b->e[k],
                        &cols, err, sizeof err))
            return fail(err, NULL);
    }
    return 0;
}

/* what compare found */
typedef struct tally {
    double worst_ref;    /* largest |eval_step - v_U| / e_U */
    double worst_pred;   /* largest |predict - v_A| / e_A */
    double worst_diff;   /* largest |predict - eval_step| / D */
    double worst_abs;    /* largest |predict - eval_step| */
    double at_bound;     /* D where worst_diff was found */
    long long beyond;    /* outputs beyond their bound (either side) */
    long long differ;    /* samples whose predicted classes differ */
    long long bad_differ;/* ... where the margin rules that out */
    long long ties;      /* samples whose top two eval_step outputs are within D */
    long long correct;   /* predict's correct predictions */
} tally;

/* second-largest entry of row (the runner-up to best) */
static int runner_up(const float *row, long long cols, int best) {
    int second = best == 0 ? 1 : 0;
    for (int j = 0; j < cols; j++)
        if (j != best && row[j] > row[second]) second = j;
    return second;
}

static void compare_sample(const float *a, const float *b, const double *const v[2],
                           const double *const e[2], long long cols, int label, tally *t) {
    for (long long j = 0; j < cols; j++) {
        double d = fabs((double)a[j] - b[j]), bound = e[0][j] + e[1][j];
        t->beyond += !(fabs((double)b[j] - v[0][j]) <= e[0][j]);
        t->beyond += !(fabs((double)a[j] - v[1][j]) <= e[1][j]);
        t->worst_ref = fmax(t->worst_ref, fabs((double)b[j] - v[0][j]) / e[0][j]);
        t->worst_pred = fmax(t->worst_pred, fabs((double)a[j] - v[1][j]) / e[1][j]);
        if (d / bound > t->worst_diff) t->worst_diff = d / bound, t->at_bound = bound;
        t->worst_abs = fmax(t->worst_abs, d);
    }
    int i = argmax(a, cols), j = argmax(b, cols), r = runner_up(b, cols, j);
    double tie = e[0][j] + e[1][j] + e[0][r] + e[1][r];
    t->ties += (double)b[j] - b[r] <= tie;
    if (i != j) {
        t->differ++;
        t->bad_differ += !((double)b[j] - b[i] <= e[0][i] + e[1][i] + e[0][j] + e[1][j]);
    }
    t->correct += i == label;
}

static int compare(const setup *st, const float *ref, const float *got, const bounds *bd,
                   double expected) {
    const dlrt_dataset *ds = &st->test;
    long long cols = dlrt_find_tensor(st->m, DLRT_OUTPUT, NULL)->dims[1];
    tally t;
    memset(&t, 0, sizeof t);
    for (int64_t k = 0; k < ds->n; k++) {
        const double *v[2] = {bd->v[0] + k * cols, bd->v[1] + k * cols};
        const double *e[2] = {bd->e[0] + k * cols, bd->e[1] + k * cols};
        compare_sample(got + k * cols, ref + k * cols, v, e, cols, ds->y[k], &t);
    }
    long long want = llround(expected * (double)ds->n);
    printf("%lld samples: eval_step within %.3g of its bound, predict within %.3g of its bound;\n"
           "  |predict - eval_step| at most %.3g of the derived bound (at a bound of %.3g), "
           "largest %.3g absolute; %lld outputs beyond their bound\n",
           (long long)ds->n, t.worst_ref, t.worst_pred, t.worst_diff, t.at_bound, t.worst_abs,
           t.beyond);
    printf("  %lld predictions differ (%lld beyond the bound's margin), %lld near-ties; "
           "accuracy %.4f (training run: %.4f; may differ by %lld samples)\n", t.differ,
           t.bad_differ, t.ties, (double)t.correct / (double)ds->n, expected, t.ties);
    return t.beyond || t.bad_differ || llabs(t.correct - want) > t.ties;
}

int main(int argc, char **argv) {
    if ((argc != 5 && argc != 6) || (argc == 6 && strcmp(argv[5], "--no-fold") != 0))
        return fail("usage", "check_inference MODEL.dl WEIGHTS INFER.so EXPECTED_ACCURACY [--no-fold]");
    setup st;
    memset(&st, 0, sizeof st);
    st.folded = argc == 5;
    bounds bd;
    memset(&bd, 0, sizeof bd);
    if (load(&st, argv) || evaluate(&st, &bd)) return 1;
    float *ref = reference(&st);
    long long cols = dlrt_find_tensor(st.m, DLRT_OUTPUT, NULL)->dims[1];
    float *got = malloc(sizeof(float) * (size_t)(st.test.n * cols));
    if (st.predict(st.test.x, (int)st.test.n, got) != 0) return fail("predict failed", NULL);
    int status = compare(&st, ref, got, &bd, atof(argv[4]));
    printf(status ? "0 passed, 1 failed\n" : "1 passed, 0 failed\n");
    free(ref);
    free(got);
    dlrt_dataset_free(&st.test);
    dlrt_weights_free(&st.w);
    dlrt_session_free(&st.s);
    dlc_unit_free(&st.u);
    for (int k = 0; k < 1 + st.folded; k++) {
        dlc_unit_free(&st.iu[k]);
        free(bd.v[k]);
        free(bd.e[k]);
    }
    return status;
}
