/* tsd: state transitions and thread-exit cleanup; see tsd.h. */
#include "jemalloc_internal.h"
#include "tsd.h"
#include "arena.h"
#include "prof.h"

#include <pthread.h>

__thread tsd_t tsd_tls JEMALLOC_TLS_MODEL = {
	.state = tsd_state_uninitialized
};
bool tsd_booted = false;
static pthread_key_t tsd_key;

/* Set by the conf parser: options that force every thread off the fast
 * path (junk, zero, xmalloc). */
extern bool malloc_slow;


/* Registers tsd with the key so that tsd_cleanup runs at thread exit. */
static void
tsd_set_key(tsd_t *tsd) {
	if (tsd_booted)
		pthread_setspecific(tsd_key, tsd);
}

static void
tsd_data_init(tsd_t *tsd) {
	rtree_ctx_data_init(&tsd->rtree_ctx);
	/* Seed the offset PRNG from the block's address: distinct per thread. */
	tsd->offset_state = (uint64_t)(uintptr_t)tsd;
	tsd->arena = NULL;
	tsd->iarena = NULL;
	tsd->tcache_enabled = false;
	tsd->decay_ticker = DECAY_NTICKS_PER_UPDATE;
#ifdef JEMALLOC_PROF
	prof_tsd_init(tsd);
#endif
}

/* For threads that must not hold state needing cleanup: every allocation
 * goes to arena 0 through the reentrant path. */
static void
tsd_data_init_nocleanup(tsd_t *tsd) {
	tsd_data_init(tsd);
	tsd->reentrancy_level = 1;
}

void
tsd_slow_update(tsd_t *tsd) {
	if (tsd->state != tsd_state_nominal && tsd->state !=
	    tsd_state_nominal_slow)
		return;
	if (malloc_slow || tsd->reentrancy_level > 0 || !tsd->tcache_enabled)
		tsd->state = tsd_state_nominal_slow;
	else
		tsd->state = tsd_state_nominal;
}

/* A full thread: arena bindings come lazily, the cache now. */
static void
tsd_become_nominal(tsd_t *tsd) {
	tsd->state = tsd_state_nominal_slow;
	tsd->reentrancy_level = 0;
	tsd_data_init(tsd);
	tsd_set_key(tsd);
	tsd_tcache_enabled_data_init(tsd);
	tsd_slow_update(tsd);
}

JEMALLOC_NOINLINE tsd_t *
tsd_fetch_slow(tsd_t *tsd, bool minimal) {
	switch (tsd->state) {
	case tsd_state_nominal:
	case tsd_state_nominal_slow:
	case tsd_state_reincarnated:
		break;
	case tsd_state_uninitialized:
		if (minimal) {
			tsd->state = tsd_state_minimal_initialized;
			tsd_data_init_nocleanup(tsd);
		} else {
			tsd_become_nominal(tsd);
		}
		break;
	case tsd_state_minimal_initialized:
		if (!minimal) {
			/* First real allocation: become a full thread. */
			tsd_become_nominal(tsd);
		}
		break;
	case tsd_state_purgatory:
		/* Used again after its cleanup (another key's destructor):
		 * give it a minimal state and clean up again at the end. */
		tsd->state = tsd_state_reincarnated;
		tsd_data_init_nocleanup(tsd);
		tsd_set_key(tsd);
		break;
	default:
		not_reached();
	}
	return tsd;
}

/* pthread key destructor: runs at thread exit. */
void
tsd_cleanup(void *arg) {
	tsd_t *tsd = (tsd_t *)arg;
	switch (tsd->state) {
	case tsd_state_uninitialized:
	case tsd_state_minimal_initialized:
		break;
	case tsd_state_nominal:
	case tsd_state_nominal_slow:
	case tsd_state_reincarnated: {
		arena_t *arena = tsd->arena;
		if (config_prof)
			prof_tdata_cleanup(tsd);
		tcache_cleanup(tsd);
		iarena_cleanup(tsd);
		arena_cleanup(tsd);
		/*
		 * The flush above may leave dirty pages that no thread will tick
		 * away: decay arena 0 (it held the cache's slot array) and the
		 * thread's arena, purging the latter completely if nobody uses
		 * it any more (a finished thread pool gives its memory back).
		 */
		tsdn_t *tsdn = tsd_tsdn(tsd);
		arena_decay(tsdn, arena_get_from_ind(0), false, false);
		if (arena != NULL) {
			arena_decay(tsdn, arena, false, arena_nthreads_get(arena,
			    false) == 0);
		}
		tsd->state = tsd_state_purgatory;
		/* Leave the key unset: pthread calls us again only if
		 * somebody re-arms it (reincarnation does). */
		break;
	}
	case tsd_state_purgatory:
		break;
	default:
		not_reached();
	}
}

/* Called by malloc_init_hard before any thread can use TLS state. */
bool
malloc_tsd_boot0(void) {
	if (pthread_key_create(&tsd_key, tsd_cleanup) != 0)
		return true;
	tsd_booted = true;
	return false;
}

void
malloc_tsd_boot1(void) {
}

