/*
 * prof: the heap profiler (--enable-prof; facts §3.2, §4, §6.13).
 *
 * Sampling.  Each thread counts down the bytes it allocates
 * (tsd->prof_sample_left).  The count starts at an exponentially
 * distributed value with mean 2^lg_prof_sample, so every byte is a sample
 * point with probability 2^-lg_prof_sample and an allocation of s bytes
 * is sampled with probability 1 - exp(-s / 2^lg_prof_sample), the model
 * jeprof's heap_v2 reader undoes.  malloc's inline fast path does the
 * count with one "sub; jle" and leaves the allocation that crosses zero
 * to the slow path; the other entry points count in prof_sample_check.
 * Without opt_prof the count starts at INT64_MAX and never runs out.
 *
 * A sampled allocation is served as a large extent (small sizes are
 * promoted to LARGE_MINCLASS with their own size class written into the
 * extent and the radix tree, so sallocx and malloc_usable_size still see
 * the requested class) and its context is kept in the extent until the
 * object is freed, so free never takes the inline path for it.
 *
 * Contexts.  A backtrace has one gctx (global context) in a hash table;
 * each thread that allocated from it has a tctx hanging off the gctx,
 * which counts the thread's live and (with prof_accum) cumulative sampled
 * objects and bytes.  prof.reset starts a new epoch: older tctxs keep
 * counting the frees of their objects but are left out of dumps.  A
 * context whose last object is freed is kept for the site's next sample
 * until a sweep (when the number of contexts has doubled).  Each thread
 * caches its 64 most recent tctxs by backtrace hash.
 *
 * Backtraces start at the application frame (public functions pass down
 * their return-address slot); in libgcc builds a cache of frame sizes
 * learned from libgcc's walks stands in front of it, and a per-thread
 * memo of recent walks and their tctxs in front of that (prof.c).
 *
 * Synchronization: prof_mtx ("prof") guards the table, every gctx, tctx
 * and tdata; prof_dump_mtx serialises dumps.  A tctx's counters are
 * atomics: its thread adds to them without the lock while the tctx is in
 * the thread's context cache, frees subtract from any thread (see
 * "Context lifetime" in prof.c).  Neither lock is held while calling into
 * the arenas except for metadata allocations (ranks below every arena
 * lock).
 */
#ifndef JEMALLOC_PROF_H
#define JEMALLOC_PROF_H

#include "tsd.h"

struct extent_s;

#define PROF_BT_MAX 128
#define LG_PROF_SAMPLE_DEFAULT 19
#define LG_PROF_INTERVAL_DEFAULT (-1)
#define PROF_PREFIX_DEFAULT "jeprof"
#define PROF_DUMP_BUFSIZE 65536

typedef struct prof_cnt_s {
	uint64_t curobjs;
	uint64_t curbytes;
	uint64_t accumobjs;
	uint64_t accumbytes;
} prof_cnt_t;

typedef struct prof_gctx_s prof_gctx_t;
typedef struct prof_tdata_s prof_tdata_t;
typedef struct prof_tctx_s prof_tctx_t;

extern bool opt_prof;
extern bool opt_prof_active;
extern bool opt_prof_thread_active_init;
extern size_t opt_lg_prof_sample;
extern ssize_t opt_lg_prof_interval;
extern bool opt_prof_gdump;
extern bool opt_prof_final;
extern bool opt_prof_leak;
extern bool opt_prof_accum;
extern char opt_prof_prefix[];

/* Bytes between interval dumps (0: off). */
extern uint64_t prof_interval;
/* The current sample rate (prof.lg_sample). */
extern size_t lg_prof_sample;

/* Boot: after conf (opt_prof final), then once arenas exist. */
void prof_boot1(void);
bool prof_boot2(tsd_t *tsd);
void prof_tsd_init(tsd_t *tsd);
void prof_tdata_cleanup(tsd_t *tsd);

/* The slow part of the sampling decision: the count ran out. */
bool prof_sample_hard(tsd_t *tsd, size_t usize);
/* Records a sampled allocation of usize at ptr (an extent of its own;
 * for a small usize, a LARGE_MINCLASS extent that this turns into an
 * object of usize's class), with the backtrace from the application
 * frame whose return address the public function keeps at ra_slot. */
void prof_malloc_sampled(tsd_t *tsd, void *ptr, size_t usize,
    void **ra_slot);
/* An object that is not in a slab, whose first page's radix-tree element
 * is elm and whose size class is szind, is about to be freed: if it was
 * sampled, drops it from its context and turns a promoted small object
 * back into its LARGE_MINCLASS extent.  Returns the size class the free
 * must use (unchanged if not sampled). */
unsigned prof_free_hook(tsd_t *tsd, struct rtree_leaf_elm_s *elm,
    unsigned szind);
/* Arena reset: drops a large extent's sample record before the extent
 * is released wholesale. */
void prof_extent_reset(tsdn_t *tsdn, struct extent_s *extent);
/* Whether ptr was sampled (realloc must then move it). */
bool prof_sampled(tsdn_t *tsdn, const void *ptr);
/* Growth dumps: the extent layer saw mapped memory pass its maximum. */
void prof_gdump_note(size_t mapped_pages);
/* Pending interval / growth dumps, run where no lock is held. */
void prof_pending_dumps(tsd_t *tsd);
extern bool prof_dump_pending;

/* Controls behind the mallctls. */
bool prof_active_get(void);
bool prof_active_set(bool active);
bool prof_thread_active_init_get(void);
bool prof_thread_active_init_set(bool active);
bool prof_gdump_get(void);
bool prof_gdump_set(bool gdump);
bool prof_thread_active_get(tsd_t *tsd);
bool prof_thread_active_set(tsd_t *tsd, bool active);
const char *prof_thread_name_get(tsd_t *tsd);
int prof_thread_name_set(tsd_t *tsd, const char *name);
/* Writes a dump to filename, or to the next <prefix>.<pid>.<seq>.m<n>.heap
 * when filename is NULL.  Returns true on failure. */
bool prof_mdump(tsd_t *tsd, const char *filename);
void prof_reset(tsd_t *tsd, size_t lg_sample);

/* Test hooks (prof unit tests): live backtraces, and the next interval
 * drawn for a thread. */
size_t prof_bt_count(void);
/* libgcc builds: cached backtraces that libgcc's check contradicted. */
uint64_t prof_backtrace_cache_mismatches(void);
uint64_t prof_sample_interval_draw(tsd_t *tsd);

/*
 * The sampling decision outside malloc's inline path: true when this
 * allocation of usize bytes is to be sampled.  Cheap when the count has
 * not run out.
 */
JEMALLOC_ALWAYS_INLINE bool
prof_sample_check(tsd_t *tsd, size_t usize) {
	if (!config_prof || !opt_prof)
		return false;
	if (unlikely(tsd_reentrancy_level_get(tsd) > 0))
		return false;
#ifdef JEMALLOC_PROF
	/* Above zero: this call has not been counted yet (the inline path
	 * counts before it branches here, leaving the count at or below
	 * zero). */
	if (likely(tsd->prof_sample_left > 0)) {
		tsd->prof_sample_left -= (int64_t)usize;
		if (likely(tsd->prof_sample_left > 0))
			return false;
	}
	return prof_sample_hard(tsd, usize);
#else
	(void)usize;
	return false;
#endif
}

#endif
