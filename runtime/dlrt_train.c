/*
 * dlrt_train.c — the training loop. The training split is divided once (seeded) into train and
 * validation parts; each epoch shuffles the train part, runs the compiled step over
 * mini-batches (the last one may be smaller), then evaluates the validation part in eval mode.
 * The test split is evaluated once, at the end. Batches are gathered into buffers allocated
 * before the loop; nothing is allocated per step.
 */
#include "dlrt.h"
#include "dlrt_report.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct batcher {
    const dlrt_model_desc *m;    /* model being fed */
    const dlrt_dataset *ds;      /* source samples */
    int image_slot, label_slot;  /* positions in inputs[] (-1: not fed) */
    float *x;                    /* max_batch images */
    int32_t *y;                  /* max_batch labels */
    const void *inputs[16];      /* what the step reads */
    const float *logits;         /* the model's first output, in the arena */
    long long classes;           /* columns of the logits */
} batcher;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int input_slot(const dlrt_model_desc *m, const char *name) {
    const dlrt_tensor_desc *t = name ? dlrt_find_tensor(m, DLRT_INPUT, name) : NULL;
    return t ? t->index : -1;
}

static void gather(batcher *b, const int64_t *idx, int n) {
    int64_t sz = b->ds->sample_size;
    for (int i = 0; i < n; i++) {
        if (b->x) memcpy(b->x + (size_t)i * (size_t)sz, b->ds->x + idx[i] * sz, sizeof(float) * (size_t)sz);
        if (b->y) b->y[i] = b->ds->y[idx[i]];
    }
}

static int correct(const batcher *b, int n) {
    int hits = 0;
    for (int i = 0; i < n; i++) {
        const float *row = b->logits + (size_t)i * (size_t)b->classes;
        int best = 0;
        for (int j = 1; j < b->classes; j++)
            if (row[j] > row[best]) best = j;
        hits += best == b->y[i];
    }
    return hits;
}

typedef struct totals {
    double loss;  /* sum of per-batch mean loss times batch size */
    long long hits; /* correct predictions */
    long long n;    /* samples */
} totals;

static void add_batch(totals *t, const batcher *b, double loss, int n, int want_acc) {
    t->loss += loss * n;
    t->n += n;
    if (want_acc) t->hits += correct(b, n);
}

static totals evaluate(dlrt_session *s, batcher *b, const int64_t *idx, int64_t n, int want_acc) {
    totals t = {0, 0, 0};
    for (int64_t at = 0; at < n; at += s->model->max_batch) {
        int bn = (int)(n - at < s->model->max_batch ? n - at : s->model->max_batch);
        double loss;
        gather(b, idx + at, bn);
        s->model->eval_step(s->weights, s->arena, b->inputs, bn, &loss);
        add_batch(&t, b, loss, bn, want_acc);
    }
    return t;
}

static void progress(const dlrt_train_opts *o, long long epoch, int64_t done, int64_t total) {
    if (o->quiet || !isatty(STDERR_FILENO)) return;
    fprintf(stderr, "\repoch %lld/%lld  %3d%%", epoch, o->epochs, (int)(100 * done / total));
    fflush(stderr);
}

void dlrt_step_scalars(const dlrt_model_desc *m, long long step, double lr, double *scalars) {
    for (int i = 0; i < m->n_tensors; i++) {
        const dlrt_tensor_desc *t = &m->tensors[i];
        if (t->kind != DLRT_SCALAR) continue;
        scalars[t->index] = !strcmp(t->name, "step") ? (double)step : !strcmp(t->name, "lr") ? lr : 0;
    }
}

static totals train_epoch(dlrt_session *s, batcher *b, const dlrt_train_opts *o, long long epoch,
                          int64_t *idx, int64_t n, dlrt_rng *rng) {
    totals t = {0, 0, 0};
    double lr = dlrt_schedule_lr(&o->schedule, epoch - 1, o->epochs), scalars[8];
    dlrt_rng_shuffle(rng, idx, n);
    int acc = (o->metrics & DLRT_METRIC_ACCURACY) != 0;
    for (int64_t at = 0; at < n; at += s->model->max_batch) {
        int bn = (int)(n - at < s->model->max_batch ? n - at : s->model->max_batch);
        double loss;
        s->step++;
        dlrt_step_scalars(s->model, s->step, lr, scalars);
        gather(b, idx + at, bn);
        s->model->train_step(s->weights, s->arena, b->inputs, bn, scalars, &loss);
        add_batch(&t, b, loss, bn, acc);
        if ((at / s->model->max_batch) % 50 == 0) progress(o, epoch, at, n);
    }
    if (!o->quiet && isatty(STDERR_FILENO)) fprintf(stderr, "\r\033[K");
    return t;
}

static int setup_batcher(batcher *b, const dlrt_session *s, const dlrt_dataset *ds,
                         const dlrt_train_opts *o, char *err, size_t errlen) {
    const dlrt_model_desc *m = s->model;
    memset(b, 0, sizeof *b);
    b->m = m;
    b->ds = ds;
    b->image_slot = input_slot(m, o->image_input);
    b->label_slot = input_slot(m, o->label_input);
    const dlrt_tensor_desc *out = dlrt_find_tensor(m, DLRT_OUTPUT, NULL);
    if (m->n_inputs > 16 || m->n_scalars > 8 || !out || m->real_size != 4) {
        snprintf(err, errlen, "model '%s' cannot be trained by the runtime (needs f32, an output)",
                 m->name);
        return -1;
    }
    b->x = b->image_slot >= 0 ? malloc(sizeof(float) * (size_t)(m->max_batch * ds->sample_size)) : NULL;
    b->y = malloc(sizeof(int32_t) * (size_t)m->max_batch);
    if ((b->image_slot >= 0 && !b->x) || !b->y) {
        snprintf(err, errlen, "out of memory for batch buffers");
        return -1;
    }
    if (b->image_slot >= 0) b->inputs[b->image_slot] = b->x;
    if (b->label_slot >= 0) b->inputs[b->label_slot] = b->y;
    b->classes = out->rank == 2 ? out->dims[1] : 1;
    b->logits = (const float *)((const char *)s->arena + out->offset);
    return 0;
}

static int64_t *iota(int64_t n) {
    int64_t *v = malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
    for (int64_t i = 0; v && i < n; i++) v[i] = i;
    return v;
}

typedef struct run_state {
    dlrt_dataset train, test;     /* loaded splits */
    dlrt_session sess;            /* the model instance */
    batcher train_b, test_b;      /* batch buffers over each split */
    int64_t *order;               /* permutation of the training split */
    dlrt_report report;           /* what the run measured */
} run_state;

static void run_free(run_state *r) {
    dlrt_dataset_free(&r->train);
    dlrt_dataset_free(&r->test);
    dlrt_session_free(&r->sess);
    free(r->train_b.x), free(r->train_b.y), free(r->test_b.x), free(r->test_b.y);
    free(r->order);
    dlrt_report_free(&r->report);
}

static int run_setup(run_state *r, const dlrt_model_desc *m, const dlrt_train_opts *o, char *err,
                     size_t errlen) {
    if (!m->train_step) {
        snprintf(err, errlen, "model '%s' has no training step", m->name);
        return -1;
    }
    if (dlrt_dataset_load(o->data_dir, o->dataset, "train", &r->train, err, errlen) ||
        dlrt_dataset_load(o->data_dir, o->dataset, "test", &r->test, err, errlen) ||
        dlrt_session_init(&r->sess, m, (uint64_t)o->seed, err, errlen) ||
        setup_batcher(&r->train_b, &r->sess, &r->train, o, err, errlen) ||
        setup_batcher(&r->test_b, &r->sess, &r->test, o, err, errlen))
        return -1;
    r->order = iota(r->train.n);
    if (!r->order) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    dlrt_rng split;
    dlrt_rng_seed(&split, (uint64_t)o->seed ^ 0x5eedULL);
    dlrt_rng_shuffle(&split, r->order, r->train.n);
    return 0;
}

static void print_epoch(const dlrt_train_opts *o, const dlrt_epoch_record *e, int acc, int val) {
    if (o->quiet) return;
    printf("epoch %lld/%lld  loss %.4f", e->epoch, o->epochs, e->train_loss);
    if (acc) printf("  acc %.4f", e->train_accuracy);
    if (val) printf("  val_loss %.4f", e->val_loss);
    if (val && acc) printf("  val_acc %.4f", e->val_accuracy);
    printf("  %.0f samples/s  %.1fs\n", e->samples_per_sec, e->seconds);
    fflush(stdout);
}

static void run_epochs(run_state *r, const dlrt_train_opts *o, int64_t n_val) {
    int acc = (o->metrics & DLRT_METRIC_ACCURACY) != 0;
    int64_t n_train = r->train.n - n_val;
    dlrt_rng shuffle;
    dlrt_rng_seed(&shuffle, (uint64_t)o->seed + 1);
    for (long long ep = 1; ep <= o->epochs; ep++) {
        double t0 = now();
        totals t = train_epoch(&r->sess, &r->train_b, o, ep, r->order, n_train, &shuffle);
        double secs = now() - t0;
        dlrt_epoch_record e = {ep, t.loss / (double)t.n, (double)t.hits / (double)t.n, NAN, NAN,
                               secs, (double)t.n / secs};
        if (n_val > 0) {
            totals v = evaluate(&r->sess, &r->train_b, r->order + n_train, n_val, acc);
            e.val_loss = v.loss / (double)v.n;
            e.val_accuracy = acc ? (double)v.hits / (double)v.n : NAN;
        }
        if (!acc) e.train_accuracy = NAN;
        dlrt_report_add_epoch(&r->report, &e);
        print_epoch(o, &e, acc, n_val > 0);
    }
}

int dlrt_train(const dlrt_model_desc *m, const dlrt_train_opts *o, char *err, size_t errlen) {
    run_state r;
    memset(&r, 0, sizeof r);
    int status = run_setup(&r, m, o, err, errlen);
    if (status == 0) {
        int64_t n_val = (int64_t)floor(o->validation * (double)r.train.n);
        double shift, scale;
        dlrt_normalize(&r.train, &r.test, r.order, r.train.n - n_val, o->normalize, &shift, &scale);
        if (o->normalize && !o->quiet)
            printf("normalized inputs: (x - %.4f) / %.4f, from %lld training samples\n", shift,
                   scale, (long long)(r.train.n - n_val));
        dlrt_report_begin(&r.report, m, o, r.train.n - n_val, n_val, r.test.n);
        run_epochs(&r, o, n_val);
        int64_t *test_idx = iota(r.test.n);
        int acc = (o->metrics & DLRT_METRIC_ACCURACY) != 0;
        totals t = evaluate(&r.sess, &r.test_b, test_idx, r.test.n, acc);
        free(test_idx);
        r.report.test_loss = t.loss / (double)t.n;
        r.report.test_accuracy = acc ? (double)t.hits / (double)t.n : NAN;
        if (!o->quiet) {
            printf("test  loss %.4f", r.report.test_loss);
            if (acc) printf("  accuracy %.4f", r.report.test_accuracy);
            printf("  (%lld samples, evaluated once)\n", (long long)t.n);
        }
        if (o->report_path) status = dlrt_report_write(&r.report, o->report_path, err, errlen);
    }
    run_free(&r);
    return status;
}
