/*
 * strbuf.c — growable text buffer (see strbuf.h). Grows by doubling inside the arena. Also the
 * escaping of user text for generated C comments and string literals.
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

/* ---- escaping user text for generated code ---- */

static int is_control(unsigned char ch) { return ch < 0x20 || ch == 0x7F; }

/* the comment escape of s into out (room for 4 bytes per byte of s, plus one) */
static void comment_into(char *out, const char *s) {
    size_t n = 0;
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (is_control(ch)) {
            n += (size_t)sprintf(out + n, "\\x%02X", ch);
            continue;
        }
        out[n++] = *p;
        int pair = (*p == '*' && p[1] == '/') || (*p == '/' && p[1] == '*') ||
                   (*p == '?' && p[1] == '?');
        if (pair) out[n++] = '\\';
    }
    out[n] = 0;
}

/* the string-literal escape of s into out (room for 4 bytes per byte of s, plus one) */
static void string_into(char *out, const char *s) {
    size_t n = 0;
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (is_control(ch) || ch >= 0x80) n += (size_t)sprintf(out + n, "\\%03o", ch);
        else if (ch == '"' || ch == '\\' || (ch == '?' && p > s && p[-1] == '?'))
            out[n++] = '\\', out[n++] = (char)ch;
        else out[n++] = (char)ch;
    }
    out[n] = 0;
}

static int comment_safe(const char *s) {
    for (const char *p = s; *p; p++)
        if (is_control((unsigned char)*p) || strchr("*/?", *p)) return 0;
    return 1;
}

static int string_safe(const char *s) {
    for (const char *p = s; *p; p++)
        if (is_control((unsigned char)*p) || (unsigned char)*p >= 0x80 || strchr("\"\\", *p) ||
            (*p == '?' && p[1] == '?'))
            return 0;
    return 1;
}

const char *sb_c_comment(arena *a, const char *s) {
    if (comment_safe(s)) return s;
    char *out = arena_alloc(a, strlen(s) * 4 + 1);
    comment_into(out, s);
    return out;
}

const char *sb_c_string(arena *a, const char *s) {
    if (string_safe(s)) return s;
    char *out = arena_alloc(a, strlen(s) * 4 + 1);
    string_into(out, s);
    return out;
}
