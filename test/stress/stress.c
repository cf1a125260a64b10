/*
 * Randomized multi-threaded stress of the whole allocation API.
 *
 * Phase 1: N threads (4 in short mode, 8 in long mode) each run a random
 * mix of malloc, calloc, realloc (grow and shrink), free, posix_memalign,
 * aligned_alloc, mallocx (ZERO, LG_ALIGN up to 16, TCACHE_NONE), rallocx,
 * xallocx, sdallocx, dallocx and malloc_usable_size over a live set of up
 * to 1000 slots.  Every block carries a pattern derived from its own seed,
 * checked before it is freed or resized; some blocks are freed by another
 * thread through that thread's inbox.
 *
 * Phase 2: thread churn: threads are created and exit over and over, each
 * allocating a few hundred objects and freeing the leftovers of threads
 * that have already exited.
 *
 * The random seed is printed on failure; set STRESS_SEED to replay it.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"
#include "test_alloc.h"

#define NSLOTS 1000
#define INBOX_CAP 1024
#define MAX_SMALL_RANDOM ((size_t)256 << 10)

static uint64_t base_seed;
static atomic_ulong n_errors;

#define STRESS_ERROR(w, ...) do {					\
	if (atomic_fetch_add(&n_errors, 1) < 20) {			\
		test_msg("thread %d (seed %#" PRIx64 "): ", (w)->id,	\
		    (w)->seed);						\
		test_msg(__VA_ARGS__);					\
	}								\
} while (0)

/*
 * Pattern byte i of a block with seed s is byte (i % 8) of
 * mix64(s + i / 8).  Blocks up to 8 KiB are written in full; larger ones
 * get their first and last KiB and 64 bytes at every 4 KiB step, which
 * catches overlapping blocks at page granularity without touching
 * everything.
 */
static void
pattern_range(unsigned char *b, size_t from, size_t to, uint64_t seed,
    bool write, bool *ok) {
	size_t i = from;
	while (i < to) {
		size_t w = i >> 3, off = i & 7;
		uint64_t v = mix64(seed + w);
		size_t n = 8 - off;
		if (n > to - i)
			n = to - i;
		if (write) {
			memcpy(b + i, (unsigned char *)&v + off, n);
		} else if (memcmp(b + i, (unsigned char *)&v + off, n) != 0) {
			*ok = false;
			return;
		}
		i += n;
	}
}

/* Visits the pattern regions of a block of n bytes, clipped to limit. */
static bool
pattern(void *p, size_t n, size_t limit, uint64_t seed, bool write) {
	unsigned char *b = p;
	bool ok = true;
	if (limit > n)
		limit = n;
	if (n <= 8192) {
		pattern_range(b, 0, limit, seed, write, &ok);
		return ok;
	}
	size_t head = limit < 1024 ? limit : 1024;
	pattern_range(b, 0, head, seed, write, &ok);
	for (size_t at = 4096; ok && at + 64 <= n - 1024 && at < limit;
	    at += 4096) {
		size_t end = at + 64 < limit ? at + 64 : limit;
		pattern_range(b, at, end, seed, write, &ok);
	}
	if (ok && n - 1024 < limit)
		pattern_range(b, n - 1024, limit, seed, write, &ok);
	return ok;
}

static void
pattern_fill(void *p, size_t n, uint64_t seed) {
	pattern(p, n, n, seed, true);
}

static bool
pattern_check(const void *p, size_t n, size_t limit, uint64_t seed) {
	return pattern((void *)p, n, limit, seed, false);
}

typedef struct {
	void *p;
	size_t size;		/* size the pattern was written for */
	uint64_t seed;
	int aflags;		/* alignment flags the block was sized with */
	size_t align;		/* alignment to verify, 1 if none */
} blk_t;

typedef struct {
	pthread_mutex_t mu;
	blk_t items[INBOX_CAP];
	unsigned n;
} inbox_t;

typedef struct worker_s {
	int id;
	uint64_t seed;
	uint64_t rng;
	unsigned long ops;
	blk_t slots[NSLOTS];
	inbox_t inbox;
	unsigned long sent, received;
} worker_t;

static worker_t *workers;
static int nworkers;

/* Log-uniform in [1, 256 KiB]; 1 in 1000 is 1-4 MiB. */
static size_t
random_size(uint64_t *rng) {
	uint64_t r = xorshift(rng);
	if (r % 1000 == 0)
		return ((size_t)1 << 20) + (size_t)((r >> 20) % (3 << 20));
	unsigned lg = (unsigned)((r >> 10) % 19);	/* 0 .. 18 */
	size_t lo = (size_t)1 << lg;
	size_t s = lo + (size_t)((r >> 24) % lo);
	return s > MAX_SMALL_RANDOM ? MAX_SMALL_RANDOM : s;
}

static void
blk_set(worker_t *w, blk_t *b, void *p, size_t size, int aflags,
    size_t align) {
	b->p = p;
	b->size = size;
	b->seed = xorshift(&w->rng);
	b->aflags = aflags;
	b->align = align;
	if (((uintptr_t)p & (align - 1)) != 0)
		STRESS_ERROR(w, "block %p misaligned for %zu\n", p, align);
	size_t u = malloc_usable_size(p);
	if (u < size)
		STRESS_ERROR(w, "block %p: usable %zu < size %zu\n", p, u, size);
	pattern_fill(p, size, b->seed);
}

static bool
blk_verify(worker_t *w, blk_t *b, const char *when) {
	if (!pattern_check(b->p, b->size, b->size, b->seed)) {
		STRESS_ERROR(w, "block %p (%zu bytes) corrupted before %s\n",
		    b->p, b->size, when);
		return false;
	}
	return true;
}

/* Frees a block with one of the deallocation calls, chosen at random. */
static void
blk_release(worker_t *w, blk_t *b) {
	blk_verify(w, b, "free");
	uint64_t r = xorshift(&w->rng);
	int tc = (r >> 8) & 1 ? MALLOCX_TCACHE_NONE : 0;
	switch (r % 4) {
	case 0:
		free(b->p);
		break;
	case 1:
		dallocx(b->p, tc);
		break;
	case 2:
		sdallocx(b->p, b->size, b->aflags | tc);
		break;
	default:
		sdallocx(b->p, sallocx(b->p, 0), b->aflags | tc);
		break;
	}
	b->p = NULL;
}

static void
drain_inbox(worker_t *w) {
	blk_t local[64];
	for (;;) {
		unsigned n = 0;
		pthread_mutex_lock(&w->inbox.mu);
		while (n < 64 && w->inbox.n > 0)
			local[n++] = w->inbox.items[--w->inbox.n];
		pthread_mutex_unlock(&w->inbox.mu);
		if (n == 0)
			return;
		for (unsigned i = 0; i < n; i++) {
			blk_release(w, &local[i]);
			w->received++;
		}
	}
}

static void
send_away(worker_t *w, blk_t *b) {
	if (nworkers < 2) {
		blk_release(w, b);
		return;
	}
	int to = (int)(xorshift(&w->rng) % (uint64_t)(nworkers - 1));
	if (to >= w->id)
		to++;
	worker_t *dst = &workers[to];
	bool sent = false;
	pthread_mutex_lock(&dst->inbox.mu);
	if (dst->inbox.n < INBOX_CAP) {
		dst->inbox.items[dst->inbox.n++] = *b;
		sent = true;
	}
	pthread_mutex_unlock(&dst->inbox.mu);
	if (sent) {
		b->p = NULL;
		w->sent++;
	} else {
		blk_release(w, b);
	}
}

static void
op_allocate(worker_t *w, blk_t *b) {
	uint64_t r = xorshift(&w->rng);
	size_t size = random_size(&w->rng);
	void *p = NULL;
	switch (r % 7) {
	case 0:
		p = malloc(size);
		if (p != NULL)
			blk_set(w, b, p, size, 0, 1);
		break;
	case 1: {
		size_t n = 1 + (size_t)((r >> 8) % 8);
		size_t each = size / n + 1;
		p = calloc(n, each);
		if (p != NULL) {
			size_t chk = n * each < 65536 ? n * each : 65536;
			const unsigned char *c = p;
			for (size_t i = 0; i < chk; i++) {
				if (c[i] != 0) {
					STRESS_ERROR(w, "calloc(%zu, %zu) byte "
					    "%zu not zero\n", n, each, i);
					break;
				}
			}
			blk_set(w, b, p, n * each, 0, 1);
		}
		size = n * each;
		break;
	}
	case 2: {
		/* Mostly small alignments, sometimes up to 64 KiB. */
		unsigned lg = 3 + (unsigned)((r >> 8) % ((r >> 20) % 8 ? 7 : 14));
		size_t align = (size_t)1 << lg;
		int e = posix_memalign(&p, align, size);
		if (e != 0) {
			STRESS_ERROR(w, "posix_memalign(%zu, %zu) = %d\n", align,
			    size, e);
			p = NULL;
			return;
		}
		blk_set(w, b, p, size, MALLOCX_LG_ALIGN(lg), align);
		break;
	}
	case 3: {
		unsigned lg = 4 + (unsigned)((r >> 8) % 7);
		size_t align = (size_t)1 << lg;
		p = aligned_alloc(align, size);
		if (p != NULL)
			blk_set(w, b, p, size, MALLOCX_LG_ALIGN(lg), align);
		break;
	}
	case 4:
	case 5: {
		int flags = 0;
		size_t align = 1;
		if ((r >> 8) & 1)
			flags |= MALLOCX_ZERO;
		if ((r >> 9) & 1)
			flags |= MALLOCX_TCACHE_NONE;
		if ((r >> 10) & 1) {
			unsigned lg = (unsigned)((r >> 12) % 17);
			flags |= MALLOCX_LG_ALIGN(lg);
			align = (size_t)1 << lg;
		}
		size_t nx = nallocx(size, flags);
		p = mallocx(size, flags);
		if (p == NULL)
			break;
		if (sallocx(p, 0) != nx)
			STRESS_ERROR(w, "mallocx(%zu, %#x): sallocx %zu != "
			    "nallocx %zu\n", size, flags, sallocx(p, 0), nx);
		if (flags & MALLOCX_ZERO) {
			size_t chk = size < 65536 ? size : 65536;
			const unsigned char *c = p;
			for (size_t i = 0; i < chk; i++) {
				if (c[i] != 0) {
					STRESS_ERROR(w, "mallocx(%zu, ZERO) byte "
					    "%zu not zero\n", size, i);
					break;
				}
			}
		}
		blk_set(w, b, p, size, flags & 0x3f, align);
		break;
	}
	default:
		p = realloc(NULL, size);
		if (p != NULL)
			blk_set(w, b, p, size, 0, 1);
		break;
	}
	if (p == NULL)
		STRESS_ERROR(w, "allocation of %zu bytes failed (kind %d)\n",
		    size, (int)(r % 7));
}

static void
op_resize(worker_t *w, blk_t *b) {
	uint64_t r = xorshift(&w->rng);
	size_t old = b->size;
	size_t size;
	if ((r >> 8) & 1) {
		/* grow */
		size = old + 1 + (size_t)((r >> 16) % (old * 3 + 16));
		if (size > ((size_t)4 << 20))
			size = (size_t)4 << 20;
	} else {
		size = 1 + (size_t)((r >> 16) % old);
	}
	if (!blk_verify(w, b, "resize"))
		return;
	size_t keep = size < old ? size : old;
	switch (r % 3) {
	case 0: {
		void *p = realloc(b->p, size);
		if (p == NULL) {
			STRESS_ERROR(w, "realloc(%zu -> %zu) failed\n", old,
			    size);
			return;
		}
		if (!pattern_check(p, old, keep, b->seed))
			STRESS_ERROR(w, "realloc(%zu -> %zu) lost contents\n",
			    old, size);
		b->p = p;
		b->size = size;
		b->aflags = 0;
		b->align = 1;
		pattern_fill(p, size, b->seed);
		break;
	}
	case 1: {
		int flags = 0;
		size_t align = 1;
		if ((r >> 9) & 1) {
			unsigned lg = (unsigned)((r >> 40) % 13);
			flags |= MALLOCX_LG_ALIGN(lg);
			align = (size_t)1 << lg;
		}
		if ((r >> 10) & 1)
			flags |= MALLOCX_TCACHE_NONE;
		bool zero = (r >> 11) & 1;
		if (zero)
			flags |= MALLOCX_ZERO;
		size_t old_usable = sallocx(b->p, 0);
		void *p = rallocx(b->p, size, flags);
		if (p == NULL) {
			STRESS_ERROR(w, "rallocx(%zu -> %zu, %#x) failed\n", old,
			    size, flags);
			return;
		}
		if (!pattern_check(p, old, keep, b->seed))
			STRESS_ERROR(w, "rallocx(%zu -> %zu) lost contents\n",
			    old, size);
		size_t u = sallocx(p, 0);
		if (u != nallocx(size, flags))
			STRESS_ERROR(w, "rallocx(%zu -> %zu, %#x): sallocx %zu "
			    "!= nallocx %zu\n", old, size, flags, u,
			    nallocx(size, flags));
		if (zero && u > old_usable) {
			/* Bytes past the old usable size must be zero. */
			const unsigned char *c = p;
			size_t end = u < old_usable + 65536 ? u :
			    old_usable + 65536;
			for (size_t i = old_usable; i < end; i++) {
				if (c[i] != 0) {
					STRESS_ERROR(w, "rallocx(ZERO) %zu -> "
					    "%zu: byte %zu not zero\n",
					    old_usable, u, i);
					break;
				}
			}
		}
		b->p = p;
		b->size = size;
		b->aflags = flags & 0x3f;
		b->align = align;
		if (((uintptr_t)p & (align - 1)) != 0)
			STRESS_ERROR(w, "rallocx result misaligned\n");
		pattern_fill(p, size, b->seed);
		break;
	}
	default: {
		/* xallocx never moves; the result is the new usable size. */
		size_t before = sallocx(b->p, 0);
		size_t extra = (r >> 12) & 1 ? (size_t)((r >> 20) % 8192) : 0;
		size_t u = xallocx(b->p, size, extra, 0);
		size_t now = sallocx(b->p, 0);
		/*
		 * jemalloc 5.1.0 quirk (large.c): when growing with extra > 0
		 * fails for size + extra but succeeds for size, xallocx
		 * reports the old size although the block did grow.  So the
		 * result is either the new usable size or the old one.
		 */
		if (u != now && !(u == before && now > before))
			STRESS_ERROR(w, "xallocx(%zu, %zu, extra %zu) returned "
			    "%zu, sallocx %zu, before %zu\n", old, size, extra,
			    u, now, before);
		if (before <= 14336 && now != before)
			STRESS_ERROR(w, "xallocx changed a small block %zu -> "
			    "%zu\n", before, now);
		size_t kept = now < old ? now : old;
		if (!pattern_check(b->p, old, kept, b->seed))
			STRESS_ERROR(w, "xallocx(%zu -> %zu) changed contents\n",
			    old, size);
		/*
		 * The block's size is now its usable size, which is valid for
		 * sdallocx with the same alignment flags.
		 */
		b->size = now;
		pattern_fill(b->p, now, b->seed);
		break;
	}
	}
}

static void *
worker_main(void *arg) {
	worker_t *w = arg;
	for (unsigned long op = 0; op < w->ops; op++) {
		uint64_t r = xorshift(&w->rng);
		blk_t *b = &w->slots[r % NSLOTS];
		if ((op & 63) == 0)
			drain_inbox(w);
		if (b->p == NULL) {
			op_allocate(w, b);
			continue;
		}
		switch ((r >> 20) % 8) {
		case 0:
		case 1:
		case 7:
			blk_release(w, b);
			break;
		case 2:
		case 3:
			op_resize(w, b);
			break;
		case 4: {
			size_t u = malloc_usable_size(b->p);
			if (u < b->size || u != sallocx(b->p, 0))
				STRESS_ERROR(w, "usable size %zu, sallocx %zu, "
				    "size %zu\n", u, sallocx(b->p, 0), b->size);
			blk_verify(w, b, "check");
			break;
		}
		default:
			send_away(w, b);
			break;
		}
	}
	for (int i = 0; i < NSLOTS; i++) {
		if (w->slots[i].p != NULL)
			blk_release(w, &w->slots[i]);
	}
	drain_inbox(w);
	return NULL;
}

static uint64_t
pick_seed(void) {
	const char *s = getenv("STRESS_SEED");
	if (s != NULL && *s != '\0')
		return strtoull(s, NULL, 0);
	if (!test_long_mode())
		return 0x5eed5eed12345678ULL;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return mix64((uint64_t)ts.tv_sec * 1000000007ULL + (uint64_t)ts.tv_nsec);
}

static void
report(const char *phase) {
	unsigned long n = atomic_load(&n_errors);
	if (n != 0) {
		test_fail_at(__FILE__, __LINE__, "%s: %lu errors; replay with "
		    "STRESS_SEED=%#" PRIx64 " TEST_MODE=%s", phase, n, base_seed,
		    test_long_mode() ? "long" : "short");
	}
}

TEST(random_ops) {
	nworkers = test_long_mode() ? 8 : 4;
	unsigned long ops = test_long_mode() ? 3000000UL : 50000UL;
	atomic_store(&n_errors, 0);
	workers = calloc((size_t)nworkers, sizeof(worker_t));
	assert_true(workers != NULL, "calloc of workers");
	pthread_t th[8];
	for (int i = 0; i < nworkers; i++) {
		worker_t *w = &workers[i];
		w->id = i;
		w->seed = mix64(base_seed + (uint64_t)i) | 1;
		w->rng = w->seed;
		w->ops = ops;
		pthread_mutex_init(&w->inbox.mu, NULL);
	}
	for (int i = 0; i < nworkers; i++) {
		assert_d_eq(pthread_create(&th[i], NULL, worker_main,
		    &workers[i]), 0, "pthread_create");
	}
	for (int i = 0; i < nworkers; i++)
		pthread_join(th[i], NULL);
	/* Blocks sent after their receiver's last drain: free them here. */
	unsigned long sent = 0, received = 0;
	for (int i = 0; i < nworkers; i++)
		drain_inbox(&workers[i]);
	for (int i = 0; i < nworkers; i++) {
		sent += workers[i].sent;
		received += workers[i].received;
		pthread_mutex_destroy(&workers[i].inbox.mu);
	}
	expect_true(sent == received, "every block sent away was freed");
	expect_true(sent > 0, "some blocks were freed by another thread");
	free(workers);
	workers = NULL;
	test_figure("stress_random_ops", (unsigned long long)nworkers * ops);
	test_figure("stress_cross_thread_frees", sent);
	report("random ops");
}

/* --- thread churn ------------------------------------------------------- */

enum { ORPHANS_MAX = 4096 };
static pthread_mutex_t orphan_mu = PTHREAD_MUTEX_INITIALIZER;
static blk_t orphans[ORPHANS_MAX];
static unsigned n_orphans;

static void *
churn_thread(void *arg) {
	worker_t *w = arg;
	enum { N = 300 };
	blk_t mine[N];
	for (int i = 0; i < N; i++) {
		size_t size = 1 + (size_t)(xorshift(&w->rng) % 16384);
		void *p = (i & 1) ? malloc(size) : mallocx(size, 0);
		if (p == NULL) {
			STRESS_ERROR(w, "churn: allocation failed\n");
			mine[i].p = NULL;
			continue;
		}
		blk_set(w, &mine[i], p, size, 0, 1);
	}
	/* Free the leftovers of threads that have already exited. */
	blk_t got[64];
	unsigned ng = 0;
	pthread_mutex_lock(&orphan_mu);
	while (ng < 64 && n_orphans > 0)
		got[ng++] = orphans[--n_orphans];
	pthread_mutex_unlock(&orphan_mu);
	for (unsigned i = 0; i < ng; i++)
		blk_release(w, &got[i]);
	/* Free most of our own; leave a few for later threads. */
	for (int i = 0; i < N; i++) {
		if (mine[i].p == NULL)
			continue;
		if (i % 10 == 0) {
			bool kept = false;
			pthread_mutex_lock(&orphan_mu);
			if (n_orphans < ORPHANS_MAX) {
				orphans[n_orphans++] = mine[i];
				kept = true;
			}
			pthread_mutex_unlock(&orphan_mu);
			if (kept)
				continue;
		}
		blk_release(w, &mine[i]);
	}
	return NULL;
}

TEST(thread_churn) {
	int per_round = test_long_mode() ? 8 : 4;
	int rounds = test_long_mode() ? 2000 : 60;
	atomic_store(&n_errors, 0);
	static worker_t cw[8];
	for (int round = 0; round < rounds; round++) {
		pthread_t th[8];
		for (int i = 0; i < per_round; i++) {
			cw[i].id = i;
			cw[i].seed = mix64(base_seed ^ ((uint64_t)round << 8) ^
			    (uint64_t)i) | 1;
			cw[i].rng = cw[i].seed;
			assert_d_eq(pthread_create(&th[i], NULL, churn_thread,
			    &cw[i]), 0, "pthread_create");
		}
		for (int i = 0; i < per_round; i++)
			pthread_join(th[i], NULL);
	}
	/* The main thread frees what is left. */
	cw[0].id = -1;
	while (n_orphans > 0)
		blk_release(&cw[0], &orphans[--n_orphans]);
	test_figure("threads_created", (unsigned long long)rounds * per_round);
	report("thread churn");
}

int
main(void) {
	base_seed = pick_seed();
	if (test_long_mode())
		test_msg("stress: STRESS_SEED=%#" PRIx64 "\n", base_seed);
	return test_run(
	    TEST_CASE(random_ops),
	    TEST_CASE(thread_churn));
}
