/*
 * dlrt_train.c — the training loop. The training split is divided once (seeded) into train and
 * validation parts; each epoch shuffles the train part (dlrt_epoch_shuffle), runs the compiled
 * step over mini-batches (the last one may be smaller), then evaluates the validation part in
 * eval mode. Metrics (dlrt_metrics.c) are accumulated over the training batches, the
 * validation part and the test split. With early stopping, the weights block of the best
 * epoch is kept in a copy allocated before the loop and restored at the end. The test split is
 * evaluated once, at the end. Batches are gathered into buffers allocated before the loop;
 * nothing is allocated per step. Training batches (only they) are augmented as they are
 * gathered (dlrt_augment.c), after normalization, with black as the fill value.
 * With pairs or triplets (o->tuples) a batch row is a tuple of samples, one per member input:
 * the training tuples are drawn afresh each epoch from the train part (dlrt_pairs.c) instead of
 * the shuffle; the validation and test tuples are drawn once.
 * After the test split, with --images DIR, the image grids (images = [grid(...)]) are filled
 * from the first test samples through the eval step and written as PNG (dlrt_images.c).
 * After the test split, the few-shot evaluations (evaluate = [few_shot(...)]) run on the final
 * weights (dlrt_fewshot_run.c); their figures go into the report's test.few_shot.
 * Divergence: the loss every step returns is tested with isfinite (no scan of the weights); the
 * first NaN or Inf stops the run with an error. The report is still written, with the step
 * in "diverged"; the test split is not evaluated; with early stopping the best epoch's weights
 * are restored and saved (when finite), otherwise no weights file is written.
 */
#include "dlrt.h"
#include "dlrt_pairs.h"
#include "dlrt_report.h"
#include "dlrt_train_internal.h"
#include "dlrt_weights.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SHUFFLE_STREAM 0x7368756666UL /* keeps the epoch streams apart from the others */



double dlrt_tr_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void dlrt_epoch_shuffle(int64_t *idx, int64_t n, long long seed, long long epoch) {
    dlrt_rng r;
    dlrt_rng_seed(&r, ((uint64_t)seed * 1000003ULL + (uint64_t)epoch) ^ SHUFFLE_STREAM);
    dlrt_rng_shuffle(&r, idx, n);
}

/* one sample into x (augmented with `aug` when not NULL) */
static void gather_one(batcher *b, float *x, int64_t k, const dlrt_augmenter *aug,
                       long long epoch) {
    const dlrt_dataset *ds = b->ds;
    if (aug) dlrt_augment_sample(aug, ds->x + k * ds->sample_size, x, k, epoch);
    else memcpy(x, ds->x + k * ds->sample_size, sizeof(float) * (size_t)ds->sample_size);
}

/* tuples idx[0..n * arity) into the members' buffers; a pair's target is 1 when its samples
 * share a class */
static void gather_tuples(batcher *b, const int64_t *idx, int n, const dlrt_augmenter *aug,
                          long long epoch) {
    size_t ss = (size_t)b->ds->sample_size, block = (size_t)b->m->max_batch * ss;
    for (int i = 0; i < n; i++) {
        const int64_t *t = idx + (size_t)i * (size_t)b->arity;
        for (int m = 0; m < b->arity; m++) gather_one(b, b->x + m * block + i * ss, t[m], aug, epoch);
        int same = b->ds->y[t[0]] == b->ds->y[t[1]];
        if (b->y) b->y[i] = same;
        if (b->t) b->t[i] = (float)same;
    }
}

/* samples idx[0..n) into the batch buffers; `aug` (training batches only, else NULL)
 * augments the samples with epoch `epoch`'s draws on the way */
void dlrt_tr_gather(batcher *b, const int64_t *idx, int n, const dlrt_augmenter *aug,
                   long long epoch) {
    const dlrt_dataset *ds = b->ds;
    if (b->arity > 1) {
        gather_tuples(b, idx, n, aug, epoch);
        return;
    }
    for (int i = 0; i < n; i++) {
        int64_t k = idx[i];
        if (b->x) gather_one(b, b->x + (size_t)i * (size_t)ds->sample_size, k, aug, epoch);
        if (b->y) b->y[i] = ds->y[k];
        if (b->t) memcpy(b->t + (size_t)i * (size_t)ds->target_size, ds->target + k * ds->target_size,
                         sizeof(float) * (size_t)ds->target_size);
    }
}

void dlrt_tr_add_batch(totals *t, const batcher *b, const dlrt_train_opts *o, double loss, int n) {
    dlrt_batch_view v = {b->out, b->cols, b->y, b->t, n, loss, b->value};
    dlrt_metrics_add(&t->sums, o->metrics, o->n_metrics, &v);
    t->loss += loss * n;
    t->n += n;
}

totals dlrt_tr_evaluate(dlrt_session *s, batcher *b, const dlrt_train_opts *o, const int64_t *idx,
                       int64_t n) {
    totals t;
    memset(&t, 0, sizeof t);
    for (int64_t at = 0; at < n; at += s->model->max_batch) {
        int bn = (int)(n - at < s->model->max_batch ? n - at : s->model->max_batch);
        double loss, scalars[64];
        dlrt_tr_gather(b, idx + at * b->arity, bn, NULL, 0);
        dlrt_eval_scalars(s->model, o->seed, at / s->model->max_batch, scalars);
        s->model->eval_step(s->weights, s->arena, b->inputs, bn, scalars, &loss);
        dlrt_tr_add_batch(&t, b, o, loss, bn);
        double steps[DLRT_MAX_STEPS];
        dlrt_tr_step_losses(s, steps);
        for (int k = 0; k < s->model->n_steps && k < DLRT_MAX_STEPS; k++) t.step_loss[k] += steps[k] * bn;
    }
    return t;
}

void dlrt_tr_progress(const dlrt_train_opts *o, long long epoch, int64_t done, int64_t total) {
    if (o->quiet || !isatty(STDERR_FILENO)) return;
    fprintf(stderr, "\repoch %lld/%lld  %3d%%", epoch, o->epochs, (int)(100 * done / total));
    fflush(stderr);
}

void dlrt_step_scalars(const dlrt_model_desc *m, long long seed, long long step, double lr,
                       double *scalars) {
    for (int i = 0; i < m->n_tensors; i++) {
        const dlrt_tensor_desc *t = &m->tensors[i];
        if (t->kind != DLRT_SCALAR) continue;
        scalars[t->index] = !strcmp(t->name, "step") ? (double)step
                          : !strcmp(t->name, "lr")   ? lr
                          : !strcmp(t->name, "seed") ? (double)seed
                                                     : 0;
    }
}

void dlrt_eval_scalars(const dlrt_model_desc *m, long long seed, long long batch, double *scalars) {
    dlrt_step_scalars(m, seed, -1 - batch, 0, scalars);
}

/* the first step whose loss was not finite: epoch, step and loss into the report */
void dlrt_tr_diverge(dlrt_report *r, long long epoch, long long step, double loss) {
    r->diverged_epoch = epoch;
    r->diverged_step = step;
    r->diverged_loss = loss;
}

/* --check-numerics: whether the step just run made a NaN or an Inf (then reported) */
int dlrt_tr_numerics_found(const dlrt_train_opts *o, dlrt_report *r, long long epoch,
                          long long step) {
    int input = -1, node = o->numerics ? o->numerics(&input) : -1;
    if (node < 0) return 0;
    r->numerics_node = node;
    if (o->numerics_report) o->numerics_report(o->numerics_ctx, node, input, epoch, step);
    return 1;
}

/* one epoch of training steps; stops at the first non-finite loss (r->diverged_step set) */
static totals train_epoch(dlrt_session *s, batcher *b, const dlrt_train_opts *o,
                          const dlrt_augmenter *aug, long long epoch, int64_t *idx, int64_t n,
                          const dlrt_sampler *pool, dlrt_report *r) {
    totals t;
    memset(&t, 0, sizeof t);
    double lr = dlrt_schedule_lr(&o->schedule, epoch - 1, o->epochs), scalars[8];
    if (pool) dlrt_sampler_draw(pool, b->arity, o->tuples.same_share,
                                dlrt_sampler_key(o->seed, epoch, 0), n, idx);
    else dlrt_epoch_shuffle(idx, n, o->seed, epoch);
    for (int64_t at = 0; at < n; at += s->model->max_batch) {
        int bn = (int)(n - at < s->model->max_batch ? n - at : s->model->max_batch);
        double loss;
        s->step++;
        dlrt_step_scalars(s->model, o->seed, s->step, lr, scalars);
        dlrt_tr_gather(b, idx + at * b->arity, bn, aug->n_ops > 0 ? aug : NULL, epoch);
        s->model->train_step(s->weights, s->arena, b->inputs, bn, scalars, &loss);
        if (dlrt_tr_numerics_found(o, r, epoch, s->step) || !isfinite(loss)) {
            dlrt_tr_diverge(r, epoch, s->step, loss);
            break;
        }
        dlrt_tr_add_batch(&t, b, o, loss, bn);
        if ((at / s->model->max_batch) % 50 == 0) dlrt_tr_progress(o, epoch, at, n);
    }
    if (!o->quiet && isatty(STDERR_FILENO)) fprintf(stderr, "\r\033[K");
    return t;
}

/* ---- setup: inputs must match the dataset, metrics must have what they compare ---- */

static long long inner(const dlrt_tensor_desc *t) {
    long long n = 1;
    for (int i = t->batched ? 1 : 0; i < t->rank; i++) n *= t->dims[i];
    return n;
}

/* "1x28x27": the dataset's per-sample shape */
static const char *shape_text(const dlrt_dataset *ds, char *buf, size_t n) {
    size_t at = 0;
    buf[0] = 0;
    for (int i = 0; i < ds->rank && i < 4 && at < n; i++)
        at += (size_t)snprintf(buf + at, n - at, "%s%lld", i ? "x" : "", (long long)ds->shape[i]);
    return buf;
}

/* the input slot for `name`, checked against `dtype` and `size` reals per sample; -1 if none.
 * A mismatch of the samples names the data file they came from and their shape. */
static int input_slot(const dlrt_model_desc *m, const char *name, int dtype, long long size,
                      const char *what, const dlrt_dataset *ds, char *err, size_t errlen, int *bad) {
    const dlrt_tensor_desc *t = name ? dlrt_find_tensor(m, DLRT_INPUT, name) : NULL;
    if (!t) return -1;
    char shape[96];
    if (t->dtype == dtype && inner(t) == size) return t->index;
    *bad = 1;
    if (strcmp(what, "samples") || !ds->source || t->dtype != dtype)
        snprintf(err, errlen, "model '%s': input '%s' must hold %lld %s per sample for the dataset's %s",
                 m->name, name, size, dtype == DLRT_I32 ? "i32" : "f32", what);
    else
        snprintf(err, errlen, "model '%s': input '%s' holds %lld reals per sample, but the data file "
                 "%s holds samples of %s (%lld reals)", m->name, name, inner(t), ds->source,
                 shape_text(ds, shape, sizeof shape), size);
    return t->index;
}

/* every input the step reads must be fed by the dataset */
static int check_bound(const batcher *b, char *err, size_t errlen) {
    for (int i = 0; i < b->m->n_tensors; i++) {
        const dlrt_tensor_desc *t = &b->m->tensors[i];
        if (t->kind != DLRT_INPUT || b->inputs[t->index]) continue;
        snprintf(err, errlen, "model '%s': input '%s' is not bound to a field of the dataset "
                 "(data = DATASET(%s = FIELD, ...))", b->m->name, t->name, t->name);
        return -1;
    }
    return 0;
}

/* a VALUE metric's scalar output in the arena (NULL when the model has none of that index) */
static const float *value_output(const dlrt_session *s, const dlrt_metric *m) {
    for (int i = 0; i < s->model->n_tensors; i++) {
        const dlrt_tensor_desc *t = &s->model->tensors[i];
        if (t->kind == DLRT_OUTPUT && t->index == m->output)
            return t->rank == 0 && t->dtype == DLRT_F32 ? (const float *)((const char *)s->arena + t->offset)
                                                        : NULL;
    }
    return NULL;
}

static int check_metrics(batcher *b, const dlrt_session *s, const dlrt_train_opts *o, char *err,
                         size_t errlen) {
    for (int i = 0; i < o->n_metrics; i++) {
        const dlrt_metric *m = &o->metrics[i];
        char name[32];
        dlrt_metric_name(m, name, sizeof name);
        const char *bad = NULL;
        if (m->kind == DLRT_METRIC_VALUE && !(b->value[i] = value_output(s, m)))
            bad = "needs a scalar f32 output of the model";
        else if ((m->kind == DLRT_METRIC_ACCURACY || m->kind == DLRT_METRIC_TOP_K) && !b->y)
            bad = "needs class labels";
        else if (m->kind == DLRT_METRIC_TOP_K && (m->k < 1 || m->k > b->cols))
            bad = "needs 1 <= k <= the number of classes";
        else if ((m->kind == DLRT_METRIC_MSE || m->kind == DLRT_METRIC_MAE) && b->t &&
                 b->tsize != b->cols)
            bad = "needs an output with as many values per sample as the target";
        else if ((m->kind == DLRT_METRIC_MSE || m->kind == DLRT_METRIC_MAE) && !b->t && !b->y)
            bad = "needs a target";
        if (bad) {
            snprintf(err, errlen, "metric %s %s", name, bad);
            return -1;
        }
    }
    return 0;
}

/* the batch buffers: malloc'd, or those of `share` (the same model: the same shapes); n_x
 * blocks of samples, and labels, real targets or (target 0) none */
static int batch_buffers(batcher *b, const batcher *share, int target, int labels, size_t mb,
                         int n_x) {
    if (share) {
        b->x = share->x, b->y = share->y, b->t = share->t;
        return 0;
    }
    size_t xb = sizeof(float) * mb * (size_t)b->ds->sample_size * (size_t)n_x;
    size_t yb = !target ? 0 : labels ? sizeof(int32_t) * mb
                                     : sizeof(float) * mb * (size_t)(b->tsize > 0 ? b->tsize : 1);
    b->x = n_x ? malloc(xb) : NULL;
    if (target && labels) b->y = malloc(yb);
    else if (target) b->t = malloc(yb);
    b->bytes = (long long)(xb + yb);
    return (n_x && !b->x) || (target && !b->y && !b->t) ? -1 : 0;
}

/* pairs and triplets: every member input holds one sample; a pair's target is i32 or f32[1] */
static int tuple_slots(batcher *b, const batcher *share, const dlrt_train_opts *o, char *err,
                       size_t errlen) {
    const dlrt_model_desc *m = b->m;
    const dlrt_tensor_desc *same = o->target_input && b->arity == 2
                                       ? dlrt_find_tensor(m, DLRT_INPUT, o->target_input) : NULL;
    int bad = 0, labels = same && same->dtype == DLRT_I32, slot[3];
    b->tsize = 1;
    for (int k = 0; k < b->arity; k++)
        slot[k] = input_slot(m, o->tuples.member_input[k], DLRT_F32, b->ds->sample_size,
                             "samples", b->ds, err, errlen, &bad);
    int ts = same ? input_slot(m, o->target_input, same->dtype, 1, "same-class targets", b->ds,
                               err, errlen, &bad) : -1;
    if (bad) return -1;
    if (batch_buffers(b, share, same != NULL, labels, (size_t)m->max_batch, b->arity)) {
        snprintf(err, errlen, "out of memory for batch buffers");
        return -1;
    }
    for (int k = 0; k < b->arity; k++)
        if (slot[k] >= 0) b->inputs[slot[k]] = b->x + (size_t)k * (size_t)m->max_batch *
                                                          (size_t)b->ds->sample_size;
    if (ts >= 0) b->inputs[ts] = labels ? (const void *)b->y : (const void *)b->t;
    return 0;
}

static int sample_slots(batcher *b, const batcher *share, const dlrt_train_opts *o, char *err,
                        size_t errlen) {
    const dlrt_model_desc *m = b->m;
    const dlrt_dataset *ds = b->ds;
    int bad = 0, labels = ds->y != NULL;
    b->tsize = ds->target_size;
    int xs = input_slot(m, o->feature_input, DLRT_F32, ds->sample_size, "samples", ds, err, errlen,
                        &bad);
    int ys = input_slot(m, o->target_input, labels ? DLRT_I32 : DLRT_F32,
                        labels ? 1 : ds->target_size, labels ? "labels" : "targets", ds, err, errlen,
                        &bad);
    if (bad) return -1;
    if (batch_buffers(b, share, 1, labels, (size_t)m->max_batch, xs >= 0)) {
        snprintf(err, errlen, "out of memory for batch buffers");
        return -1;
    }
    if (xs >= 0) b->inputs[xs] = b->x;
    if (ys >= 0) b->inputs[ys] = labels ? (const void *)b->y : (const void *)b->t;
    return 0;
}

static int setup_batcher(batcher *b, const batcher *share, const dlrt_session *s,
                         const dlrt_dataset *ds, const dlrt_train_opts *o, char *err,
                         size_t errlen) {
    const dlrt_model_desc *m = s->model;
    memset(b, 0, sizeof *b);
    b->m = m;
    b->ds = ds;
    b->arity = o->tuples.arity > 1 ? o->tuples.arity : 1;
    const dlrt_tensor_desc *out = dlrt_find_tensor(m, DLRT_OUTPUT, NULL);
    if (m->n_inputs > 16 || m->n_scalars > 8 || !out || m->real_size != 4) {
        snprintf(err, errlen, "model '%s' cannot be trained by the runtime (needs f32, an output)",
                 m->name);
        return -1;
    }
    if (b->arity > 1 && !ds->y) {
        snprintf(err, errlen, "pairs and triplets need a labelled dataset");
        return -1;
    }
    if (b->arity > 1 ? tuple_slots(b, share, o, err, errlen) : sample_slots(b, share, o, err, errlen))
        return -1;
    if (check_bound(b, err, errlen)) return -1;
    b->cols = inner(out);
    b->out = (const float *)((const char *)s->arena + out->offset);
    return check_metrics(b, s, o, err, errlen);
}

int64_t *dlrt_tr_iota(int64_t n) {
    int64_t *v = malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
    for (int64_t i = 0; v && i < n; i++) v[i] = i;
    return v;
}


void dlrt_tr_free(run_state *r) {
    dlrt_dataset_free(&r->train);
    dlrt_dataset_free(&r->test);
    dlrt_session_free(&r->sess);
    free(r->train_b.x), free(r->train_b.y), free(r->train_b.t);
    free(r->order);
    for (int k = 0; k < 3; k++) dlrt_sampler_free(&r->pool[k]), free(r->tuples[k]);
    free(r->best_weights);
    dlrt_augmenter_free(&r->aug);
    dlrt_report_free(&r->report);
    dlrt_norm_free(&r->norm);
}

/* the configured steps are the model's, and their scalars fit */
static int check_steps(const dlrt_model_desc *m, const dlrt_train_opts *o, char *err,
                       size_t errlen) {
    if (m->n_scalars > 64) { /* the loops' scalars arrays */
        snprintf(err, errlen, "model '%s' has %d per-step scalars; at most 64 are supported",
                 m->name, m->n_scalars);
        return -1;
    }
    if (o->n_steps == 0) return 0;
    if (m->n_steps != o->n_steps) {
        snprintf(err, errlen, "model '%s' has %d training steps (%d scalars), but %d were "
                 "configured", m->name, m->n_steps, m->n_scalars, o->n_steps);
        return -1;
    }
    for (int k = 0; k < o->n_steps; k++)
        if (strcmp(m->steps[k].name, o->steps[k].name)) {
            snprintf(err, errlen, "model '%s': step %d is '%s', but '%s' was configured",
                     m->name, k + 1, m->steps[k].name, o->steps[k].name);
            return -1;
        }
    return 0;
}

int dlrt_tr_setup(run_state *r, const dlrt_model_desc *m, const dlrt_train_opts *o, char *err,
                  size_t errlen) {
    if (!m->train_step) {
        snprintf(err, errlen, "model '%s' has no training step", m->name);
        return -1;
    }
    if (check_steps(m, o, err, errlen)) return -1;
    dlrt_data_spec data = o->data;
    data.seed = (uint64_t)o->seed;
    if (dlrt_dataset_open(&data, "train", &r->train, err, errlen) ||
        dlrt_dataset_open(&data, "test", &r->test, err, errlen) ||
        dlrt_session_init(&r->sess, m, (uint64_t)o->seed, err, errlen) ||
        setup_batcher(&r->train_b, NULL, &r->sess, &r->train, o, err, errlen) ||
        setup_batcher(&r->test_b, &r->train_b, &r->sess, &r->test, o, err, errlen))
        return -1;
    r->order = dlrt_tr_iota(r->train.n);
    size_t wbytes = (size_t)(m->weights_count * m->real_size);
    if (o->early_stop.enabled) r->best_weights = malloc(wbytes > 0 ? wbytes : 1);
    if (!r->order || (o->early_stop.enabled && !r->best_weights)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    dlrt_rng split;
    dlrt_rng_seed(&split, (uint64_t)o->seed ^ 0x5eedULL);
    dlrt_rng_shuffle(&split, r->order, r->train.n);
    return 0;
}

/* pairs and triplets: the samplers over the train part, the validation part and the test
 * split, and the tuples of the last two, drawn once */
static int start_tuples(run_state *r, const dlrt_train_opts *o, int64_t n_val, char *err,
                        size_t errlen) {
    static const char *const what[3] = {"pairs: the training part", "pairs: the validation part",
                                        "pairs: the test split"};
    const dlrt_tuples *tp = &o->tuples;
    if (tp->arity < 2) return 0;
    int64_t n_train = r->train.n - n_val, *test_idx = dlrt_tr_iota(r->test.n);
    const int64_t *pools[3] = {r->order, r->order + n_train, test_idx};
    int64_t sizes[3] = {n_train, n_val, r->test.n};
    int64_t counts[3] = {tp->n ? tp->n : n_train, n_val, tp->n_test ? tp->n_test : r->test.n};
    int need_other = tp->arity == 3 || tp->same_share < 1, rc = test_idx ? 0 : -1;
    for (int k = 0; k < 3 && rc == 0; k++) {
        const dlrt_dataset *ds = k < 2 ? &r->train : &r->test;
        if (counts[k] == 0) continue;
        rc = dlrt_sampler_init(&r->pool[k], ds->y, ds->n_classes, pools[k], sizes[k], need_other,
                               what[k], err, errlen);
        r->tuples[k] = rc ? NULL : malloc(sizeof(int64_t) * (size_t)(counts[k] * tp->arity));
        if (rc == 0 && !r->tuples[k]) rc = -1, snprintf(err, errlen, "out of memory for pairs");
        r->n_tuples[k] = counts[k];
        if (rc == 0 && k > 0)
            dlrt_sampler_draw(&r->pool[k], tp->arity, tp->same_share,
                              dlrt_sampler_key(o->seed, 0, k), counts[k], r->tuples[k]);
    }
    if (!test_idx) snprintf(err, errlen, "out of memory");
    free(test_idx);
    return rc;
}

/* the rows of part k (0 train, 1 validation): the order's samples, or tuples */
int64_t *dlrt_tr_part_rows(run_state *r, int k, int64_t n_val, int64_t *n) {
    if (r->train_b.arity > 1) {
        *n = r->n_tuples[k];
        return r->tuples[k];
    }
    *n = k == 0 ? r->train.n - n_val : n_val;
    return k == 0 ? r->order : r->order + (r->train.n - n_val);
}

/* ---- per epoch: record, print, watch for early stopping ---- */

static int metric_index(const dlrt_train_opts *o, int kind) {
    for (int i = 0; i < o->n_metrics; i++)
        if (o->metrics[i].kind == kind) return i;
    return -1;
}

/* values per entry of the metrics list, and the accuracy among them (NAN if not listed) */
double dlrt_tr_metric_values(const dlrt_train_opts *o, const totals *t, double *values) {
    dlrt_metrics_values(&t->sums, o->n_metrics, values);
    int acc = metric_index(o, DLRT_METRIC_ACCURACY);
    return acc >= 0 ? values[acc] : NAN;
}

/* four decimals, or four significant digits for small values (a regression's 3.1e-05) */
void dlrt_tr_print_value(const char *prefix, const char *name, double v) {
    printf(fabs(v) >= 0.001 || v == 0 ? "  %s%s %.4f" : "  %s%s %.3e", prefix, name, v);
}

/* "  acc 0.9812  mse 0.0031" for every listed metric but the loss (printed apart);
 * accuracy is "acc" in the epoch lines (short) and "accuracy" in the test line */
void dlrt_tr_print_metrics(const dlrt_train_opts *o, const char *prefix, const double *values,
                          int short_acc) {
    char name[32];
    for (int i = 0; i < o->n_metrics; i++) {
        if (o->metrics[i].kind == DLRT_METRIC_LOSS) continue;
        const char *n = o->metrics[i].kind == DLRT_METRIC_ACCURACY && short_acc
                            ? "acc" : dlrt_metric_name(&o->metrics[i], name, sizeof name);
        dlrt_tr_print_value(prefix, n, values[i]);
    }
}

static void print_epoch(const dlrt_train_opts *o, const dlrt_epoch_record *e, int val) {
    if (o->quiet) return;
    printf("epoch %lld/%lld", e->epoch, o->epochs);
    dlrt_tr_print_value("", "loss", e->train_loss);
    dlrt_tr_print_metrics(o, "", e->train_metrics, 1);
    if (val) dlrt_tr_print_value("", "val_loss", e->val_loss);
    if (val) dlrt_tr_print_metrics(o, "val_", e->val_metrics, 1);
    printf("  %.0f samples/s  %.1fs\n", e->samples_per_sec, e->seconds);
    fflush(stdout);
}

/* Early stopping after epoch e: keeps a copy of the weights when the monitored metric improved;
 * returns 1 when it has not improved for `patience` epochs. */
static int watch(run_state *r, const dlrt_train_opts *o, const dlrt_epoch_record *e) {
    const dlrt_early_stop *es = &o->early_stop;
    if (!es->enabled) return 0;
    double v = dlrt_report_val_metric(&r->report, e, &es->monitor), best = r->report.best;
    int up = dlrt_metric_higher_is_better(&es->monitor);
    int better = isfinite(v) && (r->report.best_epoch == 0 ||
                                 (up ? v > best + es->min_delta : v < best - es->min_delta));
    if (better) {
        r->report.best = v;
        r->report.best_epoch = e->epoch;
        r->since_best = 0;
        memcpy(r->best_weights, r->sess.weights,
               (size_t)(r->sess.model->weights_count * r->sess.model->real_size));
        return 0;
    }
    return ++r->since_best >= es->patience;
}

static void run_epochs(run_state *r, const dlrt_train_opts *o, int64_t n_val) {
    int64_t n_train, n_v, *rows = dlrt_tr_part_rows(r, 0, n_val, &n_train), *val = dlrt_tr_part_rows(r, 1, n_val, &n_v);
    const dlrt_sampler *pool = r->train_b.arity > 1 ? &r->pool[0] : NULL;
    for (long long ep = 1; ep <= o->epochs; ep++) {
        double t0 = dlrt_tr_now();
        totals t = train_epoch(&r->sess, &r->train_b, o, &r->aug, ep, rows, n_train, pool,
                               &r->report);
        if (r->report.diverged_step) break;
        double secs = dlrt_tr_now() - t0;
        dlrt_epoch_record e = {.epoch = ep, .train_loss = t.loss / (double)t.n, .val_loss = NAN,
                               .val_accuracy = NAN, .seconds = secs,
                               .samples_per_sec = (double)t.n / secs};
        e.train_accuracy = dlrt_tr_metric_values(o, &t, e.train_metrics);
        for (int i = 0; i < DLRT_MAX_METRICS; i++) e.val_metrics[i] = NAN;
        if (n_v > 0) {
            totals v = dlrt_tr_evaluate(&r->sess, &r->train_b, o, val, n_v);
            e.val_loss = v.loss / (double)v.n;
            e.val_accuracy = dlrt_tr_metric_values(o, &v, e.val_metrics);
        }
        dlrt_report_add_epoch(&r->report, &e);
        print_epoch(o, &e, n_val > 0);
        if (dlrt_tr_epoch_grids(r, o, ep)) break;
        if (watch(r, o, &e)) {
            r->report.stopped_epoch = ep;
            break;
        }
    }
}

/* puts back the best epoch's weights and re-measures the monitored metric on them */
static void restore_best(run_state *r, const dlrt_train_opts *o, int64_t n_val) {
    if (!o->early_stop.enabled || r->report.best_epoch == 0) return;
    const dlrt_model_desc *m = r->sess.model;
    memcpy(r->sess.weights, r->best_weights, (size_t)(m->weights_count * m->real_size));
    int64_t n_v, *val = dlrt_tr_part_rows(r, 1, n_val, &n_v);
    totals v = dlrt_tr_evaluate(&r->sess, &r->train_b, o, val, n_v);
    dlrt_epoch_record e = {.val_loss = v.loss / (double)v.n};
    dlrt_tr_metric_values(o, &v, e.val_metrics);
    r->report.restored = dlrt_report_val_metric(&r->report, &e, &o->early_stop.monitor);
    if (o->quiet) return;
    char name[32];
    dlrt_metric_name(&o->early_stop.monitor, name, sizeof name);
    if (r->report.stopped_epoch)
        printf("early stopping: val_%s has not improved for %lld epochs; ", name, o->early_stop.patience);
    else printf("early stopping: ");
    printf("restored the weights of epoch %lld (val_%s %.6g)\n", r->report.best_epoch, name,
           r->report.restored);
}

totals dlrt_tr_test_totals(run_state *r, const dlrt_train_opts *o) {
    int pairs = r->test_b.arity > 1;
    int64_t *test_idx = pairs ? r->tuples[2] : dlrt_tr_iota(r->test.n);
    totals t = dlrt_tr_evaluate(&r->sess, &r->test_b, o, test_idx,
                                !test_idx ? 0 : pairs ? r->n_tuples[2] : r->test.n);
    if (!pairs) free(test_idx);
    return t;
}

/* with steps: the last phase's test split (evaluated as it ended) is the run's */
static void test_of_last_phase(run_state *r, const dlrt_train_opts *o) {
    const dlrt_phase_test *pt = &r->report.phase_test[o->n_phases - 1];
    const dlrt_phase_opts *ph = &o->phases[o->n_phases - 1];
    r->report.test_loss = pt->loss;
    memcpy(r->report.test_metrics, pt->metrics, sizeof pt->metrics);
    memcpy(r->report.test_step_loss, pt->step_loss, sizeof pt->step_loss);
    r->report.test_accuracy = pt->accuracy;
    if (o->quiet) return;
    printf("test");
    dlrt_tr_print_step_losses(o, ph, "", pt->step_loss);
    dlrt_tr_print_metrics(o, "", pt->metrics, 0);
    printf("  (%lld samples, after the last %s)\n", (long long)r->report.n_test,
           o->n_phases > 1 ? "phase" : "epoch");
}

static void test_once(run_state *r, const dlrt_train_opts *o) {
    if (o->n_steps) {
        test_of_last_phase(r, o);
        return;
    }
    totals t = dlrt_tr_test_totals(r, o);
    r->report.test_loss = t.loss / (double)t.n;
    r->report.test_accuracy = dlrt_tr_metric_values(o, &t, r->report.test_metrics);
    if (o->quiet) return;
    printf("test");
    dlrt_tr_print_value("", "loss", r->report.test_loss);
    dlrt_tr_print_metrics(o, "", r->report.test_metrics, 0);
    printf("  (%lld samples, evaluated once)\n", t.n);
}

/* the training part's statistics (the first n_train of r->order), applied to both splits */
static int start_normalize(run_state *r, const dlrt_train_opts *o, int64_t n_train, char *err,
                           size_t errlen) {
    if (dlrt_norm_compute(&r->norm, &r->train, r->order, n_train, o->normalize,
                          o->normalize_per_feature, err, errlen))
        return -1;
    dlrt_norm_apply(&r->train, &r->norm);
    dlrt_norm_apply(&r->test, &r->norm);
    if (!o->normalize || o->quiet) return 0;
    if (r->norm.per_feature)
        printf("normalized inputs: per feature (%lld feature%s), from %lld training samples\n",
               (long long)r->norm.n, r->norm.n == 1 ? "" : "s", (long long)n_train);
    else
        printf("normalized inputs: (x - %.4f) / %.4f, from %lld training samples\n",
               r->norm.v[0], r->norm.v[1], (long long)n_train);
    return 0;
}

/* binds the augmentation list to the training images; black (a 0 pixel) is normalized as the
 * images were, so it is the fill value */
static int start_augment(run_state *r, const dlrt_train_opts *o, char *err, size_t errlen) {
    if (r->norm.per_feature && o->n_augment > 0) { /* the compiler rules this out */
        snprintf(err, errlen, "augmentation needs a scalar normalization, not per_feature = 1");
        return -1;
    }
    float fill = (float)((0.0 - r->norm.v[0]) / r->norm.v[1]);
    if (dlrt_augmenter_init(&r->aug, o->augment, o->n_augment, &r->train, o->seed, fill, err,
                            errlen))
        return -1;
    if (o->quiet || o->n_augment == 0) return 0;
    char name[64];
    printf("augmenting training batches:");
    for (int i = 0; i < o->n_augment; i++)
        printf("%s %s", i ? "," : "", dlrt_augment_name(&o->augment[i], name, sizeof name));
    printf("\n");
    return 0;
}

/* the first non-finite real of the weights block, or -1 (one scan, before a save) */
static long long first_non_finite(const dlrt_session *s) {
    const float *w = s->weights;
    for (long long i = 0; i < s->model->weights_count; i++)
        if (!isfinite(w[i])) return i;
    return -1;
}

/* the inputs fed normalised samples: the feature input, or each member input of a tuple */
static int normalized_inputs(const dlrt_train_opts *o, const char *names[3]) {
    if (o->normalize == DLRT_NORM_NONE) return 0;
    if (o->tuples.arity == 0) {
        names[0] = o->feature_input;
        return o->feature_input != NULL;
    }
    int n = 0;
    for (int k = 0; k < o->tuples.arity; k++)
        if (o->tuples.member_input[k]) names[n++] = o->tuples.member_input[k];
    return n;
}

/* the weights after the restore, and the normalisation the inputs were given; never weights
 * holding a NaN or an Inf */
static int save(const run_state *r, const dlrt_train_opts *o, char *err, size_t errlen) {
    long long bad = first_non_finite(&r->sess);
    if (bad >= 0) {
        snprintf(err, errlen, "%s: not written: the trained weights are not finite (real %lld of "
                 "the weights block is %g)", o->save_weights, bad, ((const float *)r->sess.weights)[bad]);
        return -1;
    }
    const char *normalized[3];
    int n_normalized = normalized_inputs(o, normalized);
    if (dlrt_weights_save(o->save_weights, &r->sess, o->save_names, o->n_save_names, normalized,
                          n_normalized, &r->norm, err, errlen))
        return -1;
    if (!o->quiet)
        printf("saved the weights to %s (%d tensors)\n", o->save_weights,
               o->n_save_names + n_normalized);
    return 0;
}

/* the divergence error, after the report and (with early stopping) the best weights are
 * written; returns -1 */
static int diverged(run_state *r, const dlrt_train_opts *o, char *err, size_t errlen) {
    const dlrt_report *p = &r->report;
    int kept = o->save_weights && p->best_epoch > 0 && first_non_finite(&r->sess) < 0;
    if (o->report_path && dlrt_report_write(p, o->report_path, err, errlen)) return -1;
    if (kept && save(r, o, err, errlen)) return -1;
    int at = p->numerics_node >= 0 && isfinite(p->diverged_loss)
                 ? snprintf(err, errlen, "training stopped: --check-numerics found a NaN or an "
                            "Inf at epoch %lld, step %lld (the op is named above)",
                            p->diverged_epoch, p->diverged_step)
                 : snprintf(err, errlen, "training diverged: the loss is not finite (%s) at "
                            "epoch %lld, step %lld; lower the learning rate or clip the gradients "
                            "(clip_norm, clip_value)", isnan(p->diverged_loss) ? "NaN" : "Inf",
                            p->diverged_epoch, p->diverged_step);
    if (!o->save_weights || at < 0 || (size_t)at >= errlen) return -1;
    if (kept) snprintf(err + at, errlen - (size_t)at, "; %s holds the weights of epoch %lld",
                       o->save_weights, p->best_epoch);
    else snprintf(err + at, errlen - (size_t)at, "; %s was not written (%s)", o->save_weights,
                  !o->early_stop.enabled ? "without early stopping no earlier weights are kept"
                  : p->best_epoch ? "the best epoch's weights are not finite"
                                  : "no epoch ended before it");
    return -1;
}

int dlrt_train(const dlrt_model_desc *m, const dlrt_train_opts *o, char *err, size_t errlen) {
    run_state r;
    memset(&r, 0, sizeof r);
    int status = dlrt_tr_setup(&r, m, o, err, errlen);
    if (status == 0) status = dlrt_few_shot_prepare(o, err, errlen);
    if (status == 0 && o->images_dir && o->n_images > 0)
        status = dlrt_images_dir_check(o->images_dir, err, errlen);
    if (status == 0) status = dlrt_tr_samples_check(o, err, errlen);
    if (status == 0) {
        int64_t n_val = dlrt_split_validation(&r.train, r.order, o->validation, (uint64_t)o->seed);
        if (o->early_stop.enabled && n_val == 0) {
            snprintf(err, errlen, "early stopping needs a validation split, but validation = %g "
                     "holds out no sample of %lld", o->validation, (long long)r.train.n);
            dlrt_tr_free(&r);
            return -1;
        }
        if (start_normalize(&r, o, r.train.n - n_val, err, errlen) ||
            start_tuples(&r, o, n_val, err, errlen) || start_augment(&r, o, err, errlen)) {
            dlrt_tr_free(&r);
            return -1;
        }
        int64_t n_rows[2];
        dlrt_tr_part_rows(&r, 0, n_val, &n_rows[0]), dlrt_tr_part_rows(&r, 1, n_val, &n_rows[1]);
        dlrt_report_begin(&r.report, m, o, n_rows[0], n_rows[1],
                          r.train_b.arity > 1 ? r.n_tuples[2] : r.test.n);
        r.report.memory = (dlrt_memory){r.sess.weights_bytes, r.sess.arena_bytes,
                                        r.train_b.bytes + r.test_b.bytes,
                                        o->early_stop.enabled ? m->weights_count * m->real_size : 0};
        if (o->n_steps) dlrt_tr_run_steps(&r, o, n_val);
        else run_epochs(&r, o, n_val);
        restore_best(&r, o, n_val);
        if (r.failed) {
            snprintf(err, errlen, "%s", r.failed);
            dlrt_tr_free(&r);
            return -1;
        }
        if (r.report.diverged_step) {
            status = diverged(&r, o, err, errlen);
            dlrt_tr_free(&r);
            return status;
        }
        test_once(&r, o);
        status = dlrt_tr_write_grids(&r, o, 0, err, errlen);
        if (status == 0) status = dlrt_tr_write_samples(&r, o, err, errlen);
        if (status == 0 && o->n_few_shot > 0)
            status = dlrt_few_shot_run(&r.sess, o, &r.norm, r.report.few_shot, err, errlen);
        if (status == 0 && o->report_path) status = dlrt_report_write(&r.report, o->report_path, err, errlen);
        if (status == 0 && o->save_weights) status = save(&r, o, err, errlen);
    }
    dlrt_tr_free(&r);
    return status;
}
