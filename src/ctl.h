/*
 * ctl: the mallctl namespace as a static tree of nodes (facts §4).  Names
 * resolve to MIBs (one integer per dotted component; numeric components
 * index arenas, bins and large classes), and leaves are handlers.
 *
 * Statistics are served from a snapshot that the first mallctl call takes
 * and every write to "epoch" (or malloc_stats_print()) refreshes, so that a
 * reader sees one consistent picture across many calls.  The snapshot holds
 * one ctl_arena_stats_t per initialised arena, their sum (index
 * MALLCTL_ARENAS_ALL) and the sum of destroyed arenas (index
 * MALLCTL_ARENAS_DESTROYED), all under ctl_mtx.
 */
#ifndef JEMALLOC_CTL_H
#define JEMALLOC_CTL_H

#include "bin.h"
#include "mutex.h"

/* The mutex groups of one arena, in stats.arenas.<i>.mutexes order. */
typedef enum {
	arena_prof_mutex_large,
	arena_prof_mutex_extent_avail,
	arena_prof_mutex_extents_dirty,
	arena_prof_mutex_extents_muzzy,
	arena_prof_mutex_extents_retained,
	arena_prof_mutex_decay_dirty,
	arena_prof_mutex_decay_muzzy,
	arena_prof_mutex_base,
	arena_prof_mutex_tcache_list,
	arena_prof_num_mutexes
} arena_prof_mutex_ind_t;
extern const char *const arena_prof_mutex_names[arena_prof_num_mutexes];

/* The global mutex groups, in stats.mutexes order. */
typedef enum {
	global_prof_mutex_background_thread,
	global_prof_mutex_ctl,
	global_prof_mutex_prof,
	global_prof_num_mutexes
} global_prof_mutex_ind_t;
extern const char *const global_prof_mutex_names[global_prof_num_mutexes];

/* The {counter} names of facts §4; all uint64_t but max_num_thds. */
typedef enum {
	mutex_counter_num_ops,
	mutex_counter_num_wait,
	mutex_counter_num_spin_acq,
	mutex_counter_num_owner_switch,
	mutex_counter_total_wait_time,
	mutex_counter_max_wait_time,
	mutex_counter_max_num_thds,
	mutex_prof_num_counters
} mutex_prof_counter_ind_t;
extern const char *const mutex_prof_counter_names[mutex_prof_num_counters];
uint64_t mutex_prof_counter_get(const mutex_prof_data_t *data,
    mutex_prof_counter_ind_t counter);

typedef struct {
	uint64_t nmalloc;
	uint64_t ndalloc;
	uint64_t nrequests;
	size_t curlextents;
} ctl_lextent_stats_t;

/* stats.arenas.<i>.*: one arena, or a sum of arenas. */
typedef struct {
	bool initialized;
	unsigned nthreads;
	const char *dss;
	ssize_t dirty_decay_ms;
	ssize_t muzzy_decay_ms;
	uint64_t uptime_ns;
	size_t pactive;
	size_t pdirty;
	size_t pmuzzy;
	size_t mapped;
	size_t retained;
	size_t base;
	size_t internal;
	size_t metadata_thp;
	size_t resident;
	size_t tcache_bytes;
	uint64_t dirty_npurge;
	uint64_t dirty_nmadvise;
	uint64_t dirty_purged;
	uint64_t muzzy_npurge;
	uint64_t muzzy_nmadvise;
	uint64_t muzzy_purged;
	size_t small_allocated;
	uint64_t small_nmalloc;
	uint64_t small_ndalloc;
	uint64_t small_nrequests;
	size_t large_allocated;
	uint64_t large_nmalloc;
	uint64_t large_ndalloc;
	uint64_t large_nrequests;
	mutex_prof_data_t mutexes[arena_prof_num_mutexes];
	bin_stats_t bstats[NBINS];
	mutex_prof_data_t bmutexes[NBINS];
	ctl_lextent_stats_t lstats[NSIZES - NBINS];
} ctl_arena_stats_t;

/* stats.*: the global view, derived from the merged arenas. */
typedef struct {
	uint64_t epoch;
	/* Arena indices the snapshot covers ([0, narenas)). */
	unsigned narenas;
	size_t allocated;
	size_t active;
	size_t metadata;
	size_t metadata_thp;
	size_t resident;
	size_t mapped;
	size_t retained;
	size_t background_thread_num_threads;
	uint64_t background_thread_num_runs;
	uint64_t background_thread_run_interval;
	mutex_prof_data_t mutexes[global_prof_num_mutexes];
} ctl_stats_t;

bool ctl_boot(void);
int ctl_byname(tsd_t *tsd, const char *name, void *oldp, size_t *oldlenp,
    void *newp, size_t newlen);
int ctl_nametomib(tsd_t *tsd, const char *name, size_t *mibp,
    size_t *miblenp);
int ctl_bymib(tsd_t *tsd, const size_t *mib, size_t miblen, void *oldp,
    size_t *oldlenp, void *newp, size_t newlen);

/*
 * For malloc_stats_print(): refreshes the snapshot (as a write to "epoch"
 * does) and copies its global part to *stats.
 */
void ctl_stats_refresh(tsdn_t *tsdn, ctl_stats_t *stats);
/* Whether the snapshot has arena ind (or the _ALL/_DESTROYED sums). */
bool ctl_arena_initialized(tsdn_t *tsdn, unsigned ind);
/*
 * Copies the snapshot of arena ind (or MALLCTL_ARENAS_ALL/_DESTROYED) to
 * *astats; returns false if the snapshot has no initialised arena there.
 */
bool ctl_arena_stats_copy(tsdn_t *tsdn, unsigned ind,
    ctl_arena_stats_t *astats);

/*
 * Arena destruction: adds the cumulative counters of arena (request and
 * purge counts, mutex counters) into the MALLCTL_ARENAS_DESTROYED slot and
 * marks arena's own slot uninitialised.  Call it after the arena has been
 * reset and purged and before its memory is released, holding no
 * allocator lock; the _locked form is for a caller that holds ctl's mutex
 * (the arena.<i>.destroy handler, through ctl_mtx_lock()).
 */
void ctl_arena_destroyed_merge(tsdn_t *tsdn, arena_t *arena);
void ctl_arena_destroyed_merge_locked(tsdn_t *tsdn, arena_t *arena);
void ctl_mtx_lock(void);
void ctl_mtx_unlock(void);

/* Provided by jemalloc.c. */
unsigned narenas_total_get(void);
arena_t *arena_get(tsdn_t *tsdn, unsigned ind, bool init_if_missing);
void arena_migrate(tsd_t *tsd, unsigned oldind, unsigned newind);

#endif
