/* mutex: the lock slow path and the fork hooks of malloc_mutex_t. */
#include "jemalloc_internal.h"
#include "mutex.h"

#include <sched.h>

unsigned ncpus = 1;

/* --- witness ------------------------------------------------------------------ */

static __thread const malloc_mutex_t *witness_held[WITNESS_MAX_HELD];
static __thread unsigned witness_nheld;
static __thread bool witness_forking;

void
witness_lock_error(const malloc_mutex_t *held, const malloc_mutex_t *acquired) {
	malloc_printf("<jemalloc>: Lock rank order reversal: acquiring "
	    "\"%s\" (rank %u) while holding \"%s\" (rank %u)\n",
	    acquired->name, (unsigned)acquired->rank, held->name,
	    (unsigned)held->rank);
	jemalloc_abort();
}

void
witness_pre_lock(malloc_mutex_t *mutex) {
	if (witness_forking || mutex->rank == WITNESS_RANK_OMIT)
		return;
	for (unsigned i = 0; i < witness_nheld; i++) {
		const malloc_mutex_t *h = witness_held[i];
		if (h->rank >= mutex->rank)
			witness_lock_error(h, mutex);
	}
	if (witness_nheld < WITNESS_MAX_HELD)
		witness_held[witness_nheld++] = mutex;
}

void
witness_post_unlock(malloc_mutex_t *mutex) {
	if (witness_forking || mutex->rank == WITNESS_RANK_OMIT)
		return;
	for (unsigned i = witness_nheld; i-- > 0;) {
		if (witness_held[i] == mutex) {
			witness_held[i] = witness_held[--witness_nheld];
			return;
		}
	}
}

void
witness_fork_begin(void) {
	witness_forking = true;
}

void
witness_fork_end(void) {
	witness_forking = false;
}

/* --- registry ------------------------------------------------------------------ */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static malloc_mutex_t *registry_head;

static bool
malloc_mutex_init_lock(malloc_mutex_t *mutex) {
	pthread_mutexattr_t attr;
	if (pthread_mutexattr_init(&attr) != 0)
		return true;
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_DEFAULT);
	bool err = pthread_mutex_init(&mutex->lock, &attr) != 0;
	pthread_mutexattr_destroy(&attr);
	mutex->locked = false;
	return err;
}

bool
malloc_mutex_init(malloc_mutex_t *mutex, const char *name,
    witness_rank_t rank) {
	memset(mutex, 0, sizeof(*mutex));
	mutex->name = name;
	mutex->rank = rank;
	if (malloc_mutex_init_lock(mutex))
		return true;
	pthread_mutex_lock(&registry_lock);
	mutex->reg_prev = NULL;
	mutex->reg_next = registry_head;
	if (registry_head != NULL)
		registry_head->reg_prev = mutex;
	registry_head = mutex;
	pthread_mutex_unlock(&registry_lock);
	return false;
}

void
malloc_mutex_unregister(malloc_mutex_t *mutex) {
	pthread_mutex_lock(&registry_lock);
	if (mutex->reg_prev == NULL && registry_head != mutex) {
		/* Never registered (initialisation did not get this far). */
		pthread_mutex_unlock(&registry_lock);
		return;
	}
	if (mutex->reg_prev != NULL)
		mutex->reg_prev->reg_next = mutex->reg_next;
	else
		registry_head = mutex->reg_next;
	if (mutex->reg_next != NULL)
		mutex->reg_next->reg_prev = mutex->reg_prev;
	pthread_mutex_unlock(&registry_lock);
}

/* The smallest registered rank above prev (or prev itself if none). */
static bool
registry_next_rank(long prev, long *next) {
	bool found = false;
	for (malloc_mutex_t *m = registry_head; m != NULL; m = m->reg_next) {
		if ((long)m->rank > prev && (!found || (long)m->rank < *next)) {
			*next = (long)m->rank;
			found = true;
		}
	}
	return found;
}

void
malloc_mutex_prefork_all(void) {
	witness_fork_begin();
	pthread_mutex_lock(&registry_lock);
	long rank = -1;
	while (registry_next_rank(rank, &rank)) {
		for (malloc_mutex_t *m = registry_head; m != NULL;
		    m = m->reg_next) {
			if ((long)m->rank == rank)
				malloc_mutex_lock(m);
		}
	}
}

void
malloc_mutex_postfork_parent_all(void) {
	for (malloc_mutex_t *m = registry_head; m != NULL; m = m->reg_next)
		malloc_mutex_unlock(m);
	pthread_mutex_unlock(&registry_lock);
	witness_fork_end();
}

/* The child's other threads are gone: start every lock afresh. */
void
malloc_mutex_postfork_child_all(void) {
	for (malloc_mutex_t *m = registry_head; m != NULL; m = m->reg_next) {
		if (malloc_mutex_init_lock(m)) {
			malloc_write("<jemalloc>: Error re-initializing mutex in "
			    "child\n");
			jemalloc_abort();
		}
	}
	pthread_mutex_init(&registry_lock, NULL);
	witness_nheld = 0;
	witness_fork_end();
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
