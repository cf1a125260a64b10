/*
 * Thread caches through the public API: the tcache mallctls
 * (thread.tcache.enabled read / toggle / read-back on the main thread and
 * a subthread, thread.tcache.flush and its EFAULT without a tcache,
 * tcache.create / flush / destroy with MALLOCX_TCACHE(id), EFAULT for bad
 * ids and id reuse), MALLOCX_TCACHE_NONE allocations that bypass every
 * cache, the arenas.tcache_max / nhbins geometry and the caching boundary
 * at 32 KiB, and the thread.allocated / deallocated counters on the cached
 * fast paths (facts §4, §6.2).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"
#include "test_ctl.h"

#pragma GCC diagnostic ignored "-Wformat-zero-length"

/* Calls the compiler cannot pair up and delete. */
static void *(*volatile vmalloc)(size_t) = malloc;
static void (*volatile vfree)(void *) = free;

/* --- helpers -------------------------------------------------------------- */

static size_t
stats_allocated(void) {
	uint64_t epoch = 1;
	size_t sz = sizeof(epoch);
	assert_d_eq(mallctl("epoch", &epoch, &sz, &epoch, sizeof(epoch)), 0,
	    "epoch");
	size_t v = 0;
	sz = sizeof(v);
	assert_d_eq(mallctl("stats.allocated", &v, &sz, NULL, 0), 0,
	    "stats.allocated");
	return v;
}

static bool
tcache_enabled_get(void) {
	bool v = false;
	size_t sz = sizeof(v);
	assert_d_eq(mallctl("thread.tcache.enabled", &v, &sz, NULL, 0), 0, "");
	return v;
}

static uint64_t
thread_u64(const char *name) {
	uint64_t v = 0;
	size_t sz = sizeof(v);
	assert_d_eq(mallctl(name, &v, &sz, NULL, 0), 0, "%s", name);
	return v;
}

static void
fill(void *p, size_t n, unsigned seed) {
	unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(seed + i * 31 + (i >> 8));
}

static bool
check(const void *p, size_t n, unsigned seed) {
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		if (b[i] != (unsigned char)(seed + i * 31 + (i >> 8)))
			return false;
	}
	return true;
}

/* --- geometry ------------------------------------------------------------- */

TEST(tcache_geometry) {
	size_t max = 0, sz = sizeof(max);
	expect_d_eq(mallctl("arenas.tcache_max", &max, &sz, NULL, 0), 0, "");
	expect_zu_eq(max, 32768, "arenas.tcache_max");
	unsigned nhbins = 0;
	sz = sizeof(nhbins);
	expect_d_eq(mallctl("arenas.nhbins", &nhbins, &sz, NULL, 0), 0, "");
	expect_u_eq(nhbins, 41, "arenas.nhbins");
	bool opt = false;
	sz = sizeof(opt);
	expect_d_eq(mallctl("opt.tcache", &opt, &sz, NULL, 0), 0, "");
	expect_true(opt, "opt.tcache defaults to true");
	ssize_t lg = 0;
	sz = sizeof(lg);
	expect_d_eq(mallctl("opt.lg_tcache_max", &lg, &sz, NULL, 0), 0, "");
	expect_d_eq((int)lg, 15, "opt.lg_tcache_max");
	/* Read-only nodes. */
	expect_d_eq(mallctl("arenas.tcache_max", NULL, NULL, &max,
	    sizeof(max)), EPERM, "");
	expect_d_eq(mallctl("arenas.nhbins", NULL, NULL, &nhbins,
	    sizeof(nhbins)), EPERM, "");
}

/* --- thread.tcache.enabled ------------------------------------------------ */

/*
 * Toggles the calling thread's cache and reads it back, with allocation
 * in between.  Uses expect_* only, so that subthreads can run it.
 */
static void
toggle_sequence(void) {
	bool e0 = false, old = false, v;
	size_t sz = sizeof(bool);
	expect_d_eq(mallctl("thread.tcache.enabled", &e0, &sz, NULL, 0), 0,
	    "");
	expect_true(e0, "the tcache starts enabled");
	for (int round = 0; round < 3; round++) {
		vfree(vmalloc(1));
		v = false;
		sz = sizeof(old);
		expect_d_eq(mallctl("thread.tcache.enabled", &old, &sz, &v,
		    sizeof(v)), 0, "disable");
		expect_true(old, "old value when disabling (round %d)", round);
		sz = sizeof(v);
		v = true;
		expect_d_eq(mallctl("thread.tcache.enabled", &v, &sz, NULL, 0),
		    0, "");
		expect_false(v, "read back after disabling (round %d)", round);

		/* Allocation works without a cache. */
		void *ps[40];
		for (int i = 0; i < 40; i++) {
			size_t size = (size_t)1 << (i % 17);
			ps[i] = vmalloc(size);
			expect_ptr_not_null(ps[i], "");
			if (ps[i] != NULL)
				fill(ps[i], size, (unsigned)i);
		}
		for (int i = 0; i < 40; i++) {
			size_t size = (size_t)1 << (i % 17);
			if (ps[i] != NULL)
				expect_true(check(ps[i], size, (unsigned)i),
				    "");
			vfree(ps[i]);
		}
		/* Disabling twice keeps it disabled. */
		v = false;
		sz = sizeof(old);
		old = true;
		expect_d_eq(mallctl("thread.tcache.enabled", &old, &sz, &v,
		    sizeof(v)), 0, "");
		expect_false(old, "");

		v = true;
		sz = sizeof(old);
		old = true;
		expect_d_eq(mallctl("thread.tcache.enabled", &old, &sz, &v,
		    sizeof(v)), 0, "enable");
		expect_false(old, "old value when enabling (round %d)", round);
		v = false;
		sz = sizeof(v);
		expect_d_eq(mallctl("thread.tcache.enabled", &v, &sz, NULL, 0),
		    0, "");
		expect_true(v, "read back after enabling (round %d)", round);
		vfree(vmalloc(1));
		for (int i = 0; i < 40; i++)
			vfree(vmalloc((size_t)i * 700 + 1));
	}
	/* Wrong sizes. */
	v = false;
	expect_d_eq(mallctl("thread.tcache.enabled", NULL, NULL, &v,
	    sizeof(v) + 1), EINVAL, "newlen != sizeof(bool)");
	sz = sizeof(v);
	v = false;
	expect_d_eq(mallctl("thread.tcache.enabled", &v, &sz, NULL, 0), 0, "");
	expect_true(v, "a failed write changed the setting");
}

TEST(thread_tcache_enabled_main) {
	toggle_sequence();
}

static void *
toggle_thread(void *arg) {
	toggle_sequence();
	return NULL;
}

TEST(thread_tcache_enabled_subthread) {
	pthread_t th;
	assert_d_eq(pthread_create(&th, NULL, toggle_thread, NULL), 0, "");
	pthread_join(th, NULL);
	/* The subthread's setting is its own. */
	expect_true(tcache_enabled_get(), "");
}

/* Disabled in one thread, still enabled in another. */
static void *
disabled_thread(void *arg) {
	bool v = false;
	size_t sz = sizeof(v);
	mallctl("thread.tcache.enabled", NULL, NULL, &v, sizeof(v));
	for (int i = 0; i < 1000; i++)
		vfree(vmalloc((size_t)(i % 300) + 1));
	v = true;
	mallctl("thread.tcache.enabled", &v, &sz, NULL, 0);
	*(bool *)arg = v;
	return NULL;
}

TEST(thread_tcache_enabled_is_per_thread) {
	bool sub = true;
	pthread_t th;
	assert_d_eq(pthread_create(&th, NULL, disabled_thread, &sub), 0, "");
	pthread_join(th, NULL);
	expect_false(sub, "the subthread's cache should read disabled");
	expect_true(tcache_enabled_get(), "the main thread's cache should "
	    "still be enabled");
}

/* --- thread.tcache.flush -------------------------------------------------- */

TEST(thread_tcache_flush) {
	expect_d_eq(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), 0,
	    "");
	/* A void node: any oldp or newp is EPERM. */
	unsigned u = 0;
	size_t sz = sizeof(u);
	expect_d_eq(mallctl("thread.tcache.flush", &u, &sz, NULL, 0), EPERM,
	    "");
	expect_d_eq(mallctl("thread.tcache.flush", NULL, NULL, &u, sizeof(u)),
	    EPERM, "");
	if (!config_stats_on())
		return;

	/* Objects freed into the cache still count as allocated... */
	enum { N = 30 };
	void *ps[N];
	for (int i = 0; i < N; i++) {
		ps[i] = vmalloc(5000);	/* class 5120: 20 slots */
		assert_ptr_not_null(ps[i], "");
	}
	void *big[5];
	for (int i = 0; i < 5; i++)
		big[i] = vmalloc(30000);	/* class 32768, cached */
	expect_d_eq(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), 0,
	    "");
	size_t a0 = stats_allocated();
	for (int i = 0; i < 5; i++)
		vfree(ps[i]);
	for (int i = 0; i < 5; i++)
		vfree(big[i]);
	size_t a1 = stats_allocated();
	expect_zu_eq(a1, a0, "freeing into the tcache returns nothing to the "
	    "arenas");
	/* ... until the flush hands them back. */
	expect_d_eq(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), 0,
	    "");
	size_t a2 = stats_allocated();
	expect_zu_eq(a1 - a2, 5 * 5120 + 5 * 32768, "bytes returned by the "
	    "flush");
	/* Flushing an empty cache changes nothing. */
	expect_d_eq(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), 0,
	    "");
	expect_zu_eq(stats_allocated(), a2, "");
	for (int i = 5; i < N; i++)
		vfree(ps[i]);
	expect_d_eq(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), 0,
	    "");
	expect_zu_eq(stats_allocated(), a2 - (N - 5) * 5120, "");
}

/* Classes up to arenas.tcache_max are cached on free, larger ones not. */
TEST(tcache_max_boundary) {
	if (!config_stats_on())
		test_skip("config.stats is off");
	assert_d_eq(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), 0,
	    "");
	size_t a0 = stats_allocated();
	void *p = vmalloc(32768);
	void *q = vmalloc(32769);
	assert_ptr_not_null(p, "");
	assert_ptr_not_null(q, "");
	expect_zu_eq(malloc_usable_size(q), 40960, "");
	size_t a1 = stats_allocated();
	expect_zu_eq(a1 - a0, 32768 + 40960, "");
	vfree(p);
	vfree(q);
	size_t a2 = stats_allocated();
	expect_zu_eq(a1 - a2, 40960, "32768 should stay in the tcache and "
	    "40960 go back at once");
	assert_d_eq(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), 0,
	    "");
	expect_zu_eq(stats_allocated(), a0, "");
}

/*
 * jemalloc 5.1.0's thread.tcache.flush answers EFAULT when the calling
 * thread has no tcache (tcache_available() is false).
 */
TEST(thread_tcache_flush_disabled_efault) {
	bool v = false;
	assert_d_eq(mallctl("thread.tcache.enabled", NULL, NULL, &v,
	    sizeof(v)), 0, "");
	int err = mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
	v = true;
	assert_d_eq(mallctl("thread.tcache.enabled", NULL, NULL, &v,
	    sizeof(v)), 0, "");
	expect_d_eq(err, EFAULT, "thread.tcache.flush without a tcache");
}

/* --- explicit caches ------------------------------------------------------ */

static unsigned
tcache_create(void) {
	unsigned id = ~0U;
	size_t sz = sizeof(id);
	assert_d_eq(mallctl("tcache.create", &id, &sz, NULL, 0), 0,
	    "tcache.create");
	assert_true(id < 4094, "tcache id %u out of range", id);
	return id;
}

static int
tcache_op(const char *name, unsigned id) {
	return mallctl(name, NULL, NULL, &id, sizeof(id));
}

TEST(explicit_tcaches) {
	enum { NT = 4 };
	unsigned ids[NT];
	for (int i = 0; i < NT; i++) {
		ids[i] = tcache_create();
		for (int j = 0; j < i; j++)
			expect_u_ne(ids[i], ids[j], "tcache ids must differ");
	}
	/* Allocate through each cache, small and large, and free through the
	 * same cache. */
	static const size_t sizes[] = {1, 8, 100, 640, 3000, 14336, 16384,
	    20000, 32768, 40000, 300000};
	enum { NS = sizeof(sizes) / sizeof(sizes[0]) };
	for (int round = 0; round < 3; round++) {
		void *ps[NT][NS][4];
		for (int t = 0; t < NT; t++) {
			int flags = MALLOCX_TCACHE(ids[t]);
			for (int s = 0; s < NS; s++) {
				for (int k = 0; k < 4; k++) {
					void *p = mallocx(sizes[s], flags);
					assert_ptr_not_null(p, "mallocx(%zu, "
					    "MALLOCX_TCACHE(%u))", sizes[s],
					    ids[t]);
					expect_zu_ge(sallocx(p, 0), sizes[s],
					    "");
					fill(p, sizes[s],
					    (unsigned)(t + s + k));
					ps[t][s][k] = p;
				}
			}
		}
		for (int t = 0; t < NT; t++) {
			int flags = MALLOCX_TCACHE(ids[t]);
			for (int s = 0; s < NS; s++) {
				for (int k = 0; k < 4; k++) {
					void *p = ps[t][s][k];
					expect_true(check(p, sizes[s],
					    (unsigned)(t + s + k)), "contents "
					    "(cache %u, size %zu)", ids[t],
					    sizes[s]);
					if (k & 1)
						dallocx(p, flags);
					else
						sdallocx(p, sizes[s], flags);
				}
			}
		}
		for (int t = 0; t < NT; t++) {
			expect_d_eq(tcache_op("tcache.flush", ids[t]), 0,
			    "tcache.flush(%u)", ids[t]);
		}
	}

	/* Bad ids. */
	unsigned unused = 4000;
	for (int t = 0; t < NT; t++)
		assert_true(ids[t] != unused, "");
	expect_d_eq(tcache_op("tcache.flush", unused), EFAULT,
	    "flush of an id never created");
	expect_d_eq(tcache_op("tcache.destroy", unused), EFAULT,
	    "destroy of an id never created");
	expect_d_eq(tcache_op("tcache.flush", 100000), EFAULT,
	    "flush of an out-of-range id");
	expect_d_eq(tcache_op("tcache.destroy", 100000), EFAULT,
	    "destroy of an out-of-range id");
	expect_d_eq(mallctl("tcache.flush", NULL, NULL, NULL, 0), EFAULT,
	    "flush without an id");
	expect_d_eq(mallctl("tcache.destroy", NULL, NULL, NULL, 0), EFAULT,
	    "destroy without an id");

	/* Destroy and reuse. */
	expect_d_eq(tcache_op("tcache.destroy", ids[1]), 0, "destroy");
	expect_d_eq(tcache_op("tcache.destroy", ids[1]), EFAULT,
	    "destroy of a destroyed id");
	expect_d_eq(tcache_op("tcache.flush", ids[1]), EFAULT,
	    "flush of a destroyed id");
	unsigned again = tcache_create();
	expect_u_eq(again, ids[1], "a destroyed id is reused by the next "
	    "create");
	void *p = mallocx(100, MALLOCX_TCACHE(again));
	assert_ptr_not_null(p, "allocation from a recreated cache");
	fill(p, 100, 9);
	expect_true(check(p, 100, 9), "");
	dallocx(p, MALLOCX_TCACHE(again));

	/* Two destroyed ids come back with the next two creates. */
	expect_d_eq(tcache_op("tcache.destroy", ids[0]), 0, "");
	expect_d_eq(tcache_op("tcache.destroy", ids[2]), 0, "");
	unsigned r1 = tcache_create(), r2 = tcache_create();
	expect_true((r1 == ids[0] && r2 == ids[2]) || (r1 == ids[2] && r2 ==
	    ids[0]), "recycled ids %u %u, want {%u, %u}", r1, r2, ids[0],
	    ids[2]);
	expect_d_eq(tcache_op("tcache.destroy", r1), 0, "");
	expect_d_eq(tcache_op("tcache.destroy", r2), 0, "");
	expect_d_eq(tcache_op("tcache.destroy", again), 0, "");
	expect_d_eq(tcache_op("tcache.destroy", ids[3]), 0, "");
	/* tcache.create is read-only. */
	unsigned id = 0;
	expect_d_eq(mallctl("tcache.create", NULL, NULL, &id, sizeof(id)),
	    EPERM, "");
}

/* Objects in an explicit cache stay allocated until flush or destroy. */
TEST(explicit_tcache_accounting) {
	if (!config_stats_on())
		test_skip("config.stats is off");
	size_t base = stats_allocated();
	unsigned id = tcache_create();
	int flags = MALLOCX_TCACHE(id);
	void *l[4];
	for (int i = 0; i < 4; i++) {
		l[i] = mallocx(20000, flags);	/* class 20480 */
		assert_ptr_not_null(l[i], "");
	}
	size_t a1 = stats_allocated();
	for (int i = 0; i < 4; i++)
		dallocx(l[i], flags);
	expect_zu_eq(stats_allocated(), a1, "large objects sit in the cache");
	expect_d_eq(tcache_op("tcache.flush", id), 0, "");
	expect_zu_eq(a1 - stats_allocated(), 4 * 20480, "flush returns them");

	void *s = mallocx(100, flags);	/* fills the cache's 112 bin */
	assert_ptr_not_null(s, "");
	size_t a2 = stats_allocated();
	expect_true(a2 > a1 - 4 * 20480 + 112, "a fill takes more than one "
	    "region");
	dallocx(s, flags);
	expect_zu_eq(stats_allocated(), a2, "");
	expect_d_eq(tcache_op("tcache.destroy", id), 0, "");
	expect_zu_eq(stats_allocated(), base, "destroy returns the cached "
	    "objects and the cache's own slot array");
	/* The id comes back and the accounting starts over. */
	unsigned id2 = tcache_create();
	expect_u_eq(id2, id, "");
	expect_d_eq(tcache_op("tcache.destroy", id2), 0, "");
	expect_zu_eq(stats_allocated(), base, "");
}

/* --- MALLOCX_TCACHE_NONE -------------------------------------------------- */

TEST(tcache_none) {
	static const size_t sizes[] = {1, 8, 16, 100, 1000, 4096, 5000, 14336,
	    16384, 20000, 32768, 40000, 100000, 1 << 20};
	enum { NS = sizeof(sizes) / sizeof(sizes[0]) };
	bool stats = config_stats_on();
	/* Settle the main thread's cache so that it does not move. */
	size_t base = stats ? stats_allocated() : 0;
	void *ps[NS];
	size_t total = 0;
	for (int i = 0; i < NS; i++) {
		ps[i] = mallocx(sizes[i], MALLOCX_TCACHE_NONE);
		assert_ptr_not_null(ps[i], "mallocx(%zu, TCACHE_NONE)",
		    sizes[i]);
		size_t usize = sallocx(ps[i], 0);
		expect_zu_ge(usize, sizes[i], "");
		expect_zu_eq(usize, nallocx(sizes[i], 0), "");
		fill(ps[i], usize, (unsigned)i * 7);
		total += usize;
	}
	if (stats) {
		expect_zu_eq(stats_allocated(), base + total, "uncached "
		    "allocations count exactly their usable size");
	}
	for (int i = 0; i < NS; i++) {
		expect_true(check(ps[i], sallocx(ps[i], 0), (unsigned)i * 7),
		    "contents of %zu", sizes[i]);
		if (i & 1)
			dallocx(ps[i], MALLOCX_TCACHE_NONE);
		else
			sdallocx(ps[i], sizes[i], MALLOCX_TCACHE_NONE);
	}
	if (stats) {
		expect_zu_eq(stats_allocated(), base, "uncached frees return "
		    "everything at once");
	}
	/* Zeroed and aligned variants, and rallocx. */
	void *z = mallocx(3000, MALLOCX_TCACHE_NONE | MALLOCX_ZERO);
	assert_ptr_not_null(z, "");
	const unsigned char *zb = z;
	for (size_t i = 0; i < 3000; i++) {
		if (zb[i] != 0) {
			test_fail_at(__FILE__, __LINE__, "byte %zu not zero",
			    i);
			break;
		}
	}
	void *a = mallocx(5000, MALLOCX_TCACHE_NONE | MALLOCX_ALIGN(4096));
	assert_ptr_not_null(a, "");
	expect_zu_eq((uintptr_t)a & 4095, 0, "alignment");
	fill(a, 5000, 3);
	a = rallocx(a, 70000, MALLOCX_TCACHE_NONE);
	assert_ptr_not_null(a, "");
	expect_true(check(a, 5000, 3), "rallocx kept the contents");
	dallocx(a, MALLOCX_TCACHE_NONE);
	dallocx(z, MALLOCX_TCACHE_NONE);
	if (stats)
		expect_zu_eq(stats_allocated(), base, "");
}

/* --- thread.allocated / deallocated --------------------------------------- */

static void
counters_sequence(void) {
	uint64_t *ap = NULL, *dp = NULL;
	size_t sz = sizeof(ap);
	expect_d_eq(mallctl("thread.allocatedp", &ap, &sz, NULL, 0), 0, "");
	sz = sizeof(dp);
	expect_d_eq(mallctl("thread.deallocatedp", &dp, &sz, NULL, 0), 0, "");
	if (ap == NULL || dp == NULL)
		return;
	/* Warm the caches: everything below is a tcache hit or push. */
	enum { N = 50 };
	void *ps[N];
	for (int i = 0; i < N; i++)
		ps[i] = vmalloc(100);
	for (int i = 0; i < N; i++)
		vfree(ps[i]);

	uint64_t a0 = thread_u64("thread.allocated");
	uint64_t d0 = thread_u64("thread.deallocated");
	expect_true(*ap == a0 && *dp == d0, "allocatedp/deallocatedp "
	    "disagree with allocated/deallocated");
	size_t usum = 0;
	for (int i = 0; i < N; i++) {
		ps[i] = vmalloc(100);
		usum += malloc_usable_size(ps[i]);
	}
	uint64_t a1 = thread_u64("thread.allocated");
	expect_true(a1 - a0 >= usum, "thread.allocated grew by %" PRIu64
	    ", want at least %zu (fast-path malloc)", a1 - a0, usum);
	expect_true(*ap == a1, "allocatedp is not live");
	for (int i = 0; i < N; i++)
		vfree(ps[i]);
	uint64_t d1 = thread_u64("thread.deallocated");
	expect_true(d1 - d0 >= usum, "thread.deallocated grew by %" PRIu64
	    ", want at least %zu (fast-path free)", d1 - d0, usum);
	expect_true(*dp == d1, "deallocatedp is not live");

	/* Cached large objects, and the *allocx API. */
	void *l = vmalloc(20000);
	vfree(l);
	a0 = *ap;
	d0 = *dp;
	l = vmalloc(20000);
	void *m = mallocx(20000, 0);
	void *s = mallocx(200, 0);
	uint64_t want = malloc_usable_size(l) + sallocx(m, 0) + sallocx(s, 0);
	expect_true(*ap - a0 >= want, "large/mallocx allocations counted %"
	    PRIu64 " of %" PRIu64, *ap - a0, want);
	vfree(l);
	dallocx(m, 0);
	sdallocx(s, 200, 0);
	expect_true(*dp - d0 >= want, "large/dallocx frees counted %" PRIu64
	    " of %" PRIu64, *dp - d0, want);
	/* Read-only. */
	uint64_t x = 0;
	expect_d_eq(mallctl("thread.allocated", NULL, NULL, &x, sizeof(x)),
	    EPERM, "");
}

static void *
counters_thread(void *arg) {
	uint64_t *ap = NULL;
	size_t sz = sizeof(ap);
	mallctl("thread.allocatedp", &ap, &sz, NULL, 0);
	*(uint64_t **)arg = ap;
	counters_sequence();
	return NULL;
}

TEST(thread_allocated_counters) {
	if (!config_stats_on())
		test_skip("config.stats is off");
	counters_sequence();
	/* Counters are per thread. */
	uint64_t mine = thread_u64("thread.allocated");
	uint64_t *theirs = NULL;
	pthread_t th;
	assert_d_eq(pthread_create(&th, NULL, counters_thread, &theirs), 0,
	    "");
	pthread_join(th, NULL);
	expect_true(thread_u64("thread.allocated") == mine, "another "
	    "thread's allocations changed this thread's counter");
	uint64_t *ap = NULL;
	size_t sz = sizeof(ap);
	expect_d_eq(mallctl("thread.allocatedp", &ap, &sz, NULL, 0), 0, "");
	expect_true(ap != theirs, "two threads share one counter");
}

int
main(void) {
	return test_run(
	    TEST_CASE(tcache_geometry),
	    TEST_CASE(thread_tcache_enabled_main),
	    TEST_CASE(thread_tcache_enabled_subthread),
	    TEST_CASE(thread_tcache_enabled_is_per_thread),
	    TEST_CASE(thread_tcache_flush),
	    TEST_CASE(tcache_max_boundary),
	    TEST_CASE(thread_tcache_flush_disabled_efault),
	    TEST_CASE(explicit_tcaches),
	    TEST_CASE(explicit_tcache_accounting),
	    TEST_CASE(tcache_none),
	    TEST_CASE(thread_allocated_counters));
}
