/*
 * Threads: a random mix of every allocation call in 8 threads, blocks
 * handed from one thread to another to be freed there, threads that only
 * free, and allocation from thread-specific-data destructors.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"
#include "test_alloc.h"

/*
 * Worker threads must not use assert_* (test_leave() only works on the
 * main thread): they count errors and print the first few.
 */
static atomic_ulong n_errors;

#define THREAD_ERROR(...) do {						\
	if (atomic_fetch_add(&n_errors, 1) < 20)			\
		test_msg(__VA_ARGS__);					\
} while (0)

static void
reset_errors(void) {
	atomic_store(&n_errors, 0);
}

static void
check_no_errors(const char *what) {
	unsigned long n = atomic_load(&n_errors);
	if (n != 0)
		test_fail_at(__FILE__, __LINE__, "%s: %lu errors in threads",
		    what, n);
}

/*
 * Pattern derived from the block's address: byte i is byte (i % 8) of
 * mix(address + i / 8), so any prefix of a block can be checked.
 */
static void
fill_block(void *p, size_t n) {
	unsigned char *b = p;
	uint64_t base = (uint64_t)(uintptr_t)p;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w = mix64(base + (i >> 3));
		memcpy(b + i, &w, 8);
	}
	if (i < n) {
		uint64_t w = mix64(base + (i >> 3));
		memcpy(b + i, &w, n - i);
	}
}

/* Checks the first n bytes, written by fill_block at address orig. */
static bool
check_block(const void *p, size_t n, const void *orig) {
	const unsigned char *b = p;
	uint64_t base = (uint64_t)(uintptr_t)orig;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w = mix64(base + (i >> 3)), v;
		memcpy(&v, b + i, 8);
		if (v != w)
			return false;
	}
	if (i < n) {
		uint64_t w = mix64(base + (i >> 3));
		if (memcmp(b + i, &w, n - i) != 0)
			return false;
	}
	return true;
}

/* Log-uniform size in [1, 64 KiB], with 1 MiB once in 256. */
static size_t
random_size(uint64_t *rng) {
	uint64_t r = xorshift(rng);
	if ((r & 0xff) == 0)
		return (size_t)1 << 20;
	unsigned lg = (unsigned)((r >> 8) % 17);	/* 0 .. 16 */
	size_t lo = (size_t)1 << lg;
	size_t s = lo + (size_t)((r >> 16) % lo);
	return s > 65536 ? 65536 : s;
}

typedef struct {
	void *p;
	size_t size;		/* bytes holding the pattern */
	const void *orig;	/* address the pattern was derived from */
	int kind;		/* 0: standard API, 1: *allocx API */
	int flags;		/* alignment flags for sdallocx */
} slot_t;

enum { NSLOTS = 256 };

typedef struct {
	int id;
	uint64_t seed;
	unsigned ops;
} mix_arg_t;

static void
slot_free(slot_t *s) {
	if (s->p == NULL)
		return;
	if (!check_block(s->p, s->size, s->orig))
		THREAD_ERROR("block %p (%zu bytes) corrupted before free\n",
		    s->p, s->size);
	if (s->kind == 1)
		sdallocx(s->p, s->size, s->flags);
	else
		free(s->p);
	s->p = NULL;
}

static void
slot_set(slot_t *s, void *p, size_t size, int kind) {
	s->p = p;
	s->size = size;
	s->orig = p;
	s->kind = kind;
	s->flags = 0;
	fill_block(p, size);
}

static void *
mix_thread(void *arg) {
	mix_arg_t *a = arg;
	uint64_t rng = a->seed;
	slot_t *slots = calloc(NSLOTS, sizeof(slot_t));
	if (slots == NULL) {
		THREAD_ERROR("thread %d: calloc of slots failed\n", a->id);
		return NULL;
	}
	for (unsigned op = 0; op < a->ops; op++) {
		uint64_t r = xorshift(&rng);
		slot_t *s = &slots[r % NSLOTS];
		unsigned what = (unsigned)((r >> 16) % 8);
		size_t size = random_size(&rng);
		if (s->p != NULL && what != 2 && what != 5) {
			slot_free(s);
			continue;
		}
		void *p = NULL;
		switch (what) {
		case 0:
			p = malloc(size);
			if (p != NULL)
				slot_set(s, p, size, 0);
			break;
		case 1: {
			size_t n = (size % 16) + 1, each = size / n + 1;
			p = calloc(n, each);
			if (p != NULL) {
				const unsigned char *b = p;
				for (size_t i = 0; i < n * each; i++) {
					if (b[i] != 0) {
						THREAD_ERROR("calloc(%zu, %zu) "
						    "byte %zu not zero\n", n,
						    each, i);
						break;
					}
				}
				slot_set(s, p, n * each, 0);
			}
			break;
		}
		case 2:
			/* realloc: grow or shrink an existing block. */
			if (s->p != NULL && s->kind == 0) {
				size_t keep = size < s->size ? size : s->size;
				p = realloc(s->p, size);
				if (p == NULL) {
					THREAD_ERROR("realloc(%zu) failed\n",
					    size);
					break;
				}
				if (!check_block(p, keep, s->orig))
					THREAD_ERROR("realloc %zu -> %zu lost "
					    "contents\n", s->size, size);
				slot_set(s, p, size, 0);
			} else if (s->p == NULL) {
				p = realloc(NULL, size);
				if (p != NULL)
					slot_set(s, p, size, 0);
			}
			break;
		case 3:
			p = mallocx(size, (r >> 40) & 1 ? MALLOCX_ZERO : 0);
			if (p != NULL)
				slot_set(s, p, size, 1);
			break;
		case 4: {
			void *q = NULL;
			size_t align = (size_t)8 << ((r >> 32) % 10);
			int e = posix_memalign(&q, align, size);
			if (e != 0) {
				THREAD_ERROR("posix_memalign(%zu, %zu) = %d\n",
				    align, size, e);
				break;
			}
			if (((uintptr_t)q & (align - 1)) != 0)
				THREAD_ERROR("posix_memalign misaligned\n");
			slot_set(s, q, size, 0);
			p = q;
			break;
		}
		case 5:
			/* rallocx of an *allocx block. */
			if (s->p != NULL && s->kind == 1) {
				size_t keep = size < s->size ? size : s->size;
				p = rallocx(s->p, size, 0);
				if (p == NULL) {
					THREAD_ERROR("rallocx(%zu) failed\n",
					    size);
					break;
				}
				if (!check_block(p, keep, s->orig))
					THREAD_ERROR("rallocx %zu -> %zu lost "
					    "contents\n", s->size, size);
				slot_set(s, p, size, 1);
			} else if (s->p == NULL) {
				p = mallocx(size, MALLOCX_LG_ALIGN(6));
				if (p != NULL) {
					if (((uintptr_t)p & 63) != 0)
						THREAD_ERROR("mallocx misaligned"
						    "\n");
					slot_set(s, p, size, 1);
					s->flags = MALLOCX_LG_ALIGN(6);
				}
			}
			break;
		default:
			p = mallocx(size, MALLOCX_TCACHE_NONE);
			if (p != NULL)
				slot_set(s, p, size, 1);
			break;
		}
		if (p != NULL && malloc_usable_size(p) < s->size)
			THREAD_ERROR("usable size %zu < %zu\n",
			    malloc_usable_size(p), s->size);
		if (p == NULL && what != 2 && what != 5)
			THREAD_ERROR("allocation of %zu failed (op %u)\n", size,
			    what);
	}
	for (int i = 0; i < NSLOTS; i++)
		slot_free(&slots[i]);
	free(slots);
	return NULL;
}

TEST(random_mix_8_threads) {
	enum { NT = 8 };
	pthread_t th[NT];
	mix_arg_t args[NT];
	unsigned ops = test_long_mode() ? 200000 : 15000;
	reset_errors();
	for (int i = 0; i < NT; i++) {
		args[i].id = i;
		args[i].seed = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
		args[i].ops = ops;
		assert_d_eq(pthread_create(&th[i], NULL, mix_thread, &args[i]),
		    0, "pthread_create");
	}
	for (int i = 0; i < NT; i++)
		pthread_join(th[i], NULL);
	check_no_errors("random mix");
}

/* --- producer / consumer ---------------------------------------------- */

enum { QCAP = 1024 };

typedef struct {
	pthread_mutex_t mu;
	pthread_cond_t nonempty, nonfull;
	void *ptrs[QCAP];
	size_t sizes[QCAP];
	unsigned head, count;
	bool done;
} queue_t;

static void
queue_init(queue_t *q) {
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->nonempty, NULL);
	pthread_cond_init(&q->nonfull, NULL);
}

static void
queue_destroy(queue_t *q) {
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->nonempty);
	pthread_cond_destroy(&q->nonfull);
}

static void
queue_push(queue_t *q, void *p, size_t size) {
	pthread_mutex_lock(&q->mu);
	while (q->count == QCAP)
		pthread_cond_wait(&q->nonfull, &q->mu);
	unsigned idx = (q->head + q->count) % QCAP;
	q->ptrs[idx] = p;
	q->sizes[idx] = size;
	q->count++;
	pthread_cond_signal(&q->nonempty);
	pthread_mutex_unlock(&q->mu);
}

static void
queue_close(queue_t *q) {
	pthread_mutex_lock(&q->mu);
	q->done = true;
	pthread_cond_broadcast(&q->nonempty);
	pthread_mutex_unlock(&q->mu);
}

/* Returns false once the queue is closed and drained. */
static bool
queue_pop(queue_t *q, void **p, size_t *size) {
	pthread_mutex_lock(&q->mu);
	while (q->count == 0 && !q->done)
		pthread_cond_wait(&q->nonempty, &q->mu);
	if (q->count == 0) {
		pthread_mutex_unlock(&q->mu);
		return false;
	}
	*p = q->ptrs[q->head];
	*size = q->sizes[q->head];
	q->head = (q->head + 1) % QCAP;
	q->count--;
	pthread_cond_signal(&q->nonfull);
	pthread_mutex_unlock(&q->mu);
	return true;
}

typedef struct {
	queue_t *q;
	uint64_t seed;
	unsigned n;
	bool consumer_allocates;
	unsigned long consumed;
} pc_arg_t;

static void *
producer(void *arg) {
	pc_arg_t *a = arg;
	uint64_t rng = a->seed;
	for (unsigned i = 0; i < a->n; i++) {
		uint64_t r = xorshift(&rng);
		size_t size;
		if ((r & 0x3ff) == 0)
			size = (size_t)1 << 20;
		else if ((r & 0xf) == 0)
			size = 16384 + (size_t)((r >> 12) % 50000);
		else
			size = 1 + (size_t)((r >> 12) % 4096);
		void *p;
		if ((r >> 40) & 1)
			p = malloc(size);
		else
			p = mallocx(size, 0);
		if (p == NULL) {
			THREAD_ERROR("producer: allocation of %zu failed\n",
			    size);
			continue;
		}
		fill_block(p, size);
		queue_push(a->q, p, size);
	}
	queue_close(a->q);
	return NULL;
}

static void *
consumer(void *arg) {
	pc_arg_t *a = arg;
	void *p;
	size_t size;
	void *own = NULL;
	while (queue_pop(a->q, &p, &size)) {
		if (!check_block(p, size, p))
			THREAD_ERROR("consumer: block %p (%zu bytes) "
			    "corrupted\n", p, size);
		if (malloc_usable_size(p) < size)
			THREAD_ERROR("consumer: usable size too small\n");
		if (a->consumed % 3 == 0)
			free(p);
		else if (a->consumed % 3 == 1)
			sdallocx(p, size, 0);
		else
			dallocx(p, 0);
		a->consumed++;
		if (a->consumer_allocates) {
			free(own);
			own = malloc(1 + a->consumed % 2000);
			if (own == NULL)
				THREAD_ERROR("consumer: malloc failed\n");
			else
				memset(own, 0x5c, 1 + a->consumed % 2000);
		}
	}
	free(own);
	return NULL;
}

static void
run_pairs(int npairs, bool consumer_allocates) {
	queue_t qs[4];
	pc_arg_t args[4];
	pthread_t prod[4], cons[4];
	unsigned n = test_long_mode() ? 500000 : 20000;
	reset_errors();
	for (int i = 0; i < npairs; i++) {
		queue_init(&qs[i]);
		args[i].q = &qs[i];
		args[i].seed = 0x2545f4914f6cdd1dULL * (uint64_t)(i + 3);
		args[i].n = n;
		args[i].consumer_allocates = consumer_allocates;
		args[i].consumed = 0;
		assert_d_eq(pthread_create(&cons[i], NULL, consumer, &args[i]),
		    0, "pthread_create");
		assert_d_eq(pthread_create(&prod[i], NULL, producer, &args[i]),
		    0, "pthread_create");
	}
	for (int i = 0; i < npairs; i++) {
		pthread_join(prod[i], NULL);
		pthread_join(cons[i], NULL);
		if (atomic_load(&n_errors) == 0 && args[i].consumed != n)
			test_fail_at(__FILE__, __LINE__, "pair %d: consumed %lu "
			    "of %u blocks", i, args[i].consumed, n);
		queue_destroy(&qs[i]);
	}
	check_no_errors("producer/consumer");
}

TEST(cross_thread_free_only) {
	/* The consumer never allocates: a thread that only frees. */
	run_pairs(1, false);
}

TEST(cross_thread_free_busy) {
	run_pairs(3, true);
}

/* A ring: each thread frees what its neighbour allocated. */
enum { RING = 4 };
static queue_t ring_q[RING];

typedef struct {
	int id;
	unsigned n;
} ring_arg_t;

static bool
queue_try_push(queue_t *q, void *p, size_t size) {
	pthread_mutex_lock(&q->mu);
	bool ok = q->count < QCAP;
	if (ok) {
		unsigned idx = (q->head + q->count) % QCAP;
		q->ptrs[idx] = p;
		q->sizes[idx] = size;
		q->count++;
	}
	pthread_mutex_unlock(&q->mu);
	return ok;
}

/* 1: got one, 0: empty for now, -1: empty and closed. */
static int
queue_try_pop(queue_t *q, void **p, size_t *size) {
	int r;
	pthread_mutex_lock(&q->mu);
	if (q->count > 0) {
		*p = q->ptrs[q->head];
		*size = q->sizes[q->head];
		q->head = (q->head + 1) % QCAP;
		q->count--;
		r = 1;
	} else {
		r = q->done ? -1 : 0;
	}
	pthread_mutex_unlock(&q->mu);
	return r;
}

static void *
ring_thread(void *arg) {
	ring_arg_t *a = arg;
	uint64_t rng = 0x1234567ULL * (uint64_t)(a->id + 1);
	queue_t *out = &ring_q[(a->id + 1) % RING];
	queue_t *in = &ring_q[a->id];
	unsigned sent = 0;
	void *pending = NULL;
	size_t pending_size = 0;
	for (;;) {
		bool progress = false;
		if (sent < a->n && pending == NULL) {
			pending_size = 1 + (size_t)(xorshift(&rng) % 3000);
			pending = malloc(pending_size);
			if (pending == NULL) {
				THREAD_ERROR("ring: malloc failed\n");
				sent++;
			} else {
				fill_block(pending, pending_size);
			}
		}
		if (pending != NULL && queue_try_push(out, pending,
		    pending_size)) {
			pending = NULL;
			sent++;
			progress = true;
			if (sent == a->n)
				queue_close(out);
		}
		void *p;
		size_t size;
		int r;
		while ((r = queue_try_pop(in, &p, &size)) == 1) {
			if (!check_block(p, size, p))
				THREAD_ERROR("ring: block corrupted\n");
			free(p);
			progress = true;
		}
		if (r == -1 && sent == a->n)
			break;
		if (!progress)
			sched_yield();
	}
	return NULL;
}

TEST(cross_thread_ring) {
	pthread_t th[RING];
	ring_arg_t args[RING];
	reset_errors();
	for (int i = 0; i < RING; i++)
		queue_init(&ring_q[i]);
	for (int i = 0; i < RING; i++) {
		args[i].id = i;
		args[i].n = test_long_mode() ? 200000 : 10000;
		assert_d_eq(pthread_create(&th[i], NULL, ring_thread, &args[i]),
		    0, "pthread_create");
	}
	for (int i = 0; i < RING; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < RING; i++)
		queue_destroy(&ring_q[i]);
	check_no_errors("ring");
}

/* --- thread-specific data destructors --------------------------------- */

static pthread_key_t tsd_key;
static atomic_int destructor_runs;

static void
tsd_destructor(void *v) {
	/* Free the block, then allocate and free again during teardown. */
	size_t size = *(size_t *)v;
	if (!check_block((char *)v + 16, size, (char *)v + 16))
		THREAD_ERROR("tsd block corrupted\n");
	free(v);
	void *p = malloc(100);
	if (p == NULL) {
		THREAD_ERROR("malloc in a tsd destructor failed\n");
	} else {
		memset(p, 1, 100);
		free(p);
	}
	p = mallocx(5000, MALLOCX_ZERO);
	if (p == NULL)
		THREAD_ERROR("mallocx in a tsd destructor failed\n");
	else
		dallocx(p, 0);
	atomic_fetch_add(&destructor_runs, 1);
}

static void *
tsd_thread(void *arg) {
	size_t size = (size_t)(uintptr_t)arg;
	char *v = malloc(16 + size);
	if (v == NULL) {
		THREAD_ERROR("malloc failed\n");
		return NULL;
	}
	*(size_t *)v = size;
	fill_block(v + 16, size);
	pthread_setspecific(tsd_key, v);
	/* Also leave some cached blocks behind in this thread. */
	for (int i = 0; i < 100; i++)
		free(malloc((size_t)(i * 41 % 2000) + 1));
	return NULL;
}

TEST(tsd_destructor_allocates) {
	reset_errors();
	atomic_store(&destructor_runs, 0);
	assert_d_eq(pthread_key_create(&tsd_key, tsd_destructor), 0,
	    "pthread_key_create");
	enum { NT = 16 };
	for (int i = 0; i < NT; i++) {
		pthread_t t;
		assert_d_eq(pthread_create(&t, NULL, tsd_thread,
		    (void *)(uintptr_t)(i * 1000 + 1)), 0, "pthread_create");
		pthread_join(t, NULL);
	}
	expect_d_eq(atomic_load(&destructor_runs), NT, "destructor runs");
	pthread_key_delete(tsd_key);
	check_no_errors("tsd destructors");
}

/*
 * Many short threads, each leaving cached blocks behind when it exits and
 * handing half of its blocks to the main thread, which frees them after
 * the owner has gone.
 */
enum { SHORT_BLOCKS = 64 };
typedef struct {
	int id;
	void *left[SHORT_BLOCKS / 2];
	size_t left_size[SHORT_BLOCKS / 2];
} short_arg_t;

static void *
short_thread(void *arg) {
	short_arg_t *a = arg;
	uint64_t rng = (uint64_t)(a->id + 1) * 0x9e3779b97f4a7c15ULL;
	void *ps[SHORT_BLOCKS];
	size_t sz[SHORT_BLOCKS];
	for (int i = 0; i < SHORT_BLOCKS; i++) {
		sz[i] = 1 + (size_t)(xorshift(&rng) % 20000);
		ps[i] = malloc(sz[i]);
		if (ps[i] == NULL) {
			THREAD_ERROR("short thread: malloc failed\n");
			sz[i] = 0;
			continue;
		}
		fill_block(ps[i], sz[i]);
	}
	for (int i = 0; i < SHORT_BLOCKS; i += 2) {
		if (ps[i] != NULL && !check_block(ps[i], sz[i], ps[i]))
			THREAD_ERROR("short thread: block corrupted\n");
		free(ps[i]);
		a->left[i / 2] = ps[i + 1];
		a->left_size[i / 2] = sz[i + 1];
	}
	return NULL;
}

TEST(thread_exit_with_cache) {
	reset_errors();
	for (int round = 0; round < 50; round++) {
		pthread_t th[4];
		short_arg_t args[4];
		for (int i = 0; i < 4; i++) {
			args[i].id = round * 4 + i;
			assert_d_eq(pthread_create(&th[i], NULL, short_thread,
			    &args[i]), 0, "pthread_create");
		}
		for (int i = 0; i < 4; i++)
			pthread_join(th[i], NULL);
		for (int i = 0; i < 4; i++) {
			for (int k = 0; k < SHORT_BLOCKS / 2; k++) {
				void *p = args[i].left[k];
				if (p != NULL && !check_block(p,
				    args[i].left_size[k], p))
					THREAD_ERROR("block of an exited thread "
					    "corrupted\n");
				free(p);
			}
		}
	}
	/* The main thread still allocates and frees fine afterwards. */
	for (int i = 0; i < 1000; i++) {
		void *p = malloc((size_t)i + 1);
		assert_true(p != NULL, "malloc after thread exits");
		memset(p, 0, (size_t)i + 1);
		free(p);
	}
	check_no_errors("thread exit");
}

/*
 * fork() while other threads allocate: the child must be able to allocate
 * (the allocator's locks are taken around fork and reset in the child).
 */
static atomic_int fork_stop;

static void *
busy_thread(void *arg) {
	uint64_t rng = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 7;
	void *ps[64] = {0};
	while (!atomic_load(&fork_stop)) {
		uint64_t r = xorshift(&rng);
		int k = (int)(r % 64);
		if (ps[k] != NULL) {
			free(ps[k]);
			ps[k] = NULL;
		} else {
			size_t size = 1 + (size_t)((r >> 8) % 40000);
			ps[k] = malloc(size);
			if (ps[k] == NULL)
				THREAD_ERROR("busy thread: malloc failed\n");
			else
				memset(ps[k], 1, size < 256 ? size : 256);
		}
	}
	for (int k = 0; k < 64; k++)
		free(ps[k]);
	return NULL;
}

static int
child_work(void) {
	void *ps[100];
	for (int i = 0; i < 100; i++) {
		size_t size = (size_t)(i * 977 % 70000) + 1;
		ps[i] = malloc(size);
		if (ps[i] == NULL)
			return 2;
		memset(ps[i], i, size);
	}
	for (int i = 0; i < 100; i++) {
		size_t size = (size_t)(i * 977 % 70000) + 1;
		if (((unsigned char *)ps[i])[size - 1] != (unsigned char)i)
			return 3;
		free(ps[i]);
	}
	void *p = mallocx(5000, MALLOCX_ZERO);
	if (p == NULL)
		return 4;
	p = rallocx(p, 100000, 0);
	if (p == NULL)
		return 5;
	dallocx(p, 0);
	return 0;
}

TEST(fork_while_allocating) {
	enum { NT = 3 };
	pthread_t th[NT];
	reset_errors();
	atomic_store(&fork_stop, 0);
	for (int i = 0; i < NT; i++) {
		assert_d_eq(pthread_create(&th[i], NULL, busy_thread,
		    (void *)(uintptr_t)i), 0, "pthread_create");
	}
	int rounds = test_long_mode() ? 200 : 20;
	for (int round = 0; round < rounds; round++) {
		/* Allocate in this thread too, around the fork. */
		void *mine = malloc((size_t)round * 100 + 1);
		pid_t pid = fork();
		if (pid == 0) {
			/* A deadlocked child is killed instead of hanging. */
			alarm(20);
			int rc = child_work();
			free(mine);
			_exit(rc);
		}
		if (pid < 0) {
			test_fail_at(__FILE__, __LINE__, "fork failed");
			free(mine);
			break;
		}
		int status = 0;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			test_fail_at(__FILE__, __LINE__, "round %d: child "
			    "status %#x (%s)", round, status,
			    WIFSIGNALED(status) ? "killed by a signal" :
			    "bad exit code");
			free(mine);
			break;
		}
		free(mine);
	}
	atomic_store(&fork_stop, 1);
	for (int i = 0; i < NT; i++)
		pthread_join(th[i], NULL);
	check_no_errors("fork");
}

int
main(void) {
	return test_run(
	    TEST_CASE(random_mix_8_threads),
	    TEST_CASE(cross_thread_free_only),
	    TEST_CASE(cross_thread_free_busy),
	    TEST_CASE(cross_thread_ring),
	    TEST_CASE(tsd_destructor_allocates),
	    TEST_CASE(thread_exit_with_cache),
	    TEST_CASE(fork_while_allocating));
}
