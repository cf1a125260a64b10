/*
 * malloc_usable_size(): NULL, and the exact size classes of facts §5
 * (the first 40 from the table, the rest from the generation rule).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"
#include "test_alloc.h"

/* Facts §5.2 (36 small bins) and §5.3 (first large classes). */
static const size_t table_classes[40] = {
	8, 16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448,
	512, 640, 768, 896, 1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584,
	4096, 5120, 6144, 7168, 8192, 10240, 12288, 14336,
	16384, 20480, 24576, 28672,
};

TEST(usable_size_null) {
	expect_zu_eq(malloc_usable_size(NULL), 0, "malloc_usable_size(NULL)");
}

TEST(generator_matches_table) {
	size_t gen[40];
	size_t n = gen_classes(gen, 40, SIZE_MAX);
	assert_zu_eq(n, 40, "generated class count");
	for (int i = 0; i < 40; i++) {
		expectf(gen[i] == table_classes[i], "class %d: rule %zu, table "
		    "%zu", i, gen[i], table_classes[i]);
	}
}

/* Every size from 1 to the 40th class maps to the table's class. */
TEST(first_40_classes_every_size) {
	size_t cls = 0;
	for (size_t s = 1; s <= table_classes[39]; s++) {
		while (table_classes[cls] < s)
			cls++;
		void *p = escape(malloc(opaque(s)));
		assertf(p != NULL, "malloc(%zu) failed", s);
		size_t u = malloc_usable_size(p);
		if (u != table_classes[cls]) {
			expectf(false, "malloc_usable_size(malloc(%zu)) = %zu, "
			    "expected %zu", s, u, table_classes[cls]);
		}
		free(p);
	}
}

/* The explicit boundaries of the first 40 classes. */
TEST(first_40_classes_boundaries) {
	static const struct { size_t lo, hi, cls; } ranges[] = {
		{1, 8, 8}, {9, 16, 16}, {17, 32, 32}, {33, 48, 48},
		{49, 64, 64}, {65, 80, 80}, {81, 96, 96}, {97, 112, 112},
		{113, 128, 128}, {129, 160, 160}, {161, 192, 192},
		{193, 224, 224}, {225, 256, 256}, {257, 320, 320},
		{321, 384, 384}, {385, 448, 448}, {449, 512, 512},
		{513, 640, 640}, {641, 768, 768}, {769, 896, 896},
		{897, 1024, 1024}, {1025, 1280, 1280}, {1281, 1536, 1536},
		{1537, 1792, 1792}, {1793, 2048, 2048}, {2049, 2560, 2560},
		{2561, 3072, 3072}, {3073, 3584, 3584}, {3585, 4096, 4096},
		{4097, 5120, 5120}, {5121, 6144, 6144}, {6145, 7168, 7168},
		{7169, 8192, 8192}, {8193, 10240, 10240},
		{10241, 12288, 12288}, {12289, 14336, 14336},
		{14337, 16384, 16384}, {16385, 20480, 20480},
		{20481, 24576, 24576}, {24577, 28672, 28672},
	};
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		size_t probe[3] = {ranges[i].lo, ranges[i].hi,
		    (ranges[i].lo + ranges[i].hi) / 2};
		for (int k = 0; k < 3; k++) {
			void *p = escape(malloc(opaque(probe[k])));
			assertf(p != NULL, "malloc(%zu) failed", probe[k]);
			size_t u = malloc_usable_size(p);
			expectf(u == ranges[i].cls, "malloc_usable_size(malloc("
			    "%zu)) = %zu, expected %zu", probe[k], u,
			    ranges[i].cls);
			free(p);
		}
	}
	/* malloc(0) is malloc(1): the 8-byte class. */
	void *p = escape(malloc(opaque(0)));
	assertf(p != NULL, "malloc(0) failed");
	expect_zu_eq(malloc_usable_size(p), 8, "malloc(0) usable size");
	free(p);
}

/* Large classes up to 64 MiB: class-1, class and class+1. */
TEST(large_classes) {
	static size_t cls[200];
	size_t n = gen_classes(cls, 200, (size_t)64 << 20);
	for (size_t i = 36; i + 1 < n; i++) {
		size_t probe[3] = {cls[i] - 1, cls[i], cls[i] + 1};
		size_t want[3] = {cls[i], cls[i], cls[i + 1]};
		for (int k = 0; k < 3; k++) {
			void *p = escape(malloc(opaque(probe[k])));
			assertf(p != NULL, "malloc(%zu) failed", probe[k]);
			size_t u = malloc_usable_size(p);
			expectf(u == want[k], "malloc_usable_size(malloc(%zu)) = "
			    "%zu, expected %zu", probe[k], u, want[k]);
			free(p);
		}
	}
}

/* The other allocation functions report usable sizes >= the request. */
TEST(other_allocators) {
	void *p = escape(calloc(opaque(3), opaque(33)));
	assertf(p != NULL, "calloc failed");
	expect_zu_eq(malloc_usable_size(p), 112, "calloc(3, 33)");
	p = escape(realloc(p, opaque(5000)));
	assertf(p != NULL, "realloc failed");
	expect_zu_eq(malloc_usable_size(p), 5120, "realloc(p, 5000)");
	p = escape(realloc(p, opaque(20)));
	assertf(p != NULL, "realloc failed");
	expect_zu_eq(malloc_usable_size(p), 32, "realloc(p, 20)");
	free(p);

	void *q = NULL;
	int r = posix_memalign(&q, opaque(64), opaque(10));
	assertf(r == 0 && q != NULL, "posix_memalign failed");
	expect_zu_eq(malloc_usable_size(q), 64, "posix_memalign(64, 10)");
	free(q);
	r = posix_memalign(&q, opaque(32), opaque(100));
	assertf(r == 0 && q != NULL, "posix_memalign failed");
	expect_zu_eq(malloc_usable_size(q), 128, "posix_memalign(32, 100)");
	free(q);
	q = escape(aligned_alloc(opaque(4096), opaque(100)));
	assertf(q != NULL, "aligned_alloc failed");
	expect_zu_eq(malloc_usable_size(q), 16384,
	    "aligned_alloc(4096, 100) is a large class");
	free(q);
	q = escape(aligned_alloc(opaque(16), opaque(100)));
	assertf(q != NULL, "aligned_alloc failed");
	expect_zu_eq(malloc_usable_size(q), 112, "aligned_alloc(16, 100)");
	free(q);
}

/* The usable size stays constant while the block lives. */
TEST(stable_while_live) {
	enum { N = 500 };
	static void *ps[N];
	static size_t us[N];
	for (int i = 0; i < N; i++) {
		size_t s = (size_t)(i * 131 % 40000) + 1;
		ps[i] = escape(malloc(opaque(s)));
		assertf(ps[i] != NULL, "malloc(%zu) failed", s);
		us[i] = malloc_usable_size(ps[i]);
		memset(ps[i], 0x42, us[i]);
	}
	for (int i = 0; i < N; i++) {
		expectf(malloc_usable_size(ps[i]) == us[i], "block %d usable "
		    "size changed from %zu to %zu", i, us[i],
		    malloc_usable_size(ps[i]));
		free(ps[i]);
	}
}

int
main(void) {
	return test_run(
	    TEST_CASE(usable_size_null),
	    TEST_CASE(generator_matches_table),
	    TEST_CASE(first_40_classes_every_size),
	    TEST_CASE(first_40_classes_boundaries),
	    TEST_CASE(large_classes),
	    TEST_CASE(other_allocators),
	    TEST_CASE(stable_while_live));
}
