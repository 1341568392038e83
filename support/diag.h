/*
 * diag.h — user diagnostics and internal errors.
 *
 * User errors print like clang:
 *     model.dl:3:12: error: message
 *         h = relu(dense(x, 512)
 *                ^~~~
 * and are counted; the driver exits with status 1 when d->n_errors > 0. All errors of a phase
 * are reported together. Internal invariant failures are a different thing:
 * dlc_internal_error prints "dlc: internal error at FILE:LINE: ..." and aborts.
 */
#ifndef DLC_DIAG_H
#define DLC_DIAG_H
#include <stddef.h>
#include <stdio.h>

typedef struct src_loc {
    int line; /* 1-based line; 0 means "no location" (e.g. a command-line value) */
    int col;  /* 1-based column of the first character */
    int len;  /* characters to underline (at least 1 is drawn) */
} src_loc;

typedef struct diag {
    const char *file;   /* file name as given by the user */
    const char *src;    /* whole source text (NUL-terminated) for quoting lines */
    FILE *out;          /* where messages go (stderr by default) */
    int n_errors;       /* user errors reported so far (shown or not: see DIAG_MAX_SHOWN) */
    int cached_line;    /* the line whose start cached_at holds (0: none yet), so that quoting */
    const char *cached_at; /* errors in file order scans the text once, not once per error */
    /* Called after each shown error (NULL: none), to add notes about where it happened, e.g.
     * the frontend's "in block 'encoder' called here" for an error inside a block's body. */
    void (*context)(void *arg);
    void *context_arg;  /* context's argument */
} diag;

/* `src` may start with a UTF-8 byte order mark: it is skipped (here and by the scanner, which
 * calls diag_skip_bom too), so line 1's columns count from the first character after it. */
/* Errors after this many are counted but not printed (one line says so). */
enum { DIAG_MAX_SHOWN = 100 };

void diag_init(diag *d, const char *file, const char *src);
const char *diag_skip_bom(const char *src); /* src without a leading UTF-8 BOM */
void diag_error(diag *d, src_loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void diag_note(diag *d, src_loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Error with no source location, e.g. about a command-line option or a data file: "dlc: error: ..." */
void diag_plain_error(diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

_Noreturn void dlc_internal_error(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define DLC_ASSERT(cond)                                                              \
    do {                                                                              \
        if (!(cond)) dlc_internal_error(__FILE__, __LINE__, "assertion '%s' failed", #cond); \
    } while (0)

/* Closest candidate to `word` by edit distance, or NULL if none is close enough. */
const char *diag_closest(const char *word, const char *const *candidates, int n);

/* The tail of an "unknown name" message: "; did you mean 'BEST'?" when diag_closest found a
 * name, else `otherwise` (e.g. " (known: a, b)", or ""). Written to buf, which it returns. */
enum { DIAG_HINT_SIZE = 256 };
const char *diag_hint(char buf[DIAG_HINT_SIZE], const char *best, const char *otherwise);

#endif
