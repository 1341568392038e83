/*
 * dlrt_split.c — splits of a table's rows, all drawn from the run's seed (the same seed, the
 * same split):
 *   - a test split of one file (`test = 0.2`): a random share of the rows; with `stratify`
 *     each class's share; with a group column whole groups, so that no group (a person, a
 *     patient, a recording) has rows in both splits;
 *   - the validation part of the training split (`validation = 0.1`): with a group column it
 *     is made of whole groups too (dlrt_split_validation).
 * Why groups: photos of one person in both the training and the test split let a model score
 * well by recognising the person rather than what it should learn; the test then overstates
 * how it does on people it has never seen.
 */
#include "dlrt.h"
#include "dlrt_data.h"
#include "dlrt_table.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_SPLIT_STREAM 0x7465737473706c74ULL /* "testsplt": distinct from the loop's streams */
#define VAL_GROUP_STREAM 0x76616c67726f7570ULL  /* "valgroup" */

static int64_t *iota64(int64_t n) {
    int64_t *v = malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
    for (int64_t i = 0; v && i < n; i++) v[i] = i;
    return v;
}

/* whole groups, in a seeded order, until at least `want` rows are marked */
static int mark_groups(const dlrt_dataset *ds, int64_t want, dlrt_rng *rng, unsigned char *in_test,
                       char *err, size_t errlen) {
    int64_t *order = iota64(ds->n_groups), *size = calloc((size_t)ds->n_groups + 1, sizeof(int64_t));
    unsigned char *pick = calloc((size_t)ds->n_groups + 1, 1);
    int rc = order && size && pick ? 0 : -1;
    if (rc) snprintf(err, errlen, "out of memory for the group split");
    for (int64_t i = 0; rc == 0 && i < ds->n; i++) size[ds->group[i]]++;
    if (rc == 0) dlrt_rng_shuffle(rng, order, ds->n_groups);
    int64_t got = 0, k = 0;
    for (; rc == 0 && got < want && k < ds->n_groups - 1; k++) got += size[order[k]], pick[order[k]] = 1;
    for (int64_t i = 0; rc == 0 && i < ds->n; i++) in_test[i] = pick[ds->group[i]];
    free(order), free(size), free(pick);
    return rc;
}

/* each class's share of its rows, at random within the class */
static int mark_stratified(const dlrt_dataset *ds, double fraction, dlrt_rng *rng,
                           unsigned char *in_test, char *err, size_t errlen) {
    int64_t *rows = malloc(sizeof(int64_t) * (size_t)ds->n);
    if (!rows) {
        snprintf(err, errlen, "out of memory for the stratified split");
        return -1;
    }
    for (int cls = 0; cls < ds->n_classes; cls++) {
        int64_t m = 0;
        for (int64_t i = 0; i < ds->n; i++)
            if (ds->y[i] == cls) rows[m++] = i;
        dlrt_rng_shuffle(rng, rows, m);
        int64_t take = (int64_t)floor(fraction * (double)m + 0.5);
        for (int64_t k = 0; k < take; k++) in_test[rows[k]] = 1;
    }
    free(rows);
    return 0;
}

static int mark_random(int64_t n, int64_t want, dlrt_rng *rng, unsigned char *in_test) {
    int64_t *rows = iota64(n);
    if (!rows) return -1;
    dlrt_rng_shuffle(rng, rows, n);
    for (int64_t k = 0; k < want; k++) in_test[rows[k]] = 1;
    free(rows);
    return 0;
}

int dlrt_split_mark(const dlrt_dataset *ds, double fraction, int stratify, uint64_t seed,
                    unsigned char *in_test, char *err, size_t errlen) {
    const char *src = ds->source ? ds->source : "data";
    int64_t want = (int64_t)floor(fraction * (double)ds->n);
    if (ds->group && ds->n_groups < 2)
        return snprintf(err, errlen, "%s: a group split needs at least 2 groups, the group column "
                        "holds %lld", src, (long long)ds->n_groups), -1;
    if (want < 1 || want >= ds->n)
        return snprintf(err, errlen, "%s: test = %g of %lld rows leaves %s split empty", src,
                        fraction, (long long)ds->n, want < 1 ? "the test" : "the training"), -1;
    if (stratify && !ds->y)
        return snprintf(err, errlen, "%s: stratify needs class labels", src), -1;
    memset(in_test, 0, (size_t)ds->n);
    dlrt_rng rng;
    dlrt_rng_seed(&rng, seed ^ TEST_SPLIT_STREAM);
    int rc = ds->group ? mark_groups(ds, want, &rng, in_test, err, errlen)
           : stratify  ? mark_stratified(ds, fraction, &rng, in_test, err, errlen)
                       : mark_random(ds->n, want, &rng, in_test);
    if (rc) snprintf(err, errlen, "out of memory for the test split");
    return rc;
}

void dlrt_split_keep(dlrt_dataset *ds, const unsigned char *in_test, int keep) {
    int64_t kept = 0, size = ds->sample_size, ts = ds->target_size;
    for (int64_t i = 0; i < ds->n; i++) {
        if (in_test[i] != keep) continue;
        memmove(ds->x + kept * size, ds->x + i * size, sizeof(float) * (size_t)size);
        if (ds->y) ds->y[kept] = ds->y[i];
        if (ds->target) memmove(ds->target + kept * ts, ds->target + i * ts, sizeof(float) * (size_t)ts);
        if (ds->group) ds->group[kept] = ds->group[i];
        kept++;
    }
    ds->n = kept;
}

int dlrt_table_open(const dlrt_table_spec *spec, uint64_t seed, const char *split,
                    dlrt_dataset *out, char *err, size_t errlen) {
    int test = strcmp(split, "test") == 0;
    if (!test && strcmp(split, "train") != 0) {
        memset(out, 0, sizeof *out);
        snprintf(err, errlen, "%s: unknown split '%s' (expected train or test)",
                 spec->file ? spec->file : "npy", split);
        return -1;
    }
    const char *path = test && spec->test_file ? spec->test_file : spec->file;
    if (spec->format == DLRT_TABLE_CSV ? dlrt_csv_read(spec, path, out, err, errlen)
                                       : dlrt_npy_read(spec, path, out, err, errlen))
        return -1;
    if (spec->test_file) return 0;
    unsigned char *in_test = malloc((size_t)out->n);
    int rc = in_test ? dlrt_split_mark(out, spec->test, spec->stratify, seed, in_test, err, errlen)
                     : (snprintf(err, errlen, "out of memory for the test split"), -1);
    if (rc == 0) dlrt_split_keep(out, in_test, test);
    free(in_test);
    if (rc) dlrt_dataset_free(out);
    return rc;
}

/* the rank of each group in a seeded order */
static int64_t *group_ranks(const dlrt_dataset *ds, uint64_t seed) {
    int64_t *order = iota64(ds->n_groups), *rank = malloc(sizeof(int64_t) * (size_t)(ds->n_groups + 1));
    if (order && rank) {
        dlrt_rng rng;
        dlrt_rng_seed(&rng, seed ^ VAL_GROUP_STREAM);
        dlrt_rng_shuffle(&rng, order, ds->n_groups);
        for (int64_t k = 0; k < ds->n_groups; k++) rank[order[k]] = k;
    }
    free(order);
    if (!order) free(rank);
    return order ? rank : NULL;
}

int64_t dlrt_split_validation(const dlrt_dataset *ds, int64_t *order, double validation,
                              uint64_t seed) {
    int64_t want = (int64_t)floor(validation * (double)ds->n);
    if (!ds->group || want == 0 || ds->n_groups < 2) return ds->group ? 0 : want;
    int64_t *rank = group_ranks(ds, seed), *start = calloc((size_t)ds->n_groups + 1, sizeof(int64_t));
    int64_t *sorted = malloc(sizeof(int64_t) * (size_t)ds->n), n_val = 0;
    if (rank && start && sorted) {
        for (int64_t i = 0; i < ds->n; i++) start[rank[ds->group[i]] + 1]++;
        for (int64_t k = 0; k < ds->n_groups; k++) start[k + 1] += start[k];
        for (int64_t i = 0; i < ds->n; i++) sorted[start[rank[ds->group[order[i]]]]++] = order[i];
        memcpy(order, sorted, sizeof(int64_t) * (size_t)ds->n);
        /* start[k] is now the end of rank k's rows: whole groups from the end, at least one left */
        for (int64_t k = ds->n_groups - 1; k > 0 && n_val < want; k--) n_val = ds->n - start[k - 1];
    }
    free(rank), free(start), free(sorted);
    return n_val;
}
