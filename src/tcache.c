/* tcache: fill, flush, GC, per-thread set-up and explicit caches. */
#include "jemalloc_internal.h"
#include "tcache.h"
#include "arena.h"
#include "base.h"
#include "jemalloc_inlines.h"
#include "large.h"
#include "sz.h"
#include "tsd.h"

bool opt_tcache = true;
ssize_t opt_lg_tcache_max = LG_TCACHE_MAXCLASS_DEFAULT;

unsigned nhbins;
size_t tcache_maxclass;
unsigned tcache_ncached_max[NSIZES];
unsigned tcache_nslots;

/* Explicit caches; the table lives in b0 and is created on first use. */
static tcache_t **tcaches;
static unsigned tcaches_past;		/* indices handed out so far */
static unsigned tcaches_avail[TCACHES_MAX];	/* freed indices */
static unsigned tcaches_navail;
static malloc_mutex_t tcaches_mtx;

/* --- fill ------------------------------------------------------------------------ */

/*
 * A miss: fill the bin with ncached_max >> lg_fill_div regions under one
 * bin lock, then hand out the first.
 */
void *
tcache_alloc_small_hard(tsdn_t *tsdn, arena_t *arena, tcache_t *tcache,
    cache_bin_t *bin, unsigned binind, bool *tcache_success) {
	tcache->bin_missed[binind] = true;
	unsigned nfill = cache_bin_ncached_max(bin) >> tcache->lg_fill_div[binind];
	if (nfill == 0)
		nfill = 1;
	arena_tcache_fill_small(tsdn, arena, tcache, bin, binind, nfill);
	/* After a miss the bin counts as "ran empty" until the next GC. */
	bin->low_water = bin->empty;
	void **head = bin->stack_head;
	if (head == bin->empty) {
		*tcache_success = false;
		return NULL;
	}
	*tcache_success = true;
	bin->stack_head = head + 1;
	return *head;
}

/* --- flush -------------------------------------------------------------------------- */

/*
 * Returns all but rem of the bin's objects, oldest (deepest) first, to the
 * arenas that own them: each pass locks one arena's bin and frees every
 * object of that arena, leaving the others for the next pass.
 */
void
tcache_bin_flush_small(tsd_t *tsd, tcache_t *tcache, cache_bin_t *bin,
    unsigned binind, unsigned rem) {
	tsdn_t *tsdn = tsd_tsdn(tsd);
	unsigned ncached = cache_bin_ncached(bin);
	assert(rem <= ncached);
	unsigned nflush = ncached - rem;
	if (nflush == 0)
		return;
	/* The oldest objects are at the bottom: [empty - nflush, empty). */
	void **objs = bin->empty - nflush;
	extent_t *extents[TCACHE_NSLOTS_SMALL_MAX];
	rtree_ctx_t *ctx = tsd_rtree_ctx(tsd);
	for (unsigned i = 0; i < nflush; i++) {
		extents[i] = rtree_extent_read(&extents_rtree, ctx,
		    (uintptr_t)objs[i], true);
		/* An object cached under the wrong class came from sdallocx()
		 * with a wrong size (or is not ours at all).  Debug builds
		 * only for now: see doc/deviations.md. */
		if (config_debug && (extents[i] == NULL ||
		    !extent_slab_get(extents[i]) ||
		    extent_szind_get_maybe_invalid(extents[i]) != binind))
			report_bad_pointer("sdallocx", "size mismatch or invalid "
			    "pointer", objs[i]);
	}
	bool merged_stats = false;
	unsigned ndeferred;
	for (unsigned n = nflush; n > 0; n = ndeferred) {
		arena_t *arena = extent_arena_get(extents[0]);
		bin_t *abin = &arena->bins[binind];
		malloc_mutex_lock(&abin->lock);
		if (config_stats && arena == tcache->arena) {
			merged_stats = true;
			abin->stats.nflushes++;
			abin->stats.nrequests += tcache->nrequests[binind];
			tcache->nrequests[binind] = 0;
		}
		ndeferred = 0;
		for (unsigned i = 0; i < n; i++) {
			if (extent_arena_get(extents[i]) == arena) {
				arena_dalloc_bin_junked_locked(tsdn, arena,
				    extents[i], objs[i]);
			} else {
				/* Another arena's: keep for the next pass. */
				objs[ndeferred] = objs[i];
				extents[ndeferred] = extents[i];
				ndeferred++;
			}
		}
		malloc_mutex_unlock(&abin->lock);
		arena_decay_ticks(tsdn, arena, n - ndeferred);
	}
	if (config_stats && !merged_stats) {
		/* The cache's own arena got nothing back: merge anyway. */
		bin_t *abin = &tcache->arena->bins[binind];
		malloc_mutex_lock(&abin->lock);
		abin->stats.nflushes++;
		abin->stats.nrequests += tcache->nrequests[binind];
		tcache->nrequests[binind] = 0;
		malloc_mutex_unlock(&abin->lock);
	}
	/* Survivors move down to the bottom of the stack. */
	memmove(bin->stack_head + nflush, bin->stack_head, rem *
	    sizeof(void *));
	bin->stack_head += nflush;
	if (bin->low_water < bin->stack_head)
		bin->low_water = bin->stack_head;
}

void
tcache_bin_flush_large(tsd_t *tsd, tcache_t *tcache, cache_bin_t *bin,
    unsigned binind, unsigned rem) {
	tsdn_t *tsdn = tsd_tsdn(tsd);
	unsigned ncached = cache_bin_ncached(bin);
	assert(rem <= ncached);
	unsigned nflush = ncached - rem;
	if (nflush == 0)
		return;
	void **objs = bin->empty - nflush;
	rtree_ctx_t *ctx = tsd_rtree_ctx(tsd);
	for (unsigned i = 0; i < nflush; i++) {
		extent_t *extent = rtree_extent_read(&extents_rtree, ctx,
		    (uintptr_t)objs[i], true);
		large_dalloc(tsdn, extent);
	}
	if (config_stats) {
		arena_stats_large_t *ls = &tcache->arena->stats.lstats[binind -
		    NBINS];
		atomic_fetch_add_u64(&ls->nrequests, tcache->nrequests[binind],
		    ATOMIC_RELAXED);
		tcache->nrequests[binind] = 0;
	}
	memmove(bin->stack_head + nflush, bin->stack_head, rem *
	    sizeof(void *));
	bin->stack_head += nflush;
	if (bin->low_water < bin->stack_head)
		bin->low_water = bin->stack_head;
}

/* --- GC --------------------------------------------------------------------------- */

/*
 * One incremental GC step: trim one bin to what the thread used since
 * the last step.  Objects below the low-water mark were not needed: flush
 * three quarters of them and fill less next time; a bin that ran empty
 * fills more next time.
 */
void
tcache_event_hard(tsd_t *tsd, tcache_t *tcache) {
	unsigned binind = tcache->next_gc_bin;
	cache_bin_t *bin = binind < NBINS ? &tcache->bins_small[binind] :
	    &tcache->bins_large[binind - NBINS];
	unsigned low_water = cache_bin_low_water_get(bin);
	if (binind < NBINS && tcache->bin_missed[binind]) {
		if (tcache->lg_fill_div[binind] > 1)
			tcache->lg_fill_div[binind]--;
		tcache->bin_missed[binind] = false;
	} else if (low_water > 0) {
		unsigned rem = cache_bin_ncached(bin) - low_water +
		    (low_water >> 2);
		if (binind < NBINS) {
			tcache_bin_flush_small(tsd, tcache, bin, binind, rem);
			if ((cache_bin_ncached_max(bin) >>
			    (tcache->lg_fill_div[binind] + 1)) >= 1)
				tcache->lg_fill_div[binind]++;
		} else {
			tcache_bin_flush_large(tsd, tcache, bin, binind, rem);
		}
	}
	cache_bin_low_water_reset(bin);
	/* A thread served only from its cache still ages its arena's unused
	 * pages: every GC step counts the events since the last one. */
	if (tcache->arena != NULL)
		arena_decay_ticks(tsd_tsdn(tsd), tcache->arena, TCACHE_GC_INCR);
	tcache->next_gc_bin++;
	if (tcache->next_gc_bin == nhbins)
		tcache->next_gc_bin = 0;
	tcache->gc_ticker = TCACHE_GC_INCR;
}

/* --- set-up and tear-down --------------------------------------------------------- */

static void
tcache_arena_associate(tsdn_t *tsdn, tcache_t *tcache, arena_t *arena) {
	tcache->arena = arena;
	malloc_mutex_lock(&arena->tcache_ql_mtx);
	ql_elm_new(tcache, link);
	ql_tail_insert(&arena->tcache_ql, tcache, link);
	malloc_mutex_unlock(&arena->tcache_ql_mtx);
}

static void
tcache_arena_dissociate(tsdn_t *tsdn, tcache_t *tcache) {
	arena_t *arena = tcache->arena;
	if (arena == NULL)
		return;
	malloc_mutex_lock(&arena->tcache_ql_mtx);
	ql_remove(&arena->tcache_ql, tcache, link);
	malloc_mutex_unlock(&arena->tcache_ql_mtx);
	tcache_stats_merge(tsdn, tcache, arena);
	tcache->arena = NULL;
}

void
tcache_arena_reassociate(tsdn_t *tsdn, tcache_t *tcache, arena_t *arena) {
	tcache_arena_dissociate(tsdn, tcache);
	tcache_arena_associate(tsdn, tcache, arena);
}

/* Carves the slot array into the bins. */
static void
tcache_init(tsdn_t *tsdn, tcache_t *tcache, void **slots) {
	memset(tcache, 0, offsetof(tcache_t, bins_large));
	tcache->slots = slots;
	tcache->gc_ticker = TCACHE_GC_INCR;
	tcache->next_gc_bin = 0;
	void **p = slots;
	for (unsigned i = 0; i < NBINS; i++) {
		tcache->lg_fill_div[i] = 1;
		tcache->bin_missed[i] = false;
		cache_bin_init(&tcache->bins_small[i], p, tcache_ncached_max[i]);
		p += tcache_ncached_max[i];
	}
	for (unsigned i = NBINS; i < nhbins; i++) {
		cache_bin_init(&tcache->bins_large[i - NBINS], p,
		    tcache_ncached_max[i]);
		p += tcache_ncached_max[i];
	}
	/* Uncached large classes: permanently empty and full. */
	for (unsigned i = nhbins; i < NSIZES; i++)
		cache_bin_init(&tcache->bins_large[i - NBINS], p, 0);
	assert(p == slots + tcache_nslots);
}

static void **
tcache_slots_alloc(tsdn_t *tsdn) {
	size_t size = sz_sa2u(tcache_nslots * sizeof(void *), CACHELINE);
	/* From arena 0 and without a cache, as jemalloc does: this is the
	 * first large allocation (the seed's third start-up trace). */
	arena_t *a0 = arena_get_from_ind(0);
	void **slots = ipallocztm(tsdn, size, CACHELINE, true, NULL, true, a0);
	/* Counted as arena 0's internal memory (stats.arenas.<i>.internal,
	 * part of stats.metadata), as jemalloc counts its tcaches. */
	if (config_stats && slots != NULL)
		atomic_fetch_add_zu(&a0->stats.internal, size, ATOMIC_RELAXED);
	return slots;
}

static void
tcache_slots_free(tsdn_t *tsdn, void **slots) {
	if (config_stats) {
		atomic_fetch_sub_zu(&arena_get_from_ind(0)->stats.internal,
		    sz_sa2u(tcache_nslots * sizeof(void *), CACHELINE),
		    ATOMIC_RELAXED);
	}
	idalloctm(tsdn, slots, NULL, true);
}

/* Sets up the thread's own cache (the tsd must be usable). */
bool
tsd_tcache_data_init(tsd_t *tsd) {
	tcache_t *tcache = &tsd->tcache;
	void **slots = tcache_slots_alloc(tsd_tsdn(tsd));
	if (slots == NULL)
		return true;
	tcache_init(tsd_tsdn(tsd), tcache, slots);
	/* Stats go to the thread's internal arena, like jemalloc's. */
	tcache_arena_associate(tsd_tsdn(tsd), tcache, arena_ichoose(tsd, NULL));
	return false;
}

/* Called while the tsd becomes nominal. */
bool
tsd_tcache_enabled_data_init(tsd_t *tsd) {
	tsd->tcache_enabled = opt_tcache;
	if (opt_tcache && tsd_tcache_data_init(tsd)) {
		tsd->tcache_enabled = false;
		return true;
	}
	return false;
}

static void
tcache_flush_cache(tsd_t *tsd, tcache_t *tcache) {
	for (unsigned i = 0; i < NBINS; i++) {
		tcache_bin_flush_small(tsd, tcache, &tcache->bins_small[i], i,
		    0);
	}
	for (unsigned i = NBINS; i < nhbins; i++) {
		tcache_bin_flush_large(tsd, tcache,
		    &tcache->bins_large[i - NBINS], i, 0);
	}
}

void
tcache_flush(tsd_t *tsd) {
	if (tsd->tcache_enabled)
		tcache_flush_cache(tsd, &tsd->tcache);
}

/* Flushes, dissociates and frees the slot array of a cache. */
static void
tcache_destroy(tsd_t *tsd, tcache_t *tcache) {
	tcache_flush_cache(tsd, tcache);
	tcache_arena_dissociate(tsd_tsdn(tsd), tcache);
	void **slots = tcache->slots;
	tcache->slots = NULL;
	if (slots != NULL)
		tcache_slots_free(tsd_tsdn(tsd), slots);
}

void
tcache_cleanup(tsd_t *tsd) {
	if (!tsd->tcache_enabled)
		return;
	tsd->tcache_enabled = false;
	tcache_destroy(tsd, &tsd->tcache);
	tsd_slow_update(tsd);
}

void
tcache_enabled_set(tsd_t *tsd, bool enabled) {
	bool was = tsd->tcache_enabled;
	if (!was && enabled) {
		if (!tsd_tcache_data_init(tsd))
			tsd->tcache_enabled = true;
	} else if (was && !enabled) {
		tcache_cleanup(tsd);
	}
	tsd_slow_update(tsd);
}

/* Adds the cache's request counts to arena's bin and large stats. */
void
tcache_stats_merge(tsdn_t *tsdn, tcache_t *tcache, arena_t *arena) {
	if (!config_stats)
		return;
	for (unsigned i = 0; i < NBINS; i++) {
		if (tcache->nrequests[i] == 0)
			continue;
		bin_t *abin = &arena->bins[i];
		malloc_mutex_lock(&abin->lock);
		abin->stats.nrequests += tcache->nrequests[i];
		malloc_mutex_unlock(&abin->lock);
		tcache->nrequests[i] = 0;
	}
	for (unsigned i = NBINS; i < nhbins; i++) {
		atomic_fetch_add_u64(&arena->stats.lstats[i - NBINS].nrequests,
		    tcache->nrequests[i], ATOMIC_RELAXED);
		tcache->nrequests[i] = 0;
	}
}

/*
 * Sanitizer note (TSan, found by integration/mallctl_race): a stats refresh
 * reads other threads' stack heads while their owners push and pop
 * without synchronisation, as jemalloc does: tcache_bytes is a snapshot
 * that may be off by the objects moved meanwhile (each head read is one
 * aligned 8-byte load, so never torn).
 */
/* Bytes held in the cache's bins (stats.arenas.<i>.tcache_bytes). */
size_t
tcache_bytes_get(const tcache_t *tcache) {
	size_t bytes = 0;
	RACY_READS_BEGIN();
	for (unsigned i = 0; i < NBINS; i++) {
		bytes += (size_t)cache_bin_ncached(&tcache->bins_small[i]) *
		    sz_index2size(i);
	}
	for (unsigned i = NBINS; i < nhbins; i++) {
		bytes += (size_t)cache_bin_ncached(&tcache->bins_large[i -
		    NBINS]) * sz_index2size(i);
	}
	RACY_READS_END();
	return bytes;
}

/* --- explicit caches ------------------------------------------------------------- */

static tcache_t *
tcache_create_explicit(tsd_t *tsd) {
	tsdn_t *tsdn = tsd_tsdn(tsd);
	tcache_t *tcache = base_alloc(tsdn, b0get(), sizeof(tcache_t),
	    CACHELINE);
	if (tcache == NULL)
		return NULL;
	void **slots = tcache_slots_alloc(tsdn);
	if (slots == NULL)
		return NULL;
	tcache_init(tsdn, tcache, slots);
	tcache_arena_associate(tsdn, tcache, arena_ichoose(tsd, NULL));
	return tcache;
}

bool
tcaches_create(tsd_t *tsd, unsigned *r_ind) {
	bool err = true;
	malloc_mutex_lock(&tcaches_mtx);
	if (tcaches == NULL) {
		tcaches = base_alloc(tsd_tsdn(tsd), b0get(), sizeof(tcache_t *)
		    * TCACHES_MAX, CACHELINE);
		if (tcaches == NULL)
			goto label_return;
	}
	if (tcaches_navail == 0 && tcaches_past == TCACHES_MAX)
		goto label_return;
	/* tcache structs are never freed; a destroyed index keeps its
	 * struct for reuse. */
	unsigned ind = tcaches_navail > 0 ? tcaches_avail[--tcaches_navail] :
	    tcaches_past++;
	tcache_t *tcache = tcaches[ind];
	if (tcache == NULL) {
		tcache = tcache_create_explicit(tsd);
		if (tcache == NULL) {
			if (ind == tcaches_past - 1)
				tcaches_past--;
			else
				tcaches_avail[tcaches_navail++] = ind;
			goto label_return;
		}
		tcaches[ind] = tcache;
	} else {
		void **slots = tcache_slots_alloc(tsd_tsdn(tsd));
		if (slots == NULL) {
			tcaches_avail[tcaches_navail++] = ind;
			goto label_return;
		}
		tcache_init(tsd_tsdn(tsd), tcache, slots);
		tcache_arena_associate(tsd_tsdn(tsd), tcache,
		    arena_ichoose(tsd, NULL));
	}
	*r_ind = ind;
	err = false;
label_return:
	malloc_mutex_unlock(&tcaches_mtx);
	return err;
}

/* The explicit cache ind, or NULL if it does not exist. */
tcache_t *
tcaches_get(tsd_t *tsd, unsigned ind) {
	if (ind >= TCACHES_MAX || tcaches == NULL)
		return NULL;
	tcache_t *tcache = tcaches[ind];
	if (tcache == NULL || tcache->slots == NULL)
		return NULL;
	return tcache;
}

void
tcaches_flush(tsd_t *tsd, unsigned ind) {
	malloc_mutex_lock(&tcaches_mtx);
	tcache_t *tcache = tcaches_get(tsd, ind);
	if (tcache != NULL)
		tcache_flush_cache(tsd, tcache);
	malloc_mutex_unlock(&tcaches_mtx);
}

void
tcaches_destroy(tsd_t *tsd, unsigned ind) {
	malloc_mutex_lock(&tcaches_mtx);
	tcache_t *tcache = tcaches_get(tsd, ind);
	if (tcache != NULL) {
		tcache_destroy(tsd, tcache);
		tcaches_avail[tcaches_navail++] = ind;
	}
	malloc_mutex_unlock(&tcaches_mtx);
}

/*
 * Fork child: only the forking thread survives, so each arena's list of
 * caches is rebuilt from that thread's cache and the explicit caches
 * (which are global and outlive threads).
 */
void
tcache_postfork_child(tsd_t *tsd) {
	unsigned n = atomic_load_u(&narenas_total, ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < n; i++) {
		arena_t *arena = arena_get_from_ind(i);
		if (arena != NULL)
			ql_new(&arena->tcache_ql);
	}
	if (tsd->tcache_enabled && tsd->tcache.arena != NULL) {
		ql_elm_new(&tsd->tcache, link);
		ql_tail_insert(&tsd->tcache.arena->tcache_ql, &tsd->tcache,
		    link);
	}
	if (tcaches == NULL)
		return;
	for (unsigned i = 0; i < tcaches_past; i++) {
		tcache_t *tcache = tcaches[i];
		if (tcache == NULL || tcache->slots == NULL || tcache->arena ==
		    NULL)
			continue;
		ql_elm_new(tcache, link);
		ql_tail_insert(&tcache->arena->tcache_ql, tcache, link);
	}
}

/* --- boot ------------------------------------------------------------------------- */

bool
tcache_boot(tsdn_t *tsdn) {
	/* tcache_maxclass = max(2^lg_tcache_max, SMALL_MAXCLASS). */
	if (opt_lg_tcache_max < 0 || (ZU(1) << opt_lg_tcache_max) <
	    SMALL_MAXCLASS)
		tcache_maxclass = SMALL_MAXCLASS;
	else if ((size_t)opt_lg_tcache_max >= 63 || (ZU(1) <<
	    opt_lg_tcache_max) > LARGE_MAXCLASS)
		tcache_maxclass = LARGE_MAXCLASS;
	else
		tcache_maxclass = ZU(1) << opt_lg_tcache_max;
	nhbins = sz_size2index(tcache_maxclass) + 1;

	tcache_nslots = 0;
	for (unsigned i = 0; i < NBINS; i++) {
		unsigned n = bin_infos[i].nregs * 2;
		if (n < TCACHE_NSLOTS_SMALL_MIN)
			n = TCACHE_NSLOTS_SMALL_MIN;
		if (n > TCACHE_NSLOTS_SMALL_MAX)
			n = TCACHE_NSLOTS_SMALL_MAX;
		tcache_ncached_max[i] = n;
		tcache_nslots += n;
	}
	for (unsigned i = NBINS; i < NSIZES; i++) {
		tcache_ncached_max[i] = i < nhbins ? TCACHE_NSLOTS_LARGE : 0;
		tcache_nslots += tcache_ncached_max[i];
	}
	return malloc_mutex_init(&tcaches_mtx, "tcaches",
	    WITNESS_RANK_TCACHES);
}



