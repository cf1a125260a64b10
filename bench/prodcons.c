/*
 * prodcons: producer/consumer through a lock-free single-producer
 * single-consumer ring.
 *
 *   prodcons [scale]
 *
 * The producer allocates objects of 8..1024 bytes, writes a check word (its
 * sequence number and size) at the start and, for objects of 16 bytes or
 * more, a second one at the end, and pushes the pointer into the ring.  The
 * consumer pops objects in order, verifies sequence number, size and both
 * check words, and frees them: every free is a cross-thread free.  Both
 * sides keep a running checksum that must agree at the end.
 */
#include "bench_common.h"
#include <sched.h>
#include <stdatomic.h>

#define RING_SIZE 1024 /* power of two */

static void *ring_buf[RING_SIZE];
static _Atomic uint64_t head; /* next slot the producer writes */
static _Atomic uint64_t tail; /* next slot the consumer reads */
static uint64_t nobjs;
static uint64_t prod_sum, cons_sum;
static uint64_t spins_full, spins_empty;

static inline uint64_t
check_word(uint64_t seq, size_t size)
{
	return (seq << 11) | (uint64_t)size; /* size <= 1024 < 2^11 */
}

static inline void
backoff(unsigned *n)
{
	if (++*n > 64) {
		sched_yield();
		*n = 0;
	} else {
#if defined(__x86_64__) || defined(__i386__)
		__asm__ volatile("pause");
#endif
	}
}

static void *
producer(void *arg)
{
	rng_t r;
	(void)arg;
	rng_init(&r, 4242);
	for (uint64_t seq = 0; seq < nobjs; seq++) {
		size_t size = rng_range(&r, 8, 1024);
		unsigned char *p = malloc(size);
		if (p == NULL)
			bench_fail("malloc(%zu) returned NULL", size);
		uint64_t w = check_word(seq, size);
		memcpy(p, &w, 8);
		if (size >= 16) {
			uint64_t w2 = ~w;
			memcpy(p + size - 8, &w2, 8);
		}
		prod_sum += w;
		uint64_t h = atomic_load_explicit(&head, memory_order_relaxed);
		unsigned n = 0;
		while (h - atomic_load_explicit(&tail, memory_order_acquire) >=
		    RING_SIZE) {
			spins_full++;
			backoff(&n);
		}
		ring_buf[h & (RING_SIZE - 1)] = p;
		atomic_store_explicit(&head, h + 1, memory_order_release);
	}
	return NULL;
}

static void *
consumer(void *arg)
{
	rng_t r; /* replays the producer's size sequence */
	(void)arg;
	rng_init(&r, 4242);
	for (uint64_t seq = 0; seq < nobjs; seq++) {
		uint64_t t = atomic_load_explicit(&tail, memory_order_relaxed);
		unsigned n = 0;
		while (atomic_load_explicit(&head, memory_order_acquire) == t) {
			spins_empty++;
			backoff(&n);
		}
		unsigned char *p = ring_buf[t & (RING_SIZE - 1)];
		atomic_store_explicit(&tail, t + 1, memory_order_release);
		size_t size = rng_range(&r, 8, 1024);
		uint64_t w, want = check_word(seq, size);
		memcpy(&w, p, 8);
		if (w != want)
			bench_fail("object %llu: check word %llx, want %llx",
			    (unsigned long long)seq, (unsigned long long)w,
			    (unsigned long long)want);
		if (size >= 16) {
			uint64_t w2;
			memcpy(&w2, p + size - 8, 8);
			if (w2 != ~want)
				bench_fail("object %llu: tail corrupted",
				    (unsigned long long)seq);
		}
		cons_sum += w;
		free(p);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	double scale = bench_scale(argc, argv);
	pthread_t tp, tc;
	nobjs = scaled(scale, 4000000, 20000);
	double t0 = now_s();
	if (pthread_create(&tc, NULL, consumer, NULL) != 0 ||
	    pthread_create(&tp, NULL, producer, NULL) != 0)
		bench_fail("pthread_create failed");
	pthread_join(tp, NULL);
	pthread_join(tc, NULL);
	double dt = now_s() - t0;
	if (prod_sum != cons_sum)
		bench_fail("checksums differ: produced %llx consumed %llx",
		    (unsigned long long)prod_sum, (unsigned long long)cons_sum);
	metric("throughput", (double)nobjs / dt / 1e6, "Mobj/s");
	metric("ring_full_spins_per_obj", (double)spins_full / (double)nobjs, "");
	printf("prodcons OK: %llu objects, checksum %llx\n",
	    (unsigned long long)nobjs, (unsigned long long)cons_sum);
	return 0;
}
