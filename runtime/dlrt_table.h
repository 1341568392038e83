/*
 * dlrt_table.h — users' own tabular data: a CSV file (header row, named columns, a chosen
 * delimiter, RFC 4180 quoted fields) read into a dlrt_dataset, and the splits of one file
 * (a seeded random test split, stratified by class or kept apart by group).
 *
 * The features are the columns `x_cols` (in that order), or every column from `x_first` to
 * `x_last` in the header's order; the target is one label column (i32 class indices) or
 * `n_y` real columns. Every value is parsed straight into the dataset's final float buffer
 * (no second copy of the file is held). Errors name the file, the line and the column.
 */
#ifndef DLRT_TABLE_H
#define DLRT_TABLE_H
#include <stddef.h>
#include <stdint.h>

struct dlrt_dataset;

enum { DLRT_TABLE_NONE, DLRT_TABLE_CSV, DLRT_TABLE_NPY, DLRT_TABLE_NPZ };
enum { DLRT_TABLE_MAX_COLS = 4096 };

typedef struct dlrt_table_spec {
    int format;                /* DLRT_TABLE_*: NONE (a named dataset), CSV, NPY or NPZ */
    const char *file;          /* the training file (or the one file split); NPY: NULL */
    const char *test_file;     /* the test file, or NULL: `test` of `file` is the test split */
    const char *const *x_cols; /* feature columns by name (n_x of them), or NULL with a range */
    int n_x;                   /* entries of x_cols */
    const char *x_first, *x_last; /* the range of columns x_first..x_last (header order) */
    const char *const *y_cols; /* the target columns (1 with labels) */
    int n_y;                   /* entries of y_cols */
    int labels;                /* the target is an i32 class index (else n_y reals) */
    int64_t classes;           /* labels: must be < this (0: any; then max label + 1 classes) */
    const char *group;         /* the group column (no group in two splits), or NULL */
    char delimiter;            /* field separator (',' by default) */
    double test;               /* the test fraction of `file` when test_file is NULL */
    int stratify;              /* keep each class's share in both splits */
} dlrt_table_spec;

/* Reads `path` as CSV by `spec` into *out (zeroed on failure); with spec->group, out->group
 * holds each row's group id (0..out->n_groups-1, in order of first appearance). */
int dlrt_csv_read(const dlrt_table_spec *spec, const char *path, struct dlrt_dataset *out,
                  char *err, size_t errlen);

/* Reads NumPy arrays by `spec` into *out: NPY, the files spec->x_cols[0], y_cols[0] and group
 * (path NULL); NPZ, the arrays of those names in the archive `path` (runtime/dlrt_npy.c). */
int dlrt_npy_read(const dlrt_table_spec *spec, const char *path, struct dlrt_dataset *out,
                  char *err, size_t errlen);

/* The edit distance of two names, for "did you mean" (names over 63 bytes count as far apart). */
int dlrt_edit_distance(const char *a, const char *b);

/* Marks the test rows of ds (in_test[i] = 1), about `fraction` of them, from `seed`: whole
 * groups when ds->group is set, each class's share with `stratify`, else at random. */
int dlrt_split_mark(const struct dlrt_dataset *ds, double fraction, int stratify, uint64_t seed,
                    unsigned char *in_test, char *err, size_t errlen);

/* Keeps the rows of ds whose in_test[i] equals `keep`, in file order (groups compacted too). */
void dlrt_split_keep(struct dlrt_dataset *ds, const unsigned char *in_test, int keep);

/* The validation part of the training split: the last n_val rows of `order` (a shuffle of
 * ds's rows), n_val = floor(validation * n). With groups, `order` is rearranged so that each
 * group's rows are together (the groups in a seeded order) and n_val covers whole groups, at
 * least that many rows, keeping at least one group for training. Returns n_val. */
int64_t dlrt_split_validation(const struct dlrt_dataset *ds, int64_t *order, double validation,
                              uint64_t seed);

/* Split "train" or "test" of the table spec names (the split of one file drawn from `seed`). */
int dlrt_table_open(const dlrt_table_spec *spec, uint64_t seed, const char *split,
                    struct dlrt_dataset *out, char *err, size_t errlen);

#endif
