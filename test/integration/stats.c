/*
 * Statistics through mallctl (facts §4): the stats.* and stats.arenas.<i>.*
 * snapshot refreshed by "epoch", exact request counts in a thread whose
 * cache is off, per-class counters, the merged view as the sum of the
 * arenas, tcache_bytes, the mutex profiling counters and their reset, and
 * the error codes (ENOENT for bad indices and names, EPERM for writes to
 * read-only nodes, EINVAL with a partial copy for a short buffer).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
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

static void
skip_without_stats(void) {
	if (!config_stats_on())
		test_skip("built with --disable-stats");
}

/* Returns 0 or the mallctl error; no asserts, so threads may use these. */
static int
epoch_bump(void) {
	uint64_t e = 1;
	return mallctl("epoch", NULL, NULL, &e, sizeof(e));
}

static int
get_zu(const char *name, size_t *v) {
	size_t sz = sizeof(*v);
	return mallctl(name, v, &sz, NULL, 0);
}

static int
get_u64(const char *name, uint64_t *v) {
	size_t sz = sizeof(*v);
	return mallctl(name, v, &sz, NULL, 0);
}

static int
get_u32(const char *name, uint32_t *v) {
	size_t sz = sizeof(*v);
	return mallctl(name, v, &sz, NULL, 0);
}

static int
get_unsigned(const char *name, unsigned *v) {
	size_t sz = sizeof(*v);
	return mallctl(name, v, &sz, NULL, 0);
}

/* mallctl on a name built with printf. */
static int
getf(void *v, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
getf(void *v, size_t len, const char *fmt, ...) {
	char name[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	size_t sz = len;
	return mallctl(name, v, &sz, NULL, 0);
}

static uint64_t
getf_u64(const char *fmt, unsigned a, unsigned b) {
	uint64_t v = 0;
	char name[128];
	snprintf(name, sizeof(name), fmt, a, b);
	size_t sz = sizeof(v);
	int err = mallctl(name, &v, &sz, NULL, 0);
	if (err != 0)
		test_fail_at(__FILE__, __LINE__, "%s: error %d", name, err);
	return v;
}

static size_t
getf_zu(const char *fmt, unsigned a, unsigned b) {
	size_t v = 0;
	char name[128];
	snprintf(name, sizeof(name), fmt, a, b);
	size_t sz = sizeof(v);
	int err = mallctl(name, &v, &sz, NULL, 0);
	if (err != 0)
		test_fail_at(__FILE__, __LINE__, "%s: error %d", name, err);
	return v;
}

static unsigned
narenas_get(void) {
	unsigned n = 0;
	assert_d_eq(get_unsigned("arenas.narenas", &n), 0, "arenas.narenas");
	return n;
}

static bool
arena_initialized(unsigned i) {
	bool v = false;
	size_t sz = sizeof(v);
	char name[64];
	snprintf(name, sizeof(name), "arena.%u.initialized", i);
	if (mallctl(name, &v, &sz, NULL, 0) != 0)
		return false;
	return v;
}

/* --- the global values ---------------------------------------------------- */

TEST(test_epoch) {
	uint64_t e0 = 0, e1 = 0, e2 = 0, one = 1;
	size_t sz = sizeof(e0);
	assert_d_eq(mallctl("epoch", &e0, &sz, NULL, 0), 0, "read epoch");
	assert_d_eq(mallctl("epoch", &e1, &sz, NULL, 0), 0, "read epoch");
	expect_u64_eq(e0, e1, "reading does not advance the epoch");
	assert_d_eq(mallctl("epoch", &e2, &sz, &one, sizeof(one)), 0,
	    "write epoch");
	expect_true(e2 > e1, "a write advances the epoch");
	expect_d_eq(mallctl("epoch", NULL, NULL, &one, 4), EINVAL,
	    "newlen must be sizeof(uint64_t)");
}

TEST(test_global_invariants) {
	skip_without_stats();
	void *small[64], *large[4];
	for (unsigned i = 0; i < 64; i++) {
		small[i] = vmalloc(8 + i * 24);
		assert_ptr_not_null(small[i], "");
	}
	for (unsigned i = 0; i < 4; i++) {
		large[i] = vmalloc(100000 + i * 50000);
		assert_ptr_not_null(large[i], "");
	}
	assert_d_eq(epoch_bump(), 0, "epoch");
	size_t allocated, active, metadata, resident, mapped, retained, thp;
	assert_d_eq(get_zu("stats.allocated", &allocated), 0, "");
	assert_d_eq(get_zu("stats.active", &active), 0, "");
	assert_d_eq(get_zu("stats.metadata", &metadata), 0, "");
	assert_d_eq(get_zu("stats.metadata_thp", &thp), 0, "");
	assert_d_eq(get_zu("stats.resident", &resident), 0, "");
	assert_d_eq(get_zu("stats.mapped", &mapped), 0, "");
	assert_d_eq(get_zu("stats.retained", &retained), 0, "");
	expect_zu_ge(allocated, 100000 + 150000 + 200000 + 250000,
	    "the large objects alone");
	expect_zu_le(allocated, active, "allocated <= active");
	expect_zu_le(active, resident, "active <= resident");
	expect_zu_le(resident, mapped, "resident <= mapped");
	expect_zu_gt(metadata, 0, "metadata");
	expect_zu_eq(active % 4096, 0, "active is whole pages");

	/* The global values are the merged arena's. */
	size_t sa, la, pactive, mmapped;
	assert_d_eq(get_zu("stats.arenas.4096.small.allocated", &sa), 0, "");
	assert_d_eq(get_zu("stats.arenas.4096.large.allocated", &la), 0, "");
	assert_d_eq(get_zu("stats.arenas.4096.pactive", &pactive), 0, "");
	assert_d_eq(get_zu("stats.arenas.4096.mapped", &mmapped), 0, "");
	expect_zu_eq(sa + la, allocated, "allocated = small + large");
	expect_zu_le(pactive * 4096, active, "active from pactive");
	expect_zu_le(mmapped, mapped, "");

	/* Snapshot: values do not move until the next epoch. */
	void *extra = vmalloc(300000);
	size_t again;
	assert_d_eq(get_zu("stats.allocated", &again), 0, "");
	expect_zu_eq(again, allocated, "unchanged without an epoch");
	assert_d_eq(epoch_bump(), 0, "");
	assert_d_eq(get_zu("stats.allocated", &again), 0, "");
	expect_zu_ge(again, allocated + 300000, "seen after an epoch");
	vfree(extra);

	for (unsigned i = 0; i < 64; i++)
		vfree(small[i]);
	for (unsigned i = 0; i < 4; i++)
		vfree(large[i]);

	size_t nt;
	uint64_t runs, interval;
	expect_d_eq(get_zu("stats.background_thread.num_threads", &nt), 0, "");
	expect_d_eq(get_u64("stats.background_thread.num_runs", &runs), 0, "");
	expect_d_eq(get_u64("stats.background_thread.run_interval",
	    &interval), 0, "");
}

/* The merged view is the sum of the arenas of the same snapshot. */
TEST(test_merged_is_sum) {
	skip_without_stats();
	void *p = vmalloc(1000);
	assert_d_eq(epoch_bump(), 0, "");
	unsigned n = narenas_get();
	uint64_t nmalloc = 0, lnmalloc = 0, bin5 = 0;
	size_t pactive = 0, curregs7 = 0, tcache_bytes = 0;
	unsigned nthreads = 0;
	for (unsigned i = 0; i < n; i++) {
		size_t v;
		if (getf(&v, sizeof(v), "stats.arenas.%u.pactive", i) != 0)
			continue;
		pactive += v;
		nmalloc += getf_u64("stats.arenas.%u.small.nmalloc", i, 0);
		lnmalloc += getf_u64("stats.arenas.%u.large.nmalloc", i, 0);
		bin5 += getf_u64("stats.arenas.%u.bins.%u.nrequests", i, 5);
		curregs7 += getf_zu("stats.arenas.%u.bins.%u.curregs", i, 7);
		tcache_bytes += getf_zu("stats.arenas.%u.tcache_bytes", i, 0);
		unsigned t = 0;
		assert_d_eq(getf(&t, sizeof(t), "stats.arenas.%u.nthreads", i),
		    0, "");
		nthreads += t;
	}
	expect_zu_eq(getf_zu("stats.arenas.%u.pactive", 4096, 0), pactive, "");
	expect_u64_eq(getf_u64("stats.arenas.%u.small.nmalloc", 4096, 0),
	    nmalloc, "");
	expect_u64_eq(getf_u64("stats.arenas.%u.large.nmalloc", 4096, 0),
	    lnmalloc, "");
	expect_u64_eq(getf_u64("stats.arenas.%u.bins.%u.nrequests", 4096, 5),
	    bin5, "");
	expect_zu_eq(getf_zu("stats.arenas.%u.bins.%u.curregs", 4096, 7),
	    curregs7, "");
	expect_zu_eq(getf_zu("stats.arenas.%u.tcache_bytes", 4096, 0),
	    tcache_bytes, "");
	unsigned mt = 0;
	assert_d_eq(getf(&mt, sizeof(mt), "stats.arenas.4096.nthreads"), 0,
	    "");
	expect_u_eq(mt, nthreads, "");
	expect_true(nthreads >= 1, "this thread is bound to an arena");

	/* The merged view has no single dss or decay time. */
	const char *dss = NULL;
	assert_d_eq(getf(&dss, sizeof(dss), "stats.arenas.4096.dss"), 0, "");
	expect_d_eq(strcmp(dss, "N/A"), 0, "merged dss: %s", dss);
	ssize_t ms = 0;
	assert_d_eq(getf(&ms, sizeof(ms), "stats.arenas.4096.dirty_decay_ms"),
	    0, "");
	expect_true(ms == -1, "merged dirty_decay_ms");
	vfree(p);
}

/* --- exact counts in a thread without a cache ----------------------------- */

typedef struct {
	unsigned bin;		/* bin index used */
	unsigned lext;		/* large class index used */
	unsigned nsmall;
	unsigned nlarge;
	int err;		/* first mallctl error */
	unsigned arena;
	/* [0] before, [1] with the objects live, [2] after freeing them. */
	uint64_t b_nmalloc[3], b_ndalloc[3], b_nrequests[3];
	size_t b_curregs[3];
	uint64_t l_nmalloc[3], l_ndalloc[3], l_nrequests[3];
	size_t l_curlextents[3];
	uint64_t s_nmalloc[3], s_ndalloc[3], lg_nmalloc[3], lg_ndalloc[3];
	size_t s_allocated[3], lg_allocated[3];
	size_t tcache_bytes;
} counts_t;

static int
counts_read(counts_t *c, unsigned k) {
	char name[128];
	int err = epoch_bump();
#define RD(field, fmt, ...) do {					\
	if (err == 0) {							\
		snprintf(name, sizeof(name), fmt, __VA_ARGS__);		\
		size_t sz_ = sizeof(c->field[k]);			\
		err = mallctl(name, &c->field[k], &sz_, NULL, 0);	\
	}								\
} while (0)
	RD(b_nmalloc, "stats.arenas.%u.bins.%u.nmalloc", c->arena, c->bin);
	RD(b_ndalloc, "stats.arenas.%u.bins.%u.ndalloc", c->arena, c->bin);
	RD(b_nrequests, "stats.arenas.%u.bins.%u.nrequests", c->arena, c->bin);
	RD(b_curregs, "stats.arenas.%u.bins.%u.curregs", c->arena, c->bin);
	RD(l_nmalloc, "stats.arenas.%u.lextents.%u.nmalloc", c->arena, c->lext);
	RD(l_ndalloc, "stats.arenas.%u.lextents.%u.ndalloc", c->arena, c->lext);
	RD(l_nrequests, "stats.arenas.%u.lextents.%u.nrequests", c->arena,
	    c->lext);
	RD(l_curlextents, "stats.arenas.%u.lextents.%u.curlextents", c->arena,
	    c->lext);
	RD(s_nmalloc, "stats.arenas.%u.small.nmalloc", c->arena);
	RD(s_ndalloc, "stats.arenas.%u.small.ndalloc", c->arena);
	RD(s_allocated, "stats.arenas.%u.small.allocated", c->arena);
	RD(lg_nmalloc, "stats.arenas.%u.large.nmalloc", c->arena);
	RD(lg_ndalloc, "stats.arenas.%u.large.ndalloc", c->arena);
	RD(lg_allocated, "stats.arenas.%u.large.allocated", c->arena);
#undef RD
	return err;
}

static void *
counts_thread(void *arg) {
	counts_t *c = arg;
	bool off = false;
	/* The cache goes first: setting it up and tearing it down are
	 * allocations of their own. */
	c->err = mallctl("thread.tcache.enabled", NULL, NULL, &off,
	    sizeof(off));
	size_t sz = sizeof(c->arena);
	if (c->err == 0)
		c->err = mallctl("thread.arena", &c->arena, &sz, NULL, 0);
	if (c->err == 0)
		c->err = counts_read(c, 0);
	if (c->err != 0)
		return NULL;
	size_t bsize = 0, lsize = 0;
	sz = sizeof(bsize);
	char name[64];
	snprintf(name, sizeof(name), "arenas.bin.%u.size", c->bin);
	c->err = mallctl(name, &bsize, &sz, NULL, 0);
	snprintf(name, sizeof(name), "arenas.lextent.%u.size", c->lext);
	if (c->err == 0)
		c->err = mallctl(name, &lsize, &sz, NULL, 0);
	if (c->err != 0)
		return NULL;

	void *s[64], *l[8];
	for (unsigned i = 0; i < c->nsmall; i++)
		s[i] = vmalloc(bsize);
	for (unsigned i = 0; i < c->nlarge; i++)
		l[i] = vmalloc(lsize);
	c->err = counts_read(c, 1);
	for (unsigned i = 0; i < c->nsmall; i++)
		vfree(s[i]);
	for (unsigned i = 0; i < c->nlarge; i++)
		vfree(l[i]);
	if (c->err == 0)
		c->err = counts_read(c, 2);
	return NULL;
}

TEST(test_exact_counts_without_tcache) {
	skip_without_stats();
	counts_t c;
	memset(&c, 0, sizeof(c));
	c.bin = 3;		/* 48 bytes */
	c.lext = 6;		/* a large class nobody else uses here */
	c.nsmall = 37;
	c.nlarge = 5;
	pthread_t t;
	assert_d_eq(pthread_create(&t, NULL, counts_thread, &c), 0, "");
	pthread_join(t, NULL);
	assert_d_eq(c.err, 0, "mallctl in the thread");

	uint64_t ns = c.nsmall, nl = c.nlarge;
	expect_u64_eq(c.b_nmalloc[1] - c.b_nmalloc[0], ns, "bin nmalloc");
	expect_u64_eq(c.b_nrequests[1] - c.b_nrequests[0], ns,
	    "bin nrequests");
	expect_u64_eq(c.b_ndalloc[1] - c.b_ndalloc[0], 0, "bin ndalloc");
	expect_zu_eq(c.b_curregs[1] - c.b_curregs[0], ns, "bin curregs");
	expect_u64_eq(c.b_ndalloc[2] - c.b_ndalloc[1], ns, "bin ndalloc");
	expect_zu_eq(c.b_curregs[2], c.b_curregs[0], "bin curregs back");

	expect_u64_eq(c.l_nmalloc[1] - c.l_nmalloc[0], nl, "lextent nmalloc");
	expect_u64_eq(c.l_nrequests[1] - c.l_nrequests[0], nl,
	    "lextent nrequests");
	expect_zu_eq(c.l_curlextents[1] - c.l_curlextents[0], nl,
	    "curlextents");
	expect_u64_eq(c.l_ndalloc[2] - c.l_ndalloc[1], nl, "lextent ndalloc");
	expect_zu_eq(c.l_curlextents[2], c.l_curlextents[0],
	    "curlextents back");

	expect_u64_eq(c.s_nmalloc[1] - c.s_nmalloc[0], ns, "small.nmalloc");
	expect_u64_eq(c.s_ndalloc[2] - c.s_ndalloc[1], ns, "small.ndalloc");
	expect_zu_eq(c.s_allocated[1] - c.s_allocated[0], ns * 48,
	    "small.allocated");
	expect_u64_eq(c.lg_nmalloc[1] - c.lg_nmalloc[0], nl, "large.nmalloc");
	expect_u64_eq(c.lg_ndalloc[2] - c.lg_ndalloc[1], nl, "large.ndalloc");
	size_t lsize = 0;
	char name[64];
	snprintf(name, sizeof(name), "arenas.lextent.%u.size", c.lext);
	assert_d_eq(get_zu(name, &lsize), 0, "");
	expect_zu_eq(c.lg_allocated[1] - c.lg_allocated[0], nl * lsize,
	    "large.allocated");
	expect_zu_eq(c.lg_allocated[2], c.lg_allocated[0],
	    "large.allocated back");
}

/* --- tcache_bytes --------------------------------------------------------- */

TEST(test_tcache_bytes) {
	skip_without_stats();
	bool enabled = false;
	size_t sz = sizeof(enabled);
	assert_d_eq(mallctl("thread.tcache.enabled", &enabled, &sz, NULL, 0),
	    0, "");
	if (!enabled)
		test_skip("the thread cache is off (opt.tcache:false)");
	assert_d_eq(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), 0,
	    "");
	void *p[16];
	for (unsigned i = 0; i < 16; i++)
		p[i] = vmalloc(64);
	for (unsigned i = 0; i < 16; i++)
		vfree(p[i]);
	unsigned ind = 0;
	assert_d_eq(get_unsigned("thread.arena", &ind), 0, "");
	assert_d_eq(epoch_bump(), 0, "");
	size_t held = getf_zu("stats.arenas.%u.tcache_bytes", ind, 0);
	expect_zu_ge(held, 16 * 64, "the freed objects wait in the cache");
	expect_zu_ge(getf_zu("stats.arenas.%u.tcache_bytes", 4096, 0), held,
	    "merged");
	assert_d_eq(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), 0,
	    "");
	assert_d_eq(epoch_bump(), 0, "");
	expect_zu_le(getf_zu("stats.arenas.%u.tcache_bytes", ind, 0) + 16 * 64,
	    held, "a flush empties this thread's cache");
}

/* --- internal (thread-cache slot arrays) ---------------------------------- */

TEST(test_internal) {
	skip_without_stats();
	assert_d_eq(epoch_bump(), 0, "");
	size_t before = getf_zu("stats.arenas.%u.internal", 0, 0);
	size_t meta0 = 0;
	assert_d_eq(get_zu("stats.metadata", &meta0), 0, "");
	unsigned tc;
	size_t sz = sizeof(tc);
	assert_d_eq(mallctl("tcache.create", &tc, &sz, NULL, 0), 0, "");
	assert_d_eq(epoch_bump(), 0, "");
	size_t with = getf_zu("stats.arenas.%u.internal", 0, 0);
	expect_zu_gt(with, before, "an explicit cache's slots are internal");
	size_t one = with - before;
	/* 3096 slots of 8 bytes, rounded up to a size class. */
	expect_zu_ge(one, 3096 * sizeof(void *), "");
	expect_zu_le(one, 32768, "");
	expect_zu_ge(getf_zu("stats.arenas.%u.internal", 4096, 0), with,
	    "merged");
	size_t meta1 = 0;
	assert_d_eq(get_zu("stats.metadata", &meta1), 0, "");
	expect_zu_ge(meta1, meta0 + one, "metadata includes internal");
	assert_d_eq(mallctl("tcache.destroy", NULL, NULL, &tc, sizeof(tc)), 0,
	    "");
	assert_d_eq(epoch_bump(), 0, "");
	expect_zu_eq(getf_zu("stats.arenas.%u.internal", 0, 0), before,
	    "destroying the cache gives it back");
}

/* --- mutex counters ------------------------------------------------------- */

static const char *const counters[] = {
	"num_ops", "num_wait", "num_spin_acq", "num_owner_switch",
	"total_wait_time", "max_wait_time", "max_num_thds"
};

typedef struct {
	uint64_t v[7];
} mutex_counters_t;

static void
mutex_counters_read(const char *prefix, mutex_counters_t *mc) {
	for (unsigned c = 0; c < 7; c++) {
		char name[160];
		snprintf(name, sizeof(name), "%s.%s", prefix, counters[c]);
		if (c == 6) {
			uint32_t v = 0;
			expect_d_eq(get_u32(name, &v), 0, "%s", name);
			mc->v[c] = v;
		} else {
			expect_d_eq(get_u64(name, &mc->v[c]), 0, "%s", name);
		}
	}
}

/* Relations every counter set satisfies. */
static void
mutex_counters_check(const char *what, const mutex_counters_t *mc) {
	expect_true(mc->v[3] <= mc->v[0], "%s: owner switches <= ops", what);
	expect_true(mc->v[1] + mc->v[2] <= mc->v[0],
	    "%s: waits + spins <= ops", what);
	expect_true(mc->v[5] <= mc->v[4], "%s: max wait <= total", what);
	if (mc->v[1] == 0) {
		expect_u64_eq(mc->v[4], 0, "%s: no wait, no wait time", what);
		expect_u64_eq(mc->v[6], 0, "%s: no wait, no waiters", what);
	}
	if (mc->v[0] > 0)
		expect_true(mc->v[3] >= 1, "%s: someone took it", what);
}

typedef struct {
	unsigned arena;
	unsigned n;
	int err;
} hammer_t;

/* Bin 2 lock operations of one arena, without a cache in between. */
static void *
hammer_thread(void *arg) {
	hammer_t *h = arg;
	bool off = false;
	h->err = mallctl("thread.tcache.enabled", NULL, NULL, &off,
	    sizeof(off));
	size_t sz = sizeof(h->arena);
	if (h->err == 0)
		h->err = mallctl("thread.arena", NULL, NULL, &h->arena, sz);
	for (unsigned i = 0; i < h->n; i++)
		vfree(vmalloc(32));
	return NULL;
}

TEST(test_mutex_counters) {
	skip_without_stats();
	const char *prefixes[] = {
		"stats.mutexes.ctl", "stats.mutexes.background_thread",
		"stats.mutexes.prof", "stats.arenas.0.mutexes.large",
		"stats.arenas.0.mutexes.extent_avail",
		"stats.arenas.0.mutexes.extents_dirty",
		"stats.arenas.0.mutexes.extents_muzzy",
		"stats.arenas.0.mutexes.extents_retained",
		"stats.arenas.0.mutexes.decay_dirty",
		"stats.arenas.0.mutexes.decay_muzzy",
		"stats.arenas.0.mutexes.base",
		"stats.arenas.0.mutexes.tcache_list",
		"stats.arenas.0.bins.2.mutex",
		"stats.arenas.4096.mutexes.extents_dirty",
		"stats.arenas.4096.bins.2.mutex",
	};
	const unsigned np = sizeof(prefixes) / sizeof(prefixes[0]);
	mutex_counters_t before[16], after[16];
	assert_d_eq(epoch_bump(), 0, "");
	for (unsigned i = 0; i < np; i++) {
		mutex_counters_read(prefixes[i], &before[i]);
		mutex_counters_check(prefixes[i], &before[i]);
	}

	/* Two threads on arena 0's bin 2: 2 * 2000 lock operations. */
	hammer_t h[2] = {{0, 1000, 0}, {0, 1000, 0}};
	pthread_t t[2];
	for (unsigned i = 0; i < 2; i++) {
		assert_d_eq(pthread_create(&t[i], NULL, hammer_thread, &h[i]),
		    0, "");
	}
	for (unsigned i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_d_eq(h[i].err, 0, "");
	}

	assert_d_eq(epoch_bump(), 0, "");
	for (unsigned i = 0; i < np; i++) {
		mutex_counters_read(prefixes[i], &after[i]);
		mutex_counters_check(prefixes[i], &after[i]);
		/* Without a reset, counts only grow. */
		for (unsigned c = 0; c < 7; c++) {
			expect_true(after[i].v[c] >= before[i].v[c],
			    "%s.%s went down", prefixes[i], counters[c]);
		}
	}
	/* prefixes[12] is arena 0's bin 2, prefixes[0] is ctl. */
	expect_true(after[12].v[0] >= before[12].v[0] + 4000,
	    "bin lock ops counted: %" PRIu64 " -> %" PRIu64, before[12].v[0],
	    after[12].v[0]);
	expect_true(after[12].v[3] >= before[12].v[3] + 2,
	    "the bin lock changed hands");
	expect_true(after[0].v[0] > before[0].v[0], "ctl lock ops counted");

	/* Reset zeroes everything; the next epoch counts afresh. */
	expect_d_eq(mallctl("stats.mutexes.reset", NULL, NULL, NULL, 0), 0,
	    "");
	assert_d_eq(epoch_bump(), 0, "");
	mutex_counters_t r;
	mutex_counters_read(prefixes[12], &r);
	mutex_counters_check("after reset", &r);
	expect_true(r.v[0] < 100, "bin ops after reset: %" PRIu64, r.v[0]);
	expect_u64_eq(r.v[1], 0, "");
	expect_u64_eq(r.v[4], 0, "");
	mutex_counters_read(prefixes[0], &r);
	expect_true(r.v[0] < after[0].v[0], "ctl ops after reset");
}

/* --- error codes ---------------------------------------------------------- */

TEST(test_errors) {
	size_t v = 0, sz = sizeof(v);
	unsigned n = narenas_get();
	char name[128];

	/* Read-only nodes. */
	expect_d_eq(mallctl("stats.allocated", NULL, NULL, &v, sizeof(v)),
	    config_stats_on() ? EPERM : ENOENT, "write stats.allocated");
	expect_d_eq(mallctl("stats.arenas.0.pactive", &v, &sz, &v,
	    sizeof(v)), EPERM, "write pactive");
	expect_d_eq(mallctl("stats.arenas.0.nthreads", NULL, NULL, &v,
	    sizeof(unsigned)), EPERM, "write nthreads");

	/* Unknown names and indices. */
	expect_d_eq(get_zu("stats.nonexistent", &v), ENOENT, "");
	expect_d_eq(get_zu("stats.arenas.0.nonexistent", &v), ENOENT, "");
	/* Index narenas: 5.1.0's deprecated alias of 4096 (the merged
	 * view); one more is nothing. */
	snprintf(name, sizeof(name), "stats.arenas.%u.pactive", n);
	expect_d_eq(get_zu(name, &v), 0, "arena index narenas");
	snprintf(name, sizeof(name), "stats.arenas.%u.pactive", n + 1);
	expect_d_eq(get_zu(name, &v), ENOENT, "arena index narenas + 1");
	expect_d_eq(get_zu("stats.arenas.4095.pactive", &v), ENOENT, "");
	expect_d_eq(get_zu("stats.arenas.4098.pactive", &v), ENOENT, "");
	expect_d_eq(get_zu("stats.arenas.99999999.pactive", &v), ENOENT, "");
	expect_d_eq(get_zu("stats.arenas.x.pactive", &v), ENOENT, "");
	expect_d_eq(get_zu("stats.arenas.4096.pactive", &v), 0, "merged");
	/* An arena index below narenas that was never initialised. */
	for (unsigned i = 0; i < n; i++) {
		if (arena_initialized(i))
			continue;
		snprintf(name, sizeof(name), "stats.arenas.%u.pactive", i);
		expect_d_eq(get_zu(name, &v), ENOENT, "%s", name);
		break;
	}
	/* Nothing has been destroyed: 4097 is not initialised. */
	bool dinit = arena_initialized(4097);
	expect_d_eq(get_zu("stats.arenas.4097.pactive", &v), dinit ? 0 : ENOENT,
	    "destroyed arenas");
	expect_true(arena_initialized(4096), "arena.4096.initialized");

	/* Class indices. */
	unsigned nbins = 0, nlextents = 0;
	assert_d_eq(get_unsigned("arenas.nbins", &nbins), 0, "");
	assert_d_eq(get_unsigned("arenas.nlextents", &nlextents), 0, "");
	snprintf(name, sizeof(name), "stats.arenas.0.bins.%u.nfills",
	    nbins - 1);
	expect_d_eq(get_u64(name, (uint64_t *)&v), 0, "%s", name);
	snprintf(name, sizeof(name), "stats.arenas.0.bins.%u.nfills", nbins);
	expect_d_eq(get_u64(name, (uint64_t *)&v), ENOENT, "%s", name);
	if (config_stats_on()) {
		snprintf(name, sizeof(name),
		    "stats.arenas.0.lextents.%u.curlextents", nlextents - 1);
		expect_d_eq(get_zu(name, &v), 0, "%s", name);
	}
	snprintf(name, sizeof(name), "stats.arenas.0.lextents.%u.curlextents",
	    nlextents);
	expect_d_eq(get_zu(name, &v), ENOENT, "%s", name);

	/* By MIB: the bin component walks the classes. */
	size_t mib[8], miblen = 8;
	assert_d_eq(mallctlnametomib("stats.arenas.0.bins.0.nfills", mib,
	    &miblen), 0, "");
	expect_zu_eq(miblen, 6, "six components");
	for (unsigned j = 0; j <= nbins; j++) {
		uint64_t x;
		size_t xs = sizeof(x);
		mib[4] = j;
		expect_d_eq(mallctlbymib(mib, miblen, &x, &xs, NULL, 0),
		    j < nbins ? 0 : ENOENT, "bin %u", j);
	}
	mib[2] = 4096;
	mib[4] = 0;
	uint64_t x;
	size_t xs = sizeof(x);
	expect_d_eq(mallctlbymib(mib, miblen, &x, &xs, NULL, 0), 0, "merged");
	mib[2] = 4095;
	expect_d_eq(mallctlbymib(mib, miblen, &x, &xs, NULL, 0), ENOENT, "");

	/* The void node. */
	if (config_stats_on()) {
		expect_d_eq(mallctl("stats.mutexes.reset", &v, &sz, NULL, 0),
		    EPERM, "reading a void node");
		expect_d_eq(mallctl("stats.mutexes.reset", NULL, NULL, &v,
		    sizeof(v)), EPERM, "writing a void node");
	}
}

TEST(test_short_buffer) {
	skip_without_stats();
	void *p = vmalloc(123456);
	assert_d_eq(epoch_bump(), 0, "");
	size_t full = 0;
	assert_d_eq(get_zu("stats.allocated", &full), 0, "");
	expect_true(full > 0xffff, "needs more than two bytes");
	/* Half the bytes are copied, and EINVAL says the size was wrong. */
	size_t part = 0;
	size_t sz = 4;
	expect_d_eq(mallctl("stats.allocated", &part, &sz, NULL, 0), EINVAL,
	    "short buffer");
	expect_d_eq(memcmp(&part, &full, 4), 0, "the first four bytes");
	expect_zu_eq(part >> 32, 0, "nothing past them");
	/* A buffer too large is wrong too. */
	uint64_t big[2] = {0, 0};
	sz = sizeof(big);
	expect_d_eq(mallctl("stats.allocated", big, &sz, NULL, 0), EINVAL,
	    "long buffer");
	/* max_num_thds is a uint32_t. */
	uint64_t w = 0;
	sz = sizeof(w);
	expect_d_eq(mallctl("stats.mutexes.ctl.max_num_thds", &w, &sz, NULL,
	    0), EINVAL, "uint32_t counter");
	uint32_t u = 0;
	expect_d_eq(get_u32("stats.mutexes.ctl.max_num_thds", &u), 0, "");
	vfree(p);
}

/* --- per-arena fields ----------------------------------------------------- */

TEST(test_arena_fields) {
	unsigned ind = 0;
	void *p = vmalloc(40);
	assert_d_eq(get_unsigned("thread.arena", &ind), 0, "");
	assert_d_eq(epoch_bump(), 0, "");
	char name[128];
	uint64_t uptime = 0;
	snprintf(name, sizeof(name), "stats.arenas.%u.uptime", ind);
	assert_d_eq(get_u64(name, &uptime), 0, "");
	expect_true(uptime > 0, "uptime");
	const char *dss = NULL;
	size_t sz = sizeof(dss);
	snprintf(name, sizeof(name), "stats.arenas.%u.dss", ind);
	assert_d_eq(mallctl(name, &dss, &sz, NULL, 0), 0, "");
	expect_true(strcmp(dss, "disabled") == 0 || strcmp(dss, "primary") == 0
	    || strcmp(dss, "secondary") == 0, "dss: %s", dss);
	ssize_t ms = -2, arena_ms = -3;
	sz = sizeof(ms);
	snprintf(name, sizeof(name), "stats.arenas.%u.dirty_decay_ms", ind);
	assert_d_eq(mallctl(name, &ms, &sz, NULL, 0), 0, "");
	snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms", ind);
	assert_d_eq(mallctl(name, &arena_ms, &sz, NULL, 0), 0, "");
	expect_true(ms == arena_ms, "decay time as arena.<i>");
	unsigned nthreads = 0;
	snprintf(name, sizeof(name), "stats.arenas.%u.nthreads", ind);
	assert_d_eq(get_unsigned(name, &nthreads), 0, "");
	expect_true(nthreads >= 1, "this thread");
	size_t pactive = 0, pdirty = 0, pmuzzy = 0;
	snprintf(name, sizeof(name), "stats.arenas.%u.pactive", ind);
	assert_d_eq(get_zu(name, &pactive), 0, "");
	snprintf(name, sizeof(name), "stats.arenas.%u.pdirty", ind);
	assert_d_eq(get_zu(name, &pdirty), 0, "");
	snprintf(name, sizeof(name), "stats.arenas.%u.pmuzzy", ind);
	assert_d_eq(get_zu(name, &pmuzzy), 0, "");
	expect_true(pactive > 0, "pactive");
	if (config_stats_on()) {
		size_t mapped = 0, resident = 0, base = 0;
		snprintf(name, sizeof(name), "stats.arenas.%u.mapped", ind);
		assert_d_eq(get_zu(name, &mapped), 0, "");
		snprintf(name, sizeof(name), "stats.arenas.%u.resident", ind);
		assert_d_eq(get_zu(name, &resident), 0, "");
		snprintf(name, sizeof(name), "stats.arenas.%u.base", ind);
		assert_d_eq(get_zu(name, &base), 0, "");
		expect_zu_ge(mapped, (pactive + pdirty + pmuzzy) * 4096,
		    "mapped covers the arena's pages");
		expect_zu_ge(resident, (pactive + pdirty) * 4096, "resident");
		expect_zu_le(resident, mapped, "resident <= mapped");
		expect_zu_gt(base, 0, "every arena has a base");
		/* The purge counters exist and are consistent. */
		uint64_t npurge, nmadvise, purged;
		snprintf(name, sizeof(name), "stats.arenas.%u.dirty_npurge",
		    ind);
		assert_d_eq(get_u64(name, &npurge), 0, "");
		snprintf(name, sizeof(name), "stats.arenas.%u.dirty_nmadvise",
		    ind);
		assert_d_eq(get_u64(name, &nmadvise), 0, "");
		snprintf(name, sizeof(name), "stats.arenas.%u.dirty_purged",
		    ind);
		assert_d_eq(get_u64(name, &purged), 0, "");
		expect_true(npurge <= nmadvise && nmadvise <= purged,
		    "sweeps <= madvises <= pages");
	}
	vfree(p);
}

/* A purge shows up in the purge counters. */
TEST(test_purge_counters) {
	skip_without_stats();
	unsigned ind = 0;
	void *p = vmalloc(1 << 20);
	assert_ptr_not_null(p, "");
	assert_d_eq(get_unsigned("thread.arena", &ind), 0, "");
	vfree(p);
	/* Bypass the tcache: large frees above tcache_max go to the arena. */
	assert_d_eq(epoch_bump(), 0, "");
	uint64_t before = getf_u64("stats.arenas.%u.dirty_purged", ind, 0) +
	    getf_u64("stats.arenas.%u.muzzy_purged", ind, 0);
	char name[64];
	snprintf(name, sizeof(name), "arena.%u.purge", ind);
	assert_d_eq(mallctl(name, NULL, NULL, NULL, 0), 0, "");
	assert_d_eq(epoch_bump(), 0, "");
	uint64_t after = getf_u64("stats.arenas.%u.dirty_purged", ind, 0) +
	    getf_u64("stats.arenas.%u.muzzy_purged", ind, 0);
	expect_true(after >= before + 256, "the 1 MiB was purged: %" PRIu64
	    " -> %" PRIu64, before, after);
	expect_zu_eq(getf_zu("stats.arenas.%u.pdirty", ind, 0), 0,
	    "nothing dirty after a purge");
}

int
main(void) {
	return test_run(
	    TEST_CASE(test_epoch),
	    TEST_CASE(test_global_invariants),
	    TEST_CASE(test_merged_is_sum),
	    TEST_CASE(test_exact_counts_without_tcache),
	    TEST_CASE(test_tcache_bytes), TEST_CASE(test_internal),
	    TEST_CASE(test_mutex_counters),
	    TEST_CASE(test_errors),
	    TEST_CASE(test_short_buffer),
	    TEST_CASE(test_arena_fields),
	    TEST_CASE(test_purge_counters));
}
