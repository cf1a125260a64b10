/*
 * larson: server simulation in the style of Larson & Krishnan's benchmark.
 *
 *   larson [scale] [threads]      (threads default: 2 x CPUs, at least 4)
 *
 * Every thread owns an array of SLOTS objects.  Each step it replaces a random
 * slot with a new object of 16..1024 bytes (checking the old one's tag before
 * freeing it).  Every HANDOFF_EVERY steps it detaches a batch of its objects
 * and hands them to the next thread's inbox; threads drain their inbox
 * (checking and freeing objects another thread allocated) between steps.
 * The work is a fixed number of steps per thread, so runs are comparable.
 * At the end the number of frees must equal the number of allocations.
 */
#include "bench_common.h"

#define SLOTS 1000
#define HANDOFF_EVERY 256
#define HANDOFF_BATCH 32
#define MINSZ 16
#define MAXSZ 1024

/* Every object starts with this header (so objects are at least 25 bytes);
 * its last byte holds a hash of the id.  `next` links handed-off objects in
 * the receiving thread's inbox. */
typedef struct obj {
	struct obj *next; /* used only while in an inbox */
	uint64_t id;
	uint64_t size;
} obj_hdr_t;

typedef struct {
	pthread_mutex_t lock;
	obj_hdr_t *head;
	char pad[64];
} inbox_t;

typedef struct {
	int idx;
	int nthreads;
	uint64_t steps;
	uint64_t allocs, frees, remote_frees;
	char pad[64];
} targ_t;

static inbox_t *inboxes;

static inline void
obj_init(obj_hdr_t *o, uint64_t id, size_t size)
{
	o->next = NULL;
	o->id = id;
	o->size = size;
	((unsigned char *)o)[size - 1] = (unsigned char)(mix64(id) >> 7);
}

static inline void
obj_check(const obj_hdr_t *o, const char *where)
{
	size_t size = (size_t)o->size;
	if (size <= sizeof(obj_hdr_t) || size > MAXSZ)
		bench_fail("%s: bad size %zu in object header", where, size);
	if (((const unsigned char *)o)[size - 1] !=
	    (unsigned char)(mix64(o->id) >> 7))
		bench_fail("%s: object %llu tail corrupted", where,
		    (unsigned long long)o->id);
}

static void
drain(targ_t *a)
{
	inbox_t *in = &inboxes[a->idx];
	pthread_mutex_lock(&in->lock);
	obj_hdr_t *o = in->head;
	in->head = NULL;
	pthread_mutex_unlock(&in->lock);
	while (o != NULL) {
		obj_hdr_t *n = o->next;
		obj_check(o, "inbox");
		free(o);
		a->frees++;
		a->remote_frees++;
		o = n;
	}
}

static void *
worker(void *arg)
{
	targ_t *a = arg;
	obj_hdr_t **slots = calloc(SLOTS, sizeof(*slots));
	rng_t r;
	uint64_t id = (uint64_t)a->idx << 40;
	if (slots == NULL)
		bench_fail("calloc failed");
	rng_init(&r, 1000 + (uint64_t)a->idx);
	for (int i = 0; i < SLOTS; i++) {
		size_t sz = rng_range(&r, MINSZ, MAXSZ);
		if (sz <= sizeof(obj_hdr_t))
			sz = sizeof(obj_hdr_t) + 1;
		slots[i] = xmalloc(sz);
		obj_init(slots[i], id++, sz);
		a->allocs++;
	}
	for (uint64_t s = 0; s < a->steps; s++) {
		uint64_t x = rng_next(&r);
		int i = (int)(x % SLOTS);
		size_t sz = MINSZ + (size_t)((x >> 16) % (MAXSZ - MINSZ + 1));
		if (sz <= sizeof(obj_hdr_t))
			sz = sizeof(obj_hdr_t) + 1;
		if (slots[i] != NULL) {
			obj_check(slots[i], "slot");
			free(slots[i]);
			a->frees++;
		}
		slots[i] = xmalloc(sz);
		obj_init(slots[i], id++, sz);
		a->allocs++;
		if (s % HANDOFF_EVERY == HANDOFF_EVERY - 1) {
			/* Hand a batch of live objects to the next thread. */
			obj_hdr_t *head = NULL, *tail = NULL;
			for (int k = 0; k < HANDOFF_BATCH; k++) {
				int j = (int)(rng_next(&r) % SLOTS);
				if (slots[j] == NULL)
					continue;
				obj_hdr_t *o = slots[j];
				slots[j] = NULL;
				o->next = NULL;
				if (tail == NULL)
					head = o;
				else
					tail->next = o;
				tail = o;
			}
			if (head != NULL) {
				inbox_t *in = &inboxes[(a->idx + 1) % a->nthreads];
				pthread_mutex_lock(&in->lock);
				tail->next = in->head;
				in->head = head;
				pthread_mutex_unlock(&in->lock);
			}
			drain(a);
		}
	}
	drain(a);
	for (int i = 0; i < SLOTS; i++) {
		if (slots[i] != NULL) {
			obj_check(slots[i], "final");
			free(slots[i]);
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
	int dflt = 2 * ncpus() < 4 ? 4 : 2 * ncpus();
	int nt = bench_threads(argc, argv, dflt);
	uint64_t steps = scaled(scale, 10000000, 20000) / (uint64_t)nt;
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

	/* Objects handed to a thread after its last drain are freed here. */
	uint64_t allocs = 0, frees = 0, remote = 0, late = 0;
	for (int i = 0; i < nt; i++) {
		obj_hdr_t *o = inboxes[i].head;
		while (o != NULL) {
			obj_hdr_t *n = o->next;
			obj_check(o, "late inbox");
			free(o);
			late++;
			o = n;
		}
		allocs += args[i].allocs;
		frees += args[i].frees;
		remote += args[i].remote_frees;
	}
	frees += late;
	if (allocs != frees)
		bench_fail("allocations %llu != frees %llu",
		    (unsigned long long)allocs, (unsigned long long)frees);
	if (remote == 0 && nt > 1)
		bench_fail("no cross-thread frees happened");
	metric("threads", nt, "");
	metric("throughput", (double)allocs / dt / 1e6, "Mops/s");
	metric("remote_free_share", 100.0 * (double)(remote + late) /
	    (double)frees, "%");
	printf("larson OK: %d threads, %llu allocations, %llu freed by another thread\n",
	    nt, (unsigned long long)allocs, (unsigned long long)(remote + late));
	free(th);
	free(args);
	free(inboxes);
	return 0;
}
