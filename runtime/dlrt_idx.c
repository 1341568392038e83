/*
 * dlrt_idx.c — loading IDX files (the MNIST container format), gzip-compressed or raw.
 *
 * Format: two zero bytes, a type byte (0x08, unsigned byte, or 0x0D, big-endian IEEE float32), a
 * rank byte (1..4), then `rank` big-endian uint32 dimensions, then exactly dims[0]*...*dims[rank-1]
 * elements of data. zlib's gz* functions read gzip and raw files alike, so one code path serves
 * both. Float data is converted to host order on load, and a NaN or an infinity in it is an
 * error naming the element: its index, its sample (index along dims[0]) and feature (index
 * within the sample), and its byte offset in the (uncompressed) file.
 *
 * Invariants: every failure returns -1 with a message in err that begins with the path; nothing is
 * allocated on failure and *out is left zeroed (so dlrt_idx_free on it is harmless). The total
 * data size is capped at 2^31 bytes; reads are chunked because gzread takes an unsigned int and
 * returns an int.
 *
 * Writing (dlrt_idx_write_images): n u8 images of h x w, each f32 value x mapped to
 * floor((x - lo) / (hi - lo) * 255 + 0.5) computed in double and clamped to 0..255, so lo (the
 * background) is 0 and hi is 255: MNIST's polarity. Non-finite values and bad arguments are
 * errors naming the file (and the sample and pixel); the file is written raw (not gzip) through
 * dlrt_write_file, whole or not at all.
 */
#define _POSIX_C_SOURCE 200809L
#include "dlrt_data.h"
#include "dlrt_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define IDX_MAX_BYTES ((int64_t)1 << 31) /* largest accepted data size */
#define IDX_CHUNK ((unsigned)1 << 30)     /* largest single gzread */
#define IDX_TYPE_UBYTE 0x08               /* unsigned byte elements */
#define IDX_TYPE_FLOAT 0x0D               /* big-endian float32 elements */

/* An open IDX file being read: the zlib handle plus what error reporting needs. */
typedef struct idx_reader {
    gzFile gz;        /* zlib stream (gzip or raw) */
    const char *path; /* file name, for messages */
    char *err;        /* caller's message buffer */
    size_t errlen;    /* its size */
} idx_reader;

/* Writes "PATH: <formatted message>" into err (if err is usable) and returns -1. */
static int fail(const char *path, char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen > 0) {
        int n = snprintf(err, errlen, "%s: ", path);
        if (n >= 0 && (size_t)n < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

/* Reports the stream's error state (I/O error or corrupt gzip) if there is one; 0 if none. */
static int stream_error(idx_reader *r) {
    int errnum = Z_OK;
    const char *msg = gzerror(r->gz, &errnum);
    if (errnum == Z_OK)
        return 0;
    const char *sep = strstr(msg, ": "); /* zlib prefixes its own name for the file, "<fd:N>" */
    if (sep)
        msg = sep + 2;
    if (errnum == Z_ERRNO)
        return fail(r->path, r->err, r->errlen, "read error: %s", msg);
    return fail(r->path, r->err, r->errlen, "corrupt or truncated gzip data: %s", msg);
}

/* Reads up to `len` bytes into buf; returns how many were read (short only at end of file), or
 * -1 after reporting an error. */
static int64_t read_bytes(idx_reader *r, uint8_t *buf, int64_t len) {
    int64_t got = 0;
    while (got < len) {
        int64_t want = len - got;
        unsigned chunk = want > (int64_t)IDX_CHUNK ? IDX_CHUNK : (unsigned)want;
        int n = gzread(r->gz, buf + got, chunk);
        if (n < 0) {
            stream_error(r);
            return -1;
        }
        if (n == 0)
            break;
        got += n;
    }
    if (got < len && stream_error(r) != 0)
        return -1;
    return got;
}

/* Opens path for reading through zlib, reporting "cannot open: <reason>" on failure; a FIFO, a
 * device or a file over DLRT_FILE_MAX bytes is refused (dlrt_open_read), never read. */
static int open_reader(idx_reader *r) {
    int fd = dlrt_open_read(r->path, DLRT_FILE_MAX, "data file", r->err, r->errlen);
    if (fd < 0)
        return -1;
    r->gz = gzdopen(fd, "rb");
    if (!r->gz) {
        close(fd);
        return fail(r->path, r->err, r->errlen, "cannot open: out of memory");
    }
    return 0;
}

/* Reads and checks the magic bytes and rank; sets out->rank. */
static int read_magic(idx_reader *r, dlrt_idx *out) {
    uint8_t m[4];
    int64_t got = read_bytes(r, m, 4);
    if (got < 0)
        return -1;
    if (got == 0)
        return fail(r->path, r->err, r->errlen, "not an IDX file: the file is empty");
    if (got < 4)
        return fail(r->path, r->err, r->errlen,
                    "truncated: expected a 4-byte IDX header, found %" PRId64 " bytes", got);
    if (m[0] != 0 || m[1] != 0)
        return fail(r->path, r->err, r->errlen,
                    "not an IDX file: bad magic bytes 0x%02x 0x%02x (expected 0x00 0x00)", m[0],
                    m[1]);
    if (m[2] != IDX_TYPE_UBYTE && m[2] != IDX_TYPE_FLOAT)
        return fail(r->path, r->err, r->errlen,
                    "unsupported IDX element type 0x%02x (only 0x08, unsigned byte, and 0x0D, "
                    "float32, are supported)", m[2]);
    out->type = m[2];
    if (m[3] < 1 || m[3] > 4)
        return fail(r->path, r->err, r->errlen, "bad IDX rank %d (expected 1 to 4)", m[3]);
    out->rank = m[3];
    return 0;
}

/* Reads the big-endian dimensions, checks each is non-zero and the total fits; returns the
 * total byte count (elements times their size) via *total. */
static int read_dims(idx_reader *r, dlrt_idx *out, int64_t *total) {
    uint8_t b[16];
    int64_t need = 4 * (int64_t)out->rank;
    int64_t got = read_bytes(r, b, need);
    if (got < 0)
        return -1;
    if (got < need)
        return fail(r->path, r->err, r->errlen,
                    "truncated: expected %" PRId64 " bytes of IDX dimensions, found %" PRId64,
                    need, got);
    *total = out->type == IDX_TYPE_FLOAT ? 4 : 1;
    for (int i = 0; i < out->rank; i++) {
        const uint8_t *p = b + 4 * i;
        out->dims[i] = ((int64_t)p[0] << 24) | ((int64_t)p[1] << 16) | ((int64_t)p[2] << 8) | p[3];
        if (out->dims[i] == 0)
            return fail(r->path, r->err, r->errlen, "bad IDX header: dimension %d is 0", i);
        *total *= out->dims[i]; /* each factor < 2^32 and *total <= 2^31 here: no overflow */
        if (*total > IDX_MAX_BYTES)
            return fail(r->path, r->err, r->errlen,
                        "bad IDX header: dimensions describe more than 2^31 bytes of data");
    }
    return 0;
}

/* Checks that the stream ends right after the `total` data bytes; reading to the end is also what
 * makes zlib verify the gzip CRC. */
static int check_end(idx_reader *r, int64_t total) {
    uint8_t extra[4096];
    int64_t trailing = 0, n;
    while ((n = read_bytes(r, extra, (int64_t)sizeof extra)) > 0)
        trailing += n;
    if (n < 0)
        return -1;
    if (trailing > 0)
        return fail(r->path, r->err, r->errlen,
                    "%" PRId64 " unexpected trailing bytes after the %" PRId64
                    " bytes of data the header describes",
                    trailing, total);
    return 0;
}

/* Float data: big-endian to host order in place; a NaN or an infinity is an error that names
 * the element (its sample along dims[0], its feature within the sample, its byte offset). */
static int convert_floats(idx_reader *r, dlrt_idx *out, int64_t total) {
    int64_t n = total / 4, per_sample = n / out->dims[0];
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *b = out->data + 4 * i;
        uint32_t u = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
        float f;
        memcpy(&f, &u, sizeof f);
        if (!isfinite(f))
            return fail(r->path, r->err, r->errlen,
                        "element %" PRId64 " (sample %" PRId64 ", feature %" PRId64
                        "; byte offset %" PRId64 ") is %s; the data must be finite",
                        i, i / per_sample, i % per_sample, 4 + 4 * (int64_t)out->rank + 4 * i,
                        isnan(f) ? "NaN" : f > 0 ? "+Inf" : "-Inf");
        memcpy(out->data + 4 * i, &f, sizeof f);
    }
    return 0;
}

/* Reads exactly `total` data bytes into out->data and checks nothing follows them. */
static int read_data(idx_reader *r, dlrt_idx *out, int64_t total) {
    uint8_t *data = malloc((size_t)total);
    if (!data)
        return fail(r->path, r->err, r->errlen, "out of memory for %" PRId64 " bytes", total);
    int64_t got = read_bytes(r, data, total);
    int rc = got == total ? check_end(r, total) : -1;
    if (got >= 0 && got < total)
        fail(r->path, r->err, r->errlen,
             "truncated: expected %" PRId64 " bytes of data, found %" PRId64, total, got);
    out->data = data;
    if (rc == 0 && out->type == IDX_TYPE_FLOAT) rc = convert_floats(r, out, total);
    if (rc != 0) {
        free(data);
        out->data = NULL;
        return -1;
    }
    return 0;
}

int dlrt_idx_load(const char *path, dlrt_idx *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (err && errlen > 0)
        err[0] = '\0';
    idx_reader r = {NULL, path, err, errlen};
    if (open_reader(&r) != 0)
        return -1;
    int64_t total = 0;
    int rc = read_magic(&r, out);
    if (rc == 0)
        rc = read_dims(&r, out, &total);
    if (rc == 0)
        rc = read_data(&r, out, total);
    gzclose_r(r.gz);
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
}

void dlrt_idx_free(dlrt_idx *t) {
    if (!t)
        return;
    free(t->data);
    memset(t, 0, sizeof *t);
}

/* ---- writing ---- */

/* Checks the writer's arguments: sizes IDX can hold (each >= 1 and < 2^32, the data at most
 * IDX_MAX_BYTES), a finite range with lo < hi. */
static int check_write_args(const char *path, int64_t n, int64_t h, int64_t w, float lo, float hi,
                            char *err, size_t errlen) {
    const int64_t dims[3] = {n, h, w};
    const char *names[3] = {"image count", "height", "width"};
    for (int i = 0; i < 3; i++)
        if (dims[i] < 1 || dims[i] > (int64_t)UINT32_MAX)
            return fail(path, err, errlen, "cannot write IDX images: %s %" PRId64
                        " (it must be 1 to 4294967295)", names[i], dims[i]);
    if (h > IDX_MAX_BYTES / w || h * w > IDX_MAX_BYTES / n) /* no product overflows */
        return fail(path, err, errlen, "cannot write IDX images: %" PRId64 " images of %" PRId64
                    "x%" PRId64 " are more than 2^31 bytes", n, h, w);
    if (!isfinite(lo) || !isfinite(hi) || !(lo < hi))
        return fail(path, err, errlen, "cannot write IDX images: the value range [%g, %g] must be "
                    "finite with lo < hi", (double)lo, (double)hi);
    return 0;
}

/* Writes the IDX header for u8 data of rank 3 (n, h, w) into buf (16 bytes). */
static void put_header(uint8_t *buf, int64_t n, int64_t h, int64_t w) {
    const int64_t dims[3] = {n, h, w};
    buf[0] = 0, buf[1] = 0, buf[2] = IDX_TYPE_UBYTE, buf[3] = 3;
    for (int i = 0; i < 3; i++)
        for (int b = 0; b < 4; b++)
            buf[4 + 4 * i + b] = (uint8_t)((uint64_t)dims[i] >> (24 - 8 * b));
}

/* Maps count values of x from [lo, hi] to bytes in out; a NaN or an infinity is an error naming
 * its sample and pixel (per = pixels per sample). */
static int map_pixels(const char *path, const float *x, int64_t count, int64_t per, float lo,
                      float hi, uint8_t *out, char *err, size_t errlen) {
    double scale = 255.0 / ((double)hi - (double)lo);
    for (int64_t i = 0; i < count; i++) {
        if (!isfinite(x[i]))
            return fail(path, err, errlen, "cannot write IDX images: sample %" PRId64 ", pixel %"
                        PRId64 " is %s; the values must be finite", i / per, i % per,
                        isnan(x[i]) ? "NaN" : x[i] > 0 ? "+Inf" : "-Inf");
        double v = floor(((double)x[i] - lo) * scale + 0.5);
        out[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    return 0;
}

int dlrt_idx_write_images(const char *path, const float *x, int64_t n, int64_t h, int64_t w,
                          float lo, float hi, char *err, size_t errlen) {
    if (err && errlen > 0)
        err[0] = '\0';
    if (!path || !x)
        return fail(path ? path : "(null)", err, errlen, "cannot write IDX images: no %s",
                    path ? "data" : "file name");
    if (check_write_args(path, n, h, w, lo, hi, err, errlen) != 0)
        return -1;
    size_t count = (size_t)(n * h * w);
    uint8_t *buf = malloc(16 + count);
    if (!buf)
        return fail(path, err, errlen, "out of memory for %zu bytes", 16 + count);
    put_header(buf, n, h, w);
    int rc = map_pixels(path, x, (int64_t)count, h * w, lo, hi, buf + 16, err, errlen);
    if (rc == 0)
        rc = dlrt_write_file(path, buf, 16 + count, err, errlen);
    free(buf);
    return rc;
}
