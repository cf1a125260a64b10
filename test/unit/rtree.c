/*
 * rtree: a local tree (rtree_new) with a local lookup cache
 * (rtree_ctx_data_init): element encoding, write/read/clear, the key
 * range, reads of keys that were never written, and the L1/L2 cache under
 * more leaves than it holds.
 */
#include "jemalloc_internal.h"
#include "rtree.h"
#include "extent_struct.h"
#include "sz.h"

#include "test.h"


#define KEY_LIMIT ((uintptr_t)1 << LG_VADDR)
/* The root slot a key goes through (a leaf at height 2, a node at 3). */
#define ROOT_SUB(key) (((uintptr_t)(key) >> (LG_PAGE + RTREE_LEAF_BITS + \
	RTREE_MID_BITS)) & (((uintptr_t)1 << RTREE_ROOT_BITS) - 1))

/* Each test takes a fresh tree; leaves come from b0 and are never freed. */
static rtree_t test_rtree;
static rtree_ctx_t test_ctx;

static void
fresh_tree(void) {
	CHECK(!rtree_new(&test_rtree, false), "rtree_new failed");
	rtree_ctx_data_init(&test_ctx);
}

static extent_t exts[512];

TEST(test_geometry) {
	if (LG_VADDR != 48) {
		test_skip("geometry of facts §6.6 is for LG_VADDR 48");
	}
	expect_zu_eq(RTREE_NSB, 36);
	expect_zu_eq(RTREE_HEIGHT, 2);
	expect_zu_eq(RTREE_LEAF_BITS, 18);
	expect_zu_eq(RTREE_ROOT_BITS, 18);
	expect_zu_eq(sizeof(rtree_leaf_elm_t), 8);
	expect_zu_eq(RTREE_CTX_NCACHE, 16);
	expect_zu_eq(RTREE_CTX_NCACHE_L2, 8);
	uintptr_t key = ((uintptr_t)0x123 << 30) | ((uintptr_t)0x2abcd << 12) |
	    0x345;
	expect_zu_eq(rtree_leafkey(key), (uintptr_t)0x123 << 30);
	expect_zu_eq(rtree_leaf_subkey(key), 0x2abcd);
	expect_zu_eq(rtree_cache_slot(key), 0x3);
}

TEST(test_encode_roundtrip) {
	const void *ptrs[] = {&exts[0], &exts[1], &exts[511],
	    (void *)(uintptr_t)0x7ffffffff000ULL, (void *)(uintptr_t)0x1000,
	    (void *)(uintptr_t)0x7fffffffffc0ULL, NULL,
	    /* Bit 47 set: sign-extended on the way out. */
	    (void *)(uintptr_t)0xffff800012345640ULL,
	    (void *)(uintptr_t)0xfffffffffffffff0ULL};
	const unsigned szinds[] = {0, 1, 35, 36, 100, NSIZES - 1, NSIZES, 255};
	for (unsigned p = 0; p < sizeof(ptrs) / sizeof(ptrs[0]); p++) {
		for (unsigned s = 0; s < sizeof(szinds) / sizeof(szinds[0]);
		    s++) {
			for (int slab = 0; slab <= 1; slab++) {
				uint64_t bits = rtree_leaf_elm_bits_encode(
				    ptrs[p], szinds[s], slab);
				CHECK(rtree_leaf_elm_bits_extent_get(bits) ==
				    ptrs[p], "extent %p -> %p", ptrs[p],
				    rtree_leaf_elm_bits_extent_get(bits));
				CHECK(rtree_leaf_elm_bits_szind_get(bits) ==
				    szinds[s], "szind %u -> %u", szinds[s],
				    rtree_leaf_elm_bits_szind_get(bits));
				CHECK(rtree_leaf_elm_bits_slab_get(bits) ==
				    (bool)slab, "slab %d lost", slab);
				/* Through a real element, both read kinds. */
				rtree_leaf_elm_t elm;
				rtree_leaf_elm_write(&elm, ptrs[p], szinds[s],
				    slab);
				CHECK(rtree_leaf_elm_bits_read(&elm, true) ==
				    bits, "dependent read");
				CHECK(rtree_leaf_elm_bits_read(&elm, false) ==
				    bits, "non-dependent read");
				/* Update keeps the extent. */
				rtree_leaf_elm_szind_slab_update(&elm, 7,
				    !slab);
				uint64_t b2 = rtree_leaf_elm_bits_read(&elm,
				    true);
				CHECK(rtree_leaf_elm_bits_extent_get(b2) ==
				    ptrs[p], "update lost the extent %p",
				    ptrs[p]);
				CHECK(rtree_leaf_elm_bits_szind_get(b2) == 7,
				    "update szind");
				CHECK(rtree_leaf_elm_bits_slab_get(b2) == !slab,
				    "update slab");
			}
		}
	}
	/* The layout of facts §6.6: szind << 48 | pointer | slab. */
	uint64_t bits = rtree_leaf_elm_bits_encode(
	    (void *)(uintptr_t)0x7f0012345640ULL, 0x5a, true);
	expect_u64_eq(bits, ((uint64_t)0x5a << 48) | 0x7f0012345640ULL | 1);
}

static void
check_key(uintptr_t key, const extent_t *want, unsigned szind, bool slab,
    rtree_ctx_t *ctx) {
	const void *e = rtree_extent_read(&test_rtree, ctx, key, true);
	CHECK(e == want, "key %#zx: dependent read %p, want %p", (size_t)key, e,
	    (const void *)want);
	e = rtree_extent_read(&test_rtree, ctx, key, false);
	CHECK(e == want, "key %#zx: read %p, want %p", (size_t)key, e,
	    (const void *)want);
	unsigned r_szind = 12345;
	bool r_slab = !slab;
	bool missing = rtree_szind_slab_read(&test_rtree, ctx, key, false,
	    &r_szind, &r_slab);
	CHECK(!missing, "key %#zx: no leaf", (size_t)key);
	CHECK(r_szind == szind, "key %#zx: szind %u, want %u", (size_t)key,
	    r_szind, szind);
	CHECK(r_slab == slab, "key %#zx: slab %d", (size_t)key, (int)r_slab);
}

TEST(test_write_read_extremes) {
	fresh_tree();
	const uintptr_t keys[] = {
		PAGE,				/* the lowest page */
		2 * PAGE,
		(uintptr_t)0x7f1234567000ULL,
		((uintptr_t)1 << 30) - PAGE,	/* last page of leaf 0 */
		(uintptr_t)1 << 30,		/* first page of leaf 1 */
		KEY_LIMIT / 2,
		KEY_LIMIT - PAGE,		/* the highest page */
	};
	const unsigned nkeys = sizeof(keys) / sizeof(keys[0]);
	for (unsigned i = 0; i < nkeys; i++) {
		bool err = rtree_write(&test_rtree, &test_ctx, keys[i], &exts[i],
		    i * 30 % NSIZES, i % 2);
		CHECK(!err, "write of key %#zx failed", (size_t)keys[i]);
	}
	for (unsigned i = 0; i < nkeys; i++) {
		check_key(keys[i], &exts[i], i * 30 % NSIZES, i % 2, &test_ctx);
		/* Any address inside the page finds the same element. */
		check_key(keys[i] + PAGE - 1, &exts[i], i * 30 % NSIZES, i % 2,
		    &test_ctx);
		check_key(keys[i] + 100, &exts[i], i * 30 % NSIZES, i % 2,
		    &test_ctx);
	}
	/* A cold cache walks the tree and finds the same. */
	rtree_ctx_t cold;
	rtree_ctx_data_init(&cold);
	for (unsigned i = nkeys; i-- > 0;)
		check_key(keys[i], &exts[i], i * 30 % NSIZES, i % 2, &cold);
	/* Neighbouring pages in existing leaves read as empty (zeroed). */
	check_key(3 * PAGE, NULL, 0, false, &test_ctx);
	check_key(KEY_LIMIT - 2 * PAGE, NULL, 0, false, &test_ctx);
	check_key((uintptr_t)0x7f1234566000ULL, NULL, 0, false, &cold);
	/* Overwrite. */
	CHECK(!rtree_write(&test_rtree, &test_ctx, PAGE, &exts[100], 3, true),
	    "rewrite failed");
	check_key(PAGE, &exts[100], 3, true, &cold);
}

TEST(test_unwritten_keys) {
	fresh_tree();
	const uintptr_t keys[] = {PAGE, (uintptr_t)5 << 30,
	    (uintptr_t)0x7f0000000000ULL, KEY_LIMIT - PAGE};
	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		uintptr_t k = keys[i];
		CHECK(rtree_extent_read(&test_rtree, &test_ctx, k, false) == NULL,
		    "key %#zx: read of an empty tree", (size_t)k);
		unsigned szind;
		bool slab;
		CHECK(rtree_szind_slab_read(&test_rtree, &test_ctx, k, false,
		    &szind, &slab), "key %#zx: szind read found a leaf",
		    (size_t)k);
		CHECK(rtree_leaf_elm_lookup(&test_rtree, &test_ctx, k, false,
		    false) == NULL, "key %#zx: lookup without init found an "
		    "element", (size_t)k);
		/* Reading must not create nodes or leaves. */
		CHECK(atomic_load_p(&test_rtree.root[ROOT_SUB(k)],
		    ATOMIC_ACQUIRE) == NULL, "key %#zx: read created a leaf",
		    (size_t)k);
	}
	/* Writing one key creates its leaf, and only that one. */
	CHECK(!rtree_write(&test_rtree, &test_ctx, (uintptr_t)5 << 30, &exts[1],
	    1, false), "write failed");
	CHECK(atomic_load_p(&test_rtree.root[ROOT_SUB((uintptr_t)5 << 30)],
	    ATOMIC_ACQUIRE) != NULL, "write created no leaf");
	CHECK(atomic_load_p(&test_rtree.root[ROOT_SUB((uintptr_t)6 << 30)],
	    ATOMIC_ACQUIRE) == NULL, "write created a second leaf");
	CHECK(rtree_extent_read(&test_rtree, &test_ctx, (uintptr_t)6 << 30,
	    false) == NULL, "neighbour leaf");
	/* Same leaf, other page: an element exists but holds nothing. */
	uintptr_t other = ((uintptr_t)5 << 30) + 77 * PAGE;
	CHECK(rtree_extent_read(&test_rtree, &test_ctx, other, false) == NULL,
	    "unwritten page of an existing leaf");
	unsigned szind = 999;
	bool slab = true;
	CHECK(!rtree_szind_slab_read(&test_rtree, &test_ctx, other, false,
	    &szind, &slab), "existing leaf reported missing");
	CHECK(szind == 0 && !slab, "zeroed element: szind %u slab %d", szind,
	    (int)slab);
}

TEST(test_key_range_refused) {
	fresh_tree();
	const uintptr_t bad[] = {KEY_LIMIT, KEY_LIMIT + PAGE, KEY_LIMIT * 2,
	    (uintptr_t)0xffff800000000000ULL, ~(uintptr_t)PAGE_MASK};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(rtree_write(&test_rtree, &test_ctx, bad[i], &exts[0], 1,
		    false), "key %#zx accepted", (size_t)bad[i]);
		CHECK(rtree_extent_read(&test_rtree, &test_ctx, bad[i], false) ==
		    NULL, "key %#zx read something", (size_t)bad[i]);
		unsigned szind;
		bool slab;
		CHECK(rtree_szind_slab_read(&test_rtree, &test_ctx, bad[i], false,
		    &szind, &slab), "key %#zx has a leaf", (size_t)bad[i]);
	}
	/* The highest valid key still works, and the low bits of a refused
	 * key do not alias onto it. */
	CHECK(!rtree_write(&test_rtree, &test_ctx, KEY_LIMIT - PAGE, &exts[2],
	    2, false), "highest key refused");
	CHECK(rtree_write(&test_rtree, &test_ctx, 2 * KEY_LIMIT - PAGE,
	    &exts[3], 3, false), "aliasing key accepted");
	check_key(KEY_LIMIT - PAGE, &exts[2], 2, false, &test_ctx);
	CHECK(rtree_extent_read(&test_rtree, &test_ctx, 2 * KEY_LIMIT - PAGE,
	    false) == NULL, "aliasing key reads the highest page");
}

TEST(test_clear) {
	fresh_tree();
	uintptr_t k = (uintptr_t)0x7e0000042000ULL;
	CHECK(!rtree_write(&test_rtree, &test_ctx, k, &exts[5], 40, true),
	    "write failed");
	check_key(k, &exts[5], 40, true, &test_ctx);
	rtree_clear(&test_rtree, &test_ctx, k);
	check_key(k, NULL, NSIZES, false, &test_ctx);
	rtree_ctx_t cold;
	rtree_ctx_data_init(&cold);
	check_key(k, NULL, NSIZES, false, &cold);
	/* Clearing one key leaves its neighbours alone. */
	CHECK(!rtree_write(&test_rtree, &test_ctx, k, &exts[5], 40, true), "write");
	CHECK(!rtree_write(&test_rtree, &test_ctx, k + PAGE, &exts[6], 41,
	    false), "write");
	rtree_clear(&test_rtree, &test_ctx, k + PAGE);
	check_key(k, &exts[5], 40, true, &cold);
	check_key(k + PAGE, NULL, NSIZES, false, &cold);
}

/*
 * The cache: every valid L1 entry sits in the slot of its leaf key and
 * points at the tree's leaf; no leaf key is cached twice.
 */
static void
check_ctx(const rtree_ctx_t *ctx) {
	uintptr_t seen[RTREE_CTX_NCACHE + RTREE_CTX_NCACHE_L2];
	unsigned nseen = 0;
	for (unsigned i = 0; i < RTREE_CTX_NCACHE + RTREE_CTX_NCACHE_L2; i++) {
		const rtree_ctx_cache_elm_t *c = i < RTREE_CTX_NCACHE ?
		    &ctx->cache[i] : &ctx->l2_cache[i - RTREE_CTX_NCACHE];
		if (c->leafkey == RTREE_LEAFKEY_INVALID)
			continue;
		if (i < RTREE_CTX_NCACHE) {
			CHECK(rtree_cache_slot(c->leafkey) == i, "L1 slot %u "
			    "holds leaf key %#zx", i, (size_t)c->leafkey);
		}
		CHECK(rtree_leafkey(c->leafkey) == c->leafkey, "cache entry %u: "
		    "leaf key %#zx has low bits", i, (size_t)c->leafkey);
#if RTREE_HEIGHT == 2
		CHECK(c->leaf == atomic_load_p(&test_rtree.root[
		    ROOT_SUB(c->leafkey)], ATOMIC_ACQUIRE), "cache entry %u: "
		    "stale leaf for %#zx", i, (size_t)c->leafkey);
#endif
		for (unsigned j = 0; j < nseen; j++) {
			CHECK(seen[j] != c->leafkey, "leaf key %#zx cached twice",
			    (size_t)c->leafkey);
		}
		seen[nseen++] = c->leafkey;
	}
}

#define NLEAVES 32
#define KEYS_PER_LEAF 8

static uintptr_t
cache_key(unsigned leaf, unsigned j) {
	/* Leaves 7 apart so that L1 slots collide and wrap. */
	uintptr_t base = (uintptr_t)(leaf * 7 + 3) << (LG_PAGE +
	    RTREE_LEAF_BITS);
	return base + (uintptr_t)(j * 1009 + leaf) * PAGE;
}

static unsigned
cache_szind(unsigned leaf, unsigned j) {
	return (leaf * 13 + j * 5) % NSIZES;
}

static void
cache_read_all(rtree_ctx_t *ctx, unsigned order, uint64_t *seed,
    unsigned gen) {
	unsigned n = NLEAVES * KEYS_PER_LEAF;
	for (unsigned k = 0; k < n; k++) {
		unsigned idx;
		switch (order) {
		case 0:
			idx = k;
			break;
		case 1:
			idx = n - 1 - k;
			break;
		case 2:	/* leaf-major round robin: worst case for the cache */
			idx = (k % NLEAVES) * KEYS_PER_LEAF + k / NLEAVES;
			break;
		default:
			*seed = *seed * 6364136223846793005ULL +
			    1442695040888963407ULL;
			idx = (unsigned)((*seed >> 33) % n);
			break;
		}
		unsigned leaf = idx / KEYS_PER_LEAF, j = idx % KEYS_PER_LEAF;
		uintptr_t key = cache_key(leaf, j);
		const extent_t *want = &exts[(idx + gen) % 512];
		check_key(key, want, cache_szind(leaf, j), (idx + gen) % 2, ctx);
		if (k % 16 == 0)
			check_ctx(ctx);
	}
}

TEST(test_cache_many_leaves) {
	fresh_tree();
	unsigned n = NLEAVES * KEYS_PER_LEAF;
	uint64_t seed = 99;
	for (unsigned gen = 0; gen < 2; gen++) {
		/* Write round robin over the leaves. */
		for (unsigned k = 0; k < n; k++) {
			unsigned idx = (k % NLEAVES) * KEYS_PER_LEAF + k /
			    NLEAVES;
			unsigned leaf = idx / KEYS_PER_LEAF;
			unsigned j = idx % KEYS_PER_LEAF;
			CHECK(!rtree_write(&test_rtree, &test_ctx,
			    cache_key(leaf, j), &exts[(idx + gen) % 512],
			    cache_szind(leaf, j), (idx + gen) % 2),
			    "write %u failed", idx);
		}
		check_ctx(&test_ctx);
		for (unsigned order = 0; order < 4; order++)
			cache_read_all(&test_ctx, order, &seed, gen);
		/* Another thread's cache sees the same tree. */
		rtree_ctx_t other;
		rtree_ctx_data_init(&other);
		cache_read_all(&other, 3, &seed, gen);
		cache_read_all(&other, 2, &seed, gen);
	}
	/* A fresh cache fills its L1, then pushes evicted L1 entries into
	 * the L2: 24 distinct leaves (hitting every L1 slot) stay cached. */
	rtree_ctx_t ctx;
	rtree_ctx_data_init(&ctx);
	for (unsigned leaf = 0; leaf < 24; leaf++)
		check_key(cache_key(leaf, 0), &exts[(leaf * KEYS_PER_LEAF + 1) %
		    512], cache_szind(leaf, 0), (leaf * KEYS_PER_LEAF + 1) % 2,
		    &ctx);
	check_ctx(&ctx);
	unsigned ncached = 0;
	for (unsigned i = 0; i < RTREE_CTX_NCACHE; i++)
		ncached += ctx.cache[i].leafkey != RTREE_LEAFKEY_INVALID;
	for (unsigned i = 0; i < RTREE_CTX_NCACHE_L2; i++)
		ncached += ctx.l2_cache[i].leafkey != RTREE_LEAFKEY_INVALID;
	/* 16 direct-mapped entries plus the 8 evicted into the L2. */
	CHECK(ncached == 24, "%u leaves cached after 24 distinct reads",
	    ncached);
}

int
main(void) {
	return test_run(
	    TEST_CASE(test_geometry),
	    TEST_CASE(test_encode_roundtrip),
	    TEST_CASE(test_write_read_extremes),
	    TEST_CASE(test_unwritten_keys),
	    TEST_CASE(test_key_range_refused),
	    TEST_CASE(test_clear),
	    TEST_CASE(test_cache_many_leaves));
}
