/*
 * base: bump allocation of metadata that is never freed (facts §6.8).
 * Blocks are HUGEPAGE-aligned and grow 2, 4, 6, 8, 10 ... MiB; unused
 * tails are kept in heaps by size class for later requests.  b0 serves
 * global metadata (rtree, arena 0); each other arena has its own base.
 */
#ifndef JEMALLOC_BASE_H
#define JEMALLOC_BASE_H

#include "extent_struct.h"
#include "mutex.h"

typedef struct base_block_s base_block_t;
struct base_block_s {
	size_t size;		/* total bytes of the block, header included */
	base_block_t *next;	/* blocks of the same base, newest first */
	extent_t extent;	/* tracks the unused tail at creation */
};

typedef struct base_s base_t;
struct base_s {
	unsigned ind;		/* arena index this base belongs to */
	/* Synchronization: atomic; written by arena.<i>.extent_hooks. */
	atomic_p_t extent_hooks;
	malloc_mutex_t mtx;	/* protects everything below */
	unsigned pind_last;	/* page-size class of the last block */
	unsigned nblocks;
	/* metadata_thp:auto has started advising hugepages for this base. */
	bool auto_thp_switched;
	size_t extent_sn_next;
	base_block_t *blocks;
	extent_heap_t avail[NSIZES];
	size_t allocated;
	size_t resident;
	size_t mapped;
	size_t n_thp;
};

bool base_boot(tsdn_t *tsdn);
base_t *b0get(void);
base_t *base_new(tsdn_t *tsdn, unsigned ind, extent_hooks_t *extent_hooks);
void base_delete(tsdn_t *tsdn, base_t *base);
extent_hooks_t *base_extent_hooks_get(base_t *base);
extent_hooks_t *base_extent_hooks_set(base_t *base,
    extent_hooks_t *extent_hooks);
void *base_alloc(tsdn_t *tsdn, base_t *base, size_t size, size_t alignment);
extent_t *base_alloc_extent(tsdn_t *tsdn, base_t *base);
void base_stats_get(tsdn_t *tsdn, base_t *base, size_t *allocated,
    size_t *resident, size_t *mapped, size_t *n_thp);

#endif
