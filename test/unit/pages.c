/*
 * pages: the OS layer (facts §6.7): aligned mapping by over-map and trim,
 * unmapping, forced purge (MADV_DONTNEED reads back zero), commit and
 * decommit under overcommit, and refusal of a hint address that the
 * kernel does not honour.
 */
#include "jemalloc_internal.h"
#include "pages.h"

#include "test.h"

#include <sys/mman.h>
#include <unistd.h>


/* Whether [addr, addr + size) is mapped, asked of the kernel. */
static bool
is_mapped(void *addr, size_t size) {
	unsigned char vec[64];
	size_t n = size / PAGE;
	for (size_t off = 0; off < n; off += sizeof(vec)) {
		size_t len = (n - off < sizeof(vec) ? n - off : sizeof(vec)) *
		    PAGE;
		if (mincore((char *)addr + off * PAGE, len, vec) != 0)
			return false;
	}
	return true;
}

/* Whether no page of [addr, addr + size) is mapped. */
static bool
is_unmapped(void *addr, size_t size) {
	unsigned char vec[1];
	for (size_t off = 0; off < size; off += PAGE) {
		if (mincore((char *)addr + off, PAGE, vec) == 0)
			return false;
	}
	return true;
}

TEST(test_map_aligned) {
	for (size_t align = PAGE; align <= ((size_t)64 << 20); align <<= 1) {
		const size_t sizes[] = {PAGE, 3 * PAGE, align, align + PAGE};
		for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			size_t size = sizes[i];
			bool commit = true;
			void *p = pages_map(NULL, size, align, &commit);
			CHECK(p != NULL, "pages_map(%zu, %zu) failed", size, align);
			if (p == NULL)
				continue;
			CHECK(((uintptr_t)p & (align - 1)) == 0,
			    "pages_map(%zu, %zu) = %p misaligned", size, align, p);
			CHECK(commit, "commit cleared for a committed request");
			CHECK(is_mapped(p, size), "%p not mapped", p);
			/* Writable, first to last byte; fresh maps are zero. */
			volatile char *c = p;
			CHECK(c[0] == 0 && c[size - 1] == 0, "fresh map not zero");
			c[0] = 1;
			c[size - 1] = 2;
			CHECK(c[0] == 1 && c[size - 1] == 2, "write lost");
			pages_unmap(p, size);
			CHECK(is_unmapped(p, size), "%p still mapped after unmap",
			    p);
		}
	}
}

TEST(test_purge_forced_zeroes) {
	const size_t size = 16 * PAGE;
	bool commit = true;
	unsigned char *p = pages_map(NULL, size, PAGE, &commit);
	assert_ptr_not_null(p, "pages_map failed");
	memset(p, 0xd3, size);
	/* Purge the middle 8 pages only. */
	CHECK(!pages_purge_forced(p + 4 * PAGE, 8 * PAGE), "purge failed");
	size_t bad = 0;
	for (size_t i = 0; i < size; i++) {
		bool purged = i >= 4 * PAGE && i < 12 * PAGE;
		if (p[i] != (purged ? 0 : 0xd3))
			bad++;
	}
	CHECK(bad == 0, "%zu bytes wrong after a forced purge", bad);
	/* The purged pages are usable again. */
	memset(p + 4 * PAGE, 0x11, 8 * PAGE);
	CHECK(p[4 * PAGE] == 0x11 && p[12 * PAGE - 1] == 0x11, "rewrite");
	/* A lazy purge succeeds where MADV_FREE works; contents may stay. */
	CHECK(pages_purge_lazy(p, size) == !pages_can_purge_lazy_runtime,
	    "purge_lazy result vs runtime probe");
	pages_unmap(p, size);
}

TEST(test_commit_decommit) {
	const size_t size = 4 * PAGE;
	bool commit = true;
	unsigned char *p = pages_map(NULL, size, PAGE, &commit);
	assert_ptr_not_null(p, "pages_map failed");
	memset(p, 0x42, size);
	/* With overcommit (facts §6.7) commit/decommit are no-ops that fail. */
	bool err = pages_decommit(p, size);
	CHECK(err == os_overcommits, "decommit returned %d, overcommit %d",
	    (int)err, (int)os_overcommits);
	err = pages_commit(p, size);
	CHECK(err == os_overcommits, "commit returned %d, overcommit %d",
	    (int)err, (int)os_overcommits);
	if (os_overcommits) {
		/* Nothing happened to the memory. */
		CHECK(p[0] == 0x42 && p[size - 1] == 0x42, "contents changed");
	} else {
		/* Decommit then commit gives fresh zero pages. */
		CHECK(p[0] == 0 && p[size - 1] == 0, "recommitted not zero");
	}
	/* Asking for uncommitted memory under overcommit gives committed. */
	bool c2 = false;
	void *q = pages_map(NULL, size, PAGE, &c2);
	assert_ptr_not_null(q, "pages_map failed");
	if (os_overcommits)
		CHECK(c2, "overcommit must force commit");
	pages_unmap(q, size);
	pages_unmap(p, size);
}

TEST(test_hint_already_mapped) {
	const size_t size = 8 * PAGE;
	bool commit = true;
	unsigned char *a = pages_map(NULL, size, PAGE, &commit);
	assert_ptr_not_null(a, "pages_map failed");
	memset(a, 0x77, size);

	/* The same range: the kernel places it elsewhere, pages_map refuses. */
	void *r = pages_map(a, size, PAGE, &commit);
	CHECK(r == NULL, "hint at a mapped range returned %p", r);
	/* Partly overlapping hints are refused too. */
	r = pages_map(a + 4 * PAGE, size, PAGE, &commit);
	CHECK(r == NULL, "overlapping hint returned %p", r);
	r = pages_map(a + 7 * PAGE, PAGE, PAGE, &commit);
	CHECK(r == NULL, "hint at the last page returned %p", r);
	/* The existing mapping is untouched (no MAP_FIXED clobber). */
	size_t bad = 0;
	for (size_t i = 0; i < size; i++)
		bad += a[i] != 0x77;
	CHECK(bad == 0, "%zu bytes of the existing mapping changed", bad);
	CHECK(is_mapped(a, size), "existing mapping gone");

	/* A hint at a free range is honoured. */
	pages_unmap(a + 4 * PAGE, 4 * PAGE);
	r = pages_map(a + 4 * PAGE, 4 * PAGE, PAGE, &commit);
	CHECK(r == a + 4 * PAGE, "free hint %p gave %p", (void *)(a + 4 * PAGE),
	    r);
	if (r != NULL) {
		CHECK(((unsigned char *)r)[0] == 0, "new pages not zero");
		CHECK(a[4 * PAGE - 1] == 0x77, "neighbour changed");
	}
	pages_unmap(a, size);
}

TEST(test_map_many) {
	/* Many aligned maps at once: distinct, aligned, non-overlapping. */
	enum { N = 64 };
	void *ps[N];
	const size_t align = (size_t)2 << 20;
	for (unsigned i = 0; i < N; i++) {
		bool commit = true;
		ps[i] = pages_map(NULL, 2 * PAGE, align, &commit);
		CHECK(ps[i] != NULL, "map %u failed", i);
		if (ps[i] == NULL)
			test_leave();
		CHECK(((uintptr_t)ps[i] & (align - 1)) == 0, "map %u misaligned",
		    i);
		*(unsigned *)ps[i] = i;
		*(unsigned *)((char *)ps[i] + 2 * PAGE - sizeof(unsigned)) = ~i;
	}
	for (unsigned i = 0; i < N; i++) {
		CHECK(*(unsigned *)ps[i] == i, "map %u overwritten", i);
		CHECK(*(unsigned *)((char *)ps[i] + 2 * PAGE - sizeof(unsigned))
		    == ~i, "map %u tail overwritten", i);
		for (unsigned j = 0; j < i; j++)
			CHECK(ps[i] != ps[j], "maps %u and %u share %p", i, j,
			    ps[i]);
	}
	for (unsigned i = 0; i < N; i++)
		pages_unmap(ps[i], 2 * PAGE);
}

int
main(void) {
	return test_run(
	    TEST_CASE(test_map_aligned),
	    TEST_CASE(test_purge_forced_zeroes),
	    TEST_CASE(test_commit_decommit),
	    TEST_CASE(test_hint_already_mapped),
	    TEST_CASE(test_map_many));
}
