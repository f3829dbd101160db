/* Atomic accesses to the ring's shared 64-bit indices.
 *
 * The ring is a seqlock over rows: the writer publishes "write started up to"
 * (relaxed store, then a release fence, then the copy) and "committed up to"
 * (release store after the copy); a reader loads "committed" (acquire) before
 * copying and "started" after an acquire fence, to learn which of the rows it
 * copied may have been overwritten meanwhile. This is the fence pattern of
 * Boehm, "Can seqlocks get along with programming language memory models?"
 * (MSPC 2012). GCC and Clang builtins; on x86 the fences cost only a compiler
 * barrier.
 */
#ifndef HOTFIRE_RING_ATOMIC_H
#define HOTFIRE_RING_ATOMIC_H

#include <stdint.h>

#if !defined(__GNUC__) && !defined(__clang__)
#error "hotfire ring_atomic.h needs GCC or Clang __atomic builtins"
#endif

static inline int64_t ring_load_acquire(const int64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline int64_t ring_load_relaxed(const int64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void ring_store_release(int64_t *p, int64_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline void ring_store_relaxed(int64_t *p, int64_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline void ring_fence_acquire(void)
{
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
}

static inline void ring_fence_release(void)
{
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

#endif /* HOTFIRE_RING_ATOMIC_H */
