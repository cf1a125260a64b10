/*
 * bin_info: the geometry of each small size class (facts §5.2), and bin_t:
 * an arena's per-class state (the current slab, the non-full slabs, the
 * full ones) under its own lock.
 */
#ifndef JEMALLOC_BIN_H
#define JEMALLOC_BIN_H

#include "bitmap.h"
#include "extent_struct.h"
#include "mutex.h"

typedef struct {
	size_t reg_size;	/* region size (the class size) */
	size_t slab_size;	/* bytes per slab: lcm(reg_size, PAGE) */
	uint32_t nregs;		/* regions per slab */
	/* Region index = (offset * div_magic) >> 32, exact for offsets that
	 * are multiples of reg_size below 2^32 (no division on free). */
	uint32_t div_magic;
	bitmap_info_t bitmap_info;
} bin_info_t;

extern bin_info_t bin_infos[NBINS];

typedef struct {
	uint64_t nmalloc;	/* regions handed out */
	uint64_t ndalloc;	/* regions returned */
	uint64_t nrequests;	/* allocation requests served */
	uint64_t nfills;	/* tcache fills */
	uint64_t nflushes;	/* tcache flushes */
	uint64_t nslabs;	/* slabs created */
	uint64_t reslabs;	/* times slabcur changed */
	size_t curregs;		/* regions in use now */
	size_t curslabs;	/* slabs now */
} bin_stats_t;

typedef struct {
	/* Synchronization: lock protects every field. */
	malloc_mutex_t lock;
	/* The slab regions come from; never in slabs_nonfull. */
	extent_t *slabcur;
	/* Slabs with free regions, oldest (lowest serial number) first. */
	extent_heap_t slabs_nonfull;
	/* Full slabs; tracked only for manual arenas (for reset). */
	extent_list_t slabs_full;
	bin_stats_t stats;
} bin_t;

void bin_boot(void);
bool bin_init(bin_t *bin);

JEMALLOC_ALWAYS_INLINE size_t
bin_regind(const bin_info_t *bin_info, const void *slab_addr,
    const void *ptr) {
	size_t diff = (uintptr_t)ptr - (uintptr_t)slab_addr;
	return (size_t)(((uint64_t)diff * bin_info->div_magic) >> 32);
}

#endif
