/* extent_dss: sbrk-based extents; see extent_dss.h. */
#include "jemalloc_internal.h"
#include "extent_dss.h"
#include "mutex.h"

#include <unistd.h>

/* The data segment range this allocator obtained with sbrk. */
static malloc_mutex_t dss_mtx;
static atomic_p_t dss_base;	/* break at boot */
static atomic_p_t dss_max;	/* end of our part of the segment */

bool
extent_dss_boot(void) {
	void *brk = sbrk(0);
	atomic_store_p(&dss_base, brk == (void *)-1 ? NULL : brk,
	    ATOMIC_RELAXED);
	atomic_store_p(&dss_max, atomic_load_p(&dss_base, ATOMIC_RELAXED),
	    ATOMIC_RELAXED);
	return malloc_mutex_init(&dss_mtx, "dss", WITNESS_RANK_LEAF);
}

bool
extent_in_dss(const void *addr) {
	const void *base = atomic_load_p(&dss_base, ATOMIC_ACQUIRE);
	const void *max = atomic_load_p(&dss_max, ATOMIC_ACQUIRE);
	return base != NULL && (uintptr_t)addr >= (uintptr_t)base &&
	    (uintptr_t)addr < (uintptr_t)max;
}

bool
extent_dss_mergeable(const void *addr_a, const void *addr_b) {
	return extent_in_dss(addr_a) == extent_in_dss(addr_b);
}

void *
extent_alloc_dss(void *new_addr, size_t size, size_t alignment, bool *zero,
    bool *commit) {
	if (atomic_load_p(&dss_base, ATOMIC_RELAXED) == NULL || size == 0)
		return NULL;
	/* sbrk takes a signed increment. */
	if ((intptr_t)size < 0)
		return NULL;
	alignment = ALIGNMENT_CEILING(alignment, PAGE);
	malloc_mutex_lock(&dss_mtx);
	void *ret = NULL;
	void *cur = sbrk(0);
	if (cur == (void *)-1)
		goto label_return;
	/* Others (libc, the application) may move the break too: only
	 * extend from wherever it is now. */
	uintptr_t start = ALIGNMENT_CEILING((uintptr_t)cur, alignment);
	if (new_addr != NULL && (uintptr_t)new_addr != start)
		goto label_return;
	size_t incr = start - (uintptr_t)cur + size;
	if (incr < size || (intptr_t)incr < 0)
		goto label_return;
	if (sbrk((intptr_t)incr) != cur)
		goto label_return;
	/* The padding below start stays unused (it is at most one
	 * alignment and only happens for over-page alignments). */
	atomic_store_p(&dss_max, (void *)(start + size), ATOMIC_RELEASE);
	ret = (void *)start;
	*zero = true;
	*commit = true;
label_return:
	malloc_mutex_unlock(&dss_mtx);
	return ret;
}
