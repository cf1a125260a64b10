/* background_thread: decay workers; see background_thread.h. */
#include "jemalloc_internal.h"
#include "background_thread.h"
#include "arena.h"
#include "base.h"
#include "decay.h"
#include "nstime.h"
#include "tsd.h"

#include <signal.h>
#include <time.h>

bool opt_background_thread = false;
size_t opt_max_background_threads = MAX_BACKGROUND_THREAD_LIMIT;
atomic_b_t background_thread_enabled_state;

typedef enum {
	bg_state_stopped,
	bg_state_started
} bg_state_t;

typedef struct {
	/* Synchronization: mtx, except indefinite_sleep (a racy hint read
	 * by application threads before they take mtx). */
	malloc_mutex_t mtx;
	pthread_cond_t cond;
	pthread_t thread;
	bg_state_t state;
	bool indefinite_sleep;
	/* Pages made dirty in this worker's arenas since it last woke
	 * (atomic, added to by application threads). */
	size_t npages_new;
	unsigned ind;
	uint64_t nruns;
	uint64_t tot_sleep_ns;
} bg_info_t;

/* Serialises enable/disable and the worker count. */
static malloc_mutex_t background_thread_lock;
static bg_info_t *bg_infos;
static size_t bg_capacity;	/* entries in bg_infos */
static size_t bg_max;		/* max_background_threads */
static size_t bg_nthreads;	/* workers running */

size_t
background_thread_max_get(void) {
	return bg_max;
}

/* Sleep until one of the worker's arenas has enough to purge. */
static uint64_t
bg_interval_ns(tsdn_t *tsdn, unsigned ind, size_t nworkers) {
	uint64_t sleep = BACKGROUND_THREAD_INDEFINITE_SLEEP;
	unsigned n = atomic_load_u(&narenas_total, ATOMIC_ACQUIRE);
	for (unsigned i = ind; i < n; i += (unsigned)nworkers) {
		arena_t *arena = arena_get_from_ind(i);
		if (arena == NULL)
			continue;
		decay_t *decays[2] = {&arena->decay_dirty, &arena->decay_muzzy};
		extents_t *sets[2] = {&arena->extents_dirty,
		    &arena->extents_muzzy};
		for (int k = 0; k < 2; k++) {
			size_t npages = extents_npages_get(sets[k]);
			if (npages == 0)
				continue;
			malloc_mutex_lock(&decays[k]->mtx);
			uint64_t ns = decay_ns_until_purge(decays[k], npages,
			    BACKGROUND_THREAD_NPAGES_THRESHOLD);
			malloc_mutex_unlock(&decays[k]->mtx);
			if (ns < sleep)
				sleep = ns;
		}
	}
	if (sleep != BACKGROUND_THREAD_INDEFINITE_SLEEP && sleep <
	    BACKGROUND_THREAD_MIN_INTERVAL_NS)
		sleep = BACKGROUND_THREAD_MIN_INTERVAL_NS;
	return sleep;
}

static void *
bg_thread_entry(void *arg) {
	bg_info_t *info = (bg_info_t *)arg;
	/* A minimal tsd: anything this thread allocates goes to arena 0. */
	tsdn_t *tsdn = tsd_tsdn(tsd_fetch_min());
	malloc_mutex_lock(&info->mtx);
	while (info->state == bg_state_started) {
		size_t nworkers = __atomic_load_n(&bg_nthreads, __ATOMIC_RELAXED);
		if (nworkers == 0)
			nworkers = 1;
		malloc_mutex_unlock(&info->mtx);

		/* A walker, so that arena_destroy waits for the pass. */
		arena_walk_begin();
		unsigned n = atomic_load_u(&narenas_total, ATOMIC_ACQUIRE);
		for (unsigned i = info->ind; i < n; i += (unsigned)nworkers) {
			arena_t *arena = arena_walk_get(i);
			if (arena != NULL)
				arena_decay(tsdn, arena, true, false);
		}
		uint64_t sleep = bg_interval_ns(tsdn, info->ind, nworkers);
		arena_walk_end();

		malloc_mutex_lock(&info->mtx);
		info->nruns++;
		if (info->state != bg_state_started)
			break;
		bool indefinite = sleep == BACKGROUND_THREAD_INDEFINITE_SLEEP;
		__atomic_store_n(&info->indefinite_sleep, indefinite,
		    __ATOMIC_RELAXED);
		uint64_t before = nstime_now_ns();
		if (indefinite) {
			pthread_cond_wait(&info->cond, &info->mtx.lock);
		} else {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			uint64_t when = (uint64_t)ts.tv_sec * 1000000000ULL +
			    (uint64_t)ts.tv_nsec + sleep;
			ts.tv_sec = (time_t)(when / 1000000000ULL);
			ts.tv_nsec = (long)(when % 1000000000ULL);
			pthread_cond_timedwait(&info->cond, &info->mtx.lock, &ts);
		}
		__atomic_store_n(&info->indefinite_sleep, false, __ATOMIC_RELAXED);
		__atomic_store_n(&info->npages_new, 0, __ATOMIC_RELAXED);
		info->tot_sleep_ns += nstime_now_ns() - before;
	}
	malloc_mutex_unlock(&info->mtx);
	return NULL;
}

/* Creates a worker with every signal blocked, so that none of the
 * application's signals is delivered to it. */
static bool
bg_thread_create(bg_info_t *info) {
	sigset_t all, old;
	sigfillset(&all);
	if (pthread_sigmask(SIG_SETMASK, &all, &old) != 0)
		return true;
	int err = pthread_create(&info->thread, NULL, bg_thread_entry, info);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		malloc_printf("<jemalloc>: background thread creation failed "
		    "(%d)\n", err);
		return true;
	}
	return false;
}

bool
background_threads_enable(tsd_t *tsd) {
	malloc_mutex_lock(&background_thread_lock);
	bool err = false;
	if (!background_thread_enabled()) {
		size_t n = bg_max;
		unsigned narenas = atomic_load_u(&narenas_total,
		    ATOMIC_ACQUIRE);
		if (n > narenas)
			n = narenas;
		if (n == 0)
			n = 1;
		__atomic_store_n(&bg_nthreads, n, __ATOMIC_RELAXED);
		for (size_t i = 0; i < n; i++) {
			bg_info_t *info = &bg_infos[i];
			malloc_mutex_lock(&info->mtx);
			info->state = bg_state_started;
			info->ind = (unsigned)i;
			malloc_mutex_unlock(&info->mtx);
			if (bg_thread_create(info)) {
				malloc_mutex_lock(&info->mtx);
				info->state = bg_state_stopped;
				malloc_mutex_unlock(&info->mtx);
				__atomic_store_n(&bg_nthreads, i,
				    __ATOMIC_RELAXED);
				err = true;
				break;
			}
		}
		atomic_store_b(&background_thread_enabled_state,
		    bg_nthreads > 0, ATOMIC_RELAXED);
	}
	malloc_mutex_unlock(&background_thread_lock);
	return err;
}

bool
background_threads_disable(tsd_t *tsd) {
	malloc_mutex_lock(&background_thread_lock);
	atomic_store_b(&background_thread_enabled_state, false, ATOMIC_RELAXED);
	for (size_t i = 0; i < bg_nthreads; i++) {
		bg_info_t *info = &bg_infos[i];
		malloc_mutex_lock(&info->mtx);
		bool was = info->state == bg_state_started;
		info->state = bg_state_stopped;
		pthread_cond_signal(&info->cond);
		malloc_mutex_unlock(&info->mtx);
		if (was)
			pthread_join(info->thread, NULL);
	}
	__atomic_store_n(&bg_nthreads, 0, __ATOMIC_RELAXED);
	malloc_mutex_unlock(&background_thread_lock);
	return false;
}

bool
background_thread_max_set(tsd_t *tsd, size_t max) {
	if (max == 0 || max > bg_capacity)
		return true;
	bool was = background_thread_enabled();
	if (was)
		background_threads_disable(tsd);
	malloc_mutex_lock(&background_thread_lock);
	bg_max = max;
	malloc_mutex_unlock(&background_thread_lock);
	if (was)
		return background_threads_enable(tsd);
	return false;
}

void
background_thread_wakeup_early(unsigned arena_ind, size_t npages) {
	size_t n = __atomic_load_n(&bg_nthreads, __ATOMIC_RELAXED);
	if (n == 0)
		return;
	bg_info_t *info = &bg_infos[arena_ind % n];
	/*
	 * Racy hints: a worker asleep with nothing to do is woken at once;
	 * one in a timed sleep only once more than
	 * BACKGROUND_THREAD_NPAGES_THRESHOLD pages became dirty since it
	 * planned that sleep, so a sudden burst of frees is not left waiting
	 * for a plan made for other pages.
	 */
	if (!__atomic_load_n(&info->indefinite_sleep, __ATOMIC_RELAXED) &&
	    __atomic_add_fetch(&info->npages_new, npages, __ATOMIC_RELAXED) <=
	    BACKGROUND_THREAD_NPAGES_THRESHOLD)
		return;
	if (malloc_mutex_trylock(&info->mtx))
		return;
	if (info->state == bg_state_started) {
		__atomic_store_n(&info->npages_new, 0, __ATOMIC_RELAXED);
		pthread_cond_signal(&info->cond);
	}
	malloc_mutex_unlock(&info->mtx);
}

void
background_thread_stats_read(size_t *num_threads, uint64_t *num_runs,
    uint64_t *run_interval_ns) {
	uint64_t runs = 0, sleep = 0;
	malloc_mutex_lock(&background_thread_lock);
	*num_threads = bg_nthreads;
	for (size_t i = 0; i < bg_capacity; i++) {
		bg_info_t *info = &bg_infos[i];
		malloc_mutex_lock(&info->mtx);
		runs += info->nruns;
		sleep += info->tot_sleep_ns;
		malloc_mutex_unlock(&info->mtx);
	}
	malloc_mutex_unlock(&background_thread_lock);
	*num_runs = runs;
	*run_interval_ns = runs == 0 ? 0 : sleep / runs;
}

void
background_thread_postfork_child(void) {
	/* The workers stayed in the parent. */
	atomic_store_b(&background_thread_enabled_state, false, ATOMIC_RELAXED);
	for (size_t i = 0; i < bg_capacity; i++) {
		bg_infos[i].state = bg_state_stopped;
		__atomic_store_n(&bg_infos[i].indefinite_sleep, false,
		    __ATOMIC_RELAXED);
		bg_infos[i].npages_new = 0;
		pthread_cond_init(&bg_infos[i].cond, NULL);
	}
	bg_nthreads = 0;
}

/* After ncpus is known; returns true on error. */
bool
background_thread_boot(void) {
	if (malloc_mutex_init(&background_thread_lock, "background_thread",
	    WITNESS_RANK_BACKGROUND_THREAD_GLOBAL))
		return true;
	/* max_background_threads defaults to the CPU count. */
	bg_max = opt_max_background_threads;
	if (bg_max > ncpus)
		bg_max = ncpus;
	if (bg_max == 0)
		bg_max = 1;
	bg_capacity = ncpus > bg_max ? ncpus : bg_max;
	if (opt_max_background_threads == MAX_BACKGROUND_THREAD_LIMIT)
		opt_max_background_threads = bg_max;
	bg_infos = base_alloc(NULL, b0get(), sizeof(bg_info_t) * bg_capacity,
	    CACHELINE);
	if (bg_infos == NULL)
		return true;
	for (size_t i = 0; i < bg_capacity; i++) {
		if (malloc_mutex_init(&bg_infos[i].mtx, "background_thread_info",
		    WITNESS_RANK_BACKGROUND_THREAD))
			return true;
		pthread_cond_init(&bg_infos[i].cond, NULL);
		bg_infos[i].state = bg_state_stopped;
	}
	return false;
}

void
background_thread_boot_start(tsd_t *tsd) {
	if (opt_background_thread)
		background_threads_enable(tsd);
}
