/*
 * tsd (white-box): the per-thread state machine (facts §6.9).  A thread
 * that has allocated is nominal (nominal_slow when malloc_slow is on, as
 * with the debug build's junk filling); a thread that only frees stays
 * minimal_initialized with no arena binding and no tcache, and its frees go
 * straight to the arena; its first allocation makes it nominal with a
 * tcache.  pre/post_reentrancy switch nominal <-> nominal_slow and route
 * allocations to arena 0; disabling the tcache makes the thread slow but
 * allocation keeps working; thread exit runs the cleanup (purgatory), a
 * later allocation reincarnates the thread, and the arena thread counts
 * drop back.
 */
#include "jemalloc_internal.h"
#include "sz.h"
#include "bin.h"
#include "extent.h"
#include "arena.h"
#include "ctl.h"
#include "tcache.h"
#include "tsd.h"
#include "jemalloc_inlines.h"

#include <pthread.h>

#include "test.h"

#pragma GCC diagnostic ignored "-Wformat-zero-length"

/* See test/unit/tcache.c: keep the compiler from eliding malloc/free. */
static void *(*volatile tmalloc)(size_t) = je_malloc;
static void (*volatile tfree)(void *) = je_free;

extern bool malloc_slow;

/* The state of a thread that has allocated. */
static uint8_t
nominal_state(void) {
	return malloc_slow ? tsd_state_nominal_slow : tsd_state_nominal;
}

/* Reads the calling thread's state without changing it. */
static uint8_t
state_now(void) {
	return tsd_get()->state;
}

static unsigned
ptr_arena_ind(const void *p) {
	/* No tsd: must not change the calling thread's state. */
	extent_t *e = extent_lookup(NULL, p, true);
	return e == NULL ? ~0U : extent_arena_ind_get(e);
}

/* Bound threads over all arenas: [0] application, [1] internal. */
static void
nthreads_total(unsigned out[2]) {
	out[0] = out[1] = 0;
	unsigned n = narenas_total_get();
	for (unsigned i = 0; i < n; i++) {
		arena_t *a = arena_get_from_ind(i);
		if (a == NULL)
			continue;
		out[0] += arena_nthreads_get(a, false);
		out[1] += arena_nthreads_get(a, true);
	}
}

static size_t
curregs_of(arena_t *arena, unsigned ind) {
	bin_t *bin = &arena->bins[ind];
	malloc_mutex_lock(&bin->lock);
	size_t n = bin->stats.curregs;
	malloc_mutex_unlock(&bin->lock);
	return n;
}

/* --- main thread ---------------------------------------------------------- */

TEST(main_thread_nominal) {
	void *p = tmalloc(1);
	assert_ptr_not_null(p, "");
	tfree(p);
	tsd_t *tsd = tsd_get();
	expect_d_eq(tsd->state, nominal_state(), "state of the main thread "
	    "(malloc_slow=%d)", (int)malloc_slow);
	expect_true(tsd->tcache_enabled, "");
	expect_d_eq(tsd->reentrancy_level, 0, "");
	expect_ptr_not_null(tsd->arena, "no application arena binding");
	expect_ptr_not_null(tsd->iarena, "no internal arena binding");
	expect_true(tsd_fast(tsd) == !malloc_slow, "");
}

/* --- a thread that only frees --------------------------------------------- */

typedef struct {
	pthread_barrier_t *barrier;
	void *small, *large;
	/* Observed by the thread. */
	uint8_t state_start, state_after_free, state_after_malloc;
	bool arena_null_after_free, tcache_off_after_free;
	int8_t reentrancy_after_free;
	bool tcache_on_after_malloc, arena_set_after_malloc;
} free_only_arg_t;

static void *
free_only_thread(void *varg) {
	free_only_arg_t *a = varg;
	a->state_start = state_now();
	tfree(a->small);
	tfree(a->large);
	tsd_t *tsd = tsd_get();
	a->state_after_free = tsd->state;
	a->arena_null_after_free = tsd->arena == NULL && tsd->iarena == NULL;
	a->tcache_off_after_free = !tsd->tcache_enabled;
	a->reentrancy_after_free = tsd->reentrancy_level;
	pthread_barrier_wait(a->barrier);	/* main looks at nthreads */
	pthread_barrier_wait(a->barrier);
	void *p = tmalloc(100);
	a->state_after_malloc = tsd->state;
	a->tcache_on_after_malloc = tsd->tcache_enabled;
	a->arena_set_after_malloc = tsd->arena != NULL;
	tfree(p);
	pthread_barrier_wait(a->barrier);	/* main looks at nthreads */
	pthread_barrier_wait(a->barrier);
	return NULL;
}

TEST(free_only_thread_is_minimal) {
	tfree(tmalloc(1));
	const size_t small = 2560;
	const unsigned ind = sz_size2index(small);
	pthread_barrier_t barrier;
	pthread_barrier_init(&barrier, NULL, 2);
	free_only_arg_t a;
	memset(&a, 0, sizeof(a));
	a.barrier = &barrier;
	a.small = tmalloc(small);
	a.large = tmalloc(100000);
	assert_ptr_not_null(a.small, "");
	assert_ptr_not_null(a.large, "");
	arena_t *sarena = arena_get_from_ind(ptr_arena_ind(a.small));
	/* No GC step of this thread's cache may move regions meanwhile. */
	tsd_get()->tcache.gc_ticker = INT32_MAX / 2;
	size_t regs_before = config_stats ? curregs_of(sarena, ind) : 0;
	unsigned nt0[2], nt1[2], nt2[2], nt3[2];
	nthreads_total(nt0);

	pthread_t th;
	assert_d_eq(pthread_create(&th, NULL, free_only_thread, &a), 0, "");
	pthread_barrier_wait(&barrier);
	nthreads_total(nt1);
	size_t regs_after = config_stats ? curregs_of(sarena, ind) : 0;
	pthread_barrier_wait(&barrier);
	pthread_barrier_wait(&barrier);
	nthreads_total(nt2);
	pthread_barrier_wait(&barrier);
	pthread_join(th, NULL);
	nthreads_total(nt3);
	pthread_barrier_destroy(&barrier);

	expect_d_eq(a.state_start, tsd_state_uninitialized,
	    "a new thread starts uninitialized");
	expect_d_eq(a.state_after_free, tsd_state_minimal_initialized,
	    "state after free() only");
	expect_true(a.arena_null_after_free, "a free-only thread got an "
	    "arena binding");
	expect_true(a.tcache_off_after_free, "a free-only thread has a "
	    "tcache");
	expect_d_eq(a.reentrancy_after_free, 1, "minimal threads run with "
	    "reentrancy 1");
	expect_u_eq(nt1[0], nt0[0], "application bindings after free()");
	expect_u_eq(nt1[1], nt0[1], "internal bindings after free()");
	if (config_stats) {
		expect_zu_eq(regs_after, regs_before - 1, "the free of a "
		    "minimal thread goes straight to the arena bin");
	}
	expect_d_eq(a.state_after_malloc, nominal_state(),
	    "state after the first malloc");
	expect_true(a.tcache_on_after_malloc, "no tcache after malloc");
	expect_true(a.arena_set_after_malloc, "no arena after malloc");
	expect_u_eq(nt2[0], nt0[0] + 1, "application bindings after malloc");
	expect_u_eq(nt2[1], nt0[1] + 1, "internal bindings after malloc");
	expect_u_eq(nt3[0], nt0[0], "application bindings after exit");
	expect_u_eq(nt3[1], nt0[1], "internal bindings after exit");
}

/* A thread that only frees and exits: nothing to clean up. */
static void *
free_and_exit_thread(void *p) {
	tfree(p);
	return NULL;
}

TEST(free_only_thread_exit) {
	unsigned nt0[2], nt1[2];
	nthreads_total(nt0);
	for (int i = 0; i < 20; i++) {
		void *p = tmalloc((size_t)(i + 1) * 300);
		assert_ptr_not_null(p, "");
		pthread_t th;
		assert_d_eq(pthread_create(&th, NULL, free_and_exit_thread, p),
		    0, "");
		pthread_join(th, NULL);
	}
	nthreads_total(nt1);
	expect_u_eq(nt1[0], nt0[0], "");
	expect_u_eq(nt1[1], nt0[1], "");
}

/* --- reentrancy ----------------------------------------------------------- */

typedef struct {
	unsigned own_arena;
	uint8_t state_nominal, state_reentrant, state_nested, state_unnested,
	    state_after;
	int8_t level_reentrant, level_nested;
	unsigned arena_small, arena_large, arena_huge, arena_aligned;
	unsigned arena_after;
	bool tcache_untouched;
	bool ok;
} reentrancy_arg_t;

static void *
reentrancy_thread(void *varg) {
	reentrancy_arg_t *a = varg;
	void *p = tmalloc(64);
	tfree(p);
	tsd_t *tsd = tsd_get();
	a->state_nominal = tsd->state;
	a->own_arena = tsd->arena != NULL ? tsd->arena->ind : ~0U;
	const unsigned ind = sz_size2index(64);
	cache_bin_t *bin = tcache_small_bin_get(&tsd->tcache, ind);
	unsigned ncached = cache_bin_ncached(bin);

	pre_reentrancy(tsd);
	a->state_reentrant = tsd->state;
	a->level_reentrant = tsd->reentrancy_level;
	void *s = tmalloc(64);
	void *l = tmalloc(20000);
	void *h = tmalloc(300000);
	void *al = NULL;
	if (je_posix_memalign(&al, 4096, 5000) != 0)
		al = NULL;
	a->ok = s != NULL && l != NULL && h != NULL && al != NULL;
	if (a->ok) {
		memset(s, 1, 64);
		memset(l, 2, 20000);
		memset(h, 3, 300000);
		memset(al, 4, 5000);
		a->arena_small = ptr_arena_ind(s);
		a->arena_large = ptr_arena_ind(l);
		a->arena_huge = ptr_arena_ind(h);
		a->arena_aligned = ptr_arena_ind(al);
	}
	pre_reentrancy(tsd);
	a->state_nested = tsd->state;
	a->level_nested = tsd->reentrancy_level;
	post_reentrancy(tsd);
	a->state_unnested = tsd->state;
	tfree(s);
	tfree(l);
	tfree(h);
	tfree(al);
	/* Neither the allocations nor the frees touched the cache. */
	a->tcache_untouched = cache_bin_ncached(bin) == ncached;
	post_reentrancy(tsd);
	a->state_after = tsd->state;
	p = tmalloc(64);
	a->arena_after = ptr_arena_ind(p);
	tfree(p);
	return NULL;
}

TEST(reentrancy_uses_arena_0) {
	tfree(tmalloc(1));
	/* Direct transitions on the main thread. */
	tsd_t *tsd = tsd_fetch();
	uint8_t nominal = nominal_state();
	expect_d_eq(tsd->state, nominal, "");
	pre_reentrancy(tsd);
	expect_d_eq(tsd->state, tsd_state_nominal_slow, "");
	expect_false(tsd_fast(tsd), "");
	post_reentrancy(tsd);
	expect_d_eq(tsd->state, nominal, "");
	expect_d_eq(tsd->reentrancy_level, 0, "");

	reentrancy_arg_t a;
	memset(&a, 0, sizeof(a));
	pthread_t th;
	assert_d_eq(pthread_create(&th, NULL, reentrancy_thread, &a), 0, "");
	pthread_join(th, NULL);
	expect_d_eq(a.state_nominal, nominal, "");
	expect_d_eq(a.state_reentrant, tsd_state_nominal_slow, "");
	expect_d_eq(a.level_reentrant, 1, "");
	expect_d_eq(a.state_nested, tsd_state_nominal_slow, "");
	expect_d_eq(a.level_nested, 2, "");
	expect_d_eq(a.state_unnested, tsd_state_nominal_slow,
	    "still reentrant at level 1");
	expect_d_eq(a.state_after, nominal, "back to nominal at level 0");
	assert_true(a.ok, "allocation failed while reentrant");
	expect_u_eq(a.arena_small, 0, "small allocation while reentrant");
	expect_u_eq(a.arena_large, 0, "large allocation while reentrant");
	expect_u_eq(a.arena_huge, 0, "huge allocation while reentrant");
	expect_u_eq(a.arena_aligned, 0, "aligned allocation while reentrant");
	expect_true(a.tcache_untouched, "the tcache was used while reentrant");
	if (narenas_auto > 1) {
		expect_u_ne(a.own_arena, 0, "a second thread should get its "
		    "own arena when narenas_auto = %u", narenas_auto);
		expect_u_eq(a.arena_after, a.own_arena,
		    "after reentrancy the thread's own arena is used again");
	}
}

/* --- tcache disabled ------------------------------------------------------ */

TEST(tcache_disabled_is_slow) {
	tfree(tmalloc(1));
	tsd_t *tsd = tsd_fetch();
	const size_t size = 3072;
	const unsigned ind = sz_size2index(size);
	tcache_enabled_set(tsd, false);
	expect_false(tsd->tcache_enabled, "");
	expect_d_eq(tsd->state, tsd_state_nominal_slow,
	    "a thread without tcache must be on the slow path");
	arena_t *arena = arena_choose(tsd, NULL);
	size_t regs0 = config_stats ? curregs_of(arena, ind) : 0;
	void *ps[30];
	for (int i = 0; i < 30; i++) {
		ps[i] = tmalloc(size);
		assert_ptr_not_null(ps[i], "");
		memset(ps[i], i, size);
	}
	void *big = tmalloc(20000);
	assert_ptr_not_null(big, "");
	memset(big, 7, 20000);
	if (config_stats) {
		expect_zu_eq(curregs_of(arena, ind), regs0 + 30,
		    "without a tcache each allocation takes one region");
	}
	for (int i = 0; i < 30; i++) {
		unsigned char *b = ps[i];
		expect_true(b[0] == (unsigned char)i && b[size - 1] ==
		    (unsigned char)i, "contents of %d", i);
		tfree(ps[i]);
	}
	tfree(big);
	if (config_stats) {
		expect_zu_eq(curregs_of(arena, ind), regs0,
		    "without a tcache each free returns the region");
	}
	expect_d_eq(tsd->state, tsd_state_nominal_slow, "");

	tcache_enabled_set(tsd, true);
	expect_true(tsd->tcache_enabled, "");
	expect_d_eq(tsd->state, nominal_state(), "");
	void *p = tmalloc(size);
	assert_ptr_not_null(p, "");
	cache_bin_t *bin = tcache_small_bin_get(&tsd->tcache, ind);
	expect_u_eq(cache_bin_ncached(bin), (tcache_ncached_max[ind] >>
	    tsd->tcache.lg_fill_div[ind]) - 1, "the new tcache fills");
	tfree(p);
	/* Enabling twice, or disabling twice, is harmless. */
	tcache_enabled_set(tsd, true);
	expect_true(tsd->tcache_enabled, "");
	tcache_enabled_set(tsd, false);
	tcache_enabled_set(tsd, false);
	expect_false(tsd->tcache_enabled, "");
	tfree(tmalloc(100));
	tcache_enabled_set(tsd, true);
	expect_d_eq(tsd->state, nominal_state(), "");
	tfree(tmalloc(100));
}

/* --- thread exit ---------------------------------------------------------- */

static pthread_key_t exit_key;

typedef struct {
	int calls;
	int nstates;
	uint8_t states[8];
	bool did_alloc;
	bool bindings_gone, tcache_off;
	uint8_t state_after_malloc;
	unsigned arena_small, arena_large;
	bool contents_ok;
	bool second_purgatory;
} exit_rec_t;

static exit_rec_t exit_rec;

static void
exit_destructor(void *v) {
	exit_rec_t *r = &exit_rec;
	r->calls++;
	tsd_t *tsd = tsd_get();
	uint8_t st = tsd->state;
	if (r->nstates < 8)
		r->states[r->nstates++] = st;
	if (st == tsd_state_nominal || st == tsd_state_nominal_slow) {
		/* The allocator's destructor has not run yet: look again in
		 * the next round. */
		pthread_setspecific(exit_key, v);
		return;
	}
	if (st != tsd_state_purgatory)
		return;
	if (!r->did_alloc) {
		r->did_alloc = true;
		r->bindings_gone = tsd->arena == NULL && tsd->iarena == NULL;
		r->tcache_off = !tsd->tcache_enabled;
		unsigned char *s = tmalloc(200);
		unsigned char *l = tmalloc(40000);
		r->state_after_malloc = tsd->state;
		if (s != NULL && l != NULL) {
			r->arena_small = ptr_arena_ind(s);
			r->arena_large = ptr_arena_ind(l);
			memset(s, 0x11, 200);
			memset(l, 0x22, 40000);
			r->contents_ok = s[199] == 0x11 && l[39999] == 0x22;
		}
		tfree(s);
		tfree(l);
		/* Once more: the reincarnated state is cleaned up again. */
		pthread_setspecific(exit_key, v);
		return;
	}
	r->second_purgatory = true;
}

static void *
exit_thread(void *arg) {
	void *p = tmalloc(1000);
	memset(p, 1, 1000);
	/* Leave objects in the cache for the cleanup to flush. */
	for (int i = 0; i < 50; i++)
		tfree(tmalloc((size_t)(i * 97 % 5000) + 1));
	pthread_setspecific(exit_key, (void *)1);
	tfree(p);
	return NULL;
}

TEST(thread_exit_purgatory) {
	tfree(tmalloc(1));
	memset(&exit_rec, 0, sizeof(exit_rec));
	assert_d_eq(pthread_key_create(&exit_key, exit_destructor), 0, "");
	unsigned nt0[2], nt1[2];
	nthreads_total(nt0);
	pthread_t th;
	assert_d_eq(pthread_create(&th, NULL, exit_thread, NULL), 0, "");
	pthread_join(th, NULL);
	nthreads_total(nt1);
	pthread_key_delete(exit_key);

	exit_rec_t *r = &exit_rec;
	expect_true(r->did_alloc, "the destructor never saw purgatory "
	    "(calls %d, first states %d %d %d)", r->calls, r->states[0],
	    r->states[1], r->states[2]);
	expect_true(r->bindings_gone, "arena bindings survive the cleanup");
	expect_true(r->tcache_off, "the tcache survives the cleanup");
	expect_d_eq(r->state_after_malloc, tsd_state_reincarnated,
	    "allocation after cleanup");
	expect_u_eq(r->arena_small, 0, "reincarnated small allocation");
	expect_u_eq(r->arena_large, 0, "reincarnated large allocation");
	expect_true(r->contents_ok, "");
	expect_true(r->second_purgatory, "the reincarnated state was not "
	    "cleaned up again (states seen: %d)", r->nstates);
	expect_u_eq(nt1[0], nt0[0], "application bindings after exit");
	expect_u_eq(nt1[1], nt0[1], "internal bindings after exit");
}

static void *
exit_thread_plain(void *arg) {
	void *ps[64];
	for (int i = 0; i < 64; i++)
		ps[i] = tmalloc((size_t)(i * 211 % 40000) + 1);
	for (int i = 0; i < 64; i++)
		tfree(ps[i]);
	return NULL;
}

TEST(many_threads_release_bindings) {
	tfree(tmalloc(1));
	unsigned nt0[2], nt1[2];
	nthreads_total(nt0);
	for (int round = 0; round < 10; round++) {
		pthread_t th[4];
		for (int i = 0; i < 4; i++) {
			assert_d_eq(pthread_create(&th[i], NULL,
			    exit_thread_plain, NULL), 0, "");
		}
		for (int i = 0; i < 4; i++)
			pthread_join(th[i], NULL);
	}
	nthreads_total(nt1);
	expect_u_eq(nt1[0], nt0[0], "");
	expect_u_eq(nt1[1], nt0[1], "");
}

int
main(void) {
	return test_run(
	    TEST_CASE(main_thread_nominal),
	    TEST_CASE(free_only_thread_is_minimal),
	    TEST_CASE(free_only_thread_exit),
	    TEST_CASE(reentrancy_uses_arena_0),
	    TEST_CASE(tcache_disabled_is_slow),
	    TEST_CASE(thread_exit_purgatory),
	    TEST_CASE(many_threads_release_bindings));
}
