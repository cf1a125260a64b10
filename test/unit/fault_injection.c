/*
 * Fault injection (debug builds): pages_map_fail_after makes the OS
 * layer's map calls fail on demand.  Every failure path must leave the
 * allocator consistent: requests fail with NULL, nothing leaks into the
 * statistics, and everything works again once maps succeed.
 */
#include "jemalloc_internal.h"
#include "arena.h"
#include "ctl.h"
#include "pages.h"
#include "tsd.h"

#include "test.h"

static size_t
allocated_now(void) {
	uint64_t epoch = 1;
	size_t sz = sizeof(epoch);
	je_mallctl("epoch", &epoch, &sz, &epoch, sz);
	size_t allocated = 0;
	sz = sizeof(allocated);
	je_mallctl("stats.allocated", &allocated, &sz, NULL, 0);
	return allocated;
}

static void *(*volatile vmallocx)(size_t, int) = je_mallocx;

TEST(test_large_allocation_fails_cleanly) {
	if (!config_debug)
		test_skip("the fault injection point exists in debug builds");
	int flags = MALLOCX_TCACHE_NONE;
	size_t before = allocated_now();
	pages_map_fail_after = 1;	/* every map fails from now on */
	void *p = vmallocx((size_t)256 << 20, flags);
	pages_map_fail_after = 0;
	expect_ptr_null(p, "allocation succeeded without memory");
	expect_zu_eq(allocated_now(), before, "a failed allocation changed "
	    "stats.allocated");
	/* Maps work again: the same request succeeds and frees. */
	p = vmallocx((size_t)256 << 20, flags);
	assert_ptr_not_null(p, "allocation after recovery");
	memset(p, 1, 4096);
	je_dallocx(p, flags);
	expect_zu_eq(allocated_now(), before, "");
}

TEST(test_fail_after_n_maps) {
	if (!config_debug)
		test_skip("the fault injection point exists in debug builds");
	int flags = MALLOCX_TCACHE_NONE;
	/* Let a few maps through, then fail: some of a batch of large
	 * allocations succeed, the rest fail, and all that succeeded are
	 * intact and free normally. */
	void *ps[64];
	unsigned n = 0;
	pages_map_fail_after = 4;
	for (unsigned i = 0; i < 64; i++) {
		ps[i] = vmallocx((size_t)(8 + i) << 20, flags);
		if (ps[i] != NULL) {
			memset(ps[i], (int)i, 4096);
			n++;
		}
	}
	pages_map_fail_after = 0;
	expect_u_ne(n, 64, "no allocation failed");
	for (unsigned i = 0; i < 64; i++) {
		if (ps[i] == NULL)
			continue;
		expect_true(((unsigned char *)ps[i])[4095] == (unsigned char)i,
		    "block %u damaged", i);
		je_dallocx(ps[i], flags);
	}
}

TEST(test_new_arena_without_memory) {
	if (!config_debug)
		test_skip("the fault injection point exists in debug builds");
	unsigned ind;
	size_t sz = sizeof(ind);
	pages_map_fail_after = 1;
	int r = je_mallctl("arenas.create", &ind, &sz, NULL, 0);
	pages_map_fail_after = 0;
	expect_d_eq(r, EAGAIN, "arenas.create without memory");
	/* And with memory again. */
	expect_d_eq(je_mallctl("arenas.create", &ind, &sz, NULL, 0), 0, "");
	void *p = vmallocx(100, MALLOCX_ARENA(ind) | MALLOCX_TCACHE_NONE);
	expect_ptr_not_null(p, "");
	je_dallocx(p, MALLOCX_TCACHE_NONE);
}

int
main(void) {
	int ret = test_run(TEST_CASE(test_large_allocation_fails_cleanly),
	    TEST_CASE(test_fail_after_n_maps),
	    TEST_CASE(test_new_arena_without_memory));
	test_figure("os_map_faults_injected", pages_map_faults_injected);
	return ret;
}
