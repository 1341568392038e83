/*
 * dlrt_rng.c — deterministic random numbers: xoshiro256** seeded by splitmix64, uniform and
 * normal (Box-Muller) draws, Fisher-Yates shuffling. Same seed, same stream, on every machine.
 */
#include "dlrt.h"
#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void dlrt_rng_seed(dlrt_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t dlrt_rng_next(dlrt_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double dlrt_rng_uniform(dlrt_rng *r) { return (double)(dlrt_rng_next(r) >> 11) * 0x1.0p-53; }

double dlrt_rng_normal(dlrt_rng *r) {
    double u1 = dlrt_rng_uniform(r), u2 = dlrt_rng_uniform(r);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

void dlrt_rng_shuffle(dlrt_rng *r, int64_t *v, int64_t n) {
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(dlrt_rng_next(r) % (uint64_t)(i + 1));
        int64_t t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}
