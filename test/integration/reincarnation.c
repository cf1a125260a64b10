/*
 * Reincarnation (facts §6.9): a thread-specific-data destructor of the
 * application that runs after the allocator's own thread cleanup (its key
 * is created later, so it runs later in each round, and it re-arms itself
 * for further rounds) allocates and frees memory, frees memory the thread
 * allocated while it was alive, and hands a block from one round to the
 * next.  This must work, and after many threads have done it nothing is
 * left behind: stats.allocated returns to its level before the threads.
 * In such a destructor the thread has no tcache any more
 * (thread.tcache.enabled reads false), which shows the allocator's cleanup
 * has run.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"
#include "test_ctl.h"

#pragma GCC diagnostic ignored "-Wformat-zero-length"

static void *(*volatile vmalloc)(size_t) = malloc;
static void (*volatile vfree)(void *) = free;

#define KiB ((size_t)1 << 10)
#define ALLOCATED_SLACK (16 * KiB)

/* Rounds of the destructor (glibc runs at most 4). */
enum { ROUNDS = 3 };

static pthread_key_t key;
static atomic_ulong n_errors;
static atomic_ulong n_rounds;
static atomic_ulong n_after_cleanup;	/* rounds that saw no tcache */
static atomic_ulong n_threads_done;	/* threads whose last round ran */

#define ERROR(...) do {							\
	if (atomic_fetch_add(&n_errors, 1) < 10)			\
		test_msg(__VA_ARGS__);					\
} while (0)

/* Patterns cover the first and last 256 bytes: cheap for big blocks. */
static bool
covered(size_t i, size_t n) {
	return i < 256 || i + 256 >= n;
}

static void
fill(void *p, size_t n, unsigned char seed) {
	unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		if (!covered(i, n))
			i = n - 256;
		b[i] = (unsigned char)(seed + i);
	}
}

static bool
check(const void *p, size_t n, unsigned char seed) {
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		if (!covered(i, n))
			i = n - 256;
		if (b[i] != (unsigned char)(seed + i))
			return false;
	}
	return true;
}

/* The key's value: carried from the thread's life through the rounds. */
typedef struct {
	int round;
	unsigned id;
	void *kept;		/* from the previous round (or the life) */
	size_t kept_size;
	void *alive_blocks[8];	/* allocated while the thread ran */
} carry_t;

static void
destructor(void *v) {
	carry_t *c = v;
	atomic_fetch_add(&n_rounds, 1);
	bool enabled = true;
	size_t sz = sizeof(enabled);
	if (mallctl("thread.tcache.enabled", &enabled, &sz, NULL, 0) != 0)
		ERROR("thread.tcache.enabled failed in a destructor\n");
	if (!enabled)
		atomic_fetch_add(&n_after_cleanup, 1);

	/* The block of the previous round (or of the thread's life). */
	if (c->kept != NULL) {
		if (!check(c->kept, c->kept_size, (unsigned char)c->round))
			ERROR("kept block corrupted (round %d)\n", c->round);
		vfree(c->kept);
		c->kept = NULL;
	}
	/* Blocks the live thread left: free some each round. */
	for (int i = c->round; i < 8; i += ROUNDS) {
		if (c->alive_blocks[i] != NULL) {
			if (!check(c->alive_blocks[i], 100 + (size_t)i * 700,
			    (unsigned char)i))
				ERROR("block of the live thread corrupted\n");
			vfree(c->alive_blocks[i]);
			c->alive_blocks[i] = NULL;
		}
	}
	/* Allocate and free all kinds of sizes. */
	static const size_t sizes[] = {1, 24, 100, 512, 3000, 14336, 16384,
	    30000, 100000, 300000};
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		void *p = vmalloc(sizes[i]);
		void *q = mallocx(sizes[i], (i & 1) ? MALLOCX_ZERO : 0);
		void *r = calloc(1, sizes[i]);
		if (p == NULL || q == NULL || r == NULL) {
			ERROR("allocation of %zu failed in a destructor\n",
			    sizes[i]);
		} else {
			fill(p, sizes[i], (unsigned char)i);
			fill(q, sizes[i], (unsigned char)(i + 1));
			const unsigned char *rb = r;
			if (rb[0] != 0 || rb[sizes[i] - 1] != 0)
				ERROR("calloc not zeroed in a destructor\n");
			if (!check(p, sizes[i], (unsigned char)i) ||
			    !check(q, sizes[i], (unsigned char)(i + 1)))
				ERROR("contents lost in a destructor\n");
			void *p2 = realloc(p, sizes[i] * 3 + 1);
			if (p2 == NULL) {
				ERROR("realloc failed in a destructor\n");
			} else {
				if (!check(p2, sizes[i], (unsigned char)i))
					ERROR("realloc lost contents\n");
				p = p2;
			}
		}
		vfree(p);
		if (q != NULL)
			sdallocx(q, sizes[i], 0);
		vfree(r);
	}
	c->round++;
	if (c->round < ROUNDS) {
		/* Hand a block to the next round and come back. */
		c->kept_size = 64 + (size_t)c->round * 5000;
		c->kept = vmalloc(c->kept_size);
		if (c->kept == NULL)
			ERROR("malloc for the next round failed\n");
		else
			fill(c->kept, c->kept_size, (unsigned char)c->round);
		if (pthread_setspecific(key, c) != 0)
			ERROR("pthread_setspecific in a destructor failed\n");
		return;
	}
	for (int i = 0; i < 8; i++)
		vfree(c->alive_blocks[i]);
	vfree(c);
	atomic_fetch_add(&n_threads_done, 1);
}

static void *
thread_main(void *arg) {
	unsigned id = (unsigned)(uintptr_t)arg;
	carry_t *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		ERROR("calloc failed\n");
		return NULL;
	}
	c->id = id;
	for (int i = 0; i < 8; i++) {
		size_t size = 100 + (size_t)i * 700;
		c->alive_blocks[i] = vmalloc(size);
		if (c->alive_blocks[i] != NULL)
			fill(c->alive_blocks[i], size, (unsigned char)i);
	}
	c->kept_size = 5000;
	c->kept = vmalloc(c->kept_size);
	if (c->kept != NULL)
		fill(c->kept, c->kept_size, 0);
	/* Some ordinary work, leaving objects in the thread's cache. */
	for (int i = 0; i < 300; i++)
		vfree(vmalloc((size_t)(i * 37 % 3000) + 1));
	if (pthread_setspecific(key, c) != 0)
		ERROR("pthread_setspecific failed\n");
	return NULL;
}

static size_t
allocated_now(void) {
	uint64_t epoch = 1;
	size_t sz = sizeof(epoch);
	assert_d_eq(mallctl("epoch", &epoch, &sz, &epoch, sizeof(epoch)), 0,
	    "");
	size_t v = 0;
	sz = sizeof(v);
	assert_d_eq(mallctl("stats.allocated", &v, &sz, NULL, 0), 0, "");
	return v;
}

static void
run_threads(unsigned first, unsigned n) {
	enum { BATCH = 8 };
	for (unsigned done = 0; done < n; done += BATCH) {
		pthread_t th[BATCH];
		unsigned k = n - done < BATCH ? n - done : BATCH;
		for (unsigned i = 0; i < k; i++) {
			assert_d_eq(pthread_create(&th[i], NULL, thread_main,
			    (void *)(uintptr_t)(first + done + i)), 0,
			    "pthread_create");
		}
		for (unsigned i = 0; i < k; i++)
			pthread_join(th[i], NULL);
	}
}

TEST(destructor_allocates_after_cleanup) {
	unsigned nthreads = test_long_mode() ? 10000 : 1000;
	bool stats = config_stats_on();
	assert_d_eq(pthread_key_create(&key, destructor), 0, "");
	atomic_store(&n_errors, 0);
	atomic_store(&n_rounds, 0);
	atomic_store(&n_after_cleanup, 0);
	atomic_store(&n_threads_done, 0);
	/* Warm-up: arenas exist and the main thread's cache is settled. */
	run_threads(0, 16);
	size_t before = stats ? allocated_now() : 0;
	unsigned long rounds0 = atomic_load(&n_rounds);
	unsigned long after0 = atomic_load(&n_after_cleanup);
	unsigned long done0 = atomic_load(&n_threads_done);

	run_threads(16, nthreads);

	size_t after = stats ? allocated_now() : 0;
	expect_u64_eq(atomic_load(&n_errors), 0, "errors in destructors");
	unsigned long rounds = atomic_load(&n_rounds) - rounds0;
	unsigned long after_cleanup = atomic_load(&n_after_cleanup) - after0;
	unsigned long done = atomic_load(&n_threads_done) - done0;
	expect_true(done == nthreads, "%lu of %u threads finished their "
	    "destructor rounds", done, nthreads);
	expect_true(rounds == (unsigned long)nthreads * ROUNDS,
	    "%lu destructor rounds, want %u", rounds, nthreads * ROUNDS);
	/* Every round after the first runs after the allocator's cleanup
	 * (the first one does too when its key is the older one). */
	expect_true(after_cleanup >= (unsigned long)nthreads * (ROUNDS - 1),
	    "only %lu of %lu destructor rounds ran without a tcache",
	    after_cleanup, rounds);
	if (stats) {
		if (after > before + ALLOCATED_SLACK || after + ALLOCATED_SLACK
		    < before) {
			test_fail_at(__FILE__, __LINE__, "stats.allocated went "
			    "from %zu to %zu over %u threads (%+zd bytes)",
			    before, after, nthreads, (ssize_t)(after - before));
		}
	}
	/* The main thread is unaffected. */
	void *p = vmalloc(1000);
	assert_ptr_not_null(p, "");
	vfree(p);
	pthread_key_delete(key);
}

/* A thread that only frees in its destructor (it never allocated). */
static pthread_key_t free_key;
static atomic_ulong n_free_only;

static void
free_only_destructor(void *v) {
	vfree(v);
	atomic_fetch_add(&n_free_only, 1);
}

static void *
free_only_thread(void *arg) {
	pthread_setspecific(free_key, arg);
	return NULL;
}

TEST(destructor_of_free_only_thread) {
	assert_d_eq(pthread_key_create(&free_key, free_only_destructor), 0, "");
	atomic_store(&n_free_only, 0);
	bool stats = config_stats_on();
	/* Warm the main thread's classes (and thread creation) before the
	 * baseline. */
	for (int i = 0; i < 64; i++)
		vfree(vmalloc((size_t)(i % 8 + 1) * 1000));
	for (int i = 0; i < 4; i++) {
		pthread_t th;
		assert_d_eq(pthread_create(&th, NULL, free_only_thread,
		    vmalloc(10)), 0, "");
		pthread_join(th, NULL);
	}
	atomic_store(&n_free_only, 0);
	size_t before = stats ? allocated_now() : 0;
	enum { N = 64 };
	for (int i = 0; i < N; i++) {
		void *p = mallocx((size_t)(i % 8 + 1) * 1000,
		    MALLOCX_TCACHE_NONE);
		assert_ptr_not_null(p, "");
		pthread_t th;
		assert_d_eq(pthread_create(&th, NULL, free_only_thread, p), 0,
		    "");
		pthread_join(th, NULL);
	}
	expect_true(atomic_load(&n_free_only) == N, "destructor runs: %lu",
	    atomic_load(&n_free_only));
	if (stats) {
		size_t after = allocated_now();
		expect_zu_eq(after, before, "blocks freed by exiting threads "
		    "went back");
	}
	pthread_key_delete(free_key);
}

/*
 * A thread whose first allocation happens in a destructor: it becomes a
 * full thread there (with a cache), and the allocator's cleanup still runs
 * in a later round, so nothing is left behind.
 */
static pthread_key_t late_key;
static atomic_ulong n_late;

static void
late_destructor(void *v) {
	void *ps[100];
	for (int i = 0; i < 100; i++) {
		ps[i] = vmalloc((size_t)(i % 25 + 1) * 48);
		if (ps[i] == NULL)
			ERROR("malloc failed in a destructor\n");
		else
			fill(ps[i], (size_t)(i % 25 + 1) * 48,
			    (unsigned char)i);
	}
	for (int i = 0; i < 100; i++) {
		if (ps[i] != NULL && !check(ps[i], (size_t)(i % 25 + 1) * 48,
		    (unsigned char)i))
			ERROR("block corrupted in a destructor\n");
		vfree(ps[i]);
	}
	void *big = vmalloc(20000);	/* a cached large class */
	vfree(big);
	atomic_fetch_add(&n_late, 1);
}

static void *
late_thread(void *arg) {
	/* No allocation in the thread's life. */
	pthread_setspecific(late_key, (void *)1);
	return NULL;
}

TEST(destructor_first_allocation) {
	assert_d_eq(pthread_key_create(&late_key, late_destructor), 0, "");
	bool stats = config_stats_on();
	atomic_store(&n_errors, 0);
	atomic_store(&n_late, 0);
	for (int i = 0; i < 8; i++) {
		pthread_t th;
		assert_d_eq(pthread_create(&th, NULL, late_thread, NULL), 0,
		    "");
		pthread_join(th, NULL);
	}
	size_t before = stats ? allocated_now() : 0;
	enum { N = 200 };
	for (int i = 0; i < N; i += 4) {
		pthread_t th[4];
		for (int k = 0; k < 4; k++) {
			assert_d_eq(pthread_create(&th[k], NULL, late_thread,
			    NULL), 0, "");
		}
		for (int k = 0; k < 4; k++)
			pthread_join(th[k], NULL);
	}
	expect_u64_eq(atomic_load(&n_errors), 0, "errors in destructors");
	expect_true(atomic_load(&n_late) == N + 8, "destructor runs: %lu",
	    atomic_load(&n_late));
	if (stats) {
		size_t after = allocated_now();
		if (after > before + ALLOCATED_SLACK || after + ALLOCATED_SLACK
		    < before) {
			test_fail_at(__FILE__, __LINE__, "stats.allocated went "
			    "from %zu to %zu over %d threads (%+zd bytes): "
			    "caches made in destructors were not cleaned up",
			    before, after, N, (ssize_t)(after - before));
		}
	}
	pthread_key_delete(late_key);
}

int
main(void) {
	return test_run(
	    TEST_CASE(destructor_allocates_after_cleanup),
	    TEST_CASE(destructor_of_free_only_thread),
	    TEST_CASE(destructor_first_allocation));
}
