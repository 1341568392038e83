/*
 * dlrt_data.h — datasets for the runtime: IDX files (gzip or raw), the named image datasets
 * (mnist, fashion-mnist) found in a data directory, and synthetic datasets drawn from a seed
 * (sine). dlrt_dataset_open is the one entry point the training loop uses for all of them.
 *
 * Errors never abort: functions return 0 on success and -1 on failure, writing a message that
 * names the file and what is wrong into err[errlen] (e.g. "data/mnist/train-images-idx3-ubyte.gz:
 * truncated: expected 47040000 bytes of pixel data, found 1024"). Public names are dlrt_-prefixed
 * because this library is linked into users' programs.
 */
#ifndef DLRT_DATA_H
#define DLRT_DATA_H
#include <stddef.h>
#include <stdint.h>

#include "dlrt_table.h"

/* A raw IDX tensor as stored in the file: unsigned bytes (type 0x08) or float32 (type 0x0D,
 * every value finite: a NaN or an Inf fails the load, naming the element). */
typedef struct dlrt_idx {
    int rank;          /* number of dimensions (1..4) */
    int type;          /* element type: 0x08 (unsigned byte) or 0x0D (float32) */
    int64_t dims[4];   /* dimension sizes, outermost first */
    uint8_t *data;     /* dims[0]*...*dims[rank-1] elements (bytes, or floats in host order),
                          malloc'd; free with dlrt_idx_free */
} dlrt_idx;

int dlrt_idx_load(const char *path, dlrt_idx *out, char *err, size_t errlen);
void dlrt_idx_free(dlrt_idx *t);

/* Writes n images of h x w (x: n*h*w f32 values, row-major) to path as an IDX file of unsigned
 * bytes, dims [n, h, w], as MNIST's image files are: each value's place in [lo, hi] scaled to
 * 0..255 (floor((x - lo) / (hi - lo) * 255 + 0.5), clamped), so lo, the background, is 0, and
 * hi is 255 (a tanh generator's [-1, 1], a sigmoid's [0, 1]). The file is raw IDX, replaced
 * atomically (dlrt_write_file): whole or not at all. Errors, with nothing written: n, h or w
 * < 1 or >= 2^32, more than 2^31 bytes, lo >= hi or either not finite, a NaN or an infinity
 * in x (named by sample and pixel), or the write failing. Returns 0, or -1 with "PATH: ..." in
 * err[errlen]. */
int dlrt_idx_write_images(const char *path, const float *x, int64_t n, int64_t h, int64_t w,
                          float lo, float hi, char *err, size_t errlen);

/* A dataset in memory: n samples of sample_size floats each (the features), and per sample
 * either a class label (y, classification) or target_size reals (target, regression). */
typedef struct dlrt_dataset {
    int64_t n;              /* number of samples */
    int rank;               /* per-sample rank (mnist: 3 = [1, 28, 28]; sine: 1 = [1]) */
    int64_t shape[4];       /* per-sample shape */
    int64_t sample_size;    /* product of shape: floats per sample */
    float *x;               /* n * sample_size floats (mnist: pixels scaled to [0, 1]); malloc'd */
    int32_t *y;             /* n labels in [0, n_classes), or NULL with real targets; malloc'd */
    int n_classes;          /* classes of y (10 for mnist and fashion-mnist); 0 with real targets */
    float *target;          /* n * target_size reals, or NULL with class labels; malloc'd */
    int64_t target_size;    /* reals per target (sine: 1); 0 with class labels */
    char *source;           /* the file the samples were read from, for messages (malloc'd), or
                               NULL (synthetic data) */
    int32_t *group;         /* a table's group column: each sample's group id, or NULL; malloc'd */
    int64_t n_groups;       /* distinct groups (ids 0..n_groups-1) */
} dlrt_dataset;

/* The data directory: `flag` (from --data) if non-NULL, else $DLC_DATA if set and non-empty,
 * else `fallback` (the build's default, <source dir>/data). Never NULL. */
const char *dlrt_data_dir(const char *flag, const char *fallback);

/* Load split "train" or "test" of dataset `name` ("mnist" or "fashion-mnist") from
 * <dir>/<name>/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] (the .gz form is tried first).
 * Checks that images and labels agree in count and labels are < 10. */
int dlrt_dataset_load(const char *dir, const char *name, const char *split, dlrt_dataset *out,
                      char *err, size_t errlen);
void dlrt_dataset_free(dlrt_dataset *ds);

/* Names of the datasets dlrt_dataset_load knows, for "did you mean" suggestions. */
extern const char *const dlrt_dataset_names[];
extern const int dlrt_dataset_count;

/* The parameters of the synthetic sine dataset: x ~ U[low, high), y = sin(x) + N(0, noise^2),
 * both f32[1]. The train and test splits are separate draws from streams seeded by `seed`. */
typedef struct dlrt_sine_opts {
    int64_t n;      /* training samples */
    int64_t n_test; /* test samples */
    double low;     /* smallest x */
    double high;    /* x stays below this */
    double noise;   /* standard deviation of the noise added to y (0: none) */
} dlrt_sine_opts;

/* Which dataset a run reads and where from. */
typedef struct dlrt_data_spec {
    const char *name;    /* "mnist", "fashion-mnist" (files in dir) or "sine" (synthetic) */
    const char *dir;     /* data directory of the file datasets (see dlrt_data_dir) */
    dlrt_sine_opts sine; /* sine: its parameters */
    uint64_t seed;       /* synthetic datasets: the draws */
    uint32_t classes;    /* labelled datasets: bit c set keeps class c (0: every class) */
    int64_t limit;       /* the train split keeps its first `limit` samples after the class
                            filter (0: all) */
    int64_t test_limit;  /* the same for the test split (0: all) */
    dlrt_table_spec table; /* format CSV: the user's file (name is then "csv") */
} dlrt_data_spec;

/* Fills split "train" or "test" of the dataset `spec` names. */
int dlrt_dataset_open(const dlrt_data_spec *spec, const char *split, dlrt_dataset *out, char *err,
                      size_t errlen);

/* Keeps, in file order, the samples of `ds` whose class is in `classes` (bit c: class c; 0:
 * all), then the first `limit` of them (0: all); labels keep their values. No sample left is
 * an error naming the split and the classes (runtime/dlrt_data_subset.c). */
int dlrt_dataset_subset(dlrt_dataset *ds, const char *split, uint32_t classes, int64_t limit,
                        char *err, size_t errlen);

/* The sine dataset's split "train" (n samples) or "test" (n_test samples). */
int dlrt_sine_make(const dlrt_sine_opts *o, uint64_t seed, const char *split, dlrt_dataset *out,
                   char *err, size_t errlen);

/* Writes the formatted message into err (when err is not NULL and errlen > 0) and returns -1:
 * the data readers' error return. */
int dlrt_failf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
