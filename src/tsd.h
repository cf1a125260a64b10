/*
 * tsd: the per-thread block (facts §6.9), one initial-exec TLS variable
 * plus a pthread key whose destructor cleans up at thread exit.
 *
 * States: nominal (the only fast state), nominal_slow (something forces
 * the slow path), minimal_initialized (a thread that has only freed),
 * purgatory (cleaned up at exit), reincarnated (used again after cleanup:
 * works, holds nothing that needs cleanup), uninitialized.
 */
#ifndef JEMALLOC_TSD_H
#define JEMALLOC_TSD_H

#include "rtree.h"
#include "tcache.h"


enum {
	tsd_state_nominal = 0,
	tsd_state_nominal_slow = 1,
	tsd_state_minimal_initialized = 2,
	tsd_state_purgatory = 3,
	tsd_state_reincarnated = 4,
	tsd_state_uninitialized = 5
};

/* Fields in the order malloc and free touch them. */
struct tsd_s {
	uint8_t state;
	bool tcache_enabled;
	int8_t reentrancy_level;
	uint64_t thread_allocated;	/* bytes, when stats are on */
	uint64_t thread_deallocated;
#ifdef JEMALLOC_PROF
	/* Bytes until the next heap-profile sample (prof.h). */
	int64_t prof_sample_left;
	struct prof_tdata_s *prof_tdata;
#endif
	rtree_ctx_t rtree_ctx;
	arena_t *arena;		/* application binding */
	arena_t *iarena;	/* internal-metadata binding */
	uint64_t offset_state;
	/* Allocator events until the next decay check of the thread's
	 * arena (arena_decay_ticks). */
	int32_t decay_ticker;
	/* The thread's cache; valid while tcache_enabled. */
	tcache_t tcache;
};

/* A tsdn_t is a tsd_t that may be NULL (before TLS is usable). */
struct tsdn_s {
	tsd_t tsd;
};

extern __thread tsd_t tsd_tls JEMALLOC_TLS_MODEL;
extern bool tsd_booted;

bool malloc_tsd_boot0(void);
void malloc_tsd_boot1(void);
tsd_t *tsd_fetch_slow(tsd_t *tsd, bool minimal);
void tsd_slow_update(tsd_t *tsd);
void tsd_cleanup(void *arg);
/* Implemented by jemalloc.c: drop the thread's arena bindings. */
void arena_cleanup(tsd_t *tsd);
void iarena_cleanup(tsd_t *tsd);

JEMALLOC_ALWAYS_INLINE tsd_t *
tsd_get(void) {
	return &tsd_tls;
}

/*
 * The fast paths address the block %fs-relatively (GCC's __seg_fs address
 * space) so that no instruction is spent on the block's address: a field
 * access is one "op %fs:off(%reg)".  Needs the initial-exec model, whose
 * offset is a link-time constant in the GOT; otherwise a plain pointer.
 */
/*
 * Sanitizer fix (found building the libFuzzer target, which needs clang):
 * clang also defines __SEG_FS, but its code for these %fs-relative paths
 * is wrong -- a CC=clang build crashed in free() writing to
 * 0xffffffffffffde48, a TLS offset used as an address (ASan: "SEGV on
 * unknown address 0xffffffffffffde48 ... in je_free src/jemalloc.c:999"),
 * and 20 of the integration tests failed without any sanitizer.  Clang
 * takes the plain-pointer version below.
 */
#if defined(__x86_64__) && defined(__SEG_FS) && \
    defined(JEMALLOC_TLS_INITIAL_EXEC) && !defined(__clang__)
#  define TSD_FAST_AS __seg_fs
JEMALLOC_ALWAYS_INLINE tsd_t TSD_FAST_AS *
tsd_fast_get(void) {
	uintptr_t off;
	__asm__("movq tsd_tls@gottpoff(%%rip), %0" : "=r"(off));
	return (tsd_t TSD_FAST_AS *)off;
}
/* Decrements *ticker and jumps to slow when it reaches zero: one
 * "subl $1, mem; jle" (GCC does not fuse them for %fs operands). */
#  define TSD_TICK_OR_GOTO(ticker, slow)				\
	__asm__ goto("subl $1, %0\n\tjle %l[" #slow "]"		\
	    : "+m"(ticker) : : "cc" : slow)
#  define TSD_TICK2_OR_GOTO(ticker, slow)				\
	__asm__ goto("subl $2, %0\n\tjle %l[" #slow "]"		\
	    : "+m"(ticker) : : "cc" : slow)
/* Subtracts n from the 64-bit counter and jumps to slow when it reaches
 * zero or below: "subq reg, mem; jle". */
#  define TSD_SUB_OR_GOTO(counter, n, slow)				\
	__asm__ goto("subq %1, %0\n\tjle %l[" #slow "]"		\
	    : "+m"(counter) : "r"((int64_t)(n)) : "cc" : slow)
#else
#  define TSD_FAST_AS
JEMALLOC_ALWAYS_INLINE tsd_t *
tsd_fast_get(void) {
	return &tsd_tls;
}
#  define TSD_TICK_OR_GOTO(ticker, slow) do {				\
	if (unlikely(--(ticker) <= 0))					\
		goto slow;						\
} while (0)
#  define TSD_TICK2_OR_GOTO(ticker, slow) do {			\
	if (unlikely(((ticker) -= 2) <= 0))				\
		goto slow;						\
} while (0)
#  define TSD_SUB_OR_GOTO(counter, n, slow) do {			\
	if (unlikely(((counter) -= (int64_t)(n)) <= 0))			\
		goto slow;						\
} while (0)
#endif

JEMALLOC_ALWAYS_INLINE bool
tsd_fast(tsd_t *tsd) {
	return tsd->state == tsd_state_nominal;
}

JEMALLOC_ALWAYS_INLINE tsd_t *
tsd_fetch_impl(bool minimal) {
	tsd_t *tsd = tsd_get();
	if (unlikely(tsd->state != tsd_state_nominal))
		return tsd_fetch_slow(tsd, minimal);
	return tsd;
}

/* The thread's block, fully initialised. */
JEMALLOC_ALWAYS_INLINE tsd_t *
tsd_fetch(void) {
	return tsd_fetch_impl(false);
}

/* For free(): does not bind the thread to an arena. */
JEMALLOC_ALWAYS_INLINE tsd_t *
tsd_fetch_min(void) {
	return tsd_fetch_impl(true);
}

JEMALLOC_ALWAYS_INLINE tsdn_t *
tsd_tsdn(tsd_t *tsd) {
	return (tsdn_t *)tsd;
}

JEMALLOC_ALWAYS_INLINE bool
tsdn_null(const tsdn_t *tsdn) {
	return tsdn == NULL;
}

JEMALLOC_ALWAYS_INLINE tsd_t *
tsdn_tsd(tsdn_t *tsdn) {
	return &tsdn->tsd;
}

/* NULL until TLS is ready (during the earliest boot steps). */
JEMALLOC_ALWAYS_INLINE tsdn_t *
tsdn_fetch(void) {
	if (!tsd_booted)
		return NULL;
	return tsd_tsdn(tsd_fetch_min());
}

JEMALLOC_ALWAYS_INLINE rtree_ctx_t *
tsd_rtree_ctx(tsd_t *tsd) {
	return &tsd->rtree_ctx;
}

/* The thread's rtree cache, or fallback (initialised here) without tsd. */
JEMALLOC_ALWAYS_INLINE rtree_ctx_t *
tsdn_rtree_ctx(tsdn_t *tsdn, rtree_ctx_t *fallback) {
	if (unlikely(tsdn_null(tsdn))) {
		rtree_ctx_data_init(fallback);
		return fallback;
	}
	return tsd_rtree_ctx(tsdn_tsd(tsdn));
}

JEMALLOC_ALWAYS_INLINE int8_t
tsd_reentrancy_level_get(tsd_t *tsd) {
	return tsd->reentrancy_level;
}

JEMALLOC_ALWAYS_INLINE void
pre_reentrancy(tsd_t *tsd) {
	tsd->reentrancy_level++;
	if (tsd->state == tsd_state_nominal)
		tsd->state = tsd_state_nominal_slow;
}

JEMALLOC_ALWAYS_INLINE void
post_reentrancy(tsd_t *tsd) {
	assert(tsd->reentrancy_level > 0);
	if (--tsd->reentrancy_level == 0)
		tsd_slow_update(tsd);
}

#endif
