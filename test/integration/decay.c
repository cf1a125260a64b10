/*
 * Decay through the public interface (facts §6.5, §4): each test creates
 * its own arena (arenas.create), sets its decay times with
 * arena.<i>.{dirty,muzzy}_decay_ms and allocates large objects in it with
 * MALLOCX_ARENA | MALLOCX_TCACHE_NONE, so nothing else adds or takes pages;
 * the page counts come from stats.arenas.<i>.* after an epoch.
 *
 * - decay_zero: dirty_decay_ms 0 leaves no dirty page after a free and
 *   dirty_purged grows by at least the pages freed.
 * - decay_never: -1 never purges by time: pdirty stays after waiting,
 *   after many thousands of allocator events and after arena.<i>.decay.
 * - decay_short: with 200 ms for both curves, ticks from an allocation
 *   loop take the pages dirty -> muzzy -> released within a few seconds
 *   (dirty_purged, then muzzy_purged).
 * - decay_vs_purge: arena.<i>.decay runs a decay step only (pages freed
 *   just now stay), arena.<i>.purge empties dirty and muzzy at once.
 * - purge_all_arenas: arena.<MALLCTL_ARENAS_ALL>.purge (by name and by
 *   MIB) empties every arena; arena.<ALL>.decay answers 0.
 * - arenas_default: arenas.{dirty,muzzy}_decay_ms set the times of arenas
 *   created afterwards and leave existing ones alone.
 * - invalid_values: -2 (and values past the range) answer EFAULT and
 *   change nothing; a wrong size answers EINVAL.
 * - conf_decay: a child process run with MALLOC_CONF
 *   dirty_decay_ms:0,muzzy_decay_ms:0 (JE_MALLOC_CONF in a build with the
 *   je_ prefix) sees them in opt.*, arenas.* and arena.0.*, and keeps no
 *   dirty page after freeing 4 MiB.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"
#include "test_ctl.h"

#pragma GCC diagnostic ignored "-Wformat-zero-length"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

/* --- helpers -------------------------------------------------------------- */

static size_t page_size;

static void
need_stats(void) {
	if (!config_stats_on())
		test_skip("built with --disable-stats");
}

static void
epoch_bump(void) {
	uint64_t e = 1;
	int err = mallctl("epoch", NULL, NULL, &e, sizeof(e));
	if (err != 0)
		test_fail_at(__FILE__, __LINE__, "epoch: error %d", err);
}

static int
ctl_name(char *buf, size_t len, const char *fmt, va_list ap) {
	int n = vsnprintf(buf, len, fmt, ap);
	return n < 0 || (size_t)n >= len;
}

/* Reads an arena statistic (after epoch_bump) of size sz. */
static void
stat_read(void *v, size_t sz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
stat_read(void *v, size_t sz, const char *fmt, ...) {
	char name[128];
	va_list ap;
	va_start(ap, fmt);
	ctl_name(name, sizeof(name), fmt, ap);
	va_end(ap);
	size_t len = sz;
	int err = mallctl(name, v, &len, NULL, 0);
	if (err != 0 || len != sz) {
		test_fail_at(__FILE__, __LINE__, "%s: error %d (len %zu)", name,
		    err, len);
		memset(v, 0, sz);
	}
}

static size_t
pdirty(unsigned ind) {
	size_t v;
	stat_read(&v, sizeof(v), "stats.arenas.%u.pdirty", ind);
	return v;
}

static size_t
pmuzzy(unsigned ind) {
	size_t v;
	stat_read(&v, sizeof(v), "stats.arenas.%u.pmuzzy", ind);
	return v;
}

static uint64_t
stat_u64(unsigned ind, const char *what) {
	uint64_t v;
	stat_read(&v, sizeof(v), "stats.arenas.%u.%s", ind, what);
	return v;
}

/* Writes an ssize_t to name; returns the mallctl error. */
static int
set_ssize(const char *name, ssize_t v) {
	return mallctl(name, NULL, NULL, &v, sizeof(v));
}

static int
set_decay(unsigned ind, const char *which, ssize_t v) {
	char name[64];
	snprintf(name, sizeof(name), "arena.%u.%s_decay_ms", ind, which);
	return set_ssize(name, v);
}

static ssize_t
get_decay(const char *fmt, unsigned ind) {
	char name[64];
	snprintf(name, sizeof(name), fmt, ind);
	ssize_t v = -12345;
	size_t sz = sizeof(v);
	int err = mallctl(name, &v, &sz, NULL, 0);
	if (err != 0)
		test_fail_at(__FILE__, __LINE__, "%s: error %d", name, err);
	return v;
}

static void ticks(unsigned ind, unsigned n);

static unsigned
arena_new(ssize_t dirty_ms, ssize_t muzzy_ms) {
	unsigned ind = 0;
	size_t sz = sizeof(ind);
	assert_d_eq(mallctl("arenas.create", &ind, &sz, NULL, 0), 0,
	    "arenas.create");
	assert_d_eq(set_decay(ind, "dirty", dirty_ms), 0, "dirty_decay_ms");
	assert_d_eq(set_decay(ind, "muzzy", muzzy_ms), 0, "muzzy_decay_ms");
	/* The tick loop's slab now, so that it takes no unused page later. */
	ticks(ind, 1);
	return ind;
}

static int
arena_ctl(unsigned ind, const char *what) {
	char name[64];
	snprintf(name, sizeof(name), "arena.%u.%s", ind, what);
	return mallctl(name, NULL, NULL, NULL, 0);
}

static int
flags_of(unsigned ind) {
	return MALLOCX_ARENA(ind) | MALLOCX_TCACHE_NONE;
}

/*
 * Allocates n large objects of size bytes in arena ind and frees them,
 * every one touched so that it is resident.  Returns the pages freed.
 */
static size_t
alloc_free_large(unsigned ind, unsigned n, size_t size) {
	void *ptrs[256];
	assert_true(n <= 256, "");
	size_t pages = 0;
	for (unsigned i = 0; i < n; i++) {
		ptrs[i] = mallocx(size, flags_of(ind));
		assert_ptr_not_null(ptrs[i], "mallocx(%zu) in arena %u", size,
		    ind);
		memset(ptrs[i], (int)i, size);
		pages += sallocx(ptrs[i], flags_of(ind)) / page_size;
	}
	for (unsigned i = 0; i < n; i++)
		dallocx(ptrs[i], flags_of(ind));
	return pages;
}

/*
 * Allocator events in arena ind that add no unused pages: small
 * uncached allocations and frees while one object of the class keeps
 * its slab in use.  Every free is one decay tick.
 */
static void *tick_keeper[4096];
static void
ticks(unsigned ind, unsigned n) {
	int flags = flags_of(ind);
	if (ind >= sizeof(tick_keeper) / sizeof(tick_keeper[0]))
		test_fail_at(__FILE__, __LINE__, "arena index %u", ind);
	if (tick_keeper[ind] == NULL) {
		tick_keeper[ind] = mallocx(64, flags);
		assert_ptr_not_null(tick_keeper[ind], "keeper");
	}
	for (unsigned i = 0; i < n; i++) {
		void *p = mallocx(64, flags);
		assert_ptr_not_null(p, "mallocx(64)");
		dallocx(p, flags);
	}
}

/* --- tests ------------------------------------------------------------------ */

TEST(decay_zero) {
	need_stats();
	unsigned ind = arena_new(0, 10000);
	CHECK(get_decay("arena.%u.dirty_decay_ms", ind) == 0, "read back");
	epoch_bump();
	uint64_t purged0 = stat_u64(ind, "dirty_purged");
	uint64_t npurge0 = stat_u64(ind, "dirty_npurge");

	size_t pages = alloc_free_large(ind, 16, 64 * KiB);
	epoch_bump();
	CHECK(pdirty(ind) == 0, "pdirty %zu after freeing %zu pages",
	    pdirty(ind), pages);
	uint64_t purged = stat_u64(ind, "dirty_purged") - purged0;
	CHECK(purged >= pages, "dirty_purged grew by %" PRIu64 ", freed %zu",
	    purged, pages);
	CHECK(stat_u64(ind, "dirty_npurge") > npurge0, "dirty_npurge");
	CHECK(stat_u64(ind, "dirty_nmadvise") > 0, "dirty_nmadvise");

	/* Also with one huge object and a mixture of sizes. */
	for (unsigned round = 0; round < 3; round++) {
		alloc_free_large(ind, 1, 8 * MiB);
		alloc_free_large(ind, 40, (size_t)(round + 5) * 4 * KiB);
		epoch_bump();
		CHECK(pdirty(ind) == 0, "round %u: pdirty %zu", round,
		    pdirty(ind));
	}
}

TEST(decay_never) {
	need_stats();
	unsigned ind = arena_new(-1, -1);
	CHECK(get_decay("arena.%u.dirty_decay_ms", ind) == -1, "read back");
	CHECK(get_decay("arena.%u.muzzy_decay_ms", ind) == -1, "read back");
	size_t pages = alloc_free_large(ind, 32, 64 * KiB);
	epoch_bump();
	size_t d0 = pdirty(ind);
	uint64_t npurge0 = stat_u64(ind, "dirty_npurge");
	CHECK(d0 >= pages, "pdirty %zu, freed %zu pages", d0, pages);

	sleep_ms(300);
	ticks(ind, 20000);
	CHECK(arena_ctl(ind, "decay") == 0, "arena.<i>.decay");
	sleep_ms(100);
	ticks(ind, 20000);
	epoch_bump();
	CHECK(pdirty(ind) >= d0, "pdirty %zu, was %zu", pdirty(ind), d0);
	CHECK(pmuzzy(ind) == 0, "pmuzzy %zu", pmuzzy(ind));
	CHECK(stat_u64(ind, "dirty_npurge") == npurge0, "dirty_npurge moved");

	/* Only an explicit purge removes them. */
	CHECK(arena_ctl(ind, "purge") == 0, "arena.<i>.purge");
	epoch_bump();
	CHECK(pdirty(ind) == 0, "pdirty %zu after purge", pdirty(ind));
}

TEST(decay_short) {
	need_stats();
	unsigned ind = arena_new(200, 200);
	epoch_bump();
	uint64_t dpurged0 = stat_u64(ind, "dirty_purged");
	uint64_t mpurged0 = stat_u64(ind, "muzzy_purged");

	size_t pages = alloc_free_large(ind, 64, 64 * KiB);
	epoch_bump();
	size_t d0 = pdirty(ind);
	CHECK(d0 >= pages / 2, "pdirty %zu right after freeing %zu pages",
	    d0, pages);

	uint64_t start = now_ms(), t_dirty = 0, t_all = 0;
	size_t max_muzzy = 0;
	while (now_ms() - start < 5000) {
		ticks(ind, 2000);
		sleep_ms(5);
		epoch_bump();
		size_t d = pdirty(ind), m = pmuzzy(ind);
		if (m > max_muzzy)
			max_muzzy = m;
		if (d == 0 && t_dirty == 0)
			t_dirty = now_ms() - start;
		if (d == 0 && m == 0) {
			t_all = now_ms() - start;
			break;
		}
	}
	CHECK(t_all != 0, "not released within 5 s: pdirty %zu, pmuzzy %zu",
	    pdirty(ind), pmuzzy(ind));
	uint64_t dp = stat_u64(ind, "dirty_purged") - dpurged0;
	uint64_t mp = stat_u64(ind, "muzzy_purged") - mpurged0;
	CHECK(dp >= pages, "dirty_purged +%" PRIu64 ", freed %zu", dp, pages);
	/* The pages took the muzzy step (MADV_FREE) on the way out. */
	CHECK(mp > 0, "muzzy_purged +%" PRIu64 " (max pmuzzy seen %zu)", mp,
	    max_muzzy);
	CHECK(stat_u64(ind, "muzzy_npurge") > 0, "muzzy_npurge");
	test_msg("decay_short: %zu pages: dirty gone after %" PRIu64
	    " ms, all after %" PRIu64 " ms, max pmuzzy %zu\n", pages,
	    t_dirty, t_all, max_muzzy);

	/* The decay time reads back in the stats too. */
	ssize_t v;
	stat_read(&v, sizeof(v), "stats.arenas.%u.dirty_decay_ms", ind);
	CHECK(v == 200, "stats dirty_decay_ms %zd", v);
	stat_read(&v, sizeof(v), "stats.arenas.%u.muzzy_decay_ms", ind);
	CHECK(v == 200, "stats muzzy_decay_ms %zd", v);
}

TEST(decay_vs_purge) {
	need_stats();
	/* Muzzy pages first: a short dirty curve into a muzzy curve that
	 * never runs. */
	unsigned ind = arena_new(100, -1);
	alloc_free_large(ind, 32, 32 * KiB);
	uint64_t start = now_ms();
	do {
		ticks(ind, 2000);
		sleep_ms(5);
		epoch_bump();
	} while (pdirty(ind) != 0 && now_ms() - start < 5000);
	size_t m0 = pmuzzy(ind);
	CHECK(pdirty(ind) == 0, "dirty pages left: %zu", pdirty(ind));
	CHECK(m0 > 0, "no muzzy pages (pmuzzy %zu)", m0);

	/* Then dirty pages on a long curve. */
	CHECK(set_decay(ind, "dirty", 10000) == 0, "");
	size_t pages = alloc_free_large(ind, 16, 128 * KiB);
	epoch_bump();
	size_t d0 = pdirty(ind);
	CHECK(d0 > 0, "pdirty %zu after freeing %zu pages", d0, pages);

	/* A decay step: pages freed just now are within the curve. */
	CHECK(arena_ctl(ind, "decay") == 0, "arena.<i>.decay");
	epoch_bump();
	CHECK(pdirty(ind) > 0, "arena.<i>.decay purged everything");
	CHECK(pmuzzy(ind) > 0, "arena.<i>.decay purged the muzzy pages");

	/* A purge: everything at once. */
	m0 = pmuzzy(ind);
	uint64_t mp0 = stat_u64(ind, "muzzy_purged");
	CHECK(arena_ctl(ind, "purge") == 0, "arena.<i>.purge");
	epoch_bump();
	CHECK(pdirty(ind) == 0, "pdirty %zu after purge", pdirty(ind));
	CHECK(pmuzzy(ind) == 0, "pmuzzy %zu after purge", pmuzzy(ind));
	CHECK(stat_u64(ind, "muzzy_purged") - mp0 >= m0,
	    "muzzy_purged +%" PRIu64 ", pmuzzy was %zu",
	    stat_u64(ind, "muzzy_purged") - mp0, m0);

	/* The arena is still usable. */
	void *p = mallocx(100 * KiB, flags_of(ind));
	CHECK(p != NULL, "mallocx after purge");
	if (p != NULL)
		dallocx(p, flags_of(ind));
}

TEST(purge_all_arenas) {
	need_stats();
	unsigned a = arena_new(-1, -1), b = arena_new(-1, -1);
	alloc_free_large(a, 8, 64 * KiB);
	alloc_free_large(b, 8, 64 * KiB);
	epoch_bump();
	CHECK(pdirty(a) > 0 && pdirty(b) > 0, "pdirty %zu, %zu", pdirty(a),
	    pdirty(b));
	CHECK(arena_ctl(MALLCTL_ARENAS_ALL, "decay") == 0,
	    "arena.<ALL>.decay");
	epoch_bump();
	CHECK(pdirty(a) > 0 && pdirty(b) > 0, "decay -1 arenas were purged");

	CHECK(arena_ctl(MALLCTL_ARENAS_ALL, "purge") == 0,
	    "arena.<ALL>.purge");
	epoch_bump();
	CHECK(pdirty(a) == 0 && pdirty(b) == 0, "after purge: %zu, %zu",
	    pdirty(a), pdirty(b));
	size_t all;
	stat_read(&all, sizeof(all), "stats.arenas.%u.pdirty",
	    (unsigned)MALLCTL_ARENAS_ALL);
	/* Other arenas may have been given pages again meanwhile (the
	 * harness prints), but not many. */
	CHECK(all < 1024, "merged pdirty %zu after purging all", all);

	/* The same through a MIB. */
	alloc_free_large(a, 4, 64 * KiB);
	alloc_free_large(b, 4, 64 * KiB);
	size_t mib[3], miblen = 3;
	CHECK(mallctlnametomib("arena.0.purge", mib, &miblen) == 0, "");
	mib[1] = MALLCTL_ARENAS_ALL;
	CHECK(mallctlbymib(mib, miblen, NULL, NULL, NULL, 0) == 0,
	    "purge by mib");
	epoch_bump();
	CHECK(pdirty(a) == 0 && pdirty(b) == 0, "after purge by mib: %zu, %zu",
	    pdirty(a), pdirty(b));
}

TEST(arenas_default) {
	ssize_t dirty0 = -7, muzzy0 = -7;
	size_t sz = sizeof(ssize_t);
	assert_d_eq(mallctl("arenas.dirty_decay_ms", &dirty0, &sz, NULL, 0),
	    0, "");
	assert_d_eq(mallctl("arenas.muzzy_decay_ms", &muzzy0, &sz, NULL, 0),
	    0, "");
	ssize_t opt_dirty = -7;
	assert_d_eq(mallctl("opt.dirty_decay_ms", &opt_dirty, &sz, NULL, 0),
	    0, "");
	CHECK(dirty0 == opt_dirty, "arenas.dirty_decay_ms %zd, opt %zd",
	    dirty0, opt_dirty);

	unsigned old = arena_new(dirty0, muzzy0);
	CHECK(set_ssize("arenas.dirty_decay_ms", 1234) == 0, "");
	CHECK(set_ssize("arenas.muzzy_decay_ms", 567) == 0, "");
	ssize_t v = 0;
	sz = sizeof(v);
	CHECK(mallctl("arenas.dirty_decay_ms", &v, &sz, NULL, 0) == 0 &&
	    v == 1234, "arenas.dirty_decay_ms reads %zd", v);

	unsigned ind = 0;
	sz = sizeof(ind);
	assert_d_eq(mallctl("arenas.create", &ind, &sz, NULL, 0), 0, "");
	CHECK(get_decay("arena.%u.dirty_decay_ms", ind) == 1234, "new arena "
	    "dirty %zd", get_decay("arena.%u.dirty_decay_ms", ind));
	CHECK(get_decay("arena.%u.muzzy_decay_ms", ind) == 567, "new arena "
	    "muzzy %zd", get_decay("arena.%u.muzzy_decay_ms", ind));
	CHECK(get_decay("arena.%u.dirty_decay_ms", old) == dirty0,
	    "an existing arena changed");
	CHECK(get_decay("arena.%u.muzzy_decay_ms", old) == muzzy0,
	    "an existing arena changed");
	if (config_stats_on()) {
		epoch_bump();
		ssize_t s;
		stat_read(&s, sizeof(s), "stats.arenas.%u.dirty_decay_ms", ind);
		CHECK(s == 1234, "stats dirty_decay_ms %zd", s);
	}
	/* opt.* keeps the boot value. */
	ssize_t o = 0;
	sz = sizeof(o);
	CHECK(mallctl("opt.dirty_decay_ms", &o, &sz, NULL, 0) == 0 &&
	    o == opt_dirty, "opt.dirty_decay_ms now %zd", o);

	CHECK(set_ssize("arenas.dirty_decay_ms", dirty0) == 0, "restore");
	CHECK(set_ssize("arenas.muzzy_decay_ms", muzzy0) == 0, "restore");
	/* A write and a read in one call answer the old value. */
	ssize_t prev = 0;
	sz = sizeof(prev);
	ssize_t nv = -1;
	CHECK(mallctl("arenas.dirty_decay_ms", &prev, &sz, &nv, sizeof(nv)) ==
	    0 && prev == dirty0, "read-write: old %zd", prev);
	CHECK(set_ssize("arenas.dirty_decay_ms", dirty0) == 0, "restore");
}

TEST(invalid_values) {
	unsigned ind = arena_new(5000, 6000);
	const ssize_t bad[] = {-2, -1000, (ssize_t)(((uint64_t)1 << 62))};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(set_decay(ind, "dirty", bad[i]) == EFAULT,
		    "dirty %zd: %d", bad[i], set_decay(ind, "dirty", bad[i]));
		CHECK(set_decay(ind, "muzzy", bad[i]) == EFAULT,
		    "muzzy %zd: %d", bad[i], set_decay(ind, "muzzy", bad[i]));
		CHECK(set_ssize("arenas.dirty_decay_ms", bad[i]) == EFAULT,
		    "arenas.dirty %zd", bad[i]);
		CHECK(set_ssize("arenas.muzzy_decay_ms", bad[i]) == EFAULT,
		    "arenas.muzzy %zd", bad[i]);
	}
	CHECK(get_decay("arena.%u.dirty_decay_ms", ind) == 5000, "changed");
	CHECK(get_decay("arena.%u.muzzy_decay_ms", ind) == 6000, "changed");
	ssize_t v = 0;
	size_t sz = sizeof(v);
	CHECK(mallctl("arenas.dirty_decay_ms", &v, &sz, NULL, 0) == 0 &&
	    v >= -1, "arenas.dirty_decay_ms %zd", v);

	/* A wrong size. */
	int small = 5;
	char name[64];
	snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms", ind);
	CHECK(mallctl(name, NULL, NULL, &small, sizeof(small)) == EINVAL,
	    "4-byte write");
	CHECK(get_decay("arena.%u.dirty_decay_ms", ind) == 5000, "changed");
	/* The limits themselves are fine. */
	CHECK(set_decay(ind, "dirty", -1) == 0, "-1");
	CHECK(set_decay(ind, "dirty", 0) == 0, "0");
	/* An arena that does not exist. */
	unsigned n = 0;
	sz = sizeof(n);
	assert_d_eq(mallctl("arenas.narenas", &n, &sz, NULL, 0), 0, "");
	CHECK(set_decay(n + 10, "dirty", 100) != 0, "arena %u", n + 10);
}

/* Child of conf_decay: runs with dirty_decay_ms:0,muzzy_decay_ms:0. */
static int
child_conf_decay(void) {
	ssize_t v = -7;
	size_t sz = sizeof(v);
	CCHECK(mallctl("opt.dirty_decay_ms", &v, &sz, NULL, 0) == 0 && v == 0);
	CCHECK(mallctl("opt.muzzy_decay_ms", &v, &sz, NULL, 0) == 0 && v == 0);
	CCHECK(mallctl("arenas.dirty_decay_ms", &v, &sz, NULL, 0) == 0 &&
	    v == 0);
	CCHECK(mallctl("arena.0.dirty_decay_ms", &v, &sz, NULL, 0) == 0 &&
	    v == 0);
	CCHECK(mallctl("arena.0.muzzy_decay_ms", &v, &sz, NULL, 0) == 0 &&
	    v == 0);
	if (!config_stats_on())
		return 0;
	/* Large objects in the automatic arena, through the normal API. */
	void *p[4];
	for (int i = 0; i < 4; i++) {
		p[i] = malloc(MiB);
		CCHECK(p[i] != NULL);
		memset(p[i], i, MiB);
	}
	for (int i = 0; i < 4; i++)
		free(p[i]);
	unsigned ind = 99;
	sz = sizeof(ind);
	CCHECK(mallctl("thread.arena", &ind, &sz, NULL, 0) == 0);
	uint64_t e = 1;
	CCHECK(mallctl("epoch", NULL, NULL, &e, sizeof(e)) == 0);
	char name[64];
	size_t d = 1;
	snprintf(name, sizeof(name), "stats.arenas.%u.pdirty", ind);
	sz = sizeof(d);
	CCHECK(mallctl(name, &d, &sz, NULL, 0) == 0);
	if (d != 0)
		test_msg("child: pdirty %zu\n", d);
	CCHECK(d == 0);
	uint64_t purged = 0;
	snprintf(name, sizeof(name), "stats.arenas.%u.dirty_purged", ind);
	sz = sizeof(purged);
	CCHECK(mallctl(name, &purged, &sz, NULL, 0) == 0);
	CCHECK(purged >= 4 * MiB / page_size);
	return 0;
}

TEST(conf_decay) {
	int rc = test_run_self("decay", "conf_decay",
	    "dirty_decay_ms:0,muzzy_decay_ms:0");
	expect_d_eq(rc, 0, "child exit status");
}

int
main(int argc, char **argv) {
	size_t psz = sizeof(page_size);
	if (mallctl("arenas.page", &page_size, &psz, NULL, 0) != 0)
		page_size = (size_t)sysconf(_SC_PAGESIZE);
	if (argc > 1) {
		if (strcmp(argv[1], "conf_decay") == 0)
			return child_conf_decay();
		return 2;
	}
	return test_run(
	    TEST_CASE(decay_zero),
	    TEST_CASE(decay_never),
	    TEST_CASE(decay_short),
	    TEST_CASE(decay_vs_purge),
	    TEST_CASE(purge_all_arenas),
	    TEST_CASE(arenas_default),
	    TEST_CASE(invalid_values),
	    TEST_CASE(conf_decay));
}
