/*
 * extent_dss: extents from the data segment (sbrk), with the precedence of
 * opt.dss / arena.<i>.dss: "primary" tries sbrk before mmap, "secondary"
 * (the default) only after mmap failed, "disabled" never.  Memory from the
 * data segment is never returned with munmap: released extents stay
 * retained, and a dss extent never merges with a mapped one.
 */
#ifndef JEMALLOC_EXTENT_DSS_H
#define JEMALLOC_EXTENT_DSS_H

typedef enum {
	dss_prec_disabled = 0,
	dss_prec_primary = 1,
	dss_prec_secondary = 2
} dss_prec_t;

bool extent_dss_boot(void);
/* Memory at the break, aligned; NULL when sbrk cannot provide it. */
void *extent_alloc_dss(void *new_addr, size_t size, size_t alignment,
    bool *zero, bool *commit);
bool extent_in_dss(const void *addr);
/* Whether two ranges may merge: both in the data segment or neither. */
bool extent_dss_mergeable(const void *addr_a, const void *addr_b);
void extent_dss_prefork(void);

#endif
