/*
 * mstress: many-thread churn, in the spirit of mimalloc's mstress.
 *
 *   mstress [scale] [threads]      (threads per generation default: 2 x CPUs)
 *
 * The program runs GENERATIONS generations.  In each generation it creates
 * `threads` threads and joins them.  A thread
 *   - adopts (verifies and frees) the objects the previous generation left
 *     for its index, so memory allocated by threads that have exited is freed
 *     by new threads;
 *   - allocates OBJS objects of mostly small random sizes (8..256 B, with 1 in
 *     32 of 257 B..16 KiB and 1 in 512 of 16..256 KiB), tagging each;
 *   - frees a random half of them as it goes;
 *   - leaves a quarter of its survivors for the next generation and frees
 *     the rest before exiting.
 * Allocation and free counts must balance at the end.
 */
#include "bench_common.h"
#include <stdatomic.h>

#define OBJS 4000

typedef struct {
	void **objs;
	size_t *sizes;
	uint64_t *ids;
	int n;
} bag_t;

typedef struct {
	int idx, gen;
	bag_t in, out;
	uint64_t allocs, frees;
} targ_t;

static size_t
rand_size(rng_t *r)
{
	uint64_t x = rng_next(r);
	if ((x & 511) == 0)
		return rng_range(r, 16385, 262144);
	if ((x & 31) == 0)
		return rng_range(r, 257, 16384);
	return rng_range(r, 8, 256);
}

static void
bag_alloc(bag_t *b, int cap)
{
	b->objs = xmalloc(sizeof(void *) * (size_t)cap);
	b->sizes = xmalloc(sizeof(size_t) * (size_t)cap);
	b->ids = xmalloc(sizeof(uint64_t) * (size_t)cap);
	b->n = 0;
}

static void
bag_free_all(bag_t *b, targ_t *a, const char *where)
{
	for (int i = 0; i < b->n; i++) {
		if (!tag_ok(b->objs[i], b->ids[i], b->sizes[i]))
			bench_fail("%s: object %llu corrupted", where,
			    (unsigned long long)b->ids[i]);
		free(b->objs[i]);
		if (a != NULL)
			a->frees++;
	}
	b->n = 0;
}

static void
bag_release(bag_t *b)
{
	free(b->objs);
	free(b->sizes);
	free(b->ids);
	b->objs = NULL;
	b->sizes = NULL;
	b->ids = NULL;
}

static void *
worker(void *arg)
{
	targ_t *a = arg;
	rng_t r;
	bag_t live;
	uint64_t id = ((uint64_t)a->gen << 40) | ((uint64_t)a->idx << 24);
	rng_init(&r, ((uint64_t)a->gen << 16) ^ (uint64_t)a->idx);

	/* Adopt what the previous generation left behind. */
	bag_free_all(&a->in, a, "adopted");
	bag_release(&a->in);

	bag_alloc(&live, OBJS);
	for (int i = 0; i < OBJS; i++) {
		size_t sz = rand_size(&r);
		void *p = xmalloc(sz);
		tag_write(p, id, sz);
		live.objs[live.n] = p;
		live.sizes[live.n] = sz;
		live.ids[live.n] = id++;
		live.n++;
		a->allocs++;
		/* Free a random live object about every second step. */
		if (rng_next(&r) & 1) {
			int j = (int)(rng_next(&r) % (uint64_t)live.n);
			if (!tag_ok(live.objs[j], live.ids[j], live.sizes[j]))
				bench_fail("live object corrupted");
			free(live.objs[j]);
			a->frees++;
			live.n--;
			live.objs[j] = live.objs[live.n];
			live.sizes[j] = live.sizes[live.n];
			live.ids[j] = live.ids[live.n];
		}
	}
	/* A quarter of the survivors go to the next generation. */
	bag_alloc(&a->out, live.n / 4 + 1);
	int keep = live.n / 4;
	for (int i = 0; i < keep; i++) {
		a->out.objs[i] = live.objs[live.n - 1 - i];
		a->out.sizes[i] = live.sizes[live.n - 1 - i];
		a->out.ids[i] = live.ids[live.n - 1 - i];
	}
	a->out.n = keep;
	live.n -= keep;
	bag_free_all(&live, a, "survivor");
	bag_release(&live);
	return NULL;
}

int
main(int argc, char **argv)
{
	double scale = bench_scale(argc, argv);
	int nt = bench_threads(argc, argv, 2 * ncpus());
	int gens = (int)scaled(scale, 800, 10);
	pthread_t *th = xmalloc(sizeof(pthread_t) * (size_t)nt);
	targ_t *args = calloc((size_t)nt, sizeof(targ_t));
	bag_t *carry = calloc((size_t)nt, sizeof(bag_t));
	uint64_t allocs = 0, frees = 0;
	if (args == NULL || carry == NULL)
		bench_fail("calloc failed");
	for (int i = 0; i < nt; i++)
		bag_alloc(&carry[i], 1);

	double t0 = now_s();
	for (int g = 0; g < gens; g++) {
		for (int i = 0; i < nt; i++) {
			args[i].idx = i;
			args[i].gen = g;
			args[i].allocs = args[i].frees = 0;
			/* Thread i adopts what thread (i+1) of the last
			 * generation left, so ownership moves across threads. */
			args[i].in = carry[(i + 1) % nt];
		}
		spawn_threads(th, nt, worker, args, sizeof(targ_t));
		join_threads(th, nt);
		for (int i = 0; i < nt; i++) {
			carry[i] = args[i].out;
			allocs += args[i].allocs;
			frees += args[i].frees;
		}
	}
	double dt = now_s() - t0;
	targ_t fin = {0};
	for (int i = 0; i < nt; i++) {
		bag_free_all(&carry[i], &fin, "final");
		bag_release(&carry[i]);
	}
	frees += fin.frees;
	if (allocs != frees)
		bench_fail("allocations %llu != frees %llu",
		    (unsigned long long)allocs, (unsigned long long)frees);
	metric("threads_per_generation", nt, "");
	metric("generations", gens, "");
	metric("throughput", (double)allocs / dt / 1e6, "Mallocs/s");
	printf("mstress OK: %d generations x %d threads, %llu allocations\n",
	    gens, nt, (unsigned long long)allocs);
	free(args);
	free(carry);
	free(th);
	return 0;
}
