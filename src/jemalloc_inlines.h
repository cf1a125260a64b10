/*
 * The inlined allocation chain shared by jemalloc.c and tcache.c:
 * thread-to-arena choice, the thread-cache operations, and the i* layer
 * (iallocztm, ipallocztm, idalloctm, isalloc) that picks cache or arena.
 */
#ifndef JEMALLOC_INLINES_H
#define JEMALLOC_INLINES_H

#include "arena.h"
#include "large.h"
#include "rtree.h"
#include "sz.h"
#include "tcache.h"
#include "tsd.h"
#include "conf.h"

#include <sched.h>

arena_t *arena_choose_hard(tsd_t *tsd, bool internal);
void percpu_arena_update(tsd_t *tsd, unsigned cpu);
/* Arena count covered by percpu_arena (0 when the mode is off). */
extern unsigned percpu_arena_limit;

/* The arena index for the CPU this thread runs on (percpu_arena). */
JEMALLOC_ALWAYS_INLINE unsigned
percpu_arena_choose(void) {
	int cpu = sched_getcpu();
	if (cpu < 0)
		return 0;
	unsigned ind = (unsigned)cpu;
	/* phycpu: hyperthread siblings share an arena. */
	if (opt_percpu_arena == per_phycpu_arena && ncpus > 1 && ind >=
	    ncpus / 2)
		ind -= ncpus / 2;
	return ind < percpu_arena_limit ? ind : ind % percpu_arena_limit;
}
JEMALLOC_NORETURN void report_bad_pointer(const char *func, const char *fault,
    const void *ptr);

/* --- arena choice ----------------------------------------------------------- */

JEMALLOC_ALWAYS_INLINE arena_t *
arena_choose_impl(tsd_t *tsd, arena_t *arena, bool internal) {
	if (arena != NULL)
		return arena;
	/* Inside hooks or init (and for minimal threads): arena 0. */
	if (unlikely(tsd_reentrancy_level_get(tsd) > 0))
		return arena_get_from_ind(0);
	arena_t *ret = internal ? tsd->iarena : tsd->arena;
	if (unlikely(ret == NULL))
		ret = arena_choose_hard(tsd, internal);
	/* percpu_arena: follow the thread to its CPU's arena, checking only
	 * when another thread used this arena since our last check. */
	if (unlikely(percpu_arena_limit != 0) && !internal && ret->ind <
	    percpu_arena_limit && ret->last_thd != tsd) {
		unsigned ind = percpu_arena_choose();
		if (ret->ind != ind) {
			percpu_arena_update(tsd, ind);
			ret = tsd->arena;
		}
		ret->last_thd = tsd;
	}
	return ret;
}

JEMALLOC_ALWAYS_INLINE arena_t *
arena_choose(tsd_t *tsd, arena_t *arena) {
	return arena_choose_impl(tsd, arena, false);
}

JEMALLOC_ALWAYS_INLINE arena_t *
arena_ichoose(tsd_t *tsd, arena_t *arena) {
	return arena_choose_impl(tsd, arena, true);
}

/* --- thread cache -------------------------------------------------------------- */

/* The thread's own cache, or NULL when it has none. */
JEMALLOC_ALWAYS_INLINE tcache_t *
tcache_get(tsd_t *tsd) {
	if (!tsd->tcache_enabled)
		return NULL;
	return &tsd->tcache;
}

/* Counts one cache event; every TCACHE_GC_INCR events runs a GC step. */
JEMALLOC_ALWAYS_INLINE void
tcache_event(tsd_t *tsd, tcache_t *tcache) {
	if (unlikely(--tcache->gc_ticker <= 0))
		tcache_event_hard(tsd, tcache);
}

/* Debug builds: an object already in the bin is being freed again. */
static inline void
tcache_check_double_free(const cache_bin_t *bin, const void *ptr,
    const char *what) {
	if (!config_debug)
		return;
	for (void **p = bin->stack_head; p < bin->empty; p++) {
		if (*p == ptr)
			report_bad_pointer(what, "double free", ptr);
	}
}

JEMALLOC_ALWAYS_INLINE void *
tcache_alloc_small(tsd_t *tsd, arena_t *arena, tcache_t *tcache, size_t size,
    unsigned binind, bool zero, bool slow_path) {
	cache_bin_t *bin = tcache_small_bin_get(tcache, binind);
	bool tcache_success;
	void *ret = cache_bin_alloc_easy(bin, &tcache_success);
	if (unlikely(!tcache_success)) {
		arena = arena_choose(tsd, arena);
		if (unlikely(arena == NULL))
			return NULL;
		ret = tcache_alloc_small_hard(tsd_tsdn(tsd), arena, tcache, bin,
		    binind, &tcache_success);
		if (!tcache_success)
			return NULL;
	}
	size_t usize = sz_index2size(binind);
	if (likely(!zero)) {
		if (slow_path && config_fill) {
			if (unlikely(opt_junk_alloc))
				memset(ret, JEMALLOC_ALLOC_JUNK, usize);
			else if (unlikely(opt_zero))
				memset(ret, 0, usize);
		}
	} else {
		memset(ret, 0, usize);
	}
	if (config_stats)
		tcache->nrequests[binind]++;
	tcache_event(tsd, tcache);
	return ret;
}

JEMALLOC_ALWAYS_INLINE void *
tcache_alloc_large(tsd_t *tsd, arena_t *arena, tcache_t *tcache, size_t size,
    unsigned binind, bool zero, bool slow_path) {
	cache_bin_t *bin = tcache_large_bin_get(tcache, binind);
	bool tcache_success;
	void *ret = cache_bin_alloc_easy(bin, &tcache_success);
	size_t usize = sz_index2size(binind);
	if (unlikely(!tcache_success)) {
		/* Large misses are served one object at a time (the arena
		 * counts the request). */
		arena = arena_choose(tsd, arena);
		if (unlikely(arena == NULL))
			return NULL;
		ret = large_malloc(tsd_tsdn(tsd), arena, usize, zero);
		if (ret == NULL)
			return NULL;
	} else {
		if (likely(!zero)) {
			if (slow_path && config_fill) {
				if (unlikely(opt_junk_alloc))
					memset(ret, JEMALLOC_ALLOC_JUNK, usize);
				else if (unlikely(opt_zero))
					memset(ret, 0, usize);
			}
		} else {
			memset(ret, 0, usize);
		}
		if (config_stats)
			tcache->nrequests[binind]++;
	}
	tcache_event(tsd, tcache);
	return ret;
}

JEMALLOC_ALWAYS_INLINE void
tcache_dalloc_small(tsd_t *tsd, tcache_t *tcache, void *ptr, unsigned binind,
    bool slow_path) {
	cache_bin_t *bin = tcache_small_bin_get(tcache, binind);
	tcache_check_double_free(bin, ptr, "free");
	if (slow_path && config_fill && unlikely(opt_junk_free))
		memset(ptr, JEMALLOC_FREE_JUNK, bin_infos[binind].reg_size);
	if (unlikely(!cache_bin_dalloc_easy(bin, ptr))) {
		tcache_bin_flush_small(tsd, tcache, bin, binind,
		    cache_bin_ncached_max(bin) >> 1);
		bool ok = cache_bin_dalloc_easy(bin, ptr);
		assert(ok);
		(void)ok;
	}
	tcache_event(tsd, tcache);
}

JEMALLOC_ALWAYS_INLINE void
tcache_dalloc_large(tsd_t *tsd, tcache_t *tcache, void *ptr, unsigned binind,
    bool slow_path) {
	cache_bin_t *bin = tcache_large_bin_get(tcache, binind);
	tcache_check_double_free(bin, ptr, "free");
	if (slow_path && config_fill && unlikely(opt_junk_free))
		memset(ptr, JEMALLOC_FREE_JUNK, sz_index2size(binind));
	if (unlikely(!cache_bin_dalloc_easy(bin, ptr))) {
		tcache_bin_flush_large(tsd, tcache, bin, binind,
		    cache_bin_ncached_max(bin) >> 1);
		bool ok = cache_bin_dalloc_easy(bin, ptr);
		assert(ok);
		(void)ok;
	}
	tcache_event(tsd, tcache);
}

/* --- arena dispatch ----------------------------------------------------------------- */

JEMALLOC_ALWAYS_INLINE void *
arena_malloc(tsdn_t *tsdn, arena_t *arena, size_t size, unsigned ind,
    bool zero, tcache_t *tcache, bool slow_path) {
	if (likely(tcache != NULL)) {
		if (likely(ind < NBINS)) {
			return tcache_alloc_small(tsdn_tsd(tsdn), arena, tcache,
			    size, ind, zero, slow_path);
		}
		if (likely(ind < nhbins)) {
			return tcache_alloc_large(tsdn_tsd(tsdn), arena, tcache,
			    size, ind, zero, slow_path);
		}
	}
	if (!tsdn_null(tsdn))
		arena = arena_choose(tsdn_tsd(tsdn), arena);
	else if (arena == NULL)
		arena = arena_get_from_ind(0);
	return arena_malloc_hard(tsdn, arena, size, ind, zero);
}

JEMALLOC_ALWAYS_INLINE void
arena_dalloc(tsdn_t *tsdn, void *ptr, tcache_t *tcache, unsigned szind,
    bool slab, bool slow_path) {
	/* Always on: no live allocation has a small class without a slab or
	 * a class beyond the last (freed and unknown pages read so). */
	if (unlikely(!slab && (szind < NBINS || szind >= NSIZES)))
		report_bad_pointer("free", "double free or invalid pointer", ptr);
	if (likely(tcache != NULL)) {
		if (likely(slab)) {
			tcache_dalloc_small(tsdn_tsd(tsdn), tcache, ptr, szind,
			    slow_path);
			return;
		}
		if (szind < nhbins) {
			tcache_dalloc_large(tsdn_tsd(tsdn), tcache, ptr, szind,
			    slow_path);
			return;
		}
	}
	extent_t *extent = extent_lookup(tsdn, ptr, true);
	if (likely(slab))
		arena_dalloc_small(tsdn, extent, ptr, szind);
	else
		large_dalloc(tsdn, extent);
}

/* --- the i* layer ------------------------------------------------------------------ */

JEMALLOC_ALWAYS_INLINE void *
iallocztm(tsdn_t *tsdn, size_t size, unsigned ind, bool zero,
    tcache_t *tcache, bool is_internal, arena_t *arena, bool slow_path) {
	return arena_malloc(tsdn, arena, size, ind, zero, tcache, slow_path);
}

JEMALLOC_ALWAYS_INLINE void *
ipallocztm(tsdn_t *tsdn, size_t usize, size_t alignment, bool zero,
    tcache_t *tcache, bool is_internal, arena_t *arena) {
	if (alignment <= QUANTUM && usize <= SMALL_MAXCLASS) {
		/* Every small class is aligned to at least its quantum. */
		return iallocztm(tsdn, usize, sz_size2index(usize), zero,
		    tcache, is_internal, arena, true);
	}
	if (usize <= SMALL_MAXCLASS && alignment < PAGE && tcache != NULL) {
		/* sa2u picked a class that is naturally aligned enough. */
		return iallocztm(tsdn, usize, sz_size2index(usize), zero,
		    tcache, is_internal, arena, true);
	}
	if (!tsdn_null(tsdn))
		arena = arena_choose(tsdn_tsd(tsdn), arena);
	else if (arena == NULL)
		arena = arena_get_from_ind(0);
	return arena_palloc(tsdn, arena, usize, alignment, zero);
}

JEMALLOC_ALWAYS_INLINE void *
ipalloct(tsdn_t *tsdn, size_t usize, size_t alignment, bool zero,
    tcache_t *tcache, arena_t *arena) {
	return ipallocztm(tsdn, usize, alignment, zero, tcache, false, arena);
}

/* Usable size of an allocation the caller knows is live. */
JEMALLOC_ALWAYS_INLINE size_t
isalloc(tsdn_t *tsdn, const void *ptr) {
	unsigned szind;
	bool slab;
	rtree_ctx_t fallback;
	rtree_szind_slab_read(&extents_rtree, tsdn_rtree_ctx(tsdn, &fallback),
	    (uintptr_t)ptr, true, &szind, &slab);
	return sz_index2size(szind);
}

JEMALLOC_ALWAYS_INLINE void
idalloctm(tsdn_t *tsdn, void *ptr, tcache_t *tcache, bool slow_path) {
	unsigned szind;
	bool slab;
	rtree_ctx_t fallback;
	rtree_szind_slab_read(&extents_rtree, tsdn_rtree_ctx(tsdn, &fallback),
	    (uintptr_t)ptr, true, &szind, &slab);
	arena_dalloc(tsdn, ptr, tcache, szind, slab, slow_path);
}

#endif
