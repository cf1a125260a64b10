/* mutex: the lock slow path and the fork hooks of malloc_mutex_t. */
#include "jemalloc_internal.h"
#include "mutex.h"

#include <sched.h>

unsigned ncpus = 1;

bool
malloc_mutex_init(malloc_mutex_t *mutex, const char *name,
    witness_rank_t rank) {
	memset(mutex, 0, sizeof(*mutex));
	mutex->name = name;
	mutex->rank = rank;
	pthread_mutexattr_t attr;
	if (pthread_mutexattr_init(&attr) != 0)
		return true;
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_DEFAULT);
	bool err = pthread_mutex_init(&mutex->lock, &attr) != 0;
	pthread_mutexattr_destroy(&attr);
	return err;
}

/* Spin for a while on a multi-core machine, then block. */
void
malloc_mutex_lock_slow(malloc_mutex_t *mutex) {
	mutex->n_wait++;
	if (ncpus > 1) {
		for (int i = 0; i < MALLOC_MUTEX_MAX_SPIN; i++) {
			__builtin_ia32_pause();
			if (pthread_mutex_trylock(&mutex->lock) == 0)
				return;
		}
	}
	pthread_mutex_lock(&mutex->lock);
}

void
malloc_mutex_prefork(malloc_mutex_t *mutex) {
	malloc_mutex_lock(mutex);
}

void
malloc_mutex_postfork_parent(malloc_mutex_t *mutex) {
	malloc_mutex_unlock(mutex);
}

/* In the child, the lock may be in any state the other threads left it in:
 * start it afresh. */
void
malloc_mutex_postfork_child(malloc_mutex_t *mutex) {
	const char *name = mutex->name;
	witness_rank_t rank = mutex->rank;
	if (malloc_mutex_init(mutex, name, rank)) {
		malloc_printf("<jemalloc>: Error re-initializing mutex in "
		    "child\n");
		jemalloc_abort();
	}
}
