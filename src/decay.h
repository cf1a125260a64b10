/*
 * decay: when unused dirty (and muzzy) pages are purged (facts §6.5).
 *
 * Time is cut into SMOOTHSTEP_NSTEPS epochs of decay_ms / 200 each.
 * backlog[i] counts the pages that became unused in the i-th most recent
 * epoch (backlog[199] is the newest); a page that became unused t epochs
 * ago may stay for h(1 - t/200) of its count, where h is the smootherstep
 * 6x^5 - 15x^4 + 10x^3.  So the number of unused pages allowed at any time
 * is sum(backlog[i] * h[i]), and everything above it is purged, oldest
 * first: after decay_ms every page is gone, most of them late.
 */
#ifndef JEMALLOC_DECAY_H
#define JEMALLOC_DECAY_H

#include "atomic.h"
#include "mutex.h"

#define SMOOTHSTEP_NSTEPS 200
#define SMOOTHSTEP_BFP 24
/* Allocator events between a thread's decay checks. */
#define DECAY_NTICKS_PER_UPDATE 1000

/* h(i / 200) for i = 1..200 in SMOOTHSTEP_BFP-bit fixed point. */
extern uint64_t h_steps[SMOOTHSTEP_NSTEPS];

typedef struct {
	/* Synchronization: mtx, except time_ms (atomic) and purging, which
	 * is only changed under mtx but read by the owner of a purge. */
	malloc_mutex_t mtx;
	/* A purge is running with mtx dropped; nobody starts another. */
	bool purging;
	/* dirty_decay_ms or muzzy_decay_ms: -1 never, 0 at once. */
	atomic_zd_t time_ms;
	uint64_t interval_ns;
	uint64_t epoch_ns;	/* start of the current epoch */
	uint64_t deadline_ns;	/* epoch end plus jitter */
	uint64_t jitter_state;
	/* Unused pages at the end of the last epoch advance, after purging:
	 * pages above it are new since then. */
	size_t nunpurged;
	size_t backlog[SMOOTHSTEP_NSTEPS];
} decay_t;

void decay_boot(void);
bool decay_init(decay_t *decay, ssize_t decay_ms, size_t npages);
/* Restarts the curve with a new decay time (mtx held). */
void decay_reinit(decay_t *decay, ssize_t decay_ms, size_t npages);
ssize_t decay_ms_get(const decay_t *decay);
/*
 * Advances the epoch if its deadline passed, with current_npages unused
 * pages now.  Returns true if it advanced; *npages_limit is then how many
 * unused pages may stay.  mtx held.
 */
bool decay_maybe_advance(decay_t *decay, uint64_t now_ns,
    size_t current_npages, size_t *npages_limit);
/* After a purge that left npages unused pages (mtx held). */
void decay_purged(decay_t *decay, size_t npages_limit, size_t npages);
/* Nanoseconds until more than threshold pages become purgeable (for
 * background threads); UINT64_MAX when never. */
uint64_t decay_ns_until_purge(const decay_t *decay, size_t npages_current,
    size_t threshold);

#endif
