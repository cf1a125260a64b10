/*
 * background_thread: worker threads that run decay for the arenas, so that
 * unused pages go back to the system even when the application is idle
 * (facts §6.11).  Thread i serves arenas i, i + n, i + 2n, ... (n the
 * number of workers); each sleeps until the earliest time one of its
 * arenas will have more than BACKGROUND_THREAD_NPAGES_THRESHOLD pages to
 * purge, at least BACKGROUND_THREAD_MIN_INTERVAL_NS, indefinitely when
 * nothing is pending; woken early when its arena receives dirty pages
 * while it sleeps with nothing to do, or more than the threshold of them
 * during a timed sleep.
 */
#ifndef JEMALLOC_BACKGROUND_THREAD_H
#define JEMALLOC_BACKGROUND_THREAD_H

#include <pthread.h>

#include "mutex.h"

#define MAX_BACKGROUND_THREAD_LIMIT MALLOCX_ARENA_LIMIT
#define BACKGROUND_THREAD_MIN_INTERVAL_NS ((uint64_t)100 * 1000 * 1000)
#define BACKGROUND_THREAD_INDEFINITE_SLEEP UINT64_MAX
#define BACKGROUND_THREAD_NPAGES_THRESHOLD ((size_t)1024)

extern bool opt_background_thread;
extern size_t opt_max_background_threads;
/* Whether workers run (background_thread mallctl); atomic. */
extern atomic_b_t background_thread_enabled_state;

static inline bool
background_thread_enabled(void) {
	return atomic_load_b(&background_thread_enabled_state, ATOMIC_RELAXED);
}

bool background_thread_boot(void);
/* Starts (enable) or stops and joins (disable) every worker.  Returns true
 * on error.  Serialised by background_thread_lock. */
bool background_threads_enable(tsd_t *tsd);
bool background_threads_disable(tsd_t *tsd);
/* Makes the worker of arena ind re-plan its sleep soon (new dirty pages). */
void background_thread_wakeup_early(unsigned arena_ind, size_t npages);
/* Keep every worker out of its arenas (between passes) until resumed. */
size_t background_thread_max_get(void);
bool background_thread_max_set(tsd_t *tsd, size_t max);
/* stats.background_thread.* */
void background_thread_stats_read(size_t *num_threads, uint64_t *num_runs,
    uint64_t *run_interval_ns);
/* Fork: the workers do not survive into the child (its locks are
 * handled by the mutex registry like every other lock). */
void background_thread_postfork_child(void);
/* Called once initialisation is complete (opt.background_thread). */
void background_thread_boot_start(tsd_t *tsd);

#endif
