/*
 * large: allocations above SMALL_MAXCLASS, each its own extent of usize +
 * sz_large_pad bytes; grown and shrunk in place by merging with or
 * splitting off neighbouring free extents.
 */
#ifndef JEMALLOC_LARGE_H
#define JEMALLOC_LARGE_H

#include "extent.h"

void *large_malloc(tsdn_t *tsdn, arena_t *arena, size_t usize, bool zero);
void *large_palloc(tsdn_t *tsdn, arena_t *arena, size_t usize,
    size_t alignment, bool zero);
bool large_ralloc_no_move(tsdn_t *tsdn, extent_t *extent, size_t usize_min,
    size_t usize_max, bool zero);
void large_dalloc(tsdn_t *tsdn, extent_t *extent);
size_t large_salloc(tsdn_t *tsdn, const extent_t *extent);

#endif
