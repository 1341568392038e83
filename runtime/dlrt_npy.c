/*
 * dlrt_npy.c — NumPy arrays as a dataset: data = npy(x = "x.npy", y = "y.npy", ...) (one .npy
 * file per array) or data = npz("data.npz", x = "features", y = "labels", ...) (named arrays of
 * an .npz archive, stored or deflated, read through minizip).
 *
 * The .npy format (NEP 1): the magic "\x93NUMPY", a version (1, 2 or 3), the header length
 * (2 bytes in version 1, else 4), then a Python dict {'descr': '<f4', 'fortran_order': False,
 * 'shape': (150, 4)} and the elements in C order. Accepted dtypes: little-endian (or
 * one-byte) f4, f8, i1, i2, i4, i8, u1, u2, u4, u8, b1; others are refused by name. Every array's
 * first dimension is its rows, and all arrays of a dataset must agree on it. The elements are
 * converted in chunks straight into the dataset's buffers (f4 is read in place): an array is
 * never held twice. Errors name the file (and the array), the element and what is wrong.
 */
#define _POSIX_C_SOURCE 200809L
#include "dlrt_data.h"
#include "dlrt_file.h"
#include "dlrt_table.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <unzip.h>

enum { NPY_MAX_RANK = 8, NPY_MAX_HEADER = 1 << 20, NPY_CHUNK = 1 << 16 };

/* where an array's bytes come from: a .npy file or a member of an .npz */
typedef struct npy_src {
    FILE *f;
    unzFile z;
    char what[600]; /* "x.npy" or "data.npz: array 'x'" */
} npy_src;

typedef struct npy_array {
    char kind;     /* 'f', 'i', 'u' or 'b' */
    int size;      /* bytes per element */
    int rank;
    int64_t shape[NPY_MAX_RANK];
    int64_t count; /* elements */
} npy_array;

/* reads exactly n bytes; 0, or -1 when the source ends first */
static int src_read(npy_src *s, void *buf, size_t n) {
    if (s->f) return fread(buf, 1, n, s->f) == n ? 0 : -1;
    char *p = buf;
    while (n > 0) {
        int got = unzReadCurrentFile(s->z, p, n > (1u << 30) ? 1u << 30 : (unsigned)n);
        if (got <= 0) return -1;
        p += got, n -= (size_t)got;
    }
    return 0;
}

/* the text after 'key': in the header dict, or NULL */
static const char *dict_value(const char *h, const char *key) {
    char quoted[32];
    snprintf(quoted, sizeof quoted, "'%s'", key);
    const char *at = strstr(h, quoted);
    if (!at) return NULL;
    at += strlen(quoted);
    while (*at == ' ') at++;
    if (*at++ != ':') return NULL;
    while (*at == ' ') at++;
    return at;
}

static int parse_descr(const npy_src *s, const char *h, npy_array *a, char *err, size_t errlen) {
    const char *d = dict_value(h, "descr");
    if (!d || *d != '\'') return dlrt_failf(err, errlen, "%s: bad NPY header: no 'descr' string", s->what);
    const char *end = strchr(d + 1, '\'');
    int len = end ? (int)(end - d - 1) : 0;
    char text[16] = "";
    if (len > 0 && len < 16) memcpy(text, d + 1, (size_t)len);
    char order = text[0], kind = text[1];
    int size = atoi(text + 2);
    int known = strchr("fiub", kind) && (size == 1 || size == 2 || size == 4 || size == 8) &&
                !(kind == 'f' && size < 4) && !(kind == 'b' && size != 1);
    if (!known || (order == '>' && size > 1) || !strchr("<|=>", order))
        return dlrt_failf(err, errlen, "%s: unsupported dtype '%.*s' (expected a little-endian float "
                     "f4/f8, integer i1-i8/u1-u8 or bool)", s->what, len > 0 ? len : 0, d + 1);
    a->kind = kind, a->size = size;
    return 0;
}

static int parse_shape(const npy_src *s, const char *h, npy_array *a, char *err, size_t errlen) {
    const char *p = dict_value(h, "shape");
    if (!p || *p != '(') return dlrt_failf(err, errlen, "%s: bad NPY header: no 'shape' tuple", s->what);
    a->rank = 0, a->count = 1;
    for (p++;;) {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') break;
        char *end;
        long long d = strtoll(p, &end, 10);
        if (end == p || d < 0 || a->rank == NPY_MAX_RANK || (d > 0 && a->count > INT64_MAX / d))
            return dlrt_failf(err, errlen, "%s: bad NPY header: the shape is not a tuple of at most %d "
                         "sizes", s->what, NPY_MAX_RANK);
        a->shape[a->rank++] = d, a->count *= d;
        p = end;
    }
    if (a->rank == 0) return dlrt_failf(err, errlen, "%s: a scalar array (shape ()); expected one row per sample", s->what);
    return 0;
}

static int read_header(npy_src *s, npy_array *a, char *err, size_t errlen) {
    unsigned char pre[12];
    if (src_read(s, pre, 10) || memcmp(pre, "\x93NUMPY", 6))
        return dlrt_failf(err, errlen, "%s: not an NPY array (no \\x93NUMPY magic)", s->what);
    int v = pre[6];
    if (v < 1 || v > 3) return dlrt_failf(err, errlen, "%s: NPY version %d is not supported (1 to 3)", s->what, v);
    uint32_t len = pre[8] | (uint32_t)pre[9] << 8;
    if (v > 1 && src_read(s, pre + 10, 2) == 0) len |= (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24;
    if (len == 0 || len > NPY_MAX_HEADER) return dlrt_failf(err, errlen, "%s: bad NPY header length %u", s->what, len);
    char *h = malloc(len + 1);
    int rc = !h || src_read(s, h, len) ? dlrt_failf(err, errlen, "%s: the NPY header is cut short", s->what) : 0;
    if (rc == 0) {
        h[len] = 0;
        const char *fo = dict_value(h, "fortran_order");
        if (!fo || strncmp(fo, "False", 5))
            rc = dlrt_failf(err, errlen, "%s: %s", s->what, fo ? "fortran_order arrays are not "
                       "supported (save it with np.ascontiguousarray)" : "bad NPY header: no 'fortran_order'");
    }
    if (rc == 0) rc = parse_descr(s, h, a, err, errlen);
    if (rc == 0) rc = parse_shape(s, h, a, err, errlen);
    free(h);
    return rc;
}

/* element k of raw bytes of type a, as a double */
static double element(const npy_array *a, const unsigned char *p) {
    union { float f; double d; int8_t i1; int16_t i2; int32_t i4; int64_t i8; uint8_t u1;
            uint16_t u2; uint32_t u4; uint64_t u8; } v;
    memcpy(&v, p, (size_t)a->size);
    switch (a->kind * 16 + a->size) {
    case 'f' * 16 + 4: return v.f;
    case 'f' * 16 + 8: return v.d;
    case 'i' * 16 + 1: return v.i1;
    case 'i' * 16 + 2: return v.i2;
    case 'i' * 16 + 4: return v.i4;
    case 'i' * 16 + 8: return (double)v.i8;
    case 'u' * 16 + 2: return v.u2;
    case 'u' * 16 + 4: return v.u4;
    case 'u' * 16 + 8: return (double)v.u8;
    default: return v.u1; /* u1 and b1 */
    }
}

/* "[12, 3]": element k's index in the array */
static const char *index_text(const npy_array *a, int64_t k, char *buf, size_t n) {
    int64_t idx[NPY_MAX_RANK];
    for (int d = a->rank - 1; d >= 0; d--) idx[d] = a->shape[d] ? k % a->shape[d] : 0, k /= a->shape[d] ? a->shape[d] : 1;
    size_t at = (size_t)snprintf(buf, n, "[");
    for (int d = 0; d < a->rank && at < n; d++)
        at += (size_t)snprintf(buf + at, n - at, "%s%lld", d ? ", " : "", (long long)idx[d]);
    if (at < n) snprintf(buf + at, n - at, "]");
    return buf;
}

/* a value read as a float: finite and within f32 */
static int check_real(const npy_src *s, const npy_array *a, int64_t k, double v, char *err, size_t errlen) {
    if (isfinite(v) && fabs(v) <= 3.4028234663852886e38) return 0;
    char idx[160];
    return dlrt_failf(err, errlen, "%s: element %s is %s", s->what, index_text(a, k, idx, sizeof idx),
                 isnan(v) ? "NaN" : isinf(v) ? "Inf (NaN and Inf are refused)" : "beyond the range of an f32");
}

/* what each_element hands element k (its bytes and its value as a double) to */
typedef int (*element_fn)(void *ctx, int64_t k, const unsigned char *raw, double v);

/* reads a's elements chunk by chunk, calling fn for each in order until it fails */
static int each_element(npy_src *s, const npy_array *a, element_fn fn, void *ctx, char *err,
                        size_t errlen) {
    unsigned char *chunk = malloc(NPY_CHUNK);
    if (!chunk) return dlrt_failf(err, errlen, "%s: out of memory", s->what);
    int64_t per = NPY_CHUNK / a->size, k = 0;
    int rc = 0;
    while (rc == 0 && k < a->count) {
        int64_t m = a->count - k < per ? a->count - k : per;
        if (src_read(s, chunk, (size_t)(m * a->size))) {
            rc = dlrt_failf(err, errlen, "%s: the data is cut short (expected %lld elements)", s->what, (long long)a->count);
            break;
        }
        for (int64_t j = 0; rc == 0 && j < m; j++, k++)
            rc = fn(ctx, k, chunk + j * a->size, element(a, chunk + j * a->size));
    }
    free(chunk);
    return rc;
}

/* what the element callbacks read and write */
typedef struct element_sink {
    const npy_src *s;
    const npy_array *a;
    float *reals;      /* read_reals: the f32 values */
    int32_t *out32;    /* read_ints: labels (>= 0, < classes when classes > 0) */
    int64_t *out64;    /* read_ints: groups, any integer */
    int64_t classes;
    char *err;
    size_t errlen;
} element_sink;

static int put_real(void *ctx, int64_t k, const unsigned char *raw, double v) {
    element_sink *e = ctx;
    (void)raw;
    if (check_real(e->s, e->a, k, v, e->err, e->errlen)) return -1;
    e->reals[k] = (float)v;
    return 0;
}

/* every element of a into out as f32 (f4 straight into out), checked finite */
static int read_reals(npy_src *s, const npy_array *a, float *out, char *err, size_t errlen) {
    if (a->kind == 'f' && a->size == 4) {
        if (src_read(s, out, sizeof(float) * (size_t)a->count))
            return dlrt_failf(err, errlen, "%s: the data is cut short (expected %lld elements)", s->what, (long long)a->count);
        for (int64_t k = 0; k < a->count; k++)
            if (check_real(s, a, k, out[k], err, errlen)) return -1;
        return 0;
    }
    element_sink e = {.s = s, .a = a, .reals = out, .err = err, .errlen = errlen};
    return each_element(s, a, put_real, &e, err, errlen);
}

static int put_int(void *ctx, int64_t k, const unsigned char *raw, double v) {
    element_sink *e = ctx;
    if (e->out64) { /* 8-byte integers as they are (a double would round them) */
        uint64_t u = 0;
        if (e->a->size == 8) memcpy(&u, raw, 8);
        e->out64[k] = e->a->size == 8 ? (int64_t)u : (int64_t)v;
        return 0;
    }
    if (v < 0 || v > 2147483647.0 || (e->classes > 0 && v >= (double)e->classes)) {
        char idx[160];
        const char *at = index_text(e->a, k, idx, sizeof idx);
        return e->classes > 0 ? dlrt_failf(e->err, e->errlen, "%s: label %.0f at %s is out of range (classes = %lld: expected 0 to %lld)",
                                           e->s->what, v, at, (long long)e->classes, (long long)e->classes - 1)
                              : dlrt_failf(e->err, e->errlen, "%s: label %.0f at %s is out of range (a class index is >= 0)",
                                           e->s->what, v, at);
    }
    e->out32[k] = (int32_t)v;
    return 0;
}

/* every element of an integer (or bool) array: labels into out32 (>= 0, < classes when set),
 * or any values into out64 (groups) */
static int read_ints(npy_src *s, const npy_array *a, int64_t classes, int32_t *out32, int64_t *out64,
                     char *err, size_t errlen) {
    if (a->kind == 'f')
        return dlrt_failf(err, errlen, "%s: %s need an integer dtype (i1-i8, u1-u8), found a float "
                     "array (f%d); convert it with .astype(np.int64)", s->what,
                     out32 ? "class labels" : "groups", a->size);
    element_sink e = {.s = s, .a = a, .out32 = out32, .out64 = out64, .classes = classes,
                      .err = err, .errlen = errlen};
    return each_element(s, a, put_int, &e, err, errlen);
}

static void src_close(npy_src *s) {
    if (s->f) fclose(s->f);
    if (s->z) unzCloseCurrentFile(s->z);
    s->f = NULL;
}

/* "data.npz has no array 'lables'; did you mean 'labels'? (arrays: x, labels)" */
static int missing_array(unzFile z, const char *path, const char *name, char *err, size_t errlen) {
    char list[400] = "", best[256] = "", file[256];
    size_t at = 0, len_name = strlen(name);
    int best_d = (int)(len_name < 6 ? 2 : len_name / 3) + 1;
    for (int rc = unzGoToFirstFile(z); rc == UNZ_OK; rc = unzGoToNextFile(z)) {
        if (unzGetCurrentFileInfo64(z, NULL, file, sizeof file, NULL, 0, NULL, 0) != UNZ_OK) break;
        size_t len = strlen(file);
        if (len > 4 && !strcmp(file + len - 4, ".npy")) file[len - 4] = 0;
        int d = dlrt_edit_distance(file, name);
        if (d < best_d) best_d = d, snprintf(best, sizeof best, "%s", file);
        if (at < sizeof list) at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", at ? ", " : "", file);
    }
    if (best[0])
        return dlrt_failf(err, errlen, "%s: no array '%s'; did you mean '%s'? (arrays: %s)", path, name, best, list);
    return dlrt_failf(err, errlen, "%s: no array '%s' (arrays: %s)", path, name, list[0] ? list : "none");
}

/* opens array `name`: the file `name` (npy), or the member name.npy of the archive z */
static int src_open(npy_src *s, unzFile z, const char *path, const char *name, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    if (!z) {
        snprintf(s->what, sizeof s->what, "%s", name);
        int fd = dlrt_open_read(name, DLRT_FILE_MAX, "data file", err, errlen);
        if (fd < 0) return -1;
        if (!(s->f = fdopen(fd, "rb"))) {
            close(fd);
            return dlrt_failf(err, errlen, "%s: cannot open: %s", name, strerror(errno));
        }
        return 0;
    }
    snprintf(s->what, sizeof s->what, "%s: array '%s'", path, name);
    char member[300];
    snprintf(member, sizeof member, "%s.npy", name);
    if (unzLocateFile(z, member, 1) != UNZ_OK && unzLocateFile(z, name, 1) != UNZ_OK)
        return missing_array(z, path, name, err, errlen);
    if (unzOpenCurrentFile(z) != UNZ_OK)
        return dlrt_failf(err, errlen, "%s: cannot read the member (not stored or deflated?)", s->what);
    s->z = z;
    return 0;
}

/* an array's header, checked to have `rows` rows (the first array read sets *rows) */
static int open_array(npy_src *s, unzFile z, const char *path, const char *name, npy_array *a,
                      int64_t *rows, const char *first, char *err, size_t errlen) {
    if (src_open(s, z, path, name, err, errlen) || read_header(s, a, err, errlen)) return -1;
    if (*rows < 0) {
        *rows = a->shape[0];
        if (*rows == 0) return dlrt_failf(err, errlen, "%s: no rows (shape[0] is 0)", s->what);
        return 0;
    }
    if (a->shape[0] == *rows) return 0;
    return dlrt_failf(err, errlen, "%s: %lld rows, but %s has %lld", s->what, (long long)a->shape[0],
                 first, (long long)*rows);
}

static int load_features(unzFile z, const char *path, const char *name, dlrt_dataset *out,
                         int64_t *rows, char *first, size_t first_len, char *err, size_t errlen) {
    npy_src s;
    npy_array a;
    int rc = open_array(&s, z, path, name, &a, rows, "", err, errlen);
    snprintf(first, first_len, "%s", s.what);
    if (rc == 0) {
        out->n = a.shape[0], out->sample_size = a.count / a.shape[0];
        out->rank = a.rank - 1 >= 1 && a.rank - 1 <= 4 ? a.rank - 1 : 1;
        for (int d = 0; d < out->rank; d++) out->shape[d] = a.rank - 1 == out->rank ? a.shape[d + 1] : out->sample_size;
        if (a.rank == 1) out->shape[0] = 1;
        out->x = malloc(sizeof(float) * (size_t)(a.count > 0 ? a.count : 1));
        rc = out->x ? read_reals(&s, &a, out->x, err, errlen) : dlrt_failf(err, errlen, "%s: out of memory", s.what);
    }
    src_close(&s);
    return rc;
}

static int load_target(unzFile z, const char *path, const dlrt_table_spec *spec, const char *name,
                       dlrt_dataset *out, int64_t *rows, const char *first, char *err, size_t errlen) {
    npy_src s;
    npy_array a;
    int rc = open_array(&s, z, path, name, &a, rows, first, err, errlen);
    if (rc == 0 && spec->labels && a.count != a.shape[0])
        rc = dlrt_failf(err, errlen, "%s: class labels are one integer per row (shape [n] or [n, 1])", s.what);
    if (rc == 0 && spec->labels) {
        out->y = malloc(sizeof(int32_t) * (size_t)a.count);
        rc = out->y ? read_ints(&s, &a, spec->classes, out->y, NULL, err, errlen) : dlrt_failf(err, errlen, "out of memory");
        int32_t top = 0;
        for (int64_t i = 0; rc == 0 && i < a.count; i++) top = out->y[i] > top ? out->y[i] : top;
        out->n_classes = spec->classes > 0 ? (int)spec->classes : (int)top + 1;
    } else if (rc == 0) {
        out->target_size = a.count / a.shape[0];
        out->target = malloc(sizeof(float) * (size_t)(a.count > 0 ? a.count : 1));
        rc = out->target ? read_reals(&s, &a, out->target, err, errlen) : dlrt_failf(err, errlen, "out of memory");
    }
    src_close(&s);
    return rc;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* group values to ids 0..n_groups-1 (in the order of the values) */
static int map_groups(const int64_t *v, dlrt_dataset *out) {
    int64_t n = out->n, *sorted = malloc(sizeof(int64_t) * (size_t)n), m = 0;
    out->group = malloc(sizeof(int32_t) * (size_t)n);
    if (!sorted || !out->group) {
        free(sorted);
        return -1;
    }
    memcpy(sorted, v, sizeof(int64_t) * (size_t)n);
    qsort(sorted, (size_t)n, sizeof(int64_t), cmp_i64);
    for (int64_t i = 0; i < n; i++)
        if (i == 0 || sorted[i] != sorted[m - 1]) sorted[m++] = sorted[i];
    for (int64_t i = 0; i < n; i++) {
        const int64_t *at = bsearch(&v[i], sorted, (size_t)m, sizeof(int64_t), cmp_i64);
        out->group[i] = (int32_t)(at - sorted);
    }
    out->n_groups = m;
    free(sorted);
    return 0;
}

static int load_groups(unzFile z, const char *path, const char *name, dlrt_dataset *out,
                       int64_t *rows, const char *first, char *err, size_t errlen) {
    npy_src s;
    npy_array a;
    int rc = open_array(&s, z, path, name, &a, rows, first, err, errlen);
    if (rc == 0 && a.count != a.shape[0])
        rc = dlrt_failf(err, errlen, "%s: groups are one integer per row (shape [n] or [n, 1])", s.what);
    int64_t *v = rc == 0 ? malloc(sizeof(int64_t) * (size_t)a.count) : NULL;
    if (rc == 0 && !v) rc = dlrt_failf(err, errlen, "out of memory");
    if (rc == 0) rc = read_ints(&s, &a, 0, NULL, v, err, errlen);
    if (rc == 0 && map_groups(v, out)) rc = dlrt_failf(err, errlen, "out of memory");
    free(v);
    src_close(&s);
    return rc;
}

static int load_all(unzFile z, const dlrt_table_spec *spec, const char *path, dlrt_dataset *out,
                    char *err, size_t errlen) {
    int64_t rows = -1;
    char first[600];
    if (load_features(z, path, spec->x_cols[0], out, &rows, first, sizeof first, err, errlen)) return -1;
    if (spec->n_y > 0 && load_target(z, path, spec, spec->y_cols[0], out, &rows, first, err, errlen))
        return -1;
    if (spec->group && load_groups(z, path, spec->group, out, &rows, first, err, errlen)) return -1;
    out->source = strdup(path ? path : spec->x_cols[0]);
    return out->source ? 0 : dlrt_failf(err, errlen, "out of memory");
}

int dlrt_npy_read(const dlrt_table_spec *spec, const char *path, dlrt_dataset *out, char *err,
                  size_t errlen) {
    memset(out, 0, sizeof *out);
    unzFile z = NULL;
    if (path) {
        int fd = dlrt_open_read(path, DLRT_FILE_MAX, "data file", err, errlen);
        if (fd < 0) return -1;
        close(fd);
        if (!(z = unzOpen64(path)))
            return dlrt_failf(err, errlen, "%s: not an .npz archive (a zip file of .npy arrays)", path);
    }
    int rc = load_all(z, spec, path, out, err, errlen);
    if (z) unzClose(z);
    if (rc) dlrt_dataset_free(out);
    return rc;
}
