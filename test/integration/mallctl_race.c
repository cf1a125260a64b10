/*
 * mallctl racing with allocation (issue 7): four threads allocate, fill,
 * check and free blocks of every size range while two others keep
 * calling the mallctls that touch shared state: epoch and the stats
 * snapshot, arena.<ALL>.decay and purge, thread.tcache.flush,
 * tcache.create/flush/destroy, arenas.create + arena.<i>.reset/destroy,
 * arena.<i>.dirty_decay_ms, background_thread on/off and
 * malloc_stats_print.  Nothing may be damaged, every call must give a
 * defined answer, and the statistics must still satisfy
 * allocated <= active <= resident <= mapped afterwards.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"
#include "test_alloc.h"

#define NALLOC 4
#define NCTL 2
#define SLOTS 256

static atomic_int stop;
static atomic_ulong damaged, ctl_errors, alloc_ops, ctl_ops;

static size_t
pick_size(uint64_t *rng) {
	uint64_t r = xorshift(rng);
	switch (r % 8) {
	case 7:
		return 16384 + (size_t)(r >> 8) % (1 << 20);	/* large */
	case 6:
		return 4096 + (size_t)(r >> 8) % 12288;
	default:
		return 1 + (size_t)(r >> 8) % 1024;
	}
}

typedef struct {
	unsigned char *p;
	size_t size;
	unsigned char tag;
} blk_t;

static bool
blk_ok(const blk_t *b) {
	return b->p[0] == b->tag && b->p[b->size / 2] == b->tag &&
	    b->p[b->size - 1] == b->tag;
}

static void *
alloc_thread(void *arg) {
	uint64_t rng = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 1;
	blk_t slots[SLOTS] = {{0}};
	unsigned long ops = 0;
	for (unsigned long i = 0; i < 60000; i++) {
		blk_t *b = &slots[xorshift(&rng) % SLOTS];
		if (b->p != NULL) {
			if (!blk_ok(b))
				atomic_fetch_add(&damaged, 1);
			if (xorshift(&rng) & 1)
				free(b->p);
			else
				sdallocx(b->p, b->size, 0);
			b->p = NULL;
		} else {
			b->size = pick_size(&rng);
			b->tag = (unsigned char)(xorshift(&rng) | 1);
			b->p = (xorshift(&rng) & 1) ? malloc(b->size) :
			    mallocx(b->size, 0);
			if (b->p == NULL) {
				atomic_fetch_add(&ctl_errors, 1);
				continue;
			}
			memset(b->p, b->tag, b->size);
		}
		ops++;
	}
	for (unsigned i = 0; i < SLOTS; i++) {
		if (slots[i].p != NULL) {
			if (!blk_ok(&slots[i]))
				atomic_fetch_add(&damaged, 1);
			free(slots[i].p);
		}
	}
	atomic_fetch_add(&alloc_ops, ops);
	return NULL;
}

static void
null_write(void *opaque, const char *s) {
	(void)opaque;
	(void)s;
}

static void
ctl_expect(int err, int allowed) {
	if (err != 0 && err != allowed)
		atomic_fetch_add(&ctl_errors, 1);
}

/* Set by the memory-limit case: every racing call creates, fills, resets
 * and destroys an arena. */
static bool only_arenas;

static void *
ctl_thread(void *arg) {
	unsigned who = (unsigned)(uintptr_t)arg;
	uint64_t rng = who + 77;
	char name[64];
	unsigned long ops = 0;
	while (!atomic_load(&stop)) {
		uint64_t epoch = 1;
		size_t v, sz = sizeof(v);
		unsigned u;
		size_t usz = sizeof(u);
		switch (only_arenas ? 5 : xorshift(&rng) % 9) {
		case 0:
			ctl_expect(mallctl("epoch", NULL, NULL, &epoch,
			    sizeof(epoch)), 0);
			ctl_expect(mallctl("stats.allocated", &v, &sz, NULL,
			    0), 0);
			break;
		case 1:
			snprintf(name, sizeof(name), "arena.%u.decay",
			    MALLCTL_ARENAS_ALL);
			ctl_expect(mallctl(name, NULL, NULL, NULL, 0), 0);
			break;
		case 2:
			snprintf(name, sizeof(name), "arena.%u.purge",
			    MALLCTL_ARENAS_ALL);
			ctl_expect(mallctl(name, NULL, NULL, NULL, 0), 0);
			break;
		case 3:
			ctl_expect(mallctl("thread.tcache.flush", NULL, NULL,
			    NULL, 0), EFAULT);
			break;
		case 4:
			if (mallctl("tcache.create", &u, &usz, NULL, 0) == 0) {
				void *p = mallocx(64, MALLOCX_TCACHE(u));
				if (p != NULL)
					dallocx(p, MALLOCX_TCACHE(u));
				ctl_expect(mallctl("tcache.flush", NULL, NULL,
				    &u, sizeof(u)), 0);
				ctl_expect(mallctl("tcache.destroy", NULL,
				    NULL, &u, sizeof(u)), 0);
			}
			break;
		case 5:
			if (mallctl("arenas.create", &u, &usz, NULL, 0) == 0) {
				void *p = mallocx(100000, MALLOCX_ARENA(u) |
				    MALLOCX_TCACHE_NONE);
				if (p != NULL)
					dallocx(p, MALLOCX_TCACHE_NONE);
				snprintf(name, sizeof(name), "arena.%u.reset",
				    u);
				ctl_expect(mallctl(name, NULL, NULL, NULL, 0),
				    0);
				snprintf(name, sizeof(name),
				    "arena.%u.destroy", u);
				ctl_expect(mallctl(name, NULL, NULL, NULL, 0),
				    0);
			}
			break;
		case 6: {
			ssize_t ms = (ssize_t)(xorshift(&rng) % 3) * 500;
			ctl_expect(mallctl("arena.0.dirty_decay_ms", NULL,
			    NULL, &ms, sizeof(ms)), 0);
			break;
		}
		case 7:
			if (who == 0) {
				bool on = (xorshift(&rng) & 1) != 0;
				ctl_expect(mallctl("background_thread", NULL,
				    NULL, &on, sizeof(on)), 0);
			}
			break;
		default:
			malloc_stats_print(null_write, NULL, "gblx");
			break;
		}
		ops++;
	}
	atomic_fetch_add(&ctl_ops, ops);
	return NULL;
}

TEST(test_mallctl_races_allocation) {
	pthread_t a[NALLOC], c[NCTL];
	atomic_store(&stop, 0);
	for (unsigned i = 0; i < NCTL; i++) {
		assert_d_eq(pthread_create(&c[i], NULL, ctl_thread,
		    (void *)(uintptr_t)i), 0, "");
	}
	for (unsigned i = 0; i < NALLOC; i++) {
		assert_d_eq(pthread_create(&a[i], NULL, alloc_thread,
		    (void *)(uintptr_t)(i + 1)), 0, "");
	}
	for (unsigned i = 0; i < NALLOC; i++)
		pthread_join(a[i], NULL);
	atomic_store(&stop, 1);
	for (unsigned i = 0; i < NCTL; i++)
		pthread_join(c[i], NULL);
	bool off = false;
	expect_d_eq(mallctl("background_thread", NULL, NULL, &off,
	    sizeof(off)), 0, "");

	expect_u_eq((unsigned)atomic_load(&damaged), 0, "damaged blocks");
	expect_u_eq((unsigned)atomic_load(&ctl_errors), 0,
	    "unexpected mallctl errors or failed allocations");
	test_msg("mallctl_race: %lu allocation ops, %lu mallctl ops\n",
	    atomic_load(&alloc_ops), atomic_load(&ctl_ops));
	test_figure("mallctl_race_alloc_ops", atomic_load(&alloc_ops));
	test_figure("mallctl_race_mallctl_calls", atomic_load(&ctl_ops));

	bool stats = false;
	size_t sz = sizeof(stats);
	assert_d_eq(mallctl("config.stats", &stats, &sz, NULL, 0), 0, "");
	if (!stats)
		return;
	uint64_t epoch = 1;
	assert_d_eq(mallctl("epoch", NULL, NULL, &epoch, sizeof(epoch)), 0,
	    "");
	size_t allocated, active, resident, mapped;
	sz = sizeof(size_t);
	assert_d_eq(mallctl("stats.allocated", &allocated, &sz, NULL, 0), 0,
	    "");
	assert_d_eq(mallctl("stats.active", &active, &sz, NULL, 0), 0, "");
	assert_d_eq(mallctl("stats.resident", &resident, &sz, NULL, 0), 0,
	    "");
	assert_d_eq(mallctl("stats.mapped", &mapped, &sz, NULL, 0), 0, "");
	expect_zu_le(allocated, active, "allocated <= active");
	expect_zu_le(active, resident, "active <= resident");
	expect_zu_le(resident, mapped, "resident <= mapped");
}

/*
 * A soft memory limit below the footprint makes allocations that map
 * memory purge every arena (walking the arena table without ctl_mtx),
 * while other threads destroy arenas: the walk must never touch an arena
 * being freed (arena_walkers_wait).
 */
TEST(test_mem_limit_purge_races_destroy) {
	size_t soft = 1 << 20, zero = 0;
	if (mallctl("mem_limit.soft", NULL, NULL, &soft, sizeof(soft)) != 0)
		test_skip("no mem_limit.soft");
	only_arenas = true;
	test_mallctl_races_allocation();
	only_arenas = false;
	expect_d_eq(mallctl("mem_limit.soft", NULL, NULL, &zero,
	    sizeof(zero)), 0, "");
}

int
main(void) {
	return test_run(TEST_CASE(test_mallctl_races_allocation),
	    TEST_CASE(test_mem_limit_purge_races_destroy));
}
