/*
 * dlrt_weights.c — the weights file (format in dlrt_weights.h): serialisation into one buffer
 * with a crc32, written atomically (dlrt_write_file); reading the whole file (a regular file of
 * at most DLRT_FILE_MAX bytes) and checking magic, version, table, names, size and checksum
 * before anything is used. Byte order is explicit, so files move between machines.
 */
#include "dlrt_weights.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const unsigned char magic[4] = {'D', 'L', 'C', 'W'};
enum { MAX_NAME = 4096 };

long long dlrt_weight_numel(const dlrt_weight *t) {
    long long n = 1;
    for (int i = 0; i < t->rank; i++) n *= t->dims[i];
    return n;
}

const char *dlrt_dtype_name(int dtype) {
    return dtype == DLRT_F32 ? "f32" : dtype == DLRT_I32 ? "i32" : dtype == DLRT_F64 ? "f64" : "?";
}

static size_t dtype_size(int dtype) { return dtype == DLRT_F64 ? 8 : 4; }

static uint32_t crc_of(const unsigned char *p, size_t n) {
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = crc32(crc, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return (uint32_t)crc;
}

/* ---- writing ---- */

static unsigned char *put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

static unsigned char *put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

/* one element of t's data, little-endian */
static unsigned char *put_elem(unsigned char *p, const dlrt_weight *t, long long i) {
    if (t->dtype == DLRT_F64) {
        uint64_t v;
        memcpy(&v, (const double *)t->data + i, 8);
        return put_u64(p, v);
    }
    uint32_t v;
    memcpy(&v, (const uint32_t *)t->data + i, 4);
    return put_u32(p, v);
}

static size_t encoded_size(const dlrt_weight *t, int n) {
    size_t size = 12 + 4;
    for (int k = 0; k < n; k++)
        size += 12 + strlen(t[k].name) + 8 * (size_t)t[k].rank +
                (size_t)dlrt_weight_numel(&t[k]) * dtype_size(t[k].dtype);
    return size;
}

static void encode(unsigned char *buf, const dlrt_weight *t, int n) {
    unsigned char *p = buf;
    memcpy(p, magic, 4);
    p = put_u32(p + 4, DLRT_WEIGHTS_VERSION);
    p = put_u32(p, (uint32_t)n);
    for (int k = 0; k < n; k++) {
        size_t len = strlen(t[k].name);
        p = put_u32(p, (uint32_t)len);
        memcpy(p, t[k].name, len);
        p = put_u32(p + len, (uint32_t)t[k].dtype);
        p = put_u32(p, (uint32_t)t[k].rank);
        for (int i = 0; i < t[k].rank; i++) p = put_u64(p, (uint64_t)t[k].dims[i]);
    }
    for (int k = 0; k < n; k++)
        for (long long i = 0; i < dlrt_weight_numel(&t[k]); i++) p = put_elem(p, &t[k], i);
    put_u32(p, crc_of(buf, (size_t)(p - buf)));
}

int dlrt_weights_write(const char *path, const dlrt_weight *t, int n, char *err, size_t errlen) {
    for (int k = 0; k < n; k++)
        if (strlen(t[k].name) > MAX_NAME || t[k].rank < 0 || t[k].rank > 6) {
            snprintf(err, errlen, "%s: tensor '%.64s' cannot be saved (name or rank too long)",
                     path, t[k].name);
            return -1;
        }
    size_t size = encoded_size(t, n);
    unsigned char *buf = malloc(size);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory for %zu bytes", path, size);
        return -1;
    }
    encode(buf, t, n);
    int status = dlrt_write_file(path, buf, size, err, errlen);
    free(buf);
    return status;
}

/* ---- reading ---- */

typedef struct reader {
    const unsigned char *p; /* the file's bytes */
    size_t size;            /* bytes before the checksum */
    size_t at;              /* read position */
} reader;

static int get_u32(reader *r, uint32_t *v) {
    if (r->size - r->at < 4) return -1;
    *v = 0;
    for (int i = 0; i < 4; i++) *v |= (uint32_t)r->p[r->at + (size_t)i] << (8 * i);
    r->at += 4;
    return 0;
}

static int get_u64(reader *r, uint64_t *v) {
    if (r->size - r->at < 8) return -1;
    *v = 0;
    for (int i = 0; i < 8; i++) *v |= (uint64_t)r->p[r->at + (size_t)i] << (8 * i);
    r->at += 8;
    return 0;
}

/* one table entry; its name points into the file's bytes (copied out later) */
static const char *read_entry(reader *r, dlrt_weight *t, size_t *name_len) {
    uint32_t len, dtype, rank;
    if (get_u32(r, &len)) return "truncated in the tensor table";
    if (len == 0 || len > MAX_NAME) return "bad tensor name length in the table";
    if (r->size - r->at < len) return "truncated in the tensor table";
    t->name = (const char *)r->p + r->at;
    *name_len = len;
    r->at += len;
    if (get_u32(r, &dtype) || get_u32(r, &rank)) return "truncated in the tensor table";
    if (dtype > DLRT_F64) return "bad dtype in the tensor table";
    if (rank > 6) return "bad rank in the tensor table";
    t->dtype = (int)dtype;
    t->rank = (int)rank;
    for (int i = 0; i < t->rank; i++) {
        uint64_t d;
        if (get_u64(r, &d)) return "truncated in the tensor table";
        if (d > (1ULL << 40)) return "bad dimension in the tensor table";
        t->dims[i] = (long long)d;
    }
    return NULL;
}

/* decode the little-endian data of t at r's position into dst (host order) */
static void decode_data(reader *r, const dlrt_weight *t, void *dst) {
    long long n = dlrt_weight_numel(t);
    for (long long i = 0; i < n; i++) {
        if (t->dtype == DLRT_F64) {
            uint64_t v = 0;
            get_u64(r, &v);
            memcpy((unsigned char *)dst + 8 * i, &v, 8);
        } else {
            uint32_t v = 0;
            get_u32(r, &v);
            memcpy((unsigned char *)dst + 4 * i, &v, 4);
        }
    }
}

/* the table after the header; lens[k] receives the length of name k (not NUL-terminated in
 * the file); *names and *data_bytes what copying them out needs */
static const char *read_table(reader *r, dlrt_weights *w, size_t **lens, size_t *names,
                              size_t *data_bytes) {
    uint32_t count;
    r->at = 8;
    get_u32(r, &count);
    if (count > (1u << 20)) return "bad tensor count in the header";
    w->t = calloc(count ? count : 1, sizeof *w->t);
    *lens = calloc(count ? count : 1, sizeof **lens);
    if (!w->t || !*lens) return "out of memory";
    w->n = (int)count;
    *names = *data_bytes = 0;
    for (int k = 0; k < w->n; k++) {
        const char *bad = read_entry(r, &w->t[k], &(*lens)[k]);
        if (bad) return bad;
        *names += (*lens)[k] + 1;
        *data_bytes += (size_t)dlrt_weight_numel(&w->t[k]) * dtype_size(w->t[k].dtype);
    }
    return NULL;
}

/* copies names and data out of the file's bytes into one block, w->mem */
static int fill(reader *r, dlrt_weights *w, const size_t *lens, size_t names, size_t data_bytes) {
    size_t data_at = 0, name_at = (data_bytes + 7) & ~(size_t)7;
    w->mem = malloc(name_at + names + 1);
    if (!w->mem) return -1;
    unsigned char *mem = w->mem;
    for (int k = 0; k < w->n; k++) {
        dlrt_weight *t = &w->t[k];
        memcpy(mem + name_at, t->name, lens[k]);
        mem[name_at + lens[k]] = 0;
        t->name = (const char *)mem + name_at;
        name_at += lens[k] + 1;
        decode_data(r, t, mem + data_at);
        t->data = mem + data_at;
        data_at += (size_t)dlrt_weight_numel(t) * dtype_size(t->dtype);
    }
    return 0;
}

static const char *duplicate(const dlrt_weights *w) {
    for (int k = 0; k < w->n; k++)
        for (int j = 0; j < k; j++)
            if (strcmp(w->t[j].name, w->t[k].name) == 0) return w->t[k].name;
    return NULL;
}

/* the first tensor whose name holds a NUL byte (names are not NUL-terminated in the file), or
 * -1: such a name would be read as its prefix */
static int name_with_nul(const dlrt_weights *w, const size_t *lens) {
    for (int k = 0; k < w->n; k++)
        if (memchr(w->t[k].name, 0, lens[k])) return k;
    return -1;
}

/* everything but the checksum and the names' and data's copies */
static int check_layout(reader *r, dlrt_weights *w, size_t **lens, size_t *names, size_t *data,
                        char *err, size_t errlen) {
    const char *path = w->path;
    uint32_t version;
    if (r->size < 4 || memcmp(r->p, magic, 4) != 0) {
        snprintf(err, errlen, "%s: not a dlc weights file (bad magic)", path);
        return -1;
    }
    if (r->size < 16) {
        snprintf(err, errlen, "%s: truncated: %zu bytes, a weights file has at least 16", path,
                 r->size);
        return -1;
    }
    r->at = 4;
    get_u32(r, &version);
    if (version != DLRT_WEIGHTS_VERSION) {
        snprintf(err, errlen, "%s: weights file version %u; this dlc reads version %d", path,
                 (unsigned)version, DLRT_WEIGHTS_VERSION);
        return -1;
    }
    r->size -= 4; /* the checksum */
    const char *bad = read_table(r, w, lens, names, data);
    if (bad) {
        snprintf(err, errlen, "%s: %s%s", path, bad,
                 strncmp(bad, "truncated", 9) ? "" : " (the file is cut short)");
        return -1;
    }
    int k = name_with_nul(w, *lens);
    if (k >= 0) {
        snprintf(err, errlen, "%s: the name of tensor %d of %d ('%.64s' then a NUL byte) contains "
                 "a NUL byte", path, k + 1, w->n, w->t[k].name);
        return -1;
    }
    size_t expect = r->at + *data + 4;
    if (expect != r->size + 4) {
        snprintf(err, errlen, "%s: %s: the tensor table needs %zu bytes, the file has %zu", path,
                 expect > r->size + 4 ? "truncated" : "trailing bytes", expect, r->size + 4);
        return -1;
    }
    return 0;
}

static int check_crc(const reader *r, const char *path, char *err, size_t errlen) {
    uint32_t stored = 0, computed = crc_of(r->p, r->size);
    for (int i = 0; i < 4; i++) stored |= (uint32_t)r->p[r->size + (size_t)i] << (8 * i);
    if (stored == computed) return 0;
    snprintf(err, errlen, "%s: checksum mismatch (stored %08x, computed %08x): the file is corrupt",
             path, (unsigned)stored, (unsigned)computed);
    return -1;
}

int dlrt_weights_read(const char *path, dlrt_weights *w, char *err, size_t errlen) {
    memset(w, 0, sizeof *w);
    w->path = path;
    size_t size, *lens = NULL, names = 0, data = 0;
    unsigned char *bytes = dlrt_read_file_max(path, DLRT_FILE_MAX, "weights file", &size, err, errlen);
    if (!bytes) return -1;
    reader r = {.p = bytes, .size = size};
    int status = check_layout(&r, w, &lens, &names, &data, err, errlen);
    if (status == 0) status = check_crc(&r, path, err, errlen);
    if (status == 0 && fill(&r, w, lens, names, data) != 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        status = -1;
    }
    const char *dup = status == 0 ? duplicate(w) : NULL;
    if (dup) {
        snprintf(err, errlen, "%s: tensor '%s' appears twice", path, dup);
        status = -1;
    }
    free(lens);
    free(bytes);
    if (status) dlrt_weights_free(w);
    w->path = path;
    return status;
}

const dlrt_weight *dlrt_weights_find(const dlrt_weights *w, const char *name) {
    for (int k = 0; k < w->n; k++)
        if (strcmp(w->t[k].name, name) == 0) return &w->t[k];
    return NULL;
}

void dlrt_weights_free(dlrt_weights *w) {
    free(w->t);
    free(w->mem);
    memset(w, 0, sizeof *w);
}

const char *dlrt_normalize_tensor_name(const char *input, char *buf, size_t n) {
    snprintf(buf, n, "normalize:%s", input);
    return buf;
}

/* ---- sessions ---- */

int dlrt_weights_save(const char *path, const dlrt_session *s, const char *const *names,
                      int n_names, const char *const *normalized, int n_normalized,
                      const dlrt_norm_stats *norm, char *err, size_t errlen) {
    const dlrt_model_desc *m = s->model;
    dlrt_weight *t = calloc((size_t)(n_names + n_normalized), sizeof *t);
    if (!t) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    int n = 0, status = 0;
    for (int k = 0; k < n_names && status == 0; k++) {
        const dlrt_tensor_desc *d = dlrt_find_tensor(m, DLRT_PARAM, names[k]);
        if (!d) d = dlrt_find_tensor(m, DLRT_BUFFER, names[k]);
        if (!d) d = dlrt_find_tensor(m, DLRT_STATE, names[k]);
        if (!d || m->real_size != 4) {
            snprintf(err, errlen, "%s: model '%s' has no f32 tensor '%s' to save", path, m->name,
                     names[k]);
            status = -1;
            break;
        }
        t[n] = (dlrt_weight){.name = d->name, .dtype = DLRT_F32, .rank = d->rank,
                             .data = (const float *)s->weights + d->offset};
        memcpy(t[n].dims, d->dims, sizeof d->dims);
        n++;
    }
    char name[3][512];
    for (int k = 0; k < n_normalized && k < 3; k++) /* f64[2] = {shift, scale}, or f64[2, n] */
        t[n++] = (dlrt_weight){.name = dlrt_normalize_tensor_name(normalized[k], name[k], sizeof name[k]),
                               .dtype = DLRT_F64, .rank = norm->per_feature ? 2 : 1,
                               .dims = {2, norm->n}, .data = norm->v};
    if (status == 0) status = dlrt_weights_write(path, t, n, err, errlen);
    free(t);
    return status;
}

static int same_shape(const dlrt_weight *w, const dlrt_tensor_desc *d) {
    if (w->rank != d->rank) return 0;
    for (int i = 0; i < w->rank; i++)
        if (w->dims[i] != d->dims[i]) return 0;
    return 1;
}

int dlrt_weights_apply(const dlrt_weights *w, dlrt_session *s, char *err, size_t errlen) {
    const dlrt_model_desc *m = s->model;
    for (int k = 0; k < w->n; k++) {
        const dlrt_weight *t = &w->t[k];
        const dlrt_tensor_desc *d = dlrt_find_tensor(m, DLRT_PARAM, t->name);
        if (!d) d = dlrt_find_tensor(m, DLRT_BUFFER, t->name);
        if (!d) d = dlrt_find_tensor(m, DLRT_STATE, t->name);
        if (!d) continue;
        if (t->dtype != DLRT_F32 || m->real_size != 4 || !same_shape(t, d)) {
            snprintf(err, errlen, "%s: tensor '%s' does not match model '%s' (dtype or shape)",
                     w->path ? w->path : "weights", t->name, m->name);
            return -1;
        }
        memcpy((float *)s->weights + d->offset, t->data, sizeof(float) * (size_t)dlrt_weight_numel(t));
    }
    return 0;
}
