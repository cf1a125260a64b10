/*
 * The memory limit (an extension of this implementation, issue 5; see
 * doc/deviations.md): mem_limit.{soft,hard} (rw, bytes, 0 = none),
 * mem_limit.footprint (bytes of active, dirty and muzzy extents plus
 * metadata), opt.mem_limit_{soft,hard} and the MALLOC_CONF keys
 * mem_limit_soft / mem_limit_hard.
 *
 * - ctl_read_write: the names read 0 by default, take and read back
 *   values, refuse wrong sizes; the footprint is > 0, grows with a large
 *   allocation, stays when it is freed into a never-decaying arena and
 *   shrinks when that arena is purged.
 * - hard_ctl (forked child): hard limit = footprint + 64 MiB; 1 MiB blocks
 *   until malloc answers NULL with errno ENOMEM after about 64 of them;
 *   every earlier block keeps its contents; calloc, realloc (growing; the
 *   old block stays), posix_memalign, aligned_alloc and mallocx fail too;
 *   freeing blocks makes room again, also for a bigger block than any
 *   freed one (the dirty pages are purged to make room); a limit below
 *   the footprint refuses new memory; 0 lifts the limit.
 * - hard_conf (exec'd child, MALLOC_CONF mem_limit_hard:96 MiB): the
 *   option reads back and the same exhaustion happens at about
 *   96 MiB - footprint.
 * - hard_threads (forked child): four threads allocating 1 MiB blocks up
 *   to the limit overshoot it by at most one block each.
 * - small_objects (forked child): 48-byte objects under a hard limit of
 *   footprint + 16 MiB end in NULL/ENOMEM with every object intact, and
 *   allocation works again once they are freed; slab allocations that
 *   cross a soft limit purge the arena's dirty pages.
 * - soft_ctl: with dirty pages in a never-decaying arena, a soft limit
 *   above the footprint purges nothing; one below it purges every dirty
 *   page at once and the footprint shrinks.
 * - soft_conf (exec'd child, MALLOC_CONF dirty_decay_ms:-1,
 *   muzzy_decay_ms:-1,mem_limit_soft:64 MiB): dirty pages stay while the
 *   footprint is below the limit; the allocation that crosses it succeeds,
 *   and afterwards no dirty page is left and the footprint is back below
 *   the limit.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"
#include "test_ctl.h"

#pragma GCC diagnostic ignored "-Wformat-zero-length"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

/*
 * Metadata (base blocks, counted whole when they are mapped) is not
 * checked against the hard limit, so the footprint can pass it by that
 * much; allocations of extents themselves must not.  See the report of
 * issue 5's tests: a base block mapped while the footprint is at the
 * limit has been seen to take it 6 MiB over.
 */
#define META_SLACK ((size_t)16 << 20)

/* Calls the compiler cannot pair up and delete. */
static void *(*volatile vmalloc)(size_t) = malloc;
static void *(*volatile vcalloc)(size_t, size_t) = calloc;
static void *(*volatile vrealloc)(void *, size_t) = realloc;
static void (*volatile vfree)(void *) = free;

/* --- helpers (no asserts: children use them) ---------------------------- */

static size_t
get_zu(const char *name) {
	size_t v = (size_t)-1, sz = sizeof(v);
	if (mallctl(name, &v, &sz, NULL, 0) != 0 || sz != sizeof(v))
		return (size_t)-1;
	return v;
}

static int
set_zu(const char *name, size_t v) {
	return mallctl(name, NULL, NULL, &v, sizeof(v));
}

static void
epoch_bump(void) {
	uint64_t e = 1;
	mallctl("epoch", NULL, NULL, &e, sizeof(e));
}

/* stats.arenas.<ind>.pdirty after an epoch; MALLCTL_ARENAS_ALL for all. */
static size_t
pdirty(unsigned ind) {
	char name[64];
	epoch_bump();
	snprintf(name, sizeof(name), "stats.arenas.%u.pdirty", ind);
	return get_zu(name);
}

/* A recognisable pattern per block. */
static void
fill(void *p, size_t size, unsigned seed) {
	uint64_t *w = p;
	for (size_t i = 0; i < size / 8; i += 512)
		w[i] = ((uint64_t)seed << 32) ^ i;
	w[size / 8 - 1] = ~(uint64_t)seed;
}

static bool
intact(const void *p, size_t size, unsigned seed) {
	const uint64_t *w = p;
	for (size_t i = 0; i < size / 8; i += 512) {
		if (w[i] != (((uint64_t)seed << 32) ^ i))
			return false;
	}
	return w[size / 8 - 1] == ~(uint64_t)seed;
}

/* Runs fn in a forked child; returns its exit status. */
static int
run_forked(void (*fn)(void)) {
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		alarm(30);
		fn();
		_exit(0);
	}
	return test_wait_child(pid);
}

#define NBLOCKS 512
static void *blocks[NBLOCKS];

/*
 * Allocates 1 MiB blocks until malloc fails (checking errno) and returns
 * how many it got; every block is filled with its pattern.
 */
static unsigned
exhaust(void) {
	unsigned n = 0;
	for (;;) {
		CCHECK(n < NBLOCKS, "no failure after %u MiB", n);
		errno = 0;
		void *p = vmalloc(MiB);
		if (p == NULL) {
			CCHECK(errno == ENOMEM, "errno %d", errno);
			return n;
		}
		fill(p, MiB, n);
		blocks[n++] = p;
	}
}

/* The checks shared by hard_ctl and hard_conf once the limit is hit. */
static void
at_the_limit(unsigned n, size_t hard) {
	for (unsigned i = 0; i < n; i++)
		CCHECK(intact(blocks[i], MiB, i), "block %u damaged", i);
	size_t f = footprint();
	CCHECK(f <= hard + META_SLACK, "footprint %zu over the hard limit %zu",
	    f, hard);
	/* It failed because one more block (1 MiB and at most a page of
	 * padding) did not fit, not earlier. */
	CCHECK(f + MiB + 2 * 4096 > hard, "malloc failed with %zu bytes left",
	    hard - f);

	/* Other entry points fail the same way. */
	errno = 0;
	CCHECK(vcalloc(1, MiB) == NULL && errno == ENOMEM, "calloc");
	void *q;
	CCHECK(posix_memalign(&q, 4096, MiB) == ENOMEM, "posix_memalign");
	errno = 0;
	CCHECK(aligned_alloc(65536, MiB) == NULL && errno == ENOMEM,
	    "aligned_alloc");
	CCHECK(mallocx(MiB, 0) == NULL, "mallocx");
	errno = 0;
	void *r = vrealloc(blocks[n - 1], 8 * MiB);
	CCHECK(r == NULL && errno == ENOMEM, "realloc grew past the limit");
	CCHECK(intact(blocks[n - 1], MiB, n - 1), "realloc damaged the block");

	/* Freeing makes room for blocks of the freed size. */
	for (unsigned i = 0; i < 4; i++) {
		vfree(blocks[2 * i]);
		blocks[2 * i] = NULL;
	}
	for (unsigned i = 0; i < 4; i++) {
		blocks[2 * i] = vmalloc(MiB);
		CCHECK(blocks[2 * i] != NULL, "malloc after free %u", i);
		fill(blocks[2 * i], MiB, 2 * i);
	}
	/* And, once their pages are purged, for a bigger one. */
	for (unsigned i = 0; i < 8; i++) {
		vfree(blocks[2 * i]);
		blocks[2 * i] = NULL;
	}
	errno = 0;
	void *big = vmalloc(4 * MiB);
	CCHECK(big != NULL, "4 MiB after freeing 8 x 1 MiB: errno %d, "
	    "footprint %zu, limit %zu", errno, footprint(), hard);
	memset(big, 0x11, 4 * MiB);
	CCHECK(footprint() <= hard + META_SLACK, "footprint %zu > %zu",
	    footprint(), hard);
	vfree(big);
	for (unsigned i = 0; i < n; i++) {
		if (blocks[i] != NULL)
			CCHECK(intact(blocks[i], MiB, i), "block %u damaged", i);
	}
}

/* --- tests ------------------------------------------------------------------ */

TEST(ctl_read_write) {
	CHECK(get_zu("mem_limit.soft") == 0, "soft %zu", get_zu("mem_limit.soft"));
	CHECK(get_zu("mem_limit.hard") == 0, "hard %zu", get_zu("mem_limit.hard"));
	CHECK(get_zu("opt.mem_limit_soft") == 0, "opt soft");
	CHECK(get_zu("opt.mem_limit_hard") == 0, "opt hard");
	size_t f0 = footprint();
	CHECK(f0 > 0 && f0 != (size_t)-1, "footprint %zu", f0);

	const size_t big = (size_t)1 << 40;
	CHECK(set_zu("mem_limit.soft", big) == 0, "");
	CHECK(get_zu("mem_limit.soft") == big, "soft reads %zu",
	    get_zu("mem_limit.soft"));
	CHECK(set_zu("mem_limit.hard", big) == 0, "");
	CHECK(get_zu("mem_limit.hard") == big, "hard reads %zu",
	    get_zu("mem_limit.hard"));
	/* Read and write at once: the old value. */
	size_t old = 0, sz = sizeof(old), zero = 0;
	CHECK(mallctl("mem_limit.soft", &old, &sz, &zero, sizeof(zero)) == 0 &&
	    old == big, "old soft %zu", old);
	CHECK(mallctl("mem_limit.hard", &old, &sz, &zero, sizeof(zero)) == 0 &&
	    old == big, "old hard %zu", old);
	CHECK(get_zu("mem_limit.soft") == 0 && get_zu("mem_limit.hard") == 0,
	    "not cleared");
	/* opt.* stays the boot value. */
	CHECK(get_zu("opt.mem_limit_hard") == 0, "opt hard changed");
	unsigned small = 5;
	CHECK(mallctl("mem_limit.soft", NULL, NULL, &small, sizeof(small)) ==
	    EINVAL, "4-byte write");
	CHECK(mallctl("mem_limit.footprint", NULL, NULL, &zero, sizeof(zero))
	    == EPERM, "footprint is read-only");
	CHECK(get_zu("mem_limit.soft") == 0, "");

	/* The footprint follows large extents. */
	unsigned ind = arena_make(-1, -1);
	assert_true(ind != UINT32_MAX, "arena");
	int flags = MALLOCX_ARENA(ind) | MALLOCX_TCACHE_NONE;
	/* The arena's first extent brings metadata of its own. */
	void *w = mallocx(64 * KiB, flags);
	assert_ptr_not_null(w, "");
	size_t f1 = footprint();
	void *p = mallocx(32 * MiB, flags);
	assert_ptr_not_null(p, "");
	memset(p, 1, 32 * MiB);
	size_t f2 = footprint();
	CHECK(f2 >= f1 + 32 * MiB, "footprint %zu -> %zu after 32 MiB", f1,
	    f2);
	/* Metadata (base blocks, counted whole when mapped) may come on
	 * top, but not another allocation's worth. */
	CHECK(f2 <= f1 + 48 * MiB, "footprint %zu -> %zu after 32 MiB", f1,
	    f2);
	dallocx(p, flags);
	size_t f3 = footprint();
	CHECK(f3 + MiB >= f2, "freeing into a never-decaying arena shrank "
	    "the footprint %zu -> %zu", f2, f3);
	char name[64];
	snprintf(name, sizeof(name), "arena.%u.purge", ind);
	CHECK(mallctl(name, NULL, NULL, NULL, 0) == 0, "purge");
	size_t f4 = footprint();
	CHECK(f4 + 32 * MiB <= f3, "purge: footprint %zu -> %zu", f3, f4);
	dallocx(w, flags);
}

static void
hard_ctl_child(void) {
	size_t f0 = footprint();
	size_t hard = f0 + 64 * MiB;
	CCHECK(set_zu("mem_limit.hard", hard) == 0, "");
	CCHECK(get_zu("mem_limit.hard") == hard, "");
	unsigned n = exhaust();
	CCHECK(n >= 48 && n <= 64, "%u blocks of 1 MiB under a limit of "
	    "footprint + 64 MiB", n);
	test_msg("hard_ctl: %u blocks of 1 MiB under footprint + 64 MiB\n",
	    n);
	at_the_limit(n, hard);

	/* A limit below the footprint: no new memory at all. */
	CCHECK(set_zu("mem_limit.hard", f0) == 0, "");
	errno = 0;
	CCHECK(vmalloc(2 * MiB) == NULL && errno == ENOMEM, "below");
	for (unsigned i = 0; i < n; i++) {
		if (blocks[i] != NULL)
			CCHECK(intact(blocks[i], MiB, i), "block %u", i);
	}
	/* No limit: works again. */
	CCHECK(set_zu("mem_limit.hard", 0) == 0, "");
	void *p = vmalloc(128 * MiB);
	CCHECK(p != NULL, "128 MiB without a limit");
	memset(p, 2, 128 * MiB);
	vfree(p);
	for (unsigned i = 0; i < n; i++)
		vfree(blocks[i]);
}

TEST(hard_ctl) {
	expect_d_eq(run_forked(hard_ctl_child), 0, "child exit status");
}

#define HARD_CONF ((size_t)96 * MiB)

static int
hard_conf_child(void) {
	alarm(30);
	CCHECK(get_zu("opt.mem_limit_hard") == HARD_CONF, "opt %zu",
	    get_zu("opt.mem_limit_hard"));
	CCHECK(get_zu("mem_limit.hard") == HARD_CONF, "");
	CCHECK(get_zu("mem_limit.soft") == 0, "");
	size_t f0 = footprint();
	CCHECK(f0 > 0 && f0 < HARD_CONF / 2, "start-up footprint %zu", f0);
	unsigned room = (unsigned)((HARD_CONF - f0) / MiB);
	unsigned n = exhaust();
	CCHECK(n + 16 >= room && n <= room, "%u blocks, room for %u", n, room);
	test_msg("hard_conf: %u blocks of 1 MiB, room for %u\n", n, room);
	at_the_limit(n, HARD_CONF);
	for (unsigned i = 0; i < n; i++)
		vfree(blocks[i]);
	return 0;
}

TEST(hard_conf) {
	char conf[64];
	snprintf(conf, sizeof(conf), "mem_limit_hard:%zu", HARD_CONF);
	expect_d_eq(test_run_self("mem_limit", "hard_conf", conf), 0,
	    "child exit status");
}

#define NTHREADS 4
static size_t thread_hard;

static void *
hard_thread(void *arg) {
	void **mine = arg;
	unsigned n = 0;
	while (n < 128) {
		void *p = vmalloc(MiB);
		if (p == NULL)
			break;
		memset(p, 3, 4096);
		mine[n++] = p;
	}
	return (void *)(uintptr_t)n;
}

static void
hard_threads_child(void) {
	static void *slots[NTHREADS][128];
	thread_hard = footprint() + 48 * MiB;
	CCHECK(set_zu("mem_limit.hard", thread_hard) == 0, "");
	pthread_t th[NTHREADS];
	for (int i = 0; i < NTHREADS; i++)
		CCHECK(pthread_create(&th[i], NULL, hard_thread, slots[i]) == 0,
		    "");
	unsigned total = 0;
	for (int i = 0; i < NTHREADS; i++) {
		void *ret;
		CCHECK(pthread_join(th[i], &ret) == 0, "");
		total += (unsigned)(uintptr_t)ret;
	}
	size_t f = footprint();
	CCHECK(f <= thread_hard + NTHREADS * (MiB + 64 * KiB) + META_SLACK,
	    "footprint %zu, limit %zu", f, thread_hard);
	/* Every thread stopped because a block did not fit any more.  (The
	 * count depends on the metadata of the threads' arenas.) */
	CCHECK(f + MiB + 2 * 4096 > thread_hard, "footprint %zu, limit %zu",
	    f, thread_hard);
	CCHECK(total >= 24 && total <= 48 + NTHREADS, "%u blocks", total);
	test_msg("hard_threads: %u blocks, footprint - limit = %zd\n", total,
	    (ssize_t)(f - thread_hard));
}

TEST(hard_threads) {
	expect_d_eq(run_forked(hard_threads_child), 0, "child exit status");
}

/*
 * Small objects reach the limits through slabs (and thread-cache fills):
 * under a hard limit malloc(48) ends in NULL/ENOMEM as well, the objects
 * keep their contents, and everything works again after freeing them;
 * a soft limit crossed by a slab allocation purges as for large ones.
 */
#define NSMALL ((size_t)1 << 20)

static void
small_child(void) {
	uintptr_t **objs = vmalloc(NSMALL * sizeof(void *));
	CCHECK(objs != NULL, "");
	memset(objs, 0, NSMALL * sizeof(void *));
	size_t hard = footprint() + 16 * MiB;
	CCHECK(set_zu("mem_limit.hard", hard) == 0, "");
	size_t n = 0;
	for (;;) {
		CCHECK(n < NSMALL, "no failure after %zu objects", n);
		errno = 0;
		uintptr_t *p = vmalloc(48);
		if (p == NULL) {
			CCHECK(errno == ENOMEM, "errno %d", errno);
			break;
		}
		p[0] = (uintptr_t)n;
		p[5] = ~(uintptr_t)n;
		objs[n++] = p;
	}
	/* 16 MiB of 48-byte regions, less metadata and slack. */
	CCHECK(n >= 16 * MiB / 48 / 2, "only %zu objects", n);
	CCHECK(footprint() <= hard + META_SLACK, "footprint %zu over %zu",
	    footprint(), hard);
	for (size_t i = 0; i < n; i++) {
		CCHECK(objs[i][0] == (uintptr_t)i && objs[i][5] ==
		    ~(uintptr_t)i, "object %zu damaged", i);
	}
	test_msg("small: %zu objects of 48 bytes under footprint + 16 MiB\n",
	    n);
	/* Free them all: allocation works again under the same limit. */
	for (size_t i = 0; i < n; i++)
		vfree(objs[i]);
	void *q = vmalloc(4 * MiB);
	CCHECK(q != NULL, "4 MiB after freeing the small objects: errno %d",
	    errno);
	vfree(q);
	for (size_t i = 0; i < 1000; i++) {
		void *r = vmalloc(48);
		CCHECK(r != NULL, "small after freeing");
		vfree(r);
	}
	CCHECK(set_zu("mem_limit.hard", 0) == 0, "");

	/* A soft limit crossed by slab allocations.  The dirty pages to be
	 * purged sit in another arena (which never decays), so that the
	 * slabs cannot reuse them. */
	unsigned ind = arena_make(-1, -1);
	CCHECK(ind != UINT32_MAX, "");
	int flags = MALLOCX_ARENA(ind) | MALLOCX_TCACHE_NONE;
	void *big = mallocx(16 * MiB, flags);
	CCHECK(big != NULL, "");
	memset(big, 1, 16 * MiB);
	dallocx(big, flags);
	if (config_stats_on())
		CCHECK(pdirty(ind) >= 16 * MiB / 4096, "pdirty %zu", pdirty(ind));
	size_t soft = footprint() + 4 * MiB;
	CCHECK(set_zu("mem_limit.soft", soft) == 0, "");
	/* Allocate until the footprint first shrinks. */
	size_t before = footprint(), m = 0;
	bool shrank = false;
	while (m < NSMALL) {
		void *p = vmalloc(48);
		CCHECK(p != NULL, "malloc under a soft limit");
		objs[m++] = p;
		size_t now = footprint();
		if (now + 8 * MiB < before) {
			shrank = true;
			break;
		}
		before = now;
	}
	CCHECK(shrank, "the footprint never shrank (%zu, soft %zu)",
	    footprint(), soft);
	CCHECK(footprint() <= soft, "footprint %zu, soft %zu", footprint(),
	    soft);
	if (config_stats_on())
		CCHECK(pdirty(ind) == 0, "pdirty %zu", pdirty(ind));
	for (size_t i = 0; i < m; i++)
		vfree(objs[i]);
	CCHECK(set_zu("mem_limit.soft", 0) == 0, "");
	vfree(objs);
}

TEST(small_objects) {
	expect_d_eq(run_forked(small_child), 0, "child exit status");
}

TEST(soft_ctl) {
	if (!config_stats_on())
		test_skip("no stats");
	unsigned ind = arena_make(-1, -1);
	assert_true(ind != UINT32_MAX, "arena");
	int flags = MALLOCX_ARENA(ind) | MALLOCX_TCACHE_NONE;
	void *p[16];
	for (int i = 0; i < 16; i++) {
		p[i] = mallocx(MiB, flags);
		assert_ptr_not_null(p[i], "");
		memset(p[i], i, MiB);
	}
	for (int i = 0; i < 16; i++)
		dallocx(p[i], flags);
	size_t d0 = pdirty(ind);
	CHECK(d0 >= 16 * MiB / 4096 / 2, "pdirty %zu", d0);
	size_t f0 = footprint();

	/* Above the footprint: nothing happens. */
	CHECK(set_zu("mem_limit.soft", f0 + 256 * MiB) == 0, "");
	CHECK(pdirty(ind) == d0, "pdirty %zu -> %zu under the soft limit", d0,
	    pdirty(ind));
	void *q = malloc(3 * MiB);
	CHECK(q != NULL, "");
	free(q);
	CHECK(pdirty(ind) == d0, "pdirty %zu -> %zu under the soft limit", d0,
	    pdirty(ind));

	/* Below: everything purgeable goes at once. */
	f0 = footprint();
	CHECK(set_zu("mem_limit.soft", f0 - 8 * MiB) == 0, "");
	CHECK(pdirty(ind) == 0, "pdirty %zu over the soft limit", pdirty(ind));
	size_t f1 = footprint();
	CHECK(f1 + 16 * MiB <= f0, "footprint %zu -> %zu", f0, f1);
	/* Allocation goes on over a soft limit. */
	q = malloc(8 * MiB);
	CHECK(q != NULL, "malloc over the soft limit");
	free(q);
	CHECK(set_zu("mem_limit.soft", 0) == 0, "");
}

#define SOFT_CONF ((size_t)64 * MiB)

static int
soft_conf_child(void) {
	alarm(30);
	CCHECK(get_zu("opt.mem_limit_soft") == SOFT_CONF, "opt %zu",
	    get_zu("opt.mem_limit_soft"));
	CCHECK(get_zu("mem_limit.soft") == SOFT_CONF, "");
	CCHECK(get_zu("mem_limit.hard") == 0, "");
	size_t f0 = footprint();
	CCHECK(f0 < 16 * MiB, "start-up footprint %zu", f0);
	/* 40 MiB, then 20 non-adjacent MiB freed: dirty, never decaying. */
	void *p[40];
	for (int i = 0; i < 40; i++) {
		p[i] = vmalloc(MiB);
		CCHECK(p[i] != NULL, "");
		memset(p[i], i, MiB);
	}
	for (int i = 0; i < 40; i += 2)
		vfree(p[i]);
	size_t d0 = pdirty(MALLCTL_ARENAS_ALL);
	CCHECK(d0 >= 20 * MiB / 4096, "pdirty %zu", d0);

	/* 4 MiB blocks (too big for the holes) until the limit is crossed. */
	void *big[16];
	int nbig = 0;
	bool crossed = false;
	while (!crossed) {
		CCHECK(nbig < 16, "never crossed: footprint %zu", footprint());
		size_t before = footprint();
		big[nbig] = vmalloc(4 * MiB);
		CCHECK(big[nbig] != NULL, "the soft limit refused memory");
		memset(big[nbig], 7, 4 * MiB);
		nbig++;
		size_t after = footprint();
		size_t d = pdirty(MALLCTL_ARENAS_ALL);
		if (d >= d0) {
			/* No purge: then the limit was not crossed. */
			CCHECK(before + 4 * MiB <= SOFT_CONF + META_SLACK,
			    "footprint %zu -> %zu crossed the soft limit "
			    "without a purge", before, after);
			continue;
		}
		/* A purge: only when crossing (the block and the metadata it
		 * brought with it took the footprint over). */
		crossed = true;
		test_msg("soft_conf: crossed at block %d: footprint %zu -> %zu, "
		    "pdirty %zu -> %zu\n", nbig, before, after, d0, d);
		CCHECK(before + 4 * MiB + META_SLACK > SOFT_CONF, "purged "
		    "far below the soft limit: pdirty %zu -> %zu, footprint "
		    "%zu -> %zu", d0, d, before, after);
		CCHECK(d == 0, "pdirty %zu after crossing the soft limit", d);
		CCHECK(after <= SOFT_CONF, "footprint %zu after crossing %zu",
		    after, SOFT_CONF);
		CCHECK(after + 12 * MiB <= before + 4 * MiB, "footprint %zu -> "
		    "%zu", before, after);
	}
	for (int i = 1; i < 40; i += 2)
		vfree(p[i]);
	for (int i = 0; i < nbig; i++)
		vfree(big[i]);
	return 0;
}

TEST(soft_conf) {
	if (!config_stats_on())
		test_skip("no stats");
	char conf[128];
	snprintf(conf, sizeof(conf), "dirty_decay_ms:-1,muzzy_decay_ms:-1,"
	    "mem_limit_soft:%zu", SOFT_CONF);
	expect_d_eq(test_run_self("mem_limit", "soft_conf", conf), 0,
	    "child exit status");
}

int
main(int argc, char **argv) {
	if (argc > 1) {
		if (strcmp(argv[1], "hard_conf") == 0)
			return hard_conf_child();
		if (strcmp(argv[1], "soft_conf") == 0)
			return soft_conf_child();
		return 2;
	}
	return test_run(
	    TEST_CASE(ctl_read_write),
	    TEST_CASE(hard_ctl),
	    TEST_CASE(hard_conf),
	    TEST_CASE(hard_threads),
	    TEST_CASE(small_objects),
	    TEST_CASE(soft_ctl),
	    TEST_CASE(soft_conf));
}
