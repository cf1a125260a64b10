/* extent_mmap: see extent_mmap.h. */
#include "jemalloc_internal.h"
#include "extent_mmap.h"
#include "pages.h"

/* Retain virtual memory instead of unmapping it (64-bit Linux default). */
bool opt_retain = true;

void *
extent_alloc_mmap(void *new_addr, size_t size, size_t alignment, bool *zero,
    bool *commit) {
	void *ret = pages_map(new_addr, size, ALIGNMENT_CEILING(alignment,
	    PAGE), commit);
	if (ret == NULL)
		return NULL;
	assert(ret != NULL);
	if (*commit)
		*zero = true;
	return ret;
}

bool
extent_dalloc_mmap(void *addr, size_t size) {
	if (!opt_retain)
		pages_unmap(addr, size);
	return opt_retain;
}
