/*
 * dlrt_samples.c — what a run writes from the eval step once it has trained: the image grids
 * (images = [grid(...)], --images DIR: after the test split and, with every = N, after every
 * N-th epoch), the samples (samples = sample(...), --samples FILE) as u8 IDX images, and the
 * same samples from a saved model without training (dlrt_sample_saved).
 * Each feeds the test split in order through the eval step, batch k of the pass keyed by
 * (seed, -(1 + k)) (dlrt_eval_scalars): the first test batch is a fixed noise batch, so every
 * epoch's grid shows the same noise, and a saved model gives the training run's samples byte
 * for byte. Samples wrap around the test split when more are asked for than it holds (the
 * later batches draw other noise). Buffers are allocated per write, never per training step.
 */
#include "dlrt_train_internal.h"
#include "dlrt_weights.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* a value of the batch just evaluated: an output in the arena or an input's batch buffer */
static const float *batch_value(const run_state *r, int output, const char *input) {
    const dlrt_model_desc *m = r->sess.model;
    for (int i = 0; i < m->n_tensors; i++) {
        const dlrt_tensor_desc *t = &m->tensors[i];
        if (output >= 0 && t->kind == DLRT_OUTPUT && t->index == output)
            return (const float *)((const char *)r->sess.arena + t->offset);
        if (output < 0 && t->kind == DLRT_INPUT && !strcmp(t->name, input))
            return r->test_b.inputs[t->index];
    }
    return NULL;
}

/* the eval step over the test rows at .. at + bn (wrapping around the split), batch index
 * at / max_batch of the pass; idx holds max_batch entries */
static void eval_rows(run_state *r, const dlrt_train_opts *o, int64_t *idx, long long at, int bn) {
    const dlrt_model_desc *m = r->sess.model;
    for (int i = 0; i < bn; i++) idx[i] = (at + i) % r->test.n;
    double loss, scalars[64];
    dlrt_tr_gather(&r->test_b, idx, bn, NULL, 0);
    dlrt_eval_scalars(m, o->seed, at / m->max_batch, scalars);
    m->eval_step(r->sess.weights, r->sess.arena, r->test_b.inputs, bn, scalars, &loss);
}

static int64_t *batch_index(const run_state *r, char *err, size_t errlen) {
    int64_t *idx = r->test.n > 0 ? malloc(sizeof(int64_t) * (size_t)r->sess.model->max_batch) : NULL;
    if (!idx) snprintf(err, errlen, r->test.n > 0 ? "out of memory" : "the test split is empty");
    return idx;
}

static int write_grid(run_state *r, const dlrt_train_opts *o, const dlrt_image *im,
                      long long epoch, char *err, size_t errlen) {
    dlrt_grid g;
    int max = r->sess.model->max_batch;
    int64_t *idx = batch_index(r, err, errlen);
    if (!idx || dlrt_grid_init(&g, im, r->test.n, err, errlen)) {
        free(idx);
        return -1;
    }
    for (long long at = 0; at < g.n; at += max) {
        int bn = (int)(g.n - at < max ? g.n - at : max);
        eval_rows(r, o, idx, at, bn);
        for (int k = 0; k < im->n_parts; k++)
            for (int s = 0; s < bn; s++)
                dlrt_grid_put(&g, at + s, k, batch_value(r, im->output[k], im->input[k]) +
                                                 (size_t)s * (size_t)(im->h * im->w));
    }
    free(idx);
    int status = dlrt_grid_write(&g, o->images_dir, epoch, err, errlen);
    dlrt_grid_free(&g);
    if (status == 0 && !o->quiet && epoch == 0)
        printf("wrote %s/%s.png (%lld test samples)\n", o->images_dir, im->name, g.n);
    return status;
}

int dlrt_tr_write_grids(run_state *r, const dlrt_train_opts *o, long long epoch, char *err,
                        size_t errlen) {
    for (int i = 0; o->images_dir && i < o->n_images; i++) {
        const dlrt_image *im = &o->images[i];
        if (epoch > 0 && (im->every == 0 || epoch % im->every != 0)) continue;
        if (write_grid(r, o, im, epoch, err, errlen)) return -1;
    }
    return 0;
}

int dlrt_tr_epoch_grids(run_state *r, const dlrt_train_opts *o, long long epoch) {
    if (dlrt_tr_write_grids(r, o, epoch, r->fail_text, sizeof r->fail_text) == 0) return 0;
    r->failed = r->fail_text;
    return 1;
}

/* --samples FILE: a samples setting, a count, and a file this process can create */
int dlrt_tr_samples_check(const dlrt_train_opts *o, char *err, size_t errlen) {
    const char *p = o->samples_path;
    if (!p) return 0;
    if (!o->has_samples) {
        snprintf(err, errlen, "%s: --samples needs `samples = sample(VALUE, low = L, high = H)` in "
                 "the train block", p);
        return -1;
    }
    if (o->samples_count < 1 || o->samples_count > DLRT_MAX_SAMPLES) {
        snprintf(err, errlen, "%s: --samples-count must be in [1, %d], got %lld", p,
                 DLRT_MAX_SAMPLES, o->samples_count);
        return -1;
    }
    const char *slash = strrchr(p, '/');
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - p) + 1 : 1, slash ? p : ".");
    struct stat st;
    if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: cannot write samples there: it is a directory", p);
        return -1;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        snprintf(err, errlen, "%s: cannot write samples there: %s: %s", p, dir, strerror(errno));
        return -1;
    }
    return 0;
}

int dlrt_tr_write_samples(run_state *r, const dlrt_train_opts *o, char *err, size_t errlen) {
    if (!o->samples_path) return 0;
    const dlrt_samples *sp = &o->samples;
    long long n = o->samples_count, hw = sp->h * sp->w;
    int max = r->sess.model->max_batch;
    float *x = malloc(sizeof(float) * (size_t)(n * hw));
    int64_t *idx = x ? batch_index(r, err, errlen) : NULL;
    if (!x) snprintf(err, errlen, "%s: out of memory for %lld samples", o->samples_path, n);
    for (long long at = 0; idx && at < n; at += max) {
        int bn = (int)(n - at < max ? n - at : max);
        eval_rows(r, o, idx, at, bn);
        memcpy(x + at * hw, batch_value(r, sp->output, sp->input), sizeof(float) * (size_t)(bn * hw));
    }
    int status = idx ? dlrt_idx_write_images(o->samples_path, x, n, sp->h, sp->w, sp->low,
                                             sp->high, err, errlen) : -1;
    free(idx), free(x);
    if (status == 0 && !o->quiet)
        printf("wrote %lld samples (%lldx%lld) to %s\n", n, sp->h, sp->w, o->samples_path);
    return status;
}

/* every tensor the samples value reads is in the file */
static int check_names(const dlrt_weights *w, const dlrt_train_opts *o, char *err, size_t errlen) {
    for (int i = 0; i < o->n_sample_names; i++)
        if (!dlrt_weights_find(w, o->sample_names[i])) {
            snprintf(err, errlen, "%s: holds no tensor '%s', which the samples value reads (write "
                     "the file with --run --save-weights from this model)", w->path,
                     o->sample_names[i]);
            return -1;
        }
    return 0;
}

/* the test split normalised with the file's statistics of the feature input, as training did */
static int saved_norm(run_state *r, const dlrt_train_opts *o, const dlrt_weights *w, char *err,
                      size_t errlen) {
    if (o->normalize == DLRT_NORM_NONE || !o->feature_input) return 0;
    char name[512];
    dlrt_normalize_tensor_name(o->feature_input, name, sizeof name);
    const dlrt_weight *t = dlrt_weights_find(w, name);
    int64_t f = r->test.sample_size;
    int per = t && t->rank == 2;
    if (!t || t->dtype != DLRT_F64 || t->dims[0] != 2 || (t->rank != 1 && !(per && t->dims[1] == f))) {
        snprintf(err, errlen, "%s: %s tensor '%s' (the normalisation of input '%s': f64[2] or "
                 "f64[2, %lld])", w->path, t ? "bad" : "holds no", name, o->feature_input,
                 (long long)f);
        return -1;
    }
    r->norm = (dlrt_norm_stats){.kind = o->normalize, .per_feature = per, .n = per ? f : 1};
    r->norm.v = malloc(sizeof(double) * 2 * (size_t)r->norm.n);
    if (!r->norm.v) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(r->norm.v, t->data, sizeof(double) * 2 * (size_t)r->norm.n);
    dlrt_norm_apply(&r->test, &r->norm);
    return 0;
}

int dlrt_sample_saved(const dlrt_model_desc *m, const dlrt_train_opts *o, const char *weights,
                      char *err, size_t errlen) {
    if (dlrt_tr_samples_check(o, err, errlen)) return -1;
    dlrt_weights w;
    if (dlrt_weights_read(weights, &w, err, errlen)) return -1;
    run_state r;
    memset(&r, 0, sizeof r);
    int status = dlrt_tr_setup(&r, m, o, err, errlen);
    if (status == 0) status = check_names(&w, o, err, errlen);
    if (status == 0) status = dlrt_weights_apply(&w, &r.sess, err, errlen);
    if (status == 0) status = saved_norm(&r, o, &w, err, errlen);
    if (status == 0) status = dlrt_tr_write_samples(&r, o, err, errlen);
    dlrt_weights_free(&w);
    dlrt_tr_free(&r);
    return status;
}
