/*
 * malloc_mutex_t: a pthread mutex with a lock rank and a spin-then-block
 * slow path.  Ranks order acquisition (lower first); the fork handlers take
 * locks in rank order and the debug build's witness code checks it.
 */
#ifndef JEMALLOC_MUTEX_H
#define JEMALLOC_MUTEX_H

#include <pthread.h>

#include "atomic.h"

/* Lock ranks, lowest acquired first (facts §6.12). */
typedef enum {
	WITNESS_RANK_OMIT = 0,
	WITNESS_RANK_INIT = 1,
	WITNESS_RANK_CTL = 1,
	WITNESS_RANK_TCACHES = 2,
	WITNESS_RANK_ARENAS = 3,
	WITNESS_RANK_BACKGROUND_THREAD_GLOBAL = 4,
	/* The heap profiler: dumps, then contexts (metadata allocations
	 * under them take arena locks, ranked above). */
	WITNESS_RANK_PROF_DUMP = 5,
	WITNESS_RANK_PROF = 7,
	WITNESS_RANK_BACKGROUND_THREAD = 10,
	WITNESS_RANK_DECAY = 11,
	WITNESS_RANK_TCACHE_QL = 12,
	WITNESS_RANK_EXTENT_GROW = 13,
	WITNESS_RANK_EXTENTS = 14,
	WITNESS_RANK_EXTENT_AVAIL = 15,
	WITNESS_RANK_EXTENT_POOL = 16,
	WITNESS_RANK_RTREE = 17,
	WITNESS_RANK_BASE = 18,
	WITNESS_RANK_ARENA_LARGE = 19,
	WITNESS_RANK_LEAF = 0x7fffffff,
	WITNESS_RANK_BIN = WITNESS_RANK_LEAF,
	WITNESS_RANK_ARENA_STATS = WITNESS_RANK_LEAF
} witness_rank_t;

#define MALLOC_MUTEX_MAX_SPIN 250

/*
 * Profiling counters of one mutex (the {counter} set of the stats.*.mutexes
 * mallctls, facts §4).  The thread holding the lock updates them with plain
 * arithmetic, so they cost no atomic operation; a reader either holds the
 * lock (ctl's snapshot does) or accepts a racy, slightly stale copy.
 */
typedef struct {
	uint64_t n_lock_ops;		/* acquisitions */
	uint64_t n_owner_switches;	/* acquisitions by another thread than
					 * the previous owner */
	uint64_t n_wait;		/* acquisitions that had to block */
	uint64_t n_spin_acquired;	/* acquisitions won while spinning */
	uint64_t tot_wait_ns;		/* time spent blocked, in total */
	uint64_t max_wait_ns;		/* and at most, per acquisition */
	uint32_t max_n_thds;		/* most threads blocked at once */
} mutex_prof_data_t;

typedef struct malloc_mutex_s {
	pthread_mutex_t lock;
	/*
	 * Synchronization: prof and prev_owner are written by the lock
	 * holder only (stats builds); n_waiting_thds is atomic because it is
	 * changed by threads that do not hold the lock yet.
	 */
	uintptr_t prev_owner;	/* thread pointer of the last owner */
	mutex_prof_data_t prof;
	atomic_u32_t n_waiting_thds;
	const char *name;
	witness_rank_t rank;
	/* Owner thread, maintained only in debug builds. */
	pthread_t owner;
	bool locked;
	/* Every initialised mutex is on one registry list, so that the fork
	 * handlers take them all in rank order and none can be forgotten. */
	struct malloc_mutex_s *reg_next;
	struct malloc_mutex_s *reg_prev;
} malloc_mutex_t;

bool malloc_mutex_init(malloc_mutex_t *mutex, const char *name,
    witness_rank_t rank);
void malloc_mutex_lock_slow(malloc_mutex_t *mutex);

/* Copies mutex's counters; the caller holds mutex for an exact copy. */
void malloc_mutex_prof_read(const malloc_mutex_t *mutex,
    mutex_prof_data_t *data);
/* Adds d into sum: counts and times add up, maxima take the larger. */
void mutex_prof_data_merge(mutex_prof_data_t *sum,
    const mutex_prof_data_t *d);
/*
 * Merges the counters of every registered mutex called name into *data
 * (zeroed first); for locks private to other modules, such as the global
 * background_thread lock.  The copy is racy: see malloc_mutex_prof_read.
 * Returns false if no mutex has that name.
 */
bool malloc_mutex_prof_read_named(const char *name, mutex_prof_data_t *data);
/* Zeroes the counters of every registered mutex (stats.mutexes.reset). */
void malloc_mutex_prof_reset_all(void);

/*
 * Witness (debug builds): every thread keeps the locks it holds; taking a
 * lock whose rank is not above every held lock's rank stops the process
 * naming both.  Leaf-rank locks (bins) may not be held with another leaf.
 */
#define WITNESS_MAX_HELD 32
void witness_lock_error(const malloc_mutex_t *held,
    const malloc_mutex_t *acquired);
void witness_pre_lock(malloc_mutex_t *mutex);
void witness_post_unlock(malloc_mutex_t *mutex);
/* The fork handlers take every lock at once: no order checking then. */
void witness_fork_begin(void);
void witness_fork_end(void);
/* Removes a mutex whose memory is about to be released.  After boot,
 * registration and removal happen only under arenas_lock (see
 * malloc_mutex_prefork_all). */
void malloc_mutex_unregister(malloc_mutex_t *mutex);
/* Fork: lock every registered mutex by ascending rank, unlock in the
 * parent, re-initialise in the child. */
void malloc_mutex_prefork_all(void);
void malloc_mutex_postfork_parent_all(void);
void malloc_mutex_postfork_child_all(void);
extern unsigned ncpus;

/*
 * An identity of the calling thread that costs one instruction: the thread
 * pointer (%fs base on x86-64) where the compiler exposes it.
 */
static inline uintptr_t
malloc_mutex_self_(void) {
#if defined(__has_builtin) && (defined(__x86_64__) || defined(__aarch64__))
#  if __has_builtin(__builtin_thread_pointer)
	return (uintptr_t)__builtin_thread_pointer();
#  else
	return (uintptr_t)pthread_self();
#  endif
#else
	return (uintptr_t)pthread_self();
#endif
}

/*
 * Bookkeeping of every acquisition, done with the lock held: one increment
 * and an owner compare (a thread-pointer load); the compare's store only
 * happens when the lock changes hands.
 */
static inline void
malloc_mutex_note_locked_(malloc_mutex_t *mutex) {
	if (config_stats) {
		mutex->prof.n_lock_ops++;
		uintptr_t self = malloc_mutex_self_();
		if (unlikely(mutex->prev_owner != self)) {
			mutex->prev_owner = self;
			mutex->prof.n_owner_switches++;
		}
	}
	if (config_debug) {
		mutex->owner = pthread_self();
		mutex->locked = true;
	}
}

static inline void
malloc_mutex_lock(malloc_mutex_t *mutex) {
	if (config_debug)
		witness_pre_lock(mutex);
	if (unlikely(pthread_mutex_trylock(&mutex->lock) != 0))
		malloc_mutex_lock_slow(mutex);
	malloc_mutex_note_locked_(mutex);
}

/* Returns true when the lock was NOT taken (jemalloc's convention). */
static inline bool
malloc_mutex_trylock(malloc_mutex_t *mutex) {
	if (pthread_mutex_trylock(&mutex->lock) != 0)
		return true;
	if (config_debug)
		witness_pre_lock(mutex);
	malloc_mutex_note_locked_(mutex);
	return false;
}

static inline void
malloc_mutex_unlock(malloc_mutex_t *mutex) {
	if (config_debug) {
		mutex->locked = false;
		witness_post_unlock(mutex);
	}
	pthread_mutex_unlock(&mutex->lock);
}

static inline void
malloc_mutex_assert_owner(malloc_mutex_t *mutex) {
	assert(mutex->locked && pthread_equal(mutex->owner, pthread_self()));
}

static inline void
malloc_mutex_assert_not_owner(malloc_mutex_t *mutex) {
	assert(!mutex->locked || !pthread_equal(mutex->owner, pthread_self()));
}

#endif
