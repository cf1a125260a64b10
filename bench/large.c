/*
 * large: large allocations (64 KiB .. 32 MiB) and realloc growth of large
 * blocks.
 *
 *   large [scale]
 *
 * ring    LIVE slots hold large blocks; each step frees a random slot's block
 *         and allocates a new one of a log-uniform random size in
 *         [64 KiB, 32 MiB].  One 8-byte tag is written in every 4 KiB page
 *         (so every page is really used) and checked before the free.
 * grow    A block starts at 64 KiB and is grown with realloc by 1.25x until
 *         it reaches 32 MiB; after every realloc all tags of the old part
 *         must have been preserved, then the new part is tagged.
 * Each part's time is reported; the allocators' policies for returning
 * large blocks to the OS show up both in time (page faults) and peak RSS.
 */
#include "bench_common.h"
#include <math.h>

#define KiB ((size_t)1024)
#define MiB (1024 * KiB)
#define MINSZ (64 * KiB)
#define MAXSZ (32 * MiB)
#define LIVE 8
#define STRIDE 4096

static inline uint64_t
page_tag(uint64_t id, size_t off)
{
	return mix64(id * 0x9e3779b97f4a7c15ULL + off);
}

static void
tag_range(unsigned char *p, uint64_t id, size_t from, size_t to)
{
	/* Tags at every STRIDE-aligned offset `off` >= from with
	 * off + 16 <= to (so they never overlap the end tag), and an end tag
	 * at to - 8. */
	size_t off = (from + STRIDE - 1) / STRIDE * STRIDE;
	for (; off + 16 <= to; off += STRIDE) {
		uint64_t t = page_tag(id, off);
		memcpy(p + off, &t, 8);
	}
	uint64_t t = page_tag(id, to - 8) ^ 1;
	memcpy(p + to - 8, &t, 8);
}

static void
check_range(const unsigned char *p, uint64_t id, size_t size,
    const char *where)
{
	for (size_t off = 0; off + 16 <= size; off += STRIDE) {
		uint64_t t;
		memcpy(&t, p + off, 8);
		if (t != page_tag(id, off))
			bench_fail("%s: block %llu (%zu B) corrupted at %zu", where,
			    (unsigned long long)id, size, off);
	}
}

static void
check_end(const unsigned char *p, uint64_t id, size_t size, const char *where)
{
	uint64_t t;
	memcpy(&t, p + size - 8, 8);
	if (t != (page_tag(id, size - 8) ^ 1))
		bench_fail("%s: block %llu end corrupted", where,
		    (unsigned long long)id);
}

static size_t
log_uniform(rng_t *r)
{
	double u = (double)(rng_next(r) >> 11) / 9007199254740992.0;
	double lo = log((double)MINSZ), hi = log((double)MAXSZ);
	size_t sz = (size_t)exp(lo + u * (hi - lo));
	if (sz < MINSZ)
		sz = MINSZ;
	if (sz > MAXSZ)
		sz = MAXSZ;
	return sz & ~(size_t)7; /* keep the end tag 8-byte aligned */
}

int
main(int argc, char **argv)
{
	double scale = bench_scale(argc, argv);
	uint64_t steps = scaled(scale, 600, 30);
	uint64_t grows = scaled(scale, 16, 2);
	unsigned char *blk[LIVE] = {0};
	size_t sz[LIVE] = {0};
	uint64_t ids[LIVE] = {0};
	uint64_t id = 1, bytes = 0;
	rng_t r;
	rng_init(&r, 31337);

	double t0 = now_s();
	for (uint64_t s = 0; s < steps + LIVE; s++) {
		int i = s < LIVE ? (int)s : (int)(rng_next(&r) % LIVE);
		if (blk[i] != NULL) {
			check_range(blk[i], ids[i], sz[i], "ring");
			check_end(blk[i], ids[i], sz[i], "ring");
			free(blk[i]);
		}
		sz[i] = log_uniform(&r);
		blk[i] = xmalloc(sz[i]);
		ids[i] = id++;
		tag_range(blk[i], ids[i], 0, sz[i]);
		bytes += sz[i];
	}
	for (int i = 0; i < LIVE; i++) {
		check_range(blk[i], ids[i], sz[i], "ring final");
		free(blk[i]);
	}
	double t_ring = now_s() - t0;

	uint64_t reallocs = 0;
	t0 = now_s();
	for (uint64_t g = 0; g < grows; g++) {
		uint64_t bid = id++;
		size_t cur = MINSZ;
		unsigned char *p = xmalloc(cur);
		tag_range(p, bid, 0, cur);
		while (cur < MAXSZ) {
			size_t nsz = (cur + cur / 4) & ~(size_t)7;
			if (nsz > MAXSZ)
				nsz = MAXSZ;
			unsigned char *q = realloc(p, nsz);
			if (q == NULL)
				bench_fail("realloc(%zu) returned NULL", nsz);
			check_range(q, bid, cur, "grow");
			check_end(q, bid, cur, "grow");
			/* Offsets >= cur - 15 were not tagged yet. */
			tag_range(q, bid, cur - 15, nsz);
			p = q;
			cur = nsz;
			reallocs++;
		}
		check_range(p, bid, cur, "grow final");
		check_end(p, bid, cur, "grow final");
		free(p);
	}
	double t_grow = now_s() - t0;

	metric("ring_s", t_ring, "s");
	metric("ring_alloc_rate", (double)bytes / t_ring / (double)(1 << 30),
	    "GiB/s");
	metric("grow_s", t_grow, "s");
	metric("grow_us_per_realloc", t_grow * 1e6 / (double)reallocs, "us");
	printf("large OK: %llu blocks (%.1f GiB), %llu reallocs\n",
	    (unsigned long long)(steps + LIVE), (double)bytes / (double)(1 << 30),
	    (unsigned long long)reallocs);
	return 0;
}
