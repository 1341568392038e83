/*
 * dlrt_fewshot_run.c — few-shot evaluation after the test split (semantics in
 * dlrt_fewshot.h): the whole test split is read again (no class filter, no test_limit: the
 * few-shot classes are usually the ones training never saw), keeping the images of the
 * entries' classes, normalized as training normalized its inputs. Their embeddings are
 * computed once per (embedding, input) binding through the eval step, in batches: the bound
 * input is fed the image, every other f32 input of an image's size the same image (the other
 * branch of a siamese model), any other input zeros; the step's loss is ignored.
 */
#include "dlrt.h"
#include "dlrt_report.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long long inner(const dlrt_tensor_desc *t) {
    long long n = 1;
    for (int i = t->batched ? 1 : 0; i < t->rank; i++) n *= t->dims[i];
    return n;
}

static const dlrt_tensor_desc *output_at(const dlrt_model_desc *m, int index) {
    for (int i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].kind == DLRT_OUTPUT && m->tensors[i].index == index) return &m->tensors[i];
    return NULL;
}

/* the inputs of one batch: images into `x`, zeros for the rest (`zero` holds enough) */
static int bind_inputs(const dlrt_model_desc *m, const dlrt_few_shot *fs, long long size,
                       const float *x, const void *zero, const void **inputs, char *err,
                       size_t errlen) {
    const dlrt_tensor_desc *in = dlrt_find_tensor(m, DLRT_INPUT, fs->input);
    if (!in || in->dtype != DLRT_F32 || inner(in) != size) {
        snprintf(err, errlen, "few-shot: model '%s' has no f32 input '%s' of %lld reals per "
                 "sample to feed the test images", m->name, fs->input ? fs->input : "?", size);
        return -1;
    }
    for (int i = 0; i < m->n_tensors; i++) {
        const dlrt_tensor_desc *t = &m->tensors[i];
        if (t->kind != DLRT_INPUT || t->index >= 16) continue;
        inputs[t->index] = t->dtype == DLRT_F32 && inner(t) == size ? (const void *)x : zero;
    }
    return 0;
}

/* the embeddings of ds's n images (n rows of *dim reals, malloc'd into *out) */
static int embed(dlrt_session *s, const dlrt_few_shot *fs, const dlrt_dataset *ds, float **out,
                 long long *dim, char *err, size_t errlen) {
    const dlrt_model_desc *m = s->model;
    const dlrt_tensor_desc *e = output_at(m, fs->output);
    if (!e || !e->batched || e->dtype != DLRT_F32 || m->n_inputs > 16) {
        snprintf(err, errlen, "few-shot: model '%s' has no per-sample f32 embedding output",
                 m->name);
        return -1;
    }
    long long widest = 1, mb = m->max_batch, ss = ds->sample_size;
    for (int i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].kind == DLRT_INPUT && inner(&m->tensors[i]) > widest)
            widest = inner(&m->tensors[i]);
    *dim = inner(e);
    float *x = malloc(sizeof(float) * (size_t)(mb * ss)), *emb = malloc(sizeof(float) *
                      (size_t)(ds->n * *dim > 0 ? ds->n * *dim : 1));
    void *zero = calloc((size_t)(mb * widest), 8);
    const void *inputs[16] = {0};
    int rc = !x || !emb || !zero ? -1 : bind_inputs(m, fs, ss, x, zero, inputs, err, errlen);
    if (!x || !emb || !zero) snprintf(err, errlen, "out of memory for few-shot evaluation");
    for (int64_t at = 0; rc == 0 && at < ds->n; at += mb) {
        int bn = (int)(ds->n - at < mb ? ds->n - at : mb);
        double loss;
        memcpy(x, ds->x + at * ss, sizeof(float) * (size_t)(bn * ss));
        m->eval_step(s->weights, s->arena, inputs, bn, NULL, &loss);
        memcpy(emb + at * *dim, (const char *)s->arena + e->offset, sizeof(float) * (size_t)(bn * *dim));
    }
    free(x), free(zero);
    if (rc) free(emb), emb = NULL;
    *out = emb;
    return rc;
}

/* the test split of the entries' classes, normalized as the training inputs were when
 * `norm` (NULL: raw) */
static int open_test(const dlrt_train_opts *o, const dlrt_norm_stats *norm, dlrt_dataset *ds,
                     char *err, size_t errlen) {
    dlrt_data_spec spec = o->data;
    spec.seed = (uint64_t)o->seed;
    spec.classes = 0, spec.limit = spec.test_limit = 0;
    for (int i = 0; i < o->n_few_shot; i++) spec.classes |= o->few_shot[i].classes;
    if (dlrt_dataset_open(&spec, "test", ds, err, errlen)) return -1;
    if (!ds->y) {
        snprintf(err, errlen, "few-shot evaluation needs a labelled dataset");
        return -1;
    }
    if (norm) dlrt_norm_apply(ds, norm);
    return 0;
}

static void print_result(const dlrt_few_shot *fs, const dlrt_few_shot_result *r) {
    char name[160];
    printf("few-shot %s: %.1f%% ± %.1f%% (%lld episodes, %lld queries)\n",
           dlrt_few_shot_name(fs, name, sizeof name), 100 * r->accuracy,
           isnan(r->ci95) ? 0.0 : 100 * r->ci95, fs->episodes, r->queries);
}

int dlrt_few_shot_prepare(const dlrt_train_opts *o, char *err, size_t errlen) {
    dlrt_dataset ds;
    memset(&ds, 0, sizeof ds);
    int rc = o->n_few_shot > 0 ? open_test(o, NULL, &ds, err, errlen) : 0;
    for (int i = 0; rc == 0 && i < o->n_few_shot; i++)
        rc = dlrt_few_shot_check(ds.y, ds.n, &o->few_shot[i], err, errlen);
    dlrt_dataset_free(&ds);
    return rc;
}

int dlrt_few_shot_run(dlrt_session *s, const dlrt_train_opts *o, const dlrt_norm_stats *norm,
                      dlrt_few_shot_result *res, char *err, size_t errlen) {
    dlrt_dataset ds;
    memset(&ds, 0, sizeof ds);
    float *emb[DLRT_MAX_FEW_SHOT] = {0};
    long long dim[DLRT_MAX_FEW_SHOT] = {0};
    int rc = open_test(o, norm, &ds, err, errlen);
    for (int i = 0; rc == 0 && i < o->n_few_shot; i++) {
        const dlrt_few_shot *fs = &o->few_shot[i];
        int same = -1; /* an earlier entry with the same binding: its embeddings */
        for (int j = 0; j < i && same < 0; j++)
            if (o->few_shot[j].output == fs->output && !strcmp(o->few_shot[j].input, fs->input))
                same = j;
        const float *e = same >= 0 ? emb[same] : NULL;
        long long d = same >= 0 ? dim[same] : 0;
        if (same < 0 && (rc = embed(s, fs, &ds, &emb[i], &dim[i], err, errlen)) == 0)
            e = emb[i], d = dim[i];
        if (rc == 0)
            rc = dlrt_few_shot_episodes(e, d, ds.y, ds.n, fs, dlrt_few_shot_seed(o->seed, i),
                                        &res[i], err, errlen);
        if (rc == 0 && !o->quiet) print_result(fs, &res[i]);
    }
    for (int i = 0; i < DLRT_MAX_FEW_SHOT; i++) free(emb[i]);
    dlrt_dataset_free(&ds);
    return rc;
}
