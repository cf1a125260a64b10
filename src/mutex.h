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

typedef struct malloc_mutex_s {
	pthread_mutex_t lock;
	/* Number of lock acquisitions and contended acquisitions. */
	uint64_t n_lock_ops;
	uint64_t n_wait;
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
/* Removes a mutex whose memory is about to be released. */
void malloc_mutex_unregister(malloc_mutex_t *mutex);
/* Fork: lock every registered mutex by ascending rank, unlock in the
 * parent, re-initialise in the child. */
void malloc_mutex_prefork_all(void);
void malloc_mutex_postfork_parent_all(void);
void malloc_mutex_postfork_child_all(void);
extern unsigned ncpus;

static inline void
malloc_mutex_note_locked_(malloc_mutex_t *mutex) {
	mutex->n_lock_ops++;
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
