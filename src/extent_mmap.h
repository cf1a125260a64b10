/* extent_mmap: extents straight from mmap, and opt.retain. */
#ifndef JEMALLOC_EXTENT_MMAP_H
#define JEMALLOC_EXTENT_MMAP_H

extern bool opt_retain;

void *extent_alloc_mmap(void *new_addr, size_t size, size_t alignment,
    bool *zero, bool *commit);
/* Returns true (opt out: keep the mapping) when retain is on. */
bool extent_dalloc_mmap(void *addr, size_t size);

#endif
