/*
 * demo: shows the allocator at work.  Allocates across the size classes,
 * from several threads, resizes in place, reads statistics through
 * mallctl and prints malloc_stats_print()'s report.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#define NTHREADS 4
#define NOBJS 20000

static void
write_stdout(void *opaque, const char *s) {
	(void)opaque;
	fputs(s, stdout);
}

static void *
worker(void *arg) {
	unsigned seed = (unsigned)(size_t)arg;
	void *objs[NOBJS];
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < NOBJS; i++) {
			seed = seed * 1103515245 + 12345;
			size_t size = 1 + (seed >> 16) % 2048;
			objs[i] = malloc(size);
			memset(objs[i], i & 0xff, size);
		}
		for (int i = 0; i < NOBJS; i++)
			free(objs[i]);
	}
	unsigned arena;
	size_t sz = sizeof(arena);
	mallctl("thread.arena", &arena, &sz, NULL, 0);
	return (void *)(size_t)arena;
}

int
main(void) {
	printf("jemalloc %s\n\n", JEMALLOC_VERSION);

	printf("Size classes (request -> usable size):\n");
	size_t sizes[] = {1, 8, 9, 17, 24, 100, 1000, 4097, 14336, 14337,
	    100000, 1 << 20, (1 << 20) + 1};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		void *p = malloc(sizes[i]);
		printf("  malloc(%8zu) -> %8zu usable at %p\n", sizes[i],
		    malloc_usable_size(p), p);
		free(p);
	}

	printf("\nIn-place growth of a large allocation with xallocx():\n");
	void *big = mallocx(64 << 10, 0);
	size_t got = xallocx(big, 256 << 10, 0, 0);
	printf("  64 KiB -> asked 256 KiB -> usable %zu (same address: yes)\n",
	    got);
	dallocx(big, 0);

	printf("\n%d threads allocating and freeing %d objects 5 times:\n",
	    NTHREADS, NOBJS);
	pthread_t thds[NTHREADS];
	for (size_t i = 0; i < NTHREADS; i++)
		pthread_create(&thds[i], NULL, worker, (void *)(i + 1));
	for (int i = 0; i < NTHREADS; i++) {
		void *ret;
		pthread_join(thds[i], &ret);
		printf("  thread %d ran on arena %zu\n", i, (size_t)ret);
	}

	uint64_t epoch = 1;
	size_t sz = sizeof(epoch);
	mallctl("epoch", &epoch, &sz, &epoch, sz);
	size_t allocated, active, mapped, resident, metadata, retained;
	sz = sizeof(size_t);
	mallctl("stats.allocated", &allocated, &sz, NULL, 0);
	mallctl("stats.active", &active, &sz, NULL, 0);
	mallctl("stats.metadata", &metadata, &sz, NULL, 0);
	mallctl("stats.resident", &resident, &sz, NULL, 0);
	mallctl("stats.mapped", &mapped, &sz, NULL, 0);
	mallctl("stats.retained", &retained, &sz, NULL, 0);
	printf("\nmallctl: allocated %zu, active %zu, metadata %zu, resident "
	    "%zu, mapped %zu, retained %zu\n\n", allocated, active, metadata,
	    resident, mapped, retained);

	fflush(stdout);
	malloc_stats_print(write_stdout, NULL, "");
	return 0;
}
