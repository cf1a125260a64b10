/* arena: bins, slabs, large-extent bookkeeping, purging; see arena.h. */
#include "jemalloc_internal.h"
#include "arena.h"
#include "extent_mmap.h"
#include "large.h"
#include "nstime.h"
#include "decay.h"
#include "conf.h"
#include "background_thread.h"
#include "sz.h"
#include "tsd.h"
#include "extent_dss.h"
#include "prof.h"

ssize_t opt_dirty_decay_ms = DIRTY_DECAY_MS_DEFAULT;
ssize_t opt_muzzy_decay_ms = MUZZY_DECAY_MS_DEFAULT;

atomic_p_t arenas[MALLOCX_ARENA_LIMIT];
unsigned narenas_auto;
atomic_u_t narenas_total;

static void arena_mutexes_unregister(arena_t *arena);

/* --- memory limit ---------------------------------------------------------------- */

size_t opt_mem_limit_soft = 0;
size_t opt_mem_limit_hard = 0;
static atomic_zu_t mem_limit_soft;
static atomic_zu_t mem_limit_hard;
/* Set while one thread purges for the soft limit; others go on. */
static atomic_b_t mem_limit_purging;
/* Threads walking the arena table without ctl_mtx (arena.h). */
unsigned arena_walkers;

size_t
mem_limit_soft_get(void) {
	return atomic_load_zu(&mem_limit_soft, ATOMIC_RELAXED);
}

size_t
mem_limit_hard_get(void) {
	return atomic_load_zu(&mem_limit_hard, ATOMIC_RELAXED);
}

void
arena_purge_all_arenas(tsdn_t *tsdn) {
	arena_walk_begin();
	unsigned n = atomic_load_u(&narenas_total, ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < n; i++) {
		arena_t *arena = arena_walk_get(i);
		if (arena != NULL)
			arena_decay(tsdn, arena, false, true);
	}
	arena_walk_end();
}

/* arena_destroy, after clearing the slot: waits out the walkers that may
 * still hold the arena (arena.h). */
void
arena_walkers_wait(void) {
	while (__atomic_load_n(&arena_walkers, __ATOMIC_SEQ_CST) != 0)
		sched_yield();
}

/* In a fork child only the forking thread exists, and it is not walking. */
void
arena_walkers_postfork_child(void) {
	__atomic_store_n(&arena_walkers, 0, __ATOMIC_SEQ_CST);
}

/* Over the soft limit: purge everything purgeable, one thread at a time. */
static void
mem_limit_soft_check(tsdn_t *tsdn) {
	size_t soft = mem_limit_soft_get();
	if (soft == 0 || extent_footprint_get() <= soft)
		return;
	if (atomic_exchange_b(&mem_limit_purging, true, ATOMIC_ACQUIRE))
		return;
	arena_purge_all_arenas(tsdn);
	atomic_store_b(&mem_limit_purging, false, ATOMIC_RELEASE);
}

void
mem_limit_soft_set(tsdn_t *tsdn, size_t limit) {
	atomic_store_zu(&mem_limit_soft, limit, ATOMIC_RELAXED);
	mem_limit_soft_check(tsdn);
}

void
mem_limit_hard_set(tsdn_t *tsdn, size_t limit) {
	atomic_store_zu(&mem_limit_hard, limit, ATOMIC_RELAXED);
	if (limit != 0 && extent_footprint_get() > limit)
		arena_purge_all_arenas(tsdn);
}

/*
 * Retained or new memory for an arena, within the memory limit: over the
 * hard limit everything purgeable is purged first and the request fails if
 * that is not enough (the caller answers NULL/ENOMEM); over the soft limit
 * the purge happens after the allocation.
 */
static extent_t *
arena_extent_alloc_fresh(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, void *new_addr, size_t size, size_t pad,
    size_t alignment, bool slab, unsigned szind, bool *zero, bool *commit) {
	size_t hard = mem_limit_hard_get();
	if (unlikely(hard != 0) && extent_footprint_get() + size + pad > hard) {
		arena_purge_all_arenas(tsdn);
		if (extent_footprint_get() + size + pad > hard)
			return NULL;
	}
	extent_t *extent = extent_alloc_wrapper(tsdn, arena, r_extent_hooks,
	    new_addr, size, pad, alignment, slab, szind, zero, commit);
	if (extent != NULL)
		mem_limit_soft_check(tsdn);
	return extent;
}

/* --- small allocation ---------------------------------------------------- */

static void *
arena_slab_reg_alloc(extent_t *slab, const bin_info_t *bin_info) {
	assert(extent_nfree_get(slab) > 0);
	size_t regind = bitmap_sfu(extent_slab_bitmap_get(slab),
	    &bin_info->bitmap_info);
	extent_nfree_dec(slab);
	return (void *)((uintptr_t)extent_addr_get(slab) +
	    bin_info->reg_size * regind);
}

/* A slab for binind: dirty pages first, then muzzy, then new memory. */
static extent_t *
arena_slab_alloc(tsdn_t *tsdn, arena_t *arena, unsigned binind,
    const bin_info_t *bin_info) {
	extent_hooks_t *extent_hooks = NULL;
	bool zero = false;
	bool commit = true;
	extent_t *slab = extents_alloc(tsdn, arena, &extent_hooks,
	    &arena->extents_dirty, NULL, bin_info->slab_size, 0, PAGE, true,
	    binind, &zero, &commit);
	if (slab == NULL) {
		slab = extents_alloc(tsdn, arena, &extent_hooks,
		    &arena->extents_muzzy, NULL, bin_info->slab_size, 0, PAGE,
		    true, binind, &zero, &commit);
	}
	if (slab == NULL) {
		slab = extents_alloc_any_fit(tsdn, arena, &extent_hooks,
		    &arena->extents_dirty, bin_info->slab_size, 0, PAGE, true,
		    binind, &zero, &commit);
	}
	if (slab == NULL) {
		zero = false;
		commit = true;
		slab = arena_extent_alloc_fresh(tsdn, arena, &extent_hooks, NULL,
		    bin_info->slab_size, 0, PAGE, true, binind, &zero, &commit);
	}
	if (slab == NULL)
		return NULL;
	assert(extent_slab_get(slab));
	extent_nfree_set(slab, bin_info->nregs);
	bitmap_init(extent_slab_bitmap_get(slab), &bin_info->bitmap_info,
	    false);
	atomic_fetch_add_zu(&arena->nactive, bin_info->slab_size >> LG_PAGE,
	    ATOMIC_RELAXED);
	return slab;
}

static void
arena_slab_dalloc(tsdn_t *tsdn, arena_t *arena, extent_t *slab) {
	atomic_fetch_sub_zu(&arena->nactive, extent_size_get(slab) >> LG_PAGE,
	    ATOMIC_RELAXED);
	extent_hooks_t *extent_hooks = NULL;
	arena_extents_dirty_dalloc(tsdn, arena, &extent_hooks, slab);
}

static void
arena_bin_slabs_nonfull_insert(bin_t *bin, extent_t *slab) {
	assert(extent_nfree_get(slab) > 0);
	extent_heap_insert(&bin->slabs_nonfull, slab);
}

static void
arena_bin_slabs_nonfull_remove(bin_t *bin, extent_t *slab) {
	extent_heap_remove(&bin->slabs_nonfull, slab);
}

/* Full slabs are listed only in manual arenas, which can be reset. */
static void
arena_bin_slabs_full_insert(arena_t *arena, bin_t *bin, extent_t *slab) {
	assert(extent_nfree_get(slab) == 0);
	if (arena_is_auto(arena))
		return;
	ql_elm_new(slab, ql_link);
	ql_tail_insert(&bin->slabs_full, slab, ql_link);
}

static void
arena_bin_slabs_full_remove(arena_t *arena, bin_t *bin, extent_t *slab) {
	if (arena_is_auto(arena))
		return;
	ql_remove(&bin->slabs_full, slab, ql_link);
}

/* Finds or makes a slab with free regions; may drop the bin lock. */
static extent_t *
arena_bin_nonfull_slab_get(tsdn_t *tsdn, arena_t *arena, bin_t *bin,
    unsigned binind) {
	extent_t *slab = extent_heap_remove_first(&bin->slabs_nonfull);
	if (slab != NULL) {
		if (config_stats)
			bin->stats.reslabs++;
		return slab;
	}
	const bin_info_t *bin_info = &bin_infos[binind];
	malloc_mutex_unlock(&bin->lock);
	slab = arena_slab_alloc(tsdn, arena, binind, bin_info);
	malloc_mutex_lock(&bin->lock);
	if (slab != NULL) {
		if (config_stats) {
			bin->stats.nslabs++;
			bin->stats.curslabs++;
		}
		return slab;
	}
	/* Another thread may have freed regions meanwhile. */
	slab = extent_heap_remove_first(&bin->slabs_nonfull);
	if (slab != NULL && config_stats)
		bin->stats.reslabs++;
	return slab;
}

static void arena_bin_lower_slab(tsdn_t *tsdn, arena_t *arena, extent_t *slab,
    bin_t *bin);
static void arena_dalloc_bin_slab(tsdn_t *tsdn, arena_t *arena,
    extent_t *slab, bin_t *bin);

/* slabcur is full or missing: install another slab and allocate from it. */
static void *
arena_bin_malloc_hard(tsdn_t *tsdn, arena_t *arena, bin_t *bin,
    unsigned binind) {
	const bin_info_t *bin_info = &bin_infos[binind];
	if (bin->slabcur != NULL) {
		arena_bin_slabs_full_insert(arena, bin, bin->slabcur);
		bin->slabcur = NULL;
	}
	extent_t *slab = arena_bin_nonfull_slab_get(tsdn, arena, bin, binind);
	if (bin->slabcur != NULL) {
		/* Another thread installed a slab while the lock was off. */
		if (extent_nfree_get(bin->slabcur) > 0) {
			void *ret = arena_slab_reg_alloc(bin->slabcur, bin_info);
			if (slab != NULL) {
				if (extent_nfree_get(slab) == bin_info->nregs) {
					arena_dalloc_bin_slab(tsdn, arena, slab,
					    bin);
				} else {
					arena_bin_lower_slab(tsdn, arena, slab,
					    bin);
				}
			}
			return ret;
		}
		arena_bin_slabs_full_insert(arena, bin, bin->slabcur);
		bin->slabcur = NULL;
	}
	if (slab == NULL)
		return NULL;
	bin->slabcur = slab;
	return arena_slab_reg_alloc(slab, bin_info);
}

static void *
arena_malloc_small(tsdn_t *tsdn, arena_t *arena, unsigned binind, bool zero) {
	bin_t *bin = &arena->bins[binind];
	size_t usize = sz_index2size(binind);
	void *ret;

	malloc_mutex_lock(&bin->lock);
	extent_t *slab = bin->slabcur;
	if (slab != NULL && extent_nfree_get(slab) > 0)
		ret = arena_slab_reg_alloc(slab, &bin_infos[binind]);
	else
		ret = arena_bin_malloc_hard(tsdn, arena, bin, binind);
	if (ret == NULL) {
		malloc_mutex_unlock(&bin->lock);
		return NULL;
	}
	if (config_stats) {
		bin->stats.nmalloc++;
		bin->stats.nrequests++;
		bin->stats.curregs++;
	}
	malloc_mutex_unlock(&bin->lock);

	if (!zero) {
		if (config_fill) {
			if (unlikely(opt_junk_alloc))
				memset(ret, JEMALLOC_ALLOC_JUNK, usize);
			else if (unlikely(opt_zero))
				memset(ret, 0, usize);
		}
	} else {
		memset(ret, 0, usize);
	}
	return ret;
}

/*
 * Fills a thread cache bin with nfill regions under one bin lock.  The
 * regions go in allocation order from the top of the stack, so the lowest
 * addresses are handed out first.
 */
/* In-place growth of a large extent takes fresh memory too. */
extent_t *
arena_extent_alloc_fresh_at(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, void *new_addr, size_t size, bool *zero,
    bool *commit) {
	return arena_extent_alloc_fresh(tsdn, arena, r_extent_hooks, new_addr,
	    size, 0, PAGE, false, NSIZES, zero, commit);
}

void
arena_tcache_fill_small(tsdn_t *tsdn, arena_t *arena, tcache_t *tcache,
    cache_bin_t *tbin, unsigned binind, unsigned nfill) {
	bin_t *bin = &arena->bins[binind];
	const bin_info_t *bin_info = &bin_infos[binind];
	assert(tbin->stack_head == tbin->empty);
	void **slots = tbin->empty - nfill;
	unsigned i;
	malloc_mutex_lock(&bin->lock);
	for (i = 0; i < nfill; i++) {
		extent_t *slab = bin->slabcur;
		void *ptr;
		if (slab != NULL && extent_nfree_get(slab) > 0)
			ptr = arena_slab_reg_alloc(slab, bin_info);
		else
			ptr = arena_bin_malloc_hard(tsdn, arena, bin, binind);
		if (ptr == NULL)
			break;
		if (config_fill && unlikely(opt_junk_alloc))
			memset(ptr, JEMALLOC_ALLOC_JUNK, bin_info->reg_size);
		slots[i] = ptr;
	}
	if (config_stats) {
		bin->stats.nmalloc += i;
		bin->stats.nrequests += tcache->nrequests[binind];
		bin->stats.curregs += i;
		bin->stats.nfills++;
		tcache->nrequests[binind] = 0;
	}
	malloc_mutex_unlock(&bin->lock);
	/* Short fill (out of memory): close the gap. */
	if (i < nfill)
		memmove(tbin->empty - i, slots, i * sizeof(void *));
	tbin->stack_head = tbin->empty - i;
	arena_decay_ticks(tsdn, arena, 1);
}

void *
arena_malloc_hard(tsdn_t *tsdn, arena_t *arena, size_t size, unsigned ind,
    bool zero) {
	assert(arena != NULL);
	if (likely(ind < NBINS))
		return arena_malloc_small(tsdn, arena, ind, zero);
	return large_malloc(tsdn, arena, sz_index2size(ind), zero);
}

void *
arena_palloc(tsdn_t *tsdn, arena_t *arena, size_t usize, size_t alignment,
    bool zero) {
	if (usize <= SMALL_MAXCLASS && (alignment < PAGE || (alignment == PAGE
	    && (usize & PAGE_MASK) == 0))) {
		/* Small classes are aligned to their lowest set bit. */
		return arena_malloc_hard(tsdn, arena, usize,
		    sz_size2index(usize), zero);
	}
	if (likely(alignment <= CACHELINE))
		return large_malloc(tsdn, arena, usize, zero);
	return large_palloc(tsdn, arena, usize, alignment, zero);
}

/* --- small deallocation ---------------------------------------------------- */

static void
arena_dissociate_bin_slab(arena_t *arena, extent_t *slab, bin_t *bin) {
	if (slab == bin->slabcur) {
		bin->slabcur = NULL;
	} else {
		const bin_info_t *bin_info =
		    &bin_infos[extent_szind_get_maybe_invalid(slab)];
		/* A one-region slab is never in the non-full heap. */
		if (bin_info->nregs == 1)
			arena_bin_slabs_full_remove(arena, bin, slab);
		else
			arena_bin_slabs_nonfull_remove(bin, slab);
	}
}

static void
arena_dalloc_bin_slab(tsdn_t *tsdn, arena_t *arena, extent_t *slab,
    bin_t *bin) {
	assert(slab != bin->slabcur);
	malloc_mutex_unlock(&bin->lock);
	arena_slab_dalloc(tsdn, arena, slab);
	malloc_mutex_lock(&bin->lock);
	if (config_stats)
		bin->stats.curslabs--;
}

/* A slab that just got a free region: use the older of it and slabcur. */
static void
arena_bin_lower_slab(tsdn_t *tsdn, arena_t *arena, extent_t *slab,
    bin_t *bin) {
	assert(extent_nfree_get(slab) > 0);
	if (bin->slabcur != NULL && extent_snad_comp(bin->slabcur, slab) > 0) {
		if (extent_nfree_get(bin->slabcur) > 0)
			arena_bin_slabs_nonfull_insert(bin, bin->slabcur);
		else
			arena_bin_slabs_full_insert(arena, bin, bin->slabcur);
		bin->slabcur = slab;
		if (config_stats)
			bin->stats.reslabs++;
	} else {
		arena_bin_slabs_nonfull_insert(bin, slab);
	}
}

JEMALLOC_COLD static void
arena_report_bad_free(const char *what, const void *ptr) {
	malloc_printf("<jemalloc>: %s: %p\n", what, ptr);
	jemalloc_abort();
}

static void
arena_dalloc_bin_locked_impl(tsdn_t *tsdn, arena_t *arena, extent_t *slab,
    void *ptr, bool junked) {
	unsigned binind = extent_szind_get_maybe_invalid(slab);
	bin_t *bin = &arena->bins[binind];
	const bin_info_t *bin_info = &bin_infos[binind];
	size_t regind = bin_regind(bin_info, extent_addr_get(slab), ptr);

	/* Always on: the bitmap word is read anyway, and frees arrive here
	 * in batches (cache flushes), so the check costs next to nothing. */
	if (unlikely((uintptr_t)extent_addr_get(slab) + regind *
	    bin_info->reg_size != (uintptr_t)ptr))
		arena_report_bad_free("free(): invalid pointer", ptr);
	if (unlikely(!bitmap_get(extent_slab_bitmap_get(slab),
	    &bin_info->bitmap_info, regind)))
		arena_report_bad_free("free(): double free", ptr);
	if (!junked && config_fill && unlikely(opt_junk_free))
		memset(ptr, JEMALLOC_FREE_JUNK, bin_info->reg_size);

	bitmap_unset(extent_slab_bitmap_get(slab), &bin_info->bitmap_info,
	    regind);
	extent_nfree_inc(slab);
	unsigned nfree = extent_nfree_get(slab);
	if (nfree == bin_info->nregs) {
		arena_dissociate_bin_slab(arena, slab, bin);
		arena_dalloc_bin_slab(tsdn, arena, slab, bin);
	} else if (nfree == 1 && slab != bin->slabcur) {
		arena_bin_slabs_full_remove(arena, bin, slab);
		arena_bin_lower_slab(tsdn, arena, slab, bin);
	}
	if (config_stats) {
		bin->stats.ndalloc++;
		bin->stats.curregs--;
	}
}

void
arena_dalloc_bin_junked_locked(tsdn_t *tsdn, arena_t *arena, extent_t *slab,
    void *ptr) {
	arena_dalloc_bin_locked_impl(tsdn, arena, slab, ptr, true);
}

void
arena_dalloc_small(tsdn_t *tsdn, extent_t *slab, void *ptr, unsigned binind) {
	arena_t *arena = extent_arena_get(slab);
	/* The slab's own class picks the lock, whatever a sized free said. */
	(void)binind;
	bin_t *bin = &arena->bins[extent_szind_get_maybe_invalid(slab)];
	malloc_mutex_lock(&bin->lock);
	arena_dalloc_bin_locked_impl(tsdn, arena, slab, ptr, false);
	malloc_mutex_unlock(&bin->lock);
	arena_decay_ticks(tsdn, arena, 1);
}

/* Small regions are resized in place only within their class. */
bool
arena_ralloc_no_move(tsdn_t *tsdn, void *ptr, size_t oldsize, size_t size,
    size_t extra, bool zero) {
	if (size > LARGE_MAXCLASS)
		return true;
	size_t usize_min = sz_s2u(size);
	size_t usize_max = sz_s2u(size + extra);
	if (usize_max == 0 || size + extra < size)
		usize_max = LARGE_MAXCLASS;
	if (oldsize <= SMALL_MAXCLASS) {
		if ((usize_max > SMALL_MAXCLASS || sz_size2index(usize_max) !=
		    sz_size2index(oldsize)) && (size > oldsize || usize_max <
		    oldsize))
			return true;
		return false;
	}
	if (oldsize >= LARGE_MINCLASS && usize_max >= LARGE_MINCLASS) {
		extent_t *extent = extent_lookup(tsdn, ptr, true);
		return large_ralloc_no_move(tsdn, extent, usize_min, usize_max,
		    zero);
	}
	return true;
}

/* --- large extents ---------------------------------------------------------- */

static void
arena_large_malloc_stats_update(arena_t *arena, size_t usize) {
	unsigned hindex = sz_size2index(usize) - NBINS;
	arena_stats_large_t *ls = &arena->stats.lstats[hindex];
	atomic_fetch_add_u64(&ls->nmalloc, 1, ATOMIC_RELAXED);
	atomic_fetch_add_u64(&ls->nrequests, 1, ATOMIC_RELAXED);
	atomic_fetch_add_zu(&ls->curlextents, 1, ATOMIC_RELAXED);
}

static void
arena_large_dalloc_stats_update(arena_t *arena, size_t usize) {
	unsigned hindex = sz_size2index(usize) - NBINS;
	arena_stats_large_t *ls = &arena->stats.lstats[hindex];
	atomic_fetch_add_u64(&ls->ndalloc, 1, ATOMIC_RELAXED);
	atomic_fetch_sub_zu(&ls->curlextents, 1, ATOMIC_RELAXED);
}

extent_t *
arena_extent_alloc_large(tsdn_t *tsdn, arena_t *arena, size_t usize,
    size_t alignment, bool *zero) {
	extent_hooks_t *extent_hooks = NULL;
	unsigned szind = sz_size2index(usize);
	bool commit = true;
	extent_t *extent = extents_alloc(tsdn, arena, &extent_hooks,
	    &arena->extents_dirty, NULL, usize, sz_large_pad, alignment, false,
	    szind, zero, &commit);
	if (extent == NULL) {
		extent = extents_alloc(tsdn, arena, &extent_hooks,
		    &arena->extents_muzzy, NULL, usize, sz_large_pad, alignment,
		    false, szind, zero, &commit);
	}
	if (extent == NULL) {
		extent = extents_alloc_any_fit(tsdn, arena, &extent_hooks,
		    &arena->extents_dirty, usize, sz_large_pad, alignment, false,
		    szind, zero, &commit);
	}
	if (extent == NULL) {
		extent = arena_extent_alloc_fresh(tsdn, arena, &extent_hooks,
		    NULL, usize, sz_large_pad, alignment, false, szind, zero,
		    &commit);
	}
	if (extent != NULL) {
		if (config_stats)
			arena_large_malloc_stats_update(arena, usize);
		atomic_fetch_add_zu(&arena->nactive, (usize + sz_large_pad) >>
		    LG_PAGE, ATOMIC_RELAXED);
	}
	return extent;
}

void
arena_extent_dalloc_large_prep(tsdn_t *tsdn, arena_t *arena,
    extent_t *extent) {
	size_t usize = sz_index2size(extent_szind_get_maybe_invalid(extent));
	if (config_stats)
		arena_large_dalloc_stats_update(arena, usize);
	atomic_fetch_sub_zu(&arena->nactive, extent_size_get(extent) >> LG_PAGE,
	    ATOMIC_RELAXED);
}

void
arena_extent_ralloc_large_shrink(tsdn_t *tsdn, arena_t *arena,
    extent_t *extent, size_t oldusize) {
	size_t usize = sz_index2size(extent_szind_get_maybe_invalid(extent));
	if (config_stats) {
		arena_large_dalloc_stats_update(arena, oldusize);
		arena_large_malloc_stats_update(arena, usize);
	}
	atomic_fetch_sub_zu(&arena->nactive, (oldusize - usize) >> LG_PAGE,
	    ATOMIC_RELAXED);
}

void
arena_extent_ralloc_large_expand(tsdn_t *tsdn, arena_t *arena,
    extent_t *extent, size_t oldusize) {
	size_t usize = sz_index2size(extent_szind_get_maybe_invalid(extent));
	if (config_stats) {
		arena_large_dalloc_stats_update(arena, oldusize);
		arena_large_malloc_stats_update(arena, usize);
	}
	atomic_fetch_add_zu(&arena->nactive, (usize - oldusize) >> LG_PAGE,
	    ATOMIC_RELAXED);
}

/* --- purging ------------------------------------------------------------------ */

static atomic_zd_t dirty_decay_ms_default;
static atomic_zd_t muzzy_decay_ms_default;

static void
arena_purge_stats_add(arena_t *arena, bool dirty, uint64_t nmadvise,
    uint64_t npurged) {
	if (!config_stats || nmadvise == 0)
		return;
	arena_stats_t *st = &arena->stats;
	atomic_fetch_add_u64(dirty ? &st->npurge_dirty : &st->npurge_muzzy, 1,
	    ATOMIC_RELAXED);
	atomic_fetch_add_u64(dirty ? &st->nmadvise_dirty : &st->nmadvise_muzzy,
	    nmadvise, ATOMIC_RELAXED);
	atomic_fetch_add_u64(dirty ? &st->purged_dirty : &st->purged_muzzy,
	    npurged, ATOMIC_RELAXED);
}

/*
 * Purges extents (least recently used first) until at most npages_limit
 * pages are left.  Dirty pages become muzzy (MADV_FREE) while muzzy decay
 * is on; otherwise, and for muzzy pages, they are released through the
 * extent_dalloc_wrapper cascade (MADV_DONTNEED into retained with the
 * default hooks).  The decay mutex is held on entry and exit but dropped
 * while purging; decay->purging keeps other threads out meanwhile.
 */
static void
arena_decay_to_limit(tsdn_t *tsdn, arena_t *arena, decay_t *decay,
    extents_t *extents, bool all, size_t npages_limit) {
	if (decay->purging)
		return;
	decay->purging = true;
	malloc_mutex_unlock(&decay->mtx);

	bool dirty = extents_state_get(extents) == extent_state_dirty;
	bool to_muzzy = dirty && !all && arena_muzzy_decay_ms_get(arena) != 0;
	extent_hooks_t *extent_hooks = NULL;
	uint64_t npurged = 0, nmadvise = 0;
	extent_t *extent;
	while ((extent = extents_evict(tsdn, arena, &extent_hooks, extents,
	    npages_limit)) != NULL) {
		npurged += extent_size_get(extent) >> LG_PAGE;
		nmadvise++;
		if (to_muzzy && !extent_purge_lazy_wrapper(tsdn, arena,
		    &extent_hooks, extent, 0, extent_size_get(extent))) {
			extents_dalloc(tsdn, arena, &extent_hooks,
			    &arena->extents_muzzy, extent);
		} else {
			extent_dalloc_wrapper(tsdn, arena, &extent_hooks,
			    extent);
		}
	}
	arena_purge_stats_add(arena, dirty, nmadvise, npurged);

	malloc_mutex_lock(&decay->mtx);
	decay->purging = false;
}

/* One decay step of one curve; all purges everything. */
static void
arena_decay_impl(tsdn_t *tsdn, arena_t *arena, decay_t *decay,
    extents_t *extents, bool is_background_thread, bool all) {
	/* With background threads, purging on schedule is their job. */
	if (!all && !is_background_thread && background_thread_enabled())
		return;
	if (all) {
		malloc_mutex_lock(&decay->mtx);
		arena_decay_to_limit(tsdn, arena, decay, extents, true, 0);
		decay_purged(decay, 0, extents_npages_get(extents));
		malloc_mutex_unlock(&decay->mtx);
		return;
	}
	/* Somebody else is at it: nothing to add. */
	if (malloc_mutex_trylock(&decay->mtx))
		return;
	ssize_t ms = decay_ms_get(decay);
	if (ms == 0) {
		arena_decay_to_limit(tsdn, arena, decay, extents, false, 0);
	} else if (ms > 0) {
		size_t npages_limit;
		size_t current = extents_npages_get(extents);
		if (decay_maybe_advance(decay, nstime_now_ns(), current,
		    &npages_limit)) {
			if (current > npages_limit) {
				arena_decay_to_limit(tsdn, arena, decay,
				    extents, false, npages_limit);
			}
			decay_purged(decay, npages_limit,
			    extents_npages_get(extents));
		}
	}
	malloc_mutex_unlock(&decay->mtx);
}

void
arena_decay(tsdn_t *tsdn, arena_t *arena, bool is_background_thread,
    bool all) {
	arena_decay_impl(tsdn, arena, &arena->decay_dirty,
	    &arena->extents_dirty, is_background_thread, all);
	arena_decay_impl(tsdn, arena, &arena->decay_muzzy,
	    &arena->extents_muzzy, is_background_thread, all);
}

void
arena_decay_ticks(tsdn_t *tsdn, arena_t *arena, unsigned nticks) {
	if (tsdn_null(tsdn))
		return;
	tsd_t *tsd = tsdn_tsd(tsdn);
	tsd->decay_ticker -= (int32_t)nticks;
	if (unlikely(tsd->decay_ticker <= 0)) {
		tsd->decay_ticker = DECAY_NTICKS_PER_UPDATE;
		arena_decay(tsdn, arena, false, false);
	}
}

void
arena_purge_all(tsdn_t *tsdn, arena_t *arena) {
	arena_decay(tsdn, arena, false, true);
}

void
arena_extents_dirty_dalloc(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extent_t *extent) {
	/* Read before the extent may merge into a neighbour. */
	size_t npages = extent_size_get(extent) >> LG_PAGE;
	extents_dalloc(tsdn, arena, r_extent_hooks, &arena->extents_dirty,
	    extent);
	/* dirty_decay_ms 0: nothing stays dirty. */
	if (arena_dirty_decay_ms_get(arena) == 0) {
		arena_decay_impl(tsdn, arena, &arena->decay_dirty,
		    &arena->extents_dirty, false, true);
	} else if (background_thread_enabled()) {
		background_thread_wakeup_early(arena->ind, npages);
	}
}

ssize_t
arena_dirty_decay_ms_get(arena_t *arena) {
	return decay_ms_get(&arena->decay_dirty);
}

ssize_t
arena_muzzy_decay_ms_get(arena_t *arena) {
	return decay_ms_get(&arena->decay_muzzy);
}

static bool
decay_ms_valid(ssize_t ms) {
	return ms >= -1 && (uint64_t)(ms < 0 ? 0 : ms) <= NSTIME_SEC_MAX * 1000;
}

static bool
arena_decay_ms_set(tsdn_t *tsdn, arena_t *arena, decay_t *decay,
    extents_t *extents, ssize_t ms) {
	if (!decay_ms_valid(ms))
		return true;
	malloc_mutex_lock(&decay->mtx);
	decay_reinit(decay, ms, extents_npages_get(extents));
	malloc_mutex_unlock(&decay->mtx);
	/* A shorter time may make pages due at once. */
	arena_decay_impl(tsdn, arena, decay, extents, false, false);
	return false;
}

bool
arena_dirty_decay_ms_set(tsdn_t *tsdn, arena_t *arena, ssize_t ms) {
	return arena_decay_ms_set(tsdn, arena, &arena->decay_dirty,
	    &arena->extents_dirty, ms);
}

bool
arena_muzzy_decay_ms_set(tsdn_t *tsdn, arena_t *arena, ssize_t ms) {
	return arena_decay_ms_set(tsdn, arena, &arena->decay_muzzy,
	    &arena->extents_muzzy, ms);
}

ssize_t
arena_dirty_decay_ms_default_get(void) {
	return atomic_load_zd(&dirty_decay_ms_default, ATOMIC_RELAXED);
}

bool
arena_dirty_decay_ms_default_set(ssize_t ms) {
	if (!decay_ms_valid(ms))
		return true;
	atomic_store_zd(&dirty_decay_ms_default, ms, ATOMIC_RELAXED);
	return false;
}

ssize_t
arena_muzzy_decay_ms_default_get(void) {
	return atomic_load_zd(&muzzy_decay_ms_default, ATOMIC_RELAXED);
}

bool
arena_muzzy_decay_ms_default_set(ssize_t ms) {
	if (!decay_ms_valid(ms))
		return true;
	atomic_store_zd(&muzzy_decay_ms_default, ms, ATOMIC_RELAXED);
	return false;
}

/* --- manual arenas --------------------------------------------------------------- */

/* Frees the extents of every slab of a bin (bin lock held). */
static void
arena_bin_reset(tsd_t *tsd, arena_t *arena, bin_t *bin) {
	tsdn_t *tsdn = tsd_tsdn(tsd);
	malloc_mutex_lock(&bin->lock);
	extent_t *slab;
	if (bin->slabcur != NULL) {
		slab = bin->slabcur;
		bin->slabcur = NULL;
		malloc_mutex_unlock(&bin->lock);
		arena_slab_dalloc(tsdn, arena, slab);
		malloc_mutex_lock(&bin->lock);
	}
	while ((slab = extent_heap_remove_first(&bin->slabs_nonfull)) != NULL) {
		malloc_mutex_unlock(&bin->lock);
		arena_slab_dalloc(tsdn, arena, slab);
		malloc_mutex_lock(&bin->lock);
	}
	while ((slab = ql_first(&bin->slabs_full)) != NULL) {
		ql_remove(&bin->slabs_full, slab, ql_link);
		malloc_mutex_unlock(&bin->lock);
		arena_slab_dalloc(tsdn, arena, slab);
		malloc_mutex_lock(&bin->lock);
	}
	if (config_stats) {
		bin->stats.curregs = 0;
		bin->stats.curslabs = 0;
	}
	malloc_mutex_unlock(&bin->lock);
}

void
arena_reset(tsd_t *tsd, arena_t *arena) {
	tsdn_t *tsdn = tsd_tsdn(tsd);
	/* Large allocations: manual arenas list them. */
	malloc_mutex_lock(&arena->large_mtx);
	extent_t *extent;
	while ((extent = ql_first(&arena->large)) != NULL) {
		ql_remove(&arena->large, extent, ql_link);
		malloc_mutex_unlock(&arena->large_mtx);
		if (config_prof && opt_prof)
			prof_extent_reset(tsdn, extent);
		arena_extent_dalloc_large_prep(tsdn, arena, extent);
		extent_hooks_t *extent_hooks = NULL;
		arena_extents_dirty_dalloc(tsdn, arena, &extent_hooks, extent);
		malloc_mutex_lock(&arena->large_mtx);
	}
	malloc_mutex_unlock(&arena->large_mtx);
	for (unsigned i = 0; i < NBINS; i++)
		arena_bin_reset(tsd, arena, &arena->bins[i]);
	atomic_store_zu(&arena->nactive, 0, ATOMIC_RELAXED);
}

/*
 * Releases everything of an arena that has been reset: dirty and muzzy
 * pages are purged into retained, retained extents go to the destroy hook,
 * and the arena's base (holding the arena itself) is unmapped.
 */
void
arena_destroy_final(tsd_t *tsd, arena_t *arena) {
	tsdn_t *tsdn = tsd_tsdn(tsd);
	arena_decay(tsdn, arena, false, true);
	extent_hooks_t *extent_hooks = NULL;
	extent_t *extent;
	while ((extent = extents_evict(tsdn, arena, &extent_hooks,
	    &arena->extents_retained, 0)) != NULL)
		extent_destroy_wrapper(tsdn, arena, &extent_hooks, extent);
	arena_mutexes_unregister(arena);
	base_delete(tsdn, arena->base);
}

extent_hooks_t *
arena_set_extent_hooks(tsd_t *tsd, arena_t *arena,
    extent_hooks_t *extent_hooks) {
	return base_extent_hooks_set(arena->base, extent_hooks);
}

/* Default dss precedence for new arenas; DSS_DEFAULT_UNSET until first
 * use, then an index into dss_prec_names. */
#define DSS_DEFAULT_UNSET 3U
static atomic_u_t arena_dss_default = {DSS_DEFAULT_UNSET};

static unsigned
arena_dss_prec_ind(const char *prec) {
	for (unsigned i = 0; i < 3; i++) {
		if (strcmp(prec, dss_prec_names[i]) == 0)
			return i;
	}
	return DSS_DEFAULT_UNSET;
}

unsigned
arena_dss_default_ind(void) {
	unsigned d = atomic_load_u(&arena_dss_default, ATOMIC_RELAXED);
	if (d == DSS_DEFAULT_UNSET) {
		d = arena_dss_prec_ind(opt_dss);
		if (d == DSS_DEFAULT_UNSET)
			d = dss_prec_secondary;
		atomic_store_u(&arena_dss_default, d, ATOMIC_RELAXED);
	}
	return d;
}

const char *
arena_dss_default_get(void) {
	return dss_prec_names[arena_dss_default_ind()];
}

bool
arena_dss_default_set(const char *prec) {
	unsigned d = arena_dss_prec_ind(prec);
	if (d == DSS_DEFAULT_UNSET)
		return true;
	atomic_store_u(&arena_dss_default, d, ATOMIC_RELAXED);
	return false;
}

const char *
arena_dss_prec_get(arena_t *arena) {
	return dss_prec_names[atomic_load_u(&arena->dss_prec, ATOMIC_RELAXED)];
}

bool
arena_dss_prec_set(arena_t *arena, const char *prec) {
	unsigned i = arena_dss_prec_ind(prec);
	if (i == DSS_DEFAULT_UNSET)
		return true;
	atomic_store_u(&arena->dss_prec, i, ATOMIC_RELAXED);
	return false;
}

size_t
arena_retain_grow_limit_get(arena_t *arena) {
	malloc_mutex_lock(&arena->extent_grow_mtx);
	size_t limit = sz_pind2sz(arena->retain_grow_limit);
	malloc_mutex_unlock(&arena->extent_grow_mtx);
	return limit;
}

/* Rounds the limit down to a page-size class; true if out of range. */
bool
arena_retain_grow_limit_set(arena_t *arena, size_t limit) {
	if (limit < PAGE || limit > LARGE_MAXCLASS)
		return true;
	unsigned pind = sz_psz2ind(limit);
	if (sz_pind2sz(pind) > limit)
		pind--;
	malloc_mutex_lock(&arena->extent_grow_mtx);
	arena->retain_grow_limit = pind;
	if (arena->extent_grow_next > pind)
		arena->extent_grow_next = pind;
	malloc_mutex_unlock(&arena->extent_grow_mtx);
	return false;
}

/* --- threads -------------------------------------------------------------------- */

unsigned
arena_nthreads_get(arena_t *arena, bool internal) {
	return atomic_load_u(&arena->nthreads[internal], ATOMIC_RELAXED);
}

void
arena_nthreads_inc(arena_t *arena, bool internal) {
	atomic_fetch_add_u(&arena->nthreads[internal], 1, ATOMIC_RELAXED);
}

void
arena_nthreads_dec(arena_t *arena, bool internal) {
	atomic_fetch_sub_u(&arena->nthreads[internal], 1, ATOMIC_RELAXED);
}

/* --- creation ------------------------------------------------------------------- */

extent_hooks_t *
arena_get_extent_hooks(arena_t *arena) {
	return base_extent_hooks_get(arena->base);
}

size_t
arena_extent_sn_next(arena_t *arena) {
	return atomic_fetch_add_zu(&arena->extent_sn_next, 1, ATOMIC_RELAXED);
}

/* Before the arena's memory goes away with its base. */
static void
arena_mutexes_unregister(arena_t *arena) {
	malloc_mutex_unregister(&arena->large_mtx);
	malloc_mutex_unregister(&arena->extents_dirty.mtx);
	malloc_mutex_unregister(&arena->extents_muzzy.mtx);
	malloc_mutex_unregister(&arena->extents_retained.mtx);
	malloc_mutex_unregister(&arena->extent_grow_mtx);
	malloc_mutex_unregister(&arena->extent_avail_mtx);
	malloc_mutex_unregister(&arena->tcache_ql_mtx);
	malloc_mutex_unregister(&arena->decay_dirty.mtx);
	malloc_mutex_unregister(&arena->decay_muzzy.mtx);
	for (unsigned i = 0; i < NBINS; i++)
		malloc_mutex_unregister(&arena->bins[i].lock);
}

arena_t *
arena_new(tsdn_t *tsdn, unsigned ind, extent_hooks_t *extent_hooks) {
	base_t *base;
	if (ind == 0) {
		base = b0get();
	} else {
		base = base_new(tsdn, ind, extent_hooks);
		if (base == NULL)
			return NULL;
	}
	arena_t *arena = base_alloc(tsdn, base, sizeof(arena_t), CACHELINE);
	if (arena == NULL)
		goto label_error;
	ql_new(&arena->tcache_ql);
	if (malloc_mutex_init(&arena->tcache_ql_mtx, "tcache_ql",
	    WITNESS_RANK_TCACHE_QL))
		goto label_error;

	arena->ind = ind;
	atomic_store_u(&arena->nthreads[0], 0, ATOMIC_RELAXED);
	atomic_store_u(&arena->nthreads[1], 0, ATOMIC_RELAXED);
	atomic_store_zu(&arena->nactive, 0, ATOMIC_RELAXED);
	atomic_store_u64(&arena->offset_state, ind, ATOMIC_RELAXED);
	atomic_store_zu(&arena->extent_sn_next, 0, ATOMIC_RELAXED);
	if (decay_init(&arena->decay_dirty, arena_dirty_decay_ms_default_get(),
	    0) || decay_init(&arena->decay_muzzy,
	    arena_muzzy_decay_ms_default_get(), 0))
		goto label_error;
	ql_new(&arena->large);
	if (malloc_mutex_init(&arena->large_mtx, "arena_large",
	    WITNESS_RANK_ARENA_LARGE))
		goto label_error;
	/* Dirty extents coalesce lazily: they are reused soon and often. */
	if (extents_init(&arena->extents_dirty, extent_state_dirty, true) ||
	    extents_init(&arena->extents_muzzy, extent_state_muzzy, false) ||
	    extents_init(&arena->extents_retained, extent_state_retained,
	    false))
		goto label_error;
	arena->extent_grow_next = sz_psz2ind(HUGEPAGE);
	arena->retain_grow_limit = NPSIZES - 1;
	if (malloc_mutex_init(&arena->extent_grow_mtx, "extent_grow",
	    WITNESS_RANK_EXTENT_GROW))
		goto label_error;
	extent_avail_new(&arena->extent_avail);
	if (malloc_mutex_init(&arena->extent_avail_mtx, "extent_avail",
	    WITNESS_RANK_EXTENT_AVAIL))
		goto label_error;
	/* New arenas take the default precedence (opt.dss until
	 * arena.<MALLCTL_ARENAS_ALL>.dss changes it). */
	atomic_store_u(&arena->dss_prec, arena_dss_default_ind(),
	    ATOMIC_RELAXED);
	arena->base = base;
	arena->create_time_ns = nstime_now_ns();
	for (unsigned i = 0; i < NBINS; i++) {
		if (bin_init(&arena->bins[i]))
			goto label_error;
	}
	return arena;
label_error:
	if (ind != 0) {
		if (arena != NULL)
			arena_mutexes_unregister(arena);
		base_delete(tsdn, base);
	}
	return NULL;
}

void
arena_boot(void) {
	bin_boot();
	decay_boot();
	arena_dirty_decay_ms_default_set(opt_dirty_decay_ms);
	arena_muzzy_decay_ms_default_set(opt_muzzy_decay_ms);
	atomic_store_zu(&mem_limit_soft, opt_mem_limit_soft, ATOMIC_RELAXED);
	atomic_store_zu(&mem_limit_hard, opt_mem_limit_hard, ATOMIC_RELAXED);
}

/* --- fork ------------------------------------------------------------------------ */

/* In a fork child only the forking thread survives: recount bindings. */
void
arena_postfork_child_nthreads(tsdn_t *tsdn, arena_t *arena) {
	atomic_store_u(&arena->nthreads[0], 0, ATOMIC_RELAXED);
	atomic_store_u(&arena->nthreads[1], 0, ATOMIC_RELAXED);
	if (!tsdn_null(tsdn)) {
		tsd_t *tsd = tsdn_tsd(tsdn);
		if (tsd->arena == arena)
			arena_nthreads_inc(arena, false);
		if (tsd->iarena == arena)
			arena_nthreads_inc(arena, true);
	}
}
