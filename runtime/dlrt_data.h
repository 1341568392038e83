/*
 * dlrt_data.h — datasets for the runtime: IDX files (gzip or raw) and the named image datasets
 * (mnist, fashion-mnist) found in a data directory.
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

/* A raw IDX tensor as stored in the file (only unsigned-byte data, type 0x08, is supported). */
typedef struct dlrt_idx {
    int rank;          /* number of dimensions (1..4) */
    int64_t dims[4];   /* dimension sizes, outermost first */
    uint8_t *data;     /* dims[0]*...*dims[rank-1] bytes, malloc'd; free with dlrt_idx_free */
} dlrt_idx;

int dlrt_idx_load(const char *path, dlrt_idx *out, char *err, size_t errlen);
void dlrt_idx_free(dlrt_idx *t);

/* A labelled dataset in memory: n samples of sample_size floats each, plus one label each. */
typedef struct dlrt_dataset {
    int64_t n;              /* number of samples */
    int rank;               /* per-sample rank (mnist: 3 = [1, 28, 28]) */
    int64_t shape[4];       /* per-sample shape */
    int64_t sample_size;    /* product of shape: floats per sample */
    float *x;               /* n * sample_size floats, pixels scaled to [0, 1]; malloc'd */
    int32_t *y;             /* n labels in [0, n_classes); malloc'd */
    int n_classes;          /* 10 for mnist and fashion-mnist */
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

#endif
