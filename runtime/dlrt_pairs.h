/*
 * dlrt_pairs.h — the pairs and triplets sampler: tuples of sample indices drawn from a pool of
 * labelled samples (a split, or the train or validation part of one), seeded and reproducible.
 *
 * A pair is (first, second): `first` is drawn uniformly from the pool; with probability
 * same_share `second` is drawn uniformly from the other samples of first's class (first itself
 * when it is alone in its class), otherwise uniformly from the samples of every other class.
 * A triplet is (anchor, positive, negative): the anchor uniform, the positive as a same-class
 * second, the negative as a different-class one. Each draw is a Bernoulli(same_share) per pair,
 * so over N pairs the same-class count is Binomial(N, same_share).
 * The same (seed, stream) gives the same tuples on every machine (runtime/dlrt_rng.c).
 */
#ifndef DLRT_PAIRS_H
#define DLRT_PAIRS_H
#include "dlrt_data.h"
#include <stddef.h>
#include <stdint.h>

/* The pool, grouped by class: by_class[start[c] .. start[c] + count[c]) are class c's samples. */
typedef struct dlrt_sampler {
    const int32_t *labels; /* the dataset's labels (not owned) */
    int64_t n;             /* samples in the pool */
    int n_classes;         /* classes of the labels (start and count have this many entries) */
    int64_t *by_class;     /* the pool's sample indices, grouped by class; malloc'd */
    int64_t *start;        /* per class: first position in by_class; malloc'd */
    int64_t *count;        /* per class: samples of the pool in it; malloc'd */
} dlrt_sampler;

/* Groups pool[0..n) (indices into labels) by class. Fails when the pool is empty, and, when
 * `need_other` (different-class pairs or triplets are drawn), when it holds a single class. */
int dlrt_sampler_init(dlrt_sampler *s, const int32_t *labels, int n_classes, const int64_t *pool,
                      int64_t n, int need_other, const char *what, char *err, size_t errlen);
void dlrt_sampler_free(dlrt_sampler *s);

/* Draws n tuples of `arity` (2: pairs, 3: triplets) into out[n * arity] from the stream keyed
 * by `key` (dlrt_sampler_key); same_share is used by pairs only. */
void dlrt_sampler_draw(const dlrt_sampler *s, int arity, double same_share, uint64_t key,
                       int64_t n, int64_t *out);

/* The stream key of (seed, epoch, part): each epoch draws afresh; part 0 is training, 1
 * validation, 2 test. */
uint64_t dlrt_sampler_key(long long seed, long long epoch, int part);

#endif
