/*
 * dlrt_fewshot.h — few-shot evaluation (`evaluate = [few_shot(...)]` in the train block), after
 * the test line: the embeddings of the test split's images of the listed classes are computed
 * once through the eval step (dlrt_few_shot_run, in batches), then `episodes` N-way K-shot
 * episodes are drawn from them (dlrt_few_shot_episodes). An episode draws n_way distinct
 * classes, then k_shot + queries distinct images of each; the prototype of a class is the mean
 * embedding of its k_shot support images; a query is classified as the class of the nearest
 * prototype: the smallest squared L2 distance (metric l2) or the largest cosine similarity
 * (metric cosine); ties go to the class drawn first. accuracy = correct queries / all queries
 * of all episodes (every episode has n_way * queries, so it is also the mean of the episodes'
 * accuracies); ci95 = 1.96 * s / sqrt(episodes), s the sample standard deviation (n - 1) of
 * the episodes' accuracies (the normal approximation usual in the few-shot literature; NAN
 * with one episode). The draws come from a stream keyed by the run's seed and the entry's
 * position in the list, so a run is reproducible and entries do not disturb each other.
 */
#ifndef DLRT_FEWSHOT_H
#define DLRT_FEWSHOT_H
#include <stddef.h>
#include <stdint.h>

enum { DLRT_MAX_FEW_SHOT = 8 };
enum { DLRT_FEW_SHOT_L2 = 0, DLRT_FEW_SHOT_COSINE = 1 };

typedef struct dlrt_few_shot {
    int output;         /* the embedding: the model output (DLRT_OUTPUT) of this index */
    const char *input;  /* the model input fed each test image */
    int n_way;          /* classes per episode */
    int k_shot;         /* support images per class */
    int queries;        /* query images per class */
    long long episodes; /* episodes drawn */
    uint32_t classes;   /* bit c: class c may be drawn */
    int metric;         /* DLRT_FEW_SHOT_L2 or DLRT_FEW_SHOT_COSINE */
} dlrt_few_shot;

typedef struct dlrt_few_shot_result {
    double accuracy;    /* share of queries classified right, over all episodes */
    double ci95;        /* half-width of the 95% interval (NAN with one episode) */
    long long queries;  /* queries classified */
} dlrt_few_shot_result;

/* The episodes of `fs` over n embeddings emb[n][dim] with labels[n] (classes outside
 * fs->classes are ignored), drawn from a stream seeded with `seed`. -1 with a message when
 * fewer than n_way classes are present or a class holds fewer than k_shot + queries images. */
int dlrt_few_shot_episodes(const float *emb, long long dim, const int32_t *labels, int64_t n,
                           const dlrt_few_shot *fs, uint64_t seed, dlrt_few_shot_result *res,
                           char *err, size_t errlen);

/* The same checks of the classes alone (before training, so a run does not train in vain). */
int dlrt_few_shot_check(const int32_t *labels, int64_t n, const dlrt_few_shot *fs, char *err,
                        size_t errlen);

/* The mean of acc[0..n) into *mean and 1.96 * sample std / sqrt(n) (NAN when n < 2). */
double dlrt_few_shot_ci95(const double *acc, long long n, double *mean);

/* The stream key of entry `index` of a run seeded with `seed`. */
uint64_t dlrt_few_shot_seed(long long seed, int index);

/* "5-way 1-shot classes [5..9]" / "[0, 2, 4]" (into buf, returned) */
const char *dlrt_few_shot_name(const dlrt_few_shot *fs, char *buf, size_t n);

#endif
