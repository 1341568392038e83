/*
 * dlrt_data.c — the named image datasets (mnist, fashion-mnist) and where they are found.
 *
 * A dataset lives in <data dir>/<name>/ as the four MNIST-layout IDX files
 * {train,t10k}-{images-idx3,labels-idx1}-ubyte, each gzip-compressed (".gz", tried first) or raw.
 * tools/setup.sh prepares <repo>/data; --data or $DLC_DATA choose another directory.
 *
 * Invariants: images are rank 3 [n, rows, cols] and labels rank 1 [n] with the same n; every label
 * is < n_classes (10). Pixels become x/255.0f, one sample being [1, rows, cols]. On failure
 * *out is left zeroed (dlrt_dataset_free on it is harmless) and err names the file or directory.
 */
#define _POSIX_C_SOURCE 200809L
#include "dlrt_data.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DATA_PATH_MAX 4096 /* longest path built here */
#define DATA_N_CLASSES 10  /* classes in both known datasets */

const char *const dlrt_dataset_names[] = {"mnist", "fashion-mnist"};
const int dlrt_dataset_count = (int)(sizeof dlrt_dataset_names / sizeof dlrt_dataset_names[0]);

/* The advice appended to every "data not found" message. */
static const char SETUP_HINT[] =
    "run tools/setup.sh to prepare it, or choose another data directory with --data or DLC_DATA";

const char *dlrt_data_dir(const char *flag, const char *fallback) {
    if (flag)
        return flag;
    const char *env = getenv("DLC_DATA");
    if (env && env[0])
        return env;
    return fallback ? fallback : "data";
}

int dlrt_failf(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* snprintf into a DATA_PATH_MAX buffer; -1 (with a message) if the path does not fit. */
static int build_path(char *buf, char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, DATA_PATH_MAX, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= DATA_PATH_MAX)
        return dlrt_failf(err, errlen, "%.200s...: path too long", buf);
    return 0;
}

static int known_dataset(const char *name) {
    for (int i = 0; i < dlrt_dataset_count; i++)
        if (strcmp(name, dlrt_dataset_names[i]) == 0)
            return 1;
    return 0;
}

/* Checks the dataset name and that <dir>/<name> is a directory; fills dsdir with that path. */
static int find_dataset_dir(const char *dir, const char *name, char *dsdir, char *err,
                            size_t errlen) {
    if (build_path(dsdir, err, errlen, "%s/%s", dir, name) != 0)
        return -1;
    if (!known_dataset(name))
        return dlrt_failf(err, errlen,
                     "%s: unknown dataset '%s' (known: mnist and fashion-mnist, which "
                     "tools/setup.sh prepares in the data directory, here %s; choose another "
                     "data directory with --data or DLC_DATA)",
                     dsdir, name, dir);
    struct stat st;
    if (stat(dsdir, &st) != 0 || !S_ISDIR(st.st_mode))
        return dlrt_failf(err, errlen, "%s: dataset directory not found (searched data directory %s); %s",
                     dsdir, dir, SETUP_HINT);
    return 0;
}

/* Picks <base>.gz if it exists, else <base>; fills path. A file that exists but cannot be opened
 * is left for dlrt_idx_load to report; a file missing in both forms is reported here. */
static int pick_file(const char *base, char *path, char *err, size_t errlen) {
    if (build_path(path, err, errlen, "%s.gz", base) != 0)
        return -1;
    struct stat st;
    if (stat(path, &st) == 0 || errno != ENOENT)
        return 0;
    if (build_path(path, err, errlen, "%s", base) != 0)
        return -1;
    if (stat(path, &st) == 0 || errno != ENOENT)
        return 0;
    return dlrt_failf(err, errlen, "%s.gz: cannot open: No such file or directory (nor %s); %s", base,
                 base, SETUP_HINT);
}

/* Loads <dsdir>/<prefix>-<kind>-ubyte[.gz] into t; path receives the file name used. */
static int load_part(const char *dsdir, const char *prefix, const char *kind, dlrt_idx *t,
                     char *path, char *err, size_t errlen) {
    char base[DATA_PATH_MAX];
    if (build_path(base, err, errlen, "%s/%s-%s-ubyte", dsdir, prefix, kind) != 0)
        return -1;
    if (pick_file(base, path, err, errlen) != 0)
        return -1;
    return dlrt_idx_load(path, t, err, errlen);
}

/* Checks that images are [n, rows, cols] and labels [n] with every label < DATA_N_CLASSES. */
static int check_pair(const dlrt_idx *im, const char *impath, const dlrt_idx *lb,
                      const char *lbpath, char *err, size_t errlen) {
    if (im->rank != 3)
        return dlrt_failf(err, errlen, "%s: expected images of rank 3 [n, rows, cols], found rank %d",
                     impath, im->rank);
    if (lb->rank != 1)
        return dlrt_failf(err, errlen, "%s: expected labels of rank 1 [n], found rank %d", lbpath,
                     lb->rank);
    if (lb->type != 0x08)
        return dlrt_failf(err, errlen, "%s: expected labels of type 0x08 (unsigned byte), found 0x%02x",
                     lbpath, lb->type);
    if (lb->dims[0] != im->dims[0])
        return dlrt_failf(err, errlen,
                     "%s: count mismatch: %" PRId64 " labels but %s holds %" PRId64 " images",
                     lbpath, lb->dims[0], impath, im->dims[0]);
    for (int64_t i = 0; i < lb->dims[0]; i++)
        if (lb->data[i] >= DATA_N_CLASSES)
            return dlrt_failf(err, errlen,
                         "%s: label %d at index %" PRId64 " is out of range (expected 0 to %d)",
                         lbpath, lb->data[i], i, DATA_N_CLASSES - 1);
    return 0;
}

/* Fills out from a checked image/label pair: byte pixels scaled to [0, 1] (float images, type
 * 0x0D, already checked finite, taken as they are), labels widened. */
static int fill_dataset(const dlrt_idx *im, const dlrt_idx *lb, dlrt_dataset *out,
                        const char *impath, char *err, size_t errlen) {
    int64_t n = im->dims[0], size = im->dims[1] * im->dims[2];
    if ((uint64_t)(n * size) > SIZE_MAX / sizeof(float))
        return dlrt_failf(err, errlen, "%s: too large to hold as floats", impath);
    out->x = malloc((size_t)(n * size) * sizeof(float));
    out->y = malloc((size_t)n * sizeof(int32_t));
    if (!out->x || !out->y) {
        dlrt_dataset_free(out);
        return dlrt_failf(err, errlen, "%s: out of memory", impath);
    }
    if (im->type == 0x0D)
        memcpy(out->x, im->data, (size_t)(n * size) * sizeof(float));
    else
        for (int64_t i = 0; i < n * size; i++)
            out->x[i] = (float)im->data[i] / 255.0f;
    for (int64_t i = 0; i < n; i++)
        out->y[i] = lb->data[i];
    out->n = n;
    out->rank = 3;
    out->shape[0] = 1;
    out->shape[1] = im->dims[1];
    out->shape[2] = im->dims[2];
    out->sample_size = size;
    out->n_classes = DATA_N_CLASSES;
    return 0;
}

/* Maps split "train"/"test" to the file-name prefix; NULL if unknown. */
static const char *split_prefix(const char *split) {
    if (strcmp(split, "train") == 0)
        return "train";
    if (strcmp(split, "test") == 0)
        return "t10k";
    return NULL;
}

int dlrt_dataset_load(const char *dir, const char *name, const char *split, dlrt_dataset *out,
                      char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    const char *prefix = split_prefix(split);
    if (!prefix)
        return dlrt_failf(err, errlen, "%s: unknown split '%s' (expected train or test)", name, split);
    char dsdir[DATA_PATH_MAX], impath[DATA_PATH_MAX], lbpath[DATA_PATH_MAX];
    if (find_dataset_dir(dir, name, dsdir, err, errlen) != 0)
        return -1;
    dlrt_idx im, lb;
    memset(&im, 0, sizeof im);
    memset(&lb, 0, sizeof lb);
    int rc = load_part(dsdir, prefix, "images-idx3", &im, impath, err, errlen);
    if (rc == 0)
        rc = load_part(dsdir, prefix, "labels-idx1", &lb, lbpath, err, errlen);
    if (rc == 0)
        rc = check_pair(&im, impath, &lb, lbpath, err, errlen);
    if (rc == 0)
        rc = fill_dataset(&im, &lb, out, impath, err, errlen);
    if (rc == 0)
        out->source = strdup(impath); /* NULL when out of memory: messages then name no file */
    dlrt_idx_free(&im);
    dlrt_idx_free(&lb);
    return rc;
}

int dlrt_dataset_open(const dlrt_data_spec *spec, const char *split, dlrt_dataset *out, char *err,
                      size_t errlen) {
    if (strcmp(spec->name, "sine") == 0)
        return dlrt_sine_make(&spec->sine, spec->seed, split, out, err, errlen);
    if (spec->table.format != DLRT_TABLE_NONE) {
        if (dlrt_table_open(&spec->table, spec->seed, split, out, err, errlen)) return -1;
    } else if (dlrt_dataset_load(spec->dir, spec->name, split, out, err, errlen))
        return -1;
    int64_t limit = strcmp(split, "test") == 0 ? spec->test_limit : spec->limit;
    if ((spec->classes == 0 && limit == 0) ||
        dlrt_dataset_subset(out, split, spec->classes, limit, err, errlen) == 0)
        return 0;
    dlrt_dataset_free(out);
    return -1;
}

void dlrt_dataset_free(dlrt_dataset *ds) {
    if (!ds)
        return;
    free(ds->x);
    free(ds->y);
    free(ds->target);
    free(ds->source);
    free(ds->group);
    memset(ds, 0, sizeof *ds);
}
