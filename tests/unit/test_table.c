/*
 * test_table.c — unit tests for users' tables (runtime/dlrt_csv.c, runtime/dlrt_split.c):
 * the CSV reader (quoted fields with delimiters, quotes and line breaks, CRLF, another
 * delimiter, a column range, blank lines) and the splits of one file. Group split: over 50
 * seeds, no group has rows in both the training and the test split, nor in both the training
 * and the validation part, and every row is in exactly one split. Reproducibility: the same
 * seed gives the same split, another seed another. Stratified: each class keeps its share.
 * Prints "N passed, M failed" last; exits non-zero on any failure.
 */
#include "dlrt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

static void check(int ok, const char *what) {
    if (ok) passed++;
    else failed++, fprintf(stderr, "FAIL: %s\n", what);
}

static char dir[] = "/tmp/dlc-test-table-XXXXXX";

static const char *write_file(const char *name, const char *text) {
    static char path[4][256];
    static int k;
    char *p = path[k++ % 4];
    snprintf(p, 256, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (f) fputs(text, f), fclose(f);
    return p;
}

static void test_reader(void) {
    const char *p = write_file("q.csv", "a,\"b, the second\",label\r\n1,\"2\",0\r\n\r\n"
                               "\"3.5\",-4e1,\"1\"\r\n5,6,2");
    static const char *const x[] = {"b, the second", "a"}, *const y[] = {"label"};
    dlrt_table_spec s = {.format = DLRT_TABLE_CSV, .file = p, .x_cols = x, .n_x = 2, .y_cols = y,
                         .n_y = 1, .labels = 1};
    dlrt_dataset ds;
    char err[512] = "";
    int rc = dlrt_csv_read(&s, p, &ds, err, sizeof err);
    check(rc == 0, err);
    check(rc == 0 && ds.n == 3 && ds.sample_size == 2 && ds.n_classes == 3, "3 rows of 2, 3 classes");
    check(rc == 0 && ds.x[0] == 2 && ds.x[1] == 1 && ds.x[2] == -40 && ds.x[3] == 3.5f &&
          ds.y[1] == 1 && ds.y[2] == 2, "values in the listed order");
    dlrt_dataset_free(&ds);
    p = write_file("semi.csv", "id;\"say \"\"hi\"\"\";v\nr1;\"x\ny\";7\n");
    static const char *const r[] = {"v"};
    s = (dlrt_table_spec){.format = DLRT_TABLE_CSV, .x_first = "v", .x_last = "v", .y_cols = r,
                          .n_y = 1, .delimiter = ';'};
    rc = dlrt_csv_read(&s, p, &ds, err, sizeof err);
    check(rc == 0 && ds.n == 1 && ds.x[0] == 7 && ds.target[0] == 7 && ds.target_size == 1,
          "quotes, a line break in a field, ';', a range, real targets");
    dlrt_dataset_free(&ds);
}

/* 200 rows, 23 groups of unequal sizes, labels 0-2: "g<k>,<row>,<label>" */
static const char *group_file(void) {
    static char text[8192];
    size_t at = (size_t)snprintf(text, sizeof text, "person,f,label\n");
    for (int i = 0; i < 200; i++)
        at += (size_t)snprintf(text + at, sizeof text - at, "\"p %d\",%d,%d\n", (i * 7 + i / 9) % 23,
                               i, i % 3);
    return write_file("groups.csv", text);
}

static int open_split(dlrt_table_spec *s, uint64_t seed, const char *split, dlrt_dataset *ds) {
    char err[512] = "";
    int rc = dlrt_table_open(s, seed, split, ds, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    return rc;
}

/* whether a group id is in both parts (rows a[0..na) and b[0..nb) of ds) */
static int shares_group(const int32_t *ga, int64_t na, const int32_t *gb, int64_t nb) {
    for (int64_t i = 0; i < na; i++)
        for (int64_t j = 0; j < nb; j++)
            if (ga[i] == gb[j]) return 1;
    return 0;
}

static void test_group_split(void) {
    static const char *const x[] = {"f"}, *const y[] = {"label"};
    dlrt_table_spec s = {.format = DLRT_TABLE_CSV, .file = group_file(), .x_cols = x, .n_x = 1,
                         .y_cols = y, .n_y = 1, .labels = 1, .group = "person", .test = 0.25};
    int disjoint = 1, complete = 1, val_disjoint = 1;
    for (uint64_t seed = 0; seed < 50; seed++) {
        dlrt_dataset tr, te;
        if (open_split(&s, seed, "train", &tr) || open_split(&s, seed, "test", &te)) {
            check(0, "group split opens");
            return;
        }
        disjoint &= !shares_group(tr.group, tr.n, te.group, te.n);
        complete &= tr.n + te.n == 200 && te.n >= 50;
        int64_t *order = malloc(sizeof(int64_t) * (size_t)tr.n);
        for (int64_t i = 0; i < tr.n; i++) order[i] = i;
        int64_t n_val = dlrt_split_validation(&tr, order, 0.2, seed);
        int32_t *g = malloc(sizeof(int32_t) * (size_t)tr.n);
        for (int64_t i = 0; i < tr.n; i++) g[i] = tr.group[order[i]];
        val_disjoint &= n_val >= tr.n / 5 && n_val < tr.n &&
                        !shares_group(g, tr.n - n_val, g + tr.n - n_val, n_val);
        free(order), free(g);
        dlrt_dataset_free(&tr), dlrt_dataset_free(&te);
    }
    check(disjoint, "no group in both the training and the test split (50 seeds)");
    check(complete, "every row in one split, the test split at least its share");
    check(val_disjoint, "no group in both the training and the validation part (50 seeds)");
}

/* the features (row numbers) of the test split of seed */
static int64_t test_rows(dlrt_table_spec *s, uint64_t seed, float *rows) {
    dlrt_dataset te;
    if (open_split(s, seed, "test", &te)) return -1;
    int64_t n = te.n;
    memcpy(rows, te.x, sizeof(float) * (size_t)n);
    dlrt_dataset_free(&te);
    return n;
}

static void test_seeded_and_stratified(void) {
    static const char *const x[] = {"f"}, *const y[] = {"label"};
    dlrt_table_spec s = {.format = DLRT_TABLE_CSV, .file = group_file(), .x_cols = x, .n_x = 1,
                         .y_cols = y, .n_y = 1, .labels = 1, .test = 0.3};
    float a[200], b[200], c[200];
    int64_t na = test_rows(&s, 7, a), nb = test_rows(&s, 7, b), nc = test_rows(&s, 8, c);
    check(na == 60 && nb == na && !memcmp(a, b, sizeof(float) * 60), "the same seed, the same split");
    check(nc == 60 && memcmp(a, c, sizeof(float) * 60), "another seed, another split");
    s.stratify = 1;
    dlrt_dataset te;
    int count[3] = {0, 0, 0};
    if (open_split(&s, 3, "test", &te) == 0) {
        for (int64_t i = 0; i < te.n; i++) count[te.y[i]]++;
        dlrt_dataset_free(&te);
    }
    /* 67, 67 and 66 rows per class: 30% rounds to 20 each */
    check(count[0] == 20 && count[1] == 20 && count[2] == 20, "stratified: each class keeps 30%");
}

int main(void) {
    if (!mkdtemp(dir)) return 1;
    test_reader();
    test_group_split();
    test_seeded_and_stratified();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
