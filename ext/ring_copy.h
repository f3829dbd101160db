/* memcpy for the ring, minus one pathology of x86 string copies.
 *
 * glibc copies blocks larger than ~2 KiB with `rep movsb`. On AMD Zen 3
 * (measured on this project's machines, glibc 2.36) that instruction runs at
 * ~1.5 GB/s instead of ~50 GB/s when the destination lies 1 to 63 bytes after
 * the source modulo 4096 (4 KiB aliasing of loads with earlier stores). The
 * ring copies to and from every row offset, so it meets that distance for
 * some slots with almost any caller's array; those copies go through vector
 * registers instead, which do not mind.
 */
#ifndef HOTFIRE_RING_COPY_H
#define HOTFIRE_RING_COPY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__SSE2__)
#include <emmintrin.h>

static inline void ring_copy(char *dst, const char *src, size_t n)
{
    size_t i = 0;
    if (n < 2048 || (((uintptr_t)dst - (uintptr_t)src) & 4095u) - 1u >= 63u) {
        memcpy(dst, src, n);
        return;
    }
    for (; i + 64 <= n; i += 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)(src + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(src + i + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(src + i + 32));
        __m128i d = _mm_loadu_si128((const __m128i *)(src + i + 48));
        _mm_storeu_si128((__m128i *)(dst + i), a);
        _mm_storeu_si128((__m128i *)(dst + i + 16), b);
        _mm_storeu_si128((__m128i *)(dst + i + 32), c);
        _mm_storeu_si128((__m128i *)(dst + i + 48), d);
    }
    memcpy(dst + i, src + i, n - i);    /* < 64 bytes: no rep movsb */
}

#else

static inline void ring_copy(char *dst, const char *src, size_t n)
{
    memcpy(dst, src, n);
}

#endif

#endif /* HOTFIRE_RING_COPY_H */
