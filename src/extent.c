/* extent: extent containers, split/merge/coalesce, hooks; see extent.h. */
#include "jemalloc_internal.h"
#include "extent.h"
#include "arena.h"
#include "base.h"
#include "extent_dss.h"
#include "extent_mmap.h"
#include "pages.h"
#include "tsd.h"
#include "prof.h"

size_t opt_lg_extent_max_active_fit = 6;

static atomic_zu_t extent_footprint;

size_t
extent_footprint_get(void) {
	return atomic_load_zu(&extent_footprint, ATOMIC_RELAXED);
}

void
extent_footprint_add(size_t size) {
	size_t cur = atomic_fetch_add_zu(&extent_footprint, size,
	    ATOMIC_RELAXED) + size;
	/* Growth dumps (prof_gdump) watch for a new maximum. */
	if (config_prof && opt_prof)
		prof_gdump_note(cur);
}

void
extent_footprint_sub(size_t size) {
	atomic_fetch_sub_zu(&extent_footprint, size, ATOMIC_RELAXED);
}

/* --- default hooks ---------------------------------------------------------- */

static void *extent_alloc_default(extent_hooks_t *extent_hooks,
    void *new_addr, size_t size, size_t alignment, bool *zero, bool *commit,
    unsigned arena_ind);
static bool extent_dalloc_default(extent_hooks_t *extent_hooks, void *addr,
    size_t size, bool committed, unsigned arena_ind);
static void extent_destroy_default(extent_hooks_t *extent_hooks, void *addr,
    size_t size, bool committed, unsigned arena_ind);
static bool extent_commit_default(extent_hooks_t *extent_hooks, void *addr,
    size_t size, size_t offset, size_t length, unsigned arena_ind);
static bool extent_decommit_default(extent_hooks_t *extent_hooks, void *addr,
    size_t size, size_t offset, size_t length, unsigned arena_ind);
static bool extent_purge_lazy_default(extent_hooks_t *extent_hooks,
    void *addr, size_t size, size_t offset, size_t length, unsigned arena_ind);
static bool extent_purge_forced_default(extent_hooks_t *extent_hooks,
    void *addr, size_t size, size_t offset, size_t length, unsigned arena_ind);
static bool extent_split_default(extent_hooks_t *extent_hooks, void *addr,
    size_t size, size_t size_a, size_t size_b, bool committed,
    unsigned arena_ind);
static bool extent_merge_default(extent_hooks_t *extent_hooks, void *addr_a,
    size_t size_a, void *addr_b, size_t size_b, bool committed,
    unsigned arena_ind);

const extent_hooks_t extent_hooks_default = {
	extent_alloc_default,
	extent_dalloc_default,
	extent_destroy_default,
	extent_commit_default,
	extent_decommit_default,
	extent_purge_lazy_default,
	extent_purge_forced_default,
	extent_split_default,
	extent_merge_default
};

#define HOOKS_ARE_DEFAULT(h) (*(h) == (extent_hooks_t *)&extent_hooks_default)

void
extent_hook_pre_reentrancy(tsdn_t *tsdn) {
	if (!tsdn_null(tsdn))
		pre_reentrancy(tsdn_tsd(tsdn));
}

void
extent_hook_post_reentrancy(tsdn_t *tsdn) {
	if (!tsdn_null(tsdn))
		post_reentrancy(tsdn_tsd(tsdn));
}

/* mmap and sbrk in the arena's dss precedence. */
static void *
extent_alloc_core(tsdn_t *tsdn, arena_t *arena, void *new_addr, size_t size,
    size_t alignment, bool *zero, bool *commit) {
	dss_prec_t prec = arena != NULL ? (dss_prec_t)atomic_load_u(
	    &arena->dss_prec, ATOMIC_RELAXED) : dss_prec_secondary;
	void *ret;
	if (prec == dss_prec_primary && (ret = extent_alloc_dss(new_addr, size,
	    alignment, zero, commit)) != NULL)
		return ret;
	if ((ret = extent_alloc_mmap(new_addr, size, alignment, zero, commit))
	    != NULL)
		return ret;
	if (prec == dss_prec_secondary)
		return extent_alloc_dss(new_addr, size, alignment, zero, commit);
	return NULL;
}

static void *
extent_alloc_default_impl(tsdn_t *tsdn, arena_t *arena, void *new_addr,
    size_t size, size_t alignment, bool *zero, bool *commit) {
	void *ret = extent_alloc_core(tsdn, arena, new_addr, size, alignment,
	    zero, commit);
	if (ret != NULL)
		pages_set_thp_state(ret, size);
	return ret;
}

static void *
extent_alloc_default(extent_hooks_t *extent_hooks, void *new_addr,
    size_t size, size_t alignment, bool *zero, bool *commit,
    unsigned arena_ind) {
	/* Called by applications that wrap the default hooks: the arena's
	 * dss precedence applies as for internal calls. */
	arena_t *arena = arena_ind < MALLOCX_ARENA_LIMIT ?
	    arena_get_from_ind(arena_ind) : NULL;
	return extent_alloc_default_impl(NULL, arena, new_addr, size, alignment,
	    zero, commit);
}

/* Data-segment memory is never unmapped: opt out (it stays retained). */
static bool
extent_dalloc_default_impl(void *addr, size_t size) {
	if (extent_in_dss(addr))
		return true;
	return extent_dalloc_mmap(addr, size);
}

static bool
extent_dalloc_default(extent_hooks_t *extent_hooks, void *addr, size_t size,
    bool committed, unsigned arena_ind) {
	return extent_dalloc_default_impl(addr, size);
}

static void
extent_destroy_default_impl(void *addr, size_t size) {
	if (!extent_in_dss(addr))
		pages_unmap(addr, size);
}

static void
extent_destroy_default(extent_hooks_t *extent_hooks, void *addr, size_t size,
    bool committed, unsigned arena_ind) {
	extent_destroy_default_impl(addr, size);
}

static bool
extent_commit_default(extent_hooks_t *extent_hooks, void *addr, size_t size,
    size_t offset, size_t length, unsigned arena_ind) {
	return pages_commit((void *)((uintptr_t)addr + offset), length);
}

static bool
extent_decommit_default(extent_hooks_t *extent_hooks, void *addr, size_t size,
    size_t offset, size_t length, unsigned arena_ind) {
	return pages_decommit((void *)((uintptr_t)addr + offset), length);
}

static bool
extent_purge_lazy_default(extent_hooks_t *extent_hooks, void *addr,
    size_t size, size_t offset, size_t length, unsigned arena_ind) {
	return pages_purge_lazy((void *)((uintptr_t)addr + offset), length);
}

static bool
extent_purge_forced_default(extent_hooks_t *extent_hooks, void *addr,
    size_t size, size_t offset, size_t length, unsigned arena_ind) {
	return pages_purge_forced((void *)((uintptr_t)addr + offset), length);
}

static bool
extent_split_default(extent_hooks_t *extent_hooks, void *addr, size_t size,
    size_t size_a, size_t size_b, bool committed, unsigned arena_ind) {
	return false;	/* mappings split freely on Linux */
}

static bool
extent_merge_default(extent_hooks_t *extent_hooks, void *addr_a,
    size_t size_a, void *addr_b, size_t size_b, bool committed,
    unsigned arena_ind) {
	/* Adjacent mappings coalesce on Linux, but not across the end of
	 * the data segment. */
	return !extent_dss_mergeable(addr_a, addr_b);
}

/* --- extent_t structs ------------------------------------------------------ */

extent_t *
extent_alloc(tsdn_t *tsdn, arena_t *arena) {
	malloc_mutex_lock(&arena->extent_avail_mtx);
	extent_t *extent = extent_avail_remove_first(&arena->extent_avail);
	malloc_mutex_unlock(&arena->extent_avail_mtx);
	if (extent == NULL)
		extent = base_alloc_extent(tsdn, arena->base);
	return extent;
}

void
extent_dalloc(tsdn_t *tsdn, arena_t *arena, extent_t *extent) {
	malloc_mutex_lock(&arena->extent_avail_mtx);
	extent_avail_insert(&arena->extent_avail, extent);
	malloc_mutex_unlock(&arena->extent_avail_mtx);
}

/* --- quantization ------------------------------------------------------------ */

/*
 * Heaps hold extents by page-size class.  Large extents are usize +
 * sz_large_pad bytes, so the classes are shifted by the pad: an extent of
 * exactly class + pad bytes files under its own heap and is found again by
 * a request of the same size.
 */
size_t
extent_size_quantize_floor(size_t size) {
	assert(size > 0 && (size & PAGE_MASK) == 0);
	unsigned pind = sz_psz2ind(size - sz_large_pad + 1);
	if (pind == 0)
		return size;
	return sz_pind2sz(pind - 1) + sz_large_pad;
}

size_t
extent_size_quantize_ceil(size_t size) {
	assert(size > 0 && (size & PAGE_MASK) == 0);
	size_t ret = extent_size_quantize_floor(size);
	if (ret < size) {
		ret = sz_pind2sz(sz_psz2ind(ret - sz_large_pad + 1)) +
		    sz_large_pad;
	}
	return ret;
}

/* --- extents_t ------------------------------------------------------------- */

bool
extents_init(extents_t *extents, extent_state_t state, bool delay_coalesce) {
	if (malloc_mutex_init(&extents->mtx, "extents", WITNESS_RANK_EXTENTS))
		return true;
	for (unsigned i = 0; i < EXTENTS_NHEAPS; i++)
		extent_heap_new(&extents->heaps[i]);
	memset(extents->bitmap, 0, sizeof(extents->bitmap));
	ql_new(&extents->lru);
	atomic_store_zu(&extents->npages, 0, ATOMIC_RELAXED);
	extents->state = state;
	extents->delay_coalesce = delay_coalesce;
	return false;
}

extent_state_t
extents_state_get(const extents_t *extents) {
	return extents->state;
}

size_t
extents_npages_get(extents_t *extents) {
	return atomic_load_zu(&extents->npages, ATOMIC_RELAXED);
}

static unsigned
extents_heap_index(size_t size) {
	unsigned pind = sz_psz2ind(extent_size_quantize_floor(size));
	return pind < EXTENTS_NHEAPS ? pind : EXTENTS_NHEAPS - 1;
}

static void
extents_insert_locked(extents_t *extents, extent_t *extent) {
	malloc_mutex_assert_owner(&extents->mtx);
	unsigned pind = extents_heap_index(extent_size_get(extent));
	if (extent_heap_empty(&extents->heaps[pind]))
		extents->bitmap[pind >> 6] |= QU(1) << (pind & 63);
	extent_heap_insert(&extents->heaps[pind], extent);
	ql_elm_new(extent, ql_link);
	ql_tail_insert(&extents->lru, extent, ql_link);
	size_t npages = extent_size_get(extent) >> LG_PAGE;
	atomic_store_zu(&extents->npages, atomic_load_zu(&extents->npages,
	    ATOMIC_RELAXED) + npages, ATOMIC_RELAXED);
}

static void
extents_remove_locked(extents_t *extents, extent_t *extent) {
	malloc_mutex_assert_owner(&extents->mtx);
	unsigned pind = extents_heap_index(extent_size_get(extent));
	extent_heap_remove(&extents->heaps[pind], extent);
	if (extent_heap_empty(&extents->heaps[pind]))
		extents->bitmap[pind >> 6] &= ~(QU(1) << (pind & 63));
	ql_remove(&extents->lru, extent, ql_link);
	size_t npages = extent_size_get(extent) >> LG_PAGE;
	atomic_store_zu(&extents->npages, atomic_load_zu(&extents->npages,
	    ATOMIC_RELAXED) - npages, ATOMIC_RELAXED);
}

/* First non-empty heap index >= pind, or EXTENTS_NHEAPS. */
static unsigned
extents_first_nonempty(const extents_t *extents, unsigned pind) {
	unsigned ngroups = BITMAP_BITS2GROUPS(EXTENTS_NHEAPS);
	unsigned g = pind >> 6;
	if (g >= ngroups)
		return EXTENTS_NHEAPS;
	uint64_t bits = extents->bitmap[g] & (~QU(0) << (pind & 63));
	for (;;) {
		if (bits != 0)
			return (g << 6) + ffs_u64(bits);
		if (++g >= ngroups)
			return EXTENTS_NHEAPS;
		bits = extents->bitmap[g];
	}
}

/* Moves extent out of the container: it becomes active. */
static void
extent_activate_locked(extents_t *extents, extent_t *extent) {
	assert(extent_state_get(extent) == extents->state);
	extents_remove_locked(extents, extent);
	extent_state_set(extent, extent_state_active);
}

static void
extent_deactivate_locked(extents_t *extents, extent_t *extent) {
	assert(extent_state_get(extent) == extent_state_active);
	extent_state_set(extent, extents->state);
	extents_insert_locked(extents, extent);
}

/*
 * Finds an extent of at least esize bytes.  Dirty extents are reused best
 * fit (smallest class first), but never one more than
 * 2^opt_lg_extent_max_active_fit times too large; muzzy and retained ones
 * first fit by age, which keeps old memory in use and lets new memory go.
 */
static extent_t *
extents_fit_locked(extents_t *extents, size_t esize, bool limit_fit) {
	unsigned pind = sz_psz2ind(extent_size_quantize_ceil(esize));
	if (pind >= EXTENTS_NHEAPS)
		return NULL;
	if (extents->delay_coalesce) {
		unsigned i = extents_first_nonempty(extents, pind);
		if (i >= EXTENTS_NHEAPS)
			return NULL;
		/*
		 * Sanitizer fix (UBSan): lg_extent_max_active_fit may be 64
		 * (the conf maximum, "no limit"), and size_t >> 64 is
		 * undefined (x86 shifts by 0, so 64 meant the tightest
		 * limit).  Under UBSan, conf test "lg_extent_max_active_fit:64"
		 * hung: the shift report re-entered malloc with this
		 * container's mutex held (child killed by SIGALRM).
		 */
		if (limit_fit && i < NPSIZES &&
		    opt_lg_extent_max_active_fit < sizeof(size_t) * 8 &&
		    (sz_pind2sz(i) >> opt_lg_extent_max_active_fit) > esize)
			return NULL;
		return extent_heap_first(&extents->heaps[i]);
	}
	extent_t *ret = NULL;
	for (unsigned i = extents_first_nonempty(extents, pind);
	    i < EXTENTS_NHEAPS; i = extents_first_nonempty(extents, i + 1)) {
		extent_t *e = extent_heap_first(&extents->heaps[i]);
		if (ret == NULL || extent_snad_comp(e, ret) < 0)
			ret = e;
	}
	return ret;
}

/* --- rtree registration ------------------------------------------------------ */

extent_t *
extent_lookup(tsdn_t *tsdn, const void *ptr, bool dependent) {
	rtree_ctx_t fallback;
	rtree_ctx_t *ctx = tsdn_rtree_ctx(tsdn, &fallback);
	return rtree_extent_read(&extents_rtree, ctx, (uintptr_t)ptr,
	    dependent);
}

static bool
extent_rtree_leaf_elms_lookup(tsdn_t *tsdn, rtree_ctx_t *ctx,
    const extent_t *extent, bool dependent, bool init_missing,
    rtree_leaf_elm_t **r_elm_a, rtree_leaf_elm_t **r_elm_b) {
	*r_elm_a = rtree_leaf_elm_lookup(&extents_rtree, ctx,
	    (uintptr_t)extent_base_get(extent), dependent, init_missing);
	if (!dependent && *r_elm_a == NULL)
		return true;
	*r_elm_b = rtree_leaf_elm_lookup(&extents_rtree, ctx,
	    (uintptr_t)extent_last_get(extent), dependent, init_missing);
	if (!dependent && *r_elm_b == NULL)
		return true;
	return false;
}

static void
extent_rtree_write_acquired(rtree_leaf_elm_t *elm_a, rtree_leaf_elm_t *elm_b,
    const extent_t *extent, unsigned szind, bool slab) {
	rtree_leaf_elm_write(elm_a, extent, szind, slab);
	if (elm_b != NULL)
		rtree_leaf_elm_write(elm_b, extent, szind, slab);
}

/* Registers the pages between the first and the last (slabs only). */
static void
extent_interior_register(tsdn_t *tsdn, rtree_ctx_t *ctx,
    const extent_t *extent, unsigned szind) {
	assert(extent_slab_get(extent));
	for (size_t i = 1; i < (extent_size_get(extent) >> LG_PAGE) - 1; i++) {
		rtree_write(&extents_rtree, ctx, (uintptr_t)extent_base_get(extent)
		    + (i << LG_PAGE), extent, szind, true);
	}
}

static void
extent_interior_deregister(tsdn_t *tsdn, rtree_ctx_t *ctx,
    const extent_t *extent) {
	assert(extent_slab_get(extent));
	for (size_t i = 1; i < (extent_size_get(extent) >> LG_PAGE) - 1; i++) {
		rtree_clear(&extents_rtree, ctx,
		    (uintptr_t)extent_base_get(extent) + (i << LG_PAGE));
	}
}

static bool
extent_register_impl(tsdn_t *tsdn, const extent_t *extent, bool gdump_add) {
	rtree_ctx_t fallback;
	rtree_ctx_t *ctx = tsdn_rtree_ctx(tsdn, &fallback);
	rtree_leaf_elm_t *elm_a, *elm_b;
	if (extent_rtree_leaf_elms_lookup(tsdn, ctx, extent, false, true,
	    &elm_a, &elm_b))
		return true;
	unsigned szind = extent_szind_get_maybe_invalid(extent);
	bool slab = extent_slab_get(extent);
	extent_rtree_write_acquired(elm_a, elm_b, extent, szind, slab);
	if (slab)
		extent_interior_register(tsdn, ctx, extent, szind);
	(void)gdump_add;	/* profiling growth dumps come with prof */
	return false;
}

static bool
extent_register(tsdn_t *tsdn, const extent_t *extent) {
	return extent_register_impl(tsdn, extent, true);
}

static bool
extent_register_no_gdump_add(tsdn_t *tsdn, const extent_t *extent) {
	return extent_register_impl(tsdn, extent, false);
}

static void
extent_reregister(tsdn_t *tsdn, const extent_t *extent) {
	bool err = extent_register(tsdn, extent);
	assert(!err);
	(void)err;
}

static void
extent_deregister(tsdn_t *tsdn, extent_t *extent) {
	rtree_ctx_t fallback;
	rtree_ctx_t *ctx = tsdn_rtree_ctx(tsdn, &fallback);
	rtree_leaf_elm_t *elm_a, *elm_b;
	extent_rtree_leaf_elms_lookup(tsdn, ctx, extent, true, false, &elm_a,
	    &elm_b);
	extent_rtree_write_acquired(elm_a, elm_b, NULL, NSIZES, false);
	if (extent_slab_get(extent)) {
		extent_interior_deregister(tsdn, ctx, extent);
		extent_slab_set(extent, false);
	}
}

/* Updates the size class and slab bit stored for the extent's pages. */
void
extent_rtree_szind_slab_update(tsdn_t *tsdn, extent_t *extent,
    unsigned szind, bool slab) {
	rtree_ctx_t fallback;
	rtree_ctx_t *ctx = tsdn_rtree_ctx(tsdn, &fallback);
	rtree_leaf_elm_t *elm_a, *elm_b;
	extent_rtree_leaf_elms_lookup(tsdn, ctx, extent, true, false, &elm_a,
	    &elm_b);
	extent_rtree_write_acquired(elm_a, elm_b, extent, szind, slab);
}

/* --- hook wrappers ------------------------------------------------------------ */

static void
extent_hooks_assure_initialized(arena_t *arena,
    extent_hooks_t **r_extent_hooks) {
	if (*r_extent_hooks == NULL)
		*r_extent_hooks = arena_get_extent_hooks(arena);
}

bool
extent_commit_wrapper(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extent_t *extent, size_t offset,
    size_t length) {
	extent_hooks_assure_initialized(arena, r_extent_hooks);
	bool err;
	if (HOOKS_ARE_DEFAULT(r_extent_hooks)) {
		err = pages_commit((void *)((uintptr_t)extent_base_get(extent) +
		    offset), length);
	} else if ((*r_extent_hooks)->commit == NULL) {
		err = true;
	} else {
		extent_hook_pre_reentrancy(tsdn);
		err = (*r_extent_hooks)->commit(*r_extent_hooks,
		    extent_base_get(extent), extent_size_get(extent), offset,
		    length, arena->ind);
		extent_hook_post_reentrancy(tsdn);
	}
	extent_committed_set(extent, extent_committed_get(extent) || !err);
	return err;
}

bool
extent_decommit_wrapper(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extent_t *extent, size_t offset,
    size_t length) {
	extent_hooks_assure_initialized(arena, r_extent_hooks);
	bool err;
	if (HOOKS_ARE_DEFAULT(r_extent_hooks)) {
		err = pages_decommit((void *)((uintptr_t)extent_base_get(extent)
		    + offset), length);
	} else if ((*r_extent_hooks)->decommit == NULL) {
		err = true;
	} else {
		extent_hook_pre_reentrancy(tsdn);
		err = (*r_extent_hooks)->decommit(*r_extent_hooks,
		    extent_base_get(extent), extent_size_get(extent), offset,
		    length, arena->ind);
		extent_hook_post_reentrancy(tsdn);
	}
	extent_committed_set(extent, extent_committed_get(extent) && err);
	return err;
}

bool
extent_purge_lazy_wrapper(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extent_t *extent, size_t offset,
    size_t length) {
	extent_hooks_assure_initialized(arena, r_extent_hooks);
	if (HOOKS_ARE_DEFAULT(r_extent_hooks)) {
		return pages_purge_lazy((void *)((uintptr_t)
		    extent_base_get(extent) + offset), length);
	}
	if ((*r_extent_hooks)->purge_lazy == NULL)
		return true;
	extent_hook_pre_reentrancy(tsdn);
	bool err = (*r_extent_hooks)->purge_lazy(*r_extent_hooks,
	    extent_base_get(extent), extent_size_get(extent), offset, length,
	    arena->ind);
	extent_hook_post_reentrancy(tsdn);
	return err;
}

bool
extent_purge_forced_wrapper(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extent_t *extent, size_t offset,
    size_t length) {
	extent_hooks_assure_initialized(arena, r_extent_hooks);
	if (HOOKS_ARE_DEFAULT(r_extent_hooks)) {
		return pages_purge_forced((void *)((uintptr_t)
		    extent_base_get(extent) + offset), length);
	}
	if ((*r_extent_hooks)->purge_forced == NULL)
		return true;
	extent_hook_pre_reentrancy(tsdn);
	bool err = (*r_extent_hooks)->purge_forced(*r_extent_hooks,
	    extent_base_get(extent), extent_size_get(extent), offset, length,
	    arena->ind);
	extent_hook_post_reentrancy(tsdn);
	return err;
}

/*
 * Splits extent into [size_a | size_b]; returns the new trail extent, or
 * NULL (leaving extent whole) on failure.  The caller owns extent: it is
 * active or out of every container.
 */
extent_t *
extent_split_wrapper(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extent_t *extent, size_t size_a,
    unsigned szind_a, bool slab_a, size_t size_b, unsigned szind_b,
    bool slab_b) {
	assert(extent_size_get(extent) == size_a + size_b);
	extent_hooks_assure_initialized(arena, r_extent_hooks);
	if ((*r_extent_hooks)->split == NULL)
		return NULL;
	extent_t *trail = extent_alloc(tsdn, arena);
	if (trail == NULL)
		return NULL;
	extent_init(trail, extent_arena_ind_get(extent),
	    (void *)((uintptr_t)extent_base_get(extent) + size_a), size_b,
	    slab_b, szind_b, extent_sn_get(extent), extent_state_get(extent),
	    extent_zeroed_get(extent), extent_committed_get(extent),
	    extent_dumpable_get(extent));

	rtree_ctx_t fallback;
	rtree_ctx_t *ctx = tsdn_rtree_ctx(tsdn, &fallback);
	rtree_leaf_elm_t *lead_elm_a, *lead_elm_b, *trail_elm_a, *trail_elm_b;
	/* Look up (and create) every element before changing anything. */
	extent_t lead;
	extent_init(&lead, extent_arena_ind_get(extent),
	    extent_addr_get(extent), size_a, slab_a, szind_a,
	    extent_sn_get(extent), extent_state_get(extent),
	    extent_zeroed_get(extent), extent_committed_get(extent),
	    extent_dumpable_get(extent));
	if (extent_rtree_leaf_elms_lookup(tsdn, ctx, &lead, false, true,
	    &lead_elm_a, &lead_elm_b) ||
	    extent_rtree_leaf_elms_lookup(tsdn, ctx, trail, false, true,
	    &trail_elm_a, &trail_elm_b))
		goto label_error;

	if (!HOOKS_ARE_DEFAULT(r_extent_hooks)) {
		extent_hook_pre_reentrancy(tsdn);
		bool err = (*r_extent_hooks)->split(*r_extent_hooks,
		    extent_base_get(extent), size_a + size_b, size_a, size_b,
		    extent_committed_get(extent), arena->ind);
		extent_hook_post_reentrancy(tsdn);
		if (err)
			goto label_error;
	}

	extent_size_set(extent, size_a);
	extent_szind_set(extent, szind_a);
	extent_slab_set(extent, slab_a);
	extent_rtree_write_acquired(lead_elm_a, lead_elm_b, extent, szind_a,
	    slab_a);
	extent_rtree_write_acquired(trail_elm_a, trail_elm_b, trail, szind_b,
	    slab_b);
	return trail;
label_error:
	extent_dalloc(tsdn, arena, trail);
	return NULL;
}

/* Merges b (the extent right after a) into a; b's struct is recycled. */
bool
extent_merge_wrapper(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extent_t *a, extent_t *b) {
	assert(extent_past_get(a) == extent_base_get(b));
	extent_hooks_assure_initialized(arena, r_extent_hooks);
	if ((*r_extent_hooks)->merge == NULL)
		return true;
	bool err;
	if (HOOKS_ARE_DEFAULT(r_extent_hooks)) {
		err = !extent_dss_mergeable(extent_base_get(a),
		    extent_base_get(b));
	} else {
		extent_hook_pre_reentrancy(tsdn);
		err = (*r_extent_hooks)->merge(*r_extent_hooks,
		    extent_base_get(a), extent_size_get(a), extent_base_get(b),
		    extent_size_get(b), extent_committed_get(a), arena->ind);
		extent_hook_post_reentrancy(tsdn);
	}
	if (err)
		return true;

	rtree_ctx_t fallback;
	rtree_ctx_t *ctx = tsdn_rtree_ctx(tsdn, &fallback);
	rtree_leaf_elm_t *a_elm_a, *a_elm_b, *b_elm_a, *b_elm_b;
	extent_rtree_leaf_elms_lookup(tsdn, ctx, a, true, false, &a_elm_a,
	    &a_elm_b);
	extent_rtree_leaf_elms_lookup(tsdn, ctx, b, true, false, &b_elm_a,
	    &b_elm_b);
	/* The inner boundary pages stop being registered. */
	if (a_elm_b != a_elm_a)
		rtree_leaf_elm_write(a_elm_b, NULL, NSIZES, false);
	if (b_elm_a != b_elm_b)
		rtree_leaf_elm_write(b_elm_a, NULL, NSIZES, false);

	extent_size_set(a, extent_size_get(a) + extent_size_get(b));
	extent_szind_set(a, NSIZES);
	extent_sn_set(a, extent_sn_get(a) < extent_sn_get(b) ?
	    extent_sn_get(a) : extent_sn_get(b));
	extent_zeroed_set(a, extent_zeroed_get(a) && extent_zeroed_get(b));
	extent_rtree_write_acquired(a_elm_a, b_elm_b, a, NSIZES, false);
	extent_dalloc(tsdn, arena, b);
	return false;
}

/* --- coalescing and recording ------------------------------------------------ */

/*
 * Whether neighbour (read from the rtree without its lock) is a free extent
 * of this container that can merge with extent.  Extents only enter or
 * leave a container under its lock, which the caller holds, so a
 * neighbour found in the container's state and arena is really in it.
 */
static bool
extent_can_coalesce(arena_t *arena, extents_t *extents, const extent_t *inner,
    const extent_t *outer) {
	if (extent_arena_ind_get(outer) != arena->ind)
		return false;
	if (extent_state_get(outer) != extents->state)
		return false;
	if (extent_committed_get(inner) != extent_committed_get(outer))
		return false;
	return true;
}

static bool
extent_coalesce(tsdn_t *tsdn, arena_t *arena, extent_hooks_t **r_extent_hooks,
    extents_t *extents, extent_t *inner, extent_t *outer, bool forward) {
	extent_activate_locked(extents, outer);
	malloc_mutex_unlock(&extents->mtx);
	bool err = forward ?
	    extent_merge_wrapper(tsdn, arena, r_extent_hooks, inner, outer) :
	    extent_merge_wrapper(tsdn, arena, r_extent_hooks, outer, inner);
	malloc_mutex_lock(&extents->mtx);
	if (err)
		extent_deactivate_locked(extents, outer);
	return err;
}

/* Merges extent with free neighbours of this container until none is left.
 * Returns the (possibly different) extent that now covers it. */
static extent_t *
extent_try_coalesce(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extents_t *extents, extent_t *extent,
    bool *coalesced) {
	rtree_ctx_t fallback;
	rtree_ctx_t *ctx = tsdn_rtree_ctx(tsdn, &fallback);
	bool again;
	if (coalesced != NULL)
		*coalesced = false;
	do {
		again = false;
		/* Forward. */
		extent_t *next = rtree_extent_read(&extents_rtree, ctx,
		    (uintptr_t)extent_past_get(extent), false);
		if (next != NULL && extent_base_get(next) ==
		    extent_past_get(extent) && extent_can_coalesce(arena,
		    extents, extent, next)) {
			if (!extent_coalesce(tsdn, arena, r_extent_hooks,
			    extents, extent, next, true)) {
				if (extents->delay_coalesce) {
					*coalesced = true;
					return extent;
				}
				again = true;
			}
		}
		/* Backward. */
		if ((uintptr_t)extent_base_get(extent) >= PAGE) {
			extent_t *prev = rtree_extent_read(&extents_rtree, ctx,
			    (uintptr_t)extent_base_get(extent) - PAGE, false);
			if (prev != NULL && extent_past_get(prev) ==
			    extent_base_get(extent) && extent_can_coalesce(arena,
			    extents, extent, prev)) {
				if (!extent_coalesce(tsdn, arena,
				    r_extent_hooks, extents, extent, prev,
				    false)) {
					extent = prev;
					if (extents->delay_coalesce) {
						*coalesced = true;
						return extent;
					}
					again = true;
				}
			}
		}
	} while (again);
	return extent;
}

/* Puts extent (owned by the caller) into extents, coalescing as the
 * container's policy says.  extents->mtx must not be held. */
static void
extent_record(tsdn_t *tsdn, arena_t *arena, extent_hooks_t **r_extent_hooks,
    extents_t *extents, extent_t *extent, bool growing_retained) {
	malloc_mutex_lock(&extents->mtx);
	extent_hooks_assure_initialized(arena, r_extent_hooks);
	extent_szind_set(extent, NSIZES);
	if (extent_slab_get(extent)) {
		rtree_ctx_t fallback;
		rtree_ctx_t *ctx = tsdn_rtree_ctx(tsdn, &fallback);
		extent_interior_deregister(tsdn, ctx, extent);
		extent_slab_set(extent, false);
	}
	extent_rtree_szind_slab_update(tsdn, extent, NSIZES, false);
	if (!extents->delay_coalesce) {
		extent = extent_try_coalesce(tsdn, arena, r_extent_hooks,
		    extents, extent, NULL);
	} else if (extent_size_get(extent) >= LARGE_MINCLASS) {
		/* Large extents coalesce eagerly even in dirty. */
		bool coalesced;
		do {
			extent = extent_try_coalesce(tsdn, arena,
			    r_extent_hooks, extents, extent, &coalesced);
		} while (coalesced);
	}
	extent_deactivate_locked(extents, extent);
	malloc_mutex_unlock(&extents->mtx);
}

void
extents_dalloc(tsdn_t *tsdn, arena_t *arena, extent_hooks_t **r_extent_hooks,
    extents_t *extents, extent_t *extent) {
	assert(extent_base_get(extent) != NULL);
	assert(extent_size_get(extent) != 0);
	extent_addr_set(extent, extent_base_get(extent));
	extent_zeroed_set(extent, false);
	extent_record(tsdn, arena, r_extent_hooks, extents, extent, false);
}

/*
 * Takes the least recently used extent out of extents (coalesced first if
 * the container delays coalescing), unless that would leave fewer than
 * npages_min pages.  The caller purges or releases it.
 */
extent_t *
extents_evict(tsdn_t *tsdn, arena_t *arena, extent_hooks_t **r_extent_hooks,
    extents_t *extents, size_t npages_min) {
	malloc_mutex_lock(&extents->mtx);
	extent_hooks_assure_initialized(arena, r_extent_hooks);
	extent_t *extent;
	for (;;) {
		extent = ql_first(&extents->lru);
		if (extent == NULL)
			goto label_return;
		size_t npages = extents_npages_get(extents);
		if (npages <= npages_min) {
			extent = NULL;
			goto label_return;
		}
		extents_remove_locked(extents, extent);
		if (!extents->delay_coalesce)
			break;
		bool coalesced;
		extent_state_set(extent, extent_state_active);
		extent = extent_try_coalesce(tsdn, arena, r_extent_hooks,
		    extents, extent, &coalesced);
		extent_state_set(extent, extents->state);
		if (!coalesced)
			break;
		/* Grown: put it back and look again (it may be last now). */
		extents_insert_locked(extents, extent);
	}
	extent_state_set(extent, extent_state_active);
label_return:
	malloc_mutex_unlock(&extents->mtx);
	return extent;
}

/* --- allocation ----------------------------------------------------------------- */

static void
extent_addr_randomize(tsdn_t *tsdn, extent_t *extent, size_t alignment) {
	/* A random cache-line multiple inside the first page, so that large
	 * allocations do not all start on the same cache sets. */
	if (!config_cache_oblivious || alignment >= PAGE)
		return;
	size_t lg_range = LG_PAGE - lg_floor(CACHELINE_CEILING(alignment));
	uint64_t r;
	if (!tsdn_null(tsdn)) {
		tsd_t *tsd = tsdn_tsd(tsdn);
		tsd->offset_state = tsd->offset_state * 6364136223846793005ULL +
		    1442695040888963407ULL;
		r = tsd->offset_state >> (64 - lg_range);
	} else {
		static uint64_t boot_state = 42;
		boot_state = boot_state * 6364136223846793005ULL +
		    1442695040888963407ULL;
		r = boot_state >> (64 - lg_range);
	}
	uintptr_t random_offset = (uintptr_t)r << (LG_PAGE - lg_range);
	extent_addr_set(extent, (void *)((uintptr_t)extent_addr_get(extent) +
	    random_offset));
	assert(ALIGNMENT_ADDR2BASE(extent_addr_get(extent), alignment) ==
	    extent_addr_get(extent));
}

/*
 * Takes an extent of at least size + alignment slack out of extents (or
 * the one at new_addr) and marks it active.
 */
static extent_t *
extent_recycle_extract(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, rtree_ctx_t *ctx, extents_t *extents,
    void *new_addr, size_t size, size_t pad, size_t alignment,
    bool limit_fit) {
	size_t esize = size + pad;
	size_t alloc_size = esize + PAGE_CEILING(alignment) - PAGE;
	if (alloc_size < esize)
		return NULL;
	malloc_mutex_lock(&extents->mtx);
	extent_hooks_assure_initialized(arena, r_extent_hooks);
	extent_t *extent;
	if (new_addr != NULL) {
		extent = rtree_extent_read(&extents_rtree, ctx,
		    (uintptr_t)new_addr, false);
		if (extent != NULL && (extent_base_get(extent) != new_addr ||
		    extent_arena_ind_get(extent) != arena->ind ||
		    extent_state_get(extent) != extents->state ||
		    extent_size_get(extent) < esize))
			extent = NULL;
	} else {
		extent = extents_fit_locked(extents, alloc_size, limit_fit);
	}
	if (extent == NULL) {
		malloc_mutex_unlock(&extents->mtx);
		return NULL;
	}
	extent_activate_locked(extents, extent);
	malloc_mutex_unlock(&extents->mtx);
	return extent;
}

/*
 * Splits the alignment lead and the unused trail off extent and returns
 * them to extents; NULL (with everything given back) on failure.
 */
static extent_t *
extent_recycle_split(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extents_t *extents, void *new_addr,
    size_t size, size_t pad, size_t alignment, bool slab, unsigned szind,
    extent_t *extent, bool growing_retained) {
	size_t esize = size + pad;
	size_t leadsize = ALIGNMENT_CEILING((uintptr_t)extent_base_get(extent),
	    PAGE_CEILING(alignment)) - (uintptr_t)extent_base_get(extent);
	assert(new_addr == NULL || leadsize == 0);
	assert(extent_size_get(extent) >= leadsize + esize);
	size_t trailsize = extent_size_get(extent) - leadsize - esize;

	if (leadsize != 0) {
		extent_t *lead = extent;
		extent = extent_split_wrapper(tsdn, arena, r_extent_hooks, lead,
		    leadsize, NSIZES, false, esize + trailsize, szind, slab);
		if (extent == NULL) {
			extent_record(tsdn, arena, r_extent_hooks, extents, lead,
			    growing_retained);
			return NULL;
		}
		extent_record(tsdn, arena, r_extent_hooks, extents, lead,
		    growing_retained);
	}
	if (trailsize != 0) {
		extent_t *trail = extent_split_wrapper(tsdn, arena,
		    r_extent_hooks, extent, esize, szind, slab, trailsize,
		    NSIZES, false);
		if (trail == NULL) {
			extent_record(tsdn, arena, r_extent_hooks, extents,
			    extent, growing_retained);
			return NULL;
		}
		extent_record(tsdn, arena, r_extent_hooks, extents, trail,
		    growing_retained);
	} else if (leadsize == 0) {
		/* Exact fit: only the size class changes. */
		extent_szind_set(extent, szind);
		if (szind != NSIZES) {
			extent_rtree_szind_slab_update(tsdn, extent, szind,
			    slab);
		}
	}
	return extent;
}

static extent_t *
extent_recycle(tsdn_t *tsdn, arena_t *arena, extent_hooks_t **r_extent_hooks,
    extents_t *extents, void *new_addr, size_t size, size_t pad,
    size_t alignment, bool slab, unsigned szind, bool *zero, bool *commit,
    bool growing_retained, bool limit_fit) {
	rtree_ctx_t fallback;
	rtree_ctx_t *ctx = tsdn_rtree_ctx(tsdn, &fallback);
	extent_t *extent = extent_recycle_extract(tsdn, arena, r_extent_hooks,
	    ctx, extents, new_addr, size, pad, alignment, limit_fit);
	if (extent == NULL)
		return NULL;
	extent = extent_recycle_split(tsdn, arena, r_extent_hooks, extents,
	    new_addr, size, pad, alignment, slab, szind, extent,
	    growing_retained);
	if (extent == NULL)
		return NULL;

	if (*commit && !extent_committed_get(extent)) {
		if (extent_commit_wrapper(tsdn, arena, r_extent_hooks, extent, 0,
		    extent_size_get(extent))) {
			extent_record(tsdn, arena, r_extent_hooks, extents,
			    extent, growing_retained);
			return NULL;
		}
		extent_zeroed_set(extent, true);
	}
	if (extent_committed_get(extent))
		*commit = true;
	if (extent_zeroed_get(extent))
		*zero = true;

	if (pad != 0)
		extent_addr_randomize(tsdn, extent, alignment);
	assert(extent_state_get(extent) == extent_state_active);
	if (slab) {
		extent_slab_set(extent, slab);
		extent_interior_register(tsdn, ctx, extent, szind);
	}
	if (*zero) {
		void *addr = extent_base_get(extent);
		size_t sz = extent_size_get(extent);
		if (!extent_zeroed_get(extent))
			memset(addr, 0, sz);
	}
	return extent;
}

extent_t *
extents_alloc(tsdn_t *tsdn, arena_t *arena, extent_hooks_t **r_extent_hooks,
    extents_t *extents, void *new_addr, size_t size, size_t pad,
    size_t alignment, bool slab, unsigned szind, bool *zero, bool *commit) {
	assert(size + pad != 0);
	assert(alignment != 0);
	return extent_recycle(tsdn, arena, r_extent_hooks, extents, new_addr,
	    size, pad, alignment, slab, szind, zero, commit, false, true);
}

/*
 * Like extents_alloc, but any large enough extent will do: the last resort
 * before retained memory is touched (deviation, see doc/deviations.md).
 */
extent_t *
extents_alloc_any_fit(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extents_t *extents, size_t size,
    size_t pad, size_t alignment, bool slab, unsigned szind, bool *zero,
    bool *commit) {
	return extent_recycle(tsdn, arena, r_extent_hooks, extents, NULL, size,
	    pad, alignment, slab, szind, zero, commit, false, false);
}

/* Gives back memory that never made it into the rtree. */
static void
extent_unmap_unregistered(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extent_t *extent) {
	if (HOOKS_ARE_DEFAULT(r_extent_hooks)) {
		extent_destroy_default_impl(extent_base_get(extent),
		    extent_size_get(extent));
	} else if ((*r_extent_hooks)->dalloc != NULL) {
		extent_hook_pre_reentrancy(tsdn);
		(*r_extent_hooks)->dalloc(*r_extent_hooks,
		    extent_base_get(extent), extent_size_get(extent),
		    extent_committed_get(extent), arena->ind);
		extent_hook_post_reentrancy(tsdn);
	}
	extent_dalloc(tsdn, arena, extent);
}

/*
 * Maps a new run of retained virtual memory, at least the next page-size
 * class in the arena's growth sequence (2 MiB, 2.5, 3, 3.5, 4, 5 ...),
 * carves the request out of it and files the rest as retained.
 * extent_grow_mtx is held.
 */
static extent_t *
extent_grow_retained(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, size_t size, size_t pad, size_t alignment,
    bool slab, unsigned szind, bool *zero, bool *commit) {
	malloc_mutex_assert_owner(&arena->extent_grow_mtx);
	size_t esize = size + pad;
	size_t alloc_size_min = esize + PAGE_CEILING(alignment) - PAGE;
	if (alloc_size_min < esize)
		goto label_err;
	unsigned egn_skip = 0;
	size_t alloc_size = sz_pind2sz(arena->extent_grow_next + egn_skip);
	while (alloc_size < alloc_size_min) {
		egn_skip++;
		if (arena->extent_grow_next + egn_skip >= NPSIZES)
			goto label_err;
		alloc_size = sz_pind2sz(arena->extent_grow_next + egn_skip);
	}

	extent_t *extent = extent_alloc(tsdn, arena);
	if (extent == NULL)
		goto label_err;
	bool zeroed = false;
	bool committed = false;
	void *ptr;
	if (HOOKS_ARE_DEFAULT(r_extent_hooks)) {
		ptr = extent_alloc_default_impl(tsdn, arena, NULL, alloc_size,
		    PAGE, &zeroed, &committed);
	} else {
		extent_hook_pre_reentrancy(tsdn);
		ptr = (*r_extent_hooks)->alloc(*r_extent_hooks, NULL,
		    alloc_size, PAGE, &zeroed, &committed, arena->ind);
		extent_hook_post_reentrancy(tsdn);
	}
	extent_init(extent, arena->ind, ptr, alloc_size, false, NSIZES,
	    arena_extent_sn_next(arena), extent_state_active, zeroed,
	    committed, true);
	if (ptr == NULL) {
		extent_dalloc(tsdn, arena, extent);
		goto label_err;
	}
	if (extent_register_no_gdump_add(tsdn, extent)) {
		/* Refuse memory the rtree cannot map (beyond LG_VADDR). */
		extent_unmap_unregistered(tsdn, arena, r_extent_hooks, extent);
		goto label_err;
	}
	if (config_stats) {
		atomic_fetch_add_zu(&arena->stats.mapped, alloc_size,
		    ATOMIC_RELAXED);
	}

	size_t leadsize = ALIGNMENT_CEILING((uintptr_t)ptr,
	    PAGE_CEILING(alignment)) - (uintptr_t)ptr;
	size_t trailsize = alloc_size - leadsize - esize;
	if (extent_zeroed_get(extent) && extent_committed_get(extent))
		*zero = true;
	if (extent_committed_get(extent))
		*commit = true;

	if (leadsize != 0) {
		extent_t *lead = extent;
		extent = extent_split_wrapper(tsdn, arena, r_extent_hooks, lead,
		    leadsize, NSIZES, false, esize + trailsize, szind, slab);
		if (extent == NULL) {
			extent_record(tsdn, arena, r_extent_hooks,
			    &arena->extents_retained, lead, true);
			goto label_err;
		}
		extent_record(tsdn, arena, r_extent_hooks,
		    &arena->extents_retained, lead, true);
	}
	if (trailsize != 0) {
		extent_t *trail = extent_split_wrapper(tsdn, arena,
		    r_extent_hooks, extent, esize, szind, slab, trailsize,
		    NSIZES, false);
		if (trail == NULL) {
			extent_record(tsdn, arena, r_extent_hooks,
			    &arena->extents_retained, extent, true);
			goto label_err;
		}
		extent_record(tsdn, arena, r_extent_hooks,
		    &arena->extents_retained, trail, true);
	} else if (leadsize == 0) {
		extent_szind_set(extent, szind);
		extent_rtree_szind_slab_update(tsdn, extent, szind, slab);
	}

	if (*commit && !extent_committed_get(extent)) {
		if (extent_commit_wrapper(tsdn, arena, r_extent_hooks, extent, 0,
		    extent_size_get(extent))) {
			extent_record(tsdn, arena, r_extent_hooks,
			    &arena->extents_retained, extent, true);
			goto label_err;
		}
		extent_zeroed_set(extent, true);
	}

	/* Advance the growth sequence, up to the limit. */
	if (arena->extent_grow_next + egn_skip + 1 <= arena->retain_grow_limit)
		arena->extent_grow_next += egn_skip + 1;
	else
		arena->extent_grow_next = arena->retain_grow_limit;
	malloc_mutex_unlock(&arena->extent_grow_mtx);

	if (slab) {
		rtree_ctx_t fallback;
		rtree_ctx_t *ctx = tsdn_rtree_ctx(tsdn, &fallback);
		extent_slab_set(extent, true);
		extent_interior_register(tsdn, ctx, extent, szind);
	}
	if (*zero && !extent_zeroed_get(extent))
		memset(extent_base_get(extent), 0, extent_size_get(extent));
	if (pad != 0)
		extent_addr_randomize(tsdn, extent, alignment);
	return extent;
label_err:
	malloc_mutex_unlock(&arena->extent_grow_mtx);
	return NULL;
}

static extent_t *
extent_alloc_retained(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, void *new_addr, size_t size, size_t pad,
    size_t alignment, bool slab, unsigned szind, bool *zero, bool *commit) {
	malloc_mutex_lock(&arena->extent_grow_mtx);
	extent_t *extent = extent_recycle(tsdn, arena, r_extent_hooks,
	    &arena->extents_retained, new_addr, size, pad, alignment, slab,
	    szind, zero, commit, true, true);
	if (extent != NULL) {
		malloc_mutex_unlock(&arena->extent_grow_mtx);
	} else if (opt_retain && new_addr == NULL) {
		/* Unlocks extent_grow_mtx. */
		extent = extent_grow_retained(tsdn, arena, r_extent_hooks, size,
		    pad, alignment, slab, szind, zero, commit);
	} else {
		malloc_mutex_unlock(&arena->extent_grow_mtx);
	}
	return extent;
}

/* Without retain: maps exactly the request through the alloc hook. */
static extent_t *
extent_alloc_wrapper_hard(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, void *new_addr, size_t size, size_t pad,
    size_t alignment, bool slab, unsigned szind, bool *zero, bool *commit) {
	size_t esize = size + pad;
	extent_t *extent = extent_alloc(tsdn, arena);
	if (extent == NULL)
		return NULL;
	void *addr;
	if (HOOKS_ARE_DEFAULT(r_extent_hooks)) {
		addr = extent_alloc_default_impl(tsdn, arena, new_addr, esize,
		    alignment, zero, commit);
	} else {
		extent_hook_pre_reentrancy(tsdn);
		addr = (*r_extent_hooks)->alloc(*r_extent_hooks, new_addr,
		    esize, alignment, zero, commit, arena->ind);
		extent_hook_post_reentrancy(tsdn);
	}
	if (addr == NULL) {
		extent_dalloc(tsdn, arena, extent);
		return NULL;
	}
	extent_init(extent, arena->ind, addr, esize, slab, szind,
	    arena_extent_sn_next(arena), extent_state_active, *zero, *commit,
	    true);
	if (pad != 0)
		extent_addr_randomize(tsdn, extent, alignment);
	if (extent_register(tsdn, extent)) {
		extent_unmap_unregistered(tsdn, arena, r_extent_hooks, extent);
		return NULL;
	}
	if (config_stats)
		atomic_fetch_add_zu(&arena->stats.mapped, esize, ATOMIC_RELAXED);
	return extent;
}

extent_t *
extent_alloc_wrapper(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, void *new_addr, size_t size, size_t pad,
    size_t alignment, bool slab, unsigned szind, bool *zero, bool *commit) {
	extent_hooks_assure_initialized(arena, r_extent_hooks);
	extent_t *extent = extent_alloc_retained(tsdn, arena, r_extent_hooks,
	    new_addr, size, pad, alignment, slab, szind, zero, commit);
	if (extent == NULL) {
		if (opt_retain && new_addr != NULL)
			return NULL;	/* in-place growth found no room */
		extent = extent_alloc_wrapper_hard(tsdn, arena, r_extent_hooks,
		    new_addr, size, pad, alignment, slab, szind, zero, commit);
	}
	/* Retained or new memory joins the footprint. */
	if (extent != NULL)
		extent_footprint_add(extent_size_get(extent));
	return extent;
}

/* --- deallocation -------------------------------------------------------------- */

/* Tries to give the extent back to the OS (dalloc hook); false on success. */
static bool
extent_dalloc_wrapper_try(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extent_t *extent) {
	extent_addr_set(extent, extent_base_get(extent));
	extent_hooks_assure_initialized(arena, r_extent_hooks);
	bool err;
	if (HOOKS_ARE_DEFAULT(r_extent_hooks)) {
		err = extent_dalloc_default_impl(extent_base_get(extent),
		    extent_size_get(extent));
	} else if ((*r_extent_hooks)->dalloc == NULL) {
		err = true;
	} else {
		extent_hook_pre_reentrancy(tsdn);
		err = (*r_extent_hooks)->dalloc(*r_extent_hooks,
		    extent_base_get(extent), extent_size_get(extent),
		    extent_committed_get(extent), arena->ind);
		extent_hook_post_reentrancy(tsdn);
	}
	if (!err) {
		if (config_stats) {
			atomic_fetch_sub_zu(&arena->stats.mapped,
			    extent_size_get(extent), ATOMIC_RELAXED);
		}
		extent_dalloc(tsdn, arena, extent);
	}
	return err;
}

/*
 * Releases an extent nobody uses: unmapped if the hooks allow, else
 * decommitted, else purged (forced, then lazy), and then kept in
 * extents_retained (facts §6.4).
 */
void
extent_dalloc_wrapper(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extent_t *extent) {
	assert(extent_base_get(extent) != NULL);
	/* Leaves the footprint: unmapped, or purged into retained. */
	extent_footprint_sub(extent_size_get(extent));
	extent_deregister(tsdn, extent);
	if (!extent_dalloc_wrapper_try(tsdn, arena, r_extent_hooks, extent))
		return;
	extent_reregister(tsdn, extent);

	bool zeroed;
	if (!extent_committed_get(extent)) {
		zeroed = true;
	} else if (!extent_decommit_wrapper(tsdn, arena, r_extent_hooks, extent,
	    0, extent_size_get(extent))) {
		zeroed = true;
	} else if (!extent_purge_forced_wrapper(tsdn, arena, r_extent_hooks,
	    extent, 0, extent_size_get(extent))) {
		zeroed = true;
	} else {
		if (extent_state_get(extent) != extent_state_muzzy) {
			extent_purge_lazy_wrapper(tsdn, arena, r_extent_hooks,
			    extent, 0, extent_size_get(extent));
		}
		zeroed = false;
	}
	extent_zeroed_set(extent, zeroed);
	extent_record(tsdn, arena, r_extent_hooks, &arena->extents_retained,
	    extent, false);
}

/* Unmaps unconditionally (arena destroy). */
void
extent_destroy_wrapper(tsdn_t *tsdn, arena_t *arena,
    extent_hooks_t **r_extent_hooks, extent_t *extent) {
	extent_deregister(tsdn, extent);
	extent_addr_set(extent, extent_base_get(extent));
	extent_hooks_assure_initialized(arena, r_extent_hooks);
	if (HOOKS_ARE_DEFAULT(r_extent_hooks)) {
		extent_destroy_default_impl(extent_base_get(extent),
		    extent_size_get(extent));
	} else if ((*r_extent_hooks)->destroy != NULL) {
		extent_hook_pre_reentrancy(tsdn);
		(*r_extent_hooks)->destroy(*r_extent_hooks,
		    extent_base_get(extent), extent_size_get(extent),
		    extent_committed_get(extent), arena->ind);
		extent_hook_post_reentrancy(tsdn);
	}
	if (config_stats) {
		atomic_fetch_sub_zu(&arena->stats.mapped,
		    extent_size_get(extent), ATOMIC_RELAXED);
	}
	extent_dalloc(tsdn, arena, extent);
}

/* --- fork ---------------------------------------------------------------------- */




bool
extent_boot(void) {
	if (rtree_new(&extents_rtree, true))
		return true;
	return extent_dss_boot();
}
