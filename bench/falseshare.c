/*
 * falseshare: allocator-induced false sharing (in the style of Hoard's
 * cache-thrash and cache-scratch tests).
 *
 *   falseshare [scale] [threads]     (threads default: number of CPUs, >= 2)
 *
 * active  Every thread repeatedly allocates a small object, writes each of
 *         its bytes WRITES times in a tight loop, checks the values and frees
 *         it.  If the allocator hands two threads objects on one cache line,
 *         the writes ping-pong the line between cores and the phase is slow.
 * passive The main thread allocates one small object per thread back to back
 *         (so they are likely neighbours) and gives one to each thread, which
 *         frees it and then loops like the active phase.  An allocator that
 *         lets a thread reuse memory freed into it from another thread's
 *         cache line shows false sharing here.
 * The program reports the time of each phase; the runner's wall time is the
 * sum plus thread start-up.
 */
#include "bench_common.h"

#define OBJSZ 8
#define WRITES 500

typedef struct {
	int idx;
	uint64_t iters;
	void *given; /* passive phase: object allocated by main */
	uint64_t sum;
	char pad[64];
} targ_t;

static void
hammer(targ_t *a)
{
	for (uint64_t it = 0; it < a->iters; it++) {
		volatile unsigned char *p = malloc(OBJSZ);
		if (p == NULL)
			bench_fail("malloc failed");
		for (int k = 0; k < OBJSZ; k++)
			p[k] = 0;
		for (int w = 0; w < WRITES; w++)
			for (int k = 0; k < OBJSZ; k++)
				p[k] = (unsigned char)(p[k] + 1);
		for (int k = 0; k < OBJSZ; k++) {
			if (p[k] != (unsigned char)WRITES)
				bench_fail("thread %d: byte %d is %u, want %u",
				    a->idx, k, p[k], (unsigned)(unsigned char)WRITES);
			a->sum += p[k];
		}
		free((void *)p);
	}
}

static void *
active(void *arg)
{
	hammer(arg);
	return NULL;
}

static void *
passive(void *arg)
{
	targ_t *a = arg;
	unsigned char *g = a->given;
	if (g[0] != (unsigned char)a->idx)
		bench_fail("passive: given object of thread %d corrupted", a->idx);
	free(g);
	hammer(a);
	return NULL;
}

int
main(int argc, char **argv)
{
	double scale = bench_scale(argc, argv);
	int dflt = ncpus() < 2 ? 2 : ncpus();
	int nt = bench_threads(argc, argv, dflt);
	uint64_t iters = scaled(scale, 200000, 1000);
	pthread_t *th = xmalloc(sizeof(pthread_t) * (size_t)nt);
	targ_t *args = calloc((size_t)nt, sizeof(targ_t));
	uint64_t total = 0;
	if (args == NULL)
		bench_fail("calloc failed");

	for (int i = 0; i < nt; i++) {
		args[i].idx = i;
		args[i].iters = iters;
	}
	double t0 = now_s();
	spawn_threads(th, nt, active, args, sizeof(targ_t));
	join_threads(th, nt);
	double t_active = now_s() - t0;
	for (int i = 0; i < nt; i++) {
		total += args[i].sum;
		args[i].sum = 0;
		args[i].given = xmalloc(OBJSZ);
		((unsigned char *)args[i].given)[0] = (unsigned char)i;
	}
	t0 = now_s();
	spawn_threads(th, nt, passive, args, sizeof(targ_t));
	join_threads(th, nt);
	double t_passive = now_s() - t0;
	for (int i = 0; i < nt; i++)
		total += args[i].sum;

	uint64_t want = 2ULL * (uint64_t)nt * iters * OBJSZ *
	    (uint64_t)(unsigned char)WRITES;
	if (total != want)
		bench_fail("checksum %llu != %llu", (unsigned long long)total,
		    (unsigned long long)want);
	metric("threads", nt, "");
	metric("active_s", t_active, "s");
	metric("passive_s", t_passive, "s");
	printf("falseshare OK: %d threads x %llu objects x %d writes\n", nt,
	    (unsigned long long)iters, WRITES);
	free(args);
	free(th);
	return 0;
}
