/*
 * frag: fragmentation trace.  Phases of allocation and partial frees, with
 * peak RSS (VmHWM from /proc/self/status) compared against the peak number of
 * live bytes the program itself tracks.
 *
 *   frag [scale]          (full scale: B = 128 MiB)
 *
 *   1. allocate small objects (16..512 B) until B/2 bytes are live
 *   2. free every second object in allocation order (holes everywhere)
 *   3. allocate medium objects (1..16 KiB), another B/2 bytes
 *   4. free a random 90% of all live objects
 *   5. allocate small objects of another mix (64..1024 B), B/4 bytes
 *   6. free all but one in 64 of the live objects (survivors pin pages)
 *   7. allocate large-ish objects (32..512 KiB), B/2 bytes
 *   8. free everything
 *
 * Metrics: peak_live_MiB (requested bytes), hwm_MiB (VmHWM minus the RSS
 * the process had before the trace and minus the bookkeeping array, which
 * is mmap'ed), overhead = hwm / peak_live, rss_end_MiB after phase 7
 * against live_end_MiB, and rss_after_free_MiB (memory still resident after
 * everything was freed: retained by the allocator).
 */
#include "bench_common.h"
#include <sys/mman.h>

typedef struct {
	void *p;
	uint32_t size;
	uint32_t id;
} rec_t;

static rec_t *recs;
static size_t nrecs, caprecs, hw_nrecs;
static uint64_t live, peak_live;
static uint32_t next_id = 1;

static void
alloc_until(rng_t *r, uint64_t bytes, size_t lo, size_t hi)
{
	uint64_t target = live + bytes;
	while (live < target) {
		if (nrecs == caprecs)
			bench_fail("record array full");
		size_t sz = rng_range(r, lo, hi);
		void *p = xmalloc(sz);
		rec_t *rc = &recs[nrecs++];
		rc->p = p;
		rc->size = (uint32_t)sz;
		rc->id = next_id++;
		/* Use every byte, as a program would (untouched pages would
		 * not count in RSS and flatter some allocators). */
		memset(p, (int)(rc->id & 0xff), sz);
		tag_write(p, rc->id, sz);
		if (nrecs > hw_nrecs)
			hw_nrecs = nrecs;
		live += sz;
		if (live > peak_live)
			peak_live = live;
	}
}

static void
release(rec_t *rc)
{
	if (!tag_ok(rc->p, rc->id, rc->size))
		bench_fail("object %u (%u B) corrupted", rc->id, rc->size);
	free(rc->p);
	live -= rc->size;
	rc->p = NULL;
}

/* Drop freed records, keeping allocation order. */
static void
compact(void)
{
	size_t j = 0;
	for (size_t i = 0; i < nrecs; i++)
		if (recs[i].p != NULL)
			recs[j++] = recs[i];
	nrecs = j;
}

static double
mib(double kb_or_bytes, int is_kb)
{
	return is_kb ? kb_or_bytes / 1024.0 : kb_or_bytes / 1048576.0;
}

int
main(int argc, char **argv)
{
	double scale = bench_scale(argc, argv);
	uint64_t B = scaled(scale, 128ULL << 20, 4ULL << 20);
	rng_t r;
	rng_init(&r, 2024);

	/* Bookkeeping lives outside the allocator under test. */
	caprecs = (size_t)(B / 64) + 1024;
	recs = mmap(NULL, caprecs * sizeof(rec_t), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (recs == MAP_FAILED)
		bench_fail("mmap failed");
	long base_kb = proc_status_kb("VmRSS");

	alloc_until(&r, B / 2, 16, 512);                       /* 1 */
	for (size_t i = 0; i < nrecs; i += 2)                   /* 2 */
		release(&recs[i]);
	compact();
	alloc_until(&r, B / 2, 1024, 16384);                   /* 3 */
	for (size_t i = 0; i < nrecs; i++)                      /* 4 */
		if (rng_next(&r) % 10 != 0)
			release(&recs[i]);
	compact();
	alloc_until(&r, B / 4, 64, 1024);                      /* 5 */
	for (size_t i = 0; i < nrecs; i++)                      /* 6 */
		if (rng_next(&r) % 64 != 0)
			release(&recs[i]);
	compact();
	alloc_until(&r, B / 2, 32768, 524288);                 /* 7 */
	size_t max_recs = nrecs;
	long rss_end_kb = proc_status_kb("VmRSS");
	uint64_t live_end = live;
	for (size_t i = 0; i < nrecs; i++)                      /* 8 */
		release(&recs[i]);
	compact();
	long hwm_kb = proc_status_kb("VmHWM");
	long rss_free_kb = proc_status_kb("VmRSS");
	if (live != 0)
		bench_fail("live bytes %llu after freeing everything",
		    (unsigned long long)live);
	if (hwm_kb < 0 || base_kb < 0) {
		note("/proc/self/status not readable: RSS metrics skipped");
	} else {
		/* The record array pages touched so far are ours, not the
		 * allocator's: count them out, together with the baseline. */
		double recs_kb = (double)(hw_nrecs * sizeof(rec_t)) / 1024.0;
		double hwm = (double)hwm_kb - (double)base_kb - recs_kb;
		metric("peak_live_MiB", mib((double)peak_live, 0), "MiB");
		metric("hwm_MiB", mib(hwm, 1), "MiB");
		metric("overhead", hwm * 1024.0 / (double)peak_live, "x");
		metric("live_end_MiB", mib((double)live_end, 0), "MiB");
		metric("rss_end_MiB", mib((double)(rss_end_kb - base_kb) - recs_kb,
		    1), "MiB");
		metric("rss_after_free_MiB", mib((double)(rss_free_kb - base_kb) -
		    recs_kb, 1), "MiB");
	}
	printf("frag OK: B=%llu MiB, %u objects, peak live %.1f MiB, %zu left before phase 8\n",
	    (unsigned long long)(B >> 20), next_id - 1,
	    mib((double)peak_live, 0), max_recs);
	munmap(recs, caprecs * sizeof(rec_t));
	return 0;
}
