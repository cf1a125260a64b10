/*
 * tcache: the per-thread cache of small and (up to tcache_maxclass) large
 * objects (facts §6.2).  Allocation pops from the class's cache_bin; a miss
 * fills half a bin under one arena bin lock; a push onto a full bin first
 * flushes half of it back to the owning arenas; an incremental GC step
 * every TCACHE_GC_INCR events trims one bin to its recent use.
 */
#ifndef JEMALLOC_TCACHE_H
#define JEMALLOC_TCACHE_H

#include "cache_bin.h"
#include "ql.h"

#define TCACHE_NSLOTS_SMALL_MIN 20
#define TCACHE_NSLOTS_SMALL_MAX 200
#define TCACHE_NSLOTS_LARGE 20
#define LG_TCACHE_MAXCLASS_DEFAULT 15
#define TCACHE_GC_SWEEP 8192
#define TCACHE_GC_INCR ((TCACHE_GC_SWEEP / NBINS) + ((TCACHE_GC_SWEEP / NBINS == 0) ? 0 : 1))
/* Number of explicit caches (tcache.create) and sentinels in the table. */
#define TCACHES_MAX (MALLOCX_TCACHE_MAX + 1)

typedef struct tcache_s tcache_t;
struct tcache_s {
	/* Hot: the bins malloc and free touch, small classes first. */
	cache_bin_t bins_small[NBINS];
	/* Events until the next GC step (decremented on every hit). */
	int32_t gc_ticker;
	/* Allocation requests served per class since the last merge into
	 * the arena's stats. */
	uint64_t nrequests[NSIZES];
	unsigned next_gc_bin;
	/* Fill count is ncached_max >> lg_fill_div[binind]. */
	uint8_t lg_fill_div[NBINS];
	/* Set when the bin ran empty since the last GC step. */
	bool bin_missed[NBINS];
	/* The arena whose stats this cache merges into. */
	arena_t *arena;
	ql_elm(tcache_t) link;
	/* The slot array (one large allocation from arena 0). */
	void **slots;
	cache_bin_t bins_large[NSIZES - NBINS];
};

extern bool opt_tcache;
extern ssize_t opt_lg_tcache_max;
/* Classes [0, nhbins) are cached; tcache_maxclass is the largest. */
extern unsigned nhbins;
extern size_t tcache_maxclass;
/* ncached_max of each cached class. */
extern unsigned tcache_ncached_max[NSIZES];
/* Total slots per cache. */
extern unsigned tcache_nslots;

bool tcache_boot(tsdn_t *tsdn);
bool tsd_tcache_data_init(tsd_t *tsd);
bool tsd_tcache_enabled_data_init(tsd_t *tsd);
void tcache_cleanup(tsd_t *tsd);
void tcache_enabled_set(tsd_t *tsd, bool enabled);
void *tcache_alloc_small_hard(tsdn_t *tsdn, arena_t *arena, tcache_t *tcache,
    cache_bin_t *bin, unsigned binind, bool *tcache_success);
void tcache_bin_flush_small(tsd_t *tsd, tcache_t *tcache, cache_bin_t *bin,
    unsigned binind, unsigned rem);
void tcache_bin_flush_large(tsd_t *tsd, tcache_t *tcache, cache_bin_t *bin,
    unsigned binind, unsigned rem);
void tcache_event_hard(tsd_t *tsd, tcache_t *tcache);
void tcache_flush(tsd_t *tsd);
void tcache_stats_merge(tsdn_t *tsdn, tcache_t *tcache, arena_t *arena);
void tcache_arena_reassociate(tsdn_t *tsdn, tcache_t *tcache,
    arena_t *arena);
size_t tcache_bytes_get(const tcache_t *tcache);
void tcache_postfork_child(tsd_t *tsd);

/* Explicit caches: MALLOCX_TCACHE(ind) and the tcache.* mallctls. */
bool tcaches_create(tsd_t *tsd, unsigned *r_ind);
void tcaches_flush(tsd_t *tsd, unsigned ind);
void tcaches_destroy(tsd_t *tsd, unsigned ind);
tcache_t *tcaches_get(tsd_t *tsd, unsigned ind);

JEMALLOC_ALWAYS_INLINE cache_bin_t *
tcache_small_bin_get(tcache_t *tcache, unsigned binind) {
	return &tcache->bins_small[binind];
}

JEMALLOC_ALWAYS_INLINE cache_bin_t *
tcache_large_bin_get(tcache_t *tcache, unsigned binind) {
	return &tcache->bins_large[binind - NBINS];
}

#endif
