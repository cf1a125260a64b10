/*
 * ctl: the mallctl tree.  The namespace is data: each node is a name with
 * children, a number-indexed child (arena.<i>, arenas.bin.<i> ...), or a
 * handler.  This file holds the subset of facts §4 whose features exist in
 * this build; every other name answers ENOENT.
 */
#include "jemalloc_internal.h"
#include "ctl.h"
#include "arena.h"
#include "base.h"
#include "conf.h"
#include "background_thread.h"
#include "tcache.h"
#include "extent_mmap.h"
#include "nstime.h"
#include "pages.h"
#include "prof.h"
#include "sz.h"
#include "tsd.h"

#define CTL_MAX_DEPTH 7

typedef int (ctl_handler_t)(tsd_t *, const size_t *, size_t, void *, size_t *,
    void *, size_t);
typedef struct ctl_node_s ctl_node_t;
typedef const ctl_node_t *(ctl_index_t)(tsd_t *, const size_t *, size_t,
    size_t);

struct ctl_node_s {
	const char *name;
	const ctl_node_t *children;
	size_t nchildren;
	ctl_index_t *index;	/* the node's children are numbered */
	ctl_handler_t *ctl;	/* a leaf */
};

#define NODES(n) (n), (sizeof(n) / sizeof((n)[0]))
#define CHILD(name, children) {name, NODES(children), NULL, NULL}
#define INDEXED(name, fn) {name, NULL, 0, fn, NULL}
#define LEAF(name, fn) {name, NULL, 0, NULL, fn}

static malloc_mutex_t ctl_mtx;
static bool ctl_initialized;
static uint64_t ctl_epoch;
static ctl_stats_t ctl_stats;

/* --- handler helpers ------------------------------------------------------- */

#define READONLY() do {							\
	if (newp != NULL || newlen != 0)				\
		return EPERM;						\
} while (0)

#define WRITEONLY() do {						\
	if (oldp != NULL || oldlenp != NULL)				\
		return EPERM;						\
} while (0)

#define VOID() do {							\
	READONLY();							\
	WRITEONLY();							\
} while (0)

/* Copies v out; a wrong *oldlenp gives EINVAL after copying what fits. */
#define READ(v, t) do {							\
	if (oldp != NULL && oldlenp != NULL) {				\
		t v_ = (v);						\
		if (*oldlenp != sizeof(t)) {				\
			size_t n_ = *oldlenp < sizeof(t) ? *oldlenp :	\
			    sizeof(t);					\
			memcpy(oldp, &v_, n_);				\
			return EINVAL;					\
		}							\
		*(t *)oldp = v_;					\
	}								\
} while (0)

#define WRITE(v, t) do {						\
	if (newp != NULL) {						\
		if (newlen != sizeof(t))				\
			return EINVAL;					\
		(v) = *(t *)newp;					\
	}								\
} while (0)

#define CTL_ARGS tsd_t *tsd, const size_t *mib, size_t miblen, void *oldp, \
    size_t *oldlenp, void *newp, size_t newlen

/* A read-only leaf whose value is an expression. */
#define CTL_RO(n, v, t)							\
static int								\
n##_ctl(CTL_ARGS) {							\
	(void)tsd; (void)mib; (void)miblen;				\
	READONLY();							\
	READ(v, t);							\
	return 0;							\
}

/* --- top level --------------------------------------------------------------- */

static const char *const ctl_version = JEMALLOC_VERSION;
CTL_RO(version, ctl_version, const char *)

/* --- the statistics snapshot ---------------------------------------------- */

/*
 * Synchronization: everything below is read and written under ctl_mtx.
 * Arena slots are metadata from b0, allocated when an arena index first
 * shows up in a refresh and kept (an index is reused when arenas are
 * destroyed and created again).  The merged and destroyed slots exist
 * from the first refresh on.
 */
static ctl_arena_stats_t *ctl_astats[MALLOCX_ARENA_LIMIT];
static ctl_arena_stats_t *ctl_sarena;	/* MALLCTL_ARENAS_ALL */
static ctl_arena_stats_t *ctl_darena;	/* MALLCTL_ARENAS_DESTROYED */

const char *const arena_prof_mutex_names[arena_prof_num_mutexes] = {
	"large", "extent_avail", "extents_dirty", "extents_muzzy",
	"extents_retained", "decay_dirty", "decay_muzzy", "base",
	"tcache_list"
};

const char *const global_prof_mutex_names[global_prof_num_mutexes] = {
	"background_thread", "ctl", "prof"
};

const char *const mutex_prof_counter_names[mutex_prof_num_counters] = {
	"num_ops", "num_wait", "num_spin_acq", "num_owner_switch",
	"total_wait_time", "max_wait_time", "max_num_thds"
};

uint64_t
mutex_prof_counter_get(const mutex_prof_data_t *data,
    mutex_prof_counter_ind_t counter) {
	switch (counter) {
	case mutex_counter_num_ops: return data->n_lock_ops;
	case mutex_counter_num_wait: return data->n_wait;
	case mutex_counter_num_spin_acq: return data->n_spin_acquired;
	case mutex_counter_num_owner_switch: return data->n_owner_switches;
	case mutex_counter_total_wait_time: return data->tot_wait_ns;
	case mutex_counter_max_wait_time: return data->max_wait_ns;
	case mutex_counter_max_num_thds: return data->max_n_thds;
	default: return 0;
	}
}

void
ctl_mtx_lock(void) {
	malloc_mutex_lock(&ctl_mtx);
}

void
ctl_mtx_unlock(void) {
	malloc_mutex_unlock(&ctl_mtx);
}

/* A sum slot starts empty; its dss and decay times have no single value. */
static void
ctl_arena_stats_clear(ctl_arena_stats_t *astats) {
	memset(astats, 0, sizeof(*astats));
	astats->dss = "N/A";
	astats->dirty_decay_ms = -1;
	astats->muzzy_decay_ms = -1;
}

static ctl_arena_stats_t *
ctl_arena_stats_alloc(tsdn_t *tsdn) {
	return base_alloc(tsdn, b0get(), sizeof(ctl_arena_stats_t),
	    CACHELINE);
}

/* Reads one mutex's counters, exactly: under the mutex. */
static void
ctl_mutex_prof_read(malloc_mutex_t *mutex, mutex_prof_data_t *data) {
	malloc_mutex_lock(mutex);
	malloc_mutex_prof_read(mutex, data);
	malloc_mutex_unlock(mutex);
}

/*
 * Fills *as from the live arena.  Each bin is read under its lock and the
 * other counters are atomics, so the per-class numbers are exact; only
 * numbers of different classes may be a moment apart when the arena is
 * busy.  Derived values (facts §4, jemalloc's definitions):
 *   small.allocated = sum over bins of curregs * region size (regions
 *                     cached in tcaches count as allocated);
 *   large.allocated = sum over large classes of curlextents * class size;
 *   mapped   = base mapped + (pactive + pdirty + pmuzzy) pages;
 *   resident = base resident + (pactive + pdirty) pages (muzzy pages
 *              may have been reclaimed, so they are not counted);
 *   retained = pages in extents_retained (virtual memory only).
 * pactive is read before and after the counters and the larger value is
 * kept, so that a slab or extent made while the counters were read is
 * covered and allocated <= active holds unless pages were also released
 * during the read.
 */
static void
ctl_arena_stats_read(tsdn_t *tsdn, arena_t *arena, ctl_arena_stats_t *as) {
	memset(as, 0, sizeof(*as));
	as->nthreads = arena_nthreads_get(arena, false);
	as->dss = arena_dss_prec_get(arena);
	as->dirty_decay_ms = arena_dirty_decay_ms_get(arena);
	as->muzzy_decay_ms = arena_muzzy_decay_ms_get(arena);
	uint64_t now = nstime_now_ns();
	as->uptime_ns = now > arena->create_time_ns ? now -
	    arena->create_time_ns : 0;
	size_t nactive0 = atomic_load_zu(&arena->nactive, ATOMIC_RELAXED);

	for (unsigned j = 0; j < NBINS; j++) {
		bin_t *bin = &arena->bins[j];
		malloc_mutex_lock(&bin->lock);
		as->bstats[j] = bin->stats;
		malloc_mutex_prof_read(&bin->lock, &as->bmutexes[j]);
		malloc_mutex_unlock(&bin->lock);
		const bin_stats_t *bs = &as->bstats[j];
		as->small_allocated += bs->curregs * bin_infos[j].reg_size;
		as->small_nmalloc += bs->nmalloc;
		as->small_ndalloc += bs->ndalloc;
		as->small_nrequests += bs->nrequests;
	}
	for (unsigned l = 0; l < NSIZES - NBINS; l++) {
		arena_stats_large_t *src = &arena->stats.lstats[l];
		ctl_lextent_stats_t *ls = &as->lstats[l];
		ls->nmalloc = atomic_load_u64(&src->nmalloc, ATOMIC_RELAXED);
		ls->ndalloc = atomic_load_u64(&src->ndalloc, ATOMIC_RELAXED);
		ls->nrequests = atomic_load_u64(&src->nrequests,
		    ATOMIC_RELAXED);
		ls->curlextents = atomic_load_zu(&src->curlextents,
		    ATOMIC_RELAXED);
		as->large_allocated += ls->curlextents * sz_index2size(NBINS +
		    l);
		as->large_nmalloc += ls->nmalloc;
		as->large_ndalloc += ls->ndalloc;
		as->large_nrequests += ls->nrequests;
	}

	size_t nactive1 = atomic_load_zu(&arena->nactive, ATOMIC_RELAXED);
	as->pactive = nactive0 > nactive1 ? nactive0 : nactive1;
	as->pdirty = extents_npages_get(&arena->extents_dirty);
	as->pmuzzy = extents_npages_get(&arena->extents_muzzy);
	size_t pretained = extents_npages_get(&arena->extents_retained);

	size_t base_allocated, base_resident, base_mapped, base_n_thp;
	base_stats_get(tsdn, arena->base, &base_allocated, &base_resident,
	    &base_mapped, &base_n_thp);
	ctl_mutex_prof_read(&arena->base->mtx,
	    &as->mutexes[arena_prof_mutex_base]);
	as->base = base_allocated;
	as->internal = atomic_load_zu(&arena->stats.internal, ATOMIC_RELAXED);
	as->metadata_thp = base_n_thp;
	as->resident = base_resident + ((as->pactive + as->pdirty) << LG_PAGE);
	as->mapped = base_mapped + ((as->pactive + as->pdirty + as->pmuzzy) <<
	    LG_PAGE);
	as->retained = pretained << LG_PAGE;

	arena_stats_t *st = &arena->stats;
	as->dirty_npurge = atomic_load_u64(&st->npurge_dirty, ATOMIC_RELAXED);
	as->dirty_nmadvise = atomic_load_u64(&st->nmadvise_dirty,
	    ATOMIC_RELAXED);
	as->dirty_purged = atomic_load_u64(&st->purged_dirty, ATOMIC_RELAXED);
	as->muzzy_npurge = atomic_load_u64(&st->npurge_muzzy, ATOMIC_RELAXED);
	as->muzzy_nmadvise = atomic_load_u64(&st->nmadvise_muzzy,
	    ATOMIC_RELAXED);
	as->muzzy_purged = atomic_load_u64(&st->purged_muzzy, ATOMIC_RELAXED);

	/*
	 * The caches' owners change their bins without a lock; the sum is a
	 * racy but pointer-sized-atomic read, stale by at most the objects
	 * moved meanwhile.  tcache_ql_mtx keeps the list itself stable.
	 */
	malloc_mutex_lock(&arena->tcache_ql_mtx);
	tcache_t *tcache;
	ql_foreach(tcache, &arena->tcache_ql, link)
		as->tcache_bytes += tcache_bytes_get(tcache);
	malloc_mutex_prof_read(&arena->tcache_ql_mtx,
	    &as->mutexes[arena_prof_mutex_tcache_list]);
	malloc_mutex_unlock(&arena->tcache_ql_mtx);

	ctl_mutex_prof_read(&arena->large_mtx,
	    &as->mutexes[arena_prof_mutex_large]);
	ctl_mutex_prof_read(&arena->extent_avail_mtx,
	    &as->mutexes[arena_prof_mutex_extent_avail]);
	ctl_mutex_prof_read(&arena->extents_dirty.mtx,
	    &as->mutexes[arena_prof_mutex_extents_dirty]);
	ctl_mutex_prof_read(&arena->extents_muzzy.mtx,
	    &as->mutexes[arena_prof_mutex_extents_muzzy]);
	ctl_mutex_prof_read(&arena->extents_retained.mtx,
	    &as->mutexes[arena_prof_mutex_extents_retained]);
	ctl_mutex_prof_read(&arena->decay_dirty.mtx,
	    &as->mutexes[arena_prof_mutex_decay_dirty]);
	ctl_mutex_prof_read(&arena->decay_muzzy.mtx,
	    &as->mutexes[arena_prof_mutex_decay_muzzy]);
}

/*
 * Adds as into the sum slot sum.  A destroyed arena contributes only its
 * cumulative counters: its pages, threads and current objects are gone.
 */
static void
ctl_arena_stats_merge(ctl_arena_stats_t *sum, const ctl_arena_stats_t *as,
    bool destroyed) {
	if (!destroyed) {
		sum->nthreads += as->nthreads;
		if (as->uptime_ns > sum->uptime_ns)
			sum->uptime_ns = as->uptime_ns;
		sum->pactive += as->pactive;
		sum->pdirty += as->pdirty;
		sum->pmuzzy += as->pmuzzy;
		sum->mapped += as->mapped;
		sum->retained += as->retained;
		sum->base += as->base;
		sum->internal += as->internal;
		sum->metadata_thp += as->metadata_thp;
		sum->resident += as->resident;
		sum->tcache_bytes += as->tcache_bytes;
		sum->small_allocated += as->small_allocated;
		sum->large_allocated += as->large_allocated;
	}
	sum->dirty_npurge += as->dirty_npurge;
	sum->dirty_nmadvise += as->dirty_nmadvise;
	sum->dirty_purged += as->dirty_purged;
	sum->muzzy_npurge += as->muzzy_npurge;
	sum->muzzy_nmadvise += as->muzzy_nmadvise;
	sum->muzzy_purged += as->muzzy_purged;
	sum->small_nmalloc += as->small_nmalloc;
	sum->small_ndalloc += as->small_ndalloc;
	sum->small_nrequests += as->small_nrequests;
	sum->large_nmalloc += as->large_nmalloc;
	sum->large_ndalloc += as->large_ndalloc;
	sum->large_nrequests += as->large_nrequests;
	for (unsigned m = 0; m < arena_prof_num_mutexes; m++)
		mutex_prof_data_merge(&sum->mutexes[m], &as->mutexes[m]);
	for (unsigned j = 0; j < NBINS; j++) {
		bin_stats_t *s = &sum->bstats[j];
		const bin_stats_t *b = &as->bstats[j];
		s->nmalloc += b->nmalloc;
		s->ndalloc += b->ndalloc;
		s->nrequests += b->nrequests;
		s->nfills += b->nfills;
		s->nflushes += b->nflushes;
		s->nslabs += b->nslabs;
		s->reslabs += b->reslabs;
		if (!destroyed) {
			s->curregs += b->curregs;
			s->curslabs += b->curslabs;
		}
		mutex_prof_data_merge(&sum->bmutexes[j], &as->bmutexes[j]);
	}
	for (unsigned l = 0; l < NSIZES - NBINS; l++) {
		ctl_lextent_stats_t *s = &sum->lstats[l];
		const ctl_lextent_stats_t *x = &as->lstats[l];
		s->nmalloc += x->nmalloc;
		s->ndalloc += x->ndalloc;
		s->nrequests += x->nrequests;
		if (!destroyed)
			s->curlextents += x->curlextents;
	}
}

/* Allocates the sum slots once; false on success (jemalloc convention). */
static bool
ctl_snapshot_init_locked(tsdn_t *tsdn) {
	if (ctl_sarena != NULL)
		return false;
	ctl_arena_stats_t *s = ctl_arena_stats_alloc(tsdn);
	ctl_arena_stats_t *d = ctl_arena_stats_alloc(tsdn);
	if (s == NULL || d == NULL)
		return true;
	ctl_arena_stats_clear(s);
	ctl_arena_stats_clear(d);
	/* Until an arena is destroyed, index 4097 answers ENOENT. */
	d->initialized = false;
	ctl_darena = d;
	ctl_sarena = s;
	return false;
}

/*
 * Takes a new snapshot (ctl_mtx held).  The global stats.* values come
 * from the merged arenas:
 *   allocated = small.allocated + large.allocated
 *   active    = pactive pages
 *   metadata  = base + internal
 *   resident, mapped, retained, metadata_thp: the merged arena values.
 * The arenas' counters are read one after the other, so under concurrent
 * frees a released slab can leave allocated momentarily above active; the
 * global values are then raised to restore
 * allocated <= active <= resident <= mapped (by construction active <=
 * resident <= mapped already hold for each arena).
 */
static void
ctl_refresh_locked(tsdn_t *tsdn) {
	if (ctl_snapshot_init_locked(tsdn))
		return;
	ctl_arena_stats_clear(ctl_sarena);
	ctl_sarena->initialized = true;
	unsigned n = narenas_total_get();
	if (n > MALLOCX_ARENA_LIMIT)
		n = MALLOCX_ARENA_LIMIT;
	for (unsigned i = 0; i < n; i++) {
		arena_t *arena = arena_get_from_ind(i);
		ctl_arena_stats_t *as = ctl_astats[i];
		if (arena == NULL) {
			if (as != NULL)
				as->initialized = false;
			continue;
		}
		if (as == NULL) {
			as = ctl_arena_stats_alloc(tsdn);
			if (as == NULL)
				continue;	/* stays out of the snapshot */
			ctl_astats[i] = as;
		}
		ctl_arena_stats_read(tsdn, arena, as);
		as->initialized = true;
		ctl_arena_stats_merge(ctl_sarena, as, false);
	}

	ctl_stats_t *st = &ctl_stats;
	const ctl_arena_stats_t *sa = ctl_sarena;
	st->narenas = n;
	st->allocated = sa->small_allocated + sa->large_allocated;
	st->active = sa->pactive << LG_PAGE;
	st->metadata = sa->base + sa->internal;
	st->metadata_thp = sa->metadata_thp;
	st->resident = sa->resident;
	st->mapped = sa->mapped;
	st->retained = sa->retained;
	if (st->active < st->allocated)
		st->active = st->allocated;
	if (st->resident < st->active)
		st->resident = st->active;
	if (st->mapped < st->resident)
		st->mapped = st->resident;

	background_thread_stats_read(&st->background_thread_num_threads,
	    &st->background_thread_num_runs,
	    &st->background_thread_run_interval);
	/* Global locks private to other modules are found by name. */
	malloc_mutex_prof_read_named("background_thread",
	    &st->mutexes[global_prof_mutex_background_thread]);
	malloc_mutex_prof_read(&ctl_mtx, &st->mutexes[global_prof_mutex_ctl]);
	malloc_mutex_prof_read_named("prof",
	    &st->mutexes[global_prof_mutex_prof]);
	ctl_epoch++;
	st->epoch = ctl_epoch;
}

/*
 * Index narenas (arenas.narenas) stands for MALLCTL_ARENAS_ALL in
 * arena.<i>.{initialized,purge,decay,dss} and stats.arenas.<i>: 5.1.0
 * keeps that older spelling as a deprecated alias.
 */
static size_t
ctl_arena_ind_compat(size_t i) {
	return i == narenas_total_get() ? MALLCTL_ARENAS_ALL : i;
}

/* The snapshot slot of arena index i, or NULL (ctl_mtx held). */
static ctl_arena_stats_t *
ctl_arena_slot_get(size_t i) {
	ctl_arena_stats_t *as;
	i = ctl_arena_ind_compat(i);
	if (i == MALLCTL_ARENAS_ALL)
		as = ctl_sarena;
	else if (i == MALLCTL_ARENAS_DESTROYED)
		as = ctl_darena;
	else if (i < MALLOCX_ARENA_LIMIT)
		as = ctl_astats[i];
	else
		as = NULL;
	return as != NULL && as->initialized ? as : NULL;
}

static bool
ctl_darena_initialized(void) {
	malloc_mutex_lock(&ctl_mtx);
	bool ret = ctl_darena != NULL && ctl_darena->initialized;
	malloc_mutex_unlock(&ctl_mtx);
	return ret;
}

void
ctl_stats_refresh(tsdn_t *tsdn, ctl_stats_t *stats) {
	malloc_mutex_lock(&ctl_mtx);
	ctl_refresh_locked(tsdn);
	*stats = ctl_stats;
	malloc_mutex_unlock(&ctl_mtx);
}

bool
ctl_arena_initialized(tsdn_t *tsdn, unsigned ind) {
	malloc_mutex_lock(&ctl_mtx);
	bool ret = ctl_arena_slot_get(ind) != NULL;
	malloc_mutex_unlock(&ctl_mtx);
	return ret;
}

bool
ctl_arena_stats_copy(tsdn_t *tsdn, unsigned ind, ctl_arena_stats_t *astats) {
	malloc_mutex_lock(&ctl_mtx);
	const ctl_arena_stats_t *as = ctl_arena_slot_get(ind);
	if (as != NULL)
		*astats = *as;
	malloc_mutex_unlock(&ctl_mtx);
	return as != NULL;
}

void
ctl_arena_destroyed_merge_locked(tsdn_t *tsdn, arena_t *arena) {
	malloc_mutex_assert_owner(&ctl_mtx);
	if (ctl_snapshot_init_locked(tsdn))
		return;
	unsigned ind = arena->ind;
	ctl_arena_stats_t *as = ind < MALLOCX_ARENA_LIMIT ? ctl_astats[ind] :
	    NULL;
	if (as == NULL) {
		as = ctl_arena_stats_alloc(tsdn);
		if (as == NULL)
			return;
		if (ind < MALLOCX_ARENA_LIMIT)
			ctl_astats[ind] = as;
	}
	ctl_arena_stats_read(tsdn, arena, as);
	ctl_arena_stats_merge(ctl_darena, as, true);
	ctl_darena->initialized = true;
	/* The index is free for a new arena; its stats start afresh. */
	as->initialized = false;
}

void
ctl_arena_destroyed_merge(tsdn_t *tsdn, arena_t *arena) {
	malloc_mutex_lock(&ctl_mtx);
	ctl_arena_destroyed_merge_locked(tsdn, arena);
	malloc_mutex_unlock(&ctl_mtx);
}

/* Writing any value refreshes the snapshot; the epoch is read back. */
static int
epoch_ctl(CTL_ARGS) {
	UNUSED uint64_t newval = 0;
	WRITE(newval, uint64_t);
	malloc_mutex_lock(&ctl_mtx);
	if (newp != NULL)
		ctl_refresh_locked(tsd_tsdn(tsd));
	uint64_t e = ctl_epoch;
	malloc_mutex_unlock(&ctl_mtx);
	READ(e, uint64_t);
	return 0;
}

/* --- config.* ------------------------------------------------------------------ */

CTL_RO(config_cache_oblivious, config_cache_oblivious, bool)
CTL_RO(config_debug, config_debug, bool)
CTL_RO(config_fill, config_fill, bool)
CTL_RO(config_lazy_lock, config_lazy_lock, bool)
CTL_RO(config_malloc_conf, config_malloc_conf, const char *)
CTL_RO(config_prof, config_prof, bool)
static const bool config_prof_libgcc =
#ifdef JEMALLOC_PROF_LIBGCC
    true;
#else
    false;
#endif
static const bool config_prof_libunwind =
#ifdef JEMALLOC_PROF_LIBUNWIND
    true;
#else
    false;
#endif
CTL_RO(config_prof_libgcc, config_prof_libgcc, bool)
CTL_RO(config_prof_libunwind, config_prof_libunwind, bool)
CTL_RO(config_stats, config_stats, bool)
CTL_RO(config_utrace, config_utrace, bool)
CTL_RO(config_xmalloc, config_xmalloc, bool)

static const ctl_node_t config_node[] = {
	LEAF("cache_oblivious", config_cache_oblivious_ctl),
	LEAF("debug", config_debug_ctl),
	LEAF("fill", config_fill_ctl),
	LEAF("lazy_lock", config_lazy_lock_ctl),
	LEAF("malloc_conf", config_malloc_conf_ctl),
	LEAF("prof", config_prof_ctl),
	LEAF("prof_libgcc", config_prof_libgcc_ctl),
	LEAF("prof_libunwind", config_prof_libunwind_ctl),
	LEAF("stats", config_stats_ctl),
	LEAF("utrace", config_utrace_ctl),
	LEAF("xmalloc", config_xmalloc_ctl),
};

/* --- opt.* ------------------------------------------------------------------------ */

CTL_RO(opt_abort, opt_abort, bool)
CTL_RO(opt_abort_conf, opt_abort_conf, bool)
CTL_RO(opt_metadata_thp, metadata_thp_mode_names[opt_metadata_thp],
    const char *)
CTL_RO(opt_retain, opt_retain, bool)
CTL_RO(opt_dss, opt_dss, const char *)
CTL_RO(opt_narenas, opt_narenas, unsigned)
CTL_RO(opt_percpu_arena, percpu_arena_mode_names[opt_percpu_arena],
    const char *)
CTL_RO(opt_background_thread, opt_background_thread, bool)
CTL_RO(opt_mem_limit_soft, opt_mem_limit_soft, size_t)
CTL_RO(opt_mem_limit_hard, opt_mem_limit_hard, size_t)
CTL_RO(opt_max_background_threads, opt_max_background_threads, size_t)
CTL_RO(opt_dirty_decay_ms, opt_dirty_decay_ms, ssize_t)
CTL_RO(opt_muzzy_decay_ms, opt_muzzy_decay_ms, ssize_t)
CTL_RO(opt_lg_extent_max_active_fit, opt_lg_extent_max_active_fit, size_t)
CTL_RO(opt_stats_print, opt_stats_print, bool)
CTL_RO(opt_stats_print_opts, (const char *)opt_stats_print_opts,
    const char *)
#ifdef JEMALLOC_FILL
CTL_RO(opt_junk, opt_junk, const char *)
CTL_RO(opt_zero, opt_zero, bool)
#endif
#ifdef JEMALLOC_XMALLOC
CTL_RO(opt_xmalloc, opt_xmalloc, bool)
#endif
CTL_RO(opt_tcache, opt_tcache, bool)
#ifdef JEMALLOC_PROF
CTL_RO(opt_prof, opt_prof, bool)
CTL_RO(opt_prof_prefix, (const char *)opt_prof_prefix, const char *)
CTL_RO(opt_prof_active, opt_prof_active, bool)
CTL_RO(opt_prof_thread_active_init, opt_prof_thread_active_init, bool)
CTL_RO(opt_lg_prof_sample, opt_lg_prof_sample, size_t)
CTL_RO(opt_prof_accum, opt_prof_accum, bool)
CTL_RO(opt_lg_prof_interval, opt_lg_prof_interval, ssize_t)
CTL_RO(opt_prof_gdump, opt_prof_gdump, bool)
CTL_RO(opt_prof_final, opt_prof_final, bool)
CTL_RO(opt_prof_leak, opt_prof_leak, bool)
#endif
CTL_RO(opt_lg_tcache_max, opt_lg_tcache_max, ssize_t)
CTL_RO(opt_thp, thp_mode_names[opt_thp], const char *)

static const ctl_node_t opt_node[] = {
	LEAF("abort", opt_abort_ctl),
	LEAF("abort_conf", opt_abort_conf_ctl),
	LEAF("metadata_thp", opt_metadata_thp_ctl),
	LEAF("retain", opt_retain_ctl),
	LEAF("dss", opt_dss_ctl),
	LEAF("narenas", opt_narenas_ctl),
	LEAF("percpu_arena", opt_percpu_arena_ctl),
	LEAF("background_thread", opt_background_thread_ctl),
	LEAF("max_background_threads", opt_max_background_threads_ctl),
	LEAF("mem_limit_soft", opt_mem_limit_soft_ctl),
	LEAF("mem_limit_hard", opt_mem_limit_hard_ctl),
	LEAF("dirty_decay_ms", opt_dirty_decay_ms_ctl),
	LEAF("muzzy_decay_ms", opt_muzzy_decay_ms_ctl),
	LEAF("lg_extent_max_active_fit", opt_lg_extent_max_active_fit_ctl),
	LEAF("stats_print", opt_stats_print_ctl),
	LEAF("stats_print_opts", opt_stats_print_opts_ctl),
#ifdef JEMALLOC_FILL
	LEAF("junk", opt_junk_ctl),
	LEAF("zero", opt_zero_ctl),
#endif
#ifdef JEMALLOC_XMALLOC
	LEAF("xmalloc", opt_xmalloc_ctl),
#endif
	LEAF("tcache", opt_tcache_ctl),
	LEAF("lg_tcache_max", opt_lg_tcache_max_ctl),
	LEAF("thp", opt_thp_ctl),
#ifdef JEMALLOC_PROF
	LEAF("prof", opt_prof_ctl),
	LEAF("prof_prefix", opt_prof_prefix_ctl),
	LEAF("prof_active", opt_prof_active_ctl),
	LEAF("prof_thread_active_init", opt_prof_thread_active_init_ctl),
	LEAF("lg_prof_sample", opt_lg_prof_sample_ctl),
	LEAF("prof_accum", opt_prof_accum_ctl),
	LEAF("lg_prof_interval", opt_lg_prof_interval_ctl),
	LEAF("prof_gdump", opt_prof_gdump_ctl),
	LEAF("prof_final", opt_prof_final_ctl),
	LEAF("prof_leak", opt_prof_leak_ctl),
#endif
};

/* --- thread.* ------------------------------------------------------------------------ */

static int
thread_arena_ctl(CTL_ARGS) {
	arena_t *oldarena = tsd->arena;
	if (oldarena == NULL) {
		/* Not bound yet: bind now so the answer is meaningful. */
		void *p = je_malloc(1);
		je_free(p);
		oldarena = tsd->arena != NULL ? tsd->arena :
		    arena_get_from_ind(0);
	}
	unsigned oldind = oldarena->ind;
	if (newp != NULL) {
		unsigned newind;
		WRITE(newind, unsigned);
		if (newind >= narenas_total_get())
			return EFAULT;
		/* percpu_arena owns the binding inside its range. */
		if (opt_percpu_arena != percpu_arena_disabled && newind <
		    narenas_auto)
			return EPERM;
		if (newind != oldind) {
			arena_t *newarena = arena_get(tsd_tsdn(tsd), newind,
			    true);
			if (newarena == NULL)
				return EAGAIN;
			if (tsd->arena != NULL) {
				arena_migrate(tsd, oldind, newind);
				if (tsd->tcache_enabled)
					tcache_arena_reassociate(tsd_tsdn(tsd),
					    &tsd->tcache, newarena);
			}
		}
	}
	READ(oldind, unsigned);
	return 0;
}

#ifdef JEMALLOC_STATS
CTL_RO(thread_allocated, tsd->thread_allocated, uint64_t)
CTL_RO(thread_allocatedp, &tsd->thread_allocated, uint64_t *)
CTL_RO(thread_deallocated, tsd->thread_deallocated, uint64_t)
CTL_RO(thread_deallocatedp, &tsd->thread_deallocated, uint64_t *)
#endif

static int
thread_tcache_enabled_ctl(CTL_ARGS) {
	bool oldval = tsd->tcache_enabled;
	if (newp != NULL) {
		bool newval;
		WRITE(newval, bool);
		tcache_enabled_set(tsd, newval);
	}
	READ(oldval, bool);
	return 0;
}

static int
thread_tcache_flush_ctl(CTL_ARGS) {
	VOID();
	/* jemalloc: nothing to flush is an error. */
	if (!tsd->tcache_enabled)
		return EFAULT;
	tcache_flush(tsd);
	return 0;
}

static const ctl_node_t thread_tcache_node[] = {
	LEAF("enabled", thread_tcache_enabled_ctl),
	LEAF("flush", thread_tcache_flush_ctl),
};

#ifdef JEMALLOC_PROF
/* 5.1.0: one call either reads the name or sets it. */
static int
thread_prof_name_ctl(CTL_ARGS) {
	(void)mib; (void)miblen;
	if (oldp != NULL && oldlenp != NULL && (newp != NULL || newlen != 0))
		return EPERM;
	if (newp != NULL) {
		if (newlen != sizeof(const char *))
			return EINVAL;
		return prof_thread_name_set(tsd, *(const char **)newp);
	}
	const char *name = prof_thread_name_get(tsd);
	READ(name, const char *);
	return 0;
}

static int
thread_prof_active_ctl(CTL_ARGS) {
	(void)mib; (void)miblen;
	bool oldval = prof_thread_active_get(tsd);
	if (newp != NULL) {
		if (newlen != sizeof(bool))
			return EINVAL;
		if (prof_thread_active_set(tsd, *(bool *)newp))
			return EAGAIN;
	}
	READ(oldval, bool);
	return 0;
}

static const ctl_node_t thread_prof_node[] = {
	LEAF("name", thread_prof_name_ctl),
	LEAF("active", thread_prof_active_ctl),
};
#endif

static const ctl_node_t thread_node[] = {
	LEAF("arena", thread_arena_ctl),
	CHILD("tcache", thread_tcache_node),
#ifdef JEMALLOC_PROF
	CHILD("prof", thread_prof_node),
#endif
#ifdef JEMALLOC_STATS
	LEAF("allocated", thread_allocated_ctl),
	LEAF("allocatedp", thread_allocatedp_ctl),
	LEAF("deallocated", thread_deallocated_ctl),
	LEAF("deallocatedp", thread_deallocatedp_ctl),
#endif
};

/* --- tcache.* (explicit caches) ------------------------------------------------------ */

static int
tcache_create_ctl(CTL_ARGS) {
	READONLY();
	unsigned ind;
	if (tcaches_create(tsd, &ind))
		return EFAULT;
	READ(ind, unsigned);
	return 0;
}

/* tcache.flush and tcache.destroy: a write of a live explicit cache's
 * index, then op on it. */
static int
tcache_ind_ctl(CTL_ARGS, void (*op)(tsd_t *, unsigned)) {
	WRITEONLY();
	if (newp == NULL)
		return EFAULT;
	unsigned ind;
	WRITE(ind, unsigned);
	if (tcaches_get(tsd, ind) == NULL)
		return EFAULT;
	op(tsd, ind);
	return 0;
}

static int
tcache_flush_ctl(CTL_ARGS) {
	return tcache_ind_ctl(tsd, mib, miblen, oldp, oldlenp, newp, newlen,
	    tcaches_flush);
}

static int
tcache_destroy_ctl(CTL_ARGS) {
	return tcache_ind_ctl(tsd, mib, miblen, oldp, oldlenp, newp, newlen,
	    tcaches_destroy);
}

static const ctl_node_t tcache_node[] = {
	LEAF("create", tcache_create_ctl),
	LEAF("flush", tcache_flush_ctl),
	LEAF("destroy", tcache_destroy_ctl),
};

/* --- arena.<i>.* ------------------------------------------------------------------- */

static int
arena_i_initialized_ctl(CTL_ARGS) {
	READONLY();
	size_t i = ctl_arena_ind_compat(mib[1]);
	bool initialized;
	if (i == MALLCTL_ARENAS_ALL || i == MALLCTL_ARENAS_DESTROYED)
		initialized = i == MALLCTL_ARENAS_ALL ||
		    ctl_darena_initialized();
	else
		initialized = arena_get_from_ind((unsigned)i) != NULL;
	READ(initialized, bool);
	return 0;
}

static int
arena_i_purge_ctl(CTL_ARGS) {
	VOID();
	size_t i = ctl_arena_ind_compat(mib[1]);
	/* Under ctl_mtx, which arena destruction holds: no arena walked
	 * here goes away meanwhile. */
	malloc_mutex_lock(&ctl_mtx);
	unsigned n = narenas_total_get();
	for (unsigned j = 0; j < n; j++) {
		if (i != MALLCTL_ARENAS_ALL && i != j)
			continue;
		arena_t *arena = arena_get_from_ind(j);
		if (arena != NULL)
			arena_purge_all(tsd_tsdn(tsd), arena);
	}
	malloc_mutex_unlock(&ctl_mtx);
	return 0;
}

static int
arena_i_decay_ms_ctl_impl(CTL_ARGS, bool dirty) {
	unsigned i = (unsigned)mib[1];
	arena_t *arena = i < narenas_total_get() ? arena_get_from_ind(i) : NULL;
	if (arena == NULL)
		return EFAULT;
	ssize_t v = dirty ? arena_dirty_decay_ms_get(arena) :
	    arena_muzzy_decay_ms_get(arena);
	READ(v, ssize_t);
	if (newp != NULL) {
		ssize_t nv;
		WRITE(nv, ssize_t);
		if (dirty ? arena_dirty_decay_ms_set(tsd_tsdn(tsd), arena, nv) :
		    arena_muzzy_decay_ms_set(tsd_tsdn(tsd), arena, nv))
			return EFAULT;
	}
	return 0;
}

static int
arena_i_dirty_decay_ms_ctl(CTL_ARGS) {
	return arena_i_decay_ms_ctl_impl(tsd, mib, miblen, oldp, oldlenp, newp,
	    newlen, true);
}

static int
arena_i_muzzy_decay_ms_ctl(CTL_ARGS) {
	return arena_i_decay_ms_ctl_impl(tsd, mib, miblen, oldp, oldlenp, newp,
	    newlen, false);
}

/* Runs a decay step (not a full purge) of one arena or all. */
static int
arena_i_decay_ctl(CTL_ARGS) {
	VOID();
	size_t i = ctl_arena_ind_compat(mib[1]);
	malloc_mutex_lock(&ctl_mtx);	/* see arena_i_purge_ctl */
	unsigned n = narenas_total_get();
	for (unsigned j = 0; j < n; j++) {
		if (i != MALLCTL_ARENAS_ALL && i != j)
			continue;
		arena_t *arena = arena_get_from_ind(j);
		if (arena != NULL)
			arena_decay(tsd_tsdn(tsd), arena, false, false);
	}
	malloc_mutex_unlock(&ctl_mtx);
	return 0;
}

/* The arena of mib[1], or NULL (also for the pseudo indices). */
static arena_t *
ctl_arena_of(const size_t *mib) {
	size_t i = mib[1];
	if (i >= narenas_total_get())
		return NULL;
	return arena_get_from_ind((unsigned)i);
}

static int
arena_i_reset_ctl(CTL_ARGS) {
	VOID();
	arena_t *arena = ctl_arena_of(mib);
	if (arena == NULL || arena_is_auto(arena))
		return EFAULT;
	arena_reset(tsd, arena);
	return 0;
}

static int
arena_i_destroy_ctl(CTL_ARGS) {
	VOID();
	arena_t *arena = ctl_arena_of(mib);
	if (arena == NULL || arena_is_auto(arena))
		return EFAULT;
	if (arena_destroy(tsd, arena))
		return EFAULT;
	return 0;
}

static int
arena_i_dss_ctl(CTL_ARGS) {
	size_t i = ctl_arena_ind_compat(mib[1]);
	arena_t *arena = ctl_arena_of(mib);
	if (arena == NULL && i != MALLCTL_ARENAS_ALL)
		return EFAULT;
	/* The all-arenas index reads and sets the default that new arenas
	 * take; existing arenas keep their own precedence. */
	const char *old = arena != NULL ? arena_dss_prec_get(arena) :
	    arena_dss_default_get();
	if (newp != NULL) {
		const char *prec;
		WRITE(prec, const char *);
		/* The setters refuse only names they do not know. */
		if (prec == NULL || (arena != NULL ?
		    arena_dss_prec_set(arena, prec) :
		    arena_dss_default_set(prec)))
			return EINVAL;
	}
	READ(old, const char *);
	return 0;
}

static int
arena_i_retain_grow_limit_ctl(CTL_ARGS) {
	if (!opt_retain)
		return ENOENT;
	arena_t *arena = ctl_arena_of(mib);
	if (arena == NULL)
		return EFAULT;
	size_t old = arena_retain_grow_limit_get(arena);
	if (newp != NULL) {
		size_t limit;
		WRITE(limit, size_t);
		if (arena_retain_grow_limit_set(arena, limit))
			return EFAULT;
	}
	READ(old, size_t);
	return 0;
}

static int
arena_i_extent_hooks_ctl(CTL_ARGS) {
	arena_t *arena = ctl_arena_of(mib);
	if (arena == NULL)
		return EFAULT;
	extent_hooks_t *old = arena_get_extent_hooks(arena);
	if (newp != NULL) {
		extent_hooks_t *hooks;
		WRITE(hooks, extent_hooks_t *);
		if (hooks == NULL)
			return EINVAL;
		old = arena_set_extent_hooks(tsd, arena, hooks);
	}
	READ(old, extent_hooks_t *);
	return 0;
}

static const ctl_node_t arena_i_node[] = {
	LEAF("initialized", arena_i_initialized_ctl),
	LEAF("decay", arena_i_decay_ctl),
	LEAF("purge", arena_i_purge_ctl),
	LEAF("reset", arena_i_reset_ctl),
	LEAF("destroy", arena_i_destroy_ctl),
	LEAF("dss", arena_i_dss_ctl),
	LEAF("retain_grow_limit", arena_i_retain_grow_limit_ctl),
	LEAF("extent_hooks", arena_i_extent_hooks_ctl),
	LEAF("dirty_decay_ms", arena_i_dirty_decay_ms_ctl),
	LEAF("muzzy_decay_ms", arena_i_muzzy_decay_ms_ctl),
};
static const ctl_node_t arena_i_wrap[] = {CHILD(NULL, arena_i_node)};

static const ctl_node_t *
arena_i_index(tsd_t *tsd, const size_t *mib, size_t miblen, size_t i) {
	if (i == MALLCTL_ARENAS_ALL || i == MALLCTL_ARENAS_DESTROYED ||
	    i <= narenas_total_get())	/* narenas: see ctl_arena_ind_compat */
		return arena_i_wrap;
	return NULL;
}

/* --- arenas.* -------------------------------------------------------------------------- */

CTL_RO(arenas_narenas, narenas_total_get(), unsigned)
static int
arenas_dirty_decay_ms_ctl(CTL_ARGS) {
	ssize_t v = arena_dirty_decay_ms_default_get();
	READ(v, ssize_t);
	if (newp != NULL) {
		ssize_t nv;
		WRITE(nv, ssize_t);
		if (arena_dirty_decay_ms_default_set(nv))
			return EFAULT;
	}
	return 0;
}

static int
arenas_muzzy_decay_ms_ctl(CTL_ARGS) {
	ssize_t v = arena_muzzy_decay_ms_default_get();
	READ(v, ssize_t);
	if (newp != NULL) {
		ssize_t nv;
		WRITE(nv, ssize_t);
		if (arena_muzzy_decay_ms_default_set(nv))
			return EFAULT;
	}
	return 0;
}
CTL_RO(arenas_quantum, QUANTUM, size_t)
CTL_RO(arenas_page, PAGE, size_t)
CTL_RO(arenas_nbins, (unsigned)NBINS, unsigned)
CTL_RO(arenas_nhbins, nhbins, unsigned)
CTL_RO(arenas_tcache_max, tcache_maxclass, size_t)
CTL_RO(arenas_nlextents, (unsigned)(NSIZES - NBINS), unsigned)
CTL_RO(arenas_bin_i_size, bin_infos[mib[2]].reg_size, size_t)
CTL_RO(arenas_bin_i_nregs, bin_infos[mib[2]].nregs, uint32_t)
CTL_RO(arenas_bin_i_slab_size, bin_infos[mib[2]].slab_size, size_t)
CTL_RO(arenas_lextent_i_size, sz_index2size(NBINS + (unsigned)mib[2]),
    size_t)

static const ctl_node_t arenas_bin_i_node[] = {
	LEAF("size", arenas_bin_i_size_ctl),
	LEAF("nregs", arenas_bin_i_nregs_ctl),
	LEAF("slab_size", arenas_bin_i_slab_size_ctl),
};
static const ctl_node_t arenas_bin_i_wrap[] = {CHILD(NULL, arenas_bin_i_node)};

static const ctl_node_t *
arenas_bin_i_index(tsd_t *tsd, const size_t *mib, size_t miblen, size_t i) {
	return i < NBINS ? arenas_bin_i_wrap : NULL;
}

static const ctl_node_t arenas_lextent_i_node[] = {
	LEAF("size", arenas_lextent_i_size_ctl),
};
static const ctl_node_t arenas_lextent_i_wrap[] = {
	CHILD(NULL, arenas_lextent_i_node)
};

static const ctl_node_t *
arenas_lextent_i_index(tsd_t *tsd, const size_t *mib, size_t miblen,
    size_t i) {
	return i < NSIZES - NBINS ? arenas_lextent_i_wrap : NULL;
}

static int
arenas_lookup_ctl(CTL_ARGS) {
	void *ptr = NULL;
	if (newp == NULL)
		return EINVAL;
	WRITE(ptr, void *);
	extent_t *extent = extent_lookup(tsd_tsdn(tsd), ptr, false);
	if (extent == NULL || extent_state_get(extent) != extent_state_active)
		return EINVAL;
	unsigned ind = extent_arena_ind_get(extent);
	READ(ind, unsigned);
	return 0;
}

/* arenas.create: optional newp = extent_hooks_t *; reads the index. */
static int
arenas_create_ctl(CTL_ARGS) {
	extent_hooks_t *hooks = (extent_hooks_t *)&extent_hooks_default;
	if (newp != NULL)
		WRITE(hooks, extent_hooks_t *);
	if (hooks == NULL)
		return EINVAL;
	unsigned ind;
	if (arena_create(tsd_tsdn(tsd), hooks, &ind))
		return EAGAIN;
	READ(ind, unsigned);
	return 0;
}

static const ctl_node_t arenas_node[] = {
	LEAF("narenas", arenas_narenas_ctl),
	LEAF("create", arenas_create_ctl),
	LEAF("dirty_decay_ms", arenas_dirty_decay_ms_ctl),
	LEAF("muzzy_decay_ms", arenas_muzzy_decay_ms_ctl),
	LEAF("quantum", arenas_quantum_ctl),
	LEAF("page", arenas_page_ctl),
	LEAF("tcache_max", arenas_tcache_max_ctl),
	LEAF("nbins", arenas_nbins_ctl),
	LEAF("nhbins", arenas_nhbins_ctl),
	INDEXED("bin", arenas_bin_i_index),
	LEAF("nlextents", arenas_nlextents_ctl),
	INDEXED("lextent", arenas_lextent_i_index),
	LEAF("lookup", arenas_lookup_ctl),
};

/* --- stats.* -------------------------------------------------------------- */

/*
 * Every stats.* leaf reads the snapshot under ctl_mtx.  Leaves that facts
 * §4 marks "--enable-stats" answer ENOENT in a --disable-stats build; the
 * others (pactive, nthreads, dss ...) are always there.
 */
#define STATS_NEED(needs_stats) do {				\
	if ((needs_stats) && !config_stats)				\
		return ENOENT;						\
} while (0)

/* A global value: stats.<name>. */
#define CTL_STATS_GLOBAL(n, expr, t)				\
static int								\
stats_##n##_ctl(CTL_ARGS) {						\
	(void)tsd; (void)mib; (void)miblen;				\
	STATS_NEED(true);						\
	READONLY();							\
	malloc_mutex_lock(&ctl_mtx);					\
	t val = (expr);							\
	malloc_mutex_unlock(&ctl_mtx);					\
	READ(val, t);							\
	return 0;							\
}

/*
 * A per-arena value: stats.arenas.<i>.<name>, with astats the arena's
 * slot.  The index was checked at lookup, but a refresh or an arena
 * destruction in between may have emptied the slot: ENOENT then.
 */
#define CTL_STATS_ARENA(n, expr, t, needs_stats)			\
static int								\
stats_arenas_i_##n##_ctl(CTL_ARGS) {				\
	(void)tsd; (void)miblen;					\
	STATS_NEED(needs_stats);					\
	READONLY();							\
	malloc_mutex_lock(&ctl_mtx);					\
	const ctl_arena_stats_t *astats = ctl_arena_slot_get(mib[2]);	\
	if (astats == NULL) {						\
		malloc_mutex_unlock(&ctl_mtx);				\
		return ENOENT;						\
	}								\
	t val = (expr);							\
	malloc_mutex_unlock(&ctl_mtx);					\
	READ(val, t);							\
	return 0;							\
}

CTL_STATS_GLOBAL(allocated, ctl_stats.allocated, size_t)
CTL_STATS_GLOBAL(active, ctl_stats.active, size_t)
CTL_STATS_GLOBAL(metadata, ctl_stats.metadata, size_t)
CTL_STATS_GLOBAL(metadata_thp, ctl_stats.metadata_thp, size_t)
CTL_STATS_GLOBAL(resident, ctl_stats.resident, size_t)
CTL_STATS_GLOBAL(mapped, ctl_stats.mapped, size_t)
CTL_STATS_GLOBAL(retained, ctl_stats.retained, size_t)
CTL_STATS_GLOBAL(background_thread_num_threads,
    ctl_stats.background_thread_num_threads, size_t)
CTL_STATS_GLOBAL(background_thread_num_runs,
    ctl_stats.background_thread_num_runs, uint64_t)
CTL_STATS_GLOBAL(background_thread_run_interval,
    ctl_stats.background_thread_run_interval, uint64_t)

/*
 * The seven mutex counters share one handler; the MIB says which set:
 *   stats.mutexes.<g>.<c>                  (4 components)
 *   stats.arenas.<i>.mutexes.<g>.<c>       (6 components)
 *   stats.arenas.<i>.bins.<j>.mutex.<c>    (7 components)
 * The counter's children are listed in mutex_prof_counter_ind_t order, so
 * the last MIB component is the counter.
 */
static int
stats_mutex_counter_ctl(CTL_ARGS) {
	STATS_NEED(true);
	READONLY();
	mutex_prof_data_t data;
	malloc_mutex_lock(&ctl_mtx);
	if (miblen == 4) {
		data = ctl_stats.mutexes[mib[2]];
	} else {
		const ctl_arena_stats_t *astats = ctl_arena_slot_get(mib[2]);
		if (astats == NULL) {
			malloc_mutex_unlock(&ctl_mtx);
			return ENOENT;
		}
		data = miblen == 6 ? astats->mutexes[mib[4]] :
		    astats->bmutexes[mib[4]];
	}
	malloc_mutex_unlock(&ctl_mtx);
	mutex_prof_counter_ind_t c = (mutex_prof_counter_ind_t)mib[miblen - 1];
	if (c == mutex_counter_max_num_thds) {
		READ((uint32_t)mutex_prof_counter_get(&data, c), uint32_t);
	} else {
		READ(mutex_prof_counter_get(&data, c), uint64_t);
	}
	return 0;
}

static const ctl_node_t stats_mutex_counter_node[] = {
	LEAF("num_ops", stats_mutex_counter_ctl),
	LEAF("num_wait", stats_mutex_counter_ctl),
	LEAF("num_spin_acq", stats_mutex_counter_ctl),
	LEAF("num_owner_switch", stats_mutex_counter_ctl),
	LEAF("total_wait_time", stats_mutex_counter_ctl),
	LEAF("max_wait_time", stats_mutex_counter_ctl),
	LEAF("max_num_thds", stats_mutex_counter_ctl),
};

static int
stats_mutexes_reset_ctl(CTL_ARGS) {
	STATS_NEED(true);
	VOID();
	malloc_mutex_prof_reset_all();
	return 0;
}

/* In global_prof_mutex_ind_t order, then reset. */
static const ctl_node_t stats_mutexes_node[] = {
	CHILD("background_thread", stats_mutex_counter_node),
	CHILD("ctl", stats_mutex_counter_node),
	CHILD("prof", stats_mutex_counter_node),
	LEAF("reset", stats_mutexes_reset_ctl),
};

static const ctl_node_t stats_background_thread_node[] = {
	LEAF("num_threads", stats_background_thread_num_threads_ctl),
	LEAF("num_runs", stats_background_thread_num_runs_ctl),
	LEAF("run_interval", stats_background_thread_run_interval_ctl),
};

CTL_STATS_ARENA(dss, astats->dss, const char *, false)
CTL_STATS_ARENA(dirty_decay_ms, astats->dirty_decay_ms, ssize_t, false)
CTL_STATS_ARENA(muzzy_decay_ms, astats->muzzy_decay_ms, ssize_t, false)
CTL_STATS_ARENA(nthreads, astats->nthreads, unsigned, false)
CTL_STATS_ARENA(uptime, astats->uptime_ns, uint64_t, false)
CTL_STATS_ARENA(pactive, astats->pactive, size_t, false)
CTL_STATS_ARENA(pdirty, astats->pdirty, size_t, false)
CTL_STATS_ARENA(pmuzzy, astats->pmuzzy, size_t, false)
CTL_STATS_ARENA(mapped, astats->mapped, size_t, true)
CTL_STATS_ARENA(retained, astats->retained, size_t, true)
CTL_STATS_ARENA(base, astats->base, size_t, true)
CTL_STATS_ARENA(internal, astats->internal, size_t, true)
CTL_STATS_ARENA(metadata_thp, astats->metadata_thp, size_t, true)
CTL_STATS_ARENA(resident, astats->resident, size_t, true)
CTL_STATS_ARENA(tcache_bytes, astats->tcache_bytes, size_t, true)
CTL_STATS_ARENA(dirty_npurge, astats->dirty_npurge, uint64_t, true)
CTL_STATS_ARENA(dirty_nmadvise, astats->dirty_nmadvise, uint64_t, true)
CTL_STATS_ARENA(dirty_purged, astats->dirty_purged, uint64_t, true)
CTL_STATS_ARENA(muzzy_npurge, astats->muzzy_npurge, uint64_t, true)
CTL_STATS_ARENA(muzzy_nmadvise, astats->muzzy_nmadvise, uint64_t, true)
CTL_STATS_ARENA(muzzy_purged, astats->muzzy_purged, uint64_t, true)
CTL_STATS_ARENA(small_allocated, astats->small_allocated, size_t, true)
CTL_STATS_ARENA(small_nmalloc, astats->small_nmalloc, uint64_t, true)
CTL_STATS_ARENA(small_ndalloc, astats->small_ndalloc, uint64_t, true)
CTL_STATS_ARENA(small_nrequests, astats->small_nrequests, uint64_t, true)
CTL_STATS_ARENA(large_allocated, astats->large_allocated, size_t, true)
CTL_STATS_ARENA(large_nmalloc, astats->large_nmalloc, uint64_t, true)
CTL_STATS_ARENA(large_ndalloc, astats->large_ndalloc, uint64_t, true)
CTL_STATS_ARENA(large_nrequests, astats->large_nrequests, uint64_t, true)
/* stats.arenas.<i>.bins.<j>.*: j is mib[4]. */
CTL_STATS_ARENA(bins_j_nmalloc, astats->bstats[mib[4]].nmalloc, uint64_t,
    true)
CTL_STATS_ARENA(bins_j_ndalloc, astats->bstats[mib[4]].ndalloc, uint64_t,
    true)
CTL_STATS_ARENA(bins_j_nrequests, astats->bstats[mib[4]].nrequests,
    uint64_t, true)
CTL_STATS_ARENA(bins_j_curregs, astats->bstats[mib[4]].curregs, size_t,
    true)
CTL_STATS_ARENA(bins_j_nfills, astats->bstats[mib[4]].nfills, uint64_t,
    false)
CTL_STATS_ARENA(bins_j_nflushes, astats->bstats[mib[4]].nflushes,
    uint64_t, false)
CTL_STATS_ARENA(bins_j_nslabs, astats->bstats[mib[4]].nslabs, uint64_t,
    true)
CTL_STATS_ARENA(bins_j_nreslabs, astats->bstats[mib[4]].reslabs, uint64_t,
    true)
CTL_STATS_ARENA(bins_j_curslabs, astats->bstats[mib[4]].curslabs, size_t,
    true)
/* stats.arenas.<i>.lextents.<j>.*: j is mib[4]. */
CTL_STATS_ARENA(lextents_j_nmalloc, astats->lstats[mib[4]].nmalloc,
    uint64_t, true)
CTL_STATS_ARENA(lextents_j_ndalloc, astats->lstats[mib[4]].ndalloc,
    uint64_t, true)
CTL_STATS_ARENA(lextents_j_nrequests, astats->lstats[mib[4]].nrequests,
    uint64_t, true)
CTL_STATS_ARENA(lextents_j_curlextents, astats->lstats[mib[4]].curlextents,
    size_t, true)

static const ctl_node_t stats_arenas_i_small_node[] = {
	LEAF("allocated", stats_arenas_i_small_allocated_ctl),
	LEAF("nmalloc", stats_arenas_i_small_nmalloc_ctl),
	LEAF("ndalloc", stats_arenas_i_small_ndalloc_ctl),
	LEAF("nrequests", stats_arenas_i_small_nrequests_ctl),
};

static const ctl_node_t stats_arenas_i_large_node[] = {
	LEAF("allocated", stats_arenas_i_large_allocated_ctl),
	LEAF("nmalloc", stats_arenas_i_large_nmalloc_ctl),
	LEAF("ndalloc", stats_arenas_i_large_ndalloc_ctl),
	LEAF("nrequests", stats_arenas_i_large_nrequests_ctl),
};

static const ctl_node_t stats_arenas_i_bins_j_node[] = {
	LEAF("nmalloc", stats_arenas_i_bins_j_nmalloc_ctl),
	LEAF("ndalloc", stats_arenas_i_bins_j_ndalloc_ctl),
	LEAF("nrequests", stats_arenas_i_bins_j_nrequests_ctl),
	LEAF("curregs", stats_arenas_i_bins_j_curregs_ctl),
	LEAF("nfills", stats_arenas_i_bins_j_nfills_ctl),
	LEAF("nflushes", stats_arenas_i_bins_j_nflushes_ctl),
	LEAF("nslabs", stats_arenas_i_bins_j_nslabs_ctl),
	LEAF("nreslabs", stats_arenas_i_bins_j_nreslabs_ctl),
	LEAF("curslabs", stats_arenas_i_bins_j_curslabs_ctl),
	CHILD("mutex", stats_mutex_counter_node),
};
static const ctl_node_t stats_arenas_i_bins_j_wrap[] = {
	CHILD(NULL, stats_arenas_i_bins_j_node)
};

static const ctl_node_t *
stats_arenas_i_bins_j_index(tsd_t *tsd, const size_t *mib, size_t miblen,
    size_t j) {
	return j < NBINS ? stats_arenas_i_bins_j_wrap : NULL;
}

static const ctl_node_t stats_arenas_i_lextents_j_node[] = {
	LEAF("nmalloc", stats_arenas_i_lextents_j_nmalloc_ctl),
	LEAF("ndalloc", stats_arenas_i_lextents_j_ndalloc_ctl),
	LEAF("nrequests", stats_arenas_i_lextents_j_nrequests_ctl),
	LEAF("curlextents", stats_arenas_i_lextents_j_curlextents_ctl),
};
static const ctl_node_t stats_arenas_i_lextents_j_wrap[] = {
	CHILD(NULL, stats_arenas_i_lextents_j_node)
};

static const ctl_node_t *
stats_arenas_i_lextents_j_index(tsd_t *tsd, const size_t *mib,
    size_t miblen, size_t j) {
	return j < NSIZES - NBINS ? stats_arenas_i_lextents_j_wrap : NULL;
}

/* In arena_prof_mutex_ind_t order. */
static const ctl_node_t stats_arenas_i_mutexes_node[] = {
	CHILD("large", stats_mutex_counter_node),
	CHILD("extent_avail", stats_mutex_counter_node),
	CHILD("extents_dirty", stats_mutex_counter_node),
	CHILD("extents_muzzy", stats_mutex_counter_node),
	CHILD("extents_retained", stats_mutex_counter_node),
	CHILD("decay_dirty", stats_mutex_counter_node),
	CHILD("decay_muzzy", stats_mutex_counter_node),
	CHILD("base", stats_mutex_counter_node),
	CHILD("tcache_list", stats_mutex_counter_node),
};

static const ctl_node_t stats_arenas_i_node[] = {
	LEAF("nthreads", stats_arenas_i_nthreads_ctl),
	LEAF("uptime", stats_arenas_i_uptime_ctl),
	LEAF("dss", stats_arenas_i_dss_ctl),
	LEAF("dirty_decay_ms", stats_arenas_i_dirty_decay_ms_ctl),
	LEAF("muzzy_decay_ms", stats_arenas_i_muzzy_decay_ms_ctl),
	LEAF("pactive", stats_arenas_i_pactive_ctl),
	LEAF("pdirty", stats_arenas_i_pdirty_ctl),
	LEAF("pmuzzy", stats_arenas_i_pmuzzy_ctl),
	LEAF("mapped", stats_arenas_i_mapped_ctl),
	LEAF("retained", stats_arenas_i_retained_ctl),
	LEAF("dirty_npurge", stats_arenas_i_dirty_npurge_ctl),
	LEAF("dirty_nmadvise", stats_arenas_i_dirty_nmadvise_ctl),
	LEAF("dirty_purged", stats_arenas_i_dirty_purged_ctl),
	LEAF("muzzy_npurge", stats_arenas_i_muzzy_npurge_ctl),
	LEAF("muzzy_nmadvise", stats_arenas_i_muzzy_nmadvise_ctl),
	LEAF("muzzy_purged", stats_arenas_i_muzzy_purged_ctl),
	LEAF("base", stats_arenas_i_base_ctl),
	LEAF("internal", stats_arenas_i_internal_ctl),
	LEAF("metadata_thp", stats_arenas_i_metadata_thp_ctl),
	LEAF("tcache_bytes", stats_arenas_i_tcache_bytes_ctl),
	LEAF("resident", stats_arenas_i_resident_ctl),
	CHILD("small", stats_arenas_i_small_node),
	CHILD("large", stats_arenas_i_large_node),
	INDEXED("bins", stats_arenas_i_bins_j_index),
	INDEXED("lextents", stats_arenas_i_lextents_j_index),
	CHILD("mutexes", stats_arenas_i_mutexes_node),
};
static const ctl_node_t stats_arenas_i_wrap[] = {
	CHILD(NULL, stats_arenas_i_node)
};

/*
 * Valid indices: arenas in the snapshot (initialised when it was taken),
 * MALLCTL_ARENAS_ALL, and MALLCTL_ARENAS_DESTROYED once an arena has been
 * destroyed (as in jemalloc, where arena.4097.initialized says so).
 */
static const ctl_node_t *
stats_arenas_i_index(tsd_t *tsd, const size_t *mib, size_t miblen,
    size_t i) {
	malloc_mutex_lock(&ctl_mtx);
	bool valid = ctl_arena_slot_get(i) != NULL;
	malloc_mutex_unlock(&ctl_mtx);
	return valid ? stats_arenas_i_wrap : NULL;
}

static const ctl_node_t stats_node[] = {
	LEAF("allocated", stats_allocated_ctl),
	LEAF("active", stats_active_ctl),
	LEAF("metadata", stats_metadata_ctl),
	LEAF("metadata_thp", stats_metadata_thp_ctl),
	LEAF("resident", stats_resident_ctl),
	LEAF("mapped", stats_mapped_ctl),
	LEAF("retained", stats_retained_ctl),
	CHILD("background_thread", stats_background_thread_node),
	CHILD("mutexes", stats_mutexes_node),
	INDEXED("arenas", stats_arenas_i_index),
};

/* --- the root --------------------------------------------------------------------------------- */

/* --- background threads and the memory limit ---------------------------------- */

static int
background_thread_ctl(CTL_ARGS) {
	bool old = background_thread_enabled();
	if (newp != NULL) {
		bool enable;
		WRITE(enable, bool);
		if (enable != old && (enable ? background_threads_enable(tsd) :
		    background_threads_disable(tsd)))
			return EFAULT;
	}
	READ(old, bool);
	return 0;
}

static int
max_background_threads_ctl(CTL_ARGS) {
	size_t old = background_thread_max_get();
	if (newp != NULL) {
		size_t max;
		WRITE(max, size_t);
		if (background_thread_max_set(tsd, max))
			return EINVAL;
	}
	READ(old, size_t);
	return 0;
}

/* mem_limit.*: an extension (see doc/deviations.md).  Both limits read
 * the old value and set the new one alike. */
static int
mem_limit_rw(CTL_ARGS, size_t (*get)(void), void (*set)(tsdn_t *, size_t)) {
	size_t old = get();
	if (newp != NULL) {
		size_t v;
		WRITE(v, size_t);
		set(tsd_tsdn(tsd), v);
	}
	READ(old, size_t);
	return 0;
}

static int
mem_limit_soft_ctl(CTL_ARGS) {
	return mem_limit_rw(tsd, mib, miblen, oldp, oldlenp, newp, newlen,
	    mem_limit_soft_get, mem_limit_soft_set);
}

static int
mem_limit_hard_ctl(CTL_ARGS) {
	return mem_limit_rw(tsd, mib, miblen, oldp, oldlenp, newp, newlen,
	    mem_limit_hard_get, mem_limit_hard_set);
}

CTL_RO(mem_limit_footprint, extent_footprint_get(), size_t)

static const ctl_node_t mem_limit_node[] = {
	LEAF("soft", mem_limit_soft_ctl),
	LEAF("hard", mem_limit_hard_ctl),
	LEAF("footprint", mem_limit_footprint_ctl),
};

/* --- prof.* ------------------------------------------------------------------------ */

#ifdef JEMALLOC_PROF
/* A boolean control: the old value, after setting the new one. */
#define PROF_BOOL_CTL(n, get, set)					\
static int								\
n##_ctl(CTL_ARGS) {							\
	(void)tsd; (void)mib; (void)miblen;				\
	bool oldval;							\
	if (newp != NULL) {						\
		if (newlen != sizeof(bool))				\
			return EINVAL;					\
		oldval = set(*(bool *)newp);				\
	} else {							\
		oldval = get();						\
	}								\
	READ(oldval, bool);						\
	return 0;							\
}
PROF_BOOL_CTL(prof_thread_active_init, prof_thread_active_init_get,
    prof_thread_active_init_set)
PROF_BOOL_CTL(prof_active, prof_active_get, prof_active_set)
PROF_BOOL_CTL(prof_gdump, prof_gdump_get, prof_gdump_set)

static int
prof_dump_ctl(CTL_ARGS) {
	(void)mib; (void)miblen;
	WRITEONLY();
	const char *filename = NULL;
	WRITE(filename, const char *);
	if (prof_mdump(tsd, filename))
		return EFAULT;
	return 0;
}

static int
prof_reset_ctl(CTL_ARGS) {
	(void)mib; (void)miblen;
	WRITEONLY();
	size_t lg_sample = lg_prof_sample;
	WRITE(lg_sample, size_t);
	if (lg_sample >= 64)
		lg_sample = 63;
	prof_reset(tsd, lg_sample);
	return 0;
}

CTL_RO(prof_lg_sample, lg_prof_sample, size_t)
CTL_RO(prof_interval, prof_interval, uint64_t)

static const ctl_node_t prof_node[] = {
	LEAF("thread_active_init", prof_thread_active_init_ctl),
	LEAF("active", prof_active_ctl),
	LEAF("dump", prof_dump_ctl),
	LEAF("gdump", prof_gdump_ctl),
	LEAF("reset", prof_reset_ctl),
	LEAF("lg_sample", prof_lg_sample_ctl),
	LEAF("interval", prof_interval_ctl),
};
#endif

static const ctl_node_t root_node[] = {
	LEAF("version", version_ctl),
	LEAF("epoch", epoch_ctl),
	LEAF("background_thread", background_thread_ctl),
	LEAF("max_background_threads", max_background_threads_ctl),
	CHILD("mem_limit", mem_limit_node),
	CHILD("config", config_node),
	CHILD("opt", opt_node),
	CHILD("thread", thread_node),
	CHILD("tcache", tcache_node),
	INDEXED("arena", arena_i_index),
	CHILD("arenas", arenas_node),
#ifdef JEMALLOC_PROF
	CHILD("prof", prof_node),
#endif
	CHILD("stats", stats_node),
};
static const ctl_node_t root_wrap[] = {CHILD(NULL, root_node)};

/* --- lookup -------------------------------------------------------------------------------------- */

/* The child of node at mib value v (numbered or named), or NULL. */
static const ctl_node_t *
ctl_child(tsd_t *tsd, const ctl_node_t *node, size_t *mib, size_t depth,
    size_t v) {
	if (node->index != NULL) {
		mib[depth] = v;
		const ctl_node_t *w = node->index(tsd, mib, depth + 1, v);
		return w == NULL ? NULL : &w[0];
	}
	if (v >= node->nchildren)
		return NULL;
	mib[depth] = v;
	return &node->children[v];
}

/*
 * Resolves name into mib (at most *depthp components); returns the node
 * reached, or NULL for an unknown name.  *depthp becomes the number of
 * components resolved.
 */
static const ctl_node_t *
ctl_lookup(tsd_t *tsd, const char *name, size_t *mib, size_t *depthp) {
	const ctl_node_t *node = &root_wrap[0];
	size_t depth = 0;
	const char *p = name;
	if (*p == '\0')
		return NULL;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (len == 0 || node->ctl != NULL || depth >= *depthp)
			return NULL;
		const ctl_node_t *child = NULL;
		if (node->index != NULL) {
			size_t v = 0;
			for (size_t i = 0; i < len; i++) {
				if (p[i] < '0' || p[i] > '9' ||
				    v > (SIZE_MAX - 9) / 10)
					return NULL;
				v = v * 10 + (size_t)(p[i] - '0');
			}
			child = ctl_child(tsd, node, mib, depth, v);
		} else {
			for (size_t i = 0; i < node->nchildren; i++) {
				const char *cn = node->children[i].name;
				if (strlen(cn) == len && strncmp(cn, p, len)
				    == 0) {
					child = ctl_child(tsd, node, mib, depth,
					    i);
					break;
				}
			}
		}
		if (child == NULL)
			return NULL;
		node = child;
		depth++;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	*depthp = depth;
	return node;
}

/* The first mallctl call takes the first statistics snapshot. */
static void
ctl_init(tsd_t *tsd) {
	if (likely(__atomic_load_n(&ctl_initialized, __ATOMIC_ACQUIRE)))
		return;
	malloc_mutex_lock(&ctl_mtx);
	if (!ctl_initialized) {
		ctl_refresh_locked(tsd_tsdn(tsd));
		__atomic_store_n(&ctl_initialized, true, __ATOMIC_RELEASE);
	}
	malloc_mutex_unlock(&ctl_mtx);
}

int
ctl_byname(tsd_t *tsd, const char *name, void *oldp, size_t *oldlenp,
    void *newp, size_t newlen) {
	size_t mib[CTL_MAX_DEPTH];
	size_t depth = CTL_MAX_DEPTH;
	if (name == NULL)
		return ENOENT;
	ctl_init(tsd);
	const ctl_node_t *node = ctl_lookup(tsd, name, mib, &depth);
	if (node == NULL || node->ctl == NULL)
		return ENOENT;
	return node->ctl(tsd, mib, depth, oldp, oldlenp, newp, newlen);
}

int
ctl_nametomib(tsd_t *tsd, const char *name, size_t *mibp, size_t *miblenp) {
	size_t mib[CTL_MAX_DEPTH];
	size_t depth = CTL_MAX_DEPTH;
	if (name == NULL || mibp == NULL || miblenp == NULL)
		return EINVAL;
	ctl_init(tsd);
	const ctl_node_t *node = ctl_lookup(tsd, name, mib, &depth);
	if (node == NULL)
		return ENOENT;
	size_t n = depth < *miblenp ? depth : *miblenp;
	memcpy(mibp, mib, n * sizeof(size_t));
	*miblenp = n;
	return 0;
}

int
ctl_bymib(tsd_t *tsd, const size_t *mib, size_t miblen, void *oldp,
    size_t *oldlenp, void *newp, size_t newlen) {
	if (mib == NULL || miblen == 0 || miblen > CTL_MAX_DEPTH)
		return ENOENT;
	ctl_init(tsd);
	size_t m[CTL_MAX_DEPTH];
	const ctl_node_t *node = &root_wrap[0];
	for (size_t i = 0; i < miblen; i++) {
		if (node->ctl != NULL)
			return ENOENT;
		node = ctl_child(tsd, node, m, i, mib[i]);
		if (node == NULL)
			return ENOENT;
	}
	if (node->ctl == NULL)
		return ENOENT;
	return node->ctl(tsd, m, miblen, oldp, oldlenp, newp, newlen);
}

bool
ctl_boot(void) {
	if (malloc_mutex_init(&ctl_mtx, "ctl", WITNESS_RANK_CTL))
		return true;
	ctl_epoch = 0;
	return false;
}



