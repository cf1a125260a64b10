/*
 * cache_bin: one size class's stack of free objects in a thread cache
 * (facts §6.2).  The stack is a slice [full, empty) of the thread's slot
 * array; objects sit in [stack_head, empty).  Popping takes *stack_head
 * (the most recently pushed object), pushing stores below it.
 *
 * low_water is the deepest head position (fewest objects) since the last
 * GC step.  It never passes empty, so the single compare "head ==
 * low_water" on the pop fast path catches both an empty stack and a new
 * low-water mark; the slow path tells them apart.  Cost of a hit: one load
 * of each pointer, one compare, one store.
 */
#ifndef JEMALLOC_CACHE_BIN_H
#define JEMALLOC_CACHE_BIN_H

/* 32 bytes, so a class index becomes a bin address with one shift. */
typedef struct cache_bin_s {
	/* Synchronization: owner thread only (flushes of explicit caches are
	 * serialised by the tcaches lock). */
	void **stack_head;	/* next object to hand out */
	void **low_water;	/* deepest head since the last GC step */
	void **full;		/* head when the stack is full */
	void **empty;		/* head when the stack is empty */
} cache_bin_t;

JEMALLOC_ALWAYS_INLINE unsigned
cache_bin_ncached(const cache_bin_t *bin) {
	return (unsigned)(bin->empty - bin->stack_head);
}

JEMALLOC_ALWAYS_INLINE unsigned
cache_bin_ncached_max(const cache_bin_t *bin) {
	return (unsigned)(bin->empty - bin->full);
}

/* Objects not used since the last GC step. */
JEMALLOC_ALWAYS_INLINE unsigned
cache_bin_low_water_get(const cache_bin_t *bin) {
	return (unsigned)(bin->empty - bin->low_water);
}

JEMALLOC_ALWAYS_INLINE void
cache_bin_low_water_reset(cache_bin_t *bin) {
	bin->low_water = bin->stack_head;
}

/*
 * Pops an object if the bin has one above its low-water mark.  Returns
 * NULL when the caller must take the slow path (empty, or at low water).
 */
JEMALLOC_ALWAYS_INLINE void *
cache_bin_alloc_easy(cache_bin_t *bin, bool *success) {
	void **head = bin->stack_head;
	if (unlikely(head == bin->low_water)) {
		if (head == bin->empty) {
			*success = false;
			return NULL;
		}
		/* A new low-water mark. */
		bin->low_water = head + 1;
	}
	*success = true;
	bin->stack_head = head + 1;
	return *head;
}

/* Pushes ptr; false when the bin is full. */
JEMALLOC_ALWAYS_INLINE bool
cache_bin_dalloc_easy(cache_bin_t *bin, void *ptr) {
	void **head = bin->stack_head;
	if (unlikely(head == bin->full))
		return false;
	bin->stack_head = head - 1;
	head[-1] = ptr;
	return true;
}

/* Points an empty bin at its slice of the slot array. */
JEMALLOC_ALWAYS_INLINE void
cache_bin_init(cache_bin_t *bin, void **slots, unsigned ncached_max) {
	bin->full = slots;
	bin->empty = slots + ncached_max;
	bin->stack_head = bin->empty;
	bin->low_water = bin->empty;
}

#endif
