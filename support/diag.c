/*
 * diag.c — user diagnostics in clang's format, internal errors, and "did you mean" matching.
 *
 *     model.dl:3:12: error: unexpected identifier 'logits'; expected ')'
 *         h = relu(dense(x, 512)
 *                ^~~~
 *
 * The quoted line is copied verbatim; the caret line copies the line's tabs so the caret lines
 * up, and counts a UTF-8 multi-byte character as one column of output. Columns in locations
 * are 1-based byte offsets within the line.
 */
#include "diag.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void diag_init(diag *d, const char *file, const char *src) {
    d->file = file;
    d->src = diag_skip_bom(src);
    d->out = stderr;
    d->n_errors = 0;
    d->cached_line = 0;
    d->cached_at = NULL;
    d->context = NULL;
    d->context_arg = NULL;
}

const char *diag_skip_bom(const char *src) {
    return src && strncmp(src, "\xEF\xBB\xBF", 3) == 0 ? src + 3 : src;
}

/* Start of 1-based line `line` of the source, or NULL when the text has fewer lines; from the
 * line found last when it is not past this one. Lines end at "\n", "\r\n" or a lone "\r" (old
 * Mac files), as the scanner counts them. */
static const char *find_line(diag *d, int line) {
    if (!d->src || line < 1) return NULL;
    const char *p = d->src;
    int l = 1;
    if (d->cached_line > 0 && d->cached_line <= line) {
        p = d->cached_at;
        l = d->cached_line;
    }
    for (; l < line; l++) {
        p += strcspn(p, "\r\n");
        if (!*p) return NULL;
        p += p[0] == '\r' && p[1] == '\n' ? 2 : 1;
    }
    d->cached_line = line;
    d->cached_at = p;
    return p;
}

/* Length of the line starting at p, without its line end. */
static size_t line_length(const char *p) { return strcspn(p, "\r\n"); }

static int is_utf8_continuation(char c) { return ((unsigned char)c & 0xC0) == 0x80; }

/* characters for one output line, written in pieces (stderr has no buffer of its own) */
typedef struct line_out {
    FILE *out;     /* where it goes */
    char buf[256]; /* what is not written yet */
    size_t n;      /* used bytes of buf */
} line_out;

static void put(line_out *o, char c) {
    if (o->n == sizeof o->buf) {
        fwrite(o->buf, 1, o->n, o->out);
        o->n = 0;
    }
    o->buf[o->n++] = c;
}

/* The caret line: the prefix keeps tabs and turns every other character into one space. */
static void print_caret(FILE *out, const char *line, size_t n, src_loc loc) {
    line_out o = {.out = out};
    size_t col = (size_t)(loc.col > 0 ? loc.col - 1 : 0);
    for (size_t i = 0; i < col; i++) {
        if (i < n && line[i] == '\t') put(&o, '\t');
        else if (i >= n || !is_utf8_continuation(line[i])) put(&o, ' ');
    }
    put(&o, '^');
    size_t end = col + (size_t)(loc.len > 1 ? loc.len : 1);
    for (size_t i = col + 1; i < end && i < n; i++)
        if (!is_utf8_continuation(line[i])) put(&o, '~');
    put(&o, '\n');
    fwrite(o.buf, 1, o.n, out);
}

static FILE *stream(const diag *d) { return d->out ? d->out : stderr; }

enum { LINE_SHOWN_MAX = 160 }; /* a longer source line is shown as "..." + a window + "..." */

/* The window of a long line around the caret: [*start, *end), on UTF-8 boundaries. */
static void line_window(const char *line, size_t n, src_loc loc, size_t *start, size_t *end) {
    size_t col = (size_t)(loc.col > 0 ? loc.col - 1 : 0);
    *start = col > LINE_SHOWN_MAX / 2 ? col - LINE_SHOWN_MAX / 2 : 0;
    while (*start > 0 && is_utf8_continuation(line[*start])) (*start)--;
    *end = *start + LINE_SHOWN_MAX < n ? *start + LINE_SHOWN_MAX : n;
    while (*end < n && is_utf8_continuation(line[*end])) (*end)++;
}

static void print_source_line(diag *d, src_loc loc) {
    const char *line = find_line(d, loc.line);
    if (!line) return;
    size_t n = line_length(line);
    if (n <= LINE_SHOWN_MAX) {
        fprintf(stream(d), "%.*s\n", (int)n, line);
        print_caret(stream(d), line, n, loc);
        return;
    }
    size_t start, end;
    line_window(line, n, loc, &start, &end);
    char shown[3 * LINE_SHOWN_MAX + 16];
    int len = snprintf(shown, sizeof shown, "%s%.*s%s", start > 0 ? "..." : "",
                       (int)(end - start), line + start, end < n ? "..." : "");
    fprintf(stream(d), "%s\n", shown);
    loc.col -= (int)start - (start > 0 ? 3 : 0);
    print_caret(stream(d), shown, (size_t)len, loc);
}

static void report(diag *d, src_loc loc, const char *kind, const char *fmt, va_list ap) {
    FILE *out = stream(d);
    if (loc.line > 0) fprintf(out, "%s:%d:%d: %s: ", d->file, loc.line, loc.col, kind);
    else fprintf(out, "%s: %s: ", d->file, kind);
    vfprintf(out, fmt, ap);
    fputc('\n', out);
    if (loc.line > 0) print_source_line(d, loc);
}

void diag_error(diag *d, src_loc loc, const char *fmt, ...) {
    d->n_errors++;
    if (d->n_errors == DIAG_MAX_SHOWN + 1)
        fprintf(stream(d), "%s: error: too many errors; only the first %d are shown\n", d->file,
                DIAG_MAX_SHOWN);
    if (d->n_errors > DIAG_MAX_SHOWN) return;
    va_list ap;
    va_start(ap, fmt);
    report(d, loc, "error", fmt, ap);
    va_end(ap);
    if (d->context) d->context(d->context_arg);
}

void diag_note(diag *d, src_loc loc, const char *fmt, ...) {
    if (d->n_errors > DIAG_MAX_SHOWN) return; /* the error it is about was not shown */
    va_list ap;
    va_start(ap, fmt);
    report(d, loc, "note", fmt, ap);
    va_end(ap);
}

void diag_plain_error(diag *d, const char *fmt, ...) {
    FILE *out = stream(d);
    va_list ap;
    va_start(ap, fmt);
    fputs("dlc: error: ", out);
    vfprintf(out, fmt, ap);
    fputc('\n', out);
    va_end(ap);
    d->n_errors++;
}

_Noreturn void dlc_internal_error(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "dlc: internal error at %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
    abort();
}

/* ---- closest match ---- */

enum { CLOSEST_MAX_LEN = 255 }; /* longer words are never suggested (no allocation needed) */

/* Optimal-string-alignment distance (Levenshtein plus adjacent transpositions, so "rleu" is
 * one edit from "relu") between a (length na) and b (length nb), both <= CLOSEST_MAX_LEN. */
static size_t edit_distance(const char *a, size_t na, const char *b, size_t nb) {
    size_t rows[3][CLOSEST_MAX_LEN + 1]; /* rows i-2, i-1, i (mod 3) */
    for (size_t j = 0; j <= nb; j++) rows[0][j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t *cur = rows[i % 3], *prev = rows[(i + 2) % 3], *prev2 = rows[(i + 1) % 3];
        cur[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t best = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < best) best = prev[j] + 1;
            if (cur[j - 1] + 1 < best) best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
        }
    }
    return rows[na % 3][nb];
}

/* "batchsize" vs "batch": one is a prefix (of at least 3 characters) of the other */
static int is_prefix_pair(const char *a, size_t na, const char *b, size_t nb) {
    size_t n = na < nb ? na : nb;
    return n >= 3 && strncmp(a, b, n) == 0;
}

const char *diag_closest(const char *word, const char *const *candidates, int n) {
    size_t nw = strlen(word);
    if (nw > CLOSEST_MAX_LEN) return NULL;
    size_t limit = nw / 3 > 1 ? nw / 3 : 1;
    const char *best = NULL;
    size_t best_dist = limit + 1;
    for (int i = 0; i < n; i++) {
        const char *c = candidates[i];
        if (!c) continue;
        size_t nc = strlen(c);
        if (nc > CLOSEST_MAX_LEN) continue;
        size_t dist;
        if (is_prefix_pair(word, nw, c, nc)) dist = 1;
        else if ((nc > nw ? nc - nw : nw - nc) >= best_dist) continue; /* cannot beat best */
        else dist = edit_distance(word, nw, c, nc);
        if (dist < best_dist) {
            best = c;
            best_dist = dist;
        }
    }
    return best;
}

const char *diag_hint(char buf[DIAG_HINT_SIZE], const char *best, const char *otherwise) {
    if (best) snprintf(buf, DIAG_HINT_SIZE, "; did you mean '%s'?", best);
    else snprintf(buf, DIAG_HINT_SIZE, "%s", otherwise);
    return buf;
}
