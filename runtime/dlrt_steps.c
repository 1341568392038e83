/*
 * dlrt_steps.c — the training loop of a train block with steps and phases (docs/language.md,
 * "Steps and phases"). Phases run in order, each over its own epochs. An epoch shuffles the
 * training part (or draws its tuples) as the plain loop does; an iteration gathers one batch
 * and calls each step of the phase in order, `repeat` times, on that batch. Each step has its
 * own learning-rate schedule over its phase's epochs and its own optimizer count ("NAME.lr",
 * "NAME.step"); the random ops' "step" counts every call of every step, so each call draws
 * afresh. Each step's loss is averaged over the epoch, over the validation part and the test
 * split (the eval step computes every step's loss); the test split is evaluated at the end of
 * every phase (report: test.phases), the last phase's being the run's. Metrics other than the
 * loss are measured on each training batch by the eval step after the iteration's updates.
 */
#include "dlrt_train_internal.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void dlrt_tr_step_losses(const dlrt_session *s, double *loss) {
    const dlrt_model_desc *m = s->model;
    for (int k = 0; k < m->n_steps && k < DLRT_MAX_STEPS; k++) {
        loss[k] = NAN;
        for (int i = 0; i < m->n_tensors; i++) {
            const dlrt_tensor_desc *t = &m->tensors[i];
            if (t->kind != DLRT_OUTPUT || t->index != m->steps[k].loss_output) continue;
            const char *at = (const char *)s->arena + t->offset;
            loss[k] = t->dtype == DLRT_F64 ? *(const double *)at : (double)*(const float *)at;
        }
    }
}

/* the model's step of each configured step: index into m->steps, or -1 */
static int model_step(const dlrt_model_desc *m, const char *name) {
    for (int k = 0; k < m->n_steps; k++)
        if (!strcmp(m->steps[k].name, name)) return k;
    return -1;
}

/* what each per-step scalar holds, worked out once from its name: "step" (the calls so far),
 * "seed", step k's "NAME.lr" or "NAME.step" (its own count), or nothing */
enum { SCALAR_ZERO, SCALAR_CALLS, SCALAR_SEED, SCALAR_LR, SCALAR_COUNT };
typedef struct scalar_role {
    int kind;  /* SCALAR_* */
    int step;  /* SCALAR_LR, SCALAR_COUNT: the configured step */
} scalar_role;

typedef struct step_run {
    run_state *r;
    const dlrt_train_opts *o;
    const dlrt_phase_opts *ph;
    int fn[DLRT_MAX_STEPS];        /* per configured step: its index in the model's steps */
    long long count[DLRT_MAX_STEPS]; /* per step: its calls so far (its optimizer's t) */
    long long calls;               /* calls of every step so far */
    scalar_role role[64];          /* per scalar index (the model has at most 64) */
    double scalars[64];
} step_run;

static scalar_role role_of(const dlrt_train_opts *o, const char *name) {
    if (!strcmp(name, "step")) return (scalar_role){SCALAR_CALLS, 0};
    if (!strcmp(name, "seed")) return (scalar_role){SCALAR_SEED, 0};
    for (int k = 0; k < o->n_steps; k++) {
        size_t len = strlen(o->steps[k].name);
        if (strncmp(name, o->steps[k].name, len) || name[len] != '.') continue;
        if (!strcmp(name + len + 1, "lr")) return (scalar_role){SCALAR_LR, k};
        if (!strcmp(name + len + 1, "step")) return (scalar_role){SCALAR_COUNT, k};
    }
    return (scalar_role){SCALAR_ZERO, 0};
}

static void find_roles(step_run *sr, const dlrt_model_desc *m) {
    for (int i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].kind == DLRT_SCALAR)
            sr->role[m->tensors[i].index] = role_of(sr->o, m->tensors[i].name);
}

/* the per-step scalars for a call: every step's lr (at its phase epoch) and count, the seed,
 * and the calls so far */
static void fill_scalars(step_run *sr, const double *lr) {
    for (int i = 0; i < sr->r->sess.model->n_scalars; i++) {
        const scalar_role *ro = &sr->role[i];
        sr->scalars[i] = ro->kind == SCALAR_CALLS ? (double)sr->calls
                       : ro->kind == SCALAR_SEED ? (double)sr->o->seed
                       : ro->kind == SCALAR_LR ? lr[ro->step]
                       : ro->kind == SCALAR_COUNT ? (double)sr->count[ro->step] : 0;
    }
}

/* one call of step k on the gathered batch; 0 after a non-finite loss (reported) */
static int call_step(step_run *sr, int k, const double *lr, int bn, long long epoch, double *loss) {
    dlrt_session *s = &sr->r->sess;
    sr->count[k]++;
    sr->calls++;
    s->step = sr->calls;
    fill_scalars(sr, lr);
    s->model->steps[sr->fn[k]].train(s->weights, s->arena, sr->r->train_b.inputs, bn, sr->scalars,
                                     loss);
    if (dlrt_tr_numerics_found(sr->o, &sr->r->report, epoch, sr->calls) || !isfinite(*loss)) {
        dlrt_tr_diverge(&sr->r->report, epoch, sr->calls, *loss);
        return 0;
    }
    return 1;
}

/* whether the metrics list asks for more than the loss: then each iteration measures them with
 * the eval step on its batch, after the steps' updates (the step functions compute their
 * losses only) */
static int measures_metrics(const dlrt_train_opts *o) {
    for (int i = 0; i < o->n_metrics; i++)
        if (o->metrics[i].kind != DLRT_METRIC_LOSS) return 1;
    return 0;
}

/* the eval step on the gathered batch, its metrics into t */
static void measure_batch(step_run *sr, totals *t, int bn, long long batch) {
    dlrt_session *s = &sr->r->sess;
    double loss, scalars[64];
    dlrt_eval_scalars(s->model, sr->o->seed, batch, scalars);
    s->model->eval_step(s->weights, s->arena, sr->r->train_b.inputs, bn, scalars, &loss);
    dlrt_tr_add_batch(t, &sr->r->train_b, sr->o, loss, bn);
}

/* one epoch of the phase: per step, its loss summed over its calls (weighted by batch size) */
static totals steps_epoch(step_run *sr, long long epoch, long long phase_epoch, int64_t *idx,
                          int64_t n) {
    const dlrt_train_opts *o = sr->o;
    const dlrt_phase_opts *ph = sr->ph;
    batcher *b = &sr->r->train_b;
    totals t;
    memset(&t, 0, sizeof t);
    long long calls_of[DLRT_MAX_STEPS] = {0};
    double lr[DLRT_MAX_STEPS] = {0};
    for (int k = 0; k < o->n_steps; k++)
        lr[k] = dlrt_schedule_lr(&o->steps[k].schedule, phase_epoch - 1, ph->epochs);
    const dlrt_sampler *pool = b->arity > 1 ? &sr->r->pool[0] : NULL;
    if (pool) dlrt_sampler_draw(pool, b->arity, o->tuples.same_share,
                                dlrt_sampler_key(o->seed, epoch, 0), n, idx);
    else dlrt_epoch_shuffle(idx, n, o->seed, epoch);
    int max = sr->r->sess.model->max_batch;
    for (int64_t at = 0; at < n; at += max) {
        int bn = (int)(n - at < max ? n - at : max);
        dlrt_tr_gather(b, idx + at * b->arity, bn, sr->r->aug.n_ops > 0 ? &sr->r->aug : NULL, epoch);
        for (int k = ph->first_step; k < ph->first_step + ph->n_steps; k++)
            for (long long rep = 0; rep < o->steps[k].repeat; rep++) {
                double loss;
                if (!call_step(sr, k, lr, bn, epoch, &loss)) return t;
                t.step_loss[k] += loss * bn;
                calls_of[k] += bn;
            }
        if (measures_metrics(o)) measure_batch(sr, &t, bn, at / max);
        else t.n += bn;
        if ((at / max) % 50 == 0) dlrt_tr_progress(o, epoch, at, n);
    }
    for (int k = 0; k < o->n_steps; k++)
        t.step_loss[k] = calls_of[k] ? t.step_loss[k] / (double)calls_of[k] : NAN;
    if (!o->quiet && isatty(STDERR_FILENO)) fprintf(stderr, "\r\033[K");
    return t;
}

void dlrt_tr_print_step_losses(const dlrt_train_opts *o, const dlrt_phase_opts *ph,
                               const char *prefix, const double *loss) {
    for (int k = ph->first_step; k < ph->first_step + ph->n_steps; k++) {
        char name[96];
        snprintf(name, sizeof name, "%s_loss", o->steps[k].name);
        dlrt_tr_print_value(prefix, name, loss[k]);
    }
}

static void print_steps_epoch(const dlrt_train_opts *o, const dlrt_phase_opts *ph,
                              const dlrt_epoch_record *e, long long phase_epoch, int val) {
    if (o->quiet) return;
    if (ph->name) printf("%s ", ph->name);
    printf("epoch %lld/%lld", phase_epoch, ph->epochs);
    dlrt_tr_print_step_losses(o, ph, "", e->step_loss);
    if (measures_metrics(o)) dlrt_tr_print_metrics(o, "", e->train_metrics, 1);
    if (val) dlrt_tr_print_step_losses(o, ph, "val_", e->val_step_loss);
    if (val) dlrt_tr_print_metrics(o, "val_", e->val_metrics, 1);
    printf("  %.0f samples/s  %.1fs\n", e->samples_per_sec, e->seconds);
    fflush(stdout);
}

/* the test split after phase p: its losses and metrics into the report's phase_test[p] */
static void phase_test(run_state *r, const dlrt_train_opts *o, int p) {
    totals t = dlrt_tr_test_totals(r, o);
    dlrt_phase_test *pt = &r->report.phase_test[p];
    pt->loss = t.loss / (double)t.n;
    pt->accuracy = dlrt_tr_metric_values(o, &t, pt->metrics);
    for (int k = 0; k < o->n_steps; k++) pt->step_loss[k] = t.step_loss[k] / (double)t.n;
    if (o->quiet || o->n_phases < 2) return;
    printf("%s test", o->phases[p].name ? o->phases[p].name : "");
    dlrt_tr_print_step_losses(o, &o->phases[p], "", pt->step_loss);
    dlrt_tr_print_metrics(o, "", pt->metrics, 0);
    printf("  (%lld samples)\n", t.n);
}

static void run_phase(step_run *sr, int p, int64_t n_val, long long *epoch) {
    run_state *r = sr->r;
    const dlrt_train_opts *o = sr->o;
    sr->ph = &o->phases[p];
    int64_t n_train, n_v, *rows = dlrt_tr_part_rows(r, 0, n_val, &n_train);
    int64_t *val = dlrt_tr_part_rows(r, 1, n_val, &n_v);
    for (long long pe = 1; pe <= sr->ph->epochs; pe++) {
        double t0 = dlrt_tr_now();
        totals t = steps_epoch(sr, ++*epoch, pe, rows, n_train);
        if (r->report.diverged_step) return;
        double secs = dlrt_tr_now() - t0;
        int first = sr->ph->first_step;
        dlrt_epoch_record e = {.epoch = *epoch, .train_loss = t.step_loss[first], .val_loss = NAN,
                               .train_accuracy = NAN, .val_accuracy = NAN, .seconds = secs,
                               .samples_per_sec = (double)t.n / secs, .phase = p};
        for (int i = 0; i < DLRT_MAX_METRICS; i++) e.train_metrics[i] = e.val_metrics[i] = NAN;
        if (measures_metrics(o)) e.train_accuracy = dlrt_tr_metric_values(o, &t, e.train_metrics);
        for (int k = 0; k < DLRT_MAX_STEPS; k++) {
            e.step_loss[k] = k < o->n_steps ? t.step_loss[k] : NAN;
            e.val_step_loss[k] = NAN;
        }
        if (n_v > 0) {
            totals v = dlrt_tr_evaluate(&r->sess, &r->train_b, o, val, n_v);
            e.val_loss = v.step_loss[first] / (double)v.n;
            e.val_accuracy = dlrt_tr_metric_values(o, &v, e.val_metrics);
            for (int k = sr->ph->first_step; k < sr->ph->first_step + sr->ph->n_steps; k++)
                e.val_step_loss[k] = v.step_loss[k] / (double)v.n;
        }
        dlrt_report_add_epoch(&r->report, &e);
        print_steps_epoch(o, sr->ph, &e, pe, n_v > 0);
        if (dlrt_tr_epoch_grids(r, o, *epoch)) return;
    }
    phase_test(r, o, p);
}

void dlrt_tr_run_steps(run_state *r, const dlrt_train_opts *o, int64_t n_val) {
    step_run sr = {.r = r, .o = o};
    for (int k = 0; k < o->n_steps; k++) sr.fn[k] = model_step(r->sess.model, o->steps[k].name);
    find_roles(&sr, r->sess.model);
    long long epoch = 0;
    for (int p = 0; p < o->n_phases && !r->report.diverged_step && !r->failed; p++)
        run_phase(&sr, p, n_val, &epoch);
}
