/* Per-column minimum and maximum over windows of rows, one pass.
 *
 * Plain loops with the "a < b ? a : b" form, which gcc -O3 turns into packed
 * min/max instructions (the same form keeps IEEE semantics for floats: a NaN
 * sample is skipped, not propagated as numpy's min/max would). Narrow rows
 * (a few channels) are taken G at a time as one wide row of G * k values, so
 * that the vector loop stays long; the G partial results are folded at the
 * end of each window. */
#ifndef HOTFIRE_SIGNAL_EXTREMES_H
#define HOTFIRE_SIGNAL_EXTREMES_H
#include <stddef.h>
#include <stdint.h>

#define HOTFIRE_WIDE 256 /* values per wide row at most */

#define HOTFIRE_EXTREMES(NAME, T)                                                   \
static void NAME(const T *raw, ptrdiff_t m, ptrdiff_t w, ptrdiff_t k,               \
                 T *lo, T *hi)                                                      \
{                                                                                   \
    ptrdiff_t g = k >= 64 ? 1 : 64 / k;                                             \
    if (g > w) g = w;                                                               \
    ptrdiff_t kw = g * k, full = w / g;                                             \
    T l[HOTFIRE_WIDE], h[HOTFIRE_WIDE];                                             \
    for (ptrdiff_t b = 0; b < m; b++) {                                             \
        const T *row = raw + b * w * k;                                             \
        T *ol = lo + b * k, *oh = hi + b * k;                                       \
        if (g == 1) {                                                               \
            for (ptrdiff_t j = 0; j < k; j++) { ol[j] = row[j]; oh[j] = row[j]; }   \
            for (ptrdiff_t r = 1; r < w; r++) {                                     \
                row += k;                                                           \
                for (ptrdiff_t j = 0; j < k; j++) {                                 \
                    T v = row[j];                                                   \
                    ol[j] = v < ol[j] ? v : ol[j];                                  \
                    oh[j] = v > oh[j] ? v : oh[j];                                  \
                }                                                                   \
            }                                                                       \
            continue;                                                               \
        }                                                                           \
        for (ptrdiff_t j = 0; j < kw; j++) { l[j] = row[j]; h[j] = row[j]; }        \
        for (ptrdiff_t r = 1; r < full; r++) {                                      \
            row += kw;                                                              \
            for (ptrdiff_t j = 0; j < kw; j++) {                                    \
                T v = row[j];                                                       \
                l[j] = v < l[j] ? v : l[j];                                         \
                h[j] = v > h[j] ? v : h[j];                                         \
            }                                                                       \
        }                                                                           \
        row += kw;                                                                  \
        for (ptrdiff_t r = full * g; r < w; r++, row += k)                          \
            for (ptrdiff_t j = 0; j < k; j++) {                                     \
                T v = row[j];                                                       \
                l[j] = v < l[j] ? v : l[j];                                         \
                h[j] = v > h[j] ? v : h[j];                                         \
            }                                                                       \
        for (ptrdiff_t j = 0; j < k; j++) { ol[j] = l[j]; oh[j] = h[j]; }           \
        for (ptrdiff_t q = 1; q < g; q++)                                           \
            for (ptrdiff_t j = 0; j < k; j++) {                                     \
                T a = l[q * k + j], c = h[q * k + j];                               \
                ol[j] = a < ol[j] ? a : ol[j];                                      \
                oh[j] = c > oh[j] ? c : oh[j];                                      \
            }                                                                       \
    }                                                                               \
}

HOTFIRE_EXTREMES(extremes_i16, int16_t)
HOTFIRE_EXTREMES(extremes_i32, int32_t)
HOTFIRE_EXTREMES(extremes_f32, float)
HOTFIRE_EXTREMES(extremes_f64, double)

#endif
