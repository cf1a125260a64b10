/*
 * malloc() and free(): size 0, every size class boundary up to a few MiB,
 * sizes beyond the largest class, free(NULL), no overlap between blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"
#include "test_alloc.h"

#define LARGE_MAXCLASS ((size_t)0x7000000000000000ULL)

TEST(malloc_zero) {
	void *a = escape(malloc(opaque(0)));
	void *b = escape(malloc(opaque(0)));
	assertf(a != NULL && b != NULL, "malloc(0) returned NULL");
	expectf(a != b, "two live malloc(0) blocks are both %p", a);
	expect_zu_ge(malloc_usable_size(a), 1, "malloc(0) is bumped to 1");
	/* The block is usable for at least one byte. */
	*(volatile char *)a = 'x';
	*(volatile char *)b = 'y';
	expect_d_eq(*(volatile char *)a, 'x', "first byte");
	free(a);
	free(b);

	/* Many live zero-size blocks are all distinct. */
	enum { N = 1000 };
	static void *ps[N];
	for (int i = 0; i < N; i++) {
		ps[i] = escape(malloc(opaque(0)));
		assertf(ps[i] != NULL, "malloc(0) #%d returned NULL", i);
		*(volatile unsigned char *)ps[i] = (unsigned char)i;
	}
	for (int i = 0; i < N; i++) {
		expectf(*(volatile unsigned char *)ps[i] == (unsigned char)i,
		    "malloc(0) block %d was overwritten", i);
	}
	for (int i = 0; i < N; i++)
		free(ps[i]);
}

TEST(free_null) {
	free(NULL);
	free(escape(NULL));
	/* The allocator still works afterwards. */
	void *p = escape(malloc(opaque(10)));
	assertf(p != NULL, "malloc(10) after free(NULL)");
	free(p);
}

/* Every class boundary up to 4 MiB: size-1, size and size+1. */
TEST(class_boundaries) {
	static size_t classes[200];
	size_t nc = gen_classes(classes, 200, (size_t)4 << 20);
	enum { MAXB = 600 };
	static void *ptrs[MAXB];
	static size_t reqs[MAXB], usables[MAXB];
	size_t nb = 0;

	for (size_t c = 0; c < nc; c++) {
		size_t sz[3] = {classes[c] - 1, classes[c], classes[c] + 1};
		for (int k = 0; k < 3; k++) {
			if (sz[k] == 0 || nb == MAXB)
				continue;
			void *p = escape(malloc(opaque(sz[k])));
			assertf(p != NULL, "malloc(%zu) failed", sz[k]);
			size_t u = malloc_usable_size(p);
			expectf(u >= sz[k], "malloc(%zu): usable size %zu", sz[k], u);
			/* Quantum alignment: 16 bytes for sizes > 8. */
			size_t align = sz[k] > 8 ? 16 : 8;
			expectf(((uintptr_t)p & (align - 1)) == 0,
			    "malloc(%zu) returned a misaligned pointer %p",
			    sz[k], p);
			fill(p, u, (uint64_t)nb * 0x100000001ULL + u);
			ptrs[nb] = p;
			reqs[nb] = sz[k];
			usables[nb] = u;
			nb++;
		}
	}
	/* All blocks live at once: nothing overlapped or got clobbered. */
	for (size_t i = 0; i < nb; i++) {
		size_t bad = check(ptrs[i], usables[i],
		    (uint64_t)i * 0x100000001ULL + usables[i]);
		expectf(bad == SIZE_MAX,
		    "malloc(%zu) block %p (usable %zu) corrupted at offset %zu",
		    reqs[i], ptrs[i], usables[i], bad);
		expectf(malloc_usable_size(ptrs[i]) == usables[i],
		    "malloc(%zu): usable size changed from %zu to %zu",
		    reqs[i], usables[i], malloc_usable_size(ptrs[i]));
	}
	for (size_t i = 0; i < nb; i++)
		free(ptrs[i]);
}

/* Every size from 1 to 20000 is writable over its usable size. */
TEST(every_small_size) {
	for (size_t s = 1; s <= 20000; s++) {
		unsigned char *p = escape(malloc(opaque(s)));
		assertf(p != NULL, "malloc(%zu) failed", s);
		size_t u = malloc_usable_size(p);
		expectf(u >= s, "malloc(%zu): usable size %zu", s, u);
		p[0] = 1;
		p[u - 1] = 2;
		if (p[0] != 1 || p[u - 1] != 2)
			expectf(false, "malloc(%zu): ends not writable", s);
		free(p);
	}
}

/* Live blocks of one size never overlap. */
TEST(no_overlap) {
	static const size_t sizes[] = {1, 8, 24, 100, 512, 3000, 14336, 16385,
	    70000};
	enum { N = 300 };
	static unsigned char *ps[N];
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		size_t s = sizes[si];
		for (int i = 0; i < N; i++) {
			ps[i] = escape(malloc(opaque(s)));
			assertf(ps[i] != NULL, "malloc(%zu) failed", s);
			memset(ps[i], i & 0xff, s);
		}
		for (int i = 0; i < N; i++) {
			for (size_t j = 0; j < s; j += (s > 64 ? 61 : 1)) {
				if (ps[i][j] != (i & 0xff)) {
					expectf(false, "size %zu block %d "
					    "byte %zu clobbered", s, i, j);
					break;
				}
			}
			if (ps[i][s - 1] != (i & 0xff))
				expectf(false, "size %zu block %d last byte "
				    "clobbered", s, i);
		}
		for (int i = 0; i < N; i++)
			free(ps[i]);
	}
}

/* Virtual size of the process in bytes, from /proc/self/statm (0 if unknown). */
static size_t
vm_size(void) {
	char buf[128];
	int fd = open("/proc/self/statm", O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	size_t pages = 0;
	for (char *c = buf; *c >= '0' && *c <= '9'; c++)
		pages = pages * 10 + (size_t)(*c - '0');
	return pages * (size_t)sysconf(_SC_PAGESIZE);
}

/* Freed memory gets reused, so the process does not grow without bound. */
TEST(reuse) {
	size_t before = vm_size();
	for (int round = 0; round < 2000; round++) {
		void *p = escape(malloc(opaque((size_t)1 << 20)));
		assertf(p != NULL, "round %d: malloc(1 MiB) failed", round);
		((volatile char *)p)[0] = 1;
		((volatile char *)p)[(1 << 20) - 1] = 1;
		free(p);
	}
	for (int round = 0; round < 100000; round++) {
		void *p = escape(malloc(opaque((size_t)(round % 5000) + 1)));
		assertf(p != NULL, "round %d: malloc failed", round);
		free(p);
	}
	size_t after = vm_size();
	/* A leak of the 1 MiB blocks alone would add 2000 MiB. */
	if (before != 0 && after != 0) {
		expectf(after < before + ((size_t)512 << 20), "virtual size grew "
		    "from %zu to %zu bytes: freed memory is not reused", before,
		    after);
	}
}

static void
malloc_must_fail(size_t size) {
	errno = 0;
	void *p = escape(malloc(opaque(size)));
	int e = errno;
	expectf(p == NULL, "malloc(%#zx) should fail", size);
	expectf(e == ENOMEM, "malloc(%#zx) set errno to %d, not ENOMEM",
	    size, e);
	if (p != NULL)
		free(p);
}

TEST(too_large) {
	malloc_must_fail(SIZE_MAX);
	malloc_must_fail(SIZE_MAX - 4095);
	malloc_must_fail((size_t)PTRDIFF_MAX);
	malloc_must_fail((size_t)PTRDIFF_MAX + 1);
	malloc_must_fail(LARGE_MAXCLASS + 1);
	malloc_must_fail((size_t)0x7000000000000001ULL);
	malloc_must_fail((size_t)0x8000000000000000ULL);
	/* The largest class itself is valid but cannot be mapped. */
	malloc_must_fail(LARGE_MAXCLASS);
	malloc_must_fail((size_t)1 << 62);
	/* The allocator still works after all those failures. */
	void *p = escape(malloc(opaque(4096)));
	assertf(p != NULL, "malloc(4096) after failures");
	memset(p, 0, 4096);
	free(p);
}

int
main(void) {
	return test_run(
	    TEST_CASE(malloc_zero),
	    TEST_CASE(free_null),
	    TEST_CASE(class_boundaries),
	    TEST_CASE(every_small_size),
	    TEST_CASE(no_overlap),
	    TEST_CASE(reuse),
	    TEST_CASE(too_large));
}
