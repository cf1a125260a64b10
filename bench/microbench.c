/*
 * microbench: single-threaded allocator fast paths.
 *
 *   microbench [scale]            timed run (all parts below)
 *   microbench cg SIZE|mixed N    callgrind kernel: N malloc/free pairs of
 *                                 SIZE bytes (or N mixed-ring replacements)
 *                                 inside cg_kernel_pairs / cg_kernel_ring,
 *                                 for `valgrind --tool=callgrind
 *                                 --toggle-collect=cg_kernel_*`.
 *
 * Parts of the timed run:
 *   1. malloc/free pairs per size class, 8..4096 B and a few large sizes
 *   2. a ring of 1000 live objects of 8..4096 B, one replaced per step
 *   3. where the allocator exports them (looked up with dlsym):
 *      mallocx vs malloc, free vs dallocx vs sdallocx,
 *      malloc_usable_size vs sallocx vs nallocx
 * Every object is tagged on allocation and checked before it is freed.
 */
#include "bench_common.h"

static const size_t small_sizes[] = {8, 16, 32, 48, 64, 80, 96, 112, 128,
    160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024, 1280, 1536,
    1792, 2048, 2560, 3072, 3584, 4096};
static const size_t large_sizes[] = {8192, 16384, 65536, 262144, 1048576,
    4194304};
#define NSMALL (sizeof(small_sizes) / sizeof(small_sizes[0]))
#define NLARGE (sizeof(large_sizes) / sizeof(large_sizes[0]))
#define RING 1000

static uint64_t checksum;

/* n malloc/free pairs of one size; returns seconds. */
static BENCH_NOINLINE double
pairs(size_t size, uint64_t n)
{
	uint64_t sum = 0, want = 0;
	double t0 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		unsigned char *p = malloc(size);
		if (p == NULL)
			bench_fail("malloc(%zu) returned NULL", size);
		ESCAPE(p);
		p[0] = (unsigned char)i;
		p[size - 1] = (unsigned char)(i >> 3);
		ESCAPE(p);
		sum += p[0] + p[size - 1];
		free(p);
	}
	double dt = now_s() - t0;
	/* All sizes are >= 8, so p[0] and p[size - 1] never alias. */
	for (uint64_t i = 0; i < n; i++)
		want += (unsigned char)i + (unsigned char)(i >> 3);
	if (sum != want)
		bench_fail("pairs(%zu): content checksum %llu != %llu", size,
		    (unsigned long long)sum, (unsigned long long)want);
	checksum += sum;
	return dt;
}

typedef struct {
	void *p;
	size_t size;
	uint64_t id;
} slot_t;

/* Mixed ring: `steps` random replacements among RING live objects. */
static BENCH_NOINLINE double
ring(uint64_t steps, uint64_t seed)
{
	static slot_t slots[RING];
	rng_t r;
	uint64_t id = 1;
	rng_init(&r, seed);
	for (int i = 0; i < RING; i++) {
		size_t sz = rng_range(&r, 8, 4096);
		slots[i].p = xmalloc(sz);
		slots[i].size = sz;
		slots[i].id = id++;
		tag_write(slots[i].p, slots[i].id, sz);
	}
	double t0 = now_s();
	for (uint64_t s = 0; s < steps; s++) {
		uint64_t x = rng_next(&r);
		slot_t *sl = &slots[x % RING];
		if (!tag_ok(sl->p, sl->id, sl->size))
			bench_fail("ring: object %llu (%zu B) corrupted",
			    (unsigned long long)sl->id, sl->size);
		free(sl->p);
		size_t sz = 8 + (size_t)((x >> 20) % 4089);
		sl->p = xmalloc(sz);
		sl->size = sz;
		sl->id = id++;
		tag_write(sl->p, sl->id, sz);
	}
	double dt = now_s() - t0;
	for (int i = 0; i < RING; i++) {
		if (!tag_ok(slots[i].p, slots[i].id, slots[i].size))
			bench_fail("ring: final object corrupted");
		checksum += slots[i].size;
		free(slots[i].p);
	}
	return dt;
}

/* ---- jemalloc extensions --------------------------------------------- */

static void
extensions(double scale)
{
	mallocx_fn mallocx = (mallocx_fn)ext_sym("mallocx");
	dallocx_fn dallocx = (dallocx_fn)ext_sym("dallocx");
	sdallocx_fn sdallocx = (sdallocx_fn)ext_sym("sdallocx");
	sallocx_fn sallocx = (sallocx_fn)ext_sym("sallocx");
	nallocx_fn nallocx = (nallocx_fn)ext_sym("nallocx");
	usable_fn usable = (usable_fn)ext_sym("malloc_usable_size");
	uint64_t n = scaled(scale, 300000, 10000);
	static const size_t sz[] = {16, 128, 1024};
	double t0;

	/* Alloc side: malloc vs mallocx, both freed with free(). */
	if (mallocx != NULL) {
		for (size_t k = 0; k < 3; k++) {
			double tm = pairs(sz[k], n);
			t0 = now_s();
			for (uint64_t i = 0; i < n; i++) {
				unsigned char *p = mallocx(sz[k], 0);
				if (p == NULL)
					bench_fail("mallocx returned NULL");
				ESCAPE(p);
				p[0] = (unsigned char)i;
				checksum += p[0];
				free(p);
			}
			double tx = now_s() - t0;
			char name[64];
			snprintf(name, sizeof(name), "ext_malloc_free_%zu", sz[k]);
			metric(name, tm * 1e9 / (double)n, "ns/pair");
			snprintf(name, sizeof(name), "ext_mallocx_free_%zu", sz[k]);
			metric(name, tx * 1e9 / (double)n, "ns/pair");
		}
	} else {
		note("mallocx not exported by this allocator: mallocx vs malloc skipped");
	}

	/* Free side: free vs dallocx vs sdallocx on malloc'd memory. */
	if (dallocx != NULL || sdallocx != NULL) {
		for (size_t k = 0; k < 3; k++) {
			size_t s = sz[k];
			char name[64];
			if (dallocx != NULL) {
				t0 = now_s();
				for (uint64_t i = 0; i < n; i++) {
					unsigned char *p = xmalloc(s);
					ESCAPE(p);
					p[0] = (unsigned char)i;
					checksum += p[0];
					dallocx(p, 0);
				}
				snprintf(name, sizeof(name), "ext_malloc_dallocx_%zu", s);
				metric(name, (now_s() - t0) * 1e9 / (double)n,
				    "ns/pair");
			}
			if (sdallocx != NULL) {
				t0 = now_s();
				for (uint64_t i = 0; i < n; i++) {
					unsigned char *p = xmalloc(s);
					ESCAPE(p);
					p[0] = (unsigned char)i;
					checksum += p[0];
					sdallocx(p, s, 0);
				}
				snprintf(name, sizeof(name), "ext_malloc_sdallocx_%zu", s);
				metric(name, (now_s() - t0) * 1e9 / (double)n,
				    "ns/pair");
			}
		}
		if (dallocx == NULL)
			note("dallocx not exported: skipped");
		if (sdallocx == NULL)
			note("sdallocx not exported: skipped");
	} else {
		note("dallocx/sdallocx not exported: free vs dallocx vs sdallocx skipped");
	}

	/* Size queries on 1000 live objects. */
	if (usable != NULL) {
		enum { NOBJ = 1000 };
		static void *objs[NOBJ];
		static size_t req[NOBJ];
		rng_t r;
		rng_init(&r, 99);
		for (int i = 0; i < NOBJ; i++) {
			req[i] = rng_range(&r, 1, 4096);
			objs[i] = xmalloc(req[i]);
			tag_write(objs[i], (uint64_t)i, req[i] < 8 ? 8 : req[i]);
		}
		/* The tag needs 8 bytes; re-allocate the tiny ones at >= 8. */
		for (int i = 0; i < NOBJ; i++) {
			if (req[i] < 8) {
				free(objs[i]);
				req[i] = 8;
				objs[i] = xmalloc(8);
				tag_write(objs[i], (uint64_t)i, 8);
			}
		}
		uint64_t reps = scaled(scale, 2000, 50);
		uint64_t su = 0, ss = 0, sn = 0;
		for (int i = 0; i < NOBJ; i++) {
			size_t u = usable(objs[i]);
			if (u < req[i])
				bench_fail("malloc_usable_size %zu < requested %zu",
				    u, req[i]);
			if (sallocx != NULL && sallocx(objs[i], 0) != u)
				bench_fail("sallocx %zu != malloc_usable_size %zu",
				    sallocx(objs[i], 0), u);
			if (nallocx != NULL && sallocx != NULL &&
			    nallocx(req[i], 0) != u)
				bench_fail("nallocx(%zu) %zu != usable size %zu",
				    req[i], nallocx(req[i], 0), u);
		}
		t0 = now_s();
		for (uint64_t k = 0; k < reps; k++)
			for (int i = 0; i < NOBJ; i++) {
				ESCAPE(objs[i]);
				su += usable(objs[i]);
			}
		metric("ext_malloc_usable_size", (now_s() - t0) * 1e9 /
		    (double)(reps * NOBJ), "ns/call");
		if (sallocx != NULL) {
			t0 = now_s();
			for (uint64_t k = 0; k < reps; k++)
				for (int i = 0; i < NOBJ; i++) {
					ESCAPE(objs[i]);
					ss += sallocx(objs[i], 0);
				}
			metric("ext_sallocx", (now_s() - t0) * 1e9 /
			    (double)(reps * NOBJ), "ns/call");
			if (ss != su)
				bench_fail("sallocx total %llu != usable total %llu",
				    (unsigned long long)ss, (unsigned long long)su);
		} else {
			note("sallocx not exported: skipped");
		}
		if (nallocx != NULL) {
			t0 = now_s();
			for (uint64_t k = 0; k < reps; k++)
				for (int i = 0; i < NOBJ; i++) {
					size_t q = req[i];
					ESCAPE(q);
					sn += nallocx(q, 0);
				}
			metric("ext_nallocx", (now_s() - t0) * 1e9 /
			    (double)(reps * NOBJ), "ns/call");
			if (sallocx != NULL && sn != su)
				bench_fail("nallocx total != usable total");
		} else {
			note("nallocx not exported: skipped");
		}
		for (int i = 0; i < NOBJ; i++) {
			if (!tag_ok(objs[i], (uint64_t)i, req[i]))
				bench_fail("size-query object corrupted");
			free(objs[i]);
		}
		checksum += su + ss + sn;
	}
}

/* ---- callgrind kernels -------------------------------------------------- */

BENCH_NOINLINE void cg_kernel_pairs(size_t size, uint64_t n);
BENCH_NOINLINE void cg_kernel_ring(uint64_t n, const uint32_t *ops,
    void **live);

BENCH_NOINLINE void
cg_kernel_pairs(size_t size, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		unsigned char *p = malloc(size);
		ESCAPE(p);
		if (p == NULL)
			bench_fail("malloc returned NULL");
		p[0] = (unsigned char)i;
		ESCAPE(p);
		free(p);
	}
}

/* ops[i]: low 10 bits slot (<1000), high bits the new size. */
BENCH_NOINLINE void
cg_kernel_ring(uint64_t n, const uint32_t *ops, void **live)
{
	for (uint64_t i = 0; i < n; i++) {
		uint32_t op = ops[i];
		uint32_t slot = op & 1023;
		free(live[slot]);
		unsigned char *p = malloc(op >> 10);
		if (p == NULL)
			bench_fail("malloc returned NULL");
		p[0] = (unsigned char)i;
		live[slot] = p;
	}
}

static int
callgrind_mode(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: microbench cg SIZE|mixed N\n");
		return 2;
	}
	uint64_t n = strtoull(argv[3], NULL, 10);
	if (n == 0)
		n = 100000;
	if (strcmp(argv[2], "mixed") == 0) {
		static void *live[RING];
		uint32_t *ops = xmalloc(n * sizeof(uint32_t));
		rng_t r;
		rng_init(&r, 7);
		for (int i = 0; i < RING; i++) {
			live[i] = xmalloc(rng_range(&r, 8, 4096));
			memset(live[i], 0, 8);
		}
		for (uint64_t i = 0; i < n; i++)
			ops[i] = (uint32_t)(rng_range(&r, 0, RING - 1) |
			    (rng_range(&r, 8, 4096) << 10));
		/* Warm-up outside the measured kernel (not collected). */
		for (uint64_t i = 0; i < (n < 20000 ? n : 20000); i++) {
			uint32_t slot = ops[i] & 1023;
			free(live[slot]);
			live[slot] = xmalloc(ops[i] >> 10);
			ESCAPE(live[slot]);
		}
		cg_kernel_ring(n, ops, live);
		for (int i = 0; i < RING; i++)
			free(live[i]);
		free(ops);
	} else {
		size_t size = strtoul(argv[2], NULL, 10);
		if (size == 0) {
			fprintf(stderr, "bad size\n");
			return 2;
		}
		pairs(size, 1000); /* warm-up, not collected */
		cg_kernel_pairs(size, n);
	}
	printf("@note callgrind kernel done (%s x %llu)\n", argv[2],
	    (unsigned long long)n);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "cg") == 0)
		return callgrind_mode(argc, argv);

	double scale = bench_scale(argc, argv);
	uint64_t nsmall = scaled(scale, 600000, 10000);
	uint64_t nlarge = scaled(scale, 20000, 200);
	double total_small = 0.0;
	char name[64];

	/* Warm every size class once before timing. */
	for (size_t k = 0; k < NSMALL; k++)
		pairs(small_sizes[k], 1000);

	for (size_t k = 0; k < NSMALL; k++) {
		double dt = pairs(small_sizes[k], nsmall);
		total_small += dt;
		snprintf(name, sizeof(name), "pair_%zu", small_sizes[k]);
		metric(name, dt * 1e9 / (double)nsmall, "ns/pair");
	}
	metric("pair_small_mean", total_small * 1e9 / (double)(nsmall * NSMALL),
	    "ns/pair");
	for (size_t k = 0; k < NLARGE; k++) {
		double dt = pairs(large_sizes[k], nlarge);
		snprintf(name, sizeof(name), "pair_%zu", large_sizes[k]);
		metric(name, dt * 1e9 / (double)nlarge, "ns/pair");
	}
	uint64_t steps = scaled(scale, 1500000, 40000);
	double dt = ring(steps, 12345);
	metric("ring_mixed_8_4096", dt * 1e9 / (double)steps, "ns/op");

	extensions(scale);

	printf("checksum %llu\n", (unsigned long long)checksum);
	if (checksum == 0)
		bench_fail("checksum is zero");
	printf("microbench OK\n");
	return 0;
}
