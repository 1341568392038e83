/*
 * check_embedding.c — the embeddings exported by `dlc --weights FILE --value NAME` are the ones
 * the training run evaluated. For the inference C of an embedding compiled into a shared object,
 * this program
 *   - opens the test split of DATASET as the run's few-shot evaluation does (every class any
 *     few_shot entry lists, raw pixels: the inference C normalises them itself, with the
 *     training statistics from the weights file);
 *   - computes every test image's embedding with PREFIX_predict, all in one call;
 *   - draws the episodes of one few_shot entry from the same stream the run drew them from
 *     (dlrt_few_shot_seed(seed, index)) and classifies them (dlrt_few_shot_episodes);
 *   - checks the accuracy against EXPECTED, the run's test.few_shot[index].accuracy.
 * The episodes and the classification rule are the run's, so the two accuracies differ only by
 * the queries whose nearest prototype the float rounding of the embeddings can flip (the
 * inference C sums in another order than the training C, and normalises in f32): near-ties.
 * We allow 0.2% of the queries (a stated floor; a near-tie needs two prototype distances equal
 * to about 1e-6 relative); a wrong weight, a missing normalisation or another value's output
 * moves thousands of the 75,000 queries of 1,000 episodes.
 *   check_embedding INFER.so PREFIX DATASET DATA_DIR CLASSES SEED INDEX N_WAY K_SHOT QUERIES
 *                   EPISODES ENTRY_CLASSES EXPECTED
 * CLASSES and ENTRY_CLASSES are bit masks (bit c: class c).
 */
#include "../../runtime/dlrt_data.h"
#include "../../runtime/dlrt_fewshot.h"
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef int (*predict_fn)(const float *input, int n, float *output);
typedef long (*size_fn)(void);

static int fail(const char *what, const char *detail) {
    fprintf(stderr, "check_embedding: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    return 1;
}

/* PREFIX_NAME of the shared object */
static void *symbol(void *so, const char *prefix, const char *name) {
    char sym[256];
    snprintf(sym, sizeof sym, "%s_%s", prefix, name);
    return dlsym(so, sym);
}

/* the embeddings of every sample of ds, n x *dim floats (malloc'd), or NULL */
static float *embed(void *so, const char *prefix, const dlrt_dataset *ds, long long *dim) {
    predict_fn predict;
    size_fn in_size, out_size;
    *(void **)&predict = symbol(so, prefix, "predict");
    *(void **)&in_size = symbol(so, prefix, "input_size");
    *(void **)&out_size = symbol(so, prefix, "output_size");
    if (!predict || !in_size || !out_size || in_size() != ds->sample_size) return NULL;
    *dim = out_size();
    float *emb = malloc(sizeof(float) * (size_t)(ds->n * *dim));
    if (emb && predict(ds->x, (int)ds->n, emb) != 0) {
        free(emb);
        return NULL;
    }
    return emb;
}

int main(int argc, char **argv) {
    if (argc != 14)
        return fail("usage: check_embedding INFER.so PREFIX DATASET DATA_DIR CLASSES SEED INDEX "
                    "N_WAY K_SHOT QUERIES EPISODES ENTRY_CLASSES EXPECTED", NULL);
    void *so = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!so) return fail("cannot load", dlerror());
    char err[1024];
    dlrt_data_spec spec = {.name = argv[3], .dir = argv[4],
                           .classes = (uint32_t)strtoul(argv[5], NULL, 0)};
    dlrt_dataset ds;
    if (dlrt_dataset_open(&spec, "test", &ds, err, sizeof err)) return fail(err, NULL);
    long long dim = 0;
    float *emb = embed(so, argv[2], &ds, &dim);
    if (!emb) return fail("the inference C does not map a test image to an embedding", argv[1]);
    dlrt_few_shot fs = {.n_way = atoi(argv[8]), .k_shot = atoi(argv[9]), .queries = atoi(argv[10]),
                        .episodes = atoll(argv[11]),
                        .classes = (uint32_t)strtoul(argv[12], NULL, 0)};
    dlrt_few_shot_result r;
    if (dlrt_few_shot_episodes(emb, dim, ds.y, ds.n, &fs,
                               dlrt_few_shot_seed(atoll(argv[6]), atoi(argv[7])), &r, err,
                               sizeof err))
        return fail(err, NULL);
    double expected = atof(argv[13]), flips = fabs(r.accuracy - expected) * (double)r.queries;
    printf("exported embeddings (%lld images, %lld values each): accuracy %.4f, the run's %.4f "
           "(%.0f of %lld queries differ)\n", (long long)ds.n, dim, r.accuracy, expected, flips,
           r.queries);
    free(emb);
    dlrt_dataset_free(&ds);
    return flips <= 0.002 * (double)r.queries ? 0 : fail("the accuracies differ by more than the "
                                                         "near-ties", NULL);
}
