/*
 * test_data.c — unit tests for the data layer (runtime/dlrt_idx.c, runtime/dlrt_data.c).
 *
 * Writes small IDX files, raw and gzip (via zlib), into a fresh temporary directory and checks
 * that good files load with the right values and that each kind of bad file is rejected with a
 * message naming the file and the problem. The real splits are loaded and checked too from the
 * data directory the runtime would use: $DLC_DATA when set (as dlrt_data_dir reads it), else
 * $DLC_TEST_MNIST_DIR (ctest sets it to the checkout's data/); it must hold mnist/ (and
 * optionally fashion-mnist/). With neither set those checks are skipped.
 * Prints "N passed, M failed" last; exits non-zero on any failure. The temp dir is removed.
 */
#define _XOPEN_SOURCE 700
#include "dlrt_data.h"

#include <ftw.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define DIR_LEN 1024  /* room for the temporary directory's name */
#define PATH_LEN 2048 /* room for any path built here (DIR_LEN plus a few names) */
#define ERR_LEN 1024  /* message buffer size */

/* Pass/fail counters and the scratch directory, threaded through every test. */
typedef struct ctx {
    int passed;         /* checks that held */
    int failed;         /* checks that did not */
    char dir[DIR_LEN];  /* the temporary directory */
} ctx;

static void check(ctx *c, int ok, const char *what, const char *detail) {
    if (ok) {
        c->passed++;
        return;
    }
    c->failed++;
    fprintf(stderr, "FAIL: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
}

/* ---- building files ---- */

/* Fills buf with an IDX header (magic 0 0 type rank, big-endian dims); returns its length. */
static size_t idx_header(uint8_t *buf, int type, int rank, const uint32_t *dims) {
    buf[0] = 0;
    buf[1] = 0;
    buf[2] = (uint8_t)type;
    buf[3] = (uint8_t)rank;
    for (int i = 0; i < rank; i++) {
        buf[4 + 4 * i] = (uint8_t)(dims[i] >> 24);
        buf[5 + 4 * i] = (uint8_t)(dims[i] >> 16);
        buf[6 + 4 * i] = (uint8_t)(dims[i] >> 8);
        buf[7 + 4 * i] = (uint8_t)dims[i];
    }
    return 4 + 4 * (size_t)rank;
}

/* Writes bytes to path, gzip-compressed if gz; returns 0 on success. */
static int write_file(const char *path, const uint8_t *bytes, size_t len, int gz) {
    if (gz) {
        gzFile f = gzopen(path, "wb");
        if (!f)
            return -1;
        int ok = len == 0 || gzwrite(f, bytes, (unsigned)len) == (int)len;
        return (gzclose(f) == Z_OK && ok) ? 0 : -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(bytes, 1, len, f);
    return (fclose(f) == 0 && n == len) ? 0 : -1;
}

/* Writes an IDX file: header for (type, rank, dims) then `ndata` bytes of data. */
static int write_idx(const char *path, int type, int rank, const uint32_t *dims,
                     const uint8_t *data, size_t ndata, int gz) {
    uint8_t buf[4096];
    size_t h = idx_header(buf, type, rank, dims);
    if (h + ndata > sizeof buf)
        return -1;
    if (ndata)
        memcpy(buf + h, data, ndata);
    return write_file(path, buf, h + ndata, gz);
}

static void join(char *out, const ctx *c, const char *name) {
    snprintf(out, PATH_LEN, "%s/%s", c->dir, name);
}

/* ---- IDX-level checks ---- */

/* Expects dlrt_idx_load(path) to fail with a message containing the path and `phrase`. */
static void expect_idx_error(ctx *c, const char *path, const char *phrase) {
    dlrt_idx t;
    char err[ERR_LEN] = "";
    int rc = dlrt_idx_load(path, &t, err, sizeof err);
    char what[PATH_LEN + 64];
    snprintf(what, sizeof what, "idx error '%s'", phrase);
    check(c, rc == -1, what, "load succeeded");
    check(c, strncmp(err, path, strlen(path)) == 0, what, err);
    check(c, strstr(err, phrase) != NULL, what, err);
    check(c, t.data == NULL, what, "data not NULL after failure");
}

static void test_idx_good(ctx *c, int gz) {
    char path[PATH_LEN];
    join(path, c, gz ? "good.idx.gz" : "good.idx");
    uint32_t dims[3] = {2, 3, 1};
    uint8_t data[6] = {0, 1, 2, 253, 254, 255};
    check(c, write_idx(path, 8, 3, dims, data, 6, gz) == 0, "write good idx", path);
    dlrt_idx t;
    char err[ERR_LEN] = "";
    int rc = dlrt_idx_load(path, &t, err, sizeof err);
    check(c, rc == 0, "good idx loads", err);
    if (rc != 0)
        return;
    check(c, t.rank == 3 && t.dims[0] == 2 && t.dims[1] == 3 && t.dims[2] == 1, "good idx dims",
          NULL);
    check(c, memcmp(t.data, data, 6) == 0, "good idx data", NULL);
    dlrt_idx_free(&t);
    check(c, t.data == NULL, "idx_free clears", NULL);
}

static void test_idx_header_errors(ctx *c) {
    char path[PATH_LEN];
    uint32_t dims[4] = {2, 2, 0, 0};
    uint8_t data[4] = {1, 2, 3, 4};
    uint8_t bad_magic[12] = {0x1f, 0x00, 0x08, 0x01, 0, 0, 0, 4, 1, 2, 3, 4};
    join(path, c, "badmagic.idx");
    write_file(path, bad_magic, sizeof bad_magic, 0);
    expect_idx_error(c, path, "bad magic bytes 0x1f 0x00");
    join(path, c, "badtype.idx");
    write_idx(path, 0x0b, 2, dims, data, 4, 0);
    expect_idx_error(c, path, "unsupported IDX element type 0x0b");
    join(path, c, "rank0.idx");
    write_idx(path, 8, 0, dims, NULL, 0, 0);
    expect_idx_error(c, path, "bad IDX rank 0");
    join(path, c, "rank5.idx");
    uint32_t dims5[5] = {1, 1, 1, 1, 1};
    write_idx(path, 8, 5, dims5, data, 1, 0);
    expect_idx_error(c, path, "bad IDX rank 5");
    join(path, c, "dimzero.idx");
    write_idx(path, 8, 3, dims, NULL, 0, 0);
    expect_idx_error(c, path, "dimension 2 is 0");
    join(path, c, "huge.idx");
    uint32_t huge[3] = {65536, 65536, 1};
    write_idx(path, 8, 3, huge, data, 4, 0);
    expect_idx_error(c, path, "more than 2^31 bytes");
    join(path, c, "empty.idx");
    write_file(path, data, 0, 0);
    expect_idx_error(c, path, "the file is empty");
    join(path, c, "shorthead.idx");
    write_file(path, bad_magic + 1, 3, 0);
    expect_idx_error(c, path, "expected a 4-byte IDX header, found 3 bytes");
    join(path, c, "shortdims.idx");
    write_file(path, (const uint8_t[]){0, 0, 8, 2, 0, 0, 0}, 7, 0);
    expect_idx_error(c, path, "expected 8 bytes of IDX dimensions, found 3");
}

/* n big-endian float32 values of v into out */
static void put_floats(uint8_t *out, const float *v, int n) {
    for (int i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], sizeof u);
        for (int k = 0; k < 4; k++) out[4 * i + k] = (uint8_t)(u >> (24 - 8 * k));
    }
}

/* float32 IDX (type 0x0D): finite values load in host order; a NaN or an Inf is an error naming
 * the sample, the feature and the byte offset */
static void test_idx_floats(ctx *c, int gz) {
    char path[PATH_LEN];
    uint32_t dims[2] = {3, 2};
    float v[6] = {0.5f, -1.25f, 3e38f, 0.f, -0.f, 1e-30f};
    uint8_t bytes[24];
    put_floats(bytes, v, 6);
    join(path, c, gz ? "floats.idx.gz" : "floats.idx");
    write_idx(path, 0x0d, 2, dims, bytes, 24, gz);
    dlrt_idx t;
    char err[ERR_LEN] = "";
    int rc = dlrt_idx_load(path, &t, err, sizeof err);
    check(c, rc == 0 && t.type == 0x0d && t.dims[0] == 3 && t.dims[1] == 2, "float idx loads", err);
    check(c, rc == 0 && memcmp(t.data, v, sizeof v) == 0, "float idx values in host order", NULL);
    dlrt_idx_free(&t);
    v[3] = NAN; /* sample 1, feature 1: element 3, byte 12 + 4 * 3 */
    put_floats(bytes, v, 6);
    join(path, c, gz ? "nan.idx.gz" : "nan.idx");
    write_idx(path, 0x0d, 2, dims, bytes, 24, gz);
    expect_idx_error(c, path, "element 3 (sample 1, feature 1; byte offset 24) is NaN");
    v[3] = 0, v[4] = -INFINITY;
    put_floats(bytes, v, 6);
    join(path, c, gz ? "inf.idx.gz" : "inf.idx");
    write_idx(path, 0x0d, 2, dims, bytes, 24, gz);
    expect_idx_error(c, path, "element 4 (sample 2, feature 0; byte offset 28) is -Inf");
    join(path, c, "float_trunc.idx");
    write_idx(path, 0x0d, 2, dims, bytes, 23, 0);
    expect_idx_error(c, path, "truncated: expected 24 bytes of data, found 23");
}

static void test_idx_data_errors(ctx *c, int gz) {
    char path[PATH_LEN];
    uint32_t dims[2] = {3, 4};
    uint8_t data[16] = {0};
    join(path, c, gz ? "trunc.idx.gz" : "trunc.idx");
    write_idx(path, 8, 2, dims, data, 7, gz);
    expect_idx_error(c, path, "truncated: expected 12 bytes of data, found 7");
    join(path, c, gz ? "trailing.idx.gz" : "trailing.idx");
    write_idx(path, 8, 2, dims, data, 15, gz);
    expect_idx_error(c, path, "3 unexpected trailing bytes");
    join(path, c, "missing.idx");
    expect_idx_error(c, path, "cannot open: No such file or directory");
    expect_idx_error(c, c->dir, "is a directory; a data file must be a regular file");
}

/* Reads a whole (small) file into buf; returns its length or 0. */
static size_t slurp(const char *path, uint8_t *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void test_idx_corrupt_gzip(ctx *c) {
    char path[PATH_LEN];
    uint32_t dims[1] = {1000};
    uint8_t data[1000], gzbytes[4096];
    for (int i = 0; i < 1000; i++)
        data[i] = (uint8_t)(i * 7);
    join(path, c, "corrupt.idx.gz");
    write_idx(path, 8, 1, dims, data, 1000, 1);
    size_t n = slurp(path, gzbytes, sizeof gzbytes);
    check(c, n > 8, "read back gzip", path);
    gzbytes[n - 8] ^= 0xff; /* first byte of the CRC-32 trailer */
    write_file(path, gzbytes, n, 0);
    expect_idx_error(c, path, "corrupt or truncated gzip data: incorrect data check");
    join(path, c, "cutgzip.idx.gz");
    gzbytes[n - 8] ^= 0xff;
    write_file(path, gzbytes, n / 2, 0);
    expect_idx_error(c, path, "corrupt or truncated gzip data: unexpected end of file");
}

/* ---- dataset-level checks ---- */

/* Writes <dir>/<ds>/<prefix>-{images-idx3,labels-idx1}-ubyte[.gz] with the given content. */
static void write_pair(ctx *c, const char *ds, const char *prefix, int gz, uint32_t n_img,
                       uint32_t n_lab, const uint8_t *labels, int img_rank) {
    char path[PATH_LEN];
    uint8_t pixels[64];
    for (int i = 0; i < 64; i++)
        pixels[i] = (uint8_t)(i * 4);
    uint32_t idims[3] = {n_img, 2, 3};
    snprintf(path, sizeof path, "%s/%s/%s-images-idx3-ubyte%s", c->dir, ds, prefix, gz ? ".gz" : "");
    if (img_rank == 3)
        write_idx(path, 8, 3, idims, pixels, n_img * 6, gz);
    else
        write_idx(path, 8, 1, idims, pixels, n_img, gz);
    uint32_t ldims[1] = {n_lab};
    snprintf(path, sizeof path, "%s/%s/%s-labels-idx1-ubyte%s", c->dir, ds, prefix, gz ? ".gz" : "");
    write_idx(path, 8, 1, ldims, labels, n_lab, gz);
}

static void make_dir(ctx *c, const char *name) {
    char path[PATH_LEN];
    join(path, c, name);
    check(c, mkdir(path, 0755) == 0, "mkdir", path);
}

/* Expects dlrt_dataset_load to fail with a message containing both phrases. */
static void expect_ds_error(ctx *c, const char *dir, const char *name, const char *split,
                            const char *phrase1, const char *phrase2) {
    dlrt_dataset ds;
    char err[ERR_LEN] = "";
    int rc = dlrt_dataset_load(dir, name, split, &ds, err, sizeof err);
    char what[256];
    snprintf(what, sizeof what, "dataset error '%s'", phrase1);
    check(c, rc == -1, what, "load succeeded");
    check(c, strstr(err, phrase1) != NULL, what, err);
    check(c, strstr(err, phrase2) != NULL, what, err);
    check(c, ds.x == NULL && ds.y == NULL, what, "buffers not NULL after failure");
}

static void test_dataset_good(ctx *c) {
    uint8_t labels[3] = {0, 5, 9};
    make_dir(c, "mnist");
    write_pair(c, "mnist", "train", 1, 3, 3, labels, 3);
    uint8_t decoy[3] = {1, 1, 1}; /* the raw file must be ignored when the .gz exists */
    write_pair(c, "mnist", "train", 0, 3, 3, decoy, 3);
    dlrt_dataset ds;
    char err[ERR_LEN] = "";
    int rc = dlrt_dataset_load(c->dir, "mnist", "train", &ds, err, sizeof err);
    check(c, rc == 0, "dataset loads", err);
    if (rc != 0)
        return;
    check(c, ds.n == 3 && ds.rank == 3 && ds.sample_size == 6, "dataset n/rank/size", NULL);
    check(c, ds.shape[0] == 1 && ds.shape[1] == 2 && ds.shape[2] == 3, "dataset shape", NULL);
    check(c, ds.n_classes == 10, "dataset n_classes", NULL);
    check(c, ds.y[0] == 0 && ds.y[1] == 5 && ds.y[2] == 9, "labels from the .gz file", NULL);
    int pix_ok = 1;
    for (int i = 0; i < 18; i++)
        pix_ok &= ds.x[i] == (float)(i * 4) / 255.0f;
    check(c, pix_ok, "pixels are x/255", NULL);
    dlrt_dataset_free(&ds);
    check(c, ds.x == NULL && ds.y == NULL, "dataset_free clears", NULL);
    write_pair(c, "mnist", "t10k", 0, 2, 2, labels, 3); /* raw only */
    rc = dlrt_dataset_load(c->dir, "mnist", "test", &ds, err, sizeof err);
    check(c, rc == 0 && ds.n == 2 && ds.y[1] == 5, "raw test split loads", err);
    dlrt_dataset_free(&ds);
}

static void test_dataset_errors(ctx *c) {
    uint8_t labels[4] = {1, 2, 10, 3};
    make_dir(c, "fashion-mnist");
    expect_ds_error(c, c->dir, "fashion-mnist", "train",
                    "fashion-mnist/train-images-idx3-ubyte.gz: cannot open: No such file",
                    "tools/setup.sh");
    write_pair(c, "fashion-mnist", "train", 1, 3, 4, labels, 3);
    expect_ds_error(c, c->dir, "fashion-mnist", "train", "train-labels-idx1-ubyte.gz: count mismatch",
                    "4 labels but");
    write_pair(c, "fashion-mnist", "train", 1, 4, 4, labels, 3);
    expect_ds_error(c, c->dir, "fashion-mnist", "train", "train-labels-idx1-ubyte.gz: label 10",
                    "at index 2 is out of range");
    write_pair(c, "fashion-mnist", "t10k", 1, 4, 4, labels, 1);
    expect_ds_error(c, c->dir, "fashion-mnist", "test", "t10k-images-idx3-ubyte.gz: expected images",
                    "found rank 1");
    char missing[PATH_LEN];
    join(missing, c, "nowhere");
    expect_ds_error(c, missing, "mnist", "train", "nowhere/mnist: dataset directory not found",
                    "tools/setup.sh");
    expect_ds_error(c, c->dir, "cifar", "train", "unknown dataset 'cifar'", "DLC_DATA");
    expect_ds_error(c, c->dir, "mnist", "valid", "unknown split 'valid'", "train or test");
}

static void test_data_dir(ctx *c) {
    const char *was = getenv("DLC_DATA"); /* the caller's, restored for test_real */
    char saved[PATH_LEN] = "";
    if (was)
        snprintf(saved, sizeof saved, "%s", was);
    setenv("DLC_DATA", "/env/dir", 1);
    check(c, strcmp(dlrt_data_dir("/flag", "/fb"), "/flag") == 0, "data_dir: flag wins", NULL);
    check(c, strcmp(dlrt_data_dir(NULL, "/fb"), "/env/dir") == 0, "data_dir: env", NULL);
    setenv("DLC_DATA", "", 1);
    check(c, strcmp(dlrt_data_dir(NULL, "/fb"), "/fb") == 0, "data_dir: empty env", NULL);
    unsetenv("DLC_DATA");
    check(c, strcmp(dlrt_data_dir(NULL, "/fb"), "/fb") == 0, "data_dir: fallback", NULL);
    check(c, dlrt_data_dir(NULL, NULL) != NULL, "data_dir: never NULL", NULL);
    check(c, dlrt_dataset_count == 2 && strcmp(dlrt_dataset_names[1], "fashion-mnist") == 0,
          "dataset names", NULL);
    if (was)
        setenv("DLC_DATA", saved, 1);
}

/* ---- real data (optional) ---- */

/* Expected facts about one real split. */
typedef struct real_split {
    const char *name;     /* dataset */
    const char *split;    /* "train" or "test" */
    int64_t n;            /* samples */
    int first_label;      /* y[0] */
    int64_t label_sum;    /* sum of y */
    int64_t pixel_sum;    /* sum of the original bytes */
} real_split;

static void check_real(ctx *c, const char *dir, const real_split *r) {
    dlrt_dataset ds;
    char err[ERR_LEN] = "", what[128];
    snprintf(what, sizeof what, "real %s %s", r->name, r->split);
    int rc = dlrt_dataset_load(dir, r->name, r->split, &ds, err, sizeof err);
    check(c, rc == 0, what, err);
    if (rc != 0)
        return;
    check(c, ds.n == r->n && ds.shape[0] == 1 && ds.shape[1] == 28 && ds.shape[2] == 28, what,
          "n or shape");
    int64_t lsum = 0, psum = 0;
    for (int64_t i = 0; i < ds.n; i++)
        lsum += ds.y[i];
    for (int64_t i = 0; i < ds.n * ds.sample_size; i++)
        psum += lrintf(ds.x[i] * 255.0f);
    check(c, ds.y[0] == r->first_label, what, "first label");
    check(c, lsum == r->label_sum, what, "label sum");
    check(c, psum == r->pixel_sum, what, "pixel sum");
    dlrt_dataset_free(&ds);
}

static void test_real(ctx *c) {
    const char *env = getenv("DLC_DATA"), *fallback = getenv("DLC_TEST_MNIST_DIR");
    const char *dir = dlrt_data_dir(NULL, fallback && fallback[0] ? fallback : NULL);
    if (!(env && env[0]) && !(fallback && fallback[0])) {
        printf("neither DLC_DATA nor DLC_TEST_MNIST_DIR set: skipping the real-MNIST checks\n");
        return;
    }
    printf("real MNIST from %s\n", dir);
    static const real_split mnist[2] = {{"mnist", "train", 60000, 5, 267236, 1567298545},
                                        {"mnist", "test", 10000, 7, 44434, 264923200}};
    static const real_split fashion[2] = {{"fashion-mnist", "train", 60000, 9, 270000, 3431114169},
                                          {"fashion-mnist", "test", 10000, 9, 45000, 573469082}};
    check_real(c, dir, &mnist[0]);
    check_real(c, dir, &mnist[1]);
    char fdir[PATH_LEN];
    snprintf(fdir, sizeof fdir, "%s/fashion-mnist/train-labels-idx1-ubyte.gz", dir);
    FILE *f = fopen(fdir, "rb");
    if (!f)
        return;
    fclose(f);
    check_real(c, dir, &fashion[0]);
    check_real(c, dir, &fashion[1]);
}

/* ---- driver ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int main(void) {
    ctx c;
    memset(&c, 0, sizeof c);
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(c.dir, sizeof c.dir, "%s/dlc_test_data_XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (n < 0 || n >= (int)sizeof c.dir || !mkdtemp(c.dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_idx_good(&c, 0);
    test_idx_good(&c, 1);
    test_idx_header_errors(&c);
    test_idx_data_errors(&c, 0);
    test_idx_floats(&c, 0);
    test_idx_floats(&c, 1);
    test_idx_data_errors(&c, 1);
    test_idx_corrupt_gzip(&c);
    test_dataset_good(&c);
    test_dataset_errors(&c);
    test_data_dir(&c);
    test_real(&c);
    nftw(c.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    printf("%d passed, %d failed\n", c.passed, c.failed);
    return c.failed ? 1 : 0;
}
