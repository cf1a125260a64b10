/*
 * Thread churn: thousands of short-lived threads (2000 in short mode, in
 * batches of 8 running at once), each allocating, checking and freeing a
 * couple of thousand objects and leaving objects in its tcache when it
 * exits.  Thread exit must give everything back (facts §6.2 "Thread exit",
 * §6.9): stats.allocated returns to the level before the churn, and
 * stats.active, stats.mapped and the process RSS do not grow with the
 * number of threads (measured after 500 threads and after all of them).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"
#include "test_ctl.h"
#include "test_alloc.h"

#pragma GCC diagnostic ignored "-Wformat-zero-length"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

/* Bounds of the checks. */
#define ALLOCATED_SLACK (16 * KiB)	/* the main thread's own cache */
#define ACTIVE_GROWTH (4 * MiB)
#define MAPPED_GROWTH (4 * MiB)
#define RSS_GROWTH (8 * MiB)

enum { BATCH = 8, CHECKPOINT = 500 };

static atomic_ulong thread_errors;

#define THREAD_ERROR(...) do {						\
	if (atomic_fetch_add(&thread_errors, 1) < 10)			\
		test_msg(__VA_ARGS__);					\
} while (0)

/*
 * Mostly small (16 B .. 4 KiB); 1 in 128 in [4 KiB, 36 KiB) (cached large
 * classes included); 1 in 2048 about 200 KiB.
 */
static size_t
random_size(uint64_t *rng) {
	uint64_t r = xorshift(rng);
	if ((r & 0x7ff) == 0)
		return 150 * KiB + (size_t)((r >> 12) % (100 * KiB));
	if ((r & 0x7f) == 1)
		return 4 * KiB + (size_t)((r >> 12) % (32 * KiB));
	unsigned lg = 4 + (unsigned)((r >> 12) % 8);
	size_t lo = (size_t)1 << lg;
	return lo + (size_t)((r >> 20) % lo);
}

/* The first and last 8 bytes carry a tag derived from the address. */
static void
tag(void *p, size_t size) {
	uint64_t t = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ULL;
	memcpy(p, &t, sizeof(t));
	memcpy((char *)p + size - sizeof(t), &t, sizeof(t));
}

static bool
tag_ok(const void *p, size_t size) {
	uint64_t t = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ULL, a, b;
	memcpy(&a, p, sizeof(a));
	memcpy(&b, (const char *)p + size - sizeof(b), sizeof(b));
	return a == t && b == t;
}

static unsigned objs_per_thread;

static void *
churn_thread(void *arg) {
	uint64_t rng = 0x2545f4914f6cdd1dULL * ((uint64_t)(uintptr_t)arg + 1);
	enum { LIVE = 64 };
	void *live[LIVE] = {0};
	size_t sizes[LIVE] = {0};
	for (unsigned n = 0; n < objs_per_thread; n++) {
		unsigned k = (unsigned)(xorshift(&rng) % LIVE);
		if (live[k] != NULL) {
			if (!tag_ok(live[k], sizes[k]))
				THREAD_ERROR("block %p (%zu bytes) corrupted\n",
				    live[k], sizes[k]);
			if (n & 1)
				free(live[k]);
			else
				sdallocx(live[k], sizes[k], 0);
		}
		sizes[k] = random_size(&rng);
		live[k] = (n % 5 == 0) ? mallocx(sizes[k], 0) :
		    malloc(sizes[k]);
		if (live[k] == NULL) {
			THREAD_ERROR("allocation of %zu failed\n", sizes[k]);
			continue;
		}
		tag(live[k], sizes[k]);
	}
	/* Free everything: these stay in the cache until the thread's exit
	 * cleanup flushes them. */
	for (unsigned k = 0; k < LIVE; k++) {
		if (live[k] == NULL)
			continue;
		if (!tag_ok(live[k], sizes[k]))
			THREAD_ERROR("block %p corrupted at exit\n", live[k]);
		free(live[k]);
	}
	return NULL;
}

static void
run_threads(unsigned first, unsigned count) {
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * KiB);
	for (unsigned done = 0; done < count; done += BATCH) {
		pthread_t th[BATCH];
		unsigned n = count - done < BATCH ? count - done : BATCH;
		for (unsigned i = 0; i < n; i++) {
			int err = pthread_create(&th[i], &attr, churn_thread,
			    (void *)(uintptr_t)(first + done + i));
			if (err != 0) {
				test_fail_at(__FILE__, __LINE__,
				    "pthread_create: %d", err);
				n = i;
				break;
			}
		}
		for (unsigned i = 0; i < n; i++)
			pthread_join(th[i], NULL);
	}
	test_figure("threads_created", count);
	pthread_attr_destroy(&attr);
}

typedef struct {
	size_t allocated, active, mapped, rss;
} snapshot_t;

/* Resident set size from /proc/self/statm (read without allocating). */
static size_t
rss_bytes(void) {
	char buf[128];
	int fd = open("/proc/self/statm", O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *p = strchr(buf, ' ');
	if (p == NULL)
		return 0;
	unsigned long resident = strtoul(p + 1, NULL, 10);
	return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

static size_t
stat_zu(const char *name) {
	size_t v = 0, sz = sizeof(v);
	assert_d_eq(mallctl(name, &v, &sz, NULL, 0), 0, "%s", name);
	return v;
}

static void
snapshot(snapshot_t *s, bool stats) {
	memset(s, 0, sizeof(*s));
	/*
	 * Give unused dirty pages back first, so that the numbers measure
	 * what the threads left behind rather than how far decay has got.
	 */
	char name[64];
	snprintf(name, sizeof(name), "arena.%u.purge", MALLCTL_ARENAS_ALL);
	mallctl(name, NULL, NULL, NULL, 0);
	if (stats) {
		uint64_t epoch = 1;
		size_t sz = sizeof(epoch);
		assert_d_eq(mallctl("epoch", &epoch, &sz, &epoch,
		    sizeof(epoch)), 0, "epoch");
		s->allocated = stat_zu("stats.allocated");
		s->active = stat_zu("stats.active");
		s->mapped = stat_zu("stats.mapped");
	}
	s->rss = rss_bytes();
}

static void
expect_close(const char *what, size_t got, size_t want, size_t slack) {
	if (got > want + slack || got + slack < want) {
		test_fail_at(__FILE__, __LINE__, "%s: %zu, want %zu +- %zu "
		    "(off by %zd)", what, got, want, slack,
		    (ssize_t)(got - want));
	}
}

static void
expect_growth_below(const char *what, size_t before, size_t after,
    size_t bound) {
	if (after > before + bound) {
		test_fail_at(__FILE__, __LINE__, "%s grew from %zu to %zu "
		    "(+%zu, bound %zu) between %u threads and the end", what,
		    before, after, after - before, bound, CHECKPOINT);
	}
}

/*
 * Arenas are created lazily, each with its own metadata mapping: have
 * every automatic arena made before the first measurement (opt.narenas
 * threads alive at once), so that the numbers compare like with like.
 */
static pthread_barrier_t all_bound;
/* Calls the compiler cannot pair up and delete. */
static void *(*volatile vmalloc)(size_t) = malloc;

static void *
bind_and_wait(void *arg) {
	void *p = vmalloc(64);
	pthread_barrier_wait(&all_bound);
	free(p);
	return NULL;
}

static void
create_all_arenas(void) {
	unsigned narenas = 0;
	size_t sz = sizeof(narenas);
	if (mallctl("opt.narenas", &narenas, &sz, NULL, 0) != 0 || narenas < 2)
		return;
	if (narenas > 256)
		narenas = 256;
	pthread_t *th = calloc(narenas, sizeof(pthread_t));
	assert_ptr_not_null(th, "");
	pthread_barrier_init(&all_bound, NULL, narenas + 1);
	unsigned n = 0;
	for (; n < narenas; n++) {
		if (pthread_create(&th[n], NULL, bind_and_wait, NULL) != 0)
			break;
	}
	assert_u_eq(n, narenas, "pthread_create");
	pthread_barrier_wait(&all_bound);
	for (unsigned i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&all_bound);
	free(th);
}

TEST(thread_churn) {
	unsigned total = test_long_mode() ? 20000 : 2000;
	objs_per_thread = test_long_mode() ? 5000 : 2000;
	bool stats = config_stats_on();
	atomic_store(&thread_errors, 0);
	/* Warm up: arenas, thread stacks, the main thread's cache. */
	create_all_arenas();
	run_threads(0, 2 * BATCH);
	snapshot_t base, mid, end;
	snapshot(&base, stats);

	run_threads(2 * BATCH, CHECKPOINT);
	snapshot(&mid, stats);
	run_threads(2 * BATCH + CHECKPOINT, total - CHECKPOINT);
	snapshot(&end, stats);

	expect_u64_eq(atomic_load(&thread_errors), 0, "errors in threads");
	if (getenv("CHURN_VERBOSE") != NULL) {
		const snapshot_t *ss[3] = {&base, &mid, &end};
		for (int i = 0; i < 3; i++) {
			test_msg("allocated %zu active %zu mapped %zu "
			    "rss %zu\n", ss[i]->allocated, ss[i]->active,
			    ss[i]->mapped, ss[i]->rss);
		}
	}
	if (stats) {
		expect_close("stats.allocated after 500 threads", mid.allocated,
		    base.allocated, ALLOCATED_SLACK);
		expect_close("stats.allocated after all threads", end.allocated,
		    base.allocated, ALLOCATED_SLACK);
		expect_growth_below("stats.active", mid.active, end.active,
		    ACTIVE_GROWTH);
		expect_growth_below("stats.mapped", mid.mapped, end.mapped,
		    MAPPED_GROWTH);
	}
	if (mid.rss != 0 && end.rss != 0)
		expect_growth_below("RSS", mid.rss, end.rss, RSS_GROWTH);
	if (!stats)
		test_skip("config.stats is off: only RSS was checked");
}

int
main(void) {
	return test_run(TEST_CASE(thread_churn));
}
