/*
 * arena: the unit of independent allocation state (facts §6.3).  Small
 * requests are served from per-class bins of slabs, large requests are
 * page-granular extents; freed pages go to the arena's extent containers.
 */
#ifndef JEMALLOC_ARENA_H
#define JEMALLOC_ARENA_H

#include "base.h"
#include "bin.h"
#include "decay.h"
#include "extent.h"
#include "tcache.h"

#define DIRTY_DECAY_MS_DEFAULT ZD(10 * 1000)
#define MUZZY_DECAY_MS_DEFAULT ZD(10 * 1000)

/* Counters of one large size class; atomics, updated without locks. */
typedef struct {
	atomic_u64_t nmalloc;
	atomic_u64_t ndalloc;
	atomic_u64_t nrequests;
	atomic_zu_t curlextents;
} arena_stats_large_t;

typedef struct {
	atomic_zu_t mapped;		/* bytes mapped by this arena's extents */
	atomic_u64_t npurge_dirty;
	atomic_u64_t nmadvise_dirty;
	atomic_u64_t purged_dirty;
	atomic_u64_t npurge_muzzy;
	atomic_u64_t nmadvise_muzzy;
	atomic_u64_t purged_muzzy;
	atomic_zu_t internal;		/* bytes of internal allocations */
	arena_stats_large_t lstats[NSIZES - NBINS];
} arena_stats_t;

struct arena_s {
	unsigned ind;
	/* Threads bound to this arena: [0] application, [1] internal. */
	atomic_u_t nthreads[2];
	/* percpu_arena: the last thread that checked its CPU here (racy
	 * hint; it only saves sched_getcpu() calls). */
	tsd_t *last_thd;
	/* Pages in active extents (slabs and large allocations). */
	atomic_zu_t nactive;
	/* PRNG state for cache-oblivious large-allocation offsets. */
	atomic_u64_t offset_state;
	/* Next extent serial number. */
	atomic_zu_t extent_sn_next;
	/* When dirty pages become muzzy, and muzzy ones are released. */
	decay_t decay_dirty;
	decay_t decay_muzzy;

	/* Thread caches associated with this arena (stats, fork). */
	ql_head(tcache_t) tcache_ql;
	malloc_mutex_t tcache_ql_mtx;

	/* Large allocations of manual arenas (for reset); large_mtx. */
	extent_list_t large;
	malloc_mutex_t large_mtx;

	extents_t extents_dirty;
	extents_t extents_muzzy;
	extents_t extents_retained;

	/* Retained growth: the next page-size class to map, its limit. */
	malloc_mutex_t extent_grow_mtx;
	unsigned extent_grow_next;
	unsigned retain_grow_limit;

	/* Recycled extent_t structs, by esn then address. */
	malloc_mutex_t extent_avail_mtx;
	extent_heap_t extent_avail;

	/* dss precedence (index into dss_prec_names); atomic. */
	atomic_u_t dss_prec;

	base_t *base;
	uint64_t create_time_ns;
	arena_stats_t stats;

	bin_t bins[NBINS];
};

extern ssize_t opt_dirty_decay_ms;
extern ssize_t opt_muzzy_decay_ms;
/* Fill options (opt.junk, opt.zero); set by the conf parser. */
extern bool opt_junk_alloc;
extern bool opt_junk_free;
extern bool opt_zero;

/* Arena table: arenas[i] is published once with a release store. */
extern atomic_p_t arenas[MALLOCX_ARENA_LIMIT];
/* Automatic arenas are [0, narenas_auto); manual ones follow. */
extern unsigned narenas_auto;
extern atomic_u_t narenas_total;

static inline arena_t *
arena_get_from_ind(unsigned ind) {
	return (arena_t *)atomic_load_p(&arenas[ind], ATOMIC_ACQUIRE);
}

static inline bool
arena_is_auto(const arena_t *arena) {
	return arena->ind < narenas_auto;
}

static inline arena_t *
extent_arena_get(const extent_t *extent) {
	return arena_get_from_ind(extent_arena_ind_get(extent));
}

void arena_boot(void);
ssize_t arena_dirty_decay_ms_get(arena_t *arena);
ssize_t arena_muzzy_decay_ms_get(arena_t *arena);
arena_t *arena_new(tsdn_t *tsdn, unsigned ind, extent_hooks_t *extent_hooks);
extent_hooks_t *arena_get_extent_hooks(arena_t *arena);
size_t arena_extent_sn_next(arena_t *arena);

void *arena_malloc_hard(tsdn_t *tsdn, arena_t *arena, size_t size,
    unsigned ind, bool zero);
void *arena_palloc(tsdn_t *tsdn, arena_t *arena, size_t usize,
    size_t alignment, bool zero);
void arena_dalloc_small(tsdn_t *tsdn, extent_t *extent, void *ptr,
    unsigned binind);
void arena_tcache_fill_small(tsdn_t *tsdn, arena_t *arena, tcache_t *tcache,
    cache_bin_t *bin, unsigned binind, unsigned nfill);
void arena_dalloc_bin_junked_locked(tsdn_t *tsdn, arena_t *arena,
    extent_t *slab, void *ptr);
bool arena_ralloc_no_move(tsdn_t *tsdn, void *ptr, size_t oldsize,
    size_t size, size_t extra, bool zero);

extent_t *arena_extent_alloc_large(tsdn_t *tsdn, arena_t *arena,
    size_t usize, size_t alignment, bool *zero);
void arena_extent_dalloc_large_prep(tsdn_t *tsdn, arena_t *arena,
    extent_t *extent);
void arena_extent_ralloc_large_shrink(tsdn_t *tsdn, arena_t *arena,
    extent_t *extent, size_t oldsize);
void arena_extent_ralloc_large_expand(tsdn_t *tsdn, arena_t *arena,
    extent_t *extent, size_t oldsize);
void arena_extents_dirty_dalloc(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extent_t *extent);

/* Purges every dirty and muzzy page (arena.<i>.purge). */
void arena_purge_all(tsdn_t *tsdn, arena_t *arena);
/* Purges what the decay curves say is due (all: everything). */
void arena_decay(tsdn_t *tsdn, arena_t *arena, bool is_background_thread,
    bool all);
/* Counts nticks allocator events of the calling thread against arena;
 * every DECAY_NTICKS_PER_UPDATE events the arena decays. */
void arena_decay_ticks(tsdn_t *tsdn, arena_t *arena, unsigned nticks);
bool arena_dirty_decay_ms_set(tsdn_t *tsdn, arena_t *arena, ssize_t ms);
bool arena_muzzy_decay_ms_set(tsdn_t *tsdn, arena_t *arena, ssize_t ms);
/* Defaults for new arenas (arenas.dirty_decay_ms, arenas.muzzy_decay_ms). */
ssize_t arena_dirty_decay_ms_default_get(void);
bool arena_dirty_decay_ms_default_set(ssize_t ms);
ssize_t arena_muzzy_decay_ms_default_get(void);
bool arena_muzzy_decay_ms_default_set(ssize_t ms);

/* --- memory limit (an extension; see doc/deviations.md) ------------------- */

/* Option values (bytes, 0 = none); the live bounds are atomics. */
extern size_t opt_mem_limit_soft;
extern size_t opt_mem_limit_hard;
size_t mem_limit_soft_get(void);
size_t mem_limit_hard_get(void);
void mem_limit_soft_set(tsdn_t *tsdn, size_t limit);
void mem_limit_hard_set(tsdn_t *tsdn, size_t limit);
/* Purges every dirty and muzzy page of every arena. */
void arena_purge_all_arenas(tsdn_t *tsdn);
/*
 * Walking the arena table without ctl_mtx (memory-limit purges from the
 * allocation path, background threads): between arena_walk_begin() and
 * arena_walk_end(), an arena returned by arena_walk_get() stays valid;
 * arena_destroy clears the slot, then waits for the walkers
 * (arena_walkers_wait).  Both sides are sequentially consistent, so a
 * walker that registers after the wait began loads the cleared slot.
 */
extern unsigned arena_walkers;
static inline void
arena_walk_begin(void) {
	__atomic_fetch_add(&arena_walkers, 1, __ATOMIC_SEQ_CST);
}
static inline void
arena_walk_end(void) {
	__atomic_fetch_sub(&arena_walkers, 1, __ATOMIC_SEQ_CST);
}
static inline arena_t *
arena_walk_get(unsigned ind) {
	return (arena_t *)atomic_load_p(&arenas[ind], ATOMIC_SEQ_CST);
}
void arena_walkers_wait(void);
void arena_walkers_postfork_child(void);
extent_t *arena_extent_alloc_fresh_at(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, void *new_addr, size_t size, bool *zero,
    bool *commit);

/* --- manual arenas (arenas.create, arena.<i>.*) ------------------------- */

/* Creates an arena beyond the automatic ones; *r_ind gets its index. */
bool arena_create(tsdn_t *tsdn, extent_hooks_t *extent_hooks,
    unsigned *r_ind);
/* Frees every allocation of a manual arena (its caches must be flushed). */
void arena_reset(tsd_t *tsd, arena_t *arena);
/* Resets, purges and unmaps a manual arena with no threads; its index is
 * reused.  Returns true if the arena cannot be destroyed. */
bool arena_destroy(tsd_t *tsd, arena_t *arena);
void arena_destroy_final(tsd_t *tsd, arena_t *arena);
extent_hooks_t *arena_set_extent_hooks(tsd_t *tsd, arena_t *arena,
    extent_hooks_t *extent_hooks);
/* dss precedence: "disabled" only, until the dss module exists. */
unsigned arena_dss_default_ind(void);
const char *arena_dss_default_get(void);
bool arena_dss_default_set(const char *prec);
const char *arena_dss_prec_get(arena_t *arena);
bool arena_dss_prec_set(arena_t *arena, const char *prec);
size_t arena_retain_grow_limit_get(arena_t *arena);
bool arena_retain_grow_limit_set(arena_t *arena, size_t limit);

unsigned arena_nthreads_get(arena_t *arena, bool internal);
void arena_nthreads_inc(arena_t *arena, bool internal);
void arena_nthreads_dec(arena_t *arena, bool internal);
void arena_postfork_child_nthreads(tsdn_t *tsdn, arena_t *arena);


#endif
