/*
 * Shared helpers for the allocator benchmark workloads in bench/.
 *
 * Every workload is a standalone program that uses only the standard malloc
 * API (plus, optionally, jemalloc's non-standard extensions looked up at run
 * time with dlsym), so the same binary can be run under any allocator with
 * LD_PRELOAD.  Conventions shared by all workloads:
 *
 *   prog [scale] [threads]
 *       scale   "quick", "full" or a positive number (1.0 == full size)
 *       threads optional thread count for the multi-threaded workloads
 *
 *   stdout  "@metric <name> <value> <unit>" lines are collected by the
 *           runner (bench/run.py); "@note <text>" lines are shown as notes.
 *   exit    0 on success, 1 on a wrong result (corruption, bad checksum,
 *           allocation failure), 77 when the workload cannot run here.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BENCH_QUICK_SCALE 0.05

#if defined(__GNUC__)
#define BENCH_NOINLINE __attribute__((noinline))
#define BENCH_UNUSED __attribute__((unused))
/* Make the compiler believe the pointer escapes, so that a malloc/free pair
 * whose memory is only written is never optimised away. */
#define ESCAPE(p) __asm__ volatile("" : : "g"(p) : "memory")
#else
#define BENCH_NOINLINE
#define BENCH_UNUSED
#define ESCAPE(p) ((void)(p))
#endif

static BENCH_UNUSED void
bench_fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fflush(stdout);
	exit(1);
}

static BENCH_UNUSED void *
xmalloc(size_t size)
{
	void *p = malloc(size);
	if (p == NULL)
		bench_fail("malloc(%zu) returned NULL", size);
	return p;
}

static BENCH_UNUSED double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static BENCH_UNUSED double
bench_scale(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "full") == 0)
		return 1.0;
	if (strcmp(argv[1], "quick") == 0)
		return BENCH_QUICK_SCALE;
	double s = atof(argv[1]);
	if (!(s > 0.0) || s > 1000.0) {
		fprintf(stderr, "bad scale '%s' (want quick, full or a number)\n",
		    argv[1]);
		exit(2);
	}
	return s;
}

static BENCH_UNUSED int
bench_threads(int argc, char **argv, int dflt)
{
	if (argc >= 3) {
		int t = atoi(argv[2]);
		if (t < 1 || t > 1024) {
			fprintf(stderr, "bad thread count '%s'\n", argv[2]);
			exit(2);
		}
		return t;
	}
	return dflt;
}

/* Scale an iteration count; never below `min`. */
static BENCH_UNUSED uint64_t
scaled(double scale, uint64_t full, uint64_t min)
{
	double v = (double)full * scale;
	uint64_t n = (uint64_t)v;
	return n < min ? min : n;
}

static BENCH_UNUSED void
metric(const char *name, double value, const char *unit)
{
	printf("@metric %s %.6g %s\n", name, value, unit);
}

static BENCH_UNUSED void
note(const char *fmt, ...)
{
	va_list ap;
	printf("@note ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Deterministic per-thread PRNG (splitmix64 seeding + xorshift64*). */
typedef struct {
	uint64_t s;
} rng_t;

static BENCH_UNUSED uint64_t
mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static BENCH_UNUSED void
rng_init(rng_t *r, uint64_t seed)
{
	r->s = mix64(seed) | 1;
}

static inline uint64_t
rng_next(rng_t *r)
{
	uint64_t x = r->s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [lo, hi]. */
static inline size_t
rng_range(rng_t *r, size_t lo, size_t hi)
{
	return lo + (size_t)((rng_next(r) >> 11) % (uint64_t)(hi - lo + 1));
}

/*
 * Object tagging: the first 8 bytes hold a check word (caller-chosen id mixed
 * with the size) and the last byte holds a hash of it.  Objects must be at
 * least 8 bytes.  Verifying catches use-after-free, double handout of the same
 * block and overlapping allocations cheaply, without memsetting everything.
 */
static inline uint64_t
tag_word(uint64_t id, size_t size)
{
	return mix64(id * 0x100000001b3ULL ^ (uint64_t)size);
}

static inline void
tag_write(void *p, uint64_t id, size_t size)
{
	uint64_t w = tag_word(id, size);
	memcpy(p, &w, 8);
	if (size > 8)
		((unsigned char *)p)[size - 1] = (unsigned char)(w >> 56);
}

static inline int
tag_ok(const void *p, uint64_t id, size_t size)
{
	uint64_t w = tag_word(id, size), got;
	memcpy(&got, p, 8);
	if (got != w)
		return 0;
	if (size > 8 && ((const unsigned char *)p)[size - 1] !=
	    (unsigned char)(w >> 56))
		return 0;
	return 1;
}

/* Peak and current resident set size in KiB from /proc/self/status. */
static BENCH_UNUSED long
proc_status_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t klen = strlen(key);
	long v = -1;
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static BENCH_UNUSED int
ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : (int)n;
}

/* jemalloc-style extensions, resolved at run time (NULL when absent). */
typedef void *(*mallocx_fn)(size_t, int);
typedef void (*dallocx_fn)(void *, int);
typedef void (*sdallocx_fn)(void *, size_t, int);
typedef size_t (*sallocx_fn)(const void *, int);
typedef size_t (*nallocx_fn)(size_t, int);
typedef size_t (*usable_fn)(void *);

static BENCH_UNUSED void *
ext_sym(const char *name)
{
	return dlsym(RTLD_DEFAULT, name);
}

/*
 * Report which shared object actually provides malloc and free, so the
 * runner can check that LD_PRELOAD took effect (ld.so only warns when a
 * preload cannot be opened, and the program would silently run on glibc).
 */
__attribute__((constructor)) static void
bench_report_allocator(void)
{
	Dl_info mi, fi;
	void *m = dlsym(RTLD_DEFAULT, "malloc");
	void *f = dlsym(RTLD_DEFAULT, "free");
	if (m != NULL && dladdr(m, &mi) != 0 && mi.dli_fname != NULL)
		printf("@malloc_from %s\n", mi.dli_fname);
	if (f != NULL && dladdr(f, &fi) != 0 && fi.dli_fname != NULL)
		printf("@free_from %s\n", fi.dli_fname);
}

static BENCH_UNUSED void
spawn_threads(pthread_t *t, int n, void *(*fn)(void *), void *args,
    size_t argsize)
{
	for (int i = 0; i < n; i++) {
		int err = pthread_create(&t[i], NULL, fn,
		    (char *)args + (size_t)i * argsize);
		if (err != 0)
			bench_fail("pthread_create: %s", strerror(err));
	}
}

static BENCH_UNUSED void
join_threads(pthread_t *t, int n)
{
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

#endif /* BENCH_COMMON_H */
