/*
 * bitmap.h: info/init/get/set/unset/sfu/ffu/full for sizes around the
 * 64-bit group boundaries, checked against a plain bool array.
 */
#include "jemalloc_internal.h"
#include "bitmap.h"

#include "test.h"


static const size_t test_nbits[] = {1, 2, 63, 64, 65, 127, 128, 200, 511,
    512};
#define NTEST_NBITS (sizeof(test_nbits) / sizeof(test_nbits[0]))
#define MAXBITS 512

static uint64_t prng_state = 0x853c49e6748fea9bULL;
static uint64_t
prng_next(void) {
	uint64_t x = prng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	prng_state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Lowest clear reference bit >= min, or nbits. */
static size_t
ref_ffu(const bool *ref, size_t nbits, size_t min) {
	for (size_t i = min; i < nbits; i++) {
		if (!ref[i])
			return i;
	}
	return nbits;
}

/* Compares every bit, full() and ffu() at every start with the reference. */
static void
check_against_ref(const bitmap_t *bm, const bitmap_info_t *bi,
    const bool *ref, size_t nbits) {
	bool all = true;
	for (size_t i = 0; i < nbits; i++) {
		CHECK(bitmap_get(bm, bi, i) == ref[i], "nbits %zu: bit %zu is %d",
		    nbits, i, (int)bitmap_get(bm, bi, i));
		all = all && ref[i];
	}
	CHECK(bitmap_full(bm, bi) == all, "nbits %zu: full() = %d, want %d",
	    nbits, (int)bitmap_full(bm, bi), (int)all);
	for (size_t m = 0; m <= nbits; m++) {
		size_t want = ref_ffu(ref, nbits, m);
		size_t got = bitmap_ffu(bm, bi, m);
		CHECK(got == want, "nbits %zu: ffu(%zu) = %zu, want %zu", nbits,
		    m, got, want);
	}
}

TEST(test_info_init) {
	for (unsigned t = 0; t < NTEST_NBITS; t++) {
		size_t nbits = test_nbits[t];
		bitmap_info_t bi;
		bitmap_info_init(&bi, nbits);
		CHECK(bi.nbits == nbits, "nbits %zu stored as %zu", nbits,
		    bi.nbits);
		CHECK(bi.ngroups == (nbits + 63) / 64, "nbits %zu: %zu groups",
		    nbits, bi.ngroups);
		CHECK(bitmap_size(&bi) == bi.ngroups * sizeof(bitmap_t),
		    "nbits %zu: size %zu", nbits, bitmap_size(&bi));
		CHECK(bi.ngroups <= BITMAP_GROUPS_MAX, "nbits %zu too many groups",
		    nbits);
	}
	expect_zu_eq(BITMAP_GROUPS_MAX, 8);
}

TEST(test_init_empty_and_full) {
	for (unsigned t = 0; t < NTEST_NBITS; t++) {
		size_t nbits = test_nbits[t];
		bitmap_info_t bi;
		bitmap_info_init(&bi, nbits);
		bitmap_t bm[BITMAP_GROUPS_MAX + 1];
		bool ref[MAXBITS];
		/* A sentinel group past the end must not be touched. */
		memset(bm, 0xa5, sizeof(bm));
		bitmap_init(bm, &bi, false);
		CHECK(bm[bi.ngroups] == (bitmap_t)0xa5a5a5a5a5a5a5a5ULL,
		    "nbits %zu: init wrote past the bitmap", nbits);
		memset(ref, 0, sizeof(ref));
		check_against_ref(bm, &bi, ref, nbits);
		CHECK(!bitmap_full(bm, &bi), "nbits %zu: empty map full", nbits);
		CHECK(bitmap_ffu(bm, &bi, 0) == 0, "nbits %zu: ffu(0) of empty",
		    nbits);

		bitmap_init(bm, &bi, true);
		for (size_t i = 0; i < nbits; i++)
			ref[i] = true;
		check_against_ref(bm, &bi, ref, nbits);
		CHECK(bitmap_full(bm, &bi), "nbits %zu: filled map not full",
		    nbits);
		CHECK(bitmap_ffu(bm, &bi, 0) == nbits,
		    "nbits %zu: ffu of a full map", nbits);
		/* Clearing any one bit makes it the only ffu answer. */
		for (size_t i = 0; i < nbits; i++) {
			bitmap_unset(bm, &bi, i);
			CHECK(!bitmap_full(bm, &bi), "nbits %zu: full with %zu "
			    "clear", nbits, i);
			CHECK(bitmap_ffu(bm, &bi, 0) == i, "nbits %zu: ffu(0) = "
			    "%zu, want %zu", nbits, bitmap_ffu(bm, &bi, 0), i);
			CHECK(bitmap_ffu(bm, &bi, i) == i, "nbits %zu: ffu(%zu)",
			    nbits, i);
			CHECK(bitmap_ffu(bm, &bi, i + 1) == nbits,
			    "nbits %zu: ffu(%zu + 1) = %zu", nbits, i,
			    bitmap_ffu(bm, &bi, i + 1));
			bitmap_set(bm, &bi, i);
			CHECK(bitmap_full(bm, &bi), "nbits %zu: not full after "
			    "set(%zu)", nbits, i);
		}
	}
}

TEST(test_sfu_in_order) {
	for (unsigned t = 0; t < NTEST_NBITS; t++) {
		size_t nbits = test_nbits[t];
		bitmap_info_t bi;
		bitmap_info_init(&bi, nbits);
		bitmap_t bm[BITMAP_GROUPS_MAX];
		bitmap_init(bm, &bi, false);
		for (size_t i = 0; i < nbits; i++) {
			CHECK(!bitmap_full(bm, &bi), "nbits %zu: full after %zu",
			    nbits, i);
			size_t b = bitmap_sfu(bm, &bi);
			CHECK(b == i, "nbits %zu: sfu #%zu returned %zu", nbits, i,
			    b);
			CHECK(bitmap_get(bm, &bi, i), "nbits %zu: bit %zu not set "
			    "by sfu", nbits, i);
			if (i + 1 < nbits) {
				CHECK(!bitmap_get(bm, &bi, i + 1),
				    "nbits %zu: sfu set bit %zu too", nbits,
				    i + 1);
			}
		}
		CHECK(bitmap_full(bm, &bi), "nbits %zu: not full after nbits sfu",
		    nbits);
		CHECK(bitmap_ffu(bm, &bi, 0) == nbits, "nbits %zu: ffu when full",
		    nbits);
	}
}

TEST(test_unset_then_sfu_reuses_lowest) {
	for (unsigned t = 0; t < NTEST_NBITS; t++) {
		size_t nbits = test_nbits[t];
		bitmap_info_t bi;
		bitmap_info_init(&bi, nbits);
		bitmap_t bm[BITMAP_GROUPS_MAX];
		bitmap_init(bm, &bi, false);
		for (size_t i = 0; i < nbits; i++)
			bitmap_sfu(bm, &bi);
		/* Free a scattered set, then sfu must return them ascending. */
		bool freed[MAXBITS];
		memset(freed, 0, sizeof(freed));
		size_t nfreed = 0;
		for (size_t i = nbits; i-- > 0;) {
			if (i % 3 == 0 || i == nbits - 1 || prng_next() % 4 == 0) {
				bitmap_unset(bm, &bi, i);
				CHECK(!bitmap_get(bm, &bi, i), "nbits %zu: unset "
				    "%zu", nbits, i);
				freed[i] = true;
				nfreed++;
			}
		}
		for (size_t i = 0; i < nbits; i++) {
			if (!freed[i])
				continue;
			size_t b = bitmap_sfu(bm, &bi);
			CHECK(b == i, "nbits %zu: sfu returned %zu, lowest freed "
			    "is %zu", nbits, b, i);
			nfreed--;
		}
		CHECK(nfreed == 0, "nbits %zu", nbits);
		CHECK(bitmap_full(bm, &bi), "nbits %zu: not full again", nbits);
		/* Free one bit at a time: sfu hands that very bit back. */
		for (size_t i = 0; i < nbits; i += (nbits > 100 ? 7 : 1)) {
			bitmap_unset(bm, &bi, i);
			size_t b = bitmap_sfu(bm, &bi);
			CHECK(b == i, "nbits %zu: single unset %zu, sfu %zu", nbits,
			    i, b);
		}
	}
}

TEST(test_random_against_reference) {
	for (unsigned t = 0; t < NTEST_NBITS; t++) {
		size_t nbits = test_nbits[t];
		bitmap_info_t bi;
		bitmap_info_init(&bi, nbits);
		bitmap_t bm[BITMAP_GROUPS_MAX];
		bool ref[MAXBITS];
		bitmap_init(bm, &bi, false);
		memset(ref, 0, sizeof(ref));
		for (unsigned op = 0; op < 3000; op++) {
			size_t bit = (size_t)(prng_next() % nbits);
			switch (prng_next() % 4) {
			case 0:
				bitmap_set(bm, &bi, bit);
				ref[bit] = true;
				break;
			case 1:
				bitmap_unset(bm, &bi, bit);
				ref[bit] = false;
				break;
			case 2: {
				size_t want = ref_ffu(ref, nbits, 0);
				if (want == nbits) {
					CHECK(bitmap_full(bm, &bi), "nbits %zu "
					    "op %u: should be full", nbits, op);
					break;
				}
				size_t b = bitmap_sfu(bm, &bi);
				CHECK(b == want, "nbits %zu op %u: sfu %zu, want "
				    "%zu", nbits, op, b, want);
				ref[want] = true;
				break;
			}
			default: {
				size_t m = (size_t)(prng_next() % (nbits + 1));
				size_t want = ref_ffu(ref, nbits, m);
				size_t got = bitmap_ffu(bm, &bi, m);
				CHECK(got == want, "nbits %zu op %u: ffu(%zu) = %zu,"
				    " want %zu", nbits, op, m, got, want);
				break;
			}
			}
			if (op % 500 == 0)
				check_against_ref(bm, &bi, ref, nbits);
		}
		check_against_ref(bm, &bi, ref, nbits);
		/* ffu beyond the end answers nbits. */
		CHECK(bitmap_ffu(bm, &bi, nbits) == nbits, "nbits %zu", nbits);
		CHECK(bitmap_ffu(bm, &bi, nbits + 5) == nbits, "nbits %zu",
		    nbits);
	}
}

int
main(void) {
	return test_run(
	    TEST_CASE(test_info_init),
	    TEST_CASE(test_init_empty_and_full),
	    TEST_CASE(test_sfu_in_order),
	    TEST_CASE(test_unset_then_sfu_reuses_lowest),
	    TEST_CASE(test_random_against_reference));
}
