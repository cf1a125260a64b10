/* large: see large.h. */
#include "jemalloc_internal.h"
#include "large.h"
#include "arena.h"
#include "sz.h"

void *
large_malloc(tsdn_t *tsdn, arena_t *arena, size_t usize, bool zero) {
	assert(usize == sz_s2u(usize));
	return large_palloc(tsdn, arena, usize, CACHELINE, zero);
}

void *
large_palloc(tsdn_t *tsdn, arena_t *arena, size_t usize, size_t alignment,
    bool zero) {
	size_t ausize = sz_sa2u(usize, alignment);
	if (unlikely(ausize == 0 || ausize > LARGE_MAXCLASS))
		return NULL;
	bool is_zeroed = zero;
	extent_t *extent = arena_extent_alloc_large(tsdn, arena, usize,
	    alignment, &is_zeroed);
	if (extent == NULL)
		return NULL;
	/* Not sampled (the union may hold an old slab bitmap). */
	if (config_prof)
		extent_prof_tctx_set(extent, NULL);
	if (!arena_is_auto(arena)) {
		/* Manual arenas list their large extents for reset. */
		malloc_mutex_lock(&arena->large_mtx);
		ql_elm_new(extent, ql_link);
		ql_tail_insert(&arena->large, extent, ql_link);
		malloc_mutex_unlock(&arena->large_mtx);
	}
	if (zero) {
		if (!is_zeroed)
			memset(extent_addr_get(extent), 0, usize);
	} else if (config_fill && unlikely(opt_junk_alloc)) {
		memset(extent_addr_get(extent), JEMALLOC_ALLOC_JUNK, usize);
	} else if (config_fill && unlikely(opt_zero) && !is_zeroed) {
		memset(extent_addr_get(extent), 0, usize);
	}
	arena_decay_ticks(tsdn, arena, 1);
	return extent_addr_get(extent);
}

static size_t
extent_usize_get(const extent_t *extent) {
	return sz_index2size(extent_szind_get_maybe_invalid(extent));
}

/* Splits the unused tail off and returns it to the dirty pages. */
static bool
large_ralloc_no_move_shrink(tsdn_t *tsdn, extent_t *extent, size_t usize) {
	arena_t *arena = extent_arena_get(extent);
	size_t oldusize = extent_usize_get(extent);
	extent_hooks_t *extent_hooks = arena_get_extent_hooks(arena);
	size_t diff = extent_size_get(extent) - (usize + sz_large_pad);
	if (extent_hooks->split == NULL)
		return true;
	if (diff != 0) {
		extent_t *trail = extent_split_wrapper(tsdn, arena,
		    &extent_hooks, extent, usize + sz_large_pad,
		    sz_size2index(usize), false, diff, NSIZES, false);
		if (trail == NULL)
			return true;
		if (config_fill && unlikely(opt_junk_free)) {
			memset(extent_addr_get(trail), JEMALLOC_FREE_JUNK,
			    extent_size_get(trail));
		}
		arena_extents_dirty_dalloc(tsdn, arena, &extent_hooks, trail);
	}
	arena_extent_ralloc_large_shrink(tsdn, arena, extent, oldusize);
	return false;
}

/* Takes the free pages right after the extent, if there are enough. */
static bool
large_ralloc_no_move_expand(tsdn_t *tsdn, extent_t *extent, size_t usize,
    bool zero) {
	arena_t *arena = extent_arena_get(extent);
	size_t oldusize = extent_usize_get(extent);
	extent_hooks_t *extent_hooks = arena_get_extent_hooks(arena);
	size_t trailsize = usize - oldusize;
	if (extent_hooks->merge == NULL)
		return true;

	bool is_zeroed_trail = zero;
	bool commit = true;
	extent_t *trail = extents_alloc(tsdn, arena, &extent_hooks,
	    &arena->extents_dirty, extent_past_get(extent), trailsize, 0, PAGE,
	    false, NSIZES, &is_zeroed_trail, &commit);
	if (trail == NULL) {
		trail = extents_alloc(tsdn, arena, &extent_hooks,
		    &arena->extents_muzzy, extent_past_get(extent), trailsize, 0,
		    PAGE, false, NSIZES, &is_zeroed_trail, &commit);
	}
	if (trail == NULL) {
		trail = arena_extent_alloc_fresh_at(tsdn, arena, &extent_hooks,
		    extent_past_get(extent), trailsize, &is_zeroed_trail,
		    &commit);
	}
	if (trail == NULL)
		return true;
	void *trail_addr = extent_addr_get(trail);
	if (extent_merge_wrapper(tsdn, arena, &extent_hooks, extent, trail)) {
		extent_dalloc_wrapper(tsdn, arena, &extent_hooks, trail);
		return true;
	}
	unsigned szind = sz_size2index(usize);
	extent_szind_set(extent, szind);
	extent_rtree_szind_slab_update(tsdn, extent, szind, false);

	if (zero) {
		if (config_cache_oblivious) {
			/* The old extent's pad page held bytes past the old
			 * allocation: they are now inside the new one. */
			void *zbase = (void *)((uintptr_t)extent_addr_get(extent)
			    + oldusize);
			size_t nzero = (uintptr_t)trail_addr - (uintptr_t)zbase;
			memset(zbase, 0, nzero);
		}
		assert(is_zeroed_trail);
	} else if (config_fill && unlikely(opt_junk_alloc)) {
		memset((void *)((uintptr_t)extent_addr_get(extent) + oldusize),
		    JEMALLOC_ALLOC_JUNK, usize - oldusize);
	}
	arena_extent_ralloc_large_expand(tsdn, arena, extent, oldusize);
	return false;
}

/*
 * Resizes in place to a usable size in [usize_min, usize_max]; returns
 * false on success.
 */
bool
large_ralloc_no_move(tsdn_t *tsdn, extent_t *extent, size_t usize_min,
    size_t usize_max, bool zero) {
	size_t oldusize = extent_usize_get(extent);
	if (usize_max > oldusize) {
		/* Try the largest size first, then the smallest. */
		if (!large_ralloc_no_move_expand(tsdn, extent, usize_max, zero))
			return false;
		if (usize_min < usize_max && usize_min > oldusize &&
		    !large_ralloc_no_move_expand(tsdn, extent, usize_min, zero))
			return false;
	}
	if (oldusize >= usize_min && oldusize <= usize_max)
		return false;
	if (oldusize > usize_max) {
		if (!large_ralloc_no_move_shrink(tsdn, extent, usize_max))
			return false;
	}
	return true;
}

void
large_dalloc(tsdn_t *tsdn, extent_t *extent) {
	/* Always on: a freed large extent is dirty, muzzy or retained. */
	if (unlikely(extent_state_get(extent) != extent_state_active)) {
		malloc_printf("<jemalloc>: free(): double free: %p\n",
		    extent_addr_get(extent));
		jemalloc_abort();
	}
	arena_t *arena = extent_arena_get(extent);
	if (!arena_is_auto(arena)) {
		malloc_mutex_lock(&arena->large_mtx);
		ql_remove(&arena->large, extent, ql_link);
		malloc_mutex_unlock(&arena->large_mtx);
	}
	if (config_fill && unlikely(opt_junk_free)) {
		memset(extent_addr_get(extent), JEMALLOC_FREE_JUNK,
		    extent_usize_get(extent));
	}
	arena_extent_dalloc_large_prep(tsdn, arena, extent);
	extent_hooks_t *extent_hooks = NULL;
	arena_extents_dirty_dalloc(tsdn, arena, &extent_hooks, extent);
	arena_decay_ticks(tsdn, arena, 1);
}

size_t
large_salloc(tsdn_t *tsdn, const extent_t *extent) {
	return extent_usize_get(extent);
}
