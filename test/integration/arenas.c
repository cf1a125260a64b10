/*
 * Manual arenas through mallctl: arenas.create (with and without extent
 * hooks), MALLOCX_ARENA, arena.<i>.reset and destroy, index reuse,
 * arenas.lookup, arena.<i>.extent_hooks, dss and retain_grow_limit, and
 * the hook cascade on purge (dalloc -> decommit -> purge_forced ->
 * purge_lazy).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"

static unsigned
arena_create(extent_hooks_t *hooks) {
	unsigned ind;
	size_t sz = sizeof(ind);
	int r;
	if (hooks == NULL) {
		r = mallctl("arenas.create", &ind, &sz, NULL, 0);
	} else {
		r = mallctl("arenas.create", &ind, &sz, &hooks,
		    sizeof(hooks));
	}
	assert_d_eq(r, 0, "arenas.create");
	return ind;
}

static int
arena_ctl_void(unsigned ind, const char *what) {
	size_t mib[3];
	size_t miblen = 3;
	char name[64];
	snprintf(name, sizeof(name), "arena.0.%s", what);
	int r = mallctlnametomib(name, mib, &miblen);
	if (r != 0)
		return r;
	mib[1] = ind;
	return mallctlbymib(mib, miblen, NULL, NULL, NULL, 0);
}

static unsigned
lookup(void *p) {
	unsigned ind = (unsigned)-1;
	size_t sz = sizeof(ind);
	int r = mallctl("arenas.lookup", &ind, &sz, &p, sizeof(p));
	expect_d_eq(r, 0, "arenas.lookup");
	return ind;
}

TEST(test_create_and_allocate) {
	unsigned narenas;
	size_t sz = sizeof(narenas);
	assert_d_eq(mallctl("arenas.narenas", &narenas, &sz, NULL, 0), 0, "");
	unsigned ind = arena_create(NULL);
	expect_u_eq(ind >= narenas, 1, "new index %u below %u", ind, narenas);
	size_t sizes[] = {8, 100, 3000, 14336, 20000, 100000, 3 << 20};
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *p = mallocx(sizes[i], MALLOCX_ARENA(ind));
		assert_ptr_not_null(p, "mallocx");
		memset(p, 0x33, sizes[i]);
		expect_u_eq(lookup(p), ind, "size %zu", sizes[i]);
		dallocx(p, 0);
	}
}

TEST(test_reset) {
	unsigned ind = arena_create(NULL);
	int flags = MALLOCX_ARENA(ind) | MALLOCX_TCACHE_NONE;
	void *ps[200];
	for (unsigned i = 0; i < 200; i++) {
		ps[i] = mallocx(1 + i * 300, flags);
		assert_ptr_not_null(ps[i], "mallocx");
	}
	expect_d_eq(arena_ctl_void(ind, "reset"), 0, "reset");
	/* The arena works after a reset. */
	for (unsigned i = 0; i < 200; i++) {
		ps[i] = mallocx(1 + i * 300, flags);
		assert_ptr_not_null(ps[i], "mallocx after reset");
		memset(ps[i], 1, 1 + i * 300);
	}
	for (unsigned i = 0; i < 200; i++)
		dallocx(ps[i], MALLOCX_TCACHE_NONE);
	/* Automatic arenas cannot be reset or destroyed. */
	expect_d_eq(arena_ctl_void(0, "reset"), EFAULT, "reset of arena 0");
	expect_d_eq(arena_ctl_void(0, "destroy"), EFAULT, "destroy of arena 0");
}

TEST(test_destroy_and_reuse) {
	unsigned ind = arena_create(NULL);
	int flags = MALLOCX_ARENA(ind) | MALLOCX_TCACHE_NONE;
	for (unsigned i = 0; i < 100; i++)
		assert_ptr_not_null(mallocx(1000 + i * 5000, flags), "mallocx");
	bool initialized = false;
	size_t mib[3], miblen = 3, sz = sizeof(bool);
	assert_d_eq(mallctlnametomib("arena.0.initialized", mib, &miblen), 0,
	    "");
	mib[1] = ind;
	expect_d_eq(mallctlbymib(mib, miblen, &initialized, &sz, NULL, 0), 0,
	    "");
	expect_true(initialized, "created arena not initialized");
	expect_d_eq(arena_ctl_void(ind, "destroy"), 0, "destroy");
	expect_d_eq(mallctlbymib(mib, miblen, &initialized, &sz, NULL, 0), 0,
	    "");
	expect_false(initialized, "destroyed arena still initialized");
	/* The index comes back. */
	unsigned again = arena_create(NULL);
	expect_u_eq(again, ind, "destroyed index not reused");
	void *p = mallocx(64, MALLOCX_ARENA(again) | MALLOCX_TCACHE_NONE);
	expect_u_eq(lookup(p), again, "");
	dallocx(p, MALLOCX_TCACHE_NONE);
}

static void *
bind_and_wait(void *arg) {
	unsigned ind = *(unsigned *)arg;
	expect_d_eq(mallctl("thread.arena", NULL, NULL, &ind, sizeof(ind)), 0,
	    "thread.arena");
	void *p = malloc(10);
	free(p);
	return NULL;
}

TEST(test_destroy_with_threads_fails) {
	unsigned ind = arena_create(NULL);
	unsigned old;
	size_t sz = sizeof(old);
	assert_d_eq(mallctl("thread.arena", &old, &sz, &ind, sizeof(ind)), 0,
	    "bind main thread");
	expect_d_eq(arena_ctl_void(ind, "destroy"), EFAULT,
	    "destroyed an arena a thread is bound to");
	assert_d_eq(mallctl("thread.arena", NULL, NULL, &old, sizeof(old)), 0,
	    "rebind");
	pthread_t t;
	pthread_create(&t, NULL, bind_and_wait, &ind);
	pthread_join(t, NULL);
	/* The thread is gone: nobody uses the arena any more. */
	expect_d_eq(arena_ctl_void(ind, "destroy"), 0, "destroy after exit");
}

/* --- hooks that count calls and pass through to mmap ---------------------- */

static unsigned ncalls_alloc, ncalls_dalloc, ncalls_destroy, ncalls_decommit,
    ncalls_purge_forced, ncalls_purge_lazy, ncalls_split, ncalls_merge;
static bool hooks_allow_dalloc;

static void *
h_alloc(extent_hooks_t *h, void *new_addr, size_t size, size_t alignment,
    bool *zero, bool *commit, unsigned arena_ind) {
	ncalls_alloc++;
	/* Allocating inside a hook must work (it goes to arena 0). */
	void *scratch = malloc(100);
	free(scratch);
	size_t len = size + alignment;
	char *p = mmap(new_addr, new_addr != NULL ? size : len,
	    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (new_addr != NULL) {
		if (p != new_addr) {
			munmap(p, size);
			return NULL;
		}
		*zero = true;
		*commit = true;
		return p;
	}
	uintptr_t a = ((uintptr_t)p + alignment - 1) & ~(uintptr_t)(alignment - 1);
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	size_t tail = (uintptr_t)p + len - (a + size);
	if (tail > 0)
		munmap((void *)(a + size), tail);
	*zero = true;
	*commit = true;
	return (void *)a;
}

static bool
h_dalloc(extent_hooks_t *h, void *addr, size_t size, bool committed,
    unsigned arena_ind) {
	ncalls_dalloc++;
	if (!hooks_allow_dalloc)
		return true;	/* opt out: keep it */
	munmap(addr, size);
	return false;
}

static void
h_destroy(extent_hooks_t *h, void *addr, size_t size, bool committed,
    unsigned arena_ind) {
	ncalls_destroy++;
	munmap(addr, size);
}

static bool
h_decommit(extent_hooks_t *h, void *addr, size_t size, size_t offset,
    size_t length, unsigned arena_ind) {
	ncalls_decommit++;
	return true;	/* opt out */
}

static bool
h_purge_forced(extent_hooks_t *h, void *addr, size_t size, size_t offset,
    size_t length, unsigned arena_ind) {
	ncalls_purge_forced++;
	return madvise((char *)addr + offset, length, MADV_DONTNEED) != 0;
}

static bool
h_purge_lazy(extent_hooks_t *h, void *addr, size_t size, size_t offset,
    size_t length, unsigned arena_ind) {
	ncalls_purge_lazy++;
	return true;
}

static bool
h_split(extent_hooks_t *h, void *addr, size_t size, size_t a, size_t b,
    bool committed, unsigned arena_ind) {
	ncalls_split++;
	return false;
}

static bool
h_merge(extent_hooks_t *h, void *a, size_t sa, void *b, size_t sb,
    bool committed, unsigned arena_ind) {
	ncalls_merge++;
	return false;
}

static extent_hooks_t test_hooks = {
	h_alloc, h_dalloc, h_destroy, NULL, h_decommit, h_purge_lazy,
	h_purge_forced, h_split, h_merge
};

TEST(test_custom_hooks) {
	unsigned ind = arena_create(&test_hooks);
	int flags = MALLOCX_ARENA(ind) | MALLOCX_TCACHE_NONE;
	expect_u_ne(ncalls_alloc, 0, "no alloc hook call at creation");

	/* The hooks read back. */
	size_t mib[3], miblen = 3;
	assert_d_eq(mallctlnametomib("arena.0.extent_hooks", mib, &miblen), 0,
	    "");
	mib[1] = ind;
	extent_hooks_t *got;
	size_t sz = sizeof(got);
	assert_d_eq(mallctlbymib(mib, miblen, &got, &sz, NULL, 0), 0, "");
	expect_ptr_eq(got, &test_hooks, "extent_hooks read back");

	/* Large allocation, shrink in place (split), grow back (merge). */
	size_t big = 4 << 20;
	char *p = mallocx(big, flags);
	assert_ptr_not_null(p, "mallocx");
	memset(p, 7, big);
	unsigned nsplit = ncalls_split;
	expect_zu_eq(xallocx(p, big / 2, 0, flags), big / 2, "shrink");
	expect_u_ne(ncalls_split, nsplit, "shrink did not split");
	unsigned nmerge = ncalls_merge;
	expect_zu_eq(xallocx(p, big, 0, flags), big, "grow back");
	expect_u_ne(ncalls_merge, nmerge, "grow did not merge");
	expect_u_eq(lookup(p), ind, "");

	/* Purge: dalloc opts out, decommit opts out, purge_forced runs. */
	dallocx(p, flags);
	unsigned nd = ncalls_dalloc, nf = ncalls_purge_forced;
	expect_d_eq(arena_ctl_void(ind, "purge"), 0, "purge");
	expect_u_ne(ncalls_dalloc, nd, "purge did not try dalloc");
	expect_u_ne(ncalls_purge_forced, nf, "purge did not fall back to "
	    "purge_forced");

	/* Destroy releases retained memory through the destroy hook. */
	unsigned ndestroy = ncalls_destroy;
	expect_d_eq(arena_ctl_void(ind, "destroy"), 0, "destroy");
	expect_u_ne(ncalls_destroy, ndestroy, "destroy hook not called");
}

TEST(test_hooks_on_existing_arena) {
	unsigned ind = arena_create(NULL);
	size_t mib[3], miblen = 3;
	assert_d_eq(mallctlnametomib("arena.0.extent_hooks", mib, &miblen), 0,
	    "");
	mib[1] = ind;
	extent_hooks_t *old, *new_hooks = &test_hooks;
	size_t sz = sizeof(old);
	assert_d_eq(mallctlbymib(mib, miblen, &old, &sz, &new_hooks,
	    sizeof(new_hooks)), 0, "set hooks");
	unsigned na = ncalls_alloc;
	void *p = mallocx(8 << 20, MALLOCX_ARENA(ind) | MALLOCX_TCACHE_NONE);
	assert_ptr_not_null(p, "");
	expect_u_ne(ncalls_alloc, na, "new hooks not used");
	dallocx(p, MALLOCX_TCACHE_NONE);
	/* Restore and destroy. */
	assert_d_eq(mallctlbymib(mib, miblen, NULL, NULL, &old, sizeof(old)),
	    0, "restore hooks");
	hooks_allow_dalloc = true;
	expect_d_eq(arena_ctl_void(ind, "destroy"), 0, "destroy");
	hooks_allow_dalloc = false;
}

TEST(test_dss_and_retain_grow_limit) {
	unsigned ind = arena_create(NULL);
	size_t mib[3], miblen = 3;
	assert_d_eq(mallctlnametomib("arena.0.dss", mib, &miblen), 0, "");
	mib[1] = ind;
	const char *dss, *disabled = "disabled", *primary = "primary";
	size_t sz = sizeof(dss);
	expect_d_eq(mallctlbymib(mib, miblen, &dss, &sz, &disabled,
	    sizeof(disabled)), 0, "set dss disabled");
	int r = mallctlbymib(mib, miblen, NULL, NULL, &primary,
	    sizeof(primary));
	expect_true(r == 0 || r == EFAULT, "dss primary: %d", r);

	bool retain;
	sz = sizeof(retain);
	assert_d_eq(mallctl("opt.retain", &retain, &sz, NULL, 0), 0, "");
	miblen = 3;
	r = mallctlnametomib("arena.0.retain_grow_limit", mib, &miblen);
	if (!retain) {
		expect_d_eq(r, 0, "");
		return;
	}
	assert_d_eq(r, 0, "");
	mib[1] = ind;
	size_t limit, newlimit = (3 << 20) + 12345;
	sz = sizeof(limit);
	assert_d_eq(mallctlbymib(mib, miblen, &limit, &sz, &newlimit,
	    sizeof(newlimit)), 0, "set retain_grow_limit");
	assert_d_eq(mallctlbymib(mib, miblen, &limit, &sz, NULL, 0), 0, "");
	expect_zu_eq(limit, 3 << 20, "limit not rounded down to a class");
	size_t huge = SIZE_MAX;
	expect_d_eq(mallctlbymib(mib, miblen, NULL, NULL, &huge, sizeof(huge)),
	    EFAULT, "limit above the largest class");
	/* Allocation beyond the limit still works (exact mapping). */
	void *p = mallocx(16 << 20, MALLOCX_ARENA(ind) | MALLOCX_TCACHE_NONE);
	expect_ptr_not_null(p, "");
	dallocx(p, MALLOCX_TCACHE_NONE);
}

static const char *
dss_get(const char *name) {
	const char *v = NULL;
	size_t sz = sizeof(v);
	expect_d_eq(mallctl(name, &v, &sz, NULL, 0), 0, "%s", name);
	return v == NULL ? "" : v;
}

/* arena.<MALLCTL_ARENAS_ALL>.dss is the default new arenas take; writing
 * it leaves existing arenas alone. */
TEST(test_dss_default) {
	const char *opt = dss_get("opt.dss");
	char all[64], first[64];
	snprintf(all, sizeof(all), "arena.%u.dss", MALLCTL_ARENAS_ALL);
	expect_true(strcmp(dss_get(all), opt) == 0,
	    "default starts at opt.dss");
	expect_true(strcmp(dss_get("arena.0.dss"), opt) == 0,
	    "arena 0 takes opt.dss");

	const char *disabled = "disabled", *bogus = "sometimes", *old;
	size_t sz = sizeof(old);
	expect_d_eq(mallctl(all, &old, &sz, &disabled, sizeof(disabled)), 0,
	    "");
	expect_true(strcmp(old, opt) == 0, "old value returned");
	expect_d_eq(mallctl(all, NULL, NULL, &bogus, sizeof(bogus)), EINVAL,
	    "unknown precedence");
	expect_true(strcmp(dss_get(all), "disabled") == 0, "");
	expect_true(strcmp(dss_get("arena.0.dss"), opt) == 0,
	    "existing arena unchanged");

	unsigned ind = arena_create(NULL);
	snprintf(first, sizeof(first), "arena.%u.dss", ind);
	expect_true(strcmp(dss_get(first), "disabled") == 0,
	    "new arena takes default");
	expect_d_eq(mallctl(all, NULL, NULL, &opt, sizeof(opt)), 0, "restore");
}

int
main(void) {
	return test_run(TEST_CASE(test_create_and_allocate),
	    TEST_CASE(test_reset), TEST_CASE(test_destroy_and_reuse),
	    TEST_CASE(test_destroy_with_threads_fails),
	    TEST_CASE(test_custom_hooks),
	    TEST_CASE(test_hooks_on_existing_arena),
	    TEST_CASE(test_dss_and_retain_grow_limit),
	    TEST_CASE(test_dss_default));
}
