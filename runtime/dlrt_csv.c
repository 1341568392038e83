/*
 * dlrt_csv.c — a CSV file as a dataset (data = csv("file.csv", x = [...], y = "label")).
 *
 * RFC 4180: records end in LF or CRLF; a field may be quoted ("a, b", "say ""hi""") and then
 * hold the delimiter, quotes and line breaks. The first record is the header: the column
 * names. Every later record must have as many fields as the header (blank lines are skipped).
 * The chosen columns' values are parsed as numbers straight into the dataset's buffers, grown
 * as rows arrive, so the file is never held twice. Errors name the file, the line (of the
 * record's start) and the column: a non-number, an empty value, NaN/Inf (or a value beyond
 * f32), a ragged row, a missing column (with the closest name), a label that is not a
 * non-negative integer or is >= classes, an unterminated quote.
 */
#define _POSIX_C_SOURCE 200809L
#include "dlrt_data.h"
#include "dlrt_file.h"
#include "dlrt_table.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* one record's fields: NUL-separated text in buf, field k at buf + at[k] */
typedef struct record {
    char *buf;
    size_t len, cap;
    size_t *at;
    int n, cap_at;
    long line; /* line of the record's first character */
    int quoted; /* a field of it was quoted */
} record;

typedef struct csv_reader {
    FILE *f;
    const char *path;
    char delim;
    long line; /* current line */
    char *err;
    size_t errlen;
} csv_reader;

static int put_char(record *r, char ch) {
    if (r->len + 1 >= r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        char *b = realloc(r->buf, cap);
        if (!b) return -1;
        r->buf = b, r->cap = cap;
    }
    r->buf[r->len++] = ch;
    return 0;
}

/* ends the current field (its NUL) and starts the next */
static int end_field(record *r) {
    if (put_char(r, 0)) return -1;
    if (r->n + 1 >= r->cap_at) {
        int cap = r->cap_at ? r->cap_at * 2 : 16;
        size_t *a = realloc(r->at, sizeof(size_t) * (size_t)cap);
        if (!a) return -1;
        r->at = a, r->cap_at = cap;
    }
    r->at[++r->n] = r->len;
    return 0;
}

/* a quoted field's text after its opening quote, up to the closing one */
static int read_quoted(csv_reader *c, record *r) {
    for (;;) {
        int ch = getc(c->f);
        if (ch == EOF)
            return dlrt_failf(c->err, c->errlen, "%s: line %ld: a quoted field is not closed (its "
                         "closing \" is missing)", c->path, r->line);
        if (ch == '\n') c->line++;
        if (ch == '"') {
            int next = getc(c->f);
            if (next != '"') {
                if (next != EOF) ungetc(next, c->f);
                return 0;
            }
        }
        if (put_char(r, (char)ch)) return dlrt_failf(c->err, c->errlen, "%s: out of memory", c->path);
    }
}

/* after a closing quote: the delimiter, the end of the line or of the file */
static int after_quote(csv_reader *c, const record *r, int ch) {
    if (ch == c->delim || ch == '\n' || ch == '\r' || ch == EOF) return 0;
    return dlrt_failf(c->err, c->errlen, "%s: line %ld, field %d: '%c' after a quoted field's closing "
                 "\" (quote the whole field, and write a quote inside it as \"\")", c->path,
                 c->line, r->n + 1, ch);
}

static int reset_record(record *r, long line) {
    r->len = 0, r->n = 0, r->line = line, r->quoted = 0;
    if (!r->at) {
        r->at = malloc(sizeof(size_t) * 16);
        if (!r->at) return -1;
        r->cap_at = 16;
    }
    r->at[0] = 0;
    return 0;
}

/* one line's fields: 1 ended by a line break, 2 by the end of the file, 0 nothing left, -1 error */
static int read_fields(csv_reader *c, record *r) {
    int ch = getc(c->f), start = 1;
    if (ch == EOF) return 0;
    for (;; ch = getc(c->f)) {
        if (start && ch == '"') {
            if (read_quoted(c, r)) return -1;
            ch = getc(c->f);
            if (after_quote(c, r, ch)) return -1;
            r->quoted = 1;
        }
        start = 0;
        if (ch == '\r') {
            int next = getc(c->f);
            if (next == '\n') ch = '\n';
            else if (next != EOF) ungetc(next, c->f);
        }
        if (ch == c->delim || ch == '\n' || ch == EOF) {
            if (end_field(r)) return dlrt_failf(c->err, c->errlen, "%s: out of memory", c->path);
            if (ch == c->delim) {
                start = 1;
                continue;
            }
            if (ch == '\n') c->line++;
            return ch == EOF ? 2 : 1;
        }
        if (put_char(r, (char)ch)) return dlrt_failf(c->err, c->errlen, "%s: out of memory", c->path);
    }
}

/* reads the next record into r (blank lines skipped): 1 read, 0 at the end, -1 on error */
static int read_record(csv_reader *c, record *r) {
    for (;;) {
        if (reset_record(r, c->line)) return dlrt_failf(c->err, c->errlen, "%s: out of memory", c->path);
        int rc = read_fields(c, r);
        if (rc <= 0) return rc;
        int blank = r->n == 1 && r->at[1] == 1 && !r->quoted;
        if (!blank) return 1;
        if (rc == 2) return 0;
    }
}

static const char *field(const record *r, int k) { return r->buf + r->at[k]; }

int dlrt_edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 1 << 20;
    int row[64];
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            diag = up, row[j] = best;
        }
    }
    return row[lb];
}

/* the header's column named `name`, or -1 with an error naming the closest column */
static int find_column(const csv_reader *c, const record *h, const char *name, const char *what) {
    int best = -1, best_d = 1 << 20;
    for (int k = 0; k < h->n; k++) {
        if (!strcmp(field(h, k), name)) return k;
        int d = dlrt_edit_distance(field(h, k), name);
        if (d < best_d) best = k, best_d = d;
    }
    size_t len = strlen(name);
    if (best >= 0 && best_d <= (int)(len < 6 ? 2 : len / 3))
        dlrt_failf(c->err, c->errlen, "%s: no column '%s' (the %s); did you mean '%s'?", c->path, name,
              what, field(h, best));
    else
        dlrt_failf(c->err, c->errlen, "%s: no column '%s' (the %s); the header (line %ld) has %d "
              "columns, the first '%s'", c->path, name, what, h->line, h->n,
              h->n ? field(h, 0) : "");
    return -1;
}

/* which columns the features, the targets and the group come from */
typedef struct column_plan {
    int *x, n_x;   /* feature columns (malloc'd) */
    int y[64], n_y; /* target columns */
    int group;     /* -1: none */
    int n_fields;  /* the header's columns */
} column_plan;

static int plan_range(const csv_reader *c, const record *h, const dlrt_table_spec *s,
                      column_plan *p) {
    int lo = find_column(c, h, s->x_first, "first feature column");
    int hi = lo < 0 ? -1 : find_column(c, h, s->x_last, "last feature column");
    if (hi < 0) return -1;
    if (hi < lo)
        return dlrt_failf(c->err, c->errlen, "%s: the feature range '%s'..'%s' runs backwards (column "
                     "%d to %d of the header)", c->path, s->x_first, s->x_last, lo + 1, hi + 1);
    p->n_x = hi - lo + 1;
    p->x = malloc(sizeof(int) * (size_t)p->n_x);
    if (!p->x) return dlrt_failf(c->err, c->errlen, "%s: out of memory", c->path);
    for (int k = 0; k < p->n_x; k++) p->x[k] = lo + k;
    return 0;
}

static int plan_columns(const csv_reader *c, const record *h, const dlrt_table_spec *s,
                        column_plan *p) {
    p->n_fields = h->n, p->group = -1, p->n_y = s->n_y;
    if (s->n_y > 64) return dlrt_failf(c->err, c->errlen, "%s: at most 64 target columns", c->path);
    for (int k = 0; k < s->n_y; k++)
        if ((p->y[k] = find_column(c, h, s->y_cols[k], s->labels ? "label" : "target")) < 0)
            return -1;
    if (s->group && (p->group = find_column(c, h, s->group, "group")) < 0) return -1;
    if (!s->x_cols) return plan_range(c, h, s, p);
    p->n_x = s->n_x;
    p->x = malloc(sizeof(int) * (size_t)(s->n_x > 0 ? s->n_x : 1));
    if (!p->x) return dlrt_failf(c->err, c->errlen, "%s: out of memory", c->path);
    for (int k = 0; k < s->n_x; k++)
        if ((p->x[k] = find_column(c, h, s->x_cols[k], "feature")) < 0) return -1;
    return 0;
}

/* the value of field k of r as a finite f32 */
static int parse_value(const csv_reader *c, const record *r, const record *h, int k, float *out) {
    const char *s = field(r, k);
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (*end == ' ' || *end == '\t') end++;
    const char *bad = !*s ? "is empty (expected a number)"
                      : end == s || *end ? "is not a number"
                      : !isfinite(v) ? "is not finite (NaN and Inf are refused)"
                      : fabs(v) > FLT_MAX ? "is beyond the range of an f32" : NULL;
    if (!bad) {
        *out = (float)v;
        return 0;
    }
    return dlrt_failf(c->err, c->errlen, "%s: line %ld, column '%s': '%.40s' %s", c->path, r->line,
                 field(h, k), s, bad);
}

/* a label: a non-negative integer below spec->classes (when set) */
static int parse_label(const csv_reader *c, const record *r, const record *h, int k,
                       const dlrt_table_spec *s, int32_t *out) {
    float v;
    if (parse_value(c, r, h, k, &v)) return -1;
    const char *bad = v != floorf(v) ? "is not an integer class index"
                      : v < 0 || v > 2147483647.0f ? "is out of range (a class index is >= 0)"
                      : s->classes > 0 && v >= (float)s->classes ? "is out of range" : NULL;
    if (!bad) {
        *out = (int32_t)v;
        return 0;
    }
    if (s->classes > 0)
        return dlrt_failf(c->err, c->errlen, "%s: line %ld, column '%s': label '%s' %s (classes = "
                     "%lld: expected 0 to %lld)", c->path, r->line, field(h, k), field(r, k), bad,
                     (long long)s->classes, (long long)s->classes - 1);
    return dlrt_failf(c->err, c->errlen, "%s: line %ld, column '%s': label '%s' %s", c->path, r->line,
                 field(h, k), field(r, k), bad);
}

/* group names to ids, in order of first appearance (open addressing) */
typedef struct group_table {
    char **names;   /* slot -> name (malloc'd) or NULL */
    int32_t *ids;   /* slot -> id */
    size_t cap;     /* slots: a power of two */
    int64_t n;      /* names held */
} group_table;

static size_t hash_text(const char *s) {
    size_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int group_grow(group_table *t) {
    group_table g = {calloc(t->cap ? t->cap * 2 : 64, sizeof(char *)),
                     calloc(t->cap ? t->cap * 2 : 64, sizeof(int32_t)), t->cap ? t->cap * 2 : 64, t->n};
    if (!g.names || !g.ids) {
        free(g.names), free(g.ids);
        return -1;
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->names[i]) continue;
        size_t k = hash_text(t->names[i]) & (g.cap - 1);
        while (g.names[k]) k = (k + 1) & (g.cap - 1);
        g.names[k] = t->names[i], g.ids[k] = t->ids[i];
    }
    free(t->names), free(t->ids);
    *t = g;
    return 0;
}

/* the id of group `name` (a new one when unseen); -1 when out of memory */
static int32_t group_id(group_table *t, const char *name) {
    if ((size_t)(t->n + 1) * 2 > t->cap && group_grow(t)) return -1;
    size_t k = hash_text(name) & (t->cap - 1);
    while (t->names[k] && strcmp(t->names[k], name)) k = (k + 1) & (t->cap - 1);
    if (t->names[k]) return t->ids[k];
    if (t->n >= INT32_MAX || !(t->names[k] = strdup(name))) return -1;
    t->ids[k] = (int32_t)t->n++;
    return t->ids[k];
}

static void group_free(group_table *t) {
    for (size_t i = 0; i < t->cap; i++) free(t->names[i]);
    free(t->names), free(t->ids);
}

/* the rows read so far, in buffers grown as they arrive */
typedef struct row_store {
    dlrt_dataset *ds;
    int64_t cap;      /* rows the buffers hold */
    const column_plan *p;
    int labels;
} row_store;

static int grow_rows(row_store *s) {
    int64_t cap = s->cap ? s->cap * 2 : 1024;
    dlrt_dataset *ds = s->ds;
    float *x = realloc(ds->x, sizeof(float) * (size_t)(cap * (s->p->n_x > 0 ? s->p->n_x : 1)));
    if (x) ds->x = x;
    void *y = s->labels     ? realloc(ds->y, sizeof(int32_t) * (size_t)cap)
              : s->p->n_y > 0 ? realloc(ds->target, sizeof(float) * (size_t)(cap * s->p->n_y))
                              : &s->cap; /* no target: nothing to grow */
    if (y && s->labels) ds->y = y;
    else if (y && s->p->n_y > 0) ds->target = y;
    int32_t *g = s->p->group < 0 ? NULL : realloc(ds->group, sizeof(int32_t) * (size_t)cap);
    if (g) ds->group = g;
    if (!x || !y || (s->p->group >= 0 && !g)) return -1;
    s->cap = cap;
    return 0;
}

/* parses record r into row ds->n */
static int store_row(const csv_reader *c, row_store *s, const record *h, const record *r,
                     const dlrt_table_spec *spec, group_table *groups) {
    const column_plan *p = s->p;
    dlrt_dataset *ds = s->ds;
    if (r->n != p->n_fields)
        return dlrt_failf(c->err, c->errlen, "%s: line %ld: %d fields, but the header (line %ld) has %d "
                     "columns (a ragged row; quote a field that holds the delimiter)", c->path,
                     r->line, r->n, h->line, p->n_fields);
    if (ds->n == s->cap && grow_rows(s)) return dlrt_failf(c->err, c->errlen, "%s: out of memory", c->path);
    for (int k = 0; k < p->n_x; k++)
        if (parse_value(c, r, h, p->x[k], &ds->x[ds->n * p->n_x + k])) return -1;
    for (int k = 0; k < p->n_y; k++)
        if (s->labels ? parse_label(c, r, h, p->y[k], spec, &ds->y[ds->n])
                      : parse_value(c, r, h, p->y[k], &ds->target[ds->n * p->n_y + k]))
            return -1;
    if (p->group >= 0 && (ds->group[ds->n] = group_id(groups, field(r, p->group))) < 0)
        return dlrt_failf(c->err, c->errlen, "%s: out of memory", c->path);
    ds->n++;
    return 0;
}

/* the dataset's shape and classes once every row is read */
static int finish(const csv_reader *c, dlrt_dataset *ds, const column_plan *p,
                  const dlrt_table_spec *spec, const group_table *groups) {
    if (ds->n == 0)
        return dlrt_failf(c->err, c->errlen, "%s: no rows after the header (line 1)", c->path);
    ds->rank = 1, ds->shape[0] = p->n_x, ds->sample_size = p->n_x;
    ds->n_groups = groups->n;
    if (spec->labels) {
        int32_t top = 0;
        for (int64_t i = 0; i < ds->n; i++) top = ds->y[i] > top ? ds->y[i] : top;
        ds->n_classes = spec->classes > 0 ? (int)spec->classes : (int)top + 1;
    } else {
        ds->target_size = p->n_y;
    }
    ds->source = strdup(c->path);
    return ds->source ? 0 : dlrt_failf(c->err, c->errlen, "%s: out of memory", c->path);
}

static int read_rows(csv_reader *c, const dlrt_table_spec *spec, dlrt_dataset *out,
                     column_plan *p, record *h, record *r, group_table *groups) {
    int rc = read_record(c, h);
    if (rc == 0) return dlrt_failf(c->err, c->errlen, "%s: the file is empty (expected a header row)", c->path);
    if (rc < 0 || plan_columns(c, h, spec, p)) return -1;
    row_store s = {out, 0, p, spec->labels};
    while ((rc = read_record(c, r)) == 1)
        if (store_row(c, &s, h, r, spec, groups)) return -1;
    if (rc < 0) return -1;
    if (ferror(c->f)) return dlrt_failf(c->err, c->errlen, "%s: read error: %s", c->path, strerror(errno));
    return finish(c, out, p, spec, groups);
}

int dlrt_csv_read(const dlrt_table_spec *spec, const char *path, dlrt_dataset *out, char *err,
                  size_t errlen) {
    memset(out, 0, sizeof *out);
    int fd = dlrt_open_read(path, DLRT_FILE_MAX, "data file", err, errlen);
    if (fd < 0) return -1;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return dlrt_failf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    }
    csv_reader c = {f, path, spec->delimiter ? spec->delimiter : ',', 1, err, errlen};
    record h = {0}, r = {0};
    column_plan p = {0};
    group_table groups = {0};
    int rc = read_rows(&c, spec, out, &p, &h, &r, &groups);
    fclose(f);
    free(h.buf), free(h.at), free(r.buf), free(r.at), free(p.x);
    group_free(&groups);
    if (rc) dlrt_dataset_free(out);
    return rc;
}
