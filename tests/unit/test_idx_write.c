/*
 * test_idx_write.c — unit tests for the IDX image writer (dlrt_idx_write_images in
 * runtime/dlrt_idx.c).
 *
 * In a fresh temporary directory: writes images and reads them back with dlrt_idx_load
 * (type 0x08, rank 3, the dims given, the bytes expected), checks the mapping of [lo, hi] onto
 * 0..255 (every byte value k written from lo + k (hi - lo) / 255 reads back as k, for [0, 1]
 * and [-1, 1]; values outside the range clamp; a midpoint rounds up; lo is the background 0)
 * and the error paths: bad sizes, a bad range, a NaN or an infinity (named by sample and
 * pixel), a missing directory. Every error names the file, leaves an existing target as it
 * was and leaves no file behind in the directory. Prints "N passed, M failed" last; exits
 * non-zero on any failure. The temporary directory is removed.
 */
#define _XOPEN_SOURCE 700
#include "dlrt_data.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DIR_LEN 1024  /* room for the temporary directory's name */
#define PATH_LEN 2048 /* room for any path built here (DIR_LEN plus a few names) */
#define ERR_LEN 1024  /* message buffer size */

/* Pass/fail counters and the scratch directory. */
typedef struct ctx {
    int passed;          /* checks that held */
    int failed;          /* checks that did not */
    char dir[DIR_LEN];   /* the temporary directory */
    char path[PATH_LEN]; /* the target file, dir/out.idx */
} ctx;

static void check(ctx *c, int ok, const char *what, const char *detail) {
    if (ok) {
        c->passed++;
        return;
    }
    c->failed++;
    fprintf(stderr, "FAIL: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
}

/* The number of entries in the scratch directory other than . and .. */
static int dir_entries(const ctx *c) {
    DIR *d = opendir(c->dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d) closedir(d);
    return n;
}

/* Writes x (n images of h x w) over [lo, hi], reads the file back and checks the header and
 * that its bytes are want[0..n*h*w). */
static void round_trip(ctx *c, const char *what, const float *x, int64_t n, int64_t h, int64_t w,
                       float lo, float hi, const uint8_t *want) {
    char err[ERR_LEN];
    int rc = dlrt_idx_write_images(c->path, x, n, h, w, lo, hi, err, sizeof err);
    check(c, rc == 0, what, rc == 0 ? NULL : err);
    dlrt_idx t;
    rc = dlrt_idx_load(c->path, &t, err, sizeof err);
    check(c, rc == 0, what, rc == 0 ? NULL : err);
    if (rc != 0) return;
    check(c, t.type == 0x08 && t.rank == 3 && t.dims[0] == n && t.dims[1] == h && t.dims[2] == w,
          what, "header: type, rank or dims");
    check(c, memcmp(t.data, want, (size_t)(n * h * w)) == 0, what, "bytes read back");
    dlrt_idx_free(&t);
}

/* Every byte value k, written from lo + k (hi - lo) / 255 (as f32), reads back as k. */
static void test_levels(ctx *c, float lo, float hi) {
    float x[256];
    uint8_t want[256];
    for (int k = 0; k < 256; k++) {
        x[k] = (float)(lo + k * ((double)hi - lo) / 255.0);
        want[k] = (uint8_t)k;
    }
    char what[128];
    snprintf(what, sizeof what, "256 levels over [%g, %g]", (double)lo, (double)hi);
    round_trip(c, what, x, 4, 8, 8, lo, hi, want);
}

/* Outside the range clamps; the midpoint 127.5 rounds up; just below it rounds down; several
 * images keep their order. */
static void test_clamp_round(ctx *c) {
    const float x[6] = {-5.0f, -1.0f, 0.0f, -1e-6f, 1.0f, 7.5f}; /* -1e-6: 127.4999 */
    const uint8_t want[6] = {0, 0, 128, 127, 255, 255};
    round_trip(c, "clamping and rounding over [-1, 1]", x, 3, 1, 2, -1.0f, 1.0f, want);
}

/* A write fails with a message naming the file and containing `needle`, leaving the target's
 * earlier content (one image of 1x1, byte 200) and no other file. */
static void expect_error(ctx *c, const char *what, const float *x, int64_t n, int64_t h,
                         int64_t w, float lo, float hi, const char *needle) {
    char err[ERR_LEN], detail[ERR_LEN + PATH_LEN + 256];
    const float old = 200.0f;
    dlrt_idx_write_images(c->path, &old, 1, 1, 1, 0.0f, 255.0f, err, sizeof err);
    int rc = dlrt_idx_write_images(c->path, x, n, h, w, lo, hi, err, sizeof err);
    snprintf(detail, sizeof detail, "rc %d, message '%s', expected one naming %s and saying '%s'",
             rc, err, c->path, needle);
    check(c, rc == -1 && strncmp(err, c->path, strlen(c->path)) == 0 && strstr(err, needle), what,
          detail);
    dlrt_idx t;
    rc = dlrt_idx_load(c->path, &t, err, sizeof err);
    check(c, rc == 0 && t.dims[0] == 1 && t.data[0] == 200, what, "earlier target not kept");
    dlrt_idx_free(&t);
    check(c, dir_entries(c) == 1, what, "a file left behind in the directory");
}

static void test_errors(ctx *c) {
    float x[8] = {0, 0.5f, 1, 0, 0, 0, 0, 0};
    expect_error(c, "no images", x, 0, 2, 2, 0, 1, "image count 0");
    expect_error(c, "negative height", x, 1, -3, 2, 0, 1, "height -3");
    expect_error(c, "width too large", x, 1, 1, (int64_t)1 << 32, 0, 1, "width 4294967296");
    expect_error(c, "over 2^31 bytes", x, (int64_t)1 << 20, 1 << 10, 1 << 10, 0, 1, "2^31 bytes");
    expect_error(c, "empty range", x, 1, 2, 2, 1, 1, "range [1, 1]");
    expect_error(c, "reversed range", x, 1, 2, 2, 1, -1, "lo < hi");
    expect_error(c, "NaN bound", x, 1, 2, 2, NAN, 1, "must be finite");
    x[6] = NAN;
    expect_error(c, "a NaN pixel", x, 2, 2, 2, 0, 1, "sample 1, pixel 2 is NaN");
    x[6] = -INFINITY;
    expect_error(c, "an infinite pixel", x, 2, 2, 2, 0, 1, "sample 1, pixel 2 is -Inf");
    expect_error(c, "no data", NULL, 2, 2, 2, 0, 1, "no data");
}

/* A directory that does not exist: an error naming the file; nothing created. */
static void test_missing_dir(ctx *c) {
    char path[PATH_LEN], err[ERR_LEN];
    snprintf(path, sizeof path, "%s/no-such-dir/out.idx", c->dir);
    const float x[1] = {0.5f};
    int rc = dlrt_idx_write_images(path, x, 1, 1, 1, 0, 1, err, sizeof err);
    check(c, rc == -1 && strncmp(err, path, strlen(path)) == 0, "missing directory", err);
    check(c, access(path, F_OK) != 0, "missing directory", "a file was created");
}

int main(void) {
    ctx c = {0};
    const char *tmp = getenv("TMPDIR");
    snprintf(c.dir, sizeof c.dir, "%s/test_idx_write.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(c.dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(c.path, sizeof c.path, "%s/out.idx", c.dir);
    test_levels(&c, 0.0f, 1.0f);
    test_levels(&c, -1.0f, 1.0f);
    test_levels(&c, 0.0f, 255.0f);
    test_clamp_round(&c);
    test_errors(&c);
    test_missing_dir(&c);
    unlink(c.path);
    rmdir(c.dir);
    printf("%d passed, %d failed\n", c.passed, c.failed);
    return c.failed != 0;
}
