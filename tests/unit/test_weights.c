/*
 * test_weights.c — the weights file (runtime/dlrt_weights.c): a round trip keeps names,
 * dtypes, shapes and every bit of the data; every cut-short prefix, a changed byte anywhere, a
 * bad magic or version and trailing bytes are errors that name the file (never a crash); a
 * failed write leaves nothing behind; dlrt_weights_save/apply move a session's tensors.
 */
#include "dlrt_weights.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int passed, failed;

static void check(int cond, const char *what) {
    if (cond) passed++;
    else {
        failed++;
        printf("FAIL: %s\n", what);
    }
}

static const float w_data[6] = {1.5f, -2.25f, 3.0e-20f, INFINITY, -0.0f, 7};
static const double stats[2] = {0.1307, 0.3081};
static const int32_t count_data[1] = {-42};

static const dlrt_weight table[] = {
    {"dense1.w", DLRT_F32, 2, {2, 3}, w_data},
    {"normalize:x", DLRT_F64, 1, {2}, stats},
    {"steps", DLRT_I32, 0, {0}, count_data},
};

static char path[256];

static unsigned char *file_bytes(long *size) {
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    rewind(f);
    unsigned char *b = malloc((size_t)*size);
    check(fread(b, 1, (size_t)*size, f) == (size_t)*size, "read back");
    fclose(f);
    return b;
}

static void put_bytes(const unsigned char *b, long size) {
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, (size_t)size, f);
    fclose(f);
}

static void round_trip(void) {
    char err[512];
    check(dlrt_weights_write(path, table, 3, err, sizeof err) == 0, "write");
    dlrt_weights w;
    check(dlrt_weights_read(path, &w, err, sizeof err) == 0, "read");
    check(w.n == 3, "three tensors");
    const dlrt_weight *t = dlrt_weights_find(&w, "dense1.w");
    check(t && t->dtype == DLRT_F32 && t->rank == 2 && t->dims[0] == 2 && t->dims[1] == 3,
          "f32 table entry");
    check(t && memcmp(t->data, w_data, sizeof w_data) == 0, "f32 data bit for bit");
    t = dlrt_weights_find(&w, "normalize:x");
    check(t && t->dtype == DLRT_F64 && memcmp(t->data, stats, sizeof stats) == 0, "f64 data");
    t = dlrt_weights_find(&w, "steps");
    check(t && t->rank == 0 && *(const int32_t *)t->data == -42, "rank-0 i32");
    check(dlrt_weights_find(&w, "dense1") == NULL, "no prefix match");
    dlrt_weights_free(&w);
}

/* every error names the file and says `what` */
static void expect_error(const char *what, const char *label) {
    char err[512] = "";
    dlrt_weights w;
    int r = dlrt_weights_read(path, &w, err, sizeof err);
    int ok = r == -1 && strstr(err, path) && strstr(err, what);
    if (!ok) printf("  %s: got '%s'\n", label, err);
    check(ok, label);
}

static void corruptions(void) {
    long size;
    unsigned char *good = file_bytes(&size);
    for (long cut = 0; cut < size; cut++) { /* every prefix: an error, never a crash */
        put_bytes(good, cut);
        char label[64];
        snprintf(label, sizeof label, "cut at %ld", cut);
        expect_error(cut < 4 ? "bad magic" : "truncated", label);
    }
    for (long at = 12; at < size; at++) { /* one changed byte past the header: caught */
        unsigned char *b = malloc((size_t)size);
        memcpy(b, good, (size_t)size);
        b[at] ^= 0x10;
        put_bytes(b, size);
        char err[512];
        dlrt_weights w;
        check(dlrt_weights_read(path, &w, err, sizeof err) == -1 && strstr(err, path), "flipped byte");
        free(b);
    }
    unsigned char *b = malloc((size_t)size + 1);
    memcpy(b, good, (size_t)size);
    b[0] = 'X';
    put_bytes(b, size);
    expect_error("not a dlc weights file (bad magic)", "bad magic");
    memcpy(b, good, (size_t)size);
    b[4] = 9;
    put_bytes(b, size);
    expect_error("weights file version 9; this dlc reads version 1", "version");
    memcpy(b, good, (size_t)size);
    b[size - 10] ^= 1; /* inside the data: only the checksum notices */
    put_bytes(b, size);
    expect_error("checksum mismatch", "checksum");
    memcpy(b, good, (size_t)size);
    b[size] = 0;
    put_bytes(b, size + 1);
    expect_error("trailing bytes", "trailing bytes");
    free(b);
    free(good);
    unlink(path);
    expect_error("cannot open", "missing file");
}

static void failed_write(void) {
    char err[512], bad[300];
    snprintf(bad, sizeof bad, "%s.missing-dir/w.dlw", path);
    check(dlrt_weights_write(bad, table, 3, err, sizeof err) == -1 && strstr(err, bad),
          "unwritable path is an error naming it");
    check(access(bad, F_OK) != 0, "nothing written");
}

static const dlrt_tensor_desc tensors[] = {
    {"w", DLRT_PARAM, DLRT_F32, 2, 0, {2, 3, 0, 0, 0, 0}, 0, 0, "constant", 0.25, 0, 2, 3},
    {"w.adam_m", DLRT_STATE, DLRT_F32, 2, 0, {2, 3, 0, 0, 0, 0}, 16, 0, "zeros", 0, 0, 0, 0},
};

static void sessions(void) {
    double scalar[2] = {0.5, 2}, per[6] = {1, 2, 3, 4, 5, 6};
    const dlrt_norm_stats stats_x = {DLRT_NORM_STANDARDIZE, 0, 1, scalar};
    const dlrt_norm_stats per_x = {DLRT_NORM_STANDARDIZE, 1, 3, per};
    dlrt_model_desc m = {DLRT_ABI_VERSION, "t", 4, 32, 64, 1, 0, 0, 2, tensors, NULL, NULL, 0, NULL};
    dlrt_session s, s2;
    char err[512];
    check(dlrt_session_init(&s, &m, 1, err, sizeof err) == 0, "session");
    for (int i = 0; i < 6; i++) ((float *)s.weights)[i] = (float)i / 7;
    const char *names[] = {"w"};
    check(dlrt_weights_save(path, &s, names, 1, (const char *[]){"x"}, 1, &stats_x, err, sizeof err) == 0, "save");
    dlrt_weights w;
    check(dlrt_weights_read(path, &w, err, sizeof err) == 0 && w.n == 2, "saved: w and normalize:x");
    check(dlrt_weights_find(&w, "w.adam_m") == NULL, "optimizer state not saved");
    const dlrt_weight *n = dlrt_weights_find(&w, "normalize:x");
    check(n && ((const double *)n->data)[0] == 0.5 && ((const double *)n->data)[1] == 2, "stats");
    check(dlrt_session_init(&s2, &m, 2, err, sizeof err) == 0, "second session");
    check(dlrt_weights_apply(&w, &s2, err, sizeof err) == 0, "apply");
    check(memcmp(s.weights, s2.weights, 6 * sizeof(float)) == 0, "applied bit for bit");
    const char *missing[] = {"nope"};
    check(dlrt_weights_save(path, &s, missing, 1, NULL, 0, &stats_x, err, sizeof err) == -1 &&
              strstr(err, "nope"), "saving an unknown tensor is an error");
    dlrt_weights_free(&w);
    check(dlrt_weights_save(path, &s, names, 1, (const char *[]){"x"}, 1, &per_x, err, sizeof err) == 0 &&
              dlrt_weights_read(path, &w, err, sizeof err) == 0, "save per feature");
    n = dlrt_weights_find(&w, "normalize:x");
    check(n && n->rank == 2 && n->dims[0] == 2 && n->dims[1] == 3 &&
              memcmp(n->data, per, sizeof per) == 0, "per feature: f64[2, 3], shifts then scales");
    dlrt_weights_free(&w);
    dlrt_session_free(&s);
    dlrt_session_free(&s2);
    unlink(path);
}

int main(void) {
    snprintf(path, sizeof path, "/tmp/dlc-test-weights-%ld.dlw", (long)getpid());
    round_trip();
    corruptions();
    failed_write();
    sessions();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
