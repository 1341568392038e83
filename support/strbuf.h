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

/* User text (layer, parameter and input names, file names) printed into generated C or CUDA
 * goes through one of these two, and nowhere unescaped (the generated code must compile
 * whatever the name). Both return `s` itself when it needs no escaping, else a copy in `a`.
 *   sb_c_comment: text to place inside a block comment: no "*" "/" pair, no "/" "*" pair (a
 *     backslash goes between), no trigraph ("?\?"), control characters as \xHH text.
 *   sb_c_string: the body of a C string literal: \" \\, "?\?" (no trigraph), and control
 *     characters and bytes >= 0x80 as three-digit octal escapes. */
const char *sb_c_comment(arena *a, const char *s);
const char *sb_c_string(arena *a, const char *s);

#endif
