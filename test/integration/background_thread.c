/*
 * Background threads (facts §6.11) through mallctl.
 *
 * - on_off_on: background_thread can be switched on, off and on again at
 *   run time; the write-and-read form answers the old state;
 *   stats.background_thread.num_threads is > 0 (and at most
 *   max_background_threads) while on and 0 while off.
 * - num_runs_grow: while the threads are on and an arena has pages to
 *   decay, stats.background_thread.num_runs keeps growing and run_interval
 *   is > 0.
 * - idle_purge: with background threads on and 200 ms decay times on an
 *   arena, freed pages go away (pdirty and pmuzzy 0, dirty_purged and
 *   muzzy_purged grow) while the program only sleeps and reads
 *   statistics: no allocation activity drives decay.
 * - no_idle_purge_without_threads: the same with the threads off leaves
 *   the pages dirty (nothing ticks decay in an idle program).
 * - max_threads: max_background_threads reads a value in [1, ncpus],
 *   takes 1 (then one thread runs, and it still purges every arena), 0 is
 *   refused with EINVAL, the old value can be restored.
 * - fork_child: fork with the threads on: the child reads
 *   background_thread false and num_threads 0, allocates and frees, can
 *   start and stop threads of its own and exits 0; the parent's threads
 *   keep running and still purge after the fork.
 * - timed_sleep_wakeup: with one worker asleep until a far deadline
 *   planned for a slow arena, 2048 pages freed into a 100 ms arena that
 *   then sees allocation activity are released within 2 s (the worker is
 *   woken early, as jemalloc does).
 * - destroy_while_purging (forked child): arena.<i>.destroy while a
 *   background thread is purging that arena (madvise slowed down in the
 *   workers to make the overlap certain) must not crash.
 * - conf_background_thread: a child started with MALLOC_CONF
 *   background_thread:true (JE_MALLOC_CONF with the je_ prefix) reads
 *   opt.background_thread and background_thread true, runs threads and
 *   purges an idle arena.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
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

/* --- a slow madvise on request ------------------------------------------- */

/*
 * The library purges with madvise(); this definition takes its place in
 * the process.  While slow_madvise is set, calls from threads other than
 * slow_madvise_exempt sleep 1 ms, which keeps a background thread busy
 * purging for a while.
 */
static volatile int slow_madvise;
static pthread_t slow_madvise_exempt;

int
madvise(void *addr, size_t len, int advice) {
	if (slow_madvise && !pthread_equal(pthread_self(),
	    slow_madvise_exempt)) {
		struct timespec ts = {0, 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return (int)syscall(SYS_madvise, addr, len, advice);
}

/* --- helpers (no asserts: children use them too) -------------------------- */

static int
epoch_bump(void) {
	uint64_t e = 1;
	return mallctl("epoch", NULL, NULL, &e, sizeof(e));
}

static int
readf(void *v, size_t sz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int
readf(void *v, size_t sz, const char *fmt, ...) {
	char name[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	size_t len = sz;
	int err = mallctl(name, v, &len, NULL, 0);
	if (err == 0 && len != sz)
		err = -1;
	return err;
}

/* Values that are 0 on error (the caller checks plausibility). */
static size_t
read_zu(const char *fmt, unsigned ind) {
	size_t v = 0;
	if (readf(&v, sizeof(v), fmt, ind) != 0)
		return 0;
	return v;
}

static uint64_t
read_u64(const char *fmt, unsigned ind) {
	uint64_t v = 0;
	if (readf(&v, sizeof(v), fmt, ind) != 0)
		return 0;
	return v;
}

static size_t
num_threads(void) {
	epoch_bump();
	size_t v = (size_t)-1;
	if (readf(&v, sizeof(v), "stats.background_thread.num_threads") != 0)
		return (size_t)-1;
	return v;
}

static uint64_t
num_runs(void) {
	epoch_bump();
	return read_u64("stats.background_thread.num_runs", 0);
}

static bool
bg_get(void) {
	bool v = false;
	size_t sz = sizeof(v);
	if (mallctl("background_thread", &v, &sz, NULL, 0) != 0)
		return false;
	return v;
}

static int
bg_set(bool on) {
	return mallctl("background_thread", NULL, NULL, &on, sizeof(on));
}

/* Allocates and frees n large objects (touched) in arena ind; returns
 * the bytes freed, 0 on failure. */
static size_t
dirty_arena(unsigned ind, unsigned n, size_t size) {
	int flags = MALLOCX_ARENA(ind) | MALLOCX_TCACHE_NONE;
	void *p[64];
	if (n > 64)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		p[i] = mallocx(size, flags);
		if (p[i] == NULL)
			return 0;
		memset(p[i], 0x3c, size);
	}
	for (unsigned i = 0; i < n; i++)
		dallocx(p[i], flags);
	return (size_t)n * size;
}

/*
 * Waits (sleeping, reading statistics only) until arena ind holds no
 * dirty and no muzzy page; returns the milliseconds it took, or
 * UINT64_MAX after timeout_ms.
 */
static uint64_t
wait_released(unsigned ind, uint64_t timeout_ms) {
	uint64_t start = now_ms();
	for (;;) {
		epoch_bump();
		size_t d = read_zu("stats.arenas.%u.pdirty", ind);
		size_t m = read_zu("stats.arenas.%u.pmuzzy", ind);
		if (d == 0 && m == 0)
			return now_ms() - start;
		if (now_ms() - start > timeout_ms)
			return UINT64_MAX;
		sleep_ms(20);
	}
}

/*
 * Purges every arena, so that no worker plans a timed sleep for pages
 * that happen to be around (an idle program does not tick decay, so a
 * worker only notices new pages in an arena when it sleeps without a
 * deadline; see timed_sleep_wakeup for the case with activity).
 */
static int
purge_all(void) {
	char name[64];
	snprintf(name, sizeof(name), "arena.%u.purge",
	    (unsigned)MALLCTL_ARENAS_ALL);
	return mallctl(name, NULL, NULL, NULL, 0);
}

/* Events in arena ind that add no unused pages (a kept object holds the
 * slab); each free is a decay tick. */
static void
ticks(unsigned ind, unsigned n) {
	int flags = MALLOCX_ARENA(ind) | MALLOCX_TCACHE_NONE;
	void *keep = mallocx(64, flags);
	for (unsigned i = 0; i < n; i++) {
		void *p = mallocx(64, flags);
		if (p != NULL)
			dallocx(p, flags);
	}
	if (keep != NULL)
		dallocx(keep, flags);
}

/* Every test leaves the threads off. */
static void
bg_off(void) {
	if (bg_set(false) != 0)
		test_fail_at(__FILE__, __LINE__, "background_thread off");
}

/* --- tests ------------------------------------------------------------------ */

TEST(on_off_on) {
	bool opt = true;
	size_t sz = sizeof(opt);
	assert_d_eq(mallctl("opt.background_thread", &opt, &sz, NULL, 0), 0,
	    "");
	CHECK(!opt, "opt.background_thread is on by default");
	CHECK(!bg_get(), "on at start");
	size_t max = 0;
	sz = sizeof(max);
	assert_d_eq(mallctl("max_background_threads", &max, &sz, NULL, 0), 0,
	    "");
	if (config_stats_on())
		CHECK(num_threads() == 0, "num_threads %zu before", num_threads());

	for (int round = 0; round < 2; round++) {
		bool old = true, on = true;
		sz = sizeof(old);
		CHECK(mallctl("background_thread", &old, &sz, &on, sizeof(on)) ==
		    0, "switch on");
		CHECK(!old, "old value %d", old);
		CHECK(bg_get(), "reads off after switching on");
		if (config_stats_on()) {
			size_t n = num_threads();
			CHECK(n > 0 && n <= max, "round %d: num_threads %zu "
			    "(max %zu)", round, n, max);
		}
		/* On again: nothing changes. */
		CHECK(bg_set(true) == 0, "on twice");
		CHECK(bg_get(), "");

		bool off = false;
		old = false;
		sz = sizeof(old);
		CHECK(mallctl("background_thread", &old, &sz, &off,
		    sizeof(off)) == 0, "switch off");
		CHECK(old, "old value %d", old);
		CHECK(!bg_get(), "reads on after switching off");
		if (config_stats_on())
			CHECK(num_threads() == 0, "num_threads %zu after off",
			    num_threads());
		CHECK(bg_set(false) == 0, "off twice");
	}
	CHECK(bg_set(true) == 0, "on a third time");
	CHECK(bg_get(), "");
	if (config_stats_on())
		CHECK(num_threads() > 0, "num_threads %zu", num_threads());
	/* Allocation works as usual meanwhile. */
	for (int i = 0; i < 1000; i++) {
		void *p = malloc((size_t)(i % 100) * 97 + 1);
		CHECK(p != NULL, "malloc");
		free(p);
	}
	bg_off();
}

TEST(num_runs_grow) {
	if (!config_stats_on())
		test_skip("no stats");
	unsigned ind = arena_make(400, 400);
	assert_true(ind != UINT32_MAX, "arena");
	uint64_t r0 = num_runs();
	CHECK(purge_all() == 0, "purge");
	CHECK(bg_set(true) == 0, "on");
	/* Pages to decay keep the threads busy for a while. */
	CHECK(dirty_arena(ind, 32, 64 * KiB) != 0, "allocation");
	uint64_t start = now_ms(), r1 = 0, r2 = 0;
	while (now_ms() - start < 5000) {
		r1 = num_runs();
		if (r1 > r0)
			break;
		sleep_ms(10);
	}
	CHECK(r1 > r0, "num_runs %" PRIu64 " -> %" PRIu64 " in 5 s", r0, r1);
	CHECK(dirty_arena(ind, 32, 64 * KiB) != 0, "allocation");
	start = now_ms();
	while (now_ms() - start < 5000) {
		r2 = num_runs();
		if (r2 > r1 + 1)
			break;
		sleep_ms(10);
	}
	CHECK(r2 > r1 + 1, "num_runs %" PRIu64 " -> %" PRIu64 " in 5 s", r1,
	    r2);
	uint64_t iv = read_u64("stats.background_thread.run_interval", 0);
	CHECK(iv > 0, "run_interval %" PRIu64, iv);
	CHECK(wait_released(ind, 5000) != UINT64_MAX, "pages left");
	bg_off();
	CHECK(num_threads() == 0, "num_threads %zu after off", num_threads());
}

TEST(idle_purge) {
	if (!config_stats_on())
		test_skip("no stats");
	unsigned ind = arena_make(200, 200);
	assert_true(ind != UINT32_MAX, "arena");
	CHECK(purge_all() == 0, "purge");
	CHECK(bg_set(true) == 0, "on");
	sleep_ms(50);	/* the threads settle into an indefinite sleep */
	epoch_bump();
	uint64_t dp0 = read_u64("stats.arenas.%u.dirty_purged", ind);
	uint64_t mp0 = read_u64("stats.arenas.%u.muzzy_purged", ind);

	size_t bytes = dirty_arena(ind, 48, 64 * KiB);
	CHECK(bytes != 0, "allocation");
	/* From here on: no allocation, only sleeping and reading stats. */
	epoch_bump();
	size_t d0 = read_zu("stats.arenas.%u.pdirty", ind);
	CHECK(d0 > 0, "no dirty pages right after the free");
	uint64_t t = wait_released(ind, 5000);
	CHECK(t != UINT64_MAX, "idle arena kept pdirty %zu pmuzzy %zu",
	    read_zu("stats.arenas.%u.pdirty", ind),
	    read_zu("stats.arenas.%u.pmuzzy", ind));
	epoch_bump();
	uint64_t dp = read_u64("stats.arenas.%u.dirty_purged", ind) - dp0;
	uint64_t mp = read_u64("stats.arenas.%u.muzzy_purged", ind) - mp0;
	CHECK(dp >= d0, "dirty_purged +%" PRIu64 ", pdirty was %zu", dp, d0);
	CHECK(mp > 0, "muzzy_purged +%" PRIu64, mp);
	test_msg("idle_purge: %zu dirty pages released in %" PRIu64 " ms\n",
	    d0, t);
	bg_off();
}

TEST(no_idle_purge_without_threads) {
	if (!config_stats_on())
		test_skip("no stats");
	CHECK(!bg_get(), "threads on");
	unsigned ind = arena_make(100, 100);
	assert_true(ind != UINT32_MAX, "arena");
	CHECK(dirty_arena(ind, 16, 64 * KiB) != 0, "allocation");
	epoch_bump();
	size_t d0 = read_zu("stats.arenas.%u.pdirty", ind);
	CHECK(d0 > 0, "no dirty pages");
	sleep_ms(300);
	epoch_bump();
	CHECK(read_zu("stats.arenas.%u.pdirty", ind) == d0,
	    "pdirty %zu -> %zu with no thread and no activity", d0,
	    read_zu("stats.arenas.%u.pdirty", ind));
	/* Switching the threads on now takes care of them. */
	CHECK(bg_set(true) == 0, "on");
	CHECK(num_threads() > 0, "no thread");
	CHECK(wait_released(ind, 5000) != UINT64_MAX,
	    "pages left after turning the threads on");
	bg_off();
}

TEST(max_threads) {
	size_t max0 = 0, sz = sizeof(max0);
	assert_d_eq(mallctl("max_background_threads", &max0, &sz, NULL, 0), 0,
	    "");
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	CHECK(max0 >= 1 && (ncpus <= 0 || max0 <= (size_t)ncpus),
	    "max_background_threads %zu, %ld CPUs", max0, ncpus);
	size_t opt = 0;
	sz = sizeof(opt);
	CHECK(mallctl("opt.max_background_threads", &opt, &sz, NULL, 0) == 0,
	    "opt.max_background_threads");

	size_t one = 1, old = 0;
	sz = sizeof(old);
	CHECK(mallctl("max_background_threads", &old, &sz, &one, sizeof(one))
	    == 0 && old == max0, "write 1: old %zu", old);
	sz = sizeof(old);
	CHECK(mallctl("max_background_threads", &old, &sz, NULL, 0) == 0 &&
	    old == 1, "reads %zu", old);
	size_t zero = 0;
	CHECK(mallctl("max_background_threads", NULL, NULL, &zero,
	    sizeof(zero)) == EINVAL, "0 accepted");
	CHECK(mallctl("max_background_threads", NULL, NULL, &one, 4) ==
	    EINVAL, "short write");

	if (config_stats_on()) {
		/* One thread serves every arena. */
		unsigned a = arena_make(150, 150), b = arena_make(150, 150);
		CHECK(a != UINT32_MAX && b != UINT32_MAX, "arenas");
		CHECK(purge_all() == 0, "purge");
		CHECK(bg_set(true) == 0, "on");
		CHECK(num_threads() == 1, "num_threads %zu with max 1",
		    num_threads());
		CHECK(dirty_arena(a, 16, 64 * KiB) != 0, "");
		CHECK(dirty_arena(b, 16, 64 * KiB) != 0, "");
		CHECK(wait_released(a, 5000) != UINT64_MAX, "arena %u", a);
		CHECK(wait_released(b, 5000) != UINT64_MAX, "arena %u", b);
		/* Changing the maximum while on restarts the threads. */
		size_t two = max0 >= 2 ? 2 : 1;
		CHECK(mallctl("max_background_threads", NULL, NULL, &two,
		    sizeof(two)) == 0, "write %zu while on", two);
		CHECK(bg_get(), "off after changing the maximum");
		size_t n = num_threads();
		CHECK(n >= 1 && n <= two, "num_threads %zu with max %zu", n,
		    two);
		bg_off();
	}
	CHECK(mallctl("max_background_threads", NULL, NULL, &max0,
	    sizeof(max0)) == 0, "restore %zu", max0);
	sz = sizeof(old);
	CHECK(mallctl("max_background_threads", &old, &sz, NULL, 0) == 0 &&
	    old == max0, "reads %zu after restoring", old);
}

/*
 * A worker in a timed sleep (planned for another arena's pages, far in
 * the future) must still be woken early when an active arena it serves
 * gets far more pages (2048 > BACKGROUND_THREAD_NPAGES_THRESHOLD) than
 * its 100 ms curve lets stay until then (facts §6.11, "Early wakeup").
 * jemalloc 5.3 releases them in about 0.2 s here.
 */
TEST(timed_sleep_wakeup) {
	if (!config_stats_on())
		test_skip("no stats");
	size_t max0 = 0, sz = sizeof(max0), one = 1;
	assert_d_eq(mallctl("max_background_threads", &max0, &sz, &one,
	    sizeof(one)), 0, "");
	/* A long curve with a few hundred pages: the one worker plans to
	 * sleep for about 10 s. */
	unsigned slow = arena_make(10000, 10000);
	unsigned fast = arena_make(100, 100);
	assert_true(slow != UINT32_MAX && fast != UINT32_MAX, "arenas");
	CHECK(purge_all() == 0, "purge");
	CHECK(dirty_arena(slow, 4, 256 * KiB) != 0, "");
	CHECK(bg_set(true) == 0, "on");
	CHECK(num_threads() == 1, "num_threads %zu", num_threads());
	sleep_ms(200);

	/* 8 MiB in the fast arena, then ordinary activity there. */
	CHECK(dirty_arena(fast, 32, 256 * KiB) != 0, "");
	ticks(fast, 5000);
	epoch_bump();
	size_t d0 = read_zu("stats.arenas.%u.pdirty", fast);
	uint64_t t = wait_released(fast, 2000);
	CHECK(t != UINT64_MAX, "%zu dirty pages with a 100 ms decay time "
	    "still there after 2 s (pdirty %zu, pmuzzy %zu): the worker "
	    "was not woken", d0, read_zu("stats.arenas.%u.pdirty", fast),
	    read_zu("stats.arenas.%u.pmuzzy", fast));
	bg_off();
	CHECK(mallctl("max_background_threads", NULL, NULL, &max0,
	    sizeof(max0)) == 0, "restore");
	CHECK(purge_all() == 0, "purge");
}

/*
 * arena.<i>.destroy while a background thread is purging that arena: the
 * worker must be kept out of the arena (facts §6.11: reset pauses the
 * arena's thread) instead of working on memory that destroy unmapped.
 * Runs in a child (a crash is a failure, not the end of the run).
 */
static void
destroy_child(void) {
	alarm(20);
	slow_madvise_exempt = pthread_self();
	slow_madvise = 1;
	CCHECK(purge_all() == 0);
	CCHECK(bg_set(true) == 0);
	for (int round = 0; round < 3; round++) {
		unsigned ind = arena_make(1, 1);
		CCHECK(ind != UINT32_MAX);
		int flags = MALLOCX_ARENA(ind) | MALLOCX_TCACHE_NONE;
		static void *p[256];
		for (int i = 0; i < 256; i++) {
			p[i] = mallocx(16 * KiB, flags);
			CCHECK(p[i] != NULL);
			memset(p[i], 1, 16 * KiB);
		}
		/* 128 dirty extents that cannot coalesce: the worker needs
		 * about 128 ms (slow madvise) to purge them. */
		for (int i = 0; i < 256; i += 2)
			dallocx(p[i], flags);
		sleep_ms(130);	/* the worker's first run is at ~100 ms */
		char name[64];
		snprintf(name, sizeof(name), "arena.%u.destroy", ind);
		CCHECK(mallctl(name, NULL, NULL, NULL, 0) == 0);
		sleep_ms(150);
	}
	CCHECK(bg_set(false) == 0);
	slow_madvise = 0;
	_exit(0);
}

TEST(destroy_while_purging) {
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0, "fork");
	if (pid == 0)
		destroy_child();
	int rc = test_wait_child(pid);
	CHECK(rc == 0, "child exit status %d (%s)", rc, rc == 128 + 11 ?
	    "SIGSEGV" : rc == 128 + 14 ? "alarm: hung" : "");
}

static void *
alloc_thread(void *arg) {
	(void)arg;
	for (int i = 0; i < 10000; i++) {
		void *p = malloc((size_t)(i % 300) * 13 + 1);
		if (p == NULL)
			return (void *)1;
		free(p);
	}
	return NULL;
}

/* What a forked child checks; exits 0 when all is well. */
static void
fork_child_body(void) {
	alarm(20);
	CCHECK(!bg_get());
	if (config_stats_on())
		CCHECK(num_threads() == 0);
	/* Allocation and deallocation of many sizes. */
	void *p[200];
	for (int i = 0; i < 200; i++) {
		size_t sz = (size_t)1 << (i % 22);
		p[i] = malloc(sz);
		CCHECK(p[i] != NULL);
		memset(p[i], i, sz < 4096 ? sz : 4096);
	}
	for (int i = 0; i < 200; i++) {
		size_t sz = (size_t)1 << (i % 22);
		CCHECK(((unsigned char *)p[i])[(sz < 4096 ? sz : 4096) - 1] ==
		    (unsigned char)i);
		free(p[i]);
	}
	pthread_t th;
	void *ret = (void *)1;
	CCHECK(pthread_create(&th, NULL, alloc_thread, NULL) == 0);
	CCHECK(pthread_join(th, &ret) == 0 && ret == NULL);
	/* Threads of its own. */
	CCHECK(purge_all() == 0);
	CCHECK(bg_set(true) == 0);
	CCHECK(bg_get());
	if (config_stats_on()) {
		CCHECK(num_threads() > 0);
		unsigned ind = arena_make(100, 100);
		CCHECK(ind != UINT32_MAX);
		CCHECK(dirty_arena(ind, 16, 64 * KiB) != 0);
		CCHECK(wait_released(ind, 5000) != UINT64_MAX);
	}
	CCHECK(bg_set(false) == 0);
	CCHECK(!bg_get());
	exit(0);
}

TEST(fork_child) {
	CHECK(purge_all() == 0, "purge");
	CHECK(bg_set(true) == 0, "on");
	size_t n0 = config_stats_on() ? num_threads() : 1;
	CHECK(n0 > 0, "num_threads %zu", n0);
	/* The threads are busy at the fork. */
	unsigned ind = UINT32_MAX;
	if (config_stats_on()) {
		ind = arena_make(150, 150);
		CHECK(ind != UINT32_MAX, "arena");
		CHECK(dirty_arena(ind, 32, 64 * KiB) != 0, "");
	}
	for (int k = 0; k < 2; k++) {
		fflush(NULL);
		pid_t pid = fork();
		assert_true(pid >= 0, "fork");
		if (pid == 0)
			fork_child_body();
		int rc = test_wait_child(pid);
		CHECK(rc == 0, "child %d exit status %d", k, rc);
	}
	/* The parent's threads survived the forks. */
	CHECK(bg_get(), "parent reads background_thread off");
	if (config_stats_on()) {
		CHECK(num_threads() == n0, "parent num_threads %zu, was %zu",
		    num_threads(), n0);
		uint64_t r0 = num_runs();
		CHECK(wait_released(ind, 5000) != UINT64_MAX,
		    "parent's arena not purged after the fork");
		/* (The children's output may have left pages elsewhere.) */
		CHECK(purge_all() == 0, "purge");
		sleep_ms(20);
		CHECK(dirty_arena(ind, 32, 64 * KiB) != 0, "");
		CHECK(wait_released(ind, 5000) != UINT64_MAX,
		    "parent's arena not purged after the fork");
		CHECK(num_runs() > r0, "num_runs did not grow after the fork");
	}
	bg_off();
}

static int
child_conf(void) {
	alarm(20);
	bool v = false;
	size_t sz = sizeof(v);
	CCHECK(mallctl("opt.background_thread", &v, &sz, NULL, 0) == 0 && v);
	/* Started with the library (after the first allocation at the
	 * latest). */
	free(malloc(1));
	CCHECK(bg_get());
	if (config_stats_on()) {
		CCHECK(num_threads() > 0);
		unsigned ind = arena_make(100, 100);
		CCHECK(ind != UINT32_MAX);
		CCHECK(purge_all() == 0);
		CCHECK(dirty_arena(ind, 16, 64 * KiB) != 0);
		CCHECK(wait_released(ind, 5000) != UINT64_MAX);
	}
	/* Exit with the threads running. */
	return 0;
}

TEST(conf_background_thread) {
	int rc = test_run_self("background_thread", "conf",
	    "background_thread:true");
	expect_d_eq(rc, 0, "child exit status");
	rc = test_run_self("background_thread", "conf",
	    "background_thread:true,max_background_threads:1");
	expect_d_eq(rc, 0, "child exit status (max 1)");
}

int
main(int argc, char **argv) {
	if (argc > 1) {
		if (strcmp(argv[1], "conf") == 0)
			return child_conf();
		return 2;
	}
	return test_run(
	    TEST_CASE(on_off_on),
	    TEST_CASE(num_runs_grow),
	    TEST_CASE(idle_purge),
	    TEST_CASE(no_idle_purge_without_threads),
	    TEST_CASE(max_threads),
	    TEST_CASE(timed_sleep_wakeup),
	    TEST_CASE(destroy_while_purging),
	    TEST_CASE(fork_child),
	    TEST_CASE(conf_background_thread));
}
