/*
 * calloc(): zeroed memory (fresh and after reuse of dirtied memory),
 * num*size overflow, zero operands.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"
#include "test_alloc.h"

/* Offset of the first non-zero byte, or SIZE_MAX. */
static size_t
first_nonzero(const void *p, size_t n) {
	const unsigned char *b = p;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, b + i, 8);
		if (w != 0)
			break;
	}
	for (; i < n; i++) {
		if (b[i] != 0)
			return i;
	}
	return SIZE_MAX;
}

static void
check_zeroed(void *p, size_t num, size_t size, const char *what) {
	assertf(p != NULL, "%s: calloc(%zu, %zu) returned NULL", what, num,
	    size);
	size_t u = malloc_usable_size(p);
	expectf(u >= num * size, "%s: calloc(%zu, %zu): usable size %zu", what,
	    num, size, u);
	/* The requested bytes must be zero. */
	size_t bad = first_nonzero(p, num * size);
	expectf(bad == SIZE_MAX, "%s: calloc(%zu, %zu) = %p: byte %zu is not "
	    "zero", what, num, size, p, bad);
}

TEST(fresh_zeroed) {
	static size_t classes[200];
	size_t nc = gen_classes(classes, 200, (size_t)8 << 20);
	for (size_t c = 0; c < nc; c++) {
		size_t sizes[3] = {classes[c] - 1, classes[c], classes[c] + 1};
		for (int k = 0; k < 3; k++) {
			if (sizes[k] == 0)
				continue;
			void *p = escape(calloc(1, opaque(sizes[k])));
			check_zeroed(p, 1, sizes[k], "fresh");
			free(p);
		}
	}
	/* num > 1 */
	void *p = escape(calloc(opaque(1000), opaque(24)));
	check_zeroed(p, 1000, 24, "array");
	free(p);
	p = escape(calloc(opaque(3), opaque(100000)));
	check_zeroed(p, 3, 100000, "array");
	free(p);
}

/* malloc, dirty with 0xff, free, calloc the same size: zero again. */
TEST(reused_zeroed) {
	static size_t classes[200];
	size_t nc = gen_classes(classes, 200, (size_t)4 << 20);
	for (int round = 0; round < 3; round++) {
		for (size_t c = 0; c < nc; c++) {
			size_t s = classes[c];
			void *d = escape(malloc(opaque(s)));
			assertf(d != NULL, "malloc(%zu) failed", s);
			memset(d, 0xff, malloc_usable_size(d));
			free(d);
			void *p = escape(calloc(1, opaque(s)));
			check_zeroed(p, 1, s, "reused");
			/* Also the full usable size of a same-class block. */
			free(p);
		}
	}
}

/* Many dirtied blocks of a size freed at once, then many callocs. */
TEST(reused_zeroed_batch) {
	static const size_t sizes[] = {8, 40, 96, 500, 2048, 3000, 8192, 14336,
	    16384, 20000, 65536, 200000};
	enum { N = 200 };
	static void *ps[N];
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		size_t s = sizes[si];
		for (int i = 0; i < N; i++) {
			ps[i] = escape(malloc(opaque(s)));
			assertf(ps[i] != NULL, "malloc(%zu) failed", s);
			memset(ps[i], 0xff, malloc_usable_size(ps[i]));
		}
		for (int i = 0; i < N; i++)
			free(ps[i]);
		for (int i = 0; i < N; i++) {
			ps[i] = escape(calloc(opaque(s), 1));
			check_zeroed(ps[i], s, 1, "batch");
			/* Dirty it again for the next calloc of this size. */
			if (ps[i] != NULL)
				memset(ps[i], 0xee, s);
		}
		for (int i = 0; i < N; i++)
			free(ps[i]);
		for (int i = 0; i < N; i++) {
			ps[i] = escape(calloc(1, opaque(s)));
			check_zeroed(ps[i], 1, s, "batch2");
		}
		for (int i = 0; i < N; i++)
			free(ps[i]);
	}
}

/* Realloc-shrunk large blocks: the trimmed tail must not leak into calloc. */
TEST(reused_after_realloc_shrink) {
	for (int round = 0; round < 20; round++) {
		void *p = escape(malloc(opaque(1 << 20)));
		assertf(p != NULL, "malloc(1 MiB) failed");
		memset(p, 0xff, 1 << 20);
		void *q = escape(realloc(p, opaque(20000)));
		assertf(q != NULL, "realloc shrink failed");
		void *z = escape(calloc(1, opaque(500000)));
		check_zeroed(z, 1, 500000, "after shrink");
		free(z);
		free(q);
	}
}

static void
calloc_must_fail(size_t num, size_t size) {
	errno = 0;
	void *p = escape(calloc(opaque(num), opaque(size)));
	int e = errno;
	expectf(p == NULL, "calloc(%#zx, %#zx) should fail", num, size);
	expectf(e == ENOMEM, "calloc(%#zx, %#zx) set errno to %d, not ENOMEM",
	    num, size, e);
	if (p != NULL)
		free(p);
}

TEST(overflow) {
	calloc_must_fail(SIZE_MAX / 2 + 1, 2);
	calloc_must_fail(2, SIZE_MAX / 2 + 1);
	calloc_must_fail((size_t)1 << 32, (size_t)1 << 32);
	calloc_must_fail(((size_t)1 << 32) + 1, ((size_t)1 << 32) - 1);
	calloc_must_fail(SIZE_MAX, SIZE_MAX);
	calloc_must_fail(SIZE_MAX, 2);
	calloc_must_fail(3, SIZE_MAX / 3 + 1);
	calloc_must_fail((size_t)1 << 63, 2);
	calloc_must_fail(((size_t)1 << 33) + 1, (size_t)1 << 31);
	/* Products that fit but exceed the largest class or memory. */
	calloc_must_fail(SIZE_MAX, 1);
	calloc_must_fail(1, SIZE_MAX);
	calloc_must_fail(0xffffffff, 0xffffffff);
	calloc_must_fail((size_t)1 << 31, (size_t)1 << 31);
	calloc_must_fail(0x7000000000000001ULL, 1);
	calloc_must_fail(1, 0x7000000000000001ULL);
	/* Still working afterwards. */
	void *p = escape(calloc(opaque(10), opaque(10)));
	check_zeroed(p, 10, 10, "after overflow");
	free(p);
}

TEST(zero_operands) {
	static const size_t other[] = {0, 1, 7, 4096, (size_t)1 << 32,
	    SIZE_MAX / 2 + 1, SIZE_MAX};
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		errno = 0;
		void *a = escape(calloc(opaque(0), opaque(other[i])));
		expectf(a != NULL, "calloc(0, %#zx) returned NULL", other[i]);
		void *b = escape(calloc(opaque(other[i]), opaque(0)));
		expectf(b != NULL, "calloc(%#zx, 0) returned NULL", other[i]);
		if (a != NULL && b != NULL)
			expectf(a != b, "two live calloc results are equal");
		if (a != NULL) {
			expectf(malloc_usable_size(a) >= 1, "usable size 0");
			expectf(*(volatile unsigned char *)a == 0,
			    "calloc(0, x) byte not zero");
		}
		free(a);
		free(b);
	}
}

int
main(void) {
	return test_run(
	    TEST_CASE(fresh_zeroed),
	    TEST_CASE(reused_zeroed),
	    TEST_CASE(reused_zeroed_batch),
	    TEST_CASE(reused_after_realloc_shrink),
	    TEST_CASE(overflow),
	    TEST_CASE(zero_operands));
}
