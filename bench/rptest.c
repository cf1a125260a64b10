/*
 * rptest: random sizes, random lifetimes and realloc growth, in the spirit
 * of rpmalloc's rptest.
 *
 *   rptest [scale] [threads]      (threads default: number of CPUs, >= 2)
 *
 * Each thread keeps SLOTS slots.  A step picks a random slot:
 *   - empty: allocate an object of a random size (80% 32..512 B,
 *     15% 512 B..8 KiB, 5% 8..64 KiB) with a random lifetime of 1..24
 *     visits;
 *   - live and expired: verify and free it;
 *   - live, otherwise: with probability 1/8 grow it with realloc by
 *     1.25x-2x (to at most 4x its first size and 256 KiB) and check that
 *     the old contents were preserved; else just verify it.
 * Every so often a thread passes a batch of its live objects to the next
 * thread, which frees them (cross-thread frees).
 * Objects carry an id/size header and a pattern at their old and new ends.
 */
#include "bench_common.h"

#define SLOTS 2048
#define MAXGROW (256 * 1024)
#define PASS_EVERY 1024
#define PASS_BATCH 16

typedef struct {
	unsigned char *p;
	size_t size, orig;
	uint64_t id;
	uint32_t ttl;
} slot_t;

typedef struct node {
	struct node *next;
	uint64_t id;
	size_t size;
} node_t; /* header of a passed object */

typedef struct {
	pthread_mutex_t lock;
	node_t *head;
	char pad[64];
} inbox_t;

typedef struct {
	int idx, nthreads;
	uint64_t steps;
	uint64_t allocs, frees, reallocs;
	char pad[64];
} targ_t;

static inbox_t *inboxes;

static size_t
rand_size(rng_t *r)
{
	uint64_t x = rng_next(r) % 100;
	if (x < 80)
		return rng_range(r, 32, 512);
	if (x < 95)
		return rng_range(r, 513, 8192);
	return rng_range(r, 8193, 65536);
}

/* Contents: a node_t header (link, id, size; the link is used only while
 * the object sits in another thread's inbox) and a last byte derived from
 * id and size.  Objects are therefore at least 32 bytes. */
static inline unsigned char
tail_byte(uint64_t id, size_t size)
{
	return (unsigned char)(mix64(id ^ ((uint64_t)size << 32)) >> 13);
}

static inline void
fill(unsigned char *p, uint64_t id, size_t size)
{
	node_t *n = (node_t *)p;
	n->next = NULL;
	n->id = id;
	n->size = size;
	p[size - 1] = tail_byte(id, size);
}

static inline void
verify(const unsigned char *p, uint64_t id, size_t size, const char *where)
{
	const node_t *n = (const node_t *)p;
	if (n->id != id || n->size != size || p[size - 1] != tail_byte(id, size))
		bench_fail("%s: object %llu (%zu B) corrupted", where,
		    (unsigned long long)id, size);
}

static void
drain(targ_t *a)
{
	inbox_t *in = &inboxes[a->idx];
	pthread_mutex_lock(&in->lock);
	node_t *n = in->head;
	in->head = NULL;
	pthread_mutex_unlock(&in->lock);
	while (n != NULL) {
		node_t *next = n->next;
		if (((unsigned char *)n)[n->size - 1] != tail_byte(n->id, n->size))
			bench_fail("passed object %llu corrupted",
			    (unsigned long long)n->id);
		free(n);
		a->frees++;
		n = next;
	}
}

static void *
worker(void *arg)
{
	targ_t *a = arg;
	slot_t *slots = calloc(SLOTS, sizeof(slot_t));
	rng_t r;
	uint64_t id = ((uint64_t)a->idx << 40) + 1;
	if (slots == NULL)
		bench_fail("calloc failed");
	rng_init(&r, 77 + (uint64_t)a->idx);
	for (uint64_t s = 0; s < a->steps; s++) {
		slot_t *sl = &slots[rng_next(&r) % SLOTS];
		if (sl->p == NULL) {
			sl->size = sl->orig = rand_size(&r);
			sl->p = xmalloc(sl->size);
			sl->id = id++;
			sl->ttl = (uint32_t)rng_range(&r, 1, 24);
			fill(sl->p, sl->id, sl->size);
			a->allocs++;
		} else if (--sl->ttl == 0) {
			verify(sl->p, sl->id, sl->size, "free");
			free(sl->p);
			sl->p = NULL;
			a->frees++;
		} else if ((rng_next(&r) & 7) == 0 && sl->size < 4 * sl->orig &&
		    sl->size < MAXGROW) {
			size_t old = sl->size;
			size_t nsz = old + old / 4 + (size_t)(rng_next(&r) %
			    (old * 3 / 4 + 1));
			if (nsz > MAXGROW)
				nsz = MAXGROW;
			verify(sl->p, sl->id, old, "pre-realloc");
			unsigned char *q = realloc(sl->p, nsz);
			if (q == NULL)
				bench_fail("realloc(%zu) returned NULL", nsz);
			/* Old contents, including the old last byte, must
			 * have moved with the block. */
			verify(q, sl->id, old, "realloc");
			sl->p = q;
			sl->size = nsz;
			fill(q, sl->id, nsz);
			a->reallocs++;
		} else {
			verify(sl->p, sl->id, sl->size, "visit");
		}
		if (s % PASS_EVERY == PASS_EVERY - 1) {
			node_t *head = NULL, *tailn = NULL;
			for (int k = 0; k < PASS_BATCH; k++) {
				slot_t *v = &slots[rng_next(&r) % SLOTS];
				if (v->p == NULL)
					continue;
				verify(v->p, v->id, v->size, "pass");
				node_t *n = (node_t *)v->p;
				n->next = NULL;
				if (tailn == NULL)
					head = n;
				else
					tailn->next = n;
				tailn = n;
				v->p = NULL;
			}
			if (head != NULL) {
				inbox_t *in = &inboxes[(a->idx + 1) % a->nthreads];
				pthread_mutex_lock(&in->lock);
				tailn->next = in->head;
				in->head = head;
				pthread_mutex_unlock(&in->lock);
			}
			drain(a);
		}
	}
	drain(a);
	for (int i = 0; i < SLOTS; i++) {
		if (slots[i].p != NULL) {
			verify(slots[i].p, slots[i].id, slots[i].size, "final");
			free(slots[i].p);
			a->frees++;
		}
	}
	free(slots);
	return NULL;
}

int
main(int argc, char **argv)
{
	double scale = bench_scale(argc, argv);
	int dflt = ncpus() < 2 ? 2 : ncpus();
	int nt = bench_threads(argc, argv, dflt);
	uint64_t steps = scaled(scale, 6000000, 30000) / (uint64_t)nt;
	pthread_t *th = xmalloc(sizeof(pthread_t) * (size_t)nt);
	targ_t *args = calloc((size_t)nt, sizeof(targ_t));
	inboxes = calloc((size_t)nt, sizeof(inbox_t));
	if (args == NULL || inboxes == NULL)
		bench_fail("calloc failed");
	for (int i = 0; i < nt; i++) {
		pthread_mutex_init(&inboxes[i].lock, NULL);
		args[i].idx = i;
		args[i].nthreads = nt;
		args[i].steps = steps;
	}
	double t0 = now_s();
	spawn_threads(th, nt, worker, args, sizeof(targ_t));
	join_threads(th, nt);
	double dt = now_s() - t0;
	uint64_t allocs = 0, frees = 0, reallocs = 0;
	for (int i = 0; i < nt; i++) {
		targ_t late = {.idx = i};
		drain(&late);
		frees += late.frees;
		allocs += args[i].allocs;
		frees += args[i].frees;
		reallocs += args[i].reallocs;
	}
	if (allocs != frees)
		bench_fail("allocations %llu != frees %llu",
		    (unsigned long long)allocs, (unsigned long long)frees);
	if (reallocs == 0)
		bench_fail("no reallocs happened");
	metric("threads", nt, "");
	metric("throughput", (double)(nt * steps) / dt / 1e6, "Msteps/s");
	metric("reallocs", (double)reallocs, "");
	printf("rptest OK: %d threads, %llu allocations, %llu reallocs\n", nt,
	    (unsigned long long)allocs, (unsigned long long)reallocs);
	free(args);
	free(th);
	free(inboxes);
	return 0;
}
