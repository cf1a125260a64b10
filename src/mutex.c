/* mutex: the lock slow path and the fork hooks of malloc_mutex_t. */
#include "jemalloc_internal.h"
#include "mutex.h"
#include "nstime.h"

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
	/* Published last: a lock-free walker sees a complete node. */
	__atomic_store_n(&registry_head, mutex, __ATOMIC_RELEASE);
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
	for (malloc_mutex_t *m = __atomic_load_n(&registry_head,
	    __ATOMIC_ACQUIRE); m != NULL; m = m->reg_next) {
		if ((long)m->rank > prev && (!found || (long)m->rank < *next)) {
			*next = (long)m->rank;
			found = true;
		}
	}
	return found;
}

/*
 * Mutexes are registered after boot only while arenas_lock is held (arena
 * creation and destruction).  So the locks ranked up to arenas_lock are
 * taken walking the list without the registry lock (a concurrent insertion
 * at the head cannot disturb the walk, and adds no such lock), and the
 * registry lock is taken once arenas_lock is held: taking it first would
 * deadlock with a thread that creates an arena.
 */
void
malloc_mutex_prefork_all(void) {
	witness_fork_begin();
	bool registry_locked = false;
	long rank = -1;
	while (registry_next_rank(rank, &rank)) {
		if (!registry_locked && rank > (long)WITNESS_RANK_ARENAS) {
			pthread_mutex_lock(&registry_lock);
			registry_locked = true;
		}
		for (malloc_mutex_t *m = __atomic_load_n(&registry_head,
		    __ATOMIC_ACQUIRE); m != NULL; m = m->reg_next) {
			if ((long)m->rank == rank)
				malloc_mutex_lock(m);
		}
	}
	if (!registry_locked)
		pthread_mutex_lock(&registry_lock);
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
		/* Threads that were blocked on it do not exist here. */
		atomic_store_u32(&m->n_waiting_thds, 0, ATOMIC_RELAXED);
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

/*
 * Spin for a while on a multi-core machine, then block.  Wait time is
 * measured only around the blocking call (two clock reads), so neither the
 * uncontended path nor a short spin pays for it.  Every counter is updated
 * after the lock is ours; only the count of blocked threads is shared.
 */
void
malloc_mutex_lock_slow(malloc_mutex_t *mutex) {
	if (ncpus > 1) {
		for (int i = 0; i < MALLOC_MUTEX_MAX_SPIN; i++) {
			__builtin_ia32_pause();
			if (pthread_mutex_trylock(&mutex->lock) == 0) {
				if (config_stats)
					mutex->prof.n_spin_acquired++;
				return;
			}
		}
	}
	if (!config_stats) {
		pthread_mutex_lock(&mutex->lock);
		return;
	}
	uint64_t start = nstime_now_ns();
	uint32_t nthds = atomic_fetch_add_u32(&mutex->n_waiting_thds, 1,
	    ATOMIC_RELAXED) + 1;
	pthread_mutex_lock(&mutex->lock);
	atomic_fetch_sub_u32(&mutex->n_waiting_thds, 1, ATOMIC_RELAXED);
	uint64_t now = nstime_now_ns();
	uint64_t waited = now > start ? now - start : 0;
	mutex_prof_data_t *prof = &mutex->prof;
	prof->n_wait++;
	prof->tot_wait_ns += waited;
	if (waited > prof->max_wait_ns)
		prof->max_wait_ns = waited;
	if (nthds > prof->max_n_thds)
		prof->max_n_thds = nthds;
}

/* --- profiling counters --------------------------------------------------- */

void
malloc_mutex_prof_read(const malloc_mutex_t *mutex, mutex_prof_data_t *data) {
	*data = mutex->prof;
}

void
mutex_prof_data_merge(mutex_prof_data_t *sum, const mutex_prof_data_t *d) {
	sum->n_lock_ops += d->n_lock_ops;
	sum->n_owner_switches += d->n_owner_switches;
	sum->n_wait += d->n_wait;
	sum->n_spin_acquired += d->n_spin_acquired;
	sum->tot_wait_ns += d->tot_wait_ns;
	if (d->max_wait_ns > sum->max_wait_ns)
		sum->max_wait_ns = d->max_wait_ns;
	if (d->max_n_thds > sum->max_n_thds)
		sum->max_n_thds = d->max_n_thds;
}

bool
malloc_mutex_prof_read_named(const char *name, mutex_prof_data_t *data) {
	bool found = false;
	memset(data, 0, sizeof(*data));
	pthread_mutex_lock(&registry_lock);
	for (malloc_mutex_t *m = registry_head; m != NULL; m = m->reg_next) {
		if (m->name != NULL && strcmp(m->name, name) == 0) {
			/* Without the mutex (see the reset below): a
			 * snapshot, like every mutex statistic. */
			RACY_READS_BEGIN();
			mutex_prof_data_t d = m->prof;
			RACY_READS_END();
			mutex_prof_data_merge(data, &d);
			found = true;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	return found;
}

/*
 * Taking each mutex here could deadlock: malloc_mutex_init() takes
 * registry_lock while its caller may hold any allocator lock.  So the
 * counters are cleared without the mutexes, by relaxed stores; an update
 * racing with the reset may survive it or be lost, which a statistic can
 * afford.
 */
void
malloc_mutex_prof_reset_all(void) {
	pthread_mutex_lock(&registry_lock);
	for (malloc_mutex_t *m = registry_head; m != NULL; m = m->reg_next) {
		mutex_prof_data_t *p = &m->prof;
		__atomic_store_n(&p->n_lock_ops, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&p->n_owner_switches, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&p->n_wait, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&p->n_spin_acquired, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&p->tot_wait_ns, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&p->max_wait_ns, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&p->max_n_thds, 0, __ATOMIC_RELAXED);
		/* The next acquisition counts as a change of owner. */
		__atomic_store_n(&m->prev_owner, 0, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&registry_lock);
}
