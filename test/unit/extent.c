/*
 * extent: allocation through arena 0's extent layer (extent_alloc_wrapper),
 * rtree registration, split and merge, the dirty container (reuse, split
 * on reuse, eager coalescing of large extents, purge), aligned requests,
 * and the size quantization of the container heaps (facts §6.4).
 */
#include "jemalloc_internal.h"
#include "sz.h"
#include "rtree.h"
#include "extent.h"
#include "extent_mmap.h"
#include "base.h"
#include "arena.h"
#include "tsd.h"

#include "test.h"


static tsdn_t *
get_tsdn(void) {
	return tsd_tsdn(tsd_fetch());
}

static arena_t *
get_arena(void) {
	arena_t *arena = arena_get_from_ind(0);
	assert_ptr_not_null(arena, "arena 0 missing");
	return arena;
}

static void *
page_at(const extent_t *e, size_t page) {
	return (void *)((uintptr_t)extent_base_get(e) + page * PAGE);
}

static extent_t *
alloc_extent(size_t size, size_t alignment, unsigned szind, bool *zero) {
	extent_hooks_t *hooks = NULL;
	bool commit = true;
	*zero = false;
	return extent_alloc_wrapper(get_tsdn(), get_arena(), &hooks, NULL, size,
	    0, alignment, false, szind, zero, &commit);
}

static void
release_extent(extent_t *e) {
	extent_hooks_t *hooks = NULL;
	extent_dalloc_wrapper(get_tsdn(), get_arena(), &hooks, e);
}

/* The size class and slab bit the global rtree holds for addr. */
static void
rtree_szind_slab(const void *addr, unsigned *szind, bool *slab) {
	tsd_t *tsd = tsd_fetch();
	*szind = 12345;
	*slab = true;
	bool missing = rtree_szind_slab_read(&extents_rtree, tsd_rtree_ctx(tsd),
	    (uintptr_t)addr, false, szind, slab);
	CHECK(!missing, "no rtree leaf for %p", addr);
}

static void
check_registered(const extent_t *e, const void *addr, unsigned szind) {
	tsdn_t *tsdn = get_tsdn();
	CHECK(extent_lookup(tsdn, addr, false) == e, "lookup(%p) = %p, want %p",
	    addr, (void *)extent_lookup(tsdn, addr, false), (const void *)e);
	CHECK(extent_lookup(tsdn, addr, true) == e, "dependent lookup(%p)",
	    addr);
	/* Any byte of the page finds the same extent. */
	const void *inner = (const char *)addr + PAGE - 8;
	CHECK(extent_lookup(tsdn, inner, false) == e, "lookup(%p)", inner);
	unsigned r_szind;
	bool r_slab;
	rtree_szind_slab(addr, &r_szind, &r_slab);
	CHECK(r_szind == szind, "rtree szind of %p is %u, want %u", addr,
	    r_szind, szind);
	CHECK(!r_slab, "rtree slab bit set for %p", addr);
}

static void
check_unregistered(const void *addr) {
	CHECK(extent_lookup(get_tsdn(), addr, false) == NULL,
	    "lookup(%p) = %p, want NULL", addr,
	    (void *)extent_lookup(get_tsdn(), addr, false));
}

TEST(test_alloc_wrapper) {
	const unsigned szinds[] = {NSIZES, sz_size2index(8 * PAGE)};
	for (unsigned i = 0; i < 2; i++) {
		bool zero;
		extent_t *e = alloc_extent(8 * PAGE, PAGE, szinds[i], &zero);
		assert_ptr_not_null(e, "extent_alloc_wrapper failed");
		void *base = extent_base_get(e);
		CHECK(((uintptr_t)base & PAGE_MASK) == 0, "base %p", base);
		CHECK(extent_addr_get(e) == base, "pad 0 but addr %p != base %p",
		    extent_addr_get(e), base);
		CHECK(extent_size_get(e) == 8 * PAGE, "size %zu",
		    extent_size_get(e));
		CHECK(extent_state_get(e) == extent_state_active, "state %d",
		    (int)extent_state_get(e));
		CHECK(extent_arena_ind_get(e) == 0, "arena %u",
		    extent_arena_ind_get(e));
		CHECK(extent_szind_get_maybe_invalid(e) == szinds[i],
		    "szind %u, want %u", extent_szind_get_maybe_invalid(e),
		    szinds[i]);
		CHECK(!extent_slab_get(e), "slab bit set");
		CHECK(extent_committed_get(e), "not committed");
		CHECK(extent_past_get(e) == page_at(e, 8), "past");
		CHECK(extent_last_get(e) == page_at(e, 7), "last");
		check_registered(e, page_at(e, 0), szinds[i]);
		check_registered(e, page_at(e, 7), szinds[i]);
		/* *zero == true promises zeroed memory. */
		if (zero) {
			const unsigned char *p = base;
			size_t nz = 0;
			for (size_t b = 0; b < 8 * PAGE; b++)
				nz += p[b] != 0;
			CHECK(nz == 0, "zero reported, %zu non-zero bytes", nz);
		}
		/* Writable from the first to the last byte. */
		memset(base, 0x5c, 8 * PAGE);
		arena_t *arena = get_arena();
		size_t retained = extents_npages_get(&arena->extents_retained);
		release_extent(e);
		/* With retain, released pages are kept as retained. */
		if (opt_retain) {
			CHECK(extents_npages_get(&arena->extents_retained) ==
			    retained + 8, "retained %zu -> %zu pages", retained,
			    extents_npages_get(&arena->extents_retained));
		}
	}
}

TEST(test_split_merge) {
	tsdn_t *tsdn = get_tsdn();
	arena_t *arena = get_arena();
	extent_hooks_t *hooks = NULL;
	/* (size_a, size_b) in pages. */
	static const size_t splits[][2] = {{3, 5}, {1, 7}, {7, 1}, {4, 4}};
	for (unsigned s = 0; s < 4; s++) {
		size_t na = splits[s][0], nb = splits[s][1];
		bool zero;
		extent_t *e = alloc_extent((na + nb) * PAGE, PAGE, NSIZES, &zero);
		assert_ptr_not_null(e, "extent_alloc_wrapper failed");
		void *base = extent_base_get(e);
		uint64_t sn = extent_sn_get(e);
		unsigned szind_b = sz_size2index(nb * PAGE);
		extent_t *trail = extent_split_wrapper(tsdn, arena, &hooks, e,
		    na * PAGE, NSIZES, false, nb * PAGE, szind_b, false);
		assert_ptr_not_null(trail, "split failed");
		CHECK(trail != e, "split returned the lead");
		CHECK(extent_base_get(e) == base, "lead moved");
		CHECK(extent_size_get(e) == na * PAGE, "lead size %zu",
		    extent_size_get(e));
		CHECK(extent_base_get(trail) == (char *)base + na * PAGE,
		    "trail at %p", extent_base_get(trail));
		CHECK(extent_size_get(trail) == nb * PAGE, "trail size %zu",
		    extent_size_get(trail));
		CHECK(extent_past_get(e) == extent_base_get(trail), "not adjacent");
		CHECK(extent_state_get(trail) == extent_state_active,
		    "trail state %d", (int)extent_state_get(trail));
		CHECK(extent_arena_ind_get(trail) == 0, "trail arena");
		CHECK(extent_sn_get(trail) == sn, "trail sn");
		CHECK(extent_committed_get(trail) == extent_committed_get(e),
		    "trail committed");
		CHECK(extent_szind_get_maybe_invalid(e) == NSIZES, "lead szind");
		CHECK(extent_szind_get_maybe_invalid(trail) == szind_b,
		    "trail szind %u", extent_szind_get_maybe_invalid(trail));
		/* Both pieces have their first and last pages registered. */
		check_registered(e, page_at(e, 0), NSIZES);
		check_registered(e, page_at(e, na - 1), NSIZES);
		check_registered(trail, page_at(trail, 0), szind_b);
		check_registered(trail, page_at(trail, nb - 1), szind_b);

		CHECK(!extent_merge_wrapper(tsdn, arena, &hooks, e, trail),
		    "merge failed");
		CHECK(extent_base_get(e) == base, "merged base moved");
		CHECK(extent_size_get(e) == (na + nb) * PAGE, "merged size %zu",
		    extent_size_get(e));
		CHECK(extent_szind_get_maybe_invalid(e) == NSIZES,
		    "merged szind");
		CHECK(extent_sn_get(e) == sn, "merged sn");
		check_registered(e, page_at(e, 0), NSIZES);
		check_registered(e, page_at(e, na + nb - 1), NSIZES);
		/* extent.c: "The inner boundary pages stop being registered"
		 * (unless a boundary page is also an outer one). */
		if (na > 1)
			check_unregistered(page_at(e, na - 1));
		if (nb > 1)
			check_unregistered(page_at(e, na));
		release_extent(e);
	}
}

static bool
bytes_are(const void *p, unsigned char c, size_t n) {
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		if (b[i] != c)
			return false;
	}
	return true;
}

TEST(test_dirty_reuse) {
	tsdn_t *tsdn = get_tsdn();
	arena_t *arena = get_arena();
	extent_hooks_t *hooks = NULL;
	extents_t *dirty = &arena->extents_dirty;
	CHECK(extents_state_get(dirty) == extent_state_dirty, "dirty state");
	arena_purge_all(tsdn, arena);
	assert_zu_eq(extents_npages_get(dirty), 0, "dirty not empty after purge");

	unsigned szind = sz_size2index(8 * PAGE);
	bool zero;
	extent_t *e = alloc_extent(8 * PAGE, PAGE, szind, &zero);
	assert_ptr_not_null(e, "extent_alloc_wrapper failed");
	void *addr = extent_base_get(e);
	memset(addr, 0xa7, 8 * PAGE);

	extents_dalloc(tsdn, arena, &hooks, dirty, e);
	CHECK(extents_npages_get(dirty) == 8, "dirty holds %zu pages",
	    extents_npages_get(dirty));
	CHECK(extent_state_get(e) == extent_state_dirty, "state %d",
	    (int)extent_state_get(e));
	/* Dirty extents stay registered, without a size class. */
	check_registered(e, addr, NSIZES);
	check_registered(e, (char *)addr + 7 * PAGE, NSIZES);

	bool commit = true;
	zero = false;
	extent_t *e2 = extents_alloc(tsdn, arena, &hooks, dirty, NULL, 8 * PAGE,
	    0, PAGE, false, szind, &zero, &commit);
	assert_ptr_not_null(e2, "no reuse from dirty");
	CHECK(extent_base_get(e2) == addr, "reused %p, freed %p",
	    extent_base_get(e2), addr);
	CHECK(extent_size_get(e2) == 8 * PAGE, "size %zu", extent_size_get(e2));
	CHECK(extent_state_get(e2) == extent_state_active, "state");
	CHECK(extents_npages_get(dirty) == 0, "dirty still %zu pages",
	    extents_npages_get(dirty));
	check_registered(e2, addr, szind);
	check_registered(e2, (char *)addr + 7 * PAGE, szind);
	/* Dirty means not purged: the contents survive. */
	CHECK(bytes_are(addr, 0xa7, 8 * PAGE), "dirty memory changed");

	/* An exact new_addr request finds it through the rtree. */
	extents_dalloc(tsdn, arena, &hooks, dirty, e2);
	extent_t *e3 = extents_alloc(tsdn, arena, &hooks, dirty,
	    (char *)addr + PAGE, 4 * PAGE, 0, PAGE, false, NSIZES, &zero,
	    &commit);
	CHECK(e3 == NULL, "new_addr inside an extent was accepted");
	e3 = extents_alloc(tsdn, arena, &hooks, dirty, addr, 8 * PAGE, 0, PAGE,
	    false, szind, &zero, &commit);
	assert_ptr_not_null(e3, "new_addr request failed");
	CHECK(extent_base_get(e3) == addr, "new_addr gave %p",
	    extent_base_get(e3));
	extent_t *e4 = extents_alloc(tsdn, arena, &hooks, dirty, addr, 8 * PAGE,
	    0, PAGE, false, szind, &zero, &commit);
	CHECK(e4 == NULL, "active extent handed out twice");

	/* A smaller request splits; the trail stays dirty. */
	extents_dalloc(tsdn, arena, &hooks, dirty, e3);
	extent_t *lead = extents_alloc(tsdn, arena, &hooks, dirty, NULL,
	    4 * PAGE, 0, PAGE, false, sz_size2index(4 * PAGE), &zero, &commit);
	assert_ptr_not_null(lead, "split reuse failed");
	CHECK(extent_base_get(lead) == addr, "split reuse at %p",
	    extent_base_get(lead));
	CHECK(extent_size_get(lead) == 4 * PAGE, "lead size %zu",
	    extent_size_get(lead));
	CHECK(extents_npages_get(dirty) == 4, "dirty holds %zu pages",
	    extents_npages_get(dirty));
	extent_t *trail = extent_lookup(tsdn, (char *)addr + 4 * PAGE, false);
	assert_ptr_not_null(trail, "trail not registered");
	CHECK(extent_state_get(trail) == extent_state_dirty, "trail state %d",
	    (int)extent_state_get(trail));
	CHECK(extent_size_get(trail) == 4 * PAGE, "trail size %zu",
	    extent_size_get(trail));
	/* Large extents (>= LARGE_MINCLASS) coalesce eagerly in dirty. */
	extents_dalloc(tsdn, arena, &hooks, dirty, lead);
	CHECK(extents_npages_get(dirty) == 8, "dirty holds %zu pages",
	    extents_npages_get(dirty));
	extent_t *whole = extent_lookup(tsdn, addr, false);
	assert_ptr_not_null(whole, "coalesced extent not registered");
	CHECK(extent_size_get(whole) == 8 * PAGE, "not coalesced: size %zu",
	    extent_size_get(whole));
	CHECK(extent_lookup(tsdn, (char *)addr + 7 * PAGE, false) == whole,
	    "last page not the coalesced extent");
	extent_t *again = extents_alloc(tsdn, arena, &hooks, dirty, NULL,
	    8 * PAGE, 0, PAGE, false, szind, &zero, &commit);
	assert_ptr_not_null(again, "coalesced extent not reusable");
	CHECK(extent_base_get(again) == addr, "coalesced reuse at %p",
	    extent_base_get(again));
	release_extent(again);
}

TEST(test_alignment) {
	for (size_t align = PAGE; align <= ((size_t)4 << 20); align <<= 1) {
		bool zero;
		extent_t *e = alloc_extent(8 * PAGE, align, NSIZES, &zero);
		assert_ptr_not_null(e, "aligned extent_alloc_wrapper failed");
		CHECK(((uintptr_t)extent_base_get(e) & (align - 1)) == 0,
		    "alignment %zu: base %p", align, extent_base_get(e));
		CHECK(extent_size_get(e) == 8 * PAGE, "alignment %zu: size %zu",
		    align, extent_size_get(e));
		check_registered(e, page_at(e, 0), NSIZES);
		check_registered(e, page_at(e, 7), NSIZES);
		release_extent(e);
	}

	/* Aligned reuse from dirty: the candidate starts misaligned. */
	tsdn_t *tsdn = get_tsdn();
	arena_t *arena = get_arena();
	extent_hooks_t *hooks = NULL;
	arena_purge_all(tsdn, arena);
	const size_t align = 64 << 10;
	bool zero;
	extent_t *e = alloc_extent(64 * PAGE, align, NSIZES, &zero);
	assert_ptr_not_null(e, "extent_alloc_wrapper failed");
	char *base = extent_base_get(e);
	extent_t *rest = extent_split_wrapper(tsdn, arena, &hooks, e, PAGE,
	    NSIZES, false, 63 * PAGE, NSIZES, false);
	assert_ptr_not_null(rest, "split failed");
	extents_dalloc(tsdn, arena, &hooks, &arena->extents_dirty, rest);
	bool commit = true;
	extent_t *a = extents_alloc(tsdn, arena, &hooks, &arena->extents_dirty,
	    NULL, 4 * PAGE, 0, align, false, NSIZES, &zero, &commit);
	assert_ptr_not_null(a, "aligned reuse failed");
	CHECK(((uintptr_t)extent_base_get(a) & (align - 1)) == 0,
	    "aligned reuse at %p", extent_base_get(a));
	CHECK(extent_base_get(a) == base + align, "aligned reuse at %p, want %p",
	    extent_base_get(a), (void *)(base + align));
	CHECK(extent_size_get(a) == 4 * PAGE, "size %zu", extent_size_get(a));
	/* Lead (15 pages) and trail (44 pages) went back to dirty. */
	CHECK(extents_npages_get(&arena->extents_dirty) == 59,
	    "dirty holds %zu pages", extents_npages_get(&arena->extents_dirty));
	extents_dalloc(tsdn, arena, &hooks, &arena->extents_dirty, a);
	extents_dalloc(tsdn, arena, &hooks, &arena->extents_dirty, e);
	CHECK(extents_npages_get(&arena->extents_dirty) == 64,
	    "dirty holds %zu pages", extents_npages_get(&arena->extents_dirty));
	arena_purge_all(tsdn, arena);
	CHECK(extents_npages_get(&arena->extents_dirty) == 0,
	    "dirty holds %zu pages after purge",
	    extents_npages_get(&arena->extents_dirty));
}

/* The quantized sizes: PAGE, and every page-size class plus the pad. */
static bool
is_quantized(size_t size) {
	if (size == PAGE)
		return true;
	if (size < sz_large_pad + PAGE)
		return false;
	size_t psz = size - sz_large_pad;
	return sz_pind2sz(sz_psz2ind(psz)) == psz;
}

TEST(test_size_quantize) {
	const size_t max = (size_t)16 << 20;
	size_t prev_floor = 0, prev_ceil = 0;
	size_t want_floor = 0;
	for (size_t s = PAGE; s <= max; s += PAGE) {
		size_t f = extent_size_quantize_floor(s);
		size_t c = extent_size_quantize_ceil(s);
		CHECK(f <= s, "floor(%zu) = %zu", s, f);
		CHECK(c >= s, "ceil(%zu) = %zu", s, c);
		CHECK(extent_size_quantize_floor(f) == f, "floor not idempotent "
		    "at %zu", s);
		CHECK(extent_size_quantize_ceil(c) == c, "ceil not idempotent "
		    "at %zu", s);
		CHECK(extent_size_quantize_ceil(f) == f, "ceil(floor(%zu))", s);
		CHECK(extent_size_quantize_floor(c) == c, "floor(ceil(%zu))", s);
		CHECK(f >= prev_floor, "floor not monotone at %zu", s);
		CHECK(c >= prev_ceil, "ceil not monotone at %zu", s);
		CHECK((f == s) == (c == s), "floor/ceil disagree at %zu", s);
		CHECK(is_quantized(f), "floor(%zu) = %zu not quantized", s, f);
		CHECK(is_quantized(c), "ceil(%zu) = %zu not quantized", s, c);
		/* floor is the largest quantized size <= s. */
		if (is_quantized(s))
			want_floor = s;
		CHECK(f == want_floor, "floor(%zu) = %zu, want %zu", s, f,
		    want_floor);
		/* ceil is the smallest quantized size >= s. */
		if (c != s) {
			CHECK(c > s && !is_quantized(s), "ceil(%zu)", s);
			for (size_t t = s + PAGE; t < c; t += PAGE) {
				CHECK(!is_quantized(t), "ceil(%zu) = %zu skips "
				    "%zu", s, c, t);
			}
		}
		prev_floor = f;
		prev_ceil = c;
	}
	/* Exact classes with the large pad map to themselves. */
	expect_zu_eq(extent_size_quantize_floor(LARGE_MINCLASS + sz_large_pad),
	    LARGE_MINCLASS + sz_large_pad);
	expect_zu_eq(extent_size_quantize_ceil(LARGE_MINCLASS + sz_large_pad),
	    LARGE_MINCLASS + sz_large_pad);
}

TEST(test_purge_all) {
	tsdn_t *tsdn = get_tsdn();
	arena_t *arena = get_arena();
	extent_hooks_t *hooks = NULL;
	extent_t *es[4];
	const size_t npages[4] = {1, 3, 8, 40};
	size_t total = 0;
	arena_purge_all(tsdn, arena);
	for (unsigned i = 0; i < 4; i++) {
		bool zero;
		es[i] = alloc_extent(npages[i] * PAGE, PAGE, NSIZES, &zero);
		assert_ptr_not_null(es[i], "extent_alloc_wrapper failed");
		memset(extent_base_get(es[i]), 0xee, npages[i] * PAGE);
		total += npages[i];
	}
	size_t retained_before = extents_npages_get(&arena->extents_retained);
	for (unsigned i = 0; i < 4; i++)
		extents_dalloc(tsdn, arena, &hooks, &arena->extents_dirty, es[i]);
	CHECK(extents_npages_get(&arena->extents_dirty) == total,
	    "dirty holds %zu pages, want %zu",
	    extents_npages_get(&arena->extents_dirty), total);
	arena_purge_all(tsdn, arena);
	CHECK(extents_npages_get(&arena->extents_dirty) == 0,
	    "dirty holds %zu pages after purge",
	    extents_npages_get(&arena->extents_dirty));
	CHECK(extents_npages_get(&arena->extents_muzzy) == 0,
	    "muzzy holds %zu pages after purge",
	    extents_npages_get(&arena->extents_muzzy));
	if (opt_retain) {
		/* Purged pages go to retained (facts §6.5). */
		CHECK(extents_npages_get(&arena->extents_retained) ==
		    retained_before + total, "retained %zu -> %zu, purged %zu",
		    retained_before,
		    extents_npages_get(&arena->extents_retained), total);
	}
}

int
main(void) {
	return test_run(
	    TEST_CASE(test_alloc_wrapper),
	    TEST_CASE(test_split_merge),
	    TEST_CASE(test_dirty_reuse),
	    TEST_CASE(test_alignment),
	    TEST_CASE(test_size_quantize),
	    TEST_CASE(test_purge_all));
}
