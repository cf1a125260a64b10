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
#include "tcache.h"
#include "extent_mmap.h"
#include "pages.h"
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

void
ctl_stats_compute(tsdn_t *tsdn, ctl_stats_t *st) {
	memset(st, 0, sizeof(*st));
	unsigned n = narenas_total_get();
	size_t base_allocated, base_resident, base_mapped, n_thp;
	for (unsigned i = 0; i < n; i++) {
		arena_t *arena = arena_get_from_ind(i);
		if (arena == NULL)
			continue;
		for (unsigned b = 0; b < NBINS; b++) {
			bin_t *bin = &arena->bins[b];
			malloc_mutex_lock(&bin->lock);
			st->allocated += bin->stats.curregs *
			    bin_infos[b].reg_size;
			malloc_mutex_unlock(&bin->lock);
		}
		for (unsigned l = 0; l < NSIZES - NBINS; l++) {
			st->allocated += atomic_load_zu(
			    &arena->stats.lstats[l].curlextents, ATOMIC_RELAXED)
			    * sz_index2size(NBINS + l);
		}
		size_t nactive = atomic_load_zu(&arena->nactive,
		    ATOMIC_RELAXED);
		size_t ndirty = extents_npages_get(&arena->extents_dirty);
		size_t nmuzzy = extents_npages_get(&arena->extents_muzzy);
		base_stats_get(tsdn, arena->base, &base_allocated,
		    &base_resident, &base_mapped, &n_thp);
		st->active += nactive << LG_PAGE;
		st->metadata += base_allocated;
		st->resident += base_resident + ((nactive + ndirty) << LG_PAGE);
		st->mapped += base_mapped + ((nactive + ndirty + nmuzzy) <<
		    LG_PAGE);
		st->retained += extents_npages_get(&arena->extents_retained) <<
		    LG_PAGE;
	}
}

static int
epoch_ctl(CTL_ARGS) {
	UNUSED uint64_t newval = 0;
	WRITE(newval, uint64_t);
	malloc_mutex_lock(&ctl_mtx);
	if (newp != NULL) {
		ctl_stats_compute(tsd_tsdn(tsd), &ctl_stats);
		ctl_epoch++;
	}
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
CTL_RO(config_prof_libgcc, false, bool)
CTL_RO(config_prof_libunwind, false, bool)
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
	tcache_flush(tsd);
	return 0;
}

static const ctl_node_t thread_tcache_node[] = {
	LEAF("enabled", thread_tcache_enabled_ctl),
	LEAF("flush", thread_tcache_flush_ctl),
};

static const ctl_node_t thread_node[] = {
	LEAF("arena", thread_arena_ctl),
	CHILD("tcache", thread_tcache_node),
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

static int
tcache_flush_ctl(CTL_ARGS) {
	WRITEONLY();
	if (newp == NULL)
		return EFAULT;
	unsigned ind;
	WRITE(ind, unsigned);
	if (tcaches_get(tsd, ind) == NULL)
		return EFAULT;
	tcaches_flush(tsd, ind);
	return 0;
}

static int
tcache_destroy_ctl(CTL_ARGS) {
	WRITEONLY();
	if (newp == NULL)
		return EFAULT;
	unsigned ind;
	WRITE(ind, unsigned);
	if (tcaches_get(tsd, ind) == NULL)
		return EFAULT;
	tcaches_destroy(tsd, ind);
	return 0;
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
	size_t i = mib[1];
	bool initialized;
	if (i == MALLCTL_ARENAS_ALL || i == MALLCTL_ARENAS_DESTROYED)
		initialized = i == MALLCTL_ARENAS_ALL;
	else
		initialized = arena_get_from_ind((unsigned)i) != NULL;
	READ(initialized, bool);
	return 0;
}

static int
arena_i_purge_ctl(CTL_ARGS) {
	VOID();
	size_t i = mib[1];
	unsigned n = narenas_total_get();
	if (i == MALLCTL_ARENAS_ALL) {
		for (unsigned j = 0; j < n; j++) {
			arena_t *arena = arena_get_from_ind(j);
			if (arena != NULL)
				arena_purge_all(tsd_tsdn(tsd), arena);
		}
		return 0;
	}
	arena_t *arena = i < n ? arena_get_from_ind((unsigned)i) : NULL;
	if (arena != NULL)
		arena_purge_all(tsd_tsdn(tsd), arena);
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
	size_t i = mib[1];
	unsigned n = narenas_total_get();
	for (unsigned j = 0; j < n; j++) {
		if (i != MALLCTL_ARENAS_ALL && i != j)
			continue;
		arena_t *arena = arena_get_from_ind(j);
		if (arena != NULL)
			arena_decay(tsd_tsdn(tsd), arena, false, false);
	}
	return 0;
}

static const ctl_node_t arena_i_node[] = {
	LEAF("initialized", arena_i_initialized_ctl),
	LEAF("decay", arena_i_decay_ctl),
	LEAF("purge", arena_i_purge_ctl),
	LEAF("dirty_decay_ms", arena_i_dirty_decay_ms_ctl),
	LEAF("muzzy_decay_ms", arena_i_muzzy_decay_ms_ctl),
};
static const ctl_node_t arena_i_wrap[] = {CHILD(NULL, arena_i_node)};

static const ctl_node_t *
arena_i_index(tsd_t *tsd, const size_t *mib, size_t miblen, size_t i) {
	if (i == MALLCTL_ARENAS_ALL || i == MALLCTL_ARENAS_DESTROYED ||
	    i < narenas_total_get())
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

static const ctl_node_t arenas_node[] = {
	LEAF("narenas", arenas_narenas_ctl),
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

#ifdef JEMALLOC_STATS
/* --- stats.* ------------------------------------------------------------------------------ */

CTL_RO(stats_allocated, ctl_stats.allocated, size_t)
CTL_RO(stats_active, ctl_stats.active, size_t)
CTL_RO(stats_metadata, ctl_stats.metadata, size_t)
CTL_RO(stats_metadata_thp, (size_t)0, size_t)
CTL_RO(stats_resident, ctl_stats.resident, size_t)
CTL_RO(stats_mapped, ctl_stats.mapped, size_t)
CTL_RO(stats_retained, ctl_stats.retained, size_t)

static const ctl_node_t stats_node[] = {
	LEAF("allocated", stats_allocated_ctl),
	LEAF("active", stats_active_ctl),
	LEAF("metadata", stats_metadata_ctl),
	LEAF("metadata_thp", stats_metadata_thp_ctl),
	LEAF("resident", stats_resident_ctl),
	LEAF("mapped", stats_mapped_ctl),
	LEAF("retained", stats_retained_ctl),
};

#endif

/* --- the root --------------------------------------------------------------------------------- */

static const ctl_node_t root_node[] = {
	LEAF("version", version_ctl),
	LEAF("epoch", epoch_ctl),
	CHILD("config", config_node),
	CHILD("opt", opt_node),
	CHILD("thread", thread_node),
	CHILD("tcache", tcache_node),
	INDEXED("arena", arena_i_index),
	CHILD("arenas", arenas_node),
#ifdef JEMALLOC_STATS
	CHILD("stats", stats_node),
#endif
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
		ctl_stats_compute(tsd_tsdn(tsd), &ctl_stats);
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
	ctl_epoch = 1;
	return false;
}



