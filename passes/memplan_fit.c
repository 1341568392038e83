/*
 * memplan_fit.c — the lowest-fit index of the memory planner (see memplan_fit.h).
 *
 * A segment tree over the steps. Each buffer is recorded at the O(log steps) nodes whose
 * ranges tile its lifetime ("own" sets) and, as a summary, at those nodes and every node on
 * the paths from its first and last step up to the root ("down" sets: what is recorded at or
 * below a node). A span of steps is the tiling nodes of its own; the buffers alive during it
 * are exactly those in the down sets of its tiling nodes and in the own sets of the nodes on
 * the paths from its two ends to the root. Each set keeps only the union of its buffers'
 * bytes, as sorted, disjoint ranges (touching ones merged): the search jumps over a packed
 * region in one step. Every answer equals scanning all placed buffers that live at the same
 * time for the first gap that fits.
 */
#include "memplan_fit.h"
#include <string.h>

typedef struct range_set {
    int64_t *lo, *hi; /* sorted, disjoint, non-touching byte ranges [lo, hi) */
    int n, cap;       /* used / allocated entries */
} range_set;

struct fit_index {
    arena *a;        /* where the sets grow */
    int leaves;      /* power of two > the last step; leaf of step t is node leaves + t */
    range_set *own;  /* per node: buffers whose lifetime's tiling includes the node */
    range_set *down; /* per node: buffers recorded at the node, below it, or through it */
};

fit_index *pass_memplan_fit_new(arena *a, int n_steps) {
    fit_index *x = arena_alloc(a, sizeof *x);
    x->a = a;
    x->leaves = 1;
    while (x->leaves <= n_steps) x->leaves *= 2;
    x->own = arena_alloc(a, sizeof(range_set) * 2 * (size_t)x->leaves);
    x->down = arena_alloc(a, sizeof(range_set) * 2 * (size_t)x->leaves);
    return x;
}

void pass_memplan_fit_clear(fit_index *x) {
    for (int i = 0; i < 2 * x->leaves; i++) x->own[i].n = x->down[i].n = 0;
}

/* the index of the first range of s ending after `at` (s->n if none) */
static int first_ending_after(const range_set *s, int64_t at) {
    int lo = 0, hi = s->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (s->hi[mid] <= at) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* adds [lo, hi) to s, merging the ranges it overlaps or touches */
static void set_add(arena *a, range_set *s, int64_t lo, int64_t hi) {
    int i = first_ending_after(s, lo - 1), j = i; /* i: first range with hi >= lo */
    while (j < s->n && s->lo[j] <= hi) j++;       /* [i, j) merge with [lo, hi) */
    if (i < j) {
        if (s->lo[i] < lo) lo = s->lo[i];
        if (s->hi[j - 1] > hi) hi = s->hi[j - 1];
    }
    int n = s->n - (j - i) + 1;
    if (n > s->cap) {
        int cap = s->cap ? s->cap * 2 : 4;
        while (cap < n) cap *= 2;
        s->lo = arena_grow(a, s->lo, sizeof(int64_t) * (size_t)s->cap, sizeof(int64_t) * (size_t)cap);
        s->hi = arena_grow(a, s->hi, sizeof(int64_t) * (size_t)s->cap, sizeof(int64_t) * (size_t)cap);
        s->cap = cap;
    }
    memmove(&s->lo[i + 1], &s->lo[j], sizeof(int64_t) * (size_t)(s->n - j));
    memmove(&s->hi[i + 1], &s->hi[j], sizeof(int64_t) * (size_t)(s->n - j));
    s->lo[i] = lo;
    s->hi[i] = hi;
    s->n = n;
}

/* the nodes tiling steps [first, last] (at most 2 per level) into tiles; returns how many */
static int tiling(const fit_index *x, int first, int last, int *tiles) {
    int n = 0;
    for (int l = first + x->leaves, r = last + x->leaves + 1; l < r; l /= 2, r /= 2) {
        if (l & 1) tiles[n++] = l++;
        if (r & 1) tiles[n++] = --r;
    }
    return n;
}

enum { MAX_LEVELS = 40 }; /* levels of the tree (steps fit an int) */

/* the sets to ask about steps [first, last]: the down sets of its tiles, the own sets of the
 * nodes from each end up to the root */
static int sets_for(const fit_index *x, int first, int last, const range_set **sets) {
    int tiles[2 * MAX_LEVELS], n = 0, k = tiling(x, first, last, tiles);
    for (int i = 0; i < k; i++)
        if (x->down[tiles[i]].n > 0) sets[n++] = &x->down[tiles[i]];
    int a = first + x->leaves, b = last + x->leaves;
    for (; a >= 1; a /= 2, b /= 2) { /* the two paths, until they meet */
        if (x->own[a].n > 0) sets[n++] = &x->own[a];
        if (b != a && x->own[b].n > 0) sets[n++] = &x->own[b];
    }
    return n;
}

int64_t pass_memplan_fit_lowest(const fit_index *x, int first, int last, int64_t bytes, int64_t base) {
    const range_set *sets[4 * MAX_LEVELS];
    int n = sets_for(x, first, last, sets);
    int64_t at = base;
    for (int moved = 1; moved;) {
        moved = 0;
        for (int i = 0; i < n; i++) {
            const range_set *s = sets[i];
            for (int k = first_ending_after(s, at); k < s->n && s->lo[k] < at + bytes; k++) {
                at = s->hi[k];
                moved = 1;
            }
        }
    }
    return at;
}

void pass_memplan_fit_add(fit_index *x, int first, int last, int64_t lo, int64_t hi) {
    if (hi <= lo) return; /* an empty buffer is in nobody's way */
    int tiles[2 * MAX_LEVELS], k = tiling(x, first, last, tiles);
    for (int i = 0; i < k; i++) {
        set_add(x->a, &x->own[tiles[i]], lo, hi);
        set_add(x->a, &x->down[tiles[i]], lo, hi);
    }
    for (int v = (first + x->leaves) / 2; v >= 1; v /= 2) set_add(x->a, &x->down[v], lo, hi);
    for (int v = (last + x->leaves) / 2; v >= 1; v /= 2) set_add(x->a, &x->down[v], lo, hi);
}
