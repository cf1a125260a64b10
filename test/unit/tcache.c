/*
 * tcache (white-box): the cache_bin stack (LIFO order, low-water tracking,
 * full detection), the boot geometry (nhbins, tcache_maxclass, slot counts
 * per class, total slots), and the calling thread's cache: a miss fills
 * ncached_max >> lg_fill_div regions handed out lowest address first, a push
 * onto a full bin flushes the oldest half, tcache_flush returns everything
 * to the arena bins, and the incremental GC step (tcache_event_hard) trims
 * unused objects and adapts lg_fill_div (facts §5.2, §6.2).
 *
 * Every test that looks at counts uses a size class that nothing else in
 * this process allocates, and parks the GC ticker far away so that no GC
 * step runs behind the test's back.
 */
#include "jemalloc_internal.h"
#include "sz.h"
#include "bin.h"
#include "extent.h"
#include "arena.h"
#include "tcache.h"
#include "tsd.h"
#include "jemalloc_inlines.h"

#include "test.h"

#pragma GCC diagnostic ignored "-Wformat-zero-length"

/* --- helpers -------------------------------------------------------------- */

/*
 * The compiler may delete a malloc whose result only reaches free (the
 * test is built without -fno-builtin-malloc): call through pointers it
 * cannot see through.
 */
static void *(*volatile tmalloc)(size_t) = je_malloc;
static void (*volatile tfree)(void *) = je_free;

static tsd_t *
my_tsd(void) {
	return tsd_fetch();
}

/* No GC step may run while a test counts objects. */
static void
quiet_gc(tsd_t *tsd) {
	tsd->tcache.gc_ticker = INT32_MAX / 2;
}

static tcache_t *
my_tcache(void) {
	tsd_t *tsd = my_tsd();
	/* Make sure the thread is fully set up. */
	tfree(tmalloc(1));
	assert_true(tsd->tcache_enabled, "the main thread has no tcache");
	quiet_gc(tsd);
	return &tsd->tcache;
}

static cache_bin_t *
bin_of(tcache_t *tc, unsigned ind) {
	return ind < NBINS ? tcache_small_bin_get(tc, ind) :
	    tcache_large_bin_get(tc, ind);
}

/* Returns every cached object of class ind to the arenas. */
static void
bin_drain(unsigned ind) {
	tsd_t *tsd = my_tsd();
	cache_bin_t *bin = bin_of(&tsd->tcache, ind);
	if (ind < NBINS)
		tcache_bin_flush_small(tsd, &tsd->tcache, bin, ind, 0);
	else
		tcache_bin_flush_large(tsd, &tsd->tcache, bin, ind, 0);
	assert_u_eq(cache_bin_ncached(bin), 0, "bin %u not empty after a "
	    "flush to 0", ind);
}

static arena_t *
arena_of(const void *p) {
	extent_t *e = extent_lookup(tsd_tsdn(my_tsd()), p, true);
	assert_ptr_not_null(e, "no extent for %p", p);
	return extent_arena_get(e);
}

static extent_t *
extent_of(const void *p) {
	return extent_lookup(tsd_tsdn(my_tsd()), p, true);
}

static size_t
curregs(arena_t *arena, unsigned ind) {
	bin_t *bin = &arena->bins[ind];
	malloc_mutex_lock(&bin->lock);
	size_t n = bin->stats.curregs;
	malloc_mutex_unlock(&bin->lock);
	return n;
}

static size_t
curlextents(arena_t *arena, unsigned ind) {
	return atomic_load_zu(&arena->stats.lstats[ind - NBINS].curlextents,
	    ATOMIC_RELAXED);
}

/* The arena the thread's small and large requests come from. */
static arena_t *
my_arena(void) {
	tsd_t *tsd = my_tsd();
	arena_t *a = arena_choose(tsd, NULL);
	assert_ptr_not_null(a, "no arena");
	return a;
}

/* One GC step on bin ind; checks the bookkeeping every step does. */
static void
gc_step(unsigned ind) {
	tsd_t *tsd = my_tsd();
	tcache_t *tc = &tsd->tcache;
	tc->next_gc_bin = ind;
	tcache_event_hard(tsd, tc);
	expect_d_eq(tc->gc_ticker, TCACHE_GC_INCR, "ticker not rearmed");
	expect_u_eq(tc->next_gc_bin, (ind + 1) % nhbins,
	    "next_gc_bin after a step on %u", ind);
	quiet_gc(tsd);
}

/* --- cache_bin ------------------------------------------------------------ */

TEST(cache_bin_lifo_and_full) {
	enum { N = 8 };
	void *slots[N + 2];
	int objs[N + 1];
	cache_bin_t bin;
	/* Guard slots on both sides must never be written. */
	slots[0] = slots[N + 1] = (void *)0x1234;
	cache_bin_init(&bin, &slots[1], N);
	expect_u_eq(cache_bin_ncached(&bin), 0, "");
	expect_u_eq(cache_bin_ncached_max(&bin), N, "");
	expect_u_eq(cache_bin_low_water_get(&bin), 0, "");

	bool success = true;
	void *p = cache_bin_alloc_easy(&bin, &success);
	expect_false(success, "pop from an empty bin succeeded");
	expect_ptr_null(p, "");

	for (int i = 0; i < N; i++) {
		expect_true(cache_bin_dalloc_easy(&bin, &objs[i]),
		    "push %d of %d refused", i, N);
		expect_u_eq(cache_bin_ncached(&bin), (unsigned)i + 1, "");
	}
	/* Full: the push is refused and nothing changes. */
	expect_false(cache_bin_dalloc_easy(&bin, &objs[N]),
	    "push onto a full bin accepted");
	expect_u_eq(cache_bin_ncached(&bin), N, "");
	expect_ptr_eq(bin.stack_head, bin.full, "");
	expect_ptr_eq(slots[0], (void *)0x1234, "guard below overwritten");
	expect_ptr_eq(slots[N + 1], (void *)0x1234, "guard above overwritten");

	/* LIFO: the most recently pushed object comes out first. */
	for (int i = N - 1; i >= 0; i--) {
		p = cache_bin_alloc_easy(&bin, &success);
		expect_true(success, "pop %d failed", i);
		expect_ptr_eq(p, &objs[i], "pop order (LIFO) at %d", i);
	}
	p = cache_bin_alloc_easy(&bin, &success);
	expect_false(success, "pop from a drained bin succeeded");

	/* Interleaved pushes and pops stay LIFO. */
	cache_bin_dalloc_easy(&bin, &objs[0]);
	cache_bin_dalloc_easy(&bin, &objs[1]);
	expect_ptr_eq(cache_bin_alloc_easy(&bin, &success), &objs[1], "");
	cache_bin_dalloc_easy(&bin, &objs[2]);
	expect_ptr_eq(cache_bin_alloc_easy(&bin, &success), &objs[2], "");
	expect_ptr_eq(cache_bin_alloc_easy(&bin, &success), &objs[0], "");
	expect_false((cache_bin_alloc_easy(&bin, &success), success), "");
}

TEST(cache_bin_low_water) {
	enum { N = 8 };
	void *slots[N];
	int objs[N];
	cache_bin_t bin;
	bool success;
	cache_bin_init(&bin, slots, N);
	for (int i = 0; i < N; i++)
		cache_bin_dalloc_easy(&bin, &objs[i]);
	/* Pushes do not move the mark: it is still at "empty". */
	expect_u_eq(cache_bin_low_water_get(&bin), 0, "");
	cache_bin_low_water_reset(&bin);
	expect_u_eq(cache_bin_low_water_get(&bin), N, "reset -> ncached");

	/* The head sits on the mark but the bin is not empty: success. */
	void *p = cache_bin_alloc_easy(&bin, &success);
	expect_true(success, "pop at the low-water mark must succeed");
	expect_ptr_eq(p, &objs[N - 1], "");
	expect_u_eq(cache_bin_low_water_get(&bin), N - 1, "");
	cache_bin_alloc_easy(&bin, &success);
	cache_bin_alloc_easy(&bin, &success);
	expect_u_eq(cache_bin_low_water_get(&bin), N - 3, "");
	/* Pushes raise ncached but not the low-water count. */
	cache_bin_dalloc_easy(&bin, &objs[5]);
	cache_bin_dalloc_easy(&bin, &objs[6]);
	expect_u_eq(cache_bin_ncached(&bin), N - 1, "");
	expect_u_eq(cache_bin_low_water_get(&bin), N - 3, "");
	/* Pops above the mark do not move it. */
	cache_bin_alloc_easy(&bin, &success);
	expect_u_eq(cache_bin_low_water_get(&bin), N - 3, "");
	cache_bin_alloc_easy(&bin, &success);
	expect_u_eq(cache_bin_ncached(&bin), N - 3, "");
	expect_u_eq(cache_bin_low_water_get(&bin), N - 3, "");
	/* Going deeper moves it along. */
	cache_bin_alloc_easy(&bin, &success);
	expect_true(success, "");
	expect_u_eq(cache_bin_low_water_get(&bin), N - 4, "");

	/* Drain: every pop succeeds until the bin is empty. */
	unsigned n = cache_bin_ncached(&bin);
	for (unsigned i = 0; i < n; i++) {
		cache_bin_alloc_easy(&bin, &success);
		expect_true(success, "pop %u of %u", i, n);
		expect_u_eq(cache_bin_low_water_get(&bin), n - i - 1, "");
	}
	p = cache_bin_alloc_easy(&bin, &success);
	expect_false(success, "pop from an empty bin");
	expect_ptr_null(p, "");
	expect_u_eq(cache_bin_low_water_get(&bin), 0, "");

	/* Reset follows the head wherever it is. */
	cache_bin_dalloc_easy(&bin, &objs[0]);
	cache_bin_dalloc_easy(&bin, &objs[1]);
	cache_bin_dalloc_easy(&bin, &objs[2]);
	expect_u_eq(cache_bin_low_water_get(&bin), 0, "");
	cache_bin_low_water_reset(&bin);
	expect_u_eq(cache_bin_low_water_get(&bin), 3, "");
}

/* --- boot geometry -------------------------------------------------------- */

/* ncached_max of the 36 small classes, from the facts table (§5.2). */
static const unsigned expected_ncached_max_small[NBINS] = {
	200, 200, 200, 200, 128, 200, 200, 200, 64, 200, 128, 200,
	32, 128, 64, 128, 20, 64, 32, 64, 20, 32, 20, 32,
	20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20
};

TEST(boot_geometry) {
	my_tcache();
	expect_u_eq(nhbins, 41, "nhbins");
	expect_zu_eq(tcache_maxclass, 32768, "tcache_maxclass");
	expect_u_eq(sz_size2index(tcache_maxclass) + 1, nhbins, "");
	expect_d_eq(TCACHE_GC_INCR, 228, "TCACHE_GC_INCR");
	unsigned total = 0;
	for (unsigned i = 0; i < NBINS; i++) {
		unsigned want = 2 * bin_infos[i].nregs;
		if (want < 20)
			want = 20;
		if (want > 200)
			want = 200;
		expect_u_eq(tcache_ncached_max[i], want,
		    "class %u (%zu B, %u regs)", i, bin_infos[i].reg_size,
		    bin_infos[i].nregs);
		expect_u_eq(tcache_ncached_max[i],
		    expected_ncached_max_small[i], "class %u vs the table", i);
		total += tcache_ncached_max[i];
	}
	for (unsigned i = NBINS; i < nhbins; i++) {
		expect_u_eq(tcache_ncached_max[i], 20, "large class %u", i);
		total += tcache_ncached_max[i];
	}
	expect_u_eq(total, 3096, "sum of slots over the cached classes");
	expect_u_eq(tcache_nslots, 3096, "tcache_nslots");

	/* The thread's cache is carved with those counts. */
	tcache_t *tc = &my_tsd()->tcache;
	unsigned carved = 0;
	for (unsigned i = 0; i < nhbins; i++) {
		cache_bin_t *bin = bin_of(tc, i);
		expect_u_eq(cache_bin_ncached_max(bin), tcache_ncached_max[i],
		    "bin %u of the thread's cache", i);
		carved += cache_bin_ncached_max(bin);
		if (i < NBINS)
			expect_d_eq(tc->lg_fill_div[i] >= 1, 1, "");
	}
	expect_u_eq(carved, tcache_nslots, "");
	/* Classes above tcache_maxclass are never cached. */
	for (unsigned i = nhbins; i < NSIZES; i++) {
		expect_u_eq(cache_bin_ncached_max(bin_of(tc, i)), 0,
		    "uncached class %u has slots", i);
	}
}

/* --- fill ----------------------------------------------------------------- */

TEST(fill_half_lowest_first) {
	const size_t size = 640;
	const unsigned ind = sz_size2index(size);
	tcache_t *tc = my_tcache();
	cache_bin_t *bin = bin_of(tc, ind);
	bin_drain(ind);
	assert_u_eq(tcache_ncached_max[ind], 64, "");
	expect_d_eq(tc->lg_fill_div[ind], 1, "initial lg_fill_div");
	arena_t *arena = my_arena();
	size_t regs0 = curregs(arena, ind);
	uint64_t nfills0 = arena->bins[ind].stats.nfills;

	enum { N = 32 };
	void *ps[N + 1];
	ps[0] = tmalloc(size);
	assert_ptr_not_null(ps[0], "");
	unsigned nfill = 64 >> 1;
	expect_u_eq(cache_bin_ncached(bin), nfill - 1,
	    "after a miss the bin holds the fill minus the object returned");
	expect_ptr_eq(arena_of(ps[0]), arena, "");
	if (config_stats) {
		expect_zu_eq(curregs(arena, ind), regs0 + nfill,
		    "arena curregs after the fill");
		expect_u64_eq(arena->bins[ind].stats.nfills, nfills0 + 1, "");
	}
	/* The rest of the fill comes out in ascending address order. */
	for (unsigned i = 1; i < nfill; i++) {
		ps[i] = tmalloc(size - (i % 50));
		assert_ptr_not_null(ps[i], "");
		expect_u_eq(cache_bin_ncached(bin), nfill - 1 - i, "");
		if (extent_of(ps[i]) == extent_of(ps[i - 1])) {
			expect_true((uintptr_t)ps[i] > (uintptr_t)ps[i - 1],
			    "object %u (%p) below object %u (%p)", i, ps[i],
			    i - 1, ps[i - 1]);
		}
		expect_true((uintptr_t)ps[i] > (uintptr_t)ps[0] ||
		    extent_of(ps[i]) != extent_of(ps[0]),
		    "the first object out is not the lowest");
	}
	/* Nothing else used this class: the fill is one fresh slab. */
	if (extent_of(ps[0]) == extent_of(ps[nfill - 1])) {
		for (unsigned i = 1; i < nfill; i++) {
			expect_zu_eq((uintptr_t)ps[i] - (uintptr_t)ps[0],
			    (size_t)i * size, "object %u of a fresh slab", i);
		}
	}
	/* Empty again: the next request misses and fills anew. */
	expect_u_eq(cache_bin_ncached(bin), 0, "");
	ps[N] = tmalloc(size);
	assert_ptr_not_null(ps[N], "");
	expect_u_eq(cache_bin_ncached(bin), nfill - 1, "second fill");
	if (config_stats) {
		expect_zu_eq(curregs(arena, ind), regs0 + 2 * nfill, "");
		expect_u64_eq(arena->bins[ind].stats.nfills, nfills0 + 2, "");
	}
	for (unsigned i = 0; i <= N; i++)
		tfree(ps[i]);
	/* 31 + 33 objects: exactly full, no flush yet. */
	expect_u_eq(cache_bin_ncached(bin), 64, "");
	if (config_stats)
		expect_zu_eq(curregs(arena, ind), regs0 + 2 * nfill, "");
	bin_drain(ind);
	if (config_stats)
		expect_zu_eq(curregs(arena, ind), regs0, "all regions back");
}

/* --- flush on overflow ---------------------------------------------------- */

TEST(flush_on_full_small) {
	const size_t size = 768;
	const unsigned ind = sz_size2index(size);
	tcache_t *tc = my_tcache();
	cache_bin_t *bin = bin_of(tc, ind);
	const unsigned max = tcache_ncached_max[ind];
	assert_u_eq(max, 32, "");
	bin_drain(ind);
	arena_t *arena = my_arena();

	void *ps[33];
	for (unsigned i = 0; i < max + 1; i++) {
		ps[i] = tmalloc(size);
		assert_ptr_not_null(ps[i], "");
	}
	bin_drain(ind);
	size_t regs_live = curregs(arena, ind);

	for (unsigned i = 0; i < max; i++)
		tfree(ps[i]);
	expect_u_eq(cache_bin_ncached(bin), max, "bin should be full");
	expect_ptr_eq(bin->stack_head, bin->full, "");
	if (config_stats)
		expect_zu_eq(curregs(arena, ind), regs_live, "");

	/* The push that overflows flushes down to half first. */
	tfree(ps[max]);
	expect_u_eq(cache_bin_ncached(bin), max / 2 + 1,
	    "ncached after an overflowing push");
	expect_true(cache_bin_low_water_get(bin) <= cache_bin_ncached(bin),
	    "low water above ncached");
	if (config_stats) {
		expect_zu_eq(curregs(arena, ind), regs_live - max / 2,
		    "the oldest half went back to the arena");
	}
	/* The survivors are the newest objects, newest first. */
	for (unsigned i = 0; i <= max / 2; i++) {
		void *p = tmalloc(size);
		expect_ptr_eq(p, ps[max - i], "pop %u after the flush", i);
		ps[max - i] = p;
	}
	expect_u_eq(cache_bin_ncached(bin), 0, "");
	/* ps[0 .. max/2 - 1] went back to the arena; reclaim them via fills
	 * and give everything back. */
	for (unsigned i = max / 2; i <= max; i++)
		tfree(ps[i]);
	bin_drain(ind);
	if (config_stats)
		expect_zu_eq(curregs(arena, ind), regs_live - (max + 1), "");
}

TEST(flush_on_full_large) {
	const size_t size = 28672;
	const unsigned ind = sz_size2index(size);
	assert_true(ind >= NBINS && ind < nhbins, "28 KiB must be cached");
	tcache_t *tc = my_tcache();
	cache_bin_t *bin = bin_of(tc, ind);
	const unsigned max = tcache_ncached_max[ind];
	assert_u_eq(max, 20, "");
	bin_drain(ind);
	arena_t *arena = my_arena();
	size_t live0 = curlextents(arena, ind);

	void *ps[21];
	for (unsigned i = 0; i <= max; i++) {
		ps[i] = tmalloc(size);
		assert_ptr_not_null(ps[i], "");
		/* Large misses are served one object at a time. */
		expect_u_eq(cache_bin_ncached(bin), 0, "");
		memset(ps[i], (int)i, size);
	}
	if (config_stats)
		expect_zu_eq(curlextents(arena, ind), live0 + max + 1, "");
	for (unsigned i = 0; i < max; i++)
		tfree(ps[i]);
	expect_u_eq(cache_bin_ncached(bin), max, "");
	tfree(ps[max]);
	expect_u_eq(cache_bin_ncached(bin), max / 2 + 1, "");
	if (config_stats) {
		expect_zu_eq(curlextents(arena, ind), live0 + max / 2 + 1,
		    "cached large objects count as live, flushed ones not");
	}
	for (unsigned i = 0; i <= max / 2; i++) {
		void *p = tmalloc(size);
		expect_ptr_eq(p, ps[max - i], "pop %u after the flush", i);
	}
	expect_u_eq(cache_bin_ncached(bin), 0, "");
	for (unsigned i = max / 2; i <= max; i++)
		tfree(ps[i]);
	bin_drain(ind);
	if (config_stats)
		expect_zu_eq(curlextents(arena, ind), live0, "");
}

/* --- tcache_flush --------------------------------------------------------- */

TEST(flush_everything) {
	const size_t small_a = 896, small_b = 1792, large = 24576;
	const unsigned ia = sz_size2index(small_a), ib = sz_size2index(small_b);
	const unsigned il = sz_size2index(large);
	tsd_t *tsd = my_tsd();
	tcache_t *tc = my_tcache();
	bin_drain(ia);
	bin_drain(ib);
	bin_drain(il);
	arena_t *arena = my_arena();
	size_t ra0 = curregs(arena, ia), rb0 = curregs(arena, ib);
	size_t rl0 = curlextents(arena, il);

	void *pa[50], *pb[10], *pl[8];
	for (int i = 0; i < 50; i++)
		pa[i] = tmalloc(small_a);
	for (int i = 0; i < 10; i++)
		pb[i] = tmalloc(small_b);
	for (int i = 0; i < 8; i++)
		pl[i] = tmalloc(large);
	for (int i = 0; i < 50; i++)
		tfree(pa[i]);
	for (int i = 0; i < 10; i++)
		tfree(pb[i]);
	for (int i = 0; i < 8; i++)
		tfree(pl[i]);
	unsigned ca = cache_bin_ncached(bin_of(tc, ia));
	unsigned cb = cache_bin_ncached(bin_of(tc, ib));
	unsigned cl = cache_bin_ncached(bin_of(tc, il));
	expect_true(ca >= 50 && cb >= 10 && cl == 8,
	    "cached: %u %u %u", ca, cb, cl);
	if (config_stats) {
		expect_zu_eq(curregs(arena, ia), ra0 + ca, "");
		expect_zu_eq(curregs(arena, ib), rb0 + cb, "");
		expect_zu_eq(curlextents(arena, il), rl0 + cl, "");
	}

	tcache_flush(tsd);
	for (unsigned i = 0; i < nhbins; i++) {
		expect_u_eq(cache_bin_ncached(bin_of(tc, i)), 0,
		    "bin %u not empty after tcache_flush", i);
	}
	expect_zu_eq(tcache_bytes_get(tc), 0, "");
	if (config_stats) {
		expect_zu_eq(curregs(arena, ia), ra0, "");
		expect_zu_eq(curregs(arena, ib), rb0, "");
		expect_zu_eq(curlextents(arena, il), rl0, "");
	}
	/* The cache keeps working afterwards. */
	void *p = tmalloc(small_a);
	assert_ptr_not_null(p, "");
	expect_u_eq(cache_bin_ncached(bin_of(tc, ia)),
	    (tcache_ncached_max[ia] >> tc->lg_fill_div[ia]) - 1, "");
	tfree(p);
	bin_drain(ia);
}

/* --- GC ------------------------------------------------------------------- */

TEST(gc_ticker_period) {
	tsd_t *tsd = my_tsd();
	tcache_t *tc = my_tcache();
	/* Warm class 16 so that every event below is a hit or a push. */
	void *p = tmalloc(16);
	tfree(p);
	const unsigned start = 0;
	tc->next_gc_bin = start;
	tc->gc_ticker = TCACHE_GC_INCR;
	unsigned events = 0, steps = 0, last = 0;
	unsigned gaps[2] = {0, 0};
	p = NULL;
	while (steps < 2 && events < 2000) {
		if (p == NULL) {
			p = tmalloc(16);
			assert_ptr_not_null(p, "");
		} else {
			tfree(p);
			p = NULL;
		}
		events++;
		if (tc->next_gc_bin != (start + steps) % nhbins) {
			gaps[steps] = events - last;
			last = events;
			steps++;
		}
	}
	if (p != NULL)
		tfree(p);
	quiet_gc(tsd);
	expect_u_eq(steps, 2, "no GC step within %u events", events);
	for (int i = 0; i < 2; i++) {
		expect_true(gaps[i] == TCACHE_GC_INCR || gaps[i] ==
		    TCACHE_GC_INCR + 1, "GC step %d after %u events, want "
		    "TCACHE_GC_INCR (%d)", i, gaps[i], TCACHE_GC_INCR);
	}
}

TEST(gc_unused_objects) {
	const size_t size = 1280;
	const unsigned ind = sz_size2index(size);
	tcache_t *tc = my_tcache();
	cache_bin_t *bin = bin_of(tc, ind);
	const unsigned max = tcache_ncached_max[ind];
	assert_u_eq(max, 32, "");
	bin_drain(ind);
	arena_t *arena = my_arena();
	tc->lg_fill_div[ind] = 1;

	void *ps[32];
	for (unsigned i = 0; i < max; i++) {
		ps[i] = tmalloc(size);
		assert_ptr_not_null(ps[i], "");
	}
	expect_u_eq(cache_bin_ncached(bin), 0, "two fills of 16 used up");
	/* The step after those misses: fill more (but lg_fill_div >= 1). */
	gc_step(ind);
	expect_d_eq(tc->lg_fill_div[ind], 1, "lg_fill_div went below 1");
	for (unsigned i = 0; i < max; i++)
		tfree(ps[i]);
	expect_u_eq(cache_bin_ncached(bin), max, "");
	size_t regs_full = curregs(arena, ind);
	/* Low water was 0 (reset while empty): nothing to trim. */
	gc_step(ind);
	expect_u_eq(cache_bin_ncached(bin), max, "");
	expect_u_eq(cache_bin_low_water_get(bin), max, "reset to ncached");
	expect_d_eq(tc->lg_fill_div[ind], 1, "");

	/* Use 8 (the mark follows the deepest head), give 4 back. */
	void *q[8];
	for (int i = 0; i < 8; i++) {
		q[i] = tmalloc(size);
		expect_ptr_eq(q[i], ps[max - 1 - i], "LIFO pop %d", i);
		expect_u_eq(cache_bin_low_water_get(bin), max - 1 - i,
		    "low water after pop %d", i);
	}
	for (int i = 0; i < 4; i++)
		tfree(q[i]);
	expect_u_eq(cache_bin_ncached(bin), 28, "");
	expect_u_eq(cache_bin_low_water_get(bin), 24, "");

	/* lw = 24 unused: keep ncached - lw + lw/4 = 28 - 24 + 6 = 10. */
	gc_step(ind);
	expect_u_eq(cache_bin_ncached(bin), 10, "after trimming lw 24");
	expect_d_eq(tc->lg_fill_div[ind], 2, "");
	expect_u_eq(cache_bin_low_water_get(bin), 10, "");
	if (config_stats)
		expect_zu_eq(curregs(arena, ind), regs_full - 18, "");
	/* The newest objects stay, in stack order. */
	const void *want[10] = {q[3], q[2], q[1], q[0], ps[23], ps[22], ps[21],
	    ps[20], ps[19], ps[18]};
	for (int i = 0; i < 10; i++) {
		expect_ptr_eq(bin->stack_head[i], want[i],
		    "object %d from the top after the trim", i);
	}

	/* Idle: lw = 10 -> keep 2, then lw = 2 -> keep 0. */
	gc_step(ind);
	expect_u_eq(cache_bin_ncached(bin), 2, "");
	expect_d_eq(tc->lg_fill_div[ind], 3, "");
	expect_ptr_eq(bin->stack_head[0], q[3], "");
	expect_ptr_eq(bin->stack_head[1], q[2], "");
	gc_step(ind);
	expect_u_eq(cache_bin_ncached(bin), 0, "");
	expect_d_eq(tc->lg_fill_div[ind], 4, "");
	/* Nothing unused: lg_fill_div stays. */
	gc_step(ind);
	expect_d_eq(tc->lg_fill_div[ind], 4, "");
	if (config_stats)
		expect_zu_eq(curregs(arena, ind), regs_full - 28, "");

	/* lg_fill_div stops where a fill would still be one object. */
	for (int round = 0; round < 3; round++) {
		tfree(q[4 + round]);
		gc_step(ind);	/* low water was 0 */
		gc_step(ind);	/* low water 1: flushed */
		expect_u_eq(cache_bin_ncached(bin), 0, "round %d", round);
	}
	expect_d_eq(tc->lg_fill_div[ind], 5, "cap: 32 >> 5 == 1");
	/* A miss now fills 32 >> 5 = 1 object. */
	void *r = tmalloc(size);
	assert_ptr_not_null(r, "");
	expect_u_eq(cache_bin_ncached(bin), 0, "fill of one object");
	tfree(r);
	tfree(q[7]);
	bin_drain(ind);
}

TEST(gc_missed_bin_fills_more) {
	const size_t size = 1536;
	const unsigned ind = sz_size2index(size);
	tcache_t *tc = my_tcache();
	cache_bin_t *bin = bin_of(tc, ind);
	const unsigned max = tcache_ncached_max[ind];
	assert_u_eq(max, 20, "");
	bin_drain(ind);
	/* Start from the smallest fill: 20 >> 4 = 1. */
	gc_step(ind);
	tc->lg_fill_div[ind] = 4;

	enum { NP = 200 };
	void *ps[NP];
	unsigned np = 0;
	unsigned want_div[] = {3, 2, 1, 1, 1};
	for (unsigned k = 0; k < sizeof(want_div) / sizeof(want_div[0]); k++) {
		/* Empty the bin, then miss once. */
		while (cache_bin_ncached(bin) > 0 && np < NP)
			ps[np++] = tmalloc(size);
		unsigned div = tc->lg_fill_div[ind];
		ps[np++] = tmalloc(size);
		assert_ptr_not_null(ps[np - 1], "");
		expect_u_eq(cache_bin_ncached(bin), (max >> div) - 1,
		    "fill with lg_fill_div %u", div);
		unsigned before = cache_bin_ncached(bin);
		gc_step(ind);
		expect_d_eq(tc->lg_fill_div[ind], (int)want_div[k],
		    "after miss %u", k);
		expect_u_eq(cache_bin_ncached(bin), before,
		    "a step after a miss must not flush");
	}
	/* No miss since the last step: the 9 objects left by the last fill
	 * went unused, so the step trims them to 9/4 and halves the fill. */
	expect_u_eq(cache_bin_low_water_get(bin), 9, "");
	gc_step(ind);
	expect_u_eq(cache_bin_ncached(bin), 2, "");
	expect_d_eq(tc->lg_fill_div[ind], 2, "");
	for (unsigned i = 0; i < np; i++)
		tfree(ps[i]);
	bin_drain(ind);
}

TEST(gc_large_bin_and_wrap) {
	const size_t size = 32768;
	const unsigned ind = sz_size2index(size);
	assert_u_eq(ind, nhbins - 1, "32 KiB is the last cached class");
	tcache_t *tc = my_tcache();
	cache_bin_t *bin = bin_of(tc, ind);
	bin_drain(ind);
	arena_t *arena = my_arena();
	size_t live0 = curlextents(arena, ind);
	void *ps[10];
	for (int i = 0; i < 10; i++) {
		ps[i] = tmalloc(size);
		assert_ptr_not_null(ps[i], "");
	}
	for (int i = 0; i < 10; i++)
		tfree(ps[i]);
	expect_u_eq(cache_bin_ncached(bin), 10, "");
	/* The step after the last class wraps to class 0. */
	gc_step(ind);
	expect_u_eq(tc->next_gc_bin, 0, "");
	expect_u_eq(cache_bin_ncached(bin), 10, "low water was 0");
	expect_u_eq(cache_bin_low_water_get(bin), 10, "");
	gc_step(ind);
	expect_u_eq(cache_bin_ncached(bin), 2, "keep lw/4 of 10 unused");
	expect_ptr_eq(bin->stack_head[0], ps[9], "");
	expect_ptr_eq(bin->stack_head[1], ps[8], "");
	if (config_stats)
		expect_zu_eq(curlextents(arena, ind), live0 + 2, "");
	bin_drain(ind);
	if (config_stats)
		expect_zu_eq(curlextents(arena, ind), live0, "");
}

int
main(void) {
	return test_run(
	    TEST_CASE(cache_bin_lifo_and_full),
	    TEST_CASE(cache_bin_low_water),
	    TEST_CASE(boot_geometry),
	    TEST_CASE(fill_half_lowest_first),
	    TEST_CASE(flush_on_full_small),
	    TEST_CASE(flush_on_full_large),
	    TEST_CASE(flush_everything),
	    TEST_CASE(gc_ticker_period),
	    TEST_CASE(gc_unused_objects),
	    TEST_CASE(gc_missed_bin_fills_more),
	    TEST_CASE(gc_large_bin_and_wrap));
}
