/*
 * Size classes (facts §5): the generated constants, the 36-bin table, the
 * large and page-size classes, and the size <-> index helpers of sz.h,
 * checked against a reference list built independently from the
 * generation rule of §5.1.
 */
#include "jemalloc_internal.h"
#include "sz.h"
#include "bin.h"

#include "test.h"

/* expect_*() without a message expands to an empty format string. */

/* --- the reference list from the rule (§5.1) ----------------------------- */

static size_t ref_size[NSIZES + 8];
static unsigned ref_nsizes;
static size_t ref_psz[NSIZES + 8];
static unsigned ref_npsizes;

static void
ref_build(void) {
	unsigned n = 0;
	ref_size[n++] = 8;			/* the one tiny class */
	for (size_t s = 16; s <= 64; s += 16)	/* quantum-spaced group */
		ref_size[n++] = s;
	for (unsigned k = 6; k <= 62; k++) {
		size_t delta = (size_t)1 << (k - 2);
		for (unsigned j = 1; j <= 4; j++) {
			if (k == 62 && j == 4)
				break;		/* the last group has 3 */
			ref_size[n++] = ((size_t)1 << k) + j * delta;
		}
	}
	ref_nsizes = n;
	ref_npsizes = 0;
	for (unsigned i = 0; i < n; i++) {
		if (ref_size[i] % PAGE == 0)
			ref_psz[ref_npsizes++] = ref_size[i];
	}
}

/* Index of the smallest reference class >= s (ref_nsizes if none). */
static unsigned
ref_index(size_t s) {
	unsigned lo = 0, hi = ref_nsizes;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (ref_size[mid] >= s)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static unsigned
ref_pindex(size_t s) {
	unsigned lo = 0, hi = ref_npsizes;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (ref_psz[mid] >= s)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* xorshift64*: a fixed-seed generator for sampled sizes. */
static uint64_t prng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t
prng_next(void) {
	uint64_t x = prng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	prng_state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* --- tests ------------------------------------------------------------------ */

TEST(test_constants) {
	expect_zu_eq(NTBINS, 1);
	expect_zu_eq(NLBINS, 29);
	expect_zu_eq(NBINS, 36);
	expect_zu_eq(NSIZES, 232);
	expect_zu_eq(LG_CEIL_NSIZES, 8);
	expect_zu_eq(NPSIZES, 199);
	expect_zu_eq(LG_TINY_MAXCLASS, 3);
	expect_zu_eq(LOOKUP_MAXCLASS, 4096);
	expect_zu_eq(SMALL_MAXCLASS, 14336);
	expect_zu_eq(LG_LARGE_MINCLASS, 14);
	expect_zu_eq(LARGE_MINCLASS, 16384);
	expect_zu_eq(LARGE_MAXCLASS, (size_t)0x7000000000000000ULL);
	expect_zu_eq(LARGE_MAXCLASS, ((size_t)1 << 62) + 3 * ((size_t)1 << 60));
	expect_zu_eq(SLAB_MAXREGS, 512);
	expect_zu_eq(SLAB_MAXREGS, (size_t)1 << (LG_PAGE - LG_TINY_MIN));
	expect_zu_eq(PAGE, 4096);
	expect_zu_eq(QUANTUM, 16);
	/* LG_CEIL_NSIZES is ceil(lg(NSIZES)). */
	expect_true(((size_t)1 << LG_CEIL_NSIZES) >= NSIZES);
	expect_true(((size_t)1 << (LG_CEIL_NSIZES - 1)) < NSIZES);
}

TEST(test_reference_rule) {
	ref_build();
	/* The rule yields exactly NSIZES classes, NPSIZES of them pages. */
	assert_u_eq(ref_nsizes, NSIZES);
	assert_u_eq(ref_npsizes, NPSIZES);
	expect_zu_eq(ref_size[NBINS - 1], SMALL_MAXCLASS);
	expect_zu_eq(ref_size[NBINS], LARGE_MINCLASS);
	expect_zu_eq(ref_size[NSIZES - 1], LARGE_MAXCLASS);
	/* A class is small iff size < 16 KiB. */
	unsigned nsmall = 0, nlookup = 0;
	for (unsigned i = 0; i < NSIZES; i++) {
		if (ref_size[i] < ((size_t)1 << (LG_PAGE + LG_SIZE_CLASS_GROUP)))
			nsmall++;
		if (ref_size[i] <= LOOKUP_MAXCLASS)
			nlookup++;
	}
	expect_u_eq(nsmall, NBINS);
	expect_u_eq(nlookup, NLBINS);
	/* The nhbins of the default tcache: szind(32768) + 1 == 41. */
	expect_u_eq(ref_index(32768) + 1, 41);
}

TEST(test_index2size_table) {
	ref_build();
	for (unsigned i = 0; i < NSIZES; i++) {
		CHECK(sz_index2size(i) == ref_size[i],
		    "index2size(%u) = %zu, expected %zu", i, sz_index2size(i),
		    ref_size[i]);
		CHECK(sz_index2size_tab[i] == ref_size[i],
		    "sz_index2size_tab[%u] = %zu", i, sz_index2size_tab[i]);
		if (i > 0) {
			CHECK(sz_index2size(i) > sz_index2size(i - 1),
			    "index2size not increasing at %u", i);
		}
	}
}

/* One row of facts §5.2. */
typedef struct {
	size_t size;
	unsigned pgs;
	size_t slab_bytes;
	unsigned nregs;
	unsigned ncached_max;
	unsigned fill;
} bin_row_t;

static const bin_row_t bin_table[NBINS] = {
	{8, 1, 4096, 512, 200, 100},
	{16, 1, 4096, 256, 200, 100},
	{32, 1, 4096, 128, 200, 100},
	{48, 3, 12288, 256, 200, 100},
	{64, 1, 4096, 64, 128, 64},
	{80, 5, 20480, 256, 200, 100},
	{96, 3, 12288, 128, 200, 100},
	{112, 7, 28672, 256, 200, 100},
	{128, 1, 4096, 32, 64, 32},
	{160, 5, 20480, 128, 200, 100},
	{192, 3, 12288, 64, 128, 64},
	{224, 7, 28672, 128, 200, 100},
	{256, 1, 4096, 16, 32, 16},
	{320, 5, 20480, 64, 128, 64},
	{384, 3, 12288, 32, 64, 32},
	{448, 7, 28672, 64, 128, 64},
	{512, 1, 4096, 8, 20, 10},
	{640, 5, 20480, 32, 64, 32},
	{768, 3, 12288, 16, 32, 16},
	{896, 7, 28672, 32, 64, 32},
	{1024, 1, 4096, 4, 20, 10},
	{1280, 5, 20480, 16, 32, 16},
	{1536, 3, 12288, 8, 20, 10},
	{1792, 7, 28672, 16, 32, 16},
	{2048, 1, 4096, 2, 20, 10},
	{2560, 5, 20480, 8, 20, 10},
	{3072, 3, 12288, 4, 20, 10},
	{3584, 7, 28672, 8, 20, 10},
	{4096, 1, 4096, 1, 20, 10},
	{5120, 5, 20480, 4, 20, 10},
	{6144, 3, 12288, 2, 20, 10},
	{7168, 7, 28672, 4, 20, 10},
	{8192, 2, 8192, 1, 20, 10},
	{10240, 5, 20480, 2, 20, 10},
	{12288, 3, 12288, 1, 20, 10},
	{14336, 7, 28672, 2, 20, 10},
};

static size_t
gcd_zu(size_t a, size_t b) {
	while (b != 0) {
		size_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

TEST(test_bin_infos) {
	for (unsigned i = 0; i < NBINS; i++) {
		const bin_row_t *row = &bin_table[i];
		const bin_info_t *bi = &bin_infos[i];
		CHECK(bi->reg_size == row->size, "bin %u reg_size %zu, want %zu",
		    i, bi->reg_size, row->size);
		CHECK(sz_index2size(i) == row->size, "bin %u class %zu", i,
		    sz_index2size(i));
		CHECK(bi->slab_size == row->slab_bytes,
		    "bin %u slab_size %zu, want %zu", i, bi->slab_size,
		    row->slab_bytes);
		CHECK(bi->nregs == row->nregs, "bin %u nregs %u, want %u", i,
		    (unsigned)bi->nregs, row->nregs);
		CHECK(bi->bitmap_info.nbits == row->nregs,
		    "bin %u bitmap nbits %zu", i, bi->bitmap_info.nbits);
		CHECK(bi->bitmap_info.ngroups == (row->nregs + 63) / 64,
		    "bin %u bitmap ngroups %zu", i, bi->bitmap_info.ngroups);
		/* The table is self-consistent with the rule. */
		size_t lcm = row->size / gcd_zu(row->size, PAGE) * PAGE;
		CHECK(row->slab_bytes == lcm, "row %u: lcm %zu", i, lcm);
		CHECK(row->slab_bytes == row->pgs * PAGE, "row %u pgs", i);
		CHECK(row->pgs == 1 || row->pgs == 2 || row->pgs == 3 ||
		    row->pgs == 5 || row->pgs == 7, "row %u pgs %u", i,
		    row->pgs);
		CHECK(row->nregs * row->size == row->slab_bytes, "row %u nregs",
		    i);
		/* tcache columns: min(max(2 * nregs, 20), 200), fill >> 1. */
		unsigned ncm = 2 * bi->nregs;
		if (ncm < 20)
			ncm = 20;
		if (ncm > 200)
			ncm = 200;
		CHECK(ncm == row->ncached_max, "bin %u ncached_max %u, want %u",
		    i, ncm, row->ncached_max);
		CHECK((ncm >> 1) == row->fill, "bin %u fill %u", i, ncm >> 1);
		CHECK(bi->nregs <= SLAB_MAXREGS, "bin %u nregs > SLAB_MAXREGS",
		    i);
	}
}

TEST(test_large_classes) {
	static const size_t first_large[] = {16384, 20480, 24576, 28672,
	    32768, 40960, 49152, 57344, 65536, 81920, 98304, 114688, 131072,
	    163840, 196608, 229376, 262144, 327680, 393216, 458752, 524288,
	    655360, 786432, 917504};
	for (unsigned i = 0; i < sizeof(first_large) / sizeof(first_large[0]);
	    i++) {
		CHECK(sz_index2size(NBINS + i) == first_large[i],
		    "index2size(%u) = %zu, want %zu", NBINS + i,
		    sz_index2size(NBINS + i), first_large[i]);
		CHECK(sz_size2index(first_large[i]) == NBINS + i,
		    "size2index(%zu) = %u", first_large[i],
		    sz_size2index(first_large[i]));
	}
	expect_zu_eq(sz_index2size(NSIZES - 4), (size_t)1 << 62);
	expect_zu_eq(sz_index2size(NSIZES - 3), 5 * ((size_t)1 << 60));
	expect_zu_eq(sz_index2size(NSIZES - 2), 6 * ((size_t)1 << 60));
	expect_zu_eq(sz_index2size(NSIZES - 1), 7 * ((size_t)1 << 60));
	/* 196 large classes, szind 36..231. */
	expect_u_eq(NSIZES - NBINS, 196);
}

TEST(test_psz_table) {
	ref_build();
	static const size_t first_psz[] = {4096, 8192, 12288, 16384, 20480,
	    24576, 28672, 32768, 40960, 49152, 57344, 65536, 81920};
	for (unsigned i = 0; i < sizeof(first_psz) / sizeof(first_psz[0]);
	    i++) {
		CHECK(sz_pind2sz(i) == first_psz[i], "pind2sz(%u) = %zu", i,
		    sz_pind2sz(i));
	}
	for (unsigned i = 0; i < NPSIZES; i++) {
		CHECK(sz_pind2sz(i) == ref_psz[i], "pind2sz(%u) = %zu, want %zu",
		    i, sz_pind2sz(i), ref_psz[i]);
		CHECK(sz_psz2ind(sz_pind2sz(i)) == i, "psz2ind(pind2sz(%u))",
		    i);
	}
	expect_zu_eq(sz_pind2sz(NPSIZES - 1), LARGE_MAXCLASS);
	/* The sentinel. */
	expect_zu_eq(sz_pind2sz_tab[NPSIZES], LARGE_MAXCLASS + PAGE);
}

/* Every size 1..65536 against the reference, table and computed paths. */
TEST(test_size2index_exhaustive) {
	ref_build();
	unsigned c = 0;	/* linear search over sz_index2size, kept monotone */
	for (size_t s = 1; s <= 65536; s++) {
		while (sz_index2size(c) < s)
			c++;
		unsigned r = ref_index(s);
		CHECK(c == r, "linear search %u vs reference %u for %zu", c, r,
		    s);
		unsigned ind = sz_size2index(s);
		CHECK(ind == r, "size2index(%zu) = %u, want %u", s, ind, r);
		CHECK(sz_size2index_compute(s) == r,
		    "size2index_compute(%zu) = %u, want %u", s,
		    sz_size2index_compute(s), r);
		if (s <= LOOKUP_MAXCLASS) {
			CHECK(sz_size2index_lookup(s) ==
			    sz_size2index_compute(s),
			    "lookup %u vs compute %u for %zu",
			    sz_size2index_lookup(s), sz_size2index_compute(s),
			    s);
		}
		size_t u = sz_s2u(s);
		CHECK(u == sz_index2size(sz_size2index(s)),
		    "s2u(%zu) = %zu, index2size(size2index) = %zu", s, u,
		    sz_index2size(sz_size2index(s)));
		CHECK(u == ref_size[r], "s2u(%zu) = %zu, want %zu", s, u,
		    ref_size[r]);
		CHECK(sz_s2u_compute(s) == ref_size[r],
		    "s2u_compute(%zu) = %zu", s, sz_s2u_compute(s));
	}
}

static void
check_size_sample(size_t s) {
	if (s == 0)
		return;
	unsigned r = ref_index(s);
	if (s > LARGE_MAXCLASS) {
		CHECK(sz_size2index(s) == NSIZES, "size2index(%zu) = %u", s,
		    sz_size2index(s));
		CHECK(sz_s2u(s) == 0, "s2u(%zu) = %zu", s, sz_s2u(s));
		return;
	}
	CHECK(sz_size2index(s) == r, "size2index(%zu) = %u, want %u", s,
	    sz_size2index(s), r);
	CHECK(sz_size2index_compute(s) == r, "size2index_compute(%zu) = %u",
	    s, sz_size2index_compute(s));
	CHECK(sz_s2u(s) == ref_size[r], "s2u(%zu) = %zu, want %zu", s,
	    sz_s2u(s), ref_size[r]);
	CHECK(sz_s2u(s) == sz_index2size(sz_size2index(s)),
	    "s2u(%zu) != index2size(size2index)", s);
	CHECK(sz_s2u_compute(s) == ref_size[r], "s2u_compute(%zu) = %zu", s,
	    sz_s2u_compute(s));
}

TEST(test_size2index_sampled) {
	ref_build();
	for (unsigned i = 0; i < NSIZES; i++) {
		size_t c = ref_size[i];
		check_size_sample(c);
		check_size_sample(c - 1);
		check_size_sample(c + 1);
		if (i > 0) {
			size_t p = ref_size[i - 1];
			check_size_sample(p + 1);
			check_size_sample(p + (c - p) / 2);
			check_size_sample(c - PAGE);
			check_size_sample(c - PAGE + 1);
		}
	}
	for (unsigned n = 0; n < 200000; n++) {
		uint64_t x = prng_next();
		unsigned shift = (unsigned)(prng_next() % 64);
		size_t s = (size_t)(x >> shift);
		if (s > LARGE_MAXCLASS)
			s = s % LARGE_MAXCLASS + 1;
		check_size_sample(s);
	}
	/* Overflow. */
	expect_zu_eq(sz_size2index(LARGE_MAXCLASS), NSIZES - 1);
	expect_zu_eq(sz_s2u(LARGE_MAXCLASS), LARGE_MAXCLASS);
	expect_zu_eq(sz_s2u(LARGE_MAXCLASS + 1), 0);
	expect_zu_eq(sz_s2u(LARGE_MAXCLASS + PAGE), 0);
	expect_zu_eq(sz_s2u(SIZE_MAX), 0);
	expect_zu_eq(sz_s2u((size_t)1 << 63), 0);
	expect_zu_eq(sz_size2index(LARGE_MAXCLASS + 1), NSIZES);
	expect_zu_eq(sz_size2index(SIZE_MAX), NSIZES);
	expect_zu_eq(sz_size2index((size_t)1 << 63), NSIZES);
	expect_zu_eq(sz_size2index_compute(SIZE_MAX), NSIZES);
	expect_zu_eq(sz_s2u_compute(SIZE_MAX), 0);
}

static void
check_psz(size_t psz) {
	unsigned r = ref_pindex(psz);
	if (psz > LARGE_MAXCLASS) {
		CHECK(sz_psz2ind(psz) == NPSIZES, "psz2ind(%zu) = %u", psz,
		    sz_psz2ind(psz));
		CHECK(sz_psz2u(psz) == LARGE_MAXCLASS + PAGE, "psz2u(%zu)",
		    psz);
		return;
	}
	unsigned ind = sz_psz2ind(psz);
	CHECK(ind == r, "psz2ind(%zu) = %u, want %u", psz, ind, r);
	if (ind >= NPSIZES)
		return;
	CHECK(sz_pind2sz(ind) >= psz, "pind2sz(psz2ind(%zu)) too small", psz);
	CHECK(ind == 0 || sz_pind2sz(ind - 1) < psz,
	    "psz2ind(%zu) not the smallest class", psz);
	CHECK(sz_psz2u(psz) == sz_pind2sz(ind), "psz2u(%zu) = %zu, want %zu",
	    psz, sz_psz2u(psz), sz_pind2sz(ind));
	CHECK(sz_psz2u(psz) == ref_psz[r], "psz2u(%zu) = %zu, ref %zu", psz,
	    sz_psz2u(psz), ref_psz[r]);
	if (psz % PAGE == 0) {
		/* For page multiples, the page class is the size class. */
		CHECK(sz_psz2u(psz) == sz_s2u(psz), "psz2u(%zu) %zu vs s2u %zu",
		    psz, sz_psz2u(psz), sz_s2u(psz));
	}
}

TEST(test_psz_exhaustive) {
	ref_build();
	/* Every page multiple up to 64 MiB. */
	for (size_t psz = PAGE; psz <= ((size_t)64 << 20); psz += PAGE)
		check_psz(psz);
	/* Around each class, and non-multiples (the quantizer uses them). */
	for (unsigned i = 0; i < NPSIZES; i++) {
		size_t c = ref_psz[i];
		check_psz(c);
		check_psz(c + 1);
		check_psz(c - 1);
		check_psz(c + PAGE);
		if (c > PAGE)
			check_psz(c - PAGE);
	}
	for (unsigned n = 0; n < 100000; n++) {
		size_t s = (size_t)(prng_next() >> (prng_next() % 52));
		s = s & ~PAGE_MASK;
		if (s == 0)
			s = PAGE;
		if (s > LARGE_MAXCLASS)
			s = (s % LARGE_MAXCLASS) & ~PAGE_MASK;
		if (s == 0)
			s = PAGE;
		check_psz(s);
	}
	expect_u_eq(sz_psz2ind(LARGE_MAXCLASS), NPSIZES - 1);
	expect_u_eq(sz_psz2ind(LARGE_MAXCLASS + PAGE), NPSIZES);
	expect_zu_eq(sz_psz2u(LARGE_MAXCLASS + PAGE), LARGE_MAXCLASS + PAGE);
	expect_zu_eq(sz_psz2u(LARGE_MAXCLASS), LARGE_MAXCLASS);
}

TEST(test_sa2u) {
	/* Small sizes with alignment < PAGE. */
	for (size_t align = 8; align < PAGE; align <<= 1) {
		for (size_t s = 1; s <= SMALL_MAXCLASS; s++) {
			size_t u = sz_sa2u(s, align);
			CHECK(u != 0, "sa2u(%zu, %zu) == 0", s, align);
			CHECK(u >= s, "sa2u(%zu, %zu) = %zu < size", s, align, u);
			CHECK(u % align == 0, "sa2u(%zu, %zu) = %zu misaligned",
			    s, align, u);
			CHECK(sz_s2u(u) == u, "sa2u(%zu, %zu) = %zu not a class",
			    s, align, u);
			/* 5.1 rule: s2u(ALIGNMENT_CEILING(size, align)) while
			 * that is small, else a large class. */
			size_t expect = sz_s2u(ALIGNMENT_CEILING(s, align));
			if (expect >= LARGE_MINCLASS)
				expect = LARGE_MINCLASS;
			CHECK(u == expect, "sa2u(%zu, %zu) = %zu, want %zu", s,
			    align, u, expect);
		}
	}
	/* Examples from §5.4: 96 is 32-aligned, 192 is 64-aligned. */
	expect_zu_eq(sz_sa2u(80, 32), 96);
	expect_zu_eq(sz_sa2u(130, 64), 192);
	expect_zu_eq(sz_sa2u(1, 4096), LARGE_MINCLASS);
	/* Page and larger alignments give large classes. */
	for (size_t align = PAGE; align <= ((size_t)1 << 30); align <<= 1) {
		expect_zu_eq(sz_sa2u(1, align), LARGE_MINCLASS);
		expect_zu_eq(sz_sa2u(SMALL_MAXCLASS, align), LARGE_MINCLASS);
		expect_zu_eq(sz_sa2u(LARGE_MINCLASS + 1, align), 20480);
		expect_zu_eq(sz_sa2u(100000, align), sz_s2u(100000));
	}
	/* Overflow and impossible alignments. */
	expect_zu_eq(sz_sa2u(1, (size_t)1 << 63), 0);
	expect_zu_eq(sz_sa2u(PAGE, (size_t)1 << 63), 0);
	expect_zu_eq(sz_sa2u(LARGE_MAXCLASS + 1, PAGE), 0);
	expect_zu_eq(sz_sa2u(SIZE_MAX, 16), 0);
	expect_zu_eq(sz_sa2u(SIZE_MAX, PAGE), 0);
	expect_zu_eq(sz_sa2u(LARGE_MAXCLASS, PAGE), LARGE_MAXCLASS);
}

TEST(test_bin_regind) {
	/* Any slab base works: only the difference is used. */
	static const uintptr_t bases[] = {0x10000, 0x7f1234560000ULL,
	    0x400000};
	for (unsigned b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		for (unsigned i = 0; i < NBINS; i++) {
			const bin_info_t *bi = &bin_infos[i];
			const char *slab = (const char *)bases[b];
			for (size_t r = 0; r < bi->nregs; r++) {
				const void *p = slab + r * bi->reg_size;
				size_t got = bin_regind(bi, slab, p);
				size_t want = ((uintptr_t)p - (uintptr_t)slab) /
				    bi->reg_size;
				CHECK(got == want && got == r,
				    "bin %u region %zu: regind %zu", i, r, got);
			}
		}
	}
}

int
main(void) {
	return test_run(
	    TEST_CASE(test_constants),
	    TEST_CASE(test_reference_rule),
	    TEST_CASE(test_index2size_table),
	    TEST_CASE(test_bin_infos),
	    TEST_CASE(test_large_classes),
	    TEST_CASE(test_psz_table),
	    TEST_CASE(test_size2index_exhaustive),
	    TEST_CASE(test_size2index_sampled),
	    TEST_CASE(test_psz_exhaustive),
	    TEST_CASE(test_sa2u),
	    TEST_CASE(test_bin_regind));
}
