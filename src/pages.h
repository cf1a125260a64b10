/*
 * pages: the OS layer.  Page-granular mapping with alignment by over-map
 * and trim, commit/decommit, lazy (MADV_FREE) and forced (MADV_DONTNEED)
 * purge, THP advice, overcommit and page-size detection.  Every function
 * takes page-aligned arguments.
 */
#ifndef JEMALLOC_PAGES_H
#define JEMALLOC_PAGES_H

typedef enum {
	thp_mode_default = 0,	/* do not change hugepage settings */
	thp_mode_always = 1,	/* MADV_HUGEPAGE on every user mapping */
	thp_mode_never = 2,	/* MADV_NOHUGEPAGE */
	thp_mode_names_limit = 3,
	thp_mode_not_supported = 3
} thp_mode_t;

extern thp_mode_t opt_thp;
extern thp_mode_t init_system_thp_mode;
extern const char *const thp_mode_names[];
/* Whether MADV_FREE works here (probed at boot). */
extern bool pages_can_purge_lazy_runtime;
extern bool os_overcommits;

/* Test hook (debug builds): when non-zero, that many more os_pages_map
 * calls succeed, then every one fails until it is reset to zero. */
extern size_t pages_map_fail_after;
/* Map calls failed by the injection point so far. */
extern size_t pages_map_faults_injected;

bool pages_boot(void);
void *pages_map(void *addr, size_t size, size_t alignment, bool *commit);
void pages_unmap(void *addr, size_t size);
bool pages_commit(void *addr, size_t size);
bool pages_decommit(void *addr, size_t size);
bool pages_purge_lazy(void *addr, size_t size);
bool pages_purge_forced(void *addr, size_t size);
bool pages_huge(void *addr, size_t size);
bool pages_nohuge(void *addr, size_t size);
bool pages_dontdump(void *addr, size_t size);
bool pages_dodump(void *addr, size_t size);
void pages_set_thp_state(void *ptr, size_t size);

#endif
