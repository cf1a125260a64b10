/*
 * extent: runs of pages and the containers that hold the unused ones
 * (facts §6.4).  Each arena has three extents_t: dirty (recently freed,
 * still backed), muzzy (MADV_FREE'd) and retained (virtual memory only).
 * An extent's first and last pages are always registered in the rtree;
 * an active slab registers every page.
 */
#ifndef JEMALLOC_EXTENT_H
#define JEMALLOC_EXTENT_H

#include "extent_struct.h"
#include "mutex.h"
#include "rtree.h"
#include "sz.h"

#define EXTENTS_NHEAPS (NPSIZES + 1)

typedef struct extents_s {
	/* Synchronization: mtx protects everything but npages. */
	malloc_mutex_t mtx;
	/* Extents by quantized page-size class, each heap ordered by
	 * (serial number, address). */
	extent_heap_t heaps[EXTENTS_NHEAPS];
	/* Bit i set: heaps[i] is not empty. */
	bitmap_t bitmap[BITMAP_BITS2GROUPS(EXTENTS_NHEAPS)];
	/* Least recently used first; the purge order. */
	extent_list_t lru;
	/* Pages held; atomic so stats and decay can read it unlocked. */
	atomic_zu_t npages;
	extent_state_t state;
	/* Coalesce on eviction instead of on insertion (dirty only). */
	bool delay_coalesce;
} extents_t;


extern const extent_hooks_t extent_hooks_default;
extern size_t opt_lg_extent_max_active_fit;

bool extent_boot(void);

/* Reentrancy bracket around calls of user-supplied hooks. */
void extent_hook_pre_reentrancy(tsdn_t *tsdn);
void extent_hook_post_reentrancy(tsdn_t *tsdn);

extent_t *extent_alloc(tsdn_t *tsdn, arena_t *arena);
void extent_dalloc(tsdn_t *tsdn, arena_t *arena, extent_t *extent);

bool extents_init(extents_t *extents, extent_state_t state,
    bool delay_coalesce);
extent_state_t extents_state_get(const extents_t *extents);
size_t extents_npages_get(extents_t *extents);
extent_t *extents_alloc(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extents_t *extents, void *new_addr,
    size_t size, size_t pad, size_t alignment, bool slab, unsigned szind,
    bool *zero, bool *commit);
extent_t *extents_alloc_any_fit(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extents_t *extents, size_t size,
    size_t pad, size_t alignment, bool slab, unsigned szind, bool *zero,
    bool *commit);
void extents_dalloc(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extents_t *extents, extent_t *extent);
extent_t *extents_evict(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extents_t *extents, size_t npages_min);

extent_t *extent_alloc_wrapper(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, void *new_addr, size_t size, size_t pad,
    size_t alignment, bool slab, unsigned szind, bool *zero, bool *commit);
void extent_dalloc_wrapper(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extent_t *extent);
void extent_destroy_wrapper(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extent_t *extent);
bool extent_commit_wrapper(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extent_t *extent, size_t offset,
    size_t length);
bool extent_decommit_wrapper(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extent_t *extent, size_t offset,
    size_t length);
bool extent_purge_lazy_wrapper(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extent_t *extent, size_t offset,
    size_t length);
bool extent_purge_forced_wrapper(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extent_t *extent, size_t offset,
    size_t length);
extent_t *extent_split_wrapper(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extent_t *extent, size_t size_a,
    unsigned szind_a, bool slab_a, size_t size_b, unsigned szind_b,
    bool slab_b);
bool extent_merge_wrapper(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extent_t *a, extent_t *b);

/* Page-size quantization of extent sizes for the container heaps. */
size_t extent_size_quantize_floor(size_t size);
size_t extent_size_quantize_ceil(size_t size);

void extent_rtree_szind_slab_update(tsdn_t *tsdn, extent_t *extent,
    unsigned szind, bool slab);

/*
 * Footprint: bytes of active, dirty and muzzy extents plus base metadata,
 * i.e. memory that is or may be resident (retained and unmapped memory
 * is not).  The memory limit (arena.c) compares it to its bounds.
 */
size_t extent_footprint_get(void);
void extent_footprint_add(size_t size);
void extent_footprint_sub(size_t size);

/* Looks up the extent that owns ptr (NULL if none). */
extent_t *extent_lookup(tsdn_t *tsdn, const void *ptr, bool dependent);

#endif
