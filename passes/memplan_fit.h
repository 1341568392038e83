/*
 * memplan_fit.h — the memory planner's search for the lowest free offset (memplan.c): an index
 * of the buffers placed so far over time and offset, so that finding where a buffer fits costs
 * about the number of separate occupied ranges below it times log(steps), not the number of
 * buffers placed.
 */
#ifndef DLC_MEMPLAN_FIT_H
#define DLC_MEMPLAN_FIT_H
#include "../support/arena.h"
#include <stdint.h>

typedef struct fit_index fit_index;

/* An empty index over steps 0..n_steps. */
fit_index *pass_memplan_fit_new(arena *a, int n_steps);
/* Forgets every buffer (keeps the memory). */
void pass_memplan_fit_clear(fit_index *x);
/* The lowest offset >= base where `bytes` bytes alive over steps [first, last] meet no added
 * buffer alive at a step of that span. */
int64_t pass_memplan_fit_lowest(const fit_index *x, int first, int last, int64_t bytes, int64_t base);
/* Adds a buffer holding [lo, hi) over steps [first, last]. */
void pass_memplan_fit_add(fit_index *x, int first, int last, int64_t lo, int64_t hi);

#endif
