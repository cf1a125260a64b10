/*
 * posix_memalign, aligned_alloc, memalign, valloc (and pvalloc in the
 * unprefixed build): argument checks, error reporting, alignment sweep.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"
#include "test_alloc.h"

#define MAX_ALIGN ((size_t)8 << 20)

/*
 * Checks a block returned for a request of size bytes at the given
 * alignment: non-NULL, aligned, at least min_usable usable bytes, all of
 * them writable.
 */
static void
check_block(void *p, size_t size, size_t min_usable, size_t align,
    const char *what) {
	assertf(p != NULL, "%s(align %zu, size %zu) returned NULL", what,
	    align, size);
	expectf(((uintptr_t)p & (align - 1)) == 0,
	    "%s(align %zu, size %zu) = %p is misaligned", what, align, size, p);
	size_t u = malloc_usable_size(p);
	if (min_usable == 0)
		min_usable = 1;
	expectf(u >= min_usable, "%s(align %zu, size %zu): usable size %zu",
	    what, align, size, u);
	if (u == 0)
		return;
	unsigned char *b = p;
	unsigned char v = (unsigned char)(align * 7 + size);
	memset(b, v, u);
	for (size_t i = 0; i < u; i += 509) {
		if (b[i] != v) {
			expectf(false, "%s(align %zu, size %zu): byte %zu not "
			    "writable", what, align, size, i);
			break;
		}
	}
	if (b[u - 1] != v)
		expectf(false, "%s(align %zu, size %zu): last byte not writable",
		    what, align, size);
}

/* Non-powers of two and values below 8 that posix_memalign rejects. */
static const size_t bad_pm_aligns[] = {0, 1, 2, 3, 4, 5, 6, 7, 9, 12, 24, 48,
    96, 100, 4095, 4097, 12288, (size_t)3 << 20, ((size_t)1 << 40) + 8,
    SIZE_MAX, SIZE_MAX - 1, ((size_t)1 << 63) + 1};

TEST(posix_memalign_einval) {
	for (size_t i = 0; i < sizeof(bad_pm_aligns) / sizeof(bad_pm_aligns[0]);
	    i++) {
		static const size_t sizes[] = {0, 1, 100, 100000};
		for (size_t j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {
			void *sentinel = (void *)(uintptr_t)0x1234;
			void *p = sentinel;
			errno = 4321;
			int r = posix_memalign(&p, opaque(bad_pm_aligns[i]),
			    opaque(sizes[j]));
			int e = errno;
			expectf(r == EINVAL, "posix_memalign(align %#zx, size "
			    "%zu) returned %d, not EINVAL", bad_pm_aligns[i],
			    sizes[j], r);
			expectf(p == sentinel, "posix_memalign(align %#zx) "
			    "wrote *memptr on error", bad_pm_aligns[i]);
			expectf(e == 4321, "posix_memalign(align %#zx) changed "
			    "errno to %d", bad_pm_aligns[i], e);
			if (r == 0 && p != sentinel)
				free(p);
		}
	}
}

TEST(posix_memalign_enomem) {
	/*
	 * arith: the request is impossible on its face (size or alignment
	 * beyond the largest class), so the call fails before any system
	 * call and errno must stay untouched.  The others are valid requests
	 * that the OS cannot map; a failed mmap may leave errno set, so only
	 * the return value and *memptr are checked.
	 */
	static const struct { size_t align, size; bool arith; } cases[] = {
		{8, SIZE_MAX, true}, {8, SIZE_MAX - 4095, true},
		{16, (size_t)PTRDIFF_MAX + 1, true},
		{4096, 0x7000000000000001ULL, true}, {4096, SIZE_MAX, true},
		{(size_t)1 << 20, 0x7000000000000001ULL, true},
		{(size_t)1 << 63, 1, true}, {(size_t)1 << 63, (size_t)1 << 63, true},
		{(size_t)1 << 62, 0xc000000000000001ULL, true},
		{8, 0x7000000000000000ULL, false}, {(size_t)1 << 62, 1, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		void *sentinel = (void *)(uintptr_t)0x5678;
		void *p = sentinel;
		errno = 4321;
		int r = posix_memalign(&p, opaque(cases[i].align),
		    opaque(cases[i].size));
		int e = errno;
		expectf(r == ENOMEM, "posix_memalign(align %#zx, size %#zx) "
		    "returned %d, not ENOMEM", cases[i].align, cases[i].size, r);
		expectf(p == sentinel, "posix_memalign(align %#zx, size %#zx) "
		    "wrote *memptr on error", cases[i].align, cases[i].size);
		if (cases[i].arith) {
			expectf(e == 4321, "posix_memalign(align %#zx, size "
			    "%#zx) changed errno to %d", cases[i].align,
			    cases[i].size, e);
		}
		if (r == 0 && p != sentinel)
			free(p);
	}
}

TEST(posix_memalign_sweep) {
	for (size_t align = 8; align <= MAX_ALIGN; align <<= 1) {
		size_t sizes[5] = {0, 1, align / 2, align, 3 * align};
		void *ps[5];
		for (int k = 0; k < 5; k++) {
			ps[k] = NULL;
			int r = posix_memalign(&ps[k], opaque(align),
			    opaque(sizes[k]));
			expectf(r == 0, "posix_memalign(align %zu, size %zu) "
			    "returned %d", align, sizes[k], r);
			if (r != 0) {
				ps[k] = NULL;
				continue;
			}
			check_block(ps[k], sizes[k], sizes[k], align,
			    "posix_memalign");
		}
		for (int k = 0; k < 5; k++) {
			for (int m = k + 1; m < 5; m++) {
				if (ps[k] != NULL && ps[k] == ps[m])
					expectf(false, "two live blocks equal");
			}
		}
		for (int k = 0; k < 5; k++)
			free(ps[k]);
	}
}

/* Many live blocks at a mid-size alignment: all aligned and disjoint. */
TEST(posix_memalign_many) {
	static const size_t aligns[] = {64, 256, 4096, 65536};
	enum { N = 64 };
	static void *ps[N];
	for (size_t a = 0; a < sizeof(aligns) / sizeof(aligns[0]); a++) {
		size_t align = aligns[a];
		for (int i = 0; i < N; i++) {
			int r = posix_memalign(&ps[i], opaque(align),
			    opaque((size_t)(i * 37 % 300) + 1));
			assertf(r == 0, "posix_memalign(%zu) returned %d", align,
			    r);
			expectf(((uintptr_t)ps[i] & (align - 1)) == 0,
			    "misaligned %p for %zu", ps[i], align);
			memset(ps[i], i, (size_t)(i * 37 % 300) + 1);
		}
		for (int i = 0; i < N; i++) {
			unsigned char *b = ps[i];
			size_t n = (size_t)(i * 37 % 300) + 1;
			if (b[0] != (unsigned char)i || b[n - 1] !=
			    (unsigned char)i)
				expectf(false, "block %d (align %zu) clobbered",
				    i, align);
		}
		for (int i = 0; i < N; i++)
			free(ps[i]);
	}
}

TEST(aligned_alloc_einval) {
	size_t bad[70];
	size_t n = 0;
	bad[n++] = 0;
	for (unsigned k = 1; k < 64; k++)
		bad[n++] = ((size_t)1 << k) + 1;
	bad[n++] = 12;
	bad[n++] = 24;
	bad[n++] = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		errno = 0;
		void *p = escape(aligned_alloc(opaque(bad[i]), opaque(64)));
		int e = errno;
		expectf(p == NULL, "aligned_alloc(%#zx, 64) should fail",
		    bad[i]);
		expectf(e == EINVAL, "aligned_alloc(%#zx, 64) set errno to %d, "
		    "not EINVAL", bad[i], e);
		if (p != NULL)
			free(p);
	}
}

TEST(aligned_alloc_enomem) {
	static const struct { size_t align, size; } cases[] = {
		{(size_t)1 << 63, (size_t)1 << 63},
		{(size_t)1 << 62, 0xc000000000000001ULL},
		{16, 0xfffffffffffffff0ULL},
		{8, SIZE_MAX}, {4096, 0x7000000000000001ULL},
		{(size_t)1 << 63, 1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		errno = 0;
		void *p = escape(aligned_alloc(opaque(cases[i].align),
		    opaque(cases[i].size)));
		int e = errno;
		expectf(p == NULL, "aligned_alloc(%#zx, %#zx) should fail",
		    cases[i].align, cases[i].size);
		expectf(e == ENOMEM, "aligned_alloc(%#zx, %#zx) set errno to %d, "
		    "not ENOMEM", cases[i].align, cases[i].size, e);
		if (p != NULL)
			free(p);
	}
}

TEST(aligned_alloc_sweep) {
	/* Alignments 1, 2 and 4 are valid for aligned_alloc. */
	for (size_t align = 1; align <= MAX_ALIGN; align <<= 1) {
		size_t sizes[5] = {0, 1, align / 2 ? align / 2 : 1, align,
		    3 * align};
		void *ps[5];
		for (int k = 0; k < 5; k++) {
			ps[k] = escape(aligned_alloc(opaque(align),
			    opaque(sizes[k])));
			check_block(ps[k], sizes[k], sizes[k], align,
			    "aligned_alloc");
		}
		for (int k = 0; k < 5; k++)
			free(ps[k]);
	}
	/* Size need not be a multiple of the alignment; size 0 works. */
	void *p = escape(aligned_alloc(opaque(64), opaque(100)));
	check_block(p, 100, 100, 64, "aligned_alloc");
	free(p);
	p = escape(aligned_alloc(opaque(64), opaque(0)));
	check_block(p, 0, 1, 64, "aligned_alloc");
	free(p);
}

TEST(memalign_basic) {
	for (size_t align = 1; align <= MAX_ALIGN; align <<= 1) {
		size_t sizes[5] = {0, 1, align / 2 ? align / 2 : 1, align,
		    3 * align};
		void *ps[5];
		for (int k = 0; k < 5; k++) {
			ps[k] = escape(memalign(opaque(align),
			    opaque(sizes[k])));
			check_block(ps[k], sizes[k], sizes[k], align,
			    "memalign");
		}
		for (int k = 0; k < 5; k++)
			free(ps[k]);
	}
	/* Invalid alignments and impossible sizes give NULL. */
	static const size_t bad[] = {0, 3, 5, 24, 4097, SIZE_MAX};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		void *p = escape(memalign(opaque(bad[i]), opaque(64)));
		expectf(p == NULL, "memalign(%#zx, 64) should fail", bad[i]);
		if (p != NULL)
			free(p);
	}
	void *p = escape(memalign(opaque(8), opaque(SIZE_MAX)));
	expectf(p == NULL, "memalign(8, SIZE_MAX) should fail");
	p = escape(memalign(opaque(4096), opaque(0x7000000000000001ULL)));
	expectf(p == NULL, "memalign(4096, LARGE_MAXCLASS+1) should fail");
}

TEST(valloc_basic) {
	static const size_t sizes[] = {0, 1, 100, 4095, 4096, 4097, 5000, 20000,
	    (size_t)1 << 20, ((size_t)3 << 20) + 5};
	enum { NS = sizeof(sizes) / sizeof(sizes[0]) };
	void *ps[NS];
	for (size_t i = 0; i < NS; i++) {
		ps[i] = escape(valloc(opaque(sizes[i])));
		check_block(ps[i], sizes[i], sizes[i], 4096, "valloc");
	}
	for (size_t i = 0; i < NS; i++)
		free(ps[i]);
	void *p = escape(valloc(opaque(SIZE_MAX)));
	expectf(p == NULL, "valloc(SIZE_MAX) should fail");
	p = escape(valloc(opaque(0x7000000000000001ULL)));
	expectf(p == NULL, "valloc(LARGE_MAXCLASS+1) should fail");
}

typedef void *(pvalloc_t)(size_t);

TEST(pvalloc_unprefixed) {
	if (library_is_prefixed())
		test_skip("prefixed build: pvalloc is libc's");
	pvalloc_t *pv = (pvalloc_t *)dlsym(RTLD_DEFAULT, "pvalloc");
	if (pv == NULL || !in_jemalloc((void *)pv))
		test_skip("the library does not export pvalloc");
	static const struct { size_t size, min_usable; } cases[] = {
		{1, 4096}, {100, 4096}, {4096, 4096}, {4097, 8192},
		{5000, 8192}, {20000, 20480}, {(size_t)1 << 20, (size_t)1 << 20},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		void *p = escape(pv(opaque(cases[i].size)));
		check_block(p, cases[i].size, cases[i].min_usable, 4096,
		    "pvalloc");
		free(p);
	}
	void *p = escape(pv(opaque(0)));
	expectf(p != NULL, "pvalloc(0) returned NULL");
	if (p != NULL) {
		expectf(((uintptr_t)p & 4095) == 0, "pvalloc(0) misaligned");
		free(p);
	}
	p = escape(pv(opaque(SIZE_MAX)));
	expectf(p == NULL, "pvalloc(SIZE_MAX) should fail");
	p = escape(pv(opaque(SIZE_MAX - 4000)));
	expectf(p == NULL, "pvalloc(SIZE_MAX - 4000) should fail");
}

/* Aligned blocks can be reallocated and freed like any other. */
TEST(aligned_then_realloc) {
	void *p = NULL;
	int r = posix_memalign(&p, opaque(4096), opaque(100));
	assertf(r == 0 && p != NULL, "posix_memalign failed");
	memset(p, 0x3c, 100);
	void *q = escape(realloc(p, opaque(300000)));
	assertf(q != NULL, "realloc failed");
	unsigned char *b = q;
	for (int i = 0; i < 100; i++) {
		if (b[i] != 0x3c) {
			expectf(false, "byte %d lost", i);
			break;
		}
	}
	free(q);
}

int
main(void) {
	return test_run(
	    TEST_CASE(posix_memalign_einval),
	    TEST_CASE(posix_memalign_enomem),
	    TEST_CASE(posix_memalign_sweep),
	    TEST_CASE(posix_memalign_many),
	    TEST_CASE(aligned_alloc_einval),
	    TEST_CASE(aligned_alloc_enomem),
	    TEST_CASE(aligned_alloc_sweep),
	    TEST_CASE(memalign_basic),
	    TEST_CASE(valloc_basic),
	    TEST_CASE(pvalloc_unprefixed),
	    TEST_CASE(aligned_then_realloc));
}
