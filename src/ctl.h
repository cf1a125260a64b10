/*
 * ctl: the mallctl namespace as a static tree of nodes (facts §4).  Names
 * resolve to MIBs (one integer per dotted component; numeric components
 * index arenas, bins and large classes), and leaves are handlers.
 */
#ifndef JEMALLOC_CTL_H
#define JEMALLOC_CTL_H

/* Snapshot of global statistics, refreshed by writing "epoch". */
typedef struct {
	size_t allocated;
	size_t active;
	size_t metadata;
	size_t resident;
	size_t mapped;
	size_t retained;
} ctl_stats_t;

bool ctl_boot(void);
int ctl_byname(tsd_t *tsd, const char *name, void *oldp, size_t *oldlenp,
    void *newp, size_t newlen);
int ctl_nametomib(tsd_t *tsd, const char *name, size_t *mibp,
    size_t *miblenp);
int ctl_bymib(tsd_t *tsd, const size_t *mib, size_t miblen, void *oldp,
    size_t *oldlenp, void *newp, size_t newlen);

/* Fills *stats with a fresh snapshot over every arena. */
void ctl_stats_compute(tsdn_t *tsdn, ctl_stats_t *stats);

/* Provided by jemalloc.c. */
unsigned narenas_total_get(void);
arena_t *arena_get(tsdn_t *tsdn, unsigned ind, bool init_if_missing);
void arena_migrate(tsd_t *tsd, unsigned oldind, unsigned newind);

#endif
