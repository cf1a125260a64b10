/* base: the metadata allocator; see base.h. */
#include "jemalloc_internal.h"
#include "base.h"
#include "extent.h"
#include "extent_mmap.h"
#include "pages.h"
#include "sz.h"
#include "conf.h"

static base_t *b0;

/* metadata_thp:auto advises hugepages from a base's 2nd block on (b0's
 * 5th), where metadata is known to be large enough to fill them. */
#define BASE_AUTO_THP_THRESHOLD 2
#define BASE_AUTO_THP_THRESHOLD_A0 5

/* THP for metadata only means something under the kernel's madvise mode. */
static bool
metadata_thp_madvise(void) {
	return opt_metadata_thp != metadata_thp_disabled &&
	    init_system_thp_mode == thp_mode_default;
}

/* Advises one block and counts its hugepages (stats.metadata_thp). */
static void
base_block_thp(base_t *base, base_block_t *block) {
	if (!pages_huge(block, block->size) && config_stats)
		base->n_thp += block->size >> LG_HUGEPAGE;
}

/* base->mtx held. */
static void
base_thp_maybe_switch(base_t *base, base_block_t *block) {
	if (!metadata_thp_madvise())
		return;
	if (opt_metadata_thp == metadata_thp_always) {
		base_block_thp(base, block);
		return;
	}
	if (base->auto_thp_switched) {
		base_block_thp(base, block);
		return;
	}
	unsigned threshold = base == b0 || b0 == NULL ?
	    BASE_AUTO_THP_THRESHOLD_A0 : BASE_AUTO_THP_THRESHOLD;
	if (base->nblocks >= threshold) {
		/* Switch: every block so far gets the advice too. */
		base->auto_thp_switched = true;
		for (base_block_t *b = base->blocks; b != NULL; b = b->next)
			base_block_thp(base, b);
	}
}

/* Maps a block of size bytes, HUGEPAGE-aligned, through the hooks. */
static void *
base_map(tsdn_t *tsdn, extent_hooks_t *extent_hooks, unsigned ind,
    size_t size) {
	bool zero = true;
	bool commit = true;
	void *addr;
	assert(size == HUGEPAGE_CEILING(size));
	if (extent_hooks == &extent_hooks_default) {
		addr = extent_alloc_mmap(NULL, size, HUGEPAGE, &zero, &commit);
	} else {
		extent_hook_pre_reentrancy(tsdn);
		addr = extent_hooks->alloc(extent_hooks, NULL, size, HUGEPAGE,
		    &zero, &commit, ind);
		extent_hook_post_reentrancy(tsdn);
	}
	if (addr != NULL)
		extent_footprint_add(size);
	return addr;
}

/* Gives a block back: dalloc, else decommit, else purge (forced, lazy). */
static void
base_unmap(tsdn_t *tsdn, extent_hooks_t *extent_hooks, unsigned ind,
    void *addr, size_t size) {
	extent_footprint_sub(size);
	if (extent_hooks == &extent_hooks_default) {
		/* Base blocks are never shared with extents: even with
		 * retain, unmapping them cannot fragment anything. */
		pages_unmap(addr, size);
		return;
	}
	extent_hook_pre_reentrancy(tsdn);
	if (extent_hooks->dalloc != NULL && !extent_hooks->dalloc(extent_hooks,
	    addr, size, true, ind))
		goto done;
	if (extent_hooks->decommit != NULL && !extent_hooks->decommit(
	    extent_hooks, addr, size, 0, size, ind))
		goto done;
	if (extent_hooks->purge_forced != NULL && !extent_hooks->purge_forced(
	    extent_hooks, addr, size, 0, size, ind))
		goto done;
	if (extent_hooks->purge_lazy != NULL)
		extent_hooks->purge_lazy(extent_hooks, addr, size, 0, size, ind);
done:
	extent_hook_post_reentrancy(tsdn);
}

static void
base_extent_init(size_t *extent_sn_next, extent_t *extent, void *addr,
    size_t size) {
	size_t sn = *extent_sn_next;
	(*extent_sn_next)++;
	extent_init(extent, 0, addr, 0, false, NSIZES, sn,
	    extent_state_active, true, true, true);
	extent_bsize_set(extent, size);
}

/* Carves size bytes at alignment from the front of extent's free run. */
static void *
base_extent_bump_alloc_helper(extent_t *extent, size_t *gap_size, size_t size,
    size_t alignment) {
	void *ret = (void *)ALIGNMENT_CEILING((uintptr_t)extent_addr_get(extent),
	    alignment);
	*gap_size = (uintptr_t)ret - (uintptr_t)extent_addr_get(extent);
	assert(*gap_size + size <= extent_bsize_get(extent));
	extent_addr_set(extent, (void *)((uintptr_t)ret + size));
	extent_bsize_set(extent, extent_bsize_get(extent) - *gap_size - size);
	return ret;
}

static void
base_extent_bump_alloc_post(base_t *base, extent_t *extent, size_t gap_size,
    void *addr, size_t size) {
	size_t bsize = extent_bsize_get(extent);
	if (bsize > 0) {
		/* File the tail under the largest class it can serve. */
		unsigned ind = sz_size2index(bsize);
		if (sz_index2size(ind) > bsize)
			ind--;
		extent_heap_insert(&base->avail[ind], extent);
	}
	if (config_stats) {
		base->allocated += size;
		/* Pages touched for the first time count as resident. */
		base->resident += PAGE_CEILING((uintptr_t)addr + size) -
		    PAGE_CEILING((uintptr_t)addr - gap_size);
	}
}

static void *
base_extent_bump_alloc(base_t *base, extent_t *extent, size_t size,
    size_t alignment) {
	size_t gap_size;
	void *ret = base_extent_bump_alloc_helper(extent, &gap_size, size,
	    alignment);
	base_extent_bump_alloc_post(base, extent, gap_size, ret, size);
	return ret;
}

/*
 * Maps a new block big enough for size at alignment, and at least the next
 * page-size class after the previous block, rounded up to HUGEPAGE.
 */
static base_block_t *
base_block_alloc(tsdn_t *tsdn, extent_hooks_t *extent_hooks, unsigned ind,
    unsigned *pind_last, size_t *extent_sn_next, size_t size,
    size_t alignment) {
	alignment = ALIGNMENT_CEILING(alignment, QUANTUM);
	size_t usize = ALIGNMENT_CEILING(size, alignment);
	size_t header_size = sizeof(base_block_t);
	size_t gap_size = ALIGNMENT_CEILING(header_size, alignment) -
	    header_size;
	size_t min_block_size = HUGEPAGE_CEILING(sz_psz2u(header_size +
	    gap_size + usize));
	unsigned pind_next = *pind_last + 1 < NPSIZES ? *pind_last + 1 :
	    *pind_last;
	size_t next_block_size = HUGEPAGE_CEILING(sz_pind2sz(pind_next));
	size_t block_size = min_block_size > next_block_size ? min_block_size :
	    next_block_size;
	base_block_t *block = base_map(tsdn, extent_hooks, ind, block_size);
	if (block == NULL)
		return NULL;
	*pind_last = sz_psz2ind(block_size);
	block->size = block_size;
	block->next = NULL;
	base_extent_init(extent_sn_next, &block->extent,
	    (void *)((uintptr_t)block + header_size), block_size - header_size);
	return block;
}

/* Adds a block to base; base->mtx must be held. */
static extent_t *
base_extent_alloc(tsdn_t *tsdn, base_t *base, size_t size, size_t alignment) {
	malloc_mutex_assert_owner(&base->mtx);
	extent_hooks_t *extent_hooks = base_extent_hooks_get(base);
	/* Drop the lock while mapping: hooks may allocate. */
	malloc_mutex_unlock(&base->mtx);
	unsigned pind_last = base->pind_last;
	size_t sn_next = base->extent_sn_next;
	base_block_t *block = base_block_alloc(tsdn, extent_hooks, base->ind,
	    &pind_last, &sn_next, size, alignment);
	malloc_mutex_lock(&base->mtx);
	if (block == NULL)
		return NULL;
	if (pind_last > base->pind_last)
		base->pind_last = pind_last;
	base->extent_sn_next = sn_next > base->extent_sn_next ? sn_next :
	    base->extent_sn_next;
	block->next = base->blocks;
	base->blocks = block;
	base->nblocks++;
	if (config_stats) {
		base->allocated += sizeof(base_block_t);
		base->resident += PAGE_CEILING(sizeof(base_block_t));
		base->mapped += block->size;
	}
	base_thp_maybe_switch(base, block);
	return &block->extent;
}

base_t *
b0get(void) {
	return b0;
}

base_t *
base_new(tsdn_t *tsdn, unsigned ind, extent_hooks_t *extent_hooks) {
	unsigned pind_last = 0;
	size_t extent_sn_next = 0;
	base_block_t *block = base_block_alloc(tsdn, extent_hooks, ind,
	    &pind_last, &extent_sn_next, sizeof(base_t), QUANTUM);
	if (block == NULL)
		return NULL;

	size_t gap_size;
	size_t base_size = ALIGNMENT_CEILING(sizeof(base_t), CACHELINE);
	base_t *base = base_extent_bump_alloc_helper(&block->extent, &gap_size,
	    base_size, CACHELINE);
	base->ind = ind;
	atomic_store_p(&base->extent_hooks, extent_hooks, ATOMIC_RELAXED);
	if (malloc_mutex_init(&base->mtx, "base", WITNESS_RANK_BASE)) {
		base_unmap(tsdn, extent_hooks, ind, block, block->size);
		return NULL;
	}
	base->pind_last = pind_last;
	base->extent_sn_next = extent_sn_next;
	base->blocks = block;
	base->nblocks = 1;
	base->auto_thp_switched = false;
	for (unsigned i = 0; i < NSIZES; i++)
		extent_heap_new(&base->avail[i]);
	if (config_stats) {
		base->allocated = sizeof(base_block_t);
		base->resident = PAGE_CEILING(sizeof(base_block_t));
		base->mapped = block->size;
		base->n_thp = 0;
	}
	base_extent_bump_alloc_post(base, &block->extent, gap_size, base,
	    base_size);
	if (metadata_thp_madvise() && opt_metadata_thp == metadata_thp_always)
		base_block_thp(base, block);
	return base;
}

void
base_delete(tsdn_t *tsdn, base_t *base) {
	extent_hooks_t *extent_hooks = base_extent_hooks_get(base);
	/* The mutex lives in the first block. */
	malloc_mutex_unregister(&base->mtx);
	base_block_t *next = base->blocks;
	do {
		base_block_t *block = next;
		next = block->next;
		base_unmap(tsdn, extent_hooks, base->ind, block, block->size);
	} while (next != NULL);
}

extent_hooks_t *
base_extent_hooks_get(base_t *base) {
	return atomic_load_p(&base->extent_hooks, ATOMIC_ACQUIRE);
}

extent_hooks_t *
base_extent_hooks_set(base_t *base, extent_hooks_t *extent_hooks) {
	extent_hooks_t *old = base_extent_hooks_get(base);
	atomic_store_p(&base->extent_hooks, extent_hooks, ATOMIC_RELEASE);
	return old;
}

static void *
base_alloc_impl(tsdn_t *tsdn, base_t *base, size_t size, size_t alignment,
    size_t *esn) {
	alignment = QUANTUM_CEILING(alignment);
	size_t usize = ALIGNMENT_CEILING(size, alignment);
	size_t asize = usize + alignment - QUANTUM;

	extent_t *extent = NULL;
	malloc_mutex_lock(&base->mtx);
	for (unsigned i = sz_size2index(asize); i < NSIZES; i++) {
		extent = extent_heap_remove_first(&base->avail[i]);
		if (extent != NULL)
			break;
	}
	if (extent == NULL)
		extent = base_extent_alloc(tsdn, base, usize, alignment);
	void *ret = NULL;
	if (extent != NULL) {
		ret = base_extent_bump_alloc(base, extent, usize, alignment);
		if (esn != NULL)
			*esn = extent_sn_get(extent);
	}
	malloc_mutex_unlock(&base->mtx);
	return ret;
}

/* Zeroed, never-freed metadata of size bytes at alignment. */
void *
base_alloc(tsdn_t *tsdn, base_t *base, size_t size, size_t alignment) {
	return base_alloc_impl(tsdn, base, size, alignment, NULL);
}

extent_t *
base_alloc_extent(tsdn_t *tsdn, base_t *base) {
	size_t esn;
	extent_t *extent = base_alloc_impl(tsdn, base, sizeof(extent_t),
	    CACHELINE, &esn);
	if (extent == NULL)
		return NULL;
	extent_esn_set(extent, esn);
	return extent;
}

void
base_stats_get(tsdn_t *tsdn, base_t *base, size_t *allocated,
    size_t *resident, size_t *mapped, size_t *n_thp) {
	malloc_mutex_lock(&base->mtx);
	*allocated = base->allocated;
	*resident = base->resident;
	*mapped = base->mapped;
	*n_thp = base->n_thp;
	malloc_mutex_unlock(&base->mtx);
}




bool
base_boot(tsdn_t *tsdn) {
	b0 = base_new(tsdn, 0, (extent_hooks_t *)&extent_hooks_default);
	return b0 == NULL;
}
