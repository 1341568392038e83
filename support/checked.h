/*
 * checked.h — 64-bit size arithmetic that reports overflow instead of wrapping.
 *
 * Element counts and byte sizes come from user-written dims (each up to 2^31 - 1), so their
 * products can pass 2^63. Every such product or sum goes through these helpers; they return 0
 * when the exact result does not fit (then *out is unspecified) and 1 otherwise. The limits
 * the compiler enforces with them are in docs/language.md, "Limits".
 */
#ifndef DLC_CHECKED_H
#define DLC_CHECKED_H
#include <stdint.h>

/* *out = a * b; 0 on overflow */
static inline int ck_mul(int64_t a, int64_t b, int64_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}

/* *out = a + b; 0 on overflow */
static inline int ck_add(int64_t a, int64_t b, int64_t *out) {
    return !__builtin_add_overflow(a, b, out);
}

/* a + b, or INT64_MAX when that overflows (a running total that stays "too large" once it is) */
static inline int64_t ck_add_sat(int64_t a, int64_t b) {
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

/* a * b, or INT64_MAX when that overflows (both >= 0) */
static inline int64_t ck_mul_sat(int64_t a, int64_t b) {
    int64_t r;
    return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}

#endif
