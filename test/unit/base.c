/*
 * base: the metadata allocator (facts §6.8): zeroed, aligned, never
 * overlapping memory from b0; the stats; the block-size series of a fresh
 * base (2, 4, 6, 8, 10 MiB ...); base_alloc_extent; base_delete.
 */
#include "jemalloc_internal.h"
#include "sz.h"
#include "extent.h"
#include "extent_mmap.h"
#include "base.h"
#include "pages.h"
#include "tsd.h"

#include "test.h"

#include <stdlib.h>
#include <sys/mman.h>


#define MiB ((size_t)1 << 20)

static tsdn_t *
get_tsdn(void) {
	return tsd_tsdn(tsd_fetch());
}

static uint64_t prng_state = 0x2545f4914f6cdd1dULL;
static uint64_t
prng_next(void) {
	uint64_t x = prng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	prng_state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

typedef struct {
	size_t allocated, resident, mapped, n_thp;
} stats_t;

static stats_t
get_stats(base_t *base) {
	stats_t s;
	base_stats_get(get_tsdn(), base, &s.allocated, &s.resident, &s.mapped,
	    &s.n_thp);
	return s;
}

static void
check_stats_sane(const stats_t *s) {
	if (!config_stats)
		return;
	CHECK(s->allocated <= s->resident, "allocated %zu > resident %zu",
	    s->allocated, s->resident);
	CHECK(s->resident <= s->mapped, "resident %zu > mapped %zu",
	    s->resident, s->mapped);
	CHECK(s->mapped % HUGEPAGE == 0, "mapped %zu not a HUGEPAGE multiple",
	    s->mapped);
	CHECK(s->resident % PAGE == 0, "resident %zu not a page multiple",
	    s->resident);
}

static size_t
count_nonzero(const void *p, size_t n) {
	const unsigned char *b = p;
	size_t nz = 0;
	for (size_t i = 0; i < n; i++)
		nz += b[i] != 0;
	return nz;
}

TEST(test_b0_alignment_zeroed) {
	tsdn_t *tsdn = get_tsdn();
	base_t *b0 = b0get();
	assert_ptr_not_null(b0, "no b0");
	const size_t sizes[] = {1, 7, 16, 24, 100, 4096, 5000, 20000};
	for (size_t align = 16; align <= 4096; align <<= 1) {
		for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			stats_t before = get_stats(b0);
			void *p = base_alloc(tsdn, b0, sizes[i], align);
			CHECK(p != NULL, "base_alloc(%zu, %zu) failed", sizes[i],
			    align);
			if (p == NULL)
				continue;
			CHECK(((uintptr_t)p & (align - 1)) == 0,
			    "base_alloc(%zu, %zu) = %p misaligned", sizes[i], align,
			    p);
			CHECK(count_nonzero(p, sizes[i]) == 0,
			    "base_alloc(%zu, %zu) not zeroed", sizes[i], align);
			memset(p, 0xff, sizes[i]);
			stats_t after = get_stats(b0);
			check_stats_sane(&after);
			if (config_stats) {
				CHECK(after.allocated >= before.allocated + sizes[i],
				    "allocated grew %zu for %zu bytes",
				    after.allocated - before.allocated, sizes[i]);
				CHECK(after.mapped >= before.mapped, "mapped shrank");
				CHECK((after.mapped - before.mapped) % HUGEPAGE == 0,
				    "mapped grew by %zu", after.mapped -
				    before.mapped);
			}
		}
	}
	/* Alignments below the quantum are rounded up to it. */
	for (unsigned i = 0; i < 16; i++) {
		void *p = base_alloc(tsdn, b0, 3, 1);
		CHECK(p != NULL && ((uintptr_t)p & (QUANTUM - 1)) == 0,
		    "base_alloc(3, 1) = %p", p);
	}
}

#define NALLOCS 10000
static unsigned char *ptrs[NALLOCS];
static size_t sizes[NALLOCS];
static unsigned order[NALLOCS];

static int
addr_cmp(const void *a, const void *b) {
	uintptr_t x = (uintptr_t)ptrs[*(const unsigned *)a];
	uintptr_t y = (uintptr_t)ptrs[*(const unsigned *)b];
	return (x > y) - (x < y);
}

static unsigned char
pattern(unsigned i, size_t k) {
	return (unsigned char)(i * 131 + (i >> 8) * 7 + k * 29 + 1);
}

TEST(test_b0_random_no_overlap) {
	tsdn_t *tsdn = get_tsdn();
	base_t *b0 = b0get();
	stats_t prev = get_stats(b0);
	check_stats_sane(&prev);
	for (unsigned i = 0; i < NALLOCS; i++) {
		size_t size = 1 + (size_t)(prng_next() % 1024);
		if (prng_next() % 16 == 0)
			size = 1 + (size_t)(prng_next() % 8192);
		/* Mostly small alignments, sometimes up to a page. */
		unsigned lg = 4;
		while (lg < 12 && prng_next() % 2 == 0)
			lg++;
		size_t align = (size_t)1 << lg;
		unsigned char *p = base_alloc(tsdn, b0, size, align);
		CHECK(p != NULL, "allocation %u failed", i);
		if (p == NULL)
			test_leave();
		CHECK(((uintptr_t)p & (align - 1)) == 0, "allocation %u misaligned",
		    i);
		CHECK(count_nonzero(p, size) == 0, "allocation %u (%zu bytes) "
		    "not zeroed", i, size);
		for (size_t k = 0; k < size; k++)
			p[k] = pattern(i, k);
		ptrs[i] = p;
		sizes[i] = size;
		stats_t s = get_stats(b0);
		check_stats_sane(&s);
		if (config_stats) {
			CHECK(s.allocated >= prev.allocated + size,
			    "allocated grew by %zu for %zu", s.allocated -
			    prev.allocated, size);
			CHECK(s.mapped >= prev.mapped && (s.mapped - prev.mapped) %
			    HUGEPAGE == 0, "mapped %zu -> %zu", prev.mapped,
			    s.mapped);
		}
		prev = s;
	}
	/* No later allocation overwrote an earlier one. */
	for (unsigned i = 0; i < NALLOCS; i++) {
		size_t bad = 0;
		for (size_t k = 0; k < sizes[i]; k++)
			bad += ptrs[i][k] != pattern(i, k);
		CHECK(bad == 0, "allocation %u at %p: %zu bytes overwritten", i,
		    (void *)ptrs[i], bad);
	}
	/* And the ranges are disjoint. */
	for (unsigned i = 0; i < NALLOCS; i++)
		order[i] = i;
	qsort(order, NALLOCS, sizeof(order[0]), addr_cmp);
	for (unsigned i = 1; i < NALLOCS; i++) {
		unsigned a = order[i - 1], b = order[i];
		CHECK(ptrs[a] + sizes[a] <= ptrs[b], "allocations %u [%p+%zu] and "
		    "%u [%p] overlap", a, (void *)ptrs[a], sizes[a], b,
		    (void *)ptrs[b]);
	}
}

/* Whether any page of [p, p + size) is still mapped. */
static bool
any_mapped(void *p, size_t size) {
	unsigned char vec;
	for (size_t off = 0; off < size; off += PAGE) {
		if (mincore((char *)p + off, PAGE, &vec) == 0)
			return true;
	}
	return false;
}

TEST(test_fresh_base_blocks) {
	tsdn_t *tsdn = get_tsdn();
	base_t *base = base_new(tsdn, 4000,
	    (extent_hooks_t *)&extent_hooks_default);
	assert_ptr_not_null(base, "base_new failed");
	CHECK(base != b0get(), "base_new returned b0");
	CHECK(base->ind == 4000, "ind %u", base->ind);
	CHECK(base_extent_hooks_get(base) ==
	    (extent_hooks_t *)&extent_hooks_default, "hooks");
	/* The base_t lives in its own first block. */
	CHECK(((uintptr_t)base & (CACHELINE - 1)) == 0, "base_t misaligned");
	stats_t s0 = get_stats(base);
	check_stats_sane(&s0);
	if (config_stats) {
		CHECK(s0.mapped == HUGEPAGE, "first block %zu bytes", s0.mapped);
		CHECK(s0.allocated >= sizeof(base_t), "allocated %zu",
		    s0.allocated);
	}

	/*
	 * 1 MiB requests: each block serves as many as fit, then the next
	 * block is the next page-size class rounded up to 2 MiB:
	 * 2, 4, 6, 8, 10, 12 MiB (the first four total 20 MiB).
	 */
	static const size_t series[] = {4 * MiB, 6 * MiB, 8 * MiB, 10 * MiB,
	    12 * MiB};
	unsigned nblocks = 0;
	stats_t prev = s0;
	void *first_of_block[5];
	for (unsigned i = 0; i < 100 && nblocks < 5; i++) {
		char *p = base_alloc(tsdn, base, MiB, 16);
		CHECK(p != NULL, "1 MiB base_alloc failed");
		if (p == NULL)
			break;
		CHECK(p[0] == 0 && p[MiB - 1] == 0, "not zeroed");
		p[0] = 1;
		p[MiB - 1] = 1;
		stats_t s = get_stats(base);
		check_stats_sane(&s);
		if (!config_stats)
			continue;
		if (s.mapped != prev.mapped) {
			CHECK(s.mapped - prev.mapped == series[nblocks],
			    "block %u is %zu bytes, want %zu", nblocks + 2,
			    s.mapped - prev.mapped, series[nblocks]);
			first_of_block[nblocks] = p;
			nblocks++;
			if (nblocks == 3) {
				CHECK(s.mapped == 20 * MiB, "first four blocks "
				    "total %zu", s.mapped);
			}
		}
		prev = s;
	}
	if (config_stats)
		CHECK(nblocks == 5, "only %u new blocks", nblocks);
	/* A block's first allocation sits right after its header. */
	for (unsigned i = 0; config_stats && i < nblocks; i++) {
		uintptr_t blk = (uintptr_t)first_of_block[i] & ~(HUGEPAGE - 1);
		CHECK((uintptr_t)first_of_block[i] - blk < PAGE,
		    "block %u: first allocation at offset %zu", i + 2,
		    (size_t)((uintptr_t)first_of_block[i] - blk));
	}

	/* Aligned, zeroed allocations from the fresh base. */
	for (size_t align = 16; align <= 4096; align <<= 1) {
		void *p = base_alloc(tsdn, base, 100, align);
		CHECK(p != NULL && ((uintptr_t)p & (align - 1)) == 0,
		    "fresh base: base_alloc(100, %zu) = %p", align, p);
		if (p != NULL) {
			CHECK(count_nonzero(p, 100) == 0, "not zeroed");
			memset(p, 0xab, 100);
		}
	}
	/* extent_t structs for the arena: cache-line aligned. */
	for (unsigned i = 0; i < 8; i++) {
		extent_t *e = base_alloc_extent(tsdn, base);
		CHECK(e != NULL && ((uintptr_t)e & (CACHELINE - 1)) == 0,
		    "base_alloc_extent = %p", (void *)e);
	}
	base_delete(tsdn, base);
}

TEST(test_base_delete_releases) {
	tsdn_t *tsdn = get_tsdn();
	base_t *base = base_new(tsdn, 4001,
	    (extent_hooks_t *)&extent_hooks_default);
	assert_ptr_not_null(base, "base_new failed");
	enum { N = 64 };
	char *ps[N];
	for (unsigned i = 0; i < N; i++) {
		ps[i] = base_alloc(tsdn, base, 64 << 10, 64);
		assert_ptr_not_null(ps[i], "base_alloc failed");
		memset(ps[i], 0x5a, 64 << 10);
	}
	base_delete(tsdn, base);
	/*
	 * Each block is given back through dalloc, else decommit, else a
	 * purge: whatever is still mapped must read as zero.
	 */
	for (unsigned i = 0; i < N; i++) {
		if (!any_mapped(ps[i], 64 << 10))
			continue;
		CHECK(count_nonzero(ps[i], 64 << 10) == 0, "allocation %u still "
		    "holds data after base_delete", i);
	}
	if (!opt_retain) {
		for (unsigned i = 0; i < N; i++)
			CHECK(!any_mapped(ps[i], 64 << 10), "still mapped");
	}
	/* A new base works after a delete. */
	base = base_new(tsdn, 4002, (extent_hooks_t *)&extent_hooks_default);
	assert_ptr_not_null(base, "base_new after delete failed");
	void *p = base_alloc(tsdn, base, 1000, 64);
	CHECK(p != NULL && count_nonzero(p, 1000) == 0, "base_alloc after "
	    "delete");
	base_delete(tsdn, base);
}

int
main(void) {
	return test_run(
	    TEST_CASE(test_b0_alignment_zeroed),
	    TEST_CASE(test_b0_random_no_overlap),
	    TEST_CASE(test_fresh_base_blocks),
	    TEST_CASE(test_base_delete_releases));
}
