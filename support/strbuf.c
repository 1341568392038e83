/*
 * strbuf.c — growable text buffer (see strbuf.h). Grows by doubling inside the arena.
 */
#include "strbuf.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void sb_init(strbuf *sb, arena *a) {
    sb->a = a;
    sb->cap = 4096;
    sb->data = arena_alloc(a, sb->cap);
    sb->len = 0;
}

static void reserve(strbuf *sb, size_t extra) {
    if (sb->len + extra + 1 <= sb->cap) return;
    size_t cap = sb->cap;
    while (sb->len + extra + 1 > cap) cap *= 2;
    sb->data = arena_grow(sb->a, sb->data, sb->len + 1, cap);
    sb->cap = cap;
}

void sb_puts(strbuf *sb, const char *s) {
    size_t n = strlen(s);
    reserve(sb, n);
    memcpy(sb->data + sb->len, s, n + 1);
    sb->len += n;
}

void sb_printf(strbuf *sb, const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    reserve(sb, (size_t)n);
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    sb->len += (size_t)n;
}
