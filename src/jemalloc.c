/*
 * jemalloc.c: the public entry points, initialisation, thread-to-arena
 * binding, fork handlers and the glibc override.
 *
 * Allocation follows jemalloc 5.1.0's chain (the seed's first trace):
 *   je_malloc -> static_opts_init / dynamic_opts_init -> imalloc ->
 *   malloc_init -> tsd_fetch -> imalloc_body -> compute_size_with_overflow
 *   -> sz_size2index / sz_sa2u -> check_entry_exit_locking ->
 *   imalloc_no_sample -> ipalloct / iallocztm -> arena_malloc ->
 *   arena_malloc_hard -> (bin) or large_malloc / large_palloc
 * and free is je_free -> tsd_fetch_min -> ifree.
 */
#include "jemalloc_internal.h"
#include "arena.h"
#include "background_thread.h"
#include "base.h"
#include "conf.h"
#include "ctl.h"
#include "extent.h"
#include "extent_mmap.h"
#include "jemalloc_inlines.h"
#include "large.h"
#include "pages.h"
#include "prof.h"
#include "rtree.h"
#include "stats.h"
#include "sz.h"
#include "tcache.h"
#include "tsd.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

/* --- public data ------------------------------------------------------------ */

/* The application may define its own (strong) malloc_conf. */
JEMALLOC_EXPORT const char *je_malloc_conf __attribute__((weak));
JEMALLOC_EXPORT void (*je_malloc_message)(void *, const char *s);

/* --- global state ------------------------------------------------------------- */

bool malloc_slow = false;

typedef enum {
	malloc_init_initialized = 0,
	malloc_init_recursible = 1,
	malloc_init_a0_initialized = 2,
	malloc_init_uninitialized = 3
} malloc_init_t;
static malloc_init_t malloc_init_state = malloc_init_uninitialized;

/* The thread running initialisation; others wait for it. */
static pthread_t malloc_initializer;
static bool malloc_initializer_set = false;
#define IS_INITIALIZER (malloc_initializer_set && \
	pthread_equal(malloc_initializer, pthread_self()))

static malloc_mutex_t init_lock = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.name = "init",
	.rank = WITNESS_RANK_INIT
};
/* Protects arena creation and binding decisions. */
static malloc_mutex_t arenas_lock;

static const char *const oom_msg_malloc =
    "<jemalloc>: Error in malloc(): out of memory\n";

void
jemalloc_abort(void) {
	abort();
}

/* --- arenas -------------------------------------------------------------------- */

unsigned
narenas_total_get(void) {
	return atomic_load_u(&narenas_total, ATOMIC_ACQUIRE);
}

static void
arena_set(unsigned ind, arena_t *arena) {
	atomic_store_p(&arenas[ind], arena, ATOMIC_RELEASE);
}

/* Creates arena ind; arenas_lock is held. */
static arena_t *
arena_init_locked(tsdn_t *tsdn, unsigned ind, extent_hooks_t *extent_hooks) {
	if (ind >= MALLOCX_ARENA_LIMIT)
		return NULL;
	if (ind == narenas_total_get())
		atomic_fetch_add_u(&narenas_total, 1, ATOMIC_RELEASE);
	arena_t *arena = arena_get_from_ind(ind);
	if (arena != NULL)
		return arena;
	arena = arena_new(tsdn, ind, extent_hooks);
	if (arena != NULL)
		arena_set(ind, arena);
	return arena;
}

static arena_t *
arena_init(tsdn_t *tsdn, unsigned ind, extent_hooks_t *extent_hooks) {
	malloc_mutex_lock(&arenas_lock);
	arena_t *arena = arena_init_locked(tsdn, ind, extent_hooks);
	malloc_mutex_unlock(&arenas_lock);
	return arena;
}

/* Indices of destroyed manual arenas, for reuse by arenas.create. */
static unsigned arenas_destroyed[MALLOCX_ARENA_LIMIT];
static unsigned narenas_destroyed;

bool
arena_create(tsdn_t *tsdn, extent_hooks_t *extent_hooks, unsigned *r_ind) {
	malloc_mutex_lock(&arenas_lock);
	unsigned ind = narenas_destroyed > 0 ?
	    arenas_destroyed[--narenas_destroyed] : narenas_total_get();
	arena_t *arena = arena_init_locked(tsdn, ind, extent_hooks);
	if (arena == NULL && ind < narenas_total_get() && arena_get_from_ind(ind)
	    == NULL)
		arenas_destroyed[narenas_destroyed++] = ind;
	malloc_mutex_unlock(&arenas_lock);
	if (arena == NULL)
		return true;
	*r_ind = ind;
	return false;
}

bool
arena_destroy(tsd_t *tsd, arena_t *arena) {
	if (arena_is_auto(arena))
		return true;
	if (arena_nthreads_get(arena, false) != 0 || arena_nthreads_get(arena,
	    true) != 0)
		return true;
	arena_reset(tsd, arena);
	/*
	 * ctl's mutex is held until the arena is gone, so that a stats
	 * refresh (which walks the arenas under it) never reads one being
	 * freed.  Its counters live on in
	 * stats.arenas.<MALLCTL_ARENAS_DESTROYED>.
	 */
	ctl_mtx_lock();
	ctl_arena_destroyed_merge_locked(tsd_tsdn(tsd), arena);
	unsigned ind = arena->ind;
	/* Under arenas_lock: its mutexes leave the fork registry. */
	malloc_mutex_lock(&arenas_lock);
	atomic_store_p(&arenas[ind], NULL, ATOMIC_SEQ_CST);
	/* Background threads and memory-limit purges walk the arenas
	 * without ctl_mtx: none may be inside this one as it goes away. */
	arena_walkers_wait();
	arena_destroy_final(tsd, arena);
	arenas_destroyed[narenas_destroyed++] = ind;
	malloc_mutex_unlock(&arenas_lock);
	ctl_mtx_unlock();
	return false;
}

/* Arena ind, created on demand if it is an automatic one. */
arena_t *
arena_get(tsdn_t *tsdn, unsigned ind, bool init_if_missing) {
	if (ind >= MALLOCX_ARENA_LIMIT)
		return NULL;
	arena_t *ret = arena_get_from_ind(ind);
	if (unlikely(ret == NULL) && init_if_missing && ind < narenas_auto)
		ret = arena_init(tsdn, ind,
		    (extent_hooks_t *)&extent_hooks_default);
	return ret;
}

static void
arena_bind(tsd_t *tsd, unsigned ind, bool internal) {
	arena_t *arena = arena_get_from_ind(ind);
	arena_nthreads_inc(arena, internal);
	if (internal)
		tsd->iarena = arena;
	else
		tsd->arena = arena;
}

void
arena_migrate(tsd_t *tsd, unsigned oldind, unsigned newind) {
	arena_t *oldarena = arena_get_from_ind(oldind);
	arena_t *newarena = arena_get_from_ind(newind);
	arena_nthreads_dec(oldarena, false);
	arena_nthreads_inc(newarena, false);
	tsd->arena = newarena;
}

unsigned percpu_arena_limit;

/* Moves the thread (and its cache's stats) to arena ind. */
void
percpu_arena_update(tsd_t *tsd, unsigned ind) {
	arena_t *oldarena = tsd->arena;
	arena_t *newarena = arena_get(tsd_tsdn(tsd), ind, true);
	if (newarena == NULL || oldarena == newarena)
		return;
	arena_migrate(tsd, oldarena->ind, ind);
	if (tsd->tcache_enabled)
		tcache_arena_reassociate(tsd_tsdn(tsd), &tsd->tcache, newarena);
}

static void
arena_unbind(tsd_t *tsd, bool internal) {
	arena_t *arena = internal ? tsd->iarena : tsd->arena;
	if (arena == NULL)
		return;
	arena_nthreads_dec(arena, internal);
	if (internal)
		tsd->iarena = NULL;
	else
		tsd->arena = NULL;
}

void
arena_cleanup(tsd_t *tsd) {
	arena_unbind(tsd, false);
}

void
iarena_cleanup(tsd_t *tsd) {
	arena_unbind(tsd, true);
}

/*
 * Binds the thread to arenas (facts §6.3): each binding takes the
 * initialised automatic arena with the fewest threads, unless it has
 * threads and an automatic slot is still empty, in which case a new arena
 * is created there.  So threads spread over fresh arenas first.
 */
JEMALLOC_NOINLINE arena_t *
arena_choose_hard(tsd_t *tsd, bool internal) {
	if (narenas_auto > 1) {
		unsigned choose[2] = {0, 0};
		malloc_mutex_lock(&arenas_lock);
		for (unsigned j = 0; j < 2; j++) {
			unsigned first_null = narenas_auto;
			for (unsigned i = 1; i < narenas_auto; i++) {
				arena_t *a = arena_get_from_ind(i);
				if (a != NULL) {
					if (arena_nthreads_get(a, j) <
					    arena_nthreads_get(
					    arena_get_from_ind(choose[j]), j))
						choose[j] = i;
				} else if (first_null == narenas_auto) {
					first_null = i;
				}
			}
			if (arena_nthreads_get(arena_get_from_ind(choose[j]), j)
			    == 0 || first_null == narenas_auto) {
				/* Use the least loaded arena. */
			} else {
				arena_t *a = arena_init_locked(tsd_tsdn(tsd),
				    first_null,
				    (extent_hooks_t *)&extent_hooks_default);
				if (a != NULL)
					choose[j] = first_null;
			}
			arena_bind(tsd, choose[j], j != 0);
		}
		malloc_mutex_unlock(&arenas_lock);
	} else {
		arena_bind(tsd, 0, false);
		arena_bind(tsd, 0, true);
	}
	return internal ? tsd->iarena : tsd->arena;
}

/* --- initialisation ----------------------------------------------------------- */

static unsigned
malloc_ncpus(void) {
	/* glibc may allocate in sysconf() before its own tables exist, so ask
	 * the kernel for the affinity mask directly. */
	cpu_set_t set;
	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		int n = CPU_COUNT(&set);
		if (n > 0)
			return (unsigned)n;
	}
	long r = sysconf(_SC_NPROCESSORS_ONLN);
	return r > 0 ? (unsigned)r : 1;
}

static void
malloc_slow_flag_init(void) {
	malloc_slow = (config_fill && (opt_junk_alloc || opt_junk_free ||
	    opt_zero)) || (config_xmalloc && opt_xmalloc);
}

static bool
malloc_initialized(void) {
	return malloc_init_state == malloc_init_initialized;
}

static void jemalloc_prefork(void);
static void jemalloc_postfork_parent(void);
static void jemalloc_postfork_child(void);

static void
stats_print_atexit(void) {
	je_malloc_stats_print(NULL, NULL, opt_stats_print_opts);
}

static bool
malloc_init_hard_a0_locked(void) {
	malloc_initializer = pthread_self();
	malloc_initializer_set = true;

	sz_boot();
	malloc_conf_init();
	if (config_prof)
		prof_boot1();
	if (!config_fill)
		opt_junk_alloc = opt_junk_free = opt_zero = false;
	if (!config_xmalloc)
		opt_xmalloc = false;
	if (opt_stats_print) {
		if (atexit(stats_print_atexit) != 0) {
			malloc_write("<jemalloc>: Error in atexit()\n");
			if (opt_abort)
				jemalloc_abort();
		}
	}
	if (pages_boot())
		return true;
	if (base_boot(NULL))
		return true;
	if (extent_boot())
		return true;
	if (ctl_boot())
		return true;
	arena_boot();
	if (tcache_boot(NULL))
		return true;
	if (malloc_mutex_init(&arenas_lock, "arenas", WITNESS_RANK_ARENAS))
		return true;
	/* Only arena 0 exists until the arena count is known. */
	narenas_auto = 1;
	atomic_store_u(&narenas_total, 0, ATOMIC_RELAXED);
	if (arena_init(NULL, 0, (extent_hooks_t *)&extent_hooks_default) ==
	    NULL)
		return true;
	malloc_init_state = malloc_init_a0_initialized;
	return false;
}

static bool
malloc_init_hard_recursible(void) {
	malloc_init_state = malloc_init_recursible;
	ncpus = malloc_ncpus();
	if (background_thread_boot())
		return true;
	/* pthread_atfork may allocate: arena 0 serves it. */
	if (pthread_atfork(jemalloc_prefork, jemalloc_postfork_parent,
	    jemalloc_postfork_child) != 0) {
		malloc_write("<jemalloc>: Error in pthread_atfork()\n");
		if (opt_abort)
			jemalloc_abort();
		return true;
	}
	return false;
}

static bool
malloc_init_narenas(void) {
	if (opt_percpu_arena != percpu_arena_disabled) {
		if (sched_getcpu() < 0) {
			malloc_printf("<jemalloc>: perCPU arena getcpu() not "
			    "available. Setting narenas to %u.\n", opt_narenas ?
			    opt_narenas : (ncpus > 1 ? ncpus << 2 : 1));
			opt_percpu_arena = percpu_arena_disabled;
		} else {
			unsigned limit = ncpus;
			if (opt_percpu_arena == per_phycpu_arena && ncpus > 1)
				limit = (ncpus + 1) / 2;
			percpu_arena_limit = limit;
			/* Every CPU needs its arena. */
			if (opt_narenas < limit)
				opt_narenas = limit;
		}
	}
	if (opt_narenas == 0)
		opt_narenas = ncpus > 1 ? ncpus << 2 : 1;
	if (opt_narenas > MALLOCX_ARENA_LIMIT - 1)
		opt_narenas = MALLOCX_ARENA_LIMIT - 1;
	narenas_auto = opt_narenas;
	atomic_store_u(&narenas_total, narenas_auto, ATOMIC_RELEASE);
	return false;
}

/* Returns true if this thread should go on to initialise. */
static bool
malloc_init_hard_needed(void) {
	if (malloc_initialized() || (IS_INITIALIZER && malloc_init_state ==
	    malloc_init_recursible)) {
		/* Initialised, or a recursive call from inside init: the
		 * caller proceeds with what exists (arena 0). */
		return false;
	}
	if (malloc_initializer_set && !IS_INITIALIZER) {
		/* Another thread is initialising: wait for it. */
		do {
			malloc_mutex_unlock(&init_lock);
			sched_yield();
			malloc_mutex_lock(&init_lock);
		} while (!malloc_initialized());
		return false;
	}
	return true;
}

static JEMALLOC_NOINLINE bool
malloc_init_hard(void) {
	malloc_mutex_lock(&init_lock);
	if (!malloc_init_hard_needed()) {
		malloc_mutex_unlock(&init_lock);
		return false;
	}
	if (malloc_init_state != malloc_init_a0_initialized &&
	    malloc_init_hard_a0_locked()) {
		malloc_mutex_unlock(&init_lock);
		return true;
	}
	malloc_mutex_unlock(&init_lock);

	/* Recursive allocation needs working tsd from here on. */
	if (malloc_tsd_boot0())
		return true;
	tsd_t *tsd = tsd_fetch();
	if (malloc_init_hard_recursible())
		return true;
	if (config_prof && prof_boot2(tsd))
		return true;

	malloc_mutex_lock(&init_lock);
	pre_reentrancy(tsd);
	if (malloc_init_narenas()) {
		post_reentrancy(tsd);
		malloc_mutex_unlock(&init_lock);
		return true;
	}
	malloc_slow_flag_init();
	malloc_init_state = malloc_init_initialized;
	malloc_mutex_unlock(&init_lock);
	post_reentrancy(tsd);
	malloc_tsd_boot1();
	background_thread_boot_start(tsd);
	return false;
}

/* Returns true on failure. */
JEMALLOC_ALWAYS_INLINE bool
malloc_init(void) {
	if (unlikely(!malloc_initialized()) && malloc_init_hard())
		return true;
	return false;
}

/* Initialise before main(), so that threads never race the first call. */
__attribute__((constructor)) static void
jemalloc_constructor(void) {
	malloc_init();
}

/* --- internal allocation helpers ------------------------------------------------ */

/* Usable size, or 0 if ptr is not an allocation of ours. */
static size_t
ivsalloc(tsdn_t *tsdn, const void *ptr) {
	extent_t *extent = extent_lookup(tsdn, ptr, false);
	if (extent == NULL || extent_state_get(extent) != extent_state_active)
		return 0;
	unsigned szind = extent_szind_get_maybe_invalid(extent);
	if (szind >= NSIZES)
		return 0;
	return sz_index2size(szind);
}

JEMALLOC_COLD void
report_bad_pointer(const char *func, const char *fault, const void *ptr) {
	malloc_printf("<jemalloc>: %s(): %s: %p\n", func, fault, ptr);
	jemalloc_abort();
}

/*
 * Debug-build check that ptr is a live allocation of ours: an address the
 * rtree does not know, an extent that is not in use, or a pointer that is
 * not the start of its region stops the process.
 */
static void
check_dalloc_ptr(tsdn_t *tsdn, const char *func, const void *ptr) {
	extent_t *extent = extent_lookup(tsdn, ptr, false);
	if (extent == NULL)
		report_bad_pointer(func, "invalid pointer (not allocated by "
		    "jemalloc)", ptr);
	if (extent_state_get(extent) != extent_state_active ||
	    extent_szind_get_maybe_invalid(extent) >= NSIZES)
		report_bad_pointer(func, "double free or invalid pointer",
		    ptr);
	if (extent_slab_get(extent)) {
		const bin_info_t *bi =
		    &bin_infos[extent_szind_get_maybe_invalid(extent)];
		size_t regind = bin_regind(bi, extent_addr_get(extent), ptr);
		if ((uintptr_t)extent_addr_get(extent) + regind * bi->reg_size !=
		    (uintptr_t)ptr)
			report_bad_pointer(func, "invalid pointer (inside an "
			    "allocation)", ptr);
	} else if (ptr != extent_addr_get(extent)) {
		report_bad_pointer(func, "invalid pointer (inside an "
		    "allocation)", ptr);
	}
}

JEMALLOC_ALWAYS_INLINE void ifree_elm(tsd_t *tsd, void *ptr,
    rtree_leaf_elm_t *elm, uint64_t bits, tcache_t *tcache, bool slow_path);

JEMALLOC_ALWAYS_INLINE void
ifree(tsd_t *tsd, void *ptr, tcache_t *tcache, bool slow_path) {
	tsdn_t *tsdn = tsd_tsdn(tsd);
	if (config_debug)
		check_dalloc_ptr(tsdn, "free", ptr);
	/* Always on: an address without a radix-tree leaf was never ours
	 * (one test on the slow path instead of a fault). */
	rtree_leaf_elm_t *elm = rtree_leaf_elm_lookup(&extents_rtree,
	    tsd_rtree_ctx(tsd), (uintptr_t)ptr, false, false);
	if (unlikely(elm == NULL)) {
		report_bad_pointer("free", "invalid pointer (not allocated by "
		    "jemalloc)", ptr);
	}
	ifree_elm(tsd, ptr, elm, rtree_leaf_elm_bits_read(elm, false), tcache,
	    slow_path);
}

/* ifree once ptr's radix-tree element elm (which read bits) is known. */
JEMALLOC_ALWAYS_INLINE void
ifree_elm(tsd_t *tsd, void *ptr, rtree_leaf_elm_t *elm, uint64_t bits,
    tcache_t *tcache, bool slow_path) {
	unsigned szind = rtree_leaf_elm_bits_szind_get(bits);
	bool slab = rtree_leaf_elm_bits_slab_get(bits);
	/*
	 * Sanitizer fix (UBSan): count the size only after arena_dalloc has
	 * rejected a freed or foreign page (szind == NSIZES there), which
	 * sz_index2size would read one past the end of its table ("index 232
	 * out of bounds for type 'size_t [232]'") before the double-free
	 * report.  Reading szind's size after the call is still valid: it is
	 * a local copy.
	 */
	unsigned dalloc_szind = szind;
	if (config_prof && unlikely(opt_prof) && !slab)
		dalloc_szind = prof_free_hook(tsd, elm, szind);
	arena_dalloc(tsd_tsdn(tsd), ptr, tcache, dalloc_szind, slab,
	    slow_path);
	if (config_stats)
		tsd->thread_deallocated += sz_index2size(szind);
}

/* Sized free: usize was computed from the caller's size, so small
 * objects need no radix-tree lookup. */
JEMALLOC_ALWAYS_INLINE void
isfree(tsd_t *tsd, void *ptr, size_t usize, tcache_t *tcache, bool slow_path,
    const char *func) {
	tsdn_t *tsdn = tsd_tsdn(tsd);
	if (config_debug) {
		check_dalloc_ptr(tsdn, func, ptr);
		size_t actual = isalloc(tsdn, ptr);
		if (usize != actual) {
			malloc_printf("<jemalloc>: %s(): size mismatch for %p: "
			    "the size passed maps to %zu bytes but the "
			    "allocation has %zu\n", func, ptr, usize, actual);
			jemalloc_abort();
		}
	}
	unsigned szind;
	bool slab;
	if (likely(usize <= SMALL_MAXCLASS) && !(config_prof && opt_prof)) {
		szind = sz_size2index(usize);
		slab = true;
	} else {
		rtree_leaf_elm_t *elm = rtree_leaf_elm_lookup(&extents_rtree,
		    tsd_rtree_ctx(tsd), (uintptr_t)ptr, true, false);
		uint64_t bits = rtree_leaf_elm_bits_read(elm, true);
		szind = rtree_leaf_elm_bits_szind_get(bits);
		slab = rtree_leaf_elm_bits_slab_get(bits);
		/* The real class is at hand: free by it whatever the size
		 * said (a mismatch stops debug builds above). */
		if (config_prof && unlikely(opt_prof) && !slab)
			szind = prof_free_hook(tsd, elm, szind);
	}
	if (config_stats)
		tsd->thread_deallocated += usize;
	arena_dalloc(tsdn, ptr, tcache, szind, slab, slow_path);
}

/* The cache a call uses: the thread's own, none, or an explicit one. */
JEMALLOC_ALWAYS_INLINE tcache_t *
tcache_get_from_ind(tsd_t *tsd, unsigned tcache_ind, bool slow) {
	if (likely(tcache_ind == TCACHE_IND_AUTOMATIC)) {
		if (likely(!slow))
			return &tsd->tcache;
		if (tsd_reentrancy_level_get(tsd) > 0)
			return NULL;
		return tcache_get(tsd);
	}
	if (tcache_ind == TCACHE_IND_NONE)
		return NULL;
	return tcaches_get(tsd, tcache_ind);
}

/* --- the allocation pipeline --------------------------------------------------- */

/* Properties of the entry point (fixed per public function). */
typedef struct static_opts_s {
	bool may_overflow;		/* num_items * item_size may overflow */
	bool bump_empty_alloc;		/* size 0 becomes 1 */
	bool assert_nonempty_alloc;	/* size 0 is a caller error */
	bool null_out_result_on_error;
	bool set_errno_on_error;
	size_t min_alignment;		/* below it: invalid alignment */
	const char *oom_string;		/* printed with xmalloc */
	const char *invalid_alignment_string;
	bool slow;
	/* Profiling: where the public function's return address lies (so
	 * backtraces start at the application's frame). */
	void **ra_slot;
} static_opts_t;

/* Profiling builds: the public function's return-address slot (its
 * frame pointer, which this gives it, plus one word). */
#define PROF_RA_SLOT() ((void **)__builtin_frame_address(0) + 1)
#define PROF_SET_RA(sopts) do {						\
	if (config_prof)						\
		(sopts).ra_slot = PROF_RA_SLOT();			\
} while (0)

/* Arguments of this one call. */
typedef struct dynamic_opts_s {
	void **result;
	size_t num_items;
	size_t item_size;
	size_t alignment;
	bool zero;
	unsigned tcache_ind;
	unsigned arena_ind;
} dynamic_opts_t;

JEMALLOC_ALWAYS_INLINE void
static_opts_init(static_opts_t *static_opts) {
	static_opts->may_overflow = false;
	static_opts->bump_empty_alloc = false;
	static_opts->assert_nonempty_alloc = false;
	static_opts->null_out_result_on_error = false;
	static_opts->set_errno_on_error = false;
	static_opts->min_alignment = 0;
	static_opts->oom_string = "";
	static_opts->invalid_alignment_string = "";
	static_opts->slow = false;
	static_opts->ra_slot = NULL;
}

JEMALLOC_ALWAYS_INLINE void
dynamic_opts_init(dynamic_opts_t *dynamic_opts) {
	dynamic_opts->result = NULL;
	dynamic_opts->num_items = 0;
	dynamic_opts->item_size = 0;
	dynamic_opts->alignment = 0;
	dynamic_opts->zero = false;
	dynamic_opts->tcache_ind = TCACHE_IND_AUTOMATIC;
	dynamic_opts->arena_ind = ARENA_IND_AUTOMATIC;
}

/* Returns true on overflow. */
JEMALLOC_ALWAYS_INLINE bool
compute_size_with_overflow(bool may_overflow, dynamic_opts_t *dopts,
    size_t *size) {
	if (!may_overflow) {
		*size = dopts->item_size;
		return false;
	}
	/* No division when both factors fit in the low half of size_t. */
	static const size_t high_bits = SIZE_T_MAX << (sizeof(size_t) * 8 / 2);
	*size = dopts->item_size * dopts->num_items;
	if (unlikely(*size == 0))
		return dopts->num_items != 0 && dopts->item_size != 0;
	if (likely(((dopts->num_items | dopts->item_size) & high_bits) == 0))
		return false;
	return *size / dopts->item_size != dopts->num_items;
}

/* Debug builds: no allocator lock may be held across the API boundary. */
JEMALLOC_ALWAYS_INLINE void
check_entry_exit_locking(tsdn_t *tsdn) {
	(void)tsdn;
}

JEMALLOC_ALWAYS_INLINE void *
imalloc_no_sample(static_opts_t *sopts, dynamic_opts_t *dopts, tsd_t *tsd,
    size_t size, size_t usize, unsigned ind) {
	tcache_t *tcache = tcache_get_from_ind(tsd, dopts->tcache_ind,
	    sopts->slow);
	arena_t *arena;
	if (dopts->arena_ind == ARENA_IND_AUTOMATIC) {
		arena = NULL;
	} else {
		arena = arena_get(tsd_tsdn(tsd), dopts->arena_ind, true);
		if (unlikely(arena == NULL))
			return NULL;
		/* A manual arena is served by its own bins, never by the
		 * thread's automatic cache (see doc/deviations.md). */
		if (dopts->tcache_ind == TCACHE_IND_AUTOMATIC &&
		    !arena_is_auto(arena))
			tcache = NULL;
	}
	if (unlikely(dopts->alignment != 0)) {
		return ipalloct(tsd_tsdn(tsd), usize, dopts->alignment,
		    dopts->zero, tcache, arena);
	}
	return iallocztm(tsd_tsdn(tsd), size, ind, dopts->zero, tcache, false,
	    arena, sopts->slow);
}

/*
 * A sampled allocation (profiling builds).  Large sizes are served as
 * usual (they have an extent of their own).  Small sizes are served as a
 * LARGE_MINCLASS object, which prof_malloc_sampled then promotes: from
 * the thread cache when no alignment beyond a cache line is asked for
 * (such objects come back to the cache on free), otherwise straight from
 * the arena.  It takes the options by value, so that the callers' option
 * structs never leave registers.
 */
static JEMALLOC_NOINLINE void *
imalloc_sample(tsd_t *tsd, size_t size, size_t usize, unsigned ind,
    size_t alignment, bool zero, unsigned tcache_ind, unsigned arena_ind,
    bool slow) {
	static_opts_t sopts;
	dynamic_opts_t dopts;
	static_opts_init(&sopts);
	sopts.slow = slow;
	dynamic_opts_init(&dopts);
	dopts.alignment = alignment;
	dopts.zero = zero;
	dopts.tcache_ind = tcache_ind;
	dopts.arena_ind = arena_ind;
	if (usize > SMALL_MAXCLASS)
		return imalloc_no_sample(&sopts, &dopts, tsd, size, usize, ind);
	if (alignment <= CACHELINE) {
		dopts.alignment = 0;
		return imalloc_no_sample(&sopts, &dopts, tsd, LARGE_MINCLASS,
		    LARGE_MINCLASS, sz_size2index(LARGE_MINCLASS));
	}
	tsdn_t *tsdn = tsd_tsdn(tsd);
	arena_t *arena = NULL;
	if (arena_ind != ARENA_IND_AUTOMATIC) {
		arena = arena_get(tsdn, arena_ind, true);
		if (unlikely(arena == NULL))
			return NULL;
	}
	arena = arena_choose(tsd, arena);
	if (unlikely(arena == NULL))
		return NULL;
	return large_palloc(tsdn, arena, LARGE_MINCLASS, alignment, zero);
}

JEMALLOC_ALWAYS_INLINE int
imalloc_body(static_opts_t *sopts, dynamic_opts_t *dopts, tsd_t *tsd) {
	void *allocation;
	size_t size = 0;
	unsigned ind = 0;
	size_t usize = 0;

	if (unlikely(dopts->alignment < sopts->min_alignment ||
	    (dopts->alignment & (dopts->alignment - 1)) != 0))
		goto label_invalid_alignment;
	if (unlikely(compute_size_with_overflow(sopts->may_overflow, dopts,
	    &size)))
		goto label_oom;
	if (unlikely(size == 0) && (sopts->bump_empty_alloc ||
	    sopts->assert_nonempty_alloc))
		size = 1;

	if (dopts->alignment == 0) {
		ind = sz_size2index(size);
		if (unlikely(ind >= NSIZES))
			goto label_oom;
		usize = sz_index2size(ind);
	} else {
		usize = sz_sa2u(size, dopts->alignment);
		if (unlikely(usize == 0 || usize > LARGE_MAXCLASS))
			goto label_oom;
	}

	check_entry_exit_locking(tsd_tsdn(tsd));
	if (config_prof && unlikely(prof_sample_check(tsd, usize))) {
		allocation = imalloc_sample(tsd, size, usize, ind,
		    dopts->alignment, dopts->zero, dopts->tcache_ind,
		    dopts->arena_ind, sopts->slow);
		if (allocation != NULL)
			prof_malloc_sampled(tsd, allocation, usize,
			    sopts->ra_slot);
	} else {
		allocation = imalloc_no_sample(sopts, dopts, tsd, size, usize,
		    ind);
	}
	if (unlikely(allocation == NULL))
		goto label_oom;
	if (config_stats)
		tsd->thread_allocated += usize;
	if (config_prof && unlikely(prof_dump_pending))
		prof_pending_dumps(tsd);
	*dopts->result = allocation;
	return 0;

label_oom:
	if (unlikely(sopts->slow) && config_xmalloc && unlikely(opt_xmalloc)) {
		malloc_write(sopts->oom_string);
		jemalloc_abort();
	}
	if (sopts->set_errno_on_error)
		set_errno(ENOMEM);
	if (sopts->null_out_result_on_error)
		*dopts->result = NULL;
	return ENOMEM;

label_invalid_alignment:
	if (config_xmalloc && unlikely(opt_xmalloc)) {
		malloc_write(sopts->invalid_alignment_string);
		jemalloc_abort();
	}
	if (sopts->set_errno_on_error)
		set_errno(EINVAL);
	if (sopts->null_out_result_on_error)
		*dopts->result = NULL;
	return EINVAL;
}

JEMALLOC_ALWAYS_INLINE int
imalloc(static_opts_t *sopts, dynamic_opts_t *dopts) {
	if (unlikely(malloc_init())) {
		if (sopts->set_errno_on_error)
			set_errno(ENOMEM);
		if (sopts->null_out_result_on_error)
			*dopts->result = NULL;
		return ENOMEM;
	}
	tsd_t *tsd = tsd_fetch();
	sopts->slow = !tsd_fast(tsd);
	return imalloc_body(sopts, dopts, tsd);
}

/* --- realloc ---------------------------------------------------------------------- */

/*
 * Resizes ptr (usable size oldsize) to size with alignment: in place when
 * possible, otherwise by moving.  NULL on failure, ptr untouched.
 */
static void *
iralloct(tsd_t *tsd, void *ptr, size_t oldsize, size_t size, size_t alignment,
    bool zero, tcache_t *tcache, arena_t *arena, size_t *r_usize,
    void **ra_slot) {
	tsdn_t *tsdn = tsd_tsdn(tsd);
	size_t usize = alignment == 0 ? sz_s2u(size) : sz_sa2u(size,
	    alignment);
	if (unlikely(usize == 0 || usize > LARGE_MAXCLASS))
		return NULL;
	/*
	 * Profiling: the result is a new allocation for sampling (as in
	 * 5.1.0), and a sampled object always moves, so that its record
	 * and promoted extent go with the old pointer.
	 */
	bool sample = false, move = false;
	if (config_prof && unlikely(opt_prof)) {
		move = prof_sampled(tsdn, ptr);
		sample = prof_sample_check(tsd, usize);
		move |= sample;
	}
	if (!move && (alignment == 0 || ((uintptr_t)ptr & (alignment - 1)) ==
	    0) && !arena_ralloc_no_move(tsdn, ptr, oldsize, usize, 0, zero)) {
		*r_usize = isalloc(tsdn, ptr);
		if (config_stats) {
			tsd->thread_allocated += *r_usize;
			tsd->thread_deallocated += oldsize;
		}
		return ptr;
	}
	void *p;
	if (config_prof && sample && usize <= SMALL_MAXCLASS) {
		/* Promoted by prof_malloc_sampled (see imalloc_sample). */
		p = alignment <= CACHELINE ? iallocztm(tsdn, LARGE_MINCLASS,
		    sz_size2index(LARGE_MINCLASS), zero, tcache, false, arena,
		    true) : ipalloct(tsdn, LARGE_MINCLASS, alignment, zero,
		    tcache, arena);
	} else if (alignment <= QUANTUM) {
		unsigned ind = sz_size2index(usize);
		p = iallocztm(tsdn, usize, ind, zero, tcache, false, arena,
		    true);
	} else {
		p = ipalloct(tsdn, usize, alignment, zero, tcache, arena);
	}
	if (p == NULL)
		return NULL;
	size_t copysize = usize < oldsize ? usize : oldsize;
	memcpy(p, ptr, copysize);
	ifree(tsd, ptr, tcache, true);	/* counts oldsize as deallocated */
	if (config_prof && sample)
		prof_malloc_sampled(tsd, p, usize, ra_slot);
	if (config_stats)
		tsd->thread_allocated += usize;
	*r_usize = usize;
	return p;
}

/* --- public functions ------------------------------------------------------------ */

/* The seed's malloc(): static_opts_init ... imalloc -> imalloc_body. */
static JEMALLOC_NOINLINE void *
malloc_default(size_t size) {
	void *ret;
	static_opts_t sopts;
	dynamic_opts_t dopts;

	static_opts_init(&sopts);
	PROF_SET_RA(sopts);
	dynamic_opts_init(&dopts);
	sopts.bump_empty_alloc = true;
	sopts.null_out_result_on_error = true;
	sopts.set_errno_on_error = true;
	sopts.oom_string = oom_msg_malloc;
	dopts.result = &ret;
	dopts.num_items = 1;
	dopts.item_size = size;
	imalloc(&sopts, &dopts);
	return ret;
}

#ifdef JEMALLOC_PROF
/*
 * Profiling builds: malloc()'s inline path ran out of its sample count
 * (it has counted this call).  A sampled allocation is served as
 * imalloc_sample serves a small size, without the general pipeline;
 * anything else (the thread's first count, profiling inactive, no
 * memory) hands the bytes back to the count and takes malloc_default,
 * which counts them again.
 */
static JEMALLOC_NOINLINE void *
malloc_sample(size_t size) {
	tsd_t *tsd = tsd_fetch_min();
	unsigned ind = sz_size2index(size);
	size_t usize = sz_index2size(ind);
	if (likely(tsd_fast(tsd) && prof_sample_hard(tsd, usize))) {
		/* A small size: a LARGE_MINCLASS object from the thread
		 * cache, promoted by prof_malloc_sampled. */
		static_opts_t sopts;
		dynamic_opts_t dopts;
		static_opts_init(&sopts);
		dynamic_opts_init(&dopts);
		void *ret = imalloc_no_sample(&sopts, &dopts, tsd,
		    LARGE_MINCLASS, LARGE_MINCLASS,
		    sz_size2index(LARGE_MINCLASS));
		if (likely(ret != NULL)) {
			prof_malloc_sampled(tsd, ret, usize, PROF_RA_SLOT());
			if (config_stats)
				tsd->thread_allocated += usize;
			if (unlikely(prof_dump_pending))
				prof_pending_dumps(tsd);
			return ret;
		}
	}
	/* (INT64_MAX: a thread that does not sample.) */
	if (tsd->prof_sample_left <= INT64_MAX - (int64_t)usize)
		tsd->prof_sample_left += (int64_t)usize;
	return malloc_default(size);
}
#endif

/*
 * malloc() of a small size by a warm thread: size class by table, one pop
 * from the thread cache's stack.  Misses, low-water marks, the GC tick,
 * sizes above 4 KiB and every slow-state thread go to malloc_default.
 * The debug build always takes malloc_default, so that backtraces show
 * the seed's chain.
 */
JEMALLOC_EXPORT void *
je_malloc(size_t size) {
	if (!config_debug) {
		tsd_t TSD_FAST_AS *tsd = tsd_fast_get();
		if (likely(size <= LOOKUP_MAXCLASS && tsd->state ==
		    tsd_state_nominal)) {
			/* size_t: no zero extension before indexing. */
			size_t ind = sz_size2index_lookup(size);
			cache_bin_t TSD_FAST_AS *bin =
			    (cache_bin_t TSD_FAST_AS *)((uintptr_t)
			    tsd->tcache.bins_small + (size_t)ind *
			    sizeof(cache_bin_t));
			void **head = bin->stack_head;
			if (likely(head != bin->low_water)) {
				/* Read before the stores below, which GCC
				 * cannot tell apart from the size table. */
				size_t usize = sz_index2size_tab[ind];
#ifdef JEMALLOC_PROF
				/*
				 * Profiling builds: the heap profile's byte
				 * count takes the GC tick's place, and the
				 * inline free ticks twice instead, so that
				 * the instruction count stays the same with
				 * prof:false (see doc/deviations.md).
				 */
				TSD_SUB_OR_GOTO(tsd->prof_sample_left, usize,
				    label_sample);
#else
				TSD_TICK_OR_GOTO(tsd->tcache.gc_ticker,
				    label_slow);
#endif
				bin->stack_head = head + 1;
				if (config_stats) {
					tsd->tcache.nrequests[ind]++;
					tsd->thread_allocated += usize;
				}
				return *head;
			}
		}
	}
label_slow: __attribute__((unused));	/* profiling builds: no goto */
	return malloc_default(size);
#ifdef JEMALLOC_PROF
label_sample:
	return malloc_sample(size);
#endif
}

JEMALLOC_EXPORT int
je_posix_memalign(void **memptr, size_t alignment, size_t size) {
	static_opts_t sopts;
	dynamic_opts_t dopts;

	static_opts_init(&sopts);
	PROF_SET_RA(sopts);
	dynamic_opts_init(&dopts);
	sopts.bump_empty_alloc = true;
	sopts.min_alignment = sizeof(void *);
	sopts.oom_string = "<jemalloc>: Error allocating aligned memory: out "
	    "of memory\n";
	sopts.invalid_alignment_string = "<jemalloc>: Error allocating "
	    "aligned memory: invalid alignment\n";
	dopts.result = memptr;
	dopts.num_items = 1;
	dopts.item_size = size;
	dopts.alignment = alignment;
	return imalloc(&sopts, &dopts);
}

JEMALLOC_EXPORT void *
je_aligned_alloc(size_t alignment, size_t size) {
	void *ret;
	static_opts_t sopts;
	dynamic_opts_t dopts;

	static_opts_init(&sopts);
	PROF_SET_RA(sopts);
	dynamic_opts_init(&dopts);
	sopts.bump_empty_alloc = true;
	sopts.null_out_result_on_error = true;
	sopts.set_errno_on_error = true;
	sopts.min_alignment = 1;
	sopts.oom_string = "<jemalloc>: Error allocating aligned memory: out "
	    "of memory\n";
	sopts.invalid_alignment_string = "<jemalloc>: Error allocating "
	    "aligned memory: invalid alignment\n";
	dopts.result = &ret;
	dopts.num_items = 1;
	dopts.item_size = size;
	dopts.alignment = alignment;
	imalloc(&sopts, &dopts);
	return ret;
}

JEMALLOC_EXPORT void *
je_calloc(size_t num, size_t size) {
	void *ret;
	static_opts_t sopts;
	dynamic_opts_t dopts;

	static_opts_init(&sopts);
	PROF_SET_RA(sopts);
	dynamic_opts_init(&dopts);
	sopts.may_overflow = true;
	sopts.bump_empty_alloc = true;
	sopts.null_out_result_on_error = true;
	sopts.set_errno_on_error = true;
	sopts.oom_string = "<jemalloc>: Error in calloc(): out of memory\n";
	dopts.result = &ret;
	dopts.num_items = num;
	dopts.item_size = size;
	dopts.zero = true;
	imalloc(&sopts, &dopts);
	return ret;
}

static void *
realloc_impl(void *ptr, size_t size, void **ra_slot) {
	if (unlikely(ptr == NULL))
		return je_malloc(size);
	if (unlikely(size == 0)) {
		/* 5.1.0 (and 5.3's zero_realloc:free): free and return NULL. */
		je_free(ptr);
		return NULL;
	}
	tsd_t *tsd = tsd_fetch();
	tsdn_t *tsdn = tsd_tsdn(tsd);
	if (config_debug)
		check_dalloc_ptr(tsdn, "realloc", ptr);
	size_t old_usize = isalloc(tsdn, ptr);
	size_t usize;
	tcache_t *tcache = tcache_get_from_ind(tsd, TCACHE_IND_AUTOMATIC,
	    !tsd_fast(tsd));
	void *ret = iralloct(tsd, ptr, old_usize, size, 0, false, tcache, NULL,
	    &usize, ra_slot);
	if (unlikely(ret == NULL)) {
		if (config_xmalloc && unlikely(opt_xmalloc)) {
			malloc_write("<jemalloc>: Error in realloc(): out of "
			    "memory\n");
			jemalloc_abort();
		}
		set_errno(ENOMEM);
		return NULL;
	}
	return ret;
}

JEMALLOC_EXPORT void *
je_realloc(void *ptr, size_t size) {
	return realloc_impl(ptr, size, config_prof ? PROF_RA_SLOT() : NULL);
}

/* The seed's free(): tsd_fetch_min -> ifree. */
static JEMALLOC_NOINLINE void
free_default(void *ptr) {
	if (likely(ptr != NULL)) {
		tsd_t *tsd = tsd_fetch_min();
		if (likely(tsd_fast(tsd))) {
			ifree(tsd, ptr, &tsd->tcache, false);
		} else {
			tcache_t *tcache = tsd_reentrancy_level_get(tsd) == 0 ?
			    tcache_get(tsd) : NULL;
			ifree(tsd, ptr, tcache, true);
		}
	}
}

/*
 * free() of a small object by a warm thread: one radix-tree cache probe for
 * the size class, one push onto the thread cache's stack.  Everything else
 * (NULL, large objects, a cold rtree cache, a full bin, the GC tick, debug
 * checks) goes to free_default.
 */
JEMALLOC_EXPORT void
je_free(void *ptr) {
	if (!config_debug) {
		tsd_t TSD_FAST_AS *tsd = tsd_fast_get();
		uintptr_t key = (uintptr_t)ptr;
		rtree_ctx_cache_elm_t TSD_FAST_AS *c =
		    &tsd->rtree_ctx.cache[rtree_cache_slot(key)];
		if (likely(tsd->state == tsd_state_nominal && c->leafkey ==
		    rtree_leafkey(key))) {
			uint64_t bits = rtree_leaf_elm_bits_read(
			    &c->leaf[rtree_leaf_subkey(key)], true);
			/* The slab bit, not szind < NBINS: a page nobody
			 * registered reads as zero, i.e. class 0. */
			size_t szind = (size_t)rtree_leaf_elm_bits_szind_get(
			    bits);
			if (likely(rtree_leaf_elm_bits_slab_get(bits))) {
				/* Integer arithmetic: GCC re-derives
				 * address-space pointers per use. */
				cache_bin_t TSD_FAST_AS *bin =
				    (cache_bin_t TSD_FAST_AS *)((uintptr_t)
				    tsd->tcache.bins_small + szind *
				    sizeof(cache_bin_t));
				void **head = bin->stack_head;
				if (likely(head != bin->full)) {
#ifdef JEMALLOC_PROF
					/* For the inline malloc's tick too
					 * (see je_malloc). */
					TSD_TICK2_OR_GOTO(
					    tsd->tcache.gc_ticker, label_slow);
#else
					TSD_TICK_OR_GOTO(tsd->tcache.gc_ticker,
					    label_slow);
#endif
					bin->stack_head = head - 1;
					head[-1] = ptr;
					if (config_stats) {
						tsd->thread_deallocated +=
						    sz_index2size((unsigned)
						    szind);
					}
					return;
				}
			}
		}
	}
label_slow:
	free_default(ptr);
}

JEMALLOC_EXPORT void *
je_memalign(size_t alignment, size_t size) {
	void *ret;
	static_opts_t sopts;
	dynamic_opts_t dopts;

	static_opts_init(&sopts);
	PROF_SET_RA(sopts);
	dynamic_opts_init(&dopts);
	sopts.bump_empty_alloc = true;
	sopts.min_alignment = 1;
	sopts.oom_string = "<jemalloc>: Error allocating aligned memory: out "
	    "of memory\n";
	sopts.invalid_alignment_string = "<jemalloc>: Error allocating "
	    "aligned memory: invalid alignment\n";
	sopts.null_out_result_on_error = true;
	dopts.result = &ret;
	dopts.num_items = 1;
	dopts.item_size = size;
	dopts.alignment = alignment;
	imalloc(&sopts, &dopts);
	return ret;
}

JEMALLOC_EXPORT void *
je_valloc(size_t size) {
	void *ret;
	static_opts_t sopts;
	dynamic_opts_t dopts;

	static_opts_init(&sopts);
	PROF_SET_RA(sopts);
	dynamic_opts_init(&dopts);
	sopts.bump_empty_alloc = true;
	sopts.null_out_result_on_error = true;
	sopts.min_alignment = PAGE;
	sopts.oom_string = "<jemalloc>: Error allocating aligned memory: out "
	    "of memory\n";
	sopts.invalid_alignment_string = "<jemalloc>: Error allocating "
	    "aligned memory: invalid alignment\n";
	dopts.result = &ret;
	dopts.num_items = 1;
	dopts.item_size = size;
	dopts.alignment = PAGE;
	imalloc(&sopts, &dopts);
	return ret;
}

/* --- the *allocx() API ----------------------------------------------------------- */

static void
mallocx_flags_decode(int flags, dynamic_opts_t *dopts) {
	if ((flags & MALLOCX_LG_ALIGN_MASK) != 0)
		dopts->alignment = MALLOCX_ALIGN_GET_SPECIFIED(flags);
	dopts->zero = MALLOCX_ZERO_GET(flags);
	if ((flags & MALLOCX_TCACHE_MASK) != 0)
		dopts->tcache_ind = MALLOCX_TCACHE_GET(flags);
	if ((flags & MALLOCX_ARENA_MASK) != 0)
		dopts->arena_ind = MALLOCX_ARENA_GET(flags);
}

JEMALLOC_EXPORT void *
je_mallocx(size_t size, int flags) {
	void *ret;
	static_opts_t sopts;
	dynamic_opts_t dopts;

	static_opts_init(&sopts);
	PROF_SET_RA(sopts);
	dynamic_opts_init(&dopts);
	/* Size 0 is undefined for mallocx(); treated as 1 (see doc/). */
	sopts.assert_nonempty_alloc = true;
	sopts.null_out_result_on_error = true;
	sopts.oom_string = "<jemalloc>: Error in mallocx(): out of memory\n";
	dopts.result = &ret;
	dopts.num_items = 1;
	dopts.item_size = size;
	if (unlikely(flags != 0))
		mallocx_flags_decode(flags, &dopts);
	imalloc(&sopts, &dopts);
	return ret;
}

static arena_t *
flags_arena(tsd_t *tsd, int flags, bool *err) {
	*err = false;
	if ((flags & MALLOCX_ARENA_MASK) == 0)
		return NULL;
	arena_t *arena = arena_get(tsd_tsdn(tsd), MALLOCX_ARENA_GET(flags),
	    true);
	if (arena == NULL)
		*err = true;
	return arena;
}

JEMALLOC_EXPORT void *
je_rallocx(void *ptr, size_t size, int flags) {
	assert(ptr != NULL);
	if (unlikely(size == 0))
		size = 1;
	tsd_t *tsd = tsd_fetch();
	tsdn_t *tsdn = tsd_tsdn(tsd);
	size_t alignment = MALLOCX_ALIGN_GET(flags);
	bool zero = flags & MALLOCX_ZERO;
	bool err;
	arena_t *arena = flags_arena(tsd, flags, &err);
	if (err)
		return NULL;
	if (config_debug)
		check_dalloc_ptr(tsdn, "rallocx", ptr);
	size_t old_usize = isalloc(tsdn, ptr);
	size_t usize;
	unsigned tcache_ind = (flags & MALLOCX_TCACHE_MASK) != 0 ?
	    MALLOCX_TCACHE_GET(flags) : TCACHE_IND_AUTOMATIC;
	tcache_t *tcache = tcache_get_from_ind(tsd, tcache_ind, true);
	if (arena != NULL && !arena_is_auto(arena) && tcache_ind ==
	    TCACHE_IND_AUTOMATIC)
		tcache = NULL;
	void *p = iralloct(tsd, ptr, old_usize, size, alignment, zero, tcache,
	    arena, &usize, config_prof ? PROF_RA_SLOT() : NULL);
	if (unlikely(p == NULL)) {
		if (config_xmalloc && unlikely(opt_xmalloc)) {
			malloc_write("<jemalloc>: Error in rallocx(): out of "
			    "memory\n");
			jemalloc_abort();
		}
		return NULL;
	}
	return p;
}

JEMALLOC_EXPORT size_t
je_xallocx(void *ptr, size_t size, size_t extra, int flags) {
	assert(ptr != NULL);
	tsd_t *tsd = tsd_fetch();
	tsdn_t *tsdn = tsd_tsdn(tsd);
	size_t alignment = MALLOCX_ALIGN_GET(flags);
	bool zero = flags & MALLOCX_ZERO;
	if (config_debug)
		check_dalloc_ptr(tsdn, "xallocx", ptr);
	size_t old_usize = isalloc(tsdn, ptr);
	size_t usize = old_usize;

	if (unlikely(size > LARGE_MAXCLASS))
		goto label_done;
	if (unlikely(LARGE_MAXCLASS - size < extra))
		extra = LARGE_MAXCLASS - size;
	if (alignment != 0 && ((uintptr_t)ptr & (alignment - 1)) != 0)
		goto label_done;
	/* Profiling: a sampled object keeps its extent and size. */
	if (config_prof && unlikely(opt_prof) && prof_sampled(tsdn, ptr))
		goto label_done;
	if (arena_ralloc_no_move(tsdn, ptr, old_usize, size, extra, zero))
		goto label_done;
	usize = isalloc(tsdn, ptr);
	if (config_stats) {
		tsd->thread_allocated += usize;
		tsd->thread_deallocated += old_usize;
	}
label_done:
	return usize;
}

JEMALLOC_EXPORT size_t
je_sallocx(const void *ptr, int flags) {
	assert(ptr != NULL);
	tsdn_t *tsdn = tsd_tsdn(tsd_fetch_min());
	if (config_debug)
		return ivsalloc(tsdn, ptr);
	return isalloc(tsdn, ptr);
}

JEMALLOC_EXPORT void
je_dallocx(void *ptr, int flags) {
	assert(ptr != NULL);
	tsd_t *tsd = tsd_fetch_min();
	unsigned tcache_ind = (flags & MALLOCX_TCACHE_MASK) != 0 ?
	    MALLOCX_TCACHE_GET(flags) : TCACHE_IND_AUTOMATIC;
	bool slow = !tsd_fast(tsd);
	ifree(tsd, ptr, tcache_get_from_ind(tsd, tcache_ind, slow), slow);
}

static size_t
inallocx(size_t size, int flags) {
	size_t alignment = MALLOCX_ALIGN_GET(flags);
	if (likely(alignment == 0))
		return sz_s2u(size);
	return sz_sa2u(size, alignment);
}

JEMALLOC_EXPORT void
je_sdallocx(void *ptr, size_t size, int flags) {
	assert(ptr != NULL);
	tsd_t *tsd = tsd_fetch_min();
	size_t usize = inallocx(size == 0 ? 1 : size, flags);
	unsigned tcache_ind = (flags & MALLOCX_TCACHE_MASK) != 0 ?
	    MALLOCX_TCACHE_GET(flags) : TCACHE_IND_AUTOMATIC;
	bool slow = !tsd_fast(tsd);
	isfree(tsd, ptr, usize, tcache_get_from_ind(tsd, tcache_ind, slow), slow,
	    "sdallocx");
}

JEMALLOC_EXPORT size_t
je_nallocx(size_t size, int flags) {
	if (unlikely(malloc_init()))
		return 0;
	size_t usize = inallocx(size == 0 ? 1 : size, flags);
	if (unlikely(usize == 0 || usize > LARGE_MAXCLASS))
		return 0;
	return usize;
}

JEMALLOC_EXPORT size_t
je_malloc_usable_size(JEMALLOC_USABLE_SIZE_CONST void *ptr) {
	if (unlikely(ptr == NULL))
		return 0;
	if (unlikely(malloc_init()))
		return 0;
	tsdn_t *tsdn = tsd_tsdn(tsd_fetch_min());
	if (config_debug)
		return ivsalloc(tsdn, ptr);
	return isalloc(tsdn, ptr);
}

/* --- mallctl and statistics --------------------------------------------------- */

JEMALLOC_EXPORT int
je_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp,
    size_t newlen) {
	if (unlikely(malloc_init()))
		return EAGAIN;
	tsd_t *tsd = tsd_fetch();
	return ctl_byname(tsd, name, oldp, oldlenp, newp, newlen);
}

JEMALLOC_EXPORT int
je_mallctlnametomib(const char *name, size_t *mibp, size_t *miblenp) {
	if (unlikely(malloc_init()))
		return EAGAIN;
	tsd_t *tsd = tsd_fetch();
	return ctl_nametomib(tsd, name, mibp, miblenp);
}

JEMALLOC_EXPORT int
je_mallctlbymib(const size_t *mib, size_t miblen, void *oldp, size_t *oldlenp,
    void *newp, size_t newlen) {
	if (unlikely(malloc_init()))
		return EAGAIN;
	tsd_t *tsd = tsd_fetch();
	return ctl_bymib(tsd, mib, miblen, oldp, oldlenp, newp, newlen);
}

JEMALLOC_EXPORT void
je_malloc_stats_print(void (*write_cb)(void *, const char *), void *cbopaque,
    const char *opts) {
	if (unlikely(malloc_init()))
		return;
	tsd_t *tsd = tsd_fetch();
	stats_print(tsd, write_cb, cbopaque, opts);
}

/* --- glibc extensions and override --------------------------------------------- */

#ifdef JEMALLOC_IS_MALLOC
JEMALLOC_EXPORT void *pvalloc(size_t size);

/* pvalloc: page-aligned, size rounded up to whole pages (glibc). */
JEMALLOC_EXPORT void *
pvalloc(size_t size) {
	size_t psize = size == 0 ? PAGE : PAGE_CEILING(size);
	if (unlikely(psize < size)) {
		set_errno(ENOMEM);
		return NULL;
	}
	return je_valloc(psize);
}

JEMALLOC_EXPORT void *
reallocarray(void *ptr, size_t nmemb, size_t size) {
	size_t total;
	if (unlikely(__builtin_mul_overflow(nmemb, size, &total))) {
		set_errno(ENOMEM);
		return NULL;
	}
	return je_realloc(ptr, total);
}

/*
 * glibc's internal entry points, so that nothing in the process (static
 * glibc callers, RTLD_DEEPBIND libraries) falls back to glibc's heap.
 */
#define ALIAS(sym) __attribute__((alias(#sym), used, copy(sym)))
JEMALLOC_EXPORT void *__libc_malloc(size_t size) ALIAS(malloc);
JEMALLOC_EXPORT void *__libc_calloc(size_t n, size_t size) ALIAS(calloc);
JEMALLOC_EXPORT void *__libc_realloc(void *ptr, size_t size) ALIAS(realloc);
JEMALLOC_EXPORT void __libc_free(void *ptr) ALIAS(free);
JEMALLOC_EXPORT void *__libc_memalign(size_t align, size_t size)
    ALIAS(memalign);
JEMALLOC_EXPORT void *__libc_valloc(size_t size) ALIAS(valloc);
JEMALLOC_EXPORT int __posix_memalign(void **r, size_t a, size_t s)
    ALIAS(posix_memalign);
#undef ALIAS
#endif

/* --- entry points of the C++ operators ------------------------------------------ */

#ifdef JEMALLOC_ENABLE_CXX
#include "jemalloc_cpp.h"
/*
 * Hidden second names of the public functions (see jemalloc_cpp.h); the
 * alias target is the public function's real (possibly prefixed) name.
 */
#if defined(__has_attribute) && __has_attribute(copy)
#  define CXX_ALIAS(sym) __attribute__((alias(STRINGIFY(sym)), copy(sym)))
#else
#  define CXX_ALIAS(sym) __attribute__((alias(STRINGIFY(sym))))
#endif
void *jemalloc_cxx_malloc(size_t size) CXX_ALIAS(je_malloc);
void jemalloc_cxx_free(void *ptr) CXX_ALIAS(je_free);
void *jemalloc_cxx_mallocx(size_t size, int flags) CXX_ALIAS(je_mallocx);
void jemalloc_cxx_sdallocx(void *ptr, size_t size, int flags)
    CXX_ALIAS(je_sdallocx);
#undef CXX_ALIAS
#endif

/* --- fork ---------------------------------------------------------------------------- */

/*
 * Before fork every allocator lock is taken in rank order (the registry of
 * mutex.c holds all of them), so that the child starts with consistent
 * state; the child re-initialises them and recounts arena bindings.
 */
static void
jemalloc_prefork(void) {
	if (!malloc_initialized())
		return;
	malloc_mutex_prefork_all();
}

static void
jemalloc_postfork_parent(void) {
	if (!malloc_initialized())
		return;
	malloc_mutex_postfork_parent_all();
}

static void
jemalloc_postfork_child(void) {
	if (!malloc_initialized())
		return;
	malloc_mutex_postfork_child_all();
	arena_walkers_postfork_child();
	background_thread_postfork_child();
	tsd_t *tsd = tsd_fetch();
	tcache_postfork_child(tsd);
	tsdn_t *tsdn = tsd_tsdn(tsd);
	unsigned narenas = narenas_total_get();
	for (unsigned i = 0; i < narenas; i++) {
		arena_t *arena = arena_get_from_ind(i);
		if (arena != NULL)
			arena_postfork_child_nthreads(tsdn, arena);
	}
}
