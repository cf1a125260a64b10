/*
 * realloc() (and reallocarray() where the library exports it): NULL and 0
 * arguments, contents kept across small/large growth and shrinking,
 * failure leaves the old block intact.
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

/*
 * Returns p in a way the compiler cannot follow, so that reading the old
 * block after a failed realloc() does not draw -Wuse-after-free.
 */
static void *
launder(void *p) {
	__asm__ volatile("" : "+r"(p) : : "memory");
	return p;
}

TEST(null_ptr) {
	static const size_t sizes[] = {1, 8, 100, 4096, 14336, 16384, 100000,
	    (size_t)3 << 20};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		void *p = escape(realloc(NULL, opaque(sizes[i])));
		assertf(p != NULL, "realloc(NULL, %zu) returned NULL", sizes[i]);
		expectf(malloc_usable_size(p) >= sizes[i],
		    "realloc(NULL, %zu): usable size %zu", sizes[i],
		    malloc_usable_size(p));
		memset(p, 0x5a, sizes[i]);
		free(p);
	}
}

TEST(null_ptr_zero_size) {
	void *p = escape(realloc(NULL, opaque(0)));
	assertf(p != NULL, "realloc(NULL, 0) returned NULL");
	expectf(malloc_usable_size(p) >= 1, "realloc(NULL, 0): usable size 0");
	*(volatile char *)p = 1;
	void *q = escape(realloc(NULL, opaque(0)));
	assertf(q != NULL, "second realloc(NULL, 0) returned NULL");
	expectf(p != q, "two live realloc(NULL, 0) blocks are equal");
	free(p);
	free(q);
}

TEST(zero_size_frees) {
	static const size_t sizes[] = {1, 100, 5000, 20000, (size_t)2 << 20};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		void *p = escape(malloc(opaque(sizes[i])));
		assertf(p != NULL, "malloc(%zu) failed", sizes[i]);
		memset(p, 1, sizes[i]);
		void *q = escape(realloc(p, opaque(0)));
		/* p is gone now; it must not be touched. */
		expectf(q == NULL, "realloc(p, 0) for a %zu-byte block returned "
		    "%p instead of NULL", sizes[i], q);
		if (q != NULL)
			free(q);
	}
	/* Repeating it many times must not leak or corrupt anything. */
	for (int i = 0; i < 20000; i++) {
		void *p = escape(malloc(opaque((size_t)(i % 300) + 1)));
		assertf(p != NULL, "malloc failed at %d", i);
		void *q = escape(realloc(p, opaque(0)));
		if (q != NULL) {
			expectf(false, "realloc(p, 0) returned non-NULL");
			free(q);
			break;
		}
	}
}

/* One realloc from old to new: the min(old, new) prefix survives. */
static void
realloc_keeps(size_t old, size_t new_size, uint64_t seed) {
	unsigned char *p = escape(malloc(opaque(old)));
	assertf(p != NULL, "malloc(%zu) failed", old);
	fill(p, old, seed);
	unsigned char *q = escape(realloc(p, opaque(new_size)));
	assertf(q != NULL, "realloc(%zu -> %zu) failed", old, new_size);
	size_t keep = old < new_size ? old : new_size;
	size_t bad = check(q, keep, seed);
	expectf(bad == SIZE_MAX, "realloc(%zu -> %zu): byte %zu of the kept "
	    "prefix changed", old, new_size, bad);
	size_t u = malloc_usable_size(q);
	expectf(u >= new_size, "realloc(%zu -> %zu): usable size %zu", old,
	    new_size, u);
	/* The whole new block is writable. */
	fill(q, u, seed + 1);
	expectf(check(q, u, seed + 1) == SIZE_MAX, "realloc(%zu -> %zu): "
	    "block not writable", old, new_size);
	free(q);
}

TEST(transitions) {
	static const struct { size_t a, b; } cases[] = {
		/* small -> small */
		{1, 8}, {8, 9}, {9, 16}, {17, 31}, {100, 5000}, {48, 14336},
		{5000, 100}, {14336, 8}, {4096, 4097}, {4097, 4096},
		/* small -> large */
		{100, 16384}, {100, 100000}, {14336, 14337}, {8, (size_t)2 << 20},
		/* large -> large */
		{16384, 20480}, {20000, (size_t)3 << 20},
		{(size_t)3 << 20, 20000}, {65536, 65537}, {65537, 65536},
		{(size_t)1 << 20, (size_t)5 << 20}, {(size_t)5 << 20, (size_t)1 << 20},
		{(size_t)4 << 20, ((size_t)4 << 20) + 1},
		/* large -> small */
		{16384, 14336}, {100000, 50}, {(size_t)2 << 20, 1}, {20000, 4096},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		realloc_keeps(cases[i].a, cases[i].b, 1000 + i);
}

/* Grow one block through every class up to 4 MiB, then shrink it back. */
TEST(walk_all_classes) {
	static size_t classes[200];
	size_t nc = gen_classes(classes, 200, (size_t)4 << 20);
	const uint64_t seed = 77;
	size_t cur = 1;
	unsigned char *p = escape(malloc(opaque(cur)));
	assertf(p != NULL, "malloc(1) failed");
	fill(p, cur, seed);
	for (size_t c = 0; c < nc; c++) {
		size_t targets[2] = {classes[c] - (classes[c] > 8 ? 3 : 0),
		    classes[c] + 1};
		for (int k = 0; k < 2; k++) {
			size_t t = targets[k];
			unsigned char *q = escape(realloc(p, opaque(t)));
			assertf(q != NULL, "realloc(%zu -> %zu) failed", cur, t);
			size_t keep = cur < t ? cur : t;
			size_t bad = check(q, keep, seed);
			assertf(bad == SIZE_MAX, "grow %zu -> %zu: byte %zu "
			    "changed", cur, t, bad);
			fill(q, t, seed);
			p = q;
			cur = t;
		}
	}
	for (size_t c = nc; c-- > 0;) {
		size_t t = classes[c] - (classes[c] > 8 ? 5 : 0);
		unsigned char *q = escape(realloc(p, opaque(t)));
		assertf(q != NULL, "realloc(%zu -> %zu) failed", cur, t);
		size_t keep = cur < t ? cur : t;
		size_t bad = check(q, keep, seed);
		assertf(bad == SIZE_MAX, "shrink %zu -> %zu: byte %zu changed",
		    cur, t, bad);
		p = q;
		cur = t;
	}
	free(p);
}

/* Small steps: realloc by +1..+64 bytes many times. */
TEST(small_steps) {
	const uint64_t seed = 4242;
	size_t cur = 1;
	unsigned char *p = escape(malloc(opaque(cur)));
	assertf(p != NULL, "malloc(1) failed");
	fill(p, cur, seed);
	while (cur < 70000) {
		size_t t = cur + 1 + (cur * 7 % 64);
		unsigned char *q = escape(realloc(p, opaque(t)));
		assertf(q != NULL, "realloc(%zu -> %zu) failed", cur, t);
		size_t bad = check(q, cur, seed);
		assertf(bad == SIZE_MAX, "realloc %zu -> %zu: byte %zu changed",
		    cur, t, bad);
		fill(q, t, seed);
		p = q;
		cur = t;
	}
	free(p);
}

static void
realloc_must_fail(void *p, size_t old, size_t size, uint64_t seed) {
	errno = 0;
	void *q = escape(realloc(launder(p), opaque(size)));
	int e = errno;
	expectf(q == NULL, "realloc(%zu-byte block, %#zx) should fail", old,
	    size);
	expectf(e == ENOMEM, "realloc(%zu-byte block, %#zx) set errno to %d, "
	    "not ENOMEM", old, size, e);
	if (q != NULL) {
		free(q);
		test_leave();
	}
	/* The old block is intact and still usable. */
	size_t bad = check(p, old, seed);
	expectf(bad == SIZE_MAX, "after a failed realloc the %zu-byte block "
	    "changed at byte %zu", old, bad);
	expectf(malloc_usable_size(p) >= old, "usable size shrank to %zu",
	    malloc_usable_size(p));
}

TEST(failure_keeps_block) {
	static const size_t olds[] = {1, 100, 4096, 14336, 20000,
	    (size_t)1 << 20};
	static const size_t huge[] = {SIZE_MAX, SIZE_MAX - 4095,
	    (size_t)PTRDIFF_MAX + 1, 0x7000000000000001ULL,
	    0x7000000000000000ULL, (size_t)1 << 62};
	for (size_t i = 0; i < sizeof(olds) / sizeof(olds[0]); i++) {
		void *p = escape(malloc(opaque(olds[i])));
		assertf(p != NULL, "malloc(%zu) failed", olds[i]);
		fill(p, olds[i], 99 + i);
		for (size_t j = 0; j < sizeof(huge) / sizeof(huge[0]); j++)
			realloc_must_fail(p, olds[i], huge[j], 99 + i);
		/* And a normal realloc of the same block still works. */
		void *q = escape(realloc(p, opaque(olds[i] * 2)));
		assertf(q != NULL, "realloc after failures");
		expectf(check(q, olds[i], 99 + i) == SIZE_MAX,
		    "contents lost after failed reallocs");
		free(q);
	}
}

/*
 * A request that stays within the block's size class is done in place,
 * and so is shrinking a large block to a smaller large class.
 */
TEST(in_place) {
	static const size_t sizes[] = {8, 17, 100, 1000, 3000, 14336, 16384,
	    20000, 100000, (size_t)2 << 20};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = escape(malloc(opaque(sizes[i])));
		assertf(p != NULL, "malloc(%zu) failed", sizes[i]);
		size_t u = malloc_usable_size(p);
		fill(p, u, i);
		/* Every size in the same class: the same pointer. */
		size_t lows[3] = {u, u - 1, u - (u / 8) + 1};
		for (int k = 0; k < 3; k++) {
			if (lows[k] == 0)
				continue;
			unsigned char *q = escape(realloc(p, opaque(lows[k])));
			assertf(q != NULL, "realloc(%zu -> %zu) failed", u,
			    lows[k]);
			expectf(q == p, "realloc(%zu-byte block, %zu) moved it",
			    u, lows[k]);
			expectf(malloc_usable_size(q) == u, "usable size %zu "
			    "after realloc within the class", malloc_usable_size(q));
			p = q;
		}
		expectf(check(p, lows[2], i) == SIZE_MAX, "contents changed");
		free(p);
	}
	/* Large shrink to a smaller large class happens in place. */
	static const struct { size_t from, to; } shrink[] = {
		{(size_t)1 << 20, 20000}, {(size_t)4 << 20, (size_t)1 << 20},
		{65536, 16384}, {200000, 100000},
	};
	for (size_t i = 0; i < sizeof(shrink) / sizeof(shrink[0]); i++) {
		unsigned char *p = escape(malloc(opaque(shrink[i].from)));
		assertf(p != NULL, "malloc(%zu) failed", shrink[i].from);
		fill(p, shrink[i].to, 50 + i);
		unsigned char *q = escape(realloc(p, opaque(shrink[i].to)));
		assertf(q != NULL, "realloc(%zu -> %zu) failed", shrink[i].from,
		    shrink[i].to);
		expectf(q == p, "large shrink %zu -> %zu moved the block",
		    shrink[i].from, shrink[i].to);
		expectf(check(q, shrink[i].to, 50 + i) == SIZE_MAX,
		    "large shrink %zu -> %zu changed contents", shrink[i].from,
		    shrink[i].to);
		free(q);
	}
}

typedef void *(reallocarray_t)(void *, size_t, size_t);

TEST(reallocarray_unprefixed) {
	if (library_is_prefixed())
		test_skip("prefixed build: reallocarray is libc's");
	reallocarray_t *ra = (reallocarray_t *)dlsym(RTLD_DEFAULT,
	    "reallocarray");
	if (ra == NULL || !in_jemalloc((void *)ra))
		test_skip("the library does not export reallocarray");

	void *p = escape(ra(NULL, opaque(10), opaque(10)));
	assertf(p != NULL, "reallocarray(NULL, 10, 10) failed");
	expectf(malloc_usable_size(p) >= 100, "usable size %zu",
	    malloc_usable_size(p));
	fill(p, 100, 5);
	void *q = escape(ra(p, opaque(1000), opaque(100)));
	assertf(q != NULL, "reallocarray(p, 1000, 100) failed");
	expectf(check(q, 100, 5) == SIZE_MAX, "contents lost on growth");
	expectf(malloc_usable_size(q) >= 100000, "usable size %zu",
	    malloc_usable_size(q));
	fill(q, 100000, 6);
	p = escape(ra(q, opaque(3), opaque(7)));
	assertf(p != NULL, "reallocarray(p, 3, 7) failed");
	expectf(check(p, 21, 6) == SIZE_MAX, "contents lost on shrink");

	static const struct { size_t n, s; } ovf[] = {
		{SIZE_MAX / 2 + 1, 2}, {(size_t)1 << 32, (size_t)1 << 32},
		{2, SIZE_MAX / 2 + 1}, {SIZE_MAX, SIZE_MAX},
		{((size_t)1 << 33) + 1, (size_t)1 << 31},
	};
	for (size_t i = 0; i < sizeof(ovf) / sizeof(ovf[0]); i++) {
		errno = 0;
		q = escape(ra(p, opaque(ovf[i].n), opaque(ovf[i].s)));
		int e = errno;
		expectf(q == NULL, "reallocarray(p, %#zx, %#zx) should fail",
		    ovf[i].n, ovf[i].s);
		expectf(e == ENOMEM, "reallocarray(p, %#zx, %#zx) set errno to "
		    "%d, not ENOMEM", ovf[i].n, ovf[i].s, e);
		if (q != NULL) {
			p = q;
			continue;
		}
		expectf(check(p, 21, 6) == SIZE_MAX, "old block changed after "
		    "a failed reallocarray");
	}
	errno = 0;
	q = escape(ra(NULL, opaque(SIZE_MAX / 2 + 1), opaque(2)));
	expectf(q == NULL && errno == ENOMEM,
	    "reallocarray(NULL, overflow) should fail with ENOMEM");
	free(p);
}

int
main(void) {
	return test_run(
	    TEST_CASE(null_ptr),
	    TEST_CASE(null_ptr_zero_size),
	    TEST_CASE(zero_size_frees),
	    TEST_CASE(transitions),
	    TEST_CASE(walk_all_classes),
	    TEST_CASE(small_steps),
	    TEST_CASE(failure_keeps_block),
	    TEST_CASE(in_place),
	    TEST_CASE(reallocarray_unprefixed));
}
