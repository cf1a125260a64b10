/*
 * The preamble every library source includes first: build configuration as
 * `static const bool config_*`, the public header with its je_ spellings,
 * the size-class constants, and the small macros and bit helpers that every
 * layer uses.
 *
 * Layers, bottom up (each calls only those below it):
 *   pages -> base -> rtree -> extent (+ extent_mmap) -> sz/bin_info ->
 *   arena/bin/slab/large -> tsd -> jemalloc.c (API, init, conf, fork)
 */
#ifndef JEMALLOC_INTERNAL_H
#define JEMALLOC_INTERNAL_H

#ifndef _GNU_SOURCE
#  define _GNU_SOURCE
#endif

#include "jemalloc/internal/jemalloc_internal_defs.h"

#define JEMALLOC_NO_DEMANGLE
#include "jemalloc/jemalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "jemalloc/internal/size_classes.h"

typedef struct tsd_s tsd_t;
typedef struct tsdn_s tsdn_t;
typedef struct arena_s arena_t;

/* --- Build configuration ------------------------------------------------ */

static const bool config_debug =
#ifdef JEMALLOC_DEBUG
    true
#else
    false
#endif
    ;
static const bool config_stats =
#ifdef JEMALLOC_STATS
    true
#else
    false
#endif
    ;
static const bool config_fill =
#ifdef JEMALLOC_FILL
    true
#else
    false
#endif
    ;
static const bool config_xmalloc =
#ifdef JEMALLOC_XMALLOC
    true
#else
    false
#endif
    ;
static const bool config_prefixed =
#ifdef JEMALLOC_PREFIX
    true
#else
    false
#endif
    ;
/* Compile-time facts fixed in this implementation (see doc/). */
static const bool config_cache_oblivious = true;
static const bool config_prof =
#ifdef JEMALLOC_PROF
    true
#else
    false
#endif
    ;
static const bool config_utrace = false;
static const bool config_lazy_lock = false;
static const char *const config_malloc_conf = JEMALLOC_CONFIG_MALLOC_CONF;

/* --- Compiler helpers ------------------------------------------------------ */

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define JEMALLOC_ALWAYS_INLINE static inline __attribute__((always_inline))
#define JEMALLOC_INLINE static inline
#define JEMALLOC_COLD __attribute__((cold, noinline))
#define JEMALLOC_NORETURN __attribute__((noreturn))
#define UNUSED __attribute__((unused))
#define JEMALLOC_FORMAT(a, b) __attribute__((format(printf, a, b)))
#define JEMALLOC_CACHE_ALIGNED __attribute__((aligned(CACHELINE)))

#define ZU(z) ((size_t)(z))
#define ZD(z) ((ssize_t)(z))
#define QU(q) ((uint64_t)(q))
#define KZU(z) ZU(z##ULL)
#define SIZE_T_MAX SIZE_MAX

#define STRINGIFY_HELPER(x) #x
#define STRINGIFY(x) STRINGIFY_HELPER(x)

/* --- Geometry ----------------------------------------------------------------- */

#define QUANTUM ((size_t)1 << LG_QUANTUM)
#define QUANTUM_MASK (QUANTUM - 1)
#define QUANTUM_CEILING(a) (((a) + QUANTUM_MASK) & ~QUANTUM_MASK)

#define LG_CACHELINE 6
#define CACHELINE 64
#define CACHELINE_MASK (CACHELINE - 1)
#define CACHELINE_CEILING(s) (((s) + CACHELINE_MASK) & ~CACHELINE_MASK)

#define PAGE ((size_t)1 << LG_PAGE)
#define PAGE_MASK (PAGE - 1)
#define PAGE_ADDR2BASE(a) ((void *)((uintptr_t)(a) & ~PAGE_MASK))
#define PAGE_CEILING(s) (((s) + PAGE_MASK) & ~PAGE_MASK)

#define HUGEPAGE ((size_t)1 << LG_HUGEPAGE)
#define HUGEPAGE_MASK (HUGEPAGE - 1)
#define HUGEPAGE_CEILING(s) (((s) + HUGEPAGE_MASK) & ~HUGEPAGE_MASK)

#define ALIGNMENT_ADDR2BASE(a, al) ((void *)((uintptr_t)(a) & ~((al) - 1)))
#define ALIGNMENT_ADDR2OFFSET(a, al) ((size_t)((uintptr_t)(a) & ((al) - 1)))
#define ALIGNMENT_CEILING(s, al) (((s) + ((al) - 1)) & ~((al) - 1))

#define LG_SIZE_CLASS_GROUP 2

/* Fill bytes of opt.junk. */
/*
 * Statistics that read counters other threads update without a lock (by
 * design: an aligned 8-byte load is never torn, the snapshot may be a
 * little stale) bracket those reads, so that TSan builds do not report
 * them; elsewhere these are empty.
 */
#ifdef __SANITIZE_THREAD__
void AnnotateIgnoreReadsBegin(const char *file, int line);
void AnnotateIgnoreReadsEnd(const char *file, int line);
#  define RACY_READS_BEGIN() AnnotateIgnoreReadsBegin(__FILE__, __LINE__)
#  define RACY_READS_END() AnnotateIgnoreReadsEnd(__FILE__, __LINE__)
#else
#  define RACY_READS_BEGIN()
#  define RACY_READS_END()
#endif

#define JEMALLOC_ALLOC_JUNK ((uint8_t)0xa5)
#define JEMALLOC_FREE_JUNK ((uint8_t)0x5a)

/* --- MALLOCX_* decoding (facts §2.2) -------------------------------------- */

#define MALLOCX_ARENA_BITS 12
#define MALLOCX_TCACHE_BITS 12
#define MALLOCX_LG_ALIGN_BITS 6
#define MALLOCX_ARENA_SHIFT 20
#define MALLOCX_TCACHE_SHIFT 8
/*
 * Sanitizer fix (UBSan): 4095 << 20 overflows int ("left shift of 4095 by
 * 20 places cannot be represented in type 'int'").  The mask is the top 12
 * bits of an int, spelled as jemalloc spells it.
 */
#define MALLOCX_ARENA_MASK ((int)~0xfffff)
#define MALLOCX_ARENA_LIMIT ((1 << MALLOCX_ARENA_BITS) - 1)
#define MALLOCX_TCACHE_MASK (((1 << MALLOCX_TCACHE_BITS) - 1) << MALLOCX_TCACHE_SHIFT)
#define MALLOCX_TCACHE_MAX ((1 << MALLOCX_TCACHE_BITS) - 3)
#define MALLOCX_LG_ALIGN_MASK ((1 << MALLOCX_LG_ALIGN_BITS) - 1)
#define MALLOCX_ALIGN_GET_SPECIFIED(flags) (ZU(1) << ((flags) & MALLOCX_LG_ALIGN_MASK))
#define MALLOCX_ALIGN_GET(flags) (MALLOCX_ALIGN_GET_SPECIFIED(flags) & (SIZE_T_MAX - 1))
#define MALLOCX_ZERO_GET(flags) ((bool)((flags) & MALLOCX_ZERO))
#define MALLOCX_TCACHE_GET(flags) \
	(((unsigned)(((flags) & MALLOCX_TCACHE_MASK) >> MALLOCX_TCACHE_SHIFT)) - 2)
#define MALLOCX_ARENA_GET(flags) (((unsigned)(((unsigned)(flags)) >> MALLOCX_ARENA_SHIFT)) - 1)

/* Sentinels of the dynamic options (the seed's 0xfffffffe / 0xffffffff). */
#define TCACHE_IND_NONE ((unsigned)-1)
#define TCACHE_IND_AUTOMATIC ((unsigned)-2)
#define ARENA_IND_AUTOMATIC ((unsigned)-1)

/* --- Bit helpers ------------------------------------------------------------- */

JEMALLOC_ALWAYS_INLINE unsigned
lg_floor(size_t x) {
	return (unsigned)(63 - __builtin_clzll((unsigned long long)x));
}

/* ceil(log2(x)) for x >= 1. */
JEMALLOC_ALWAYS_INLINE unsigned
lg_ceil(size_t x) {
	return x <= 1 ? 0 : lg_floor(x - 1) + 1;
}

JEMALLOC_ALWAYS_INLINE size_t
pow2_ceil_zu(size_t x) {
	return x <= 1 ? 1 : ZU(1) << lg_ceil(x);
}

JEMALLOC_ALWAYS_INLINE unsigned
ffs_u64(uint64_t x) {	/* index of lowest set bit; x != 0 */
	return (unsigned)__builtin_ctzll(x);
}

JEMALLOC_ALWAYS_INLINE int
get_errno(void) {
	return errno;
}

JEMALLOC_ALWAYS_INLINE void
set_errno(int e) {
	errno = e;
}

#include "jassert.h"

#endif /* JEMALLOC_INTERNAL_H */
