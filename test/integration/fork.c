/*
 * fork(): the allocator's pthread_atfork handlers (facts §6.10).
 *
 * - fork_while_creating_arena: a thread that is creating a new arena (it
 *   holds the arenas lock for the whole of arena_new) is slowed down inside
 *   mmap while another thread forks.  The prefork handler must not deadlock
 *   with it.  Runs in a helper process with an alarm, so that a deadlock
 *   is a failure, not a hang (10 s).
 * - fork_busy_threads: three threads allocate and free random sizes (and
 *   hand blocks to each other through a mailbox) while the main thread
 *   forks repeatedly; every child allocates, verifies and frees a few
 *   thousand objects of many sizes, frees blocks the parent's threads left
 *   behind, runs a thread of its own, prints the statistics through a
 *   write callback and exits with _exit(0).  Children have a 20 s alarm,
 *   the parent a 60 s one.
 * - fork_child_sees_only_its_thread: three threads with filled caches are
 *   alive at the fork; in the child one thread is bound to the arenas and
 *   the tcache lists hold only the forking thread's cache, so with that
 *   flushed stats.arenas.<all>.tcache_bytes is 0, also after the child's
 *   own threads came and went.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"
#include "test_alloc.h"

#pragma GCC diagnostic ignored "-Wformat-zero-length"

static void *(*volatile vmalloc)(size_t) = malloc;
static void (*volatile vfree)(void *) = free;

/* --- a slow mmap on request ----------------------------------------------- */

/*
 * The library maps memory with mmap(); this definition takes its place in
 * the process.  A thread that sets slow_mmap sleeps in every call, which
 * widens the window in which it holds whatever lock it mapped under.
 */
static __thread int slow_mmap;
static atomic_int nslow_mmap;

void *
mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
	if (slow_mmap) {
		atomic_fetch_add(&nslow_mmap, 1);
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

/* --- blocks that check themselves ----------------------------------------- */

/*
 * Every block starts with a header word: its size, and in the top byte the
 * lg of the alignment it was allocated with (0: none), so that it can be
 * freed with sdallocx and the right flags.  The rest is a pattern of the
 * block's address.
 */
#define HDR_SIZE_MASK ((UINT64_C(1) << 56) - 1)

/* The bytes of a block that carry the pattern: the first 512 and the
 * last 64 (enough to catch overlaps, cheap for 1 MiB blocks). */
static bool
patterned(size_t i, size_t size) {
	return i < 512 || i + 64 >= size;
}

static void
stamp_aligned(void *p, size_t size, unsigned lg_align) {
	uint64_t hdr = (uint64_t)size | ((uint64_t)lg_align << 56);
	memcpy(p, &hdr, sizeof(hdr));
	unsigned char *b = p;
	unsigned char seed = (unsigned char)((uintptr_t)p >> 4);
	for (size_t i = sizeof(hdr); i < size; i++) {
		if (!patterned(i, size))
			i = size - 64;
		b[i] = (unsigned char)(seed + i * 7);
	}
}

static void
stamp(void *p, size_t size) {
	stamp_aligned(p, size, 0);
}

static size_t
block_size(const void *p) {
	uint64_t hdr;
	memcpy(&hdr, p, sizeof(hdr));
	return (size_t)(hdr & HDR_SIZE_MASK);
}

static unsigned
block_lg_align(const void *p) {
	uint64_t hdr;
	memcpy(&hdr, p, sizeof(hdr));
	return (unsigned)(hdr >> 56);
}

static bool
verify(const void *p) {
	size_t size = block_size(p);
	if (size < sizeof(uint64_t) || size > ((size_t)4 << 20) ||
	    block_lg_align(p) > 20)
		return false;
	const unsigned char *b = p;
	unsigned char seed = (unsigned char)((uintptr_t)p >> 4);
	for (size_t i = sizeof(uint64_t); i < size; i++) {
		if (!patterned(i, size))
			i = size - 64;
		if (b[i] != (unsigned char)(seed + i * 7))
			return false;
	}
	return true;
}

/*
 * Mostly small: log-uniform in [16, 4 KiB] 7 times in 8, [4 KiB, 64 KiB]
 * otherwise, and 256 KiB .. 1 MiB once in 512.
 */
static size_t
random_size(uint64_t *rng) {
	uint64_t r = xorshift(rng);
	if ((r & 0x1ff) == 0)
		return ((size_t)256 << 10) + (size_t)((r >> 8) % (768 << 10));
	unsigned lg = (r >> 8) % 8 == 0 ? 12 + (unsigned)((r >> 12) % 4) :
	    4 + (unsigned)((r >> 12) % 8);
	size_t lo = (size_t)1 << lg;
	return lo + (size_t)((r >> 20) % lo);
}

/* --- fork while an arena is being created --------------------------------- */

static atomic_int creator_done;

static void *
arena_creator(void *arg) {
	slow_mmap = 1;
	void *p = vmalloc(100);
	slow_mmap = 0;
	if (p != NULL)
		memset(p, 1, 100);
	vfree(p);
	atomic_store(&creator_done, 1);
	return NULL;
}

static unsigned
narenas_initialized(void) {
	unsigned n = 0, count = 0;
	size_t sz = sizeof(n);
	if (mallctl("arenas.narenas", &n, &sz, NULL, 0) != 0)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		char name[64];
		bool init = false;
		sz = sizeof(init);
		snprintf(name, sizeof(name), "arena.%u.initialized", i);
		if (mallctl(name, &init, &sz, NULL, 0) == 0 && init)
			count++;
	}
	return count;
}

/* In a helper process: 0 if the scenario ran, 1 if it could not be set
 * up (no arena was made, or no mmap happened while making it). */
static int
arena_creation_scenario(void) {
	alarm(10);
	unsigned before = narenas_initialized();
	pthread_t th;
	if (pthread_create(&th, NULL, arena_creator, NULL) != 0)
		return 2;
	int seen = 0;
	while (!atomic_load(&creator_done)) {
		int n = atomic_load(&nslow_mmap);
		if (n == seen) {
			sched_yield();
			continue;
		}
		seen = n;
		/* The other thread sleeps in mmap now: fork. */
		pid_t pid = fork();
		if (pid == 0) {
			void *p = vmalloc(1000);
			vfree(p);
			_exit(p == NULL ? 3 : 0);
		}
		if (pid < 0)
			return 4;
		int status;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			return 5;
	}
	pthread_join(th, NULL);
	if (seen == 0)
		return 1;	/* no mmap was slowed down: nothing tested */
	return narenas_initialized() > before ? 0 : 1;
}

TEST(fork_while_creating_arena) {
	unsigned narenas = 0;
	size_t sz = sizeof(narenas);
	assert_d_eq(mallctl("opt.narenas", &narenas, &sz, NULL, 0), 0, "");
	if (narenas < 2)
		test_skip("one arena only: no arena is ever created");
	if (narenas_initialized() >= narenas)
		test_skip("every arena exists already");
	pid_t pid = fork();
	assert_true(pid >= 0, "fork");
	if (pid == 0)
		_exit(arena_creation_scenario());
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
		test_fail_at(__FILE__, __LINE__, "deadlock: fork() while "
		    "another thread creates an arena (the helper process was "
		    "stopped by its 10 s alarm)");
		return;
	}
	assert_true(WIFEXITED(status), "helper status %#x", status);
	if (WEXITSTATUS(status) == 1)
		test_skip("no arena was created: scenario not exercised");
	expect_d_eq(WEXITSTATUS(status), 0, "helper exit code");
}

/* --- fork while three threads allocate ------------------------------------ */

enum { NWORKERS = 3, NSLOTS = 128, NMAIL = 64, NPARENT = 32 };

static _Atomic(void *) mailbox[NMAIL];
static atomic_int stop_workers;
static atomic_ulong worker_errors;
static atomic_ulong worker_ops;
static atomic_int workers_ready;
/* Set while a child runs: the workers idle so that the child gets the
 * CPUs (they are busy again before the next fork). */
static atomic_int pause_workers;
static atomic_ulong worker_progress[NWORKERS];

#define WORKER_ERROR(...) do {						\
	if (atomic_fetch_add(&worker_errors, 1) < 10)			\
		test_msg(__VA_ARGS__);					\
} while (0)

static void *
alloc_block(uint64_t *rng, size_t size) {
	uint64_t r = xorshift(rng);
	void *p;
	unsigned lg_align = 0;
	switch (r % 4) {
	case 0:
		p = malloc(size);
		break;
	case 1:
		p = mallocx(size, 0);
		break;
	case 2:
		p = calloc(1, size);
		break;
	default:
		lg_align = 4 + (unsigned)((r >> 8) % 6);
		if (posix_memalign(&p, (size_t)1 << lg_align, size) != 0)
			p = NULL;
		break;
	}
	if (p != NULL)
		stamp_aligned(p, size, lg_align);
	return p;
}

static void
free_block(void *p, uint64_t r) {
	switch (r % 3) {
	case 0:
		free(p);
		break;
	case 1:
		dallocx(p, 0);
		break;
	default: {
		unsigned lg = block_lg_align(p);
		sdallocx(p, block_size(p), lg == 0 ? 0 : MALLOCX_LG_ALIGN(lg));
		break;
	}
	}
}

static void *
worker(void *arg) {
	uint64_t rng = 0x9e3779b97f4a7c15ULL * ((uint64_t)(uintptr_t)arg + 1);
	void *slots[NSLOTS] = {0};
	unsigned long ops = 0;
	/* Bind to an arena before the forks start (fork during arena
	 * creation is fork_while_creating_arena's business). */
	vfree(vmalloc(1));
	atomic_fetch_add(&workers_ready, 1);
	unsigned id = (unsigned)(uintptr_t)arg;
	while (!atomic_load_explicit(&stop_workers, memory_order_relaxed)) {
		if (atomic_load_explicit(&pause_workers,
		    memory_order_relaxed)) {
			struct timespec ts = {0, 100 * 1000};
			nanosleep(&ts, NULL);
			continue;
		}
		atomic_fetch_add_explicit(&worker_progress[id], 1,
		    memory_order_relaxed);
		uint64_t r = xorshift(&rng);
		unsigned k = (unsigned)(r % NSLOTS);
		if ((r >> 20) % 8 == 0) {
			/* Cross-thread: swap a block through the mailbox. */
			void *p = alloc_block(&rng, random_size(&rng));
			if (p == NULL) {
				WORKER_ERROR("worker: allocation failed\n");
				continue;
			}
			void *old = atomic_exchange(&mailbox[(r >> 8) % NMAIL],
			    p);
			if (old != NULL) {
				if (!verify(old))
					WORKER_ERROR("mailbox block %p "
					    "corrupted\n", old);
				free_block(old, r >> 32);
			}
		} else if (slots[k] != NULL) {
			if (!verify(slots[k]))
				WORKER_ERROR("block %p corrupted\n", slots[k]);
			free_block(slots[k], r >> 32);
			slots[k] = NULL;
		} else {
			slots[k] = alloc_block(&rng, random_size(&rng));
			if (slots[k] == NULL)
				WORKER_ERROR("worker: allocation failed\n");
		}
		ops++;
	}
	for (unsigned k = 0; k < NSLOTS; k++) {
		if (slots[k] != NULL) {
			if (!verify(slots[k]))
				WORKER_ERROR("block %p corrupted\n", slots[k]);
			free(slots[k]);
		}
	}
	atomic_fetch_add(&worker_ops, ops);
	return NULL;
}

/* malloc_stats_print output, collected without allocating. */
static char stats_buf[1 << 20];
static size_t stats_len, stats_total;

static void
stats_cb(void *opaque, const char *s) {
	size_t n = strlen(s);
	stats_total += n;
	if (stats_len + n >= sizeof(stats_buf))
		n = sizeof(stats_buf) - 1 - stats_len;
	memcpy(stats_buf + stats_len, s, n);
	stats_len += n;
	stats_buf[stats_len] = '\0';
	(*(unsigned *)opaque)++;
}

static void *
child_thread(void *arg) {
	uint64_t rng = 12345;
	void *ps[64] = {0};
	int bad = 0;
	for (int i = 0; i < 2000; i++) {
		int k = (int)(xorshift(&rng) % 64);
		if (ps[k] != NULL) {
			if (!verify(ps[k]))
				bad = 1;
			free(ps[k]);
			ps[k] = NULL;
		} else {
			ps[k] = alloc_block(&rng, random_size(&rng));
			if (ps[k] == NULL)
				bad = 1;
		}
	}
	for (int k = 0; k < 64; k++)
		free(ps[k]);
	*(int *)arg = bad;
	return NULL;
}

/* Returns the child's exit code: 0 when everything worked. */
static int
child_main(void **parent_blocks, unsigned seed) {
	/* The parent's blocks survived the fork. */
	for (int i = 0; i < NPARENT; i++) {
		if (parent_blocks[i] == NULL || !verify(parent_blocks[i]))
			return 10;
		if (i & 1) {
			free(parent_blocks[i]);
			parent_blocks[i] = NULL;
		}
	}
	/* Blocks the parent's (now absent) threads left in the mailbox. */
	for (int i = 0; i < NMAIL; i++) {
		void *p = atomic_exchange(&mailbox[i], NULL);
		if (p != NULL) {
			if (!verify(p))
				return 11;
			free(p);
		}
	}

	enum { N = 2000 };
	static void *ps[N];
	uint64_t rng = 0x2545f4914f6cdd1dULL * (seed + 1);
	for (int i = 0; i < N; i++) {
		size_t size = random_size(&rng);
		ps[i] = alloc_block(&rng, size);
		if (ps[i] == NULL)
			return 12;
	}
	for (int i = 0; i < N; i++) {
		if (!verify(ps[i]))
			return 13;
	}
	/* Grow or shrink some. */
	for (int i = 0; i < N; i += 7) {
		size_t size = random_size(&rng);
		void *q = realloc(ps[i], size);
		if (q == NULL)
			return 14;
		stamp(q, size);
		ps[i] = q;
	}
	/* Free in a scrambled order. */
	for (int i = 0; i < N; i++) {
		int j = (int)(((uint64_t)i * 1103) % N);
		if (ps[j] == NULL)
			continue;
		if (!verify(ps[j]))
			return 15;
		free_block(ps[j], (uint64_t)i);
		ps[j] = NULL;
	}
	for (int i = 0; i < N; i++) {
		if (ps[i] != NULL) {
			if (!verify(ps[i]))
				return 15;
			free(ps[i]);
		}
	}
	/* Uncached and explicit-cache paths. */
	void *u = mallocx(5000, MALLOCX_TCACHE_NONE);
	if (u == NULL)
		return 16;
	stamp(u, 5000);
	if (!verify(u))
		return 16;
	dallocx(u, MALLOCX_TCACHE_NONE);

	/* A thread of the child's own. */
	pthread_t th;
	int bad = 1;
	if (pthread_create(&th, NULL, child_thread, &bad) != 0)
		return 17;
	pthread_join(th, NULL);
	if (bad)
		return 18;

	/* Statistics, through mallctl and malloc_stats_print. */
	uint64_t epoch = 1;
	size_t sz = sizeof(epoch);
	if (mallctl("epoch", &epoch, &sz, &epoch, sizeof(epoch)) != 0)
		return 19;
	size_t allocated = 0;
	sz = sizeof(allocated);
	bool stats = false;
	size_t bsz = sizeof(stats);
	if (mallctl("config.stats", &stats, &bsz, NULL, 0) != 0)
		return 19;
	if (stats && (mallctl("stats.allocated", &allocated, &sz, NULL, 0) !=
	    0 || allocated == 0))
		return 19;
	unsigned calls = 0;
	stats_len = stats_total = 0;
	malloc_stats_print(stats_cb, &calls, NULL);
	if (calls == 0 || stats_total == 0)
		return 20;
	if (strstr(stats_buf, "Begin jemalloc statistics") == NULL)
		return 21;
	stats_len = stats_total = 0;
	malloc_stats_print(stats_cb, &calls, "J");
	if (stats_total == 0 || strchr(stats_buf, '{') == NULL)
		return 22;
	for (int i = 0; i < NPARENT; i++)
		free(parent_blocks[i]);
	return 0;
}

static void
parent_alarm(int sig) {
	static const char msg[] = "fork test: the parent hung for 60 s "
	    "(deadlock in fork?)\n";
	ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)w;
	_exit(3);
}

TEST(fork_busy_threads) {
	int nforks = test_long_mode() ? 500 : 50;
	signal(SIGALRM, parent_alarm);
	alarm(60);
	atomic_store(&stop_workers, 0);
	atomic_store(&worker_errors, 0);
	atomic_store(&worker_ops, 0);
	atomic_store(&workers_ready, 0);
	atomic_store(&pause_workers, 0);
	pthread_t th[NWORKERS];
	for (int i = 0; i < NWORKERS; i++) {
		assert_d_eq(pthread_create(&th[i], NULL, worker,
		    (void *)(uintptr_t)i), 0, "pthread_create");
	}
	while (atomic_load(&workers_ready) < NWORKERS)
		sched_yield();
	uint64_t rng = 777;
	void *parent_blocks[NPARENT];
	int failures = 0;
	for (int round = 0; round < nforks && failures < 3; round++) {
		for (int i = 0; i < NPARENT; i++) {
			parent_blocks[i] = alloc_block(&rng,
			    random_size(&rng) % 20000 + 16);
			assert_ptr_not_null(parent_blocks[i], "");
		}
		/* Let the workers get going again: each does some operations
		 * (so all three are busy when the fork comes). */
		unsigned long mark[NWORKERS];
		for (int i = 0; i < NWORKERS; i++)
			mark[i] = atomic_load(&worker_progress[i]);
		atomic_store(&pause_workers, 0);
		for (int i = 0; i < NWORKERS; i++) {
			while (atomic_load(&worker_progress[i]) < mark[i] + 50)
				vfree(vmalloc((size_t)(xorshift(&rng) % 3000) +
				    1));
		}
		pid_t pid = fork();
		if (pid == 0) {
			signal(SIGALRM, SIG_DFL);
			alarm(20);
			_exit(child_main(parent_blocks, (unsigned)round));
		}
		atomic_store(&pause_workers, 1);
		assert_true(pid > 0, "fork failed: errno %d", errno);
		int status = 0;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			failures++;
			if (WIFSIGNALED(status)) {
				test_fail_at(__FILE__, __LINE__, "fork %d: "
				    "child killed by signal %d%s", round,
				    WTERMSIG(status), WTERMSIG(status) ==
				    SIGALRM ? " (deadlock: 20 s alarm)" : "");
			} else {
				test_fail_at(__FILE__, __LINE__, "fork %d: "
				    "child exit code %d", round,
				    WEXITSTATUS(status));
			}
		}
		for (int i = 0; i < NPARENT; i++) {
			expect_true(verify(parent_blocks[i]), "parent block "
			    "changed by the child");
			free(parent_blocks[i]);
		}
	}
	atomic_store(&stop_workers, 1);
	atomic_store(&pause_workers, 0);
	for (int i = 0; i < NWORKERS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NMAIL; i++) {
		void *p = atomic_exchange(&mailbox[i], NULL);
		if (p != NULL) {
			expect_true(verify(p), "mailbox block corrupted");
			free(p);
		}
	}
	alarm(0);
	signal(SIGALRM, SIG_DFL);
	test_figure("fork_iterations_under_load", (unsigned long long)nforks);
	test_figure("fork_worker_ops", atomic_load(&worker_ops));
	expect_u64_eq(atomic_load(&worker_errors), 0, "errors in the workers");
	expect_true(atomic_load(&worker_ops) > 0, "the workers did nothing");
}

/* --- the child's view of the parent's thread caches ----------------------- */

/*
 * In the child only the forking thread exists: its arenas count one bound
 * thread and their tcache lists hold only its cache (facts §6.10), so the
 * bytes cached by the parent's other threads are not reported, and new
 * threads of the child (which may run on the stacks, and so the TLS, of
 * the parent's threads) join and leave the lists cleanly.
 */
enum { NHOLDERS = 3 };
static pthread_mutex_t hold_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cv = PTHREAD_COND_INITIALIZER;
static int holders_ready, holders_release;

static void *
holder_thread(void *arg) {
	/* Fill this thread's cache, then stay alive across the fork. */
	void *ps[300];
	for (int i = 0; i < 300; i++)
		ps[i] = vmalloc((size_t)(i % 30 + 1) * 40);
	for (int i = 0; i < 300; i++)
		vfree(ps[i]);
	pthread_mutex_lock(&hold_mu);
	holders_ready++;
	pthread_cond_broadcast(&hold_cv);
	while (!holders_release)
		pthread_cond_wait(&hold_cv, &hold_mu);
	pthread_mutex_unlock(&hold_mu);
	return NULL;
}

static size_t
all_arenas_zu(const char *leaf, int *err) {
	char name[96];
	snprintf(name, sizeof(name), "stats.arenas.%u.%s", MALLCTL_ARENAS_ALL,
	    leaf);
	size_t v = 0, sz = sizeof(v);
	*err = mallctl(name, &v, &sz, NULL, 0);
	return v;
}

static unsigned
all_arenas_nthreads(int *err) {
	char name[96];
	snprintf(name, sizeof(name), "stats.arenas.%u.nthreads",
	    MALLCTL_ARENAS_ALL);
	unsigned v = 0;
	size_t sz = sizeof(v);
	*err = mallctl(name, &v, &sz, NULL, 0);
	return v;
}

static void
refresh(void) {
	uint64_t epoch = 1;
	size_t sz = sizeof(epoch);
	mallctl("epoch", &epoch, &sz, &epoch, sizeof(epoch));
}

static void *
child_short_thread(void *arg) {
	for (int i = 0; i < 200; i++)
		vfree(vmalloc((size_t)(i % 40 + 1) * 24));
	return NULL;
}

/* 0: ok; 2: stats missing; 3: nthreads; 4: tcache bytes; 5: thread. */
static int
child_tcache_lists(void) {
	alarm(20);
	int err, rc = 0;
	if (mallctl("thread.tcache.flush", NULL, NULL, NULL, 0) != 0)
		return 2;
	refresh();
	unsigned nthreads = all_arenas_nthreads(&err);
	if (err != 0)
		return 2;
	if (nthreads != 1) {
		test_msg("child: %u threads bound to arenas, want 1\n",
		    nthreads);
		rc = 3;
	}
	size_t bytes = all_arenas_zu("tcache_bytes", &err);
	if (err != 0)
		return 2;
	if (bytes != 0) {
		test_msg("child: %zu bytes reported in tcaches after flushing "
		    "the only thread's cache\n", bytes);
		if (rc == 0)
			rc = 4;
	}
	/* Threads of the child come and go (a hang here is a failure by
	 * the alarm). */
	for (int i = 0; i < 2 * NHOLDERS; i++) {
		pthread_t th;
		if (pthread_create(&th, NULL, child_short_thread, NULL) != 0)
			return 5;
		pthread_join(th, NULL);
	}
	if (mallctl("thread.tcache.flush", NULL, NULL, NULL, 0) != 0)
		return 2;
	refresh();
	size_t bytes2 = all_arenas_zu("tcache_bytes", &err);
	unsigned nthreads2 = all_arenas_nthreads(&err);
	if (nthreads2 != 1 && rc == 0) {
		test_msg("child, after its own threads: %u bound threads\n",
		    nthreads2);
		rc = 3;
	}
	if (bytes2 != 0 && rc == 0) {
		test_msg("child, after its own threads: %zu cached bytes\n",
		    bytes2);
		rc = 4;
	}
	return rc;
}

TEST(fork_child_sees_only_its_thread) {
	bool stats = false;
	size_t sz = sizeof(stats);
	if (mallctl("config.stats", &stats, &sz, NULL, 0) != 0 || !stats)
		test_skip("config.stats is off");
	int err;
	refresh();
	all_arenas_zu("tcache_bytes", &err);
	if (err != 0)
		test_skip("stats.arenas.<i>.tcache_bytes is not available");
	pthread_t th[NHOLDERS];
	holders_ready = holders_release = 0;
	for (int i = 0; i < NHOLDERS; i++) {
		assert_d_eq(pthread_create(&th[i], NULL, holder_thread, NULL),
		    0, "");
	}
	pthread_mutex_lock(&hold_mu);
	while (holders_ready < NHOLDERS)
		pthread_cond_wait(&hold_cv, &hold_mu);
	pthread_mutex_unlock(&hold_mu);
	refresh();
	size_t parent_bytes = all_arenas_zu("tcache_bytes", &err);
	unsigned parent_threads = all_arenas_nthreads(&err);

	pid_t pid = fork();
	if (pid == 0)
		_exit(child_tcache_lists());
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&hold_mu);
	holders_release = 1;
	pthread_cond_broadcast(&hold_cv);
	pthread_mutex_unlock(&hold_mu);
	for (int i = 0; i < NHOLDERS; i++)
		pthread_join(th[i], NULL);

	expect_true(parent_bytes > 0, "the parent's threads cache nothing: "
	    "the test proves nothing");
	expect_true(parent_threads >= NHOLDERS + 1, "parent: %u bound threads",
	    parent_threads);
	if (WIFSIGNALED(status)) {
		test_fail_at(__FILE__, __LINE__, "child killed by signal %d%s",
		    WTERMSIG(status), WTERMSIG(status) == SIGALRM ?
		    " (hang)" : "");
		return;
	}
	expect_d_eq(WEXITSTATUS(status), 0, "child: 3 = arenas count the "
	    "parent's threads, 4 = the tcache lists still hold the parent's "
	    "caches, 5 = pthread_create failed");
}

int
main(void) {
	return test_run(
	    TEST_CASE(fork_while_creating_arena),
	    TEST_CASE(fork_busy_threads),
	    TEST_CASE(fork_child_sees_only_its_thread));
}
