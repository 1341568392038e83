/*
 * strbuf.h — a growable text buffer in the compilation arena, for code generation and dumps.
 */
#ifndef DLC_STRBUF_H
#define DLC_STRBUF_H
#include "arena.h"
#include <stddef.h>

typedef struct strbuf {
    arena *a;   /* where the text lives */
    char *data; /* NUL-terminated text */
    size_t len; /* characters in data */
    size_t cap; /* allocated bytes */
} strbuf;

void sb_init(strbuf *sb, arena *a);
void sb_puts(strbuf *sb, const char *s);
void sb_printf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
