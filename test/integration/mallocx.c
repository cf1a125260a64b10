/*
 * The non-standard API: mallocx, nallocx, sallocx, dallocx, sdallocx,
 * rallocx, xallocx and the MALLOCX_* flags.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"
#include "test_alloc.h"

#define LARGE_MAXCLASS ((size_t)0x7000000000000000ULL)
#define SMALL_MAXCLASS ((size_t)14336)
#define LARGE_MINCLASS ((size_t)16384)
#define MAX_TEST_SIZE ((size_t)8 << 20)

static int
opaque_i(int x) {
	__asm__ volatile("" : "+r"(x));
	return x;
}

/* Offset of the first byte in [from, to) that differs from v, or SIZE_MAX. */
static size_t
first_not(const void *p, size_t from, size_t to, unsigned char v) {
	const unsigned char *b = p;
	uint64_t vv = 0x0101010101010101ULL * v;
	size_t i = from;
	while (i < to && (i & 7) != 0) {
		if (b[i] != v)
			return i;
		i++;
	}
	for (; i + 8 <= to; i += 8) {
		uint64_t w;
		memcpy(&w, b + i, 8);
		if (w != vv)
			break;
	}
	for (; i < to; i++) {
		if (b[i] != v)
			return i;
	}
	return SIZE_MAX;
}

/* Library class list up to limit, by stepping nallocx(size + 1). */
static size_t
lib_classes(size_t *out, size_t max_n, size_t limit) {
	size_t n = 0;
	size_t s = nallocx(opaque(1), 0);
	while (s != 0 && s <= limit && n < max_n) {
		out[n++] = s;
		size_t next = nallocx(opaque(s + 1), 0);
		if (next <= s)
			break;
		s = next;
	}
	return n;
}

TEST(classes_match_spec) {
	static size_t mine[300], lib[300];
	size_t nm = gen_classes(mine, 300, MAX_TEST_SIZE);
	size_t nl = lib_classes(lib, 300, MAX_TEST_SIZE);
	expect_zu_eq(nl, nm, "number of size classes up to 8 MiB");
	for (size_t i = 0; i < nm && i < nl; i++) {
		if (mine[i] != lib[i]) {
			expectf(false, "class %zu: nallocx gives %zu, expected "
			    "%zu", i, lib[i], mine[i]);
			break;
		}
	}
	expect_zu_eq(nallocx(opaque(1), 0), 8, "smallest class");
	expect_zu_eq(nallocx(opaque(SMALL_MAXCLASS), 0), SMALL_MAXCLASS,
	    "largest small class");
	expect_zu_eq(nallocx(opaque(SMALL_MAXCLASS + 1), 0), LARGE_MINCLASS,
	    "smallest large class");
}

TEST(mallocx_every_class) {
	static size_t cls[300];
	size_t n = lib_classes(cls, 300, MAX_TEST_SIZE);
	assertf(n >= 70, "only %zu classes up to 8 MiB", n);
	for (size_t i = 0; i < n; i++) {
		size_t c = cls[i];
		size_t prev = i ? cls[i - 1] : 0;
		size_t reqs[3] = {c, prev + 1, prev + (c - prev) / 2 + 1};
		for (int k = 0; k < 3; k++) {
			size_t r = reqs[k];
			expectf(nallocx(opaque(r), 0) == c, "nallocx(%zu) = %zu, "
			    "expected %zu", r, nallocx(r, 0), c);
			void *p = escape(mallocx(opaque(r), 0));
			assertf(p != NULL, "mallocx(%zu) failed", r);
			size_t s = sallocx(p, 0);
			expectf(s == c, "sallocx(mallocx(%zu)) = %zu, expected "
			    "%zu", r, s, c);
			expectf(malloc_usable_size(p) == s, "malloc_usable_size "
			    "%zu != sallocx %zu", malloc_usable_size(p), s);
			if (k == 0) {
				fill(p, s, c);
				expectf(check(p, s, c) == SIZE_MAX,
				    "mallocx(%zu) not writable", r);
			}
			dallocx(p, 0);
		}
	}
}

TEST(mallocx_zero) {
	static size_t cls[300];
	size_t n = lib_classes(cls, 300, (size_t)4 << 20);
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < n; i++) {
			size_t c = cls[i];
			/* Dirty a block of this class and give it back first. */
			void *d = escape(mallocx(opaque(c), 0));
			assertf(d != NULL, "mallocx(%zu) failed", c);
			memset(d, 0xa5, c);
			dallocx(d, 0);
			void *p = escape(mallocx(opaque(c), MALLOCX_ZERO));
			assertf(p != NULL, "mallocx(%zu, ZERO) failed", c);
			size_t u = sallocx(p, 0);
			size_t bad = first_not(p, 0, u, 0);
			expectf(bad == SIZE_MAX, "mallocx(%zu, MALLOCX_ZERO): "
			    "byte %zu of %zu not zero", c, bad, u);
			dallocx(p, 0);
		}
	}
}

static void
check_aligned_alloc(size_t size, unsigned lg, int extra_flags) {
	size_t align = (size_t)1 << lg;
	int flags[2] = {MALLOCX_LG_ALIGN(lg) | extra_flags,
	    MALLOCX_ALIGN(align) | extra_flags};
	for (int f = 0; f < 2; f++) {
		size_t nx = nallocx(opaque(size), opaque_i(flags[f]));
		expectf(nx >= size, "nallocx(%zu, align %zu) = %zu", size, align,
		    nx);
		void *p = escape(mallocx(opaque(size), opaque_i(flags[f])));
		assertf(p != NULL, "mallocx(%zu, align %zu) failed", size,
		    align);
		expectf(((uintptr_t)p & (align - 1)) == 0,
		    "mallocx(%zu, align %zu) = %p misaligned", size, align, p);
		size_t s = sallocx(p, 0);
		expectf(s == nx, "mallocx(%zu, align %zu): sallocx %zu != "
		    "nallocx %zu", size, align, s, nx);
		if (extra_flags & MALLOCX_ZERO) {
			size_t bad = first_not(p, 0, s, 0);
			expectf(bad == SIZE_MAX, "mallocx(%zu, align %zu, ZERO) "
			    "byte %zu not zero", size, align, bad);
		}
		memset(p, 0x11, s);
		dallocx(p, flags[f]);
	}
}

TEST(mallocx_align_sweep) {
	for (unsigned lg = 3; lg <= 23; lg++) {
		size_t align = (size_t)1 << lg;
		size_t sizes[4] = {1, align / 2, align, 3 * align};
		for (int k = 0; k < 4; k++) {
			check_aligned_alloc(sizes[k], lg, 0);
			if (align <= ((size_t)1 << 16))
				check_aligned_alloc(sizes[k], lg, MALLOCX_ZERO);
		}
	}
	/* Alignments below 8 are valid for mallocx too. */
	for (unsigned lg = 0; lg < 3; lg++)
		check_aligned_alloc(5, lg, 0);
}

TEST(mallocx_align_flag_encoding) {
	for (unsigned lg = 0; lg < 63; lg++) {
		size_t a = (size_t)1 << lg;
		expectf(MALLOCX_ALIGN(a) == MALLOCX_LG_ALIGN(lg),
		    "MALLOCX_ALIGN(%#zx) = %d, expected %u", a, MALLOCX_ALIGN(a),
		    lg);
	}
	expect_d_eq(MALLOCX_ZERO, 0x40, "MALLOCX_ZERO");
	expect_d_eq(MALLOCX_TCACHE_NONE, 0x100, "MALLOCX_TCACHE_NONE");
	expect_d_eq(MALLOCX_ARENA(0), 1 << 20, "MALLOCX_ARENA(0)");
	expect_d_eq(MALLOCX_TCACHE(0), 2 << 8, "MALLOCX_TCACHE(0)");
}

TEST(mallocx_huge_fails) {
	static const size_t sizes[] = {SIZE_MAX, SIZE_MAX - 4095,
	    (size_t)PTRDIFF_MAX + 1, LARGE_MAXCLASS + 1, LARGE_MAXCLASS,
	    (size_t)1 << 62};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		void *p = escape(mallocx(opaque(sizes[i]), 0));
		expectf(p == NULL, "mallocx(%#zx, 0) should fail", sizes[i]);
		p = escape(mallocx(opaque(sizes[i]), MALLOCX_ZERO));
		expectf(p == NULL, "mallocx(%#zx, ZERO) should fail", sizes[i]);
	}
	/* Huge alignments. */
	void *p = escape(mallocx(opaque(1), opaque_i(MALLOCX_LG_ALIGN(63))));
	expectf(p == NULL, "mallocx(1, 2^63 alignment) should fail");
	p = escape(mallocx(opaque(1), opaque_i(MALLOCX_LG_ALIGN(62))));
	expectf(p == NULL, "mallocx(1, 2^62 alignment) should fail");
	p = escape(mallocx(opaque((size_t)1 << 63),
	    opaque_i(MALLOCX_ALIGN((size_t)1 << 63))));
	expectf(p == NULL, "mallocx(2^63, 2^63 alignment) should fail");
	p = escape(mallocx(opaque(0xc000000000000001ULL),
	    opaque_i(MALLOCX_ALIGN((size_t)1 << 62))));
	expectf(p == NULL, "mallocx(0xc000000000000001, 2^62) should fail");
	/* Still working. */
	p = escape(mallocx(opaque(100), 0));
	assertf(p != NULL, "mallocx(100) after failures");
	dallocx(p, 0);
}

TEST(nallocx_limits) {
	expect_zu_eq(nallocx(opaque(LARGE_MAXCLASS), 0), LARGE_MAXCLASS,
	    "nallocx(LARGE_MAXCLASS)");
	expect_zu_eq(nallocx(opaque(LARGE_MAXCLASS - 1), 0), LARGE_MAXCLASS,
	    "nallocx(LARGE_MAXCLASS - 1)");
	expect_zu_eq(nallocx(opaque(LARGE_MAXCLASS + 1), 0), 0,
	    "nallocx(LARGE_MAXCLASS + 1)");
	expect_zu_eq(nallocx(opaque((size_t)PTRDIFF_MAX + 1), 0), 0,
	    "nallocx(PTRDIFF_MAX + 1)");
	expect_zu_eq(nallocx(opaque(SIZE_MAX), 0), 0, "nallocx(SIZE_MAX)");
	expect_zu_eq(nallocx(opaque(SIZE_MAX - 4095), 0), 0,
	    "nallocx(SIZE_MAX - 4095)");
	/* The last four classes: 2^62, 5*2^60, 6*2^60, 7*2^60. */
	const size_t g = (size_t)1 << 60;
	expect_zu_eq(nallocx(opaque(4 * g), 0), 4 * g, "nallocx(2^62)");
	expect_zu_eq(nallocx(opaque(4 * g + 1), 0), 5 * g, "nallocx(2^62+1)");
	expect_zu_eq(nallocx(opaque(5 * g + 1), 0), 6 * g,
	    "nallocx(5*2^60+1)");
	expect_zu_eq(nallocx(opaque(6 * g + 1), 0), 7 * g,
	    "nallocx(6*2^60+1)");
	expect_zu_eq(nallocx(opaque(3 * g + 1), 0), 7 * (g / 2),
	    "nallocx(3*2^60+1)");
	expect_zu_eq(nallocx(opaque(7 * (g / 2) + 1), 0), 4 * g,
	    "nallocx(7*2^59+1)");
	/* Alignment beyond the largest class. */
	expect_zu_eq(nallocx(opaque(1), opaque_i(MALLOCX_LG_ALIGN(63))), 0,
	    "nallocx(1, 2^63 alignment)");
	expect_zu_eq(nallocx(opaque((size_t)1 << 63),
	    opaque_i(MALLOCX_ALIGN((size_t)1 << 63))), 0,
	    "nallocx(2^63, 2^63 alignment)");
	expect_zu_eq(nallocx(opaque(LARGE_MAXCLASS), MALLOCX_LG_ALIGN(12)),
	    LARGE_MAXCLASS, "nallocx(LARGE_MAXCLASS, 4 KiB alignment)");
	/* Alignment rounds small sizes up. */
	expect_zu_eq(nallocx(opaque(1), MALLOCX_LG_ALIGN(4)), 16,
	    "nallocx(1, 16 alignment)");
	expect_zu_eq(nallocx(opaque(1), MALLOCX_LG_ALIGN(6)), 64,
	    "nallocx(1, 64 alignment)");
	expect_zu_eq(nallocx(opaque(65), MALLOCX_LG_ALIGN(6)), 128,
	    "nallocx(65, 64 alignment)");
	/* Page alignment or more always gives a large class (facts §5.4). */
	expect_zu_eq(nallocx(opaque(1), MALLOCX_LG_ALIGN(12)), LARGE_MINCLASS,
	    "nallocx(1, page alignment)");
	expect_zu_eq(nallocx(opaque(4096), MALLOCX_LG_ALIGN(12)),
	    LARGE_MINCLASS, "nallocx(4096, page alignment)");
	expect_zu_eq(nallocx(opaque(20000), MALLOCX_LG_ALIGN(13)), 20480,
	    "nallocx(20000, 8 KiB alignment)");
	expect_zu_eq(nallocx(opaque(100), MALLOCX_LG_ALIGN(11)), 2048,
	    "nallocx(100, 2 KiB alignment)");
	expect_zu_eq(nallocx(opaque(2049), MALLOCX_LG_ALIGN(11)), 4096,
	    "nallocx(2049, 2 KiB alignment)");
	expect_zu_eq(nallocx(opaque(14337), MALLOCX_LG_ALIGN(4)), 16384,
	    "nallocx(14337, 16 alignment)");
	expect_zu_eq(nallocx(opaque(100), MALLOCX_ZERO), 112,
	    "MALLOCX_ZERO does not change the size");
	expect_zu_eq(nallocx(opaque(100), MALLOCX_TCACHE_NONE), 112,
	    "MALLOCX_TCACHE_NONE does not change the size");
}

/* rallocx between many sizes, with and without MALLOCX_ZERO. */
TEST(rallocx_contents) {
	static const size_t sizes[] = {1, 8, 24, 100, 1000, 4096, 14336,
	    14337, 16384, 30000, 65536, 200000, (size_t)1 << 20,
	    ((size_t)3 << 20) + 7};
	enum { NS = sizeof(sizes) / sizeof(sizes[0]) };
	for (int zero = 0; zero < 2; zero++) {
		for (size_t i = 0; i < NS; i++) {
			for (size_t j = 0; j < NS; j++) {
				size_t a = sizes[i], b = sizes[j];
				unsigned char *p = escape(mallocx(opaque(a), 0));
				assertf(p != NULL, "mallocx(%zu) failed", a);
				size_t ua = sallocx(p, 0);
				if (zero)
					memset(p, 0xaa, ua);
				else
					fill(p, ua, a * 31 + b);
				int fl = zero ? MALLOCX_ZERO : 0;
				unsigned char *q = escape(rallocx(p, opaque(b),
				    opaque_i(fl)));
				assertf(q != NULL, "rallocx(%zu -> %zu) failed",
				    a, b);
				size_t ub = sallocx(q, 0);
				expectf(ub == nallocx(b, 0), "rallocx(%zu -> %zu):"
				    " usable %zu, nallocx %zu", a, b, ub,
				    nallocx(b, 0));
				size_t keep = ua < ub ? ua : ub;
				size_t bad;
				if (zero) {
					bad = first_not(q, 0, keep, 0xaa);
					expectf(bad == SIZE_MAX, "rallocx(%zu -> "
					    "%zu, ZERO): old byte %zu changed",
					    a, b, bad);
					bad = first_not(q, keep, ub, 0);
					expectf(bad == SIZE_MAX, "rallocx(%zu -> "
					    "%zu, ZERO): new byte %zu not zero",
					    a, b, bad);
				} else {
					size_t want = a < b ? a : b;
					bad = check(q, want, a * 31 + b);
					expectf(bad == SIZE_MAX, "rallocx(%zu -> "
					    "%zu): byte %zu changed", a, b, bad);
				}
				dallocx(q, 0);
			}
		}
	}
}

TEST(rallocx_align) {
	for (unsigned lg = 3; lg <= 22; lg += 1) {
		size_t align = (size_t)1 << lg;
		unsigned char *p = escape(mallocx(opaque(100), 0));
		assertf(p != NULL, "mallocx(100) failed");
		fill(p, 100, lg);
		unsigned char *q = escape(rallocx(p, opaque(200),
		    opaque_i(MALLOCX_LG_ALIGN(lg))));
		assertf(q != NULL, "rallocx(100 -> 200, align %zu) failed",
		    align);
		expectf(((uintptr_t)q & (align - 1)) == 0, "rallocx align %zu "
		    "gave %p", align, q);
		expectf(check(q, 100, lg) == SIZE_MAX, "rallocx align %zu lost "
		    "contents", align);
		expectf(sallocx(q, 0) == nallocx(200, MALLOCX_LG_ALIGN(lg)),
		    "rallocx align %zu: sallocx %zu != nallocx %zu", align,
		    sallocx(q, 0), nallocx(200, MALLOCX_LG_ALIGN(lg)));
		dallocx(q, 0);
	}
}

TEST(rallocx_failure) {
	static const size_t olds[] = {10, 5000, 20000, (size_t)1 << 20};
	static const size_t huge[] = {SIZE_MAX, LARGE_MAXCLASS + 1,
	    LARGE_MAXCLASS, (size_t)PTRDIFF_MAX + 1};
	for (size_t i = 0; i < sizeof(olds) / sizeof(olds[0]); i++) {
		void *p = escape(mallocx(opaque(olds[i]), 0));
		assertf(p != NULL, "mallocx(%zu) failed", olds[i]);
		size_t u = sallocx(p, 0);
		fill(p, u, 5 + i);
		for (size_t j = 0; j < sizeof(huge) / sizeof(huge[0]); j++) {
			void *q = escape(rallocx(p, opaque(huge[j]), 0));
			expectf(q == NULL, "rallocx(%zu -> %#zx) should fail",
			    olds[i], huge[j]);
			if (q != NULL) {
				dallocx(q, 0);
				test_leave();
			}
			expectf(sallocx(p, 0) == u, "usable size changed");
			expectf(check(p, u, 5 + i) == SIZE_MAX,
			    "rallocx failure changed the block");
		}
		void *q = escape(rallocx(p, opaque(1), opaque_i(
		    MALLOCX_LG_ALIGN(63))));
		expectf(q == NULL, "rallocx with 2^63 alignment should fail");
		if (q != NULL)
			p = q;
		else
			expectf(check(p, u, 5 + i) == SIZE_MAX,
			    "rallocx failure changed the block");
		dallocx(p, 0);
	}
}

/* xallocx on small blocks never changes the size class. */
TEST(xallocx_small) {
	static size_t cls[300];
	size_t n = lib_classes(cls, 300, (size_t)1 << 20);
	for (size_t i = 0; i < n && cls[i] <= SMALL_MAXCLASS; i++) {
		size_t c = cls[i];
		unsigned char *p = escape(mallocx(opaque(c), 0));
		assertf(p != NULL, "mallocx(%zu) failed", c);
		fill(p, c, c);
		/* Same size, smaller sizes, bigger classes, large sizes. */
		size_t targets[] = {c, c - 1, 1, c / 2 + 1, c + 1,
		    i + 1 < n ? cls[i + 1] : c, 2 * c, LARGE_MINCLASS,
		    (size_t)1 << 20, LARGE_MAXCLASS + 1, SIZE_MAX};
		for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]);
		    t++) {
			if (targets[t] == 0)
				continue;
			size_t r = xallocx(p, opaque(targets[t]), 0, 0);
			expectf(r == c, "xallocx(%zu-byte small block, %zu) = "
			    "%zu, expected the old size", c, targets[t], r);
			expectf(sallocx(p, 0) == c, "xallocx changed the small "
			    "block's size to %zu", sallocx(p, 0));
		}
		/* extra may not lift it to another class either. */
		size_t r = xallocx(p, opaque(c), opaque(100000), 0);
		expectf(r == c, "xallocx(%zu, %zu, extra 100000) = %zu", c, c,
		    r);
		r = xallocx(p, opaque(1), opaque(c - 1), 0);
		expectf(r == c, "xallocx(%zu, 1, extra %zu) = %zu", c, c - 1,
		    r);
		expectf(check(p, c, c) == SIZE_MAX, "xallocx changed contents "
		    "of a %zu-byte block", c);
		dallocx(p, 0);
	}
}

TEST(xallocx_large_shrink) {
	static const struct { size_t from, to; } cases[] = {
		{(size_t)1 << 20, (size_t)512 << 10},
		{(size_t)1 << 20, LARGE_MINCLASS},
		{(size_t)4 << 20, 20000},
		{65536, 32768}, {40960, 16384}, {(size_t)2 << 20, 300000},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char *p = escape(mallocx(opaque(cases[i].from), 0));
		assertf(p != NULL, "mallocx(%zu) failed", cases[i].from);
		size_t old = sallocx(p, 0);
		fill(p, old, i + 1);
		size_t want = nallocx(cases[i].to, 0);
		size_t r = xallocx(p, opaque(cases[i].to), 0, 0);
		expectf(r == want, "xallocx(%zu -> %zu) = %zu, expected an "
		    "in-place shrink to %zu", old, cases[i].to, r, want);
		expectf(sallocx(p, 0) == r, "sallocx %zu after xallocx "
		    "returned %zu", sallocx(p, 0), r);
		expectf(check(p, r < old ? r : old, i + 1) == SIZE_MAX,
		    "xallocx shrink changed the kept bytes");
		/* The block is still fully usable at its new size. */
		memset(p, 0x77, sallocx(p, 0));
		/* Memory freed by the shrink can be allocated again. */
		void *o = escape(mallocx(opaque(r < old ? old - r : 1), 0));
		assertf(o != NULL, "allocation after shrink failed");
		memset(o, 0x66, sallocx(o, 0));
		expectf(first_not(p, 0, sallocx(p, 0), 0x77) == SIZE_MAX,
		    "another block overlaps the shrunk block");
		dallocx(o, 0);
		dallocx(p, 0);
	}
}

TEST(xallocx_large_to_small_fails) {
	unsigned char *p = escape(mallocx(opaque(100000), 0));
	assertf(p != NULL, "mallocx(100000) failed");
	size_t old = sallocx(p, 0);
	fill(p, old, 9);
	size_t r = xallocx(p, opaque(100), 0, 0);
	expectf(r == old, "xallocx(large -> 100) = %zu, expected the old size "
	    "%zu", r, old);
	r = xallocx(p, opaque(SMALL_MAXCLASS), 0, 0);
	expectf(r == old, "xallocx(large -> SMALL_MAXCLASS) = %zu", r);
	r = xallocx(p, opaque(LARGE_MAXCLASS + 1), 0, 0);
	expectf(r == old, "xallocx(large -> LARGE_MAXCLASS+1) = %zu", r);
	r = xallocx(p, opaque(SIZE_MAX), 0, 0);
	expectf(r == old, "xallocx(large -> SIZE_MAX) = %zu", r);
	expectf(sallocx(p, 0) == old, "size changed");
	expectf(check(p, old, 9) == SIZE_MAX, "contents changed");
	dallocx(p, 0);
}

TEST(xallocx_large_grow) {
	static const size_t sizes[] = {LARGE_MINCLASS, 20000, 65536, 100000,
	    (size_t)1 << 20};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = escape(mallocx(opaque(sizes[i]), 0));
		assertf(p != NULL, "mallocx(%zu) failed", sizes[i]);
		size_t old = sallocx(p, 0);
		fill(p, old, 40 + i);
		size_t targets[] = {old, old + 1, 2 * old, old + 4096};
		for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]);
		    t++) {
			size_t cur = sallocx(p, 0);
			size_t want = nallocx(targets[t], 0);
			size_t r = xallocx(p, opaque(targets[t]), 0, 0);
			/* Either it grew in place to the class, or nothing. */
			expectf(r == want || r == cur, "xallocx(%zu -> %zu) = "
			    "%zu: neither %zu nor %zu", cur, targets[t], r,
			    want, cur);
			expectf(sallocx(p, 0) == r, "sallocx %zu != xallocx "
			    "result %zu", sallocx(p, 0), r);
			expectf(check(p, old, 40 + i) == SIZE_MAX,
			    "xallocx grow changed the old bytes");
			if (r > old && r == sallocx(p, 0))
				memset(p + old, 0x33, r - old);
		}
		/* With extra: result within [min(cur, size), size+extra]. */
		size_t cur = sallocx(p, 0);
		size_t r = xallocx(p, opaque(cur), opaque(cur), 0);
		expectf(r >= cur && r <= nallocx(2 * cur, 0), "xallocx(%zu, "
		    "extra %zu) = %zu", cur, cur, r);
		expectf(sallocx(p, 0) == r, "sallocx != xallocx result");
		/* Absurd extra is clamped, not overflowed. */
		cur = sallocx(p, 0);
		r = xallocx(p, opaque(cur), opaque(SIZE_MAX), 0);
		expectf(r >= cur, "xallocx(%zu, extra SIZE_MAX) = %zu", cur, r);
		expectf(sallocx(p, 0) == r, "sallocx != xallocx result");
		expectf(check(p, old, 40 + i) == SIZE_MAX,
		    "xallocx changed the old bytes");
		dallocx(p, 0);
	}
}

TEST(xallocx_zero) {
	/* Growth in place with MALLOCX_ZERO zeroes the new bytes. */
	for (int round = 0; round < 8; round++) {
		/* Dirty some memory first so reuse would show garbage. */
		void *d = escape(mallocx(opaque((size_t)1 << 20), 0));
		assertf(d != NULL, "mallocx failed");
		memset(d, 0xdd, (size_t)1 << 20);
		dallocx(d, 0);
		unsigned char *p = escape(mallocx(opaque(LARGE_MINCLASS), 0));
		assertf(p != NULL, "mallocx failed");
		size_t old = sallocx(p, 0);
		memset(p, 0xaa, old);
		size_t r = xallocx(p, opaque(old * 4), 0, MALLOCX_ZERO);
		expectf(first_not(p, 0, old, 0xaa) == SIZE_MAX,
		    "old bytes changed");
		if (r > old) {
			size_t bad = first_not(p, old, r, 0);
			expectf(bad == SIZE_MAX, "xallocx(ZERO) grew to %zu but "
			    "byte %zu is not zero", r, bad);
		}
		dallocx(p, 0);
	}
}

TEST(tcache_none) {
	static const size_t sizes[] = {1, 16, 100, 1000, 4096, 14336, 16384,
	    32768, 40000, (size_t)1 << 20};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t s = sizes[i];
		for (int mode = 0; mode < 4; mode++) {
			int af = (mode & 1) ? MALLOCX_TCACHE_NONE : 0;
			int df = (mode & 2) ? MALLOCX_TCACHE_NONE : 0;
			void *ps[20];
			for (int k = 0; k < 20; k++) {
				ps[k] = escape(mallocx(opaque(s),
				    opaque_i(af)));
				assertf(ps[k] != NULL, "mallocx(%zu, %#x) failed",
				    s, af);
				memset(ps[k], k, s);
			}
			for (int k = 0; k < 20; k++) {
				if (first_not(ps[k], 0, s, (unsigned char)k) !=
				    SIZE_MAX)
					expectf(false, "block %d of size %zu "
					    "clobbered", k, s);
			}
			for (int k = 0; k < 20; k++)
				dallocx(ps[k], df);
		}
		/* free() of a TCACHE_NONE block and vice versa. */
		void *p = escape(mallocx(opaque(s), MALLOCX_TCACHE_NONE));
		assertf(p != NULL, "mallocx failed");
		free(p);
		p = escape(malloc(opaque(s)));
		assertf(p != NULL, "malloc failed");
		dallocx(p, MALLOCX_TCACHE_NONE);
		p = escape(mallocx(opaque(s), MALLOCX_TCACHE_NONE |
		    MALLOCX_ZERO));
		assertf(p != NULL, "mallocx failed");
		expectf(first_not(p, 0, s, 0) == SIZE_MAX, "TCACHE_NONE|ZERO "
		    "not zeroed");
		p = escape(rallocx(p, opaque(2 * s), MALLOCX_TCACHE_NONE));
		assertf(p != NULL, "rallocx failed");
		sdallocx(p, 2 * s, MALLOCX_TCACHE_NONE);
	}
}

/* sdallocx with the requested size and with the usable size. */
TEST(sdallocx_sizes) {
	static size_t cls[300];
	size_t n = lib_classes(cls, 300, (size_t)4 << 20);
	enum { N = 8 };
	for (size_t i = 0; i < n; i++) {
		size_t c = cls[i];
		size_t prev = i ? cls[i - 1] : 0;
		size_t reqs[2] = {prev + 1, c};
		for (int k = 0; k < 2; k++) {
			void *ps[N];
			for (int j = 0; j < N; j++) {
				ps[j] = escape(mallocx(opaque(reqs[k]), 0));
				assertf(ps[j] != NULL, "mallocx(%zu) failed",
				    reqs[k]);
				/* Touch the first page and the last byte. */
				memset(ps[j], j + 1, reqs[k] < 4096 ? reqs[k] :
				    4096);
				((unsigned char *)ps[j])[reqs[k] - 1] = 1;
			}
			for (int j = 0; j < N; j++) {
				/* Half with the request, half with usable. */
				size_t sz = (j & 1) ? sallocx(ps[j], 0) :
				    reqs[k];
				sdallocx(ps[j], sz, 0);
			}
		}
	}
	/* Blocks handed out after all that do not overlap. */
	enum { M = 200 };
	static unsigned char *qs[M];
	for (int j = 0; j < M; j++) {
		size_t s = (size_t)(j * 97 % 3000) + 1;
		qs[j] = escape(mallocx(opaque(s), 0));
		assertf(qs[j] != NULL, "mallocx failed");
		memset(qs[j], j, s);
	}
	for (int j = 0; j < M; j++) {
		size_t s = (size_t)(j * 97 % 3000) + 1;
		if (first_not(qs[j], 0, s, (unsigned char)j) != SIZE_MAX)
			expectf(false, "block %d clobbered", j);
		sdallocx(qs[j], s, 0);
	}
}

TEST(sdallocx_aligned) {
	for (unsigned lg = 3; lg <= 16; lg++) {
		int fl = MALLOCX_LG_ALIGN(lg);
		static const size_t sizes[] = {1, 50, 1000, 5000, 20000};
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			void *p = escape(mallocx(opaque(sizes[i]), opaque_i(fl)));
			assertf(p != NULL, "mallocx(%zu, lg align %u) failed",
			    sizes[i], lg);
			memset(p, 1, sizes[i]);
			sdallocx(p, sizes[i], fl);
			p = escape(mallocx(opaque(sizes[i]), opaque_i(fl)));
			assertf(p != NULL, "mallocx(%zu, lg align %u) failed",
			    sizes[i], lg);
			sdallocx(p, sallocx(p, 0), fl);
		}
	}
}

TEST(arena_zero) {
	static const size_t sizes[] = {1, 100, 5000, 20000, (size_t)1 << 20};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int fl[3] = {MALLOCX_ARENA(0), MALLOCX_ARENA(0) |
		    MALLOCX_TCACHE_NONE, MALLOCX_ARENA(0) | MALLOCX_ZERO};
		for (int f = 0; f < 3; f++) {
			unsigned char *p = escape(mallocx(opaque(sizes[i]),
			    opaque_i(fl[f])));
			assertf(p != NULL, "mallocx(%zu, %#x) failed", sizes[i],
			    fl[f]);
			if (fl[f] & MALLOCX_ZERO)
				expectf(first_not(p, 0, sizes[i], 0) ==
				    SIZE_MAX, "ARENA(0)|ZERO not zeroed");
			fill(p, sizes[i], i);
			p = escape(rallocx(p, opaque(sizes[i] * 2),
			    opaque_i(fl[f])));
			assertf(p != NULL, "rallocx with ARENA(0) failed");
			expectf(check(p, sizes[i], i) == SIZE_MAX,
			    "rallocx with ARENA(0) lost contents");
			xallocx(p, opaque(sizes[i]), 0, fl[f]);
			dallocx(p, fl[f]);
		}
	}
}

/* The x-functions and the standard ones mix freely. */
TEST(mix_with_standard) {
	void *p = escape(malloc(opaque(1000)));
	assertf(p != NULL, "malloc failed");
	expect_zu_eq(sallocx(p, 0), 1024, "sallocx(malloc(1000))");
	p = escape(rallocx(p, opaque(3000), 0));
	assertf(p != NULL, "rallocx failed");
	p = escape(realloc(p, opaque(5000)));
	assertf(p != NULL, "realloc failed");
	expect_zu_eq(sallocx(p, 0), 5120, "sallocx after realloc");
	dallocx(p, 0);
	p = escape(mallocx(opaque(1000), 0));
	assertf(p != NULL, "mallocx failed");
	free(p);
	p = escape(calloc(opaque(10), opaque(10)));
	assertf(p != NULL, "calloc failed");
	sdallocx(p, 100, 0);
}

/* sallocx ignores its flags; dallocx uses only the tcache bits. */
TEST(flags_ignored) {
	static const int junk_flags[] = {MALLOCX_LG_ALIGN(12), MALLOCX_ZERO,
	    MALLOCX_LG_ALIGN(6) | MALLOCX_ZERO, MALLOCX_ARENA(0),
	    MALLOCX_LG_ALIGN(20)};
	static const size_t sizes[] = {10, 3000, 20000, (size_t)1 << 20};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (size_t f = 0; f < sizeof(junk_flags) / sizeof(junk_flags[0]);
		    f++) {
			void *p = escape(mallocx(opaque(sizes[i]), 0));
			assertf(p != NULL, "mallocx(%zu) failed", sizes[i]);
			size_t u = sallocx(p, 0);
			expectf(sallocx(p, junk_flags[f]) == u, "sallocx(p, %#x) "
			    "= %zu, sallocx(p, 0) = %zu", junk_flags[f],
			    sallocx(p, junk_flags[f]), u);
			dallocx(p, junk_flags[f]);
		}
	}
	/* The blocks freed that way are reused normally. */
	for (int i = 0; i < 100; i++) {
		void *p = escape(mallocx(opaque((size_t)i * 300 + 1), 0));
		assertf(p != NULL, "mallocx failed");
		memset(p, 0x44, (size_t)i * 300 + 1);
		dallocx(p, 0);
	}
}

int
main(void) {
	return test_run(
	    TEST_CASE(classes_match_spec),
	    TEST_CASE(mallocx_every_class),
	    TEST_CASE(mallocx_zero),
	    TEST_CASE(mallocx_align_sweep),
	    TEST_CASE(mallocx_align_flag_encoding),
	    TEST_CASE(mallocx_huge_fails),
	    TEST_CASE(nallocx_limits),
	    TEST_CASE(rallocx_contents),
	    TEST_CASE(rallocx_align),
	    TEST_CASE(rallocx_failure),
	    TEST_CASE(xallocx_small),
	    TEST_CASE(xallocx_large_shrink),
	    TEST_CASE(xallocx_large_to_small_fails),
	    TEST_CASE(xallocx_large_grow),
	    TEST_CASE(xallocx_zero),
	    TEST_CASE(tcache_none),
	    TEST_CASE(sdallocx_sizes),
	    TEST_CASE(sdallocx_aligned),
	    TEST_CASE(arena_zero),
	    TEST_CASE(mix_with_standard),
	    TEST_CASE(flags_ignored));
}
