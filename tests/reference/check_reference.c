/*
 * check_reference.c — compares dlc with PyTorch on stored reference values. Each JSON file
 * named on the command line (written by tools/torch_reference.py) holds cases; for each, the
 * case's .dl source is compiled by dlc into float32 C, built and loaded as `dlc --run` does,
 * the stored parameters and inputs are set, and what dlc computes is compared with PyTorch:
 *   eval cases:  the model's output (its last value), the loss and the gradient of the loss
 *                with respect to every parameter (compiled without the update, gradients
 *                exposed as outputs, as for --gradcheck);
 *   train cases: `steps` optimizer steps, one per epoch, at the learning rate the train
 *                block's schedule gives (as the runtime's training loop feeds it): each step's
 *                learning rate and loss, and every parameter (or buffer: batchnorm's running
 *                statistics) in its trajectory after each step; with "eval_output", the
 *                model's output from the evaluation step after the last one.
 * Eval cases compute gradients, so batchnorm in them normalizes with the batch's statistics
 * (as training does; cg_c_options.batch_stats).
 * A value passes when |dlc - torch| <= rtol * max(|torch|, floor), with the case's tolerance;
 * a tolerance looser than rtol 1e-5 must say why (its "reason"). The floor is the scale of the
 * terms a value is formed from, since rounding leaves an absolute error at that scale however
 * small the result (gamma(n) sum |terms|): 0.01 by default, rtol * floor = 1e-7, two f32
 * roundings at the scale ~1 the cases are generated at; larger where the terms are
 * (tools/torch_reference.py states each). It must hold for every GEMM kernel OpenBLAS may
 * pick (tools/numeric_kernels.sh runs these under each). Prints one line per case and
 * the worst relative error of each file, and "N passed, M failed"; the exit status is 1 when
 * any case failed.
 */
#include "../../codegen/cg_c.h"
#include "../../driver/driver.h"
#include <dlfcn.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double STRICT_RTOL = 1e-5; /* the criterion; looser needs a reason */
enum { MAX_INPUTS = 64, MAX_SCALARS = 16 }; /* more than any reference model has */

typedef struct verdict {
    double rtol, floor;   /* the case's tolerance */
    double worst;         /* largest |dlc - torch| / (rtol * max(|torch|, floor)); <= 1 passes */
    double worst_rel;     /* largest |dlc - torch| / max(|torch|, floor): the relative error */
    char worst_at[256];   /* the value where `worst` was seen */
    long long n_bad;      /* values out of tolerance */
    char problem[512];    /* why the case could not be checked ("" if it could) */
} verdict;

typedef struct loaded {
    dlc_unit u;                /* the compiled case */
    void *handle;              /* the loaded shared object */
    dlrt_session s;            /* its weights and arena */
    const void *inputs[MAX_INPUTS]; /* input buffers by index (malloc'd) */
    int n;                     /* samples fed: the model's batch */
} loaded;

/* records the first reason the case cannot be checked */
__attribute__((format(printf, 2, 3)))
static void problem(verdict *v, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (!v->problem[0]) vsnprintf(v->problem, sizeof v->problem, fmt, ap);
    va_end(ap);
}

static void check_value(verdict *v, const char *what, long long i, double got, double want) {
    double rel = fabs(got - want) / fmax(fabs(want), v->floor), ratio = rel / v->rtol;
    if (isnan(ratio)) ratio = rel = INFINITY;
    if (ratio > 1) v->n_bad++;
    if (rel > v->worst_rel) v->worst_rel = rel;
    if (ratio > v->worst || !v->worst_at[0]) {
        v->worst = ratio;
        snprintf(v->worst_at, sizeof v->worst_at, "%s[%lld]: dlc %.9g, torch %.9g", what, i, got, want);
    }
}

static long long numel(const dlrt_tensor_desc *t, int n) {
    long long count = t->batched ? n : t->dims[0];
    for (int i = 1; i < t->rank; i++) count *= t->dims[i];
    return t->rank ? count : 1;
}

/* the reference array `want` holds `count` numbers, else a problem naming `what` */
static int sized(verdict *v, json_object *want, long long count, const char *what) {
    if (json_object_is_type(want, json_type_array) && (long long)json_object_array_length(want) == count)
        return 1;
    problem(v, "%s: the reference does not hold %lld numbers", what, count);
    return 0;
}

static void check_array(verdict *v, const char *what, const float *got, long long count,
                        json_object *want) {
    if (!sized(v, want, count, what)) return;
    for (long long i = 0; i < count; i++)
        check_value(v, what, i, got[i], json_object_get_double(json_object_array_get_idx(want, (size_t)i)));
}

static json_object *member(verdict *v, json_object *obj, const char *key) {
    json_object *out = NULL;
    if (!json_object_object_get_ex(obj, key, &out)) problem(v, "the case has no \"%s\"", key);
    return out;
}

/* parameters from the case's "params": every model parameter, and nothing else */
static void set_params(verdict *v, loaded *L, json_object *params) {
    const dlrt_model_desc *m = L->s.model;
    for (int i = 0; i < m->n_tensors; i++) {
        const dlrt_tensor_desc *t = &m->tensors[i];
        json_object *vals;
        if (t->kind != DLRT_PARAM) continue;
        if (!json_object_object_get_ex(params, t->name, &vals)) {
            problem(v, "parameter %s has no reference value", t->name);
            continue;
        }
        if (!sized(v, vals, numel(t, 1), t->name)) continue;
        float *w = (float *)L->s.weights + t->offset;
        for (long long j = 0; j < numel(t, 1); j++)
            w[j] = (float)json_object_get_double(json_object_array_get_idx(vals, (size_t)j));
    }
    json_object_object_foreach(params, name, vals) {
        (void)vals;
        if (!dlrt_find_tensor(m, DLRT_PARAM, name))
            problem(v, "the reference sets parameter %s, which the model does not have", name);
    }
}

/* inputs from the case's "inputs", n = the model's batch samples each */
static void set_inputs(verdict *v, loaded *L, json_object *inputs) {
    const dlrt_model_desc *m = L->s.model;
    for (int i = 0; i < m->n_tensors; i++) {
        const dlrt_tensor_desc *t = &m->tensors[i];
        json_object *vals;
        if (t->kind != DLRT_INPUT) continue;
        if (!json_object_object_get_ex(inputs, t->name, &vals)) {
            problem(v, "input %s has no reference value", t->name);
            continue;
        }
        long long count = numel(t, L->n);
        if (!sized(v, vals, count, t->name)) continue;
        if (t->index >= MAX_INPUTS) {
            problem(v, "the model has more than %d inputs", MAX_INPUTS);
            continue;
        }
        void *buf = malloc(4 * (size_t)count);
        for (long long j = 0; buf && j < count; j++) {
            json_object *x = json_object_array_get_idx(vals, (size_t)j);
            if (t->dtype == DLRT_I32) ((int *)buf)[j] = json_object_get_int(x);
            else ((float *)buf)[j] = (float)json_object_get_double(x);
        }
        L->inputs[t->index] = buf;
    }
}

/* compile the source (with or without the update), build, load, set params and inputs */
static int load(verdict *v, loaded *L, const char *name, json_object *c, int eval) {
    dlc_options o = {.input = name, .quiet = 1};
    json_object *src = member(v, c, "source"), *params = member(v, c, "params");
    json_object *inputs = member(v, c, "inputs");
    if (!src || !params || !inputs) return 0;
    if (dlc_compile_text(&L->u, &o, json_object_get_string(src), eval) || L->u.d.n_errors) {
        problem(v, "dlc does not compile the source (diagnostics above)");
        return 0;
    }
    cg_c_options co = {.prefix = L->u.cfg.model, .f64 = 0, .has_train = !eval, .batch_stats = eval};
    mem_options mo = {.real_bytes = 4, .reuse = 1, .workspace = cg_c_workspace_reals};
    mem_plan plan; /* f32 also for the gradient-check graph (whose own plan is f64) */
    pass_memplan_build(L->u.g, &L->u.sched, &mo, &L->u.a, &plan);
    const dlrt_model_desc *m = dlc_build_and_load(cg_c_generate(L->u.g, &co, &plan, &L->u.a),
                                                  L->u.cfg.model, &o, &L->handle);
    char err[512];
    if (!m || dlrt_session_init(&L->s, m, 0, err, sizeof err)) {
        problem(v, "the generated code does not build or load");
        return 0;
    }
    L->n = m->max_batch;
    set_params(v, L, params);
    set_inputs(v, L, inputs);
    return !v->problem[0];
}

static void unload(loaded *L) {
    for (int i = 0; i < MAX_INPUTS; i++) free((void *)L->inputs[i]);
    if (L->s.model) dlrt_session_free(&L->s);
    if (L->handle) dlclose(L->handle);
    dlc_unit_free(&L->u);
}

static const float *arena_at(const loaded *L, const dlrt_tensor_desc *t) {
    return (const float *)((const char *)L->s.arena + t->offset);
}

/* output, loss and every parameter's gradient */
static void run_eval(verdict *v, loaded *L, json_object *c) {
    const dlrt_model_desc *m = L->s.model;
    double loss;
    m->eval_step(L->s.weights, L->s.arena, L->inputs, L->n, NULL, &loss);
    const dlrt_tensor_desc *out = dlrt_find_tensor(m, DLRT_OUTPUT, NULL);
    json_object *want_out = member(v, c, "output"), *want_loss = member(v, c, "loss");
    json_object *grads = member(v, c, "grads");
    if (!want_out || !want_loss || !grads) return;
    check_array(v, "output", arena_at(L, out), numel(out, L->n), want_out);
    check_value(v, "loss", 0, loss, json_object_get_double(want_loss));
    json_object_object_foreach(grads, name, want) {
        const dlrt_tensor_desc *g = dlc_gradient_output(L->u.g, m, name);
        char what[160];
        snprintf(what, sizeof what, "grad %s", name);
        if (!g) problem(v, "dlc computes no gradient for %s", name);
        else check_array(v, what, arena_at(L, g), numel(g, L->n), want);
    }
}

/* one step: the scheduled lr, the loss, then every parameter after the update */
static void train_step(verdict *v, loaded *L, int step, json_object *c, const dlrt_schedule *sched) {
    const dlrt_model_desc *m = L->s.model;
    double lr = dlrt_schedule_lr(sched, step - 1, L->u.cfg.epochs), scalars[MAX_SCALARS], loss;
    char what[160];
    json_object *lrs = member(v, c, "lr"), *losses = member(v, c, "losses");
    json_object *traj = member(v, c, "trajectory");
    if (!lrs || !losses || !traj) return;
    if (m->n_scalars > MAX_SCALARS) {
        problem(v, "the model has more than %d step scalars", MAX_SCALARS);
        return;
    }
    snprintf(what, sizeof what, "step %d lr", step);
    check_value(v, what, 0, lr, json_object_get_double(json_object_array_get_idx(lrs, (size_t)step - 1)));
    dlrt_step_scalars(m, L->u.cfg.seed, step, lr, scalars);
    m->train_step(L->s.weights, L->s.arena, L->inputs, L->n, scalars, &loss);
    snprintf(what, sizeof what, "step %d loss", step);
    check_value(v, what, 0, loss, json_object_get_double(json_object_array_get_idx(losses, (size_t)step - 1)));
    json_object *after = json_object_array_get_idx(traj, (size_t)step - 1);
    json_object_object_foreach(after, name, want) {
        const dlrt_tensor_desc *p = dlrt_find_tensor(m, DLRT_PARAM, name);
        if (!p) p = dlrt_find_tensor(m, DLRT_BUFFER, name); /* running statistics */
        snprintf(what, sizeof what, "step %d %s", step, name);
        if (!p) problem(v, "the model has no parameter or buffer %s", name);
        else check_array(v, what, (const float *)L->s.weights + p->offset, numel(p, 1), want);
    }
}

static void run_train(verdict *v, loaded *L, json_object *c) {
    json_object *steps = member(v, c, "steps"), *lrs = member(v, c, "lr");
    json_object *losses = member(v, c, "losses"), *traj = member(v, c, "trajectory");
    if (!steps || !lrs || !losses || !traj) return;
    int n = json_object_get_int(steps);
    if (!sized(v, lrs, n, "lr") || !sized(v, losses, n, "losses") || !sized(v, traj, n, "trajectory"))
        return;
    if (!L->s.model->train_step) {
        problem(v, "the model has no training step");
        return;
    }
    dlrt_schedule sched = dlc_schedule(&L->u.cfg);
    for (int step = 1; step <= n && !v->problem[0]; step++) train_step(v, L, step, c, &sched);
    json_object *want = NULL;
    if (v->problem[0] || !json_object_object_get_ex(c, "eval_output", &want)) return;
    double loss;
    const dlrt_model_desc *m = L->s.model;
    m->eval_step(L->s.weights, L->s.arena, L->inputs, L->n, NULL, &loss);
    const dlrt_tensor_desc *out = dlrt_find_tensor(m, DLRT_OUTPUT, NULL);
    check_array(v, "eval output", arena_at(L, out), numel(out, L->n), want);
}

static void read_tolerance(verdict *v, json_object *c) {
    json_object *t = member(v, c, "tolerance"), *rtol = NULL, *floor = NULL, *reason = NULL;
    if (!t) return;
    json_object_object_get_ex(t, "rtol", &rtol);
    json_object_object_get_ex(t, "floor", &floor);
    json_object_object_get_ex(t, "reason", &reason);
    v->rtol = rtol ? json_object_get_double(rtol) : 0;
    v->floor = floor ? json_object_get_double(floor) : 0;
    if (!(v->rtol > 0) || !(v->floor > 0))
        problem(v, "the tolerance needs rtol > 0 and floor > 0");
    else if (v->rtol > STRICT_RTOL && !reason)
        problem(v, "rtol is looser than 1e-5 but the tolerance states no reason");
}

typedef struct worst_case {
    double rel;      /* the largest relative error among the passing cases */
    char name[128];  /* the case it was seen in */
} worst_case;

/* returns 1 when the case passed; prints its line and updates the file's worst case */
static int run_case(json_object *c, worst_case *file_worst) {
    json_object *jn = NULL, *jk = NULL;
    json_object_object_get_ex(c, "name", &jn);
    json_object_object_get_ex(c, "kind", &jk);
    const char *name = jn ? json_object_get_string(jn) : "?", *kind = jk ? json_object_get_string(jk) : "";
    verdict v = {.worst = 0};
    read_tolerance(&v, c);
    int eval = strcmp(kind, "eval") == 0;
    if (!eval && strcmp(kind, "train") != 0) problem(&v, "unknown case kind '%s'", kind);
    loaded L;
    memset(&L, 0, sizeof L);
    if (!v.problem[0] && load(&v, &L, name, c, eval)) {
        if (eval) run_eval(&v, &L, c);
        else run_train(&v, &L, c);
    }
    unload(&L);
    int ok = !v.problem[0] && v.n_bad == 0;
    if (v.problem[0]) printf("FAIL  %-32s %s\n", name, v.problem);
    else if (!ok) printf("FAIL  %-32s %lld values out of tolerance (rtol %g, floor %g); worst %s\n",
                         name, v.n_bad, v.rtol, v.floor, v.worst_at);
    else printf("ok    %-32s rel. error %.1e, %5.1f%% of tolerance, worst at %s\n", name,
                v.worst_rel, 100 * v.worst, v.worst_at);
    if (ok && v.worst_rel > file_worst->rel) {
        file_worst->rel = v.worst_rel;
        snprintf(file_worst->name, sizeof file_worst->name, "%s", name);
    }
    return ok;
}

int main(int argc, char **argv) {
    int passed = 0, failed = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: check_reference FILE.json...\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        json_object *doc = json_object_from_file(argv[i]), *cases = NULL;
        if (!doc || !json_object_object_get_ex(doc, "cases", &cases) ||
            !json_object_is_type(cases, json_type_array)) {
            printf("FAIL  %s: not a reference file (no \"cases\" list)\n", argv[i]);
            failed++;
            json_object_put(doc);
            continue;
        }
        printf("%s\n", argv[i]);
        worst_case file_worst = {.rel = 0};
        for (size_t k = 0; k < json_object_array_length(cases); k++) {
            if (run_case(json_object_array_get_idx(cases, k), &file_worst)) passed++;
            else failed++;
        }
        printf("worst relative error in %s: %.1e (%s)\n", argv[i], file_worst.rel,
               file_worst.name[0] ? file_worst.name : "no passing case");
        json_object_put(doc);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
