/*
 * arena.h — bump allocator for one compilation.
 *
 * Every AST node, IR table and generated string of a compilation lives in one arena and is
 * freed at once with arena_free(). There are no individual frees in frontend/ir/passes/codegen.
 * Allocation never fails silently: out of memory is an internal error (abort with a message).
 */
#ifndef DLC_ARENA_H
#define DLC_ARENA_H
#include <stddef.h>

typedef struct arena_block arena_block;

typedef struct arena {
    arena_block *head; /* newest block; older blocks follow through ->next */
} arena;

void *arena_alloc(arena *a, size_t size);            /* zeroed, 16-byte aligned */
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void *arena_grow(arena *a, void *old, size_t old_size, size_t new_size); /* copy into a larger block */
void arena_free(arena *a);

#endif
