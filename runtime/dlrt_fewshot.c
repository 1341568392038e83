/*
 * dlrt_fewshot.c — the episodes of few-shot evaluation over computed embeddings: prototypes,
 * nearest-prototype decisions, accuracy and its 95% interval (semantics in dlrt_fewshot.h).
 * Scratch is allocated once per evaluation, not per episode.
 */
#include "dlrt_fewshot.h"
#include "dlrt.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FEW_SHOT_STREAM 0x66657773686f74ULL /* "fewshot": apart from the other streams */

enum { MAX_CLASSES = 32 };

/* the samples of each drawable class, one array partitioned by class */
typedef struct class_index {
    int n_classes;               /* classes present */
    int label[MAX_CLASSES];      /* their labels, ascending */
    int64_t start[MAX_CLASSES];  /* where each one's samples begin in idx */
    int64_t count[MAX_CLASSES];  /* how many */
    int64_t *idx;                /* sample indices, grouped by class (malloc'd) */
} class_index;

static int index_classes(class_index *ci, const int32_t *labels, int64_t n, uint32_t classes) {
    int64_t per[MAX_CLASSES] = {0}, at = 0;
    for (int64_t i = 0; i < n; i++)
        if (labels[i] >= 0 && labels[i] < MAX_CLASSES && (classes >> labels[i] & 1u)) per[labels[i]]++;
    ci->n_classes = 0;
    ci->idx = malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
    if (!ci->idx) return -1;
    for (int c = 0; c < MAX_CLASSES; c++) {
        if (!(classes >> c & 1u)) continue; /* a class without images is reported */
        ci->label[ci->n_classes] = c, ci->start[ci->n_classes] = at, ci->count[ci->n_classes] = 0;
        at += per[c];
        ci->n_classes++;
    }
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < ci->n_classes; k++)
            if (labels[i] == ci->label[k]) ci->idx[ci->start[k] + ci->count[k]++] = i;
    return 0;
}

/* the classes of the mask with no image, or with fewer than `need`: an error message */
static int check_classes(const class_index *ci, const dlrt_few_shot *fs, char *err, size_t errlen) {
    char name[160];
    dlrt_few_shot_name(fs, name, sizeof name);
    int need = fs->k_shot + fs->queries;
    for (int k = 0; k < ci->n_classes; k++)
        if (ci->count[k] < need) {
            snprintf(err, errlen, "few-shot %s: class %d has %lld test images, fewer than k_shot "
                     "+ queries = %d", name, ci->label[k], (long long)ci->count[k], need);
            return -1;
        }
    if (ci->n_classes >= fs->n_way) return 0;
    snprintf(err, errlen, "few-shot %s: the test split holds images of %d of the classes, fewer "
             "than n_way = %d", name, ci->n_classes, fs->n_way);
    return -1;
}

int dlrt_few_shot_check(const int32_t *labels, int64_t n, const dlrt_few_shot *fs, char *err,
                        size_t errlen) {
    class_index ci;
    if (index_classes(&ci, labels, n, fs->classes)) {
        snprintf(err, errlen, "out of memory for few-shot evaluation");
        return -1;
    }
    int rc = check_classes(&ci, fs, err, errlen);
    free(ci.idx);
    return rc;
}

/* the first m of v[0..n) become a uniform draw without replacement (partial Fisher-Yates) */
static void draw(dlrt_rng *r, int64_t *v, int64_t n, int64_t m) {
    for (int64_t i = 0; i < m; i++) {
        int64_t j = i + (int64_t)(dlrt_rng_next(r) % (uint64_t)(n - i));
        int64_t t = v[i];
        v[i] = v[j], v[j] = t;
    }
}

static double score(const float *q, const double *p, long long dim, int cosine) {
    double s = 0, qq = 0, pp = 0;
    for (long long d = 0; d < dim; d++) {
        if (cosine) s += q[d] * p[d], qq += (double)q[d] * q[d], pp += p[d] * p[d];
        else s -= (q[d] - p[d]) * (q[d] - p[d]);
    }
    if (!cosine) return s; /* minus the squared distance: higher is nearer */
    double den = sqrt(qq) * sqrt(pp);
    return den > 0 ? s / den : 0;
}

typedef struct episode_ctx {
    const float *emb;      /* embeddings */
    long long dim;         /* reals per embedding */
    const dlrt_few_shot *fs;
    class_index *ci;
    int64_t order[MAX_CLASSES]; /* class slots, the first n_way drawn */
    double *proto;         /* n_way prototypes of dim reals */
} episode_ctx;

/* one episode: prototypes of the drawn classes, then every query; returns correct queries */
static long long episode(episode_ctx *e, dlrt_rng *r) {
    const dlrt_few_shot *fs = e->fs;
    long long dim = e->dim, right = 0;
    for (int k = 0; k < e->ci->n_classes; k++) e->order[k] = k;
    draw(r, e->order, e->ci->n_classes, fs->n_way);
    for (int w = 0; w < fs->n_way; w++) {
        int64_t *s = e->ci->idx + e->ci->start[e->order[w]];
        draw(r, s, e->ci->count[e->order[w]], fs->k_shot + fs->queries);
        double *p = e->proto + (size_t)w * (size_t)dim;
        memset(p, 0, sizeof(double) * (size_t)dim);
        for (int j = 0; j < fs->k_shot; j++)
            for (long long d = 0; d < dim; d++) p[d] += e->emb[s[j] * dim + d] / fs->k_shot;
    }
    for (int w = 0; w < fs->n_way; w++) {
        const int64_t *s = e->ci->idx + e->ci->start[e->order[w]] + fs->k_shot;
        for (int j = 0; j < fs->queries; j++) {
            int best = 0;
            double best_score = -INFINITY;
            for (int v = 0; v < fs->n_way; v++) {
                double sc = score(e->emb + s[j] * dim, e->proto + (size_t)v * (size_t)dim, dim,
                                  fs->metric == DLRT_FEW_SHOT_COSINE);
                if (sc > best_score) best_score = sc, best = v;
            }
            right += best == w;
        }
    }
    return right;
}

int dlrt_few_shot_episodes(const float *emb, long long dim, const int32_t *labels, int64_t n,
                           const dlrt_few_shot *fs, uint64_t seed, dlrt_few_shot_result *res,
                           char *err, size_t errlen) {
    class_index ci;
    if (index_classes(&ci, labels, n, fs->classes)) {
        snprintf(err, errlen, "out of memory for few-shot evaluation");
        return -1;
    }
    episode_ctx e = {.emb = emb, .dim = dim, .fs = fs, .ci = &ci};
    e.proto = malloc(sizeof(double) * (size_t)(fs->n_way * dim > 0 ? fs->n_way * dim : 1));
    double *acc = malloc(sizeof(double) * (size_t)(fs->episodes > 0 ? fs->episodes : 1));
    int rc = !e.proto || !acc ? -1 : check_classes(&ci, fs, err, errlen);
    if (!e.proto || !acc) snprintf(err, errlen, "out of memory for few-shot evaluation");
    if (rc == 0) {
        dlrt_rng r;
        dlrt_rng_seed(&r, seed);
        long long per = (long long)fs->n_way * fs->queries;
        for (long long i = 0; i < fs->episodes; i++) acc[i] = (double)episode(&e, &r) / (double)per;
        res->ci95 = dlrt_few_shot_ci95(acc, fs->episodes, &res->accuracy);
        res->queries = per * fs->episodes;
    }
    free(ci.idx), free(e.proto), free(acc);
    return rc;
}

double dlrt_few_shot_ci95(const double *acc, long long n, double *mean) {
    double sum = 0, sq = 0;
    for (long long i = 0; i < n; i++) sum += acc[i];
    *mean = n > 0 ? sum / (double)n : NAN;
    if (n < 2) return NAN;
    for (long long i = 0; i < n; i++) sq += (acc[i] - *mean) * (acc[i] - *mean);
    return 1.96 * sqrt(sq / (double)(n - 1)) / sqrt((double)n);
}

uint64_t dlrt_few_shot_seed(long long seed, int index) {
    return ((uint64_t)seed * 1000003ULL + (uint64_t)index) ^ FEW_SHOT_STREAM;
}

/* "[5..9]" for a run of consecutive classes, else "[0, 2, 4]" */
static size_t class_list(uint32_t classes, char *buf, size_t n) {
    int lo = -1, hi = -1, count = 0, consecutive = 1;
    for (int c = 0; c < 32; c++)
        if (classes >> c & 1u) {
            if (lo >= 0 && c != hi + 1) consecutive = 0;
            if (lo < 0) lo = c;
            hi = c, count++;
        }
    if (consecutive && count > 2) return (size_t)snprintf(buf, n, "[%d..%d]", lo, hi);
    size_t at = (size_t)snprintf(buf, n, "[");
    for (int c = 0, first = 1; c < 32 && at < n; c++)
        if (classes >> c & 1u) at += (size_t)snprintf(buf + at, n - at, "%s%d", first ? "" : ", ", c), first = 0;
    if (at < n) at += (size_t)snprintf(buf + at, n - at, "]");
    return at;
}

const char *dlrt_few_shot_name(const dlrt_few_shot *fs, char *buf, size_t n) {
    int at = snprintf(buf, n, "%d-way %d-shot%s classes ", fs->n_way, fs->k_shot,
                      fs->metric == DLRT_FEW_SHOT_COSINE ? " cosine" : "");
    if (at >= 0 && (size_t)at < n) class_list(fs->classes, buf + at, n - (size_t)at);
    return buf;
}
